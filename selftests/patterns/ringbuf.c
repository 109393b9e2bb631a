// SPDX-License-Identifier: GPL-2.0
/*
 * ringbuf: a single-producer, multi-consumer ring buffer kept in pmem, one
 * libpmem2 usage pattern built twice, against PMDK's libpmem2 (-DPAT_PMDK,
 * -lpmem2) and against libpmemflush (-lpmemflush). Output is deterministic.
 *
 *   ringbuf write TARGET  a producer thread copies NITEMS messages into the
 *                         slots with the map's memcpy function and persists
 *                         the tail; two consumer threads take messages by
 *                         advancing the persisted head, and stop at NTAKE,
 *                         leaving the last NITEMS - NTAKE messages queued
 *   ringbuf read TARGET   check the persisted head and tail, and that every
 *                         queued message is intact
 *
 * Layout (first 4 MiB of TARGET): parameters at 0, the head at 64 and the
 * tail at 128 (a cache line each), NSLOTS slots of SLOT bytes from 4096,
 * each a 16-byte header (length, sequence number, checksum) and payload.
 */
#include <pthread.h>
#include <sched.h>

#define PAT_NAME "ringbuf"
#include "pat.h"

#define RING_MAGIC	"PATRING"
#define NSLOTS		64
#define SLOT		512
#define SLOTS_OFF	4096
#define NITEMS		1500
#define NTAKE		1460
#define NCONSUMERS	2

struct ring_params {
	char magic[8];
	uint64_t nslots, slot, nitems, ntake;
};

struct msg_hdr {
	uint32_t len;
	uint32_t seq;
	uint64_t csum;
};

struct ring {
	struct pmem2_map *map;
	pmem2_memcpy_fn memcpy_fn;
	pmem2_persist_fn persist;
	char *base;
	uint64_t *head, *tail;	/* in pmem */
};

struct consumer {
	struct ring *r;
	uint64_t count, sum, bad;
};

/* message @seq: its length (0..SLOT-16, both ends included) and bytes */
static uint32_t msg_len(uint32_t seq)
{
	return (seq * 37u + (seq & 1 ? 300 : 0)) % (SLOT - sizeof(struct msg_hdr) + 1);
}

static void msg_fill(unsigned char *buf, uint32_t len, uint32_t seq)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seq * 131 + i * 7 + (i >> 8));
}

static char *slot_of(struct ring *r, uint64_t n)
{
	return r->base + SLOTS_OFF + (n % NSLOTS) * SLOT;
}

/* does slot content @m hold message @seq intact? */
static int msg_ok(const unsigned char *m, uint64_t seq)
{
	unsigned char want[SLOT];
	struct msg_hdr h;

	memcpy(&h, m, sizeof(h));
	if (h.seq != seq || h.len != msg_len(h.seq))
		return 0;
	msg_fill(want, h.len, h.seq);
	return h.csum == fnv(m + sizeof(h), h.len) &&
	       !memcmp(want, m + sizeof(h), h.len);
}

