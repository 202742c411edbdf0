#!/bin/sh
# X11 autostart only when vmlaunch boots the VM: a VM found running
# (started by hand) gets no autostart app, even from a session with a
# DISPLAY, and the supervisor starts nothing.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../x11lib.sh"
x11_setup
conf_begin "$(x11_ssh_stmt)"
conf_vm ubuntu "autostart \"$APP\" restart 2"
conf_end
vm_start_by_hand ubuntu
supervisor_start

export DISPLAY="$XDISP" XAUTHORITY="$XAUTH"
run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" hello "output"
wait_for 10 log_has 'vm ubuntu: .*ready'
# Long enough for an app to show up (it does within ~1s when booted).
hold_for 4000 not x11_window
not guest_app_runs ubuntu || fail "xclock runs in the guest found running"
log_has 'app ".*" started' && fail "the supervisor started an app:" \
    "$(grep 'app "' "$SUPLOG")"
pgrep -f -- "$SSHCFG .*BatchMode=yes" >/dev/null &&
    fail "an autostart ssh runs: $(pgrep -af -- "$SSHCFG .*BatchMode=yes")"
vm_status
assert_not_contains "$STATUS" autostart "vmlaunch -s"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls (by hand)"
vm_state_is ubuntu running || fail "the VM found running was stopped"
exit 0
