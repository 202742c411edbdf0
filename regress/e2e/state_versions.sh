#!/bin/sh
# Every version of the state file is read.  Version 2 (vm lines without
# the word "vm"): the VM is adopted and stopped when idle.  Version 3
# with a hold: the VM is adopted and held until the hold is released.
# Version 3 with a VM paused by a predecessor: adopted paused, resumed by
# an ssh (vmctl unpause by vmlaunch), stopped when idle.  A paused line
# in a version 2 file is malformed: ignored, nothing adopted.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
CONF_IDLE=3s conf_begin
conf_vm ubuntu "idle pause 1s"
conf_end
STATE=$T/state

by_hand() {	# the VM runs, started by hand; ID
	vm_start_by_hand ubuntu
	ID=$(VMCTL_DOUBLE_FORMAT=new "$DOUBLE" status ubuntu |
	    awk '$NF == "ubuntu" { print $1 }')
	[ -n "$ID" ] || fail "no id for ubuntu"
}
state() {	# contents
	printf "$1" >"$STATE"
	chmod 600 "$STATE"
	: >"$SUPLOG"
}
cell_end() {
	kill -TERM "$SUP_PID" 2>/dev/null
	wait_for 15 not alive "$SUP_PID"
	if ! vm_state_is ubuntu stopped; then
		"$DOUBLE" stop -f ubuntu 2>/dev/null
		wait_for 10 vm_state_is ubuntu stopped
	fi
}

by_hand
state "version 2\nubuntu running $ID $(date +%s)\n"
supervisor_start
wait_for 10 grep -q 'vm ubuntu: adopted from a previous supervisor' "$SUPLOG"
wait_for 20 vm_state_is ubuntu stopped
cell_end

by_hand
state "version 3\nvm ubuntu running $ID $(date +%s)\nhold ubuntu never\n"
supervisor_start
wait_for 10 grep -q 'vm ubuntu: adopted from a previous supervisor' "$SUPLOG"
hold_for 8000 vm_state_is ubuntu running
"$VMLAUNCH" -s -f "$CONF" | grep -qx '    hold: until released' ||
    fail "version 3: no hold in vmlaunch -s"
"$VMLAUNCH" -k 0 -f "$CONF" ubuntu.vm 2>/dev/null || fail "-k 0"
wait_for 20 vm_state_is ubuntu stopped
cell_end

by_hand
"$DOUBLE" pause ubuntu 2>/dev/null || fail "vmctl pause by hand"
state "version 3\nvm ubuntu paused $ID $(date +%s)\n"
supervisor_start
wait_for 10 grep -q 'vm ubuntu: adopted from a previous supervisor .*, which had paused it' \
    "$SUPLOG"
wait_for 5 sup_state_is ubuntu paused
run_ssh ubuntu.vm echo resumed
assert_eq "$RC" 0 "version 3, paused: ssh (stderr: $ERR)"
assert_ge "$(vmctl_calls 'unpause ubuntu$')" 1 "vmctl unpause calls"
wait_for 30 vm_state_is ubuntu stopped
cell_end

by_hand
"$DOUBLE" pause ubuntu 2>/dev/null || fail "vmctl pause by hand"
state "version 2\nubuntu paused $ID $(date +%s)\n"
supervisor_start
wait_for 10 grep -q 'state file .*malformed line ignored' "$SUPLOG"
hold_for 4000 vm_state_is ubuntu paused
grep -q 'adopted from a previous supervisor' "$SUPLOG" &&
    fail "version 2 with a paused line: adopted"
exit 0
