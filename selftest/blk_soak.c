/*
 * blk_soak: a verifying random-I/O soak over the async block API.
 *
 *   blk_soak DEV [n=OPS] [qd=N] [seed=S] [lba=L] [sectors=N]
 *
 * The region [lba, lba+sectors) is first written whole (generation 0); then qd requests are
 * kept in flight -- a random mix of reads and writes of 1..16 sectors (whole logical blocks on
 * a disk with a larger blk_size), now and then a FLUSH -- until n have completed. Every sector written carries a header {magic, generation, sector,
 * CRC-32 of the rest} and a payload derived from (seed, sector, generation); a shadow table
 * holds each sector's current generation, and every sector read is compared byte for byte
 * with what the shadow says it must be. Two requests in flight never overlap (an in-flight
 * map per sector), so the expected content of every read is exact. Data buffers start at a
 * random 512-byte offset in their pages, so requests are split into 1..3 segments.
 *
 * At the end everything is read back and verified once more, flushed, and the region's CRC-32
 * (zlib's) printed, which a host can compare with the image file:
 *
 *   soak: ops=N reads=N writes=N flushes=N mismatches=N errors=N
 *   soak: region lba=L sectors=N seed=S final_gen=G crc32=XXXXXXXX
 *
 * Returns 1 on any mismatch or error. Sector format (little endian): magic "VSOK" (u32),
 * generation (u32), sector (u64), CRC-32 of bytes 24..511 (u32), 0 (u32), then 488 bytes of
 * splitmix64(seed ^ sector * K1 ^ (generation + 1) * K2) words.
 */
#include "arch/x86_64/cpu.h"
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/blk/virtio_blk.h"
#include "kernel/page_alloc.h"
#include "shell/shell.h"
#include "kernel/time.h"
#include "lib/crc32.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC VIRTIO_BLK_SECTOR
#define SOAK_MAGIC 0x4b4f5356u /* "VSOK" */
#define MAX_SECTORS_PER_OP 16
#define SLOT_PAGES 3 /* 16 sectors (2 pages) starting anywhere in the first page */
#define GEN_UNKNOWN 0xffffffffu /* a failed write: the content is undefined */
#define FILL_CHUNK (128u * 1024)
#define WAIT_NS VIRTIO_TIMEOUT_NS
#define MAX_REPORTS 8

struct soak_hdr {
	uint32_t magic;
	uint32_t gen;
	uint64_t sector;
	uint32_t crc;
	uint32_t zero;
};

struct soak_slot {
	struct blk_req r;
	uint8_t *page;   /* SLOT_PAGES pages */
	bool flush;
};

struct soak {
	struct vblk *d;
	uint64_t lba, sectors, seed, rng;
	uint32_t spb;       /* sectors per logical block: requests are whole blocks */
	uint32_t *shadow;   /* generation per sector of the region */
	uint8_t *busy;      /* 1 while a request in flight covers the sector */
	uint32_t gen;       /* last generation handed out */
	unsigned qd;
	struct soak_slot *slots;
	unsigned *free_slots, nfree;
	struct soak_slot **done_ring;
	volatile uint32_t done_head;
	uint32_t done_tail;
	uint64_t target, submitted, completed, inflight;
	uint64_t reads, writes, flushes, mismatches, errors, reports;
	uint8_t expect[SEC];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct soak *s, uint64_t n)
{
	return splitmix(&s->rng) % n;
}

/* The full 512 bytes sector `sector` holds at generation gen. */
static void make_sector(uint64_t seed, uint64_t sector, uint32_t gen, uint8_t *p)
{
	uint64_t x = seed ^ sector * 0xd6e8feb86659fd93ull ^ ((uint64_t)gen + 1) * 0xa0761d6478bd642full;
	for (unsigned off = sizeof(struct soak_hdr); off < SEC; off += 8) {
		uint64_t w = splitmix(&x);
		memcpy(p + off, &w, 8);
	}
	struct soak_hdr h = {SOAK_MAGIC, gen, sector, crc32_update(0, p + sizeof(h), SEC - sizeof(h)),
			     0};
	memcpy(p, &h, sizeof(h));
}

