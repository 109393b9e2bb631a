// SPDX-License-Identifier: GPL-2.0
/*
 * FLUSH through io_uring against the FLUSH ioctl by id, on one registered
 * target, in the same process and boot; one JSON object per line, as
 * deepflush_bench prints. Raw calls (SQEs from <libpmemflush/uring.h>'s
 * header-only helper, nothing of the library linked): the kernel's cost.
 *
 *   uring_bench qd1      TARGET   one command submitted and waited for,
 *                                 against one ioctl, interleaved
 *   uring_bench batch    TARGET   batches of 1, 8, 32 and 128 commands per
 *                                 io_uring_enter(), against as many ioctls:
 *                                 time per flush
 *   uring_bench batch_single TARGET  the same on a ring set up with
 *                                 SINGLE_ISSUER and DEFER_TASKRUN
 *   uring_bench sqpoll   TARGET   an SQPOLL ring kept 32 commands deep:
 *                                 system calls per 1,000 flushes, counted
 *                                 by a perf counter on raw_syscalls:sys_enter
 *                                 (less its own disabling ioctl, measured)
 *   uring_bench inflight TARGET N N commands kept in flight for 3 s:
 *                                 flushes/s, host fsyncs and device flushes
 *                                 (flush_seq) per flush
 *
 * TARGET is a device-dax node or a DAX file (created and filled to 4 MiB
 * when missing); BENCH_NAME labels the output, BENCH_FSYNC_COUNT names QEMU's
 * fsync count file for a virtio-pmem target.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpmemflush/uring.h>

#include "bench.h"

#define ROUNDS		2000		/* qd1 and batch rounds, at most */
#define BUDGET_NS	3000000000ULL	/* per mode, in the qd1 and batch modes */
#define SQPOLL_FLUSHES	20000
#define INFLIGHT_NS	3000000000ULL
#define RING_ENTRIES	128

static const char *target, *label;
static int dev, tfd;
static __u32 id;

static double median_us(uint64_t *ns, int n)
{
	qsort(ns, n, sizeof(*ns), cmp_u64);
	return ns[n / 2] / 1e3;
}

static double p99_us(uint64_t *ns, int n)
{
	int i = n * 99 / 100;

	return ns[i < n ? i : n - 1] / 1e3;
}

static int setup(void)
{
	struct pmemflush_register r = { .size = sizeof(r) };

	dev = open("/dev/pmemflush", O_RDWR | O_CLOEXEC);
	tfd = bench_open_target(target, NULL);
	if (dev < 0 || tfd < 0) {
		perror(dev < 0 ? "/dev/pmemflush" : target);
		return -1;
	}
	r.fd = tfd;
	if (ioctl(dev, PMEMFLUSH_REGISTER, &r)) {
		perror("PMEMFLUSH_REGISTER");
		return -1;
	}
	id = r.id;
	return 0;
}

static int flush_ioctl(void)
{
	struct pmemflush_flush f = {
		.size = sizeof(f), .flags = PMEMFLUSH_BY_ID, .id = id,
		.offset = 0, .length = 64,
	};

	return ioctl(dev, PMEMFLUSH_FLUSH, &f) ? -errno : 0;
}

/* FLUSH by id of 64 bytes on fixed file 0 (the library's prep helper) */
static void prep(struct io_uring_sqe *sqe, __u64 data)
{
	pmemflush_prep_flush(sqe, 0, id, 0, 64);
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = data;
}

static int ring_init(struct io_uring *ring, unsigned int flags,
		     unsigned int idle_ms)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 | flags;
	p.sq_thread_idle = idle_ms;
	ret = io_uring_queue_init_params(RING_ENTRIES, ring, &p);
	if (ret) {
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-ret));
		return ret;
	}
	/* /dev/pmemflush as fixed file 0: no fget per command */
	ret = io_uring_register_files(ring, &dev, 1);
	if (ret)
		fprintf(stderr, "io_uring_register_files: %s\n", strerror(-ret));
	return ret;
}

/* reap @n completions (waiting for them), 0 or the first error */
static int reap(struct io_uring *ring, int n, __u64 *seq_min, __u64 *seq_max)
{
	struct io_uring_cqe *cqe;
	int err = 0, ret;

	while (n--) {
		ret = io_uring_wait_cqe(ring, &cqe);
		if (ret)
			return ret;
		if (cqe->res && !err)
			err = cqe->res;
		if (seq_min && cqe->big_cqe[0] < *seq_min)
			*seq_min = cqe->big_cqe[0];
		if (seq_max && cqe->big_cqe[0] > *seq_max)
			*seq_max = cqe->big_cqe[0];
		io_uring_cqe_seen(ring, cqe);
	}
	return err;
}

