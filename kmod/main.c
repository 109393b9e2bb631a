// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/pmemflush: the misc device, its per-open context (registered ids and
 * the by-fd cache), the commands and their op table, fdinfo.
 *
 * Lifetimes: a context is its open file's (pmf_release() drops every id and
 * cache entry); ids and cache entries are refcounted and freed with
 * kfree_rcu(), so lookups take no lock. A command runs with the context's
 * file held by the ioctl (fdget() in the syscall), so the module is pinned
 * (the misc device's fops owner) while any runs.
 */

#include <linux/blkdev.h>
#include <linux/build_bug.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pmemflush.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "pmemflush.h"

static_assert(PMEMFLUSH_FLUSH_SIZE_VER0 ==
	      offsetofend(struct pmemflush_flush, out_flags));
static_assert(PMEMFLUSH_QUERY_SIZE_VER0 ==
	      offsetofend(struct pmemflush_query, target_size));
static_assert(PMEMFLUSH_REGISTER_SIZE_VER0 ==
	      offsetofend(struct pmemflush_register, offset));
static_assert(PMEMFLUSH_UNREGISTER_SIZE_VER0 ==
	      offsetofend(struct pmemflush_unregister, __reserved));

/* by-fd cache entries of an open file */
#define PMF_FD_CACHE 4
/* the first ids are also in a flat table, as io_uring's registered files */
#define PMF_FLAT_IDS 64

struct pmf_cached {
	struct kref kref;
	struct rcu_head rcu;
	unsigned long key;
	struct pmf_resolved res;
};

struct pmf_ctx {
	struct xarray ids;
	struct pmemflush_target __rcu *flat[PMF_FLAT_IDS];
	spinlock_t cache_lock;	/* writers of @cache */
	unsigned int cache_next;
	struct pmf_cached __rcu *cache[PMF_FD_CACHE];
};

/* the target a FLUSH or QUERY names, and what holds it */
struct pmf_cmd_target {
	const struct pmf_resolved *res;
	struct pmemflush_target *reg;	/* by id */
	struct pmf_cached *cached;	/* by fd, from the cache */
	struct pmf_resolved stack;	/* by fd, not cacheable */
	struct file *file;		/* by fd */
};

/*
 * Read a command struct: its first field says how much userspace passed.
 * Shorter than the first version @min is EINVAL; larger than
 * PMEMFLUSH_STRUCT_SIZE_MAX is E2BIG unread, as clone3() and openat2() do;
 * a non-zero unknown tail is E2BIG.
 */
static int pmf_copy_in(void *karg, size_t ksize, size_t min,
		       void __user *argp, u32 *usize)
{
	if (get_user(*usize, (u32 __user *)argp))
		return -EFAULT;
	if (*usize < min)
		return -EINVAL;
	if (*usize > PMEMFLUSH_STRUCT_SIZE_MAX)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, argp, *usize);
}

static int pmf_copy_out(void __user *argp, const void *karg, size_t ksize,
			u32 usize)
{
	return copy_to_user(argp, karg, min_t(size_t, ksize, usize)) ?
		-EFAULT : 0;
}

/* the registered target @id, under rcu_read_lock(), not referenced */
static struct pmemflush_target *pmf_ctx_find(struct pmf_ctx *ctx, u32 id)
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

static void pmf_cached_put(struct pmf_cached *c)
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

