#!/bin/bash
#
# Smoke test of the real-VM tier without vmlaunch: build (or reuse) the
# guest, start it through vmctl-qemu on a tap, wait for sshd's banner, run a
# command over real OpenSSH, check vmd's tap naming and address, then stop it
# through ACPI and check that QEMU exits by itself and the tap goes with it.
# Needs root and QEMU; skips loudly without them.  Prints PASS or FAIL and
# the timings.
#
# usage: smoke.sh [-u]	(-u: QEMU user networking instead, no tap)

here=$(cd "$(dirname "$0")" && pwd)
mode=tap
[ "${1:-}" = -u ] && mode=user

skip() { echo "SKIP: smoke.sh: $*"; exit 0; }
fail() {
	echo "FAIL: smoke.sh: $*"
	if [ -n "${D:-}" ] && [ -f "$D/vm/$vm/console.log" ]; then
		echo "--- guest console:"
		tail -n 30 "$D/vm/$vm/console.log"
		echo "--- qemu:"
		cat "$D/vm/$vm/qemu.log"
	fi
	exit 1
}

[ "$(id -u)" -eq 0 ] || [ $mode = user ] || skip "not root (tap networking needs root)"
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
    skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
[ -c /dev/net/tun ] || [ $mode = user ] || skip "no /dev/net/tun"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

G=$("$here/build.sh") || fail "build.sh failed"
D=$(mktemp -d /tmp/vmctl-qemu-smoke.XXXXXX)
vm=smoke
export VMCTL_QEMU_DIR=$D VMCTL_QEMU_GUEST=$G
cleanup() {
	"$here/vmctl-qemu" stop -f $vm >/dev/null 2>&1
	rm -rf "$D"
}
trap cleanup EXIT

# Distinct from the ids the vmlaunch tests use, and high enough to show
# the address rule: id 300 is 100.65.44.2 / .3.
owner=$(id -un)
case $mode in
tap)	"$here/vmctl-qemu" define $vm id=300 owner="$owner" || fail "define" ;;
user)	"$here/vmctl-qemu" define $vm id=300 owner="$owner" net=user \
	    port=20300 || fail "define" ;;
esac
eval "$("$here/vmctl-qemu" info $vm | sed 's/^/info_/')"
addr=$info_address port=$info_port
[ $mode = user ] || [ "$addr" = 100.65.44.3 ] || fail "guest address $addr"

t0=$(now)
out=$(timeout 90 "$here/vmctl-qemu" start $vm 2>&1) || fail "start: $out"
[ "$out" = "vmctl: started vm 300 successfully, tty /dev/ttyp299" ] ||
    fail "start said: $out"
tstart=$(since "$t0")

# Only the banner means ready; a refused or silent port is retried.
banner() {
	timeout 5 bash -c 'exec 3<>/dev/tcp/$0/$1 && head -c 4 <&3' \
	    "$addr" "$port" 2>/dev/null
}
deadline=$(( $(date +%s) + 180 ))
until [ "$(banner)" = SSH- ]; do
	[ "$("$here/vmctl-qemu" info $vm | sed -n 's/^state=//p')" = running ] ||
	    fail "VM died while booting"
	[ "$(date +%s)" -lt $deadline ] || fail "no SSH banner in 180 s"
	sleep 0.2
done
tbanner=$(since "$t0")
# CPU seconds QEMU spent booting: the wall time depends on the host's load.
qpid=$(sed -n 's/^pid=//p' <<<"$("$here/vmctl-qemu" info $vm)")
cpu=$(awk '{ printf "%.1f", ($14 + $15) / 100 }' "/proc/$qpid/stat")

out=$(ssh -i "$G/id_ed25519" -o UserKnownHostsFile="$G/known_hosts" \
    -o BatchMode=yes -o ConnectTimeout=30 -p "$port" root@"$addr" \
    'uname -a; uptime' 2>&1) || fail "ssh: $out"
echo "$out" | grep -q "^Linux $vm .*x86_64" || fail "uname in the guest: $out"
echo "$out" | sed 's/^/guest: /'
tssh=$(since "$t0")

if [ $mode = tap ]; then
	tap=$(sed -n 's/^tap=//p' <<<"$("$here/vmctl-qemu" info $vm)")
	[ -n "$tap" ] || fail "no tap recorded"
	[ "$(cat "/sys/class/net/$tap/ifalias")" = vm300-if0-$vm ] ||
	    fail "$tap alias: $(cat "/sys/class/net/$tap/ifalias")"
	ip -4 -o addr show dev "$tap" | grep -q ' 100\.65\.44\.2/31 ' ||
	    fail "$tap address: $(ip -4 -o addr show dev "$tap")"
fi

row=$("$here/vmctl-qemu" status $vm | sed -n 2p)
[[ $row =~ ^\ +300\ +[0-9]+\ +1\ +256M\ +256M\ +ttyp299\ +$owner\ +running\ smoke$ ]] ||
    fail "status row: $row"
pid=$(sed -n 's/^pid=//p' <<<"$("$here/vmctl-qemu" info $vm)")

t1=$(now)
out=$("$here/vmctl-qemu" stop $vm 2>&1) || fail "stop: $out"
[ "$out" = "stopping vm $vm: requested to shutdown vm 300" ] ||
    fail "stop said: $out"
deadline=$(( $(date +%s) + 60 ))
while [ -d "/proc/$pid" ] && [ "$(sed 's/.*) //; s/ .*//' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
	[ "$(date +%s)" -lt $deadline ] || fail "QEMU still running 60 s after powerdown"
	sleep 0.1
done
tstop=$(since "$t1")
grep -q 'power button' "$D/vm/$vm/console.log" ||
    fail "guest did not see the power button"
[ $mode = user ] || [ ! -e "/sys/class/net/$tap" ] || fail "$tap outlived its VM"
row=$("$here/vmctl-qemu" status $vm | sed -n 2p)
[[ $row =~ ^\ +300\ +-\ +1\ +256M\ +-\ +-\ +$owner\ +stopped\ smoke$ ]] ||
    fail "status row after stop: $row"
[ "$(grep -c '^start ' "$D/calls")" -eq 1 ] || fail "starts counted wrong"

echo "PASS: smoke.sh ($mode): start returned ${tstart}s, banner ${tbanner}s" \
    "(QEMU CPU ${cpu}s), ssh done ${tssh}s, ACPI power-off ${tstop}s" \
    "(load $(cut -d' ' -f1 /proc/loadavg))"
