// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel API (include/linux/pmemflush.h): a driver resolves a file or
 * block device once and deep-flushes it as often as it likes. A driver's
 * target is a registered handle, like an id: it pins what an id pins (the
 * dax_device, a DAX file) and no driver or region device (target.c,
 * region.c), and is freed with kfree_rcu() for the by-id fast path.
 */

#include <linux/err.h>
#include <linux/pmemflush.h>
#include <linux/slab.h>

#include "pmemflush.h"

static void pmf_target_release(struct kref *kref)
{
	struct pmemflush_target *t =
		container_of(kref, struct pmemflush_target, kref);

	pmf_unresolve_rcu(&t->res);
	kfree_rcu(t, rcu);
}

static struct pmemflush_target *pmf_target_alloc(gfp_t gfp)
{
	struct pmemflush_target *t = kzalloc(sizeof(*t), gfp);

	if (t)
		kref_init(&t->kref);
	return t;
}

/* a registered target of @file, allocated with @gfp */
struct pmemflush_target *pmf_target_new(struct file *file, gfp_t gfp)
{
	struct pmemflush_target *t = pmf_target_alloc(gfp);
	int rc;

	if (!t)
		return ERR_PTR(-ENOMEM);
	rc = pmf_resolve(file, &t->res, true);
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
	return pmf_target_new(file, GFP_KERNEL);
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
	struct pmemflush_target *t = pmf_target_alloc(GFP_KERNEL);
	int rc;

	if (!t)
		return ERR_PTR(-ENOMEM);
	rc = pmf_resolve_bdev(bdev, &t->res, true);
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
 * is gone, -EOPNOTSUPP when an XFS file became realtime, -EIO or -ENOMEM
 * when the flush failed, -EINTR on a fatal signal.
 */
int pmemflush_target_flush(struct pmemflush_target *t, u64 offset, u64 length)
{
	u64 seq;

	return pmf_do_flush(&t->res, NULL, offset, length, &seq);
}
EXPORT_SYMBOL_GPL(pmemflush_target_flush);

/**
 * pmemflush_target_put() - release a target
 * @t: the target, or NULL
 */
void pmemflush_target_put(struct pmemflush_target *t)
{
	if (t)
		kref_put(&t->kref, pmf_target_release);
}
EXPORT_SYMBOL_GPL(pmemflush_target_put);
