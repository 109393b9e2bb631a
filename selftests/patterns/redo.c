// SPDX-License-Identifier: GPL-2.0
/*
 * redo: a redo log, one libpmem2 usage pattern built twice, against PMDK's
 * libpmem2 (-DPAT_PMDK, -lpmem2) and against libpmemflush (-lpmemflush).
 * Output is deterministic.
 *
 *   redo write TARGET  set up a state area; apply transaction 1 to a
 *                      PMEM2_PRIVATE map of the same range (a dry run) and
 *                      check, through the shared map, pread(2) and
 *                      pmem2_source_pread_mcsafe, that none of it reached the
 *                      medium; then commit transaction 1 (log written and
 *                      marked committed with the shared map's memmove and
 *                      memset functions, applied, marked applied) and commit
 *                      transaction 2 but "crash" before applying it
 *   redo read TARGET   recover: replay a committed log, then check the state
 *                      against the initial state with both transactions
 *
 * Device-dax cannot be mapped private (PMEM2_E_SRC_DEVDAX_PRIVATE): there the
 * dry run uses a copy in DRAM, and the output says so.
 *
 * Layout (first 4 MiB of TARGET): header at 0, log entries from 4096, the
 * state area (STATE bytes) at 64 KiB.
 */
#include <stddef.h>
#include <sys/stat.h>

#define PAT_NAME "redo"
#include "pat.h"

#define REDO_MAGIC	"PATREDO"
#define LOG_OFF		4096UL
#define LOG_MAX		(60UL << 10)
#define STATE_OFF	(64UL << 10)
#define STATE		(256UL << 10)

enum { LOG_EMPTY, LOG_COMMITTED, LOG_APPLIED };
enum { OP_COPY = 1, OP_FILL, OP_MOVE };

struct redo_hdr {
	char magic[8];
	uint64_t state;		/* LOG_* */
	uint64_t txid;
	uint64_t nent;
	uint64_t bytes;		/* of the entries at LOG_OFF */
	uint64_t csum;		/* of those bytes */
};

/* an entry; OP_COPY is followed by len bytes of data */
struct redo_ent {
	uint32_t op;
	uint32_t len;
	uint64_t off;		/* in the state area */
	uint64_t arg;		/* OP_FILL: the byte; OP_MOVE: source offset */
};

struct tx {
	unsigned char buf[LOG_MAX];
	size_t bytes;
	uint64_t nent;
};

static void tx_add(struct tx *t, uint32_t op, uint64_t off, uint32_t len,
		   uint64_t arg)
{
	struct redo_ent e = { op, len, off, arg };

	memcpy(t->buf + t->bytes, &e, sizeof(e));
	t->bytes += sizeof(e);
	if (op == OP_COPY) {
		for (uint32_t i = 0; i < len; i++)
			t->buf[t->bytes + i] = (unsigned char)(arg + i * 13);
		t->bytes += len;
	}
	t->nent++;
}

static void tx1(struct tx *t)
{
	memset(t, 0, sizeof(*t));
	tx_add(t, OP_COPY, 10, 100, 1);
	tx_add(t, OP_COPY, 70000, 5000, 2);		/* spans pages */
	tx_add(t, OP_FILL, 20000, 300, 0xab);
	tx_add(t, OP_MOVE, 1500, 4096, 1000);		/* overlapping, up */
	tx_add(t, OP_MOVE, 100000, 9000, 103000);	/* overlapping, down */
	tx_add(t, OP_COPY, STATE - 3, 3, 3);		/* the last bytes */
	tx_add(t, OP_FILL, 0, 1, 0);
	tx_add(t, OP_FILL, 131072, 65536, 0x5c);	/* > 256 B, aligned */
}

static void tx2(struct tx *t)
{
	memset(t, 0, sizeof(*t));
	tx_add(t, OP_FILL, 4096, 4096, 0x77);
	tx_add(t, OP_COPY, 4100, 255, 4);
	tx_add(t, OP_COPY, 200001, 257, 5);
	tx_add(t, OP_MOVE, 0, 65536, 190000);
}

