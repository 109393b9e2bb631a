// SPDX-License-Identifier: GPL-2.0
/*
 * log: an append-only log of variable-sized records, one libpmem2 usage
 * pattern built twice, against PMDK's libpmem2 (-DPAT_PMDK, -lpmem2) and
 * against libpmemflush (-lpmemflush). Output is deterministic, so the two
 * builds' outputs can be compared with cmp(1).
 *
 *   log write TARGET   start a log in the first 4 MiB of TARGET and append
 *                      records of many sizes with the map's memcpy function
 *                      and every flag combination, a deep flush after each
 *   log read TARGET    replay the log: every record, checked against what
 *                      the writer generated, and a checksum of the whole
 *
 * Layout: a header at offset 0 (magic, bytes used, record count, checksum of
 * the record checksums), records packed back to back from offset 4096 (no
 * padding: destinations of every alignment), each a 16-byte record header
 * (length, sequence number, checksum of the payload) and the payload.
 */
#define PAT_NAME "log"
#include "pat.h"

#define DATA_OFF	4096UL
#define LOG_MAGIC	"PATLOG1"
#define MAX_REC		300001

struct log_hdr {
	char magic[8];
	uint64_t used;		/* bytes of records from DATA_OFF */
	uint64_t nrec;
	uint64_t sum;		/* FNV-1a over the record checksums */
};

struct rec_hdr {
	uint32_t len;
	uint32_t seq;
	uint64_t csum;		/* FNV-1a of the payload */
};

static const size_t sizes[] = {
	1, 7, 16, 63, 64, 100, 255, 256, 257, 511, 1000, 4095, 4096, 4097,
	10000, 65536, 65539, 300001,
};

static const struct {
	unsigned flags;
	const char *name;
} modes[] = {
	{ 0, "default" },
	{ PMEM2_F_MEM_NONTEMPORAL, "nontemporal" },
	{ PMEM2_F_MEM_TEMPORAL, "temporal" },
	{ PMEM2_F_MEM_NODRAIN, "nodrain+drain" },
	{ PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_NODRAIN, "nt+nodrain+drain" },
	{ PMEM2_F_MEM_WC, "wc" },
	{ PMEM2_F_MEM_WB, "wb" },
	{ PMEM2_F_MEM_NOFLUSH, "noflush+persist" },
};

#define NMODES (sizeof(modes) / sizeof(modes[0]))

/* the payload of record @seq, @len bytes of a per-record xorshift stream */
static void payload(unsigned char *buf, size_t len, uint32_t seq)
{
	uint64_t x = (seq + 1) * 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)(x >> 24);
	}
}

static int do_write(struct pmem2_map *map)
{
	pmem2_memcpy_fn memcpy_fn = pmem2_get_memcpy_fn(map);
	pmem2_persist_fn persist = pmem2_get_persist_fn(map);
	pmem2_drain_fn drain = pmem2_get_drain_fn(map);
	char *base = pmem2_map_get_address(map);
	struct log_hdr hdr = { .magic = LOG_MAGIC };
	static unsigned char buf[MAX_REC];
	size_t i, nsizes = sizeof(sizes) / sizeof(sizes[0]);
	unsigned pass;

	hdr.sum = FNV0;
	/* an empty log first: the header alone, durable */
	memcpy_fn(base, &hdr, sizeof(hdr), 0);
	deep_flush(map, base, sizeof(hdr));

	/* two passes over the sizes, the modes shifted between them */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < nsizes; i++) {
			uint32_t seq = (uint32_t)hdr.nrec;
			unsigned m = (i + pass * 3) % NMODES;
			unsigned flags = modes[m].flags;
			struct rec_hdr rh = { .len = (uint32_t)sizes[i],
					      .seq = seq };
			char *dst = base + DATA_OFF + hdr.used;

			if (DATA_OFF + hdr.used + sizeof(rh) + rh.len > WINDOW) {
				fprintf(stderr, "log: window full\n");
				return 1;
			}
			if (rh.len > MAX_REC)
				return 1;
			payload(buf, rh.len, seq);
			rh.csum = fnv(buf, rh.len);
			/* the record: header and payload, then the fences */
			memcpy_fn(dst, &rh, sizeof(rh), flags | PMEM2_F_MEM_NODRAIN);
			memcpy_fn(dst + sizeof(rh), buf, rh.len, flags);
			if (flags & PMEM2_F_MEM_NOFLUSH)
				persist(dst, sizeof(rh) + rh.len);
			else if (flags & PMEM2_F_MEM_NODRAIN)
				drain();
			deep_flush(map, dst, sizeof(rh) + rh.len);

			/* then make it part of the log */
			hdr.used += sizeof(rh) + rh.len;
			hdr.nrec++;
			hdr.sum = fnv_add(hdr.sum, &rh.csum, sizeof(rh.csum));
			memcpy_fn(base + 8, &hdr.used, 24, 0);
			deep_flush(map, base, sizeof(hdr));
			printf("append %" PRIu32 " len %" PRIu32
			       " mode %s csum %016" PRIx64 "\n",
			       seq, rh.len, modes[m].name, rh.csum);
		}
	}
	printf("records %" PRIu64 " bytes %" PRIu64 " sum %016" PRIx64 "\n",
	       hdr.nrec, hdr.used, hdr.sum);
	return 0;
}

