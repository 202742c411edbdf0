#!/bin/sh
# X11 autostart with "restart 2": an app killed in the guest comes back
# on the display after the backoff (1s, then 2s), vmlaunch -s counts the
# restarts; killed a third time it is given up and the idle stop follows.
# vmlaunch -s -v tells the app's starts and restarts.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../x11lib.sh"
# An idle timeout longer than the backoffs: the VM must not be idle-stopped
# while an app waits for its restart.
CONF_IDLE=5s
x11_setup
conf_begin "$(x11_ssh_stmt)"
conf_vm ubuntu "autostart \"$APP\" restart 2"
conf_end
supervisor_start

export DISPLAY="$XDISP" XAUTHORITY="$XAUTH"
run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
wait_for 30 x11_window
wait_for 10 status_has "autostart \"$APP\": running, 0 restarts, pid"

# kill_and_wait_back N BACKOFF: kill it, it comes back after BACKOFF s.
kill_and_wait_back() {
	t0=$(now_ms)
	guest_app_kill ubuntu
	wait_for 15 not x11_window
	wait_for 15 log_has "app \"$APP\" exited with status [0-9]+; restarting it in ${2}s \($1 of 2\)"
	wait_for 30 x11_window
	back=$(now_ms)
	assert_ge $((back - t0)) $(($2 * 1000)) \
	    "ms from the kill to the window's return (backoff ${2}s)"
	assert_eq "$(x11_windows)" 1 "xclock windows after restart $1"
	wait_for 10 status_has "autostart \"$APP\": running, $1 restarts?, pid"
	vm_state_is ubuntu running || fail "the VM stopped during the restart"
}

# (3) Killed, it comes back: after 1s, then after 2s (doubling).
kill_and_wait_back 1 1
kill_and_wait_back 2 2
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls during the restarts"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"

# (4) The limit: the third exit is final, logged, shown by vmlaunch -s,
# and the VM, now without sessions, is stopped for idleness.
guest_app_kill ubuntu
wait_for 15 not x11_window
wait_for 15 log_has "app \"$APP\" exited with status [0-9]+; restarted 2 times already, giving up"
status_has "autostart \"$APP\": exited [0-9]+, 2 restarts$" ||
    fail "vmlaunch -s does not show the app exited: $STATUS"
wait_for 20 vm_state_is ubuntu stopped
log_has 'vm ubuntu: stopping it: no session for 5s' ||
    fail "the stop was not the idle stop"
assert_eq "$(log_has 'restarting it in 4s' && echo yes)" "" \
    "a third restart (limit 2)"
assert_eq "$(x11_windows)" 0 "xclock windows after the VM stopped"
# The app's life, in the VM's history (vmlaunch -s -v).
hist=$("$VMLAUNCH" -s -v -f "$CONF" 2>/dev/null)
for e in "app \"$APP\" started \(pid [0-9]+\)" \
    "restarting it in 1s \(1 of 2\)" "restarting it in 2s \(2 of 2\)" \
    "restarted 2 times already, giving up"; do
	assert_match "$hist" "^    [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} .*$e" \
	    "-s -v: the app's history"
done
exit 0
