#!/bin/sh
# examples/backend-libvirt.conf against a real libvirtd (a private one,
# see regress/libvirtlib.sh) and the tiny guest of regress/guest as a
# persistent domain "ubuntu".  Two boots:
#  1. Three ssh sessions at once to the shut-off domain: each waits for
#     the boot and runs in the guest; vmlaunch ran virsh start once and
#     libvirt launched QEMU once.  The guest's address came from the
#     example's address command, asking the guest agent (virsh domifaddr
#     --source agent, whose table lists lo's 127.0.0.1 first), asked
#     again until the agent answered.
#  2. kill -9 of the supervisor: the sessions go on; the next supervisor
#     adopts the domain by the domain id that the status command prints.
#     Idle, the domain is suspended (idle pause: virsh suspend, libvirt
#     says "paused (user)"); an ssh resumes it (virsh resume) and finds
#     the same boot, its uptime gone on; idle again, suspended again; at
#     the idle timeout resumed and stopped: virsh resume, then virsh
#     shutdown, the guest powers off on the ACPI button, libvirt says
#     "shut off (shutdown)", not destroyed, and no virsh destroy was run.
#  3. The domain started by hand (virsh start): ssh is served, vmlaunch
#     neither starts, suspends nor stops it, however long it is idle.
#  4. Suspended by hand (virsh suspend): ssh fails at once, naming the
#     state; nothing is started.
# Root, libvirt and QEMU, else a loud skip.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../qemulib.sh"
. "$(dirname "$0")/../libvirtlib.sh"
libvirt_need
test_init
qemu_init
libvirt_start
pick_addr_port
libvirt_define ubuntu "$ADDR" "$PORT"
IDLE=10s PAUSE=2s libvirt_conf
assert_eq "$(lv_state ubuntu)" "shut off (unknown)" "the new domain's state"
supervisor_start

# 1. Cold, three at once.
t0=$(now_ms)
for i in 1 2 3; do
	session_open $i ubuntu.vm
done
for i in 1 2 3; do
	session_wait_up $i 150
done
msg "three cold sessions up in $(($(now_ms) - t0)) ms"
for i in 1 2 3; do
	assert_match "$(cat "$T/s.$i.err")" "^vmlaunch: ubuntu: booting" \
	    "session $i waited for the boot"
done
grep -q "vm ubuntu: guest $ADDR:$PORT ready" "$SUPLOG" ||
    fail "the supervisor did not log the guest ready at $ADDR:$PORT"
asks=$(lv_calls 'domifaddr --source agent ubuntu')
msg "the address command ran $asks times:" \
    "$(grep 'address command' "$SUPLOG" | sed 's/^[^ ]* //' | uniq -c |
    head -n 5)"
assert_ge "$asks" 1 "address command runs (virsh domifaddr)"
lv domifaddr --source agent ubuntu >"$T/agent" 2>&1 ||
    fail "virsh domifaddr --source agent: $(cat "$T/agent")"
msg "the guest agent's table: $(cat "$T/agent")"
assert_match "$(sed -n 1p "$T/agent")" "^ *lo .* 127\.0\.0\.1/8" \
    "the agent lists lo first"
assert_match "$(cat "$T/agent")" "^ *eth0 .* 10\.0\.2\.15/24" \
    "the agent lists eth0's address"
assert_eq "$(lv_calls 'start ubuntu')" 1 "virsh start calls"
assert_eq "$(lv_starts ubuntu)" 1 "QEMU launches in libvirt's log"
assert_eq "$(lv_state ubuntu)" "running (booted)" "libvirt's state"
id=$(lv domid ubuntu)
run_ssh ubuntu.vm 'cat /proc/sys/kernel/hostname; cat /proc/cmdline;
    cut -d. -f1 /proc/uptime'
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$(echo "$OUT" | sed -n 1p)" ubuntu "the guest's hostname"
up1=$(echo "$OUT" | sed -n 3p)
assert_contains "$OUT" "vmlaunch.hostname=ubuntu" "the guest's kernel command line"
out=$("$VMLAUNCH" -s -f "$CONF" 2>&1)
msg "$out"
assert_match "$out" "^ubuntu +running +ready +3 +yes " "-s with three sessions"

# 2. The sessions bring up a new supervisor (their keepers do, at once),
# which adopts the domain and stops it through ACPI once they end.
kill -9 "$SUP_PID"
wait_for 10 not alive "$SUP_PID"
wait_for 30 supervisor_pid
SUP_PID=$(supervisor_pid)
for i in 1 2 3; do
	session_send $i after
	session_close $i
	assert_eq "$RC" 0 "session $i's exit status"
