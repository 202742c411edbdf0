#!/bin/sh
# A connection that arrives while its VM is stopping waits until it has
# stopped, then boots it again (no "already in progress" start).
#
# The moment is held, not raced: the guest stays "stopping" (stop_hold)
# until the supervisor has the second session's request, and only then
# is let go down.
. "$(dirname "$0")/../lib.sh"
test_init

requests() {	# how many session requests the supervisor had
	grep -c 'vm ubuntu: session request' "$SUPLOG"
}

more_requests() {	# than N
	[ "$(requests)" -gt "$1" ]
}

add_vm ubuntu shutdown_delay 0.5
conf_begin; conf_vm ubuntu "stop wait 1m"; conf_end
"$DOUBLE" __set ubuntu stop_hold
supervisor_start

run_ssh ubuntu.vm echo one
assert_eq "$RC" 0 "first ssh exit status (stderr: $ERR)"
wait_for 30 vm_state_is ubuntu stopping
nreq=$(requests)
session_open 1 ubuntu.vm
wait_for 30 more_requests "$nreq"
assert_eq "$(vm_state ubuntu)" stopping "vmd's state when the session came"
t_down=$(now_ms)
"$DOUBLE" __unset ubuntu stop_hold
session_wait_up 1 60
session_send 1 two
session_close 1
assert_eq "$RC" 0 "ssh during stopping, exit status ($(cat "$T/s.1.err"))"
assert_eq "$(vmctl_calls 'start')" 2 "vmctl start calls"
assert_eq "$(vmctl_calls 'stop -f')" 0 "forced stops"
assert_ge "$(vmctl_call_ms 'start ubuntu$' 2)" "$t_down" \
    "the new start came after the guest was let go down"
grep -q 'already in progress' "$VMD/log" &&
    fail "vmctl start or stop ran while the VM was stopping"
# The new boot is vmlaunch's: stopped in its turn once unused.
wait_for 60 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'stop ubuntu$')" 2 "vmctl stop calls"
assert_eq "$(vmctl_calls 'start')" 2 "vmctl start calls at the end"
