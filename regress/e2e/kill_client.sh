#!/bin/sh
# kill -9 of the ProxyCommand mid-session: the session ends with it, and
# the VM still stops after the idle timeout.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

session_open 1 ubuntu.vm
session_wait_up 1
session_send 1 ping
proxy=$(ps -o pid= --ppid "$(session_pid 1)" | tr -d ' ')
[ -n "$proxy" ] || fail "no ProxyCommand under ssh"
tr '\0' ' ' </proc/"$proxy"/cmdline |
    grep -qF "${VMLAUNCH_REAL:-$VMLAUNCH}" ||
    fail "ssh's child is not vmlaunch"
kill -9 "$proxy"
wait_for 10 not alive "$(session_pid 1)"
wait_for 30 vmctl_called 'stop ubuntu$'
gap=$(log_gap 'vm ubuntu: session [0-9]+ ended, 0 open' \
    'vm ubuntu: stopping it: no session for 2s') || fail "no idle stop logged"
assert_ge "$gap" 1990 "ms of idle countdown before the stop (idle timeout 2s)"
wait_for 10 vm_state_is ubuntu stopped
