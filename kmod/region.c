// SPDX-License-Identifier: GPL-2.0
/*
 * Region objects: one per nd region device in use, found by the device
 * object, never by its number, and the group commit of its device flushes.
 *
 * Identity. A region's number is not an identity: CXL nd regions take it
 * from the CXL region (drivers/cxl/pmem.c: ndr_desc.memregion = cxlr->id)
 * and nd_region_release() does not free it, so a new regionN can appear
 * while an object for the old one lives; and a struct device's address is
 * reused once it is freed. Objects are therefore keyed by the device's
 * address and unlinked when that device is deleted: this module watches
 * the nd bus for BUS_NOTIFY_REMOVED_DEVICE, which device_del() sends after
 * bus_remove_device() unbound the region driver (6.1 and 6.12), so after
 * nd_region_remove() unregistered every namespace, pfn, dax and btt device
 * of the region and, with them, killed every target's liveness (target.c).
 * An object is only ever created and linked inside a target's liveness
 * section, so none is linked for a device that already sent the
 * notification, and a device at a reused address finds no stale object.
 *
 * Pins. Objects hold no reference on the region device: its last put
 * (nd_region_release()) frees the memregion id, and an id held by an open
 * /dev/pmemflush would renumber the region (and its pmem disks) when it
 * comes back. @nd_region is dereferenced only inside the liveness section
 * of a target on the region, where the region is registered and bound.
 */

#include <linux/device.h>
#include <linux/libnvdimm.h>
#include <linux/notifier.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>
#include <uapi/linux/pmemflush.h>

#include "pmemflush.h"

static LIST_HEAD(pmf_regions);
static DEFINE_SPINLOCK(pmf_regions_lock);	/* pmf_regions and ->node */

/* the nd bus, watched from the first region on: device.bus's own type */
static DEFINE_MUTEX(pmf_watch_lock);
static typeof(((struct device *)NULL)->bus) pmf_watched_bus;
static typeof(((struct device *)NULL)->bus) pmf_seen_bus;

static int pmf_region_notify(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	struct pmf_region *r, *next;

	if (action != BUS_NOTIFY_REMOVED_DEVICE)
		return NOTIFY_DONE;
	spin_lock(&pmf_regions_lock);
	list_for_each_entry_safe(r, next, &pmf_regions, node)
		if (r->dev == data)
			list_del_init(&r->node);
	spin_unlock(&pmf_regions_lock);
	return NOTIFY_OK;
}

static struct notifier_block pmf_region_nb = {
	.notifier_call = pmf_region_notify,
};

/*
 * Start watching the bus pmf_region_get() asked for. Called outside any
 * liveness section: registering takes the chain's rwsem for writing, and
 * nothing may wait on it inside dax_srcu. The bus type is libnvdimm's,
 * which this module's symbol imports keep loaded.
 */
int pmf_region_watch(void)
{
	int rc = 0;

	mutex_lock(&pmf_watch_lock);
	if (!pmf_watched_bus && pmf_seen_bus) {
		rc = bus_register_notifier(pmf_seen_bus, &pmf_region_nb);
		if (!rc)
			WRITE_ONCE(pmf_watched_bus, pmf_seen_bus);
	}
	mutex_unlock(&pmf_watch_lock);
	return rc;
}

static void pmf_region_work(struct work_struct *work);

struct pmf_region *pmf_region_alloc(void)
{
	struct pmf_region *r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);

	if (!r)
		return NULL;
	kref_init(&r->kref);
	INIT_LIST_HEAD(&r->node);
	spin_lock_init(&r->lock);
	init_waitqueue_head(&r->wait);
	INIT_LIST_HEAD(&r->ucmds);
	INIT_WORK(&r->work, pmf_region_work);
	return r;
}

static void pmf_region_release(struct kref *kref)
{
	struct pmf_region *r = container_of(kref, struct pmf_region, kref);

	spin_lock(&pmf_regions_lock);
	list_del(&r->node);
	spin_unlock(&pmf_regions_lock);
	kfree_rcu(r, rcu);
}

void pmf_region_put(struct pmf_region *r)
{
	if (r)
		kref_put(&r->kref, pmf_region_release);
}

