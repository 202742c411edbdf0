#!/bin/sh
# Pausing is vmlaunch's only for the VMs it started, and a VM paused by
# hand stays paused: vmlaunch never pauses the VM "manual" that was
# running before it (idle pause 1s), and a client of a VM paused by hand,
# whether vmlaunch started it or not, fails at once with one line that
# says so (exit 255); vmlaunch never unpauses it.  Unpaused by hand, the
# VM is served again.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm manual
add_vm ours
CONF_IDLE=30s conf_begin "idle pause 1s"
conf_vm manual
conf_vm ours "idle pause 20s"
conf_end
vm_start_by_hand manual
supervisor_start

run_ssh manual.vm echo hello
assert_eq "$RC" 0 "ssh to the VM started by hand (stderr: $ERR)"
hold_for 4000 not vmctl_called 'pause'
assert_eq "$(vm_state manual)" running "the VM started by hand"

"$DOUBLE" pause manual 2>/dev/null || fail "vmctl pause by hand"
run_proxy manual.vm 22
assert_eq "$RC" 255 "a client of a VM paused by hand: exit status"
last=$(echo "$ERR" | tail -n 1)
assert_eq "$last" "vmlaunch: manual: vm is paused, not by vmlaunch, which leaves it so" \
    "a client of a VM paused by hand: the last line"

run_ssh ours.vm echo hello
assert_eq "$RC" 0 "ssh to the VM vmlaunch starts (stderr: $ERR)"
"$DOUBLE" pause ours 2>/dev/null || fail "vmctl pause by hand"
run_proxy ours.vm 22
assert_eq "$RC" 255 "a client of our VM paused by hand: exit status"
last=$(echo "$ERR" | tail -n 1)
assert_eq "$last" "vmlaunch: ours: vm is paused, not by vmlaunch, which leaves it so" \
    "a client of our VM paused by hand: the last line"
assert_eq "$(vmctl_calls 'unpause')" 0 "vmctl unpause calls by vmlaunch"
assert_eq "$(vmctl_calls 'pause')" 2 "vmctl pause calls (by hand only)"
assert_eq "$(vm_state ours)" paused "our VM paused by hand"

"$DOUBLE" unpause ours 2>/dev/null || fail "vmctl unpause by hand"
run_ssh ours.vm echo again
assert_eq "$RC" 0 "ssh once unpaused by hand (stderr: $ERR)"
assert_eq "$OUT" again "output once unpaused by hand"
assert_eq "$(vmctl_calls 'start')" 2 "vmctl start calls (one by hand)"
