# regress/libvirtlib.sh: a private libvirtd for the libvirt tier
# (regress/e2e/libvirt-*.sh), on top of regress/lib.sh and
# regress/qemulib.sh (whose qemu_init builds the guest and the ssh
# config).
#
#	. "$(dirname "$0")/../lib.sh"
#	. "$(dirname "$0")/../qemulib.sh"
#	. "$(dirname "$0")/../libvirtlib.sh"
#	libvirt_need			# SKIP (77) unless root, libvirt, QEMU
#	test_init
#	qemu_init			# the guest: GUEST, the ssh config
#	libvirt_start			# libvirtd and virtlogd: LV, LV_URI
#	pick_addr_port
#	libvirt_define ubuntu "$ADDR" "$PORT"
#	libvirt_conf			# examples/backend-libvirt.conf, adapted
#
# The daemons are root's own (qemu:///system) but private: they run in a
# mount namespace of their own where $LV's directories are mounted over
# /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt and
# /var/cache/libvirt, so nothing of the host's libvirt (its domains,
# networks, a running system libvirtd) is seen or touched, and tests can
# run side by side.  Clients reach the daemon through its socket in $LV
# (LV_URI).  No D-Bus, no dnsmasq, no firewall: the guest has QEMU's user
# networking with a port forward to its sshd, given on QEMU's command line
# through libvirt's qemu:commandline (Debian 12's libvirt 9.0 has no passt
# backend, whose portForward would do).  QEMU runs as root under TCG,
# without libvirt's cgroups, namespaces or security driver.
#
# On exit every domain is destroyed and undefined and the daemons are
# stopped, before lib.sh's cleanup (whose kill of every process naming
# $T also catches the daemons and QEMU, whose command lines name files
# in $T).  Empty mount points for the namespace (/run/libvirt and the
# like, which libvirt's packages create anyway) are left behind.

LV_VIRSH=

# libvirt_need: skip, loudly, when the tier cannot run here.
libvirt_need() {
	need_root "the libvirt tier runs a private libvirtd in a mount namespace"
	for _c in virsh:libvirt-clients libvirtd:libvirt-daemon \
	    virtlogd:libvirt-daemon qemu-system-x86_64:qemu-system-x86 \
	    unshare:util-linux; do
		PATH=$PATH:/usr/sbin:/sbin command -v "${_c%%:*}" \
		    >/dev/null 2>&1 ||
		    skip "${_c%%:*} missing (apt-get install ${_c#*:})"
	done
	LV_VIRSH=$(command -v virsh)
	unshare -m --propagation private true 2>/dev/null ||
	    skip "unshare -m fails here: no private mount namespace for a private libvirtd"
}

# lv ARGS: virsh on the private daemon (the test's own calls, not logged).
lv() {
	"$LV_VIRSH" -q -c "$LV_URI" "$@"
}

# The state of a domain in libvirt's words, with the reason:
# "shut off (shutdown)".
lv_state() {
	LC_ALL=C "$LV_VIRSH" -q -c "$LV_URI" domstate --reason "$1" 2>/dev/null
}

lv_state_is() {	# domain state (as lv_state prints it, or its first words)
	case $(lv_state "$1") in
	"$2"|"$2 ("*) return 0 ;;
	esac
	return 1
}