static void pmf_cmd_put(struct pmf_cmd_target *ct)
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
static int pmf_cmd_get(struct pmf_ctx *ctx, bool by_id, s32 fd, u32 id,
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

static u32 pmf_flush_flags(const struct pmf_region *r)
{
	return r->device_flush ? PMEMFLUSH_FLUSHED_DEVICE : 0;
}

/* FLUSH's outputs alone are written back, those that @usize holds */
static int pmf_flush_out(struct pmemflush_flush __user *uarg,
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

/* the two u32 fields of an 8-aligned word, in memory order */
static inline void pmf_split(u64 w, u32 *first, u32 *second)
{
	if (IS_ENABLED(CONFIG_CPU_BIG_ENDIAN)) {
		*first = w >> 32;
		*second = w;
	} else {
		*first = w;
		*second = w >> 32;
	}
}

/*
 * Read a FLUSH struct of today's size field by field within one user access
 * window: the per-call path's copy in, cheaper than get_user() and
 * copy_struct_from_user()'s string copy. The whole struct is read, outputs
 * included (their values are overwritten before they are written back), as
 * the uapi says: a struct that unmapped memory cuts short is EFAULT, never
 * run. False for any other size or a fault: pmf_copy_in() then decides.
 */
static bool pmf_flush_in(struct pmemflush_flush *arg,
			 struct pmemflush_flush __user *uarg)
{
	u64 __user *words = (u64 __user *)uarg;
	u64 w0, w1, w4;
	u32 fd;

	BUILD_BUG_ON(offsetof(struct pmemflush_flush, region_id) != 32);
	if (!user_access_begin(uarg, sizeof(*uarg)))
		return false;
	unsafe_get_user(w0, &words[0], fault);	/* size, flags */
	pmf_split(w0, &arg->size, &arg->flags);
	if (arg->size != sizeof(*arg))
		goto fault;
	unsafe_get_user(w1, &words[1], fault);	/* fd (id), __reserved */
	unsafe_get_user(arg->offset, &uarg->offset, fault);
	unsafe_get_user(arg->length, &uarg->length, fault);
	unsafe_get_user(w4, &words[4], fault);	/* region_id, out_flags */
	unsafe_get_user(arg->flush_seq, &uarg->flush_seq, fault);
	user_access_end();
	pmf_split(w1, &fd, &arg->__reserved);
	arg->id = fd;
	pmf_split(w4, &arg->region_id, &arg->out_flags);
	return true;
fault:
	user_access_end();
	return false;
}

static int pmf_cmd_flush(struct pmf_ctx *ctx, void __user *argp, u32 min)
{
	struct pmemflush_flush arg;
	struct pmemflush_target *t;
	struct pmf_cmd_target ct;
	u32 usize = sizeof(arg);
	int rc;

	if (!pmf_flush_in(&arg, argp)) {
		rc = pmf_copy_in(&arg, sizeof(arg), min, argp, &usize);
		if (rc)
			return rc;
	}
	if (arg.flags & ~PMEMFLUSH_BY_ID || arg.__reserved)
		return -EINVAL;

	if (arg.flags & PMEMFLUSH_BY_ID) {
		rcu_read_lock();
		t = pmf_ctx_find(ctx, arg.id);
		rc = t ? pmf_flush_barriers(&t->res, arg.offset, arg.length) :
			 -EAGAIN;
		if (!rc) {
			arg.region_id = t->res.region->id;
			arg.out_flags = pmf_flush_flags(t->res.region);
			arg.flush_seq = 0;
		}
		rcu_read_unlock();
		if (rc != -EAGAIN)
			return rc ?: pmf_flush_out(argp, &arg, usize);
	}
	rc = pmf_cmd_get(ctx, arg.flags & PMEMFLUSH_BY_ID, arg.fd, arg.id, &ct);
	if (rc)
		return rc;
	rc = pmf_do_flush(ct.res, ct.file, arg.offset, arg.length,
			  &arg.flush_seq);
	if (!rc) {
		arg.region_id = ct.res->region->id;
		arg.out_flags = pmf_flush_flags(ct.res->region);
		rc = pmf_flush_out(argp, &arg, usize);
	}
	pmf_cmd_put(&ct);
	return rc;
}

static int pmf_cmd_query(struct pmf_ctx *ctx, void __user *argp, u32 min)
{
	const struct pmf_resolved *res;
	struct pmemflush_query arg;
	struct pmf_cmd_target ct;
	int rc, cookie;
	u32 usize;

	rc = pmf_copy_in(&arg, sizeof(arg), min, argp, &usize);
	if (rc)
		return rc;
	if (arg.flags & ~PMEMFLUSH_BY_ID || arg.__reserved || arg.__reserved2)
		return -EINVAL;

	rc = pmf_cmd_get(ctx, arg.flags & PMEMFLUSH_BY_ID, arg.fd, arg.id, &ct);
	if (rc)
		return rc;
	res = ct.res;
	/* describe only a target that is still there, and still ours */
	rc = pmf_live_enter(res, &cookie);
	if (rc)
		goto out;
	pmf_live_exit(res, cookie);
	rc = -EOPNOTSUPP;
	if (res->xfs && res->file && pmf_xfs_realtime(res->file))
		goto out;
	arg.region_id = res->region->id;
	arg.has_flush = res->region->has_flush;
	arg.persistence_domain = res->region->persistence_domain;
	arg.target_kind = res->kind;
	arg.target_size = pmf_target_size(res, ct.file);
	arg.out_flags = 0;
	if (res->region->async)
		arg.out_flags |= PMEMFLUSH_REGION_ASYNC;
	if (pmf_dax_sync(res))
		arg.out_flags |= PMEMFLUSH_DAX_SYNC;
	if (res->region->cxl)
		arg.out_flags |= PMEMFLUSH_REGION_CXL;
	rc = pmf_copy_out(argp, &arg, sizeof(arg), usize);
out:
	pmf_cmd_put(&ct);
	return rc;
}

/*
 * The file that shared, writable mappings map over [@addr, @addr +
 * @length), referenced, and the offset of @addr in it: one mapping, or
 * adjacent ones of the same file at contiguous offsets (what mprotect() or
 * madvise() of part of a mapping leaves).
 */
static struct file *pmf_vma_file(u64 addr, u64 length, u64 *offset)
{
	struct mm_struct *mm = current->mm;
	struct address_space *mapping = NULL;
	struct vm_area_struct *vma;
	struct file *file = NULL;
	unsigned long pgoff = 0;
	u64 end, pos;
	int rc = 0;

	if (!length)
		return ERR_PTR(-EINVAL);
	addr = untagged_addr(addr);
	if (check_add_overflow(addr, length, &end))
		return ERR_PTR(-EOVERFLOW);
	if (mmap_read_lock_killable(mm))
		return ERR_PTR(-EINTR);
	for (pos = addr; pos < end; pos = vma->vm_end) {
		vma = vma_lookup(mm, pos);
		if (!vma) {
			rc = -EFAULT;
			break;
		}
		if (!vma->vm_file || (vma->vm_flags & (VM_SHARED | VM_WRITE)) !=
				     (VM_SHARED | VM_WRITE)) {
			rc = -EACCES;
			break;
		}
		if (!file) {
			file = vma->vm_file;
			mapping = file->f_mapping;
			*offset = pos - vma->vm_start +
				  ((u64)vma->vm_pgoff << PAGE_SHIFT);
		} else if (vma->vm_file->f_mapping != mapping ||
			   vma->vm_pgoff != pgoff) {
			rc = -EINVAL;
			break;
		}
		pgoff = vma->vm_pgoff + vma_pages(vma);
	}
	if (!rc)
		get_file(file);
	mmap_read_unlock(mm);
	return rc ? ERR_PTR(rc) : file;
}

/*
 * Drop @id, or only while it still names @only when that is set; false when
 * it was not there (or named another target).
 */
static bool pmf_drop_id(struct pmf_ctx *ctx, u32 id,
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
	if (t && id < PMF_FLAT_IDS)
		RCU_INIT_POINTER(ctx->flat[id], NULL);
	xa_unlock(&ctx->ids);
	pmemflush_target_put(t);
	return t;
}

static int pmf_cmd_register(struct pmf_ctx *ctx, void __user *argp, u32 min)
{
	struct pmemflush_register arg;
	struct pmemflush_target *t;
	struct file *file;
	u32 usize, id;
	int rc;

	rc = pmf_copy_in(&arg, sizeof(arg), min, argp, &usize);
	if (rc)
		return rc;
	if (arg.flags & ~PMEMFLUSH_BY_ADDR || arg.id || arg.offset)
		return -EINVAL;

	if (arg.flags & PMEMFLUSH_BY_ADDR) {
		if (arg.fd)
			return -EINVAL;
		file = pmf_vma_file(arg.addr, arg.length, &arg.offset);
	} else {
		if (arg.addr || arg.length)
			return -EINVAL;
		file = arg.fd < 0 ? NULL : fget(arg.fd);
		file = file ?: ERR_PTR(-EBADF);
	}
	if (IS_ERR(file))
		return PTR_ERR(file);
	t = pmf_target_new(file, GFP_KERNEL_ACCOUNT);
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
	/* under the lock that orders it against pmf_drop_id() */
	xa_lock(&ctx->ids);
	if (id < PMF_FLAT_IDS && xa_load(&ctx->ids, id) == t)
		rcu_assign_pointer(ctx->flat[id], t);
	xa_unlock(&ctx->ids);
	arg.id = id;
	rc = pmf_copy_out(argp, &arg, sizeof(arg), usize);
	/*
	 * A caller that cannot learn the id does not keep it. The id is
	 * visible from xa_alloc() on: another thread of this file may have
	 * unregistered it during the copy-out and a third registered again
	 * under the same number, so only the entry that is still @t goes.
	 * Our reference keeps @t from being freed and its address from naming
	 * that new target.
	 */
	if (rc)
		pmf_drop_id(ctx, id, t);
	pmemflush_target_put(t);
	return rc;
}

static int pmf_cmd_unregister(struct pmf_ctx *ctx, void __user *argp, u32 min)
{
	struct pmemflush_unregister arg;
	u32 usize;
	int rc;

	rc = pmf_copy_in(&arg, sizeof(arg), min, argp, &usize);
	if (rc)
		return rc;
	if (arg.flags || arg.__reserved)
		return -EINVAL;
	return pmf_drop_id(ctx, arg.id, NULL) ? 0 : -ENOENT;
}

/* each published number, exactly, and its struct's first version's size */
struct pmf_ioctl_op {
	unsigned int cmd;
	u32 min_size;
	int (*fn)(struct pmf_ctx *ctx, void __user *argp, u32 min_size);
};

#define PMF_OP(_cmd, _fn, _struct, _last) \
	{ .cmd = _cmd, .min_size = offsetofend(_struct, _last), .fn = _fn }

static const struct pmf_ioctl_op pmf_ops[] = {
	PMF_OP(PMEMFLUSH_FLUSH, pmf_cmd_flush, struct pmemflush_flush,
	       out_flags),
	PMF_OP(PMEMFLUSH_FLUSH_VER0, pmf_cmd_flush, struct pmemflush_flush,
	       out_flags),
	PMF_OP(PMEMFLUSH_QUERY, pmf_cmd_query, struct pmemflush_query,
	       target_size),
	PMF_OP(PMEMFLUSH_REGISTER, pmf_cmd_register, struct pmemflush_register,
	       offset),
	PMF_OP(PMEMFLUSH_UNREGISTER, pmf_cmd_unregister,
	       struct pmemflush_unregister, __reserved),
};

static long pmemflush_char_ioctl(struct file *file, unsigned int cmd,
				 unsigned long parm)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pmf_ops); i++)
		if (pmf_ops[i].cmd == cmd)
			return pmf_ops[i].fn(file->private_data,
					     (void __user *)parm,
					     pmf_ops[i].min_size);
	return -ENOIOCTLCMD;
}

