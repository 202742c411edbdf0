#!/bin/sh
# A VM that vmlaunch started loses its guest (sshd ends, the VM runs on):
# the next ssh fails after boot wait with one line, and vmlaunch stops
# the VM it started instead of forgetting it.  Then the same with vmctl
# failing when the next ssh makes vmlaunch look again: that ssh fails,
# and the VM is still stopped after its idle timeout once vmctl works.
# (Before: the VM was marked stopped while it ran, or left "ready" with
# no idle timer: never stopped.)
. "$(dirname "$0")/../lib.sh"
test_init
CONF_IDLE=4s CONF_BOOT=3s
add_vm ubuntu guest_child 1
conf_begin; conf_vm ubuntu; conf_end
: >"$VMD/no_rate_limit"
supervisor_start

run_ssh ubuntu.vm true
assert_eq "$RC" 0 "the first ssh (stderr: $ERR)"
"$DOUBLE" __guest_kill ubuntu
wait_for 10 not guest_answers ubuntu
run_ssh ubuntu.vm true
assert_eq "$RC" 255 "ssh to the VM without its guest"
assert_match "$ERR" 'did not answer within 3s' "its message"
wait_for 30 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start calls"
assert_ge "$(vmctl_calls 'stop( -f)? ubuntu$')" 1 "vmctl stop calls"
wait_for 10 sup_state_is ubuntu stopped

# Again, and vmctl fails when the next ssh makes vmlaunch look.
run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh after the stop (stderr: $ERR)"
assert_eq "$(vmctl_calls 'start ubuntu$')" 2 "vmctl start calls"
stops=$(vmctl_calls 'stop( -f)? ubuntu$')
"$DOUBLE" __guest_kill ubuntu
wait_for 10 not guest_answers ubuntu
"$DOUBLE" __global novmd
run_ssh ubuntu.vm true
assert_eq "$RC" 255 "ssh while vmctl fails"
assert_match "$ERR" 'vmd.sock' "its message"
"$DOUBLE" __rmglobal novmd
wait_for 30 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start ubuntu$')" 2 "vmctl start calls"
assert_ge "$(vmctl_calls 'stop( -f)? ubuntu$')" $((stops + 1)) "vmctl stop calls"
