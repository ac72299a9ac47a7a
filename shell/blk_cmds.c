/*
 * Shell commands for block devices: blk (list), blk read/crc/fill/discard/zero/flush/id, and
 * blk bench, a queue-depth-N I/O generator whose one-line key=value result scripts can read.
 */
#include "arch/x86_64/cpu.h"
#include "drivers/pci/pci.h"
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

#define IO_CHUNK (256 * 1024) /* bytes per synchronous request in crc/fill */

static const char *err_name(int err)
{
	switch (err) {
	case -EIO:
		return "I/O error";
	case -EOPNOTSUPP:
		return "not supported by the device";
	case -EPROTO:
		return "the device returned no status";
	case -ERANGE:
		return "past the end of the disk";
	case -EROFS:
		return "the disk is read-only";
	case -EINVAL:
		return "invalid request";
	case -ETIMEDOUT:
		return "timed out";
	default:
		return "error";
	}
}

static struct vblk *disk_arg(const char *name)
{
	struct vblk *d = vblk_find(name);
	if (!d)
		printf("error: no disk '%s' (see 'blk')\n", name);
	return d;
}

static int parse_num(const char *s, const char *what, unsigned long long *out)
{
	if (shell_parse_u64(s, out)) {
		printf("error: %s must be a number, not '%s'\n", what, s);
		return -1;
	}
	return 0;
}

static void hexdump(const uint8_t *p, size_t len, uint64_t base)
{
	for (size_t off = 0; off < len; off += 16) {
		printf("%08llx ", (unsigned long long)(base + off));
		for (size_t i = 0; i < 16; i++)
			printf("%s%02x", i == 8 ? "  " : " ", p[off + i]);
		printf("  |");
		for (size_t i = 0; i < 16; i++)
			printf("%c", p[off + i] >= 32 && p[off + i] < 127 ? p[off + i] : '.');
		printf("|\n");
	}
}

static void *io_buffer(size_t bytes)
{
	return pages_alloc((bytes + PAGE_SIZE - 1) / PAGE_SIZE, 1);
}

static void io_buffer_free(void *p, size_t bytes)
{
	pages_free(p, (bytes + PAGE_SIZE - 1) / PAGE_SIZE);
}

static int blk_list(void)
{
	if (!vblk_count()) {
		printf("no disks\n");
		return 0;
	}
	for (unsigned i = 0; i < vblk_count(); i++) {
		struct vblk *d = vblk_at(i);
		const struct vblk_info *in = vblk_info(d);
		struct virtio_device *vd = vblk_virtio(d);
		char feats[256], where[48];
		virtio_feature_string(vd, vd->features, feats, sizeof(feats));
		virtio_location(vd, false, where, sizeof(where));
		printf("%s %s %llu sectors (%llu MiB) %s id \"%s\" block %u seg_max %u "
		       "size_max %u transport %s mode %s\n  features: %s\n",
		       in->name, where, (unsigned long long)in->capacity,
		       (unsigned long long)(in->capacity >> 11), in->read_only ? "RO" : "RW", in->id,
		       in->blk_size, in->seg_max, in->size_max, virtio_transport_name(vd),
		       virtio_mode_name(vd->mode), feats);
		if (in->physical_block_exp || in->alignment_offset || in->min_io_size ||
		    in->opt_io_size)
			printf("  topology: physical block %u, alignment offset %u, min I/O %u, "
			       "optimal I/O %u (logical blocks)\n",
			       in->blk_size << (in->physical_block_exp & 15), in->alignment_offset,
			       in->min_io_size, in->opt_io_size);
		if (in->wce)
			printf("  cache: %s\n", in->writeback ? "writeback" : "writethrough");
		if (in->discard)
			printf("  discard: %u sectors per range, %u ranges, alignment %u\n",
			       in->max_discard_sectors, in->max_discard_seg,
			       in->discard_sector_alignment);
		if (in->write_zeroes)
			printf("  write zeroes: %u sectors per range, %u ranges%s\n",
			       in->max_write_zeroes_sectors, in->max_write_zeroes_seg,
			       in->write_zeroes_may_unmap ? ", may unmap" : "");
	}
	return 0;
}

