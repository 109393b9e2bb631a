/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpmemflush: map persistent memory and deep-flush it.
 *
 * Two APIs:
 *
 * - libpmem2's whole Linux API (sources, configs, maps, reservations,
 *   memory functions, bad blocks, errors) with its names, signatures, enum
 *   values and PMEM2_E_* values: a program written for libpmem2 builds
 *   against this header by changing only the #include and -lpmem2 to
 *   -lpmemflush. Do not include both headers.
 * - Native pmemflush_* calls for drivers and appliances that do their own CPU
 *   cache flushing and only need the device flush of a range: of an fd, or
 *   of a target registered once and flushed by handle (since 1.1).
 *
 * Every int-returning call returns 0 on success, or a negative error: one of
 * the PMEM2_E_* codes below or -errno. After a failure pmem2_errormsg()
 * describes it (the message is per thread). The calls are thread-safe; a map,
 * config or source must not be deleted while another thread uses it.
 * See libpmemflush(7) and pmem2_deep_flush(3).
 */
#ifndef LIBPMEMFLUSH_H
#define LIBPMEMFLUSH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PMEM2_E_UNKNOWN				(-100000)
#define PMEM2_E_NOSUPP				(-100001)
#define PMEM2_E_FILE_HANDLE_NOT_SET		(-100003)
#define PMEM2_E_INVALID_FILE_HANDLE		(-100004)
#define PMEM2_E_INVALID_FILE_TYPE		(-100005)
#define PMEM2_E_MAP_RANGE			(-100006)
#define PMEM2_E_MAPPING_EXISTS			(-100007)
#define PMEM2_E_GRANULARITY_NOT_SET		(-100008)
#define PMEM2_E_GRANULARITY_NOT_SUPPORTED	(-100009)
#define PMEM2_E_OFFSET_OUT_OF_RANGE		(-100010)
#define PMEM2_E_OFFSET_UNALIGNED		(-100011)
#define PMEM2_E_INVALID_ALIGNMENT_FORMAT	(-100012)
#define PMEM2_E_INVALID_ALIGNMENT_VALUE		(-100013)
#define PMEM2_E_INVALID_SIZE_FORMAT		(-100014)
#define PMEM2_E_LENGTH_UNALIGNED		(-100015)
#define PMEM2_E_MAPPING_NOT_FOUND		(-100016)
#define PMEM2_E_BUFFER_TOO_SMALL		(-100017)
#define PMEM2_E_SOURCE_EMPTY			(-100018)
#define PMEM2_E_INVALID_SHARING_VALUE		(-100019)
#define PMEM2_E_SRC_DEVDAX_PRIVATE		(-100020)
#define PMEM2_E_INVALID_ADDRESS_REQUEST_TYPE	(-100021)
#define PMEM2_E_ADDRESS_UNALIGNED		(-100022)
#define PMEM2_E_ADDRESS_NULL			(-100023)
#define PMEM2_E_DEEP_FLUSH_RANGE		(-100024)
#define PMEM2_E_INVALID_REGION_FORMAT		(-100025)
#define PMEM2_E_DAX_REGION_NOT_FOUND		(-100026)
#define PMEM2_E_INVALID_DEV_FORMAT		(-100027)
#define PMEM2_E_CANNOT_READ_BOUNDS		(-100028)
#define PMEM2_E_NO_BAD_BLOCK_FOUND		(-100029)
#define PMEM2_E_LENGTH_OUT_OF_RANGE		(-100030)
#define PMEM2_E_INVALID_PROT_FLAG		(-100031)
#define PMEM2_E_NO_ACCESS			(-100032)
#define PMEM2_E_VM_RESERVATION_NOT_EMPTY	(-100033)
#define PMEM2_E_MAP_EXISTS			(-100034)
#define PMEM2_E_FILE_DESCRIPTOR_NOT_SET		(-100035)
#define PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED	(-100036)
#define PMEM2_E_IO_FAIL				(-100037)

/* source setup */

struct pmem2_source;

