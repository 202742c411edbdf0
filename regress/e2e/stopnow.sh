#!/bin/sh
# vmlaunch -x: stop now a VM that vmlaunch started.  With sessions open
# it refuses, says how many, exits 1 and stops nothing; with none it
# stops the VM (graceful, verified) and exits 0 once it is stopped,
# saying so.  -X stops it with sessions open.  A VM that vmlaunch did not
# start is refused with a clear message, exit 1, and keeps running.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
add_vm manual
CONF_IDLE=1h conf_begin
conf_vm ubuntu
conf_vm manual
conf_end
vm_start_by_hand manual
supervisor_start

down() {	# -x|-X host: RC, ERR
	timeout -k 5 60 "$VMLAUNCH" "$1" -f "$CONF" "$2" </dev/null \
	    >"$T/down.out" 2>"$T/down.err"
	RC=$?
	ERR=$(cat "$T/down.err")
	assert_eq "$(cat "$T/down.out")" "" "$1 $2: stdout"
}

session_open 1 ubuntu.vm
session_wait_up 1
down -x ubuntu.vm
assert_eq "$RC" 1 "-x with a session open: exit status"
assert_eq "$(noprogress "$ERR")" "vmlaunch: ubuntu: 1 session open, not stopped (vmlaunch -X stops it anyway)" \
    "-x with a session open"
session_open 2 ubuntu.vm
session_wait_up 2
down -x ubuntu.vm
assert_eq "$RC" 1 "-x with two sessions open: exit status"
assert_eq "$(noprogress "$ERR")" "vmlaunch: ubuntu: 2 sessions open, not stopped (vmlaunch -X stops it anyway)" \
    "-x with two sessions open"
session_send 1 "still here"
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls after refusals"

session_close 1
session_close 2
down -x ubuntu.vm
assert_eq "$RC" 0 "-x without sessions: exit status"
assert_eq "$(echo "$ERR" | tail -n 1)" "vmlaunch: ubuntu: stopped" \
    "-x without sessions: the last line"
assert_eq "$(vm_state ubuntu)" stopped "the vm once -x returned"
assert_eq "$(vmctl_calls 'stop ubuntu$')" 1 "graceful stops"
assert_eq "$(vmctl_calls 'stop -f')" 0 "forced stops"

# -X: stopped with a session open, which ends with the VM.
session_open 3 ubuntu.vm
session_wait_up 3
down -X ubuntu.vm
assert_eq "$RC" 0 "-X with a session open: exit status"
assert_eq "$(echo "$ERR" | tail -n 1)" "vmlaunch: ubuntu: stopped" \
    "-X: the last line"
assert_eq "$(vm_state ubuntu)" stopped "the vm once -X returned"
wait_for 20 not alive "$(session_pid 3)"
out=$("$VMLAUNCH" -s -v -f "$CONF" 2>/dev/null)
assert_match "$out" ' stopping it: vmlaunch -x$' "-s -v: why it stopped"
assert_match "$out" ' stopping it: vmlaunch -X, with 1 session open$' \
    "-s -v: why it stopped, forced"
assert_match "$out" ' vmlaunch -x refused: 2 sessions open$' \
    "-s -v: a refusal"

# Not vmlaunch's.
for f in -x -X; do
	down $f manual.vm
	assert_eq "$RC" 1 "$f on a VM started by hand: exit status"
	assert_eq "$(noprogress "$ERR")" "vmlaunch: manual: vmlaunch did not start this vm, so it does not stop it" \
	    "$f on a VM started by hand"
done
down -x ubuntu.vm
assert_eq "$RC" 1 "-x on a stopped VM: exit status"
assert_eq "$(noprogress "$ERR")" "vmlaunch: ubuntu: not running, nothing to stop" \
    "-x on a stopped VM"
assert_eq "$(vmctl_calls 'stop( -f)? manual$')" 0 "stops of the VM started by hand"
assert_eq "$(vm_state manual)" running "the VM started by hand"