/* the region's persistence_domain attribute, from the region's own show() */
static int pmf_region_domain(struct device *rdev, u32 *pd)
{
	const struct attribute_group *const *g;
	struct device_attribute *da = NULL;
	struct attribute *const *a;
	char *buf;
	ssize_t n;

	*pd = PMEMFLUSH_PERSIST_UNKNOWN;
	for (g = rdev->type->groups; g && *g && !da; g++)
		for (a = (*g)->attrs; a && *a; a++)
			if (!strcmp((*a)->name, "persistence_domain")) {
				da = container_of(*a, struct device_attribute,
						  attr);
				break;
			}
	if (!da || !da->show)
		return 0;
	buf = (char *)__get_free_page(GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	n = da->show(rdev, da, buf);
	if (n > 0 && sysfs_streq(buf, "cpu_cache"))
		*pd = PMEMFLUSH_PERSIST_CPU_CACHE;
	else if (n > 0 && sysfs_streq(buf, "memory_controller"))
		*pd = PMEMFLUSH_PERSIST_MEMORY_CONTROLLER;
	free_page((unsigned long)buf);
	return 0;
}

/*
 * The facts of region @rdev that QUERY and FLUSH report, from the kernel's
 * objects, inside liveness: nvdimm_has_flush() and is_nvdimm_sync();
 * the bus descriptor's provider (cxl_pmem registers "CXL",
 * drivers/cxl/pmem.c in 6.1 and 6.12; a region's parent is its nvdimm bus,
 * nd_region_create()); and the persistence domain, which no exported
 * function returns: the region's own persistence_domain_show() reads only
 * nd_region->flags, fixed at creation (region_devs.c, 6.1 and 6.12), so it
 * is called directly rather than through a sysfs file.
 */
static int pmf_region_facts(struct pmf_region *r, struct device *rdev, u32 id)
{
	struct nvdimm_bus_descriptor *desc;

	r->dev = rdev;
	r->nd_region = to_nd_region(rdev);
	r->id = id;
	r->has_flush = nvdimm_has_flush(r->nd_region);
	r->async = !is_nvdimm_sync(r->nd_region);
	r->device_flush = r->has_flush == 1 || r->async;
	desc = to_nd_desc(to_nvdimm_bus(rdev->parent));
	r->cxl = desc && desc->provider_name &&
		 !strcmp(desc->provider_name, "CXL");
	return pmf_region_domain(rdev, &r->persistence_domain);
}

static struct pmf_region *pmf_region_find(struct device *rdev)
{
	struct pmf_region *r;

	lockdep_assert_held(&pmf_regions_lock);
	list_for_each_entry(r, &pmf_regions, node)
		if (r->dev == rdev && kref_get_unless_zero(&r->kref))
			return r;
	return NULL;
}

/**
 * pmf_region_get() - the region object of an nd region device, referenced
 * @rdev: the device; the caller is inside the liveness section of a target
 *	on it (target.c), so it is registered and its driver bound
 * @spare: a pmf_region_alloc() object, taken (set to NULL) when a new
 *	object is needed; may be NULL, then such a call fails with -ENOMEM
 *
 * Return: the object, or ERR_PTR(): -ENODEV when @rdev is not a pmem
 * region, -ENOMEM, or -EAGAIN when the nd bus is not watched yet: call
 * pmf_region_watch() outside liveness and try again.
 */
struct pmf_region *pmf_region_get(struct device *rdev,
				  struct pmf_region **spare)
{
	struct pmf_region *r;
	u32 id;
	int rc;

	/* to_nd_region() WARNs on anything but a region */
	if (!pmf_dev_on_bus(rdev, "nd") || !pmf_dev_of_type(rdev, "nd_pmem") ||
	    strncmp(dev_name(rdev), "region", 6) ||
	    kstrtou32(dev_name(rdev) + 6, 10, &id))
		return ERR_PTR(-ENODEV);
	if (unlikely(READ_ONCE(pmf_watched_bus) != rdev->bus)) {
		/* another caller may have started watching meanwhile */
		mutex_lock(&pmf_watch_lock);
		rc = pmf_watched_bus == rdev->bus ? 0 :
		     pmf_watched_bus ? -ENODEV : -EAGAIN;
		pmf_seen_bus = rdev->bus;
		mutex_unlock(&pmf_watch_lock);
		if (rc)
			return ERR_PTR(rc);
	}

	spin_lock(&pmf_regions_lock);
	r = pmf_region_find(rdev);
	spin_unlock(&pmf_regions_lock);
	if (r)
		return r;
	if (!*spare)
		return ERR_PTR(-ENOMEM);
	rc = pmf_region_facts(*spare, rdev, id);
	if (rc)
		return ERR_PTR(rc);

	spin_lock(&pmf_regions_lock);
	r = pmf_region_find(rdev);
	if (!r) {
		r = *spare;
		*spare = NULL;
		list_add(&r->node, &pmf_regions);
	}
	spin_unlock(&pmf_regions_lock);
	return r;
}

/*
 * One device flush of @r, inside the target's liveness; *@ran says whether
 * nvdimm_flush() ran (when not, the target is gone or the caller was
 * killed waiting for a frozen queue).
 */
static int pmf_region_flush_one(struct pmf_region *r,
				const struct pmf_resolved *res, bool *ran)
{
	int rc, cookie;
	bool widened;

	*ran = false;
	rc = pmf_live_enter(res, &cookie);
	if (rc)
		return rc;
	*ran = true;
	/* entered and left alike, however the knob changes meanwhile */
	widened = static_branch_unlikely(&pmf_flush_window_key);
	if (widened)
		pmf_flush_window_enter();
	rc = nvdimm_flush(r->nd_region, NULL);
	if (widened)
		pmf_flush_window_exit();
	pmf_live_exit(res, cookie);
	return rc < 0 ? rc : 0;
}

/*
 * Under @r->lock, after device flush @mine, which the caller numbered and
 * ran (or, !@ran, could not run: its target is gone, and the next caller
 * may take the number). Shared by the ioctl's callers and the io_uring
 * worker, so both number and complete flushes alike.
 */
static void pmf_region_flush_end(struct pmf_region *r, u64 mine, int rc,
				 bool ran)
{
	lockdep_assert_held(&r->lock);
	r->busy = false;
	if (!ran) {
		r->issued--;
		wake_up_all(&r->wait);
		return;
	}
	r->completed = mine;
	if (rc < 0)
		r->err = rc;
	else
		r->ok = mine;
	/* waiters queue without @lock: wq_has_sleeper() orders */
	if (wq_has_sleeper(&r->wait))
		wake_up_all(&r->wait);
}

/**
 * pmf_region_flush() - group-committed device flush of a target's region
 * @r: the region object of @res
 * @res: the target; its liveness is checked here
 * @seq: out: the flush that served the call, 0 without a device flush
 *
 * Returns once a device flush that started after this call began has
 * completed, running it if none is running. Only the caller that runs the
 * flush is inside the target's liveness section, around nvdimm_flush()
 * alone: waiters hold neither dax_srcu nor a queue reference, so they
 * delay no kill_dax() or del_gendisk(), and wait killably. No lock is held
 * across nvdimm_flush(). A synchronous region without flush hints has no
 * device flush to share: nvdimm_flush() only issues barriers, which must
 * run on the caller's CPU, so each caller runs it.
 *
 * Return: 0, -ENXIO when the target is gone, -EINTR on a fatal signal, or
 * what every flush that could serve the call returned.
 */
int pmf_region_flush(struct pmf_region *r, const struct pmf_resolved *res,
		     u64 *seq)
{
	u64 need, mine;
	int rc, cookie;
	bool ran;

	*seq = 0;
	if (!r->device_flush)
		return pmf_region_flush_one(r, res, &ran);

	/* a caller whose target is gone is not served by its region's flush */
	rc = pmf_live_enter(res, &cookie);
	if (rc)
		return rc;
	pmf_live_exit(res, cookie);

	spin_lock(&r->lock);
	need = r->issued + 1;
	while (r->completed < need) {
		if (!r->busy) {
			r->busy = true;
			mine = ++r->issued;
			spin_unlock(&r->lock);
			rc = pmf_region_flush_one(r, res, &ran);
			spin_lock(&r->lock);
			pmf_region_flush_end(r, mine, rc, ran);
			if (!ran) {
				spin_unlock(&r->lock);
				return rc;
			}
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
 * The io_uring side of the group commit. Commands that need a device flush
 * wait on their region's @ucmds, not in a thread each: one work item per
 * region (on pmf_wq, queued by pmf_region_queue()) runs flushes for all of
 * them, numbered as pmf_region_flush()'s callers number theirs, so ioctls
 * and commands share flushes both ways. So one kworker per region with
 * commands pending does the waiting, whatever their number: it sleeps only
 * while an ioctl's flush runs (uninterruptibly: it has no signals to take,
 * and the wait is one device flush) or in nvdimm_flush() itself.
 */
static struct workqueue_struct *pmf_wq;

/* move the commands a completed flush served onto @done */
static void pmf_region_served(struct pmf_region *r, struct list_head *done)
{
	struct pmf_ucmd *u, *next;

	lockdep_assert_held(&r->lock);
	/* not sorted by @need: a flush that never ran gives its number back */
	list_for_each_entry_safe(u, next, &r->ucmds, node) {
		if (u->need > r->completed)
			continue;
		u->rc = r->ok >= u->need ? 0 : r->err;
		u->seq = r->ok >= u->need ? r->ok : 0;
		u->queued = false;
		list_move_tail(&u->node, done);
	}
}

static void pmf_region_work(struct work_struct *work)
{
	struct pmf_region *r = container_of(work, struct pmf_region, work);
	struct pmf_ucmd *u;
	LIST_HEAD(done);
	u64 mine;
	bool ran;
	int rc;

	spin_lock(&r->lock);
	for (;;) {
		pmf_region_served(r, &done);
		if (!list_empty(&done)) {
			spin_unlock(&r->lock);
			pmf_ucmds_complete(&done);
			spin_lock(&r->lock);
			continue;
		}
		if (list_empty(&r->ucmds))
			break;
		if (r->busy) {
			/* an ioctl's flush; it may serve some */
			spin_unlock(&r->lock);
			wait_event(r->wait, !READ_ONCE(r->busy));
			spin_lock(&r->lock);
			continue;
		}
		/* one flush for every command pending now, in the first's liveness */
		u = list_first_entry(&r->ucmds, struct pmf_ucmd, node);
		u->flushing = true;
		r->busy = true;
		mine = ++r->issued;
		spin_unlock(&r->lock);
		rc = pmf_region_flush_one(r, u->ct.res, &ran);
		spin_lock(&r->lock);
		pmf_region_flush_end(r, mine, rc, ran);
		u->flushing = false;
		if (!ran) {
			/* @u's target is gone: it alone fails */
			u->rc = rc;
			u->seq = 0;
			u->queued = false;
			list_move_tail(&u->node, &done);
		}
	}
	r->work_queued = false;
	spin_unlock(&r->lock);
	pmf_region_put(r);
}

/**
 * pmf_region_queue() - queue an io_uring command for @r's next device flush
 * @r: a region with a device flush
 * @u: the command; its target was live when it was issued
 *
 * It needs flush @issued + 1 as seen now, or a later one, as a
 * pmf_region_flush() caller would; pmf_ucmds_complete() gets it once served.
 */
void pmf_region_queue(struct pmf_region *r, struct pmf_ucmd *u)
{
	bool start = false;

	spin_lock(&r->lock);
	u->need = r->issued + 1;
	u->queued = true;
	list_add_tail(&u->node, &r->ucmds);
	if (!r->work_queued) {
		r->work_queued = true;
		kref_get(&r->kref);
		start = true;
	}
	spin_unlock(&r->lock);
	/* not pending: the last run cleared @work_queued before it ended */
	if (start)
		queue_work(pmf_wq, &r->work);
}

/* take @u off @r's queue unless a flush is under way for it; true if taken */
bool pmf_region_unqueue(struct pmf_region *r, struct pmf_ucmd *u)
{
	bool taken;

	spin_lock(&r->lock);
	taken = u->queued && !u->flushing;
	if (taken) {
		list_del_init(&u->node);
		u->queued = false;
	}
	spin_unlock(&r->lock);
	return taken;
}

/* debugfs "regions": each region in use and its group-commit counters */
void pmf_regions_show(struct seq_file *m)
{
	struct pmf_region *r;

	spin_lock(&pmf_regions_lock);
	list_for_each_entry(r, &pmf_regions, node) {
		spin_lock(&r->lock);
		seq_printf(m, "region%u issued %llu completed %llu ok %llu\n",
			   r->id, r->issued, r->completed, r->ok);
		spin_unlock(&r->lock);
	}
	spin_unlock(&pmf_regions_lock);
}

int pmf_region_init(void)
{
	/* unbound: a flush may sleep for milliseconds (virtio-pmem) */
	pmf_wq = alloc_workqueue("pmemflush_uring", WQ_UNBOUND, 0);
	return pmf_wq ? 0 : -ENOMEM;
}

void pmf_region_exit(void)
{
	/*
	 * No command is pending: each holds its ring's request, which holds
	 * the /dev/pmemflush file and so this module. A work item may still
	 * be on its way out after completing the last one.
	 */
	destroy_workqueue(pmf_wq);
	if (pmf_watched_bus)
		bus_unregister_notifier(pmf_watched_bus, &pmf_region_nb);
	/* targets went with their files and drivers' references: none left */
	WARN_ON(!list_empty(&pmf_regions));
}
