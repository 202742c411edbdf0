# regress/matrix.sh: the lifecycle matrix.  Every phase of a VM's life in
# the supervisor, held there (gates in the vmctl double, a guest held in
# its boot or its power-off), meets every event that can come at that
# moment; after each, what a user relies on must still hold.  One e2e
# test per phase (regress/e2e/matrix-*.sh) runs the six events:
#
#	kill9		kill -9 of the supervisor
#	clientkill	the phase's client killed (SIGKILL)
#	clienthup	the phase's client killed (SIGHUP)
#	statushup	a `vmlaunch -s` that hangs up while its status runs
#	sighup		SIGHUP, with a changed config (idle timeout 4s -> 3s;
#			in the paused phase 12s -> 10s)
#	sigterm		SIGTERM
#
# and after each one checks:
#	- a new session to the VM works;
#	- no start was refused as already in progress (one start per boot),
#	  and at most two starts in the cell;
#	- once no session is left, the VM (which vmlaunch started) is
#	  stopped by vmlaunch: none is leaked;
#	- the VM "manual", started by hand, is never stopped, and the session
#	  open on it since the start of the test is never cut;
#	- a supervisor that was told SIGTERM exits 0; none crashes (under
#	  make test-sanitize, no sanitizer report either).
#
# Usage, in regress/e2e/matrix-PHASE.sh:
#	. "$(dirname "$0")/../matrix.sh"
#	matrix_run PHASE
#
# PHASE: status, start, booting, ready, idle, stop, stoppoll, forced,
# app, paused (idle pause 1s: the VM paused, a client waiting for its
# resume, the unpause held), held (a hold from vmlaunch -k and a client
# on the VM).  Each cell logs one line: "PHASE x EVENT: ok (...)".  The
# held phase also checks that the hold survives every event but SIGTERM,
# which ends it.

. "$(dirname "$0")/../lib.sh"

MATRIX_EVENTS="kill9 clientkill clienthup statushup sighup sigterm"

matrix_conf() {	# idle timeout
	conf_begin "$MATRIX_SSH"
	conf_vm ubuntu "$MATRIX_APP" "$MATRIX_PAUSE"
	conf_vm manual
	# shellcheck disable=SC2016
	sed -i "s/^idle timeout .*/idle timeout $1/" "$CONF.new"
	conf_end
}

matrix_init() {	# phase
	MATRIX_PHASE=$1
	MATRIX_SSH=
	MATRIX_APP=
	MATRIX_PAUSE=
	# The idle timeout, and the one SIGHUP brings.  The paused phase's
	# is long enough that its client comes before the idle stop, also
	# on a busy machine (else the held unpause is the stop's own).
	MATRIX_IDLE=4s MATRIX_IDLE_HUP=3s
	if [ "$1" = paused ]; then
		MATRIX_PAUSE="idle pause 1s"
		MATRIX_IDLE=12s MATRIX_IDLE_HUP=10s
	fi
	if [ "$1" = app ]; then
		. "$(dirname "$0")/../x11lib.sh"
		x11_setup
		MATRIX_SSH=$(x11_ssh_stmt)
		MATRIX_APP="autostart \"$APP\""
		export DISPLAY="$XDISP" XAUTHORITY="$XAUTH"
	else
		test_init
		add_vm ubuntu
	fi
	add_vm manual
	CONF_BOOT=20s CONF_STOP=4s
	matrix_conf $MATRIX_IDLE
	: >"$VMD/no_rate_limit"
	vm_start_by_hand manual
	supervisor_start
	session_open m manual.vm
	session_wait_up m
	MATRIX_N=0
}

