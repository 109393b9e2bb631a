/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the pmemflush selftests. They run as root in the test VM,
 * where tools/vm/guest-tests.sh exports PMF_MODULE (path of pmemflush.ko).
 */
#ifndef PMEMFLUSH_TEST_H
#define PMEMFLUSH_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/pmemflush.h>

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

/* the device-dax device of whichever stack this boot has */
static inline const char *pmf_devdax_path(void)
{
	const char *p = getenv("PMF_NFIT_DEVDAX");

	return p ? p : getenv("PMF_HINTS_DEVDAX");
}

/*
 * A device-dax node of the tests' own, for an fd that may still be open
 * when its device is removed.
 *
 * device_dax's dax_open() points the opened node's inode->i_mapping at the
 * dax_device's own inode (6.1 and 6.12). When the device goes, devtmpfs
 * unlinks the node, and the last close of an fd on it drops the cdev before
 * the dentry (__fput(): cdev_put(), then dput()). If that freed the
 * dax_device (dev_dax_release() -> put_dax(), the inode freed after an RCU
 * grace period) and the grace period ended in between, evicting the node's
 * devtmpfs inode reads the freed dax_device: devtmpfs is tmpfs, and
 * shmem_evict_inode() looks at inode->i_mapping->a_ops (KASAN:
 * use-after-free in shmem_evict_inode; README, "Noticed in the kernel").
 * ramfs evicts an inode without looking at i_mapping, so the tests open
 * such devices through a node of the same name and number on ramfs,
 * replaced atomically when the device comes back. @node is the /dev node;
 * its twin's path goes into @out.
 *
 * A test removes the twin when it removes the device, as devtmpfs does the
 * node: an inode that was opened keeps the cdev in i_cdev until the cdev's
 * last reference goes (cdev_purge() from its kobject's release), so while
 * an old fd is open a twin left behind would open the dead device.
 */
#define PMF_NODE_DIR "/run/pmemflush-nodes"

static inline int pmf_node_dir(void)
{
	char line[512];
	int found = 0;
	FILE *f;

	mkdir("/run", 0755);
	mkdir(PMF_NODE_DIR, 0755);
	f = fopen("/proc/self/mounts", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " " PMF_NODE_DIR " ramfs "))
			found = 1;
	fclose(f);
	if (found)
		return 0;
	return mount("ramfs", PMF_NODE_DIR, "ramfs", 0, "mode=0755");
}

