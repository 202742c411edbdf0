#!/bin/sh
#
# Build the simulation: the product's state machine files (each with
# owner.h included first; the backend's callers with its wrappers too)
# and the simulated seams of this directory, against the libevent 1.4
# declarations of regress/libevent14 and no libevent at all: the timers
# are the simulation's own.
#
# usage: sh regress/sim/build.sh [out]	(default regress/tmp/sim/sim)
#	SANITIZE=1	with ASan and UBSan (default out .../sim-asan)
#	SIM_SRC=dir	the product's .c files from dir where it has them
#			(a patched copy: regress/sim/break.sh)

set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
os=$(uname -s | tr 'A-Z' 'a-z')
obj=$top/regress/tmp/sim
san=${SANITIZE:-0}
if [ "$san" = 1 ]; then
	out=${1:-$obj/sim-asan}
	obj=$obj/asan
	opt="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
else
	out=${1:-$obj/sim}
	obj=$obj/obj
	opt="-O2 -g"
fi
mkdir -p "$obj"
(cd "$top" && make -s parse.c)

cc=${CC:-cc}
warn="-Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith -Wshadow -Wno-unused-parameter"
inc="-I$top/regress/libevent14 -I$top -I$here -D_GNU_SOURCE"
libs=
if [ "$os" = linux ]; then
	inc="$inc $(pkg-config --cflags libbsd-overlay)"
	libs=$(pkg-config --libs libbsd-overlay)
fi

src() {
	if [ -n "${SIM_SRC:-}" ] && [ -f "$SIM_SRC/$1.c" ]; then
		echo "$SIM_SRC/$1.c"
	else
		echo "$top/$1.c"
	fi
}

# The code under test, as it is.
objs=
for f in vm start adopt pause stop boot halt state autostart; do
	# shellcheck disable=SC2086
	$cc $opt $warn $inc -include "$here/owner.h" -DSIM_WRAP_BACKEND \
	    -c "$(src $f)" -o "$obj/p_$f.o"
	objs="$objs $obj/p_$f.o"
done
for f in session idle busy hold history backend vmctl parse syntax config \
    printconf escape; do
	# shellcheck disable=SC2086
	$cc $opt $warn $inc -include "$here/owner.h" \
	    -c "$(src $f)" -o "$obj/p_$f.o"
	objs="$objs $obj/p_$f.o"
done
# The simulated seams.
for f in sim gen check harness users holds probe job world clock log owner; do
	# shellcheck disable=SC2086
	$cc $opt $warn $inc -c "$here/$f.c" -o "$obj/s_$f.o"
	objs="$objs $obj/s_$f.o"
done
# shellcheck disable=SC2086
$cc $opt -o "$out" $objs $libs
