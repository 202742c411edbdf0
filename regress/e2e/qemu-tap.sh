#!/bin/sh
# Real VM, "address tap": a cold ssh (real OpenSSH client, the guest's key,
# its host key checked strictly) through vmlaunch boots the tiny Linux
# guest under QEMU through the vmctl double, and the command runs in that
# guest: its kernel, its init as pid 1, the hostname the VM was given, and
# sshd saw the connection arrive at the guest address of the tap (the tap's
# address plus one).  Then the idle timeout powers it off through ACPI:
# QEMU exits on its own (one "stop", no "stop -f"), and the tap with its
# address is gone.  One boot.  Root and QEMU, else a loud skip.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../qemulib.sh"
qemu_need
test_init
qemu_init
vm=qtap$$
id=$(qemu_id 2 99)
guest=$(qemu_addr "$id" 1)
qemu_define $vm id="$id"
qemu_conf_begin; qemu_conf_vm $vm "address tap"; conf_end
supervisor_start

t0=$(now_ms)
# shellcheck disable=SC2016
run_ssh $vm.vm 'uname -r; hostname; cat /proc/1/comm; readlink /proc/1/exe;
    echo "$SSH_CONNECTION"'
t1=$(now_ms)
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
# Right away: the idle stop comes 3 s after the session ends.
qemu_check_running $vm "$id"
msg "cold ssh: $((t1 - t0)) ms; QEMU $QPID on $QTAP"
assert_eq "$(echo "$OUT" | sed -n 1p)" "$KREL" "the guest's kernel release"
assert_eq "$(echo "$OUT" | sed -n 2p)" "$vm" "the guest's hostname"
assert_eq "$(echo "$OUT" | sed -n 3p)" init "the guest's pid 1"
assert_eq "$(echo "$OUT" | sed -n 4p)" /usr/bin/busybox "the guest's init program"
assert_match "$(echo "$OUT" | sed -n 5p)" " $guest 22\$" \
    "SSH_CONNECTION: the guest address, tap address + 1"
assert_eq "$guest" "100.64.$id.3" "the test's own address arithmetic"
assert_eq "$(qemu_calls "start $vm")" 1 "vmctl start calls"
line=$(grep "vm $vm: guest .* ready after" "$SUPLOG") ||
    fail "the supervisor did not log the guest ready"
assert_contains "$line" "guest $guest:22 ready after" "the supervisor's ready line"
msg "${line##*: }"

qemu_check_acpi_stop $vm "$id"
msg "idle stop: QEMU gone $(($(now_ms) - t1)) ms after the ssh ended"
exit 0