static inline int pmf_own_node(const char *node, char *out, size_t len)
{
	const char *name = strrchr(node, '/');
	char tmp[PATH_MAX];
	struct stat st;

	if (!name || stat(node, &st) || !S_ISCHR(st.st_mode) || pmf_node_dir())
		return -1;
	if ((size_t)snprintf(out, len, PMF_NODE_DIR "%s", name) >= len)
		return -1;
	snprintf(tmp, sizeof(tmp), PMF_NODE_DIR "/.%d-%s", (int)gettid(),
		 name + 1);
	unlink(tmp);
	if (mknod(tmp, S_IFCHR | 0600, st.st_rdev))
		return -1;
	if (rename(tmp, out)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static inline int pmf_flush(int dev, int fd, __u64 offset, __u64 length,
			    struct pmemflush_flush *out)
{
	struct pmemflush_flush arg = {
		.size = sizeof(arg), .fd = fd, .offset = offset, .length = length,
	};
	int ret = ioctl(dev, PMEMFLUSH_FLUSH, &arg);

	if (out)
		*out = arg;
	return ret;
}

static inline int pmf_query(int dev, int fd, struct pmemflush_query *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->fd = fd;
	return ioctl(dev, PMEMFLUSH_QUERY, out);
}

static inline int pmf_flush_id(int dev, __u32 id, __u64 offset, __u64 length,
			       struct pmemflush_flush *out)
{
	struct pmemflush_flush arg = {
		.size = sizeof(arg), .flags = PMEMFLUSH_BY_ID, .id = id,
		.offset = offset, .length = length,
	};
	int ret = ioctl(dev, PMEMFLUSH_FLUSH, &arg);

	if (out)
		*out = arg;
	return ret;
}

static inline int pmf_query_id(int dev, __u32 id, struct pmemflush_query *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->flags = PMEMFLUSH_BY_ID;
	out->id = id;
	return ioctl(dev, PMEMFLUSH_QUERY, out);
}

/* PMEMFLUSH_REGISTER of @fd: the id, or -1 with errno */
static inline long long pmf_register(int dev, int fd)
{
	struct pmemflush_register arg = { .size = sizeof(arg), .fd = fd };

	return ioctl(dev, PMEMFLUSH_REGISTER, &arg) ? -1 : (long long)arg.id;
}

/* PMEMFLUSH_REGISTER by address range: the id, or -1 with errno */
static inline long long pmf_register_addr(int dev, const void *addr,
					  __u64 length, __u64 *offset)
{
	struct pmemflush_register arg = {
		.size = sizeof(arg), .flags = PMEMFLUSH_BY_ADDR,
		.addr = (__u64)(uintptr_t)addr, .length = length,
	};

	if (ioctl(dev, PMEMFLUSH_REGISTER, &arg))
		return -1;
	if (offset)
		*offset = arg.offset;
	return arg.id;
}

static inline int pmf_unregister(int dev, __u32 id)
{
	struct pmemflush_unregister arg = { .size = sizeof(arg), .id = id };

	return ioctl(dev, PMEMFLUSH_UNREGISTER, &arg);
}

/*
 * The module's group-commit counters of region @region from debugfs:
 * device flushes issued and completed. -1 when the region is not in use.
 */
#define PMF_DEBUGFS "/sys/kernel/debug/pmemflush"

static inline int pmf_region_seq(int region, unsigned long long *issued,
				 unsigned long long *completed)
{
	FILE *f = fopen(PMF_DEBUGFS "/regions", "r");
	unsigned long long i, c, ok;
	char line[256];
	unsigned int r;
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "region%u issued %llu completed %llu ok %llu",
			   &r, &i, &c, &ok) == 4 && (int)r == region) {
			*issued = i;
			*completed = c;
			found = 0;
		}
	fclose(f);
	return found;
}

/* does a shared mapping of @fd accept MAP_SYNC (what the kernel says)? */
static inline int pmf_map_sync_works(int fd)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);

	if (p == MAP_FAILED)
		return 0;
	munmap(p, 4096);
	return 1;
}

/* first line of a small text file, newline stripped; -1 when unreadable */
static inline int pmf_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char *nl;

	if (!f)
		return -1;
	if (!fgets(buf, len, f))
		buf[0] = '\0';
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

/*
 * The nd devices behind device-dax node @node, from its sysfs path
 * /sys/devices/.../regionR/<claim daxR.N>/<dev_dax daxR.M>: the claim's and
 * the region's names into @claim and @region (64 bytes each); -1 when the
 * node is not a device-dax device of an nd region
 */
static inline int pmf_devdax_topology(const char *node, char *claim,
				      char *region)
{
	char link[PATH_MAX], real[PATH_MAX], *slash;
	struct stat st;

	if (stat(node, &st) || !S_ISCHR(st.st_mode))
		return -1;
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u",
		 major(st.st_rdev), minor(st.st_rdev));
	if (!realpath(link, real))
		return -1;
	slash = strrchr(real, '/');
	*slash = '\0';
	slash = strrchr(real, '/');
	if (!slash)
		return -1;
	snprintf(claim, 64, "%s", slash + 1);
	*slash = '\0';
	slash = strrchr(real, '/');
	if (!slash)
		return -1;
	snprintf(region, 64, "%s", slash + 1);
	return strncmp(region, "region", 6) || strncmp(claim, "dax", 3) ? -1 : 0;
}

static inline long long pmf_read_ll(const char *path)
{
	char buf[64];

	if (pmf_read_line(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 0);
}

/*
 * The region behind a path according to sysfs, found independently of the
 * module: the device's sysfs path runs through .../regionN/... .
 * Returns N or -1.
 */
static inline int pmf_sysfs_region(const char *path)
{
	char link[PATH_MAX], real[PATH_MAX];
	const char *r;
	struct stat st;
	dev_t dev;
	int id;

	if (stat(path, &st))
		return -1;
	dev = S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode) ? st.st_rdev : st.st_dev;
	snprintf(link, sizeof(link), "/sys/dev/%s/%u:%u",
		 S_ISCHR(st.st_mode) ? "char" : "block", major(dev), minor(dev));
	if (!realpath(link, real))
		return -1;
	r = strstr(real, "/region");
	if (!r || sscanf(r, "/region%d/", &id) != 1)
		return -1;
	return id;
}