/*
 * pmem2_source_from_fd - describe the file open as @fd (not duplicated: keep
 * it open until every map made from the source is deleted).
 * Regular files and device-dax character devices are supported.
 * Errors: PMEM2_E_INVALID_FILE_HANDLE (fd < 0, not open, or open O_WRONLY),
 * PMEM2_E_INVALID_FILE_TYPE (directory, block device, FIFO, socket, a
 * character device that is not device-dax), -errno (fstat, the sysfs lookup
 * of a character device, -ENOMEM).
 */
int pmem2_source_from_fd(struct pmem2_source **src, int fd);

/* pmem2_source_delete - free *@src (NULL is fine) and set *@src to NULL; 0 */
int pmem2_source_delete(struct pmem2_source **src);

/* config setup */

struct pmem2_config;

/*
 * pmem2_config_new - a config with offset 0, length 0 (to the end of the
 * source) and no required granularity yet. Errors: -ENOMEM.
 */
int pmem2_config_new(struct pmem2_config **cfg);

/* pmem2_config_delete - free *@cfg (NULL is fine), set it to NULL; 0 */
int pmem2_config_delete(struct pmem2_config **cfg);

enum pmem2_granularity {
	PMEM2_GRANULARITY_BYTE,
	PMEM2_GRANULARITY_CACHE_LINE,
	PMEM2_GRANULARITY_PAGE,
};

/*
 * pmem2_config_set_required_store_granularity - the coarsest granularity the
 * program accepts; pmem2_map_new() fails when the mapping cannot offer it.
 * Errors: PMEM2_E_GRANULARITY_NOT_SUPPORTED (@g is not one of the enum).
 */
int pmem2_config_set_required_store_granularity(struct pmem2_config *cfg,
	enum pmem2_granularity g);

/*
 * pmem2_config_set_offset - where the mapping starts in the source; must be a
 * multiple of the source's alignment (checked by pmem2_map_new()).
 * Errors: PMEM2_E_OFFSET_OUT_OF_RANGE (@offset > INT64_MAX).
 */
int pmem2_config_set_offset(struct pmem2_config *cfg, size_t offset);

/*
 * pmem2_config_set_length - length of the mapping, 0 for "to the end of the
 * source"; a multiple of the source's alignment (checked by pmem2_map_new()).
 * Always 0.
 */
int pmem2_config_set_length(struct pmem2_config *cfg, size_t length);

/* mapping */

struct pmem2_map;

/*
 * pmem2_map_new - map the source as @cfg says (shared and read-write
 * unless pmem2_config_set_sharing/_protection said otherwise), and
 * decide the store granularity (BYTE, CACHE_LINE or PAGE, see
 * libpmemflush(7)) and how pmem2_deep_flush() reaches the device.
 * Errors: PMEM2_E_GRANULARITY_NOT_SET, PMEM2_E_GRANULARITY_NOT_SUPPORTED
 * (the mapping offers only a coarser granularity than required),
 * PMEM2_E_SOURCE_EMPTY, PMEM2_E_OFFSET_UNALIGNED, PMEM2_E_LENGTH_UNALIGNED,
 * PMEM2_E_MAP_RANGE (the range does not fit the source or overflows),
 * PMEM2_E_INVALID_SIZE_FORMAT, PMEM2_E_INVALID_ALIGNMENT_FORMAT,
 * PMEM2_E_INVALID_ALIGNMENT_VALUE (device-dax sysfs size or align
 * unparsable), PMEM2_E_NO_ACCESS (mmap(2) EACCES: fd not open for writing),
 * PMEM2_E_INVALID_FILE_HANDLE (the source's fd was closed),
 * PMEM2_E_NOSUPP (device-dax of a virtio-pmem region without the module:
 * nothing could make its stores durable), PMEM2_E_DAX_REGION_NOT_FOUND (the
 * device went away while the map was registered), -errno (mmap(2), sysfs
 * reads, the REGISTER ioctl, -ENOMEM). With a reservation or sharing:
 * PMEM2_E_SRC_DEVDAX_PRIVATE, PMEM2_E_LENGTH_OUT_OF_RANGE (does not fit
 * the reservation), PMEM2_E_ADDRESS_UNALIGNED (reservation address +
 * offset not a multiple of the source's alignment), PMEM2_E_MAPPING_EXISTS
 * (that part of the reservation is taken), PMEM2_E_MAP_EXISTS (the range
 * is already a map). No fd of the caller's is kept: the
 * source's fd may be closed once the map exists.
 */
