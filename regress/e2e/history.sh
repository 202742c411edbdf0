#!/bin/sh
# vmlaunch -s -v: the recent history of each VM, under its row, each
# event with its time: after a boot (started for which session, ready
# after how long), an idle stop (the countdown, why it stopped, stopped
# after how long), a failed start (with vmctl's own words).  Plain -s
# shows none of it, only the supervisor's pid, config and start.  The
# history keeps the last 20 events, lives in memory, and a new
# supervisor starts it afresh.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
add_vm failing
conf_begin "vmctl timeout 1s"
conf_vm ubuntu
conf_vm failing
conf_end
supervisor_start

events() {	# vm: its history lines
	"$VMLAUNCH" -s -v -f "$CONF" 2>/dev/null |
	    awk -v n="$1" '/^[^ ]/ { vm = $1 }
		vm == n && /^    [A-Z][a-z][a-z] [ 0-9][0-9] [0-9][0-9]:/ {
		print substr($0, 21) }'
}
stamp='^    [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} '

run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
wait_for 15 vm_state_is ubuntu stopped
wait_for 5 sup_state_is ubuntu stopped
out=$("$VMLAUNCH" -s -v -f "$CONF" 2>/dev/null)
msg "$out"
assert_match "$out" "${stamp}starting it for an ssh session \(#1\)\$" "a boot: for whom"
assert_match "$out" "${stamp}guest $(vm_addr ubuntu):$(vm_port ubuntu) ready after [0-9.]+s\$" \
    "a boot: ready after"
assert_match "$out" "${stamp}no sessions, stopping in 2s unless used\$" \
    "the idle countdown"
assert_match "$out" "${stamp}stopping it: no session for 2s\$" "why it stopped"
assert_match "$out" "${stamp}stopped after [0-9.]+s\$" "stopped after"
assert_eq "$(events ubuntu | head -n 1)" "starting it for an ssh session (#1)" \
    "the oldest event first"
assert_match "$out" "^supervisor: pid $SUP_PID, since [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8}, config $CONF\$" \
    "-s -v: the supervisor"
plain=$("$VMLAUNCH" -s -f "$CONF" 2>/dev/null)
assert_not_contains "$plain" "starting it" "plain -s shows no history"
assert_match "$plain" "^supervisor: pid $SUP_PID, since .*, config $CONF\$" \
    "plain -s: the supervisor"

# A start that fails: vmctl's words.
echo start >"$VMD/hang"
run_proxy failing.vm 22
assert_eq "$RC" 255 "the failed start: exit status"
rm "$VMD/hang"
ev=$(events failing)
msg "$ev"
assert_match "$ev" '^starting it for an ssh session \(#[0-9]+\)$' "failing: for whom"
assert_match "$ev" '^start failed: vmctl timed out after 1s; checking its state$' \
    "failing: the start's failure, as vmctl ended"

# The last 20 events only.
i=0
while [ $i -lt 12 ]; do
	"$VMLAUNCH" -k 1h -f "$CONF" ubuntu.vm 2>/dev/null ||
	    fail "-k 1h, round $i"
	"$VMLAUNCH" -k 0 -f "$CONF" ubuntu.vm 2>/dev/null ||
	    fail "-k 0, round $i"
	i=$((i + 1))
done
ev=$(events ubuntu)
assert_eq "$(echo "$ev" | wc -l)" 20 "ubuntu's events"
# The last release and its countdown (after which, on a slow machine,
# the idle stop may already have come).
assert_eq "$(echo "$ev" | awk '/^hold released$/ { n = NR }
    { l[NR] = $0 } END { print l[n] "/" l[n + 1] "/" }')" \
    "hold released/no sessions, stopping in 2s unless used/" "the newest events"
events ubuntu | grep -q 'starting it for an ssh session (#1)' &&
    fail "the oldest events were kept"

# Afresh after a restart.
supervisor_takeover
assert_eq "$(events failing)" "" "failing's history after a restart"
events ubuntu | grep -q 'hold released' && fail "ubuntu's history survived"
exit 0
