#!/bin/sh
# Every row of vmlaunch.1's EXIT STATUS, in the order of the table, with
# what the user sees on stdout and stderr: 0 success, 1 for -n, -d and
# -s when they cannot do it, 2 for a wrong command line (any mode), 255
# for any ProxyCommand failure.  Rows that need a moment held or a guest
# of their own are beside it: exit_status-listen.sh (-d could not
# listen), exit_status-status.sh (-s whose answer broke off) and
# exit_status-relay.sh (a failed relay).
. "$(dirname "$0")/../lib.sh"
test_init
CONF_IDLE=1h
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
BAD=$T/bad.conf
printf 'idle timout 5m\nport 0\n' >"$BAD"
chmod 600 "$BAD"
BAD1=$T/bad1.conf
printf 'domain vm\n' >"$BAD1"
chmod 600 "$BAD1"
EMPTYHOME=$T/home
mkdir "$EMPTYHOME"

# run ARGS...: vmlaunch with nothing on stdin; RC, OUT, ERR.
run() {
	timeout -k 5 30 "$VMLAUNCH" "$@" </dev/null >"$T/run.out" 2>"$T/run.err"
	RC=$?
	OUT=$(cat "$T/run.out")
	ERR=$(cat "$T/run.err")
	[ $RC = 124 ] && fail "vmlaunch $* did not finish"
	return 0
}

lines() {
	if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | wc -l; fi
}

# --- 0: success -----------------------------------------------------------
run -V
assert_eq "$RC" 0 "-V: exit status"
want=$(sed -n 's/^#define VMLAUNCH_VERSION[[:space:]]*"\(.*\)"/\1/p' \
    "$TOP/vmlaunch.h")
assert_eq "$OUT" "vmlaunch $want" "-V: stdout"
assert_eq "$ERR" "" "-V: stderr"

run -n -f "$CONF"
assert_eq "$RC" 0 "-n, valid file: exit status"
assert_eq "$ERR" "configuration OK" "-n, valid file: stderr"

run -n -f "$CONF" ubuntu.vm 22
assert_eq "$RC" 0 "-n host: exit status"
assert_match "$OUT" '^# ubuntu.vm port 22: vm "ubuntu"' "-n host: stdout"

# The ProxyCommand: 0 when the session ends normally (here: no client
# data, so the guest's sshd closes after its banner).
run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "ssh through vmlaunch: exit status (stderr: $ERR)"
assert_eq "$OUT" hello "ssh through vmlaunch: output"
run_proxy ubuntu.vm
assert_eq "$RC" 0 "the ProxyCommand alone: exit status (stderr: $ERR)"
assert_match "$OUT" '^SSH-2.0-' "the ProxyCommand alone: the guest's banner"

# -s: 0 with a supervisor (the one the ssh above started) ...
wait_for 10 sock_accepts
run -s -f "$CONF"
assert_eq "$RC" 0 "-s with a supervisor: exit status"
assert_match "$OUT" '^ubuntu +running ' "-s with a supervisor: stdout"
assert_eq "$ERR" "" "-s with a supervisor: stderr"

# ... and -s with a broken file: the supervisor's view, and a warning.
cp "$CONF" "$T/broken.conf"
echo 'idle timout 5m' >>"$T/broken.conf"
chmod 600 "$T/broken.conf"
run -s -f "$T/broken.conf"
assert_eq "$RC" 0 "-s, broken file, a supervisor answers: exit status"
assert_match "$OUT" '^ubuntu +running ' \
    "-s, broken file, a supervisor answers: stdout"
assert_match "$ERR" "^$T/broken.conf:[0-9]+: unknown keyword \"timout\"" \
    "-s, broken file, a supervisor answers: the error"
assert_match "$ERR" "^vmlaunch: the configuration has errors: this is the view of the running supervisor" \
    "-s, broken file, a supervisor answers: the warning"

# -d: 0 after a clean shutdown.
SUP=$(vmlaunch_pids | head -n 1)
[ -n "$SUP" ] || fail "no supervisor to stop"
kill -TERM "$SUP"
wait_for 20 not alive "$SUP"
wait_for 5 not sock_accepts

