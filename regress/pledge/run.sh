#!/bin/sh
#
# The pledge model's own tests: t_model.c, linked with the model's
# wrappers, shows that a call outside the promises aborts and a path
# outside unveil fails as on OpenBSD; audit.sh shows that the model
# knows every library call vmlaunch's objects make.
#
# usage: sh regress/pledge/run.sh

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
os=$(uname -s | tr 'A-Z' 'a-z')
if [ "$os" != linux ]; then
	echo "SKIP: the pledge model is for Linux (OpenBSD has the real one)"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmlaunch-pledge.XXXXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

flags="-O2 -g -Wall -Wextra -Wno-unused-parameter -I$top -D_GNU_SOURCE"
flags="$flags $(pkg-config --cflags libevent libbsd-overlay)"
libs=$(pkg-config --libs libevent libbsd-overlay)
# shellcheck disable=SC2046,SC2086
cc $flags -o "$tmp/t_model" "$here/t_model.c" "$here/model.c" \
    "$top/osdep-$os.c" $(sh "$here/wrapflags.sh") $libs || exit 1
"$tmp/t_model" "$tmp" || exit 1

objs=$(cd "$top" && make -s >/dev/null && ls ./*.o) || exit 1
# shellcheck disable=SC2086
(cd "$top" && sh "$here/audit.sh" $objs)
