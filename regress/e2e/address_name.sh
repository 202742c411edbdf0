#!/bin/sh
# "address NAME": a fixed address given as a host name is resolved by the
# supervisor, in a child (getaddrinfo blocks, the loop must not), here
# through an /etc/hosts of the test's own, bound over the real one in a
# mount namespace that only the supervisor sees (and a resolv.conf that
# sends any DNS query to the loopback, where nothing answers).  The
# session reaches the guest at the address the name stands for; a name
# that does not resolve fails the client with a line that names it.
. "$(dirname "$0")/../lib.sh"
need_root "a mount namespace for a private /etc/hosts"
command -v unshare >/dev/null 2>&1 || skip "unshare(1) is not installed"
test_init
add_vm named
add_vm nowhere
printf '%s guest-named.test\n' "$(vm_addr named)" >"$T/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
    >"$T/resolv.conf"
guest=$(vm_addr named)
eval 'ADDR_named=\"guest-named.test\"'
eval 'ADDR_nowhere=\"nowhere.invalid\"'
conf_begin; conf_vm named; conf_vm nowhere "boot wait 3s"; conf_end

echo "=== $(date +%T) supervisor start, private /etc/hosts" >>"$SUPLOG"
unshare -m sh -c 'mount --bind "$1" /etc/hosts &&
    mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"' sh \
    "$T/hosts" "$T/resolv.conf" "$VMLAUNCH" -d -v -f "$CONF" \
    2>>"$SUPLOG" &
SUP_PID=$!
register_pid $SUP_PID
wait_for 10 sup_socket_or_dead
alive $SUP_PID || fail "supervisor exited at once: $(tail -5 "$SUPLOG")"

run_ssh named.vm echo hello
assert_eq "$RC" 0 "ssh exit status (stderr: $ERR)"
assert_eq "$OUT" hello "output"
grep -q "vm named: guest $guest:$(vm_port named) ready" "$SUPLOG" ||
    fail "the supervisor did not log the guest ready at $guest"

run_ssh nowhere.vm echo hello
assert_eq "$RC" 255 "ssh exit status for a name that does not resolve"
assert_contains "$ERR" "nowhere.invalid" "the client's message"
msg "refused: $ERR"
alive $SUP_PID || fail "the supervisor died"
exit 0
