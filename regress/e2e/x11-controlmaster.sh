#!/bin/sh
# X11 autostart with the README's ssh_config (ControlMaster auto,
# ControlPersist, ForwardX11): the app's ssh may share the user's master
# connection; the window still appears, the VM still stays up while the
# app runs, and it is still stopped once the app has exited (after
# ControlPersist and the idle timeout).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../x11lib.sh"
x11_need
test_init
write_ssh_config "ForwardX11 yes" "ForwardX11Trusted yes" \
    "ControlMaster auto" "ControlPath $T/cm-%C" "ControlPersist 2s"
x11_start
add_vm ubuntu
APP=$(x11_app)
conf_begin "$(x11_ssh_stmt)"
conf_vm ubuntu "autostart \"$APP\""
conf_end
supervisor_start

export DISPLAY="$XDISP" XAUTHORITY="$XAUTH"
run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" hello "output"
wait_for 30 x11_window
# ControlPersist 2s + idle timeout 2s + stop wait 2s, and more.
hold_for 8000 x11_window
vm_state_is ubuntu running || fail "the VM stopped while its app ran"
assert_eq "$(vmctl_calls 'stop')" 0 "vmctl stop calls while the app runs"
guest_app_kill ubuntu
wait_for 15 not x11_window
wait_for 20 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
log_has 'vm ubuntu: stopping it: no session for 2s' ||
    fail "the stop was not the idle stop"
exit 0
