#!/bin/sh
# Real VM, idle pause: the tiny Linux guest under QEMU, booted by ssh
# through vmlaunch, is paused once idle (vmctl pause: QMP "stop"; the
# guest answers nothing then), resumed by the next ssh (QMP "cont") with
# no reboot: the same QEMU process, the same boot id, its uptime went on.
# Idle again, it is paused again, and at the idle timeout unpaused, then
# powered off through ACPI (one graceful stop, none forced).  Root and
# QEMU, else a loud skip.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../qemulib.sh"
qemu_need
test_init
qemu_init
vm=qpause$$
id=$(qemu_id 1151 1300)
guest=$(qemu_addr "$id" 1)
qemu_define $vm id="$id"
CONF_IDLE=15s qemu_conf_begin
qemu_conf_vm $vm "address tap" "idle pause 3s"
conf_end
supervisor_start

qstate() {
	qemu_vmctl status "$vm" | awk -v n="$vm" '$NF == n { print $(NF - 1) }'
}
qstate_is() {
	[ "$(qstate)" = "$1" ]
}
# The guest's sshd sends nothing within 2s: paused (or gone).
guest_silent() {
	"$PY" -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 22), 2)
    s.settimeout(2)
    sys.exit(1 if s.recv(4) else 0)
except OSError:
    sys.exit(0)
' "$guest"
}

run_ssh $vm.vm 'cat /proc/sys/kernel/random/boot_id; cut -d" " -f1 /proc/uptime'
assert_eq "$RC" 0 "cold ssh (stderr: $ERR)"
boot1=$(echo "$OUT" | sed -n 1p)
up1=$(echo "$OUT" | sed -n 2p)
qemu_check_running $vm "$id"
msg "booted: boot id $boot1, up ${up1}s, QEMU $QPID"
wait_for 60 qstate_is paused
assert_eq "$(qemu_calls "pause $vm")" 1 "vmctl pause calls"
guest_silent || fail "the paused guest still answers"
wait_for 10 sup_state_is $vm paused
assert_eq "$(qemu_pid $vm)" "$QPID" "the QEMU process while paused"

run_ssh $vm.vm 'cat /proc/sys/kernel/random/boot_id; cut -d" " -f1 /proc/uptime'
assert_eq "$RC" 0 "ssh to the paused VM (stderr: $ERR)"
boot2=$(echo "$OUT" | sed -n 1p)
up2=$(echo "$OUT" | sed -n 2p)
msg "resumed: boot id $boot2, up ${up2}s"
assert_eq "$boot2" "$boot1" "the guest's boot id (no reboot)"
awk -v a="$up1" -v b="$up2" 'BEGIN { exit !(b > a) }' ||
    fail "the guest's uptime did not go on: $up1 s, then $up2 s"
assert_eq "$(qemu_calls "unpause $vm")" 1 "vmctl unpause calls"
assert_eq "$(qemu_calls "start $vm")" 1 "vmctl start calls"
assert_eq "$(qemu_pid $vm)" "$QPID" "the QEMU process after the resume"

wait_for 60 qstate_is paused
assert_eq "$(qemu_calls "pause $vm")" 2 "vmctl pause calls"
qemu_check_acpi_stop $vm "$id"
assert_eq "$(qemu_calls "unpause $vm")" 2 "vmctl unpause calls: before the stop"
[ "$(grep -nE "^(unpause|stop) $vm\$" "$Q/calls" | tail -n 2 |
    cut -d: -f2 | tr '\n' ' ')" = "unpause $vm stop $vm " ] ||
    fail "the stop did not follow the unpause: $(grep -v status "$Q/calls")"
