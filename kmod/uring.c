// SPDX-License-Identifier: GPL-2.0
/*
 * FLUSH as an io_uring command (file_operations.uring_cmd): the uapi's
 * "Deep flush through io_uring". A command on a region without a device
 * flush completes when issued; one that needs a device flush is queued on
 * its region (region.c's worker runs the group commit for it) and
 * completes from task work in the submitter's context.
 *
 * Lifetimes. A queued command holds its target as the ioctl holds it for
 * the call (pmf_cmd_get(): the id's reference, or the fd's file and its
 * resolution), released when it completes; its request holds the
 * /dev/pmemflush file, hence this module. Ring exit (io_ring_exit_work())
 * and exec (io_uring_task_cancel()) deal with the request: on 6.7 and later
 * they cancel a command still queued (io_uring_cmd_mark_cancelable(); the
 * command completes with ECANCELED); 6.1 has no way to cancel a driver's
 * command (IO_URING_F_CANCEL and the cancelable list came with 6.7), so
 * io_ring_exit_work() and io_uring_cancel_generic() wait for the
 * completion, which the region's worker posts after at most the flush
 * under way and the next. A thread's exit, or a process's that leaves the
 * ring open elsewhere, cancels nothing on either (io_uring_files_cancel()
 * waits only for the requests io_uring tracks, and these are not): the
 * command completes later, its task work
 * run by io_uring's fallback work (io_fallback_req_func()) once its task
 * has gone. pmemflush_uring_test's exec_cancels sees both behaviours.
 */

#include <linux/file.h>
#include <linux/slab.h>
#include <uapi/linux/pmemflush.h>
/* Kbuild: the 6.7+ API (6.12) or the 6.1 one */
#ifdef PMF_IO_URING_CMD_H
#include <linux/io_uring/cmd.h>
#define PMF_URING_CANCEL	1
#else
#include <linux/io_uring.h>
#define PMF_URING_CANCEL	0
#endif

#include "pmemflush.h"

/* the SQE command area of an IORING_SETUP_SQE128 ring */
#define PMF_URING_CMD_AREA	80

static_assert(sizeof(struct pmemflush_flush) <= PMF_URING_CMD_AREA);

static const void *pmf_uring_sqe_cmd(struct io_uring_cmd *ioucmd)
{
#ifdef PMF_IO_URING_CMD_H
	return io_uring_sqe_cmd(ioucmd->sqe);
#else
	return ioucmd->cmd;
#endif
}

static struct pmf_ucmd **pmf_ucmd_slot(struct io_uring_cmd *ioucmd)
{
	BUILD_BUG_ON(sizeof(struct pmf_ucmd *) > sizeof(ioucmd->pdu));
	return (struct pmf_ucmd **)ioucmd->pdu;
}

/*
 * The struct from the command area, copied once (the SQE is in memory the
 * submitter shares), checked as pmf_copy_in() checks an ioctl's.
 */
static int pmf_uring_flush_in(struct io_uring_cmd *ioucmd,
			      struct pmemflush_flush *arg)
{
	u8 area[PMF_URING_CMD_AREA];

	memcpy(area, pmf_uring_sqe_cmd(ioucmd), sizeof(area));
	memcpy(arg, area, sizeof(*arg));
	if (arg->size < PMEMFLUSH_FLUSH_SIZE_VER0)
		return -EINVAL;
	if (arg->size > sizeof(area) ||
	    memchr_inv(area + sizeof(*arg), 0,
		       max_t(size_t, arg->size, sizeof(*arg)) - sizeof(*arg)))
		return -E2BIG;
	if (arg->size < sizeof(*arg))
		memset((u8 *)arg + arg->size, 0, sizeof(*arg) - arg->size);
	if (arg->flags & ~PMEMFLUSH_BY_ID || arg->__reserved)
		return -EINVAL;
	return 0;
}

static void pmf_ucmd_free(struct pmf_ucmd *u)
{
	pmf_cmd_put(&u->ct);
	kfree(u);
}

/*
 * Task work: post the CQE in the submitter's context. The request, and with
 * it the /dev/pmemflush file and this module, is released after this
 * returns, when io_uring flushes its completions.
 */
static void pmf_ucmd_done(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct pmf_ucmd *u = *pmf_ucmd_slot(ioucmd);

	io_uring_cmd_done(ioucmd, u->rc, u->seq, issue_flags);
	pmf_ucmd_free(u);
}

/*
 * Complete the commands region.c's worker moved onto @done. A command whose
 * target was disabled meanwhile gets ENXIO, as a FLUSH issued then would.
 */
