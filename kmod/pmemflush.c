// SPDX-License-Identifier: GPL-2.0
/*
 * pmemflush: deep flush (nvdimm_flush) of the persistent memory region behind
 * a file descriptor, a registered id or, for drivers, a struct file.
 *
 * A target is resolved to its region once; every flush then checks that the
 * target is still alive the way the kernel's own I/O to it does, and flushes
 * with no lock held:
 *
 * - device-dax, DAX files and DAX-capable pmem block devices: under
 *   dax_read_lock() with dax_alive() true on the target's dax_device. The
 *   teardown of each of them runs kill_dax(), whose synchronize_srcu() waits
 *   for that section, before the region driver's data is freed (6.1 and
 *   6.12: unregister_dev_dax() -> kill_dev_dax() for device-dax, also
 *   dev_dax_kill() when device_dax is unbound; pmem_release_disk() for pmem
 *   disks; both run from nd_region_remove() -> child_unregister() before
 *   dev_set_drvdata(region, NULL)).
 * - block devices without a dax_device in use (raw namespaces without struct
 *   pages, BTT): holding the request queue's q_usage_counter, as
 *   bio_queue_enter() does; del_gendisk() waits for it
 *   (blk_mq_freeze_queue_wait(), 6.1 and 6.12) and is called from the
 *   disk driver's own removal (pmem_release_disk(), btt_fini()), so the
 *   claiming nd device stays bound, and its region with it, meanwhile.
 */

#include <linux/blkdev.h>
#include <linux/cdev.h>
#include <linux/dax.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/fileattr.h>
#include <linux/fs.h>
#include <linux/libnvdimm.h>
#include <linux/magic.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/overflow.h>
#include <linux/pmemflush.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

/*
 * One per nd region in use: the region (referenced) and its group commit.
 * Device flushes of a region run one at a time; @issued and @completed
 * number them. A caller needs flush @issued + 1 as seen at its start, or a
 * later one, to have completed.
 */
struct pmemflush_region {
	struct kref kref;
	struct rcu_head rcu;
	struct device *dev;
	struct nd_region *nd_region;
	u32 id;
	s32 has_flush;
	bool async;
	bool device_flush;	/* has_flush == 1 or async: worth sharing */
	spinlock_t lock;	/* the fields below */
	wait_queue_head_t wait;
	bool busy;
	u64 issued;
	u64 completed;
	u64 ok;		/* the last flush that succeeded */
	int err;	/* what the last failed one returned */
};

/* region id -> struct pmemflush_region; the region's reference pins the id */
static DEFINE_XARRAY(pmemflush_regions);

/*
 * A resolved target. Registered ones are refcounted and hold only what pins
 * no driver: the dax_device (an inode of dax.ko, which this module's symbol
 * imports keep loaded) and the region (libnvdimm's, likewise). A DAX file's
 * target holds the file, as an open fd would, for its size.
 */
struct pmemflush_target {
	struct kref kref;
	struct rcu_head rcu;
	struct pmemflush_region *region;
	struct dax_device *dax_dev;
	struct gendisk *disk;	/* no dax_device: the caller's file pins it */
	struct file *file;
	struct inode *inode;	/* @file's: inodes are freed through RCU */
	unsigned long cache_key;	/* in the by-fd cache */
	u64 size;
	u32 kind;
};

/* per open /dev/pmemflush: registered ids and targets by fd */
#define PMEMFLUSH_FD_CACHE 4
/* the first ids are also in a flat table, as io_uring's registered files */
#define PMEMFLUSH_FLAT_IDS 64

struct pmemflush_ctx {
	struct xarray ids;
	struct pmemflush_target __rcu *flat[PMEMFLUSH_FLAT_IDS];
	spinlock_t cache_lock;	/* writers of @cache */
	unsigned int cache_next;
	struct pmemflush_target __rcu *cache[PMEMFLUSH_FD_CACHE];
};

/*
 * Exported by dax.ko for device_dax (drivers/dax/super.c, 6.1 and 6.12) but
 * declared only in drivers/dax/dax-private.h.
 */
struct dax_device *inode_dax(struct inode *inode);

/* sysfs, mounted for this module, to read attributes with kernfs' protection */
static struct vfsmount *pmemflush_sysfs;
static struct dentry *pmemflush_debugfs;
/* debugfs knob: sleep between the liveness check and the device flush */
static u32 pmemflush_flush_delay_us;
static atomic_t pmemflush_in_window;

static bool dev_on_bus(struct device *dev, const char *bus)
{
	return dev && dev->bus && !strcmp(dev->bus->name, bus);
}

static bool dev_of_type(struct device *dev, const char *type)
{
	return dev && dev->type && dev->type->name &&
	       !strcmp(dev->type->name, type);
}

/*
 * Read attribute @name of @dev through sysfs' own file, so that kernfs'
 * active reference keeps the device's data alive during show(): device_del()
 * drains it (kernfs_remove()) before a driver frees what show() reads.
 */
static int pmemflush_sysfs_read(struct device *dev, const char *name,
				char *buf, size_t len)
{
	struct file *file;
	char *dir, *path;
	loff_t pos = 0;
	ssize_t n;

	dir = kobject_get_path(&dev->kobj, GFP_KERNEL);
	if (!dir)
		return -ENOMEM;
	path = kasprintf(GFP_KERNEL, "%s/%s", dir, name);
	kfree(dir);
	if (!path)
		return -ENOMEM;
	file = file_open_root_mnt(pmemflush_sysfs, path, O_RDONLY, 0);
	kfree(path);
	if (IS_ERR(file))
		return PTR_ERR(file);
	n = kernel_read(file, buf, len - 1, &pos);
	fput(file);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return 0;
}

static void pmemflush_region_release(struct kref *kref)
{
	struct pmemflush_region *r =
		container_of(kref, struct pmemflush_region, kref);

	xa_cmpxchg(&pmemflush_regions, r->id, r, NULL, 0);
	put_device(r->dev);
	kfree_rcu(r, rcu);
}

static void pmemflush_region_put(struct pmemflush_region *r)
{
	kref_put(&r->kref, pmemflush_region_release);
}

/*
 * The region object of @rdev, an nd device whose liveness the caller
 * guarantees (see the top of this file). Lock-free when it exists.
 */
