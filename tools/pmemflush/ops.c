// SPDX-License-Identifier: GPL-2.0
/*
 * pmemflush(1): query, flush and bench, the subcommands that name a target.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "pmemflush.h"

/* the null ioctl of bench/deepflush_bench.c: an unknown command, ENOTTY */
#define PMEMFLUSH_NULL_IOCTL	_IO(PMEMFLUSH_TYPE, 0x7f)

/* getopt_long's report of a bad option, as a usage error of @cmd */
static int bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return usage_error(cmd, "option '%s' needs a value", arg);
	if (optopt && optopt != '?')
		return usage_error(cmd, "unknown option '-%c'", optopt);
	return usage_error(cmd, "unknown option '%s'", arg);
}

/* exactly one operand after the options: the target */
static int one_path(const char *cmd, int argc, char **argv, const char **path)
{
	if (optind >= argc)
		return usage_error(cmd, "no target given (a file or device)");
	if (optind + 1 < argc)
		return usage_error(cmd, "one target only, '%s' is extra",
				   argv[optind + 1]);
	*path = argv[optind];
	return 0;
}

/* open the target for writing, as the ioctls require; -1 after a message */
static int open_target(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int e;

	if (fd >= 0)
		return fd;
	e = errno;
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		err("%s: no such file or device", path);
		break;
	case EACCES:
	case EPERM:
		err("cannot open %s for writing: permission denied (the module flushes only what the caller may write, as fsync does; see ACCESS in pmemflush(1))",
		    path);
		break;
	case EROFS:
		err("cannot open %s for writing: read-only file system (a deep flush needs the target open for writing)",
		    path);
		break;
	case EISDIR:
		err("%s is a directory: name a file or a device", path);
		break;
	case ENXIO:
	case ENODEV:
		err("cannot open %s: no device behind it (%s): disabled or removed?",
		    path, strerror(e));
		break;
	default:
		err("cannot open %s for writing: %s", path, strerror(e));
	}
	errno = e;
	return -1;
}

/* /dev/pmemflush and the target, both open; -1 after a message */
static int open_pair(const char *path, int *dev, int *fd)
{
	*dev = open_pmemflush(false);
	if (*dev < 0)
		return -1;
	*fd = open_target(path);
	if (*fd < 0) {
		close(*dev);
		return -1;
	}
	return 0;
}

struct range {
	unsigned long long offset, length, size;
	bool have_size;
};

/* one message per errno of the uapi header's contract, for @what on @path */
static void ioctl_error(const char *what, const char *path, int e,
			const struct range *r)
{
	switch (e) {
	case EBADF:
		err("%s %s: the module refused the file descriptor (EBADF): it must be open for writing and not O_PATH",
		    what, path);
		break;
	case ENODEV:
		err("%s %s: no persistent memory region behind it (ENODEV): not device-dax of an nd region, not a pmem block device or a partition of one, not a file on a filesystem on one",
		    what, path);
		break;
	case EOPNOTSUPP:
		err("%s %s: not DAX (EOPNOTSUPP): its data goes through the page cache (or an XFS realtime volume, or a block device without DAX); use fsync(2) or sync(1) to persist it",
		    what, path);
		break;
	case ENXIO:
		err("%s %s: no nd region behind it any more (ENXIO): the device was disabled or removed",
		    what, path);
		break;
	case ERANGE:
		if (r && r->have_size)
			err("%s %s: range [%llu, %llu) ends past the end of the target (ERANGE): it is %llu bytes",
			    what, path, r->offset, r->offset + r->length,
			    r->size);
		else
			err("%s %s: the range ends past the end of the target (ERANGE)",
			    what, path);
		break;
	case EOVERFLOW:
		err("%s %s: offset + length overflows (EOVERFLOW)", what,
		    path);
		break;
	case EIO:
		err("%s %s: the device flush failed (EIO): the data may not be durable (on virtio-pmem the host reported an error)",
		    what, path);
		break;
	case EINVAL:
	case E2BIG:
		err("%s %s: the module rejected the request (%s): is it older or newer than this command (%s)?",
		    what, path, e == EINVAL ? "EINVAL" : "E2BIG",
		    strerror(e));
		break;
	case ENOTTY:
		err("%s %s: %s does not know the command (ENOTTY): is it the pmemflush module?",
		    what, path, PMEMFLUSH_DEV);
		break;
	case ENOMEM:
		err("%s %s: the kernel is out of memory (ENOMEM)", what, path);
		break;
	case ENOENT:
		err("%s %s: no such id on this open of %s (ENOENT)", what, path,
		    PMEMFLUSH_DEV);
		break;
	case ENOSPC:
		err("%s %s: too many ids registered (ENOSPC)", what, path);
		break;
	case EFAULT:
		err("%s %s: bad address (EFAULT)", what, path);
		break;
	default:
		err("%s %s: %s", what, path, strerror(e));
	}
}

