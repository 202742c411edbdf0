#!/bin/sh
# kill -9 of the supervisor mid-session: the ssh session goes on; the
# session's client brings up a new supervisor at once and counts the
# session there again; that supervisor adopts the VM (from the state
# file) and stops it after the idle timeout once the session ends,
# without starting it again.
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
wait_for 20 supervisor_pid
assert_ne "$(supervisor_pid)" "$SUP_PID" "the supervisor after the kill"
# Idle timeout 2s: the new one must not stop the VM under the session.
hold_for 4000 vm_state_is ubuntu running
session_close 1
assert_eq "$RC" 0 "the session's exit status"

wait_for 30 vmctl_called 'stop ubuntu$'
wait_for 10 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
assert_eq "$(vmctl_calls 'stop ubuntu$')" 1 "vmctl stop calls"