/*
 * How much slower this machine is than the one the fixed timeouts were
 * written for: tools/vm/guest-tests.sh times 20 fork+execs at the start of
 * each boot and exports the ratio to a quiet Debian 6.1 guest, rounded up,
 * as PMF_TIMEOUT_SCALE (1 when unset; at most 20). Every wait of the tests
 * and every harness timeout is multiplied by it.
 */
static inline int pmf_timeout_scale(void)
{
	const char *s = getenv("PMF_TIMEOUT_SCALE");
	int v = s ? atoi(s) : 1;

	return v < 1 ? 1 : v > 20 ? 20 : v;
}

/*
 * A time limit of @s seconds, scaled, but none past 1,200 s that was not
 * already: a stalled test must still end well inside its boot's limit
 * (tools/check.sh), or the boot's other results are lost with it.
 */
static inline int pmf_scaled_limit(int s)
{
	int cap = s > 1200 ? s : 1200;

	return s * pmf_timeout_scale() > cap ? cap : s * pmf_timeout_scale();
}

#ifdef __KSELFTEST_HARNESS_H
/* the per-test timeouts (TEST_F_TIMEOUT, default 30 s), scaled */
static inline void pmf_scale_timeouts(void)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout = pmf_scaled_limit(t->timeout);
}

/* the harness's main, with the timeouts scaled first */
#undef TEST_HARNESS_MAIN
#define TEST_HARNESS_MAIN \
	static void __attribute__((constructor)) \
	__constructor_order_last(void) \
	{ \
		if (!__constructor_order) \
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	} \
	int main(int argc, char **argv) \
	{ \
		pmf_scale_timeouts(); \
		pmf_probe_share(); \
		return test_harness_run(argc, argv); \
	}
#endif

/*
 * Count calls of a kernel function made by this process, with a kprobe event
 * in a private tracefs instance filtered on our pid. guest-tests.sh turns
 * off comm recording, which would otherwise hook sched_switch (live-patch
 * __schedule()) at every enable and disable.
 *
 * Making an instance creates a directory for every trace event of the
 * kernel, and removing it deletes them again: on the sanitizer kernel
 * under TCG that cost about 4 s per probe, most of pmemflush_targets'
 * 305 s there. So a harness program (TEST_HARNESS_MAIN below) makes one
 * instance per event and reuses it in every test it forks: each start sets
 * the filter to the test's pid and empties the buffer, each stop disables
 * the event, and the program's exit removes the instances.
 */
#define PMF_TRACEFS "/sys/kernel/tracing"

struct pmf_probe {
	char inst[128];
	char event[64];
};

/* the harness's main process, whose instances its tests reuse, or 0 */
static pid_t pmf_probe_owner;

static inline int pmf_write_file(const char *path, const char *s, int flags)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static inline void pmf_probe_remove(const char *inst, const char *event)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/events/kprobes/%s/enable", inst, event);
	pmf_write_file(path, "0", O_TRUNC);
	rmdir(inst);
}

/* atexit() of the owner: remove the instances its tests left for reuse */
static inline void pmf_probe_cleanup(void)
{
	char prefix[32], inst[256], event[80];
	struct dirent *d;
	DIR *dir;

	if (!pmf_probe_owner || getpid() != pmf_probe_owner)
		return;
	dir = opendir(PMF_TRACEFS "/instances");
	if (!dir)
		return;
	snprintf(prefix, sizeof(prefix), "pmf%d_", (int)pmf_probe_owner);
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(inst, sizeof(inst), PMF_TRACEFS "/instances/%.100s",
			 d->d_name);
		snprintf(event, sizeof(event), "pmf_%.64s",
			 d->d_name + strlen(prefix));
		pmf_probe_remove(inst, event);
	}
	closedir(dir);
}

static inline void pmf_probe_share(void)
{
	pmf_probe_owner = getpid();
	atexit(pmf_probe_cleanup);
}