static void report(struct soak *s, uint64_t sector, uint32_t want, const uint8_t *got)
{
	s->mismatches++;
	if (s->reports++ >= MAX_REPORTS)
		return;
	struct soak_hdr h;
	memcpy(&h, got, sizeof(h));
	uint32_t crc = crc32_update(0, got + sizeof(h), SEC - sizeof(h));
	printf("soak: MISMATCH sector %llu: want gen %u; got magic %08x gen %u sector %llu crc %s\n",
	       (unsigned long long)sector, want, h.magic, h.gen, (unsigned long long)h.sector,
	       crc == h.crc ? "ok" : "bad");
}

static void verify(struct soak *s, uint64_t sector, const uint8_t *got)
{
	uint32_t want = s->shadow[sector - s->lba];
	if (want == GEN_UNKNOWN)
		return;
	make_sector(s->seed, sector, want, s->expect);
	if (memcmp(s->expect, got, SEC) != 0)
		report(s, sector, want, got);
}

/* The one soak running (the shell runs one command at a time). */
static struct soak *g_soak;

static void on_done(struct blk_req *r)
{
	struct soak *s = g_soak;
	s->done_ring[s->done_head % s->qd] = (struct soak_slot *)r->ctx;
	s->done_head++;
}

static bool has_done(void *arg)
{
	struct soak *s = arg;
	return s->done_head != s->done_tail;
}

static void set_busy(struct soak *s, uint64_t sector, uint32_t n, uint8_t v)
{
	memset(s->busy + (sector - s->lba), v, n);
}

/* Prepare and submit one op on a free slot. 1: submitted, 0: nothing free to do now,
 * <0: submit error. */
static int submit_one(struct soak *s)
{
	if (!s->nfree)
		return 0;
	struct soak_slot *slot = &s->slots[s->free_slots[s->nfree - 1]];
	struct blk_req *r = &slot->r;
	memset(r, 0, sizeof(*r));
	r->done = on_done;
	r->ctx = slot;
	slot->flush = false;
	if (vblk_info(s->d)->flush && rnd(s, 64) == 0) {
		slot->flush = true;
		r->type = VIRTIO_BLK_T_FLUSH;
	} else {
		uint32_t n = 0, spb = s->spb;
		uint64_t start = 0;
		for (int tries = 0; tries < 8 && !n; tries++) {
			uint32_t blocks = MAX_SECTORS_PER_OP / spb ? MAX_SECTORS_PER_OP / spb : 1;
			uint32_t want = spb * (1 + (uint32_t)rnd(s, blocks));
			if (want > s->sectors)
				want = (uint32_t)s->sectors;
			start = s->lba + spb * rnd(s, (s->sectors - want) / spb + 1);
			if (!memchr(s->busy + (start - s->lba), 1, want))
				n = want;
		}
		if (!n)
			return 0; /* everything we tried overlaps a request in flight: wait */
		bool write = rnd(s, 2) == 0;
		r->type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
		r->sector = start;
		r->len = n * SEC;
		r->buf = slot->page + rnd(s, PAGE_SIZE / SEC) * SEC;
		if (write) {
			uint32_t gen = ++s->gen;
			if (gen == GEN_UNKNOWN)
				gen = ++s->gen;
			for (uint32_t i = 0; i < n; i++)
				make_sector(s->seed, start + i, gen, (uint8_t *)r->buf + i * SEC);
		} else {
			memset(r->buf, 0xa5, r->len);
		}
		set_busy(s, start, n, 1);
	}
	int err = vblk_submit(s->d, r, false);
	if (err) {
		if (!slot->flush)
			set_busy(s, r->sector, r->len / SEC, 0);
		return err == -ENOSPC ? 0 : err;
	}
	s->nfree--;
	s->submitted++;
	s->inflight++;
	return 1;
}

static void complete_one(struct soak *s, struct soak_slot *slot)
{
	struct blk_req *r = &slot->r;
	uint32_t n = r->len / SEC;
	s->inflight--;
	s->completed++;
	if (slot->flush) {
		s->flushes++;
	} else if (r->type == VIRTIO_BLK_T_OUT) {
		s->writes++;
		struct soak_hdr h;
		memcpy(&h, r->buf, sizeof(h));
		for (uint32_t i = 0; i < n; i++)
			s->shadow[r->sector - s->lba + i] = r->result ? GEN_UNKNOWN : h.gen;
	} else {
		s->reads++;
		if (!r->result)
			for (uint32_t i = 0; i < n; i++)
				verify(s, r->sector + i, (uint8_t *)r->buf + i * SEC);
	}
	if (r->result) {
		s->errors++;
		if (s->reports++ < MAX_REPORTS)
			printf("soak: request %s sector %llu +%u failed (%d)\n",
			       slot->flush ? "flush" : r->type == VIRTIO_BLK_T_OUT ? "write" : "read",
			       (unsigned long long)r->sector, n, r->result);
	}
	if (!slot->flush)
		set_busy(s, r->sector, n, 0);
	s->free_slots[s->nfree++] = (unsigned)(slot - s->slots);
}