static const char *const pmf_kind_names[] = {
	[PMEMFLUSH_TARGET_DEVDAX] = "devdax",
	[PMEMFLUSH_TARGET_FSDAX_FILE] = "fsdax-file",
	[PMEMFLUSH_TARGET_BLOCK] = "block",
	[PMEMFLUSH_TARGET_BTT] = "btt",
};

/*
 * One line per id: a registered DAX file keeps its file system busy outside
 * any fd table, and this is where lsof's users find the holder.
 */
static void pmf_show_fdinfo(struct seq_file *m, struct file *f)
{
	struct pmf_ctx *ctx = f->private_data;
	struct pmemflush_target *t;
	unsigned long id;

	rcu_read_lock();
	xa_for_each(&ctx->ids, id, t) {
		if (!kref_get_unless_zero(&t->kref))
			continue;
		rcu_read_unlock();
		seq_printf(m, "pmemflush-id:\t%lu\t%s\tregion%u\t", id,
			   pmf_kind_names[t->res.kind], t->res.region->id);
		if (t->res.file) {
			seq_puts(m, "path ");
			seq_file_path(m, t->res.file, " \t\n\\");
			seq_putc(m, '\n');
		} else {
			seq_printf(m, "dev %u:%u\n", MAJOR(t->res.devt),
				   MINOR(t->res.devt));
		}
		pmemflush_target_put(t);
		rcu_read_lock();
	}
	rcu_read_unlock();
}

