#!/bin/sh
# 20 simultaneous cold connections, no supervisor yet: exactly one
# supervisor, exactly one vmctl start, every session succeeds.
. "$(dirname "$0")/../lib.sh"
test_init
CONF_IDLE=1m	# the last check comes well after the last session
add_vm ubuntu boot_delay 1
conf_begin; conf_vm ubuntu; conf_end

i=1
while [ $i -le 20 ]; do
	timeout -k 5 60 ssh -F "$SSHCFG" ubuntu.vm echo "hello $i" \
	    </dev/null >"$T/c.$i.out" 2>"$T/c.$i.err" &
	echo $! >"$T/c.$i.pid"
	register_pid $!
	i=$((i + 1))
done
i=1
while [ $i -le 20 ]; do
	pid=$(cat "$T/c.$i.pid")
	wait_for 60 not alive "$pid"
	wait "$pid"
	rc=$?
	assert_eq "$rc" 0 "ssh $i exit status (stderr: $(cat "$T/c.$i.err"))"
	assert_eq "$(cat "$T/c.$i.out")" "hello $i" "ssh $i output"
	i=$((i + 1))
done
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
assert_eq "$(vmlaunch_pids | wc -l)" 1 "supervisors left"
assert_eq "$(vm_state ubuntu)" running "state after"