static int run(struct soak *s)
{
	for (;;) {
		/* Refill every free slot, then one kick for the batch. */
		while (s->submitted < s->target) {
			int k = submit_one(s);
			if (k < 0) {
				printf("soak: submit failed (%d)\n", k);
				s->errors++;
				return k;
			}
			if (k == 0)
				break;
		}
		vblk_kick(s->d);
		if (s->inflight == 0)
			return 0;
		int err = vblk_wait(s->d, has_done, s, WAIT_NS);
		if (err) {
			printf("soak: waiting for completions: %s (%llu in flight)\n",
			       err == -ETIMEDOUT ? "timed out" : "queue broken",
			       (unsigned long long)s->inflight);
			s->errors++;
			return err;
		}
		uint64_t fl = cpu_irq_save();
		uint32_t head = s->done_head;
		cpu_irq_restore(fl);
		while (s->done_tail != head)
			complete_one(s, s->done_ring[s->done_tail++ % s->qd]);
	}
}

/* Write the whole region at generation 0 (sync), or read it all back and verify (+ CRC). */
static int region_pass(struct soak *s, bool write, uint32_t *crc)
{
	uint8_t *buf = pages_alloc(FILL_CHUNK / PAGE_SIZE, 1);
	if (!buf)
		return -ENOMEM;
	int err = 0;
	uint32_t c = 0;
	for (uint64_t done = 0; done < s->sectors && !err;) {
		uint32_t n = s->sectors - done < FILL_CHUNK / SEC ? (uint32_t)(s->sectors - done)
								 : FILL_CHUNK / SEC;
		uint64_t at = s->lba + done;
		if (write) {
			for (uint32_t i = 0; i < n; i++) {
				make_sector(s->seed, at + i, 0, buf + i * SEC);
				s->shadow[done + i] = 0;
			}
			err = vblk_io(s->d, VIRTIO_BLK_T_OUT, at, buf, n * SEC);
		} else {
			err = vblk_io(s->d, VIRTIO_BLK_T_IN, at, buf, n * SEC);
			if (!err) {
				for (uint32_t i = 0; i < n; i++)
					verify(s, at + i, buf + i * SEC);
				c = crc32_update(c, buf, n * SEC);
			}
		}
		done += n;
	}
	pages_free(buf, FILL_CHUNK / PAGE_SIZE);
	if (crc)
		*crc = c;
	if (err) {
		printf("soak: %s the region failed (%d)\n", write ? "filling" : "reading back", err);
		s->errors++;
	}
	return err;
}

