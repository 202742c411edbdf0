#!/bin/sh
#
# Each invariant of the simulation, shown to fire: the code broken on
# purpose (a copy of vm.c, start.c, stop.c, idle.c, boot.c, session.c or state.c
# patched in a temporary directory, never the product's files) or the
# world's promises broken (sim -b), then random sequences until the
# first failure, which must be that invariant.  The product's sources are not
# touched.
#
# usage: sh regress/sim/break.sh [name ...]	(default: every break)
#	SIM_SEQS=n	sequences tried per break (default 2000)

set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmlaunch-break.XXXXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
seqs=${SIM_SEQS:-2000}
fails=0

# The breaks, fields split by ~: name, the invariant that must fire, the
# file, a Perl substitution on it (it must change something), what it
# does.
breaks() {
	cat <<'EOF'
start-running~one-start-per-boot~start.c~s/(it will not be stopped\)"\);\n)\t\tvm_boot\(vm\);/$1\t\tvm_start(vm);/~a VM found running for a waiting session is started again
stop-in-use~no-stop-in-use~vm.c~s/vm_inuse\(vm\) \|\| !vm->owned/!vm->owned/g; s/!vm->owned \|\| vm_inuse\(vm\)/!vm->owned/g~an idle countdown, and the idle stop, take no account of the sessions
stop-foreign~no-stop-foreign~start.c~s/(\t\t\tvm->odd = 0;\n)(\t\t\tvm_check_found)/$1\t\t\tvm->owned = 1;\n$2/~whatever a check finds running becomes vmlaunch's
idle-leak~idle-stop~idle.c~s/\n\tif \(at != -1\)\n\t\ttimer_ms\(&id->ev, at - now_ms\(\)\);//~the idle countdown's timer is never armed (idle.c)
no-answer~session-answer~start.c~s/\t\tvm_fail_waiters\(vm, "%s", res->msg\);\n(\t\tif \(vm->owned && vm->odd > 0\))/$1/~a failed status leaves waiting sessions unanswered
watch-kept~owner-lifetime~boot.c~s/\tbackend_cancel\(b->watch\);\n(\tfree\(b\);)/$1/~boot_cancel() leaves its status watch running (boot.c)
timer-kept~owner-lifetime~vm.c~s/(vm_quiet\(struct vm \*vm\)\n\{\n\tevtimer_del\(&vm->ev_deadline\);\n)\tevtimer_del\(&vm->ev_poll\);\n/$1/~vm_quiet() (so vm_free()) leaves its poll timer queued
wrong-guest~right-guest~vm.c~s/(probe_start\(&vm->pol, vm->name, vm->has_id, )vm->id, port,/$1vm->id + 1, port,/~a session connects by the id after its VM's
fatal~no-fatal~stop.c~s/(\t    paused \? " \(unpausing it first\)" : ""\);\n)/$1\tif (strcmp(why, "its guest never answered") == 0)\n\t\tfatalx("broken on purpose");\n/~a stop for a guest that never answered is fatal
orphan-window~one-start-per-boot/idle-stop~state.c~s/(now < r->since \+ limit \+ STATE_START_GRACE\))\n\t\t\treturn \(VERDICT_WAIT\);/$1\n\t\t\treturn (VERDICT_DROP);/~a predecessor's start is not waited for
held~no-stop-held~session.c~s/(case SESSIONS_USING:\n\t\treturn \(use)\);/$1 && !(s->flags & SESSION_HOLD));/~a hold does not count as a use of its VM (session.c)
unpause~unpause-before-stop~stop.c~s/paused \? HALT_UNPAUSE : HALT_OURS/HALT_OURS/~a VM that vmlaunch paused is stopped with no unpause first
pause-in-use~no-pause-in-use~vm.c~s/(\} else if \(!\(flags & CTL_FLAG_NOTUSE\) && vm->state == VM_IDLE\) \{\n)\t\tvm_unidle\(vm\);\n/$1/; s/vm->state == VM_IDLE && vm->owned && !vm_inuse\(vm\)\)/vm->state == VM_IDLE && vm->owned)/~a session leaves the idle countdown running, and the idle pause takes no account of the sessions
busy~busy~idle.c~s/\tif \(!busy\) \{/\tif (1) {/~the idle check's verdict busy is taken as idle (idle.c)
EOF
}

# The world's promises, broken: name, invariants (one of them: a start
# acting late is a second start, or a VM nobody owns), sim -b flag, what.
promises() {
	cat <<'EOF'
late-start~one-start-per-boot/idle-stop~late-start~a start killed at its limit starts the VM later
resume~no-stop-in-use~resume~keepers come back after the resume grace
orphan~one-start-per-boot/idle-stop~orphan~an orphaned start acts after its time limit
stop~idle-stop~stop~no stop of vmlaunch's ever ends the VM
EOF
}

selected() {
	[ $# -le 1 ] && return 0
	n=$1
	shift
	for w in "$@"; do
		[ "$w" = "$n" ] && return 0
	done
	return 1
}

# fire name invariants sim [flags]: the first failure must be one of
# the invariants (a/b: either)
fire() {
	name=$1 want=$2 bin=$3
	shift 3
	out=$("$bin" -f -S -n "$seqs" -s 1 "$@" 2>&1)
	got=$(printf '%s\n' "$out" | sed -n 's/^FAIL seed \([^:]*\): \([a-z-]*\): .*/\2 (seed \1)/p' | head -1)
	line=$(printf '%s\n' "$out" | sed -n 's/^FAIL seed [^:]*: //p' | head -1)
	if [ -z "$got" ]; then
		printf '%-14s %-33s NOT FIRED in %s sequences\n' "$name" "$want" "$seqs"
		fails=$((fails + 1))
	elif ! printf '%s\n' "$want" | tr / '\n' | grep -qx "${got%% *}"; then
		printf '%-14s %-33s WRONG: %s\n' "$name" "$want" "$line"
		fails=$((fails + 1))
	else
		printf '%-14s %-33s fired: %s\n' "$name" "$want" "$line"
	fi
}

(cd "$top" && make -s parse.c) || exit 1
sh "$here/build.sh" || exit 1
printf "%-14s %-33s %s\n" break invariant result
breaks | while IFS='~' read -r name want file subst what; do
	selected "$name" "$@" || continue
	mkdir -p "$tmp/$name"
	cp "$top/$file" "$tmp/$name/$file"
	perl -0pi -e "$subst" "$tmp/$name/$file"
	if cmp -s "$top/$file" "$tmp/$name/$file"; then
		printf '%-14s %-33s PATCH DID NOT APPLY (%s)\n' "$name" "$want" "$file"
		echo 1 >>"$tmp/failed"
		continue
	fi
	echo "# $name: $what" >&2
	if ! SIM_SRC="$tmp/$name" sh "$here/build.sh" "$tmp/$name/sim" \
	    >"$tmp/$name/build.log" 2>&1; then
		printf '%-14s %-33s DOES NOT BUILD\n' "$name" "$want"
		cat "$tmp/$name/build.log"
		echo 1 >>"$tmp/failed"
		continue
	fi
	fire "$name" "$want" "$tmp/$name/sim"
	[ $fails = 0 ] || echo 1 >>"$tmp/failed"
done
promises | while IFS='~' read -r name want flag what; do
	selected "$name" "$@" || continue
	echo "# promise $name: $what" >&2
	fire "$name" "$want" "$top/regress/tmp/sim/sim" -b "$flag"
	[ $fails = 0 ] || echo 1 >>"$tmp/failed"
done
[ ! -s "$tmp/failed" ]
