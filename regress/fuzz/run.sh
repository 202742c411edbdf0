#!/bin/sh
#
# regress/fuzz/run.sh: run each libFuzzer harness for a bounded time, as
# "make fuzz" does after building them.
#
#	sh regress/fuzz/run.sh [seconds]	default $FUZZTIME, else 60
#	FUZZRUNS=10000000 sh regress/fuzz/run.sh 3600
#					stop each at that many executions
#	FUZZERS="config" ...		only these harnesses
#	FUZZ_KEEP=dir ...		keep the grown corpora and artifacts
#
# The committed seeds in corpus-NAME/ are copied to a scratch corpus, so
# a run never writes into the tree.  A crash, leak, timeout or sanitizer
# report leaves its input in the scratch artifacts directory (printed)
# and makes the run fail; move it to crashers/NAME-WHAT and fix the bug.
# The last line is "N passed, N failed".

cd "$(dirname "$0")" || exit 1
HERE=$(pwd)
TIME=${1:-${FUZZTIME:-60}}
RUNS=${FUZZRUNS:--1}
FUZZERS=${FUZZERS:-"config control"}
WORK=${FUZZ_KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/vmlaunch-fuzz.XXXXXXXX")} ||
    exit 1
[ -n "${FUZZ_KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM HUP

npass=0 nfail=0
for f in $FUZZERS; do
	bin=$HERE/fuzz-$f
	if [ ! -x "$bin" ]; then
		echo "fuzz-$f: not built (make fuzz)"
		nfail=$((nfail + 1))
		continue
	fi
	mkdir -p "$WORK/corpus-$f" "$WORK/artifacts-$f"
	cp "$HERE/corpus-$f"/* "$WORK/corpus-$f/"
	echo "fuzz-$f: ${TIME}s"
	# The options: a hang is an input that takes over 10 s; the parser
	# reads files, so keep inputs the size a config would be.
	"$bin" -max_total_time="$TIME" -runs="$RUNS" -timeout=10 \
	    -rss_limit_mb=2048 -max_len=65600 -print_final_stats=1 \
	    -artifact_prefix="$WORK/artifacts-$f/" \
	    "$WORK/corpus-$f" >"$WORK/$f.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$f.log")
	echo "fuzz-$f: exit $rc, ${runs:-?} executions," \
	    "$(ls "$WORK/corpus-$f" | wc -l) corpus inputs"
	if [ $rc = 0 ]; then
		npass=$((npass + 1))
	else
		nfail=$((nfail + 1))
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' \
		    "$WORK/$f.log" | head -n 20 | sed 's/^/	/'
		tail -n 40 "$WORK/$f.log" | sed 's/^/	/'
		ls "$WORK/artifacts-$f" | sed "s|^|	artifact: $WORK/artifacts-$f/|"
		if [ -z "${FUZZ_KEEP:-}" ]; then
			mkdir -p "$HERE/artifacts"
			cp "$WORK/artifacts-$f"/* "$HERE/artifacts/" 2>/dev/null
			echo "	copied to $HERE/artifacts/"
		fi
	fi
done
echo "$npass passed, $nfail failed"
[ $nfail = 0 ]