static int do_read(struct pmem2_map *map)
{
	const char *base = pmem2_map_get_address(map);
	static unsigned char want[WINDOW];
	struct log_hdr hdr;
	uint64_t off = 0, n = 0, sum = FNV0, all = FNV0;
	int bad = 0;

	memcpy(&hdr, base, sizeof(hdr));
	if (memcmp(hdr.magic, LOG_MAGIC, sizeof(hdr.magic))) {
		printf("no log\n");
		return 1;
	}
	if (hdr.used > WINDOW - DATA_OFF) {
		printf("bad header: used %" PRIu64 "\n", hdr.used);
		return 1;
	}
	while (off < hdr.used) {
		struct rec_hdr rh;
		const unsigned char *p;

		if (hdr.used - off < sizeof(rh)) {
			printf("truncated record at %" PRIu64 "\n", off);
			return 1;
		}
		memcpy(&rh, base + DATA_OFF + off, sizeof(rh));
		p = (const unsigned char *)base + DATA_OFF + off + sizeof(rh);
		if (rh.len > hdr.used - off - sizeof(rh)) {
			printf("record %" PRIu64 " overruns the log\n", n);
			return 1;
		}
		payload(want, rh.len, rh.seq);
		printf("record %" PRIu32 " at %" PRIu64 " len %" PRIu32
		       " csum %016" PRIx64 " head %02x%02x%02x%02x %s\n",
		       rh.seq, off, rh.len, fnv(p, rh.len),
		       p[0], rh.len > 1 ? p[1] : 0, rh.len > 2 ? p[2] : 0,
		       rh.len > 3 ? p[3] : 0,
		       rh.seq == n && rh.csum == fnv(p, rh.len) &&
		       !memcmp(p, want, rh.len) ? "ok" : "BAD");
		if (rh.seq != n || rh.csum != fnv(p, rh.len) ||
		    memcmp(p, want, rh.len))
			bad++;
		sum = fnv_add(sum, &rh.csum, sizeof(rh.csum));
		all = fnv_add(all, p - sizeof(rh), sizeof(rh) + rh.len);
		off += sizeof(rh) + rh.len;
		n++;
	}
	printf("records %" PRIu64 " bytes %" PRIu64 " sum %016" PRIx64
	       " %s checksum %016" PRIx64 "\n", n, off, sum,
	       n == hdr.nrec && sum == hdr.sum ? "ok" : "BAD", all);
	return bad || n != hdr.nrec || sum != hdr.sum;
}

int main(int argc, char **argv)
{
	struct pmem2_map *map;
	int fd, rc, writing;

	writing = pat_args(argc, argv, 1);
	fd = pat_open(argv[2]);
	map = map_window(fd, PMEM2_SHARED, NULL);
	printf("granularity %s\n", gran_name(map));
	rc = writing ? do_write(map) : do_read(map);
	rc |= pmem2_map_delete(&map) != 0;
	close(fd);
	return rc;
}
