#!/bin/sh
#
# regress/fuzz/replay.sh: run every kept crasher through its harness,
# built without libFuzzer (standalone.c) under ASan and UBSan, so that a
# fixed bug stays fixed.  crashers/config-* go to the config parser
# harness, crashers/control-* to the control decoder harness.
#
#	sh regress/fuzz/replay.sh		CC=clang ... to pick the compiler
#
# The last line is "N passed, N failed"; the exit status is non-zero when
# any input crashed, leaked or tripped a sanitizer.

cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
CC=${CC:-cc}
YACC=${YACC:-yacc}
B=$(mktemp -d "${TMPDIR:-/tmp}/vmlaunch-replay.XXXXXXXX") || exit 1
trap 'rm -rf "$B"' EXIT
trap 'exit 1' INT TERM HUP

OS=$(uname -s | tr 'A-Z' 'a-z')
if [ "$OS" = linux ]; then
	OSCFLAGS=$(pkg-config --cflags libevent libbsd-overlay)
	OSLIBS=$(pkg-config --libs libevent libbsd-overlay)
else
	OSCFLAGS= OSLIBS="-levent -lutil"
fi
# What parsing a config needs (the Makefile's CONFSRCS, parse.c aside).
CONF="syntax.c config.c printconf.c escape.c address.c vmctl.c job.c log.c
    osdep-$OS.c"
# The generated parser, from parse.y as it is now.
$YACC -o "$B/parse.c" parse.y || exit 1
FLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
    -fno-sanitize-recover=all -I$TOP -D_GNU_SOURCE $OSCFLAGS"
# shellcheck disable=SC2086
$CC $FLAGS -o "$B/replay-config" regress/fuzz/standalone.c \
    regress/fuzz/fuzz_config.c "$B/parse.c" $CONF $OSLIBS &&
$CC $FLAGS -o "$B/replay-control" regress/fuzz/standalone.c \
    regress/fuzz/fuzz_control.c control.c buf.c "$B/parse.c" $CONF \
    $OSLIBS || { echo "replay: build failed"; echo "0 passed, 1 failed"; exit 1; }

npass=0 nfail=0
for f in regress/fuzz/crashers/*; do
	[ -f "$f" ] || continue
	case $(basename "$f") in
	config-*)	bin=$B/replay-config ;;
	control-*)	bin=$B/replay-control ;;
	*)		continue ;;
	esac
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    timeout 20 "$bin" "$f" >"$B/out" 2>&1; then
		npass=$((npass + 1))
		echo "$(basename "$f"): PASS"
	else
		nfail=$((nfail + 1))
		echo "$(basename "$f"): FAIL"
		grep -E 'ERROR|SUMMARY|runtime error|^#[0-9]' "$B/out" |
		    head -n 15 | sed 's/^/	/'
	fi
done
echo "$npass passed, $nfail failed"
[ $nfail = 0 ]
