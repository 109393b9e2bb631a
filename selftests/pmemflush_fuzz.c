// SPDX-License-Identifier: GPL-2.0
/*
 * pmemflush_fuzz: an ioctl fuzzer for /dev/pmemflush (QEMU stack).
 *
 * PMF_FUZZ_IOCTLS ioctls (default 1000000), half as root and half in a
 * forked child that dropped to uid/gid 65534, each phase run by NTHREADS
 * threads sharing one /dev/pmemflush file, each thread also with one of its
 * own, plus a churn thread that keeps closing and reopening the fd numbers of
 * the target pool (dup2() onto fixed slots) and remapping one address range.
 * Twice per phase a thread fork()s: the child fuzzes on the inherited files
 * for a while and exits. Every command number, direction and size encoding
 * is tried; the structs are valid-looking or random, of every size, and end
 * exactly at a PROT_NONE guard page (or sit on a read-only page).
 *
 * The oracle: a failing ioctl's errno must be one the uapi header documents
 * for that command (ENOTTY for a command the module does not have); where
 * the outcome does not depend on what other threads do (the struct's header,
 * the pool's template fds that nothing closes, a thread's own registered ids,
 * address ranges of mappings that never change) it must be exactly the one
 * the documentation implies, outputs must be sane and match what a plain
 * call returned before fuzzing, and no byte the kernel may not write changes.
 * New kernel log lines of any sanitizer or warning and kmemleak's reports
 * that mention pmemflush fail the run; so does a real flush that no longer
 * works afterwards.
 *
 * About one FLUSH in seven goes through io_uring instead (IORING_OP_URING_CMD
 * on the same /dev/pmemflush fd, the struct's bytes in the SQE's 80-byte
 * command area), judged by the same oracle: the CQE's res must be what the
 * ioctl's errno would be for those bytes (plus E2BIG above 80 bytes, ENOTTY
 * for any other cmd_op, EMSGSIZE from a ring of 64-byte SQEs), and a
 * success's flush_seq (CQE32) must say what a plain FLUSH said about the
 * device flush.
 *
 * PMF_FUZZ_SEED (decimal or 0x...) seeds it; each thread's stream of calls
 * is a function of the seed, the phase and the thread (the interleaving of
 * threads, the churn and the forked children is not).
 */
#include <grp.h>
#include <inttypes.h>
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/fs.h>

#include "pmemflush_test.h"

#define NTHREADS	3
#define BATCH		64		/* ioctls claimed from the budget at once */
#define POOL_BASE	200		/* fd numbers of the pool's slots */
#define TMPL_BASE	300		/* templates: never closed while fuzzing */
#define NEVER_FD	900		/* from here up nothing is ever open */
#define IDTAB		256		/* ids of the shared file, per phase */
#define NERRNO		192
#define ARENA		8192		/* a thread's struct area before its guard */
#define FILE_SIZE	(1 << 20)	/* the DAX files the pool opens */
#define PAGE		4096
#define MAX_FAIL_PRINTS	40
#define URING_AREA	80		/* an SQE128's command area */
#define URING_PCT	15		/* of FLUSH-shaped calls */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* the pool: what a fuzzed fd may be */
enum kind {
	K_DEVDAX, K_DEVDAX_RO, K_DEVDAX_WO, K_VIRTIO_DEVDAX,
	K_EXT4, K_EXT4_RO, K_EXT4_PATH, K_XFS, K_XFS_RT, K_VIRTIO_EXT4,
	K_PMEM, K_RAW, K_PART, K_BTT, K_BTT_FILE,
	K_TMPFS, K_PIPE_R, K_PIPE_W, K_SOCK, K_DIR, K_PMF, K_NULL, K_CLOSED,
	NKINDS
};

enum how { H_PATH, H_FILE, H_PIPE_R, H_PIPE_W, H_SOCK, H_NONE };

struct kinddef {
	const char *name;
	const char *env;	/* target variable; NULL: @path */
	const char *path;
	enum how how;		/* H_FILE: a file we create in the directory */
	int flags;
	unsigned int weight;	/* how often a fuzzed fd names it */
	bool slow;		/* virtio-pmem: every device flush is a host fsync */
};

static const struct kinddef kinds[NKINDS] = {
	[K_DEVDAX]	 = { "devdax", "PMF_NFIT_DEVDAX", NULL, H_PATH, O_RDWR, 20 },
	[K_DEVDAX_RO]	 = { "devdax-rdonly", "PMF_NFIT_DEVDAX", NULL, H_PATH, O_RDONLY, 3 },
	[K_DEVDAX_WO]	 = { "devdax-wronly", "PMF_NFIT_DEVDAX", NULL, H_PATH, O_WRONLY, 3 },
	[K_VIRTIO_DEVDAX] = { "virtio-devdax", "PMF_VIRTIO_DEVDAX", NULL, H_PATH, O_RDWR, 0, true },
	[K_EXT4]	 = { "ext4-dax", "PMF_NFIT_EXT4", NULL, H_FILE, O_RDWR, 14 },
	[K_EXT4_RO]	 = { "ext4-dax-rdonly", "PMF_NFIT_EXT4", NULL, H_FILE, O_RDONLY, 3 },
	[K_EXT4_PATH]	 = { "ext4-dax-opath", "PMF_NFIT_EXT4", NULL, H_FILE, O_PATH, 3 },
	[K_XFS]		 = { "xfs-dax", "PMF_NFIT_XFS", NULL, H_FILE, O_RDWR, 10 },
	[K_XFS_RT]	 = { "xfs-realtime", "PMF_NFIT_XFS_RT", NULL, H_FILE, O_RDWR, 3 },
	[K_VIRTIO_EXT4]	 = { "virtio-ext4-dax", "PMF_VIRTIO_EXT4", NULL, H_FILE, O_RDWR, 0, true },
	[K_PMEM]	 = { "pmem-fsdax-bdev", "PMF_NFIT_PMEM", NULL, H_PATH, O_RDWR, 5 },
	[K_RAW]		 = { "pmem-raw-bdev", "PMF_NFIT_RAW", NULL, H_PATH, O_RDWR, 2 },
	[K_PART]	 = { "pmem-partition", "PMF_NFIT_PART", NULL, H_PATH, O_RDWR, 2 },
	[K_BTT]		 = { "btt-bdev", "PMF_NFIT_BTT", NULL, H_PATH, O_RDWR, 2 },
	[K_BTT_FILE]	 = { "btt-ext4-file", "PMF_NFIT_BTT_EXT4", NULL, H_FILE, O_RDWR, 2 },
	[K_TMPFS]	 = { "tmpfs-file", NULL, "/tmp", H_FILE, O_RDWR, 2 },
	[K_PIPE_R]	 = { "pipe-read", NULL, NULL, H_PIPE_R, 0, 1 },
	[K_PIPE_W]	 = { "pipe-write", NULL, NULL, H_PIPE_W, 0, 1 },
	[K_SOCK]	 = { "socket", NULL, NULL, H_SOCK, 0, 1 },
	[K_DIR]		 = { "directory", NULL, "/tmp", H_PATH, O_RDONLY | O_DIRECTORY, 1 },
	[K_PMF]		 = { "pmemflush", NULL, PMEMFLUSH_DEV, H_PATH, O_RDWR, 2 },
	[K_NULL]	 = { "dev-null", NULL, "/dev/null", H_PATH, O_RDWR, 1 },
	[K_CLOSED]	 = { "closed", NULL, NULL, H_NONE, 0, 2 },
};

/*
 * What the uapi says a plain QUERY, FLUSH (of [0, 0)) and REGISTER of each
 * kind return; NS: it does not say (a raw namespace's pages depend on how
 * it was made). Checked once before fuzzing; the fuzzing then expects what
 * the plain calls returned.
 */
#define NS	(-1)
static const int kind_doc[NKINDS][3] = {
	[K_DEVDAX]	 = { 0, 0, 0 },
	[K_DEVDAX_RO]	 = { EBADF, EBADF, EBADF },	/* not open for writing */
	[K_DEVDAX_WO]	 = { 0, 0, 0 },
	[K_VIRTIO_DEVDAX] = { 0, 0, 0 },
	[K_EXT4]	 = { 0, 0, 0 },
	[K_EXT4_RO]	 = { EBADF, EBADF, EBADF },
	[K_EXT4_PATH]	 = { EBADF, EBADF, EBADF },	/* O_PATH */
	[K_XFS]		 = { 0, 0, 0 },
	[K_XFS_RT]	 = { EOPNOTSUPP, EOPNOTSUPP, EOPNOTSUPP },
	[K_VIRTIO_EXT4]	 = { 0, 0, 0 },
	[K_PMEM]	 = { 0, 0, 0 },
	[K_RAW]		 = { 0, 0, NS },
	[K_PART]	 = { 0, 0, NS },
	[K_BTT]		 = { 0, 0, EOPNOTSUPP },	/* flush it by fd */
	[K_BTT_FILE]	 = { EOPNOTSUPP, EOPNOTSUPP, EOPNOTSUPP }, /* page cache */
	[K_TMPFS]	 = { ENODEV, ENODEV, ENODEV },
	[K_PIPE_R]	 = { EBADF, EBADF, EBADF },
	[K_PIPE_W]	 = { ENODEV, ENODEV, ENODEV },
	[K_SOCK]	 = { ENODEV, ENODEV, ENODEV },
	[K_DIR]		 = { EBADF, EBADF, EBADF },
	[K_PMF]		 = { ENODEV, ENODEV, ENODEV },
	[K_NULL]	 = { ENODEV, ENODEV, ENODEV },
	[K_CLOSED]	 = { NS, NS, NS },
};

/* commands */
enum { CL_FLUSH, CL_QUERY, CL_REGISTER, CL_UNREGISTER, CL_BADCMD, CL_URING,
       NCL };
static const char *const cl_name[NCL] = {
	"FLUSH", "QUERY", "REGISTER", "UNREGISTER", "other", "io_uring",
};
static const unsigned int ksize[4] = {
	sizeof(struct pmemflush_flush), sizeof(struct pmemflush_query),
	sizeof(struct pmemflush_register), sizeof(struct pmemflush_unregister),
};
static const unsigned int ver0[4] = {
	PMEMFLUSH_FLUSH_SIZE_VER0, PMEMFLUSH_QUERY_SIZE_VER0,
	PMEMFLUSH_REGISTER_SIZE_VER0, PMEMFLUSH_UNREGISTER_SIZE_VER0,
};
static const unsigned long real_cmd[4] = {
	PMEMFLUSH_FLUSH, PMEMFLUSH_QUERY, PMEMFLUSH_REGISTER,
	PMEMFLUSH_UNREGISTER,
};

/*
 * The command a number names: numbers are matched exactly, and only the
 * published ones name a command (PMEMFLUSH_FLUSH_VER0 is FLUSH too); any
 * other size or direction bits are another number, ENOTTY.
 */
static int cmd_class(unsigned long cmd)
{
	int cl;

	if (cmd == (unsigned long)PMEMFLUSH_FLUSH_VER0)
		return CL_FLUSH;
	for (cl = 0; cl < CL_BADCMD; cl++)
		if (cmd == real_cmd[cl])
			return cl;
	return CL_BADCMD;
}

/* a set of outcomes: bit 0 success, bit e errno e */
struct eset {
	uint64_t w[NERRNO / 64];
};

static void es_add(struct eset *s, int e)
{
	if (e >= 0 && e < NERRNO)
		s->w[e / 64] |= 1ULL << (e % 64);
}

static bool es_has(const struct eset *s, int e)
{
	return e >= 0 && e < NERRNO && (s->w[e / 64] >> (e % 64) & 1);
}

static bool es_empty(const struct eset *s)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(s->w); i++)
		if (s->w[i])
			return false;
	return true;
}

static struct eset es_of(int n, ...)
{
	struct eset s = { { 0 } };
	va_list ap;

	va_start(ap, n);
	while (n--)
		es_add(&s, va_arg(ap, int));
	va_end(ap);
	return s;
}

static void es_fmt(const struct eset *s, char *buf, size_t len)
{
	size_t n = 0;
	int e;

	buf[0] = '\0';
	for (e = 0; e < NERRNO && n < len; e++) {
		const char *name = e ? strerrorname_np(e) : "success";

		if (es_has(s, e))
			n += snprintf(buf + n, len - n, "%s%s", n ? "|" : "",
				      name ? name : "?");
	}
}

/*
 * The errnos each command may return, from the DOC block of
 * include/uapi/linux/pmemflush.h ("Errors" and each command's own list).
 * ENOMEM is in every list ("the kernel could not allocate what the command
 * needs"). Nothing was added beyond the header: the module returns EINTR
 * only to a caller that a fatal signal is killing (wait_event_killable(),
 * mmap_read_lock_killable()), and this program sends none.
 */
static struct eset doc_set[NCL];

