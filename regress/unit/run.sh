#!/bin/sh
#
# Unit tests of the backend: job.c, vmctl.c (vmd and command backends),
# address.c, osdep-<os>.c.
# Builds the objects with the top Makefile, links each test program
# against them, runs them and adds up.  As root on Linux, creates
# interfaces with vmd-style descriptions for address_tap (removed on
# exit).  SANITIZE=1 builds everything with ASan and UBSan instead.
#
# usage: sh regress/unit/run.sh

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
os=$(uname -s | tr 'A-Z' 'a-z')
obj=$top/regress/tmp/unit
srcs="job.c vmctl.c backend.c address.c printconf.c config.c parse.c syntax.c escape.c log.c osdep-$os.c"
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
if [ "${SANITIZE:-0}" = 1 ]; then
	cflags="$cflags -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
	objs=
	for s in $srcs; do
		objs="$objs $top/$s"
	done
else
	cflags="$cflags -O2"
	objs=
	for s in $srcs; do
		objs="$objs ${s%.c}.o"
	done
	(cd "$top" && make -s $objs) || exit 1
	objs=$(for o in $objs; do printf '%s ' "$top/$o"; done)
fi

for t in t_job t_vmctl t_backend t_address; do
	# shellcheck disable=SC2086
	if ! cc $cflags -o "$obj/$t" "$here/$t.c" $objs $libs; then
		echo "$t: does not build"
		exit 1
	fi
done

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
run "$obj/t_address"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
