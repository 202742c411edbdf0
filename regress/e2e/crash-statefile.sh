#!/bin/sh
# The state file forgets no VM that vmlaunch started.  (a) vmctl fails
# while a new supervisor checks a VM for adoption: the VM stays in the
# file, is checked again later, and is stopped when idle once vmctl works.
# (b) Another VM starts while an adoption is still undecided (its status
# held at a gate), then kill -9: the next supervisor still adopts the
# first VM and stops it.  (Before: the failed check, or the other VM's
# start, rewrote the file without the VM: it ran forever.)
. "$(dirname "$0")/../lib.sh"
test_init
CONF_IDLE=6s
add_vm ubuntu
# "other": a VM run by the command backend (a detached sleep), so that
# it can start while vmctl is held.
cat >"$T/other" <<EOF2
#!/bin/sh
f=$T/other.pid
case \$VMLAUNCH_ACTION in
start)	setsid sleep 100000 </dev/null >/dev/null 2>&1 &
	echo \$! >"\$f" ;;
status)	if p=\$(cat "\$f" 2>/dev/null) && kill -0 "\$p" 2>/dev/null; then
		echo "running \$p"
	else
		echo stopped
	fi ;;
stop|kill) kill -9 "\$(cat "\$f")" ;;
esac
EOF2
chmod 755 "$T/other"
conf_begin; conf_vm ubuntu
cat >>"$CONF.new" <<EOF2
vm "other" {
	address 127.0.0.1
	port 9
	boot wait 2s
	backend command {
		start "$T/other"
		stop "$T/other"
		force stop "$T/other"
		status "$T/other"
	}
}
EOF2
conf_end

# (a)
supervisor_start
run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh (stderr: $ERR)"
"$DOUBLE" __global novmd
kill -9 "$SUP_PID"
wait_for 10 not alive "$SUP_PID"
n=$(vmctl_calls 'status')
supervisor_start
wait_for 20 vmctl_called 'status' $((n + 1))
grep -q '^vm ubuntu ' "$(dirname "$SOCK")/state" ||
    fail "(a): the state file lost ubuntu: $(cat "$(dirname "$SOCK")/state")"
"$DOUBLE" __rmglobal novmd
wait_for 60 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'stop ubuntu$')" 1 "(a): vmctl stop calls"
msg "(a): stopped once vmctl worked again"
kill "$SUP_PID"
wait_for 20 not alive "$SUP_PID"

# (b)
supervisor_start
run_ssh ubuntu.vm true
assert_eq "$RC" 0 "ssh (stderr: $ERR)"
kill -9 "$SUP_PID"
wait_for 10 not alive "$SUP_PID"
gate_close 'status( ubuntu)?'
supervisor_start
gate_wait 'status( ubuntu)?'
run_proxy other.vm 22
wait_for 10 test -s "$T/other.pid"
kill -9 "$SUP_PID"
wait_for 10 not alive "$SUP_PID"
gate_open 'status( ubuntu)?'
supervisor_start
wait_for 60 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start ubuntu$')" 2 "(b): vmctl start calls"
assert_eq "$(vmctl_calls 'stop ubuntu$')" 2 "(b): vmctl stop calls"
