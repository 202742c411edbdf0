#!/bin/sh
# Install the Debian packages that vmlaunch's build, tests, demo and
# benchmarks need.  Run as root on Debian 12 (bookworm).
set -e

PKGS="
	build-essential pkg-config byacc bmake
	libevent-dev libbsd-dev
	mandoc
	openssh-client openssh-server
	iproute2 procps psmisc util-linux python3
	netcat-openbsd socat
	xvfb x11-apps x11-utils xauth
	qemu-system-x86 busybox-static cpio kmod xz-utils qemu-guest-agent
	clang libclang-rt-14-dev valgrind strace linux-perf gdb
	libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu
	debootstrap
"
# gdb: moment-sigterm-connect holds the supervisor at one moment with it.
# qemu-guest-agent: copied into the test guest (regress/guest/build.sh),
# for virsh domifaddr --source agent; nothing runs it on the host.
# libvirt: the daemon, its QEMU driver and virsh, for the libvirt tier's
# private libvirtd (regress/libvirtlib.sh).  Not libvirt-daemon-system:
# it pulls in systemd and polkit (or, in its sysv flavour, starts a
# system libvirtd at install), none of which the tests use.

if [ "$(id -u)" -ne 0 ]; then
	echo "deps-debian.sh: run as root (apt-get install)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $PKGS