static struct pmemflush_region *pmemflush_region_get(struct device *rdev)
{
	struct pmemflush_region *r, *old;
	u32 id;

	/* to_nd_region() WARNs on anything but a region */
	if (!dev_on_bus(rdev, "nd") || !dev_of_type(rdev, "nd_pmem") ||
	    strncmp(dev_name(rdev), "region", 6) ||
	    kstrtou32(dev_name(rdev) + 6, 10, &id))
		return ERR_PTR(-ENODEV);

	rcu_read_lock();
	r = xa_load(&pmemflush_regions, id);
	if (r && (r->dev != rdev || !kref_get_unless_zero(&r->kref)))
		r = NULL;
	rcu_read_unlock();
	if (r)
		return r;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return ERR_PTR(-ENOMEM);
	kref_init(&r->kref);
	spin_lock_init(&r->lock);
	init_waitqueue_head(&r->wait);
	r->dev = get_device(rdev);
	r->nd_region = to_nd_region(rdev);
	r->id = id;
	r->has_flush = nvdimm_has_flush(r->nd_region);
	r->async = !is_nvdimm_sync(r->nd_region);
	r->device_flush = r->has_flush == 1 || r->async;

	xa_lock(&pmemflush_regions);
	old = xa_load(&pmemflush_regions, id);
	/* a region's reference keeps its id: @old is for @rdev too */
	if (old && kref_get_unless_zero(&old->kref)) {
		xa_unlock(&pmemflush_regions);
		put_device(r->dev);
		kfree(r);
		return old;
	}
	old = __xa_store(&pmemflush_regions, id, r, GFP_KERNEL);
	xa_unlock(&pmemflush_regions);
	if (xa_is_err(old)) {
		put_device(r->dev);
		kfree(r);
		return ERR_PTR(xa_err(old));
	}
	return r;
}

/*
 * Group commit: return once a device flush that started after this call
 * began has completed, running it if none is running. The caller keeps the
 * target alive (see the top of this file); no lock is held across
 * nvdimm_flush(). A synchronous region without flush hints has no device
 * flush to share: nvdimm_flush() only issues barriers, which must run on
 * the caller's CPU, so each caller runs it (@seq 0).
 */
static int pmemflush_region_flush(struct pmemflush_region *r, u64 *seq)
{
	u64 need, mine;
	int rc;

	if (!r->device_flush) {
		*seq = 0;
		rc = nvdimm_flush(r->nd_region, NULL);
		return rc < 0 ? rc : 0;
	}

	spin_lock(&r->lock);
	need = r->issued + 1;
	while (r->completed < need) {
		if (!r->busy) {
			r->busy = true;
			mine = ++r->issued;
			spin_unlock(&r->lock);
			rc = nvdimm_flush(r->nd_region, NULL);
			spin_lock(&r->lock);
			r->busy = false;
			r->completed = mine;
			if (rc < 0)
				r->err = rc;
			else
				r->ok = mine;
			/* waiters queue without @lock: wq_has_sleeper() orders */
			if (wq_has_sleeper(&r->wait))
				wake_up_all(&r->wait);
			continue;
		}
		spin_unlock(&r->lock);
		if (wait_event_killable(r->wait,
					READ_ONCE(r->completed) >= need ||
					!READ_ONCE(r->busy)))
			return -EINTR;
		spin_lock(&r->lock);
	}
	/* flushes complete in order: one at or after @need succeeded, or none */
	rc = r->ok >= need ? 0 : r->err;
	*seq = r->ok;
	spin_unlock(&r->lock);
	return rc;
}

/*
 * Enter the disk's queue as bio_queue_enter() does, for block devices that
 * are flushed without a dax_device; -ENXIO once del_gendisk() began.
 */
static int pmemflush_queue_enter(struct gendisk *disk)
{
	struct request_queue *q = disk->queue;

	while (!percpu_ref_tryget_live(&q->q_usage_counter)) {
		/* frozen: wait for the thaw, or for del_gendisk() (GD_DEAD) */
		smp_rmb();
		wait_event(q->mq_freeze_wq, !READ_ONCE(q->mq_freeze_depth) ||
			   test_bit(GD_DEAD, &disk->state));
		if (test_bit(GD_DEAD, &disk->state))
			return -ENXIO;
	}
	/* del_gendisk() thaws the queue again once it is done with it */
	if (test_bit(GD_DEAD, &disk->state)) {
		percpu_ref_put(&q->q_usage_counter);
		return -ENXIO;
	}
	return 0;
}

static void pmemflush_queue_exit(struct gendisk *disk)
{
	percpu_ref_put(&disk->queue->q_usage_counter);
}

/* Liveness of @t, held across its flush; @*cookie is for exit. */
static int pmemflush_live_enter(struct pmemflush_target *t, int *cookie)
{
	if (!t->dax_dev)
		return pmemflush_queue_enter(t->disk);
	*cookie = dax_read_lock();
	if (dax_alive(t->dax_dev))
		return 0;
	dax_read_unlock(*cookie);
	return -ENXIO;
}

static void pmemflush_live_exit(struct pmemflush_target *t, int cookie)
{
	if (t->dax_dev)
		dax_read_unlock(cookie);
	else
		pmemflush_queue_exit(t->disk);
}

/*
 * The region device behind @ndev, the nd device that claims a namespace
 * (the namespace, its pfn, btt or dax device), referenced, inside
 * pmemflush_live_enter(): the target's teardown has not passed its
 * kill_dax() or del_gendisk() yet, so @ndev's driver is still bound, and
 * @ndev holds its parent (device_add() took the reference device_del()
 * drops).
 */
static struct device *pmemflush_region_dev(struct device *ndev)
{
	if (!dev_on_bus(ndev, "nd"))
		return ERR_PTR(-ENODEV);
	return get_device(ndev->parent);
}

/* bind @t to the region object of @rdev (consumed) */
static int pmemflush_bind_region(struct pmemflush_target *t,
				 struct device *rdev)
{
	struct pmemflush_region *r;

	if (IS_ERR(rdev))
		return PTR_ERR(rdev);
	r = pmemflush_region_get(rdev);
	put_device(rdev);
	if (IS_ERR(r))
		return PTR_ERR(r);
	t->region = r;
	return 0;
}

