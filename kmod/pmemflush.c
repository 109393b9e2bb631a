// SPDX-License-Identifier: GPL-2.0
/*
 * pmemflush: deep flush (nvdimm_flush) of the persistent memory region behind
 * a file descriptor, for callers that hold the file open for writing.
 */

#include <linux/blkdev.h>
#include <linux/cdev.h>
#include <linux/dax.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/libnvdimm.h>
#include <linux/magic.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pmemflush.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

/* What an fd resolved to; region_dev holds a reference. */
struct pmemflush_target {
	struct device *region_dev;
	struct nd_region *region;
	struct block_device *bdev;	/* NULL for device-dax */
	struct device *dax_dev;		/* device-dax only, not referenced */
	u32 kind;
	u64 size;			/* the bound of a range */
};

static bool dev_on_bus(struct device *dev, const char *bus)
{
	return dev->bus && !strcmp(dev->bus->name, bus);
}

static bool dev_of_type(struct device *dev, const char *type)
{
	return dev->type && dev->type->name && !strcmp(dev->type->name, type);
}

/*
 * A reference to @dev's parent, taken while @dev is bound to a driver.
 * device_del() unbinds a device before it drops the device's reference to
 * its parent, so while a driver is seen under the device lock the parent is
 * still alive. NULL when @dev is no longer bound.
 */
static struct device *get_bound_parent(struct device *dev)
{
	struct device *parent = NULL;

	device_lock(dev);
	if (dev->driver)
		parent = get_device(dev->parent);
	device_unlock(dev);
	return parent;
}

/*
 * @ndev (referenced, consumed) is the nd device that claims a namespace:
 * the namespace itself, its pfn, btt or dax device. Its parent is the region.
 */
static int pmemflush_resolve_nd(struct device *ndev, struct pmemflush_target *t)
{
	struct device *rdev;
	int rc = -ENODEV;

	if (!dev_on_bus(ndev, "nd"))
		goto out;
	rc = -ENXIO;
	rdev = get_bound_parent(ndev);
	if (!rdev)
		goto out;
	rc = -ENODEV;
	/* to_nd_region() WARNs on anything but a region */
	if (!dev_on_bus(rdev, "nd") || !dev_of_type(rdev, "nd_pmem")) {
		put_device(rdev);
		goto out;
	}
	t->region_dev = rdev;
	t->region = to_nd_region(rdev);
	rc = 0;
out:
	put_device(ndev);
	return rc;
}

static int pmemflush_resolve_bdev(struct block_device *bdev,
				  struct pmemflush_target *t)
{
	struct gendisk *disk = bdev->bd_disk;
	struct device *ndev = NULL;
	bool live;

	/* del_gendisk() marks the disk dead under open_mutex before device_del() */
	mutex_lock(&disk->open_mutex);
	live = disk_live(disk);
	if (live)
		ndev = get_device(disk_to_dev(disk)->parent);
	mutex_unlock(&disk->open_mutex);
	if (!live)
		return -ENXIO;
	if (!ndev)
		return -ENODEV;
	t->bdev = bdev;
	t->kind = dev_of_type(ndev, "nd_btt") ? PMEMFLUSH_TARGET_BTT :
						PMEMFLUSH_TARGET_BLOCK;
	return pmemflush_resolve_nd(ndev, t);
}

/*
 * device-dax points the file's mapping at the dax inode, whose i_cdev is the
 * cdev this file holds open; that cdev pins its parent, the dev_dax device.
 */
static int pmemflush_resolve_devdax(struct file *file,
				    struct pmemflush_target *t)
{
	struct inode *dax_inode = file->f_mapping->host;
	struct kobject *parent;
	struct device *ddev, *ndev;

