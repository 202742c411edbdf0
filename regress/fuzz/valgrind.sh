#!/bin/sh
#
# regress/fuzz/valgrind.sh: a representative subset of the end-to-end
# tests with every supervisor they start with "vmlaunch -d" running under
# valgrind memcheck, as "make valgrind" does.
#
#	sh regress/fuzz/valgrind.sh		the default subset
#	TESTS='ERE' sh regress/fuzz/valgrind.sh	another one (run.sh syntax)
#
# lib.sh starts the supervisor as "$VMLAUNCH -d ...", so VMLAUNCH points at
# a small wrapper that runs -d under valgrind and everything else (the
# ProxyCommand, -n, -s) as is.  Supervisors that a client forks on a cold
# start are not covered, and tests that find vmlaunch processes by their
# command line (cold_start, concurrent_cold, sighup_good, unknown_host,
# kill_client) cannot see through the wrapper, so the subset leaves them
# out, and so it does manual_vm, whose second session races with the
# supervisor's exit when it is slowed down this much.  Children between
# fork and exec are not reported (--child-silent-after-fork): one whose
# exec fails exits holding the parent's job struct on its stack only,
# which memcheck would call a definite leak.
#
# A supervisor that exits by itself (SIGTERM, SIGINT, nothing to watch) is
# leak checked; one the test kills with SIGKILL is checked for memory
# errors only.  Any error or definite leak in any log fails the run.

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
if [ "\$1" = -d ]; then
	exec valgrind -q --child-silent-after-fork=yes \\
	    --leak-check=full --show-leak-kinds=definite \\
	    --errors-for-leak-kinds=definite --error-exitcode=99 \\
	    --log-file="$W/logs/vg.%p.log" "$REAL" "\$@"
fi
exec "$REAL" "\$@"
WRAP
chmod 755 "$W/vmlaunch"

TESTS=${TESTS:-'^(warm_start|idle_stop|idle_cancel|sigterm|status|vmctl_garbage|vmctl_hang|stop_restart|fault-control|fault-signals|fault-vmctl|fault-statefile)$'}
VMLAUNCH=$W/vmlaunch TESTS=$TESTS E2E_JOBS=${E2E_JOBS:-1} \
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
echo "valgrind: $nlogs supervisor processes checked, $nbad with errors"
[ $nlogs -gt 0 ] || { echo "valgrind: no supervisor ran under valgrind"; exit 1; }
[ $rc = 0 ] && [ $nbad = 0 ]