static void doc_sets(void)
{
	doc_set[CL_FLUSH] = es_of(12, EFAULT, EINVAL, E2BIG, EBADF, ENOENT,
				  ENODEV, EOPNOTSUPP, ENXIO, EOVERFLOW, ERANGE,
				  ENOMEM, EIO);
	/* QUERY: "the errors above except EOVERFLOW and ERANGE" */
	doc_set[CL_QUERY] = es_of(9, EFAULT, EINVAL, E2BIG, EBADF, ENOENT,
				  ENODEV, EOPNOTSUPP, ENXIO, ENOMEM);
	/* REGISTER by fd or address; ENOENT is only for ids, ERANGE for ranges */
	doc_set[CL_REGISTER] = es_of(11, EFAULT, EINVAL, E2BIG, EBADF, ENODEV,
				     EOPNOTSUPP, ENXIO, EOVERFLOW, ENOSPC,
				     EACCES, ENOMEM);
	doc_set[CL_UNREGISTER] = es_of(5, EFAULT, EINVAL, E2BIG, ENOENT,
				       ENOMEM);
	/*
	 * A command number the module does not have (another type, another
	 * direction than _IOC_READ|_IOC_WRITE, nr > 3, or the size bits of no
	 * published number): it returns ENOIOCTLCMD, which the VFS turns into
	 * ENOTTY. The types whose commands the VFS handles itself are never
	 * sent (see rand_type()).
	 */
	doc_set[CL_BADCMD] = es_of(1, ENOTTY);
}

/* events worth counting */
enum {
	EV_FLUSH_FD_OK, EV_FLUSH_ID_OK, EV_QUERY_FD_OK, EV_QUERY_ID_OK,
	EV_REG_FD_OK, EV_REG_ADDR_OK, EV_UNREG_OK, EV_DEVFLUSH, EV_ENOSPC,
	EV_EXACT, EV_RO, EV_GUARD_TRUNC, EV_BIG, EV_OUTNZ, EV_SLOW,
	EV_CHURN, EV_FLIP, EV_PRIV_REOPEN, EV_FORK, EV_FILL, EV_CUT,
	EV_URING_FD_OK, EV_URING_ID_OK, EV_URING_DEVFLUSH, EV_URING_SMALL,
	EV_URING_BADOP, EV_URING_BIG, NEV
};
static const char *const ev_name[NEV] = {
	"FLUSH by fd ok", "FLUSH by id ok", "QUERY by fd ok", "QUERY by id ok",
	"REGISTER by fd ok", "REGISTER by address ok", "UNREGISTER ok",
	"device flushes (virtio-pmem)", "ENOSPC (id table full)",
	"calls with an exactly predicted outcome", "structs on a read-only page",
	"structs cut by the guard page", "sizes above 4096",
	"FLUSH/QUERY ok with non-zero output fields passed in",
	"virtio-pmem targets named", "churn operations", "remaps of the flip range",
	"private /dev/pmemflush reopened", "fork()ed fuzzing children",
	"own files filled until ENOSPC (runs started)",
	"FLUSH structs cut after their inputs (EFAULT)",
	"io_uring FLUSH by fd ok", "io_uring FLUSH by id ok",
	"io_uring FLUSH ok with a device flush (flush_seq)",
	"io_uring commands on 64-byte SQEs", "io_uring commands, other cmd_op",
	"io_uring FLUSH with @size above the 80-byte area",
};

struct stats {
	uint64_t hist[NCL][NERRNO];
	uint64_t ns[NCL][NERRNO];	/* time in the ioctl */
	uint64_t ev[NEV];
	uint64_t fails;
};

/* MAP_SHARED: seen by every process of the run */
struct shared {
	uint64_t claimed;		/* ioctls handed out */
	uint64_t limit;			/* where the current phase ends */
	uint64_t total;			/* ioctls done, all processes */
	uint64_t done[2];
	uint64_t hist[2][NCL][NERRNO];
	uint64_t ns[2][NCL][NERRNO];
	uint64_t ev[2][NEV];
	uint64_t fails[2];
	uint64_t printed;
	uint64_t ids[2][IDTAB];		/* shared file's ids: id | kind << 32 */
	uint8_t seen[4][256];		/* PMEMFLUSH_TYPE nr seen per direction */
	uint32_t other_types;
};

static struct shared *sh;

/* learned before fuzzing: what a plain call on each template returns */
struct learned {
	bool avail;
	char why[160];
	char path[256];
	int flush_rc, query_rc, reg_rc;	/* 0 or errno */
	struct pmemflush_flush f;
	struct pmemflush_query q;
	uint64_t size;			/* for ranges: target_size, else a guess */
};

static struct learned lk[NKINDS];

/* mappings for REGISTER by address, inside one reserved range */
enum {
	M_DEVDAX, M_VIRTIO_DEVDAX, M_EXT4, M_EXT4_RO, M_EXT4_PRIV, M_XFS,
	M_XFS_RT, M_PMEM, M_BTT_FILE, M_TMPFS, M_ANON_SHARED, M_ANON_PRIV,
	M_FLIP, NMAPS
};

struct mapdef {
	const char *name;
	int kind;		/* template mapped, -1 anonymous */
	size_t len;
	uint64_t off;		/* file offset */
	int prot, flags;
	unsigned int weight;
	int doc;		/* what the uapi says REGISTER by address gets */
};

static const struct mapdef mapdefs[NMAPS] = {
	[M_DEVDAX]	 = { "devdax shared", K_DEVDAX, 2 << 20, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, 8, 0 },
	[M_VIRTIO_DEVDAX] = { "virtio devdax shared", K_VIRTIO_DEVDAX, 1 << 20, 0, PROT_READ | PROT_WRITE, MAP_SHARED, 0, 0 },
	[M_EXT4]	 = { "ext4 DAX file shared", K_EXT4, 512 << 10, 256 << 10, PROT_READ | PROT_WRITE, MAP_SHARED, 14, 0 },
	[M_EXT4_RO]	 = { "ext4 DAX file read-only", K_EXT4, 256 << 10, 0, PROT_READ, MAP_SHARED, 3, EACCES },
	[M_EXT4_PRIV]	 = { "ext4 DAX file private", K_EXT4, 256 << 10, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE, 3, EACCES },
	[M_XFS]		 = { "xfs DAX file shared", K_XFS, 512 << 10, 0, PROT_READ | PROT_WRITE, MAP_SHARED, 10, 0 },
	[M_XFS_RT]	 = { "xfs realtime file shared", K_XFS_RT, 256 << 10, 0, PROT_READ | PROT_WRITE, MAP_SHARED, 3, EOPNOTSUPP },
	[M_PMEM]	 = { "pmem block device shared", K_PMEM, 1 << 20, 0, PROT_READ | PROT_WRITE, MAP_SHARED, 4, 0 },
	[M_BTT_FILE]	 = { "file on BTT shared", K_BTT_FILE, 256 << 10, 0, PROT_READ | PROT_WRITE, MAP_SHARED, 2, EOPNOTSUPP },
	[M_TMPFS]	 = { "tmpfs file shared", K_TMPFS, 256 << 10, 0, PROT_READ | PROT_WRITE, MAP_SHARED, 2, ENODEV },
	/* shared anonymous memory is a file on the kernel's internal tmpfs */
	[M_ANON_SHARED]	 = { "anonymous shared", -1, 256 << 10, 0, PROT_READ | PROT_WRITE, MAP_SHARED, 2, ENODEV },
	[M_ANON_PRIV]	 = { "anonymous private", -1, 256 << 10, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE, 2, EACCES },
	[M_FLIP]	 = { "flip (remapped by the churn)", -1, 256 << 10, 0, PROT_NONE, MAP_PRIVATE, 8, EACCES },
};

struct map {
	uint8_t *addr;			/* NULL: not mapped */
	int rc;				/* REGISTER of its first page: 0 or errno */
};

static struct map maps[NMAPS];
static uint8_t *resv;			/* the reserved range */
static size_t resv_len;
#define MAP_GAP		(64 << 10)

/* read-only structs, one per command, each ending at a guard page */
static uint8_t *ro_struct[4];
static unsigned int ro_len[4];

static uint64_t seed;
static uint64_t n_total;
static int root_ctx = -1;		/* the root phase's shared file */
static volatile int churn_stop;

/* ---------------------------------------------------------------------- */

static void say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	/* one write per line: threads and processes share stdout */
	if (write(1, buf, n) < 0)
		return;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

static void wr32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

static void wr64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

/* ---------------------------------------------------------------------- */
/* the pool */

static const char *kind_target(int k)
{
	const char *p;

	if (!kinds[k].env)
		return kinds[k].path;
	p = getenv(kinds[k].env);
	if (!p && k <= K_DEVDAX_WO)
		p = pmf_devdax_path();
	return p;
}

/* a new fd of kind @k, or -1 (kinds that cannot be opened by this user) */
static int open_kind(int k)
{
	int p[2], fd;

	switch (kinds[k].how) {
	case H_PATH:
	case H_FILE:
		if (!lk[k].path[0])
			return -1;
		return open(lk[k].path, kinds[k].flags | O_CLOEXEC);
	case H_PIPE_R:
	case H_PIPE_W:
		if (pipe2(p, O_CLOEXEC))
			return -1;
		fd = kinds[k].how == H_PIPE_R ? p[0] : p[1];
		close(kinds[k].how == H_PIPE_R ? p[1] : p[0]);
		return fd;
	case H_SOCK:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p))
			return -1;
		close(p[1]);
		return p[0];
	case H_NONE:
		break;
	}
	return -1;
}

static bool tmpl_open(int k)
{
	return lk[k].avail && kinds[k].how != H_NONE;
}

static unsigned int kind_weights;

/* pick a kind by weight; the slow (virtio-pmem) ones once in ~1000 picks */
static int pick_kind(uint64_t *rng, bool any)
{
	unsigned int r, k, total = kind_weights;

	if (any && splitmix(rng) % 1024 == 0)
		return splitmix(rng) & 1 ? K_VIRTIO_DEVDAX : K_VIRTIO_EXT4;
	r = splitmix(rng) % total;
	for (k = 0; k < NKINDS; k++) {
		if (r < kinds[k].weight)
			return k;
		r -= kinds[k].weight;
	}
	return K_CLOSED;
}

/* ---------------------------------------------------------------------- */
/* the flip range: remapped between a DAX file, anonymous memory and more */