/*
 * device-dax points the file's mapping at the dax inode, whose i_cdev is the
 * cdev this file holds open; that cdev pins its parent, the dev_dax device,
 * which holds the dax_device (dev_dax_release() puts it).
 */
static struct dax_device *pmemflush_devdax_of(struct file *file)
{
	struct inode *dax_inode = file->f_mapping->host;

	if (dax_inode->i_sb->s_magic != DAXFS_MAGIC || !dax_inode->i_cdev ||
	    !dax_inode->i_cdev->kobj.parent)
		return NULL;
	if (!dev_on_bus(kobj_to_dev(dax_inode->i_cdev->kobj.parent), "dax"))
		return NULL;
	return inode_dax(dax_inode);
}

/*
 * Resolve a device-dax file into @t, taking references on its dax_device
 * and region. Its size is fixed: a static dax region (every nd one) cannot
 * be resized (dev_dax_visible() makes "size" read-only, 6.1 and 6.12).
 */
static int pmemflush_resolve_devdax(struct file *file,
				    struct pmemflush_target *t)
{
	struct dax_device *dax_dev = pmemflush_devdax_of(file);
	struct device *ddev, *rdev;
	char buf[32];
	int rc, cookie;

	if (!dax_dev)
		return -ENODEV;
	ddev = kobj_to_dev(file->f_mapping->host->i_cdev->kobj.parent);
	t->kind = PMEMFLUSH_TARGET_DEVDAX;
	t->dax_dev = dax_dev;
	/* put_dax() drops it: the dax inode is the dax_device's own */
	ihold(file->f_mapping->host);

	rc = pmemflush_live_enter(t, &cookie);
	if (rc)
		goto err;
	/* hmem and CXL device-dax have no nd_dax parent */
	rdev = dev_of_type(ddev->parent, "nd_dax") ?
		pmemflush_region_dev(ddev->parent) : ERR_PTR(-ENODEV);
	pmemflush_live_exit(t, cookie);
	rc = pmemflush_bind_region(t, rdev);
	if (rc)
		goto err;

	/* gone from sysfs, or without ranges: being torn down */
	rc = pmemflush_sysfs_read(ddev, "size", buf, sizeof(buf));
	if (!rc)
		rc = kstrtou64(strim(buf), 0, &t->size);
	if (rc || !t->size) {
		rc = rc == -ENOMEM ? rc : -ENXIO;
		goto err_region;
	}
	return 0;

err_region:
	pmemflush_region_put(t->region);
	t->region = NULL;
err:
	put_dax(t->dax_dev);
	t->dax_dev = NULL;
	return rc;
}

/*
 * Resolve block device @bdev into @t. With a dax_device (fsdax namespaces
 * and their partitions: fs_dax_get_by_bdev() takes a reference), that is
 * the guard; otherwise the disk's queue, which only a caller holding @bdev
 * open may use (@reg false).
 */
static int pmemflush_resolve_bdev(struct block_device *bdev,
				  struct pmemflush_target *t, bool reg)
{
	struct gendisk *disk = bdev->bd_disk;
	struct device *ndev, *rdev;
	u64 start_off;
	int rc, cookie;

	/* NULL holder: look the dax_device up without claiming it */
	t->dax_dev = fs_dax_get_by_bdev(bdev, &start_off, NULL, NULL);
	if (!t->dax_dev)
		t->disk = disk;
	rc = pmemflush_live_enter(t, &cookie);
	if (rc)
		goto err;
	ndev = disk_to_dev(disk)->parent;
	t->kind = dev_of_type(ndev, "nd_btt") ? PMEMFLUSH_TARGET_BTT :
						PMEMFLUSH_TARGET_BLOCK;
	rdev = pmemflush_region_dev(ndev);
	pmemflush_live_exit(t, cookie);
	rc = pmemflush_bind_region(t, rdev);
	if (rc)
		goto err;
	/* a pmem disk, but nothing a registration may hold */
	if (reg && !t->dax_dev) {
		pmemflush_region_put(t->region);
		t->region = NULL;
		return -EOPNOTSUPP;
	}
	t->size = bdev_nr_bytes(bdev);
	return 0;
err:
	fs_put_dax(t->dax_dev, NULL);
	t->dax_dev = NULL;
	return rc;
}

static void pmemflush_unresolve(struct pmemflush_target *t)
{
	if (t->region)
		pmemflush_region_put(t->region);
	if (t->dax_dev)
		put_dax(t->dax_dev);
	if (t->file)
		fput(t->file);
}

/* XFS realtime files keep their data on the realtime device */
static bool pmemflush_xfs_realtime(struct file *file)
{
	struct fileattr fa = {};

	if (file_inode(file)->i_sb->s_magic != XFS_SUPER_MAGIC)
		return false;
	return vfs_fileattr_get(file->f_path.dentry, &fa) ||
	       (fa.fsx_xflags & FS_XFLAG_REALTIME);
}

/*
 * Resolve @file, which the caller holds, into @t (zeroed). A registration
 * (@reg) keeps a reference on a DAX file; undone by pmemflush_unresolve().
 */
static int pmemflush_resolve(struct file *file, struct pmemflush_target *t,
			     bool reg)
{
	struct inode *inode = file_inode(file);
	int rc;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (S_ISBLK(inode->i_mode))
		return pmemflush_resolve_bdev(I_BDEV(file->f_mapping->host), t,
					      reg);
	if (S_ISCHR(inode->i_mode))
		return pmemflush_resolve_devdax(file, t);
	if (!S_ISREG(inode->i_mode) || !inode->i_sb->s_bdev)
		return -ENODEV;

	rc = pmemflush_resolve_bdev(inode->i_sb->s_bdev, t, false);
	if (rc)
		return rc;
	/* page-cache data is persisted by fsync(), not by a region flush */
	if (!IS_DAX(inode) || !t->dax_dev || pmemflush_xfs_realtime(file)) {
		pmemflush_unresolve(t);
		return -EOPNOTSUPP;
	}
	t->kind = PMEMFLUSH_TARGET_FSDAX_FILE;
	t->disk = NULL;
	if (reg) {
		t->file = get_file(file);
		t->inode = inode;
	}
	return 0;
}

