// SPDX-License-Identifier: GPL-2.0
/*
 * Resolution of a file to the nd region behind it, per kind, and the
 * liveness of what it resolved to.
 *
 * Liveness. A target is resolved once; every flush then checks that it is
 * still alive the way the kernel's own I/O to it does, and the region's
 * data is touched only inside that section:
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
 *   pages, BTT), flushed by fd only: holding the request queue's
 *   q_usage_counter, as bio_queue_enter() does; del_gendisk() waits for it
 *   (blk_mq_freeze_queue_wait(), 6.1 and 6.12) and is called from the disk
 *   driver's own removal (pmem_release_disk(), btt_fini()), so the claiming
 *   nd device stays bound, and its region with it, meanwhile.
 *
 * Nothing is decided about a file before it is known to be ours: a file on
 * a disk that no nvdimm driver drives gets ENODEV, and a non-DAX file on
 * pmem EOPNOTSUPP, from what the caller's open file pins (see
 * pmf_disk_maybe_pmem()), without a dax lookup or the disk's queue.
 *
 * Device-dax files are resolved in devdax.c.
 */

#include <linux/blkdev.h>
#include <linux/dax.h>
#include <linux/file.h>
#include <linux/fileattr.h>
#include <linux/fs.h>
#include <linux/iversion.h>
#include <linux/libnvdimm.h>
#include <linux/magic.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <uapi/linux/pmemflush.h>

#include "pmemflush.h"

/*
 * Enter the disk's queue as bio_queue_enter() does, for block devices that
 * are flushed without a dax_device; -ENXIO once del_gendisk() began. Not
 * inlined: the selftests count its calls with a kprobe.
 */
