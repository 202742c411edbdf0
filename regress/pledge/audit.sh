#!/bin/sh
#
# Every library call in vmlaunch's objects must be either checked by the
# pledge model (a __wrap_NAME in model.c) or named in stdio.txt as
# needing no promise beyond "stdio": a new call fails here until someone
# decides which, so the model cannot silently miss it.
#
# usage: sh regress/pledge/audit.sh OBJECT...

here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || { echo "usage: audit.sh object..." >&2; exit 2; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

nm -g --defined-only "$@" | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/ours"
sed -n 's/^__wrap_\([a-z_]*\)(.*/\1/p' "$here/model.c" >"$tmp/known"
grep -v '^#' "$here/stdio.txt" | tr -s ' \t' '\n\n' | grep . >>"$tmp/known"
sort -u -o "$tmp/known" "$tmp/known"
nm -u "$@" | awk 'NF == 2 { print $2 }' | grep -v '^_GLOBAL_OFFSET_TABLE_$' |
    sort -u | comm -23 - "$tmp/ours" >"$tmp/calls"
comm -23 "$tmp/calls" "$tmp/known" >"$tmp/new"
if [ -s "$tmp/new" ]; then
	echo "audit: calls the pledge model neither checks nor knows as" \
	    "\"stdio\" (model.c, stdio.txt):"
	sed 's/^/	/' "$tmp/new"
	exit 1
fi
echo "audit: $(wc -l <"$tmp/calls") library calls, each checked by the" \
    "model or known as stdio"