static u64 pmemflush_target_size(struct pmemflush_target *t, struct file *file)
{
	if (t->kind == PMEMFLUSH_TARGET_FSDAX_FILE)
		return i_size_read(t->inode ?: file_inode(file));
	return t->size;
}

/*
 * The debugfs knob's widened window between the liveness check and the
 * device flush; "in_window" counts the flushes inside it, so that a test
 * starts a teardown once one is.
 */
static void pmemflush_flush_window(void)
{
	atomic_inc(&pmemflush_in_window);
	fsleep(READ_ONCE(pmemflush_flush_delay_us));
}

/* range check, liveness, group-committed region flush */
static int pmemflush_do_flush(struct pmemflush_target *t, struct file *file,
			      u64 offset, u64 length, u64 *seq)
{
	int rc, cookie;
	bool widened;
	u64 end;

	if (check_add_overflow(offset, length, &end))
		return -EOVERFLOW;
	if (end > pmemflush_target_size(t, file))
		return -ERANGE;
	rc = pmemflush_live_enter(t, &cookie);
	if (rc)
		return rc;
	widened = unlikely(READ_ONCE(pmemflush_flush_delay_us));
	if (widened)
		pmemflush_flush_window();
	rc = pmemflush_region_flush(t->region, seq);
	if (widened)
		atomic_dec(&pmemflush_in_window);
	pmemflush_live_exit(t, cookie);
	return rc;
}

static struct pmemflush_target *pmemflush_target_alloc(gfp_t gfp)
{
	struct pmemflush_target *t;

	t = kzalloc(sizeof(*t), gfp);
	if (t)
		kref_init(&t->kref);
	return t;
}

static void pmemflush_target_release(struct kref *kref)
{
	struct pmemflush_target *t =
		container_of(kref, struct pmemflush_target, kref);

	pmemflush_unresolve(t);
	kfree_rcu(t, rcu);
}

/* a registered target of @file, allocated with @gfp */
static struct pmemflush_target *pmemflush_target_new(struct file *file,
						     gfp_t gfp)
{
	struct pmemflush_target *t = pmemflush_target_alloc(gfp);
	int rc;

	if (!t)
		return ERR_PTR(-ENOMEM);
	rc = pmemflush_resolve(file, t, true);
	if (rc) {
		kfree(t);
		return ERR_PTR(rc);
	}
	return t;
}

/**
 * pmemflush_target_get_file() - resolve a file for deep flushes
 * @file: a device-dax device, a DAX file or a DAX-capable pmem block device,
 *	open for writing; the target keeps a reference on a DAX file only
 *
 * Context: process context, may sleep.
 * Return: the target, to pass to pmemflush_target_flush() and
 * pmemflush_target_put(), or an ERR_PTR() with the errnos of
 * PMEMFLUSH_REGISTER. The target pins no driver: once its device is gone,
 * flushes return -ENXIO.
 */
struct pmemflush_target *pmemflush_target_get_file(struct file *file)
{
	/* a driver's object, not the current task's */
	return pmemflush_target_new(file, GFP_KERNEL);
}
EXPORT_SYMBOL_GPL(pmemflush_target_get_file);

/**
 * pmemflush_target_get_bdev() - resolve a block device for deep flushes
 * @bdev: a DAX-capable pmem block device or partition, held by the caller
 *	for the duration of this call
 *
 * Context: process context, may sleep.
 * Return: the target or an ERR_PTR(): -EOPNOTSUPP for a block device without
 * DAX (raw namespaces without struct pages, BTT), -ENODEV when it is not on
 * an nd region, -ENXIO when it is being removed.
 */
struct pmemflush_target *pmemflush_target_get_bdev(struct block_device *bdev)
{
	struct pmemflush_target *t = pmemflush_target_alloc(GFP_KERNEL);
	int rc;

	if (!t)
		return ERR_PTR(-ENOMEM);
	rc = pmemflush_resolve_bdev(bdev, t, true);
	if (rc) {
		kfree(t);
		return ERR_PTR(rc);
	}
	return t;
}
EXPORT_SYMBOL_GPL(pmemflush_target_get_bdev);

/**
 * pmemflush_target_flush() - deep-flush the region behind a target
 * @t: from pmemflush_target_get_file() or pmemflush_target_get_bdev()
 * @offset: start of the range the caller wrote back from the CPU caches
 * @length: its length
 *
 * Runs nvdimm_flush() on the target's region, shared with concurrent
 * callers: returns once a device flush that started after this call began
 * has completed. Takes no lock across the flush.
 *
 * Context: process context, may sleep.
 * Return: 0, -EOVERFLOW or -ERANGE for a bad range, -ENXIO when the device
 * is gone, -EIO or -ENOMEM when the flush failed, -EINTR on a fatal signal.
 */
int pmemflush_target_flush(struct pmemflush_target *t, u64 offset, u64 length)
{
	u64 seq;

	return pmemflush_do_flush(t, NULL, offset, length, &seq);
}
EXPORT_SYMBOL_GPL(pmemflush_target_flush);

/**
 * pmemflush_target_put() - release a target
 * @t: the target, or NULL
 */
void pmemflush_target_put(struct pmemflush_target *t)
{
	if (t)
		kref_put(&t->kref, pmemflush_target_release);
}
EXPORT_SYMBOL_GPL(pmemflush_target_put);

/*
 * Read a command struct: its first field says how much userspace passed.
 * Shorter than the first version @min is EINVAL; larger than a page is E2BIG
 * unread, as clone3() and openat2() do; a non-zero unknown tail is E2BIG.
 */
static int pmemflush_copy_in(void *karg, size_t ksize, size_t min,
			     void __user *argp, u32 *usize)
{
	if (get_user(*usize, (u32 __user *)argp))
		return -EFAULT;
	if (*usize < min)
		return -EINVAL;
	if (*usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, argp, *usize);
}

static int pmemflush_copy_out(void __user *argp, const void *karg,
			      size_t ksize, u32 usize)
{
	return copy_to_user(argp, karg, min_t(size_t, ksize, usize)) ?
		-EFAULT : 0;
}