/* the initial state: a byte pattern */
static void initial(unsigned char *s)
{
	size_t i;

	for (i = 0; i < STATE; i++)
		s[i] = (unsigned char)(i * 7 + (i >> 9));
}

struct memfns {
	pmem2_memmove_fn memmove_fn;
	pmem2_memset_fn memset_fn;
};

/*
 * Apply a log to @state: with @fns through a map's functions (the flags
 * varying), else with libc's. Returns -1 when an entry is out of bounds.
 */
static int apply(unsigned char *state, const void *log_area, size_t bytes,
		 uint64_t nent, const struct memfns *fns)
{
	const unsigned char *log = log_area;
	static const unsigned flags[] = {
		0, PMEM2_F_MEM_NONTEMPORAL, PMEM2_F_MEM_NODRAIN,
		PMEM2_F_MEM_TEMPORAL | PMEM2_F_MEM_NODRAIN, PMEM2_F_MEM_WC,
	};
	size_t pos = 0;
	uint64_t i;

	for (i = 0; i < nent; i++) {
		unsigned f = flags[i % 5];
		struct redo_ent e;

		if (bytes - pos < sizeof(e))
			return -1;
		memcpy(&e, log + pos, sizeof(e));
		pos += sizeof(e);
		if (e.off > STATE || e.len > STATE - e.off)
			return -1;
		switch (e.op) {
		case OP_COPY:
			if (bytes - pos < e.len)
				return -1;
			if (fns)
				fns->memmove_fn(state + e.off, log + pos, e.len, f);
			else
				memmove(state + e.off, log + pos, e.len);
			pos += e.len;
			break;
		case OP_FILL:
			if (fns)
				fns->memset_fn(state + e.off, (int)e.arg, e.len, f);
			else
				memset(state + e.off, (int)e.arg, e.len);
			break;
		case OP_MOVE:
			if (e.arg > STATE || e.len > STATE - e.arg)
				return -1;
			if (fns)
				fns->memmove_fn(state + e.off, state + e.arg,
						e.len, f);
			else
				memmove(state + e.off, state + e.arg, e.len);
			break;
		default:
			return -1;
		}
	}
	/* the NODRAIN entries: one fence for all (a no-op flags 0 call) */
	if (fns)
		fns->memset_fn(state, state[0], 0, 0);
	return 0;
}

/* write @t to the log and mark it committed, through the shared map */
static void commit(struct pmem2_map *map, const struct memfns *fns,
		   const struct tx *t, uint64_t txid)
{
	char *base = pmem2_map_get_address(map);
	struct redo_hdr h;

	memcpy(&h, base, sizeof(h));
	/* the entries, in two pieces (the second NODRAIN, then a fence) */
	fns->memmove_fn(base + LOG_OFF, t->buf, t->bytes / 2,
			PMEM2_F_MEM_NONTEMPORAL);
	fns->memmove_fn(base + LOG_OFF + t->bytes / 2, t->buf + t->bytes / 2,
			t->bytes - t->bytes / 2, PMEM2_F_MEM_NODRAIN);
	pmem2_get_drain_fn(map)();
	h.txid = txid;
	h.nent = t->nent;
	h.bytes = t->bytes;
	h.csum = fnv(t->buf, t->bytes);
	fns->memmove_fn(base + offsetof(struct redo_hdr, txid), &h.txid,
			4 * sizeof(uint64_t), 0);
	deep_flush(map, base, LOG_OFF + t->bytes);
	/* the commit point */
	h.state = LOG_COMMITTED;
	fns->memmove_fn(base + offsetof(struct redo_hdr, state), &h.state,
			sizeof(h.state), 0);
	deep_flush(map, base, sizeof(h));
}

static void mark_applied(struct pmem2_map *map, const struct memfns *fns)
{
	char *base = pmem2_map_get_address(map);
	uint64_t s = LOG_APPLIED;

	fns->memmove_fn(base + offsetof(struct redo_hdr, state), &s, sizeof(s), 0);
	deep_flush(map, base, sizeof(struct redo_hdr));
}

