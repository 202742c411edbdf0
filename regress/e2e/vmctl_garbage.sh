#!/bin/sh
# vmctl prints garbage: a clear error, nothing started, the supervisor
# survives and works once vmctl makes sense again.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

"$DOUBLE" __global garbage
run_proxy ubuntu.vm 22
assert_eq "$RC" 255 "exit status"
assert_match "$(echo "$ERR" | tail -n 1)" '^vmlaunch: ubuntu: ' \
    "the last stderr line"
assert_eq "$(vmctl_calls 'start')" 0 "vmctl start calls"
assert_eq "$OUT" "" "stdout"
alive "$SUP_PID" || fail "the supervisor died"

"$DOUBLE" __rmglobal garbage
run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "ssh exit status once vmctl makes sense (stderr: $ERR)"
assert_eq "$OUT" hello "output"
