// SPDX-License-Identifier: GPL-2.0
/*
 * Device-dax targets: the dax_device behind a /dev/daxR.N file, its region
 * and its size.
 *
 * The caller's credentials are never used: the one fact read through sysfs,
 * a device-dax device's size (struct dev_dax is private and no exported
 * function returns its size in 6.1 or 6.12), is read by a worker of this
 * module, with the kernel's credentials and no signals, through the kernfs
 * file whose active reference keeps show()'s data alive (device_del()
 * drains it before free_dev_dax_ranges(), 6.1 and 6.12); the caller waits
 * killably, and a killed caller's read finishes in the worker, which
 * pmf_devdax_exit() waits for.
 */

#include <linux/cdev.h>
#include <linux/dax.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mount.h>
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
#ifdef PMF_DAX_PRIVATE_H
#include PMF_DAX_PRIVATE_H
#endif
struct dax_device *inode_dax(struct inode *inode);

/* sysfs, mounted for this module, and the worker that reads it */
static struct vfsmount *pmf_sysfs;
static struct workqueue_struct *pmf_wq;

/* the device-dax's region: the dev_dax's nd_dax parent's parent */
static struct device *pmf_devdax_rdev(struct pmf_resolved *res, void *arg)
{
	struct device *ddev = arg;

	/* hmem and CXL volatile device-dax have no nd_dax parent */
	if (!pmf_dev_of_type(ddev->parent, "nd_dax"))
		return NULL;
	return ddev->parent->parent;
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
int pmf_resolve_devdax(struct file *file, struct pmf_resolved *res)
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

int pmf_devdax_init(void)
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

void pmf_devdax_exit(void)
{
	/* a killed caller's read may still be running: wait for it */
	destroy_workqueue(pmf_wq);
	kern_unmount(pmf_sysfs);
}
