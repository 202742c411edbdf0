#!/bin/sh
#
# Build the tiny Linux guest that the real-VM tests boot under QEMU: a
# Debian kernel and an initramfs holding busybox-static (init and the
# tools), OpenSSH's sshd, xauth and xclock (for X11 forwarding tests), the
# QEMU guest agent (for virsh domifaddr --source agent), all copied from
# this host's Debian packages, plus the kernel modules the guest needs.  Nothing is downloaded but the kernel package, from the
# Debian mirror apt is set up for.
#
# usage: build.sh [-f] [-k pubkey] ...
#	-f		rebuild even if the cache holds this build
#	-k pubkey	also authorize this public key for root in the guest
#
# Prints the guest directory on stdout (progress goes to stderr).  It holds:
#	kernel, initrd		kernel (ELF vmlinux, else bzImage), initramfs
#	id_ed25519{,.pub}	the client key authorized for root
#	known_hosts		"* <host key>", for UserKnownHostsFile
#	cmdline			the base kernel command line
#	info			what went in
#
# The cache directory is $VMLAUNCH_GUEST_CACHE, else /var/cache/vmlaunch-guest
# for root, else ${XDG_CACHE_HOME:-~/.cache}/vmlaunch-guest.  A build is kept
# under a key made from this script, the package versions that went in and
# the extra keys, so an unchanged build is reused at once; $CACHE/current
# points at the newest.  Set VMLAUNCH_GUEST_KERNEL to a package name
# (linux-image-6.1.0-56-amd64) to pin the kernel; the default follows
# linux-image-amd64.

set -eu
PATH=$PATH:/usr/sbin:/sbin

prog=build.sh
die() { echo "$prog: $*" >&2; exit 1; }
say() { echo "$prog: $*" >&2; }

force=0
extrakeys=
while getopts fk: opt; do
	case $opt in
	f)	force=1 ;;
	k)	[ -r "$OPTARG" ] || die "cannot read $OPTARG"
		extrakeys="$extrakeys $(cd "$(dirname "$OPTARG")" && pwd)/$(basename "$OPTARG")" ;;
	*)	echo "usage: $prog [-f] [-k pubkey] ..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { echo "usage: $prog [-f] [-k pubkey] ..." >&2; exit 2; }

script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
guestdir=$(dirname "$script")

if [ -n "${VMLAUNCH_GUEST_CACHE:-}" ]; then
	cache=$VMLAUNCH_GUEST_CACHE
elif [ "$(id -u)" -eq 0 ]; then
	cache=/var/cache/vmlaunch-guest
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/vmlaunch-guest
fi

# What the build takes from the host, by package; checked before anything.
missing=
need() {	# command package
	command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] ||
	    missing="$missing $2"
}
need apt-get apt
need dpkg-deb dpkg
need dpkg-query dpkg
need /bin/busybox busybox-static
need /usr/sbin/sshd openssh-server
need ssh-keygen openssh-client
need /usr/bin/xauth xauth
need /usr/bin/xclock x11-apps
need /usr/sbin/qemu-ga qemu-guest-agent
need cpio cpio
need modinfo kmod
need gzip gzip
need xz xz-utils
need od coreutils
need ldd libc-bin
need flock util-linux
need sha256sum coreutils
if [ -n "$missing" ]; then
	die "missing packages:$missing (apt-get install$missing)"
fi
case $(LC_ALL=C ldd /bin/busybox 2>&1) in
*"not a dynamic"*|*"statically linked"*) ;;
*)	die "/bin/busybox is not static (apt-get install busybox-static)" ;;
esac

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# The kernel: a pinned package, else whatever linux-image-amd64 depends on.
kpkg=${VMLAUNCH_GUEST_KERNEL:-}
if [ -z "$kpkg" ]; then
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	    sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
fi
kver=
[ -z "$kpkg" ] || kver=$(apt-cache show --no-all-versions "$kpkg" 2>/dev/null |
    sed -n 's/^Version: //p' | head -n 1)
if [ -z "$kver" ]; then
	# No apt lists: an earlier build is better than none.
	if [ $force -eq 0 ] && [ -f "$cache/current/done" ]; then
		say "warning: cannot resolve the kernel package" \
		    "(apt-get update?), reusing $(readlink "$cache/current")"
		echo "$cache/$(readlink "$cache/current")"
		exit 0
	fi
	die "cannot resolve the kernel package ${kpkg:-linux-image-amd64}" \
	    "(run apt-get update, or set VMLAUNCH_GUEST_KERNEL)"
fi

inputs=$( {
	cat "$script" "$guestdir/rcS"
	echo "kernel $kpkg $kver"
	dpkg-query -W -f '${Package} ${Version}\n' busybox-static \
	    openssh-server xauth x11-apps qemu-guest-agent libc6
	for k in $extrakeys; do cat "$k"; done
} | sha256sum | cut -c1-16)
out=$cache/$inputs

