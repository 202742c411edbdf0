#!/bin/sh
# The state file is corrupt (random bytes with a NUL), truncated, in an
# older format, or owned by someone else, and in each case names the VM
# that in truth was started by hand.  The supervisor starts, logs what it
# did about the file, serves a session, and never stops that VM, which
# ends running with no vmctl stop.  A correct file naming it (the control
# case) is adopted, which proves the test can see an adoption.
. "$(dirname "$0")/../lib.sh"
test_init
CONF_IDLE=1s
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
vm_start_by_hand ubuntu
STATE=$T/state
ID=$(VMCTL_DOUBLE_FORMAT=new "$DOUBLE" status ubuntu |
    awk '$NF == "ubuntu" { print $1 }')
[ -n "$ID" ] || fail "no id for ubuntu"

case_run() {	# name ERE-logged
	: >"$SUPLOG"
	supervisor_start
	wait_for 10 grep -qE -- "$2" "$SUPLOG"
	run_ssh ubuntu.vm echo hello
	assert_eq "$RC" 0 "$1: ssh exit status (stderr: $ERR)"
	assert_eq "$OUT" hello "$1: output"
	# Idle timeout 1s: give it four to do the wrong thing.
	hold_for 4000 vm_state_is ubuntu running
	assert_eq "$(vmctl_calls 'stop')" 0 "$1: vmctl stop calls"
	grep -q 'adopted from a previous supervisor' "$SUPLOG" &&
	    fail "$1: the supervisor adopted the VM"
	msg "$1: $(grep -E -- "$2" "$SUPLOG" | head -n 1)"
	# It may have exited already: nothing of its own to watch.
	kill -TERM "$SUP_PID" 2>/dev/null
	wait_for 15 not alive "$SUP_PID"
	assert_eq "$(vm_state ubuntu)" running "$1: after SIGTERM"
}

printf 'version 1\n\001\377started ubuntu %s\000garbage\n' "$ID" >"$STATE"
chmod 600 "$STATE"
case_run corrupt 'state file .*(NUL|malformed|ignored)'

printf 'version 1\nstarted ubuntu' >"$STATE"
case_run truncated 'state file .*(malformed|ignored)'

printf 'ver' >"$STATE"
case_run "truncated in the version" 'state file .*(version|ignored)'

# An older format: no version line, or version 0.
printf 'ubuntu\n' >"$STATE"
case_run "no version line" 'state file .*(version|ignored)'
printf 'version 0\nstarted ubuntu %s\n' "$ID" >"$STATE"
case_run "version 0" 'state file .*version'

# Writable by others, then owned by someone else: well formed, still
# not to be believed.
printf 'version 1\nstarted ubuntu %s\n' "$ID" >"$STATE"
chmod 622 "$STATE"
case_run "writable by others" 'state file .*writable'
if [ "$(id -u)" = 0 ]; then
	chmod 600 "$STATE"
	chown nobody "$STATE"
	case_run "owned by nobody" 'state file .*owned by uid'
	chown 0 "$STATE"
else
	msg "SKIPPED PART: state file owned by another uid (needs root)"
fi

# Control: a correct file is believed, so the VM is adopted and stopped.
rm -f "$STATE"
printf '# vmlaunch state\nversion 1\nstarted ubuntu %s\n' "$ID" >"$STATE"
chmod 600 "$STATE"
: >"$SUPLOG"
supervisor_start
wait_for 10 grep -q 'adopted from a previous supervisor' "$SUPLOG"
wait_for 15 vm_state_is ubuntu stopped
