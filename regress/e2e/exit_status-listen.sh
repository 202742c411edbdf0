#!/bin/sh
# vmlaunch.1, EXIT STATUS, -d 1: "it could not listen".  The supervisor
# in the foreground whose control socket cannot be made exits 1 at once
# with one line that says so and why: a file that is not a socket where
# the socket goes (left as it is: it is not vmlaunch's to remove), and,
# as root, a socket directory on a read-only file system.  Once the way
# is clear, the same command runs.  A ProxyCommand facing such a file
# says so at once, and one whose supervisor cannot lock or listen hears
# why from it.  (Before: "unlink PATH: Is a directory"; a regular file
# there was removed; the ProxyCommand waited 15s for a supervisor that
# could not come.)
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end

TS='[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9]'

# run_d: vmlaunch -d with nothing on stdin; RC, ERR.
run_d() {
	timeout -k 5 30 "$VMLAUNCH" -d -f "${1:-$CONF}" </dev/null \
	    >"$T/d.out" 2>"$T/d.err"
	RC=$?
	ERR=$(cat "$T/d.err")
	[ $RC = 124 ] && fail "vmlaunch -d did not exit"
	assert_eq "$(cat "$T/d.out")" "" "vmlaunch -d: stdout"
	return 0
}

one_line() {	# text what
	[ "$(printf '%s\n' "$1" | wc -l)" = 1 ] ||
	    fail "$2: expected one line, got: $1"
}

# A directory where the socket goes.
mkdir "$SOCK"
run_d
assert_eq "$RC" 1 "-d, a directory at the socket path: exit status"
one_line "$ERR" "-d, a directory at the socket path: stderr"
assert_match "$ERR" "^$TS vmlaunch: cannot listen on $SOCK: it exists and is not a socket\$" \
    "-d, a directory at the socket path: stderr"
[ -d "$SOCK" ] || fail "the directory at the socket path is gone"
rmdir "$SOCK"

# A regular file there: the same, and the file is kept.
echo "not a socket" >"$SOCK"
run_d
assert_eq "$RC" 1 "-d, a file at the socket path: exit status"
one_line "$ERR" "-d, a file at the socket path: stderr"
assert_match "$ERR" "^$TS vmlaunch: cannot listen on $SOCK: it exists and is not a socket\$" \
    "-d, a file at the socket path: stderr"
assert_eq "$(cat "$SOCK" 2>/dev/null)" "not a socket" \
    "the file at the socket path"
# The ProxyCommand says so at once (255, one line), rather than waiting
# for a supervisor that cannot come.
run_proxy ubuntu.vm 22
assert_eq "$RC" 255 "ProxyCommand, a file at the socket path: exit status"
assert_eq "$ERR" "vmlaunch: $SOCK exists and is not a socket: no supervisor can listen there" \
    "ProxyCommand, a file at the socket path: stderr"
run_ssh ubuntu.vm true
assert_eq "$RC" 255 "ssh, a file at the socket path: exit status"
assert_contains "$ERR" "vmlaunch: $SOCK exists and is not a socket" \
    "ssh, a file at the socket path: stderr"
assert_eq "$(cat "$SOCK" 2>/dev/null)" "not a socket" \
    "the file at the socket path, after the clients"
assert_eq "$(vmctl_calls start)" 0 "vmctl start calls"
rm "$SOCK"

# The way clear: it listens (and a stale socket is taken over).
supervisor_start
kill -9 "$SUP_PID"
wait_for 10 not alive "$SUP_PID"
[ -S "$SOCK" ] || fail "no stale socket left by the killed supervisor"
supervisor_start
kill -TERM "$SUP_PID"
wait_for 20 not alive "$SUP_PID"
wait "$SUP_PID"
assert_eq "$?" 0 "-d after SIGTERM: exit status"

# A socket directory on a read-only file system (root: the mounts).
if [ "$(id -u)" != 0 ]; then
	msg "SKIPPED PART: a read-only socket directory (needs root for the mounts)"
	exit 0
fi
mkdir "$T/mnt"
if ! mount -t tmpfs -o size=64k,mode=0700 vmlaunch-listen "$T/mnt"; then
	msg "SKIPPED PART: a read-only socket directory (cannot mount a tmpfs here)"
	exit 0
fi
echo "umount -l '$T/mnt' 2>/dev/null" >"$T/netns.mount"
mount --bind "$T/mnt" "$T/mnt" || fail "bind mount"
echo "umount -l '$T/mnt' 2>/dev/null" >"$T/netns.mount2"
mount -o remount,bind,ro "$T/mnt" || fail "remount the bind mount read-only"
touch "$T/mnt/probe" 2>/dev/null && fail "the directory is still writable"
SOCK=$T/mnt/control
conf_begin; conf_vm ubuntu; conf_end "$T/ro.conf"
run_d "$T/ro.conf"
assert_eq "$RC" 1 "-d, a read-only socket directory: exit status"
one_line "$ERR" "-d, a read-only socket directory: stderr"
assert_match "$ERR" "^$TS vmlaunch: cannot lock $T/mnt/[^ ]+: Read-only file system\$" \
    "-d, a read-only socket directory: stderr"
# A ProxyCommand whose supervisor cannot start there hears why from it,
# at once, and exits 255 (before: 15s, then "did not answer").
CONF=$T/ro.conf
run_proxy ubuntu.vm 22
assert_eq "$RC" 255 "ProxyCommand, a read-only socket directory: exit status"
one_line "$ERR" "ProxyCommand, a read-only socket directory: stderr"
assert_match "$ERR" "^vmlaunch: no supervisor could start: cannot lock $T/mnt/[^ ]+: Read-only file system\$" \
    "ProxyCommand, a read-only socket directory: stderr"
assert_eq "$(vmctl_calls start)" 0 "vmctl start calls"
