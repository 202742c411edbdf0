#!/bin/sh
# A start's answer outlives its supervisor.  (a) The supervisor is killed
# (kill -9) while `vmctl start` is held at a gate, and meanwhile vmd
# deals the VM a new id (as a restart of vmd does), so the "starting"
# record holds an id the VM no longer has.  Released, the orphaned
# vmctl starts the VM under the new id and writes "started vm 7" to
# start.NAME beside the state file; the successor (started by the
# waiting client) reads it, adopts the VM under 7, serves the session
# and stops the VM once unused.  (Before: "running with id 7, not the
# id 1 a previous supervisor started; not adopted", and the VM ran on
# for ever.)  (b) The same with a start that vmd refuses: the VM a
# person started meanwhile is left alone, and the refusal is read from
# the file at once rather than after vmctl's time limit.
. "$(dirname "$0")/../lib.sh"
test_init
CONF_IDLE=2s
add_vm ubuntu id 1 boot_delay 0
conf_begin; conf_vm ubuntu; conf_end
: >"$VMD/no_rate_limit"
dir=$(dirname "$SOCK")

# (a)
supervisor_start
gate_close 'start ubuntu'
client_bg 1
gate_wait 'start ubuntu'
kill -9 "$SUP_PID"
wait_for 10 not alive "$SUP_PID"
"$DOUBLE" __set ubuntu id 7
gate_open 'start ubuntu'
wait_for 60 client_got_banner 1
assert_eq "$(vm_state ubuntu)" running "(a): the VM while the session is open"
client_end 1
assert_eq "$RC" 0 "(a): the client's exit status ($(client_err 1))"
wait_for 60 vm_state_is ubuntu stopped
assert_eq "$(vmctl_calls 'start ubuntu$')" 1 "(a): vmctl start calls"
assert_eq "$(vmctl_calls 'stop ubuntu$')" 1 "(a): vmctl stop calls"
wait_for 10 not test -e "$dir/start.ubuntu"

# (b): the successor is a foreground one this time, to read its log.
supervisor_takeover
gate_close 'start ubuntu'
client_bg 2
gate_wait 'start ubuntu'
kill -9 "$SUP_PID"
wait_for 10 not alive "$SUP_PID"
supervisor_takeover
# A person starts it meanwhile: held at the same gate, let through alone.
orphan=$(ls "$VMD/held")
"$DOUBLE" start ubuntu >/dev/null 2>&1 &
register_pid $!
wait_for 10 gate_held 'start ubuntu' 2
for f in "$VMD"/held/*; do
	[ "${f##*/}" = "$orphan" ] || rm -f "$f"
done
wait_for 10 guest_answers ubuntu
gate_open 'start ubuntu'
wait_for 60 grep -q "start of it was refused" "$SUPLOG"
wait_for 60 client_got_banner 2
client_end 2
assert_eq "$RC" 0 "(b): the client's exit status ($(client_err 2))"
# Idle for well over its timeout: a person's VM is never stopped.
hold_for 6000 vm_state_is ubuntu running
assert_eq "$(vmctl_calls 'stop ubuntu$')" 1 "(b): vmctl stop calls"