/* the registered target @id, under rcu_read_lock(), not referenced */
static struct pmemflush_target *pmemflush_ctx_find(struct pmemflush_ctx *ctx,
						   u32 id)
{
	struct pmemflush_target *t = NULL;

	if (id < PMEMFLUSH_FLAT_IDS)
		t = rcu_dereference(ctx->flat[id]);
	return t ?: xa_load(&ctx->ids, id);
}

/* the registered target @id, referenced */
static struct pmemflush_target *pmemflush_ctx_lookup(struct pmemflush_ctx *ctx,
						     u32 id)
{
	struct pmemflush_target *t;

	rcu_read_lock();
	t = pmemflush_ctx_find(ctx, id);
	if (t && !kref_get_unless_zero(&t->kref))
		t = NULL;
	rcu_read_unlock();
	return t ?: ERR_PTR(-ENOENT);
}

/*
 * FLUSH and QUERY by fd keep the open file's last few targets, so that a
 * device-dax size is read once per device rather than per call, and a DAX
 * file skips the lookup of its filesystem's dax_device and region. Keys:
 * a device-dax file's dax_device, which the entry references (its address
 * is not reused while cached); a DAX file's filesystem block device number,
 * unique among live block devices (an entry whose dax_device is alive is
 * that device's; a dead one is dropped and the file resolved afresh). 0:
 * not cacheable, resolve on the stack.
 */
static unsigned long pmemflush_fd_key(struct file *file)
{
	struct inode *inode = file_inode(file);

	if (!(file->f_mode & FMODE_WRITE))
		return 0;
	if (S_ISCHR(inode->i_mode))
		return (unsigned long)pmemflush_devdax_of(file);
	if (!S_ISREG(inode->i_mode) || !IS_DAX(inode) || !inode->i_sb->s_bdev ||
	    pmemflush_xfs_realtime(file))
		return 0;
	return (unsigned long)inode->i_sb->s_dev << 1 | 1;
}

static void pmemflush_fd_uncache(struct pmemflush_ctx *ctx,
				 struct pmemflush_target *t)
{
	unsigned int i;
	bool found = false;

	spin_lock(&ctx->cache_lock);
	for (i = 0; i < PMEMFLUSH_FD_CACHE; i++) {
		if (rcu_access_pointer(ctx->cache[i]) == t) {
			RCU_INIT_POINTER(ctx->cache[i], NULL);
			found = true;
		}
	}
	spin_unlock(&ctx->cache_lock);
	if (found)
		pmemflush_target_put(t);
}

static struct pmemflush_target *pmemflush_fd_cached(struct pmemflush_ctx *ctx,
						    struct file *file,
						    unsigned long key)
{
	struct pmemflush_target *t, *old;
	unsigned int i;
	int rc, cookie;

	rcu_read_lock();
	for (i = 0; i < PMEMFLUSH_FD_CACHE; i++) {
		t = rcu_dereference(ctx->cache[i]);
		if (t && t->cache_key == key && kref_get_unless_zero(&t->kref))
			break;
	}
	rcu_read_unlock();
	if (i < PMEMFLUSH_FD_CACHE) {
		/* a device-dax entry's device is this file's, dead or alive */
		if (t->kind == PMEMFLUSH_TARGET_DEVDAX)
			return t;
		if (!pmemflush_live_enter(t, &cookie)) {
			pmemflush_live_exit(t, cookie);
			return t;
		}
		pmemflush_fd_uncache(ctx, t);
		pmemflush_target_put(t);
	}

	t = pmemflush_target_alloc(GFP_KERNEL_ACCOUNT);
	if (!t)
		return ERR_PTR(-ENOMEM);
	rc = pmemflush_resolve(file, t, false);
	if (rc) {
		kfree(t);
		return ERR_PTR(rc);
	}
	t->cache_key = key;
	kref_get(&t->kref);
	spin_lock(&ctx->cache_lock);
	i = ctx->cache_next++ % PMEMFLUSH_FD_CACHE;
	old = rcu_replace_pointer(ctx->cache[i], t,
				  lockdep_is_held(&ctx->cache_lock));
	spin_unlock(&ctx->cache_lock);
	pmemflush_target_put(old);
	return t;
}

/*
 * The target a FLUSH or QUERY names: by id, or by fd. A by-fd target comes
 * from the open file's cache or is resolved into @stack; *@file is the fd's
 * file, referenced, or NULL. Undone by pmemflush_cmd_put().
 */
static struct pmemflush_target *pmemflush_cmd_get(struct pmemflush_ctx *ctx,
						  u32 flags, s32 fd,
						  struct pmemflush_target *stack,
						  struct file **file)
{
	struct pmemflush_target *t;
	unsigned long key;
	int rc;

	*file = NULL;
	if (flags & PMEMFLUSH_BY_ID)
		return pmemflush_ctx_lookup(ctx, fd);

	/* fget() refuses O_PATH files */
	*file = fd < 0 ? NULL : fget(fd);
	if (!*file)
		return ERR_PTR(-EBADF);
	key = pmemflush_fd_key(*file);
	if (key) {
		t = pmemflush_fd_cached(ctx, *file, key);
	} else {
		memset(stack, 0, sizeof(*stack));
		rc = pmemflush_resolve(*file, stack, false);
		t = rc ? ERR_PTR(rc) : stack;
	}
	if (IS_ERR(t)) {
		fput(*file);
		*file = NULL;
	}
	return t;
}

static void pmemflush_cmd_put(struct pmemflush_target *t,
			      struct pmemflush_target *stack, struct file *file)
{
	if (t == stack)
		pmemflush_unresolve(t);
	else
		pmemflush_target_put(t);
	if (file)
		fput(file);
}

static u32 pmemflush_flush_flags(struct pmemflush_region *r)
{
	return r->has_flush == 1 || r->async ? PMEMFLUSH_FLUSHED_DEVICE : 0;
}

/*
 * FLUSH by id on a region without a device flush (synchronous, no flush
 * hints: in-tree flush callbacks, virtio-pmem's and papr_scm's, come with
 * ND_REGION_ASYNC), where nvdimm_flush() is generic_nvdimm_flush()'s
 * barriers and does not sleep: the whole call runs under rcu_read_lock(),
 * which keeps what it reads alive without taking a reference. A target and
 * its region object are freed with kfree_rcu(); a DAX file's inode and the
 * dax inode through RCU too (destroy_inode() -> i_callback(), xfs's own
 * xfs_inode_free() likewise, 6.1 and 6.12); the target's file is not read
 * here, as 6.12 recycles files within a grace period. The nd_region is
 * touched only after dax_alive(), while the region is still registered.
 * -EAGAIN: not such a call.
 */