/*
 * A kprobe on @func, counting calls by this process. A function of a module
 * is named "MOD:func": only that form is armed again when the module is
 * unloaded and loaded back.
 */
static inline int pmf_probe_start(struct pmf_probe *p, const char *func)
{
	char path[256], buf[128], *c;
	pid_t inst_pid = pmf_probe_owner ? pmf_probe_owner : getpid();

	snprintf(p->event, sizeof(p->event), "pmf_%s", func);
	c = strchr(p->event, ':');
	if (c)
		*c = '_';
	snprintf(buf, sizeof(buf), "p:%s %s\n", p->event, func);
	/* EEXIST when an earlier test defined it already */
	if (pmf_write_file(PMF_TRACEFS "/kprobe_events", buf, O_APPEND) &&
	    errno != EEXIST && errno != EBUSY)
		return -1;
	snprintf(p->inst, sizeof(p->inst), PMF_TRACEFS "/instances/pmf%d_%s",
		 (int)inst_pid, p->event + 4);
	if (mkdir(p->inst, 0700) && !(errno == EEXIST && pmf_probe_owner))
		return -1;
	snprintf(path, sizeof(path), "%s/events/kprobes/%s/filter", p->inst, p->event);
	snprintf(buf, sizeof(buf), "common_pid == %d", getpid());
	if (pmf_write_file(path, buf, O_TRUNC))
		return -1;
	/* what an earlier test of the owner recorded there */
	snprintf(path, sizeof(path), "%s/trace", p->inst);
	if (pmf_write_file(path, "", O_TRUNC))
		return -1;
	snprintf(path, sizeof(path), "%s/events/kprobes/%s/enable", p->inst, p->event);
	return pmf_write_file(path, "1", O_TRUNC);
}

/* calls recorded since the last pmf_probe_count(), or -1 */
static inline int pmf_probe_count(struct pmf_probe *p)
{
	char path[256], line[512], tag[80];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", p->inst);
	f = fopen(path, "r");
	if (!f)
		return -1;
	snprintf(tag, sizeof(tag), " %s:", p->event);
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && strstr(line, tag))
			n++;
	fclose(f);
	/* opening "trace" for writing with O_TRUNC clears the buffer */
	if (pmf_write_file(path, "", O_TRUNC))
		return -1;
	return n;
}

static inline void pmf_probe_stop(struct pmf_probe *p)
{
	char path[256];

	if (!pmf_probe_owner) {
		pmf_probe_remove(p->inst, p->event);
		return;
	}
	snprintf(path, sizeof(path), "%s/events/kprobes/%s/enable", p->inst, p->event);
	pmf_write_file(path, "0", O_TRUNC);
}

/*
 * A test that takes a device-dax device away (unbinds its region or its
 * namespace claim) and dies before it brings it back (a timeout kills the
 * test without its teardown) must not fail the tests after it: it records
 * what it unbinds with pmf_teardown_begin(), clears the record with
 * pmf_teardown_end() once the device is back, and pmf_teardown_restore(),
 * called where the next test sets up, binds whatever is still unbound and
 * waits for @node, up to 20 s times pmf_timeout_scale().
 */
#define PMF_TEARDOWN_FILE PMF_NODE_DIR "/.teardown"

static inline void pmf_teardown_begin(const char *region, const char *claim)
{
	FILE *f;

	if (pmf_node_dir())
		return;
	f = fopen(PMF_TEARDOWN_FILE, "we");
	if (f) {
		fprintf(f, "%s %s\n", region, claim);
		fclose(f);
	}
}

static inline void pmf_teardown_end(void)
{
	unlink(PMF_TEARDOWN_FILE);
}

/* bind @name to nd driver @drv unless it has a driver */
static inline void pmf_nd_rebind(const char *drv, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/bus/nd/devices/%s/driver", name);
	if (!lstat(path, &st))
		return;
	snprintf(path, sizeof(path), "/sys/bus/nd/drivers/%s/bind", drv);
	if (pmf_write_file(path, name, O_TRUNC))
		fprintf(stderr, "# restore: bind %s to %s: %s\n", name, drv,
			strerror(errno));
	else
		fprintf(stderr, "# restore: %s was left unbound; bound to %s\n",
			name, drv);
}