static int submit_batch(struct io_uring *ring, int n)
{
	int i, ret;

	for (i = 0; i < n; i++)
		prep(io_uring_get_sqe(ring), i);
	ret = io_uring_submit_and_wait(ring, n);
	if (ret != n)
		return ret < 0 ? ret : -EIO;
	return reap(ring, n, NULL, NULL);
}

static void row(const char *op, int batch, uint64_t *ns, int n)
{
	printf("{\"target\":\"%s\",\"op\":\"%s\",\"library\":\"none\",\"size\":64,"
	       "\"batch\":%d,\"n\":%d,\"median_us\":%.3f,\"p99_us\":%.3f,"
	       "\"per_flush_us\":%.3f}\n", label, op, batch, n,
	       median_us(ns, n), p99_us(ns, n), median_us(ns, n) / batch);
	fflush(stdout);
}

/*
 * qd1 and batch: a round is one batch of commands and as many ioctls, in
 * alternating order, so that drift in the host's speed hits both alike.
 */
static int bench_batches(const int *batches, int nb, unsigned int flags,
			 const char *suffix)
{
	static uint64_t ns_u[ROUNDS], ns_i[ROUNDS];
	struct io_uring ring;
	char op_u[32], op_i[32];
	int b, n, i, k, ret;
	uint64_t start, t;

	if (ring_init(&ring, flags, 0))
		return 1;
	snprintf(op_u, sizeof(op_u), "%s%s", nb == 1 ? "uring_qd1" : "uring_batch",
		 suffix);
	snprintf(op_i, sizeof(op_i), "%s%s",
		 nb == 1 ? "ioctl_id_qd1" : "ioctl_id_batch", suffix);
	for (b = 0; b < nb; b++) {
		int batch = batches[b];

		start = now_ns();
		for (n = 0; n < ROUNDS &&
		     (n < 50 || now_ns() - start < BUDGET_NS / nb); n++) {
			for (k = 0; k < 2; k++) {
				if ((n + k) & 1) {
					t = now_ns();
					ret = submit_batch(&ring, batch);
					ns_u[n] = now_ns() - t;
				} else {
					t = now_ns();
					for (i = 0, ret = 0; i < batch && !ret; i++)
						ret = flush_ioctl();
					ns_i[n] = now_ns() - t;
				}
				if (ret) {
					fprintf(stderr, "flush: %s\n", strerror(-ret));
					return 1;
				}
			}
		}
		row(op_u, batch, ns_u, n);
		row(op_i, batch, ns_i, n);
	}
	io_uring_queue_exit(&ring);
	return 0;
}

/*
 * SQPOLL: a poller thread takes the SQEs, so submitting is a store to the
 * ring; completions are polled from the CQ ring without waiting. Syscalls
 * happen only when the SQ thread went idle (IORING_SQ_NEED_WAKEUP), which
 * io_uring_submit() handles; they are counted, not assumed.
 */
static int bench_sqpoll(void)
{
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	long long calls = -1, base = -1;
	int pfd, inflight = 0, done = 0, sent = 0, err = 0;
	uint64_t start, ns;

	if (ring_init(&ring, IORING_SETUP_SQPOLL, 1000))
		return 1;
	pfd = bench_syscall_counter();
	if (pfd < 0)
		perror("perf_event_open(raw_syscalls:sys_enter)");
	/* what the counter itself costs: the disabling ioctl is counted */
	if (pfd >= 0) {
		ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0);
		ioctl(pfd, PERF_EVENT_IOC_DISABLE, 0);
		base = bench_syscalls_read(pfd);
		ioctl(pfd, PERF_EVENT_IOC_RESET, 0);
	}
	/* warm up: the SQ thread running, the CQ ring used */
	if (submit_batch(&ring, 32))
		return 1;
	/*
	 * The clock is read outside the counted window: where the guest's
	 * clocksource is not one the vDSO reads (HPET), each read is a
	 * system call of its own (deepflush_bench clock).
	 */
	start = now_ns();
	if (pfd >= 0)
		ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0);
	while (done < SQPOLL_FLUSHES && !err) {
		while (inflight < 32 && sent < SQPOLL_FLUSHES) {
			prep(io_uring_get_sqe(&ring), sent++);
			inflight++;
		}
		io_uring_submit(&ring);
		while (!io_uring_peek_cqe(&ring, &cqe)) {
			if (cqe->res)
				err = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
			inflight--;
			done++;
		}
	}
	if (pfd >= 0) {
		ioctl(pfd, PERF_EVENT_IOC_DISABLE, 0);
		calls = bench_syscalls_read(pfd);
		calls = calls < 0 || base < 0 ? -1 : calls - base;
		close(pfd);
	}
	ns = now_ns() - start;
	if (err) {
		fprintf(stderr, "sqpoll: %s\n", strerror(-err));
		return 1;
	}
	printf("{\"target\":\"%s\",\"op\":\"uring_sqpoll\",\"library\":\"none\","
	       "\"size\":64,\"flushes\":%d,\"syscalls\":%lld,"
	       "\"syscalls_per_1000\":%.3f,\"per_flush_us\":%.3f}\n",
	       label, done, calls, calls < 0 ? -1.0 : calls * 1000.0 / done,
	       ns / 1e3 / done);
	io_uring_queue_exit(&ring);
	return 0;
}