static int pmemflush_flush_barriers(struct pmemflush_ctx *ctx,
				    struct pmemflush_flush *arg)
{
	struct pmemflush_target *t;
	int rc, cookie;
	u64 end;

	if (unlikely(READ_ONCE(pmemflush_flush_delay_us)))
		return -EAGAIN;
	rcu_read_lock();
	t = pmemflush_ctx_find(ctx, arg->fd);
	rc = -EAGAIN;
	if (!t || t->region->device_flush)
		goto out;
	rc = -EOVERFLOW;
	if (check_add_overflow(arg->offset, arg->length, &end))
		goto out;
	rc = -ERANGE;
	if (end > pmemflush_target_size(t, NULL))
		goto out;
	/* registered targets all have a dax_device: no queue to enter */
	rc = pmemflush_live_enter(t, &cookie);
	if (rc)
		goto out;
	rc = nvdimm_flush(t->region->nd_region, NULL);
	pmemflush_live_exit(t, cookie);
	if (rc > 0)
		rc = 0;
	arg->region_id = t->region->id;
	arg->out_flags = pmemflush_flush_flags(t->region);
	arg->flush_seq = 0;
out:
	rcu_read_unlock();
	return rc;
}

/* FLUSH's outputs alone are written back, those that @usize holds */
static int pmemflush_flush_out(struct pmemflush_flush __user *uarg,
			       const struct pmemflush_flush *arg, u32 usize)
{
	if (!user_access_begin(&uarg->region_id,
			       min_t(size_t, sizeof(*arg), usize) -
			       offsetof(struct pmemflush_flush, region_id)))
		return -EFAULT;
	unsafe_put_user(arg->region_id, &uarg->region_id, fault);
	unsafe_put_user(arg->out_flags, &uarg->out_flags, fault);
	if (usize >= offsetofend(struct pmemflush_flush, flush_seq))
		unsafe_put_user(arg->flush_seq, &uarg->flush_seq, fault);
	user_access_end();
	return 0;
fault:
	user_access_end();
	return -EFAULT;
}

/*
 * Read a FLUSH struct of today's size field by field within one user access
 * window: the per-call path's copy in, cheaper than get_user() and
 * copy_struct_from_user()'s string copy. The whole struct is read, outputs
 * included (their values are overwritten before they are written back), as
 * the uapi says: a struct that unmapped memory cuts short is EFAULT, never
 * run. False for any other size or a fault: pmemflush_copy_in() then
 * decides.
 */
static bool pmemflush_flush_in(struct pmemflush_flush *arg,
			       struct pmemflush_flush __user *uarg)
{
	u64 __user *words = (u64 __user *)uarg;
	u64 w0, w1, w4;

	/* the struct is 8-aligned: two u32 fields per load, little-endian */
	BUILD_BUG_ON(IS_ENABLED(CONFIG_CPU_BIG_ENDIAN));
	BUILD_BUG_ON(offsetof(struct pmemflush_flush, region_id) != 32);
	if (!user_access_begin(uarg, sizeof(*uarg)))
		return false;
	unsafe_get_user(w0, &words[0], fault);	/* size, flags */
	if ((u32)w0 != sizeof(*arg))
		goto fault;
	unsafe_get_user(w1, &words[1], fault);	/* fd, __reserved */
	unsafe_get_user(arg->offset, &uarg->offset, fault);
	unsafe_get_user(arg->length, &uarg->length, fault);
	unsafe_get_user(w4, &words[4], fault);	/* region_id, out_flags */
	unsafe_get_user(arg->flush_seq, &uarg->flush_seq, fault);
	user_access_end();
	arg->size = w0;
	arg->flags = w0 >> 32;
	arg->fd = (s32)w1;
	arg->__reserved = w1 >> 32;
	arg->region_id = w4;
	arg->out_flags = w4 >> 32;
	return true;
fault:
	user_access_end();
	return false;
}

static int pmemflush_ioctl_flush(struct pmemflush_ctx *ctx, void __user *argp)
{
	struct pmemflush_target stack, *t;
	struct pmemflush_flush arg;
	struct file *file;
	u32 usize = sizeof(arg);
	int rc;

	if (!pmemflush_flush_in(&arg, argp)) {
		rc = pmemflush_copy_in(&arg, sizeof(arg),
				       PMEMFLUSH_FLUSH_SIZE_VER0, argp, &usize);
		if (rc)
			return rc;
	}
	if (arg.flags & ~PMEMFLUSH_BY_ID || arg.__reserved)
		return -EINVAL;

	if (arg.flags & PMEMFLUSH_BY_ID) {
		rc = pmemflush_flush_barriers(ctx, &arg);
		if (rc != -EAGAIN)
			return rc ?: pmemflush_flush_out(argp, &arg, usize);
	}
	t = pmemflush_cmd_get(ctx, arg.flags, arg.fd, &stack, &file);
	if (IS_ERR(t))
		return PTR_ERR(t);
	rc = pmemflush_do_flush(t, file, arg.offset, arg.length,
				&arg.flush_seq);
	if (!rc) {
		arg.region_id = t->region->id;
		arg.out_flags = pmemflush_flush_flags(t->region);
		rc = pmemflush_flush_out(argp, &arg, usize);
	}
	pmemflush_cmd_put(t, &stack, file);
	return rc;
}

/*
 * The region's persistence domain. A region that reports neither hides the
 * attribute (ENOENT: unknown); a failed allocation is the caller's ENOMEM,
 * never a wrong answer.
 */
static int pmemflush_persistence_domain(struct pmemflush_region *r, u32 *pd)
{
	char buf[32];
	int rc;

	*pd = PMEMFLUSH_PERSIST_UNKNOWN;
	rc = pmemflush_sysfs_read(r->dev, "persistence_domain", buf, sizeof(buf));
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		return 0;
	if (sysfs_streq(buf, "cpu_cache"))
		*pd = PMEMFLUSH_PERSIST_CPU_CACHE;
	else if (sysfs_streq(buf, "memory_controller"))
		*pd = PMEMFLUSH_PERSIST_MEMORY_CONTROLLER;
	return 0;
}

