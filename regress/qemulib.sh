# regress/qemulib.sh: helpers for the real-VM tier (regress/e2e/qemu-*.sh),
# on top of regress/lib.sh: VMs are the tiny Linux guest of regress/guest,
# run under QEMU (TCG) by the vmctl double regress/guest/vmctl-qemu, and
# reached with the real OpenSSH client, the guest's key and host key.
#
#	. "$(dirname "$0")/../lib.sh"
#	. "$(dirname "$0")/../qemulib.sh"
#	qemu_need			# SKIP (77) unless root, QEMU, /dev/net/tun
#	test_init
#	qemu_init			# build or reuse the guest: GUEST, Q
#	vm=qtap$$; id=$(qemu_id 2 99)	# an id whose addresses are free
#	qemu_define $vm id=$id
#	qemu_conf_begin; qemu_conf_vm $vm "address tap"; conf_end
#	supervisor_start
#	run_ssh $vm.vm uname -r
#
# Every VM's state lives under $Q ($T/qemu), so lib.sh's cleanup kills its
# QEMU (whose command line names $T) and the kernel removes its tap.  VM
# names carry the test's pid and ids come from a range per test, checked
# against the addresses in use: tests may run side by side, and taps,
# their descriptions and addresses are global to the host.  Id ranges in
# use: qemu-tap 2-99, address_tap 100-250, address_local 256-400,
# smoke.sh 300, qemu-local-concurrent 401-650, qemu-bootwait 651-900,
# qemu-x11 901-1150.
#
# Boots are slow under TCG (about 10 s of a core, 20 s and more under
# load), so the defaults here are generous: boot wait 90s, stop wait 60s
# (an ACPI power-off must never be forced for lack of time), ssh 150 s.

QEMU_DOUBLE=$REGRESS/guest/vmctl-qemu
SSH_TIMEOUT=${QEMU_SSH_TIMEOUT:-150}

# qemu_need: skip, loudly, when the tier cannot run here.
qemu_need() {
	need_root "the real-VM tier runs QEMU on tap interfaces"
	command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	    skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun (tap interfaces)"
	command -v ip >/dev/null 2>&1 ||
	    skip "ip missing (apt-get install iproute2)"
	command -v nc.openbsd >/dev/null 2>&1 ||
	    command -v socat >/dev/null 2>&1 ||
	    skip "nc.openbsd missing, needed for QMP (apt-get install netcat-openbsd)"
}

# qemu_init: build the guest or reuse the cached build (build.sh holds a
# lock, so tests that start together wait for one build), then the ssh
# config.  Sets GUEST (the build), KREL (its kernel release) and Q (the
# double's state directory).
qemu_init() {
	_t0=$(now_ms)
	GUEST=$("$REGRESS/guest/build.sh" 2>"$T/build.log")
	_rc=$?
	if [ $_rc != 0 ] || [ ! -f "$GUEST/done" ]; then
		grep -q 'missing packages' "$T/build.log" &&
		    skip "cannot build the guest: $(grep 'missing packages' "$T/build.log")"
		fail "regress/guest/build.sh failed: $(tail -n 5 "$T/build.log")"
	fi
	msg "guest $GUEST ($(($(now_ms) - _t0)) ms to build or find)"
	KREL=$(awk '$1 == "kernel" { print $4 }' "$GUEST/info")
	[ -n "$KREL" ] || fail "no kernel release in $GUEST/info"
	Q=$T/qemu
	mkdir -p "$Q"
	# Private copies: a rebuild by a concurrent run deletes older builds.
	cp "$GUEST/id_ed25519" "$T/guest_key" &&
	    cp "$GUEST/known_hosts" "$T/guest_known_hosts" ||
	    fail "cannot copy the guest's keys"
	chmod 600 "$T/guest_key"
	qemu_ssh_config
	# On failure, what the double and the guests saw, then lib.sh's cleanup.
	trap '_qrc=$?; _qemu_diag $_qrc; (exit $_qrc); _cleanup' EXIT
}