static void flip_remap(uint64_t *rng)
{
	uint8_t *a = maps[M_FLIP].addr;
	size_t len = mapdefs[M_FLIP].len;
	void *p = MAP_FAILED;

	switch (splitmix(rng) % 5) {
	case 0:
		if (tmpl_open(K_EXT4))
			p = mmap(a, len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, TMPL_BASE + K_EXT4, 0);
		break;
	case 1:
		if (tmpl_open(K_XFS))
			p = mmap(a, len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, TMPL_BASE + K_XFS, 0);
		break;
	case 2:
		if (tmpl_open(K_DEVDAX))
			p = mmap(a, len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, TMPL_BASE + K_DEVDAX, 0);
		break;
	case 3:
		p = mmap(a, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
		break;
	}
	/* a failed MAP_FIXED may leave the range unmapped: fill it at once */
	if (p == MAP_FAILED)
		mmap(a, len, PROT_NONE,
		     MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

/* one churn step: close a slot, reopen it, or put another file there */
static void churn_step(uint64_t *rng, struct stats *st)
{
	int k = splitmix(rng) % NKINDS, slot = POOL_BASE + k, fd, j;
	unsigned int r = splitmix(rng) % 16;

	st->ev[EV_CHURN]++;
	if (splitmix(rng) % 32 == 0) {
		flip_remap(rng);
		st->ev[EV_FLIP]++;
	}
	if (k == K_CLOSED || r < 2) {
		close(slot);
		return;
	}
	if (r < 8) {
		/* a fresh open; one this user may not make: the template's */
		fd = open_kind(k);
		if (fd >= 0) {
			dup2(fd, slot);
			close(fd);
			return;
		}
	}
	if (r < 13 || kinds[k].slow) {
		if (tmpl_open(k))
			dup2(TMPL_BASE + k, slot);
		else
			close(slot);
		return;
	}
	/* mix: another kind's file on this number (never a slow one) */
	j = pick_kind(rng, false);
	if (tmpl_open(j))
		dup2(TMPL_BASE + j, slot);
	else
		close(slot);
}

/*
 * One churn step per CHURN_EVERY ioctls claimed, not per unit of time: on a
 * slow kernel (KASAN, lockdep, one vCPU) a timed churn would take the CPU
 * from the fuzzing threads.
 */
#define CHURN_EVERY	16

static void *churn_thread(void *arg)
{
	uint64_t rng = *(uint64_t *)arg, last = 0, cur;
	struct stats *st = calloc(1, sizeof(*st));
	struct timespec ts = { 0, 100 * 1000 };
	unsigned int k;

	if (!st)
		return NULL;
	while (!churn_stop) {
		cur = __atomic_load_n(&sh->claimed, __ATOMIC_RELAXED);
		if (cur - last >= CHURN_EVERY) {
			churn_step(&rng, st);
			last = cur;
		} else {
			nanosleep(&ts, NULL);
		}
	}
	/* leave every slot as it started */
	for (k = 0; k < NKINDS; k++)
		if (tmpl_open(k))
			dup2(TMPL_BASE + k, POOL_BASE + k);
		else
			close(POOL_BASE + k);
	return st;
}

/* ---------------------------------------------------------------------- */
/* a thread */

/* ids of a thread's own /dev/pmemflush: only it uses that file */
struct plist {
	uint16_t pos[PMEMFLUSH_MAX_IDS + 1];	/* index + 1 in @ids, 0: none */
	int8_t kind[PMEMFLUSH_MAX_IDS + 1];	/* template kind, -1 unknown */
	uint16_t ids[PMEMFLUSH_MAX_IDS];
	int n;
};

struct fz {
	uint64_t rng;
	int phase, tid;
	int ctx;		/* the phase's shared /dev/pmemflush */
	int priv;		/* this thread's own */
	unsigned int priv_ops;
	struct plist pl;
	uint8_t *arena;		/* ARENA bytes, then the guard page */
	uint8_t *guard;
	bool child;		/* in a fork()ed child */
	int64_t child_left;
	double fork_at[2];	/* fractions of the phase where it forks */
	double fill_at;		/* where it fills its own file with ids */
	bool filling;
	pid_t kids[2];
	int nkids;
	uint64_t phase_start, phase_n;
	struct stats st;
	struct io_uring ring;	/* SQE128 and CQE32 */
	struct io_uring ring64;	/* 64-byte SQEs */
	bool rings;
	uint8_t img[ARENA];	/* what was passed in */
};

static void pl_add(struct plist *pl, uint32_t id, int kind)
{
	pl->ids[pl->n] = id;
	pl->pos[id] = ++pl->n;
	pl->kind[id] = kind;
}

static void pl_del(struct plist *pl, uint32_t id)
{
	unsigned int i = pl->pos[id] - 1;
	uint16_t last = pl->ids[--pl->n];

	pl->ids[i] = last;
	pl->pos[last] = i + 1;
	pl->pos[id] = 0;
}

static bool pl_has(const struct plist *pl, uint32_t id)
{
	return id >= 1 && id <= PMEMFLUSH_MAX_IDS && pl->pos[id];
}

static void priv_reopen(struct fz *z)
{
	if (z->priv >= 0)
		close(z->priv);
	z->priv = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	memset(z->pl.pos, 0, sizeof(z->pl.pos));
	z->pl.n = 0;
	z->priv_ops = 0;
	z->st.ev[EV_PRIV_REOPEN]++;
}

static uint64_t rnd(struct fz *z)
{
	return splitmix(&z->rng);
}

/* the call being made */
struct call {
	int cl;			/* CL_* after decoding the number */
	unsigned long cmd;
	int ioctl_fd;
	bool priv;		/* on the thread's own file */
	bool loose;		/* ioctl on a pool slot: any file may be there */
	bool inarena;		/* @p..@p+@len is our arena, writable */
	bool ro;		/* on a read-only page */
	bool readable;		/* at least the size field can be read */
	uint8_t *p;		/* the argument */
	unsigned long argv;	/* what is passed when not @p */
	unsigned int len;	/* bytes mapped from @p to the guard */
	int kind;		/* template or map kind the struct names, -1 */
	int map;		/* map of a REGISTER by address, -1 */
	uint64_t want_off;	/* REGISTER by address: the offset it must return */
	struct eset exact;	/* empty: only the documented set applies */
	bool want_learned;	/* on success outputs must equal lk[kind] */
	bool uring;		/* sent as an io_uring command */
};

/* a range within (or around) a target of @size bytes */
static void gen_range(struct fz *z, uint64_t size, uint64_t *off, uint64_t *len)
{
	uint64_t o;

	switch (rnd(z) % 16) {
	case 0:
		*off = 0;
		*len = 0;
		break;
	case 1:
		*off = 0;
		*len = size;
		break;
	case 2:
		*off = size;
		*len = 0;
		break;
	case 3:
		o = 1 + rnd(z) % 4096;
		*off = size > o ? size - o : 0;
		*len = o + 1 + rnd(z) % 8192;		/* past the end */
		break;
	case 4:
		*off = 0;
		*len = size + 1;
		break;
	case 5:
		*off = ~0ULL - rnd(z) % 8192;
		*len = 1 + rnd(z) % 16384;		/* overflows mostly */
		break;
	case 6:
		*off = rnd(z);
		*len = rnd(z);
		break;
	case 7:
		*off = 1ULL << 63;
		*len = 1ULL << 63;			/* exactly 2^64 */
		break;
	case 8:
		*off = rnd(z) % (size + 1);
		*len = rnd(z) % (size - *off + 1);
		break;
	default:
		*off = size > PAGE ? rnd(z) % (size / PAGE) * PAGE : 0;
		*len = *off + PAGE <= size ? 1 + rnd(z) % PAGE : 0;
		break;
	}
}

/* an fd for a struct: a template, a slot, or something never open */
static int32_t pick_fd(struct fz *z, int *kind)
{
	unsigned int r = rnd(z) % 100;
	int k = pick_kind(&z->rng, true);

	*kind = -1;
	if (kinds[k].slow)
		z->st.ev[EV_SLOW]++;
	if (r < 40) {
		*kind = k;
		return TMPL_BASE + k;
	}
	if (r < 88)
		return POOL_BASE + k;
	if (r < 92) {
		static const int32_t neg[] = { -1, -2, INT32_MIN, -1000 };

		return neg[rnd(z) % ARRAY_SIZE(neg)];
	}
	if (r < 95)
		return NEVER_FD + rnd(z) % 100000;
	return rnd(z) % 512;
}

/* an id for BY_ID or UNREGISTER on the file the call goes to */
static uint32_t pick_id(struct fz *z, const struct call *c, bool consume)
{
	unsigned int r = rnd(z) % 100;
	uint64_t *slot, v;

	if (r < 5) {
		static const uint32_t bad[] = {
			0, PMEMFLUSH_MAX_IDS + 1, 0xffffffffu, 0x80000000u,
			PMEMFLUSH_MAX_IDS + 64,
		};

		return bad[rnd(z) % ARRAY_SIZE(bad)];
	}
	if (c->priv) {
		if (r < 75 && z->pl.n)
			return z->pl.ids[rnd(z) % z->pl.n];
		return 1 + rnd(z) % 96;
	}
	if (r < 75) {
		slot = &sh->ids[z->phase][rnd(z) % IDTAB];
		v = consume && r < 55 ? __atomic_exchange_n(slot, 0, __ATOMIC_RELAXED) :
			__atomic_load_n(slot, __ATOMIC_RELAXED);
		if (v) {
			/* a virtio-pmem id is flushed rarely: a host fsync each */
			if (!kinds[v >> 32].slow || rnd(z) % 64 == 0)
				return (uint32_t)v;
		}
	}
	return 1 + rnd(z) % (r & 1 ? 128 : PMEMFLUSH_MAX_IDS);
}

/* REGISTER by address: somewhere in, around or far from the mappings */
static void pick_addr(struct fz *z, struct call *c, uint64_t *addr, uint64_t *len)
{
	unsigned int r = rnd(z) % 100, m, w, tot = 0;
	uint64_t off, room;

	c->map = -1;
	if (r < 80) {
		for (m = 0; m < NMAPS; m++)
			tot += maps[m].addr ? mapdefs[m].weight : 0;
		if (!tot)
			goto wild;
		if (maps[M_VIRTIO_DEVDAX].addr && rnd(z) % 1024 == 0) {
			m = M_VIRTIO_DEVDAX;
			z->st.ev[EV_SLOW]++;
		} else {
			w = rnd(z) % tot;
			for (m = 0; m < NMAPS; m++) {
				if (!maps[m].addr)
					continue;
				if (w < mapdefs[m].weight)
					break;
				w -= mapdefs[m].weight;
			}
		}
		c->map = m;
		off = rnd(z) % mapdefs[m].len;
		if (rnd(z) % 5)
			off &= ~(uint64_t)(PAGE - 1);
		room = mapdefs[m].len - off;
		*addr = (uintptr_t)maps[m].addr + off;
		switch (rnd(z) % 10) {
		case 0:
			*len = 0;
			break;
		case 1:
			*len = room;
			break;
		case 2:
			*len = room + 1 + rnd(z) % (MAP_GAP * 2);
			break;
		case 3:
			*len = ~0ULL - rnd(z) % 4096;
			break;
		default:
			*len = 1 + rnd(z) % room;
			break;
		}
		return;
	}
wild:
	switch (r % 5) {
	case 0:		/* a gap between mappings */
		*addr = (uintptr_t)resv + rnd(z) % MAP_GAP;
		*len = 1 + rnd(z) % (2 * MAP_GAP);
		break;
	case 1:		/* below mmap_min_addr */
		*addr = rnd(z) % 65536;
		*len = 1 + rnd(z) % 4096;
		break;
	case 2:		/* the kernel's half, or beyond any user address */
		*addr = rnd(z) & 1 ? 0xffff888000000000ULL + rnd(z) % (1ULL << 30) :
			0x0000800000000000ULL + rnd(z) % (1ULL << 40);
		*len = 1 + rnd(z) % 65536;
		break;
	case 3:		/* the guard page */
		*addr = (uintptr_t)z->guard + rnd(z) % PAGE;
		*len = 1 + rnd(z) % 8192;
		break;
	default:
		*addr = rnd(z);
		*len = rnd(z);
		break;
	}
}

/* a struct of command @cl that the module could accept, into @img */
static void gen_valid(struct fz *z, struct call *c, int cl, uint8_t *img,
		      unsigned int size)
{
	unsigned int r = rnd(z) % 100;
	uint64_t off, len, addr;
	uint32_t flags;
	int32_t fd;
	int kind;

	wr32(img, 0, size);
	switch (cl) {
	case CL_FLUSH:
	case CL_QUERY:
		flags = r < 62 ? 0 : r < 95 ? PMEMFLUSH_BY_ID : (uint32_t)rnd(z);
		wr32(img, 4, flags);
		if (flags & PMEMFLUSH_BY_ID) {
			fd = (int32_t)pick_id(z, c, false);
			kind = -1;
			if (c->priv && pl_has(&z->pl, (uint32_t)fd))
				kind = z->pl.kind[fd];
		} else {
			fd = pick_fd(z, &kind);
		}
		wr32(img, 8, (uint32_t)fd);
		if (rnd(z) % 40 == 0)
			wr32(img, 12, (uint32_t)rnd(z) | 1);	/* __reserved */
		if (cl == CL_FLUSH) {
			gen_range(z, kind >= 0 ? lk[kind].size : FILE_SIZE,
				  &off, &len);
			wr64(img, 16, off);
			wr64(img, 24, len);
			if (rnd(z) % 10 == 0) {		/* outputs: ignored */
				wr32(img, 32, (uint32_t)rnd(z));
				wr32(img, 36, (uint32_t)rnd(z));
				wr64(img, 40, rnd(z));
			}
		} else {
			if (rnd(z) % 10 == 0) {
				wr64(img, 16, rnd(z));
				wr64(img, 24, rnd(z));
				wr32(img, 32, (uint32_t)rnd(z));
				wr64(img, 40, rnd(z));
			}
			if (rnd(z) % 40 == 0)
				wr32(img, 36, 1 + (uint32_t)rnd(z) % 7); /* __reserved2 */
		}
		break;
	case CL_REGISTER:
		flags = r < 55 ? 0 : r < 96 ? PMEMFLUSH_BY_ADDR : (uint32_t)rnd(z);
		wr32(img, 4, flags);
		fd = pick_fd(z, &kind);
		/* device-dax registrations read sysfs: a third of them */
		if ((fd == TMPL_BASE + K_DEVDAX || fd == POOL_BASE + K_DEVDAX) &&
		    rnd(z) % 3)
			fd = pick_fd(z, &kind);
		/* by address @fd must be 0: a tenth of them have one (EINVAL) */
		if (flags & PMEMFLUSH_BY_ADDR && rnd(z) % 10)
			fd = 0;
		wr32(img, 8, (uint32_t)fd);
		if (flags & PMEMFLUSH_BY_ADDR) {
			pick_addr(z, c, &addr, &len);
			wr64(img, 16, addr);
			wr64(img, 24, len);
		} else if (rnd(z) % 40 == 0) {
			wr64(img, 16 + 8 * (rnd(z) & 1), 1 + rnd(z) % 8192);
		}
		if (rnd(z) % 40 == 0)
			wr32(img, 12, (uint32_t)rnd(z) | 1);	/* id: output */
		if (rnd(z) % 40 == 0)
			wr64(img, 32, rnd(z) | 1);		/* offset: output */
		break;
	case CL_UNREGISTER:
		wr32(img, 4, rnd(z) % 40 ? 0 : (uint32_t)rnd(z) | 1);
		wr32(img, 8, pick_id(z, c, true));
		wr32(img, 12, rnd(z) % 40 ? 0 : (uint32_t)rnd(z) | 1);
		break;
	}
}

static unsigned int pick_size(struct fz *z, int cl)
{
	unsigned int r = rnd(z) % 100, ks = ksize[cl], v0 = ver0[cl];

	if (r < 56)
		return ks;
	if (r < 66)
		return v0;
	if (r < 72)
		return ks + 1 + rnd(z) % 64;
	if (r < 76)
		return rnd(z) % v0;
	if (r < 80)
		return PAGE;
	if (r < 84)
		return v0 + rnd(z) % (PAGE - v0);
	if (r < 89) {
		static const uint32_t big[] = {
			PAGE + 1, PAGE + 8, 0xffffffffu, 1u << 16, 0x80000000u,
		};

		return r & 1 ? big[rnd(z) % ARRAY_SIZE(big)] :
			PAGE + 1 + (uint32_t)rnd(z);
	}
	return (uint32_t)rnd(z);
}

/* the VFS's own ioctl types (fs/ioctl.c): never sent to the module */
static unsigned int rand_type(struct fz *z)
{
	unsigned int t;

	do {
		t = rnd(z) % 256;
	} while (t == 0x00 || t == 0x15 || t == 'T' || t == 'X' || t == 'f' ||
		 t == 0x94 || t == PMEMFLUSH_TYPE);
	return t;
}

/* ---------------------------------------------------------------------- */
/* the oracle's exact predictions */

static bool nonzero(const uint8_t *p, size_t from, size_t to)
{
	for (; from < to; from++)
		if (p[from])
			return true;
	return false;
}

/* the ranges [0..size) must lie in */
static void range_expect(struct eset *s, uint64_t size, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;

	if (end < off)
		es_add(s, EOVERFLOW);
	else if (end > size)
		es_add(s, ERANGE);
	else
		es_add(s, 0), es_add(s, EIO);	/* EIO: a failed device flush */
}

/* a REGISTER by address whose range [addr, addr+len) starts in our range */
static void addr_expect(struct call *c, uint64_t addr, uint64_t len)
{
	uint64_t base = (uintptr_t)resv, end = addr + len;
	unsigned int m;

	if (addr < 65536 || addr >= 0x0000800000000000ULL) {
		/* nothing is mapped below mmap_min_addr or past user space */
		es_add(&c->exact, EFAULT);
		return;
	}
	if (addr < base || addr >= base + resv_len)
		return;
	for (m = 0; m < NMAPS; m++) {
		uint64_t s = (uintptr_t)maps[m].addr, e = s + mapdefs[m].len;

		if (!maps[m].addr || addr < s || addr >= e)
			continue;
		if (m == M_FLIP)
			return;		/* the churn remaps it */
		if (end > e) {
			/*
			 * Past the mapping into the PROT_NONE private
			 * anonymous gap that follows every mapping: a part
			 * of the range that no shared writable file mapping
			 * covers, EACCES (before the target is looked at)
			 */
			c->exact = es_of(1, EACCES);
			return;
		}
		c->kind = mapdefs[m].kind;
		c->map = m;
		if (maps[m].rc) {
			es_add(&c->exact, maps[m].rc);
		} else {
			es_add(&c->exact, 0);
			c->want_off = mapdefs[m].off + (addr - s);
		}
		return;
	}
	/*
	 * A gap: PROT_NONE anonymous, a private mapping without a file, also
	 * when the range runs on into the next mapping
	 */
	if (end > base + resv_len)
		return;
	es_add(&c->exact, EACCES);
}

/*
 * What the call must return, as far as it does not depend on other threads:
 * the header (size, flags, reserved fields) first, as the module checks it,
 * then templates, a thread's own ids and the fixed mappings.
 */
static void predict(struct fz *z, struct call *c)
{
	const uint8_t *p = z->img;
	unsigned int size, ks, v0;
	uint32_t flags, id;
	int32_t fd;
	int cl = c->cl, k;

	c->kind = -1;
	if (cl == CL_BADCMD) {
		c->exact = es_of(1, ENOTTY);
		return;
	}
	if (c->loose)
		return;
	if (!c->readable) {
		c->exact = es_of(1, EFAULT);
		return;
	}
	size = rd32(p, 0);
	ks = ksize[cl];
	v0 = ver0[cl];
	if (size < v0) {
		c->exact = es_of(1, EINVAL);
		return;
	}
	if (size > PAGE) {
		c->exact = es_of(1, E2BIG);
		return;
	}
	if (c->len < size) {
		c->exact = es_of(1, EFAULT);
		/* the tail is checked for zeroes word by word before the copy */
		if (size > ks && nonzero(p, ks, c->len))
			es_add(&c->exact, E2BIG);
		return;
	}
	if (size > ks && nonzero(p, ks, size)) {
		c->exact = es_of(1, E2BIG);
		return;
	}
	flags = rd32(p, 4);
	fd = (int32_t)rd32(p, 8);
	switch (cl) {
	case CL_FLUSH:
	case CL_QUERY:
		if (flags & ~PMEMFLUSH_BY_ID || rd32(p, 12) ||
		    (cl == CL_QUERY && rd32(p, 36))) {
			c->exact = es_of(1, EINVAL);
			return;
		}
		if (flags & PMEMFLUSH_BY_ID) {
			id = (uint32_t)fd;
			if (!id || id > PMEMFLUSH_MAX_IDS) {
				c->exact = es_of(1, ENOENT);
				return;
			}
			if (!c->priv)
				return;
			if (!pl_has(&z->pl, id)) {
				c->exact = es_of(1, ENOENT);
				return;
			}
			k = z->pl.kind[id];
			c->kind = k;
			if (cl == CL_QUERY) {
				es_add(&c->exact, 0);
				c->want_learned = k >= 0;
			} else if (k >= 0) {
				range_expect(&c->exact, lk[k].size, rd64(p, 16),
					     rd64(p, 24));
				c->want_learned = true;
			} else if (rd64(p, 16) + rd64(p, 24) < rd64(p, 16)) {
				es_add(&c->exact, EOVERFLOW);
			} else {
				c->exact = es_of(3, 0, ERANGE, EIO);
			}
			break;
		}
		if (fd < 0 || fd >= NEVER_FD) {
			c->exact = es_of(1, EBADF);
			return;
		}
		if (fd < TMPL_BASE || fd >= TMPL_BASE + NKINDS)
			return;
		k = fd - TMPL_BASE;
		if (!tmpl_open(k)) {
			c->exact = es_of(1, EBADF);
			return;
		}
		c->kind = k;
		if (cl == CL_QUERY) {
			es_add(&c->exact, lk[k].query_rc);
			c->want_learned = !lk[k].query_rc;
		} else if (lk[k].flush_rc) {
			es_add(&c->exact, lk[k].flush_rc);
		} else {
			range_expect(&c->exact, lk[k].size, rd64(p, 16),
				     rd64(p, 24));
			c->want_learned = true;
		}
		break;
	case CL_REGISTER:
		if (flags & ~PMEMFLUSH_BY_ADDR || rd32(p, 12) || rd64(p, 32)) {
			c->exact = es_of(1, EINVAL);
			return;
		}
		if (flags & PMEMFLUSH_BY_ADDR) {
			uint64_t addr = rd64(p, 16), len = rd64(p, 24);

			if (!len) {
				c->exact = es_of(1, EINVAL);
				return;
			}
			/*
			 * the range names the target: no @fd with it (the
			 * uapi does not order this against the overflow)
			 */
			if (fd) {
				c->exact = es_of(1, EINVAL);
				if (addr + len < addr)
					es_add(&c->exact, EOVERFLOW);
				return;
			}
			if (addr + len < addr) {
				c->exact = es_of(1, EOVERFLOW);
				return;
			}
			addr_expect(c, addr, len);
			if (es_empty(&c->exact))
				return;
		} else {
			if (rd64(p, 16) || rd64(p, 24)) {
				c->exact = es_of(1, EINVAL);
				return;
			}
			if (fd < 0 || fd >= NEVER_FD) {
				c->exact = es_of(1, EBADF);
				return;
			}
			if (fd < TMPL_BASE || fd >= TMPL_BASE + NKINDS)
				return;
			k = fd - TMPL_BASE;
			if (!tmpl_open(k)) {
				c->exact = es_of(1, EBADF);
				return;
			}
			c->kind = k;
			es_add(&c->exact, lk[k].reg_rc);
			c->want_off = 0;
		}
		/* the shared file may be full; the own one when we filled it */
		if (es_has(&c->exact, 0) && c->priv &&
		    z->pl.n >= PMEMFLUSH_MAX_IDS)
			c->exact = es_of(1, ENOSPC);
		else if (es_has(&c->exact, 0) && !c->priv)
			es_add(&c->exact, ENOSPC);
		break;
	case CL_UNREGISTER:
		if (flags || rd32(p, 12)) {
			c->exact = es_of(1, EINVAL);
			return;
		}
		id = (uint32_t)fd;
		if (!id || id > PMEMFLUSH_MAX_IDS) {
			c->exact = es_of(1, ENOENT);
			return;
		}
		if (!c->priv)
			return;
		c->exact = es_of(1, pl_has(&z->pl, id) ? 0 : ENOENT);
		return;
	}
	/* past the header, an allocation may fail anywhere */
	es_add(&c->exact, ENOMEM);
	/* a read-only struct: the answer cannot be written back */
	if (c->ro && cl != CL_UNREGISTER && es_has(&c->exact, 0)) {
		c->exact.w[0] &= ~1ULL;
		es_add(&c->exact, EFAULT);
	}
}

/* ---------------------------------------------------------------------- */
/* checks after the call */

/*
 * What the uapi's io_uring DOC allows a CQE: the command's errnos and
 * EMSGSIZE, ENOTTY, EOPNOTSUPP, ECANCELED. A pool slot may hold any file:
 * io_uring answers EBADF for a closed number, and a file without a
 * uring_cmd operation EOPNOTSUPP; one with its own (a block device or a
 * socket on newer kernels) refuses our cmd_op with EINVAL or EOPNOTSUPP.
 */
static struct eset uring_doc(const struct call *c)
{
	struct eset s = doc_set[c->cl == CL_BADCMD ? CL_BADCMD : CL_FLUSH];

	es_add(&s, EMSGSIZE);
	es_add(&s, ENOTTY);
	es_add(&s, EOPNOTSUPP);
	es_add(&s, ECANCELED);
	if (c->loose) {
		es_add(&s, EBADF);
		es_add(&s, EINVAL);
	}
	return s;
}

static void fail(struct fz *z, const struct call *c, int rc, int err,
		 const char *what)
{
	char exp[256], sizes[64];
	struct eset doc = uring_doc(c);

	z->st.fails++;
	if (__atomic_fetch_add(&sh->printed, 1, __ATOMIC_RELAXED) >= MAX_FAIL_PRINTS)
		return;
	if (!es_empty(&c->exact))
		es_fmt(&c->exact, exp, sizeof(exp));
	else
		es_fmt(c->uring ? &doc : &doc_set[c->cl], exp, sizeof(exp));
	if (c->uring)
		snprintf(sizes, sizeof(sizes), "size %u in the command area",
			 rd32(z->img, 0));
	else if (c->readable)
		snprintf(sizes, sizeof(sizes), "size %u, %u bytes to the guard",
			 rd32(z->img, 0), c->len);
	else
		snprintf(sizes, sizeof(sizes), "arg 0x%lx unreadable", c->argv);
	say("# FAIL [%s pid %d thread %d] %s: %s%s 0x%08lx (type 0x%02x nr %u dir %u) %s%s%s, flags 0x%x fd/id %d%s%s%s%s: returned %d %s, expected %s\n",
	    z->phase ? "unprivileged" : "root", getpid(), z->tid, what,
	    cl_name[c->cl], c->uring ? " through io_uring" : "", c->cmd, (unsigned int)_IOC_TYPE(c->cmd),
	    (unsigned int)_IOC_NR(c->cmd), (unsigned int)_IOC_DIR(c->cmd),
	    sizes, c->priv ? ", own file" : "", c->ro ? ", read-only page" : "",
	    c->readable && c->len >= 8 ? rd32(z->img, 4) : 0,
	    c->readable && c->len >= 12 ? (int)rd32(z->img, 8) : 0,
	    c->kind >= 0 ? ", target " : "", c->kind >= 0 ? kinds[c->kind].name : "",
	    c->map >= 0 ? ", map " : "", c->map >= 0 ? mapdefs[c->map].name : "",
	    rc, rc ? (strerrorname_np(err) ?: "?") : "(success)", exp);
}

/* may a successful call change byte @i of a struct of @size bytes? */
static bool may_change(int cl, unsigned int size, unsigned int i)
{
	if (i >= size || i >= ksize[cl])
		return false;
	switch (cl) {
	case CL_FLUSH:		/* region_id, out_flags, flush_seq */
		return i >= offsetof(struct pmemflush_flush, region_id);
	case CL_QUERY:		/* everything after the inputs */
		return i >= offsetof(struct pmemflush_query, region_id);
	case CL_REGISTER:	/* the struct comes back whole: id and offset */
		return (i >= offsetof(struct pmemflush_register, id) &&
			i < offsetof(struct pmemflush_register, addr)) ||
		       i >= offsetof(struct pmemflush_register, offset);
	}
	return false;
}

static void check_outputs(struct fz *z, struct call *c)
{
	const uint8_t *o = c->p;
	unsigned int size = rd32(z->img, 0), i;
	const struct learned *l = c->kind >= 0 ? &lk[c->kind] : NULL;

	/* nothing but the outputs may change, nothing past @size */
	for (i = 0; i < c->len; i++) {
		if (o[i] != z->img[i] && !may_change(c->cl, size, i)) {
			char what[96];

			snprintf(what, sizeof(what),
				 "byte %u of the struct changed, not an output", i);
			fail(z, c, 0, 0, what);
			return;
		}
	}
	switch (c->cl) {
	case CL_FLUSH: {
		struct pmemflush_flush f = { 0 };

		memcpy(&f, o, size < sizeof(f) ? size : sizeof(f));
		if (f.out_flags & ~PMEMFLUSH_FLUSHED_DEVICE ||
		    (size >= sizeof(f) && !(f.out_flags & PMEMFLUSH_FLUSHED_DEVICE) &&
		     f.flush_seq)) {
			fail(z, c, 0, 0, "FLUSH outputs out of range");
			return;
		}
		if (f.out_flags & PMEMFLUSH_FLUSHED_DEVICE)
			z->st.ev[EV_DEVFLUSH]++;
		if (c->want_learned && l &&
		    (f.region_id != l->f.region_id || f.out_flags != l->f.out_flags))
			fail(z, c, 0, 0, "FLUSH region_id/out_flags differ from a plain call's");
		z->st.ev[(rd32(z->img, 4) & PMEMFLUSH_BY_ID) ? EV_FLUSH_ID_OK :
			 EV_FLUSH_FD_OK]++;
		if (nonzero(z->img, 32, size < 48 ? size : 48))
			z->st.ev[EV_OUTNZ]++;
		break;
	}
	case CL_QUERY: {
		struct pmemflush_query q;

		memcpy(&q, o, sizeof(q));
		if (q.target_kind < PMEMFLUSH_TARGET_DEVDAX ||
		    q.target_kind > PMEMFLUSH_TARGET_BTT ||
		    q.persistence_domain > PMEMFLUSH_PERSIST_CPU_CACHE ||
		    q.out_flags & ~(PMEMFLUSH_REGION_ASYNC | PMEMFLUSH_DAX_SYNC |
				    PMEMFLUSH_REGION_CXL) ||
		    (q.has_flush != 0 && q.has_flush != 1 && q.has_flush != -ENXIO) ||
		    q.__reserved2) {
			fail(z, c, 0, 0, "QUERY outputs out of range");
			return;
		}
		if (c->want_learned && l &&
		    memcmp((uint8_t *)&q + 16, (uint8_t *)&l->q + 16, sizeof(q) - 16))
			fail(z, c, 0, 0, "QUERY outputs differ from a plain call's");
		z->st.ev[(q.flags & PMEMFLUSH_BY_ID) ? EV_QUERY_ID_OK :
			 EV_QUERY_FD_OK]++;
		if (nonzero(z->img, 16, 48))
			z->st.ev[EV_OUTNZ]++;
		break;
	}
	case CL_REGISTER: {
		uint32_t id = rd32(o, 12);
		uint64_t off = rd64(o, 32);
		bool by_addr = rd32(o, 4) & PMEMFLUSH_BY_ADDR;

		if (!id || id > PMEMFLUSH_MAX_IDS) {
			fail(z, c, 0, 0, "REGISTER returned an id out of range");
			return;
		}
		if ((!by_addr && off) ||
		    (by_addr && c->map >= 0 && c->map != M_FLIP && off != c->want_off)) {
			fail(z, c, 0, 0, "REGISTER returned a wrong offset");
			return;
		}
		z->st.ev[by_addr ? EV_REG_ADDR_OK : EV_REG_FD_OK]++;
		if (c->priv) {
			if (pl_has(&z->pl, id)) {
				fail(z, c, 0, 0, "REGISTER returned an id that is registered");
				return;
			}
			pl_add(&z->pl, id, c->kind);
		} else {
			__atomic_store_n(&sh->ids[z->phase][rnd(z) % IDTAB],
					 id | (uint64_t)(c->kind < 0 ? K_CLOSED : c->kind) << 32,
					 __ATOMIC_RELAXED);
		}
		break;
	}
	case CL_UNREGISTER:
		z->st.ev[EV_UNREG_OK]++;
		if (c->priv)
			pl_del(&z->pl, rd32(o, 8));
		break;
	}
}

/* ---------------------------------------------------------------------- */
/* one fuzzed ioctl */

/*
 * A FLUSH struct of today's size that unmapped memory cuts after its inputs:
 * the per-call fast path (pmemflush_flush_in()) once loaded only the inputs
 * and ran it; the uapi reads @size bytes, so it must be EFAULT (predicted
 * like every short struct).
 */
static bool flush_cut(const struct call *c, const uint8_t *img)
{
	return c->cl == CL_FLUSH && c->readable && !c->loose &&
	       rd32(img, 0) == sizeof(struct pmemflush_flush) && c->len >= 32 &&
	       c->len < sizeof(struct pmemflush_flush);
}

/* the thread's rings; false when io_uring_setup() refused */
static bool rings_init(struct fz *z)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32,
	};
	int rc;

	rc = io_uring_queue_init_params(4, &z->ring, &p);
	if (!rc) {
		rc = io_uring_queue_init(4, &z->ring64, 0);
		if (rc)
			io_uring_queue_exit(&z->ring);
	}
	if (rc)
		say("# thread %d (pid %d): io_uring_setup: %s\n", z->tid,
		    getpid(), strerror(-rc));
	return z->rings = !rc;
}

static void rings_exit(struct fz *z)
{
	if (!z->rings)
		return;
	io_uring_queue_exit(&z->ring);
	io_uring_queue_exit(&z->ring64);
	z->rings = false;
}

/*
 * @c, a FLUSH-shaped call in the arena, sent as an io_uring command on the
 * same file instead: its first 80 bytes (zeroes after what was passed) in
 * the command area, the cmd_op PMEMFLUSH_URING_CMD_FLUSH for the ioctl's
 * number and the ioctl number itself (or our type's 0x80 with other size
 * bits) for anything else. The prediction is redone on the area's bytes,
 * so the CQE must say what an ioctl would for them.
 */
static void uring_one(struct fz *z, struct call *c)
{
	bool small = rnd(z) % 16 == 0;
	struct io_uring *ring = small ? &z->ring64 : &z->ring;
	uint8_t area[URING_AREA] = { 0 };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct timespec t0, t1;
	struct eset doc;
	uint64_t seq = 0;
	uint32_t op;
	int res, err;

	if (c->cmd == PMEMFLUSH_FLUSH)
		op = PMEMFLUSH_URING_CMD_FLUSH;
	else if (rnd(z) % 4 == 0)
		op = _IOC(_IOC_READ | _IOC_WRITE, PMEMFLUSH_TYPE, 0x80,
			  rnd(z) % (1 << _IOC_SIZEBITS));
	else
		op = (uint32_t)c->cmd;
	memcpy(area, z->img, c->len < URING_AREA ? c->len : URING_AREA);
	memcpy(z->img, area, URING_AREA);
	c->uring = true;
	c->cmd = op;
	c->cl = op == PMEMFLUSH_URING_CMD_FLUSH ? CL_FLUSH : CL_BADCMD;
	c->len = URING_AREA;
	c->inarena = false;
	c->ro = false;
	c->want_learned = false;
	memset(&c->exact, 0, sizeof(c->exact));
	predict(z, c);
	if (c->loose) {
		memset(&c->exact, 0, sizeof(c->exact));
	} else if (c->cl == CL_FLUSH) {
		/* the cmd_op first, then the SQE's size, then the struct */
		if (small)
			c->exact = es_of(1, EMSGSIZE);
		else if (rd32(area, 0) > URING_AREA)
			c->exact = es_of(1, E2BIG);
	}
	if (!es_empty(&c->exact))
		z->st.ev[EV_EXACT]++;
	if (small)
		z->st.ev[EV_URING_SMALL]++;
	else if (c->cl == CL_BADCMD)
		z->st.ev[EV_URING_BADOP]++;
	else if (rd32(area, 0) > URING_AREA)
		z->st.ev[EV_URING_BIG]++;

	sqe = io_uring_get_sqe(ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, c->ioctl_fd, NULL, 0, 0);
	sqe->cmd_op = op;
	memcpy(sqe->cmd, area, small ? 16 : URING_AREA);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	res = io_uring_submit_and_wait(ring, 1);
	if (res != 1) {
		fail(z, c, res, res < 0 ? -res : 0, "io_uring_submit_and_wait() failed");
		return;
	}
	res = io_uring_wait_cqe(ring, &cqe);
	if (res) {
		fail(z, c, res, -res, "io_uring_wait_cqe() failed");
		return;
	}
	res = cqe->res;
	if (!small)
		seq = cqe->big_cqe[0];
	io_uring_cqe_seen(ring, cqe);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	err = res < 0 ? -res : 0;
	z->st.hist[CL_URING][err < NERRNO ? err : NERRNO - 1]++;
	z->st.ns[CL_URING][err < NERRNO ? err : NERRNO - 1] +=
		(t1.tv_sec - t0.tv_sec) * 1000000000ULL + t1.tv_nsec - t0.tv_nsec;

	doc = uring_doc(c);
	if (res > 0) {
		fail(z, c, res, 0, "positive CQE res");
		return;
	}
	if (res && !es_has(&doc, err)) {
		fail(z, c, -1, err, "undocumented CQE res");
		return;
	}
	if (!es_empty(&c->exact) && !es_has(&c->exact, err)) {
		fail(z, c, res ? -1 : 0, err, "not the documented outcome");
		return;
	}
	if (res || c->cl != CL_FLUSH)
		return;
	/* the CQE's flush_seq: non-zero exactly when a device flush served it */
	if (c->want_learned && c->kind >= 0 &&
	    !seq != !(lk[c->kind].f.out_flags & PMEMFLUSH_FLUSHED_DEVICE)) {
		fail(z, c, 0, 0, "flush_seq in the CQE disagrees with a plain FLUSH");
		return;
	}
	if (seq)
		z->st.ev[EV_URING_DEVFLUSH]++;
	z->st.ev[(rd32(area, 4) & PMEMFLUSH_BY_ID) ? EV_URING_ID_OK :
		 EV_URING_FD_OK]++;
}

static void fuzz_one(struct fz *z)
{
	struct call c = { .map = -1, .kind = -1 };
	unsigned int r, size, len, dir, type, nr, i;
	uint8_t *img = z->img;
	struct timespec t0, t1;
	unsigned long arg;
	int rc, err, cl;

	/* which file the ioctl goes to; the own one closed now and then */
	r = rnd(z) % 100;
	c.ioctl_fd = z->ctx;
	if (r < 25 && z->priv >= 0) {
		if (++z->priv_ops > 2000 + rnd(z) % 1000 && !z->filling)
			priv_reopen(z);
		c.ioctl_fd = z->priv;
		c.priv = true;
	} else if (r < 27 && z->phase && root_ctx >= 0) {
		c.ioctl_fd = root_ctx;		/* root's file, inherited */
	} else if (r < 29) {
		c.ioctl_fd = POOL_BASE + K_PMF;	/* whatever the slot holds */
		c.loose = true;
	}

	/* the command number */
	r = rnd(z) % 100;
	if (r < 9) {
		type = rnd(z) % 5 ? PMEMFLUSH_TYPE : rand_type(z);
		nr = rnd(z) % 256;
		dir = rnd(z) % 4;
		c.cmd = _IOC(dir, type, nr, rnd(z) % (1 << _IOC_SIZEBITS));
		cl = cmd_class(c.cmd);
	} else {
		/*
		 * A QUERY that succeeds reads two sysfs files, a REGISTER of a
		 * device-dax device one: on a sanitizer kernel under TCG each
		 * costs 5-15 ms, a hundred FLUSHes. They stay in the mix, rarer.
		 */
		r = rnd(z) % 100;
		cl = r < 48 ? CL_FLUSH : r < 53 ? CL_QUERY : r < 71 ? CL_REGISTER :
		     CL_UNREGISTER;
		/* the own file gets its ids back before it fills up */
		if (c.priv && cl == CL_REGISTER && z->pl.n >= 512 && !z->filling)
			cl = CL_UNREGISTER;
		/* ... unless it is being filled to PMEMFLUSH_MAX_IDS */
		if (c.priv && z->filling)
			cl = CL_REGISTER;
		r = rnd(z) % 100;
		if (r < 80)
			c.cmd = real_cmd[cl];
		else if (r < 86)	/* the first version's number */
			c.cmd = cl == CL_FLUSH ? PMEMFLUSH_FLUSH_VER0 :
						 real_cmd[cl];
		else if (r < 90)	/* the size bits of another command */
			c.cmd = _IOC(_IOC_READ | _IOC_WRITE, PMEMFLUSH_TYPE, cl,
				     ver0[rnd(z) % 4] + (rnd(z) % 3) - 1);
		else if (r < 96)	/* any other size bits: ENOTTY */
			c.cmd = _IOC(_IOC_READ | _IOC_WRITE, PMEMFLUSH_TYPE, cl,
				     rnd(z) % (1 << _IOC_SIZEBITS));
		else
			c.cmd = _IOC(rnd(z) % 3, PMEMFLUSH_TYPE, cl, ksize[cl]);
		cl = cmd_class(c.cmd);
	}
	/* a pool slot may hold any file: only our type goes there */
	if (c.loose && _IOC_TYPE(c.cmd) != PMEMFLUSH_TYPE) {
		c.cmd = _IOC(_IOC_DIR(c.cmd), PMEMFLUSH_TYPE, _IOC_NR(c.cmd),
			     _IOC_SIZE(c.cmd));
		cl = cmd_class(c.cmd);
	}
	c.cl = cl;
	if (_IOC_TYPE(c.cmd) == PMEMFLUSH_TYPE)
		sh->seen[_IOC_DIR(c.cmd)][_IOC_NR(c.cmd)] = 1;
	else
		__atomic_fetch_add(&sh->other_types, 1, __ATOMIC_RELAXED);

	/* the argument */
	r = rnd(z) % 100;
	if (r < 4) {
		static const unsigned long bad[] = {
			0, 1,
#if ULONG_MAX > 0xffffffffUL
			0xffff888000000000UL, 0xffffffff81000000UL,
			0x8000000000000000UL, 0xfffffffffffff000UL,
			0x0000800000000000UL,
#else
			0xfffff000UL, 0xffffe000UL,
#endif
		};

		switch (rnd(z) % 3) {
		case 0:
			arg = bad[rnd(z) % ARRAY_SIZE(bad)];
			break;
		case 1:
			arg = (uintptr_t)z->guard + rnd(z) % PAGE;
			break;
		default:	/* 1-3 bytes before the guard */
			len = 1 + rnd(z) % 3;
			memset(z->guard - len, 0xff, len);
			arg = (uintptr_t)(z->guard - len);
			break;
		}
		c.argv = arg;
	} else if (r < 7 && cl < CL_BADCMD && ro_struct[cl]) {
		c.p = ro_struct[cl];
		c.len = ro_len[cl];
		memcpy(img, c.p, c.len);
		c.readable = c.ro = true;
		z->st.ev[EV_RO]++;
	} else if (c.priv && z->filling && cl == CL_REGISTER &&
		   c.cmd == real_cmd[cl]) {
		/* a plain REGISTER of a template that registers */
		len = ksize[cl];
		memset(img, 0, len);
		wr32(img, 0, len);
		wr32(img, 8, TMPL_BASE + (tmpl_open(K_DEVDAX) ? K_DEVDAX : K_EXT4));
		c.p = z->guard - len;
		c.len = len;
		memcpy(c.p, img, len);
		c.readable = c.inarena = true;
	} else {
		bool valid = cl < CL_BADCMD && rnd(z) % 100 < 78;
		int scl = cl < CL_BADCMD ? cl : (int)(rnd(z) % 4);

		size = pick_size(z, scl);
		if (size > PAGE) {
			z->st.ev[EV_BIG]++;
			len = rnd(z) % 4 ? 4 + rnd(z) % 64 : PAGE;
		} else {
			r = rnd(z) % 100;
			len = size < 4 ? 4 : size;
			if (r < 8) {
				len = rnd(z) % len;	/* cut by the guard */
				z->st.ev[EV_GUARD_TRUNC]++;
			} else if (r < 16) {
				len += 1 + rnd(z) % 64;	/* bytes past @size */
			}
		}
		if (valid) {
			memset(img, 0, len > 48 ? len : 48);
			gen_valid(z, &c, cl, img, size);
			/* a non-zero byte in the tail the kernel does not know */
			if (size > ksize[cl] && size <= PAGE && rnd(z) % 4 == 0)
				img[ksize[cl] + rnd(z) % (size - ksize[cl])] = 1;
			/* bytes past @size: random, the kernel must not care */
			for (i = size; i < len; i++)
				img[i] = (uint8_t)rnd(z);
		} else {
			for (i = 0; i + 8 <= len; i += 8)
				wr64(img, i, rnd(z));
			for (; i < len; i++)
				img[i] = (uint8_t)rnd(z);
			if (len >= 4)
				wr32(img, 0, size);
		}
		c.p = z->guard - len;
		c.len = len;
		memcpy(c.p, img, len);
		c.readable = len >= 4;
		c.inarena = true;
		if (!c.readable)
			c.argv = (uintptr_t)c.p;
	}
	if (c.p)
		c.argv = (uintptr_t)c.p;

	if (z->rings && c.inarena && c.readable &&
	    (cl == CL_FLUSH || cl == CL_BADCMD) && rnd(z) % 100 < URING_PCT) {
		uring_one(z, &c);
		return;
	}
	predict(z, &c);
	if (!es_empty(&c.exact))
		z->st.ev[EV_EXACT]++;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = ioctl(c.ioctl_fd, c.cmd, c.argv);
	err = rc ? errno : 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	i = err < NERRNO ? err : NERRNO - 1;
	z->st.hist[cl][i]++;
	z->st.ns[cl][i] += (t1.tv_sec - t0.tv_sec) * 1000000000ULL + t1.tv_nsec - t0.tv_nsec;

	if (rc && rc != -1) {
		fail(z, &c, rc, err, "ioctl returned neither 0 nor -1");
		return;
	}
	if (rc && err == ENOSPC) {
		z->st.ev[EV_ENOSPC]++;
		if (c.priv)
			z->filling = false;
	}
	if (flush_cut(&c, img))
		z->st.ev[EV_CUT]++;
	/*
	 * An ioctl on a pool slot: ioctl(2) itself fails with EBADF on a
	 * closed or O_PATH number, and any other file than /dev/pmemflush
	 * answers ENOTTY to our type (ext4, xfs, block devices, pipes,
	 * sockets; device-dax and /dev/null have no ioctl at all).
	 */
	if (c.loose) {
		if (rc && !es_has(&doc_set[cl], err) && err != EBADF && err != ENOTTY)
			fail(z, &c, rc, err, "undocumented errno");
		return;
	}
	if (!es_has(&doc_set[cl], err) && rc) {
		fail(z, &c, rc, err, "undocumented errno");
		return;
	}
	if (!es_empty(&c.exact) && !es_has(&c.exact, err)) {
		fail(z, &c, rc, err, "not the documented outcome");
		return;
	}
	if (!c.inarena)
		return;
	if (rc) {
		/* a failed call writes nothing */
		if (memcmp(c.p, img, c.len))
			fail(z, &c, rc, err, "failed call changed the struct");
		return;
	}
	check_outputs(z, &c);
}

static void stats_merge(struct stats *st, int phase)
{
	unsigned int i, j;

	for (i = 0; i < NCL; i++)
		for (j = 0; j < NERRNO; j++)
			if (st->hist[i][j]) {
				__atomic_fetch_add(&sh->hist[phase][i][j], st->hist[i][j],
						   __ATOMIC_RELAXED);
				__atomic_fetch_add(&sh->ns[phase][i][j], st->ns[i][j],
						   __ATOMIC_RELAXED);
			}
	for (i = 0; i < NEV; i++)
		if (st->ev[i])
			__atomic_fetch_add(&sh->ev[phase][i], st->ev[i], __ATOMIC_RELAXED);
	__atomic_fetch_add(&sh->fails[phase], st->fails, __ATOMIC_RELAXED);
	memset(st, 0, sizeof(*st));
}

/* a fork()ed copy of this thread: own file, own churn, a part of the budget */
static void fork_child(struct fz *z)
{
	pid_t pid;

	z->st.ev[EV_FORK]++;
	pid = fork();
	if (pid < 0) {
		say("# fork: %s\n", strerror(errno));
		return;
	}
	if (pid > 0) {
		z->kids[z->nkids++] = pid;
		return;
	}
	/* the parent's counts stay the parent's; its own file too */
	memset(&z->st, 0, sizeof(z->st));
	z->child = true;
	z->child_left = z->phase_n / 12;
	z->rng ^= 0x5bd1e995ULL * (uint64_t)getpid();
	priv_reopen(z);
	/* the parent thread's rings stay its own: the child makes its own */
	rings_exit(z);
	rings_init(z);
}

static void *fuzz_thread(void *arg)
{
	struct fz *z = arg;
	uint64_t c, n, i, limit = __atomic_load_n(&sh->limit, __ATOMIC_RELAXED);
	unsigned int f;

	rings_init(z);
	for (;;) {
		/* fork between batches: a batch is done by one process */
		c = __atomic_load_n(&sh->claimed, __ATOMIC_RELAXED);
		for (f = 0; !z->child && f < 2; f++)
			if (z->fork_at[f] > 0 &&
			    c >= z->phase_start + z->fork_at[f] * z->phase_n) {
				z->fork_at[f] = 0;
				fork_child(z);
			}
		if (!z->child && z->fill_at > 0 &&
		    c >= z->phase_start + z->fill_at * z->phase_n) {
			z->fill_at = 0;
			z->filling = true;
			z->st.ev[EV_FILL]++;
		}
		c = __atomic_fetch_add(&sh->claimed, BATCH, __ATOMIC_RELAXED);
		if (c >= limit)
			break;
		n = limit - c < BATCH ? limit - c : BATCH;
		for (i = 0; i < n; i++) {
			fuzz_one(z);
			if (z->child && i % 8 == 0)
				churn_step(&z->rng, &z->st);
		}
		__atomic_fetch_add(&sh->done[z->phase], n, __ATOMIC_RELAXED);
		__atomic_fetch_add(&sh->total, n, __ATOMIC_RELAXED);
		if (z->child && (z->child_left -= n) <= 0)
			break;
	}
	rings_exit(z);
	if (z->child) {
		stats_merge(&z->st, z->phase);
		_exit(0);
	}
	stats_merge(&z->st, z->phase);
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* a phase: threads on one shared file, the churn, two forks */

static int run_phase(int phase, int ctx, uint64_t n, double *secs)
{
	pthread_t th[NTHREADS], churn;
	struct fz *z[NTHREADS];
	uint64_t churn_rng = seed ^ 0xc4ceb9fe1a85ec53ULL * (phase + 1);
	struct timespec dl;
	int t, k, status, bad = 0;
	void *cst;
	double t0;

	sh->limit = sh->claimed + n;
	churn_stop = 0;
	t0 = now();
	if (pthread_create(&churn, NULL, churn_thread, &churn_rng)) {
		say("# pthread_create: %s\n", strerror(errno));
		return 1;
	}
	for (t = 0; t < NTHREADS; t++) {
		z[t] = calloc(1, sizeof(*z[t]));
		if (!z[t])
			return 1;
		z[t]->rng = seed ^ (0x9e3779b97f4a7c15ULL * (phase * 16 + t + 1));
		z[t]->phase = phase;
		z[t]->tid = t;
		z[t]->ctx = ctx;
		z[t]->priv = -1;
		priv_reopen(z[t]);
		z[t]->phase_start = sh->claimed;
		z[t]->phase_n = n;
		/* threads 0 and 1 fork once each, thread 2 fills its file */
		z[t]->fork_at[0] = t == 0 ? 0.3 : t == 1 ? 0.6 : 0;
		z[t]->fill_at = t == 2 ? 0.4 : 0;
		z[t]->arena = mmap(NULL, ARENA + PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (z[t]->arena == MAP_FAILED)
			return 1;
		z[t]->guard = z[t]->arena + ARENA;
		mprotect(z[t]->guard, PAGE, PROT_NONE);
		if (pthread_create(&th[t], NULL, fuzz_thread, z[t])) {
			say("# pthread_create: %s\n", strerror(errno));
			return 1;
		}
	}
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += getenv("PMF_FUZZ_TIMEOUT") ?
		     strtol(getenv("PMF_FUZZ_TIMEOUT"), NULL, 0) :
		     pmf_scaled_limit(900);
	for (t = 0; t < NTHREADS; t++) {
		if (pthread_timedjoin_np(th[t], NULL, &dl)) {
			say("# watchdog: thread %d of the %s phase still running after the timeout; done %" PRIu64 "\n",
			    t, phase ? "unprivileged" : "root", sh->done[phase]);
			return -1;
		}
	}
	churn_stop = 1;
	pthread_join(churn, &cst);
	if (cst) {
		stats_merge(cst, phase);
		free(cst);
	}
	for (t = 0; t < NTHREADS; t++) {
		for (k = 0; k < z[t]->nkids; k++) {
			if (waitpid(z[t]->kids[k], &status, 0) < 0 ||
			    !WIFEXITED(status) || WEXITSTATUS(status)) {
				say("# forked child %d of thread %d: %s %d\n",
				    z[t]->kids[k], t,
				    WIFSIGNALED(status) ? "killed by signal" : "exit status",
				    WIFSIGNALED(status) ? WTERMSIG(status) :
				    WEXITSTATUS(status));
				bad = 1;
			}
		}
		if (z[t]->priv >= 0)
			close(z[t]->priv);
		munmap(z[t]->arena, ARENA + PAGE);
		free(z[t]);
	}
	*secs = now() - t0;
	return bad;
}

/* ---------------------------------------------------------------------- */
/* setup: the pool's files, the templates, what plain calls return, maps */

static int doc_mismatch;

static int setup_pool(char *skipped, size_t len)
{
	size_t used = 0;
	int k, fd, dev, i;
	struct stat st;

	skipped[0] = '\0';
	for (k = 0; k < NKINDS; k++) {
		struct learned *l = &lk[k];
		const char *t = kind_target(k);

		l->size = FILE_SIZE;
		switch (kinds[k].how) {
		case H_NONE:
			l->avail = true;
			continue;
		case H_PIPE_R:
		case H_PIPE_W:
		case H_SOCK:
			break;
		case H_PATH:
			if (!t) {
				snprintf(l->why, sizeof(l->why), "%s not set", kinds[k].env);
				break;
			}
			snprintf(l->path, sizeof(l->path), "%s", t);
			break;
		case H_FILE:
			if (!t) {
				snprintf(l->why, sizeof(l->why), "%s not set", kinds[k].env);
				break;
			}
			snprintf(l->path, sizeof(l->path), "%s/pmf-fuzz-%d.dat", t,
				 getpid());
			/* the same file for every kind on one directory */
			fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
			if (fd < 0 || ftruncate(fd, FILE_SIZE) || fchmod(fd, 0666)) {
				snprintf(l->why, sizeof(l->why), "%s: %s", l->path,
					 strerror(errno));
				l->path[0] = '\0';
			}
			if (fd >= 0)
				close(fd);
			break;
		}
		if (l->why[0])
			goto skip;
		fd = open_kind(k);
		if (fd < 0) {
			snprintf(l->why, sizeof(l->why), "%s: %s", l->path,
				 strerror(errno));
			goto skip;
		}
		if (dup2(fd, TMPL_BASE + k) < 0 || dup2(fd, POOL_BASE + k) < 0) {
			snprintf(l->why, sizeof(l->why), "dup2: %s", strerror(errno));
			close(fd);
			goto skip;
		}
		close(fd);
		l->avail = true;
		continue;
skip:
		used += snprintf(skipped + used, used < len ? len - used : 0,
				 "%s%s (%s)", used ? ", " : "", kinds[k].name, l->why);
	}

	/* what plain calls on each template return, on a file of its own */
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	for (k = 0; k < NKINDS; k++) {
		struct learned *l = &lk[k];
		int fdk = TMPL_BASE + k;
		long long id;

		if (!tmpl_open(k))
			continue;
		l->query_rc = pmf_query(dev, fdk, &l->q) ? errno : 0;
		l->flush_rc = pmf_flush(dev, fdk, 0, 0, &l->f) ? errno : 0;
		id = pmf_register(dev, fdk);
		l->reg_rc = id < 0 ? errno : 0;
		if (id > 0)
			pmf_unregister(dev, id);
		if (!l->query_rc)
			l->size = l->q.target_size;
		else if (!fstat(fdk, &st) && S_ISREG(st.st_mode))
			l->size = st.st_size;
		for (i = 0; i < 3; i++) {
			int got = i == 0 ? l->query_rc : i == 1 ? l->flush_rc : l->reg_rc;

			if (kind_doc[k][i] != NS && got != kind_doc[k][i]) {
				say("# target %s: %s returned %s, the uapi says %s\n",
				    kinds[k].name, cl_name[i == 0 ? CL_QUERY : i == 1 ?
				    CL_FLUSH : CL_REGISTER],
				    got ? strerrorname_np(got) : "success",
				    kind_doc[k][i] ? strerrorname_np(kind_doc[k][i]) :
				    "success");
				doc_mismatch++;
			}
		}
		say("# target %-16s %-28s query %-10s flush %-10s register %-10s size %" PRIu64 "%s\n",
		    kinds[k].name, l->path[0] ? l->path : "-",
		    l->query_rc ? strerrorname_np(l->query_rc) : "ok",
		    l->flush_rc ? strerrorname_np(l->flush_rc) : "ok",
		    l->reg_rc ? strerrorname_np(l->reg_rc) : "ok", l->size,
		    l->query_rc ? "" : l->q.out_flags & PMEMFLUSH_REGION_ASYNC ?
		    " (async region)" : "");
	}
	close(dev);
	return 0;
}

static int setup_maps(void)
{
	uint8_t *a;
	int m, dev, fd;
	void *p;
	long long id;
	__u64 off;

	resv_len = MAP_GAP;
	for (m = 0; m < NMAPS; m++)
		resv_len += mapdefs[m].len + MAP_GAP;
	resv = mmap(NULL, resv_len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return -1;
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	for (m = 0, a = resv + MAP_GAP; m < NMAPS; a += mapdefs[m].len + MAP_GAP, m++) {
		const struct mapdef *d = &mapdefs[m];

		if (d->kind >= 0 && !tmpl_open(d->kind))
			continue;
		if (d->kind >= 0 && lk[d->kind].size < d->off + d->len)
			continue;
		fd = d->kind >= 0 ? TMPL_BASE + d->kind : -1;
		p = mmap(a, d->len, d->prot,
			 d->flags | MAP_FIXED | (fd < 0 ? MAP_ANONYMOUS : 0),
			 fd, d->off);
		if (p == MAP_FAILED) {
			say("# map %s: %s\n", d->name, strerror(errno));
			mmap(a, d->len, PROT_NONE,
			     MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE,
			     -1, 0);
			continue;
		}
		maps[m].addr = a;
		id = pmf_register_addr(dev, a, PAGE, &off);
		maps[m].rc = id < 0 ? errno : 0;
		if (id > 0) {
			pmf_unregister(dev, id);
			if (off != d->off) {
				say("# map %s: REGISTER by address returned offset %" PRIu64 ", not %" PRIu64 "\n",
				    d->name, off, d->off);
				close(dev);
				return -1;
			}
		}
		say("# map %-30s register by address: %s\n", d->name,
		    maps[m].rc ? strerrorname_np(maps[m].rc) : "ok");
		/*
		 * A shared writable mapping that registers is split in three
		 * VMAs (its middle page marked MADV_DONTDUMP): still one range
		 * of one file at contiguous offsets, which REGISTER by address
		 * takes whole, so the ranges over it stay predicted as one.
		 */
		if (!maps[m].rc && d->kind >= 0 && d->flags & MAP_SHARED &&
		    d->prot & PROT_WRITE && d->len >= 3 * PAGE) {
			size_t mid = (d->len / 2) & ~(size_t)(PAGE - 1);

			if (madvise(a + mid, PAGE, MADV_DONTDUMP)) {
				say("# map %s: madvise: %s\n", d->name,
				    strerror(errno));
				close(dev);
				return -1;
			}
			id = pmf_register_addr(dev, a, d->len, &off);
			if (id > 0)
				pmf_unregister(dev, id);
			if (id < 0 || off != d->off) {
				say("# map %s split in 3 VMAs: REGISTER by address of all of it: %s, offset %" PRIu64 " (the uapi says success, offset %" PRIu64 ")\n",
				    d->name, id < 0 ? strerrorname_np(errno) : "ok",
				    id < 0 ? 0 : off, d->off);
				doc_mismatch++;
			}
		}
		if (d->doc != NS && maps[m].rc != d->doc) {
			say("# map %s: REGISTER by address returned %s, the uapi says %s\n",
			    d->name, maps[m].rc ? strerrorname_np(maps[m].rc) : "success",
			    d->doc ? strerrorname_np(d->doc) : "success");
			doc_mismatch++;
		}
	}
	close(dev);
	return 0;
}

/* prebuilt structs on read-only pages: results cannot be written back */
static int setup_ro(void)
{
	uint8_t *pg;
	int i, k = tmpl_open(K_DEVDAX) ? K_DEVDAX : K_EXT4;

	for (i = 0; i < 4; i++) {
		unsigned int len = ksize[i];
		uint8_t img[64] = { 0 };

		pg = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (pg == MAP_FAILED)
			return -1;
		wr32(img, 0, len);
		switch (i) {
		case CL_FLUSH:
			wr32(img, 8, TMPL_BASE + k);
			wr64(img, 24, PAGE);
			break;
		case CL_QUERY:
			wr32(img, 8, TMPL_BASE + k);
			break;
		case CL_REGISTER:
			if (maps[M_DEVDAX].addr) {
				wr32(img, 4, PMEMFLUSH_BY_ADDR);
				wr64(img, 16, (uintptr_t)maps[M_DEVDAX].addr);
				wr64(img, 24, PAGE);
			} else {
				wr32(img, 8, TMPL_BASE + k);
			}
			break;
		case CL_UNREGISTER:
			wr32(img, 8, PMEMFLUSH_MAX_IDS + 7);
			break;
		}
		memcpy(pg + PAGE - len, img, len);
		if (mprotect(pg, PAGE, PROT_READ) || mprotect(pg + PAGE, PAGE, PROT_NONE))
			return -1;
		ro_struct[i] = pg + PAGE - len;
		ro_len[i] = len;
	}
	return 0;
}

/*
 * kmemleak: a new leak is reported only by the second scan that finds it
 * unreferenced (the first records its checksum; an object whose contents
 * changed since the previous scan is not reported) and only once it is 5 s
 * old, so scan twice, 6 s apart, as the kernel's documentation and
 * mm/kmemleak.c advise. PMF_FUZZ_KMEMLEAK_SCANS=1 does one scan, for time:
 * it can miss leaks of the last minutes.
 */
static int kmemleak_scan(int *entries, char *note, size_t notelen)
{
	const char *path = "/sys/kernel/debug/kmemleak";
	const char *e = getenv("PMF_FUZZ_KMEMLEAK_SCANS");
	int scans = e ? atoi(e) : 2, i, ours = 0, printed = 0;
	bool cur = false, mentions = false;
	char line[512];
	double t0, t1;
	FILE *f;

	*entries = 0;
	if (access(path, F_OK))
		return -1;
	t0 = now();
	for (i = 0; i < scans; i++) {
		if (i)
			sleep(6);
		if (pmf_write_file(path, "scan", 0)) {
			say("# kmemleak: writing \"scan\": %s\n", strerror(errno));
			return -1;
		}
	}
	t1 = now();
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "unreferenced object", 19)) {
			if (cur && mentions)
				ours++;
			cur = true;
			mentions = false;
			(*entries)++;
		}
		if (strstr(line, "pmemflush"))
			mentions = true;
		if (printed < 80 && strstr(line, "pmemflush")) {
			printed++;
			say("# kmemleak: %s", line);
		}
	}
	if (cur && mentions)
		ours++;
	fclose(f);
	snprintf(note, notelen, "%d scan%s in %.1f s%s", scans, scans == 1 ? "" : "s",
		 t1 - t0, scans == 1 ? " (one scan: leaks of the last minutes may be missed)" : "");
	return ours;
}

/* ---------------------------------------------------------------------- */

static int module_works(char *why, size_t len)
{
	const char *path = pmf_devdax_path();
	struct pmemflush_flush f;
	struct pmemflush_query q;
	int dev, fd, rc = 1;
	long long id;

	if (!path) {
		snprintf(why, len, "no device-dax (PMF_NFIT_DEVDAX not set)");
		return -1;
	}
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev < 0 || fd < 0) {
		snprintf(why, len, "open: %s", strerror(errno));
		goto out;
	}
	if (pmf_flush(dev, fd, 0, PAGE, &f)) {
		snprintf(why, len, "FLUSH of %s: %s", path, strerror(errno));
		goto out;
	}
	if (pmf_query(dev, fd, &q) || q.target_kind != PMEMFLUSH_TARGET_DEVDAX ||
	    q.region_id != f.region_id) {
		snprintf(why, len, "QUERY of %s: %s", path, strerror(errno));
		goto out;
	}
	id = pmf_register(dev, fd);
	if (id <= 0 || pmf_flush_id(dev, id, 0, q.target_size, NULL) ||
	    pmf_unregister(dev, id)) {
		snprintf(why, len, "REGISTER/FLUSH by id/UNREGISTER: %s", strerror(errno));
		goto out;
	}
	snprintf(why, len, "FLUSH, QUERY, REGISTER, FLUSH by id, UNREGISTER of %s", path);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dev >= 0)
		close(dev);
	return rc;
}

