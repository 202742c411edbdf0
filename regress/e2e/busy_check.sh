#!/bin/sh
# idle check: when an idle deadline comes, the supervisor first runs the
# check in the guest, through ssh and vmlaunch, as a session that never
# boots the VM and is no use of it.  Exit 0 (a marker file exists) keeps
# the VM up: the deadline moves one idle period later, deadline after
# deadline.  Without the marker the VM stops at the next deadline.  A
# check that hangs is cut at its time bound and the VM stops.  A session
# that opens while a check runs cancels the stop, and the check with it.
# vmlaunch -s -v shows each verdict.  The bounds of the checks that must
# finish (60s) or be cut by a session (30s) leave room for a slow ssh on
# a busy machine.
# e2e-timeout: 400
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
add_vm hang
add_vm cut
conf_begin "ssh \"ssh -F $SSHCFG\""
conf_vm ubuntu "idle check \"test -e '$T/busy'\" timeout 60s"
conf_vm hang "idle check \"sleep 60\" timeout 2s"
conf_vm cut "idle check \"sleep 60\" timeout 30s"
conf_end
supervisor_start

log_count() {	# ERE
	grep -cE -- "$1" "$SUPLOG"
}
log_count_ge() {	# ERE N
	[ "$(log_count "$1")" -ge "$2" ]
}

touch "$T/busy"
run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
wait_for 120 log_count_ge 'vm ubuntu: busy: check ' 3
assert_eq "$(vm_state ubuntu)" running "ubuntu after three busy checks"
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls while busy"
log_count 'vm ubuntu: .*idle stop cancelled' | grep -qx 0 ||
    fail "a check counted as use of the VM"
rm "$T/busy"
gone=$(now_ms)
wait_for 90 vm_state_is ubuntu stopped
assert_ge "$(vmctl_call_ms 'stop ubuntu$')" "$gone" \
    "the stop came after the marker was removed"
out=$("$VMLAUNCH" -s -v -f "$CONF" 2>/dev/null)
msg "$out"
assert_match "$out" " busy: check \"test -e '$T/busy'\" says busy; stopping in 2s unless used\$" \
    "-s -v: a busy check"
assert_match "$out" " idle: check \"test -e '$T/busy'\" exited with status 1\$" \
    "-s -v: an idle check"
assert_match "$out" " stopping it: no session for 2s\$" "-s -v: the stop"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls (the checks boot nothing)"

# A check that hangs is cut at 2s, counts as idle, the VM stops.
run_ssh hang.vm true
assert_eq "$RC" 0 "ssh to hang (stderr: $ERR)"
wait_for 60 vm_state_is hang stopped
# (From the ssh's request: the check's own session ends too, maybe
# before the stop's line.)
gap=$(log_gap 'vm hang: session request, port .*: an ssh session' \
    'vm hang: stopping it: no session for 2s') || fail "no idle stop logged"
assert_ge "$gap" 3990 \
    "ms from the session to the stop: idle timeout and the bound"
wait_for 5 grep -q 'vm hang: idle: check "sleep 60" timed out after 2s' \
    "$SUPLOG"

# A session while the check runs: no stop, and no verdict.
run_ssh cut.vm true
assert_eq "$RC" 0 "ssh to cut (stderr: $ERR)"
wait_for 20 grep -q 'vm cut: session request, port .*: a busy check' "$SUPLOG"
session_open 1 cut.vm
session_wait_up 1
wait_for 5 grep -q 'vm cut: an ssh session (#[0-9]*), idle stop cancelled' \
    "$SUPLOG"
hold_for 9000 vm_state_is cut running
grep -q 'vm cut: idle: ' "$SUPLOG" && fail "a cancelled check gave a verdict"
session_close 1
wait_for 90 vm_state_is cut stopped
assert_eq "$(vmctl_calls 'stop cut$')" 1 "cut: stops"
