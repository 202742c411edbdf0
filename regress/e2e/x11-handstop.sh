#!/bin/sh
# X11 autostart and a VM stopped by hand: "vmctl stop" of a VM that
# vmlaunch booted, while its "restart" app runs, ends the app for good.
# The app is not restarted (its VM no longer runs), so it does not boot
# the VM again through its ssh; no window is left, and the VM stays
# stopped.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../x11lib.sh"
x11_setup
conf_begin "$(x11_ssh_stmt)"
conf_vm ubuntu "autostart \"$APP\" restart 3"
conf_end
supervisor_start

export DISPLAY="$XDISP" XAUTHORITY="$XAUTH"
run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
wait_for 30 x11_window

"$DOUBLE" stop ubuntu 2>/dev/null || fail "vmctl stop ubuntu by hand"
wait_for 15 vm_state_is ubuntu stopped
wait_for 15 not x11_window
# Longer than the first backoff (1s) and the idle timeout (2s).
hold_for 5000 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls (the app's restart booted the VM again)"
assert_eq "$(x11_windows)" 0 "xclock windows"
log_has "app \"$APP\" started .*" || fail "no app was ever started"
assert_eq "$(grep -c "app \"$APP\" started" "$SUPLOG")" 1 "app starts"
exit 0
