#!/bin/sh
# "address command": the guest's address is the first one a command
# prints, here a stand-in for virsh domifaddr given for every VM at the
# top level, which gets the VM's name as $1 and in VMLAUNCH_VM.
#  1. A domifaddr table, the guest agent's kind (lo's 127.0.0.1/8 first,
#     then the guest's address with its prefix length): ssh reaches the
#     guest there, and vmlaunch -s shows the address, also once the
#     command's answer is old (10s) and the VM idle.
#  2. At once, four VMs whose command never gives an address: one prints
#     nothing, one prints garbage, one fails as virsh does for an unknown
#     domain, one hangs past its time limit (vmctl timeout, 8s: room for
#     the double's start on a busy machine).  Each client
#     fails after its boot wait with one line that says why; each VM,
#     started by vmlaunch, is stopped again; the hanging command is
#     killed, none is left running.
. "$(dirname "$0")/../lib.sh"
CONF_IDLE=10m
test_init
for vm in table empty garbage fails hang; do
	add_vm $vm
done

cat >"$T/ifaddr" <<EOF
#!/bin/sh
echo "\$1 \$VMLAUNCH_VM \$VMLAUNCH_ACTION" >>"$T/ifaddr.calls"
case \$1 in
table)
	echo " Name       MAC address          Protocol     Address"
	echo "-------------------------------------------------------------------------------"
	echo " lo         00:00:00:00:00:00    ipv4         127.0.0.1/8"
	echo " eth0       52:54:00:4b:73:4e    ipv4         $(vm_addr table)/24"
	;;
empty)	;;
garbage) echo "no addresses here" ;;
fails)	echo "error: failed to get domain '\$1'" >&2; exit 1 ;;
hang)	echo \$\$ >"$T/hang.pid"; exec sleep 600 ;;
esac
EOF
chmod 755 "$T/ifaddr"

conf_begin "vmctl timeout 8s" "address command \"$T/ifaddr \\\"\$1\\\"\""
for vm in table empty garbage fails hang; do
	wait=6s
	[ $vm = hang ] && wait=20s
	printf 'vm "%s" {\n\tport %s\n\tboot wait %s\n}\n' $vm \
	    "$(vm_port $vm)" $wait >>"$CONF.new"
done
conf_end
"$VMLAUNCH" -nv -f "$CONF" >"$T/nv" 2>&1
assert_contains "$(cat "$T/nv")" "address command \"$T/ifaddr \\\"\$1\\\"\"" \
    "vmlaunch -nv prints the rule"
supervisor_start

# 1. The table: the guest's address, not lo's.
t_table=$(now_ms)
run_ssh table.vm echo hello
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" hello "output"
grep -q "vm table: guest $(vm_addr table):$(vm_port table) ready" "$SUPLOG" ||
    fail "the supervisor did not log the guest ready at $(vm_addr table)"
assert_contains "$(cat "$T/ifaddr.calls")" "table table address" \
    "the command's \$1, VMLAUNCH_VM and VMLAUNCH_ACTION"
out=$("$VMLAUNCH" -s -f "$CONF" 2>&1)
msg "$out"
assert_match "$out" "^table +running +idle .*$(vm_addr table):$(vm_port table)\$" \
    "-s shows the address"

# 2. No address, four ways, at once.
i=0
for vm in empty garbage fails hang; do
	i=$((i + 1))
	client_bg $i $vm.vm 22
done
i=0
for vm in empty garbage fails hang; do
	i=$((i + 1))
	client_wait $i 60
	assert_eq "$RC" 255 "$vm: the client's exit status"
	eval "err_$vm=\$(client_err $i | tail -n 1)"
done
assert_eq "$err_empty" \
    "vmlaunch: empty: no guest address within 6s: address command printed nothing" \
    "empty: the client's error"
assert_eq "$err_garbage" \
    "vmlaunch: garbage: no guest address within 6s: address command printed no address: \"no addresses here\"" \
    "garbage: the client's error"
assert_eq "$err_fails" \
    "vmlaunch: fails: no guest address within 6s: address command exited with status 1: error: failed to get domain 'fails'" \
    "fails: the client's error"
assert_eq "$err_hang" \
    "vmlaunch: hang: no guest address within 20s: address command timed out after 8s" \
    "hang: the client's error"
for vm in empty garbage fails hang; do
	wait_for 10 vm_state_is $vm stopped
	assert_ge "$(vmctl_calls "stop $vm")" 1 "$vm: vmctl stop calls"
done
# Each run of the hanging command was killed: at its time limit, or
# with the boot wait that waited for it.
wait_for 10 not alive "$(cat "$T/hang.pid")"
runs=$(grep -c '^hang ' "$T/ifaddr.calls")
msg "the hanging command ran $runs times in 20s"
assert_ge "$runs" 2 "runs of the hanging command (it is asked again)"
# The table's answer is old now; -s does not ask again, and shows
# where the guest answered.
wait_until_ms $((t_table + 11000))
out=$("$VMLAUNCH" -s -f "$CONF" 2>&1)
assert_match "$out" "^table +running +idle .*$(vm_addr table):$(vm_port table)\$" \
    "-s shows the address once the answer is old"
assert_eq "$(grep -c '^table ' "$T/ifaddr.calls")" 1 \
    "runs of the table's command (-s does not run it)"
alive "$SUP_PID" || fail "the supervisor died"
exit 0
