# SPDX-License-Identifier: GPL-2.0
# Sourced in the guest: bring up the pmem stack named by PMF_STACK and write
# the targets the tests use into $PMF_OUT/targets.env (and export them).
#
#   qemu       QEMU NFIT (nv0-nv4, sizes from run.sh) and virtio-pmem (vp0, vp1)
#   nfit_test  the kernel's nfit_test modules built from Debian's linux-source

log() { echo "setup: $*"; }

# region (sysfs name) with the given bus provider and size in MiB
find_region() {
	local r
	for r in /sys/bus/nd/devices/region*; do
		[ "$(cat "$r/size")" = $(($2 << 20)) ] || continue
		[ "$(cat "$(readlink -f "$r")/../provider")" = "$1" ] || continue
		basename "$r"
		return 0
	done
	echo "setup: no $1 region of $2 MiB" >&2
	return 1
}

# the namespace that a label-less region starts with
region_ns() {
	local ns
	ns=$(cd "/sys/bus/nd/devices/$1" && ls -d namespace*.* | head -n1)
	[ -n "$ns" ] || { echo "setup: $1 has no namespace" >&2; return 1; }
	echo "$ns"
}

json_field() {
	sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -n1
}

make_ns() {	# region mode -> chardev or blockdev name
	local ns out
	ns=$(region_ns "$1") || return 1
	out=$(ndctl create-namespace -f -e "$ns" -m "$2" ${3:+-a "$3"} 2>/dev/null) || {
		echo "setup: ndctl create-namespace $ns -m $2 failed" >&2
		return 1
	}
	case "$2" in
	devdax)	echo "$out" | json_field chardev ;;
	*)	echo "$out" | json_field blockdev ;;
	esac
}

mount_dax() {	# fstype blockdev dir
	mkdir -p "$3"
	case "$1" in
	ext4)	# no lazy init: its background writes would flush behind the tests' backs
		mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 "/dev/$2" ;;
	xfs)	mkfs.xfs -q -f -m reflink=0 "/dev/$2" ;;
	esac
	mount -t "$1" -o dax,noatime "/dev/$2" "$3"
	grep -q " $3 .*dax" /proc/mounts || { echo "setup: $3 not mounted with dax" >&2; return 1; }
}

setup_qemu() {
	local r dev
	# ndctl's modprobe hook for libnvdimm chatters about TPM keys: quiet
	# it, but show the errors if loading fails
	modprobe -a nfit nd_pmem nd_btt dax_pmem device_dax virtio_pmem ext4 xfs \
		loop 2>/dev/null ||
		modprobe -a nfit nd_pmem nd_btt dax_pmem device_dax virtio_pmem \
			ext4 xfs loop
	udevadm settle 2>/dev/null || sleep 1

	r=$(find_region ACPI.NFIT 192)
	dev=$(make_ns "$r" devdax 4K)
	PMF_NFIT_DEVDAX=/dev/$dev

	r=$(find_region ACPI.NFIT 256)
	dev=$(make_ns "$r" fsdax)
	PMF_NFIT_PMEM=/dev/$dev
	mount_dax ext4 "$dev" /mnt/nfit-ext4
	PMF_NFIT_EXT4=/mnt/nfit-ext4

	# xfs with its realtime volume on another region (nv5): files in
	# rt/ inherit the realtime flag, so their data lives there
	r=$(find_region ACPI.NFIT 96)
	rt=$(make_ns "$r" fsdax)
	r=$(find_region ACPI.NFIT 512)
	dev=$(make_ns "$r" fsdax)
	mkdir -p /mnt/nfit-xfs
	mkfs.xfs -q -f -m reflink=0 -r rtdev="/dev/$rt" "/dev/$dev"
	mount -t xfs -o dax,noatime,rtdev="/dev/$rt" "/dev/$dev" /mnt/nfit-xfs
	grep -q " /mnt/nfit-xfs .*dax" /proc/mounts ||
		{ echo "setup: /mnt/nfit-xfs not mounted with dax" >&2; return 1; }
	mkdir /mnt/nfit-xfs/rt
	xfs_io -c 'chattr +t' /mnt/nfit-xfs/rt
	PMF_NFIT_XFS=/mnt/nfit-xfs
	PMF_NFIT_XFS_RT=/mnt/nfit-xfs/rt

	r=$(find_region ACPI.NFIT 128)
	dev=$(make_ns "$r" raw)
	printf 'label: gpt\n,32M\n,\n' | sfdisk -q "/dev/$dev"
	PMF_NFIT_RAW=/dev/$dev
	PMF_NFIT_PART=/dev/${dev}p1

	r=$(find_region ACPI.NFIT 144)
	dev=$(make_ns "$r" sector)
	PMF_NFIT_BTT=/dev/$dev
	# BTT has no DAX: a file there keeps its data in the page cache
	mkdir -p /mnt/nfit-btt-ext4
	mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 "/dev/$dev"
	mount -t ext4 -o noatime "/dev/$dev" /mnt/nfit-btt-ext4
	PMF_NFIT_BTT_EXT4=/mnt/nfit-btt-ext4

	r=$(find_region virtio-pmem 320)
	dev=$(make_ns "$r" fsdax)
	mount_dax ext4 "$dev" /mnt/virtio-ext4
	PMF_VIRTIO_EXT4=/mnt/virtio-ext4
	PMF_VIRTIO_EXT4_FSYNC=$PMF_OUT/fsync-vp0

	r=$(find_region virtio-pmem 160)
	dev=$(make_ns "$r" devdax 4K)
	PMF_VIRTIO_DEVDAX=/dev/$dev
	PMF_VIRTIO_DEVDAX_FSYNC=$PMF_OUT/fsync-vp1
	sync
}

# Test builds of the nvdimm stack replace the stock modules (modprobe would
# load the stock ones), so load them by path in dependency order.
setup_nfit_test() {
	local m r dev
	modprobe loop
	for m in test/nfit_test_iomap libnvdimm nfit nd_btt nd_pmem dax_pmem \
		 device_dax test/nfit_test; do
		insmod "$PMF_NFIT_DIR/$m.ko"
	done
	udevadm settle 2>/dev/null || sleep 1
	ndctl disable-region -b nfit_test.0 all >/dev/null
	ndctl init-labels -f -b nfit_test.0 all >/dev/null
	ndctl enable-region -b nfit_test.0 all >/dev/null

	# nfit_test.0's 64 MiB region has flush hints: deep_flush reads 1
	r=$(find_region nfit_test.0 64)
	[ "$(cat "/sys/bus/nd/devices/$r/deep_flush")" = 1 ] ||
		{ echo "setup: $r has no flush hints" >&2; return 1; }
	dev=$(ndctl create-namespace -b nfit_test.0 -r "$r" -m devdax -a 4K -s 16M |
		json_field chardev)
	PMF_HINTS_DEVDAX=/dev/$dev
	dev=$(ndctl create-namespace -b nfit_test.0 -r "$r" -m fsdax -s 16M |
		json_field blockdev)
	PMF_HINTS_PMEM=/dev/$dev
}

setup_stack() {
	case "$PMF_STACK" in
	qemu)		setup_qemu ;;
	nfit_test)	setup_nfit_test ;;
	*)		echo "setup: unknown stack $PMF_STACK" >&2; return 1 ;;
	esac
	set | grep '^PMF_[A-Z0-9_]*=' | sed 's/^/export /' >"$PMF_OUT/targets.env"
	. "$PMF_OUT/targets.env"
	log "targets:"
	sed 's/^export /  /' "$PMF_OUT/targets.env"
}
