#!/bin/sh
# A hostile or absent guest.  "midbanner": the guest sends "SS" and hangs
# up, every time; "refused": its address is in a network namespace where
# nothing listens; "blackhole": its route is dropped (ip route blackhole);
# "void": routed to a link where nobody answers.  Each ProxyCommand fails
# after the 3 s boot wait, not before and not much later, with exit 255
# and the line "guest ... did not answer within 3s", and each VM, which
# vmlaunch started, is stopped again.  "partial": the guest sends
# "SSH-2.0-x" without an end of line and hangs up: the client gets those
# bytes and returns at once.  Another VM's session works throughout.
. "$(dirname "$0")/../lib.sh"
test_init
CONF_BOOT=3s
CONF_IDLE=1h
add_vm ok
add_vm midbanner nolisten 1
add_vm partial nolisten 1
NETVMS=
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null 2>&1; then
	NETVMS="refused blackhole void"
	for v in $NETVMS; do
		add_vm "$v" nolisten 1
	done
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	NS=vmlf$r
	NET=10.$((200 + r % 50)).$((r / 50 % 250))
	cat >"$T/netns.fault" <<SH
ip netns del $NS 2>/dev/null
ip link del vf${r}h 2>/dev/null
ip route del blackhole $NET.9/32 2>/dev/null
SH
	ip netns add "$NS" || fail "ip netns add"
	ip link add "vf${r}h" type veth peer name "vf${r}g" || fail "veth"
	ip link set "vf${r}g" netns "$NS"
	ip addr add "$NET.1/29" dev "vf${r}h"
	ip link set "vf${r}h" up
	ip netns exec "$NS" ip addr add "$NET.2/29" dev "vf${r}g"
	ip netns exec "$NS" ip link set "vf${r}g" up
	ip netns exec "$NS" ip link set lo up
	ip route add blackhole "$NET.9/32" || fail "ip route add blackhole"
	ADDR_refused=$NET.2 PORT_refused=22		# nothing listens
	ADDR_blackhole=$NET.9 PORT_blackhole=22		# dropped route
	ADDR_void=$NET.5 PORT_void=22			# no one answers ARP
else
	msg "SKIPPED PART: network namespace and route faults (need root and ip)"
fi
conf_begin
for v in ok midbanner partial $NETVMS; do
	conf_vm "$v"
done
conf_end

# The hostile guests on the double's addresses for midbanner and partial.
guest() {	# name bytes
	"$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
while True:
    c, _ = s.accept()
    try:
        c.sendall(sys.argv[3].encode())
    except OSError:
        pass
    c.close()
' "$(vm_addr "$1")" "$(vm_port "$1")" "$2" &
	register_pid $!
}
guest midbanner SS
guest partial SSH-2.0-x
supervisor_start
session_open keep ok.vm
session_wait_up keep 30

# All the failing ones at once; each records its time and result.
for v in midbanner $NETVMS; do
	(
		t0=$(now_ms)
		timeout -k 5 30 "$VMLAUNCH" -f "$CONF" "$v.vm" 22 </dev/null \
		    >"$T/$v.out" 2>"$T/$v.err"
		echo "$? $(($(now_ms) - t0))" >"$T/$v.rc"
	) &
done
session_send keep "while guests fail"
for v in midbanner $NETVMS; do
	wait_for 30 test -f "$T/$v.rc"
	set -- $(cat "$T/$v.rc")
	assert_eq "$1" 255 "$v: exit status"
	assert_ge "$2" 2900 "$v: ms until it failed (the boot wait is 3s)"
	assert_le "$2" 30000 "$v: ms until it failed (the boot wait is 3s)"
	assert_match "$(tail -n 1 "$T/$v.err")" \
	    "^vmlaunch: $v: guest .* did not answer within 3s" \
	    "$v: the last stderr line"
	assert_eq "$(cat "$T/$v.out")" "" "$v: stdout"
	msg "$v: $(tail -n 1 "$T/$v.err") (after $2 ms)"
done
for v in midbanner $NETVMS; do
	wait_for 20 vm_state_is "$v" stopped
done

# The partial banner: it is the guest's business; the client relays the
# bytes and returns as soon as the guest hangs up.
t0=$(now_ms)
run_proxy partial.vm 22
assert_le "$(($(now_ms) - t0))" 30000 "partial: ms until the client returned"
assert_eq "$OUT" "SSH-2.0-x" "partial: the bytes the client relayed"
alive "$SUP_PID" || fail "the supervisor died"

session_send keep "after all"
session_close keep
assert_eq "$RC" 0 "the ok session's exit status"
