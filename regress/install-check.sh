#!/bin/sh
#
# regress/install-check.sh: README's "Install" for Debian, checked from
# nothing.  debootstrap makes a minimal Debian in a temporary directory;
# in it (chroot), apt-get installs exactly the packages README names, then
# the source tree (the files git knows, as they are in this checkout) is
# built with "make" and installed with "make install DESTDIR=/tmp/x";
# every documented file must be there, the installed vmlaunch must run
# and check the installed example, and "make uninstall" must remove it
# all again.
#
#	sh regress/install-check.sh		as root; a few minutes
#	SUITE=trixie sh regress/install-check.sh	another Debian release
#	MIRROR=http://... KEEP=1 ...		a mirror; keep the chroot
#
# Not part of "make check" (it downloads a Debian).  Needs root and
# debootstrap, and skips loudly (exit 77) without them.  The last line is
# "install-check: passed" or "install-check: FAILED: ...".

top=$(cd "$(dirname "$0")/.." && pwd) || exit 2
# What README tells a Debian user to install, word for word.
PKGS="make gcc byacc libevent-dev libbsd-dev pkg-config"
SUITE=${SUITE:-$(. /etc/os-release 2>/dev/null && echo "$VERSION_CODENAME")}
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

skip() {
	echo "SKIP: install-check: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null 2>&1 ||
    skip "needs debootstrap (apt-get install debootstrap)"

root=$(mktemp -d "${TMPDIR:-/tmp}/vmlaunch-install.XXXXXXXX") || exit 2
failed=""
cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then
		echo "install-check: kept $root"
	else
		rm -rf "$root"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	echo "FAIL: $*"
	failed="$failed; $*"
}

in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME=/root LANG=C DEBIAN_FRONTEND=noninteractive "$@"
}

echo "install-check: debootstrap $SUITE from $MIRROR into $root"
if ! debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" \
    >"$root.log" 2>&1; then
	tail -n 20 "$root.log"
	rm -f "$root.log"
	echo "install-check: FAILED: debootstrap"
	exit 1
fi
rm -f "$root.log"

echo "install-check: apt-get install $PKGS"
# shellcheck disable=SC2086
if ! in_root apt-get install -y -q $PKGS >"$root/apt.log" 2>&1; then
	tail -n 20 "$root/apt.log"
	echo "install-check: FAILED: apt-get install"
	exit 1
fi

# The tree as it is here, without what a build left in it.
mkdir "$root/src"
(cd "$top" && git ls-files -z | tar --null -T - -cf -) |
    tar xf - -C "$root/src" || { echo "install-check: FAILED: copy"; exit 1; }

echo "install-check: make"
if ! in_root sh -c 'cd /src && make' >"$root/make.log" 2>&1; then
	tail -n 30 "$root/make.log"
	echo "install-check: FAILED: make"
	exit 1
fi
grep -i 'warning' "$root/make.log" && fail "make printed warnings"

echo "install-check: make install DESTDIR=/tmp/x"
if ! in_root sh -c 'cd /src && make install DESTDIR=/tmp/x' \
    >"$root/install.log" 2>&1; then
	tail -n 30 "$root/install.log"
	echo "install-check: FAILED: make install"
	exit 1
fi
x=$root/tmp/x/usr/local
examples=$(cd "$root/src/examples" && ls ./*.conf ssh_config |
    sed 's,^\(\./\)*,share/examples/vmlaunch/,')
for f in bin/vmlaunch man/man1/vmlaunch.1 man/man5/vmlaunch.conf.5 \
    $examples; do
	if [ -f "$x/$f" ]; then
		echo "installed: /usr/local/$f"
	else
		fail "make install did not install /usr/local/$f"
	fi
done
[ -x "$x/bin/vmlaunch" ] || fail "/usr/local/bin/vmlaunch is not executable"

# The installed program runs with what the packages brought, and checks
# the installed example.
out=$(in_root /tmp/x/usr/local/bin/vmlaunch -V 2>&1) ||
    fail "the installed vmlaunch -V: $out"
echo "installed vmlaunch -V: $out"
if [ -f "$x/share/examples/vmlaunch/vmlaunch.conf" ]; then
	cp "$x/share/examples/vmlaunch/vmlaunch.conf" "$root/tmp/ex.conf"
	chmod 600 "$root/tmp/ex.conf"
	out=$(in_root /tmp/x/usr/local/bin/vmlaunch -n -f /tmp/ex.conf 2>&1) ||
	    fail "the installed vmlaunch -n on the installed example: $out"
	echo "installed vmlaunch -n on the example: $out"
fi

echo "install-check: make uninstall DESTDIR=/tmp/x"
if ! in_root sh -c 'cd /src && make uninstall DESTDIR=/tmp/x' \
    >"$root/uninstall.log" 2>&1; then
	tail -n 10 "$root/uninstall.log"
	fail "make uninstall"
else
	left=$(find "$root/tmp/x" -type f)
	[ -z "$left" ] || fail "make uninstall left: $left"
fi

if [ -n "$failed" ]; then
	echo "install-check: FAILED${failed#;}"
	exit 1
fi
echo "install-check: passed ($SUITE: $PKGS)"
