/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pmemflush: deep flush of persistent memory through /dev/pmemflush.
 */
#ifndef _UAPI_LINUX_PMEMFLUSH_H
#define _UAPI_LINUX_PMEMFLUSH_H

#include <linux/types.h>
#include <linux/ioctl.h>

/**
 * DOC: General ioctl format
 *
 * Every command takes one struct that begins with ``__u32 size; __u32 flags``.
 * @size is the size of the struct userspace was built with: the kernel reads
 * that many bytes, treats the tail it does not know as reserved (it must be
 * zero) and writes back at most that many bytes. Old binaries keep working on
 * new modules and the other way round. A command is identified by its number
 * alone; the size encoded in the ioctl number is not used.
 *
 * A command names its target by a file descriptor of the caller's. The target
 * must be open for writing: holding it writable already lets the caller
 * fsync() it, and a deep flush persists no more than fsync() does, so
 * /dev/pmemflush is world-usable and checks nothing else.
 *
 * Errors (besides those of a failing flush, below):
 *
 * - EFAULT: the struct could not be read or written.
 * - EINVAL: @size is shorter than the first version of the struct, @flags has
 *   unknown bits, or a reserved field is not zero.
 * - E2BIG: @size is larger than the kernel's struct and the extra bytes are
 *   not zero.
 * - EBADF: the fd is not open, is an O_PATH fd, or is not open for writing.
 * - ENODEV: no persistent memory region is behind the fd: not a device-dax
 *   device of an nd region, not a block device of a pmem namespace (raw,
 *   fsdax or BTT) or a partition of one, not a regular file on a filesystem
 *   on such a block device. Pipes, sockets, tmpfs, ordinary disks, dm/md
 *   stacks and hmem/CXL device-dax all get ENODEV.
 * - EOPNOTSUPP: a regular file on persistent memory whose data goes through
 *   the page cache (the inode is not DAX); fsync() is the way to persist it.
 * - ENXIO: the device behind the fd was disabled (unbound or removed) since
 *   the fd was opened.
 * - EOVERFLOW: @offset + @length overflows.
 * - ERANGE: the range ends past the end of the target (the file's size, the
 *   block device's or partition's size, the device-dax device's size).
 */

#define PMEMFLUSH_TYPE 0xF7

enum {
	PMEMFLUSH_CMD_FLUSH = 0x00,
	PMEMFLUSH_CMD_QUERY = 0x01,
};

/* pmemflush_flush.out_flags */
#define PMEMFLUSH_FLUSHED_DEVICE	(1U << 0)

/**
 * struct pmemflush_flush - PMEMFLUSH_FLUSH
 * @size: sizeof(struct pmemflush_flush)
 * @flags: must be 0
 * @fd: the target file descriptor
 * @__reserved: must be 0
 * @offset: start of the range within the target, in bytes
 * @length: length of the range in bytes; 0 is valid
 * @region_id: out: N of the nd region "regionN" that was flushed
 * @out_flags: out: PMEMFLUSH_FLUSHED_DEVICE when the region has a device
 *	flush mechanism (flush hints or an asynchronous flush, as on
 *	virtio-pmem) and it was run; clear when the region reports that the
 *	platform persists its writes without one (only barriers were issued)
 *
 * Flushes the write-pending queues of the persistent memory region behind
 * @fd (nvdimm_flush()), after checking that [@offset, @offset + @length) lies
 * within the target. CPU caches are not touched: write the range back first
 * (CLWB/CLFLUSHOPT + SFENCE). Data a raw or BTT block device or a non-DAX
 * file holds in the page cache is not written back either; fsync() does that.
 *
 * Besides the errors above, returns EIO when the flush itself failed (for
 * virtio-pmem: the host reported an error) and ENOMEM.
 */
struct pmemflush_flush {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 __reserved;
	__aligned_u64 offset;
	__aligned_u64 length;
	__u32 region_id;
	__u32 out_flags;
};

#define PMEMFLUSH_FLUSH _IOWR(PMEMFLUSH_TYPE, PMEMFLUSH_CMD_FLUSH, \
			      struct pmemflush_flush)

/* pmemflush_query.persistence_domain, as the region's sysfs attribute says */
enum pmemflush_persistence_domain {
	PMEMFLUSH_PERSIST_UNKNOWN = 0,
	PMEMFLUSH_PERSIST_MEMORY_CONTROLLER = 1,	/* ADR */
	PMEMFLUSH_PERSIST_CPU_CACHE = 2,		/* eADR */
};

/* pmemflush_query.target_kind */
enum pmemflush_target_kind {
	PMEMFLUSH_TARGET_DEVDAX = 1,	/* /dev/daxR.N */
	PMEMFLUSH_TARGET_FSDAX_FILE = 2,	/* DAX file on ext4/xfs */
	PMEMFLUSH_TARGET_BLOCK = 3,	/* /dev/pmemN, a partition of it */
	PMEMFLUSH_TARGET_BTT = 4,	/* /dev/pmemNs (sector mode) */
};

/* pmemflush_query.out_flags */
#define PMEMFLUSH_REGION_ASYNC		(1U << 0)
#define PMEMFLUSH_DAX_SYNC		(1U << 1)

/**
 * struct pmemflush_query - PMEMFLUSH_QUERY
 * @size: sizeof(struct pmemflush_query)
 * @flags: must be 0
 * @fd: the target file descriptor
 * @__reserved: must be 0
 * @region_id: out: N of the nd region "regionN" behind @fd
 * @has_flush: out: nvdimm_has_flush(): 1 when the region needs device
 *	flushes, 0 when the platform persists without them, -ENXIO when the
 *	region cannot tell (no DIMM mappings, e.g. virtio-pmem)
 * @persistence_domain: out: enum pmemflush_persistence_domain
 * @target_kind: out: enum pmemflush_target_kind
 * @out_flags: out: PMEMFLUSH_REGION_ASYNC when flushes are asynchronous
 *	round trips to a host (virtio-pmem); PMEMFLUSH_DAX_SYNC when a DAX
 *	mapping of the target accepts MAP_SYNC (device-dax always does, even on
 *	an asynchronous region, where only PMEMFLUSH_FLUSH makes data durable)
 * @__reserved2: 0
 * @target_size: out: size of the target in bytes, the bound FLUSH checks
 *
 * Describes the target without flushing. Returns the errors above except
 * EOVERFLOW and ERANGE.
 */
struct pmemflush_query {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 __reserved;
	__u32 region_id;
	__s32 has_flush;
	__u32 persistence_domain;
	__u32 target_kind;
	__u32 out_flags;
	__u32 __reserved2;
	__aligned_u64 target_size;
};

#define PMEMFLUSH_QUERY _IOWR(PMEMFLUSH_TYPE, PMEMFLUSH_CMD_QUERY, \
			      struct pmemflush_query)

#endif /* _UAPI_LINUX_PMEMFLUSH_H */
