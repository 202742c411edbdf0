#!/bin/sh
# A supervisor that is frozen (SIGSTOP) answers nobody: a ProxyCommand
# and `vmlaunch -s` still end, with a clear message and their failure
# exit status, within a bound (the client: 15 s without a word from the
# supervisor; -s: vmctl timeout plus 10 s), also once the control
# socket's listen backlog is full and connect(2) itself would wait.
# Thawed, the supervisor serves again.  (Before: both waited forever.)
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin 'vmctl timeout 4s'; conf_vm ubuntu; conf_end
supervisor_start
run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh before the freeze (stderr: $ERR)"
kill -STOP "$SUP_PID"

check_frozen() {	# what
	t0=$(now_ms)
	run_proxy ubuntu.vm 22
	el=$(($(now_ms) - t0))
	assert_eq "$RC" 255 "$1: the client's exit status"
	assert_match "$ERR" 'supervisor .*did not answer' "$1: the client's message"
	assert_eq "$(printf '%s\n' "$ERR" | wc -l)" 1 "$1: lines from the client"
	msg "$1: the client gave up after ${el}ms"
	t0=$(now_ms)
	out=$(timeout 60 "$VMLAUNCH" -s -f "$CONF" 2>&1)
	rc=$?
	el=$(($(now_ms) - t0))
	assert_eq "$rc" 1 "$1: vmlaunch -s exit status"
	assert_match "$out" 'supervisor .*did not answer' "$1: vmlaunch -s message"
	msg "$1: vmlaunch -s gave up after ${el}ms"
}
check_frozen "frozen"

# Fill the listen backlog with connections nobody accepts.
"$PY" -c '
import socket, sys, time
held = []
try:
    while len(held) < 4096:
        s = socket.socket(socket.AF_UNIX)
        s.setblocking(False)
        s.connect(sys.argv[1])
        held.append(s)
except OSError:
    pass
open(sys.argv[2], "w").write(str(len(held)))
time.sleep(100000)
' "$SOCK" "$T/backlog" &
register_pid $!
wait_for 20 test -s "$T/backlog"
msg "the backlog took $(cat "$T/backlog") connections"
check_frozen "backlog full"

kill -CONT "$SUP_PID"
run_ssh ubuntu.vm echo thawed
assert_eq "$RC" 0 "ssh after the thaw (stderr: $ERR)"
assert_eq "$OUT" thawed "its output"
