#!/bin/sh
# vmctl missing, not executable, killed by a signal (on every command,
# and on start only), and printing a status row for another VM with a
# similar name.  Each time the ProxyCommand fails with exit 255 and one
# line naming the VM, nothing is started or stopped (ubuntu stays
# stopped, ubuntu-dev stays running), the supervisor survives, and once
# vmctl is sane again the next ssh works.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
add_vm ubuntu-dev
mkdir "$T/bin"
VMCTL=$T/bin/vmctl
conf_begin "vmctl \"$VMCTL\"" "vmctl timeout 5s"
conf_vm ubuntu; conf_vm ubuntu-dev
# The double's own vmctl line comes first in conf_begin; keep ours.
grep -v "^vmctl \"$DOUBLE" "$CONF.new" >"$CONF.tmp" && mv "$CONF.tmp" "$CONF.new"
conf_end
vm_start_by_hand ubuntu-dev

sane() {
	cat >"$VMCTL" <<SH
#!/bin/sh
exec "$DOUBLE" -D "$VMD" "\$@"
SH
	chmod 755 "$VMCTL"
}
crash() {	# [subcommand]: killed by SIGSEGV, on that one or on all
	cat >"$VMCTL" <<SH
#!/bin/sh
if [ -z "$1" ] || [ "\$1" = "$1" ]; then
	echo "vmctl-fault: crashing on \$1" >>"$T/crashes"
	kill -SEGV \$\$
fi
exec "$DOUBLE" -D "$VMD" "\$@"
SH
	chmod 755 "$VMCTL"
}
similar() {	# status lists every VM but ubuntu: ubuntu-dev, running
	cat >"$VMCTL" <<SH
#!/bin/sh
if [ "\$1" = status ]; then
	"$DOUBLE" -D "$VMD" status | awk 'NR == 1 || \$NF != "ubuntu"'
	exit 0
fi
exec "$DOUBLE" -D "$VMD" "\$@"
SH
	chmod 755 "$VMCTL"
}

fails() {	# what ERE: the ProxyCommand fails cleanly
	run_proxy ubuntu.vm 22
	assert_eq "$RC" 255 "$1: exit status"
	assert_match "$(echo "$ERR" | tail -n 1)" '^vmlaunch: ubuntu: ' \
	    "$1: the last stderr line"
	assert_match "$(echo "$ERR" | tail -n 1)" "$2" "$1: the last stderr line"
	assert_eq "$OUT" "" "$1: stdout (never a guest's banner)"
	alive "$SUP_PID" || fail "$1: the supervisor died"
	assert_eq "$(vmctl_calls 'start')" 1 "$1: vmctl start calls (by hand)"
	assert_eq "$(vmctl_calls 'stop')" 0 "$1: vmctl stop calls"
	assert_eq "$(vm_state ubuntu)" stopped "$1: ubuntu's state"
	assert_eq "$(vm_state ubuntu-dev)" running "$1: ubuntu-dev's state"
	msg "$1: $(echo "$ERR" | tail -n 1)"
}
works() {	# what: the next ssh works (and starts ubuntu: stop it after)
	sane
	run_ssh ubuntu.vm echo hello
	assert_eq "$RC" 0 "after $1: ssh exit status (stderr: $ERR)"
	assert_eq "$OUT" hello "after $1: output"
}

rm -f "$VMCTL"
supervisor_start
fails "vmctl missing" "$VMCTL|No such file|not found"
chmod 644 "$VMCTL" 2>/dev/null || { echo '#!/bin/sh' >"$VMCTL"; chmod 644 "$VMCTL"; }
fails "vmctl not executable" "$VMCTL|[Pp]ermission denied|not executable"
crash
fails "vmctl killed by SIGSEGV" "signal|SEGV|Segmentation"
grep -q 'crashing on status' "$T/crashes" || fail "the crashing vmctl never ran"
similar
fails "status lists only ubuntu-dev" "not list|no vm|unknown|not found|absent"

# The start itself crashes: the VM ends stopped, the client says why.
crash start
fails "vmctl start killed by SIGSEGV" "signal|SEGV|Segmentation|start"
grep -q 'crashing on start' "$T/crashes" || fail "the crashing start never ran"

works "all of it"
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start ubuntu calls"
assert_eq "$(vmctl_calls 'stop( -[fw]+)* ubuntu-dev$')" 0 \
    "vmctl stop ubuntu-dev calls"
assert_eq "$(vm_state ubuntu-dev)" running "ubuntu-dev at the end"
# ubuntu was started by vmlaunch: it stops when idle.
wait_for 20 vm_state_is ubuntu stopped
