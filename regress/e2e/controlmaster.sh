#!/bin/sh
# ControlMaster with ControlPersist: the session is the master's lifetime,
# so the VM stops "idle timeout" after the master exits (ControlPersist
# after its last use), and commands through the master run no vmctl.
. "$(dirname "$0")/../lib.sh"
test_init
write_ssh_config "ControlMaster auto" "ControlPath $T/cm-%C" \
    "ControlPersist 3s"
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

run_ssh ubuntu.vm echo one
assert_eq "$RC" 0 "first ssh exit status (stderr: $ERR)"
assert_eq "$OUT" one "first output"
master=$(ssh -F "$SSHCFG" -O check ubuntu.vm 2>&1 |
    sed -n 's/.*Master running (pid=\([0-9]*\)).*/\1/p')
[ -n "$master" ] || fail "no ControlMaster running after the first ssh"
n=$(vmctl_calls '')
run_ssh ubuntu.vm echo two
last=$(now_ms)
assert_eq "$RC" 0 "second ssh exit status (stderr: $ERR)"
assert_eq "$OUT" two "second output"
assert_eq "$(vmctl_calls '')" "$n" "vmctl calls through the master"
# The master persists 3s after its last client (ssh counts whole
# seconds, so 2 to 3s), then the idle timeout, 2s.
wait_for 10 not alive "$master"
gone=$(now_ms)
assert_ge $((gone - last)) 1900 "ms the master persisted"
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls while the master lived"
wait_for 10 vmctl_called 'stop ubuntu$'
stop=$(vmctl_call_ms 'stop ubuntu$')
assert_ge $((stop - gone)) 1800 "ms from the master's exit to vmctl stop"
assert_le $((stop - gone)) 5000 "ms from the master's exit to vmctl stop"
ssh -F "$SSHCFG" -O check ubuntu.vm 2>/dev/null &&
    fail "the ControlMaster still runs"
wait_for 10 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
