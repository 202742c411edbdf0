# regress/lib.sh: helpers for the end-to-end tests in regress/e2e/.
#
# A test is a plain sh script that sources this file, calls test_init,
# sets up VMs and a config, and asserts on what a user would see.  Exit
# status: 0 pass, 1 fail, 77 skip (the last line of output says why).
#
#	. "$(dirname "$0")/../lib.sh"
#	test_init
#	add_vm ubuntu			# guest sshd on a free 127.0.0.x:port
#	conf_begin; conf_vm ubuntu; conf_end
#	run_ssh ubuntu.vm echo hello
#	assert_eq "$RC" 0 "ssh exit status"
#
# Everything lives in one private directory $T (mktemp -d); the EXIT trap
# kills every process whose command line names $T (supervisors, clients,
# ssh, the guests' sshd), every VM process and its descendants, and every
# pid the test registered, then removes $T (KEEP=1 keeps it).  On failure
# it prints the supervisor log, the vmctl log and the guest logs.
#
# Never sleep and hope: wait_for DEADLINE cmd polls until cmd succeeds or
# fails the test naming what it waited for; hold_for DURATION cmd checks
# that something stays true for a while (the only way to assert "not
# before").

REGRESS=$(cd "$(dirname "$0")/.." && pwd)
TOP=$(cd "$REGRESS/.." && pwd)
VMLAUNCH=${VMLAUNCH:-$TOP/vmlaunch}
DOUBLE=$REGRESS/vmctl-double
TESTNAME=${TESTNAME:-$(basename "$0" .sh)}
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
SSH_TIMEOUT=${SSH_TIMEOUT:-60}

_failed=0
_cleaned=0

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

msg() {
	echo "$TESTNAME: $*"
}

fail() {
	echo "FAIL: $TESTNAME: $*"
	_failed=1
	exit 1
}

skip() {
	echo "SKIP: $TESTNAME: $*"
	_skipped=1
	exit 77
}

assert_eq() {	# got expected what
	[ "$1" = "$2" ] ||
	    fail "$3: expected \"$2\", got \"$1\""
}

assert_ne() {	# got unexpected what
	[ "$1" != "$2" ] || fail "$3: got \"$1\", expected anything else"
}

assert_contains() {	# haystack needle what
	case $1 in
	*"$2"*)	;;
	*)	fail "$3: expected to contain \"$2\", got: $1" ;;
	esac
}

assert_not_contains() {	# haystack needle what
	case $1 in
	*"$2"*)	fail "$3: expected not to contain \"$2\", got: $1" ;;
	esac
}

assert_match() {	# text ERE what  (grep -iE, any line)
	printf '%s\n' "$1" | grep -qiE -- "$2" ||
	    fail "$3: expected a line matching /$2/, got: $1"
}

assert_le() {	# a b what
	[ "$1" -le "$2" ] || fail "$3: expected $1 <= $2"
}

assert_ge() {	# a b what
	[ "$1" -ge "$2" ] || fail "$3: expected $1 >= $2"
}

# wait_for SECONDS cmd...: poll cmd (quietly) until it succeeds.
wait_for() {
	_wf_end=$(($(now_ms) + $1 * 1000))
	_wf_s=$1
	shift
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if [ "$(now_ms)" -ge $_wf_end ]; then
			fail "timed out after ${_wf_s}s waiting for: $*"
		fi
		sleep 0.05
	done
}

# hold_for MILLISECONDS cmd...: cmd must stay true the whole time.
hold_for() {
	_hf_end=$(($(now_ms) + $1))
	_hf_ms=$1
	shift
	while [ "$(now_ms)" -lt $_hf_end ]; do
		"$@" >/dev/null 2>&1 ||
		    fail "stopped being true within ${_hf_ms}ms: $*"
		sleep 0.05
	done
}

# wait_until_ms TIMESTAMP: a clock condition, for "past the deadline".
wait_until_ms() {
	while [ "$(now_ms)" -lt "$1" ]; do
		sleep 0.05
	done
}

