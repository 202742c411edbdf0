#!/bin/sh
# kill -9 of the supervisor while a client waits for its VM: the client
# does not give up, it finds a new supervisor (starting one), asks again
# and gets its session.  Held twice: after the client was told that the
# VM is starting (vmctl start held at a gate, so the kill lands in the
# middle of the start), and before the supervisor has even read the
# client's request (supervisor stopped with SIGSTOP: the kill then
# resets the connection).  (Before: the client exited 255 with "the
# supervisor closed the connection" or "Connection reset by peer".)
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

# 1. While vmctl start runs.
gate_close 'start ubuntu'
session_open 1 ubuntu.vm
gate_wait 'start ubuntu'
wait_for 10 grep -q 'starting the vm' "$T/s.1.err"
kill -9 "$SUP_PID"
gate_open 'start ubuntu'
session_wait_up 1 30
session_send 1 after-the-kill
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start calls"
pid=$(supervisor_pid) || fail "no supervisor after the kill"
assert_ne "$pid" "$SUP_PID" "the supervisor"

# 2. Before the supervisor read the request.
kill -STOP "$pid"
session_open 2 ubuntu.vm
wait_for 10 sh -c "ss -xH | grep -qF '$SOCK'"
kill -9 "$pid"
kill -CONT "$pid" 2>/dev/null
session_wait_up 2 30
session_send 2 after-the-second-kill
session_send 1 still-there
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start calls"
session_close 1
assert_eq "$RC" 0 "session 1's exit status"
session_close 2
assert_eq "$RC" 0 "session 2's exit status"
# And what vmlaunch started is still stopped when idle.
wait_for 30 vm_state_is ubuntu stopped
