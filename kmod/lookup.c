// SPDX-License-Identifier: GPL-2.0
/*
 * The target a FLUSH or QUERY names: a registered id of the open
 * /dev/pmemflush, or an fd, resolved afresh or found in the open file's
 * by-fd cache.
 *
 * Lifetimes: ids and cache entries are refcounted and freed with
 * kfree_rcu(), so lookups take no lock and a reference is taken with
 * kref_get_unless_zero() inside rcu_read_lock(); the caller's fd is held
 * (fget()) for the command.
 */

#include <linux/blkdev.h>
#include <linux/pmemflush.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <uapi/linux/pmemflush.h>

#include "pmemflush.h"

/* the registered target @id, under rcu_read_lock(), not referenced */
struct pmemflush_target *pmf_ctx_find(struct pmf_ctx *ctx, u32 id)
{
	struct pmemflush_target *t = NULL;

	if (id < PMF_FLAT_IDS)
		t = rcu_dereference(ctx->flat[id]);
	return t ?: xa_load(&ctx->ids, id);
}

static void pmf_cached_release(struct kref *kref)
{
	struct pmf_cached *c = container_of(kref, struct pmf_cached, kref);

	pmf_unresolve(&c->res);
	kfree_rcu(c, rcu);
}

void pmf_cached_put(struct pmf_cached *c)
{
	if (c)
		kref_put(&c->kref, pmf_cached_release);
}

/*
 * FLUSH and QUERY by fd keep the open file's last few targets, so that a
 * device-dax size is read once per device rather than per call, and a DAX
 * file skips the lookup of its disk's dax_device and region. Keys name
 * objects that cannot be reused while an entry could match them: a
 * device-dax file's dax_device, which its entry references; a DAX file's
 * gendisk, whose dax_device its entry references: pmem_release_disk() kills
 * that dax_device before put_disk() (6.1 and 6.12), so an entry whose
 * dax_device is alive belongs to the live disk at that address, and a dead
 * one is dropped and the file resolved afresh. Not a partition's dev_t,
 * which a new partition of another disk may take. 0: not cacheable.
 */
static unsigned long pmf_fd_key(struct file *file)
{
	struct inode *inode = file_inode(file);

	if (!(file->f_mode & FMODE_WRITE))
		return 0;
	if (S_ISCHR(inode->i_mode))
		return (unsigned long)pmf_devdax_of(file);
	if (!S_ISREG(inode->i_mode) || !IS_DAX(inode) || !inode->i_sb->s_bdev ||
	    pmf_xfs_realtime(file))
		return 0;
	return (unsigned long)inode->i_sb->s_bdev->bd_disk | 1;
}

static void pmf_fd_uncache(struct pmf_ctx *ctx, struct pmf_cached *c)
{
	unsigned int i;
	bool found = false;

	spin_lock(&ctx->cache_lock);
	for (i = 0; i < PMF_FD_CACHE; i++) {
		if (rcu_access_pointer(ctx->cache[i]) == c) {
			RCU_INIT_POINTER(ctx->cache[i], NULL);
			found = true;
		}
	}
	spin_unlock(&ctx->cache_lock);
	if (found)
		pmf_cached_put(c);
}

static struct pmf_cached *pmf_fd_cached(struct pmf_ctx *ctx, struct file *file,
					unsigned long key)
{
	struct pmf_cached *c, *old;
	unsigned int i;
	int rc, cookie;

	rcu_read_lock();
	for (i = 0; i < PMF_FD_CACHE; i++) {
		c = rcu_dereference(ctx->cache[i]);
		if (c && c->key == key && kref_get_unless_zero(&c->kref))
			break;
	}
	rcu_read_unlock();
	if (i < PMF_FD_CACHE) {
		/* a device-dax entry's device is this file's, dead or alive */
		if (c->res.kind == PMEMFLUSH_TARGET_DEVDAX)
			return c;
		if (!pmf_live_enter(&c->res, &cookie)) {
			pmf_live_exit(&c->res, cookie);
			return c;
		}
		pmf_fd_uncache(ctx, c);
		pmf_cached_put(c);
	}

	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return ERR_PTR(-ENOMEM);
	rc = pmf_resolve(file, &c->res, false);
	if (rc) {
		kfree(c);
		return ERR_PTR(rc);
	}
	kref_init(&c->kref);
	c->key = key;
	kref_get(&c->kref);
	spin_lock(&ctx->cache_lock);
	i = ctx->cache_next++ % PMF_FD_CACHE;
	old = rcu_replace_pointer(ctx->cache[i], c,
				  lockdep_is_held(&ctx->cache_lock));
	spin_unlock(&ctx->cache_lock);
	pmf_cached_put(old);
	return c;
}

void pmf_cmd_put(struct pmf_cmd_target *ct)
{
	if (ct->reg)
		pmemflush_target_put(ct->reg);
	else if (ct->cached)
		pmf_cached_put(ct->cached);
	else if (ct->res)
		pmf_unresolve(&ct->stack);
	if (ct->file)
		fput(ct->file);
}

/* the target of a FLUSH or QUERY: by id, or by fd; pmf_cmd_put() undoes */
int pmf_cmd_get(struct pmf_ctx *ctx, bool by_id, s32 fd, u32 id,
		struct pmf_cmd_target *ct)
{
	unsigned long key;
	int rc = 0;

	memset(ct, 0, sizeof(*ct));
	if (by_id) {
		rcu_read_lock();
		ct->reg = pmf_ctx_find(ctx, id);
		if (ct->reg && !kref_get_unless_zero(&ct->reg->kref))
			ct->reg = NULL;
		rcu_read_unlock();
		if (!ct->reg)
			return -ENOENT;
		ct->res = &ct->reg->res;
		return 0;
	}

	/* fget() refuses O_PATH files */
	ct->file = fd < 0 ? NULL : fget(fd);
	if (!ct->file)
		return -EBADF;
	key = pmf_fd_key(ct->file);
	if (key) {
		ct->cached = pmf_fd_cached(ctx, ct->file, key);
		if (IS_ERR(ct->cached)) {
			rc = PTR_ERR(ct->cached);
			ct->cached = NULL;
		} else {
			ct->res = &ct->cached->res;
		}
	} else {
		rc = pmf_resolve(ct->file, &ct->stack, false);
		if (!rc)
			ct->res = &ct->stack;
	}
	if (rc) {
		fput(ct->file);
		ct->file = NULL;
	}
	return rc;
}