int pmem2_map_new(struct pmem2_map **map_ptr, const struct pmem2_config *cfg,
	const struct pmem2_source *src);

/* pmem2_map_delete - unmap and free *@map_ptr, set it to NULL. -errno of munmap(2) */
int pmem2_map_delete(struct pmem2_map **map_ptr);

/* Address, length and effective store granularity of a map. */
void *pmem2_map_get_address(struct pmem2_map *map);
size_t pmem2_map_get_size(struct pmem2_map *map);
enum pmem2_granularity pmem2_map_get_store_granularity(struct pmem2_map *map);

/* flushing */

typedef void (*pmem2_persist_fn)(const void *ptr, size_t size);
typedef void (*pmem2_flush_fn)(const void *ptr, size_t size);
typedef void (*pmem2_drain_fn)(void);

/*
 * The map's persist, flush and drain functions, chosen once when the map was
 * made. CACHE_LINE: CLWB, CLFLUSHOPT or CLFLUSH of the lines covering the
 * range and SFENCE (64-bit POWER: dcbstps and phwsync on ISA 3.1, dcbf and
 * hwsync before it). BYTE: the fence only. PAGE: flush and persist each make the
 * part of the range inside any map durable (drain does nothing): msync(2) of
 * its pages for a file; for device-dax on an asynchronous region
 * (virtio-pmem), the CPU's write-back and the region's flush. The process
 * aborts if that fails, as in libpmem2: there is no way to report it and
 * going on would lose data.
 */
pmem2_persist_fn pmem2_get_persist_fn(struct pmem2_map *map);
pmem2_flush_fn pmem2_get_flush_fn(struct pmem2_map *map);
pmem2_drain_fn pmem2_get_drain_fn(struct pmem2_map *map);

/*
 * pmem2_deep_flush - make [ptr, ptr + size) of @map durable in the most
 * reliable persistence domain software can reach (the DIMMs' write-pending
 * queue flush, or the host for virtio-pmem), without relying on ADR or eADR:
 * at every granularity the CPU caches of the range are written back first.
 * A file mapped without MAP_SYNC is msync(2)ed (its metadata must be written
 * too). A region whose flush is only a barrier (no flush hints, synchronous)
 * needs no system call; a region with a device flush is flushed through the
 * pmemflush module, by the id the map was registered under.
 * Errors: PMEM2_E_DEEP_FLUSH_RANGE (not within the map, or the module says
 * the range is past the end of the target), PMEM2_E_DAX_REGION_NOT_FOUND
 * (no nd region behind a device-dax map, or the device was disabled),
 * -errno of the failing open(2), read(2) or write(2) of the region's sysfs
 * deep_flush file (without the module), of msync(2), or of the FLUSH ioctl
 * (-EIO: the device flush failed). See pmem2_deep_flush(3).
 */
int pmem2_deep_flush(struct pmem2_map *map, void *ptr, size_t size);

/* error handling */

/* The last error message of the calling thread ("" when none yet). */
const char *pmem2_errormsg(void);

/*
 * pmem2_err_to_errno - the errno closest to an error this library returned:
 * -err for -errno values, ENOTSUP for PMEM2_E_NOSUPP, EINVAL for the other
 * PMEM2_E_* codes and for positive values (not errors of this library).
 */
int pmem2_err_to_errno(int err);

/* pmem2_perror - print "<formatted>: <pmem2_errormsg()>" to stderr. */
void pmem2_perror(const char *format, ...)
	__attribute__((__format__(__printf__, 1, 2)));