	if (dax_inode->i_sb->s_magic != DAXFS_MAGIC || !dax_inode->i_cdev)
		return -ENODEV;
	parent = dax_inode->i_cdev->kobj.parent;
	if (!parent)
		return -ENODEV;
	ddev = kobj_to_dev(parent);
	if (!dev_on_bus(ddev, "dax"))
		return -ENODEV;
	ndev = get_bound_parent(ddev);
	if (!ndev)
		return -ENXIO;
	/* hmem and CXL device-dax have no nd_dax parent */
	if (!dev_of_type(ndev, "nd_dax")) {
		put_device(ndev);
		return -ENODEV;
	}
	t->dax_dev = ddev;
	t->kind = PMEMFLUSH_TARGET_DEVDAX;
	return pmemflush_resolve_nd(ndev, t);
}

static int pmemflush_resolve(struct file *file, struct pmemflush_target *t)
{
	struct inode *inode = file_inode(file);
	int rc;

	memset(t, 0, sizeof(*t));
	if (S_ISBLK(inode->i_mode))
		return pmemflush_resolve_bdev(I_BDEV(file->f_mapping->host), t);
	if (S_ISCHR(inode->i_mode))
		return pmemflush_resolve_devdax(file, t);
	if (!S_ISREG(inode->i_mode) || !inode->i_sb->s_bdev)
		return -ENODEV;

	rc = pmemflush_resolve_bdev(inode->i_sb->s_bdev, t);
	if (rc)
		return rc;
	t->kind = PMEMFLUSH_TARGET_FSDAX_FILE;
	/* page-cache data is persisted by fsync(), not by a region flush */
	if (!IS_DAX(inode)) {
		put_device(t->region_dev);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * Read a sysfs attribute of @dev through its show() method into @page, a
 * page-aligned PAGE_SIZE buffer as sysfs_emit() insists. The values read
 * this way live only in private structs of drivers/dax and drivers/nvdimm.
 */
static int pmemflush_read_attr(struct device *dev, const char *name,
			       char *page)
{
	const struct attribute_group **groups;
	struct attribute **attr;
	struct device_attribute *da;
	ssize_t len;

	for (groups = dev->type ? dev->type->groups : NULL; groups && *groups;
	     groups++) {
		for (attr = (*groups)->attrs; attr && *attr; attr++) {
			if (strcmp((*attr)->name, name))
				continue;
			da = container_of(*attr, struct device_attribute, attr);
			if (!da->show)
				return -EIO;
			len = da->show(dev, da, page);
			if (len < 0)
				return len;
			page[min_t(size_t, len, PAGE_SIZE - 1)] = '\0';
			return 0;
		}
	}
	return -EIO;
}

/*
 * Page-sized, page-aligned buffers for show(). A cache with a constructor
 * is exempt from init_on_alloc (on in Debian's kernels), so the flush path
 * does not zero a page per call only to print a number into it.
 */
static struct kmem_cache *pmemflush_attr_cache;

static void pmemflush_attr_ctor(void *buf)
{
}

static char *pmemflush_attr_buf(void)
{
	return kmem_cache_alloc(pmemflush_attr_cache, GFP_KERNEL);
}

static void pmemflush_attr_put(char *buf)
{
	kmem_cache_free(pmemflush_attr_cache, buf);
}

static int pmemflush_target_size(struct file *file, struct pmemflush_target *t)
{
	char *page;
	int rc;

	if (t->kind == PMEMFLUSH_TARGET_FSDAX_FILE) {
		t->size = i_size_read(file_inode(file));
		return 0;
	}
	if (t->bdev) {
		t->size = bdev_nr_bytes(t->bdev);
		return 0;
	}
	page = pmemflush_attr_buf();
	if (!page)
		return -ENOMEM;
	rc = pmemflush_read_attr(t->dax_dev, "size", page);
	if (!rc)
		rc = kstrtou64(strim(page), 0, &t->size);
	pmemflush_attr_put(page);
	/* a dev_dax device that lost its ranges is being torn down */
	if (!rc && !t->size)
		rc = -ENXIO;
	return rc;
}

static u32 pmemflush_region_id(struct pmemflush_target *t)
{
	unsigned int id = 0;

	if (sscanf(dev_name(t->region_dev), "region%u", &id) != 1)
		return U32_MAX;
	return id;
}

/*
 * generic_nvdimm_flush() reads the region driver's data, which is freed when
 * the region is unbound: flush only while the region is bound.
 */
static int pmemflush_region_flush(struct pmemflush_target *t)
{
	struct device *rdev = t->region_dev;
	int rc = -ENXIO;

	device_lock(rdev);
	if (rdev->driver && dev_get_drvdata(rdev))
		rc = nvdimm_flush(t->region, NULL);
	device_unlock(rdev);
	return rc;
}

/*
 * Read a command struct: @usize (its first field) says how much userspace
 * passed; shorter than @min is EINVAL, a non-zero unknown tail is E2BIG.
 */
static int pmemflush_copy_in(void *karg, size_t ksize, size_t min,
			     void __user *argp, u32 *usize)
{
	if (get_user(*usize, (u32 __user *)argp))
		return -EFAULT;
	if (*usize < min)
		return -EINVAL;
	return copy_struct_from_user(karg, ksize, argp, *usize);
}

static int pmemflush_copy_out(void __user *argp, const void *karg,
			      size_t ksize, u32 usize)
{
	return copy_to_user(argp, karg, min_t(size_t, ksize, usize)) ?
		-EFAULT : 0;
}

/* The target fd, which the caller must hold open for writing. */
static struct file *pmemflush_fget(s32 fd)
{
	struct file *file;

	/* fget() refuses O_PATH files */
	file = fd < 0 ? NULL : fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (!(file->f_mode & FMODE_WRITE)) {
		fput(file);
		return ERR_PTR(-EBADF);
	}
	return file;
}

/*
 * The target file behind @fd, referenced, with its region (referenced) and
 * size in @t; undone by pmemflush_target_put().
 */
static struct file *pmemflush_target_get(s32 fd, struct pmemflush_target *t)
{
	struct file *file;
	int rc;

	file = pmemflush_fget(fd);
	if (IS_ERR(file))
		return file;
	rc = pmemflush_resolve(file, t);
	if (!rc) {
		rc = pmemflush_target_size(file, t);
		if (rc)
			put_device(t->region_dev);
	}
	if (rc) {
		fput(file);
		return ERR_PTR(rc);
	}
	return file;
}

static void pmemflush_target_put(struct file *file, struct pmemflush_target *t)
{
	put_device(t->region_dev);
	fput(file);
}

static int pmemflush_flush(void __user *argp)
{
	struct pmemflush_target t;
	struct pmemflush_flush arg;
	struct file *file;
	u32 usize;
	u64 end;
	int rc;

	rc = pmemflush_copy_in(&arg, sizeof(arg), sizeof(arg), argp, &usize);
	if (rc)
		return rc;
	if (arg.flags || arg.__reserved)
		return -EINVAL;
	if (check_add_overflow(arg.offset, arg.length, &end))
		return -EOVERFLOW;

	file = pmemflush_target_get(arg.fd, &t);
	if (IS_ERR(file))
		return PTR_ERR(file);
	rc = end > t.size ? -ERANGE : pmemflush_region_flush(&t);
	if (!rc) {
		arg.region_id = pmemflush_region_id(&t);
		arg.out_flags = 0;
		if (nvdimm_has_flush(t.region) == 1 || !is_nvdimm_sync(t.region))
			arg.out_flags |= PMEMFLUSH_FLUSHED_DEVICE;
		rc = pmemflush_copy_out(argp, &arg, sizeof(arg), usize);
	}
	pmemflush_target_put(file, &t);
	return rc;
}

static u32 pmemflush_persistence_domain(struct pmemflush_target *t)
{
	u32 domain = PMEMFLUSH_PERSIST_UNKNOWN;
	char *page;

	page = pmemflush_attr_buf();
	if (!page)
		return domain;
	if (!pmemflush_read_attr(t->region_dev, "persistence_domain", page)) {
		if (sysfs_streq(page, "cpu_cache"))
			domain = PMEMFLUSH_PERSIST_CPU_CACHE;
		else if (sysfs_streq(page, "memory_controller"))
			domain = PMEMFLUSH_PERSIST_MEMORY_CONTROLLER;
	}
	pmemflush_attr_put(page);
	return domain;
}

static bool pmemflush_dax_sync(struct pmemflush_target *t)
{
	struct dax_device *dax_dev;
	u64 start_off;
	bool sync;

	/* device-dax accepts MAP_SYNC on every region */
	if (t->kind == PMEMFLUSH_TARGET_DEVDAX)
		return true;
	if (t->kind != PMEMFLUSH_TARGET_FSDAX_FILE)
		return false;
	/* xfs holds its dax device with itself as holder: ask with none */
	dax_dev = fs_dax_get_by_bdev(t->bdev, &start_off, NULL, NULL);
	if (!dax_dev)
		return false;
	sync = dax_synchronous(dax_dev);
	fs_put_dax(dax_dev, NULL);
	return sync;
}

static int pmemflush_query(void __user *argp)
{
	struct pmemflush_target t;
	struct pmemflush_query arg;
	struct file *file;
	u32 usize;
	int rc;

	rc = pmemflush_copy_in(&arg, sizeof(arg), sizeof(arg), argp, &usize);
	if (rc)
		return rc;
	if (arg.flags || arg.__reserved || arg.__reserved2)
		return -EINVAL;

	file = pmemflush_target_get(arg.fd, &t);
	if (IS_ERR(file))
		return PTR_ERR(file);
	arg.region_id = pmemflush_region_id(&t);
	arg.has_flush = nvdimm_has_flush(t.region);
	arg.persistence_domain = pmemflush_persistence_domain(&t);
	arg.target_kind = t.kind;
	arg.target_size = t.size;
	arg.out_flags = 0;
	if (!is_nvdimm_sync(t.region))
		arg.out_flags |= PMEMFLUSH_REGION_ASYNC;
	if (pmemflush_dax_sync(&t))
		arg.out_flags |= PMEMFLUSH_DAX_SYNC;
	rc = pmemflush_copy_out(argp, &arg, sizeof(arg), usize);
	pmemflush_target_put(file, &t);
	return rc;
}

static long pmemflush_char_ioctl(struct file *file, unsigned int cmd,
				 unsigned long parm)
{
	void __user *argp = (void __user *)parm;

	/* the struct's own size field, not the one in cmd, says its size */
	if (_IOC_TYPE(cmd) != PMEMFLUSH_TYPE ||
	    _IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
		return -ENOIOCTLCMD;

	switch (_IOC_NR(cmd)) {
	case PMEMFLUSH_CMD_FLUSH:
		return pmemflush_flush(argp);
	case PMEMFLUSH_CMD_QUERY:
		return pmemflush_query(argp);
	default:
		return -ENOIOCTLCMD;
	}
}

static const struct file_operations pmemflush_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= pmemflush_char_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice pmemflush_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "pmemflush",
	.fops		= &pmemflush_fops,
	/* every command checks the caller's own access to the target fd */
	.mode		= 0666,
};

static int __init pmemflush_init(void)
{
	int rc;

	pmemflush_attr_cache = kmem_cache_create("pmemflush_attr", PAGE_SIZE,
						 PAGE_SIZE, 0,
						 pmemflush_attr_ctor);
	if (!pmemflush_attr_cache)
		return -ENOMEM;
	rc = misc_register(&pmemflush_misc);
	if (rc)
		kmem_cache_destroy(pmemflush_attr_cache);
	return rc;
}

static void __exit pmemflush_exit(void)
{
	misc_deregister(&pmemflush_misc);
	kmem_cache_destroy(pmemflush_attr_cache);
}

module_init(pmemflush_init);
module_exit(pmemflush_exit);

MODULE_DESCRIPTION("Deep flush of persistent memory regions behind a file");
MODULE_LICENSE("GPL");
