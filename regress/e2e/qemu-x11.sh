#!/bin/sh
# Real VM, X11 autostart: a cold ssh from a session whose DISPLAY is an
# Xvfb on the host boots the guest, and the vm's autostart app (xclock,
# over ssh -X through vmlaunch, OpenSSH's X11 forwarding in the guest)
# shows its window on that display.  The window is the guest's: xclock
# runs in the guest and the window's WM_CLIENT_MACHINE is the guest's
# hostname.  Once the app is ended in the guest its window goes, and the
# idle stop powers the VM off through ACPI.  One boot.  Root, QEMU and the
# X11 tools, else a loud skip.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../x11lib.sh"
. "$(dirname "$0")/../qemulib.sh"
qemu_need
x11_need
command -v xprop >/dev/null 2>&1 || skip "xprop missing (apt-get install x11-utils)"
test_init
qemu_init
qemu_ssh_config "ForwardX11 yes" "ForwardX11Trusted yes"
x11_start
vm=qx11$$
id=$(qemu_id 901 1150)
qemu_define $vm id="$id"
qemu_conf_begin "$(x11_ssh_stmt)"
qemu_conf_vm $vm "address local" "autostart \"$(x11_app)\""
conf_end
supervisor_start

export DISPLAY="$XDISP" XAUTHORITY="$XAUTH"
t0=$(now_ms)
run_ssh $vm.vm echo hello
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" hello "output"
qemu_check_running $vm "$id"
assert_eq "$(qemu_calls "start $vm")" 1 "vmctl start calls"

wait_for 90 x11_window
msg "xclock window on $XDISP $(($(now_ms) - t0)) ms after the cold ssh began"
assert_eq "$(x11_windows)" 1 "xclock windows on $XDISP"
wid=$(XAUTHORITY=$XAUTH xwininfo -root -tree -display "$XDISP" |
    grep -F "\"$XTAG\"" | grep xclock | awk '{ print $1 }' | head -n 1)
machine=$(XAUTHORITY=$XAUTH xprop -display "$XDISP" -id "$wid" WM_CLIENT_MACHINE)
assert_contains "$machine" "\"$vm\"" "the window's WM_CLIENT_MACHINE"
# A session of its own while it runs (the ssh below counts too).
# shellcheck disable=SC2016
run_ssh $vm.vm 'for p in /proc/[0-9]*; do
    if [ "$(cat $p/comm)" = xclock ]; then tr "\0" " " <$p/cmdline; echo; fi
    done'
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" "xclock -title $XTAG -update 1 " "xclock in the guest"
log_has "vm $vm: app \"xclock -title $XTAG -update 1\" started \(pid [0-9]+\) on display $XDISP" ||
    fail "the supervisor did not log the app's start"
assert_eq "$(qemu_calls "stop.*")" 0 "vmctl stop calls while the app runs"

# The app ends in the guest: its window goes, then the idle stop.
# shellcheck disable=SC2016
run_ssh $vm.vm 'kill $(pidof xclock)'
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
wait_for 20 not x11_window
wait_for 20 log_has "vm $vm: app \"xclock -title $XTAG -update 1\" exited"
qemu_check_acpi_stop $vm "$id"
msg "idle stop after the app: done $(($(now_ms) - t0)) ms after the cold ssh"
exit 0
