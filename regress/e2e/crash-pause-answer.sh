#!/bin/sh
# A pause outlives its supervisor.  vmlaunch's idle `vmctl pause` is held
# at a gate and the supervisor killed (kill -9).  Its successor finds the
# VM running under a "paused" record whose pause may still act: a
# session that comes now is not handed the guest (the pause would freeze
# it under the session); it waits.  The gate opened, the VM is paused:
# the successor adopts it as paused, resumes it for the waiting session
# (vmctl unpause, then the banner), and once unused pauses it again and
# at its idle timeout unpauses and stops it.  (Before: the record was
# adopted as running at once, the session was served by the guest, and
# the pause then froze it.)
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu boot_delay 0
CONF_IDLE=12s conf_begin
conf_vm ubuntu "idle pause 1s"
conf_end

supervisor_start
gate_close 'pause ubuntu'
run_ssh ubuntu.vm echo first
assert_eq "$RC" 0 "the first ssh (stderr: $ERR)"
gate_wait 'pause ubuntu'
kill -9 "$SUP_PID"
wait_for 10 not alive "$SUP_PID"
supervisor_start

client_bg 1
# The successor asks about the VM again and again while the pause is
# held; the session must not be served meanwhile.
n=$(vmctl_calls 'status')
asked_or_served() {
	client_got_banner 1 || vmctl_called 'status' $((n + 4))
}
wait_for 60 asked_or_served
client_got_banner 1 &&
    fail "the session was handed the guest while the old pause could act"
assert_eq "$(vm_state ubuntu)" running "the VM while the pause is held"

gate_open 'pause ubuntu'
wait_for 60 client_got_banner 1
assert_eq "$(vmctl_calls 'unpause ubuntu$')" 1 "vmctl unpause calls"
unpause=$(vmctl_call_ms 'unpause ubuntu$')
# (The orphaned vmctl pauses the VM, then dies writing its message to
# its dead supervisor's pipe: no RESULT line, as a real one would.)
paused=$(grep -E 'RELEASED: pause ubuntu$' "$VMD/log" | head -1 |
    cut -d' ' -f1)
[ -n "$paused" ] || fail "the held pause was never released"
assert_ge $((unpause - paused)) 0 "ms from the pause's release to the unpause"
grep -q 'adopted from a previous supervisor (id [0-9]*), which had paused it' \
    "$SUPLOG" || fail "the successor did not adopt the paused VM"
client_end 1
assert_eq "$RC" 0 "the session's exit status ($(client_err 1))"

wait_for 60 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start calls"
assert_eq "$(vmctl_calls 'stop ubuntu$')" 1 "vmctl stop calls"
last_unpause=$(grep -E 'CMD: unpause ubuntu$' "$VMD/log" | tail -1 |
    cut -d' ' -f1)
stop=$(vmctl_call_ms 'stop ubuntu$')
assert_ge $((stop - last_unpause)) 0 "ms from the last unpause to the stop"
