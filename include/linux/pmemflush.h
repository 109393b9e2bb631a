/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmemflush: in-kernel API for drivers that deep-flush persistent memory.
 */
#ifndef _LINUX_PMEMFLUSH_H
#define _LINUX_PMEMFLUSH_H

#include <linux/types.h>
#include <uapi/linux/pmemflush.h>

struct block_device;
struct file;
struct pmemflush_target;

struct pmemflush_target *pmemflush_target_get_file(struct file *file);
struct pmemflush_target *pmemflush_target_get_bdev(struct block_device *bdev);
int pmemflush_target_flush(struct pmemflush_target *t, u64 offset, u64 length);
void pmemflush_target_put(struct pmemflush_target *t);

#endif /* _LINUX_PMEMFLUSH_H */
