#!/bin/sh
# SIGTERM: the supervisor stops the VMs it started, and nothing else,
# then exits.
. "$(dirname "$0")/../lib.sh"
test_init
CONF_IDLE=1h
add_vm mine
add_vm manual
conf_begin; conf_vm mine; conf_vm manual; conf_end
vm_start_by_hand manual
supervisor_start

run_ssh mine.vm echo one
assert_eq "$RC" 0 "ssh mine exit status (stderr: $ERR)"
run_ssh manual.vm echo two
assert_eq "$RC" 0 "ssh manual exit status (stderr: $ERR)"
kill -TERM "$SUP_PID"
wait_for 15 not alive "$SUP_PID"
wait "$SUP_PID"
rc=$?
assert_eq "$rc" 0 "the supervisor's exit status"
assert_eq "$(vm_state mine)" stopped "the VM vmlaunch started"
assert_eq "$(vm_state manual)" running "the VM started by hand"
assert_eq "$(vmctl_calls 'stop( -[fw]+)* manual$')" 0 "vmctl stop manual calls"
assert_ge "$(vmctl_calls 'stop( -[fw]+)* mine$')" 1 "vmctl stop mine calls"
