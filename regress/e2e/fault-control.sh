#!/bin/sh
# Bad peers on the control socket: garbage, a truncated frame, an
# oversized length, an unknown type, a malformed connect request, a
# client that connects and never speaks, and one that sends half a frame
# and stalls.  Each is dropped (at once, or after the 10 s hello
# timeout), while a session opened before them stays up and keeps
# working, the supervisor's descriptors come back to what they were,
# and the VM ends ready with its session, then stopped when idle.
. "$(dirname "$0")/../lib.sh"
test_init
CONF_IDLE=2s
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

session_open keep ubuntu.vm
session_wait_up keep 30
session_send keep before
FD0=$(ls "/proc/$SUP_PID/fd" | wc -l)

# peer NAME HEX [stall]: connect, send the bytes, and report on stdout
# "closed MS" when the supervisor hangs up MS ms later (what it sent
# first is ignored), or "open" if it has not after 15 s.  With "stall"
# the connection is kept open after sending (else the client just waits
# for the supervisor to act: it never closes its side first).
peer() {
	"$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
data = bytes.fromhex(sys.argv[2])
if data:
    s.sendall(data)
t0 = time.monotonic()
s.settimeout(15)
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
except socket.timeout:
    print("open")
    sys.exit(0)
except OSError:
    pass
print("closed %d" % ((time.monotonic() - t0) * 1000))
' "$SOCK" "$2"
}

dropped_at_once() {	# name hex logpattern
	r=$(peer "$1" "$2")
	case $r in
	"closed "*)	[ "${r#closed }" -lt 3000 ] ||
			    fail "$1: dropped only after ${r#closed }ms" ;;
	*)		fail "$1: the supervisor kept the connection ($r)" ;;
	esac
	wait_for 5 grep -qE -- "$3" "$SUPLOG"
	alive "$SUP_PID" || fail "$1: the supervisor died"
	session_send keep "after $1"
	msg "$1: dropped after ${r#closed }ms; the session still works"
}

# 64 bytes of garbage: the header is an impossible type.
dropped_at_once garbage \
    "$(head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^../ff/')" \
    'malformed message header'
# A length far over the limit (2 GiB).
dropped_at_once oversized 000000017fffffff 'malformed message header'
# Type 0 and a type past the last.
dropped_at_once type-zero 0000000000000000 'malformed message header'
dropped_at_once type-unknown 0000006300000000 'malformed message header'
# A connect whose payload does not decode (version 1, port 22, then a
# string length that runs past the end).
dropped_at_once bad-connect 000000010000000c0000000100160000ffff4142 \
    'malformed connect request'
# A frame the supervisor only sends (ready) from a client.
dropped_at_once wrong-way 0000000400000000 'unexpected ready message'
# A status request with a payload.
dropped_at_once status-payload 000000020000000100 'malformed status request'
# A truncated frame, then the peer closes: nothing to answer, no trace.
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(bytes.fromhex("0000000100000040000000010016"))
s.close()
' "$SOCK" || fail "truncated frame: connect"
alive "$SUP_PID" || fail "truncated+close: the supervisor died"
session_send keep "after truncated+close"

# The silent peer and the stalled half frame, at the same time: each is
# dropped by the hello timeout, 10 s, not before and not much later.
peer silent "" >"$T/silent.r" &
p1=$!
peer half 00000001000000400000 >"$T/half.r" &
p2=$!
# The session keeps working meanwhile.
session_send keep "while two peers stall"
wait $p1 $p2
for n in silent half; do
	r=$(cat "$T/$n.r")
	case $r in
	"closed "*)	ms=${r#closed } ;;
	*)		fail "$n: not dropped within 15s ($r)" ;;
	esac
	assert_ge "$ms" 9500 "$n: dropped after (ms), not before the hello timeout"
	assert_le "$ms" 30000 "$n: dropped after (ms), within the hello timeout"
	msg "$n: dropped after ${ms}ms"
done
assert_ge "$(grep -c 'said nothing within 10s, dropped' "$SUPLOG")" 2 \
    "hello timeout lines in the supervisor log"

# Everything bad is gone; the session is untouched.
wait_for 10 sh -c "[ \$(ls /proc/$SUP_PID/fd | wc -l) -le $FD0 ]"
assert_eq "$(ls "/proc/$SUP_PID/fd" | wc -l)" "$FD0" "supervisor descriptors"
session_send keep after-all
alive "$SUP_PID" || fail "the supervisor died"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
assert_eq "$(vm_state ubuntu)" running "the VM while its session is up"
session_close keep
assert_eq "$RC" 0 "the kept session's ssh exit status"
# And the VM is stopped when idle, as if nothing had happened.
wait_for 20 vm_state_is ubuntu stopped
