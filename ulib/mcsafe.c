// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pmem2_source_pread_mcsafe() and pmem2_source_pwrite_mcsafe(): reads and
 * writes of a source that survive a machine check on the medium.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pmf.h"

/*
 * Machine-check-safe access to device-dax, which has no read() or write():
 * the range is mapped, and a SIGBUS (a machine check on a load, or a known
 * bad page) while copying ends the copy with PMEM2_E_IO_FAIL. The handler is
 * the process's only while some thread copies; a SIGBUS of a thread that is
 * not copying puts the application's disposition back, so the access
 * faults again into it.
 */
static pthread_mutex_t pmf_mc_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int pmf_mc_users;
static struct sigaction pmf_mc_saved;
static __thread sigjmp_buf *pmf_mc_jmp;

void pmf_mc_fork_prepare(void)
{
	pthread_mutex_lock(&pmf_mc_lock);
}

void pmf_mc_fork_parent(void)
{
	pthread_mutex_unlock(&pmf_mc_lock);
}

void pmf_mc_fork_child(void)
{
	pthread_mutex_init(&pmf_mc_lock, NULL);
}

static void pmf_mc_sigbus(int sig)
{
	(void)sig;
	if (pmf_mc_jmp)
		siglongjmp(*pmf_mc_jmp, 1);
	sigaction(SIGBUS, &pmf_mc_saved, NULL);
}

static int pmf_mc_begin(void)
{
	struct sigaction sa;
	int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pmf_mc_sigbus;
	sigemptyset(&sa.sa_mask);
	pthread_mutex_lock(&pmf_mc_lock);
	if (!pmf_mc_users && sigaction(SIGBUS, &sa, &pmf_mc_saved))
		ret = -errno;
	if (!ret)
		pmf_mc_users++;
	pthread_mutex_unlock(&pmf_mc_lock);
	return ret;
}

static void pmf_mc_end(void)
{
	pthread_mutex_lock(&pmf_mc_lock);
	if (!--pmf_mc_users)
		sigaction(SIGBUS, &pmf_mc_saved, NULL);
	pthread_mutex_unlock(&pmf_mc_lock);
}

/* the copy, with the thread's jump target set around it */
static int pmf_mc_copy(char *addr, void *buf, size_t size, bool write,
		       pmem2_memcpy_fn copy)
{
	sigjmp_buf jb;
	int ret;

	if (sigsetjmp(jb, 1)) {
		ret = PMEM2_E_IO_FAIL;
	} else {
		pmf_mc_jmp = &jb;
		if (write)
			copy(addr, buf, size, 0);	/* persisted */
		else
			memcpy(buf, addr, size);
		ret = 0;
	}
	pmf_mc_jmp = NULL;
	return ret;
}

/*
 * Only the device's align-sized pieces the range touches are mapped (libpmem2
 * maps the whole device), read-only for a read, so an O_RDONLY descriptor
 * can be read.
 */
static int pmf_devdax_io(struct pmem2_source *src, void *buf, size_t size,
			 size_t offset, bool write)
{
	size_t align = src->align, start = offset & ~(align - 1), end;
	struct pmem2_config *cfg;
	struct pmem2_map *map;
	int ret, del;

	end = (offset + size + align - 1) & ~(align - 1);
	ret = pmem2_config_new(&cfg);
	if (ret)
		return ret;
	pmem2_config_set_required_store_granularity(cfg,
						    PMEM2_GRANULARITY_PAGE);
	pmem2_config_set_offset(cfg, start);
	pmem2_config_set_length(cfg, end - start);
	if (!write)
		pmem2_config_set_protection(cfg, PMEM2_PROT_READ);
	ret = pmem2_map_new(&map, cfg, src);
	pmem2_config_delete(&cfg);
	if (ret)
		return ret;

	ret = pmf_mc_begin();
	if (ret) {
		pmem2_map_delete(&map);
		return pmf_err(ret, "sigaction: %s", strerror(-ret));
	}
	ret = pmf_mc_copy((char *)pmem2_map_get_address(map) + offset - start,
			  buf, size, write, pmem2_get_memcpy_fn(map));
	pmf_mc_end();
	del = pmem2_map_delete(&map);
	if (ret)
		return pmf_err(ret, "SIGBUS %s [%zu, %zu) of the device: a machine check or bad block",
			       write ? "writing" : "reading", offset,
			       offset + size);
	return del;
}

/*
 * Files go through the kernel, whose copy stops at poison and says EIO.
 * libpmem2 takes a short count for success; we go on from where it stopped,
 * so a short count followed by the error is the error.
 */
#ifdef PMF_TEST_HOOKS
ssize_t (*pmf_test_pio)(int fd, void *buf, size_t size, off_t offset,
			bool write);
#endif

static ssize_t pmf_pio(int fd, void *buf, size_t size, off_t offset,
		       bool write)
{
	if (pmf_test_pio)
		return pmf_test_pio(fd, buf, size, offset, write);
	return write ? pwrite(fd, buf, size, offset) :
		       pread(fd, buf, size, offset);
}

static int pmf_file_io(int fd, void *buf, size_t size, size_t offset,
		       bool write)
{
	const char *op = write ? "pwrite" : "pread";
	char *p = buf;

	while (size) {
		ssize_t n = pmf_pio(fd, p, size, (off_t)offset, write);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EIO)
			return pmf_err(PMEM2_E_IO_FAIL,
				       "%s at %zu: I/O error, possibly a bad block",
				       op, offset);
		if (n < 0)
			return pmf_err(-errno, "%s at %zu: %s", op, offset,
				       strerror(errno));
		if (!n)
			return pmf_err(PMEM2_E_LENGTH_OUT_OF_RANGE,
				       "%s at %zu: the file ends there", op,
				       offset);
		p += n;
		offset += (size_t)n;
		size -= (size_t)n;
	}
	return 0;
}

static int pmf_mcsafe(struct pmem2_source *src, void *buf, size_t size,
		      size_t offset, bool write)
{
	size_t ssize;
	int ret;

	pmf_err_clear();
	if (src->ftype == PMF_FTYPE_ANON)
		return pmf_err(PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED,
			       "only a source made from a file descriptor can be %s",
			       write ? "written" : "read");
	ret = pmem2_source_size(src, &ssize);
	if (ret)
		return ret;
	if (offset > ssize || size > ssize - offset)
		return pmf_err(PMEM2_E_LENGTH_OUT_OF_RANGE,
			       "%zu bytes at %zu go beyond the source's %zu",
			       size, offset, ssize);
	if (!size)
		return 0;
	if (src->ftype == PMF_FTYPE_DEVDAX)
		ret = pmf_devdax_io(src, buf, size, offset, write);
	else
		ret = pmf_file_io(src->fd, buf, size, offset, write);
	if (!ret)
		pmf_err_clear();
	return ret;
}

PMF_EXPORT int pmem2_source_pread_mcsafe(struct pmem2_source *src, void *buf,
					 size_t size, size_t offset)
{
	return pmf_mcsafe(src, buf, size, offset, false);
}

PMF_EXPORT int pmem2_source_pwrite_mcsafe(struct pmem2_source *src, void *buf,
					  size_t size, size_t offset)
{
	return pmf_mcsafe(src, buf, size, offset, true);
}
