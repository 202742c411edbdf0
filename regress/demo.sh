#!/bin/sh
# The README's demo: ssh to a real VM that is not running, through
# vmlaunch.  Watch vmlaunch boot it, wait for the guest's sshd, run a
# command in the guest, report the idle countdown, and power the VM off
# through ACPI when nobody uses it.
#
# The VM is the tiny Linux guest of regress/guest (a Debian kernel and a
# busybox + OpenSSH initramfs, built once from Debian packages and
# cached), run by QEMU through vmlaunch's command backend, exactly as
# examples/backend-qemu.conf shows: QEMU's user networking forwards a
# loopback port to the guest's sshd, so no root is needed.  On OpenBSD
# the same walk-through uses vmd: see README.md.  Everything lives in a
# private directory that is removed at the end.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
VMLAUNCH=$TOP/vmlaunch
T=$(mktemp -d /tmp/vmlaunch-demo.XXXXXX)
chmod 700 "$T"

cleanup() {
	[ -f "$T/qemu/tiny.pid" ] && kill "$(cat "$T/qemu/tiny.pid")" 2>/dev/null
	pkill -f "vmlaunch -f $T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() {
	printf '\n\033[1m==> %s\033[0m\n' "$*"
}
die() {
	echo "demo: $*" >&2
	exit 1
}

command -v qemu-system-x86_64 >/dev/null 2>&1 ||
    die "qemu-system-x86_64 is missing: run sh regress/deps-debian.sh as root"

say "Preparing the tiny guest (built once from Debian packages, then cached)"
GUEST=$("$TOP/regress/guest/build.sh") || die "regress/guest/build.sh failed"
echo "guest: $GUEST"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/qemu"
# examples/backend-qemu.conf, with this demo's paths and port; QEMU
# emulates the CPU (TCG) unless VMLAUNCH_QEMU_ACCEL says otherwise.
sed -e "s,/var/cache/vmlaunch-guest/current,$GUEST,g" \
    -e "s,\\\$HOME/\\.vmlaunch/qemu,$T/qemu,g" \
    -e "s,2201,$PORT,g" \
    -e "s,accel=kvm:tcg,accel=${VMLAUNCH_QEMU_ACCEL:-tcg}," \
    -e "s,^idle timeout .*,idle timeout 10s        # short for the demo," \
    "$TOP/examples/backend-qemu.conf" >"$T/vmlaunch.conf"
printf 'socket "%s"\n' "$T/run/control" >>"$T/vmlaunch.conf"
chmod 600 "$T/vmlaunch.conf"

cat >"$T/ssh_config" <<CONF
Host *.vm
	ProxyCommand $VMLAUNCH -f $T/vmlaunch.conf %h %p
	User root
	IdentityFile $GUEST/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile $T/known_hosts
	HostKeyAlias vmlaunch-guest
	BatchMode yes
	LogLevel ERROR
CONF
sed 's/^[^ ]*/vmlaunch-guest/' "$GUEST/known_hosts" >"$T/known_hosts"

say "The configuration: vmlaunch -n checks it, -n HOST says where ssh goes"
grep -v '^#' "$T/vmlaunch.conf" | sed '/^$/d'
"$VMLAUNCH" -n -f "$T/vmlaunch.conf" tiny.vm >/dev/null || exit 1
"$VMLAUNCH" -n -f "$T/vmlaunch.conf" tiny.vm 2>/dev/null | head -n 1

say "vmlaunch -s: the vm is not running"
"$VMLAUNCH" -s -f "$T/vmlaunch.conf"

say "ssh tiny.vm: vmlaunch boots the vm and waits for its sshd"
start=$(date +%s)
ssh -F "$T/ssh_config" tiny.vm \
    'echo "in the guest: $(uname -sr), up $(cut -d" " -f1 /proc/uptime)s"' ||
    die "ssh failed"
echo "(the whole ssh took $(( $(date +%s) - start ))s, boot included)"

say "A second ssh: the vm is ready, no waiting"
start=$(date +%s%N)
ssh -F "$T/ssh_config" tiny.vm 'uptime' || die "ssh failed"
echo "(took $(( ($(date +%s%N) - start) / 1000000 )) ms)"

say "vmlaunch -s: no session left, so the idle countdown runs"
"$VMLAUNCH" -s -f "$T/vmlaunch.conf"

say "Waiting for the idle stop (ACPI power button, then QEMU exits)"
qpid=$(cat "$T/qemu/tiny.pid") || die "no QEMU pid file"
deadline=$(( $(date +%s) + 90 ))
last=
while kill -0 "$qpid" 2>/dev/null; do
	[ "$(date +%s)" -lt "$deadline" ] || die "the vm did not stop in time"
	row=$("$VMLAUNCH" -s -f "$T/vmlaunch.conf" | sed -n 2p)
	[ "$row" != "$last" ] && echo "$row"
	last=$row
	sleep 1
done
echo "QEMU (pid $qpid) has exited."

say "vmlaunch -s: stopped again, by vmlaunch"
"$VMLAUNCH" -s -f "$T/vmlaunch.conf"