static int drop_privileges(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -1;
	/* and for good: no way back */
	if (getuid() != 65534 || geteuid() != 65534 || getegid() != 65534 ||
	    setuid(0) == 0)
		return -1;
	return 0;
}

static int test_no;
static int n_pass, n_fail, n_skip;

static void tap(int ok, const char *name, const char *skip)
{
	test_no++;
	if (skip) {
		n_skip++;
		say("ok %d %s # SKIP %s\n", test_no, name, skip);
	} else if (ok) {
		n_pass++;
		say("ok %d %s\n", test_no, name);
	} else {
		n_fail++;
		say("not ok %d %s\n", test_no, name);
	}
}

static void print_outcomes(int phase)
{
	char line[1024];
	unsigned int cl, e;
	size_t n;

	for (cl = 0; cl < NCL; cl++) {
		uint64_t calls = 0;

		for (e = 0; e < NERRNO; e++)
			calls += sh->hist[phase][cl][e];
		if (!calls)
			continue;
		n = snprintf(line, sizeof(line), "#   %-10s %8" PRIu64 ":", cl_name[cl], calls);
		for (e = 0; e < NERRNO && n < sizeof(line); e++)
			if (sh->hist[phase][cl][e])
				n += snprintf(line + n, sizeof(line) - n, " %s %" PRIu64,
					      e ? strerrorname_np(e) ?: "?" : "ok",
					      sh->hist[phase][cl][e]);
		say("%s\n", line);
		/* where the time goes: mean microseconds per outcome */
		n = snprintf(line, sizeof(line), "#   %-10s %8s  us:", "", "");
		for (e = 0; e < NERRNO && n < sizeof(line); e++)
			if (sh->hist[phase][cl][e])
				n += snprintf(line + n, sizeof(line) - n, " %s %.0f",
					      e ? strerrorname_np(e) ?: "?" : "ok",
					      sh->ns[phase][cl][e] / 1000.0 /
					      sh->hist[phase][cl][e]);
		say("%s\n", line);
	}
}

