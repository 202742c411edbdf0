#!/bin/sh
# A `vmlaunch -s` that hangs up while the supervisor's `vmctl status` for
# it is still running (^C on a slow -s): the status job belongs to that
# peer and goes with it (the held vmctl is killed), so nothing is ever
# written for the peer that is gone.  Held at that moment by a gate,
# three times over; the supervisor keeps serving, and the next -s and
# ssh work.  (Before: the vmctl ran on, and its answer was written into
# the freed peer: a use after free, fatal under ASan.)
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start
session_open 1 ubuntu.vm
session_wait_up 1

held_pid() {	# the pid of the vmctl held at the gate
	for _h in "$VMD"/held/*; do
		[ -f "$_h" ] && basename "$_h"
	done
}
gate_close 'status'
for i in 1 2 3; do
	"$VMLAUNCH" -s -f "$CONF" >"$T/st.$i.out" 2>&1 &
	st=$!
	register_pid $st
	gate_wait 'status'
	vp=$(held_pid)
	kill -9 "$st"
	wait "$st" 2>/dev/null
	# Its status goes with it: the held vmctl is killed, not answered.
	wait_for 10 not alive "$vp"
	rm -f "$VMD/held/$vp"
	# One more -s goes through the loop afterwards.
	gate_open 'status'
	"$VMLAUNCH" -s -f "$CONF" >/dev/null 2>&1
	alive "$SUP_PID" || fail "the supervisor died after -s number $i hung up"
	gate_close 'status'
done
gate_open 'status'
assert_eq "$(grep -c 'RELEASED: status$' "$VMD/log")" 0 \
    "held status calls that ran on after their -s hung up"
# The answer was processed: the supervisor still serves.
out=$("$VMLAUNCH" -s -f "$CONF" 2>&1) || fail "vmlaunch -s: $out"
assert_match "$out" '^ubuntu +running +ready +1 ' "vmlaunch -s after the hang-ups"
session_send 1 still-there
run_ssh ubuntu.vm echo next
assert_eq "$RC" 0 "the next ssh (stderr: $ERR)"
assert_eq "$OUT" next "the next ssh's output"
alive "$SUP_PID" || fail "the supervisor died"
