#!/bin/sh
#
# The OpenBSD port's packing list (ports/sysutils/vmlaunch/pkg/PLIST)
# against what "make install DESTDIR=..." really installs: the same
# files, the binary marked @bin and the man pages @man, every directory
# of ours listed; then "make uninstall" leaves no file behind.
#
# usage: sh regress/ports/plist.sh	(from make check-plist)

cd "$(dirname "$0")/../.." || exit 1
plist=ports/sysutils/vmlaunch/pkg/PLIST
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmlaunch-plist.XXXXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
prefix=/usr/local
root=$tmp/root
rc=0

make -s install DESTDIR="$root" PREFIX="$prefix" >/dev/null || exit 1

# The directories OpenBSD's base (mtree) owns under /usr/local.
base="bin man man/man1 man/man5 share share/examples"

(cd "$root$prefix" && find . -type f | sed 's|^\./||' | sort) \
    >"$tmp/installed.files"
(cd "$root$prefix" && find . -mindepth 1 -type d | sed 's|^\./||;s|$|/|') |
    sort >"$tmp/installed.dirs"
for d in $base; do
	echo "$d/"
done | sort >"$tmp/base.dirs"
comm -23 "$tmp/installed.dirs" "$tmp/base.dirs" >"$tmp/our.dirs"

grep -v '^@comment' "$plist" | sed 's/^@bin //;s/^@man //' |
    grep -v '/$' | sort >"$tmp/plist.files"
grep '/$' "$plist" | sort >"$tmp/plist.dirs"

if ! diff -u "$tmp/plist.files" "$tmp/installed.files" >"$tmp/diff"; then
	echo "FAIL: $plist lists other files than make install installs" \
	    "(-PLIST +installed):"
	cat "$tmp/diff"
	rc=1
fi
if ! diff -u "$tmp/plist.dirs" "$tmp/our.dirs" >"$tmp/diff"; then
	echo "FAIL: $plist lists other directories than make install" \
	    "makes (-PLIST +installed):"
	cat "$tmp/diff"
	rc=1
fi
for f in $(grep '^bin/' "$tmp/plist.files"); do
	grep -qx "@bin $f" "$plist" || { echo "FAIL: $f is not @bin"; rc=1; }
done
for f in $(grep '^man/' "$tmp/plist.files"); do
	grep -qx "@man $f" "$plist" || { echo "FAIL: $f is not @man"; rc=1; }
done

make -s uninstall DESTDIR="$root" PREFIX="$prefix" >/dev/null || exit 1
if [ -n "$(find "$root" -type f)" ]; then
	echo "FAIL: make uninstall left files behind:"
	find "$root" -type f
	rc=1
fi
[ $rc = 0 ] && echo "check-plist: $plist matches make install" \
    "($(wc -l <"$tmp/installed.files") files), make uninstall removes them"
exit $rc
