#!/bin/sh
#
# Parser regress: every NAME.conf here is checked with vmlaunch -nv (or
# -n HOST [PORT] when its first line is "# regress-args: HOST [PORT]")
# and its stdout, stderr and exit status compared with NAME.ok.  Then
# the round trip of every valid case, the shipped examples, the EXAMPLES
# of the man pages (and vmlaunch.1's "vmlaunch -n HOST" output), and the
# refusal of files others could change or that are not regular files.
#
# usage: [VMLAUNCH=path] [REGRESS_UPDATE=1] sh run.sh [case ...]
# REGRESS_UPDATE=1 rewrites the .ok files: read the diff before committing.

dir=$(cd "$(dirname "$0")" && pwd) || exit 2
top=$(cd "$dir/../.." && pwd) || exit 2

# A relative $VMLAUNCH is relative to where we were started.
VMLAUNCH=${VMLAUNCH:-$dir/../../vmlaunch}
case $VMLAUNCH in
/*)	;;
*)	VMLAUNCH=$(pwd)/$VMLAUNCH ;;
esac
if [ ! -x "$VMLAUNCH" ]; then
	echo "run.sh: $VMLAUNCH: not an executable; build it or set VMLAUNCH" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmlaunch-parse.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

pass=0
fail=0

ok() {
	pass=$((pass + 1))
}

not_ok() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}

# vmlaunch ARGS...: stdout, stderr and "exit N" into $tmp/got.
vmlaunch() {
	"$VMLAUNCH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	cat "$tmp/out" "$tmp/err" >"$tmp/got"
	echo "exit $rc" >>"$tmp/got"
	return $rc
}

cd "$dir" || exit 2
# A checkout made with umask 002 would be refused as group-writable.
chmod go-w ./*.conf ./*.inc

if [ $# -gt 0 ]; then
	cases=$*
else
	cases=$(ls ./*.conf | sed 's,^\./,,; s,\.conf$,,')
fi

for name in $cases; do
	args=$(sed -n '1s/^# regress-args: //p' "$name.conf")
	if [ -n "$args" ]; then
		# shellcheck disable=SC2086
		vmlaunch -n -f "$name.conf" $args
	else
		vmlaunch -nv -f "$name.conf"
	fi
	if [ -n "$REGRESS_UPDATE" ]; then
		cp "$tmp/got" "$name.ok"
	fi
	if diff -u "$name.ok" "$tmp/got"; then
		ok
	else
		not_ok "$name"
	fi

	# The printed config parses again and prints the same text.
	[ -z "$args" ] && [ "$rc" -eq 0 ] || continue
	cp "$tmp/out" "$tmp/print1.conf"
	chmod 600 "$tmp/print1.conf"
	if "$VMLAUNCH" -nv -f "$tmp/print1.conf" >"$tmp/print2" 2>"$tmp/err" &&
	    diff -u "$tmp/print1.conf" "$tmp/print2"; then
		ok
	else
		cat "$tmp/err"
		not_ok "$name: round trip"
	fi
done
[ $# -gt 0 ] && { echo "$pass passed, $fail failed"; [ $fail -eq 0 ]; exit; }

# check_file LABEL FILE: FILE parses, and its printed form round-trips.
check_file() {
	cp "$2" "$tmp/check.conf"
	chmod 600 "$tmp/check.conf"
	if "$VMLAUNCH" -nv -f "$tmp/check.conf" >"$tmp/print1.conf" \
	    2>"$tmp/err" &&
	    "$VMLAUNCH" -nv -f "$tmp/print1.conf" >"$tmp/print2" 2>>"$tmp/err" &&
	    diff -u "$tmp/print1.conf" "$tmp/print2"; then
		ok
	else
		sed "s,$tmp/check.conf,$1," "$tmp/err"
		not_ok "$1"
	fi
}

check_file examples/vmlaunch.conf "$top/examples/vmlaunch.conf"
check_file examples/backend-qemu.conf "$top/examples/backend-qemu.conf"

# Every literal display in EXAMPLES that is a vmlaunch.conf (not an
# ssh_config, not a shell session) must parse on its own.
for man in vmlaunch.conf.5 vmlaunch.1; do
	[ -f "$top/$man" ] || continue
	awk -v out="$tmp/example" '
		/^\.Sh / { ex = ($2 == "EXAMPLES") }
		ex && /^\.Bd -literal/ { n++; f = out "." n; printf "" > f; inbd = 1; next }
		inbd && /^\.Ed/ { inbd = 0; close(f); next }
		inbd { gsub(/\\e/, "\\"); gsub(/\\&/, ""); gsub(/\\\(dq/, "\""); print > f }
	' "$top/$man"
	found=0
	for ex in "$tmp"/example.*; do
		[ -f "$ex" ] || continue
		if grep -q '^[[:space:]]*\(vm\|domain\|idle\|boot\|stop\|address\|port\|vmctl\|socket\)[[:space:]]' "$ex" &&
		    ! grep -q -i '^[[:space:]]*\(host\|proxycommand\)[[:space:]]\|^\$ ' "$ex"; then
			found=$((found + 1))
			check_file "$man EXAMPLES block $found" "$ex"
			echo "checked: $man EXAMPLES block $found"
		fi
		rm -f "$ex"
	done
	if [ "$man" = vmlaunch.conf.5 ] && [ $found -eq 0 ]; then
		not_ok "$man: no config example found in EXAMPLES"
	fi
done

# vmlaunch.1 shows "$ vmlaunch -n HOST" and its output: it must be what
# vmlaunch prints for the page's own configuration example.
awk -v out="$tmp/page" '
	/^\.Sh / { ex = ($2 == "EXAMPLES") }
	ex && /^\.Bd -literal/ { n++; f = out "." n; printf "" > f; inbd = 1; next }
	inbd && /^\.Ed/ { inbd = 0; close(f); next }
	inbd { gsub(/\\e/, "\\"); gsub(/\\&/, ""); print > f }
' "$top/vmlaunch.1"
pageconf=$(grep -l '^vm ' "$tmp"/page.* | head -n 1)
pagecmd=$(grep -l '^\$ vmlaunch -n [a-z]' "$tmp"/page.* | head -n 1)
if [ -n "$pageconf" ] && [ -n "$pagecmd" ]; then
	chmod 600 "$pageconf"
	host=$(sed -n 's/^\$ vmlaunch -n //p' "$pagecmd")
	sed 1d "$pagecmd" >"$tmp/page.want"
	# shellcheck disable=SC2086
	"$VMLAUNCH" -n -f "$pageconf" $host >"$tmp/page.got" 2>"$tmp/err"
	cat "$tmp/err" >>"$tmp/page.got"
	if diff -u "$tmp/page.want" "$tmp/page.got"; then
		ok
	else
		not_ok "vmlaunch.1: the output of \"vmlaunch -n $host\""
	fi
else
	not_ok "vmlaunch.1: no \"\$ vmlaunch -n HOST\" example found"
fi

# Refusals: a file others may change is not read.  Run from $tmp so the
# messages name the file as given.
secrecy() {
	label=$1
	want=$2
	(cd "$tmp" && "$VMLAUNCH" -n -f secret.conf) >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq 1 ] && [ "$(cat "$tmp/out")" = "$want" ]; then
		ok
	else
		echo "expected: $want"
		echo "got (exit $rc): $(cat "$tmp/out")"
		not_ok "secrecy: $label"
	fi
}

printf 'vm "a" {\n}\n' >"$tmp/secret.conf"
chmod 620 "$tmp/secret.conf"
secrecy "group-writable" "secret.conf: writable by group"
chmod 602 "$tmp/secret.conf"
secrecy "world-writable" "secret.conf: writable by others"
chmod 622 "$tmp/secret.conf"
secrecy "group- and world-writable" \
    "secret.conf: writable by group and others"

# An included file is checked too.
printf 'include "inc.conf"\n' >"$tmp/secret.conf"
printf 'port 22\n' >"$tmp/inc.conf"
chmod 600 "$tmp/secret.conf"
chmod 666 "$tmp/inc.conf"
secrecy "included file" "inc.conf: writable by group and others
secret.conf:1: include \"inc.conf\": refused"
chmod 600 "$tmp/inc.conf"

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	chown nobody "$tmp/secret.conf"
	secrecy "owned by another user" \
	    "secret.conf: owned by uid $(id -u nobody), not by you or root"
	chown 0 "$tmp/secret.conf"
else
	echo "skipped: owned by another user (needs root and user nobody)"
fi

# Not a regular file: refused before a byte is read (reading a FIFO
# used to wait for a writer forever), the main file as an included one.
refused() {	# label file want
	(cd "$tmp" && timeout 10 "$VMLAUNCH" -n -f "$2") >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq 1 ] && [ "$(cat "$tmp/out")" = "$3" ]; then
		ok
	else
		echo "expected: $3"
		echo "got (exit $rc): $(cat "$tmp/out")"
		not_ok "not a regular file: $1"
	fi
}
mkfifo "$tmp/fifo.conf"
mkdir "$tmp/dir.conf"
refused "FIFO" fifo.conf "fifo.conf: a FIFO, not a regular file"
refused "directory" dir.conf "dir.conf: a directory, not a regular file"
printf 'include "fifo.conf"\n' >"$tmp/secret.conf"
refused "included FIFO" secret.conf "fifo.conf: a FIFO, not a regular file
secret.conf:1: include \"fifo.conf\": refused"

# A missing file is named, with the reason.
(cd "$tmp" && "$VMLAUNCH" -n -f missing.conf) >"$tmp/out" 2>&1
if [ $? -eq 1 ] &&
    [ "$(cat "$tmp/out")" = "missing.conf: No such file or directory" ]; then
	ok
else
	cat "$tmp/out"
	not_ok "missing file"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
