#!/bin/sh
# A second supervisor for the same control socket gives way at once
# when the first one answers (clients that race to start one must not
# wait for the loser), says why, and leaves the first one serving.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

# The loser used to poll the lock for 5 s; 4 s is a generous bound for
# something that takes milliseconds, and fails the old behaviour.
timeout -k 1 4 "$VMLAUNCH" -d -f "$CONF" >"$T/second.out" 2>"$T/second.err"
RC=$?
assert_eq "$RC" 1 "exit status of a second vmlaunch -d (124: it waited)"
assert_contains "$(cat "$T/second.err")" "a supervisor already runs on $SOCK" \
    "stderr of a second vmlaunch -d"
alive "$SUP_PID" || fail "the first supervisor died"
assert_eq "$(vmlaunch_pids | wc -l)" 1 "supervisors running"

run_ssh ubuntu.vm echo still
assert_eq "$RC" 0 "ssh exit status after the second -d (stderr: $ERR)"
assert_eq "$OUT" still "ssh output after the second -d"
