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
 * zero) and writes back at most that many bytes. The smallest @size accepted
 * is that of the struct's first published version (the ``*_SIZE_VER0``
 * constants), so binaries built before a field was appended keep working;
 * sizes above PMEMFLUSH_STRUCT_SIZE_MAX (4096, on every page size) are
 * refused without being read.
 *
 * Ioctl numbers are matched exactly: each command accepts the numbers that
 * have been published for it (PMEMFLUSH_FLUSH, and PMEMFLUSH_FLUSH_VER0 of
 * the 40-byte first version) and any other number, the same command with
 * other size or direction bits included, fails with ENOTTY. So a seccomp
 * filter or strace that knows the published numbers sees every call.
 *
 * A target is named by a file descriptor of the caller's, or by an id that
 * PMEMFLUSH_REGISTER returned on the same open /dev/pmemflush file (the
 * PMEMFLUSH_BY_ID flag of FLUSH and QUERY, with the id in @id, which shares
 * its place with @fd). The target must be open for
 * writing (or mapped shared and writable, for PMEMFLUSH_REGISTER by address):
 * holding it writable already lets the caller fsync() it, and a deep flush
 * persists no more than fsync() does, so /dev/pmemflush is world-usable and
 * checks nothing else.
 *
 * Ids belong to the open /dev/pmemflush file: every descriptor of it (dup(),
 * fork(), SCM_RIGHTS) sees the same ids, and its last close drops them all.
 * An id pins nothing that keeps a device from being disabled, removed,
 * renumbered or its driver unloaded: a region or disk that goes away and
 * comes back gets the number it would have got without pmemflush loaded.
 * While its device is gone an id answers ENXIO; an id of a device-dax device
 * whose device_dax driver is bound again works again (the same device:
 * unbinding kill_dax()es its dax_device, binding run_dax()es it), while an
 * id of a device that was removed and created again (a namespace disabled
 * and enabled, a region replaced) keeps answering ENXIO, even under the
 * same name: ids name devices, not numbers. An id of a file holds the file
 * as an open descriptor would: the file system stays busy for umount until
 * the id is unregistered or the /dev/pmemflush file closed;
 * /proc/PID/fdinfo of the /dev/pmemflush descriptor lists each id and its
 * target.
 *
 * Errors (besides those of a failing flush, below):
 *
 * - EFAULT: the struct could not be read or written.
 * - EINVAL: @size is shorter than the first version of the struct, @flags has
 *   unknown bits, a reserved field is not zero, or (REGISTER) an output
 *   field is not zero, a range is given without PMEMFLUSH_BY_ADDR, a zero
 *   @length or a non-zero @fd with it, or (REGISTER by address) the range
 *   spans mappings of different files or of one file at offsets that do not
 *   follow on. FLUSH and QUERY ignore what their output fields hold, so a
 *   struct may be passed again as it came back.
 * - E2BIG: @size is larger than the kernel's struct and the extra bytes are
 *   not zero, or @size is larger than PMEMFLUSH_STRUCT_SIZE_MAX.
 * - ENOTTY: not an ioctl number that was published for /dev/pmemflush.
 * - EBADF: the fd is not open, is an O_PATH fd, or is not open for writing.
 * - ENOENT: (PMEMFLUSH_BY_ID, UNREGISTER) no such id on this open file.
 * - ENODEV: no persistent memory region is behind the fd: not a device-dax
 *   device of an nd region, not a block device of a pmem namespace (raw,
 *   fsdax or BTT) or a partition of one, not a regular file on a filesystem
 *   on such a block device. Pipes, sockets, tmpfs, ordinary disks, dm/md
 *   stacks, hmem device-dax and CXL volatile-memory device-dax all get
 *   ENODEV (CXL persistent memory regions are nd regions, and work).
 * - EOPNOTSUPP: a regular file on persistent memory whose data goes through
 *   the page cache (the inode is not DAX), for which fsync() is the way to
 *   persist it; a file of an XFS realtime volume, whose data is not on the
 *   block device the filesystem names (checked on every FLUSH and QUERY: the
 *   owner may make an empty file realtime after REGISTER); REGISTER of a
 *   block device without DAX (raw namespace without struct pages, BTT),
 *   which cannot be registered without holding it open: flush it by fd.
 * - ENXIO: the device behind the fd or id was disabled (unbound or removed)
 *   since the fd was opened or the id registered, or a DAX file's disk is
 *   being torn down; a device-dax id answers again once device_dax is bound
 *   to its device again (see above).
 * - EOVERFLOW: @offset + @length (or @addr + @length) overflows.
 * - ERANGE: the range ends past the end of the target (the file's size, the
 *   block device's or partition's size, the device-dax device's size).
 * - ENOSPC: (REGISTER) the open file has PMEMFLUSH_MAX_IDS ids already.
 * - EFAULT, EACCES: (REGISTER by address) no shared writable file mapping
 *   covers [@addr, @addr + @length): EFAULT when some of it is not mapped,
 *   EACCES when the mapping is private, read-only or has no file
 *   (private anonymous memory). Shared anonymous memory and SysV shared
 *   memory are files on the kernel's internal tmpfs: ENODEV, as for tmpfs.
 * - ENOMEM: the kernel could not allocate what the command needs.
 *
 * Flushes: EIO when the device flush failed (virtio-pmem: the host reported
 * an error). A flush never returns EINTR to a live caller: a caller waiting
 * for a flush another caller started sleeps killably, and only a fatal
 * signal ends the wait.
 */

#define PMEMFLUSH_TYPE 0xF7

/* no command struct is read when its @size is larger than this */
#define PMEMFLUSH_STRUCT_SIZE_MAX	4096

enum {
	PMEMFLUSH_CMD_FLUSH = 0x00,
	PMEMFLUSH_CMD_QUERY = 0x01,
	PMEMFLUSH_CMD_REGISTER = 0x02,
	PMEMFLUSH_CMD_UNREGISTER = 0x03,
};

/* ids registered on one open /dev/pmemflush at a time */
#define PMEMFLUSH_MAX_IDS		4096

/* flags of FLUSH and QUERY: the target is @id, from PMEMFLUSH_REGISTER */
#define PMEMFLUSH_BY_ID			(1U << 0)

/* pmemflush_flush.out_flags */
#define PMEMFLUSH_FLUSHED_DEVICE	(1U << 0)

/**
 * struct pmemflush_flush - PMEMFLUSH_FLUSH
 * @size: sizeof(struct pmemflush_flush), at least PMEMFLUSH_FLUSH_SIZE_VER0
 * @flags: 0 or PMEMFLUSH_BY_ID
 * @fd: without PMEMFLUSH_BY_ID: the target file descriptor
 * @id: with PMEMFLUSH_BY_ID: the target's id (in @fd's place)
 * @__reserved: must be 0
 * @offset: start of the range within the target, in bytes
 * @length: length of the range in bytes; 0 is valid
 * @region_id: out: N of the nd region "regionN" that was flushed
 * @out_flags: out: PMEMFLUSH_FLUSHED_DEVICE when the region has a device
 *	flush mechanism (flush hints or an asynchronous flush, as on
 *	virtio-pmem) and it was run; clear when the region reports that the
 *	platform persists its writes without one (only barriers were issued)
 * @flush_seq: out (since version 1): sequence number, per region, of the
 *	device flush that served this call; it started after the call began.
 *	0 when the region has no device flush (PMEMFLUSH_FLUSHED_DEVICE clear:
 *	only barriers were issued, by this call)
 *
 * Flushes the write-pending queues of the persistent memory region behind
 * @fd (nvdimm_flush()), after checking that [@offset, @offset + @length) lies
 * within the target. Concurrent callers on one region share device flushes:
 * a call returns once a device flush that started after the call began has
 * completed (so at most about two flushes after it), and fails only when
 * every such flush failed. CPU caches are not touched: write the range back
 * first (CLWB/CLFLUSHOPT + SFENCE). Data a raw or BTT block device or a non-DAX
 * file holds in the page cache is not written back either; fsync() does that.
 *
 * Besides the errors above, returns EIO when the flush itself failed (for
 * virtio-pmem: the host reported an error) and ENOMEM.
 */
struct pmemflush_flush {
	__u32 size;
	__u32 flags;
	union {
		__s32 fd;
		__u32 id;
	};
	__u32 __reserved;
	__aligned_u64 offset;
	__aligned_u64 length;
	__u32 region_id;
	__u32 out_flags;
	__aligned_u64 flush_seq;
};

#define PMEMFLUSH_FLUSH_SIZE_VER0	40	/* up to @out_flags */

#define PMEMFLUSH_FLUSH _IOWR(PMEMFLUSH_TYPE, PMEMFLUSH_CMD_FLUSH, \
			      struct pmemflush_flush)
