/*
 * virtio-blk (VIRTIO 1.2, 5.2 "Block Device"): wire format and the block API the rest of the
 * kernel uses.
 *
 * The API is asynchronous underneath: vblk_submit() queues a request (header | data segments |
 * status) and returns at once; the request's done() runs when the device has completed it —
 * in interrupt context in irq mode, from vblk_poll()/virtio_wait() otherwise. Many requests may
 * be in flight (up to the ring size); submitting several and calling vblk_kick() once batches
 * the notification. vblk_io() is the synchronous wrapper.
 */
#ifndef VIREO_VIRTIO_BLK_H
#define VIREO_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/ring/virtqueue.h"

/* 5.2.3 Feature bits. */
#define VIRTIO_BLK_F_SIZE_MAX     1  /* size_max: largest segment */
#define VIRTIO_BLK_F_SEG_MAX      2  /* seg_max: most segments per request */
#define VIRTIO_BLK_F_GEOMETRY     4
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_TOPOLOGY     10
#define VIRTIO_BLK_F_CONFIG_WCE   11
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* 5.2.4 Device configuration layout. */
struct virtio_blk_config {
	uint64_t capacity; /* in 512-byte sectors, whatever blk_size says */
	uint32_t size_max;
	uint32_t seg_max;
	struct virtio_blk_geometry {
		uint16_t cylinders;
		uint8_t heads;
		uint8_t sectors;
	} geometry;
	uint32_t blk_size;
	struct virtio_blk_topology {
		uint8_t physical_block_exp; /* logical blocks per physical block (log2) */
		uint8_t alignment_offset;
		uint16_t min_io_size;       /* in logical blocks */
		uint32_t opt_io_size;
	} topology;
	uint8_t writeback;       /* CONFIG_WCE: 1 writeback, 0 writethrough */
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;      /* DISCARD: per range */
	uint32_t max_discard_seg;          /* DISCARD: ranges per request */
	uint32_t discard_sector_alignment; /* DISCARD: where the device may split one */
	uint32_t max_write_zeroes_sectors; /* WRITE_ZEROES: per range */
	uint32_t max_write_zeroes_seg;     /* WRITE_ZEROES: ranges per request */
	uint8_t write_zeroes_may_unmap;    /* WRITE_ZEROES: the unmap flag may deallocate */
	uint8_t unused1[3];
} __attribute__((packed));

_Static_assert(offsetof(struct virtio_blk_config, topology) == 24, "5.2.4 layout");
_Static_assert(offsetof(struct virtio_blk_config, writeback) == 32, "5.2.4 layout");
_Static_assert(offsetof(struct virtio_blk_config, max_discard_sectors) == 36, "5.2.4 layout");
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56, "5.2.4 layout");

/* 5.2.6 Device operation: request types and status values. */
#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_SECTOR   512

/* The device-readable header that starts every request. */
struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t reserved; /* ioprio in legacy */
	uint64_t sector;
};

/* 5.2.6: the data of DISCARD and WRITE_ZEROES, one per range. */
struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1u

#define VBLK_MAX_SEGS 64

struct vblk;

struct blk_req {
	/* Filled by the caller. */
	uint32_t type;        /* VIRTIO_BLK_T_* */
	uint64_t sector;      /* 512-byte units */
	void *buf;            /* data (kernel memory: identity-mapped and contiguous) */
	uint32_t len;         /* bytes; a multiple of 512 for IN/OUT, 0 for FLUSH; for DISCARD
			       * and WRITE_ZEROES the bytes of an array of
			       * virtio_blk_discard_write_zeroes ranges at buf */
	void (*done)(struct blk_req *r);
	void *ctx;
	/* Filled by the driver. */
	int result;           /* 0, -EIO (IOERR or no status), -EOPNOTSUPP (UNSUPP), ... */
	uint64_t submit_ns, complete_ns;
	/* Private: what the device reads and writes besides the data. */
	struct virtio_blk_outhdr hdr;
	uint8_t status;
	struct vq_sg sg[VBLK_MAX_SEGS + 2];
};

