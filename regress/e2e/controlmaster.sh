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
# The master persists 3s after its last client, then the idle timeout,
# 2s, counts from the master's exit: the VM lives while the master does.
wait_for 30 not alive "$master"
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls while the master lived"
assert_ge "$(($(now_ms) - last))" 1000 "ms the master outlived its last use"
wait_for 30 vmctl_called 'stop ubuntu$'
gap=$(log_gap 'vm ubuntu: session [0-9]+ ended, 0 open' \
    'vm ubuntu: stopping it: no session for 2s') || fail "no idle stop logged"
assert_ge "$gap" 1990 "ms of idle countdown before the stop (idle timeout 2s)"
ssh -F "$SSHCFG" -O check ubuntu.vm 2>/dev/null &&
    fail "the ControlMaster still runs"
wait_for 10 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
