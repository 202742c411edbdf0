#!/bin/sh
# Warm start: the VM is ready, so a new session runs no vmctl at all and
# the client prints nothing on stderr.  The idle timeout is long: each
# session has to come before the last one's countdown ends, and on a
# loaded machine an ssh may take seconds to get there.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
CONF_IDLE=1m
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

run_ssh ubuntu.vm echo one
assert_eq "$RC" 0 "first ssh exit status (stderr: $ERR)"
assert_eq "$OUT" one "first output"
n=$(vmctl_calls '')
run_ssh ubuntu.vm echo two
assert_eq "$RC" 0 "second ssh exit status (stderr: $ERR)"
assert_eq "$OUT" two "second output"
assert_eq "$(noprogress "$ERR")" "" "stderr of a warm start (but progress)"
assert_eq "$(vmctl_calls '')" "$n" "vmctl calls during the warm start"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
# Also the ProxyCommand alone: the banner is the first thing it relays.
run_proxy ubuntu.vm 22
assert_match "$OUT" '^SSH-2\.0-' "the guest banner through the proxy"
assert_eq "$(vmctl_calls 'start')" 1 "vmctl start calls"
