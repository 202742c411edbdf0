#!/bin/sh
# backend command: a VM run by the user's own sh commands, here a real
# sshd started detached on a free loopback address.  Cold ssh under 10
# concurrent connections runs the start command once; idle stop runs the
# stop command and the status command then says stopped; a stop command
# that does nothing is followed by the force stop command after stop
# wait; a status command that prints garbage fails ssh with exit 255 and
# a clear message; vmlaunch -s shows the VM, with and without a
# supervisor.  Each command gets the name as $1 and VMLAUNCH_VM, and
# VMLAUNCH_ACTION.
. "$(dirname "$0")/../lib.sh"
test_init
G=$T/guest
mkdir -p "$G"
pick_addr_port
ADDR_tiny=$ADDR PORT_tiny=$PORT

cat >"$G/sshd_config" <<EOF
ListenAddress $ADDR:$PORT
HostKey $VMD/ssh_host_ed25519_key
AuthorizedKeysFile $VMD/authorized_keys
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups 200
EOF

# The four commands in one script: guestctl "$0" "$1".
cat >"$G/guestctl" <<EOF
#!/bin/sh
G=$G
echo "\$(date +%s%3N) \$VMLAUNCH_ACTION \$1 \$2 \$VMLAUNCH_VM" >>"\$G/calls"
alive() {
	p=\$(cat "\$G/pid" 2>/dev/null) && [ -n "\$p" ] || return 1
	s=\$(cat "/proc/\$p/stat" 2>/dev/null) || return 1
	s=\${s##*) }
	[ "\${s%% *}" != Z ] && echo "\$p"
}
case \$VMLAUNCH_ACTION in
start)
	alive >/dev/null && { echo "guestctl: already running" >&2; exit 1; }
	# Return only once status can see it, as the contract asks.
	rm -f "\$G/pid"
	setsid sh -c 'echo \$\$ >"\$1/pid.new"; mv "\$1/pid.new" "\$1/pid"
	    exec /usr/sbin/sshd -D -e -f "\$1/sshd_config"' \\
	    sh "\$G" </dev/null >/dev/null 2>>"\$G/guest.log" &
	n=0
	while [ ! -s "\$G/pid" ] && [ \$n -lt 500 ]; do
		sleep 0.01
		n=\$((n + 1))
	done
	alive >/dev/null || { echo "guestctl: sshd did not start" >&2; exit 1; }
	echo "guestctl: started \$2"
	;;
stop)
	[ -f "\$G/stop_ignored" ] && exit 0
	p=\$(alive) || { echo "guestctl: not running" >&2; exit 1; }
	kill -TERM "\$p"
	;;
kill)
	p=\$(alive) || { echo "guestctl: not running" >&2; exit 1; }
	kill -KILL "\$p"
	;;
status)
	[ -f "\$G/garbage" ] && { echo "hello world"; exit 0; }
	if p=\$(alive); then echo "running \$p"; else echo stopped; fi
	;;
*)
	echo "guestctl: no action" >&2
	exit 2
	;;
esac
EOF
chmod 755 "$G/guestctl"

# Idle 4s, stop wait 2s: long enough to tell each step apart by time.
CONF_IDLE=4s CONF_STOP=2s conf_begin
cmd="$G/guestctl \\\"\$0\\\" \\\"\$1\\\""
conf_vm tiny "backend command {" \
    "	start \"$cmd\"" "	stop \"$cmd\"" "	force stop \"$cmd\"" \
    "	status \"$cmd\"" "}"
conf_end

calls() {	# action: how many times that command ran
	if [ -f "$G/calls" ]; then
		grep -c " $1 vmlaunch-backend tiny tiny\$" "$G/calls"
	else
		echo 0
	fi
}
call_ms() {	# action [N]
	grep " $1 vmlaunch-backend tiny tiny\$" "$G/calls" |
	    sed -n "${2:-1}p" | cut -d' ' -f1
}
called() {	# action [N]
	[ "$(calls "$1")" -ge "${2:-1}" ]
}
guest_state() {
	VMLAUNCH_ACTION=status "$G/guestctl" vmlaunch-backend tiny |
	    cut -d' ' -f1
}
guest_state_is() {
	[ "$(guest_state)" = "$1" ]
}
# vmlaunch -s (supervisor or not) says stopped: no stop in progress.
seen_stopped() {
	"$VMLAUNCH" -s -f "$CONF" 2>/dev/null |
	    grep -qE '^tiny +stopped +(stopped|-) '
}