/* the number binaries built with the 40-byte first version use */
#define PMEMFLUSH_FLUSH_VER0 _IOC(_IOC_READ | _IOC_WRITE, PMEMFLUSH_TYPE, \
				  PMEMFLUSH_CMD_FLUSH, PMEMFLUSH_FLUSH_SIZE_VER0)

/**
 * DOC: Deep flush through io_uring
 *
 * /dev/pmemflush takes FLUSH as an io_uring command: IORING_OP_URING_CMD on
 * an fd of /dev/pmemflush (or its registered file, IOSQE_FIXED_FILE),
 * @cmd_op PMEMFLUSH_URING_CMD_FLUSH, and in the SQE's command area
 * (sqe->cmd) a struct pmemflush_flush as for the ioctl: @size, @flags, @fd
 * or @id, @offset, @length, read once at submission. The command area of a
 * 64-byte SQE is 16 bytes, too small for the struct, so the ring must be set
 * up with IORING_SETUP_SQE128 (80 bytes); from a ring without it the command
 * completes with EMSGSIZE. @size may be up to 80, with the tail past the
 * kernel's struct zero (else E2BIG). Ids are those of the /dev/pmemflush
 * file the SQE names; an @fd is looked up in the submitting task's file
 * table when the command is issued, as an ioctl's.
 *
 * The CQE's @res is 0 or the ioctl's negative errno, the same table, plus:
 * EMSGSIZE (a 64-byte SQE), ENOTTY (another @cmd_op), EOPNOTSUPP (an
 * IORING_SETUP_IOPOLL ring) and, on kernels that let io_uring cancel a
 * command (6.7 and later), ECANCELED for a command still waiting when its
 * ring or task went away. The outputs of the struct are not written back;
 * a ring set up with IORING_SETUP_CQE32 gets @flush_seq in the CQE's first
 * extra word (big_cqe[0]), 0 when the region has no device flush.
 *
 * A region without a device flush completes the command when it is issued,
 * barriers only. On a region with one (flush hints, virtio-pmem) the command
 * is queued and completes later, without blocking the submitter: the same
 * group commit as the ioctl serves both, so a command completes once a
 * device flush that started after its submission has completed, shared with
 * every command and ioctl pending on the region at that time. A target
 * disabled while its command waits completes it with ENXIO.
 *
 * Ordering: the device flush may run on another CPU, in the kernel's worker
 * or io_uring's SQPOLL thread, so the caller writes its range back
 * (CLWB/CLFLUSHOPT) and fences (SFENCE) before it publishes the SQE. On x86
 * that is enough: SFENCE completes the write-backs before any later store,
 * among them the store of the SQ tail that makes the SQE visible to the
 * kernel, so every flush that reads the SQE starts after the lines reached
 * the memory controller.
 */