/* read the state through the source, not a map: pread(2) and mcsafe */
static void medium_views(int fd, const char *path, unsigned char *buf,
			 uint64_t want)
{
	struct pmem2_source *src;
	struct stat st;
	int ret;

	if (!fstat(fd, &st) && S_ISREG(st.st_mode)) {
		memset(buf, 0, STATE);
		if (pread(fd, buf, STATE, STATE_OFF) != (ssize_t)STATE) {
			fprintf(stderr, "redo: pread %s: %s\n", path,
				strerror(errno));
			exit(1);
		}
		printf("pread view %016" PRIx64 " %s\n", fnv(buf, STATE),
		       fnv(buf, STATE) == want ? "unchanged" : "CHANGED");
	} else {
		printf("pread view: not a regular file\n");
	}
	ret = pmem2_source_from_fd(&src, fd);
	if (ret)
		fail("pmem2_source_from_fd", ret);
	memset(buf, 0, STATE);
	ret = pmem2_source_pread_mcsafe(src, buf, STATE, STATE_OFF);
	if (ret)
		fail("pmem2_source_pread_mcsafe", ret);
	printf("mcsafe view %016" PRIx64 " %s\n", fnv(buf, STATE),
	       fnv(buf, STATE) == want ? "unchanged" : "CHANGED");
	pmem2_source_delete(&src);
}

static int do_write(int fd, const char *path)
{
	static unsigned char want[STATE], buf[STATE], dram[STATE];
	static struct tx t;
	struct pmem2_map *map, *priv;
	struct memfns fns, pfns;
	struct redo_hdr h = { .magic = REDO_MAGIC, .state = LOG_EMPTY };
	unsigned char *state, *pstate;
	uint64_t init_sum, tx1_sum;
	int ret, rc = 0;
	char *base;

	map = map_window(fd, PMEM2_SHARED, NULL);
	base = pmem2_map_get_address(map);
	fns.memmove_fn = pmem2_get_memmove_fn(map);
	fns.memset_fn = pmem2_get_memset_fn(map);
	printf("shared map granularity %s\n",
	       gran_name(map));

	/* the initial state and an empty log, durable */
	state = (unsigned char *)base + STATE_OFF;
	initial(want);
	fns.memset_fn(base, 0, STATE_OFF, PMEM2_F_MEM_NODRAIN);
	fns.memmove_fn(state, want, STATE, 0);
	fns.memmove_fn(base, &h, sizeof(h), 0);
	deep_flush(map, base, STATE_OFF + STATE);
	init_sum = fnv(want, STATE);
	printf("initial state %016" PRIx64 "\n", init_sum);

	/* transaction 1, expected result */
	tx1(&t);
	apply(want, t.buf, t.bytes, t.nent, NULL);
	tx1_sum = fnv(want, STATE);
	printf("tx 1: %" PRIu64 " entries, %zu bytes, expect %016" PRIx64 "\n",
	       t.nent, t.bytes, tx1_sum);

	/* the dry run in a private map */
	priv = map_window(fd, PMEM2_PRIVATE, &ret);
	printf("private map %d", ret);
	if (ret == PMEM2_E_SRC_DEVDAX_PRIVATE) {
		printf(" (device-dax cannot be private: dry run in DRAM)\n");
		memcpy(dram, state, STATE);
		pstate = dram;
		apply(pstate, t.buf, t.bytes, t.nent, NULL);
	} else if (ret) {
		printf("\n");
		fail("pmem2_map_new(PMEM2_PRIVATE)", ret);
	} else {
		printf(" granularity %s\n",
		       gran_name(priv));
		pfns.memmove_fn = pmem2_get_memmove_fn(priv);
		pfns.memset_fn = pmem2_get_memset_fn(priv);
		pstate = (unsigned char *)pmem2_map_get_address(priv) + STATE_OFF;
		if (apply(pstate, t.buf, t.bytes, t.nent, &pfns))
			return 1;
		/* persisting a private map keeps it private */
		pmem2_get_persist_fn(priv)(pstate, STATE);
	}
	printf("private view %016" PRIx64 " %s\n", fnv(pstate, STATE),
	       fnv(pstate, STATE) == tx1_sum ? "as expected" : "WRONG");
	printf("shared view %016" PRIx64 " %s\n", fnv(state, STATE),
	       fnv(state, STATE) == init_sum ? "unchanged" : "CHANGED");
	rc |= fnv(pstate, STATE) != tx1_sum || fnv(state, STATE) != init_sum;
	medium_views(fd, path, buf, init_sum);
	rc |= fnv(buf, STATE) != init_sum;

	/* commit and apply transaction 1 through the shared map */
	commit(map, &fns, &t, 1);
	if (apply(state, base + LOG_OFF, t.bytes, t.nent, &fns))
		return 1;
	deep_flush(map, state, STATE);
	mark_applied(map, &fns);
	printf("tx 1 applied: shared %016" PRIx64 " %s\n", fnv(state, STATE),
	       fnv(state, STATE) == tx1_sum ? "ok" : "BAD");
	rc |= fnv(state, STATE) != tx1_sum;
	/* the private copy stayed as the dry run left it */
	printf("private view after commit %s\n",
	       fnv(pstate, STATE) == tx1_sum ? "as expected" : "WRONG");
	rc |= fnv(pstate, STATE) != tx1_sum;
	if (priv)
		pmem2_map_delete(&priv);

	/* transaction 2: committed, then a crash before it is applied */
	tx2(&t);
	commit(map, &fns, &t, 2);
	apply(want, t.buf, t.bytes, t.nent, NULL);
	printf("tx 2: %" PRIu64 " entries, %zu bytes, committed, not applied, "
	       "expect %016" PRIx64 " after recovery\n", t.nent, t.bytes,
	       fnv(want, STATE));
	pmem2_map_delete(&map);
	return rc;
}

