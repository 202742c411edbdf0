#!/bin/sh
# backend command with pause and unpause: idle pause runs the pause
# command (VMLAUNCH_ACTION=pause, the name as $1), a session runs the
# unpause command and gets its guest, and the idle stop runs unpause,
# then stop.  The commands drive the vmctl double, so the guest is
# really paused.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm tiny
cat >"$T/ctl" <<EOF
#!/bin/sh
echo "\$VMLAUNCH_ACTION \$1" >>"$T/actions"
case \$VMLAUNCH_ACTION in
status)	s=\$("$DOUBLE" -D "$VMD" status "\$1" |
	    awk -v n="\$1" 'NR > 1 && \$NF == n { print \$(NF - 1), \$1 }')
	echo "\${s:-stopped}" ;;
kill)	exec "$DOUBLE" -D "$VMD" stop -f "\$1" ;;
*)	exec "$DOUBLE" -D "$VMD" "\$VMLAUNCH_ACTION" "\$1" ;;
esac
EOF
chmod 755 "$T/ctl"
CONF_IDLE=6s conf_begin
conf_vm tiny "idle pause 1s" "backend command {" \
    "	start \"$T/ctl \\\"\$1\\\"\"" "	stop \"$T/ctl \\\"\$1\\\"\"" \
    "	force stop \"$T/ctl \\\"\$1\\\"\"" "	status \"$T/ctl \\\"\$1\\\"\"" \
    "	pause \"$T/ctl \\\"\$1\\\"\"" "	unpause \"$T/ctl \\\"\$1\\\"\"" "}"
conf_end
supervisor_start

actions() {	# action: how many times it ran
	grep -c "^$1 tiny\$" "$T/actions" 2>/dev/null
}
acted() {	# action [N]
	[ "$(actions "$1")" -ge "${2:-1}" ]
}

run_ssh tiny.vm echo hello
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
wait_for 20 acted pause
wait_for 10 vm_state_is tiny paused
run_ssh tiny.vm echo resumed
assert_eq "$RC" 0 "ssh to the paused vm (stderr: $ERR)"
assert_eq "$OUT" resumed "output after the resume"
assert_eq "$(actions unpause)" 1 "unpause commands"
assert_eq "$(actions start)" 1 "start commands"
wait_for 20 acted pause 2
wait_for 30 vm_state_is tiny stopped
assert_eq "$(actions unpause)" 2 "unpause commands, the last before the stop"
assert_eq "$(grep -v '^status ' "$T/actions" | tail -n 2 | tr '\n' ' ')" \
    "unpause tiny stop tiny " "the last commands"
assert_eq "$(actions kill)" 0 "force stop commands"
