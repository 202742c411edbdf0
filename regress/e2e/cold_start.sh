#!/bin/sh
# Cold start: no supervisor, the VM stopped.  ssh starts it (the client
# starts a supervisor), waits for the guest, and runs the command there.
# A similarly named VM that runs already must not be mistaken for it.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu boot_delay 1
add_vm xubuntu
add_vm ubuntu2
conf_begin; conf_vm ubuntu; conf_vm xubuntu; conf_vm ubuntu2; conf_end
vm_start_by_hand xubuntu

assert_eq "$(vm_state ubuntu)" stopped "state before"
# shellcheck disable=SC2016
run_ssh ubuntu.vm 'echo hello; echo "guest=$VMLAUNCH_GUEST"; echo "conn=$SSH_CONNECTION"'
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$(echo "$OUT" | sed -n 1p)" hello "first line of output"
assert_eq "$(echo "$OUT" | sed -n 2p)" guest=ubuntu "the guest that ran it"
assert_contains "$(echo "$OUT" | sed -n 3p)" \
    "$(vm_addr ubuntu) $(vm_port ubuntu)" "SSH_CONNECTION, the guest sshd"
grep -q "Accepted publickey" "$VMD/vm/ubuntu/guest.log" ||
    fail "the guest sshd did not log the key login"
# Progress while booting: plain lines (stderr is not a terminal).
assert_match "$ERR" "^vmlaunch: ubuntu: " "progress lines on stderr"
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start ubuntu calls"
assert_eq "$(vmctl_calls 'start')" 2 "vmctl start calls (hand + vmlaunch)"
assert_eq "$(vm_state ubuntu)" running "state after"
assert_eq "$(vm_state ubuntu2)" stopped "the other VM, after"
assert_eq "$(vmlaunch_pids | wc -l)" 1 "vmlaunch processes left (the supervisor)"
