#!/bin/sh
# A state file that names 10,000 VMs (one of them running, the rest long
# gone) is checked with one `vmctl status` of every VM, not a vmctl per
# VM: the running one is adopted and stopped when idle, the others are
# dropped, and the next ssh is served.  (Before: 10,000 vmctl processes
# at once, most timed out, clients waited about 90 s.)
. "$(dirname "$0")/../lib.sh"
test_init
N=10000
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start
run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh (stderr: $ERR)"
kill -9 "$SUP_PID"
wait_for 10 not alive "$SUP_PID"
state=$(dirname "$SOCK")/state
grep -q ubuntu "$state" || fail "ubuntu is not in the state file: $(cat "$state")"
# The gone ones, in the file's own format: copy ubuntu's line N times.
line=$(grep ubuntu "$state")
awk -v n=$N -v l="$line" 'END {
	for (i = 1; i <= n; i++) { x = l; sub("ubuntu", "gone" i, x); print x }
}' </dev/null >>"$state"
assert_ge "$(grep -c gone "$state")" $N "entries in the state file"
n=$(vmctl_calls 'status( gone[0-9]+)?$')
supervisor_start
run_ssh ubuntu.vm echo served
assert_eq "$RC" 0 "ssh after the restart (stderr: $ERR)"
assert_eq "$OUT" served "its output"
wait_for 60 vm_state_is ubuntu stopped
calls=$(($(vmctl_calls 'status( gone[0-9]+)?$') - n))
msg "vmctl status calls after the restart: $calls"
assert_le "$calls" 10 "vmctl status calls after the restart"
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start calls"
wait_for 20 sh -c "! grep -q gone '$state'"
