#!/bin/sh
# SIGHUP with a bad config: the error is logged with file:line, the old
# config stays (its 2s idle timeout, not the 1h of the broken file).
# The clients use an identical good copy, so only the supervisor sees
# the broken file.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
conf_begin; conf_vm ubuntu; conf_end "$T/sup.conf"
supervisor_start "$T/sup.conf"

conf_begin; conf_vm ubuntu "idle timeout 1h"; echo "vm broken {" >>"$CONF.new"
mv "$CONF.new" "$T/sup.conf"
"$VMLAUNCH" -n -f "$T/sup.conf" 2>/dev/null && fail "the broken config parses"
kill -HUP "$SUP_PID"
wait_for 5 grep -q "sup.conf:[0-9]" "$SUPLOG"
alive "$SUP_PID" || fail "the supervisor died on a bad SIGHUP"

run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" hello "output"
wait_for 30 vmctl_called 'stop ubuntu$'
gap=$(log_gap 'vm ubuntu: session [0-9]+ ended, 0 open' \
    'vm ubuntu: stopping it: no session for 2s') || fail "no idle stop logged"
assert_ge "$gap" 1990 "ms of idle countdown before the stop (idle timeout 2s)"
wait_for 10 vm_state_is ubuntu stopped