/*
 * The rest of libpmem2's Linux API (since 1.2, symbol version
 * LIBPMEMFLUSH_1.2): libpmem2's names, signatures and values.
 */

/* sources */

/* pmem2_source_from_anon - a source of @size bytes of anonymous memory */
int pmem2_source_from_anon(struct pmem2_source **src, size_t size);
/* pmem2_source_get_fd - the fd the source was made from (not a copy) */
int pmem2_source_get_fd(const struct pmem2_source *src, int *fd);
/* pmem2_source_size - bytes a map of the source can cover */
int pmem2_source_size(const struct pmem2_source *src, size_t *size);
/* pmem2_source_alignment - the alignment of a map's offset and length */
int pmem2_source_alignment(const struct pmem2_source *src, size_t *alignment);
/*
 * pmem2_source_device_id - an id of the device(s) behind the source, a
 * string of at most *@len bytes with the NUL; @id NULL: *@len gets the size
 */
int pmem2_source_device_id(const struct pmem2_source *src, char *id,
	size_t *len);
/*
 * pmem2_source_device_usc - the unsafe shutdown count: the sum over the
 * DIMMs behind the source's region
 */
int pmem2_source_device_usc(const struct pmem2_source *src, uint64_t *usc);
/* pmem2_source_numa_node - the NUMA node of the region behind the source */
int pmem2_source_numa_node(const struct pmem2_source *src, int *numa_node);
/*
 * pmem2_source_pread_mcsafe/pwrite_mcsafe - read or write through the
 * kernel, which survives a machine check on the medium
 * (PMEM2_E_IO_FAIL: a bad block)
 */
int pmem2_source_pread_mcsafe(struct pmem2_source *src, void *buf, size_t size,
	size_t offset);
int pmem2_source_pwrite_mcsafe(struct pmem2_source *src, void *buf,
	size_t size, size_t offset);

/* config */

enum pmem2_sharing_type {
	PMEM2_SHARED,
	PMEM2_PRIVATE,
};

/* pmem2_config_set_sharing - PMEM2_SHARED (default) or copy-on-write */
int pmem2_config_set_sharing(struct pmem2_config *cfg,
	enum pmem2_sharing_type type);

#define PMEM2_PROT_EXEC		(1U << 29)
#define PMEM2_PROT_READ		(1U << 30)
#define PMEM2_PROT_WRITE	(1U << 31)
#define PMEM2_PROT_NONE		0

/* pmem2_config_set_protection - PMEM2_PROT_* (default READ | WRITE) */
int pmem2_config_set_protection(struct pmem2_config *cfg, unsigned prot);

/* virtual memory reservations */

struct pmem2_vm_reservation;

/*
 * pmem2_config_set_vm_reservation - map at @offset inside @rsv (NULL: no
 * reservation)
 */
int pmem2_config_set_vm_reservation(struct pmem2_config *cfg,
	struct pmem2_vm_reservation *rsv, size_t offset);

/* pmem2_vm_reservation_new - reserve @size bytes at @addr (NULL: anywhere) */
int pmem2_vm_reservation_new(struct pmem2_vm_reservation **rsv_ptr,
	void *addr, size_t size);
/* PMEM2_E_VM_RESERVATION_NOT_EMPTY while a map lives in it */
int pmem2_vm_reservation_delete(struct pmem2_vm_reservation **rsv_ptr);
void *pmem2_vm_reservation_get_address(struct pmem2_vm_reservation *rsv);
size_t pmem2_vm_reservation_get_size(struct pmem2_vm_reservation *rsv);
/* grow the reservation by @size bytes at its end */
int pmem2_vm_reservation_extend(struct pmem2_vm_reservation *rsv, size_t size);
/* release [@offset, @offset + @size), which must be at one of its ends */
int pmem2_vm_reservation_shrink(struct pmem2_vm_reservation *rsv,
	size_t offset, size_t size);