not() {
	! "$@"
}

alive() {	# pid
	[ -d "/proc/$1" ] || return 1
	_st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	_st=${_st##*) }
	[ "${_st%% *}" != Z ]
}

register_pid() {
	echo "$1" >>"$T/pids"
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root ($*)"
}

# --- setup --------------------------------------------------------------

test_init() {
	T=$(mktemp -d "${TMPDIR:-/tmp}/vmlaunch-e2e.XXXXXXXX") ||
	    { echo "FAIL: $TESTNAME: mktemp"; exit 1; }
	chmod 700 "$T"
	trap _cleanup EXIT
	trap 'exit 1' INT TERM HUP
	VMD=$T/vmd
	export VMCTL_DOUBLE_DIR=$VMD
	mkdir -p "$VMD"
	CONF=$T/vmlaunch.conf
	SSHCFG=$T/ssh_config
	SOCK=$T/control
	SUPLOG=$T/supervisor.log
	: >"$T/pids"
	[ -x "$VMLAUNCH" ] ||
	    fail "no $VMLAUNCH: build it first (make)"
	ssh-keygen -q -t ed25519 -N '' -f "$T/id_ed25519" </dev/null ||
	    fail "ssh-keygen"
	cp "$T/id_ed25519.pub" "$VMD/authorized_keys"
	ssh-keygen -q -t ed25519 -N '' -f "$VMD/ssh_host_ed25519_key" \
	    </dev/null || fail "ssh-keygen"
	write_ssh_config
}

write_ssh_config() {	# [extra ssh_config lines...]
	{
		echo "Host *"
		echo "	ProxyCommand $VMLAUNCH -f $CONF %h %p"
		echo "	StrictHostKeyChecking no"
		echo "	UserKnownHostsFile /dev/null"
		echo "	BatchMode yes"
		echo "	IdentityFile $T/id_ed25519"
		echo "	IdentitiesOnly yes"
		echo "	LogLevel ERROR"
		echo "	User $(id -un)"
		for _l; do
			echo "	$_l"
		done
	} >"$SSHCFG"
}

# pick_addr_port: ADDR and PORT, free on the loopback.
pick_addr_port() {
	_i=0
	while [ $_i -lt 50 ]; do
		_r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
		ADDR=127.0.$((_r % 200 + 20)).$((_r / 256 % 240 + 10))
		PORT=$((_r / 65536 % 30000 + 20000))
		if "$PY" -c '
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], int(sys.argv[2])))
' "$ADDR" "$PORT" 2>/dev/null; then
			return 0
		fi
		_i=$((_i + 1))
	done
	fail "no free loopback address and port"
}

# add_vm NAME [double settings as key value ...]: a VM in the double
# with its guest on a free address; ADDR_NAME and PORT_NAME remember it.
add_vm() {
	_n=$1
	shift
	pick_addr_port
	eval "ADDR_$(_var "$_n")=\$ADDR PORT_$(_var "$_n")=\$PORT"
	"$DOUBLE" __set "$_n" address "$ADDR" port "$PORT" \
	    boot_delay 0.3 shutdown_delay 0.5 "$@" || fail "double __set"
}

_var() {
	echo "$1" | tr -c 'A-Za-z0-9_\n' _
}

vm_addr() {
	eval "echo \$ADDR_$(_var "$1")"
}

vm_port() {
	eval "echo \$PORT_$(_var "$1")"
}

# The config: conf_begin [global lines], conf_vm NAME [lines], conf_end.
# The stop wait is long by default: on a busy machine the double's
# graceful stop can take seconds, and a test that wants a forced stop
# says so (CONF_STOP, with a guest that ignores the stop).
conf_begin() {
	{
		echo "# $TESTNAME"
		echo "socket \"$SOCK\""
		echo "vmctl \"$DOUBLE -D $VMD\""
		echo "domain \"vm\""
		echo "idle timeout ${CONF_IDLE:-2s}"
		echo "boot wait ${CONF_BOOT:-10s}"
		echo "stop wait ${CONF_STOP:-10s}"
		for _l; do
			echo "$_l"
		done
	} >"$CONF.new"
}

