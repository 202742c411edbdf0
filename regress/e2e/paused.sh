#!/bin/sh
# A paused (or waiting, or unknown) VM: a clear error naming the state;
# vmlaunch neither starts nor stops it.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
vm_start_by_hand ubuntu
supervisor_start

for st in paused waiting unknown; do
	"$DOUBLE" __set ubuntu state $st
	assert_eq "$(vm_state ubuntu)" $st "the double's state"
	run_proxy ubuntu.vm 22
	assert_eq "$RC" 255 "$st: exit status"
	last=$(echo "$ERR" | tail -n 1)
	assert_match "$last" "^vmlaunch: ubuntu: " "$st: the last stderr line"
	assert_match "$last" "$st" "$st: the last stderr line names the state"
	assert_eq "$OUT" "" "$st: stdout"
done
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls (by hand)"
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls"