/* blk discard DEV LBA COUNT | blk zero DEV LBA COUNT [unmap] */
static int blk_discard_zero(int argc, char **argv, bool zero)
{
	unsigned long long lba, count;
	bool unmap = zero && argc == 6 && strcmp(argv[5], "unmap") == 0;
	if (argc != 5 && !unmap)
		return shell_usage("blk");
	struct vblk *d = disk_arg(argv[2]);
	if (!d || parse_num(argv[3], "LBA", &lba) || parse_num(argv[4], "COUNT", &count))
		return 2;
	int err = zero ? vblk_write_zeroes(d, lba, count, unmap) : vblk_discard(d, lba, count);
	if (err) {
		printf("error: %s failed: %s\n", zero ? "write zeroes" : "discard", err_name(err));
		return 1;
	}
	printf("%s %llu sectors from %llu\n", zero ? "zeroed" : "discarded", count, lba);
	return 0;
}

/* blk read DEV LBA [COUNT] */
static int blk_read(int argc, char **argv)
{
	unsigned long long lba, count = 1;
	if (argc < 4 || argc > 5)
		return shell_usage("blk");
	struct vblk *d = disk_arg(argv[2]);
	if (!d || parse_num(argv[3], "LBA", &lba) ||
	    (argc == 5 && parse_num(argv[4], "COUNT", &count)))
		return 2;
	if (count == 0 || count > 64) {
		printf("error: COUNT must be 1 to 64 sectors\n");
		return 2;
	}
	size_t bytes = count * VIRTIO_BLK_SECTOR;
	uint8_t *buf = io_buffer(bytes);
	if (!buf)
		return 1;
	int err = vblk_io(d, VIRTIO_BLK_T_IN, lba, buf, bytes);
	if (err)
		printf("error: read failed: %s\n", err_name(err));
	else
		hexdump(buf, bytes, lba * VIRTIO_BLK_SECTOR);
	io_buffer_free(buf, bytes);
	return err ? 1 : 0;
}

/* blk crc DEV LBA COUNT | blk fill DEV LBA COUNT BYTE */
static int blk_crc_fill(int argc, char **argv, bool fill)
{
	unsigned long long lba, count, byte = 0;
	if (argc != (fill ? 6 : 5))
		return shell_usage("blk");
	struct vblk *d = disk_arg(argv[2]);
	if (!d || parse_num(argv[3], "LBA", &lba) || parse_num(argv[4], "COUNT", &count) ||
	    (fill && parse_num(argv[5], "BYTE", &byte)))
		return 2;
	if (byte > 255) {
		printf("error: BYTE must be 0 to 255\n");
		return 2;
	}
	uint8_t *buf = io_buffer(IO_CHUNK);
	if (!buf)
		return 1;
	if (fill)
		memset(buf, (int)byte, IO_CHUNK);
	uint32_t crc = 0;
	int err = 0;
	uint64_t left = count * VIRTIO_BLK_SECTOR, sector = lba;
	if (count > vblk_info(d)->capacity || lba > vblk_info(d)->capacity - count)
		err = -ERANGE;
	while (!err && left) {
		size_t n = left < IO_CHUNK ? left : IO_CHUNK;
		err = vblk_io(d, fill ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector, buf, n);
		if (err)
			break; /* sector stays at the start of the chunk that failed */
		if (!fill)
			crc = crc32_update(crc, buf, n);
		left -= n;
		sector += n / VIRTIO_BLK_SECTOR;
	}
	io_buffer_free(buf, IO_CHUNK);
	if (err) {
		printf("error: %s failed in sectors %llu..%llu: %s\n", fill ? "write" : "read",
		       (unsigned long long)sector,
		       (unsigned long long)(sector + (left < IO_CHUNK ? left : IO_CHUNK) / 512 - 1),
		       err_name(err));
		return 1;
	}
	if (fill)
		printf("filled %llu sectors from %llu with %#04llx\n", count, lba, byte);
	else
		printf("crc32=%08x sectors=%llu\n", crc, count);
	return 0;
}

/* ---- blk bench ---- */

struct bench {
	struct vblk *d;
	uint32_t bs, qd;
	uint64_t n, blocks, next_seq;
	bool write, random;
	struct blk_req *reqs;
	uint8_t *bufs;
	uint32_t *lat_us;
	uint64_t submitted, completed;
	struct blk_req **done_ring; /* completions not yet seen by the main loop */
	volatile uint32_t done_head;  /* written by the completion callback */
	uint32_t done_tail;
	int error;
	/* From a batch's first completion harvested to just before the kick that sends its
	 * replacements: the guest's part before the kick (docs/PERFORMANCE.md). */
	uint64_t resubmit_ns, resubmits;
};

static void bench_done(struct blk_req *r)
{
	struct bench *b = r->ctx;
	b->done_ring[b->done_head % b->qd] = r;
	b->done_head++;
}

static bool bench_has_done(void *arg)
{
	struct bench *b = arg;
	return b->done_head != b->done_tail;
}