/* the first map overlapping [@reserv_offset, @reserv_offset + @len) */
int pmem2_vm_reservation_map_find(struct pmem2_vm_reservation *rsv,
	size_t reserv_offset, size_t len, struct pmem2_map **map);
int pmem2_vm_reservation_map_find_prev(struct pmem2_vm_reservation *rsv,
	struct pmem2_map *map, struct pmem2_map **prev_map);
int pmem2_vm_reservation_map_find_next(struct pmem2_vm_reservation *rsv,
	struct pmem2_map *map, struct pmem2_map **next_map);
int pmem2_vm_reservation_map_find_first(struct pmem2_vm_reservation *rsv,
	struct pmem2_map **map);
int pmem2_vm_reservation_map_find_last(struct pmem2_vm_reservation *rsv,
	struct pmem2_map **map);

/*
 * pmem2_map_from_existing - a map object for memory the caller mapped
 * itself; pmem2_map_delete() of it does not unmap
 */
int pmem2_map_from_existing(struct pmem2_map **map,
	const struct pmem2_source *src, void *addr, size_t len,
	enum pmem2_granularity gran);

/* memory functions: copy/set and make durable at the map's granularity */

#define PMEM2_F_MEM_NODRAIN	(1U << 0)	/* no fence at the end */
#define PMEM2_F_MEM_NONTEMPORAL	(1U << 1)	/* non-temporal stores */
#define PMEM2_F_MEM_TEMPORAL	(1U << 2)	/* temporal stores */
#define PMEM2_F_MEM_WC		(1U << 3)	/* as NONTEMPORAL */
#define PMEM2_F_MEM_WB		(1U << 4)	/* as TEMPORAL */
#define PMEM2_F_MEM_NOFLUSH	(1U << 5)	/* neither flush nor fence */

#define PMEM2_F_MEM_VALID_FLAGS (PMEM2_F_MEM_NODRAIN | \
		PMEM2_F_MEM_NONTEMPORAL | \
		PMEM2_F_MEM_TEMPORAL | \
		PMEM2_F_MEM_WC | \
		PMEM2_F_MEM_WB | \
		PMEM2_F_MEM_NOFLUSH)

typedef void *(*pmem2_memmove_fn)(void *pmemdest, const void *src, size_t len,
	unsigned flags);
typedef void *(*pmem2_memcpy_fn)(void *pmemdest, const void *src, size_t len,
	unsigned flags);
typedef void *(*pmem2_memset_fn)(void *pmemdest, int c, size_t len,
	unsigned flags);

pmem2_memmove_fn pmem2_get_memmove_fn(struct pmem2_map *map);
pmem2_memcpy_fn pmem2_get_memcpy_fn(struct pmem2_map *map);
pmem2_memset_fn pmem2_get_memset_fn(struct pmem2_map *map);

/* bad blocks */

struct pmem2_badblock_context;

/* offset and length in bytes, relative to the source */
struct pmem2_badblock {
	size_t offset;
	size_t length;
};

int pmem2_badblock_context_new(struct pmem2_badblock_context **bbctx,
	const struct pmem2_source *src);
/* the next bad block; PMEM2_E_NO_BAD_BLOCK_FOUND after the last */
int pmem2_badblock_next(struct pmem2_badblock_context *bbctx,
	struct pmem2_badblock *bb);
void pmem2_badblock_context_delete(struct pmem2_badblock_context **bbctx);
/* clear @bb, as returned by pmem2_badblock_next(), on the medium */
int pmem2_badblock_clear(struct pmem2_badblock_context *bbctx,
	const struct pmem2_badblock *bb);

/* native API */

/* struct pmemflush_info.persistence_domain */
#define PMEMFLUSH_INFO_PERSIST_UNKNOWN			0
#define PMEMFLUSH_INFO_PERSIST_MEMORY_CONTROLLER	1	/* ADR */
#define PMEMFLUSH_INFO_PERSIST_CPU_CACHE		2	/* eADR */

