#!/bin/sh
# A session that comes while vmlaunch's stop of its VM is unfinished:
# the guest ignored the power button, the forced stop was held past stop
# wait (a gate), vmd still said "stopping", and vmlaunch waits to try
# again.  The guest is going down: the session must not be handed to it.
# vmlaunch asks vmd again, waits for the stop to end and boots the VM
# anew for the session, which runs to its end.  (Before: the VM went
# back to idle, the session was connected to the dying guest and cut
# when it went down, ssh exit 255; found by the matrix's forced phase on
# a loaded machine.)
#
# Every moment is held, none is raced: the idle stop's first vmctl call
# is held at a gate while the configuration is reloaded with a stop wait
# of 1h (the stop under way keeps the 10s it began with; the retry after
# it is given up waits the new 1h), so the session comes long before the
# retry however slow the machine; and the guest goes down (stop_hold
# removed) only once the supervisor has the session's request.
. "$(dirname "$0")/../lib.sh"
test_init

requests() {	# how many session requests the supervisor had
	grep -c 'vm ubuntu: session request' "$SUPLOG"
}

more_requests() {	# than N
	[ "$(requests)" -gt "$1" ]
}

session_got_or_dead() {	# text: session 1 echoed it, or ended
	grep -qx "got $1" "$T/s.1.out" || ! alive "$(session_pid 1)"
}

CONF_STOP=10s
add_vm ubuntu shutdown_delay 3
conf_begin; conf_vm ubuntu; conf_end
"$DOUBLE" __set ubuntu stop_hold
gate_close 'stop ubuntu'
gate_close 'stop -f ubuntu'
supervisor_start

run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
oldvm=$("$DOUBLE" __pid ubuntu) || fail "no VM process after the first ssh"

# The idle stop began (its 10s stop wait is its own now): the retry
# after a stop given up is to wait 1h from here on.
gate_wait 'stop ubuntu' 30
sed 's/^stop wait .*/stop wait 1h/' "$CONF" >"$CONF.new"
mv "$CONF.new" "$CONF"
kill -HUP "$SUP_PID"
wait_for 20 grep -q 'reload: configuration from .* in effect' "$SUPLOG"
gate_open 'stop ubuntu'

# Graceful (ignored), forced after 10s (held), given up 10s later.
wait_for 60 grep -q 'vm ubuntu: trying to stop it again in' "$SUPLOG"
grep -q 'vm ubuntu: trying to stop it again in 1h' "$SUPLOG" ||
    fail "the stop was given up before the reload took effect (the reload took over 20s)"
assert_eq "$(vm_state ubuntu)" stopping "vmd's state when the stop is given up"
gate_open 'stop -f ubuntu'	# killed when the stop was given up

# The session reaches the supervisor while the guest is still going down.
nreq=$(requests)
session_open 1 ubuntu.vm
wait_for 30 more_requests "$nreq"
assert_eq "$(vm_state ubuntu)" stopping "vmd's state when the session came"
t_down=$(now_ms)
"$DOUBLE" __unset ubuntu stop_hold	# the guest goes down 3s from now

# Up on the new VM (handed to the dying one, it is up at once, and cut
# when that goes down: so look only once the old VM is gone).
session_wait_up 1 60
wait_for 30 not alive "$oldvm"
if alive "$(session_pid 1)"; then
	echo after >"$T/s.1.in"
	wait_for 15 session_got_or_dead after
fi
if ! alive "$(session_pid 1)"; then
	session_close 1
	fail "the session was cut when the old guest went down: ssh exit $RC: $(cat "$T/s.1.err")"
fi
grep -qx 'got after' "$T/s.1.out" ||
    fail "the session does not answer: $(cat "$T/s.1.out")"
grep -q 'vm ubuntu: an ssh session (#[0-9]*) while its stop is unfinished' \
    "$SUPLOG" || fail "the supervisor did not look again"

# What came of it: the VM started anew, only after the old one went
# down, and it runs with the session on it.
assert_eq "$(vmctl_calls 'start ubuntu$')" 2 "vmctl start calls"
assert_ge "$(vmctl_call_ms 'start ubuntu$' 2)" "$t_down" \
    "the second start came after the guest was let go down"
assert_eq "$(vmctl_calls 'stop -f ubuntu$')" 1 "forced stops (the held one)"
assert_eq "$(vm_state ubuntu)" running "vmd's state with the session on it"
assert_eq "$(sup_state ubuntu)" ready "vmlaunch's state with the session on it"
session_close 1
assert_eq "$RC" 0 "ssh exit status of the session"
assert_eq "$(sed -n 1p "$T/s.1.out" | cut -d' ' -f1)" session-up \
    "the session's output"
