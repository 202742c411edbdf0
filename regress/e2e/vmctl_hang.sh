#!/bin/sh
# vmctl hangs: the supervisor kills it after "vmctl timeout" (2s), the
# client fails with a clear line, and the supervisor works on once vmctl
# answers again.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin "vmctl timeout 2s"; conf_vm ubuntu; conf_end
supervisor_start

"$DOUBLE" __global hang
t0=$(now_ms)
run_proxy ubuntu.vm 22
t1=$(now_ms)
assert_eq "$RC" 255 "exit status"
assert_le $((t1 - t0)) 25000 "ms until the error (vmctl timeout 2s)"
last=$(echo "$ERR" | tail -n 1)
assert_match "$last" '^vmlaunch: ubuntu: ' "the last stderr line"
assert_match "$last" 'vmctl' "the last stderr line names vmctl"
assert_match "$last" 'time|answer|respond|hang' "the last stderr line says why"
hung() {
	grep -l "hang" /proc/[0-9]*/cmdline 2>/dev/null | while read -r c; do
		tr '\0' ' ' 2>/dev/null <"$c" | grep -qF "hang $VMD" && echo "$c"
	done | grep -q .
}
wait_for 5 not hung
alive "$SUP_PID" || fail "the supervisor died"

"$DOUBLE" __rmglobal hang
run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "ssh exit status once vmctl answers (stderr: $ERR)"
assert_eq "$OUT" hello "output"