#define PMEMFLUSH_URING_CMD_FLUSH _IOWR(PMEMFLUSH_TYPE, 0x80, \
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
#define PMEMFLUSH_REGION_CXL		(1U << 2)

/**
 * struct pmemflush_query - PMEMFLUSH_QUERY
 * @size: sizeof(struct pmemflush_query), at least PMEMFLUSH_QUERY_SIZE_VER0
 * @flags: 0 or PMEMFLUSH_BY_ID
 * @fd: without PMEMFLUSH_BY_ID: the target file descriptor
 * @id: with PMEMFLUSH_BY_ID: the target's id (in @fd's place)
 * @__reserved: must be 0
 * @region_id: out: N of the nd region "regionN" behind the target
 * @has_flush: out: nvdimm_has_flush(): 1 when the region needs device
 *	flushes, 0 when the platform persists without them, -ENXIO when the
 *	region cannot tell (no DIMM mappings, e.g. virtio-pmem)
 * @persistence_domain: out: enum pmemflush_persistence_domain
 * @target_kind: out: enum pmemflush_target_kind
 * @out_flags: out: PMEMFLUSH_REGION_ASYNC when flushes are asynchronous
 *	round trips to a host (virtio-pmem); PMEMFLUSH_DAX_SYNC when a DAX
 *	mapping of the target accepts MAP_SYNC (device-dax always does, even on
 *	an asynchronous region, where only PMEMFLUSH_FLUSH makes data durable);
 *	PMEMFLUSH_REGION_CXL when the region is CXL persistent memory (its nd
 *	bus provider is "CXL"): no flush hints and no flush callback, the
 *	platform's Global Persistent Flush covers power loss, so @has_flush is
 *	0 and a FLUSH issues only barriers
 * @__reserved2: 0
 * @target_size: out: size of the target in bytes, the bound FLUSH checks
 *
 * Describes the target without flushing. Returns the errors above except
 * EOVERFLOW and ERANGE.
 */
