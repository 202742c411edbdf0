#!/bin/sh
# A connection that arrives while its VM is stopping waits until it has
# stopped, then boots it again (no "already in progress" start).
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu shutdown_delay 2.5
conf_begin; conf_vm ubuntu "stop wait 20s"; conf_end
supervisor_start

run_ssh ubuntu.vm echo one
assert_eq "$RC" 0 "first ssh exit status (stderr: $ERR)"
wait_for 10 vm_state_is ubuntu stopping
run_ssh ubuntu.vm echo two
assert_eq "$RC" 0 "ssh during stopping, exit status (stderr: $ERR)"
assert_eq "$OUT" two "ssh during stopping, output"
assert_eq "$(vmctl_calls 'start')" 2 "vmctl start calls"
stop=$(vmctl_call_ms 'stop ubuntu$')
start2=$(vmctl_call_ms 'start ubuntu$' 2)
assert_ge $((start2 - stop)) 2400 "ms between the stop and the new start"
grep -q 'already in progress' "$VMD/log" &&
    fail "vmctl start or stop ran while the VM was stopping"
assert_eq "$(vm_state ubuntu)" running "state after"