static int do_query(int dev, int fd, struct pmemflush_query *q)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->fd = fd;
	return ioctl(dev, PMEMFLUSH_QUERY, q) ? -1 : 0;
}

static void print_flags(FILE *f, unsigned int flags)
{
	const char *sep = "";

	if (flags & PMEMFLUSH_REGION_ASYNC) {
		fprintf(f, "%sasync", sep);
		sep = ",";
	}
	if (flags & PMEMFLUSH_DAX_SYNC) {
		fprintf(f, "%sdax_sync", sep);
		sep = ",";
	}
	if (flags & PMEMFLUSH_REGION_CXL) {
		fprintf(f, "%scxl", sep);
		sep = ",";
	}
	if (!*sep)
		fputs("none", f);
}

static void flags_json(struct json_object *o, unsigned int flags)
{
	struct json_object *a = j_arr();

	if (flags & PMEMFLUSH_REGION_ASYNC)
		j_str(a, NULL, "async");
	if (flags & PMEMFLUSH_DAX_SYNC)
		j_str(a, NULL, "dax_sync");
	if (flags & PMEMFLUSH_REGION_CXL)
		j_str(a, NULL, "cxl");
	j_add(o, "flags", a);
}

static const struct option query_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_query(int argc, char **argv)
{
	struct pmemflush_query q;
	const char *path = NULL;
	bool json = false;
	char hs[32];
	int c, dev, fd, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", query_opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			print_usage(stdout, "query");
			return 0;
		default:
			return bad_option("query", c, argv);
		}
	}
	rc = one_path("query", argc, argv, &path);
	if (rc)
		return rc;
	if (open_pair(path, &dev, &fd))
		return 1;
	rc = do_query(dev, fd, &q);
	if (rc)
		ioctl_error("query", path, errno, NULL);
	close(fd);
	close(dev);
	if (rc)
		return 1;

	if (json) {
		struct json_object *o = j_obj();

		j_str(o, "path", path);
		snprintf(hs, sizeof(hs), "region%u", q.region_id);
		j_str(o, "region", hs);
		j_u64(o, "region_id", q.region_id);
		if (q.has_flush >= 0)
			j_i64(o, "has_flush", q.has_flush);
		else
			j_str(o, "has_flush", "unknown");
		j_str(o, "persistence_domain",
		      domain_name(q.persistence_domain));
		j_str(o, "target_kind", kind_name(q.target_kind));
		flags_json(o, q.out_flags);
		j_u64(o, "target_size", q.target_size);
		return j_print(stdout, o) ? 1 : 0;
	}
	printf("path:               %s\n", path);
	printf("region:             region%u\n", q.region_id);
	if (q.has_flush > 0)
		printf("has_flush:          1 (flush hints: FLUSH writes the write-pending queues)\n");
	else if (q.has_flush == 0)
		printf("has_flush:          0 (no device flush: FLUSH issues barriers only)\n");
	else
		printf("has_flush:          unknown (%s)\n",
		       q.out_flags & PMEMFLUSH_REGION_ASYNC ?
		       "asynchronous region: FLUSH asks the host" :
		       "the region cannot tell");
	printf("persistence_domain: %s\n", domain_name(q.persistence_domain));
	printf("target_kind:        %s\n", kind_name(q.target_kind));
	printf("flags:              ");
	print_flags(stdout, q.out_flags);
	printf("\ntarget_size:        %llu (%s)\n",
	       (unsigned long long)q.target_size,
	       human_size(q.target_size, hs, sizeof(hs)));
	return 0;
}