int main(void)
{
	char skipped[2048], why[256], note[256];
	const char *e;
	int kmsg, lost = 0, reports = 0, leaks, entries, rc, status, dir, nr;
	int nr_seen = 0, ctx, bad_child, ev;
	double secs[2] = { 0, 0 }, t0, t_all;
	uint64_t root_n, un_n, ev_tot[NEV];
	struct rlimit rl;
	pid_t pid;
	bool deep_ok;

	setvbuf(stdout, NULL, _IONBF, 0);
	doc_sets();
	for (ev = 0; ev < NKINDS; ev++)
		kind_weights += kinds[ev].weight;
	e = getenv("PMF_FUZZ_IOCTLS");
	n_total = e ? strtoull(e, NULL, 0) : 1000000;
	e = getenv("PMF_FUZZ_SEED");
	seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	root_n = n_total - n_total / 2;
	un_n = n_total / 2;

	say("TAP version 13\n1..9\n");
	say("# pmemflush_fuzz: seed 0x%" PRIx64 " (replay: PMF_FUZZ_SEED=0x%" PRIx64 "), %" PRIu64 " ioctls: root %" PRIu64 ", unprivileged %" PRIu64 ", %d threads + churn per phase, %zu-bit\n",
	    seed, seed, n_total, root_n, un_n, NTHREADS, sizeof(long) * 8);
	if (geteuid() != 0) {
		say("Bail out! not root\n");
		return 1;
	}
	if (!pmf_dev_exists()) {
		say("Bail out! %s missing (pmemflush.ko not loaded)\n", PMEMFLUSH_DEV);
		return 1;
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < 1024) {
		rl.rlim_cur = rl.rlim_max < 1024 ? rl.rlim_max : 1024;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		say("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}

	/* kernel reports: only those from now on */
	kmsg = pmf_kmsg_open();
	/*
	 * No "clear" of kmemleak: the boot's last scan (tools/vm/init) must
	 * still see every leak; only pmemflush's entries are counted here.
	 */

	if (setup_pool(skipped, sizeof(skipped)) || setup_maps() || setup_ro()) {
		say("Bail out! setup: %s\n", strerror(errno));
		return 1;
	}
	/* a learned outcome becomes the oracle: it must be the uapi's */
	for (ev = 0; ev < NKINDS; ev++)
		if (lk[ev].avail && kinds[ev].how != H_NONE &&
		    ((lk[ev].query_rc && !es_has(&doc_set[CL_QUERY], lk[ev].query_rc)) ||
		     (lk[ev].flush_rc && !es_has(&doc_set[CL_FLUSH], lk[ev].flush_rc)) ||
		     (lk[ev].reg_rc && !es_has(&doc_set[CL_REGISTER], lk[ev].reg_rc))))
			doc_mismatch++;
	for (ev = 0; ev < NMAPS; ev++)
		if (maps[ev].addr && maps[ev].rc &&
		    !es_has(&doc_set[CL_REGISTER], maps[ev].rc))
			doc_mismatch++;
	if (doc_mismatch)
		say("# %d plain calls on the targets did not return what the uapi says\n",
		    doc_mismatch);
	tap(!doc_mismatch, "targets: plain calls return what the uapi says",
	    !doc_mismatch && skipped[0] ? skipped : NULL);

	t_all = now();
	/* root phase */
	ctx = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	root_ctx = ctx;
	rc = run_phase(0, ctx, root_n, &secs[0]);
	if (rc < 0)
		goto watchdog;
	say("# root phase: %" PRIu64 " ioctls in %.1f s (%.0f/s), %" PRIu64 " oracle failures, forked children %s\n",
	    sh->done[0], secs[0], sh->done[0] / (secs[0] > 0 ? secs[0] : 1),
	    sh->fails[0], rc ? "FAILED" : "exited 0");
	print_outcomes(0);
	tap(!rc && sh->done[0] == root_n && !sh->fails[0], "root phase", NULL);

	/* unprivileged phase: a child that dropped to nobody */
	sh->claimed = root_n;
	t0 = now();
	pid = fork();
	if (pid == 0) {
		int own;

		if (drop_privileges()) {
			say("# cannot drop privileges: %s\n", strerror(errno));
			_exit(2);
		}
		/* /dev/pmemflush is world-usable: its own shared file */
		own = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
		if (own < 0) {
			say("# uid 65534 cannot open %s: %s\n", PMEMFLUSH_DEV,
			    strerror(errno));
			_exit(3);
		}
		rc = run_phase(1, own, un_n, &secs[1]);
		if (rc < 0)
			_exit(4);
		_exit(rc ? 1 : 0);
	}
	bad_child = 1;
	if (pid > 0) {
		double limit = now() + (getenv("PMF_FUZZ_TIMEOUT") ?
			       strtol(getenv("PMF_FUZZ_TIMEOUT"), NULL, 0) :
			       pmf_scaled_limit(900)) + 60;

		while ((rc = waitpid(pid, &status, WNOHANG)) == 0 && now() < limit)
			usleep(100 * 1000);
		if (rc == 0) {
			say("# watchdog: the unprivileged phase is still running\n");
			goto watchdog;
		}
		bad_child = rc < 0 || !WIFEXITED(status) || WEXITSTATUS(status);
		if (bad_child)
			say("# unprivileged process: %s %d\n",
			    rc > 0 && WIFSIGNALED(status) ? "killed by signal" : "exit status",
			    rc > 0 && WIFSIGNALED(status) ? WTERMSIG(status) :
			    WEXITSTATUS(status));
	}
	secs[1] = now() - t0;
	say("# unprivileged phase (uid/gid 65534, no groups): %" PRIu64 " ioctls in %.1f s (%.0f/s), %" PRIu64 " oracle failures\n",
	    sh->done[1], secs[1], sh->done[1] / (secs[1] > 0 ? secs[1] : 1),
	    sh->fails[1]);
	print_outcomes(1);
	tap(!bad_child && sh->done[1] == un_n && !sh->fails[1],
	    "unprivileged phase", NULL);
	t_all = now() - t_all;

	/* the oracle, coverage */
	for (ev = 0; ev < NEV; ev++)
		ev_tot[ev] = sh->ev[0][ev] + sh->ev[1][ev];
	for (dir = 0; dir < 4; dir++)
		for (nr = 0; nr < 256; nr++)
			nr_seen += sh->seen[dir][nr];
	say("# PMEMFLUSH_TYPE numbers tried: %d of 1024 (256 nr x 4 directions); other types: %u calls\n",
	    nr_seen, sh->other_types);
	for (ev = 0; ev < NEV; ev++)
		say("#   %-52s %" PRIu64 "\n", ev_name[ev], ev_tot[ev]);
	tap(!sh->fails[0] && !sh->fails[1], "errno oracle", NULL);
	deep_ok = ev_tot[EV_FLUSH_FD_OK] && ev_tot[EV_FLUSH_ID_OK] &&
		  ev_tot[EV_QUERY_FD_OK] && ev_tot[EV_QUERY_ID_OK] &&
		  ev_tot[EV_REG_FD_OK] && ev_tot[EV_REG_ADDR_OK] &&
		  ev_tot[EV_UNREG_OK];
	tap(deep_ok, "deep paths reached (FLUSH/QUERY by fd and id, REGISTER by fd and address, UNREGISTER)",
	    tmpl_open(K_DEVDAX) || tmpl_open(K_EXT4) ? NULL :
	    "neither device-dax nor an ext4 DAX file: nothing can succeed");
	tap(ev_tot[EV_URING_FD_OK] && ev_tot[EV_URING_ID_OK] &&
	    ev_tot[EV_URING_SMALL] && ev_tot[EV_URING_BADOP] &&
	    ev_tot[EV_URING_BIG] && !sh->fails[0] && !sh->fails[1],
	    "io_uring commands: FLUSH by fd and by id, 64-byte SQEs, other cmd_ops, oversized structs",
	    tmpl_open(K_DEVDAX) || tmpl_open(K_EXT4) ? NULL :
	    "neither device-dax nor an ext4 DAX file: nothing can succeed");

	/* the module still works */
	rc = module_works(why, sizeof(why));
	say("# module check: %s\n", why);

	/* nothing of ours left open, then the reports */
	close(ctx);
	for (ev = 0; ev < NKINDS; ev++) {
		close(TMPL_BASE + ev);
		close(POOL_BASE + ev);
		if (kinds[ev].how == H_FILE && lk[ev].path[0])
			unlink(lk[ev].path);
	}
	munmap(resv, resv_len);
	leaks = kmemleak_scan(&entries, note, sizeof(note));
	if (kmsg >= 0) {
		reports = pmf_kmsg_scan(kmsg, &lost);
		if (lost)
			say("# kmsg: %d records overwritten before they were read\n", lost);
	}
	say("# kernel log: %d report line%s\n", reports, reports == 1 ? "" : "s");
	tap(!reports, "kernel reports", kmsg < 0 ? "cannot open /dev/kmsg" : NULL);
	if (leaks >= 0)
		say("# kmemleak: %s: %d unreferenced objects, %d mentioning pmemflush\n",
		    note, entries, leaks);
	tap(leaks <= 0, "kmemleak", leaks < 0 ? "/sys/kernel/debug/kmemleak not present or off (kernel without kmemleak)" : NULL);
	tap(!rc, "module still works", rc < 0 ? why : NULL);

	say("# %" PRIu64 " ioctls in %.1f s: %.0f ioctls/s (root %" PRIu64 " in %.1f s, unprivileged %" PRIu64 " in %.1f s)\n",
	    sh->total, t_all, sh->total / (t_all > 0 ? t_all : 1), sh->done[0],
	    secs[0], sh->done[1], secs[1]);
	say("fuzz: %" PRIu64 " ioctls, %d kernel reports\n", sh->total,
	    reports + (leaks > 0 ? leaks : 0));
	say("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	    n_pass, n_fail, n_skip);
	return n_fail ? 1 : 0;

watchdog:
	if (kmsg >= 0)
		reports = pmf_kmsg_scan(kmsg, &lost);
	say("fuzz: %" PRIu64 " ioctls, %d kernel reports\n", sh->total, reports);
	say("Bail out! a phase did not finish\n");
	fflush(stdout);
	_exit(1);
}
