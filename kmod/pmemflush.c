// SPDX-License-Identifier: GPL-2.0
/*
 * pmemflush: deep flush (nvdimm_flush) of the persistent memory region behind
 * a file descriptor, for unprivileged callers that hold the file writable.
 */

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pmemflush.h>

static long pmemflush_char_ioctl(struct file *file, unsigned int cmd,
				 unsigned long parm)
{
	return -ENOIOCTLCMD;
}

static const struct file_operations pmemflush_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= pmemflush_char_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice pmemflush_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "pmemflush",
	.fops		= &pmemflush_fops,
	/* every command checks the caller's own access to the target fd */
	.mode		= 0666,
};

module_misc_device(pmemflush_misc);

MODULE_DESCRIPTION("Deep flush of persistent memory regions behind a file");
MODULE_LICENSE("GPL");