static bool bench_all_back(void *arg)
{
	struct bench *b = arg;
	return b->done_head == (uint32_t)b->submitted;
}

/* Stopping early: the requests in flight are the device's until they complete, and the caller
 * frees them and their buffers (and b is on its stack). Wait for every one; if that fails,
 * vblk_wait has reset the device, which then touches none of them. */
static int bench_stop(struct bench *b, int err)
{
	vblk_kick(b->d);
	vblk_wait(b->d, bench_all_back, b, VIRTIO_TIMEOUT_NS);
	return err;
}

static void bench_prepare(struct bench *b, struct blk_req *r)
{
	uint64_t blk = b->random ? ((uint64_t)rand() << 31 ^ (uint64_t)rand()) % b->blocks
				 : b->next_seq++ % b->blocks;
	r->type = b->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	r->sector = blk * (b->bs / VIRTIO_BLK_SECTOR);
	r->len = b->bs;
	r->done = bench_done;
	r->ctx = b;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int run_bench(struct bench *b)
{
	struct virtqueue *vq = vblk_queue(b->d);
	struct virtqueue_stats s0 = vq->stats;
	uint64_t t0 = time_ns();
	for (uint32_t i = 0; i < b->qd && b->submitted < b->n; i++) {
		bench_prepare(b, &b->reqs[i]);
		int err = vblk_submit(b->d, &b->reqs[i], false);
		if (err)
			return bench_stop(b, err);
		b->submitted++;
	}
	vblk_kick(b->d);
	while (b->completed < b->n) {
		int err = vblk_wait(b->d, bench_has_done, b, VIRTIO_TIMEOUT_NS);
		if (err)
			return err;
		/* Take every completion, then refill them all and kick once: the batch is what
		 * lets EVENT_IDX suppress notifications. */
		uint64_t fl = cpu_irq_save();
		uint32_t head = b->done_head;
		cpu_irq_restore(fl);
		uint64_t first_done = b->done_ring[b->done_tail % b->qd]->complete_ns;
		bool refilled = false;
		while (b->done_tail != head) {
			struct blk_req *r = b->done_ring[b->done_tail++ % b->qd];
			if (r->result && !b->error)
				b->error = r->result;
			uint64_t us = (r->complete_ns - r->submit_ns) / 1000;
			b->lat_us[b->completed++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
			if (b->submitted < b->n) {
				bench_prepare(b, r);
				if ((err = vblk_submit(b->d, r, false)))
					return bench_stop(b, err);
				b->submitted++;
				refilled = true;
			}
		}
		if (refilled) {
			b->resubmit_ns += time_ns() - first_done;
			b->resubmits++;
		}
		vblk_kick(b->d);
	}
	uint64_t ns = time_ns() - t0;
	struct virtqueue_stats s1 = vq->stats;
	qsort(b->lat_us, b->n, sizeof(b->lat_us[0]), cmp_u32);
	double secs = (double)ns / 1e9, n = (double)b->n;
	struct virtio_device *vd = vblk_virtio(b->d);
	printf("bench=blk guest=vireo dev=%s rw=%s%s bs=%u qd=%u n=%llu mode=%s event_idx=%d "
	       "indirect=%d iops=%.0f mbps=%.2f p50_us=%u p99_us=%u kicks_per_req=%.4f "
	       "irqs_per_req=%.4f resubmit_us=%.1f errors=%s\n",
	       vblk_info(b->d)->name, b->random ? "rand" : "", b->write ? "write" : "read", b->bs,
	       b->qd, (unsigned long long)b->n, virtio_mode_name(vd->mode),
	       virtio_has_feature(vd, VIRTIO_RING_F_EVENT_IDX),
	       virtio_has_feature(vd, VIRTIO_RING_F_INDIRECT_DESC), n / secs,
	       n * b->bs / secs / 1048576.0, b->lat_us[b->n / 2], b->lat_us[b->n * 99 / 100],
	       (double)(s1.kicks - s0.kicks) / n, (double)(s1.interrupts - s0.interrupts) / n,
	       b->resubmits ? (double)b->resubmit_ns / (double)b->resubmits / 1e3 : 0.0,
	       b->error ? err_name(b->error) : "0");
	return b->error ? 1 : 0;
}

/* blk bench DEV [rw=randread|randwrite|read|write] [bs=BYTES] [qd=N] [n=N] */
static int blk_bench(int argc, char **argv)
{
	if (argc < 3)
		return shell_usage("blk");
	struct bench b = {.bs = 4096, .qd = 1, .n = 10000, .random = true};
	if (!(b.d = disk_arg(argv[2])))
		return 2;
	for (int i = 3; i < argc; i++) {
		unsigned long long v;
		char *eq = strchr(argv[i], '=');
		if (!eq) {
			printf("error: expected key=value, got '%s'\n", argv[i]);
			return 2;
		}
		*eq = 0;
		const char *k = argv[i], *val = eq + 1;
		if (strcmp(k, "rw") == 0) {
			b.random = strncmp(val, "rand", 4) == 0;
			const char *op = b.random ? val + 4 : val;
			if (strcmp(op, "read") && strcmp(op, "write")) {
				printf("error: rw must be randread, randwrite, read or write\n");
				return 2;
			}
			b.write = strcmp(op, "write") == 0;
		} else if (strcmp(k, "bs") == 0 || strcmp(k, "qd") == 0 || strcmp(k, "n") == 0) {
			if (parse_num(val, k, &v))
				return 2;
			if (k[0] == 'b')
				b.bs = (uint32_t)v;
			else if (k[0] == 'q')
				b.qd = (uint32_t)v;
			else
				b.n = v;
		} else {
			printf("error: unknown bench option '%s'\n", k);
			return 2;
		}
	}
	const struct vblk_info *in = vblk_info(b.d);
	unsigned ring = virtqueue_size(vblk_queue(b.d));
	if (b.bs < in->blk_size || b.bs % in->blk_size || b.bs > in->max_request || b.qd < 1 ||
	    b.qd > ring || b.n < 1 || b.n > 1000000) {
		printf("error: need bs a multiple of %u up to %u (one request), qd 1..%u, "
		       "n 1..1000000\n",
		       in->blk_size, in->max_request, ring);
		return 2;
	}
	if (b.write && in->read_only) {
		printf("error: %s is read-only\n", in->name);
		return 1;
	}
	b.blocks = in->capacity * VIRTIO_BLK_SECTOR / b.bs;
	if (!b.blocks) {
		printf("error: the disk is smaller than one block\n");
		return 1;
	}
	size_t buf_bytes = (size_t)b.qd * b.bs;
	b.bufs = io_buffer(buf_bytes);
	b.reqs = calloc(b.qd, sizeof(*b.reqs));
	b.done_ring = calloc(b.qd, sizeof(*b.done_ring));
	b.lat_us = malloc(b.n * sizeof(*b.lat_us));
	int rc = 1;
	if (b.bufs && b.reqs && b.done_ring && b.lat_us) {
		for (uint32_t i = 0; i < b.qd; i++)
			b.reqs[i].buf = b.bufs + (size_t)i * b.bs;
		int err = run_bench(&b);
		if (err < 0)
			printf("error: bench stopped: %s\n", err_name(err));
		rc = err ? 1 : 0;
	} else {
		printf("error: out of memory for the bench\n");
	}
	free(b.lat_us);
	free(b.done_ring);
	free(b.reqs);
	if (b.bufs)
		io_buffer_free(b.bufs, buf_bytes);
	return rc;
}

static int cmd_blk(int argc, char **argv)
{
	if (argc == 1)
		return blk_list();
	const char *sub = argv[1];
	if (strcmp(sub, "read") == 0)
		return blk_read(argc, argv);
	if (strcmp(sub, "crc") == 0)
		return blk_crc_fill(argc, argv, false);
	if (strcmp(sub, "fill") == 0)
		return blk_crc_fill(argc, argv, true);
	if (strcmp(sub, "bench") == 0)
		return blk_bench(argc, argv);
	if (strcmp(sub, "discard") == 0 || strcmp(sub, "zero") == 0)
		return blk_discard_zero(argc, argv, sub[0] == 'z');
	if ((strcmp(sub, "flush") == 0 || strcmp(sub, "id") == 0) && argc == 3) {
		struct vblk *d = disk_arg(argv[2]);
		if (!d)
			return 2;
		if (sub[0] == 'i') {
			printf("%s\n", vblk_info(d)->id);
			return 0;
		}
		int err = vblk_flush(d);
		if (err) {
			printf("error: flush failed: %s\n", err_name(err));
			return 1;
		}
		printf("flushed %s\n", vblk_info(d)->name);
		return 0;
	}
	printf("error: unknown blk subcommand '%s'\n", sub);
	return shell_usage("blk");
}
SHELL_COMMAND(blk, "blk",
	      "[read DEV LBA [N] | crc DEV LBA N | fill DEV LBA N BYTE | discard DEV LBA N | "
	      "zero DEV LBA N [unmap] | flush DEV | id DEV | bench DEV [rw=] [bs=] [qd=] [n=]]",
	      "block devices", cmd_blk);
