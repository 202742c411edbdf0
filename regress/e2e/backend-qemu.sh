#!/bin/sh
# examples/backend-qemu.conf against the real tiny guest of regress/guest:
# ssh boots it through the start command and runs a command in its
# kernel, vmlaunch -s shows it, the idle stop powers it off through the
# stop command (ACPI), and QEMU is gone.  Paths and the port of the
# example are replaced with this test's, and KVM with TCG (a /dev/kvm
# that hangs QEMU has been seen in CI; VMLAUNCH_QEMU_ACCEL overrides).
# Root and QEMU, else a loud skip.
. "$(dirname "$0")/../lib.sh"
need_root "the real-VM tier runs as root in CI"
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
    skip "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
command -v nc.openbsd >/dev/null 2>&1 ||
    skip "nc.openbsd missing (apt-get install netcat-openbsd)"
test_init
GUEST=$("$REGRESS/guest/build.sh") || fail "regress/guest/build.sh failed"
pick_addr_port
Q=$T/qemu

sed -e "s,/var/cache/vmlaunch-guest/current,$GUEST,g" \
    -e "s,\\\$HOME/\\.vmlaunch/qemu,$Q,g" \
    -e "s,2201,$PORT,g" \
    -e "s,accel=kvm:tcg,accel=${VMLAUNCH_QEMU_ACCEL:-tcg}," \
    -e "s,^idle timeout .*,idle timeout 3s," \
    "$TOP/examples/backend-qemu.conf" >"$CONF.new"
echo "socket \"$SOCK\"" >>"$CONF.new"
conf_end
grep -q "$Q/\$1.pid" "$CONF" || fail "the example's paths were not replaced"

cat >"$SSHCFG" <<EOF
Host *
	ProxyCommand $VMLAUNCH -f $CONF %h %p
	User root
	IdentityFile $GUEST/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile $GUEST/known_hosts
	StrictHostKeyChecking yes
	HostKeyAlias vmlaunch-guest
	BatchMode yes
	LogLevel ERROR
EOF
# The guest's host key, under the alias whatever the port.
sed 's/^[^ ]*/vmlaunch-guest/' "$GUEST/known_hosts" >"$T/known_hosts"
sed -i "s,$GUEST/known_hosts,$T/known_hosts," "$SSHCFG"

qemu_pid() {
	p=$(cat "$Q/tiny.pid" 2>/dev/null) && alive "$p" && echo "$p"
}

supervisor_start
run_ssh tiny.vm 'uname -s; cat /proc/sys/kernel/hostname'
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" "Linux
tiny" "the guest's kernel and hostname"
pid=$(qemu_pid) || fail "no QEMU after the ssh"
out=$("$VMLAUNCH" -s -f "$CONF" 2>&1)
msg "$out"
assert_match "$out" '^tiny +running ' "-s with the VM up"

wait_for 60 not alive "$pid"
wait_for 20 grep -q "vm tiny: stopped after" "$SUPLOG"
grep -q "forced" "$SUPLOG" && fail "the guest needed a forced stop"
out=$("$VMLAUNCH" -s -f "$CONF" 2>&1)
assert_match "$out" '^tiny +stopped ' "-s after the idle stop"
