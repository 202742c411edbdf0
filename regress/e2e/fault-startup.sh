#!/bin/sh
# Refused loudly at startup: a socket directory with a wrong mode or
# owner (vmlaunch -d exits non-zero and says why, no socket appears, the
# ProxyCommand fails with one line and exit 255), and a config file that
# others could change (the secrecy check: -n, -d and the ProxyCommand all
# refuse it, naming the file).  Nothing is started either way.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
SOCK=$T/sock/control
conf_begin; conf_vm ubuntu; conf_end
mkdir "$T/sock"

refused_dir() {	# mode|owner what ERE
	rm -f "$SOCK"
	timeout -k 5 15 "$VMLAUNCH" -d -f "$CONF" >"$T/d.out" 2>"$T/d.err"
	rc=$?
	[ $rc = 124 ] && fail "$2: vmlaunch -d did not exit (still running)"
	assert_ne "$rc" 0 "$2: vmlaunch -d exit status"
	assert_match "$(cat "$T/d.err")" "$3" "$2: vmlaunch -d stderr"
	assert_match "$(cat "$T/d.err")" 'refus' "$2: vmlaunch -d stderr"
	[ -e "$SOCK" ] && fail "$2: a control socket was created"
	run_proxy ubuntu.vm 22
	assert_eq "$RC" 255 "$2: ProxyCommand exit status"
	assert_eq "$(echo "$ERR" | wc -l)" 1 "$2: ProxyCommand stderr lines ($ERR)"
	assert_match "$ERR" "$3" "$2: ProxyCommand stderr"
	assert_eq "$OUT" "" "$2: ProxyCommand stdout"
	msg "$2: refused: $(head -n 1 "$T/d.err")"
}

chmod 755 "$T/sock"
refused_dir 755 "socket directory mode 0755" "$T/sock.*mode 0?755"
chmod 770 "$T/sock"
refused_dir 770 "socket directory mode 0770" "$T/sock.*mode 0?770"
chmod 701 "$T/sock"
refused_dir 701 "socket directory mode 0701" "$T/sock.*mode 0?701"
if [ "$(id -u)" = 0 ]; then
	chmod 700 "$T/sock"
	chown nobody "$T/sock"
	refused_dir owner "socket directory owned by nobody" \
	    "$T/sock: .*owned by uid"
	chown 0 "$T/sock"
else
	msg "SKIPPED PART: socket directory owned by another uid (needs root)"
fi
assert_eq "$(vmctl_calls '')" 0 "vmctl calls while refused"

# The secrecy check on the config file and on what it includes.
chmod 700 "$T/sock"
refused_conf() {	# what ERE file
	out=$("$VMLAUNCH" -n -f "$CONF" 2>&1)
	rc=$?
	assert_eq "$rc" 1 "$1: vmlaunch -n exit status"
	assert_match "$out" "^$3: .*$2|^$CONF:[0-9]+: include" \
	    "$1: vmlaunch -n output"
	assert_not_contains "$out" "configuration OK" "$1: vmlaunch -n output"
	timeout -k 5 15 "$VMLAUNCH" -d -f "$CONF" >/dev/null 2>"$T/d.err"
	rc=$?
	[ $rc = 124 ] && fail "$1: vmlaunch -d started with it"
	assert_ne "$rc" 0 "$1: vmlaunch -d exit status"
	assert_match "$(cat "$T/d.err")" "$2" "$1: vmlaunch -d stderr"
	run_proxy ubuntu.vm 22
	assert_eq "$RC" 255 "$1: ProxyCommand exit status"
	assert_match "$ERR" "$2" "$1: ProxyCommand stderr"
	[ -e "$SOCK" ] && fail "$1: a control socket was created"
	msg "$1: refused: $(echo "$out" | head -n 1)"
}
for m in 666:'writable by group and others' 620:'writable by group$' \
    602:'writable by others'; do
	chmod "${m%%:*}" "$CONF"
	refused_conf "config mode 0${m%%:*}" "${m#*:}" "$CONF"
done
chmod 600 "$CONF"
if [ "$(id -u)" = 0 ]; then
	chown nobody "$CONF"
	refused_conf "config owned by nobody" \
	    "owned by uid $(id -u nobody), not by you or root" "$CONF"
	chown 0 "$CONF"
else
	msg "SKIPPED PART: config owned by another uid (needs root)"
fi
# An include that others could change is refused as well.
echo "# included" >"$T/inc.conf"
chmod 646 "$T/inc.conf"
cp "$CONF" "$T/good.conf"
echo 'include "inc.conf"' >>"$CONF"
refused_conf "an included file of mode 0646" "writable by others" \
    "$T/inc.conf"
cp "$T/good.conf" "$CONF"
assert_eq "$(vmctl_calls '')" 0 "vmctl calls while refused"

# Readable by all is fine: the check is about who can change the file.
chmod 644 "$CONF"
out=$("$VMLAUNCH" -n -f "$CONF" 2>&1)
assert_eq "$?" 0 "vmlaunch -n with mode 0644 ($out)"
supervisor_start
run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "ssh once everything is safe (stderr: $ERR)"
assert_eq "$OUT" hello "output once everything is safe"
