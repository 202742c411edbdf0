#!/bin/sh
# The vmd id is recorded before the guest answers: a guest that is ready
# before vmlaunch's first `vmctl status` after the start returns (every
# status after the first is held at a gate), the session ends, and the
# supervisor is killed (kill -9) while the VM waits out its idle
# timeout: the next supervisor adopts the VM and stops it.  (Before: the
# id came only from that status, so it was never recorded: "not
# adopted", the VM ran forever.)
. "$(dirname "$0")/../lib.sh"
test_init
CONF_IDLE=30s
add_vm ubuntu boot_delay 0
conf_begin; conf_vm ubuntu; conf_end
supervisor_start
gate_close 'status( ubuntu)?'
client_bg 1
gate_wait 'status( ubuntu)?'
# The first one (is it running?) goes through; the rest wait.
gate_pass 'status( ubuntu)?'
wait_for 30 client_got_banner 1
client_end 1
assert_eq "$RC" 0 "the client's exit status"
gate_held 'status( ubuntu)?' && msg "a status after the start is held"
kill -9 "$SUP_PID"
wait_for 10 not alive "$SUP_PID"
gate_open 'status( ubuntu)?'
assert_eq "$(vm_state ubuntu)" running "the VM after the kill"

CONF_IDLE=2s conf_begin; conf_vm ubuntu; conf_end
supervisor_start
wait_for 30 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start calls"
assert_eq "$(vmctl_calls 'stop ubuntu$')" 1 "vmctl stop calls"
grep -q 'adopted from a previous supervisor' "$SUPLOG" ||
    fail "the new supervisor did not log an adoption"
