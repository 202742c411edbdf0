#!/bin/sh
# examples/backend-libvirt.conf's status command for every state libvirt
# reports, the ones a test guest cannot easily reach included, through a
# stand-in virsh: vmlaunch -s shows each in vmd's words; ssh to a
# domain that is paused, suspended to RAM or crashed fails at once,
# naming the state, and starts nothing; an unknown domain gets virsh's
# own error.  The configuration in the README's "On Linux with libvirt"
# is the example's, and so is the backend in vmlaunch.conf(5).  The real daemon is regress/e2e/libvirt-ondemand.sh's.
. "$(dirname "$0")/../lib.sh"
test_init
pick_addr_port
mkdir -p "$T/bin"
# virsh -c URI COMMAND DOMAIN, for one domain "ubuntu" whose state is in
# $T/state (no file: no such domain), its id 7 while it is active.
cat >"$T/bin/virsh" <<EOF
#!/bin/sh
[ "\$1" = -c ] && shift 2
echo "\$*" >>"$T/virsh.calls"
if [ "\$2" != ubuntu ] || [ ! -f "$T/state" ]; then
	echo "error: failed to get domain '\$2'" >&2
	exit 1
fi
case \$1 in
domstate) cat "$T/state"; echo ;;
domid)	case \$(cat "$T/state") in
	"shut off") echo - ;;
	*)	echo 7 ;;
	esac ;;
domifaddr)
	echo " Name       MAC address          Protocol     Address"
	echo "-------------------------------------------------------------------------------"
	echo " vnet0      52:54:00:12:34:56    ipv4         $ADDR/24" ;;
*)	echo "error: \$1 is not for this test" >&2; exit 1 ;;
esac
EOF
chmod 755 "$T/bin/virsh"
export PATH="$T/bin:$PATH"
sed -e "s,^vm \"ubuntu\" {\$,&\\
	port $PORT," "$TOP/examples/backend-libvirt.conf" >"$CONF.new"
echo "socket \"$SOCK\"" >>"$CONF.new"
conf_end
grep -q "port $PORT\$" "$CONF" || fail "the example's port was not set"

# The README's ~/.vmlaunch.conf, as vmlaunch -nv prints it back, is the
# example's, blanks aside.
awk '/^## On Linux with libvirt/ { s = 1 }
    s && /^    \$ cat ~\/\.vmlaunch\.conf$/ { c = 1; next }
    c && /^    \$ / { exit }
    c { sub(/^    /, ""); print }' "$TOP/README.md" >"$T/readme.conf"
grep -q '^backend command' "$T/readme.conf" ||
    fail "no ~/.vmlaunch.conf with a backend in the README's libvirt section"
for f in "$T/readme" "$TOP/examples/backend-libvirt"; do
	"$VMLAUNCH" -nv -f "$f.conf" 2>&1 | tr -s ' \t' ' ' >"$T/${f##*/}.nv"
done
diff "$T/backend-libvirt.nv" "$T/readme.nv" >"$T/readme.diff" ||
    fail "the README's configuration is not the example's" \
    "(vmlaunch -nv, example < > README): $(cat "$T/readme.diff")"
# The same for the address rule and the backend in vmlaunch.conf(5)'s
# EXAMPLES.
sed -n '/^The domains of libvirt/,/^\.Ed/p' "$TOP/vmlaunch.conf.5" |
    sed -n '/^\.Bd/,/^\.Ed/p' | sed -e '/^\./d' -e 's/\\e/\\/g' \
    >"$T/man.conf"
for f in "$T/man" "$TOP/examples/backend-libvirt"; do
	"$VMLAUNCH" -nv -f "$f.conf" 2>&1 |
	    sed -n '/^address /p; /^backend/,/^}/p' |
	    tr -s ' \t' ' ' >"$T/${f##*/}.backend"
done
grep -q '^backend command {' "$T/man.backend" &&
    grep -q '^address command ' "$T/man.backend" ||
    fail "no address command and backend in vmlaunch.conf(5)'s libvirt example: $(cat "$T/man.conf")"
diff "$T/backend-libvirt.backend" "$T/man.backend" >"$T/man.diff" ||
    fail "vmlaunch.conf(5)'s libvirt address and backend are not the example's" \
    "(vmlaunch -nv, example < > man page): $(cat "$T/man.diff")"

for s in "running:running" "idle:running" "blocked:running" \
    "in shutdown:stopping" "shut off:stopped" "paused:paused" \
    "pmsuspended:paused" "crashed:unknown" "no state:unknown"; do
	echo "${s%:*}" >"$T/state"
	out=$("$VMLAUNCH" -s -f "$CONF" 2>&1)
	assert_match "$out" "^ubuntu +${s#*:} " "-s for libvirt's \"${s%:*}\""
done

for s in paused pmsuspended crashed; do
	echo "$s" >"$T/state"
	run_proxy ubuntu.vm 22
	assert_eq "$RC" 255 "$s: exit status"
	assert_match "$(echo "$ERR" | tail -n 1)" \
	    "^vmlaunch: ubuntu: .*($(echo "$s" | sed 's/pmsuspended/paused/;
	    s/crashed/unknown/'))" "$s: the error names the state"
done
rm -f "$T/state"
run_proxy ubuntu.vm 22
assert_eq "$RC" 255 "no such domain: exit status"
assert_match "$(echo "$ERR" | tail -n 1)" \
    "^vmlaunch: ubuntu: .*failed to get domain 'ubuntu'" \
    "no such domain: virsh's error"
grep -qE '^(start|shutdown|destroy) ' "$T/virsh.calls" &&
    fail "virsh was asked to start or stop: $(grep -vE '^dom(state|id) ' \
    "$T/virsh.calls")"
exit 0
