#!/bin/sh
# Boot wait expiry, guest never listens: exit 255 with the exact line,
# after the boot wait and not much later; the VM vmlaunch started is
# stopped again.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu nolisten
conf_begin; conf_vm ubuntu "boot wait 2s"; conf_end
supervisor_start

t0=$(now_ms)
run_proxy ubuntu.vm 22
t1=$(now_ms)
assert_eq "$RC" 255 "exit status"
assert_eq "$(echo "$ERR" | tail -n 1)" \
    "vmlaunch: ubuntu: guest $(vm_addr ubuntu):$(vm_port ubuntu) did not answer within 2s" \
    "the last stderr line"
assert_eq "$OUT" "" "stdout"
assert_ge $((t1 - t0)) 1900 "ms until the error"
assert_le $((t1 - t0)) 8000 "ms until the error"
wait_for 10 vm_state_is ubuntu stopped
assert_ge "$(vmctl_calls 'stop')" 1 "vmctl stop calls"

# The same through ssh.
run_ssh ubuntu.vm echo hello
assert_eq "$RC" 255 "ssh exit status"
assert_contains "$ERR" \
    "vmlaunch: ubuntu: guest $(vm_addr ubuntu):$(vm_port ubuntu) did not answer within 2s" \
    "ssh stderr"
wait_for 10 vm_state_is ubuntu stopped
