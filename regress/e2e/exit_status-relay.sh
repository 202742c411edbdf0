#!/bin/sh
# vmlaunch.1, EXIT STATUS, ProxyCommand 255: "a failed relay".  The
# guest (a stand-in for sshd on the VM's address: it sends a banner,
# waits for the client's first bytes, then acts) resets the connection
# right after it was handed over: the ProxyCommand exits 255 with one
# line naming the VM and the reset, as ssh shows it too.  Beside it, the
# 0 row: a guest that closes the connection ends the session, exit 0,
# nothing on stderr (ssh then reports the close itself).
. "$(dirname "$0")/../lib.sh"
test_init
CONF_IDLE=1h
add_vm ubuntu nolisten
conf_begin; conf_vm ubuntu; conf_end

# The guest: per connection, the banner, then on the first bytes from
# the client "reset" (SO_LINGER 0: an RST) or "close" (a FIN), as
# $T/guest.mode says.  Each step is logged.
cat >"$T/guest.py" <<'EOF'
import socket, struct, sys, threading
addr, port, mode, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lock = threading.Lock()
def say(s):
    with lock, open(log, "a") as f:
        f.write(s + "\n")
def serve(c):
    c.sendall(b"SSH-2.0-OpenSSH_9.9 stand-in\r\n")
    c.settimeout(120)
    try:
        data = c.recv(4096)
    except OSError as e:
        say("error %s" % e)
        c.close()
        return
    if not data:
        say("eof")
        c.close()
        return
    how = open(mode).read().strip()
    say("data, %s" % how)
    if how == "reset":
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
            struct.pack("ii", 1, 0))
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(16)
say("listening")
while True:
    c, _ = s.accept()
    say("accepted")
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
GLOG=$T/guest.log
echo reset >"$T/guest.mode"
"$PY" "$T/guest.py" "$(vm_addr ubuntu)" "$(vm_port ubuntu)" "$T/guest.mode" \
    "$GLOG" 2>>"$GLOG" &
register_pid $!
wait_for 10 grep -q listening "$GLOG"

resets() {
	grep -c '^data, reset$' "$GLOG"
}

# The ProxyCommand alone: the client's first bytes, once the guest's
# banner came through; the guest resets.
client_bg 1 ubuntu.vm 22
wait_for 30 client_got_banner 1
printf 'SSH-2.0-test\r\n' >"$T/c.1.in"
client_wait 1 30
err=$(noprogress "$(client_err 1)")
assert_eq "$(resets)" 1 "the guest's resets"
assert_eq "$RC" 255 "ProxyCommand, the guest resets: exit status ($err)"
assert_eq "$(printf '%s\n' "$err" | wc -l)" 1 \
    "ProxyCommand, the guest resets: one line on stderr ($err)"
assert_match "$err" '^vmlaunch: ubuntu: (guest to stdout|stdin to guest)(: read|: write)?: Connection reset by peer$' \
    "ProxyCommand, the guest resets: stderr"
kill "$(cat "$T/c.1.holder")"

# As ssh shows it.
run_ssh ubuntu.vm true
assert_eq "$(resets)" 2 "the guest's resets"
assert_eq "$RC" 255 "ssh, the guest resets: exit status"
assert_match "$ERR" '^vmlaunch: ubuntu: (guest to stdout|stdin to guest)(: read|: write)?: Connection reset by peer$' \
    "ssh, the guest resets: stderr"

# The guest closes instead: the session ended, exit 0, nothing said.
echo close >"$T/guest.mode"
client_bg 2 ubuntu.vm 22
wait_for 30 client_got_banner 2
printf 'SSH-2.0-test\r\n' >"$T/c.2.in"
wait_for 10 grep -q '^data, close$' "$GLOG"
# Its stdout closed, ssh would exit and close the ProxyCommand's stdin.
client_end 2 30
assert_eq "$RC" 0 "ProxyCommand, the guest closes: exit status"
assert_eq "$(noprogress "$(client_err 2)")" "" \
    "ProxyCommand, the guest closes: stderr"
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start calls"