"$VMLAUNCH" -d -f "$CONF" 2>"$T/d.err" &
DPID=$!
register_pid $DPID
wait_for 10 sock_accepts
kill -TERM $DPID
wait_for 20 not alive $DPID
wait $DPID
assert_eq "$?" 0 "-d after SIGTERM: exit status"

# -s without a supervisor: vmctl's view, exit 0.
run -s -f "$CONF"
assert_eq "$RC" 0 "-s without a supervisor: exit status"
assert_match "$OUT" '^ubuntu +(stopped|running) ' \
    "-s without a supervisor: stdout"
assert_match "$OUT" 'no supervisor running' "-s without a supervisor: stdout"

# --- 1: -n, -d, -s cannot do it ------------------------------------------
run -n -f "$BAD"
assert_eq "$RC" 1 "-n, errors: exit status"
assert_eq "$(lines "$ERR")" 2 "-n, errors: every error ($ERR)"
assert_match "$ERR" "^$BAD:1: unknown keyword \"timout\" after \"idle\", did you mean \"timeout\"\$" \
    "-n, errors: first"
assert_match "$ERR" "^$BAD:2: port 0 out of range" "-n, errors: second"

run -n -f "$CONF" nosuch.vm
assert_eq "$RC" 1 "-n, unknown host: exit status"
assert_eq "$ERR" "vmlaunch: nosuch.vm: no vm matches this host" \
    "-n, unknown host: stderr"

run -n -f "$CONF" 'bad host'
assert_eq "$RC" 1 "-n, invalid host name: exit status"
assert_eq "$ERR" 'vmlaunch: invalid host name "bad host"' \
    "-n, invalid host name: stderr"

run -n -f "$CONF" ubuntu.vm 0
assert_eq "$RC" 1 "-n, invalid port: exit status"
assert_eq "$ERR" 'vmlaunch: invalid port "0"' "-n, invalid port: stderr"

run -k 1h -f "$CONF" nosuch.vm
assert_eq "$RC" 1 "-k, unknown host: exit status"
assert_match "$ERR" 'nosuch.vm: no vm matches this host$' \
    "-k, unknown host: stderr"

run -d -f "$BAD"
assert_eq "$RC" 1 "-d, errors: exit status"
assert_match "$ERR" "^$BAD:1: unknown keyword" "-d, errors: the errors"
assert_match "$ERR" '^vmlaunch: the supervisor is not started$' \
    "-d, errors: the last line"
sock_accepts && fail "-d with a bad file: a socket answers"

supervisor_start
timeout -k 5 15 "$VMLAUNCH" -d -f "$CONF" >/dev/null 2>"$T/second.err"
assert_eq "$?" 1 "-d when a supervisor already answers: exit status"
assert_contains "$(cat "$T/second.err")" "a supervisor already runs" \
    "-d when a supervisor already answers: stderr"
kill -TERM "$SUP_PID"
wait_for 20 not alive "$SUP_PID"
wait_for 5 not sock_accepts

run -s -f "$T/broken.conf"
assert_eq "$RC" 1 "-s, broken file, no supervisor: exit status"
assert_match "$ERR" "^vmlaunch: the configuration has errors and no supervisor answers on $SOCK\$" \
    "-s, broken file, no supervisor: stderr"
assert_eq "$OUT" "" "-s, broken file, no supervisor: stdout"

sed 's,^vmctl .*,vmctl "/nonexistent/vmctl",' "$CONF" >"$T/novmctl.conf"
chmod 600 "$T/novmctl.conf"
run -s -f "$T/novmctl.conf"
assert_eq "$RC" 1 "-s, vmctl cannot be run: exit status"
assert_match "$ERR" 'vmctl' "-s, vmctl cannot be run: stderr"

# No configuration at all (no -f, an empty home): both places named.
if [ -e /etc/vmlaunch.conf ]; then
	msg "SKIPPED PART: no configuration file (/etc/vmlaunch.conf exists)"
