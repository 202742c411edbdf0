#!/bin/sh
#
# regress/run.sh: run every suite that exists, as "make test" does.
#
#	sh regress/run.sh			everything
#	TESTS=idle sh regress/run.sh		names matching an ERE (grep -E)
#	E2E_JOBS=1 sh regress/run.sh		e2e tests one at a time
#	KEEP=1 ...				keep each e2e test's temp dir
#	LOGS=dir ...				keep every test's output there
#	VMLAUNCH=/path/to/vmlaunch ...		test another binary
#	SANITIZE=1 / PLEDGE=1 ...		collect the reports of a
#						sanitizer / pledge model build
#
# Suites: regress/parse/run.sh, regress/unit/run.sh,
# regress/pledge/run.sh and regress/sim/run.sh (the simulation's cases)
# (each one result), mandoc -Tlint on the man pages, and every
# regress/e2e/*.sh.  A suite or test exits 0 (pass), 77 (skip, its last
# line says why) or anything else (fail, its output is shown).  Tests
# that need root skip, loudly, when not run as root.
#
# A failure is named again, with its last lines, before the summary.
# The last line is exactly "N passed, N failed, N skipped"; the exit
# status is non-zero when anything failed.

cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
export VMLAUNCH="${VMLAUNCH:-$TOP/vmlaunch}"
# Four at a time by default: most of an e2e test is waiting (idle
# timeouts, stop waits), and the suite passes so beside two CPU-burning
# loops on two cores (issue 11's loaded runs).
JOBS=${E2E_JOBS:-4}
E2E_TIMEOUT=${E2E_TIMEOUT:-180}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/vmlaunch-regress.XXXXXXXX") || exit 1
trap 'rm -rf "$OUT"' EXIT
trap 'exit 1' INT TERM HUP

npass=0 nfail=0 nskip=0

# Under the sanitizers (make test-sanitize), every process writes its
# reports to a file here, background supervisors included.
if [ "${SANITIZE:-0}" = 1 ]; then
	mkdir -p "$OUT/san"
	export SANITIZE
	export ASAN_OPTIONS="log_path=$OUT/san/asan:detect_leaks=1:abort_on_error=0"
	export UBSAN_OPTIONS="log_path=$OUT/san/ubsan:print_stacktrace=1:halt_on_error=1"
fi

# Under the pledge model (make test-pledge), every process writes what
# OpenBSD would have refused to a file here, named for its test.
if [ "${PLEDGE:-0}" = 1 ]; then
	mkdir -p "$OUT/pledge"
fi
pledge_log() {
	[ "${PLEDGE:-0}" = 1 ] && export VMLAUNCH_PLEDGE_LOG="$OUT/pledge/$1"
}

selected() {
	[ -z "${TESTS:-}" ] || printf '%s\n' "$1" | grep -qE -- "$TESTS"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# report name rc logfile
report() {
	[ -n "${LOGS:-}" ] && mkdir -p "$LOGS" &&
	    cp "$3" "$LOGS/$(echo "$1" | tr ' ' '_').log"
	el=""
	if [ -f "$OUT/$1.start" ]; then
		el=$(( ($(now_ms) - $(cat "$OUT/$1.start")) / 100 ))
		el=" $((el / 10)).$((el % 10))s"
	fi
	case $2 in
	0)	npass=$((npass + 1))
		printf '%-28s PASS%s\n' "$1" "$el" ;;
	77)	nskip=$((nskip + 1))
		printf '%-28s SKIP (%s)\n' "$1" \
		    "$(grep -a 'SKIP' "$3" | tail -n 1 | sed 's/^SKIP: *//')" ;;
	*)	nfail=$((nfail + 1))
		echo "$1" >"$OUT/failname.$nfail"
		{ grep -a 'FAIL' "$3" | head -n 5; echo "	..."
		    tail -n 30 "$3"; } >"$OUT/tail.$nfail"
		grep -a 'FAIL' "$3" | awk '!seen[$0]++' | head -n 2 \
		    >"$OUT/why.$nfail"
		if [ "$2" = 124 ] || [ "$2" = 137 ]; then
			printf '%-28s FAIL (timed out)\n' "$1"
		else
			printf '%-28s FAIL (exit %s)\n' "$1" "$2"
		fi
		grep -a 'FAIL' "$3" | head -n 5 | sed 's/^/	/'
		sed 's/^/	/' "$3" | tail -n 120 ;;
	esac
}