/* N commands in flight on one region: what group commit makes of a queue */
static int bench_inflight(int depth)
{
	__u64 seq_min = UINT64_MAX, seq_max = 0;
	struct io_uring ring;
	long long fs0, fs1;
	long done = 0;
	uint64_t start, ns;
	int i, ret;

	if (depth < 1 || depth > RING_ENTRIES || ring_init(&ring, 0, 0))
		return 1;
	fs0 = read_count();
	start = now_ns();
	for (i = 0; i < depth; i++)
		prep(io_uring_get_sqe(&ring), i);
	io_uring_submit(&ring);
	while (now_ns() - start < INFLIGHT_NS) {
		/* take what completed, put as many back */
		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0)
			return 1;
		for (i = 0; i < depth; i++) {
			struct io_uring_cqe *cqe;

			if (io_uring_peek_cqe(&ring, &cqe))
				break;
			if (cqe->res) {
				fprintf(stderr, "inflight: %s\n", strerror(-cqe->res));
				return 1;
			}
			if (cqe->big_cqe[0] < seq_min)
				seq_min = cqe->big_cqe[0];
			if (cqe->big_cqe[0] > seq_max)
				seq_max = cqe->big_cqe[0];
			io_uring_cqe_seen(&ring, cqe);
			done++;
			prep(io_uring_get_sqe(&ring), done);
		}
	}
	ns = now_ns() - start;
	fs1 = read_count();
	/* drain what is still queued, outside the timing */
	io_uring_submit(&ring);
	if (reap(&ring, depth, NULL, NULL))
		return 1;
	printf("{\"target\":\"%s\",\"op\":\"uring_inflight\",\"library\":\"none\","
	       "\"size\":64,\"depth\":%d,\"ops\":%ld,\"ops_per_s\":%.1f,"
	       "\"fsync_per_op\":%.3f,\"dev_flush_per_op\":%.3f}\n",
	       label, depth, done, done * 1e9 / ns,
	       fs0 >= 0 && fs1 >= 0 && done ? (double)(fs1 - fs0) / done : -1.0,
	       done ? (double)(seq_max - seq_min + 1) / done : -1.0);
	io_uring_queue_exit(&ring);
	return 0;
}

int main(int argc, char **argv)
{
	static const int qd1[] = { 1 }, batches[] = { 1, 8, 32, 128 };

	if (argc < 3) {
		fprintf(stderr, "usage: %s qd1|batch|batch_single|sqpoll|inflight TARGET [N]\n",
			argv[0]);
		return 2;
	}
	target = argv[2];
	label = getenv("BENCH_NAME") ? getenv("BENCH_NAME") : target;
	if (setup())
		return 1;
	if (!strcmp(argv[1], "qd1"))
		return bench_batches(qd1, 1, 0, "");
	if (!strcmp(argv[1], "batch"))
		return bench_batches(batches, 4, 0, "");
	/*
	 * The ring liburing's documentation recommends for one submitting
	 * thread: no cross-thread submission locking, completions' task work
	 * run when the thread waits (both 6.1)
	 */
	if (!strcmp(argv[1], "batch_single"))
		return bench_batches(batches, 4, IORING_SETUP_SINGLE_ISSUER |
				     IORING_SETUP_DEFER_TASKRUN, "_single");
	if (!strcmp(argv[1], "sqpoll"))
		return bench_sqpoll();
	if (!strcmp(argv[1], "inflight") && argc == 4)
		return bench_inflight(atoi(argv[3]));
	fprintf(stderr, "%s: unknown mode %s\n", argv[0], argv[1]);
	return 2;
}