_qemu_diag() {	# exit status
	[ "$1" = 0 ] || [ "$1" = 77 ] || [ ! -d "${Q:-}" ] && return 0
	if [ -f "$Q/trace" ]; then
		echo "--- $TESTNAME: vmctl-qemu calls but status (time pid rc args)"
		grep -v ' status' "$Q/trace" | tail -n 20
	fi
	for _g in "$Q"/vm/*/console.log; do
		[ -f "$_g" ] || continue
		echo "--- $TESTNAME: $_g (last 20 lines)"
		tail -n 20 "$_g"
	done
	for _g in "$Q"/vm/*/qemu.log; do
		[ -s "$_g" ] || continue
		echo "--- $TESTNAME: $_g"
		tail -n 5 "$_g"
	done
	return 0
}

# qemu_ssh_config [extra lines]: the real client, root in the guest with the
# build's key, and the guest's host key strictly checked.
qemu_ssh_config() {
	{
		echo "Host *"
		echo "	ProxyCommand $VMLAUNCH -f $CONF %h %p"
		echo "	User root"
		echo "	IdentityFile $T/guest_key"
		echo "	IdentitiesOnly yes"
		echo "	UserKnownHostsFile $T/guest_known_hosts"
		echo "	GlobalKnownHostsFile /dev/null"
		echo "	StrictHostKeyChecking yes"
		echo "	UpdateHostKeys no"
		echo "	BatchMode yes"
		echo "	LogLevel ERROR"
		for _l; do
			echo "	$_l"
		done
	} >"$SSHCFG"
}

# qemu_addr ID OFFSET: vmd's local interface rule, 100.64.0.0/10 |
# (ID << 8) | 2 + OFFSET (0 the host side, 1 the guest).
qemu_addr() {
	_a=$((0x64400000 | ($1 << 8) | (2 + $2)))
	echo "$((_a >> 24 & 255)).$((_a >> 16 & 255)).$((_a >> 8 & 255)).$((_a & 255))"
}

# qemu_id LO HI: a random VM id in [LO, HI] whose host address is on no
# interface of this host.  Each test has its own range.
qemu_id() {
	_n=0
	while [ $_n -lt 20 ]; do
		_id=$(random_in "$1" "$2")
		if ! ip -4 -o addr show | grep -qF " $(qemu_addr "$_id" 0)/"; then
			echo "$_id"
			return 0
		fi
		_n=$((_n + 1))
	done
	fail "no free VM id in $1-$2"
}

# The double, with this test's state directory and guest.
qemu_vmctl() {
	VMCTL_QEMU_DIR=$Q VMCTL_QEMU_GUEST=$GUEST "$QEMU_DOUBLE" "$@"
}

qemu_define() {	# name key=value...
	qemu_vmctl define "$@" || fail "vmctl-qemu define $*"
}

# The config: qemu_conf_begin [global lines], qemu_conf_vm NAME [lines],
# then lib.sh's conf_end.  vmctl is the QEMU double, given its state
# directory and guest on its command line (argv split on blanks).
qemu_conf_begin() {
	{
		echo "# $TESTNAME"
		echo "socket \"$SOCK\""
		echo "vmctl \"env VMCTL_QEMU_DIR=$Q VMCTL_QEMU_GUEST=$GUEST $QEMU_DOUBLE\""
		echo "domain \"vm\""
		echo "idle timeout ${CONF_IDLE:-3s}"
		echo "boot wait ${CONF_BOOT:-90s}"
		echo "stop wait ${CONF_STOP:-60s}"
		for _l; do
			echo "$_l"
		done
	} >"$CONF.new"
}

qemu_conf_vm() {	# name [lines]
	_n=$1
	shift
	{
		echo "vm \"$_n\" {"
		for _l; do
			echo "	$_l"
		done
		echo "}"
	} >>"$CONF.new"
}