struct pmemflush_query {
	__u32 size;
	__u32 flags;
	union {
		__s32 fd;
		__u32 id;
	};
	__u32 __reserved;
	__u32 region_id;
	__s32 has_flush;
	__u32 persistence_domain;
	__u32 target_kind;
	__u32 out_flags;
	__u32 __reserved2;
	__aligned_u64 target_size;
};

#define PMEMFLUSH_QUERY_SIZE_VER0	48

#define PMEMFLUSH_QUERY _IOWR(PMEMFLUSH_TYPE, PMEMFLUSH_CMD_QUERY, \
			      struct pmemflush_query)

/* pmemflush_register.flags: name the target by @addr and @length */
#define PMEMFLUSH_BY_ADDR		(1U << 0)

/**
 * struct pmemflush_register - PMEMFLUSH_REGISTER
 * @size: sizeof(struct pmemflush_register)
 * @flags: 0 or PMEMFLUSH_BY_ADDR
 * @fd: the target file descriptor; 0 with PMEMFLUSH_BY_ADDR
 * @id: out: the id, from 1 to PMEMFLUSH_MAX_IDS
 * @addr: with PMEMFLUSH_BY_ADDR: start of a range of the caller's address
 *	space that shared, writable mappings of the target cover: one, or
 *	several adjacent ones of the same file at contiguous offsets (as
 *	mprotect() or madvise() of part of one mapping leaves); a tagged
 *	address is untagged first
 * @length: with PMEMFLUSH_BY_ADDR: length of that range, at least 1
 * @offset: out: with PMEMFLUSH_BY_ADDR, the offset in the target that @addr
 *	maps; 0 otherwise
 *
 * Resolves the target once and returns an id for FLUSH and QUERY with
 * PMEMFLUSH_BY_ID, which then skip the resolution. Device-dax devices, DAX
 * files and DAX-capable pmem block devices can be registered. The address
 * form lets a holder of a mapping register it without holding an fd; the id
 * then names the mapped file, not the mapping, and outlives munmap(). A
 * REGISTER that cannot write the struct back fails with EFAULT and keeps
 * no id.
 */
struct pmemflush_register {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 id;
	__aligned_u64 addr;
	__aligned_u64 length;
	__aligned_u64 offset;
};

#define PMEMFLUSH_REGISTER_SIZE_VER0	40

#define PMEMFLUSH_REGISTER _IOWR(PMEMFLUSH_TYPE, PMEMFLUSH_CMD_REGISTER, \
				 struct pmemflush_register)

/**
 * struct pmemflush_unregister - PMEMFLUSH_UNREGISTER
 * @size: sizeof(struct pmemflush_unregister)
 * @flags: must be 0
 * @id: the id to drop; calls already using it finish with it
 * @__reserved: must be 0
 */
struct pmemflush_unregister {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
};

#define PMEMFLUSH_UNREGISTER_SIZE_VER0	16

#define PMEMFLUSH_UNREGISTER _IOWR(PMEMFLUSH_TYPE, PMEMFLUSH_CMD_UNREGISTER, \
				   struct pmemflush_unregister)

#endif /* _UAPI_LINUX_PMEMFLUSH_H */
