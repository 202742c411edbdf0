#!/bin/sh
# "address tap" for real: the guest is at the address of the interface
# whose description is vm<ID>-if0-ubuntu, plus one; here a veth whose
# other end, in a network namespace, holds the guest sshd.  A decoy
# interface for "<name>-old" must not be taken for it.  Interfaces are
# global, so the VM name is unique to this run (parallel tests, other
# users of the host).
. "$(dirname "$0")/../lib.sh"
need_root "network namespaces and veth pairs"
test_init
vm=tap$$
id=$(random_in 100 250)
netns_guest $vm "$id"
decoy=$(random_in 100 250)
[ "$decoy" = "$id" ] && decoy=$((id == 250 ? 100 : id + 1))
netns_guest $vm-old "$decoy"
"$DOUBLE" __set $vm-old nolisten
eval "ADDR_$vm=tap"
conf_begin; conf_vm $vm "boot wait 5s"; conf_end
supervisor_start

# shellcheck disable=SC2016
run_ssh $vm.vm 'echo hello; echo "guest=$VMLAUNCH_GUEST"; echo "conn=$SSH_CONNECTION"'
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$(echo "$OUT" | sed -n 1p)" hello "output"
assert_eq "$(echo "$OUT" | sed -n 2p)" guest=$vm "the guest"
assert_contains "$(echo "$OUT" | sed -n 3p)" " 100.64.$id.3 22" \
    "SSH_CONNECTION: the guest address in the namespace"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
wait_for 10 vm_state_is $vm stopped