# Suites written by others: one result each.
for s in parse unit pledge sim; do
	[ -f "regress/$s/run.sh" ] || continue
	selected "$s" || continue
	(pledge_log "$s"; sh "regress/$s/run.sh" >"$OUT/$s.log" 2>&1)
	report "$s" $? "$OUT/$s.log"
done

# The man pages.
if selected mandoc; then
	for m in *.1 *.5; do
		[ -f "$m" ] || continue
		if ! command -v mandoc >/dev/null 2>&1; then
			echo "SKIP: mandoc not installed" >"$OUT/mandoc.log"
			report "mandoc $m" 77 "$OUT/mandoc.log"
			continue
		fi
		mandoc -Tlint -W warning "$m" >"$OUT/mandoc.log" 2>&1
		rc=$?
		[ -s "$OUT/mandoc.log" ] && [ $rc = 0 ] && rc=1
		report "mandoc $m" $rc "$OUT/mandoc.log"
	done
fi

# End to end, up to $JOBS at a time; results print as tests finish.
if [ "$(id -u)" != 0 ]; then
	echo "NOTE: not root: the e2e tests that need root will SKIP"
fi
if [ ! -x "$VMLAUNCH" ]; then
	echo "NOTE: $VMLAUNCH does not exist; run make first"
fi
running=""
nrunning=0

reap() {	# wait until fewer than $1 tests run
	while [ $nrunning -ge "$1" ]; do
		still=""
		for rt in $running; do
			if [ -f "$OUT/$rt.rc" ]; then
				report "$rt" "$(cat "$OUT/$rt.rc")" "$OUT/$rt.log"
				nrunning=$((nrunning - 1))
			else
				still="$still $rt"
			fi
		done
		running=$still
		[ $nrunning -ge "$1" ] && sleep 0.1
	done
}

for f in regress/e2e/*.sh; do
	[ -f "$f" ] || continue
	t=$(basename "$f" .sh)
	selected "$t" || continue
	reap "$JOBS"
	now_ms >"$OUT/$t.start"
	(
		pledge_log "$t"
		# A long test names its own bound: "# e2e-timeout: N".
		lim=$(sed -n 's/^# e2e-timeout: *\([0-9][0-9]*\)$/\1/p' "$f")
		[ -n "$lim" ] && [ "$lim" -gt "$E2E_TIMEOUT" ] || lim=$E2E_TIMEOUT
		timeout -k 10 "$lim" sh "$f" >"$OUT/$t.log" 2>&1
		echo $? >"$OUT/$t.rc.tmp"
		mv "$OUT/$t.rc.tmp" "$OUT/$t.rc"
	) &
	running="$running $t"
	nrunning=$((nrunning + 1))
done
reap 1

# reports what dir: one result, failed by any file in dir
reports() {
	if [ -n "$(ls "$2" 2>/dev/null)" ]; then
		for f in "$2"/*; do
			echo "--- ${f##*/}"
			cat "$f"
		done >"$OUT/$1.log"
		report "$1 reports" 1 "$OUT/$1.log"
	else
		echo "no $1 reports" >"$OUT/$1.log"
		report "$1 reports" 0 "$OUT/$1.log"
	fi
}
[ "${SANITIZE:-0}" = 1 ] && reports sanitizer "$OUT/san"
[ "${PLEDGE:-0}" = 1 ] && reports pledge "$OUT/pledge"

# A failure's output scrolls away under the later results: name the
# failed ones again at the end, with the last lines of each, and last
# of all why each failed (a CI log that shows only its end shows that).
if [ $nfail != 0 ]; then
	i=1
	while [ $i -le $nfail ]; do
		echo "=== failed: $(cat "$OUT/failname.$i") (last lines)"
		sed 's/^/	/' "$OUT/tail.$i"
		i=$((i + 1))
	done
	echo "=== why each failed"
	i=1
	while [ $i -le $nfail ]; do
		if [ -s "$OUT/why.$i" ]; then
			sed "s/^/$(cat "$OUT/failname.$i"): /" "$OUT/why.$i"
		else
			echo "$(cat "$OUT/failname.$i"): no FAIL line (see above)"
		fi
		i=$((i + 1))
	done
fi
echo "$npass passed, $nfail failed, $nskip skipped"
[ $nfail = 0 ]