static void *producer(void *arg)
{
	static const unsigned flags[] = {
		0, PMEM2_F_MEM_NONTEMPORAL, PMEM2_F_MEM_TEMPORAL,
		PMEM2_F_MEM_WC,
	};
	struct ring *r = arg;
	unsigned char buf[SLOT];
	uint64_t n;

	for (n = 0; n < NITEMS; n++) {
		struct msg_hdr h = { .len = msg_len((uint32_t)n),
				     .seq = (uint32_t)n };

		/* a free slot: the consumers move the head on */
		while (n - __atomic_load_n(r->head, __ATOMIC_ACQUIRE) >= NSLOTS)
			sched_yield();
		msg_fill(buf + sizeof(h), h.len, h.seq);
		h.csum = fnv(buf + sizeof(h), h.len);
		memcpy(buf, &h, sizeof(h));
		/* the message is durable before the tail covers it */
		r->memcpy_fn(slot_of(r, n), buf, sizeof(h) + h.len, flags[n % 4]);
		__atomic_store_n(r->tail, n + 1, __ATOMIC_RELEASE);
		r->persist(r->tail, sizeof(*r->tail));
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct consumer *c = arg;
	struct ring *r = c->r;
	unsigned char m[SLOT];

	for (;;) {
		uint64_t h = __atomic_load_n(r->head, __ATOMIC_ACQUIRE);
		struct msg_hdr mh;

		if (h >= NTAKE)
			break;
		if (h >= __atomic_load_n(r->tail, __ATOMIC_ACQUIRE)) {
			sched_yield();
			continue;
		}
		/* copy first: the slot is ours only if the head moves for us */
		memcpy(m, slot_of(r, h), SLOT);
		if (!__atomic_compare_exchange_n(r->head, &h, h + 1, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		r->persist(r->head, sizeof(*r->head));
		memcpy(&mh, m, sizeof(mh));
		c->count++;
		c->sum += mh.csum;
		c->bad += !msg_ok(m, h);
	}
	return NULL;
}

static void map_ring(struct ring *r, int fd)
{
	r->map = map_window(fd, PMEM2_SHARED, NULL);
	r->memcpy_fn = pmem2_get_memcpy_fn(r->map);
	r->persist = pmem2_get_persist_fn(r->map);
	r->base = pmem2_map_get_address(r->map);
	r->head = (uint64_t *)(r->base + 64);
	r->tail = (uint64_t *)(r->base + 128);
	printf("granularity %s\n", gran_name(r->map));
}

static int do_write(struct ring *r)
{
	pmem2_memset_fn memset_fn = pmem2_get_memset_fn(r->map);
	struct ring_params p = { RING_MAGIC, NSLOTS, SLOT, NITEMS, NTAKE };
	struct consumer c[NCONSUMERS];
	uint64_t count = 0, sum = 0, bad = 0, n;
	pthread_t pt, ct[NCONSUMERS];
	int i;

	/* an empty ring: head and tail 0, then the parameters */
	memset_fn(r->base + 64, 0, 128, 0);
	r->memcpy_fn(r->base, &p, sizeof(p), 0);
	deep_flush(r->map, r->base, 4096);

	for (i = 0; i < NCONSUMERS; i++) {
		c[i] = (struct consumer){ .r = r };
		if (pthread_create(&ct[i], NULL, consumer, &c[i]))
			return 1;
	}
	if (pthread_create(&pt, NULL, producer, r))
		return 1;
	pthread_join(pt, NULL);
	for (i = 0; i < NCONSUMERS; i++) {
		pthread_join(ct[i], NULL);
		count += c[i].count;
		sum += c[i].sum;
		bad += c[i].bad;
	}
	deep_flush(r->map, r->base, SLOTS_OFF + NSLOTS * SLOT);

	/* what the consumers should have seen */
	{
		unsigned char buf[SLOT];
		uint64_t want = 0;

		for (n = 0; n < NTAKE; n++) {
			msg_fill(buf, msg_len((uint32_t)n), (uint32_t)n);
			want += fnv(buf, msg_len((uint32_t)n));
		}
		printf("produced %d consumed %" PRIu64 " by %d consumers, "
		       "sum %016" PRIx64 " %s, bad %" PRIu64 "\n", NITEMS,
		       count, NCONSUMERS, sum, sum == want ? "ok" : "BAD", bad);
		printf("head %" PRIu64 " tail %" PRIu64 "\n", *r->head, *r->tail);
		return count != NTAKE || sum != want || bad ||
		       *r->head != NTAKE || *r->tail != NITEMS;
	}
}

static int do_read(struct ring *r)
{
	struct ring_params p;
	uint64_t head = *r->head, tail = *r->tail, n, sum = 0, bad = 0;

	memcpy(&p, r->base, sizeof(p));
	if (memcmp(p.magic, RING_MAGIC, sizeof(p.magic)) ||
	    p.nslots != NSLOTS || p.slot != SLOT) {
		printf("no ring\n");
		return 1;
	}
	printf("params nslots %" PRIu64 " slot %" PRIu64 " nitems %" PRIu64
	       " ntake %" PRIu64 "\n", p.nslots, p.slot, p.nitems, p.ntake);
	printf("head %" PRIu64 " tail %" PRIu64 " queued %" PRIu64 " %s\n",
	       head, tail, tail - head,
	       head <= tail && tail - head <= NSLOTS && head == p.ntake &&
	       tail == p.nitems ? "ok" : "BAD");
	if (head > tail || tail - head > NSLOTS)
		return 1;
	for (n = head; n < tail; n++) {
		const unsigned char *m = (const unsigned char *)slot_of(r, n);
		struct msg_hdr h;

		memcpy(&h, m, sizeof(h));
		sum += h.csum;
		if (!msg_ok(m, n)) {
			printf("message %" PRIu64 " BAD\n", n);
			bad++;
		}
	}
	printf("queued messages %" PRIu64 " sum %016" PRIx64 " bad %" PRIu64
	       " slots checksum %016" PRIx64 "\n", tail - head, sum, bad,
	       fnv(r->base + SLOTS_OFF, NSLOTS * SLOT));
	return bad || head != p.ntake || tail != p.nitems;
}

int main(int argc, char **argv)
{
	struct ring r;
	int fd, rc, writing;

	writing = pat_args(argc, argv, 1);
	fd = pat_open(argv[2]);
	map_ring(&r, fd);
	rc = writing ? do_write(&r) : do_read(&r);
	rc |= pmem2_map_delete(&r.map) != 0;
	close(fd);
	return rc;
}
