// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: what the selftests read and the one knob they turn, kept off the
 * production path. "regions" lists the region objects in use with their
 * group-commit counters; "flush_delay_us" widens the window between a
 * target's liveness check and its device flush (a test that races a
 * teardown against a flush cannot otherwise see the window), behind a
 * static key that is off unless the knob is set; "in_window" counts the
 * flushes inside the widened window, so that a test starts its teardown
 * once one is.
 */

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/seq_file.h>

#include "pmemflush.h"

DEFINE_STATIC_KEY_FALSE(pmf_flush_window_key);

static struct dentry *pmf_debugfs;
static DEFINE_MUTEX(pmf_delay_lock);
static u32 pmf_flush_delay_us;
static atomic_t pmf_in_window;

void pmf_flush_window_enter(void)
{
	atomic_inc(&pmf_in_window);
	fsleep(READ_ONCE(pmf_flush_delay_us));
}

void pmf_flush_window_exit(void)
{
	atomic_dec(&pmf_in_window);
}

static int pmf_delay_get(void *data, u64 *val)
{
	*val = READ_ONCE(pmf_flush_delay_us);
	return 0;
}

static int pmf_delay_set(void *data, u64 val)
{
	if (val > U32_MAX)
		return -EINVAL;
	mutex_lock(&pmf_delay_lock);
	WRITE_ONCE(pmf_flush_delay_us, val);
	if (val)
		static_branch_enable(&pmf_flush_window_key);
	else
		static_branch_disable(&pmf_flush_window_key);
	mutex_unlock(&pmf_delay_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(pmf_delay_fops, pmf_delay_get, pmf_delay_set, "%llu\n");

static int pmf_regions_debug_show(struct seq_file *m, void *v)
{
	pmf_regions_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pmf_regions_debug);

void pmf_debugfs_init(void)
{
	pmf_debugfs = debugfs_create_dir("pmemflush", NULL);
	debugfs_create_file("regions", 0400, pmf_debugfs, NULL,
			    &pmf_regions_debug_fops);
	debugfs_create_file_unsafe("flush_delay_us", 0600, pmf_debugfs, NULL,
				   &pmf_delay_fops);
	debugfs_create_atomic_t("in_window", 0400, pmf_debugfs,
				&pmf_in_window);
}

void pmf_debugfs_exit(void)
{
	debugfs_remove(pmf_debugfs);
}