/*
 * Is the region on CXL's nd bus? cxl_pmem registers its bus with provider
 * "CXL" (drivers/cxl/pmem.c in 6.1 and 6.12). The bus is the region's parent
 * directory in sysfs: its attribute is read by path ("../provider") through
 * the module's sysfs mount, as persistence_domain is, so the bus device's
 * struct is never dereferenced here (device_del() of the region drops its
 * reference on the parent, in 6.1 and 6.12) and a bus going away makes the
 * open fail rather than show() run late. 1 or 0, or -ENOMEM.
 */
static int pmemflush_region_cxl(struct pmemflush_region *r)
{
	char buf[16];
	int rc;

	rc = pmemflush_sysfs_read(r->dev, "../provider", buf, sizeof(buf));
	if (rc == -ENOMEM)
		return rc;
	return !rc && sysfs_streq(buf, "CXL");
}

/* does a DAX mapping of @t accept MAP_SYNC? */
static bool pmemflush_dax_sync(struct pmemflush_target *t)
{
	/* device-dax accepts MAP_SYNC on every region */
	if (t->kind == PMEMFLUSH_TARGET_DEVDAX)
		return true;
	return t->kind == PMEMFLUSH_TARGET_FSDAX_FILE &&
	       dax_synchronous(t->dax_dev);
}

static int pmemflush_ioctl_query(struct pmemflush_ctx *ctx, void __user *argp)
{
	struct pmemflush_target stack, *t;
	struct pmemflush_query arg;
	struct file *file;
	int rc, cookie;
	u32 usize;

	rc = pmemflush_copy_in(&arg, sizeof(arg), PMEMFLUSH_QUERY_SIZE_VER0,
			       argp, &usize);
	if (rc)
		return rc;
	if (arg.flags & ~PMEMFLUSH_BY_ID || arg.__reserved || arg.__reserved2)
		return -EINVAL;

	t = pmemflush_cmd_get(ctx, arg.flags, arg.fd, &stack, &file);
	if (IS_ERR(t))
		return PTR_ERR(t);
	/* describe only a target that is still there */
	rc = pmemflush_live_enter(t, &cookie);
	if (rc)
		goto out;
	pmemflush_live_exit(t, cookie);
	arg.region_id = t->region->id;
	arg.has_flush = t->region->has_flush;
	rc = pmemflush_persistence_domain(t->region, &arg.persistence_domain);
	if (rc)
		goto out;
	arg.target_kind = t->kind;
	arg.target_size = pmemflush_target_size(t, file);
	arg.out_flags = 0;
	if (t->region->async)
		arg.out_flags |= PMEMFLUSH_REGION_ASYNC;
	if (pmemflush_dax_sync(t))
		arg.out_flags |= PMEMFLUSH_DAX_SYNC;
	rc = pmemflush_region_cxl(t->region);
	if (rc < 0)
		goto out;
	if (rc)
		arg.out_flags |= PMEMFLUSH_REGION_CXL;
	rc = pmemflush_copy_out(argp, &arg, sizeof(arg), usize);
out:
	pmemflush_cmd_put(t, &stack, file);
	return rc;
}

/*
 * The file that one shared, writable mapping maps over [@addr, @addr +
 * @length), referenced, and the offset of @addr in it.
 */
static struct file *pmemflush_vma_file(u64 addr, u64 length, u64 *offset)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct file *file;
	u64 end;

	if (!length)
		return ERR_PTR(-EINVAL);
	if (check_add_overflow(addr, length, &end))
		return ERR_PTR(-EOVERFLOW);
	if (mmap_read_lock_killable(mm))
		return ERR_PTR(-EINTR);
	vma = vma_lookup(mm, addr);
	if (!vma || end > vma->vm_end) {
		file = ERR_PTR(-EFAULT);
	} else if (!vma->vm_file || (vma->vm_flags & (VM_SHARED | VM_WRITE)) !=
					    (VM_SHARED | VM_WRITE)) {
		file = ERR_PTR(-EACCES);
	} else {
		file = get_file(vma->vm_file);
		*offset = addr - vma->vm_start +
			  ((u64)vma->vm_pgoff << PAGE_SHIFT);
	}
	mmap_read_unlock(mm);
	return file;
}

/*
 * Drop @id, or only while it still names @only when that is set; false when
 * it was not there (or named another target).
 */
static bool pmemflush_drop_id(struct pmemflush_ctx *ctx, u32 id,
			      struct pmemflush_target *only)
{
	struct pmemflush_target *t;

	/* the flat slot first, so that no lookup finds it after the put */
	xa_lock(&ctx->ids);
	if (only) {
		/* storing NULL allocates nothing: no error entry comes back */
		t = __xa_cmpxchg(&ctx->ids, id, only, NULL, 0);
		if (t != only)
			t = NULL;
	} else {
		t = __xa_erase(&ctx->ids, id);
	}
	if (t && id < PMEMFLUSH_FLAT_IDS)
		RCU_INIT_POINTER(ctx->flat[id], NULL);
	xa_unlock(&ctx->ids);
	pmemflush_target_put(t);
	return t;
}

