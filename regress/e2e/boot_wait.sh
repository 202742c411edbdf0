#!/bin/sh
# Boot wait expiry, for a guest that never listens and for one that
# accepts TCP but never sends a banner: exit 255 with the exact line,
# after the boot wait and not much later, through the ProxyCommand alone
# and through ssh; the VM vmlaunch started is stopped again each time.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm quiet nolisten
add_vm mute nobanner
conf_begin
conf_vm quiet "boot wait 2s"
conf_vm mute "boot wait 2s"
conf_end
supervisor_start

for vm in quiet mute; do
	line="vmlaunch: $vm: guest $(vm_addr $vm):$(vm_port $vm) did not answer within 2s"
	t0=$(now_ms)
	run_proxy $vm.vm 22
	t1=$(now_ms)
	assert_eq "$RC" 255 "$vm: exit status"
	assert_eq "$(echo "$ERR" | tail -n 1)" "$line" "$vm: the last stderr line"
	assert_eq "$OUT" "" "$vm: stdout"
	assert_ge $((t1 - t0)) 1900 "$vm: ms until the error"
	assert_le $((t1 - t0)) 30000 "$vm: ms until the error"
	wait_for 10 vm_state_is $vm stopped
	assert_ge "$(vmctl_calls "stop $vm")" 1 "$vm: vmctl stop calls"

	run_ssh $vm.vm echo hello
	assert_eq "$RC" 255 "$vm: ssh exit status"
	assert_contains "$ERR" "$line" "$vm: ssh stderr"
	assert_eq "$OUT" "" "$vm: ssh stdout"
	wait_for 10 vm_state_is $vm stopped
	assert_ge "$(vmctl_calls "stop $vm")" 2 "$vm: vmctl stop calls after ssh"
done