struct vblk_info {
	char name[8];            /* "vda" */
	uint64_t capacity;       /* sectors */
	uint32_t blk_size;       /* logical block size */
	uint32_t seg_max, size_max;
	uint32_t max_request; /* bytes one request can carry from a page-aligned buffer */
	bool read_only, flush;
	/* TOPOLOGY (0 when not offered): logical blocks per physical block (log2), the first
	 * aligned logical block, suggested minimum and optimal I/O sizes in logical blocks. */
	uint8_t physical_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	/* CONFIG_WCE: the cache mode the device reports (writeback: flushes matter). */
	bool wce, writeback;
	/* DISCARD / WRITE_ZEROES: offered, and their limits (a 0 from the device: none). */
	bool discard, write_zeroes, write_zeroes_may_unmap;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	char id[VIRTIO_BLK_ID_BYTES + 1]; /* serial, "" when GET_ID is unsupported */
	uint64_t reads, writes, flushes, errors; /* requests queued; failed (all causes) */
	uint64_t discards, zeroes; /* DISCARD and WRITE_ZEROES requests queued */
	uint64_t unsupported;   /* of the errors: the device answered UNSUPP (-EOPNOTSUPP) */
};

/* Register the driver with the virtio core. */
int virtio_blk_register(void);

unsigned vblk_count(void);
struct vblk *vblk_at(unsigned i);
struct vblk *vblk_find(const char *name);
const struct vblk_info *vblk_info(const struct vblk *d);
struct virtio_device *vblk_virtio(struct vblk *d);
struct virtqueue *vblk_queue(struct vblk *d);

/*
 * Queue r without waiting. Checks first: past capacity → -ERANGE, a write or flush to a
 * read-only disk → -EROFS, FLUSH without the FLUSH feature → -EOPNOTSUPP; -EINVAL for a length
 * or sector that is not whole logical blocks (blk_size), or data needing more segments than
 * the device (seg_max) or the queue (size - 2) allows — see info.max_request; then -ENOSPC when the ring is full (retry after a completion)
 * or -EIO when the queue is broken. kick: notify now (false: the caller batches and calls
 * vblk_kick). r must stay alive until r->done runs.
 */
int vblk_submit(struct vblk *d, struct blk_req *r, bool kick);
void vblk_kick(struct vblk *d);
/* Harvest completions now (poll paths; harmless in irq mode). */
void vblk_poll(struct vblk *d);
/* Wait (per the device's mode) until cond(arg) holds. 0, -EIO, -ETIMEDOUT. On an error the
 * device is reset and re-initialised (virtio_recover, docs/FAILURES.md): every request still
 * in flight completes with -EIO, and its memory is the caller's again. */
int vblk_wait(struct vblk *d, bool (*cond)(void *arg), void *arg, uint64_t timeout_ns);

/* Synchronous I/O: read or write len bytes at sector; splits to fit seg_max/size_max. */
int vblk_io(struct vblk *d, uint32_t type, uint64_t sector, void *buf, size_t len);
int vblk_flush(struct vblk *d);
/* Synchronous DISCARD (the device may deallocate the sectors; what they read afterwards is
 * undefined) and WRITE_ZEROES (they read zeroes; unmap lets the device deallocate them too,
 * where write_zeroes_may_unmap says it may). sectors >= 1; split at the device's per-range
 * limit. -EOPNOTSUPP without the feature, -ERANGE past capacity, -EROFS on a read-only disk,
 * -EINVAL for a range that is not whole logical blocks. */
int vblk_discard(struct vblk *d, uint64_t sector, uint64_t sectors);
int vblk_write_zeroes(struct vblk *d, uint64_t sector, uint64_t sectors, bool unmap);

#endif
