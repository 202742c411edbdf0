#!/bin/sh
# Signals at awkward moments.  While a VM boots (boot takes 2 s): HUP
# reloads and the waiting client still gets its session; TERM and INT
# make the supervisor stop the VM it started and exit 0, the waiting
# client failing with exit 255 and one line.  While a VM stops (shutdown
# takes 2 s): HUP leaves the stop to finish and the supervisor serves the
# next session; TERM and INT let the stop finish, then exit 0.  SIGPIPE:
# a raw client that asks for a session and dies at once, and a
# ProxyCommand whose ssh dies: the supervisor survives both, the client
# exits,
# the dead sessions end, and the VM stops when idle.
. "$(dirname "$0")/../lib.sh"
test_init
CONF_IDLE=1s
CONF_BOOT=20s
add_vm ubuntu boot_delay 2 shutdown_delay 2
conf_begin; conf_vm ubuntu; conf_end
# Many starts in a row here; vmd's three-fast-starts rule is not the point.
: >"$VMD/no_rate_limit"

proxy_bg() {	# name: a ProxyCommand in the background, stdin held open
	mkfifo "$T/$1.in"
	sleep 100000 >"$T/$1.in" &
	register_pid $!
	echo $! >"$T/$1.holder"
	"$VMLAUNCH" -f "$CONF" ubuntu.vm 22 <"$T/$1.in" >"$T/$1.out" \
	    2>"$T/$1.err" &
	echo $! >"$T/$1.pid"
	register_pid $!
}
booting() {
	vmctl_called 'start ubuntu$' "$1" && vm_state_is ubuntu running &&
	    ! guest_answers ubuntu
}
stopping() {
	[ "$(vm_state ubuntu)" = stopping ]
}

# --- while booting ---------------------------------------------------
supervisor_start
proxy_bg hup
wait_for 10 booting 1
kill -HUP "$SUP_PID"
wait_for 20 grep -q '^SSH-2.0-' "$T/hup.out"
alive "$SUP_PID" || fail "HUP while booting: the supervisor died"
grep -q 'SIGHUP: reloading' "$SUPLOG" || fail "HUP while booting: not logged"
assert_eq "$(vmctl_calls 'start')" 1 "HUP while booting: vmctl start calls"
kill "$(cat "$T/hup.holder")"
wait_for 10 not alive "$(cat "$T/hup.pid")"

# --- while stopping (HUP) ---------------------------------------------
wait_for 15 stopping
kill -HUP "$SUP_PID"
wait_for 15 vm_state_is ubuntu stopped
alive "$SUP_PID" || fail "HUP while stopping: the supervisor died"
run_ssh ubuntu.vm echo after-hup
assert_eq "$RC" 0 "HUP while stopping: the next ssh (stderr: $ERR)"
assert_eq "$OUT" after-hup "HUP while stopping: output"

# --- TERM and INT while stopping --------------------------------------
for sig in TERM INT; do
	alive "$SUP_PID" || supervisor_start
	vm_state_is ubuntu running || { run_ssh ubuntu.vm true;
	    assert_eq "$RC" 0 "$sig while stopping: ssh to get it running"; }
	wait_for 15 stopping
	kill -"$sig" "$SUP_PID"
	wait_for 15 not alive "$SUP_PID"
	wait "$SUP_PID"
	assert_eq "$?" 0 "$sig while stopping: the supervisor's exit status"
	assert_eq "$(vm_state ubuntu)" stopped "$sig while stopping: the VM"
	msg "$sig while stopping: exit 0, VM stopped"
done

# --- TERM and INT while booting ---------------------------------------
for sig in TERM INT; do
	supervisor_start
	n=$(vmctl_calls 'start ubuntu$')
	proxy_bg "$sig"
	wait_for 15 booting $((n + 1))
	kill -"$sig" "$SUP_PID"
	wait_for 15 not alive "$SUP_PID"
	wait "$SUP_PID"
	assert_eq "$?" 0 "$sig while booting: the supervisor's exit status"
	p=$(cat "$T/$sig.pid")
	wait_for 10 not alive "$p"
	wait "$p"
	assert_eq "$?" 255 "$sig while booting: the waiting client's exit status"
	assert_eq "$(wc -l <"$T/$sig.out")" 0 "$sig while booting: client stdout"
	assert_match "$(tail -n 1 "$T/$sig.err")" '^vmlaunch: ubuntu(\.vm)?: .*shutting down' \
	    "$sig while booting: the client's last stderr line"
	wait_for 15 vm_state_is ubuntu stopped
	msg "$sig while booting: $(tail -n 1 "$T/$sig.err")"
done

# --- SIGPIPE -----------------------------------------------------------
supervisor_start
# A raw client asks for a session and is gone before any answer: every
# progress message and the guest socket go to a closed socket.
"$PY" -c '
import socket, struct, sys
host = b"ubuntu.vm"
p = struct.pack(">IHH", 1, 22, 0) + struct.pack(">H", len(host)) + host
p += struct.pack(">H", 0) + struct.pack(">H", 0)
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(struct.pack(">II", 1, len(p)) + p)
s.close()
' "$SOCK" || fail "raw client"
# A ProxyCommand whose ssh died: its stdout is a closed pipe at once (the
# guest's banner meets EPIPE), then its stdin closes too.
"$PY" -c '
import os, subprocess, sys, time
r, w = os.pipe()
p = subprocess.Popen([sys.argv[1], "-f", sys.argv[2], "ubuntu.vm", "22"],
    stdin=subprocess.PIPE, stdout=w, stderr=subprocess.DEVNULL)
os.close(w)
os.close(r)
try:
    rc = p.wait(timeout=10)
except subprocess.TimeoutExpired:
    p.stdin.close()
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        sys.exit("the ProxyCommand did not notice that ssh was gone")
print(rc)
' "$VMLAUNCH" "$CONF" >"$T/pipe.rc" || fail "$(cat "$T/pipe.rc")"
msg "ProxyCommand whose ssh died: exit $(cat "$T/pipe.rc")"
alive "$SUP_PID" || fail "SIGPIPE: the supervisor died"
run_ssh ubuntu.vm echo after-pipe
assert_eq "$RC" 0 "after the dead clients: ssh (stderr: $ERR)"
assert_eq "$OUT" after-pipe "after the dead clients: output"
# No session is left behind: the VM stops when idle.
wait_for 20 vm_state_is ubuntu stopped
