#!/bin/sh
# 10,000 sessions opened and closed against one supervisor: every one
# gets the guest's banner, and the supervisor's open descriptors and
# resident memory come back to their idle values.  The guest is a small
# banner server on the VM's address (the double's VM runs with nolisten),
# so the test measures vmlaunch and not sshd; the VM was started by hand
# and ends running, never stopped.
. "$(dirname "$0")/../lib.sh"
test_init
N=${FAULT_SESSIONS:-10000}
# Under the sanitizers each session's fork (the client's keeper) costs
# tens of times more: 2,000 sessions still show a leak of a few bytes
# each against the RSS bound below.
[ "${SANITIZE:-0}" = 1 ] && N=${FAULT_SESSIONS:-2000}
CONF_IDLE=1s
add_vm ubuntu nolisten 1
conf_begin; conf_vm ubuntu; conf_end
vm_start_by_hand_nolisten() {
	"$DOUBLE" start ubuntu 2>/dev/null || fail "vmctl start ubuntu by hand"
}
vm_start_by_hand_nolisten

# The guest: a banner, then it waits for the client's EOF and hangs up.
"$PY" -c '
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(512)
def serve(c):
    try:
        c.sendall(b"SSH-2.0-fault\r\n")
        c.settimeout(30)
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$(vm_addr ubuntu)" "$(vm_port ubuntu)" "$T/guest.ready" &
register_pid $!
wait_for 10 guest_answers ubuntu
# Under ASan (make sanitize) freed memory sits in a quarantine that would
# look like growth; without one, RSS means the same as in a plain build.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
export ASAN_OPTIONS
supervisor_start

# One session stays open throughout, so the supervisor has something to
# watch (it exits by itself otherwise) and must not lose it.
mkfifo "$T/held.in"
sleep 100000 >"$T/held.in" &
register_pid $!
"$VMLAUNCH" -f "$CONF" ubuntu.vm 22 <"$T/held.in" >"$T/held.out" \
    2>"$T/held.err" &
HELD=$!
register_pid $HELD
wait_for 10 grep -q '^SSH-2.0-fault' "$T/held.out"

fds() {
	ls "/proc/$SUP_PID/fd" | wc -l
}
rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$SUP_PID/status"
}
# many COUNT: COUNT sessions, 6 at a time; appends banners to $T/banners.
many() {
	seq "$1" | F_VM="$VMLAUNCH" F_CONF="$CONF" F_T="$T" xargs -P 6 -n 100 \
	    sh -c 'for i; do
			"$F_VM" -f "$F_CONF" ubuntu.vm 22 </dev/null \
			    >>"$F_T/banners" 2>>"$F_T/client.err" ||
			    echo "$?" >>"$F_T/client.fail"
		done' sh
}

# Warm up so that lazily allocated memory is counted as idle, then
# measure the idle supervisor.
many 200
: >"$T/banners"
wait_for 10 sh -c "[ \$(ls /proc/$SUP_PID/fd | wc -l) -le 64 ]"
FD0=$(fds)
RSS0=$(rss)
msg "idle before: $FD0 fds, RSS $RSS0 kB"

t0=$(now_ms)
many "$N"
t1=$(now_ms)
msg "$N sessions in $(((t1 - t0) / 1000))s"

assert_eq "$(cat "$T/client.fail" 2>/dev/null | wc -l)" 0 \
    "failed clients ($(sort "$T/client.fail" 2>/dev/null | uniq -c | head -3))"
assert_eq "$(grep -c '^SSH-2.0-fault' "$T/banners")" "$N" \
    "sessions that got the guest's banner"
alive "$SUP_PID" || fail "the supervisor died"

# Named assertion: back to idle.  Descriptors exactly, memory within
# 1 MiB (malloc may keep a little; a leak of 100 bytes per session would
# be 1 MB).
wait_for 20 sh -c "[ \$(ls /proc/$SUP_PID/fd | wc -l) -le $FD0 ]"
FD1=$(fds)
RSS1=$(rss)
msg "idle after: $FD1 fds, RSS $RSS1 kB"
assert_eq "$FD1" "$FD0" "supervisor open descriptors after $N sessions"
assert_le "$RSS1" $((RSS0 + 1024)) "supervisor RSS (kB) after $N sessions"

alive "$HELD" || fail "the session held open throughout ended"
assert_eq "$(cat "$T/held.out")" "$(printf 'SSH-2.0-fault\r')" \
    "what the held session received"
assert_eq "$(cat "$T/client.err" 2>/dev/null)" "" "the clients' stderr"

# The VM: started by hand, so running still, and no vmctl start or stop.
assert_eq "$(vm_state ubuntu)" running "the VM's state"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls (the one by hand)"
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls"
