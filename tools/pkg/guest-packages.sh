#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of the package test: the host has installed the packages (the
# guest's root is the host's), so `modprobe pmemflush` must load the module
# DKMS built for this kernel, and the installed command and a program built
# with pkg-config must work on the QEMU stack's targets. TAP in
# $PMF_OUT/tap/packages.tap; PMF_PKG_USER is the program.
set -uo pipefail
. "$(dirname "$0")/../vm/guest-setup.sh"
setup_stack >"$PMF_OUT/setup.log" 2>&1 || { cat "$PMF_OUT/setup.log"; exit 1; }

mkdir -p "$PMF_OUT/tap"
exec >"$PMF_OUT/tap/packages.tap" 2>&1
n=0
ok() {	# description command...
	local d=$1
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n $d"
	else
		echo "not ok $n $d"
		echo "$out" | sed 's/^/# /'
	fi
}
fsyncs() { cat "$PMF_VIRTIO_DEVDAX_FSYNC"; }
k=$(uname -r)
echo "1..8"

# modprobe -v prints the insmod it runs: the path must be DKMS's
load() {
	modprobe -v pmemflush | tee /dev/stderr |
		grep -q "insmod /lib/modules/$k/updates/dkms/pmemflush\.ko" &&
		[ -e /sys/module/pmemflush ] && [ -c /dev/pmemflush ]
}
ok "modprobe pmemflush loads /lib/modules/$k/updates/dkms/pmemflush.ko" load

ok "pmemflush --version is the package's" \
	bash -c '/usr/bin/pmemflush --version | grep -qx "pmemflush $(dpkg-query -W -f="\${Version}" pmemflush-tools)"'

# the list names the regions sysfs has, by provider
list() {
	local j
	j=$(/usr/bin/pmemflush list -j) || return 1
	python3 -c '
import json, os, sys
regions = json.loads(sys.stdin.read())
if isinstance(regions, dict):
	regions = regions.get("regions", [])
got = sorted((r["dev"], r["provider"]) for r in regions)
want = []
for d in os.listdir("/sys/bus/nd/devices"):
	if d.startswith("region"):
		p = os.path.realpath("/sys/bus/nd/devices/" + d) + "/../provider"
		want.append((d, open(p).read().strip()))
want.sort()
print(got, want)
sys.exit(0 if got == want else 1)' <<<"$j"
}
ok "pmemflush list -j lists every region with its provider" list

ok "pmemflush query $PMF_NFIT_DEVDAX" \
	bash -c "/usr/bin/pmemflush query $PMF_NFIT_DEVDAX | grep -qi 'dev.*dax'"

flush_virtio() {
	local a b
	a=$(fsyncs)
	/usr/bin/pmemflush flush "$PMF_VIRTIO_DEVDAX" || return 1
	b=$(fsyncs)
	echo "host fsyncs $a -> $b"
	[ "$b" -eq $((a + 1)) ]
}
ok "pmemflush flush $PMF_VIRTIO_DEVDAX: one host fsync" flush_virtio

# past the end of a 192 MiB namespace: a non-zero exit and a message
flush_range() {
	local err
	if err=$(/usr/bin/pmemflush flush "$PMF_NFIT_DEVDAX" --offset 0 --length 1G \
		 2>&1 >/dev/null); then
		echo "flush of 1 GiB succeeded"
		return 1
	fi
	echo "$err"
	echo "$err" | grep -qi 'range'
}
ok "pmemflush flush past the end fails with a message" flush_range

user_virtio() {
	local a b
	a=$(fsyncs)
	"$PMF_PKG_USER" "$PMF_VIRTIO_DEVDAX" || return 1
	b=$(fsyncs)
	echo "host fsyncs $a -> $b"
	# PAGE persist (one FLUSH) and the deep flush (one more)
	[ "$b" -ge $((a + 1)) ] && python3 -c '
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 4096)
sys.exit(0 if m[:64].startswith(b"written by pkg-user") else 1)' "$PMF_VIRTIO_DEVDAX"
}
ok "pkg-user (built with pkg-config) deep-flushes virtio device-dax" user_virtio

user_ext4() {
	local f=$PMF_NFIT_EXT4/pkg-user
	truncate -s 1M "$f" && "$PMF_PKG_USER" "$f" &&
		grep -aq 'written by pkg-user' "$f"
}
ok "pkg-user deep-flushes a DAX file on ext4" user_ext4
rmmod pmemflush
