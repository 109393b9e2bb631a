# SPDX-License-Identifier: GPL-2.0
# Sourced in the guest: bring up the pmem stack named by PMF_STACK and write
# the targets the tests use into $PMF_OUT/targets.env (and export them).
#
#   qemu       QEMU NFIT (nv0-nv7, sizes from run.sh) and virtio-pmem (vp0, vp1)
#   nfit_test  the kernel's nfit_test modules built from Debian's linux-source
#   cxl        QEMU's CXL type-3 pmem device, as an nd region through cxl_pmem

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
	local ns out t0=$SECONDS
	ns=$(region_ns "$1") || return 1
	out=$(ndctl create-namespace -f -e "$ns" -m "$2" ${3:+-a "$3"} 2>/dev/null) || {
		echo "setup: ndctl create-namespace $ns -m $2 failed" >&2
		return 1
	}
	# on stderr: stdout is the caller's
	log "$ns as $2 in $((SECONDS - t0)) s" >&2
	case "$2" in
	devdax)	echo "$out" | json_field chardev ;;
	*)	echo "$out" | json_field blockdev ;;
	esac
}

# the device the kernel made at probe from the info block of @1's
# namespace (images of tools/vm/images.sh): the device-dax, fsdax or BTT
# block device, or the raw namespace's disk; probing is asynchronous
found_ns() {	# region mode -> chardev or blockdev name
	local pat i d
	case "$2" in
	devdax)	pat="/sys/bus/nd/devices/$1/dax*.*/dax*.*/dev" ;;
	fsdax)	pat="/sys/bus/nd/devices/$1/pfn*.*/block/*/dev" ;;
	sector)	pat="/sys/bus/nd/devices/$1/btt*.*/block/*/dev" ;;
	raw)	pat="/sys/bus/nd/devices/$1/namespace*.*/block/*/dev" ;;
	esac
	for i in $(seq 600); do
		for d in $pat; do
			[ -e "$d" ] || continue
			d=$(basename "$(dirname "$d")")
			if [ -e "/dev/$d" ]; then
				echo "$d"
				return 0
			fi
		done
		sleep 0.2
	done
	echo "setup: $1 has no $2 device from its info block" >&2
	return 1
}

# the target of region @1 in mode @2: made with ndctl on empty backing
# files, found on images that carry it
target_ns() {	# region mode [align]
	if [ -n "${PMF_QEMU_IMAGES_USED:-}" ]; then
		found_ns "$1" "$2"
	else
		make_ns "$@"
	fi
}

mount_dax() {	# fstype blockdev dir
	local t0=$SECONDS
	mkdir -p "$3"
	[ -n "${PMF_QEMU_IMAGES_USED:-}" ] ||
	case "$1" in
	ext4)	# no lazy init: its background writes would flush behind the tests' backs
		mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 "/dev/$2" ;;
	xfs)	mkfs.xfs -q -f -m reflink=0 "/dev/$2" ;;
	esac
	mount -t "$1" -o dax,noatime "/dev/$2" "$3"
	grep -q " $3 .*dax" /proc/mounts || { echo "setup: $3 not mounted with dax" >&2; return 1; }
	log "$1 on $2 ${PMF_QEMU_IMAGES_USED:+found, }mounted in $((SECONDS - t0)) s"
}