static int pmf_open(struct inode *inode, struct file *file)
{
	struct pmf_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	xa_init_flags(&ctx->ids, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	spin_lock_init(&ctx->cache_lock);
	file->private_data = ctx;
	return 0;
}

static int pmf_release(struct inode *inode, struct file *file)
{
	struct pmf_ctx *ctx = file->private_data;
	struct pmemflush_target *t;
	unsigned long id;
	unsigned int i;

	xa_for_each(&ctx->ids, id, t)
		pmemflush_target_put(t);
	xa_destroy(&ctx->ids);
	for (i = 0; i < PMF_FD_CACHE; i++)
		pmf_cached_put(rcu_dereference_protected(ctx->cache[i], 1));
	kfree(ctx);
	return 0;
}

static const struct file_operations pmf_fops = {
	.owner		= THIS_MODULE,
	.open		= pmf_open,
	.release	= pmf_release,
	.unlocked_ioctl	= pmemflush_char_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= pmf_show_fdinfo,
	.llseek		= noop_llseek,
};

static struct miscdevice pmf_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "pmemflush",
	.fops		= &pmf_fops,
	/* every command checks the caller's own access to the target */
	.mode		= 0666,
};

static int __init pmf_init(void)
{
	int rc;

	rc = pmf_target_init();
	if (rc)
		return rc;
	rc = misc_register(&pmf_misc);
	if (rc) {
		pmf_target_exit();
		return rc;
	}
	pmf_debugfs_init();
	return 0;
}

static void __exit pmf_exit(void)
{
	pmf_debugfs_exit();
	misc_deregister(&pmf_misc);
	pmf_region_exit();
	pmf_target_exit();
	rcu_barrier();
}

module_init(pmf_init);
module_exit(pmf_exit);

MODULE_DESCRIPTION("Deep flush of persistent memory regions behind a file");
MODULE_LICENSE("GPL");