# vmlaunch -s with no supervisor runs the status command itself.
out=$("$VMLAUNCH" -s -f "$CONF" 2>"$T/s.err") ||
    fail "vmlaunch -s without a supervisor: $(cat "$T/s.err")"
assert_match "$out" '^tiny +stopped ' "-s without a supervisor"
assert_match "$out" '^no supervisor running' "-s without a supervisor"
# From here on a foreground supervisor, whose log times the idle stop.
supervisor_start

# Cold, 10 at once: one start command, every session served.  Each
# session holds until all ten have answered, so however slowly a client
# starts on a loaded machine, the VM is in use when it arrives: a second
# start would be a bug, not an idle stop in between.
i=1
while [ $i -le 10 ]; do
	timeout -k 5 60 ssh -F "$SSHCFG" tiny.vm "echo hello $i;
	    while [ ! -e '$T/release' ]; do sleep 0.05; done" \
	    </dev/null >"$T/c.$i.out" 2>"$T/c.$i.err" &
	echo $! >"$T/c.$i.pid"
	register_pid $!
	i=$((i + 1))
done
all_answered() {
	_i=1
	while [ $_i -le 10 ]; do
		[ "$(cat "$T/c.$_i.out")" = "hello $_i" ] || return 1
		_i=$((_i + 1))
	done
}
wait_for 60 all_answered
assert_eq "$(calls start)" 1 "start commands with 10 sessions open"
touch "$T/release"
i=1
while [ $i -le 10 ]; do
	pid=$(cat "$T/c.$i.pid")
	wait_for 60 not alive "$pid"
	wait "$pid"
	rc=$?
	assert_eq "$rc" 0 "ssh $i exit status (stderr: $(cat "$T/c.$i.err"))"
	assert_eq "$(cat "$T/c.$i.out")" "hello $i" "ssh $i output"
	i=$((i + 1))
done
assert_eq "$(calls start)" 1 "start commands under 10 connections"
assert_eq "$(guest_state)" running "guest state after the sessions"

# Idle: the stop command, then status says stopped; no force stop.
wait_for 30 called stop
gap=$(log_gap 'vm tiny: session [0-9]+ ended, 0 open' \
    'vm tiny: stopping it: no session for 4s') || fail "no idle stop logged"
assert_ge "$gap" 3990 "ms of idle countdown before the stop command (4s)"
wait_for 10 guest_state_is stopped
hold_for 2500 not called kill
assert_eq "$(calls start)" 1 "start commands after the idle stop"

# A stop command that does nothing: force stop after stop wait (2s).
touch "$G/stop_ignored"
run_ssh tiny.vm echo again
assert_eq "$RC" 0 "ssh exit status, second boot (stderr: $ERR)"
assert_eq "$OUT" again "output, second boot"
assert_eq "$(calls start)" 2 "start commands after the second boot"
wait_for 20 called stop 2
wait_for 10 called kill
gap=$(log_gap 'vm tiny: stopping it: no session' \
    'vm tiny: still running 2s after the stop request, forcing it') ||
    fail "no forced stop logged"
assert_ge "$gap" 1990 "ms from the stop command to the force stop (2s)"
assert_ge "$(call_ms kill)" "$(call_ms stop 2)" "the force stop after the stop"
wait_for 10 guest_state_is stopped
wait_for 10 seen_stopped
rm -f "$G/stop_ignored"

# A status command that prints garbage: ssh fails with the reason.
touch "$G/garbage"
run_ssh tiny.vm echo nope
assert_eq "$RC" 255 "ssh exit status with a garbage status"
assert_contains "$ERR" 'tiny: status command printed "hello world", expected running, stopped or stopping' \
    "ssh's stderr with a garbage status"
assert_eq "$OUT" "" "stdout with a garbage status"
assert_eq "$(calls start)" 2 "no start on a garbage status"
rm -f "$G/garbage"

# vmlaunch -s through the supervisor, in a session.
session_open 1 tiny.vm
session_wait_up 1
out=$("$VMLAUNCH" -s -f "$CONF" 2>"$T/s.err") ||
    fail "vmlaunch -s: $(cat "$T/s.err")"
msg "$out"
assert_match "$out" '^tiny +running +ready +1 +yes ' "-s in a session"
assert_contains "$(echo "$out" | grep '^tiny ')" "$ADDR" "-s address"
session_close 1
assert_eq "$(calls start)" 3 "start commands in all"
wait_for 15 guest_state_is stopped
