#!/bin/sh
# X11 autostart, the main path, against a real X server (Xvfb):
# - a cold "ssh ubuntu.vm" from a session with DISPLAY set boots the VM,
#   and the vm's autostart app (xclock, over ssh -X through vmlaunch)
#   shows its window on that display;
# - the app is a session: after the interactive ssh has ended, the VM is
#   not stopped for idleness while the app runs;
# - without the restart option, once the app exits (killed in the
#   guest) it is not started again and the idle stop follows.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../x11lib.sh"
x11_setup
conf_begin "$(x11_ssh_stmt)"
conf_vm ubuntu "autostart \"$APP\""
conf_end
supervisor_start

export DISPLAY="$XDISP" XAUTHORITY="$XAUTH"
run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" hello "output"
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "vmctl start calls"

# (1) The window appears on the display of the session that booted it.
wait_for 30 x11_window
assert_eq "$(x11_windows)" 1 "xclock windows on $XDISP"
guest_app_runs ubuntu || fail "the window is there but no xclock in the guest"
log_has "vm ubuntu: app \"xclock -title $XTAG -update 1\" started \(pid [0-9]+\) on display $XDISP" ||
    fail "the supervisor did not log the app's start"
# Started as documented: SSH -X -T -o BatchMode=yes NAME.DOMAIN COMMAND.
pgrep -af -- "-X -T -o BatchMode=yes ubuntu.vm xclock -title $XTAG" \
    >/dev/null || fail "no ssh -X -T -o BatchMode=yes ubuntu.vm for the app:" \
    "$(pgrep -af "$XTAG")"
status_has "autostart \"xclock -title $XTAG -update 1\": running, 0 restarts, pid [0-9]+" ||
    fail "vmlaunch -s does not show the app running: $STATUS"

# (2) The app's ssh is a session: the interactive one has ended, yet no
# idle stop (idle timeout 2s, stop wait 2s) while it runs.
status_has '^ubuntu +running +(ready|idle) +1 ' ||
    fail "vmlaunch -s does not count the app as the one session: $STATUS"
hold_for 6000 x11_window
vm_state_is ubuntu running || fail "the VM stopped while its app ran"
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls while the app runs"

# (4) No restart option: killed in the guest, the app stays gone, its
# exit is logged, and the idle stop follows.
guest_app_kill ubuntu
wait_for 15 not x11_window
wait_for 15 log_has "vm ubuntu: app \"xclock -title $XTAG -update 1\" exited with status [0-9]+"
wait_for 15 vmctl_called 'stop ubuntu$'
wait_for 15 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
log_has 'vm ubuntu: stopping it: no session for 2s' ||
    fail "the stop was not the idle stop"
log_has "restarting it" && fail "an app without restart was restarted"
not guest_app_runs ubuntu || fail "xclock still runs in the stopped guest"
exit 0
