#!/bin/sh
# vmlaunch -u: boot a stopped VM now, with the progress ssh would show,
# and exit 0 once its guest is ready, saying so; no session is left open,
# so the idle countdown begins at once.  A VM that dies while booting: exit
# 1, and the last line says why.  A host that matches no VM: exit 1.  The
# wrong arguments: exit 2.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
add_vm broken die_after 0.3
# ubuntu stays up 15s unused: -s and the second -u, each a process start
# away, have to find it still running on a loaded machine.
CONF_IDLE=15s conf_begin
conf_vm ubuntu
conf_vm broken
conf_end
supervisor_start

up() {	# host: RC, ERR
	timeout -k 5 60 "$VMLAUNCH" -u -f "$CONF" "$1" </dev/null \
	    >"$T/up.out" 2>"$T/up.err"
	RC=$?
	ERR=$(cat "$T/up.err")
	assert_eq "$(cat "$T/up.out")" "" "-u $1: stdout"
}

up ubuntu.vm
msg "$ERR"
assert_eq "$RC" 0 "-u: exit status"
assert_match "$ERR" '^vmlaunch: ubuntu: (checking|starting|booting)' \
    "-u: progress, as ssh shows it"
assert_eq "$(echo "$ERR" | tail -n 1)" \
    "vmlaunch: ubuntu: ready, $(vm_addr ubuntu):$(vm_port ubuntu)" \
    "-u: the last line"
guest_answers ubuntu || fail "the guest does not answer after -u"
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start calls"
wait_for 15 sup_state_is ubuntu idle
row=$("$VMLAUNCH" -s -f "$CONF" | grep '^ubuntu ')
assert_match "$row" '^ubuntu +running +idle +0 +yes ' "-s after -u: no session"

# Up already: at once, no second start.
up ubuntu.vm
assert_eq "$RC" 0 "-u on a running vm: exit status"
assert_eq "$(noprogress "$ERR")" "vmlaunch: ubuntu: ready, $(vm_addr ubuntu):$(vm_port ubuntu)" \
    "-u on a running vm: the only line"
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start calls"
wait_for 60 vm_state_is ubuntu stopped

up broken.vm
assert_eq "$RC" 1 "-u of a VM that dies: exit status"
assert_eq "$(echo "$ERR" | tail -n 1)" \
    "vmlaunch: broken: vm stopped while booting" "-u of a VM that dies"

up nosuch.vm
assert_eq "$RC" 1 "-u of an unknown host: exit status"
assert_eq "$(noprogress "$ERR")" "vmlaunch: nosuch.vm: no vm matches this host" \
    "-u of an unknown host"

for args in "-u" "-u ubuntu.vm 22" "-u -x ubuntu.vm" "-u -n ubuntu.vm"; do
	# shellcheck disable=SC2086
	"$VMLAUNCH" -f "$CONF" $args >/dev/null 2>&1
	assert_eq "$?" 2 "vmlaunch $args: exit status"
done