/* 0 when @node opens (now or after restoring); -1 if it never came back */
static inline int pmf_teardown_restore(const char *node)
{
	char region[64], claim[64], buf[160];
	int i, fd, n = 400 * pmf_timeout_scale();

	if (!pmf_read_line(PMF_TEARDOWN_FILE, buf, sizeof(buf)) &&
	    sscanf(buf, "%63s %63s", region, claim) == 2) {
		pmf_nd_rebind("nd_region", region);
		pmf_nd_rebind("dax_pmem", claim);
		/* the flush-window knob, if the test died with it set */
		pmf_write_file("/sys/kernel/debug/pmemflush/flush_delay_us", "0",
			       O_TRUNC);
		pmf_teardown_end();
	}
	for (i = 0; i < n; i++) {
		fd = open(node, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		usleep(50000);
	}
	return -1;
}

/* the state and kernel stack of the task at /proc path @dir, as comments */
static inline void pmf_dump_task(const char *dir)
{
	char path[PATH_MAX], line[256], comm[64] = "?", state[64] = "?";
	FILE *f;

	snprintf(path, sizeof(path), "%s/comm", dir);
	pmf_read_line(path, comm, sizeof(comm));
	snprintf(path, sizeof(path), "%s/status", dir);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "State:", 6)) {
			snprintf(state, sizeof(state), "%.60s", line + 7);
			state[strcspn(state, "\n")] = '\0';
		}
	if (f)
		fclose(f);
	printf("# %s (%s) %s\n", dir, comm, state);
	snprintf(path, sizeof(path), "%s/stack", dir);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		printf("#   %s", line);
	if (f)
		fclose(f);
}

/*
 * Kernel reports: the /dev/kmsg records that tools/vm/judge.sh fails a boot
 * for. Open with pmf_kmsg_open() before the work, count with
 * pmf_kmsg_scan() after it; each report line is printed as a TAP comment.
 */
static const char *const pmf_report_pat[] = {
	"KASAN:", "BUG:", "WARNING:", "UBSAN:", "KFENCE:",
	"possible circular locking", "unreferenced object", "Oops",
	"Call Trace:", "general protection fault",
	"kernel BUG at", "refcount_t:", "list_add corruption",
	"list_del corruption", "ODEBUG:", "INFO: ", "hung_task",
	"blocked for more than",
};

static inline int pmf_is_report(const char *line)
{
	unsigned int i;

	for (i = 0; i < sizeof(pmf_report_pat) / sizeof(pmf_report_pat[0]); i++)
		if (strstr(line, pmf_report_pat[i]))
			return 1;
	return 0;
}

/* /dev/kmsg positioned at its end: only records from now on; -1 on error */
static inline int pmf_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * The next record's message from @fd, read into @buf: the text after the
 * header's ';', without its newline; NULL when no record is left. *lost
 * counts the records overwritten before they were read.
 */
static inline const char *pmf_kmsg_next(int fd, char *buf, size_t size,
					unsigned long *lost)
{
	char *msg, *nl;
	ssize_t n;

	for (;;) {
		n = read(fd, buf, size - 1);
		if (n < 0 && errno == EPIPE) {
			(*lost)++;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		buf[n] = '\0';
		msg = strchr(buf, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		return msg;
	}
}

/* report lines among the records since @fd was opened; *lost: overwritten */
static inline int pmf_kmsg_scan(int fd, int *lost)
{
	char buf[8192], line[1024];
	int reports = 0, printed = 0;
	unsigned long missed = 0;
	const char *msg;
	int n;

	while ((msg = pmf_kmsg_next(fd, buf, sizeof(buf), &missed))) {
		if (!pmf_is_report(msg))
			continue;
		reports++;
		if (printed++ < 60) {
			/* one write per line: threads and processes share stdout */
			n = snprintf(line, sizeof(line), "# kmsg: %s\n", msg);
			if (n > (int)sizeof(line) - 1)
				n = sizeof(line) - 1;
			if (write(1, line, n) < 0)
				break;
		}
	}
	*lost = (int)missed;
	return reports;
}

#endif /* PMEMFLUSH_TEST_H */
