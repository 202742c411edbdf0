#!/bin/sh
# idle pause: the VM that vmlaunch started is paused (vmctl pause) once it
# has had no session for "idle pause" (2s); vmlaunch -s shows it paused,
# with the time left until the stop.  A session resumes it: vmctl
# unpause, the guest's banner, the session; the same VM process (no new
# start).  Unused again, it is paused again, and at "idle timeout" (20s
# after the last session) it is unpaused first, then stopped gracefully.
# vmlaunch -s -v tells each step.  (The 18s between pause and stop are
# the window for -s and the second ssh, on a loaded machine.)
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
CONF_IDLE=20s conf_begin
conf_vm ubuntu "idle pause 2s"
conf_end
supervisor_start

run_ssh ubuntu.vm echo hello
end=$(now_ms)
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" hello "output"
pid=$("$DOUBLE" __pid ubuntu) || fail "no VM process"
wait_for 15 vm_state_is ubuntu paused
gap=$(log_gap 'vm ubuntu: session [0-9]+ ended, 0 open' \
    'vm ubuntu: pausing it: no session for 2s') || fail "no idle pause logged"
assert_ge "$gap" 1990 "ms from the session's end to the pause (idle pause 2s)"
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls while paused"
wait_for 5 sup_state_is ubuntu paused
row=$("$VMLAUNCH" -s -f "$CONF" | grep '^ubuntu ')
msg "$row"
assert_match "$row" '^ubuntu +paused +paused +0 +yes +([1-9]|1[0-9]|20)s ' \
    "-s: paused, started by vmlaunch, seconds left until the stop"

# A session resumes it: unpause, then the session, on the same VM.
run_ssh ubuntu.vm echo resumed
assert_eq "$RC" 0 "ssh to the paused vm (stderr: $ERR)"
assert_eq "$OUT" resumed "output after the resume"
assert_eq "$(vmctl_calls 'unpause ubuntu$')" 1 "vmctl unpause calls"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
assert_eq "$("$DOUBLE" __pid ubuntu)" "$pid" "the VM process (not rebooted)"
log_ms 'vm ubuntu: resuming it for an ssh session' >/dev/null ||
    fail "no resume in the log"
[ "$(log_ms 'vm ubuntu: resumed after')" -lt \
    "$(log_ms 'vm ubuntu: guest .* ready after' 2)" ] ||
    fail "the guest was ready before the unpause"

# Paused again; at the idle timeout unpaused, then stopped.
wait_for 15 vmctl_called 'pause ubuntu$' 2
wait_for 60 vm_state_is ubuntu stopped
stop=$(vmctl_call_ms 'stop ubuntu$')
[ -n "$stop" ] || fail "no vmctl stop"
gap=$(log_gap 'vm ubuntu: session [0-9]+ ended, 0 open' \
    'vm ubuntu: stopping it: no session for 20s') || fail "no idle stop logged"
assert_ge "$gap" 19990 "ms from the last session's end to the stop (idle timeout 20s)"
assert_eq "$(vmctl_calls 'unpause ubuntu$')" 2 "vmctl unpause calls"
assert_ge "$stop" "$(vmctl_call_ms 'unpause ubuntu$' 2)" \
    "the stop came after the unpause"
assert_eq "$(vmctl_calls 'stop -f')" 0 "forced stops"
grep "vm ubuntu: stopped after" "$SUPLOG" | grep -q forced &&
    fail "the stop was forced"

wait_for 10 sup_state_is ubuntu stopped
out=$("$VMLAUNCH" -s -v -f "$CONF" 2>/dev/null)
msg "$out"
for e in 'starting it for an ssh session' 'guest .* ready after' \
    'no sessions, pausing in 2s and stopping in 20s unless used' \
    'pausing it: no session for 2s' 'paused \(vmctl: paused vm' \
    'resuming it for an ssh session' 'resumed after' \
    'stopping it: no session for 20s \(unpausing it first\)' \
    'stopped after'; do
	assert_match "$out" "^    [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} $e" \
	    "-s -v history"
done
assert_match "$out" "^supervisor: pid $SUP_PID, since .*, config $CONF\$" \
    "-s: the supervisor"