conf_vm() {	# name [lines]
	_n=$1
	shift
	{
		echo "vm \"$_n\" {"
		echo "	address $(vm_addr "$_n")"
		echo "	port $(vm_port "$_n")"
		for _l; do
			echo "	$_l"
		done
		echo "}"
	} >>"$CONF.new"
}

conf_end() {	# [file]: install and check it with vmlaunch -n
	_f=${1:-$CONF}
	mv "$CONF.new" "$_f"
	_out=$("$VMLAUNCH" -n -f "$_f" 2>&1) ||
	    fail "vmlaunch -n rejects the test config: $_out"
}

# --- running things -----------------------------------------------------

# noprogress TEXT: the client's stderr without its progress lines
# ("vmlaunch: NAME: booting, waiting for ... (3s of 1m)"), which a slow
# machine shows for any wait over 300 ms, and without empty lines.
noprogress() {
	printf '%s\n' "$1" | grep -v '^$' |
	    grep -vE '^vmlaunch: [^:]+: [^(]+ \([0-9]+s( of [0-9a-z]+)?\)$'
}

# run_ssh HOST cmd...: RC, OUT, ERR (stdin /dev/null, with a time limit).
_nssh=0
run_ssh() {
	_nssh=$((_nssh + 1))
	timeout -k 5 "$SSH_TIMEOUT" ssh -F "$SSHCFG" "$@" </dev/null \
	    >"$T/ssh.$_nssh.out" 2>"$T/ssh.$_nssh.err"
	RC=$?
	OUT=$(cat "$T/ssh.$_nssh.out")
	ERR=$(cat "$T/ssh.$_nssh.err")
	[ $RC = 124 ] && fail "ssh $* did not finish within ${SSH_TIMEOUT}s"
	return 0
}

# run_proxy HOST [PORT]: the ProxyCommand alone, as ssh would run it,
# with nothing on stdin.  RC, OUT, ERR.
run_proxy() {
	timeout -k 5 "$SSH_TIMEOUT" "$VMLAUNCH" -f "$CONF" "$@" </dev/null \
	    >"$T/proxy.out" 2>"$T/proxy.err"
	RC=$?
	OUT=$(cat "$T/proxy.out")
	ERR=$(cat "$T/proxy.err")
	[ $RC = 124 ] &&
	    fail "vmlaunch $* did not finish within ${SSH_TIMEOUT}s"
	return 0
}

# A long session: session_open ID HOST starts ssh running a line echo
# loop in the guest, fed from a fifo; session_send ID TEXT writes a line
# and waits for the guest's answer; session_close ID ends it (EOF) and
# sets RC to ssh's exit status.
session_open() {	# id host [ssh options...]
	_id=$1
	shift
	mkfifo "$T/s.$_id.in"
	sleep 100000 >"$T/s.$_id.in" &
	echo $! >"$T/s.$_id.holder"
	register_pid $!
	# shellcheck disable=SC2016
	ssh -F "$SSHCFG" "$@" \
	    'echo "session-up $VMLAUNCH_GUEST"; while read l; do echo "got $l"; done' \
	    <"$T/s.$_id.in" >"$T/s.$_id.out" 2>"$T/s.$_id.err" &
	echo $! >"$T/s.$_id.pid"
	register_pid $!
}

session_pid() {
	cat "$T/s.$1.pid"
}

session_up() {
	grep -q session-up "$T/s.$1.out"
}

session_wait_up() {	# id [seconds]
	wait_for "${2:-15}" session_up_or_dead "$1"
	session_up "$1" ||
	    fail "session $1 ended before it was up: $(cat "$T/s.$1.err")"
}

session_up_or_dead() {
	session_up "$1" || ! alive "$(session_pid "$1")"
}

