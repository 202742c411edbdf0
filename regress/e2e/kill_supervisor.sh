#!/bin/sh
# kill -9 of the supervisor mid-session: the ssh session goes on; the
# next supervisor adopts the VM (from the state file) and stops it after
# the idle timeout, without starting it again.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

session_open 1 ubuntu.vm
session_wait_up 1
session_send 1 before
kill -9 "$SUP_PID"
wait_for 5 not alive "$SUP_PID"
session_send 1 after
alive "$(session_pid 1)" || fail "the session died with the supervisor"
assert_eq "$(vm_state ubuntu)" running "state after the kill"
session_close 1
assert_eq "$RC" 0 "the session's exit status"

t0=$(now_ms)
supervisor_start
wait_for 10 vmctl_called 'stop ubuntu$'
stop=$(vmctl_call_ms 'stop ubuntu$')
assert_ge $((stop - t0)) 1800 "ms from the new supervisor to vmctl stop"
wait_for 10 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
grep -qi adopt "$SUPLOG" || fail "the new supervisor did not log the adoption"
