#!/bin/sh
#
# The simulation of the VM state machine (regress/sim/sim.c).
#
#	sh regress/sim/run.sh		build, replay every case (the suite
#					regress/run.sh runs)
#	sh regress/sim/run.sh sim	build, SIM_SEQS random sequences of
#					SIM_EVENTS events from SIM_SEED (the
#					time if empty), then the cases
#	SANITIZE=1 ...			the same under ASan and UBSan
#
# A failing sequence is shrunk, printed, and kept in regress/tmp/sim/
# failed/ (copy it to regress/sim/cases/ once the bug is fixed, with
# "expect none"; regress/sim/known/ holds those not fixed yet, each
# expecting its invariant).  Exits non-zero if anything failed.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=$top/regress/tmp/sim/sim
[ "${SANITIZE:-0}" = 1 ] && bin=$top/regress/tmp/sim/sim-asan
if [ "${SANITIZE:-0}" = 1 ]; then
	# Reports abort the run that made them: a failed sequence.
	export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fi

sh "$here/build.sh" || { echo "sim: does not build"; exit 1; }

rc=0
if [ "${1:-}" = sim ]; then
	kept=$top/regress/tmp/sim/failed
	mkdir -p "$kept"
	seed=${SIM_SEED:-}
	[ -n "$seed" ] || seed=$(date +%s)
	"$bin" -n "${SIM_SEQS:-3000}" -e "${SIM_EVENTS:-300}" -s "$seed" \
	    -k "$kept" || rc=1
fi
# Fixed bugs must stay fixed; known ones (not fixed yet) must still fail
# as they say, or their case moves to cases/ with "expect none".
set -- "$here"/cases/*.case
for f in "$here"/known/*.case; do
	[ -e "$f" ] && set -- "$@" "$f"
done
"$bin" -r "$@" || rc=1
exit $rc
