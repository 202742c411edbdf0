#!/bin/sh
# Unit tests for buf.c, control.c and proxy.c.
#
#	sh run.sh		build against the repo's objects, run all
#	SANITIZE=1 sh run.sh	same sources built with ASan/UBSan here
#	sh run.sh bench		splice vs read/write throughput figures
#
# The last line is "N passed, N failed"; the exit status is non-zero if
# anything failed.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$here" || exit 1
CC=${CC:-cc}
OSFLAGS=
if [ "$(uname -s)" = Linux ]; then
	OSFLAGS=$(pkg-config --cflags --libs libbsd-overlay)
fi
CFLAGS="-O2 -g -Wall -Wextra -I$top -D_GNU_SOURCE"
OBJDIR=$(mktemp -d) || exit 1
trap 'rm -rf "$OBJDIR"' EXIT INT TERM

if [ "${SANITIZE:-0}" = 1 ]; then
	CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	    -fno-sanitize-recover=all -Wall -Wextra -I$top -D_GNU_SOURCE"
	for f in buf control proxy log; do
		$CC $CFLAGS $OSFLAGS -c "$top/$f.c" -o "$OBJDIR/$f.o" || exit 1
	done
	OBJS="$OBJDIR/buf.o $OBJDIR/control.o $OBJDIR/proxy.o $OBJDIR/log.o"
else
	make -s -C "$top" buf.o control.o proxy.o log.o >/dev/null || exit 1
	OBJS="$top/buf.o $top/control.o $top/proxy.o $top/log.o"
fi

for t in test_ctl test_proxy; do
	$CC $CFLAGS -o "$OBJDIR/$t" "$t.c" scratch.c $OBJS $OSFLAGS || exit 1
done

if [ "${1:-}" = bench ]; then
	"$OBJDIR/test_proxy" bench
	exit $?
fi

out="$OBJDIR/out"
status=0
: >"$out"
for t in test_ctl test_proxy; do
	"$OBJDIR/$t" >>"$out" 2>&1 || echo "FAIL $t: exit status $?" >>"$out"
done
grep -v '^PASS ' "$out"
passed=$(grep -c '^PASS ' "$out")
failed=$(grep -c '^FAIL ' "$out")
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit $status
