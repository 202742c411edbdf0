#!/bin/sh
# Sessions outlive a supervisor crash and are counted again: after kill
# -9 of the supervisor, a short ssh starts a new one, which adopts the VM
# and must not stop it under the session that is still open; killed
# again with no ssh to follow, a supervisor comes back anyway (started by
# the open session's client), and once that session ends, the VM is
# stopped after its idle timeout.  (Before: the new supervisor counted
# only new sessions and stopped the VM under the open one; with no new
# ssh, nothing ever stopped it.)
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start
session_open 1 ubuntu.vm
session_wait_up 1
kill -9 "$SUP_PID"
wait_for 10 not alive "$SUP_PID"

run_ssh ubuntu.vm echo short
assert_eq "$RC" 0 "the short ssh (stderr: $ERR)"
assert_eq "$OUT" short "its output"
# Idle timeout 2s: three of them and more.
hold_for 7000 vm_state_is ubuntu running
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls while the session is open"
session_send 1 after-the-first-crash

pid=$(supervisor_pid) || fail "no supervisor after the short ssh"
kill -9 "$pid"
wait_for 10 not alive "$pid"
wait_for 20 supervisor_pid
assert_ne "$(supervisor_pid)" "$pid" "the supervisor after the second kill"
hold_for 5000 vm_state_is ubuntu running
session_send 1 after-the-second-crash
session_close 1
assert_eq "$RC" 0 "the session's exit status"
wait_for 30 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start calls"
assert_eq "$(vmctl_calls 'stop ubuntu$')" 1 "vmctl stop calls"
