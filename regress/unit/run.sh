#!/bin/sh
#
# Unit tests, one program per file under test: t_job (job.c), t_idle
# (idle.c, with busy.c and history.c), t_vmctl
# and t_backend (vmctl.c, backend.c: vmd and command backends),
# t_address (address.c, osdep-<os>.c), t_ctl (buf.c, control.c: the
# codec) and t_proxy (proxy.c, the relay, with splicecount.c in place of
# the OS's splice, to count what it does).  Each uses unit.h: CHECK, and
# a last line that this script adds up.
# Builds the objects with the top Makefile, links each test program
# against them, runs them and adds up.  As root on Linux, creates
# interfaces with vmd-style descriptions for address_tap (removed on
# exit).  SANITIZE=1 builds everything with ASan and UBSan instead.
#
# usage: sh regress/unit/run.sh
#	 sh regress/unit/run.sh bench	splice vs read/write throughput

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
os=$(uname -s | tr 'A-Z' 'a-z')
obj=$top/regress/tmp/unit
srcs="job.c vmctl.c backend.c address.c printconf.c config.c parse.c syntax.c
    escape.c log.c buf.c control.c osdep-$os.c"
relaysrcs="proxy.c log.c"
idlesrcs="idle.c busy.c history.c"
pass=0
fail=0
ifs=

cleanup() {
	for i in $ifs; do
		ip link del "$i" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

mkdir -p "$obj" || exit 1
cflags="-g -Wall -Wextra -Wno-unused-parameter -I$top -D_GNU_SOURCE"
libs="-levent"
if [ "$os" = linux ]; then
	cflags="$cflags $(pkg-config --cflags libevent libbsd-overlay)"
	libs=$(pkg-config --libs libevent libbsd-overlay)
fi
# The objects (or, under the sanitizers, the sources) of a list.
objects() {
	for _s; do
		if [ "${SANITIZE:-0}" = 1 ]; then
			printf '%s ' "$top/$_s"
		else
			printf '%s ' "$top/${_s%.c}.o"
		fi
	done
}
if [ "${SANITIZE:-0}" = 1 ]; then
	cflags="$cflags -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
else
	cflags="$cflags -O2"
	# shellcheck disable=SC2086
	(cd "$top" && make -s $(for s in $srcs $relaysrcs; do
	    printf '%s ' "${s%.c}.o"; done) $(for s in $idlesrcs; do
	    printf '%s ' "${s%.c}.o"; done)) || exit 1
fi
# shellcheck disable=SC2086
objs=$(objects $srcs)
# shellcheck disable=SC2086
relayobjs=$(objects $relaysrcs)
# shellcheck disable=SC2086
idleobjs=$(objects $idlesrcs)

for t in t_job t_idle t_vmctl t_backend t_address t_ctl t_proxy; do
	case $t in
	t_proxy) o="$here/splicecount.c $relayobjs" ;;
	t_idle) o="$idleobjs $objs" ;;
	*) o=$objs ;;
	esac
	# shellcheck disable=SC2086
	if ! cc $cflags -o "$obj/$t" "$here/$t.c" $o $libs; then
		echo "$t: does not build"
		exit 1
	fi
done
if [ "${1:-}" = bench ]; then
	"$obj/t_proxy" bench
	exit $?
fi

# Interfaces for address_tap: a dummy where the kernel has it, else a tap.
mkif() {
	ip link del "$1" 2>/dev/null	# left over by an interrupted run
	ip link add "$1" type dummy 2>/dev/null ||
	    ip tuntap add dev "$1" mode tap 2>/dev/null || return 1
	ifs="$ifs $1"
	ip link set dev "$1" alias "$2" || return 1
	[ -z "$3" ] || ip addr add "$3" dev "$1" || return 1
}

VLT_TAP=0
if [ "$os" != linux ]; then
	echo "*** SKIPPED: address_tap against real interfaces (Linux only)"
elif [ "$(id -u)" != 0 ]; then
	echo "*** SKIPPED: address_tap against real interfaces needs root"
elif mkif vlt0 vm7-if0-my-vm 100.64.7.2/31 &&
    mkif vlt1 vm8-if1-noaddr "" &&
    mkif vlt2 "$(printf 'vm12-if0-long-%s' "$(printf '%055d' 0 | tr 0 n)" | cut -c1-63)" \
    100.64.12.2/31; then
	VLT_TAP=1
else
	echo "*** SKIPPED: could not create test interfaces (no dummy or tap)"
fi
export VLT_TAP

run() {
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -v '^RESULT '
	res=$(printf '%s\n' "$out" | sed -n 's/^RESULT //p' | tail -1)
	if [ -z "$res" ]; then
		echo "$1: crashed (exit $rc)"
		fail=$((fail + 1))
		return
	fi
	set -- $res
	pass=$((pass + $1))
	fail=$((fail + $2))
}

run "$obj/t_vmctl" "$here/fakevmctl.sh"
run "$obj/t_backend" "$here/fakevmctl.sh"
run "$obj/t_job"
run "$obj/t_idle"
run "$obj/t_address"
run "$obj/t_ctl"
run "$obj/t_proxy"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