/* struct pmemflush_info.target_kind */
#define PMEMFLUSH_INFO_DEVDAX		1	/* /dev/daxR.N */
#define PMEMFLUSH_INFO_FSDAX_FILE	2	/* DAX file on ext4/xfs */
#define PMEMFLUSH_INFO_BLOCK		3	/* /dev/pmemN or a partition */
#define PMEMFLUSH_INFO_BTT		4	/* /dev/pmemNs */

/* struct pmemflush_info.flags */
#define PMEMFLUSH_INFO_REGION_ASYNC	(1U << 0)	/* virtio-pmem */
#define PMEMFLUSH_INFO_DAX_SYNC		(1U << 1)	/* MAP_SYNC accepted */
#define PMEMFLUSH_INFO_REGION_CXL	(1U << 2)	/* CXL persistent memory */

/* What is behind an fd; the reserved fields are zero. */
struct pmemflush_info {
	uint32_t region_id;		/* N of regionN */
	int32_t has_flush;		/* 1, 0, or -ENXIO (cannot tell) */
	uint32_t persistence_domain;	/* PMEMFLUSH_INFO_PERSIST_* */
	uint32_t target_kind;		/* PMEMFLUSH_INFO_* kind */
	uint32_t flags;			/* PMEMFLUSH_INFO_REGION_* and _DAX_SYNC */
	uint32_t reserved0;
	uint64_t target_size;		/* bytes; the bound of a deep flush */
	uint64_t reserved[4];
};

/*
 * pmemflush_fd_deep_flush - run the device flush of the persistent memory
 * region behind @fd (open for writing) after checking that [@offset,
 * @offset + @length) lies within the target. CPU caches are the caller's job
 * (write the range back first); page-cache data of a non-DAX file or a BTT
 * device is fsync's. @flags must be 0. Needs the pmemflush module.
 * Errors: -EINVAL (@flags), PMEM2_E_DAX_REGION_NOT_FOUND (no nd region
 * behind @fd, or the device was disabled since @fd was opened),
 * PMEM2_E_DEEP_FLUSH_RANGE (range past the end of the target, or
 * overflowing), -EOPNOTSUPP (a non-DAX file: use fsync(2)), -EBADF (@fd not
 * open for writing), -EIO (the flush failed), -errno of opening
 * /dev/pmemflush (-ENOENT: module not loaded) or -ENODEV when that node is not
 * the pmemflush misc device.
 */
int pmemflush_fd_deep_flush(int fd, uint64_t offset, uint64_t length,
	unsigned int flags);

/*
 * pmemflush_fd_query - describe the persistent memory behind @fd (open for
 * writing) into @info. Needs the pmemflush module.
 * Errors: -EINVAL (@info NULL), the errors of pmemflush_fd_deep_flush()
 * except the range and flush failures.
 */
int pmemflush_fd_query(int fd, struct pmemflush_info *info);

/*
 * Registered targets (since LIBPMEMFLUSH_1.1): the module resolves the
 * target once, and each flush by handle skips that work. A handle keeps no
 * fd of the caller's; a handle registered by range names the mapped file
 * and stays valid after munmap() or close() of the caller's fd. In a child
 * after fork() the first use registers again (the same range must still be
 * mapped, or the same fd still open on the same file), since the parent's
 * ids are not the child's to use. Handles need the pmemflush module.
 */
struct pmemflush_handle;

/*
 * pmemflush_register_fd - register the device-dax device, DAX file or DAX
 * pmem block device open as @fd (for writing). @flags must be 0.
 * Errors: -EBADF (@fd), -EINVAL (@flags), -EOPNOTSUPP (not DAX: a page-cache
 * file, a raw namespace without struct pages, BTT: flush by fd instead),
 * -ENOSPC (no id left), PMEM2_E_DAX_REGION_NOT_FOUND, -ENOENT (no module),
 * -ENOMEM.
 */
int pmemflush_register_fd(struct pmemflush_handle **handle, int fd,
	unsigned int flags);

