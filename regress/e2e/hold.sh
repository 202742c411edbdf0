#!/bin/sh
# vmlaunch -k: a hold keeps a VM up without a session.  -k 1h boots the
# stopped VM (exit 0 once it is ready, saying until when); it stays up
# past the idle timeout; vmlaunch -s shows the hold and its time left;
# vmlaunch -x refuses it; -k 0 releases it and the idle stop follows.  A
# hold ends by itself when its time runs out.  A hold survives a
# supervisor crash: it is in the state file, and the next supervisor
# counts it, shows it and does not stop the VM under it.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin
conf_vm ubuntu
conf_end
supervisor_start

k() {	# duration: RC, ERR
	timeout -k 5 60 "$VMLAUNCH" -k "$1" -f "$CONF" ubuntu.vm </dev/null \
	    >"$T/k.out" 2>"$T/k.err"
	RC=$?
	ERR=$(cat "$T/k.err")
	assert_eq "$(cat "$T/k.out")" "" "-k $1: stdout"
}
hold_line() {
	"$VMLAUNCH" -s -f "$CONF" 2>/dev/null | sed -n 's/^    hold: //p'
}

k 1h
assert_eq "$RC" 0 "-k 1h: exit status"
assert_match "$(echo "$ERR" | tail -n 1)" \
    '^vmlaunch: ubuntu: held for 1h, until [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}$' \
    "-k 1h: the last line"
guest_answers ubuntu || fail "the guest does not answer after -k"
# Idle timeout 2s, and the grace of a new supervisor: 5s.
hold_for 7000 vm_state_is ubuntu running
out=$("$VMLAUNCH" -s -f "$CONF" 2>/dev/null)
msg "$out"
assert_match "$out" '^ubuntu +running +ready +0 +yes +- ' "-s: held, no session"
assert_match "$(hold_line)" '^(59m[0-9]{2}s|1h00m) left$' "-s: the hold"
"$VMLAUNCH" -x -f "$CONF" ubuntu.vm 2>"$T/x.err"
assert_eq "$?" 1 "-x with a hold: exit status"
assert_eq "$(noprogress "$(cat "$T/x.err")")" \
    "vmlaunch: ubuntu: a hold open, not stopped (vmlaunch -X stops it anyway)" \
    "-x with a hold"
k 0
assert_eq "$RC" 0 "-k 0: exit status"
assert_eq "$(noprogress "$ERR")" "vmlaunch: ubuntu: hold released" "-k 0"
wait_for 15 vm_state_is ubuntu stopped
k 0
assert_eq "$RC" 0 "-k 0 without a hold: exit status"
assert_eq "$(noprogress "$ERR")" "vmlaunch: ubuntu: no hold to release" "-k 0 without a hold"

# A hold that runs out: then the idle timeout, then the stop.
t0=$(now_ms)
k 3s
assert_eq "$RC" 0 "-k 3s: exit status"
wait_for 20 vm_state_is ubuntu stopped
stop=$(vmctl_call_ms 'stop ubuntu$' 2)
assert_ge $((stop - t0)) 4800 "ms from -k 3s to the stop"
wait_for 5 sup_state_is ubuntu stopped
"$VMLAUNCH" -s -v -f "$CONF" 2>/dev/null |
    grep -q ' hold ended: its time ran out$' ||
    fail "-s -v: the hold that ran out"

# Until released, through a crash.
k never
assert_eq "$RC" 0 "-k never: exit status"
assert_eq "$(echo "$ERR" | tail -n 1)" "vmlaunch: ubuntu: held until released" \
    "-k never: the last line"
grep -qx 'hold ubuntu never' "$T/state" ||
    fail "the hold is not in the state file: $(cat "$T/state")"
supervisor_takeover
wait_for 10 grep -q 'held until released, restored from the state file' \
    "$SUPLOG"
assert_eq "$(hold_line)" "until released" "-s after the crash: the hold"
hold_for 7000 vm_state_is ubuntu running
k 0
assert_eq "$(noprogress "$ERR")" "vmlaunch: ubuntu: hold released" "-k 0 after the crash"
wait_for 15 vm_state_is ubuntu stopped
grep -q '^hold ' "$T/state" && fail "a hold left in the state file"
assert_eq "$(vmctl_calls 'start ubuntu$')" 3 "vmctl start calls"
assert_eq "$(vmctl_calls 'stop -f')" 0 "forced stops"
