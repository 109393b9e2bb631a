/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpmemflush/uring.h - deep flush commands in liburing's prep style.
 *
 * Header-only: it uses liburing (link with -luring) and libpmemflush, and
 * adds nothing to libpmemflush.so. The ring must be made with
 * IORING_SETUP_SQE128: the command area of a 64-byte SQE is too small
 * (EMSGSIZE). The caller's stores to the range must be written back and
 * fenced before the SQE is submitted (pmemflush_deep_flush_prepare() does
 * that); the uapi header's "Deep flush through io_uring" says why.
 */
#ifndef LIBPMEMFLUSH_URING_H
#define LIBPMEMFLUSH_URING_H

#include <string.h>
#include <liburing.h>
#include <linux/pmemflush.h>
#include <libpmemflush.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * pmemflush_prep_flush - FLUSH by @id (PMEMFLUSH_REGISTER's) of [@offset,
 * @offset + @length) on @dev_fd, an fd of /dev/pmemflush (or its index
 * with IOSQE_FIXED_FILE set by the caller afterwards).
 */
static inline void pmemflush_prep_flush(struct io_uring_sqe *sqe, int dev_fd,
					__u32 id, __u64 offset, __u64 length)
{
	struct pmemflush_flush f;

	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	f.flags = PMEMFLUSH_BY_ID;
	f.id = id;
	f.offset = offset;
	f.length = length;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, dev_fd, NULL, 0, 0);
	sqe->cmd_op = PMEMFLUSH_URING_CMD_FLUSH;
	memset(sqe->cmd, 0, PMEMFLUSH_CMD_AREA);
	memcpy(sqe->cmd, &f, sizeof(f));
}

/* pmemflush_prep_flush_cmd - the command pmemflush_deep_flush_prepare() filled */
static inline void pmemflush_prep_flush_cmd(struct io_uring_sqe *sqe,
					    const struct pmemflush_flush_cmd *cmd)
{
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, cmd->dev_fd, NULL, 0, 0);
	sqe->cmd_op = PMEMFLUSH_URING_CMD_FLUSH;
	memcpy(sqe->cmd, cmd->area, PMEMFLUSH_CMD_AREA);
}

#ifdef __cplusplus
}
#endif

#endif /* LIBPMEMFLUSH_URING_H */
