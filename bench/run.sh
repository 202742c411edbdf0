#!/bin/sh
# make bench: every vmlaunch benchmark, side by side with the alternatives
# (netcat-openbsd, socat, a once-a-second polling script), on loopback.
# Prints a table of ratios and absolute figures; see bench/README.md.
#
#	sh bench/run.sh			everything (a few minutes)
#	BENCH_ONLY=tput,warm sh bench/run.sh	some of: config tput warm
#					ready idle scale resume
#	KEEP=1 sh bench/run.sh		keep the private directory
# Other knobs (sizes, repetitions): the top of bench/bench.py.
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