static int cmd_blk_soak(int argc, char **argv)
{
	if (argc < 2)
		return shell_usage(argv[0]);
	struct vblk *d = vblk_find(argv[1]);
	if (!d) {
		printf("error: no disk '%s' (see 'blk')\n", argv[1]);
		return 2;
	}
	const struct vblk_info *in = vblk_info(d);
	unsigned long long n = 5000, qd = 32, seed = (unsigned long long)rand() << 16 ^ rand(),
			   lba = 0, sectors = 8192;
	bool sectors_set = false;
	for (int i = 2; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		unsigned long long v;
		if (!eq || shell_parse_u64(eq + 1, &v)) {
			printf("error: expected key=NUMBER, got '%s'\n", argv[i]);
			return shell_usage(argv[0]);
		}
		*eq = 0;
		if (strcmp(argv[i], "n") == 0)
			n = v;
		else if (strcmp(argv[i], "qd") == 0)
			qd = v;
		else if (strcmp(argv[i], "seed") == 0)
			seed = v;
		else if (strcmp(argv[i], "lba") == 0)
			lba = v;
		else if (strcmp(argv[i], "sectors") == 0) {
			sectors = v;
			sectors_set = true;
		} else {
			printf("error: unknown soak option '%s'\n", argv[i]);
			return shell_usage(argv[0]);
		}
	}
	if (in->read_only) {
		printf("error: %s is read-only\n", in->name);
		return 1;
	}
	if (lba >= in->capacity) {
		printf("error: lba %llu is past the end (%llu sectors)\n", lba,
		       (unsigned long long)in->capacity);
		return 2;
	}
	if (!sectors_set && sectors > in->capacity - lba)
		sectors = in->capacity - lba;
	uint32_t spb = in->blk_size / SEC;
	if (!sectors_set && sectors > spb)
		sectors -= sectors % spb;
	if (lba % spb || sectors % spb || spb > MAX_SECTORS_PER_OP) {
		printf("error: lba and sectors must be whole %u-byte blocks (at most %u)\n",
		       in->blk_size, MAX_SECTORS_PER_OP * SEC);
		return 2;
	}
	unsigned ring = virtqueue_size(vblk_queue(d));
	if (sectors < 1 || sectors > in->capacity - lba || sectors > (1u << 24) || qd < 1 ||
	    qd > ring || n < 1 || n > 10000000) {
		printf("error: need 1 <= sectors <= capacity-lba (max 16M), qd 1..%u, n 1..10000000\n",
		       ring);
		return 2;
	}

	struct soak *s = calloc(1, sizeof(*s));
	if (!s) {
		printf("error: out of memory\n");
		return 1;
	}
	s->d = d;
	s->spb = spb;
	s->lba = lba;
	s->sectors = sectors;
	s->seed = seed;
	s->rng = seed;
	s->qd = (unsigned)qd;
	s->target = n;
	s->shadow = malloc(sectors * sizeof(*s->shadow));
	s->busy = calloc(sectors, 1);
	s->slots = calloc(qd, sizeof(*s->slots));
	s->free_slots = calloc(qd, sizeof(*s->free_slots));
	s->done_ring = calloc(qd, sizeof(*s->done_ring));
	int rc = 1;
	unsigned got = 0;
	if (!s->shadow || !s->busy || !s->slots || !s->free_slots || !s->done_ring) {
		printf("error: out of memory\n");
		goto out;
	}
	for (got = 0; got < qd; got++) {
		if (!(s->slots[got].page = pages_alloc(SLOT_PAGES, 1))) {
			printf("error: out of memory\n");
			goto out;
		}
		s->free_slots[s->nfree++] = got;
	}
	g_soak = s;
	printf("soak: %s lba=%llu sectors=%llu n=%llu qd=%llu seed=%llu\n", in->name, lba, sectors,
	       n, qd, seed);
	uint64_t t0 = time_ns();
	uint32_t crc = 0;
	int err = region_pass(s, true, NULL);
	if (!err)
		err = run(s);
	if (!err) {
		/* Everything has completed: one last full verification, flushed first. */
		if (in->flush && vblk_flush(d)) {
			printf("soak: final flush failed\n");
			s->errors++;
		}
		region_pass(s, false, &crc);
	}
	uint64_t ms = (time_ns() - t0) / 1000000;
	printf("soak: ops=%llu reads=%llu writes=%llu flushes=%llu mismatches=%llu errors=%llu "
	       "ms=%llu\n",
	       (unsigned long long)s->completed, (unsigned long long)s->reads,
	       (unsigned long long)s->writes, (unsigned long long)s->flushes,
	       (unsigned long long)s->mismatches, (unsigned long long)s->errors,
	       (unsigned long long)ms);
	printf("soak: region lba=%llu sectors=%llu seed=%llu final_gen=%u crc32=%08x\n", lba,
	       sectors, seed, s->gen, crc);
	rc = err || s->mismatches || s->errors ? 1 : 0;
	if (s->inflight)
		goto out_wait;
out:
	for (unsigned i = 0; i < got; i++)
		pages_free(s->slots[i].page, SLOT_PAGES);
	free(s->done_ring);
	free(s->free_slots);
	free(s->slots);
	free(s->busy);
	free(s->shadow);
	g_soak = NULL;
	free(s);
	return rc;
out_wait:
	/* A request may still be in flight (timeout, broken queue): its buffers and slot must
	 * outlive it, so leak them rather than hand the device freed memory. */
	printf("soak: %llu requests left in flight; their memory is kept\n",
	       (unsigned long long)s->inflight);
	return rc;
}
SHELL_COMMAND(blk_soak, "blk_soak", "DEV [n=OPS] [qd=N] [seed=S] [lba=L] [sectors=N]",
	      "verifying random read/write soak over the async block API", cmd_blk_soak);