# libvirt_start: the daemons, and wait until the QEMU driver answers
# (its first answer probes QEMU's capabilities: seconds under load).
libvirt_start() {
	LV=$T/lv
	LV_URI="qemu:///system?socket=$LV/run/libvirt-sock"
	mkdir -p "$LV/etc" "$LV/run" "$LV/lib" "$LV/log" "$LV/cache" "$T/bin" ||
	    fail "mkdir $LV"
	cat >"$LV/etc/libvirtd.conf" <<-EOF
	# Only root reaches the socket; no polkit, which needs D-Bus.
	auth_unix_rw = "none"
	auth_unix_ro = "none"
	log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
	EOF
	cat >"$LV/etc/virtlogd.conf" <<-EOF
	log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
	EOF
	cat >"$LV/etc/qemu.conf" <<-EOF
	user = "root"
	group = "root"
	dynamic_ownership = 0
	remember_owner = 0
	security_driver = "none"
	namespaces = [ ]
	cgroup_controllers = [ ]
	EOF
	# The QEMU driver looks its default user up before it reads
	# qemu.conf: libvirt-daemon-system creates it, a private passwd
	# stands in for it without that package.
	cp /etc/passwd "$LV/passwd" && cp /etc/group "$LV/group" ||
	    fail "cannot copy /etc/passwd and /etc/group"
	getent passwd libvirt-qemu >/dev/null ||
	    echo "libvirt-qemu:x:64055:64055:libvirt test:/var/lib/libvirt:/usr/sbin/nologin" \
	    >>"$LV/passwd"
	getent group libvirt-qemu >/dev/null ||
	    echo "libvirt-qemu:x:64055:" >>"$LV/group"
	for _d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt \
	    /var/cache/libvirt; do
		mkdir -p "$_d" || fail "cannot make the mount point $_d"
	done
	cat >"$LV/start" <<-EOF
	set -e
	mount --bind "$LV/passwd" /etc/passwd
	mount --bind "$LV/group" /etc/group
	mount --bind "$LV/etc" /etc/libvirt
	mount --bind "$LV/run" /run/libvirt
	mount --bind "$LV/lib" /var/lib/libvirt
	mount --bind "$LV/log" /var/log/libvirt
	mount --bind "$LV/cache" /var/cache/libvirt
	virtlogd -d -f "$LV/etc/virtlogd.conf" -p "$LV/run/virtlogd.pid"
	libvirtd -d -f "$LV/etc/libvirtd.conf" -p "$LV/run/libvirtd.pid"
	EOF
	trap '_lrc=$?; _libvirt_diag $_lrc; _libvirt_stop; _qemu_diag $_lrc; (exit $_lrc); _cleanup' EXIT
	PATH=$PATH:/usr/sbin:/sbin unshare -m --propagation private \
	    sh "$LV/start" >"$LV/start.log" 2>&1 ||
	    fail "cannot start libvirtd: $(tail -n 3 "$LV/start.log")"
	_t0=$(now_ms)
	wait_for 90 _libvirt_answers
	lv version >"$LV/version" 2>&1
	case $(cat "$LV/version") in
	*"no connection driver"*)
		skip "libvirt has no QEMU driver (apt-get install libvirt-daemon-driver-qemu)" ;;
	*"Running hypervisor: QEMU"*) ;;
	*)	fail "libvirtd does not run QEMU: $(cat "$LV/version")" ;;
	esac
	msg "private libvirtd up in $(($(now_ms) - _t0)) ms:" \
	    "$(grep 'hypervisor' "$LV/version")"
	# The supervisor's virsh: the real one, each call logged.
	cat >"$T/bin/virsh" <<-EOF
	#!/bin/sh
	[ "\$1" = -c ] && shift 2
	echo "\$*" >>"$LV/calls"
	exec "$LV_VIRSH" -c "$LV_URI" "\$@"
	EOF
	chmod 755 "$T/bin/virsh"
	: >"$LV/calls"
}

_libvirt_answers() {
	"$LV_VIRSH" -c "$LV_URI" version 2>&1 | grep -q 'hypervisor\|driver'
}

# libvirt_define NAME ADDR PORT [kernel args]: a persistent domain that
# boots the regress guest (direct kernel boot, 256 MB, TCG), its console
# in $LV/NAME.console, its sshd forwarded from ADDR:PORT, with a channel
# for the QEMU guest agent, which the guest runs (virsh domifaddr
# --source agent).  The kernel and
# initrd are linked (else copied) into $T: a concurrent rebuild of the
# guest deletes older builds, and QEMU's command line then names $T.
libvirt_define() {
	[ -f "$T/kernel" ] || {
		ln "$GUEST/kernel" "$T/kernel" 2>/dev/null ||
		    cp "$GUEST/kernel" "$T/kernel"
		ln "$GUEST/initrd" "$T/initrd" 2>/dev/null ||
		    cp "$GUEST/initrd" "$T/initrd"
	} || fail "cannot copy the guest's kernel and initrd"
	cat >"$LV/$1.xml" <<-EOF
	<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
	  <name>$1</name>
	  <memory unit='MiB'>256</memory>
	  <vcpu>1</vcpu>
	  <os>
	    <type arch='x86_64' machine='q35'>hvm</type>
	    <kernel>$T/kernel</kernel>
	    <initrd>$T/initrd</initrd>
	    <cmdline>$(cat "$GUEST/cmdline") vmlaunch.hostname=$1 vmlaunch.ip=10.0.2.15/24 vmlaunch.gw=10.0.2.2 $4</cmdline>
	  </os>
	  <features><acpi/></features>
	  <on_poweroff>destroy</on_poweroff>
	  <on_reboot>destroy</on_reboot>
	  <on_crash>destroy</on_crash>
	  <devices>
	    <serial type='file'><source path='$LV/$1.console'/></serial>
	    <channel type='unix'>
	      <target type='virtio' name='org.qemu.guest_agent.0'/>
	    </channel>
	    <controller type='usb' model='none'/>
	    <memballoon model='none'/>
	  </devices>
	  <qemu:commandline>
	    <qemu:arg value='-netdev'/>
	    <qemu:arg value='user,id=vmlnet0,net=10.0.2.0/24,hostfwd=tcp:$2:$3-:22'/>
	    <qemu:arg value='-device'/>
	    <qemu:arg value='virtio-net-pci,netdev=vmlnet0,bus=pcie.0,addr=0x10'/>
	  </qemu:commandline>
	</domain>
	EOF
	lv define "$LV/$1.xml" >"$LV/define.log" 2>&1 ||
	    fail "virsh define $1: $(cat "$LV/define.log")"
	eval "ADDR_$(_var "$1")=\$2 PORT_$(_var "$1")=\$3"
}

