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
. "$(dirname "$0")/../lib.sh"
test_init
CONF_STOP=10s
add_vm ubuntu shutdown_delay 3
conf_begin; conf_vm ubuntu; conf_end
"$DOUBLE" __set ubuntu stop_hold
gate_close 'stop -f ubuntu'
supervisor_start

run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
# The idle stop: graceful (ignored), forced after 10s (held), given up
# 10s later: vmlaunch tries again 10s after that.
wait_for 60 grep -q 'vm ubuntu: trying to stop it again in 10s' "$SUPLOG"
assert_eq "$(vm_state ubuntu)" stopping "vmd's state when the stop is given up"
gate_open 'stop -f ubuntu'
"$DOUBLE" __unset ubuntu stop_hold	# the guest goes down 3s from now
run_ssh ubuntu.vm 'sleep 8; echo after'
assert_eq "$RC" 0 "ssh while the stop was unfinished (stderr: $ERR)"
assert_eq "$OUT" after "its output"
grep -q 'vm ubuntu: an ssh session (#[0-9]*) while its stop is unfinished' \
    "$SUPLOG" || fail "the supervisor did not look again"
assert_eq "$(vmctl_calls 'start ubuntu$')" 2 "vmctl start calls"
assert_ge "$(vmctl_call_ms 'start ubuntu$' 2)" \
    "$(vmctl_call_ms 'stop ubuntu$')" "the second start came after the stop"
