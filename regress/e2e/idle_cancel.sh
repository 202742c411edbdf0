#!/bin/sh
# A new session during the idle time cancels the stop; the timer starts
# again when that session closes.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

run_ssh ubuntu.vm echo hello
end1=$(now_ms)
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
session_open 2 ubuntu.vm
session_wait_up 2
# Well past the first idle deadline, with the second session open.
wait_until_ms $((end1 + 3500))
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls while a session is open"
assert_eq "$(vm_state ubuntu)" running "state while a session is open"
session_send 2 ping
session_close 2
end2=$(now_ms)
assert_eq "$RC" 0 "second session exit status"
wait_for 30 vmctl_called 'stop ubuntu$'
gap=$(log_gap 'vm ubuntu: no sessions, stopping in 2s' \
    'vm ubuntu: stopping it: no session for 2s') || fail "no idle stop logged"
assert_ge "$gap" 1980 "ms of idle countdown before the stop (idle timeout 2s)"
wait_for 10 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
