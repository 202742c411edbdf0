#!/bin/sh
# An unknown host: exit 255, one line, and nothing else happens: no
# vmctl call, no supervisor, no control socket.
. "$(dirname "$0")/../lib.sh"
test_init
add_vm ubuntu
conf_begin; conf_vm ubuntu; conf_end

for h in nosuch.vm nosuch ubuntu.other; do
	run_proxy "$h" 22
	assert_eq "$RC" 255 "$h: exit status"
	assert_eq "$(echo "$ERR" | wc -l)" 1 "$h: stderr lines ($ERR)"
	assert_match "$ERR" "^vmlaunch: .*$h" "$h: stderr"
	assert_eq "$OUT" "" "$h: stdout"
done
run_ssh nosuch.vm echo hello
assert_eq "$RC" 255 "ssh exit status"
assert_contains "$ERR" "nosuch.vm" "ssh stderr"
[ -f "$VMD/log" ] && fail "vmctl ran: $(cat "$VMD/log")"
[ -e "$SOCK" ] && fail "a control socket appeared"
assert_eq "$(vmlaunch_pids | wc -l)" 0 "vmlaunch processes left"
