#!/bin/sh
# The readiness probe backs off for a guest that is far from ready: a
# boot held for 12 s with a guest that answers every connect and hangs up
# before the banner (its network is up, its sshd is not) is probed every
# 10-15 ms for its first 5 s, then less and less often, down to twice a
# second (probe.c).  The guest counts the connects; the test fails when
# the probe keeps its first pace for the whole boot wait (about 65
# connects a second: ~390 in the 6 s counted below), and passes anywhere
# under 60 (10 a second, five times the schedule's rate).  The counts
# are of what the supervisor did, so a loaded machine only lowers them.
# Then the guest sends its banner and the waiting client gets it.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm quiet boot_delay 0 nolisten 1
conf_begin; conf_vm quiet "boot wait 60s"; conf_end

# The guest: every accept is a line of ms in accepts; until the file
# "up" exists it hangs up at once, then it sends a banner and waits for
# the client's EOF.
"$PY" -c '
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
log = open(sys.argv[3] + "/accepts", "a", buffering=1)
while True:
    c, _ = s.accept()
    log.write("%d\n" % (time.time_ns() // 1000000))
    if os.path.exists(sys.argv[3] + "/up"):
        c.sendall(b"SSH-2.0-backoff\r\n")
        while c.recv(4096):
            pass
    c.close()
' "$(vm_addr quiet)" "$(vm_port quiet)" "$T" &
register_pid $!

supervisor_start
client_bg 1 quiet.vm
first_accept() {
	[ -s "$T/accepts" ] && head -n 1 "$T/accepts"
}
wait_for 30 first_accept
first=$(first_accept)
msg "first probe at $first"

# Hold the boot 12 s past the first probe (the guest's clock).
held_long_enough() {
	[ $(($(now_ms) - first)) -ge 12000 ]
}
wait_for 40 held_long_enough
touch "$T/up"
wait_for 30 client_got_banner 1
cp "$T/accepts" "$T/accepts.held"

count_between() {	# from to: accepts in [first + from, first + to) ms
	awk -v a=$((first + $1)) -v b=$((first + $2)) \
	    '$1 >= a && $1 < b { n++ } END { print n + 0 }' "$T/accepts.held"
}
fast=$(count_between 0 5000)
late=$(count_between 6000 12000)
msg "connects: $fast in the first 5 s, $late from 6 s to 12 s," \
    "$(wc -l <"$T/accepts.held") in all"
assert_le "$late" 60 "connects from 6 s to 12 s of a held boot"
assert_ge "$late" 1 "connects from 6 s to 12 s (the probe goes on)"
client_end 1
assert_eq "$RC" 0 "the client's exit status"
