#!/bin/sh
# "address local" for real: the guest address is computed from the vm id
# that vmctl status shows, as vmd does (100.64.0.0/10, a /31 per
# interface; an id above 255 spills into the second octet).
. "$(dirname "$0")/../lib.sh"
need_root "network namespaces and veth pairs"
test_init
vm=local$$	# interfaces are global: a name unique to this run
id=$(random_in 256 400)
netns_guest $vm "$id"
expect=$GUEST_ADDR
assert_eq "$expect" "100.65.$((id - 256)).3" "the test's own address arithmetic"
eval "ADDR_$vm=local"
conf_begin; conf_vm $vm "boot wait 5s"; conf_end
supervisor_start

# shellcheck disable=SC2016
run_ssh $vm.vm 'echo hello; echo "conn=$SSH_CONNECTION"'
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$(echo "$OUT" | sed -n 1p)" hello "output"
assert_contains "$(echo "$OUT" | sed -n 2p)" " $expect 22" \
    "SSH_CONNECTION: the computed guest address"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
