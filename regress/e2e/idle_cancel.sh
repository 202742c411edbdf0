#!/bin/sh
# A new session during the idle time cancels the stop; the timer starts
# again when that session closes.
#
# The one window is the idle timeout itself: the second session has to
# reach the supervisor while the first countdown runs.  It is 8s, many
# times what an ssh and its ProxyCommand take to get there on a loaded
# machine (a 2s timeout lost that race under the sanitizers in CI), and
# the order is read from the supervisor's log, not assumed.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
CONF_IDLE=8s
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
wait_for 30 grep -q 'vm ubuntu: no sessions, stopping in 8s' "$SUPLOG"
# The countdown began at or before this moment.
seen=$(now_ms)
session_open 2 ubuntu.vm
session_wait_up 2
wait_for 10 grep -q 'vm ubuntu: an ssh session (#[0-9]*), idle stop cancelled' \
    "$SUPLOG"
awk '/vm ubuntu: stopping it:/ { exit 1 }
    /vm ubuntu: an ssh session \(#[0-9]*\), idle stop cancelled/ { exit 0 }' \
    "$SUPLOG" || fail "the second session reached the supervisor only" \
    "after the first idle countdown (8s) ended: too slow a machine"
# Well past the first countdown's deadline, with the second session open.
wait_until_ms $((seen + 8000 + 3000))
grep -q 'vm ubuntu: stopping it:' "$SUPLOG" &&
    fail "an idle stop while a session is open: $(grep 'stopping it' "$SUPLOG")"
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls while a session is open"
assert_eq "$(vm_state ubuntu)" running "state while a session is open"
session_send 2 ping
session_close 2
assert_eq "$RC" 0 "second session exit status"
wait_for 60 vmctl_called 'stop ubuntu$'
# The stop comes from a second countdown, begun after the session ended,
# and it ran its whole 8s.
awk '/vm ubuntu: session [0-9]* ended, 0 open/ { ended = 1 }
    /vm ubuntu: no sessions, stopping in 8s/ && ended { again = 1 }
    /vm ubuntu: stopping it:/ { exit !again }' "$SUPLOG" ||
    fail "the stop did not follow a countdown begun after the session ended"
gap=$(log_gap 'vm ubuntu: session [0-9]+ ended, 0 open' \
    'vm ubuntu: stopping it: no session for 8s') || fail "no idle stop logged"
assert_ge "$gap" 7990 "ms of idle countdown before the stop (idle timeout 8s)"
wait_for 10 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