else
	HOME=$EMPTYHOME run -n
	assert_eq "$RC" 1 "-n, no configuration file: exit status"
	assert_eq "$ERR" "vmlaunch: no configuration file: neither $EMPTYHOME/.vmlaunch.conf nor /etc/vmlaunch.conf exists (see vmlaunch.conf(5); check a file with vmlaunch -n -f file)" \
	    "-n, no configuration file: stderr"
	HOME=$EMPTYHOME run -d
	assert_eq "$RC" 1 "-d, no configuration file: exit status"
	HOME=$EMPTYHOME run ubuntu.vm 22
	assert_eq "$RC" 255 "ProxyCommand, no configuration file: exit status"
	assert_eq "$(lines "$ERR")" 2 "ProxyCommand, no configuration file: lines"
	assert_match "$ERR" '^vmlaunch: ubuntu.vm: not started$' \
	    "ProxyCommand, no configuration file: last line"
fi

# --- 2: the command line is wrong, in any mode ---------------------------
for args in '' '-x' '-n -d' '-d -s' '-n -s' '-d ubuntu.vm' \
    '-s ubuntu.vm' 'a 22 extra' '-f'; do
	# shellcheck disable=SC2086
	run $args
	assert_eq "$RC" 2 "usage error \"$args\": exit status"
	assert_match "$ERR" '^usage: vmlaunch \[-v\] \[-f file\] host \[port\]' \
	    "usage error \"$args\": stderr"
	assert_eq "$OUT" "" "usage error \"$args\": stdout"
done

# --- 255: the ProxyCommand failed ------------------------------------------
run -f "$CONF" nosuch.vm 22
assert_eq "$RC" 255 "ProxyCommand, unknown host: exit status"
assert_eq "$ERR" "vmlaunch: nosuch.vm: no vm matches this host" \
    "ProxyCommand, unknown host: stderr"

# A bad config: the first error, then one line; nothing else.
run -f "$BAD" ubuntu.vm 22
assert_eq "$RC" 255 "ProxyCommand, bad config: exit status"
assert_eq "$ERR" "$BAD:1: unknown keyword \"timout\" after \"idle\", did you mean \"timeout\"
vmlaunch: ubuntu.vm: not started, $BAD has 2 errors (vmlaunch -n -f $BAD shows all)" \
    "ProxyCommand, bad config: stderr"
run -f "$BAD1" ubuntu.vm 22
assert_eq "$RC" 255 "ProxyCommand, one error: exit status"
assert_eq "$ERR" "$BAD1:1: \"vm\" is a keyword: quote it to use it as a domain name
vmlaunch: ubuntu.vm: not started, $BAD1 has an error" \
    "ProxyCommand, one error: stderr"
# What ssh shows of it.
run_ssh -o "ProxyCommand $VMLAUNCH -f $BAD %h %p" ubuntu.vm echo hello
assert_eq "$RC" 255 "ssh with a bad config: exit status"
assert_contains "$ERR" "$BAD:1: unknown keyword" "ssh with a bad config: stderr"
assert_contains "$ERR" "vmlaunch: ubuntu.vm: not started" \
    "ssh with a bad config: stderr"

# A host name with control characters: refused, and shown escaped.
run -f "$CONF" "$(printf 'a\033]0;x\007.vm')" 22
assert_eq "$RC" 255 "ProxyCommand, invalid host name: exit status"
assert_eq "$ERR" 'vmlaunch: invalid host name "a\033]0;x\a.vm"' \
    "ProxyCommand, invalid host name: stderr (escaped)"
printf '%s' "$ERR" | tr -d '[:print:]\n' | od -c | grep -q '033' &&
    fail "a raw escape character reached stderr"

run -f "$CONF" ubuntu.vm 0
assert_eq "$RC" 255 "ProxyCommand, invalid port: exit status"
assert_eq "$ERR" 'vmlaunch: invalid port "0"' "ProxyCommand, invalid port: stderr"

assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls (only the first ssh)"
