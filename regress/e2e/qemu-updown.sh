#!/bin/sh
# Real VM, vmlaunch -u and -x: -u boots the tiny Linux guest under QEMU
# and exits 0 once its sshd answers, with no session left; ssh then logs
# in with no second start.  -x refuses while that ssh is open (exit 1,
# one session) and, once it closed, powers the guest off through ACPI:
# exit 0 when QEMU is gone, the tap and its address with it.  Root and
# QEMU, else a loud skip.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../qemulib.sh"
qemu_need
test_init
qemu_init
vm=qupdn$$
id=$(qemu_id 1301 1450)
guest=$(qemu_addr "$id" 1)
qemu_define $vm id="$id"
CONF_IDLE=10m qemu_conf_begin
qemu_conf_vm $vm "address tap"
conf_end
supervisor_start

t0=$(now_ms)
timeout -k 5 150 "$VMLAUNCH" -u -f "$CONF" $vm.vm </dev/null \
    >"$T/u.out" 2>"$T/u.err"
assert_eq "$?" 0 "-u: exit status ($(cat "$T/u.err"))"
msg "-u: $(($(now_ms) - t0)) ms"
assert_eq "$(tail -n 1 "$T/u.err")" "vmlaunch: $vm: ready, $guest:22" \
    "-u: the last line"
qemu_check_running $vm "$id"
wait_for 10 sup_state_is $vm idle

session_open 1 $vm.vm
session_wait_up 1 60
assert_eq "$(qemu_calls "start $vm")" 1 "vmctl start calls"
"$VMLAUNCH" -x -f "$CONF" $vm.vm 2>"$T/x.err"
assert_eq "$?" 1 "-x with a session open: exit status"
assert_eq "$(noprogress "$(cat "$T/x.err")")" \
    "vmlaunch: $vm: 1 session open, not stopped (vmlaunch -X stops it anyway)" \
    "-x with a session open"
session_close 1

timeout -k 5 150 "$VMLAUNCH" -x -f "$CONF" $vm.vm </dev/null \
    >"$T/x.out" 2>"$T/x.err"
assert_eq "$?" 0 "-x: exit status ($(cat "$T/x.err"))"
assert_eq "$(tail -n 1 "$T/x.err")" "vmlaunch: $vm: stopped" "-x: the last line"
not alive "$QPID" || fail "QEMU still runs once -x returned"
qemu_check_acpi_stop $vm "$id"