void pmf_ucmds_complete(struct list_head *done)
{
	struct pmf_ucmd *u, *next;
	int cookie;

	list_for_each_entry_safe(u, next, done, node) {
		list_del_init(&u->node);
		if (!u->rc) {
			if (pmf_live_enter(u->ct.res, &cookie)) {
				u->rc = -ENXIO;
				u->seq = 0;
			} else {
				pmf_live_exit(u->ct.res, cookie);
			}
		}
		io_uring_cmd_complete_in_task(u->ioucmd, pmf_ucmd_done);
	}
}

#if PMF_URING_CANCEL
/* the ring or task is going away: a command still queued ends now */
static int pmf_uring_cancel(struct io_uring_cmd *ioucmd,
			    unsigned int issue_flags)
{
	struct pmf_ucmd *u = *pmf_ucmd_slot(ioucmd);

	if (pmf_region_unqueue(u->region, u)) {
		io_uring_cmd_done(ioucmd, -ECANCELED, 0, issue_flags);
		pmf_ucmd_free(u);
	}
	return 0;
}
#endif

/*
 * The by-id fast path of a region without a device flush, as the ioctl's:
 * barriers under rcu_read_lock(), no reference taken. -EAGAIN: not such a
 * call.
 */
static int pmf_uring_barriers(struct pmf_ctx *ctx,
			      const struct pmemflush_flush *arg)
{
	struct pmemflush_target *t;
	int rc;

	rcu_read_lock();
	t = pmf_ctx_find(ctx, arg->id);
	rc = t ? pmf_flush_barriers(&t->res, arg->offset, arg->length) :
		 -EAGAIN;
	rcu_read_unlock();
	return rc;
}

int pmf_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	bool nonblock = issue_flags & IO_URING_F_NONBLOCK;
	struct pmf_ctx *ctx = ioucmd->file->private_data;
	struct pmemflush_flush arg;
	struct pmf_region *r;
	struct pmf_ucmd *u;
	int rc, cookie;

#if PMF_URING_CANCEL
	if (issue_flags & IO_URING_F_CANCEL)
		return pmf_uring_cancel(ioucmd, issue_flags);
#endif
	if (ioucmd->cmd_op != PMEMFLUSH_URING_CMD_FLUSH)
		return -ENOTTY;
	if (!(issue_flags & IO_URING_F_SQE128))
		return -EMSGSIZE;
	/* completions come from task work, never from the ring's poll loop */
	if (issue_flags & IO_URING_F_IOPOLL)
		return -EOPNOTSUPP;
	rc = pmf_uring_flush_in(ioucmd, &arg);
	if (rc)
		return rc;
	if (arg.flags & PMEMFLUSH_BY_ID) {
		rc = pmf_uring_barriers(ctx, &arg);
		if (rc != -EAGAIN)
			return rc;
	} else if (nonblock) {
		/* resolving an fd may sleep: io_uring issues it again from io-wq */
		return -EAGAIN;
	}

	u = kzalloc(sizeof(*u), nonblock ? GFP_NOWAIT | __GFP_ACCOUNT :
					  GFP_KERNEL_ACCOUNT);
	if (!u)
		return nonblock ? -EAGAIN : -ENOMEM;
	INIT_LIST_HEAD(&u->node);
	rc = pmf_cmd_get(ctx, arg.flags & PMEMFLUSH_BY_ID, arg.fd, arg.id,
			 &u->ct);
	if (rc) {
		kfree(u);
		return rc;
	}
	/* an XFS file's realtime flag is read under its inode's lock */
	rc = -EAGAIN;
	if (nonblock && u->ct.res->xfs)
		goto out;
	rc = pmf_flush_check(u->ct.res, u->ct.file, arg.offset, arg.length);
	if (rc)
		goto out;
	r = u->ct.res->region;
	if (!r->device_flush) {
		/* barriers, on the issuing CPU: nothing to wait for */
		rc = pmf_region_flush(r, u->ct.res, &u->seq);
		goto out;
	}
	/* a target that is gone is not served by its region's flush */
	rc = pmf_live_enter(u->ct.res, &cookie);
	if (rc)
		goto out;
	pmf_live_exit(u->ct.res, cookie);

	u->ioucmd = ioucmd;
	u->region = r;
	*pmf_ucmd_slot(ioucmd) = u;
#if PMF_URING_CANCEL
	io_uring_cmd_mark_cancelable(ioucmd, issue_flags);
#endif
	pmf_region_queue(r, u);
	return -EIOCBQUEUED;
out:
	pmf_ucmd_free(u);
	return rc;
}
