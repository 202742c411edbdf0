#!/bin/sh
# A scripted vmctl for the unit tests: the first argument picks what it
# does, the rest are the arguments vmlaunch passes (VMCTL.md wording).
mode=$1
shift
last=
for a in "$@"; do last=$a; done

table() {
	printf '%5s %5s %5s %7s %7s %7s %12s %8s %s\n' \
	    ID PID VCPUS MAXMEM CURMEM TTY OWNER STATE NAME
	printf '%5u %5u %5d %7s %7s %7s %12s %8s %s\n' \
	    1 48213 1 1.0G 1.0G ttyp8 joe running build01x
	printf '%5u %5s %5d %7s %7s %7s %12s %8s %s\n' \
	    2 - 1 512M - - root stopped build01
}

case $mode in
args)		echo "$*" >&2 ;;
status-ok)	table ;;
status-exit1)	table; exit 1 ;;
status-novmd)	echo "vmctl: connect: /var/run/vmd.sock: No such file or directory" >&2
		exit 1 ;;
status-garbage)	echo "hello world" ;;
status-empty)	exit 0 ;;
status-killed)	table; kill -9 $$ ;;
hang)		exec sleep 100 ;;
start-ok)	echo "vmctl: started vm 1 successfully, tty /dev/ttyp8" >&2 ;;
start-busy)	echo "vmctl: start vm command failed: Operation already in progress" >&2
		exit 1 ;;
start-silent)	exit 1 ;;
stop-ok)	printf 'stopping vm %s: requested to shutdown vm 1\n' "$last" >&2 ;;
stop-notrunning) printf 'stopping vm %s: failed: Invalid argument\n' "$last" >&2
		exit 1 ;;
pause-ok)	echo "vmctl: paused vm 1 successfully" >&2 ;;
unpause-ok)	echo "vmctl: unpaused vm 1 successfully" >&2 ;;
pause-notrunning) echo "vmctl: pause vm command failed: Invalid argument" >&2
		exit 1 ;;
*)		echo "fakevmctl: unknown mode $mode" >&2; exit 2 ;;
esac
exit 0
