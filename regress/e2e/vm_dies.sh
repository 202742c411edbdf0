#!/bin/sh
# A VM that dies while booting fails its client at once, with the
# reason, well before the boot wait (30s and 60s here): early in its
# boot (the status is watched every second then), and late in a long
# boot, where the watch has backed off to every quarter of the time
# booted, at most 4 s (boot.c, boot_watch_ms): dead at ~10 s, the client
# hears of it by about 14 s.  The limits only say "long before the boot
# wait", with room for a loaded machine: 20 s of 30, 40 s of 60.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu die_after 1 boot_delay 20
add_vm late die_after 10 boot_delay 60
conf_begin
conf_vm ubuntu "boot wait 30s"
conf_vm late "boot wait 60s"
conf_end
supervisor_start

for vm in ubuntu late; do
	case $vm in
	ubuntu)	limit=20000 ;;
	late)	limit=40000 ;;
	esac
	t0=$(now_ms)
	run_proxy $vm.vm 22
	t1=$(now_ms)
	msg "$vm: failed after $((t1 - t0)) ms"
	assert_eq "$RC" 255 "$vm: exit status"
	assert_le $((t1 - t0)) $limit "$vm: ms until the error (boot wait" \
	    "is much longer)"
	last=$(echo "$ERR" | tail -n 1)
	assert_match "$last" "^vmlaunch: $vm: " "$vm: the last stderr line"
	assert_match "$last" 'stopped|died|exited|no longer|not running|gone' \
	    "$vm: the reason in the last stderr line"
	assert_eq "$(vmctl_calls "start $vm\$")" 1 "$vm: vmctl start calls"
	assert_eq "$(vm_state $vm)" stopped "$vm: state after"
done