setup_qemu() {
	local r dev rt i
	# ndctl's modprobe hook for libnvdimm chatters about TPM keys: quiet
	# it, but show the errors if loading fails
	modprobe -a nfit nd_pmem nd_btt dax_pmem device_dax virtio_pmem ext4 xfs \
		loop 2>/dev/null ||
		modprobe -a nfit nd_pmem nd_btt dax_pmem device_dax virtio_pmem \
			ext4 xfs loop
	udevadm settle 2>/dev/null || sleep 1

	r=$(find_region ACPI.NFIT 192)
	dev=$(target_ns "$r" devdax 4K)
	PMF_NFIT_DEVDAX=/dev/$dev

	r=$(find_region ACPI.NFIT 256)
	dev=$(target_ns "$r" fsdax)
	PMF_NFIT_PMEM=/dev/$dev
	mount_dax ext4 "$dev" /mnt/nfit-ext4
	PMF_NFIT_EXT4=/mnt/nfit-ext4

	# xfs with its realtime volume on another region (nv5): files in
	# rt/ inherit the realtime flag, so their data lives there
	r=$(find_region ACPI.NFIT 96)
	rt=$(target_ns "$r" fsdax)
	r=$(find_region ACPI.NFIT 512)
	dev=$(target_ns "$r" fsdax)
	mkdir -p /mnt/nfit-xfs
	[ -n "${PMF_QEMU_IMAGES_USED:-}" ] ||
		mkfs.xfs -q -f -m reflink=0 -r rtdev="/dev/$rt" "/dev/$dev"
	mount -t xfs -o dax,noatime,rtdev="/dev/$rt" "/dev/$dev" /mnt/nfit-xfs
	grep -q " /mnt/nfit-xfs .*dax" /proc/mounts ||
		{ echo "setup: /mnt/nfit-xfs not mounted with dax" >&2; return 1; }
	if [ -z "${PMF_QEMU_IMAGES_USED:-}" ]; then
		mkdir /mnt/nfit-xfs/rt
		xfs_io -c 'chattr +t' /mnt/nfit-xfs/rt
	fi
	PMF_NFIT_XFS=/mnt/nfit-xfs
	PMF_NFIT_XFS_RT=/mnt/nfit-xfs/rt

	r=$(find_region ACPI.NFIT 128)
	dev=$(target_ns "$r" raw)
	[ -n "${PMF_QEMU_IMAGES_USED:-}" ] ||
		printf 'label: gpt\n,32M\n,\n' | sfdisk -q "/dev/$dev"
	PMF_NFIT_RAW=/dev/$dev
	PMF_NFIT_PART=/dev/${dev}p1
	# the kernel reads the partition table when it adds the disk
	for i in $(seq 300); do
		[ -b "$PMF_NFIT_PART" ] && break
		sleep 0.2
	done

	r=$(find_region ACPI.NFIT 144)
	dev=$(target_ns "$r" sector)
	PMF_NFIT_BTT=/dev/$dev
	# BTT has no DAX: a file there keeps its data in the page cache
	mkdir -p /mnt/nfit-btt-ext4
	[ -n "${PMF_QEMU_IMAGES_USED:-}" ] ||
		mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 "/dev/$dev"
	mount -t ext4 -o noatime "/dev/$dev" /mnt/nfit-btt-ext4
	PMF_NFIT_BTT_EXT4=/mnt/nfit-btt-ext4

	# two fsdax disks only pmemflush_identity uses: it partitions them
	# (one partition reusing the other's dev_t) and leaves them whole
	r=$(find_region ACPI.NFIT 64)
	dev=$(target_ns "$r" fsdax)
	PMF_ID_PMEM_A=/dev/$dev
	r=$(find_region ACPI.NFIT 80)
	dev=$(target_ns "$r" fsdax)
	PMF_ID_PMEM_B=/dev/$dev

	r=$(find_region virtio-pmem 320)
	dev=$(target_ns "$r" fsdax)
	mount_dax ext4 "$dev" /mnt/virtio-ext4
	PMF_VIRTIO_EXT4=/mnt/virtio-ext4
	PMF_VIRTIO_EXT4_FSYNC=$PMF_OUT/fsync-vp0

	r=$(find_region virtio-pmem 160)
	dev=$(target_ns "$r" devdax 4K)
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

qemu_version() {
	qemu-system-x86_64 --version 2>/dev/null | sed -n 's/.*version \([^ ]*\).*/\1/p'
}

# CXL: the cxl_* drivers find the two type-3 devices, and one pmem region
# interleaved 2 ways over both (the host bridge interleaves its two root
# ports; cxl create-region) becomes an nd region on the "CXL" nd bus:
# device-dax, fsdax with ext4 -o dax, raw, fsdax with xfs -o dax. Block
# I/O must read back what it wrote before a file system goes there; when
# it does not (QEMU 7.2 dropped the writes), the tests fail with why.
setup_cxl() {
	local r dev i
	modprobe -a nd_pmem dax_pmem device_dax ext4 xfs cxl_acpi cxl_pci \
		cxl_mem cxl_pmem 2>/dev/null</dev/null ||
		modprobe -a nd_pmem dax_pmem device_dax ext4 xfs cxl_acpi \
			cxl_pci cxl_mem cxl_pmem
	udevadm settle 2>/dev/null || sleep 1
	for i in $(seq 50); do
		[ -e /sys/bus/cxl/devices/mem0 ] && [ -e /sys/bus/cxl/devices/mem1 ] &&
			break
		sleep 0.2
	done
	# without the memdevs (cxl_pci did not probe) there is nothing to test
	if [ ! -e /sys/bus/cxl/devices/mem0 ] || [ ! -e /sys/bus/cxl/devices/mem1 ]; then
		PMF_CXL_SKIP="no CXL memdevs: $(dmesg | grep -m1 -o 'cxl_pci .*' ||
			echo 'cxl_pci did not probe') (QEMU $(qemu_version) cxl-type3 on $(uname -r))"
		log "$PMF_CXL_SKIP"
		return 0
	fi
	cxl create-region -m -d decoder0.0 -t pmem -w 2 mem0 mem1 >/dev/null
	r=$(find_region CXL 1024)
	PMF_CXL_REGION=$r
	# the order cxl_restore() in selftests/pmemflush_cxl.c repeats
	# struct pages in RAM (-M mem): in the device, every probe would
	# write them through QEMU's emulated CXL memory
	dev=$(ndctl create-namespace -r "$r" -m devdax -M mem -s 64M | json_field chardev)
	PMF_CXL_DEVDAX=/dev/$dev
	dev=$(ndctl create-namespace -r "$r" -m fsdax -M mem -s 64M | json_field blockdev)
	PMF_CXL_PMEM=/dev/$dev
	dev=$(ndctl create-namespace -r "$r" -m raw -s 32M | json_field blockdev)
	PMF_CXL_RAW=/dev/$dev
	# xfs wants 300M at least
	dev=$(ndctl create-namespace -r "$r" -m fsdax -M mem -s 384M | json_field blockdev)
	PMF_CXL_PMEM_XFS=/dev/$dev
	head -c 1M /dev/urandom >"$PMF_OUT/cxl-pattern"
	for dev in "$PMF_CXL_PMEM" "$PMF_CXL_PMEM_XFS"; do
		dd if="$PMF_OUT/cxl-pattern" of="$dev" bs=1M oflag=direct status=none
		cmp -s "$PMF_OUT/cxl-pattern" \
		    <(dd if="$dev" bs=1M count=1 iflag=direct status=none) && continue
		PMF_CXL_FS_BROKEN="block I/O on the CXL pmem device $dev does not read back what dd wrote (QEMU $(qemu_version) cxl-type3, $(uname -r))"
		log "$PMF_CXL_FS_BROKEN"
		return 0
	done
	mount_dax ext4 "${PMF_CXL_PMEM#/dev/}" /mnt/cxl-ext4
	PMF_CXL_EXT4=/mnt/cxl-ext4
	mount_dax xfs "${PMF_CXL_PMEM_XFS#/dev/}" /mnt/cxl-xfs
	PMF_CXL_XFS=/mnt/cxl-xfs
}

setup_stack() {
	local t0=$SECONDS
	case "$PMF_STACK" in
	qemu)		setup_qemu ;;
	nfit_test)	setup_nfit_test ;;
	cxl)		setup_cxl ;;
	*)		echo "setup: unknown stack $PMF_STACK" >&2; return 1 ;;
	esac
	set | grep '^PMF_[A-Z0-9_]*=' | sed 's/^/export /' >"$PMF_OUT/targets.env"
	. "$PMF_OUT/targets.env"
	log "targets, up in $((SECONDS - t0)) s:"
	sed 's/^export /  /' "$PMF_OUT/targets.env"
}
