#!/bin/sh
# The pre-2018 vmctl status (no STATE column, "NAME - stopping"): start,
# idle stop, a connection during stopping waits and restarts.
. "$(dirname "$0")/../lib.sh"
test_init
export VMCTL_DOUBLE_FORMAT=old
add_vm ubuntu shutdown_delay 1.5
add_vm ubuntu2
conf_begin; conf_vm ubuntu "stop wait 20s"; conf_vm ubuntu2; conf_end
supervisor_start
"$DOUBLE" status | head -n 1 | grep -q STATE && fail "the double ignores VMCTL_DOUBLE_FORMAT"

run_ssh ubuntu.vm echo one
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" one "output"
wait_for 10 vm_state_is ubuntu stopping
run_ssh ubuntu.vm echo two
assert_eq "$RC" 0 "ssh during stopping, exit status (stderr: $ERR)"
assert_eq "$OUT" two "ssh during stopping, output"
grep -q 'already in progress' "$VMD/log" &&
    fail "vmctl start or stop ran while the VM was stopping"
assert_eq "$(vmctl_calls 'start')" 2 "vmctl start calls"
wait_for 10 vmctl_called 'stop ubuntu$' 2
wait_for 10 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'stop -f')" 0 "forced stops"
assert_eq "$(vm_state ubuntu2)" stopped "the other VM"
