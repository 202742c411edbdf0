#!/bin/sh
# Real VM whose guest hangs in boot (vmlaunch.nossh=1: network up, no sshd,
# the ACPI power button ignored): a cold ssh gets, after the boot wait and
# not much later, exactly vmlaunch's line "vmlaunch: NAME: guest
# ADDR:22 did not answer within 15s" and exit status 255.  vmlaunch then
# stops the VM it started: the graceful "stop" is ignored by the guest, so
# after the stop wait it is forced ("stop -f"), and QEMU, the tap and its
# address are gone.  One boot.  Root and QEMU, else a loud skip.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../qemulib.sh"
qemu_need
test_init
qemu_init
vm=qhang$$
id=$(qemu_id 651 900)
guest=$(qemu_addr "$id" 1)
qemu_define $vm id="$id" cmdline=vmlaunch.nossh=1
CONF_BOOT=15s CONF_STOP=3s
qemu_conf_begin; qemu_conf_vm $vm "address tap"; conf_end
supervisor_start

t0=$(now_ms)
run_ssh $vm.vm echo hello
t1=$(now_ms)
# Still there: stop wait is 3s.
qemu_check_running $vm "$id"
assert_eq "$RC" 255 "ssh exit status"
assert_eq "$OUT" "" "ssh output"
assert_eq "$(echo "$ERR" | grep '^vmlaunch: ' | tail -n 1)" \
    "vmlaunch: $vm: guest $guest:22 did not answer within 15s" \
    "vmlaunch's last line on ssh's stderr"
assert_ge $((t1 - t0)) 15000 "ms until the error"
assert_le $((t1 - t0)) 90000 "ms until the error"
msg "boot wait: ssh failed after $((t1 - t0)) ms"
assert_eq "$(qemu_calls "start $vm")" 1 "vmctl start calls"
# The guest really booted and hung where it was told to (else the boot
# wait would prove less); QEMU was at it the whole time.
if qemu_console_has $vm "hanging in boot without sshd"; then
	msg "the guest hung in boot as told"
else
	msg "NOTE: the guest had not reached its hang within the boot wait" \
	    "(slow host): $(qemu_console $vm | tail -n 1)"
fi

# vmlaunch stops what it started: graceful first, forced after stop wait.
wait_for 30 grep -q "vm $vm: stopped after" "$SUPLOG"
assert_eq "$(qemu_calls "stop $vm")" 1 "vmctl stop calls"
assert_eq "$(qemu_calls "stop -f $vm")" 1 "vmctl stop -f calls"
# Forced after stop wait (3s), by the supervisor's own clock.
gap=$(log_gap "vm $vm: stopping it: its guest never answered" \
    "vm $vm: still running 3s after the stop request, forcing it") ||
    fail "no forced stop logged"
assert_ge "$gap" 2990 "ms from the graceful stop to the forced one (stop wait 3s)"
grep "vm $vm: stopped after" "$SUPLOG" | grep -q '(forced)' ||
    fail "the supervisor did not log a forced stop: $(grep "vm $vm:" "$SUPLOG" | tail -n 3)"
qemu_console_has $vm "power button" &&
    fail "the guest acted on the power button it should ignore"
wait_for 10 not alive "$QPID"
wait_for 10 not qemu_if_exists $vm "$id"
not qemu_hostaddr_exists "$id" ||
    fail "$(qemu_addr "$id" 0) still on an interface after the stop"
msg "forced stop ${gap} ms after the graceful one; QEMU gone"
exit 0