/*
 * pmemflush_register_range - register the target mapped shared and writable
 * at [@addr, @addr + @length); *@offset (if not NULL) is the offset in the
 * target that @addr maps. @flags must be 0.
 * Errors: those of pmemflush_register_fd(), -EINVAL (empty range), -EFAULT
 * (part of the range is not mapped), -EACCES (the mapping is private,
 * read-only or anonymous).
 */
int pmemflush_register_range(struct pmemflush_handle **handle,
	const void *addr, size_t length, uint64_t *offset, unsigned int flags);

/*
 * pmemflush_handle_deep_flush - the device flush of [@offset, @offset +
 * @length) of the registered target, as pmemflush_fd_deep_flush() does
 * (CPU caches are the caller's job). It always reaches the kernel.
 * Errors: as pmemflush_fd_deep_flush(); PMEM2_E_DAX_REGION_NOT_FOUND once
 * the device was disabled.
 */
int pmemflush_handle_deep_flush(struct pmemflush_handle *handle,
	uint64_t offset, uint64_t length, unsigned int flags);

/* pmemflush_handle_query - as pmemflush_fd_query(), for a handle */
int pmemflush_handle_query(struct pmemflush_handle *handle,
	struct pmemflush_info *info);

/* pmemflush_unregister - drop *@handle (NULL is fine), set it to NULL; 0 */
int pmemflush_unregister(struct pmemflush_handle **handle);

/*
 * Deep flush through io_uring (since LIBPMEMFLUSH_1.3). The library makes
 * no ring and does not link liburing: pmemflush_deep_flush_prepare() does
 * the CPU part of a pmem2_deep_flush() now and describes the device flush
 * that remains as a command; <libpmemflush/uring.h> puts that into an SQE
 * of the caller's ring (IORING_SETUP_SQE128), and the CQE's res goes to
 * pmemflush_flush_cmd_result(). See pmemflush_deep_flush_prepare(3).
 */
#define PMEMFLUSH_CMD_AREA	80	/* bytes of an SQE128's command area */

struct pmemflush_flush_cmd {
	int32_t dev_fd;		/* the library's /dev/pmemflush fd, or -1 */
	uint32_t reserved;	/* zero */
	uint64_t area[PMEMFLUSH_CMD_AREA / 8];	/* the SQE's command area */
};

/*
 * pmemflush_deep_flush_prepare - write [@ptr, @ptr + @size) of @map back
 * and fence (or msync a file mapped without MAP_SYNC), and fill @cmd with
 * the device flush that remains. @cmd->dev_fd is -1 when nothing remains
 * (a region whose flush is a barrier, msync, or no module: the deep flush
 * is complete), else the fd the SQE goes to: the library's, not to be
 * closed, valid for this process while @map exists.
 * Errors: those of pmem2_deep_flush(); -EINVAL (@map or @cmd NULL).
 */
int pmemflush_deep_flush_prepare(struct pmem2_map *map, void *ptr,
	size_t size, struct pmemflush_flush_cmd *cmd);

/*
 * pmemflush_flush_cmd_result - what the command's CQE result @res means:
 * 0, or the error pmem2_deep_flush() would return for it. When io_uring
 * could not run the command (-EOPNOTSUPP: a module without io_uring
 * commands or an IOPOLL ring; -EMSGSIZE: a 64-byte SQE; -ENOTTY) the flush
 * runs through the ioctl now and the call returns 1, with the reason in
 * pmem2_errormsg().
 */
int pmemflush_flush_cmd_result(const struct pmemflush_flush_cmd *cmd,
	int res);

/*
 * pmemflush_flush_cmd_run - the command's device flush through the ioctl,
 * for a process that has no ring (io_uring_setup() refused by
 * kernel.io_uring_disabled or seccomp); 0 at once when @cmd->dev_fd is -1.
 * Errors: as pmem2_deep_flush(); -EINVAL (@cmd not filled by
 * pmemflush_deep_flush_prepare()).
 */
int pmemflush_flush_cmd_run(const struct pmemflush_flush_cmd *cmd);

#ifdef __cplusplus
}
#endif

#endif /* LIBPMEMFLUSH_H */