session_send() {	# id text
	echo "$2" >"$T/s.$1.in"
	wait_for 10 grep -qx "got $2" "$T/s.$1.out"
}

session_close() {	# id
	kill "$(cat "$T/s.$1.holder")" 2>/dev/null
	_sp=$(session_pid "$1")
	wait_for 15 not alive "$_sp"
	wait "$_sp"
	RC=$?
}

# A ProxyCommand in the background, as ssh runs it, with its stdin held
# open: client_bg ID [HOST [PORT]]; client_got_banner ID (the guest's
# banner reached its stdout); client_end ID (EOF on its stdin, wait for
# its exit: RC); client_wait ID [seconds] (wait for it to exit by itself:
# RC); client_err ID (its stderr).
client_bg() {
	mkfifo "$T/c.$1.in"
	sleep 100000 >"$T/c.$1.in" &
	echo $! >"$T/c.$1.holder"
	register_pid $!
	"$VMLAUNCH" -f "$CONF" "${2:-ubuntu.vm}" "${3:-22}" <"$T/c.$1.in" \
	    >"$T/c.$1.out" 2>"$T/c.$1.err" &
	echo $! >"$T/c.$1.pid"
	register_pid $!
}

client_pid() {
	cat "$T/c.$1.pid"
}

client_got_banner() {
	grep -q '^SSH-' "$T/c.$1.out"
}

client_err() {
	cat "$T/c.$1.err"
}

client_wait() {	# id [seconds]
	_cp=$(client_pid "$1")
	wait_for "${2:-30}" not alive "$_cp"
	wait "$_cp"
	RC=$?
}

client_end() {	# id [seconds]
	kill "$(cat "$T/c.$1.holder")" 2>/dev/null
	client_wait "$@"
}

# --- the supervisor -----------------------------------------------------

# supervisor_start [conf]: vmlaunch -d in the background, logging to
# $SUPLOG; SUP_PID.  Waits for the control socket.
supervisor_start() {
	echo "=== $(date +%T) supervisor start" >>"$SUPLOG"
	"$VMLAUNCH" -d -v -f "${1:-$CONF}" 2>>"$SUPLOG" &
	SUP_PID=$!
	register_pid $SUP_PID
	wait_for 10 sup_socket_or_dead
	alive $SUP_PID || fail "supervisor exited at once: $(tail -5 "$SUPLOG")"
}