done
wait_for 60 lv_state_is ubuntu paused
assert_eq "$(lv_state ubuntu)" "paused (user)" "libvirt's state when idle"
assert_eq "$(lv_calls 'suspend ubuntu')" 1 "virsh suspend calls"
assert_match "$("$VMLAUNCH" -s -f "$CONF" 2>&1)" '^ubuntu +paused ' \
    "-s while suspended"
run_ssh ubuntu.vm 'cut -d. -f1 /proc/uptime'
assert_eq "$RC" 0 "ssh to the suspended domain (stderr: $ERR)"
msg "the guest's uptime: ${up1}s, then ${OUT}s after the resume"
assert_ge "$OUT" "$up1" "the guest's uptime after the resume (not rebooted)"
assert_eq "$(lv_calls 'resume ubuntu')" 1 "virsh resume calls"
assert_eq "$(lv_starts ubuntu)" 1 "QEMU launches (the resume is no boot)"
wait_for 60 lv_state_is ubuntu paused
assert_eq "$(lv_calls 'suspend ubuntu')" 2 "virsh suspend calls, idle again"
t0=$(now_ms)
wait_for 90 lv_state_is ubuntu "shut off"
msg "shut off $(($(now_ms) - t0)) ms after the last session ended"
assert_eq "$(lv_state ubuntu)" "shut off (shutdown)" \
    "libvirt's state after the idle stop"
assert_eq "$(lv_calls 'start ubuntu')" 1 "virsh start calls"
assert_eq "$(lv_calls 'shutdown ubuntu')" 1 "virsh shutdown calls"
assert_eq "$(lv_calls 'destroy ubuntu')" 0 "virsh destroy calls (forced stops)"
assert_eq "$(lv_calls 'resume ubuntu')" 2 "virsh resume calls"
assert_eq "$(grep -E '^(suspend|resume|shutdown) ' "$LV/calls" | tr '\n' ' ')" \
    "suspend ubuntu resume ubuntu suspend ubuntu resume ubuntu shutdown ubuntu " \
    "the order of the pauses and the stop"
grep -q "vmlaunch-guest: power button, powering off" "$LV/ubuntu.console" ||
    fail "the guest did not see the power button"
out=$("$VMLAUNCH" -s -f "$CONF" 2>&1)
assert_match "$out" '^ubuntu +stopped ' "-s after the idle stop"

# 3. Started by hand: served, never stopped.  A new supervisor (the last
# one leaves, or is told to, with nothing to watch) finds it running.
kill "$SUP_PID" 2>/dev/null
wait_for 20 not alive "$SUP_PID"
lv start ubuntu >/dev/null || fail "virsh start by hand"
assert_ne "$(lv domid ubuntu)" "$id" "the domain id of the second run"
wait_for 150 guest_answers ubuntu
supervisor_start
run_ssh ubuntu.vm cat /proc/sys/kernel/hostname
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" ubuntu "the guest's hostname"
grep -q "vm ubuntu: found running (not started by vmlaunch" "$SUPLOG" ||
    fail "the supervisor did not see the domain as started by hand"
out=$("$VMLAUNCH" -s -f "$CONF" 2>&1)
assert_match "$out" '^ubuntu +running .* no ' "-s: not started by vmlaunch"
# idle pause 2s and idle timeout 10s, and more.
hold_for 14000 lv_state_is ubuntu running
assert_eq "$(lv_calls 'start ubuntu')" 1 "virsh start calls"
assert_eq "$(lv_calls 'suspend ubuntu')" 2 "virsh suspend calls"
assert_eq "$(lv_calls 'shutdown ubuntu')" 1 "virsh shutdown calls"
assert_eq "$(lv_calls 'destroy ubuntu')" 0 "virsh destroy calls"

# 4. Suspended by hand: a clear error, nothing started.
lv suspend ubuntu >/dev/null || fail "virsh suspend by hand"
run_proxy ubuntu.vm 22
assert_eq "$RC" 255 "vmlaunch's exit status for a paused domain"
assert_match "$(echo "$ERR" | tail -n 1)" '^vmlaunch: ubuntu: .*paused' \
    "the error names the state"
lv resume ubuntu >/dev/null || fail "virsh resume"
assert_eq "$(lv_state ubuntu)" "running (unpaused)" "libvirt's state"
assert_eq "$(lv_calls 'start ubuntu')" 1 "virsh start calls"
assert_eq "$(lv_starts ubuntu)" 2 "QEMU launches (one by vmlaunch, one by hand)"
exit 0
