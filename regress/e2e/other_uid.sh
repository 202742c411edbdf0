#!/bin/sh
# A second uid is refused on the control socket.  As root, run the client
# and a raw connection as "nobody", with CAP_DAC_OVERRIDE so that file
# modes do not stop it first: only the supervisor's peer check can.
. "$(dirname "$0")/../lib.sh"
need_root "switching to the uid nobody"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end
supervisor_start

NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups
    --inh-caps=+dac_override --ambient-caps=+dac_override"
as_nobody() {
	# shellcheck disable=SC2086
	$NOBODY "$@"
}
as_nobody true 2>/dev/null || skip "setpriv cannot keep CAP_DAC_OVERRIDE here"

# The vmlaunch client as nobody.
# shellcheck disable=SC2086
timeout -k 5 30 $NOBODY "$VMLAUNCH" -f "$CONF" ubuntu.vm 22 </dev/null \
    >"$T/nobody.out" 2>"$T/nobody.err"
rc=$?
assert_eq "$rc" 255 "exit status of the client as nobody"
assert_eq "$(wc -l <"$T/nobody.err")" 1 "stderr lines: $(cat "$T/nobody.err")"
assert_eq "$(cat "$T/nobody.out")" "" "stdout"

# A raw connection as nobody: the supervisor must hang up, unanswered
# but for at most an error.
as_nobody "$PY" -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
try:
    s.sendall(struct.pack("=II", 1, 0))
except OSError:
    pass
data = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
except socket.timeout:
    sys.exit("the supervisor kept the connection open")
except OSError:
    pass
sys.exit(0 if len(data) < 1024 else "it answered %d bytes" % len(data))
' "$SOCK" || fail "raw connection as nobody was not refused"
wait_for 5 grep -qiE 'refus.*uid|uid.*refus' "$SUPLOG"
alive "$SUP_PID" || fail "the supervisor died"
assert_eq "$(vmctl_calls 'start')" 0 "vmctl start calls"

run_ssh ubuntu.vm echo hello
assert_eq "$RC" 0 "the owner's ssh exit status (stderr: $ERR)"
assert_eq "$OUT" hello "the owner's output"