static int do_read(int fd)
{
	static unsigned char want[STATE];
	static struct tx t;
	struct pmem2_map *map;
	struct memfns fns;
	struct redo_hdr h;
	unsigned char *state;
	char *base;
	int rc = 0;

	map = map_window(fd, PMEM2_SHARED, NULL);
	base = pmem2_map_get_address(map);
	state = (unsigned char *)base + STATE_OFF;
	fns.memmove_fn = pmem2_get_memmove_fn(map);
	fns.memset_fn = pmem2_get_memset_fn(map);
	memcpy(&h, base, sizeof(h));
	if (memcmp(h.magic, REDO_MAGIC, sizeof(h.magic)) || h.bytes > LOG_MAX) {
		printf("no redo log\n");
		return 1;
	}
	printf("log: tx %" PRIu64 " state %s, %" PRIu64 " entries, %" PRIu64
	       " bytes, checksum %s\n", h.txid,
	       h.state == LOG_COMMITTED ? "committed" :
	       h.state == LOG_APPLIED ? "applied" : "empty", h.nent, h.bytes,
	       fnv(base + LOG_OFF, h.bytes) == h.csum ? "ok" : "BAD");
	printf("state before recovery %016" PRIx64 "\n", fnv(state, STATE));
	if (h.state == LOG_COMMITTED) {
		if (fnv(base + LOG_OFF, h.bytes) != h.csum ||
		    apply(state, base + LOG_OFF, h.bytes, h.nent, &fns)) {
			printf("log corrupt\n");
			return 1;
		}
		deep_flush(map, state, STATE);
		mark_applied(map, &fns);
		printf("recovered: replayed tx %" PRIu64 "\n", h.txid);
	}
	initial(want);
	tx1(&t);
	apply(want, t.buf, t.bytes, t.nent, NULL);
	tx2(&t);
	apply(want, t.buf, t.bytes, t.nent, NULL);
	printf("state %016" PRIx64 " %s\n", fnv(state, STATE),
	       memcmp(state, want, STATE) ? "BAD" : "ok");
	rc |= memcmp(state, want, STATE) != 0;
	pmem2_map_delete(&map);
	return rc;
}

int main(int argc, char **argv)
{
	int fd, rc, writing;

	writing = pat_args(argc, argv, 1);
	fd = pat_open(argv[2]);
	rc = writing ? do_write(fd, argv[2]) : do_read(fd);
	close(fd);
	return rc;
}