if [ $force -eq 0 ] && [ -f "$out/done" ]; then
	ln -sfn "$inputs" "$cache/current"
	echo "$out"
	exit 0
fi

say "building guest $inputs (kernel $kpkg $kver) in $cache"
tmp=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Kernel package: downloaded once per version, unpacked without its hooks.
mkdir -p "$cache/debs"
deb=$(ls "$cache/debs/${kpkg}_"*.deb 2>/dev/null | head -n 1 || true)
case $deb in
*"_$(echo "$kver" | sed 's/:/%3a/')_"*) ;;
*)	rm -f "$cache/debs/${kpkg}_"*.deb
	say "downloading $kpkg $kver"
	sandbox=
	[ "$(id -u)" -ne 0 ] || sandbox="-o APT::Sandbox::User=root"
	(cd "$cache/debs" && apt-get $sandbox download -q "$kpkg=$kver" >&2) ||
	    die "apt-get download $kpkg failed"
	deb=$(ls "$cache/debs/${kpkg}_"*.deb | head -n 1) ;;
esac
say "unpacking $(basename "$deb")"
dpkg-deb -x "$deb" "$tmp/kpkg"
kernel=$(ls "$tmp/kpkg/boot/"vmlinuz-* | head -n 1)
[ -f "$kernel" ] || die "no vmlinuz in $deb"
release=${kernel##*/vmlinuz-}
moddir=$tmp/kpkg/lib/modules/$release

# The initramfs tree, /usr merged as on Debian 12 so ldd's paths work.
root=$tmp/root
mkdir -p "$root"
for d in usr/bin usr/sbin usr/lib usr/lib64 etc etc/ssh etc/acpi/PWRF \
    root/.ssh dev proc sys run tmp var/empty var/log modules; do
	mkdir -p "$root/$d"
done
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
ln -s ../run "$root/var/run"
chmod 1777 "$root/tmp"
chmod 700 "$root/root" "$root/root/.ssh"
chmod 755 "$root/var/empty"

cp /bin/busybox "$root/usr/bin/busybox"
/bin/busybox --list-full | while read -r applet; do
	case $applet in
	*/busybox) continue ;;
	esac
	[ -e "$root/$applet" ] || [ -L "$root/$applet" ] ||
	    ln -s /usr/bin/busybox "$root/$applet"
done

# Programs and every library they load, at the paths ldd reports.
for bin in /usr/sbin/sshd /usr/bin/xauth /usr/bin/xclock /usr/sbin/qemu-ga; do
	rm -f "$root$bin"
	cp "$bin" "$root$bin"
	LC_ALL=C ldd "$bin" | awk '
	    $2 == "=>" && $3 ~ /^\// { print $3 }
	    $1 ~ /^\// { print $1 }' |
	while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done

# Kernel modules, with their dependencies first, loaded by rcS in order.
find "$moddir/kernel" -name '*.ko*' |
    awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n);
	gsub(/-/, "_", n); print n, $0 }' > "$tmp/modfiles"
modpath() {
	awk -v m="$1" '$1 == m { print $2; found = 1; exit }
	    END { exit !found }' "$tmp/modfiles"
}
: > "$tmp/modorder"
addmod() {
	grep -qx "$1" "$tmp/modorder" && return 0
	if grep -q "/$1\.ko" "$moddir/modules.builtin" 2>/dev/null; then
		return 0
	fi
	f=$(modpath "$1") || die "module $1 not in $kpkg"
	for dep in $(modinfo -F depends "$f" | tr ',' ' '); do
		addmod "$dep"
	done
	f=$(modpath "$1")
	case $f in
	*.ko)	cp "$f" "$root/modules/$1.ko" ;;
	*.ko.xz) xz -dc "$f" > "$root/modules/$1.ko" ;;
	*.ko.zst) zstd -qdc "$f" > "$root/modules/$1.ko" ;;
	*.ko.gz) gzip -dc "$f" > "$root/modules/$1.ko" ;;
	*)	die "cannot unpack $f" ;;
	esac
	echo "$1" >> "$tmp/modorder"
}
for m in virtio_pci virtio_net virtio_console button evdev; do
	addmod "$m"
done
cp "$tmp/modorder" "$root/modules/order"

# Users, names and the ssh server's configuration.
cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
sshd:x:100:65534:sshd privsep:/run/sshd:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat > "$root/etc/shadow" <<'EOF'
root:*:19000:0:99999:7:::
sshd:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
chmod 600 "$root/etc/shadow"
cat > "$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
cat > "$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
EOF
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' \
    > "$root/etc/nsswitch.conf"
echo /bin/sh > "$root/etc/shells"

