# regress/x11lib.sh: helpers for the X11 autostart tests (regress/e2e/x11-*.sh),
# on top of regress/lib.sh.  Source it after lib.sh:
#
#	. "$(dirname "$0")/../lib.sh"
#	. "$(dirname "$0")/../x11lib.sh"
#	x11_setup			# the usual start, as below
#	conf_begin "$(x11_ssh_stmt)"; conf_vm ubuntu "autostart \"$APP\""
#	conf_end
#
# or, step by step:
#
#	x11_need			# SKIP (77) unless Xvfb, xclock... exist
#	test_init
#	x11_start			# Xvfb on a private display: XDISP, XAUTH
#	add_vm ubuntu
#
# The autostart app is a real X client, xclock, titled with a tag unique
# to the test ($XTAG), so that its window can be found on the Xvfb display
# (x11_window) and its process in the guest (guest_app_pids) without
# touching any other test's.

# x11_need: skip, loudly, when a tool of the X11 tests is missing.
x11_need() {
	_missing=
	for _x in Xvfb xclock xauth xdpyinfo xwininfo mcookie; do
		command -v $_x >/dev/null 2>&1 || _missing="$_missing $_x"
	done
	[ -z "$_missing" ] ||
	    skip "X11 test tools missing:$_missing (Debian: xvfb x11-apps" \
		"x11-utils xauth; regress/deps-debian.sh installs them)"
	_xa=$(sshd -T -f /dev/null 2>/dev/null | awk '$1 == "xauthlocation" {
	    print $2 }')
	[ -z "$_xa" ] || [ -x "$_xa" ] ||
	    skip "the guest sshd needs xauth at $_xa for X11 forwarding"
}

# x11_setup: the start of most X11 tests: skip without the tools, the
# test directory, an ssh_config that forwards X11, Xvfb, the VM "ubuntu",
# and APP, the X client to autostart.
x11_setup() {
	x11_need
	test_init
	write_ssh_config "ForwardX11 yes" "ForwardX11Trusted yes"
	x11_start
	add_vm ubuntu
	APP=$(x11_app)
}

# x11_start: Xvfb on a free private display with a cookie file.  Sets
# XDISP (":N"), XAUTH (the cookie file) and XTAG; exports nothing (a test
# exports DISPLAY/XAUTHORITY where the user would have them).
x11_start() {
	XAUTH=$T/Xauthority
	XTAG=vmlx$$
	: >"$XAUTH"
	_cookie=$(mcookie)
	_try=0
	while [ $_try -lt 20 ]; do
		_try=$((_try + 1))
		_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		_n=$((_r % 800 + 150))
		[ -e "/tmp/.X$_n-lock" ] && continue
		[ -e "/tmp/.X11-unix/X$_n" ] && continue
		xauth -f "$XAUTH" add ":$_n" . "$_cookie" ||
		    fail "xauth add :$_n"
		Xvfb ":$_n" -auth "$XAUTH" -noreset -nolisten tcp \
		    -screen 0 800x600x24 >"$T/Xvfb.log" 2>&1 &
		XVFB_PID=$!
		register_pid $XVFB_PID
		XDISP=:$_n
		wait_for 15 x11_up_or_dead
		if alive $XVFB_PID; then
			msg "Xvfb $XDISP (pid $XVFB_PID)"
			return 0
		fi
		# Lost a race for the display number: try another.
		xauth -f "$XAUTH" remove ":$_n" 2>/dev/null
	done
	fail "could not start Xvfb: $(tail -5 "$T/Xvfb.log")"
}

x11_up() {
	XAUTHORITY=$XAUTH xdpyinfo -display "$XDISP" >/dev/null 2>&1
}

x11_up_or_dead() {
	x11_up || ! alive $XVFB_PID
}

# The config's ssh statement: the real OpenSSH client with the test's
# ssh_config, so that the app's ssh goes through vmlaunch too.
x11_ssh_stmt() {
	echo "ssh \"$(command -v ssh) -F $SSHCFG\""
}

# x11_app: the autostart command, an xclock titled $XTAG.
x11_app() {
	echo "xclock -title $XTAG -update 1"
}

# x11_window: the app's window is on the Xvfb display.
x11_window() {
	XAUTHORITY=$XAUTH xwininfo -root -tree -display "$XDISP" 2>/dev/null |
	    grep -F "\"$XTAG\"" | grep -q xclock
}

# x11_windows: how many of them.
x11_windows() {
	XAUTHORITY=$XAUTH xwininfo -root -tree -display "$XDISP" 2>/dev/null |
	    grep -F "\"$XTAG\"" | grep -c xclock
}

# guest_app_pids NAME: the xclock processes of this test in the guest NAME
# (descendants of its VM process, the guest sshd).
guest_app_pids() {
	_vp=$("$DOUBLE" __pid "$1" 2>/dev/null) || return 0
	for _p in $(_descendants "$_vp"); do
		[ "$(cat "/proc/$_p/comm" 2>/dev/null)" = xclock ] || continue
		tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null |
		    grep -qF -- "-title $XTAG " && echo "$_p"
	done
}

guest_app_runs() {	# name
	[ -n "$(guest_app_pids "$1")" ]
}

# guest_app_kill NAME: pkill xclock, in the guest, for this test only.
guest_app_kill() {
	_ps=$(guest_app_pids "$1")
	[ -n "$_ps" ] || fail "no xclock of this test runs in guest $1"
	# shellcheck disable=SC2086
	kill $_ps
}

# vm_status: vmlaunch -s for the test's config, in STATUS.
vm_status() {
	STATUS=$("$VMLAUNCH" -s -f "$CONF" 2>&1)
}

# status_has ERE: a line of vmlaunch -s matches.
status_has() {
	vm_status
	printf '%s\n' "$STATUS" | grep -qE -- "$1"
}

log_has() {	# ERE: a line of the supervisor log matches
	grep -qE -- "$1" "$SUPLOG"
}
