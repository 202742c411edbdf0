#!/bin/sh
# Ownership is not given up by accident.  (a) A `vmctl start` that starts
# the VM but does not return within `vmctl timeout`: vmlaunch looks
# again, finds the VM running, serves the session and later stops the
# VM as its own.  (b) One spurious "stopped" row while the VM boots
# does not end ownership either.  (Before: the timed-out start was a
# failure and the VM "not started by vmlaunch", never stopped; the odd
# row failed the client and dropped the VM.)
. "$(dirname "$0")/../lib.sh"
test_init
CONF_BOOT=20s
add_vm ubuntu
conf_begin 'vmctl timeout 4s'; conf_vm ubuntu; conf_end
: >"$VMD/no_rate_limit"
supervisor_start

# (a)
"$DOUBLE" __set ubuntu start_hang
run_ssh ubuntu.vm echo slow
assert_eq "$RC" 0 "(a): ssh through the slow start (stderr: $ERR)"
assert_eq "$OUT" slow "(a): its output"
"$DOUBLE" __unset ubuntu start_hang
wait_for 30 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "(a): vmctl start calls"
assert_eq "$(vmctl_calls 'stop ubuntu$')" 1 "(a): vmctl stop calls"

# (b)
"$DOUBLE" __set ubuntu boot_delay 2
gate_close 'start ubuntu'
client_bg 1
gate_wait 'start ubuntu'
"$DOUBLE" __set ubuntu spurious_stopped
gate_open 'start ubuntu'
wait_for 30 client_got_banner 1
[ -f "$VMD/vm/ubuntu/spurious_stopped" ] &&
    fail "(b): no status saw the spurious row"
client_end 1
wait_for 30 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start ubuntu$')" 2 "(b): vmctl start calls"
assert_eq "$(vmctl_calls 'stop ubuntu$')" 2 "(b): vmctl stop calls"
