/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmemflush internals, shared by the module's files:
 *
 *   main.c     the misc device, the per-open context, the op table, FLUSH
 *              and QUERY, fdinfo
 *   lookup.c   the target a command names: by id, or by fd through the
 *              open file's cache
 *   register.c REGISTER and UNREGISTER: ids
 *   target.c   resolution of a file to its region, per kind; liveness
 *   devdax.c   device-dax files: their dax_device, region and size
 *   region.c   region objects (identity, facts), group commit, and the
 *              worker that runs it for io_uring commands
 *   uring.c    FLUSH as an io_uring command
 *   kapi.c     the in-kernel API (include/linux/pmemflush.h)
 *   debugfs.c  test knobs and counters, off the production path
 *
 * Three types carry a resolved target, one per role: struct pmf_resolved is
 * the value (what a file resolved to); struct pmf_cached a by-fd cache entry
 * holding one; struct pmemflush_target a registered handle (an id, or a
 * driver's target) holding one.
 */
#ifndef _PMEMFLUSH_INTERNAL_H
#define _PMEMFLUSH_INTERNAL_H

#include <linux/device.h>
#include <linux/jump_label.h>
#include <linux/kref.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

struct block_device;
struct dax_device;
struct file;
struct gendisk;
struct inode;
struct io_uring_cmd;
struct nd_region;
struct seq_file;

/*
 * One per nd region device in use: the region's facts, read once inside a
 * target's liveness, and its group commit. Device flushes of a region run
 * one at a time; @issued and @completed number them. A caller needs flush
 * @issued + 1 as seen at its start, or a later one, to have completed.
 */
struct pmf_region {
	struct kref kref;
	struct rcu_head rcu;
	struct list_head node;	/* on pmf_regions while @dev is registered */
	/*
	 * Identity only: neither is referenced, so that pmemflush never keeps
	 * a region's memregion id (nd_region_release() frees it) from being
	 * reused. @nd_region is dereferenced only inside the liveness section
	 * of a target on it (target.c); @dev only compared.
	 */
	const struct device *dev;
	struct nd_region *nd_region;
	u32 id;
	s32 has_flush;
	u32 persistence_domain;
	bool async;
	bool cxl;
	bool device_flush;	/* has_flush == 1 or async: worth sharing */
	spinlock_t lock;	/* the fields below */
	wait_queue_head_t wait;
	bool busy;
	u64 issued;
	u64 completed;
	u64 ok;		/* the last flush that succeeded */
	int err;	/* what the last failed one returned */
	/*
	 * io_uring commands waiting for a device flush, and the one work
	 * item that runs flushes for them (region.c); while queued or
	 * running, the work holds a reference on the object
	 */
	struct list_head ucmds;
	struct work_struct work;
	bool work_queued;
};

/*
 * What a target resolved to. Holds a reference on its region object, on
 * the dax_device (device-dax, DAX files, DAX-capable block devices: an inode
 * of dax.ko, which this module's symbol imports keep loaded) and, for a
 * registered DAX file, the file, as an open fd would. @disk (raw and BTT
 * block devices flushed by fd) is the caller's, pinned by its open file.
 */
struct pmf_resolved {
	struct pmf_region *region;
	struct dax_device *dax_dev;
	struct gendisk *disk;
	struct file *file;
	struct inode *inode;	/* @file's: inodes are freed through RCU */
	u64 size;		/* device-dax and block devices */
	dev_t devt;		/* device-dax and block devices, for fdinfo */
	u32 kind;
	bool xfs;		/* an XFS file: realtime is checked per flush */
	u64 xfs_version;	/* its i_version when last seen not realtime */
};

/* a registered target: an id of an open /dev/pmemflush, or a driver's */
struct pmemflush_target {
	struct kref kref;
	struct rcu_head rcu;
	struct pmf_resolved res;
};

static inline bool pmf_dev_on_bus(const struct device *dev, const char *bus)
{
	return dev && dev->bus && !strcmp(dev->bus->name, bus);
}

static inline bool pmf_dev_of_type(const struct device *dev, const char *type)
{
	return dev && dev->type && dev->type->name &&
	       !strcmp(dev->type->name, type);
}

/* by-fd cache entries of an open file (lookup.c) */
#define PMF_FD_CACHE 4
/* the first ids are also in a flat table, as io_uring's registered files */
#define PMF_FLAT_IDS 64

/* a by-fd cache entry */
struct pmf_cached {
	struct kref kref;
	struct rcu_head rcu;
	unsigned long key;
	struct pmf_resolved res;
};

/* per open /dev/pmemflush: its ids (register.c) and by-fd cache */
struct pmf_ctx {
	struct xarray ids;
	struct pmemflush_target __rcu *flat[PMF_FLAT_IDS];
	spinlock_t cache_lock;	/* writers of @cache */
	unsigned int cache_next;
	struct pmf_cached __rcu *cache[PMF_FD_CACHE];
};

/* the target a FLUSH or QUERY names, and what holds it */
struct pmf_cmd_target {
	struct pmf_resolved *res;
	struct pmemflush_target *reg;	/* by id */
	struct pmf_cached *cached;	/* by fd, from the cache */
	struct pmf_resolved stack;	/* by fd, not cacheable */
	struct file *file;		/* by fd */
};

/*
 * An io_uring FLUSH waiting on its region's @ucmds (uring.c queues it,
 * region.c's worker completes it). @queued: on @ucmds; @flushing: its
 * target is the one a running flush entered, so it stays until that ends.
 */
struct pmf_ucmd {
	struct list_head node;
	struct io_uring_cmd *ioucmd;
	struct pmf_region *region;
	u64 need;
	u64 seq;
	int rc;
	bool queued;
	bool flushing;
	struct pmf_cmd_target ct;
};

/* main.c */
int pmf_copy_in(void *karg, size_t ksize, size_t min, void __user *argp,
		u32 *usize);
int pmf_copy_out(void __user *argp, const void *karg, size_t ksize,
		 u32 usize);

/* lookup.c */
struct pmemflush_target *pmf_ctx_find(struct pmf_ctx *ctx, u32 id);
int pmf_cmd_get(struct pmf_ctx *ctx, bool by_id, s32 fd, u32 id,
		struct pmf_cmd_target *ct);
void pmf_cmd_put(struct pmf_cmd_target *ct);
void pmf_cached_put(struct pmf_cached *c);

/* register.c */
int pmf_cmd_register(struct pmf_ctx *ctx, void __user *argp, u32 min);
int pmf_cmd_unregister(struct pmf_ctx *ctx, void __user *argp, u32 min);

/* target.c */
int pmf_resolve(struct file *file, struct pmf_resolved *res, bool reg);
int pmf_resolve_bdev(struct block_device *bdev, struct pmf_resolved *res,
		     bool reg);
void pmf_unresolve(struct pmf_resolved *res);
void pmf_unresolve_rcu(struct pmf_resolved *res);
struct dax_device *pmf_devdax_of(struct file *file);
bool pmf_xfs_realtime(struct file *file);
bool pmf_xfs_still_data(struct pmf_resolved *res);
int pmf_live_enter(const struct pmf_resolved *res, int *cookie);
void pmf_live_exit(const struct pmf_resolved *res, int cookie);
u64 pmf_target_size(const struct pmf_resolved *res, struct file *file);
int pmf_flush_check(struct pmf_resolved *res, struct file *file,
		    u64 offset, u64 length);
int pmf_do_flush(struct pmf_resolved *res, struct file *file,
		 u64 offset, u64 length, u64 *seq);
int pmf_flush_barriers(const struct pmf_resolved *res, u64 offset,
		       u64 length);
bool pmf_dax_sync(const struct pmf_resolved *res);
int pmf_bind(struct pmf_resolved *res,
	     struct device *(*rdev_of)(struct pmf_resolved *res, void *arg),
	     void *arg, char **devdax_path);

/* devdax.c */
int pmf_resolve_devdax(struct file *file, struct pmf_resolved *res);
int pmf_devdax_init(void);
void pmf_devdax_exit(void);

/* region.c */
struct pmf_region *pmf_region_alloc(void);
struct pmf_region *pmf_region_get(struct device *rdev,
				  struct pmf_region **spare);
int pmf_region_watch(void);
void pmf_region_put(struct pmf_region *r);
int pmf_region_flush(struct pmf_region *r, const struct pmf_resolved *res,
		     u64 *seq);
void pmf_region_queue(struct pmf_region *r, struct pmf_ucmd *u);
bool pmf_region_unqueue(struct pmf_region *r, struct pmf_ucmd *u);
void pmf_regions_show(struct seq_file *m);
int pmf_region_init(void);
void pmf_region_exit(void);

/* uring.c */
int pmf_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags);
void pmf_ucmds_complete(struct list_head *done);

/* kapi.c */
struct pmemflush_target *pmf_target_new(struct file *file, gfp_t gfp);

/* debugfs.c: the test knob that widens the window before a device flush */
DECLARE_STATIC_KEY_FALSE(pmf_flush_window_key);
void pmf_flush_window_enter(void);
void pmf_flush_window_exit(void);
void pmf_debugfs_init(void);
void pmf_debugfs_exit(void);

#endif /* _PMEMFLUSH_INTERNAL_H */
