#!/bin/sh
# make bench: every vmlaunch benchmark, side by side with the alternatives
# (netcat-openbsd, socat, a once-a-second polling script), on loopback.
# Prints a table of ratios and absolute figures; see bench/README.md.
#
#	sh bench/run.sh			everything (a few minutes)
#	BENCH_ONLY=tput,warm sh bench/run.sh	some of: config tput warm
#					ready idle scale resume contacts
#	KEEP=1 sh bench/run.sh		keep the private directory
# Other knobs (sizes, repetitions): the top of bench/bench.py.
#
# "ready" and "contacts" also measure an earlier vmlaunch in the same
# run, built here from git: BENCH_READY_BEFORE_COMMIT and
# BENCH_CONTACTS_BEFORE_COMMIT, both by default 6c90d7f (main before
# issue 18's parts 2 and 3: the probe every 10-15 ms for the whole boot,
# the status every second, a vmctl status per VM's first contact); set
# one to "" to leave it out, or BENCH_READY_BEFORE / BENCH_CONTACTS_BEFORE
# to a vmlaunch binary to use that.
set -u

cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
PY=/usr/bin/python3
[ -x $PY ] || PY=python3

for t in nc socat ssh sshd strace perf cc; do
	command -v $t >/dev/null 2>&1 || [ -x /usr/sbin/$t ] || {
		echo "bench: $t is missing (apt-get install netcat-openbsd" \
		    "socat openssh-client openssh-server strace linux-perf)" >&2
		exit 1
	}
done
[ -x ./vmlaunch ] || { echo "bench: build vmlaunch first (make)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/vmlaunch-bench.XXXXXXXX") || exit 1
chmod 700 "$T"
pid=
cleanup() {
	# bench.py kills what it started; this is for an interrupted run.
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid"
	if [ "${KEEP:-0}" = 1 ]; then
		echo "bench: kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# 1,000 sessions: the supervisor, the clients and this script need fds.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null

cc -O2 -Wall -o "$T/blast" bench/blast.c || exit 1

wanted() {	# benchmark: selected by BENCH_ONLY (or everything)
	[ -z "${BENCH_ONLY:-}" ] || echo ",$BENCH_ONLY," | grep -q ",$1,"
}
# An earlier vmlaunch, from git into the private directory (the work
# tree is not touched); prints its path, or nothing when it cannot.
build_before() {	# commit
	[ -n "$1" ] || return 0
	_d=$T/before-$1
	mkdir -p "$_d" &&
	    git archive "$1" 2>"$_d.log" | tar -x -C "$_d" &&
	    make -C "$_d" vmlaunch >>"$_d.log" 2>&1 &&
	    [ -x "$_d/vmlaunch" ] && { echo "$_d/vmlaunch"; return 0; }
	echo "bench: could not build vmlaunch at $1 (see $_d.log);" \
	    "its rows show -" >&2
}
if wanted ready && [ -z "${BENCH_READY_BEFORE:-}" ]; then
	BENCH_READY_BEFORE=$(build_before \
	    "${BENCH_READY_BEFORE_COMMIT-6c90d7f}")
fi
if wanted contacts && [ -z "${BENCH_CONTACTS_BEFORE:-}" ]; then
	BENCH_CONTACTS_BEFORE=$(build_before \
	    "${BENCH_CONTACTS_BEFORE_COMMIT-6c90d7f}")
fi
export BENCH_READY_BEFORE="${BENCH_READY_BEFORE:-}"
export BENCH_CONTACTS_BEFORE="${BENCH_CONTACTS_BEFORE:-}"

# Other work on the machine moves the latency figures: say how busy it is.
echo "vmlaunch bench: $(uname -sr), $(nproc) cpus," \
    "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
"$PY" bench/bench.py "$TOP" "$T" "$T/blast" &
pid=$!
wait "$pid"
rc=$?
pid=
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
exit $rc
