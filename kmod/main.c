// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/pmemflush: the misc device, its per-open context, the op table of
 * published ioctl numbers, FLUSH and QUERY, fdinfo.
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

/*
 * Read a command struct: its first field says how much userspace passed.
 * Shorter than the first version @min is EINVAL; larger than
 * PMEMFLUSH_STRUCT_SIZE_MAX is E2BIG unread, as clone3() and openat2() do;
 * a non-zero unknown tail is E2BIG.
 */
int pmf_copy_in(void *karg, size_t ksize, size_t min, void __user *argp,
		u32 *usize)
{
	if (get_user(*usize, (u32 __user *)argp))
		return -EFAULT;
	if (*usize < min)
		return -EINVAL;
	if (*usize > PMEMFLUSH_STRUCT_SIZE_MAX)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, argp, *usize);
}

int pmf_copy_out(void __user *argp, const void *karg, size_t ksize,
		 u32 usize)
{
	return copy_to_user(argp, karg, min_t(size_t, ksize, usize)) ?
		-EFAULT : 0;
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
	struct pmf_resolved *res;
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
	if (res->xfs && res->file && !pmf_xfs_still_data(res))
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
	.uring_cmd	= pmf_uring_cmd,
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

	rc = pmf_devdax_init();
	if (rc)
		return rc;
	rc = pmf_region_init();
	if (rc) {
		pmf_devdax_exit();
		return rc;
	}
	rc = misc_register(&pmf_misc);
	if (rc) {
		pmf_region_exit();
		pmf_devdax_exit();
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
	pmf_devdax_exit();
	rcu_barrier();
}

module_init(pmf_init);
module_exit(pmf_exit);

MODULE_DESCRIPTION("Deep flush of persistent memory regions behind a file");
MODULE_LICENSE("GPL");

