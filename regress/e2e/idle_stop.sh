#!/bin/sh
# Idle stop: the VM that vmlaunch started stops once its last session has
# been closed for "idle timeout" (2s), and not before.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" hello "output"
wait_for 30 vmctl_called 'stop ubuntu$'
gap=$(log_gap 'vm ubuntu: session [0-9]+ ended, 0 open' \
    'vm ubuntu: stopping it: no session for 2s') || fail "no idle stop logged"
assert_ge "$gap" 1990 "ms of idle countdown before the stop (idle timeout 2s)"
wait_for 10 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'stop')" 1 "vmctl stop calls (no forced stop)"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
grep -qi idle "$SUPLOG" || fail "the supervisor did not log the idle stop"
