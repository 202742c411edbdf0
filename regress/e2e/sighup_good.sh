#!/bin/sh
# SIGHUP with a good config: the new config applies (a new VM is served,
# a changed idle timeout applies from the next event), same supervisor.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
add_vm second
conf_begin; conf_vm ubuntu "idle timeout 1h"; conf_end
supervisor_start

run_ssh ubuntu.vm echo one
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
hold_for 3000 vm_state_is ubuntu running

conf_begin; conf_vm ubuntu; conf_vm second; conf_end
kill -HUP "$SUP_PID"
wait_for 5 grep -qi reload "$SUPLOG"
alive "$SUP_PID" || fail "the supervisor died on SIGHUP"
run_ssh second.vm echo two
assert_eq "$RC" 0 "ssh to the new VM, exit status (stderr: $ERR)"
assert_eq "$OUT" two "ssh to the new VM, output"
run_ssh ubuntu.vm echo three
assert_eq "$RC" 0 "ssh exit status after reload (stderr: $ERR)"
# The new idle timeout (2s) applies to this session's end.
wait_for 30 vmctl_called 'stop ubuntu$'
gap=$(log_gap 'vm ubuntu: session [0-9]+ ended, 0 open' \
    'vm ubuntu: stopping it: no session for 2s') || fail "no idle stop logged"
assert_ge "$gap" 1990 "ms of idle countdown before the stop (idle timeout 2s)"
wait_for 10 vm_state_is ubuntu stopped
assert_eq "$SUP_PID" "$(vmlaunch_pids | grep -x "$SUP_PID")" "the same supervisor"
