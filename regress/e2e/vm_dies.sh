#!/bin/sh
# A VM that dies while booting fails its client at once, with the
# reason, well before the boot wait (30s here).
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu die_after 1 boot_delay 20
conf_begin; conf_vm ubuntu "boot wait 30s"; conf_end
supervisor_start

t0=$(now_ms)
run_proxy ubuntu.vm 22
t1=$(now_ms)
assert_eq "$RC" 255 "exit status"
assert_le $((t1 - t0)) 20000 "ms until the error (boot wait is 30s)"
last=$(echo "$ERR" | tail -n 1)
assert_match "$last" '^vmlaunch: ubuntu: ' "the last stderr line"
assert_match "$last" 'stopped|died|exited|no longer|not running|gone' \
    "the reason in the last stderr line"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
assert_eq "$(vm_state ubuntu)" stopped "state after"