# qemu_calls ERE: how many invocations of the double match ^ERE$.
qemu_calls() {
	if [ -f "$Q/calls" ]; then
		grep -cE -- "^$1\$" "$Q/calls"
	else
		echo 0
	fi
}

# qemu_call_time ERE: when the first such invocation ended (s.ns).
qemu_call_time() {
	[ -f "$Q/trace" ] || return 1
	awk -v re="^$1\$" '{ t = $1; $1 = $2 = $3 = ""; sub(/^ +/, "") }
	    $0 ~ re { print t; exit }' "$Q/trace"
}

# qemu_pid NAME: the VM's QEMU process, if it lives.
qemu_pid() {
	_p=$(cat "$Q/vm/$1/pid" 2>/dev/null) && [ -n "$_p" ] && alive "$_p" &&
	    echo "$_p"
}

# qemu_tap NAME: the VM's tap interface, while it runs.
qemu_tap() {
	cat "$Q/vm/$1/tap" 2>/dev/null
}

# Whether an interface with vmd's description of VM NAME, id ID, exists.
qemu_if_exists() {	# name id
	for _f in /sys/class/net/*/ifalias; do
		[ "$(cat "$_f" 2>/dev/null)" = "vm$2-if0-$1" ] && return 0
	done
	return 1
}

# Whether the host address of vm id ID is on an interface.
qemu_hostaddr_exists() {	# id
	ip -4 -o addr show | grep -qF " $(qemu_addr "$1" 0)/"
}

qemu_console() {	# name
	cat "$Q/vm/$1/console.log" 2>/dev/null
}

qemu_console_has() {	# name text
	grep -qF -- "$2" "$Q/vm/$1/console.log" 2>/dev/null
}

# qemu_check_running NAME ID: the VM is up as vmd would have it: its QEMU
# lives, on a tap described vm<ID>-if0-<NAME> that holds the host address.
# Sets QPID and QTAP.
qemu_check_running() {
	QPID=$(qemu_pid "$1") || fail "no QEMU process for $1"
	QTAP=$(qemu_tap "$1")
	[ -n "$QTAP" ] || fail "no tap recorded for $1"
	assert_eq "$(cat "/sys/class/net/$QTAP/ifalias" 2>/dev/null)" \
	    "vm$2-if0-$1" "description of $QTAP"
	ip -4 -o addr show dev "$QTAP" | grep -qF " $(qemu_addr "$2" 0)/31" ||
	    fail "$QTAP lacks $(qemu_addr "$2" 0)/31: $(ip -4 -o addr show dev "$QTAP")"
}

# qemu_check_acpi_stop NAME ID: after an idle stop, the guest powered
# itself off through ACPI: QEMU ($QPID) exited with no forced stop, the
# console shows the power button, the supervisor logged an unforced
# stop, and the VM's interface and host address are gone.
qemu_check_acpi_stop() {
	wait_for 120 not alive "$QPID"
	assert_eq "$(qemu_calls "stop -f $1")" 0 "vmctl stop -f calls"
	assert_eq "$(qemu_calls "stop $1")" 1 "vmctl stop calls"
	qemu_console_has "$1" "vmlaunch-guest: power button, powering off" ||
	    fail "the guest console shows no ACPI power-off: $(qemu_console "$1" | tail -n 5)"
	wait_for 20 grep -q "vm $1: stopped after" "$SUPLOG"
	grep "vm $1: stopped after" "$SUPLOG" | grep -q forced &&
	    fail "the supervisor forced the stop"
	wait_for 10 not qemu_if_exists "$1" "$2"
	not qemu_hostaddr_exists "$2" ||
	    fail "$(qemu_addr "$2" 0) still on an interface after the stop"
	assert_eq "$(qemu_vmctl status "$1" | awk -v n="$1" '$NF == n { print $(NF - 1) }')" \
	    stopped "vmctl status after the stop"
}
