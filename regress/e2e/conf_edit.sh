#!/bin/sh
# An edited config applies without SIGHUP: the client parses the file
# anew, so the supervisor rereads it when it changed, before it looks the
# host up.  A new VM is served at once.  An edit with an error keeps the
# old config (logged), and the VMs it has go on working.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
add_vm second
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

run_ssh ubuntu.vm echo one
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" one "ssh output"

# Add a VM; no signal.
conf_begin; conf_vm ubuntu; conf_vm second; conf_end
run_ssh second.vm echo two
assert_eq "$RC" 0 "ssh to the VM added by the edit, exit status (stderr: $ERR)"
assert_eq "$OUT" two "ssh to the VM added by the edit, output"
assert_match "$(cat "$SUPLOG")" "vmlaunch.conf changed, reloading it" \
    "the supervisor log"
assert_eq "$SUP_PID" "$(vmlaunch_pids | grep -x "$SUP_PID")" "the same supervisor"

# Break the file: the old config stays in effect.
cp -p "$CONF" "$T/old.conf"
{ cat "$CONF"; echo 'idle timeout 3'; } >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"
run_proxy ubuntu.vm
# The client parses the file too, and refuses it itself, with the error.
assert_eq "$RC" 255 "client with the broken file, exit status"
assert_match "$ERR" "vmlaunch.conf:[0-9]+: .*duration" \
    "client with the broken file, stderr"
# A client of the old text (a copy) still reaches the supervisor, which
# tries the edited file, logs why it keeps its config, and serves.
ssh -F "$SSHCFG" -o "ProxyCommand $VMLAUNCH -f $T/old.conf %h %p" \
    second.vm echo three </dev/null >"$T/three.out" 2>"$T/three.err"
assert_eq "$?" 0 "ssh with the old file (stderr: $(cat "$T/three.err"))"
assert_eq "$(cat "$T/three.out")" three "ssh with the old file, output"
assert_match "$(cat "$SUPLOG")" "has errors, keeping the old configuration" \
    "the supervisor log after the broken edit"
alive "$SUP_PID" || fail "the supervisor died on a broken edit"
