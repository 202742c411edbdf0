#!/bin/sh
# SIGTERM while a session's connect to a ready guest is in flight: the
# waiting client is told that the supervisor is shutting down (exit 255,
# one line), the connect goes with its session, the VM that vmlaunch
# started is stopped and the supervisor exits 0 once it is.
#
# The moment is held with gdb (needs root or ptrace rights, and gdb):
# the guest's accept queue is full, so the connect's SYN goes unanswered;
# SIGTERM reaches the supervisor, which is stopped as it reads the
# signal (libevent reads it from a pipe); the guest then lets the connect through, so that when the
# supervisor goes on, the connect's completion is seen right after the
# shutdown has failed the session.  (Before: that completion reached a
# session with no VM: a NULL dereference, and the VM never stopped.)
. "$(dirname "$0")/../lib.sh"
test_init
command -v gdb >/dev/null || skip "needs gdb"
add_vm ubuntu nolisten 1 shutdown_delay 1
CONF_STOP=10s conf_begin; conf_vm ubuntu; conf_end

# The guest: accepts one connection (the readiness probe, handed to the
# first client) with a banner, then accepts nothing until $T/drain
# exists, then everything.
"$PY" -c '
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
held = []
c, _ = s.accept()
c.sendall(b"SSH-2.0-moment\r\n")
held.append(c)
while not os.path.exists(sys.argv[3]):
    time.sleep(0.02)
while True:
    c, _ = s.accept()
    c.sendall(b"SSH-2.0-moment\r\n")
    held.append(c)
' "$(vm_addr ubuntu)" "$(vm_port ubuntu)" "$T/drain" &
register_pid $!

supervisor_start
client_bg 1
wait_for 20 client_got_banner 1

# Fill the accept queue: from now on a SYN to the guest goes unanswered.
"$PY" -c '
import socket, sys, time
held = []
for i in range(4):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect((sys.argv[1], int(sys.argv[2])))
    except BlockingIOError:
        pass
    held.append(s)
open(sys.argv[3], "w").close()
time.sleep(100000)
' "$(vm_addr ubuntu)" "$(vm_port ubuntu)" "$T/filled" &
register_pid $!
wait_for 10 test -f "$T/filled"

# The supervisor's connections to the guest in a TCP state.
cat >"$T/conns.sh" <<EOF2
ss -tnHp state "\$1" dst $(vm_addr ubuntu):$(vm_port ubuntu) |
    grep -c "pid=$SUP_PID,"
EOF2
# Run by gdb while the supervisor is held: let the SYN in, wait for it.
cat >"$T/release.sh" <<EOF2
touch "$T/drain"
n=0
while [ "\$(sh $T/conns.sh established)" -lt 1 ] && [ \$n -lt 200 ]; do
	sleep 0.05
	n=\$((n + 1))
done
sh $T/conns.sh established >"$T/established"
EOF2

client_bg 2
wait_for 10 sh -c "[ \$(grep -c 'vm ubuntu: session request' '$SUPLOG') -ge 2 ]"
wait_for 10 sh -c "[ \$(sh $T/conns.sh syn-sent) = 1 ]"
gdb -p "$SUP_PID" -batch -nx \
    -ex 'handle SIGTERM nostop noprint pass' \
    -ex 'catch syscall read recvfrom' \
    -ex 'echo GDB-READY\n' \
    -ex 'continue' \
    -ex "shell sh $T/release.sh" \
    -ex 'delete' -ex 'detach' >"$T/gdb.out" 2>&1 &
GDB=$!
register_pid $GDB
wait_for 20 grep -q GDB-READY "$T/gdb.out"
# gdb prints READY before it continues: let it get there.
wait_for 60 sh -c "grep -q 'State:.*[RS] ' /proc/$SUP_PID/status"
kill -TERM "$SUP_PID"
wait_for 30 not alive "$GDB"
grep -qE 'Catchpoint 1 \(call to syscall (read|recvfrom)\)' "$T/gdb.out" ||
    fail "gdb did not hold the supervisor: $(cat "$T/gdb.out")"
assert_eq "$(cat "$T/established")" 1 "connections once the SYN went through"

wait_for 30 not alive "$SUP_PID"
wait "$SUP_PID"
assert_eq "$?" 0 "the supervisor's exit status"
client_wait 2 30
assert_eq "$RC" 255 "the waiting client's exit status"
assert_match "$(client_err 2)" 'shutting down' "the waiting client's message"
assert_eq "$(vm_state ubuntu)" stopped "the VM after the shutdown"
assert_eq "$(vmctl_calls 'stop ubuntu$')" 1 "vmctl stop calls"
grep -q "shutdown complete" "$SUPLOG" || fail "no 'shutdown complete' in the log"
