#!/bin/sh
# A VM started by hand is served but never stopped by vmlaunch.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
vm_start_by_hand ubuntu
supervisor_start

run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" hello "output"
# Ready at once: nothing on stderr but, on a slow machine, progress.
assert_eq "$(noprogress "$ERR")" "" "stderr beyond progress (the VM was ready)"
# idle timeout 2s, and more.
hold_for 5000 vm_state_is ubuntu running
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls (by hand)"