cat > "$root/etc/ssh/sshd_config" <<'EOF'
# vmlaunch test guest: root by key only, X11 forwarding on.
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
X11Forwarding yes
X11UseLocalhost yes
XAuthLocation /usr/bin/xauth
PrintMotd no
PrintLastLog no
PidFile /run/sshd.pid
Subsystem sftp internal-sftp
EOF
ssh-keygen -q -t ed25519 -N '' -C vmlaunch-guest-host \
    -f "$root/etc/ssh/ssh_host_ed25519_key"
mkdir -p "$tmp/out"
ssh-keygen -q -t ed25519 -N '' -C vmlaunch-guest-client \
    -f "$tmp/out/id_ed25519"
{
	cat "$tmp/out/id_ed25519.pub"
	for k in $extrakeys; do cat "$k"; done
} > "$root/root/.ssh/authorized_keys"
chmod 600 "$root/root/.ssh/authorized_keys"

# busybox init runs rcS; the power button reaches acpid, which powers off.
cat > "$root/etc/inittab" <<'EOF'
::sysinit:/etc/rcS
::shutdown:/etc/rcK
EOF
cat > "$root/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
echo "vmlaunch-guest: power button, powering off" > /dev/console
exec /sbin/poweroff
EOF
chmod 755 "$root/etc/acpi/PWRF/00000080"

# /init first gives itself a console (no device nodes in the archive, so
# building needs no root), then becomes busybox init.
cat > "$root/init" <<'EOF'
#!/bin/sh
/bin/mount -t devtmpfs devtmpfs /dev
exec 0</dev/console 1>/dev/console 2>&1
exec /sbin/init
EOF
chmod 755 "$root/init"

cp "$guestdir/rcS" "$root/etc/rcS"
cat > "$root/etc/rcK" <<'EOF'
#!/bin/sh
echo "vmlaunch-guest: shutting down"
EOF
chmod 755 "$root/etc/rcS" "$root/etc/rcK"

# The archive, owned by root whoever builds it.  Uncompressed: under TCG
# the kernel's gunzip costs more than QEMU copying the bigger file.
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
    > "$tmp/out/initrd"

# The kernel, decompressed to its ELF vmlinux: QEMU boots that directly
# through its PVH entry point, which saves the 3-4 s of CPU that the
# bzImage's own xz decompressor takes under TCG.  Else the bzImage.
extract_vmlinux() {	# bzImage out
	setup=$(od -An -tu1 -j 497 -N1 "$1" | tr -d ' ')
	[ "$setup" -ne 0 ] || setup=4
	poff=$(od -An -tu4 -j 584 -N4 "$1" | tr -d ' ')
	plen=$(od -An -tu4 -j 588 -N4 "$1" | tr -d ' ')
	tail -c +$(((setup + 1) * 512 + poff + 1)) "$1" | head -c "$plen" \
	    > "$tmp/payload"
	case $(od -An -tx1 -N4 "$tmp/payload" | tr -d ' ') in
	fd377a58) xz -dc --single-stream < "$tmp/payload" ;;
	28b52ffd) zstd -qdc < "$tmp/payload" ;;
	1f8b*)	gzip -dc < "$tmp/payload" ;;
	*)	return 1 ;;
	esac > "$2" 2>/dev/null || return 1
	[ "$(od -An -c -N4 "$2" | tr -d ' ')" = "177ELF" ]
}
if command -v xz >/dev/null 2>&1 && extract_vmlinux "$kernel" "$tmp/out/kernel"
then
	kform=vmlinux
else
	say "warning: cannot decompress $kernel, booting the bzImage (slower)"
	cp "$kernel" "$tmp/out/kernel"
	kform=bzImage
fi
rm -f "$tmp/payload"
echo "* $(cut -d' ' -f1,2 "$root/etc/ssh/ssh_host_ed25519_key.pub")" \
    > "$tmp/out/known_hosts"
cp "$root/etc/ssh/ssh_host_ed25519_key.pub" "$tmp/out/"
echo "console=ttyS0 quiet panic=1" > "$tmp/out/cmdline"
{
	echo "key $inputs"
	echo "kernel $kpkg $kver $release"
	echo "modules $(tr '\n' ' ' < "$tmp/modorder")"
	dpkg-query -W -f 'package ${Package} ${Version}\n' busybox-static \
	    openssh-server xauth x11-apps qemu-guest-agent libc6
	echo "kernel-format $kform"
	echo "initrd $(wc -c < "$tmp/out/initrd") bytes"
} > "$tmp/out/info"
chmod 600 "$tmp/out/id_ed25519"
touch "$tmp/out/done"

rm -rf "$out"
mv "$tmp/out" "$out"
ln -sfn "$inputs" "$cache/current"
# Older builds go; a VM already running has its kernel and initrd loaded.
for d in "$cache"/*/; do
	d=${d%/}
	case ${d##*/} in
	"$inputs"|current|debs|tmp.*) continue ;;
	esac
	[ -f "$d/done" ] && rm -rf "$d"
done
say "built $out ($kform kernel, $(wc -c < "$out/initrd") byte initrd)"
echo "$out"