static noinline int pmemflush_queue_enter(struct gendisk *disk)
{
	struct request_queue *q = disk->queue;

	while (!percpu_ref_tryget_live(&q->q_usage_counter)) {
		/* frozen: wait for the thaw, or for del_gendisk() (GD_DEAD) */
		smp_rmb();
		if (wait_event_killable(q->mq_freeze_wq,
					!READ_ONCE(q->mq_freeze_depth) ||
					test_bit(GD_DEAD, &disk->state)))
			return -EINTR;
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

/* Liveness of @res, held across its flush; @*cookie is for exit. */
int pmf_live_enter(const struct pmf_resolved *res, int *cookie)
{
	if (!res->dax_dev)
		return pmemflush_queue_enter(res->disk);
	*cookie = dax_read_lock();
	if (dax_alive(res->dax_dev))
		return 0;
	dax_read_unlock(*cookie);
	return -ENXIO;
}

void pmf_live_exit(const struct pmf_resolved *res, int cookie)
{
	if (res->dax_dev)
		dax_read_unlock(cookie);
	else
		percpu_ref_put(&res->disk->queue->q_usage_counter);
}

/*
 * Bind @res to the region object of @rdev inside liveness (region.c says
 * why); @rdev_of finds the region device from @arg once inside. The first
 * region ever makes the nd bus watched, outside liveness.
 */
int pmf_bind(struct pmf_resolved *res,
	     struct device *(*rdev_of)(struct pmf_resolved *res, void *arg),
	     void *arg, char **devdax_path)
{
	struct pmf_region *spare = pmf_region_alloc();
	struct pmf_region *r;
	struct device *rdev;
	int rc, cookie;

again:
	rc = pmf_live_enter(res, &cookie);
	if (rc)
		goto out;
	rdev = rdev_of(res, arg);
	r = rdev ? pmf_region_get(rdev, &spare) : ERR_PTR(-ENODEV);
	/* the dev_dax is registered while its dax_device is alive */
	if (!IS_ERR(r) && devdax_path) {
		*devdax_path = kobject_get_path(&((struct device *)arg)->kobj,
						GFP_KERNEL);
		if (!*devdax_path) {
			pmf_region_put(r);
			r = ERR_PTR(-ENOMEM);
		}
	}
	pmf_live_exit(res, cookie);
	if (r == ERR_PTR(-EAGAIN)) {
		rc = pmf_region_watch();
		if (!rc)
			goto again;
		goto out;
	}
	rc = PTR_ERR_OR_ZERO(r);
	if (!rc)
		res->region = r;
out:
	kfree(spare);
	return rc;
}

/* a block device's region: the parent of the nd device claiming it */
static struct device *pmf_bdev_rdev(struct pmf_resolved *res, void *arg)
{
	struct device *ndev = disk_to_dev((struct gendisk *)arg)->parent;

	if (!pmf_dev_on_bus(ndev, "nd"))
		return NULL;
	res->kind = pmf_dev_of_type(ndev, "nd_btt") ? PMEMFLUSH_TARGET_BTT :
						      PMEMFLUSH_TARGET_BLOCK;
	return ndev->parent;
}

/*
 * Can @disk be a pmem or BTT disk? Decided from what the caller's open
 * block device pins, without liveness or the queue: the module of its
 * fops (blkdev_get_by_dev() in 6.1, bdev_open() in 6.12 took a reference
 * on it) or, for drivers built in, the name, which for both drivers
 * nvdimm_namespace_disk_name() makes "pmem...". A yes is checked again,
 * under liveness, by the region lookup.
 */
static bool pmf_disk_maybe_pmem(struct gendisk *disk)
{
	const struct module *owner = disk->fops->owner;

	if (owner)
		return !strcmp(owner->name, "nd_pmem") ||
		       !strcmp(owner->name, "nd_btt");
	return !strncmp(disk->disk_name, "pmem", 4);
}

/* fs_dax_get_by_bdev()'s alignment test, without its message per call */
static bool pmf_bdev_dax_aligned(struct block_device *bdev)
{
	return !((get_start_sect(bdev) * SECTOR_SIZE) % PAGE_SIZE) &&
	       !((bdev_nr_sectors(bdev) * SECTOR_SIZE) % PAGE_SIZE);
}

/*
 * Resolve block device @bdev, which the caller holds open, into @res. With
 * a dax_device (fsdax namespaces and their partitions: fs_dax_get_by_bdev()
 * takes a reference), that is the guard; otherwise the disk's queue, which
 * only a caller holding @bdev open may use: a registration (@reg) gets
 * EOPNOTSUPP instead.
 */
int pmf_resolve_bdev(struct block_device *bdev, struct pmf_resolved *res,
		     bool reg)
{
	struct gendisk *disk = bdev->bd_disk;
	u64 start_off;
	int rc;

	if (!pmf_disk_maybe_pmem(disk))
		return -ENODEV;
	/* NULL holder: look the dax_device up without claiming it */
	if (blk_queue_dax(disk->queue) && pmf_bdev_dax_aligned(bdev))
		res->dax_dev = fs_dax_get_by_bdev(bdev, &start_off, NULL, NULL);
	if (!res->dax_dev) {
		if (reg)
			return -EOPNOTSUPP;
		res->disk = disk;
	}
	rc = pmf_bind(res, pmf_bdev_rdev, disk, NULL);
	if (rc) {
		pmf_unresolve(res);
		return rc;
	}
	res->size = bdev_nr_bytes(bdev);
	res->devt = bdev->bd_dev;
	return 0;
}

/*
 * Undo pmf_resolve() for a target that the by-id fast path may still read
 * under rcu_read_lock() without a reference (pmf_flush_barriers()): its
 * pointers stay as they are, valid until the grace period after which
 * kfree_rcu() frees the target, since what they name is freed after a
 * grace period too (kfree_rcu() of the region object; the dax inode and a
 * DAX file's inode through RCU).
 */
void pmf_unresolve_rcu(struct pmf_resolved *res)
{
	pmf_region_put(res->region);
	if (res->dax_dev)
		put_dax(res->dax_dev);
	if (res->file)
		fput(res->file);
}

/* undo pmf_resolve() of a value no one else sees: @res is empty after */
void pmf_unresolve(struct pmf_resolved *res)
{
	pmf_unresolve_rcu(res);
	memset(res, 0, sizeof(*res));
}

/* XFS realtime files keep their data on the realtime device */
bool pmf_xfs_realtime(struct file *file)
{
	struct fileattr fa = {};

	if (file_inode(file)->i_sb->s_magic != XFS_SUPER_MAGIC)
		return false;
	return vfs_fileattr_get(file->f_path.dentry, &fa) ||
	       (fa.fsx_xflags & FS_XFLAG_REALTIME);
}

/*
 * Is registered XFS file @res still on the data device? Its realtime flag
 * can change only while it is empty, through vfs_fileattr_set() ->
 * xfs_fileattr_set(), whose transaction logs the inode core
 * (xfs_trans_log_inode(XFS_ILOG_CORE)), and the first such log of a
 * transaction increments i_version unconditionally on a v5 file system
 * (SB_I_VERSION; inode_maybe_inc_iversion(inode, true) in
 * xfs_trans_log_inode(), 6.1 and 6.12). So the flag is read again, under
 * the inode's lock, only when i_version moved since it was last read, and
 * the by-id fast path compares i_version alone. The version is read before
 * the flag: a change between the two makes the next call read it again.
 */
bool pmf_xfs_still_data(struct pmf_resolved *res)
{
	struct inode *inode = file_inode(res->file);
	u64 v = inode_peek_iversion(inode);

	if (IS_I_VERSION(inode) && v == READ_ONCE(res->xfs_version))
		return true;
	/* the version before the flag, as the flag's writer logs it after */
	smp_rmb();
	if (pmf_xfs_realtime(res->file))
		return false;
	WRITE_ONCE(res->xfs_version, v);
	return true;
}

/*
 * Resolve @file, which the caller holds, into @res (zeroed). A registration
 * (@reg) keeps a reference on a DAX file; undone by pmf_unresolve().
 */
int pmf_resolve(struct file *file, struct pmf_resolved *res, bool reg)
{
	struct inode *inode = file_inode(file);
	struct block_device *bdev;
	u64 version;
	int rc;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (S_ISBLK(inode->i_mode))
		return pmf_resolve_bdev(I_BDEV(file->f_mapping->host), res, reg);
	if (S_ISCHR(inode->i_mode))
		return pmf_resolve_devdax(file, res);
	bdev = inode->i_sb->s_bdev;
	if (!S_ISREG(inode->i_mode) || !bdev ||
	    !pmf_disk_maybe_pmem(bdev->bd_disk))
		return -ENODEV;
	/* page-cache data is persisted by fsync(), not by a region flush */
	version = inode_peek_iversion(inode);
	/* the version before the flag, as the flag's writer logs it after */
	smp_rmb();
	if (!IS_DAX(inode) || pmf_xfs_realtime(file))
		return -EOPNOTSUPP;

	rc = pmf_resolve_bdev(bdev, res, true);
	/* a DAX inode whose disk has no live dax_device: going away */
	if (rc == -EOPNOTSUPP)
		return -ENXIO;
	if (rc)
		return rc;
	res->kind = PMEMFLUSH_TARGET_FSDAX_FILE;
	res->devt = 0;
	res->size = 0;
	res->xfs = inode->i_sb->s_magic == XFS_SUPER_MAGIC;
	/* no version seen yet: without SB_I_VERSION each call reads the flag */
	res->xfs_version = IS_I_VERSION(inode) ? version : U64_MAX;
	if (reg) {
		res->file = get_file(file);
		res->inode = inode;
	}
	return 0;
}

u64 pmf_target_size(const struct pmf_resolved *res, struct file *file)
{
	if (res->kind == PMEMFLUSH_TARGET_FSDAX_FILE)
		return i_size_read(res->inode ?: file_inode(file));
	return res->size;
}

static int pmf_range_check(const struct pmf_resolved *res, struct file *file,
			   u64 offset, u64 length)
{
	u64 end;

	if (check_add_overflow(offset, length, &end))
		return -EOVERFLOW;
	return end > pmf_target_size(res, file) ? -ERANGE : 0;
}

/* what a FLUSH checks before its device flush: range, realtime */
int pmf_flush_check(struct pmf_resolved *res, struct file *file,
		    u64 offset, u64 length)
{
	int rc = pmf_range_check(res, file, offset, length);

	if (rc)
		return rc;
	/* the owner may have made the empty file realtime since REGISTER */
	if (res->xfs && res->file && !pmf_xfs_still_data(res))
		return -EOPNOTSUPP;
	return 0;
}

/* the checks, then the group-committed region flush */
int pmf_do_flush(struct pmf_resolved *res, struct file *file,
		 u64 offset, u64 length, u64 *seq)
{
	int rc = pmf_flush_check(res, file, offset, length);

	return rc ?: pmf_region_flush(res->region, res, seq);
}

/*
 * FLUSH of a registered target on a region without a device flush
 * (synchronous, no flush hints: in-tree flush callbacks, virtio-pmem's and
 * papr_scm's, come with ND_REGION_ASYNC), where nvdimm_flush() is
 * generic_nvdimm_flush()'s barriers and does not sleep: the caller holds
 * rcu_read_lock(), which keeps what is read here alive without a reference
 * (a target and its region object are freed with kfree_rcu(); a DAX file's
 * inode and the dax inode through RCU too: destroy_inode() -> i_callback(),
 * xfs_inode_free() likewise, 6.1 and 6.12). The target's file is not read,
 * as 6.12 recycles files within a grace period: an XFS file whose
 * i_version moved since its realtime flag was read (pmf_xfs_still_data())
 * goes the other way, which reads the flag under the inode's lock. The
 * nd_region is touched only after dax_alive(), while the region is
 * registered. -EAGAIN: not such a call.
 */
int pmf_flush_barriers(const struct pmf_resolved *res, u64 offset,
		       u64 length)
{
	int rc, cookie;

	if (res->region->device_flush ||
	    static_branch_unlikely(&pmf_flush_window_key))
		return -EAGAIN;
	if (res->xfs && (!IS_I_VERSION(res->inode) ||
			 inode_peek_iversion(res->inode) !=
			 READ_ONCE(res->xfs_version)))
		return -EAGAIN;
	rc = pmf_range_check(res, NULL, offset, length);
	if (rc)
		return rc;
	/* registered targets all have a dax_device: no queue to enter */
	rc = pmf_live_enter(res, &cookie);
	if (rc)
		return rc;
	rc = nvdimm_flush(res->region->nd_region, NULL);
	pmf_live_exit(res, cookie);
	return rc < 0 ? rc : 0;
}

/* does a DAX mapping of @res accept MAP_SYNC? */
bool pmf_dax_sync(const struct pmf_resolved *res)
{
	/* device-dax accepts MAP_SYNC on every region */
	if (res->kind == PMEMFLUSH_TARGET_DEVDAX)
		return true;
	return res->kind == PMEMFLUSH_TARGET_FSDAX_FILE &&
	       dax_synchronous(res->dax_dev);
}
