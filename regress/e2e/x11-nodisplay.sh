#!/bin/sh
# X11 autostart without a display: the session that boots the VM has no
# DISPLAY, so the autostart is skipped, the supervisor log says so, no
# app runs, and the VM is stopped for idleness as usual.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../x11lib.sh"
x11_need
test_init
x11_start
add_vm ubuntu
APP=$(x11_app)
conf_begin "$(x11_ssh_stmt)"
conf_vm ubuntu "autostart \"$APP\" restart 2" "autostart \"xeyes\""
conf_end
# The supervisor has the display in its own environment: it must use the
# booting session's (none), not its own.
DISPLAY="$XDISP" XAUTHORITY="$XAUTH" supervisor_start

unset DISPLAY XAUTHORITY
run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" hello "output"
wait_for 10 log_has \
    'vm ubuntu: the session that booted it has no DISPLAY; 2 autostart apps skipped'
log_has 'app ".*" started' && fail "the supervisor started an app:" \
    "$(grep 'app "' "$SUPLOG")"
not x11_window || fail "an xclock window appeared on the supervisor's display"
not guest_app_runs ubuntu || fail "xclock runs in the guest"
wait_for 15 vm_state_is ubuntu stopped
log_has 'vm ubuntu: stopping it: no session for 2s' ||
    fail "the stop was not the idle stop"
exit 0
