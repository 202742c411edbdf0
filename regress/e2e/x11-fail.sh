#!/bin/sh
# X11 autostart apps that fail: each exit is logged with its exit status,
# what the app wrote on stderr reaches the log tagged with VM and app,
# vmlaunch -s shows the status, "restart 1" retries once and gives up,
# and none of it stops the VM's idle stop.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../x11lib.sh"
x11_setup
NOPROG=vmlx-no-such-program-$$
conf_begin "$(x11_ssh_stmt)"
conf_vm ubuntu 'autostart "exit 3"' "autostart \"$NOPROG\"" \
    'autostart "echo out; echo err >&2; exit 4" restart 1'
conf_end
supervisor_start

export DISPLAY="$XDISP" XAUTHORITY="$XAUTH"
# A session holds the VM while the apps fail.
session_open one ubuntu.vm
session_wait_up one 30
wait_for 15 log_has 'vm ubuntu: app "exit 3" exited with status 3$'
wait_for 15 log_has "vm ubuntu: app \"$NOPROG\" exited with status 127\$"
log_has "vm ubuntu: app \"$NOPROG\": .*$NOPROG.*not found" ||
    fail "the shell's error for the missing program is not in the log"
# The third app: its output, tagged, then one restart, then the limit.
A3='echo out; echo err >&2; exit 4'
wait_for 15 log_has "vm ubuntu: app \"$A3\" exited with status 4; restarting it in 1s \(1 of 1\)"
wait_for 15 log_has "vm ubuntu: app \"$A3\" exited with status 4; restarted 1 times already, giving up"
assert_eq "$(grep -c "vm ubuntu: app \"$A3\": out\$" "$SUPLOG")" 2 \
    "stdout lines of the app (2 runs) in the log"
assert_eq "$(grep -c "vm ubuntu: app \"$A3\": err\$" "$SUPLOG")" 2 \
    "stderr lines of the app (2 runs) in the log"
vm_status
assert_contains "$STATUS" 'autostart "exit 3": exited 3, 0 restarts' \
    "vmlaunch -s"
assert_contains "$STATUS" "autostart \"$NOPROG\": exited 127, 0 restarts" \
    "vmlaunch -s"
assert_contains "$STATUS" "autostart \"$A3\": exited 4, 1 restart" \
    "vmlaunch -s"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
session_send one ping
session_close one
wait_for 15 vm_state_is ubuntu stopped
log_has 'vm ubuntu: stopping it: no session for 2s' ||
    fail "the stop was not the idle stop"
exit 0