static int pmemflush_ioctl_register(struct pmemflush_ctx *ctx,
				    void __user *argp)
{
	struct pmemflush_register arg;
	struct pmemflush_target *t;
	struct file *file;
	u32 usize, id;
	int rc;

	rc = pmemflush_copy_in(&arg, sizeof(arg), PMEMFLUSH_REGISTER_SIZE_VER0,
			       argp, &usize);
	if (rc)
		return rc;
	if (arg.flags & ~PMEMFLUSH_BY_ADDR || arg.id || arg.offset)
		return -EINVAL;

	arg.offset = 0;
	if (arg.flags & PMEMFLUSH_BY_ADDR) {
		file = pmemflush_vma_file(arg.addr, arg.length, &arg.offset);
	} else {
		if (arg.addr || arg.length)
			return -EINVAL;
		file = arg.fd < 0 ? NULL : fget(arg.fd);
		file = file ?: ERR_PTR(-EBADF);
	}
	if (IS_ERR(file))
		return PTR_ERR(file);
	t = pmemflush_target_new(file, GFP_KERNEL_ACCOUNT);
	fput(file);
	if (IS_ERR(t))
		return PTR_ERR(t);

	/* the table's reference, and ours until the id is out (see below) */
	kref_get(&t->kref);
	rc = xa_alloc(&ctx->ids, &id, t, XA_LIMIT(1, PMEMFLUSH_MAX_IDS),
		      GFP_KERNEL_ACCOUNT);
	if (rc) {
		pmemflush_target_put(t);
		pmemflush_target_put(t);
		return rc == -EBUSY ? -ENOSPC : rc;
	}
	/* under the lock that orders it against pmemflush_drop_id() */
	xa_lock(&ctx->ids);
	if (id < PMEMFLUSH_FLAT_IDS && xa_load(&ctx->ids, id) == t)
		rcu_assign_pointer(ctx->flat[id], t);
	xa_unlock(&ctx->ids);
	arg.id = id;
	rc = pmemflush_copy_out(argp, &arg, sizeof(arg), usize);
	/*
	 * A caller that cannot learn the id does not keep it. The id is
	 * visible from xa_alloc() on: another thread of this file may have
	 * unregistered it during the copy-out and a third registered again
	 * under the same number, so only the entry that is still @t goes.
	 * Our reference keeps @t from being freed and its address from naming
	 * that new target.
	 */
	if (rc)
		pmemflush_drop_id(ctx, id, t);
	pmemflush_target_put(t);
	return rc;
}

static int pmemflush_ioctl_unregister(struct pmemflush_ctx *ctx,
				      void __user *argp)
{
	struct pmemflush_unregister arg;
	u32 usize;
	int rc;

	rc = pmemflush_copy_in(&arg, sizeof(arg),
			       PMEMFLUSH_UNREGISTER_SIZE_VER0, argp, &usize);
	if (rc)
		return rc;
	if (arg.flags || arg.__reserved)
		return -EINVAL;
	return pmemflush_drop_id(ctx, arg.id, NULL) ? 0 : -ENOENT;
}

static long pmemflush_char_ioctl(struct file *file, unsigned int cmd,
				 unsigned long parm)
{
	struct pmemflush_ctx *ctx = file->private_data;
	void __user *argp = (void __user *)parm;

	/* the struct's own size field, not the one in cmd, says its size */
	if (_IOC_TYPE(cmd) != PMEMFLUSH_TYPE ||
	    _IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
		return -ENOIOCTLCMD;

	switch (_IOC_NR(cmd)) {
	case PMEMFLUSH_CMD_FLUSH:
		return pmemflush_ioctl_flush(ctx, argp);
	case PMEMFLUSH_CMD_QUERY:
		return pmemflush_ioctl_query(ctx, argp);
	case PMEMFLUSH_CMD_REGISTER:
		return pmemflush_ioctl_register(ctx, argp);
	case PMEMFLUSH_CMD_UNREGISTER:
		return pmemflush_ioctl_unregister(ctx, argp);
	default:
		return -ENOIOCTLCMD;
	}
}

static int pmemflush_open(struct inode *inode, struct file *file)
{
	struct pmemflush_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	xa_init_flags(&ctx->ids, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	spin_lock_init(&ctx->cache_lock);
	file->private_data = ctx;
	return 0;
}

static int pmemflush_release(struct inode *inode, struct file *file)
{
	struct pmemflush_ctx *ctx = file->private_data;
	struct pmemflush_target *t;
	unsigned long id;
	unsigned int i;

	xa_for_each(&ctx->ids, id, t)
		pmemflush_target_put(t);
	xa_destroy(&ctx->ids);
	for (i = 0; i < PMEMFLUSH_FD_CACHE; i++)
		pmemflush_target_put(rcu_dereference_protected(ctx->cache[i], 1));
	kfree(ctx);
	return 0;
}

static const struct file_operations pmemflush_fops = {
	.owner		= THIS_MODULE,
	.open		= pmemflush_open,
	.release	= pmemflush_release,
	.unlocked_ioctl	= pmemflush_char_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice pmemflush_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "pmemflush",
	.fops		= &pmemflush_fops,
	/* every command checks the caller's own access to the target */
	.mode		= 0666,
};

/* debugfs "regions": each region in use and its group-commit counters */
static int pmemflush_regions_show(struct seq_file *m, void *v)
{
	struct pmemflush_region *r;
	unsigned long id;

	rcu_read_lock();
	xa_for_each(&pmemflush_regions, id, r) {
		spin_lock(&r->lock);
		seq_printf(m, "region%u issued %llu completed %llu ok %llu\n",
			   r->id, r->issued, r->completed, r->ok);
		spin_unlock(&r->lock);
	}
	rcu_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pmemflush_regions);

static int __init pmemflush_init(void)
{
	struct file_system_type *sysfs = get_fs_type("sysfs");
	int rc;

	/* sysfs is built in: get_fs_type() took no module reference */
	if (!sysfs)
		return -ENODEV;
	pmemflush_sysfs = kern_mount(sysfs);
	if (IS_ERR(pmemflush_sysfs))
		return PTR_ERR(pmemflush_sysfs);
	rc = misc_register(&pmemflush_misc);
	if (rc) {
		kern_unmount(pmemflush_sysfs);
		return rc;
	}
	pmemflush_debugfs = debugfs_create_dir("pmemflush", NULL);
	debugfs_create_file("regions", 0400, pmemflush_debugfs, NULL,
			    &pmemflush_regions_fops);
	debugfs_create_u32("flush_delay_us", 0600, pmemflush_debugfs,
			   &pmemflush_flush_delay_us);
	debugfs_create_atomic_t("in_window", 0400, pmemflush_debugfs,
				&pmemflush_in_window);
	return 0;
}

static void __exit pmemflush_exit(void)
{
	debugfs_remove(pmemflush_debugfs);
	misc_deregister(&pmemflush_misc);
	/* targets are gone with their files: no region is left */
	WARN_ON(!xa_empty(&pmemflush_regions));
	rcu_barrier();
	kern_unmount(pmemflush_sysfs);
}

module_init(pmemflush_init);
module_exit(pmemflush_exit);

MODULE_DESCRIPTION("Deep flush of persistent memory regions behind a file");
MODULE_LICENSE("GPL");