# log_ms ERE [N]: when the Nth (default first) line of the foreground
# supervisor's log that matches ERE was written, in ms since midnight
# (lines start with HH:MM:SS.mmm).  Fails when there is no such line.
log_ms() {
	_l=$(grep -E -- "$1" "$SUPLOG" | sed -n "${2:-1}p")
	case $_l in
	[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]\ *) ;;
	*) return 1 ;;
	esac
	_h=${_l%%:*} _r=${_l#*:}
	_m=${_r%%:*} _r=${_r#*:}
	_s=${_r%%.*} _r=${_r#*.}
	_ms=${_r%% *}
	echo $(( (1${_h} - 100) * 3600000 + (1${_m} - 100) * 60000 +
	    (1${_s} - 100) * 1000 + (1${_ms} - 1000) ))
}

# supervisor_takeover: a foreground supervisor (as supervisor_start),
# after killing whichever one runs now.  The open sessions' clients start
# a new one as soon as theirs is gone, so this may take a few tries.
supervisor_takeover() {
	_try=0
	while [ $_try -lt 20 ]; do
		_try=$((_try + 1))
		if _sp=$(supervisor_pid); then
			kill -9 "$_sp"
			wait_for 10 not alive "$_sp"
		fi
		echo "=== $(date +%T) supervisor start (takeover)" >>"$SUPLOG"
		"$VMLAUNCH" -d -v -f "$CONF" 2>>"$SUPLOG" &
		SUP_PID=$!
		register_pid $SUP_PID
		wait_for 10 sup_socket_or_dead
		# The socket may be a client's supervisor, started while ours
		# was still starting (ours then exits: "already runs").
		wait_for 10 sup_ours_or_dead
		[ "$(supervisor_pid)" = "$SUP_PID" ] && return 0
		wait_for 10 not alive "$SUP_PID"
		wait "$SUP_PID" 2>/dev/null
	done
	fail "no foreground supervisor after $_try tries"
}

sup_ours_or_dead() {
	[ "$(supervisor_pid)" = "$SUP_PID" ] || ! alive "$SUP_PID"
}

# log_gap ERE1 ERE2: ms from the last line matching ERE1 before the
# first line matching ERE2, to that line, in the -d supervisor's log.
# Both ends are the supervisor's own clock, so a loaded machine can make
# a gap only longer: the honest way to assert "not before".  ERE1 should
# be a line written before the timer began (the session's end for an
# idle countdown: "no sessions, stopping in" is written just after it,
# and a descheduled supervisor could write it late); then the gap is at
# least the timer's length, give or take the log's 1 ms resolution.
log_gap() {
	awk -v a="$1" -v b="$2" '
	function ms(l,    t) {
		t = substr(l, 1, 12)
		return ((substr(t, 1, 2) * 3600 + substr(t, 4, 2) * 60 + \
		    substr(t, 7, 2)) * 1000 + substr(t, 10, 3))
	}
	$0 ~ b && seen { print ms($0) - ms(last); found = 1; exit }
	$0 ~ a { last = $0; seen = 1 }
	END { if (!found) exit 1 }' "$SUPLOG"
}

sup_socket_or_dead() {
	sock_accepts || ! alive $SUP_PID
}

# The pid of the process that listens on the control socket (whoever
# started it: -d, a client or a session's keeper), or fail.
supervisor_pid() {
	"$PY" -c '
import os, sys
path = sys.argv[1]
inodes = set()
with open("/proc/net/unix") as f:
    next(f)
    for l in f:
        p = l.split()
        # flags 00010000: __SO_ACCEPTCON, a listening socket
        if len(p) >= 8 and p[-1] == path and int(p[3], 16) & 0x10000:
            inodes.add(p[6])
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        for fd in os.listdir("/proc/%s/fd" % pid):
            l = os.readlink("/proc/%s/fd/%s" % (pid, fd))
            if l.startswith("socket:[") and l[8:-1] in inodes:
                print(pid)
                sys.exit(0)
    except OSError:
        pass
sys.exit(1)
' "$SOCK"
}

sock_accepts() {	# the control socket takes connections
	"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
' "$SOCK" 2>/dev/null
}

# Every vmlaunch process of this test (clients and supervisors), found by
# its command line: VMLAUNCH, or VMLAUNCH_REAL when VMLAUNCH is a wrapper
# that execs it under another program (make valgrind).
vmlaunch_pids() {
	for _c in /proc/[0-9]*/cmdline; do
		_p=${_c#/proc/}
		_p=${_p%/cmdline}
		[ "$_p" = $$ ] && continue
		tr '\0' ' ' 2>/dev/null <"$_c" |
		    grep -qF "${VMLAUNCH_REAL:-$VMLAUNCH} -" || continue
		tr '\0' ' ' 2>/dev/null <"$_c" | grep -qF -- "-f $T/" || continue
		alive "$_p" && echo "$_p"
	done
}

# --- the double ---------------------------------------------------------

# vmctl_calls ERE: how many invocations of the double match ^ERE
# (e.g. 'start ubuntu$', 'stop( -[fw]+)* ubuntu$').
vmctl_calls() {
	if [ -f "$VMD/log" ]; then
		sed -n 's/^[0-9]* [0-9]* [0-9]* CMD: //p' "$VMD/log" |
		    grep -cE -- "^$1"
	else
		echo 0
	fi
}

# vmctl_call_ms ERE [N]: the time of the Nth (default first) such call.
vmctl_call_ms() {
	[ -f "$VMD/log" ] || return 1
	_t=$(grep -E -- "^[0-9]+ [0-9]+ [0-9]+ CMD: $1" "$VMD/log" |
	    sed -n "${2:-1}p" | cut -d' ' -f1)
	[ -n "$_t" ] && echo "$_t"
}

vmctl_called() {	# ERE [N]: at least N (default 1) such calls
	[ "$(vmctl_calls "$1")" -ge "${2:-1}" ]
}

# Gates: hold a vmctl call at a chosen moment.  gate_close ERE makes
# every call whose argv matches ^ERE$ wait ("start ubuntu", "status(
# ubuntu)?", "stop -f ubuntu"); gate_wait ERE waits until one is held;
# gate_pass ERE lets the held ones through and keeps the gate for later
# calls; gate_open ERE removes the gate and lets everything through.
gate_close() {
	echo "$1" >>"$VMD/gate"
}

gate_open() {
	[ -f "$VMD/gate" ] || return 0
	grep -vxF -- "$1" "$VMD/gate" >"$VMD/gate.new"
	mv "$VMD/gate.new" "$VMD/gate"
}

gate_held() {	# ERE [N]: at least N (default 1) calls held there now
	_gn=0
	for _gf in "$VMD"/held/*; do
		[ -f "$_gf" ] || continue
		grep -qxE -- "$1" "$_gf" 2>/dev/null && _gn=$((_gn + 1))
	done
	[ $_gn -ge "${2:-1}" ]
}

gate_wait() {	# ERE [seconds]
	wait_for "${2:-20}" gate_held "$1"
}

gate_pass() {
	for _gf in "$VMD"/held/*; do
		[ -f "$_gf" ] || continue
		grep -qxE -- "$1" "$_gf" 2>/dev/null && rm -f "$_gf"
	done
	return 0
}

# The STATE column of the double's own status for NAME (new format,
# whatever the test selected for vmlaunch), or "absent".
vm_state() {
	_s=$(VMCTL_DOUBLE_FORMAT=new "$DOUBLE" status "$1" 2>/dev/null |
	    awk -v n="$1" 'NR > 1 && $NF == n { print $(NF - 1) }')
	echo "${_s:-absent}"
}

vm_state_is() {	# name state
	[ "$(vm_state "$1")" = "$2" ]
}

# The supervisor's own view of vm NAME: the STATE column of vmlaunch -s
# ("-" without a supervisor).
sup_state() {
	"$VMLAUNCH" -s -f "$CONF" 2>/dev/null |
	    awk -v n="$1" '$1 == n { print $3 }'
}

sup_state_is() {	# name state
	[ "$(sup_state "$1")" = "$2" ]
}

# Start a VM by hand, as a user would with vmctl start, and wait for its
# guest to answer.
vm_start_by_hand() {
	"$DOUBLE" start "$1" 2>/dev/null || fail "vmctl start $1 by hand"
	wait_for 10 guest_answers "$1"
}

guest_answers() {	# name: the guest sent its SSH- banner
	"$PY" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)
s.settimeout(1)
sys.exit(0 if s.recv(4).startswith(b"SSH-") else 1)
' "$(vm_addr "$1")" "$(vm_port "$1")"
}

# --- cleanup ------------------------------------------------------------

_descendants() {
	echo "$1"
	for _c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		_descendants "$_c"
	done
}

_cleanup() {
	_rc=$?
	[ $_cleaned = 1 ] && return
	_cleaned=1
	trap - EXIT INT TERM HUP
	[ -n "${T:-}" ] && [ -d "$T" ] || exit $_rc
	_all=
	for _c in /proc/[0-9]*/cmdline; do
		_p=${_c#/proc/}
		_p=${_p%/cmdline}
		[ "$_p" = $$ ] && continue
		if tr '\0' ' ' 2>/dev/null <"$_c" | grep -qF "$T/"; then
			_all="$_all $(_descendants "$_p")"
		fi
	done
	for _f in "$T/pids" "$VMD"/vm/*/pid; do
		[ -f "$_f" ] || continue
		for _p in $(cat "$_f"); do
			_all="$_all $(_descendants "$_p")"
		done
	done
	# shellcheck disable=SC2086
	[ -n "$_all" ] && kill -9 $_all 2>/dev/null
	for _h in "$T"/netns.*; do
		[ -f "$_h" ] || continue
		# shellcheck disable=SC1090
		. "$_h"
	done
	if [ $_rc != 0 ] && [ $_rc != 77 ]; then
		if [ -s "$SUPLOG" ]; then
			echo "--- $TESTNAME: supervisor log (last 60 lines)"
			tail -n 60 "$SUPLOG"
		fi
		if [ -f "$VMD/log" ]; then
			echo "--- $TESTNAME: vmctl calls"
			grep -v 'CMD: status\|RESULT: 0 $' "$VMD/log" | tail -n 40
		fi
		for _g in "$VMD"/vm/*/guest.log; do
			[ -f "$_g" ] || continue
			echo "--- $TESTNAME: $_g (last 15 lines)"
			tail -n 15 "$_g"
		done
		for _e in "$T"/ssh.*.err "$T"/s.*.err "$T"/proxy.err; do
			[ -s "$_e" ] || continue
			echo "--- $TESTNAME: $_e"
			tail -n 10 "$_e"
		done
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		echo "$TESTNAME: kept $T"
	else
		rm -rf "$T"
	fi
	exit $_rc
}

# --- real addresses (root) ---------------------------------------------

# netns_guest NAME ID [IDX]: a vmd-style local interface for vm NAME with
# vmd id ID: a veth pair, host side in this namespace with the /31 host
# address and the description vm<ID>-if<IDX>-<NAME> as its ifalias, guest
# side in a new network namespace with the guest address; the double runs
# the guest sshd in that namespace on port 22.  Sets GUEST_ADDR.
_nns=0
netns_guest() {
	_nns=$((_nns + 1))
	_ns=vml$$n$_nns
	_h=vlh$$n$_nns
	_g=vlg$$n$_nns
	_v=$((0x64400000 | ($2 << 8) | ((${3:-0} + 1) * 2)))
	_host=$((_v >> 24 & 255)).$((_v >> 16 & 255)).$((_v >> 8 & 255)).$((_v & 255))
	GUEST_ADDR=$((_v >> 24 & 255)).$((_v >> 16 & 255)).$((_v >> 8 & 255)).$((_v + 1 & 255))
	ip -4 addr show | grep -qF " $_host/" &&
	    skip "$_host is already in use on this host"
	echo "ip link del $_h 2>/dev/null; ip netns del $_ns 2>/dev/null" \
	    >"$T/netns.$_nns"
	ip netns add "$_ns" || fail "ip netns add"
	ip link add "$_h" type veth peer name "$_g" || fail "ip link add veth"
	ip link set "$_g" netns "$_ns" || fail "ip link set netns"
	ip addr add "$_host/31" dev "$_h" || fail "ip addr add"
	ip link set dev "$_h" alias "vm$2-if${3:-0}-$1" || fail "ip link alias"
	ip link set "$_h" up || fail "ip link up"
	ip -n "$_ns" link set lo up
	ip -n "$_ns" addr add "$GUEST_ADDR/31" dev "$_g" || fail "ip addr add (ns)"
	ip -n "$_ns" link set "$_g" up || fail "ip link up (ns)"
	"$DOUBLE" __set "$1" id "$2" address "$GUEST_ADDR" port 22 \
	    netns "$_ns" boot_delay 0.3 shutdown_delay 0.5 ||
	    fail "double __set"
	eval "ADDR_$(_var "$1")=\$GUEST_ADDR PORT_$(_var "$1")=22"
}

# A random number in [lo, hi].
random_in() {
	_r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	echo $(($1 + _r % ($2 - $1 + 1)))
}
