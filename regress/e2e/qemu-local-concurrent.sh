#!/bin/sh
# Real VM, "address local", many cold clients at once: 8 ssh started
# together against the stopped VM produce exactly one "vmctl start" and
# one boot, and all 8 run their command in the guest.  The VM's id is
# above 255, so the address vmlaunch computes from the id that vmctl
# status shows spills into the second octet (id 300: 100.65.44.3), and
# every session reached sshd at that address.  Then the idle timeout
# powers the VM off through ACPI (no "stop -f"), its tap and address gone.
# One boot.  Root and QEMU, else a loud skip.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../qemulib.sh"
qemu_need
test_init
qemu_init
N=8
vm=qlocal$$
id=$(qemu_id 401 650)
guest=$(qemu_addr "$id" 1)
assert_eq "$guest" "100.$((64 + id / 256)).$((id % 256)).3" \
    "the test's own address arithmetic"
qemu_define $vm id="$id"
qemu_conf_begin; qemu_conf_vm $vm "address local"; conf_end
supervisor_start

client_done() {
	[ -f "$T/c.$1.rc" ]
}

all_done() {
	_i=1
	while [ $_i -le $N ]; do
		client_done $_i || return 1
		_i=$((_i + 1))
	done
}

t0=$(now_ms)
i=1
while [ $i -le $N ]; do
	# shellcheck disable=SC2016
	( timeout -k 5 "$SSH_TIMEOUT" ssh -F "$SSHCFG" $vm.vm \
	    'echo "$(hostname) $SSH_CONNECTION"' </dev/null \
	    >"$T/c.$i.out" 2>"$T/c.$i.err"
	  echo $? >"$T/c.$i.rc.tmp" && mv "$T/c.$i.rc.tmp" "$T/c.$i.rc" ) &
	register_pid $!
	i=$((i + 1))
done
wait_for $((SSH_TIMEOUT + 10)) all_done
t1=$(now_ms)
qemu_check_running $vm "$id"
msg "$N cold ssh: all done $((t1 - t0)) ms after the first; QEMU $QPID on $QTAP"

i=1
while [ $i -le $N ]; do
	assert_eq "$(cat "$T/c.$i.rc")" 0 "client $i exit status (stderr: $(cat "$T/c.$i.err"))"
	assert_match "$(cat "$T/c.$i.out")" "^$vm .* $guest 22\$" \
	    "client $i: the guest's hostname and sshd's address"
	i=$((i + 1))
done
assert_eq "$(qemu_calls "start $vm")" 1 "vmctl start calls"
assert_eq "$(qemu_calls "start.*")" 1 "vmctl start calls of any VM"
line=$(grep "vm $vm: guest .* ready after" "$SUPLOG") ||
    fail "the supervisor did not log the guest ready"
assert_contains "$line" "guest $guest:22 ready after" "the supervisor's ready line"
assert_eq "$(echo "$line" | wc -l)" 1 "ready lines"
# All of them were cold: every request came while the VM was not ready.
assert_eq "$(sed "/vm $vm: guest .* ready after/q" "$SUPLOG" |
    grep -c "vm $vm: session request")" $N "session requests before ready"
msg "${line##*: }"

qemu_check_acpi_stop $vm "$id"
msg "idle stop: QEMU gone $(($(now_ms) - t1)) ms after the last ssh ended"
exit 0