static const struct option flush_opts[] = {
	{ "offset", required_argument, NULL, 'o' },
	{ "length", required_argument, NULL, 'l' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_flush(int argc, char **argv)
{
	struct pmemflush_flush f;
	struct pmemflush_query q;
	struct range r = { 0 };
	bool json = false, quiet = false, have_len = false;
	const char *path = NULL;
	char region[24];
	int c, dev, fd, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:l:jqh", flush_opts, NULL))
	       != -1) {
		switch (c) {
		case 'o':
			if (parse_size(optarg, &r.offset))
				return usage_error("flush", "bad offset '%s'",
						   optarg);
			break;
		case 'l':
			if (parse_size(optarg, &r.length))
				return usage_error("flush", "bad length '%s'",
						   optarg);
			have_len = true;
			break;
		case 'j':
			json = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			print_usage(stdout, "flush");
			return 0;
		default:
			return bad_option("flush", c, argv);
		}
	}
	rc = one_path("flush", argc, argv, &path);
	if (rc)
		return rc;
	if (open_pair(path, &dev, &fd))
		return 1;
	/* the target's size bounds the default length and the messages */
	if (!do_query(dev, fd, &q)) {
		r.size = q.target_size;
		r.have_size = true;
	} else if (!have_len) {
		ioctl_error("flush", path, errno, NULL);
		goto fail;
	}
	if (!have_len)
		r.length = r.size > r.offset ? r.size - r.offset : 0;

	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	f.fd = fd;
	f.offset = r.offset;
	f.length = r.length;
	if (ioctl(dev, PMEMFLUSH_FLUSH, &f)) {
		ioctl_error("flush", path, errno, &r);
		goto fail;
	}
	close(fd);
	close(dev);
	if (quiet)
		return 0;
	snprintf(region, sizeof(region), "region%u", f.region_id);
	if (json) {
		struct json_object *o = j_obj();

		j_str(o, "path", path);
		j_str(o, "region", region);
		j_u64(o, "region_id", f.region_id);
		j_u64(o, "offset", r.offset);
		j_u64(o, "length", r.length);
		j_bool(o, "device_flush",
		       f.out_flags & PMEMFLUSH_FLUSHED_DEVICE);
		j_u64(o, "flush_seq", f.flush_seq);
		/* the flush itself succeeded: say so if the output fails */
		if (j_print(stdout, o)) {
			err("flush %s: the flush succeeded, its JSON report failed",
			    path);
			return 1;
		}
	} else if (f.out_flags & PMEMFLUSH_FLUSHED_DEVICE) {
		printf("flushed %s [%llu, %llu) on %s: device flush %llu\n",
		       path, r.offset, r.offset + r.length, region,
		       (unsigned long long)f.flush_seq);
	} else {
		printf("flushed %s [%llu, %llu) on %s: barriers only (the platform needs no device flush)\n",
		       path, r.offset, r.offset + r.length, region);
	}
	return 0;
fail:
	close(fd);
	close(dev);
	return 1;
}

/* bench: latency of one ioctl, sampled for a number of seconds */

#define BENCH_MAX_SAMPLES	(1U << 26)

struct sample_set {
	const char *op;
	const char *skipped;	/* why it was not measured, or NULL */
	uint32_t *ns;
	size_t n, cap;
	double secs;
};

struct bench_ctx {
	int dev, fd;
	__u32 id;
	unsigned long long length;
	struct io_uring ring;	/* --uring: SQE128, /dev/pmemflush fixed file 0 */
};

static int op_null(struct bench_ctx *c)
{
	return ioctl(c->dev, PMEMFLUSH_NULL_IOCTL, NULL) == -1 &&
	       errno == ENOTTY ? 0 : -1;
}

static int op_flush_fd(struct bench_ctx *c)
{
	struct pmemflush_flush f = {
		.size = sizeof(f), .fd = c->fd, .length = c->length,
	};

	return ioctl(c->dev, PMEMFLUSH_FLUSH, &f);
}

static int op_flush_id(struct bench_ctx *c)
{
	struct pmemflush_flush f = {
		.size = sizeof(f), .flags = PMEMFLUSH_BY_ID, .id = c->id,
		.length = c->length,
	};

	return ioctl(c->dev, PMEMFLUSH_FLUSH, &f);
}

/*
 * One FLUSH as an io_uring command, submitted and waited for (queue depth
 * 1): by id where the target registered, else by fd
 */
static int op_uring(struct bench_ctx *c)
{
	struct pmemflush_flush f = {
		.size = sizeof(f), .flags = c->id ? PMEMFLUSH_BY_ID : 0,
		.length = c->length,
	};
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (c->id)
		f.id = c->id;
	else
		f.fd = c->fd;
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, 0, NULL, 0, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->cmd_op = PMEMFLUSH_URING_CMD_FLUSH;
	memset(sqe->cmd, 0, 80);
	memcpy(sqe->cmd, &f, sizeof(f));
	ret = io_uring_submit_and_wait(&c->ring, 1);
	if (ret == 1)
		ret = io_uring_wait_cqe(&c->ring, &cqe);
	else if (ret >= 0)
		ret = -EIO;
	if (ret) {
		errno = -ret;
		return -1;
	}
	ret = cqe->res;
	io_uring_cqe_seen(&c->ring, cqe);
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

/* the ring for --uring: NULL, or why there is none */
static const char *uring_setup(struct bench_ctx *c)
{
	static char why[160];
	int ret;

	ret = io_uring_queue_init(4, &c->ring, IORING_SETUP_SQE128);
	if (ret) {
		snprintf(why, sizeof(why), "io_uring_setup: %s%s", strerror(-ret),
			 ret == -EPERM ?
			 " (kernel.io_uring_disabled, or a seccomp filter)" : "");
		return why;
	}
	ret = io_uring_register_files(&c->ring, &c->dev, 1);
	if (ret) {
		io_uring_queue_exit(&c->ring);
		snprintf(why, sizeof(why), "io_uring_register_files: %s",
			 strerror(-ret));
		return why;
	}
	/* one command first: a module without io_uring commands says so */
	if (op_uring(c)) {
		snprintf(why, sizeof(why), "PMEMFLUSH_URING_CMD_FLUSH: %s%s",
			 strerror(errno), errno == EOPNOTSUPP ?
			 " (a module without io_uring commands)" : "");
		io_uring_queue_exit(&c->ring);
		return why;
	}
	return NULL;
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* run @op for @seconds; 0, or -1 with errno of the failing call */
static int measure(struct bench_ctx *c, int (*op)(struct bench_ctx *),
		   struct sample_set *s, unsigned int seconds, bool progress)
{
	uint64_t start = now_ns(), end = start + seconds * 1000000000ULL;
	uint64_t t1 = start, next = start + 250000000ULL;
	uint32_t *p;

	for (;;) {
		uint64_t t0;

		if (s->n == s->cap) {
			if (s->cap >= BENCH_MAX_SAMPLES)
				break;
			s->cap = s->cap ? s->cap * 2 : 65536;
			p = realloc(s->ns, s->cap * sizeof(*s->ns));
			if (!p) {
				errno = ENOMEM;
				return -1;
			}
			s->ns = p;
		}
		t0 = now_ns();
		if (op(c))
			return -1;
		t1 = now_ns();
		s->ns[s->n++] = t1 - t0 > UINT32_MAX ? UINT32_MAX : t1 - t0;
		if (t1 >= end)
			break;
		if (progress && t1 >= next) {
			fprintf(stderr, "\r%s: %.1f/%u s, %zu calls\033[K",
				s->op, (t1 - start) / 1e9, seconds, s->n);
			next = t1 + 250000000ULL;
		}
	}
	if (progress)
		fputs("\r\033[K", stderr);
	s->secs = (t1 - start) / 1e9;
	qsort(s->ns, s->n, sizeof(*s->ns), cmp_u32);
	return 0;
}

/* nearest-rank percentile @per100k/100000 of the sorted samples */
static uint32_t pct(const struct sample_set *s, unsigned int per100k)
{
	size_t rank = ((uint64_t)s->n * per100k + 99999) / 100000;

	return s->ns[rank ? rank - 1 : 0];
}

static const struct {
	const char *name;	/* JSON key */
	const char *title;	/* text column */
	unsigned int per100k;
} pcts[] = {
	{ "p50_ns", "p50", 50000 },
	{ "p90_ns", "p90", 90000 },
	{ "p99_ns", "p99", 99000 },
	{ "p99_9_ns", "p99.9", 99900 },
	{ "max_ns", "max", 100000 },
};

#define NPCTS (sizeof(pcts) / sizeof(pcts[0]))

static const struct option bench_opts[] = {
	{ "seconds", required_argument, NULL, 's' },
	{ "length", required_argument, NULL, 'l' },
	{ "json", no_argument, NULL, 'j' },
	{ "uring", no_argument, NULL, 'u' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_bench(int argc, char **argv)
{
	struct sample_set sets[4] = {
		{ .op = "null_ioctl" }, { .op = "flush_fd" },
		{ .op = "flush_id" }, { .op = "uring" },
	};
	int (*const ops[4])(struct bench_ctx *) = {
		op_null, op_flush_fd, op_flush_id, op_uring,
	};
	bool uring = false, have_ring = false;
	size_t nsets = 3;
	struct pmemflush_register reg = { .size = sizeof(reg) };
	struct bench_ctx ctx = { .dev = -1, .fd = -1 };
	struct pmemflush_query q;
	unsigned long long secs = 1, len = 0;
	bool json = false, have_len = false, progress;
	const char *path = NULL;
	char region[24];
	int c, rc = 1;
	size_t i, k;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:l:juh", bench_opts, NULL))
	       != -1) {
		switch (c) {
		case 'u':
			uring = true;
			break;
		case 's':
			if (parse_size(optarg, &secs) || !secs ||
			    secs > 3600)
				return usage_error("bench",
						   "bad --seconds '%s' (1 to 3600)",
						   optarg);
			break;
		case 'l':
			if (parse_size(optarg, &len))
				return usage_error("bench", "bad length '%s'",
						   optarg);
			have_len = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			print_usage(stdout, "bench");
			return 0;
		default:
			return bad_option("bench", c, argv);
		}
	}
	c = one_path("bench", argc, argv, &path);
	if (c)
		return c;
	if (open_pair(path, &ctx.dev, &ctx.fd))
		return 1;
	if (do_query(ctx.dev, ctx.fd, &q)) {
		ioctl_error("bench", path, errno, NULL);
		goto out;
	}
	if (!have_len)
		len = q.target_size >= 4096 ? 4096 : 64;
	if (len > q.target_size) {
		err("bench %s: --length %llu is past the end of the target (%llu bytes)",
		    path, len, (unsigned long long)q.target_size);
		goto out;
	}
	ctx.length = len;
	reg.fd = ctx.fd;
	if (ioctl(ctx.dev, PMEMFLUSH_REGISTER, &reg)) {
		if (errno != EOPNOTSUPP) {
			ioctl_error("bench: register", path, errno, NULL);
			goto out;
		}
		sets[2].skipped = "not registrable (no DAX: raw or BTT block device); flushed by fd only";
	} else {
		ctx.id = reg.id;
	}
	if (uring) {
		nsets = 4;
		sets[3].skipped = uring_setup(&ctx);
		have_ring = !sets[3].skipped;
	}

	/* measurements of at least a second each: always long */
	progress = isatty(STDERR_FILENO);
	for (i = 0; i < nsets; i++) {
		if (sets[i].skipped)
			continue;
		if (measure(&ctx, ops[i], &sets[i], secs, progress)) {
			if (progress)
				fputs("\r\033[K", stderr);
			ioctl_error(i == 3 ? "bench: io_uring flush" :
				    i ? "bench: flush" : "bench: null ioctl",
				    path, errno, NULL);
			goto out;
		}
	}

	snprintf(region, sizeof(region), "region%u", q.region_id);
	if (json) {
		struct json_object *o = j_obj(), *res = j_arr(), *x;

		j_str(o, "path", path);
		j_str(o, "region", region);
		j_str(o, "target_kind", kind_name(q.target_kind));
		flags_json(o, q.out_flags);
		j_u64(o, "length", len);
		j_u64(o, "seconds", secs);
		for (i = 0; i < nsets; i++) {
			x = j_obj();
			j_str(x, "op", sets[i].op);
			if (sets[i].skipped) {
				j_str(x, "skipped", sets[i].skipped);
				j_add(res, NULL, x);
				continue;
			}
			j_u64(x, "count", sets[i].n);
			j_u64(x, "ops_per_sec",
			      sets[i].secs > 0 ?
			      (unsigned long long)(sets[i].n / sets[i].secs) :
			      0);
			j_u64(x, "min_ns", sets[i].ns[0]);
			for (k = 0; k < NPCTS; k++)
				j_u64(x, pcts[k].name,
				      pct(&sets[i], pcts[k].per100k));
			j_add(res, NULL, x);
		}
		j_add(o, "results", res);
		if (j_print(stdout, o))
			goto out;
	} else {
		printf("%s: %s on %s, flags ", path, kind_name(q.target_kind),
		       region);
		print_flags(stdout, q.out_flags);
		printf(", FLUSH of %llu bytes, %llu s each; latency in ns\n\n",
		       len, secs);
		printf("%-12s %10s", "op", "count");
		for (k = 0; k < NPCTS; k++)
			printf(" %10s", pcts[k].title);
		putchar('\n');
		for (i = 0; i < nsets; i++) {
			printf("%-12s", sets[i].op);
			if (sets[i].skipped) {
				printf(" skipped: %s\n", sets[i].skipped);
				continue;
			}
			printf(" %10zu", sets[i].n);
			for (k = 0; k < NPCTS; k++)
				printf(" %10u",
				       (unsigned int)pct(&sets[i],
							 pcts[k].per100k));
			putchar('\n');
		}
	}
	rc = 0;
out:
	if (ctx.id) {
		struct pmemflush_unregister u = {
			.size = sizeof(u), .id = ctx.id,
		};

		if (ioctl(ctx.dev, PMEMFLUSH_UNREGISTER, &u) && !rc) {
			ioctl_error("bench: unregister", path, errno, NULL);
			rc = 1;
		}
	}
	for (i = 0; i < 4; i++)
		free(sets[i].ns);
	if (have_ring)
		io_uring_queue_exit(&ctx.ring);
	if (ctx.fd >= 0)
		close(ctx.fd);
	close(ctx.dev);
	return rc;
}
