#!/bin/sh
# X11 autostart and SIGTERM: the supervisor ends its apps (the window
# goes, no app ssh is left) before it stops the VM it booted, then exits.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../x11lib.sh"
CONF_IDLE=1h
x11_setup
conf_begin "$(x11_ssh_stmt)"
conf_vm ubuntu "autostart \"$APP\" restart 3"
conf_end
supervisor_start

export DISPLAY="$XDISP" XAUTHORITY="$XAUTH"
run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
wait_for 30 x11_window
app_ssh=$(pgrep -f -- "$SSHCFG -X -T -o BatchMode=yes ubuntu.vm")
[ -n "$app_ssh" ] || fail "no ssh for the app"

kill -TERM "$SUP_PID"
wait_for 20 not alive "$SUP_PID"
wait "$SUP_PID"
assert_eq "$?" 0 "the supervisor's exit status"
assert_eq "$(vm_state ubuntu)" stopped "the VM vmlaunch booted"
wait_for 10 not x11_window
for p in $app_ssh; do
	alive "$p" && fail "the app's ssh (pid $p) outlived the supervisor"
done
not guest_app_runs ubuntu || fail "xclock left in the guest"
# Order in the log: the app is ended, then the VM is stopped.
ended=$(grep -n "vm ubuntu: ending app \"$APP\"" "$SUPLOG" | head -1 | cut -d: -f1)
stopping=$(grep -n 'vm ubuntu: stopping it: the supervisor is shutting down' "$SUPLOG" |
    head -1 | cut -d: -f1)
[ -n "$ended" ] || fail "the supervisor did not log ending the app"
[ -n "$stopping" ] || fail "the supervisor did not log stopping the VM"
assert_le "$ended" "$stopping" "log line of ending the app vs stopping the VM"
log_has "restarting it" && fail "an app was restarted during the shutdown"
exit 0
