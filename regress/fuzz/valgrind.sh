#!/bin/sh
#
# regress/fuzz/valgrind.sh: a representative subset of the end-to-end
# tests with every vmlaunch process they run under valgrind memcheck, as
# "make valgrind" does.
#
#	sh regress/fuzz/valgrind.sh		the default subset
#	TESTS='ERE' sh regress/fuzz/valgrind.sh	another one (run.sh syntax)
#
# VMLAUNCH points at a small wrapper that execs the real binary under
# valgrind: supervisors started with "vmlaunch -d", the ProxyCommand
# clients, and the supervisors those clients fork on a cold start (a
# forked child stays under valgrind), -n and -s.  Tests find vmlaunch
# processes by the real binary's path (VMLAUNCH_REAL, lib.sh).  Children
# that exec another program (vmctl, ssh for autostart) leave valgrind at
# the exec; one whose exec fails is checked like any other process.  The
# subset (29 of the 53 tests) leaves out the real-VM tests (QEMU under
# TCG is slow enough without valgrind), fault-sessions (10,000 clients),
# and the tests that assert an upper bound on a time or an empty stderr
# (no progress shown), which valgrind's slowdown would break rather than
# check.
#
# A process that exits by itself is leak checked; one the test kills with
# SIGKILL is checked for memory errors only.  Any error or definite leak
# in any log fails the run.

cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
REAL=${VMLAUNCH:-$TOP/vmlaunch}
command -v valgrind >/dev/null 2>&1 ||
    { echo "valgrind: not installed"; exit 1; }
[ -x "$REAL" ] || { echo "valgrind: no $REAL, run make first"; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/vmlaunch-valgrind.XXXXXXXX") || exit 1
[ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT
trap 'exit 1' INT TERM HUP
mkdir "$W/logs"

cat >"$W/vmlaunch" <<WRAP
#!/bin/sh
exec valgrind -q --leak-check=full --show-leak-kinds=definite \\
    --errors-for-leak-kinds=definite --error-exitcode=99 \\
    --log-file="$W/logs/vg.%p.log" "$REAL" "\$@"
WRAP
chmod 755 "$W/vmlaunch"

TESTS=${TESTS:-'^(cold_start|concurrent_cold|unknown_host|kill_client|kill_supervisor|backend-command|warm_start|idle_stop|idle_cancel|sigterm|status|paused|old_format|other_uid|vmctl_garbage|vmctl_hang|stop_restart|sighup_bad|conf_edit|address_local|address_tap|fault-control|fault-signals|fault-startup|fault-statedir|fault-vmctl|fault-statefile|x11-fail|x11-restart)$'}
VMLAUNCH=$W/vmlaunch VMLAUNCH_REAL=$REAL TESTS=$TESTS E2E_JOBS=${E2E_JOBS:-1} \
    E2E_TIMEOUT=${E2E_TIMEOUT:-400} SSH_TIMEOUT=120 sh regress/run.sh
rc=$?

nlogs=0 nbad=0
for l in "$W"/logs/vg.*.log; do
	[ -f "$l" ] || continue
	nlogs=$((nlogs + 1))
	# With -q a log holds only errors and definite leaks.
	if [ -s "$l" ]; then
		nbad=$((nbad + 1))
		echo "--- $(basename "$l")"
		head -n 60 "$l"
	fi
done
echo "valgrind: $nlogs vmlaunch processes checked, $nbad with errors"
[ $nlogs -gt 0 ] || { echo "valgrind: no vmlaunch ran under valgrind"; exit 1; }
[ $rc = 0 ] && [ $nbad = 0 ]
