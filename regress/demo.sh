#!/bin/sh
# The README's demo: ssh to a VM that is not running, through vmlaunch.
# Watch vmlaunch start it, wait for the guest's sshd, relay the session,
# report the idle countdown and stop the VM when nobody uses it.
#
# The VM here is played by the vmctl test double (regress/vmctl-double):
# its "VM process" runs a real sshd on a loopback address after a boot
# delay.  Everything lives in a private directory, removed at the end.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
VMLAUNCH=$TOP/vmlaunch
T=$(mktemp -d /tmp/vmlaunch-demo.XXXXXX)
export VMCTL_DOUBLE_DIR=$T/vmd

cleanup() {
	pkill -f "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() {
	printf '\n\033[1m==> %s\033[0m\n' "$*"
}

# A free port on 127.0.0.1 for the guest's sshd.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

mkdir -p "$VMCTL_DOUBLE_DIR"
ssh-keygen -q -N '' -t ed25519 -f "$T/id" -C demo
cp "$T/id.pub" "$VMCTL_DOUBLE_DIR/authorized_keys"
"$TOP/regress/vmctl-double" __set ubuntu address 127.0.0.1 port "$PORT" \
    boot_delay 4 shutdown_delay 1 >/dev/null

cat >"$T/vmlaunch.conf" <<CONF
# The demo's vmlaunch.conf
socket "$T/run/control"
vmctl "$TOP/regress/vmctl-double"
domain "vm"

idle timeout 5s         # short, for the demo; 10m is more usual
boot wait 30s

vm "ubuntu" {
	address 127.0.0.1
}
CONF
chmod 600 "$T/vmlaunch.conf"

cat >"$T/ssh_config" <<CONF
Host *.vm
	ProxyCommand $VMLAUNCH -f $T/vmlaunch.conf %h %p
	User $(id -un)
	Port $PORT
	IdentityFile $T/id
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	BatchMode yes
	LogLevel ERROR
CONF

say "The configuration (vmlaunch -n checks it)"
cat "$T/vmlaunch.conf"
"$VMLAUNCH" -n -f "$T/vmlaunch.conf" || exit 1

say "vmctl status: the vm is stopped"
"$TOP/regress/vmctl-double" status

say "ssh ubuntu.vm uptime: vmlaunch starts the vm and waits for its sshd"
start=$(date +%s%N)
ssh -F "$T/ssh_config" ubuntu.vm \
    'echo "hello from the guest: $(uname -sr), sshd pid $PPID"' || exit 1
end=$(date +%s%N)
echo "(the whole ssh took $(( (end - start) / 1000000 )) ms, boot included)"

say "A second ssh: the vm is ready, no vmctl, no waiting"
start=$(date +%s%N)
ssh -F "$T/ssh_config" ubuntu.vm 'echo hello again' || exit 1
end=$(date +%s%N)
echo "(took $(( (end - start) / 1000000 )) ms)"

say "vmlaunch -s: no session left, so the idle timer runs"
"$VMLAUNCH" -s -f "$T/vmlaunch.conf"

say "Waiting for the idle stop"
deadline=$(( $(date +%s) + 30 ))
while :; do
	state=$("$TOP/regress/vmctl-double" __state ubuntu 2>/dev/null)
	[ "$state" = stopped ] && break
	if [ "$(date +%s)" -ge "$deadline" ]; then
		echo "the vm did not stop in time" >&2
		exit 1
	fi
	"$VMLAUNCH" -s -f "$T/vmlaunch.conf" | sed -n 2p
	sleep 1
done

say "vmctl status: stopped again, by vmlaunch"
"$TOP/regress/vmctl-double" status
grep -c 'CMD: start' "$VMCTL_DOUBLE_DIR/log" | sed 's/^/vmctl start calls: /'
grep -c 'CMD: stop' "$VMCTL_DOUBLE_DIR/log" | sed 's/^/vmctl stop calls:  /'
