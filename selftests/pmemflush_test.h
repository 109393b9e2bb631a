/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the pmemflush selftests. They run as root in the test VM,
 * where tools/vm/guest-tests.sh exports PMF_MODULE (path of pmemflush.ko).
 */
#ifndef PMEMFLUSH_TEST_H
#define PMEMFLUSH_TEST_H

#include <errno.h>
#include <libkmod.h>
#include <stdlib.h>
#include <sys/stat.h>

#define PMEMFLUSH_DEV "/dev/pmemflush"

/* libkmod handle on pmemflush.ko, or NULL when PMF_MODULE is not set */
static inline struct kmod_module *pmf_kmod_module(struct kmod_ctx **ctx)
{
	const char *path = getenv("PMF_MODULE");
	struct kmod_module *mod;

	*ctx = NULL;
	if (!path)
		return NULL;
	*ctx = kmod_new(NULL, NULL);
	if (!*ctx)
		return NULL;
	if (kmod_module_new_from_path(*ctx, path, &mod)) {
		*ctx = kmod_unref(*ctx);
		return NULL;
	}
	return mod;
}

static inline int pmf_module_live(struct kmod_module *mod)
{
	return kmod_module_get_initstate(mod) == KMOD_MODULE_LIVE;
}

static inline int pmf_dev_exists(void)
{
	struct stat st;

	return stat(PMEMFLUSH_DEV, &st) == 0 && S_ISCHR(st.st_mode);
}

#endif /* PMEMFLUSH_TEST_H */
