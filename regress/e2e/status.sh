#!/bin/sh
# vmlaunch -s: without a supervisor (vmctl's view), and with one: state,
# sessions, started by vmlaunch or not, idle time left, guest address.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
add_vm manual
# ubuntu's idle timeout is long enough that -s, run after the session
# closed, finds the countdown still running on a loaded machine.
conf_begin; conf_vm ubuntu "idle timeout 40s"
conf_vm manual "idle timeout never"; conf_end
vm_start_by_hand manual

out=$("$VMLAUNCH" -s -f "$CONF" 2>"$T/s.err") ||
    fail "vmlaunch -s without a supervisor failed: $(cat "$T/s.err")"
assert_match "$out" '^NAME +VMD +STATE' "header"
assert_match "$out" '^ubuntu +stopped ' "ubuntu row without a supervisor"
assert_match "$out" '^manual +running ' "manual row without a supervisor"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"

supervisor_start
session_open 1 ubuntu.vm
session_wait_up 1
out=$("$VMLAUNCH" -s -f "$CONF" 2>"$T/s.err") ||
    fail "vmlaunch -s failed: $(cat "$T/s.err")"
msg "$out"
row=$(echo "$out" | grep '^ubuntu ')
assert_match "$row" '^ubuntu +running +ready +1 +yes +- ' "ubuntu row in a session"
assert_match "$row" " $(vm_addr ubuntu)(:$(vm_port ubuntu))?\$" "ubuntu's address"
session_close 1
wait_for 15 sh -c "'$VMLAUNCH' -s -f '$CONF' | grep -qE '^ubuntu +running +idle +0 +yes +([1-9]|[1-3][0-9]|40)s '"
out=$("$VMLAUNCH" -s -f "$CONF")
row=$(echo "$out" | grep '^manual ')
assert_match "$row" '^manual +running ' "manual row"
assert_match "$row" ' no ' "manual row: not started by vmlaunch"
