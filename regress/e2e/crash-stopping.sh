#!/bin/sh
# No VM is left stuck in "stopping".  (a) kill -9 of the supervisor just
# after its `vmctl stop` of a guest that ignores the power button: the
# next supervisor finishes the stop, forcing it after stop wait.  (b) A
# client of a VM that someone else is stopping, and that never gets
# there, gets a clear error after stop wait instead of waiting forever.
# (Before: "is stopping; not adopted", never forced; the client waited
# at "waiting for the vm to stop first" with no deadline.)
. "$(dirname "$0")/../lib.sh"
test_init
CONF_STOP=6s
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end

# (a)
"$DOUBLE" __set ubuntu stop_hold
supervisor_start
run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh (stderr: $ERR)"
wait_for 20 vm_state_is ubuntu stopping
kill -9 "$SUP_PID"
wait_for 10 not alive "$SUP_PID"
assert_eq "$(vmctl_calls 'stop -f ubuntu$')" 0 "forced stops before the kill"
supervisor_start
wait_for 30 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'stop -f ubuntu$')" 1 "forced stops"
wait_for 10 sup_state_is ubuntu stopped
msg "(a): the new supervisor forced the stop"

# (b)
vm_start_by_hand ubuntu
"$DOUBLE" stop ubuntu 2>/dev/null
wait_for 10 vm_state_is ubuntu stopping
t0=$(now_ms)
run_proxy ubuntu.vm 22
el=$(($(now_ms) - t0))
assert_eq "$RC" 255 "(b): the client's exit status"
assert_match "$ERR" 'still stopping' "(b): the client's message"
msg "(b): the client gave up after ${el}ms: $ERR"
assert_eq "$(vm_state ubuntu)" stopping "(b): the VM (not ours to force)"
assert_eq "$(vmctl_calls 'stop -f ubuntu$')" 1 "(b): forced stops"
