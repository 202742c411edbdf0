#!/bin/sh
# The state directory (where the socket, lock and state file live) turns
# read-only, or its file system fills up, under a running supervisor:
# sessions still work, a VM is still started and stopped when idle, and
# the failed state write is logged.  Needs root for the mounts.
. "$(dirname "$0")/../lib.sh"
need_root "mounting a small tmpfs"
test_init
CONF_IDLE=1s
add_vm ubuntu
mkdir "$T/mnt"
mount -t tmpfs -o size=64k,mode=0700 vmlaunch-fault "$T/mnt" ||
    skip "cannot mount a tmpfs here"
echo "umount -l '$T/mnt' 2>/dev/null" >"$T/netns.mount"
SOCK=$T/mnt/control
conf_begin; conf_vm ubuntu; conf_end

check() {	# what
	n=$(wc -l <"$SUPLOG")
	run_ssh ubuntu.vm echo hello
	assert_eq "$RC" 0 "$1: ssh exit status (stderr: $ERR)"
	assert_eq "$OUT" hello "$1: output"
	wait_for 10 sh -c "tail -n +$((n + 1)) '$SUPLOG' | grep -q 'state file'"
	msg "$1: $(tail -n +$((n + 1)) "$SUPLOG" | grep 'state file' | head -n 1)"
	wait_for 15 vm_state_is ubuntu stopped
	alive "$SUP_PID" || fail "$1: the supervisor died"
}

supervisor_start
# Disk full: fill the tmpfs to the last block.
dd if=/dev/zero of="$T/mnt/fill" bs=4k 2>/dev/null
check "disk full"
rm -f "$T/mnt/fill"

# Read only: a read-only bind mount over the directory (the supervisor
# holds its lock file open, so the tmpfs itself cannot be remounted).
mount --bind "$T/mnt" "$T/mnt" || fail "bind mount"
echo "umount -l '$T/mnt' 2>/dev/null" >"$T/netns.mount2"
mount -o remount,bind,ro "$T/mnt" || fail "remount the bind mount read-only"
touch "$T/mnt/probe" 2>/dev/null && fail "the directory is still writable"
check "read-only"
assert_eq "$(vmctl_calls 'start')" 2 "vmctl start calls"