# libvirt_conf: examples/backend-libvirt.conf on the private daemon,
# with the times given (IDLE, default 3s; PAUSE, default never) and this
# test's socket; checked
# with vmlaunch -n.  The guest's address is its guest agent's answer:
# user networking has no DHCP leases to ask about, and the agent's
# address (the guest's side of QEMU's NAT, 10.0.2.15) stands for the
# host's end of the port forward, ADDR, with the vm "ubuntu" on PORT.
# The supervisor must run with $T/bin first in PATH, for the logged
# virsh.
libvirt_conf() {
	sed -e "s,qemu:///system,'$LV_URI',g" \
	    -e "s,^\\(address command \".* domifaddr\\)\\( .*\\)\"\$,\\1 --source agent\\2 | sed s/10.0.2.15/$ADDR/\"," \
	    -e "s,^vm \"ubuntu\" {\$,&\\
	port $PORT," \
	    -e "s,^idle timeout .*,idle timeout ${IDLE:-3s}," \
	    -e "s,^idle pause .*,idle pause ${PAUSE:-never}," \
	    "$TOP/examples/backend-libvirt.conf" >"$CONF.new"
	echo "socket \"$SOCK\"" >>"$CONF.new"
	conf_end
	grep -qF "$LV_URI" "$CONF" && grep -q "port $PORT\$" "$CONF" &&
	    grep -q "^address command .*--source agent.*$ADDR" "$CONF" ||
	    fail "the example's connection, address and port were not replaced"
	export PATH="$T/bin:$PATH"
}

# lv_calls ERE: how many of the supervisor's virsh calls match ^ERE$
# ("start ubuntu", "shutdown ubuntu").
lv_calls() {
	grep -cE -- "^$1\$" "$LV/calls"
}

# lv_starts NAME: how many times libvirt launched the domain's QEMU.
lv_starts() {
	grep -c 'starting up' "$LV/log/qemu/$1.log" 2>/dev/null
}

_libvirt_diag() {	# exit status
	[ "$1" = 0 ] || [ "$1" = 77 ] || [ ! -d "${LV:-}" ] && return 0
	if [ -s "$LV/calls" ]; then
		echo "--- $TESTNAME: the supervisor's virsh calls but domstate and domid"
		grep -v '^dom\(state\|id\) ' "$LV/calls" | tail -n 20
	fi
	for _f in "$LV"/*.console "$LV"/log/qemu/*.log "$LV"/log/libvirtd.log; do
		[ -s "$_f" ] || continue
		echo "--- $TESTNAME: $_f (last 15 lines)"
		tail -n 15 "$_f"
	done
	return 0
}

# Destroy and undefine every domain, then stop the daemons; bounded.
_libvirt_stop() {
	[ -n "${LV:-}" ] && [ -S "$LV/run/libvirt-sock" ] || return 0
	for _d in $(timeout 10 "$LV_VIRSH" -q -c "$LV_URI" list --all --name \
	    2>/dev/null); do
		timeout 10 "$LV_VIRSH" -q -c "$LV_URI" destroy "$_d" \
		    >/dev/null 2>&1
		timeout 10 "$LV_VIRSH" -q -c "$LV_URI" undefine "$_d" \
		    >/dev/null 2>&1
	done
	for _p in libvirtd virtlogd; do
		_pid=$(cat "$LV/run/$_p.pid" 2>/dev/null) || continue
		kill "$_pid" 2>/dev/null
		_n=0
		while alive "$_pid" && [ $_n -lt 100 ]; do
			sleep 0.05
			_n=$((_n + 1))
		done
		kill -9 "$_pid" 2>/dev/null
	done
	return 0
}