# Everything of the last cell ends: no supervisor, ubuntu stopped (by
# the test, which is then not counted), gates open, holds off.
matrix_reset() {
	: >"$VMD/gate"
	rm -f "$VMD"/held/*
	"$DOUBLE" __unset ubuntu boot_hold stop_hold
	for _c in c s; do
		[ -f "$T/c.$MATRIX_N.$_c.holder" ] &&
		    kill "$(cat "$T/c.$MATRIX_N.$_c.holder")" 2>/dev/null
	done
	if ! vm_state_is ubuntu stopped; then
		"$DOUBLE" stop -f ubuntu 2>/dev/null
		wait_for 10 vm_state_is ubuntu stopped
	fi
	rm -f "$T/state"
	matrix_conf $MATRIX_IDLE
	MATRIX_N=$((MATRIX_N + 1))
	supervisor_takeover
	MATRIX_LOG0=$(wc -l <"$VMD/log")
	MATRIX_SUPLOG0=$(wc -l <"$SUPLOG")
}

# The double's log since the cell began.
cell_log() {
	tail -n +$((MATRIX_LOG0 + 1)) "$VMD/log"
}

cell_calls() {	# ERE
	cell_log | sed -n 's/^[0-9]* [0-9]* [0-9]* CMD: //p' | grep -cE -- "^$1"
}

cell_suplog_has() {	# ERE
	tail -n +$((MATRIX_SUPLOG0 + 1)) "$SUPLOG" | grep -qE -- "$1"
}

# The cell's own client (C), in the background: client_bg with an id
# unique to the cell.
cell_client() {
	MATRIX_C=$MATRIX_N.c
	client_bg "$MATRIX_C" ubuntu.vm 22
}

# --- reaching each phase ---------------------------------------------

reach_status() {
	gate_close 'status( ubuntu)?'
	cell_client
	gate_wait 'status( ubuntu)?'
}

reach_start() {
	gate_close 'start ubuntu'
	cell_client
	gate_wait 'start ubuntu'
}

booting() {
	vm_state_is ubuntu running && ! guest_answers ubuntu
}

reach_booting() {
	"$DOUBLE" __set ubuntu boot_hold
	cell_client
	wait_for 20 booting
	wait_for 20 cell_suplog_has 'vm ubuntu: .*booting'
}

reach_ready() {
	MATRIX_C=$MATRIX_N.s
	session_open "$MATRIX_C" ubuntu.vm
	session_wait_up "$MATRIX_C" 30
}

idle_begun() {
	cell_suplog_has 'vm ubuntu: no sessions, stopping in'
}

reach_idle() {
	gate_close 'stop ubuntu'
	run_ssh ubuntu.vm true
	[ "$RC" = 0 ] || fail "idle: ssh to reach the phase: $ERR"
	wait_for 20 idle_begun
}

reach_stop() {
	gate_close 'stop ubuntu'
	run_ssh ubuntu.vm true
	[ "$RC" = 0 ] || fail "stop: ssh to reach the phase: $ERR"
	gate_wait 'stop ubuntu' 30
	cell_client
}

stop_returned() {
	cell_log | grep -q "RESULT: 0 requested to shutdown"
}

reach_stoppoll() {
	"$DOUBLE" __set ubuntu stop_hold
	gate_close 'stop -f ubuntu'
	run_ssh ubuntu.vm true
	[ "$RC" = 0 ] || fail "stoppoll: ssh to reach the phase: $ERR"
	wait_for 30 stop_returned
	cell_client
}

reach_forced() {
	"$DOUBLE" __set ubuntu stop_hold
	gate_close 'stop -f ubuntu'
	run_ssh ubuntu.vm true
	[ "$RC" = 0 ] || fail "forced: ssh to reach the phase: $ERR"
	gate_wait 'stop -f ubuntu' 40
	cell_client
}

reach_paused() {
	gate_close 'unpause ubuntu'
	run_ssh ubuntu.vm true
	[ "$RC" = 0 ] || fail "paused: ssh to reach the phase: $ERR"
	wait_for 30 vm_state_is ubuntu paused
	wait_for 10 sup_state_is ubuntu paused
	cell_client
	gate_wait 'unpause ubuntu'
}

hold_shown() {
	"$VMLAUNCH" -s -f "$CONF" 2>/dev/null | grep -q '^    hold: '
}

reach_held() {
	"$VMLAUNCH" -k 1h -f "$CONF" ubuntu.vm 2>"$T/k.err" ||
	    fail "held: vmlaunch -k 1h: $(cat "$T/k.err")"
	cell_client
	wait_for 30 client_got_banner "$MATRIX_C"
	hold_shown || fail "held: no hold in vmlaunch -s"
}

reach_app() {
	MATRIX_C=$MATRIX_N.s
	session_open "$MATRIX_C" ubuntu.vm
	session_wait_up "$MATRIX_C" 30
	wait_for 20 x11_window
}

# Whatever holds the phase lets go.
release() {
	: >"$VMD/gate"
	"$DOUBLE" __unset ubuntu boot_hold stop_hold
}

# --- the events ------------------------------------------------------

# The cell's client: a session's ssh (s), or a ProxyCommand (c).
client_of_cell() {
	case $MATRIX_C in
	*.s)	session_pid "$MATRIX_C" ;;
	*)	client_pid "$MATRIX_C" ;;
	esac
}

event_kill9() {
	kill -9 "$SUP_PID"
	wait_for 10 not alive "$SUP_PID"
}

event_client() {	# signal
	[ -n "$MATRIX_C" ] || return 0
	_cp=$(client_of_cell)
	case $MATRIX_C in
	*.s)	# The ProxyCommand of that ssh is the client.
		_cp=$(ps -o pid= --ppid "$_cp" | head -n 1 | tr -d ' ') ;;
	esac
	[ -n "$_cp" ] || fail "no client to kill"
	kill -"$1" "$_cp"
	wait_for 10 not alive "$_cp"
}

event_statushup() {
	gate_close 'status'
	"$VMLAUNCH" -s -f "$CONF" >/dev/null 2>&1 &
	_st=$!
	register_pid $_st
	gate_wait 'status'
	kill -9 "$_st"
	wait "$_st" 2>/dev/null
	gate_open 'status'
}

event_sighup() {
	matrix_conf $MATRIX_IDLE_HUP
	kill -HUP "$SUP_PID"
	wait_for 10 cell_suplog_has 'reload: configuration from .* in effect'
}

event_sigterm() {
	kill -TERM "$SUP_PID"
	wait_for 60 not alive "$SUP_PID"
	wait "$SUP_PID"
	_rc=$?
	[ "$_rc" = 0 ] || fail "$1: the supervisor exited $_rc after SIGTERM"
}

# --- after the event --------------------------------------------------

ubuntu_unused() {
	if [ "$MATRIX_PHASE" = held ]; then
		"$VMLAUNCH" -k 0 -f "$CONF" ubuntu.vm 2>/dev/null ||
		    fail "held: vmlaunch -k 0 failed"
	fi
	# The cell's ProxyCommand or session gone, by itself or told to.
	case $MATRIX_C in
	"")	;;
	*.s)	[ -f "$T/s.$MATRIX_C.holder" ] &&
		    kill "$(cat "$T/s.$MATRIX_C.holder")" 2>/dev/null
		_cp=$(session_pid "$MATRIX_C")
		wait_for 20 not alive "$_cp" ;;
	*)	kill "$(cat "$T/c.$MATRIX_C.holder")" 2>/dev/null
		wait_for 30 not alive "$(client_pid "$MATRIX_C")" ;;
	esac
}

verify() {	# what
	_w=$1
	# No X display for this one: it must not autostart the app again.
	_disp=${DISPLAY:-}
	unset DISPLAY
	run_ssh ubuntu.vm echo after
	[ -z "$_disp" ] || export DISPLAY="$_disp"
	[ "$RC" = 0 ] && [ "$OUT" = after ] ||
	    fail "$_w: a new session: exit $RC, output \"$OUT\", stderr: $ERR"
	_busy=$(cell_log | grep -c 'start vm command failed: Operation already in progress')
	[ "$_busy" = 0 ] ||
	    fail "$_w: $_busy start(s) refused as already in progress"
	_starts=$(cell_calls 'start ubuntu$')
	[ "$_starts" -le 2 ] || fail "$_w: $_starts vmctl starts in one cell"
	ubuntu_unused
	if [ "$MATRIX_PHASE" = app ]; then
		guest_app_runs ubuntu && guest_app_kill ubuntu
		wait_for 30 not x11_window
	fi
	wait_for 60 vm_state_is ubuntu stopped
	[ "$(cell_calls 'stop( -f)? ubuntu$')" -ge 1 ] ||
	    fail "$_w: ubuntu stopped, but not by vmlaunch"
	[ "$(vmctl_calls 'stop( -f)? manual$')" = 0 ] ||
	    fail "$_w: the VM started by hand was stopped"
	assert_eq "$(vm_state manual)" running "$_w: the VM started by hand"
	session_send m "$_w"
	_sp=$(supervisor_pid) && ! alive "$_sp" &&
	    fail "$_w: the supervisor died"
	msg "$_w: ok ($_starts start(s), new session, idle stop, manual" \
	    "untouched, its session alive)"
}

matrix_cell() {	# phase event
	matrix_reset
	MATRIX_C=
	"reach_$1"
	case $2 in
	kill9)		event_kill9 ;;
	clientkill)	event_client KILL ;;
	clienthup)	event_client HUP ;;
	statushup)	event_statushup ;;
	sighup)		event_sighup ;;
	sigterm)	event_sigterm "$1 x $2" ;;
	esac
	release
	# An app outlives anything but SIGTERM, which ends it.
	if [ "$1" = app ] && [ "$2" = sigterm ]; then
		wait_for 30 not x11_window
	elif [ "$1" = app ]; then
		x11_window || fail "$1 x $2: the app's window is gone"
	fi
	# A hold outlives anything but SIGTERM, which ends it.
	case $1:$2 in
	held:sigterm)
		grep -q '^hold ' "$T/state" 2>/dev/null &&
		    fail "$1 x $2: the hold is still in the state file" ;;
	held:*)
		wait_for 20 hold_shown
		[ "$(cell_calls 'stop( -f)? ubuntu$')" = 0 ] ||
		    fail "$1 x $2: ubuntu stopped under its hold" ;;
	esac
	# A session open through the event is still open, and its VM up.
	case $MATRIX_C:$2 in
	*.s:kill9|*.s:statushup|*.s:sighup)
		session_send "$MATRIX_C" "after $2"
		[ "$(cell_calls 'stop( -f)? ubuntu$')" = 0 ] ||
		    fail "$1 x $2: ubuntu stopped under an open session"
		;;
	esac
	verify "$1 x $2"
}

matrix_run() {	# phase
	matrix_init "$1"
	for _e in $MATRIX_EVENTS; do
		matrix_cell "$1" "$_e"
	done
	session_send m "the end"
	alive "$(session_pid m)" || fail "the session on the manual VM ended"
}
