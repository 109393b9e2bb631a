// SPDX-License-Identifier: GPL-2.0
/*
 * REGISTER and UNREGISTER: ids of an open /dev/pmemflush, in an xarray and,
 * for the first PMF_FLAT_IDS, a flat table read under RCU (as io_uring's
 * registered files).
 *
 * Lifetimes: the table holds a reference on each target; REGISTER holds
 * its own across the copy-out, so that a failed copy-out drops only its
 * own entry (pmf_drop_id() with @only) and never a target at a reused
 * address. REGISTER by address finds the file under mmap_read_lock() and
 * takes a reference on it (get_file()) before the lock is dropped.
 */

#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pmemflush.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <uapi/linux/pmemflush.h>

#include "pmemflush.h"

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

int pmf_cmd_register(struct pmf_ctx *ctx, void __user *argp, u32 min)
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

int pmf_cmd_unregister(struct pmf_ctx *ctx, void __user *argp, u32 min)
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
