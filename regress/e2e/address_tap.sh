#!/bin/sh
# "address tap" for real: the guest is at the address of the interface
# whose description is vm<ID>-if0-ubuntu, plus one; here a veth whose
# other end, in a network namespace, holds the guest sshd.  A decoy
# interface for "ubuntu-old" must not be taken for it.
. "$(dirname "$0")/../lib.sh"
need_root "network namespaces and veth pairs"
test_init
id=$(random_in 100 250)
netns_guest ubuntu "$id"
decoy=$(random_in 100 250)
[ "$decoy" = "$id" ] && decoy=$((id == 250 ? 100 : id + 1))
netns_guest ubuntu-old "$decoy"
"$DOUBLE" __set ubuntu-old nolisten
ADDR_ubuntu=tap
conf_begin; conf_vm ubuntu "boot wait 5s"; conf_end
supervisor_start

# shellcheck disable=SC2016
run_ssh ubuntu.vm 'echo hello; echo "guest=$VMLAUNCH_GUEST"; echo "conn=$SSH_CONNECTION"'
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$(echo "$OUT" | sed -n 1p)" hello "output"
assert_eq "$(echo "$OUT" | sed -n 2p)" guest=ubuntu "the guest"
assert_contains "$(echo "$OUT" | sed -n 3p)" " 100.64.$id.3 22" \
    "SSH_CONNECTION: the guest address in the namespace"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
wait_for 10 vm_state_is ubuntu stopped
