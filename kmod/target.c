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
 * The caller's credentials are never used: the one fact read through sysfs,
 * a device-dax device's size (struct dev_dax is private and no exported
 * function returns its size in 6.1 or 6.12), is read by a worker of this
 * module, with the kernel's credentials and no signals, through the kernfs
 * file whose active reference keeps show()'s data alive.
 */

#include <linux/blkdev.h>
#include <linux/cdev.h>
#include <linux/dax.h>
#include <linux/file.h>
#include <linux/fileattr.h>
#include <linux/fs.h>
#include <linux/libnvdimm.h>
#include <linux/magic.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <uapi/linux/pmemflush.h>

#include "pmemflush.h"

/*
 * Exported by dax.ko for device_dax but declared only in the private
 * drivers/dax/dax-private.h (6.1 and 6.12). Where the build tree has that
 * header, Kbuild includes it in this file too, so that a changed prototype
 * fails the build instead of miscompiling; tools/lint.sh checks it against
 * both Debian kernels' sources, whose headers packages lack it.
 */
struct dax_device *inode_dax(struct inode *inode);

/* sysfs, mounted for this module, and the worker that reads it */
static struct vfsmount *pmf_sysfs;
static struct workqueue_struct *pmf_wq;

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
static int pmf_bind(struct pmf_resolved *res,
		    struct device *(*rdev_of)(struct pmf_resolved *res,
					      void *arg),
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

/* the device-dax's region: the dev_dax's nd_dax parent's parent */
static struct device *pmf_devdax_rdev(struct pmf_resolved *res, void *arg)
{
	struct device *ddev = arg;

	/* hmem and CXL volatile device-dax have no nd_dax parent */
	if (!pmf_dev_of_type(ddev->parent, "nd_dax"))
		return NULL;
	return ddev->parent->parent;
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
 * device-dax points the file's mapping at the dax inode, whose i_cdev is the
 * cdev this file holds open; that cdev pins its parent, the dev_dax device,
 * which holds the dax_device (dev_dax_release() puts it).
 */
struct dax_device *pmf_devdax_of(struct file *file)
{
	struct inode *dax_inode = file->f_mapping->host;

	if (dax_inode->i_sb->s_magic != DAXFS_MAGIC || !dax_inode->i_cdev ||
	    !dax_inode->i_cdev->kobj.parent)
		return NULL;
	if (!pmf_dev_on_bus(kobj_to_dev(dax_inode->i_cdev->kobj.parent), "dax"))
		return NULL;
	return inode_dax(dax_inode);
}

struct pmf_size_read {
	struct work_struct work;
	struct completion done;
	struct kref kref;
	char *path;
	u64 size;
	int rc;
};

static void pmf_size_read_free(struct kref *kref)
{
	struct pmf_size_read *s = container_of(kref, struct pmf_size_read, kref);

	kfree(s->path);
	kfree(s);
}

static void pmf_size_read_fn(struct work_struct *work)
{
	struct pmf_size_read *s = container_of(work, struct pmf_size_read, work);
	struct file *file;
	char buf[32];
	loff_t pos = 0;
	ssize_t n;

	file = file_open_root_mnt(pmf_sysfs, s->path, O_RDONLY, 0);
	if (IS_ERR(file)) {
		s->rc = PTR_ERR(file);
		goto out;
	}
	n = kernel_read(file, buf, sizeof(buf) - 1, &pos);
	fput(file);
	if (n < 0) {
		s->rc = n;
		goto out;
	}
	buf[n] = '\0';
	s->rc = kstrtou64(strim(buf), 0, &s->size);
out:
	complete(&s->done);
	kref_put(&s->kref, pmf_size_read_free);
}

/*
 * The size of the dev_dax at sysfs path @dir (consumed), read by
 * pmf_size_read_fn() in this module's worker. A static dax region (every nd
 * one) cannot be resized (dev_dax_visible() makes "size" read-only, 6.1 and
 * 6.12), so it is read once per resolution. A device gone from sysfs, or
 * without ranges, is being torn down: -ENXIO; other errors are returned as
 * they are.
 */
static int pmf_devdax_size(char *dir, u64 *size)
{
	struct pmf_size_read *s;
	int rc;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s) {
		kfree(dir);
		return -ENOMEM;
	}
	s->path = kasprintf(GFP_KERNEL, "%s/size", dir);
	kfree(dir);
	if (!s->path) {
		kfree(s);
		return -ENOMEM;
	}
	INIT_WORK(&s->work, pmf_size_read_fn);
	init_completion(&s->done);
	kref_init(&s->kref);
	kref_get(&s->kref);
	queue_work(pmf_wq, &s->work);
	if (wait_for_completion_killable(&s->done)) {
		kref_put(&s->kref, pmf_size_read_free);
		return -EINTR;
	}
	rc = s->rc;
	*size = s->size;
	kref_put(&s->kref, pmf_size_read_free);
	if (rc == -ENOENT || rc == -ENODEV || (!rc && !*size))
		return -ENXIO;
	return rc;
}

/* Resolve a device-dax file into @res, referencing its dax_device. */
static int pmf_resolve_devdax(struct file *file, struct pmf_resolved *res)
{
	struct dax_device *dax_dev = pmf_devdax_of(file);
	struct inode *dax_inode = file->f_mapping->host;
	char *path = NULL;
	int rc;

	if (!dax_dev)
		return -ENODEV;
	res->kind = PMEMFLUSH_TARGET_DEVDAX;
	res->dax_dev = dax_dev;
	res->devt = dax_inode->i_rdev;
	/* put_dax() drops it: the dax inode is the dax_device's own */
	ihold(dax_inode);
	rc = pmf_bind(res, pmf_devdax_rdev,
		      kobj_to_dev(dax_inode->i_cdev->kobj.parent), &path);
	if (!rc)
		rc = pmf_devdax_size(path, &res->size);
	if (rc)
		pmf_unresolve(res);
	return rc;
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

/* undo pmf_resolve(): @res is empty afterwards */
void pmf_unresolve(struct pmf_resolved *res)
{
	pmf_region_put(res->region);
	if (res->dax_dev)
		put_dax(res->dax_dev);
	if (res->file)
		fput(res->file);
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
 * Resolve @file, which the caller holds, into @res (zeroed). A registration
 * (@reg) keeps a reference on a DAX file; undone by pmf_unresolve().
 */
int pmf_resolve(struct file *file, struct pmf_resolved *res, bool reg)
{
	struct inode *inode = file_inode(file);
	struct block_device *bdev;
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

/* range check, realtime check, group-committed region flush */
int pmf_do_flush(const struct pmf_resolved *res, struct file *file,
		 u64 offset, u64 length, u64 *seq)
{
	int rc = pmf_range_check(res, file, offset, length);

	if (rc)
		return rc;
	/* the owner may have made the empty file realtime since REGISTER */
	if (res->xfs && res->file && pmf_xfs_realtime(res->file))
		return -EOPNOTSUPP;
	return pmf_region_flush(res->region, res, seq);
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
 * as 6.12 recycles files within a grace period; XFS files, whose realtime
 * flag is read under the inode's lock, do not come here. The nd_region is
 * touched only after dax_alive(), while the region is registered.
 * -EAGAIN: not such a call.
 */
int pmf_flush_barriers(const struct pmf_resolved *res, u64 offset,
		       u64 length)
{
	int rc, cookie;

	if (res->region->device_flush || res->xfs ||
	    static_branch_unlikely(&pmf_flush_window_key))
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

int pmf_target_init(void)
{
	struct file_system_type *sysfs = get_fs_type("sysfs");

	/* sysfs is built in: get_fs_type() took no module reference */
	if (!sysfs)
		return -ENODEV;
	pmf_wq = alloc_workqueue("pmemflush", WQ_UNBOUND, 0);
	if (!pmf_wq)
		return -ENOMEM;
	pmf_sysfs = kern_mount(sysfs);
	if (IS_ERR(pmf_sysfs)) {
		destroy_workqueue(pmf_wq);
		return PTR_ERR(pmf_sysfs);
	}
	return 0;
}

void pmf_target_exit(void)
{
	/* a killed caller's read may still be running: wait for it */
	destroy_workqueue(pmf_wq);
	kern_unmount(pmf_sysfs);
}
