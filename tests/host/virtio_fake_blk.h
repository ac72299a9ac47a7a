/*
 * A virtio-blk device (VIRTIO 1.2, 5.2) on the register-level model (virtio_fake_dev.h): a
 * RAM disk behind queue 0 that executes IN, OUT, FLUSH and GET_ID requests as the spec
 * describes them, and records as violations every driver MUST of 5.2.6.1 it can see:
 *   - a request is a 16-byte device-readable header (reserved 0), then the data (device-writable for IN
 *     and GET_ID, device-readable for OUT, none for FLUSH), then one device-writable status
 *     byte, in that order;
 *   - IN/OUT lengths in whole 512-byte sectors, never past capacity; GET_ID's buffer 20 bytes;
 *     sector 0 for FLUSH and GET_ID;
 *   - no OUT (nor FLUSH) to a device that offers RO; no FLUSH unless FLUSH was negotiated;
 *   - at most seg_max data segments when SEG_MAX was negotiated, none longer than size_max
 *     when SIZE_MAX was;
 *   - DISCARD and WRITE_ZEROES only when negotiated, their data device-readable ranges of 16
 *     bytes (sector, num_sectors, flags), at most max_*_seg of them, each of 1 to
 *     max_*_sectors sectors inside the disk, no unmap flag on a discard, no other flag;
 *   - the status byte and the read data are written by the device only.
 * Config (5.2.4) is written from the fields below by vfb_init / vfb_config.
 */
#ifndef VIREO_TESTS_VIRTIO_FAKE_BLK_H
#define VIREO_TESTS_VIRTIO_FAKE_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/host/virtio_fake_dev.h"

/* 5.2.3 (written out: the spec's numbers, not the driver's). */
#define VFB_F_SIZE_MAX 1
#define VFB_F_SEG_MAX 2
#define VFB_F_GEOMETRY 4
#define VFB_F_RO 5
#define VFB_F_BLK_SIZE 6
#define VFB_F_FLUSH 9
#define VFB_F_TOPOLOGY 10
#define VFB_F_CONFIG_WCE 11
#define VFB_F_DISCARD 13
#define VFB_F_WRITE_ZEROES 14
#define VFB_T_IN 0
#define VFB_T_OUT 1
#define VFB_T_FLUSH 4
#define VFB_T_GET_ID 8
#define VFB_T_DISCARD 11
#define VFB_T_WRITE_ZEROES 13
#define VFB_S_OK 0
#define VFB_S_IOERR 1
#define VFB_S_UNSUPP 2
#define VFB_MAX_SEGS 300
#define VFB_MAX_LOG 256

struct vfb {
	struct vfd *m;
	uint8_t *disk;
	uint64_t capacity;       /* 512-byte sectors */
	/* config, as offered (vfb_config writes them into the model's device config) */
	uint32_t size_max, seg_max, blk_size;
	uint8_t physical_block_exp, alignment_offset, writeback;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	char serial[20];         /* GET_ID's answer: NUL-padded, all 20 bytes may be used */
	uint32_t id_bytes;       /* GET_ID writes only this many bytes of it, but reports all
				    20 as written (0: writes all 20) */
	/* misbehaviour */
	uint64_t ioerr_sector;   /* a request covering this sector fails with IOERR ... */
	bool ioerr;              /* ... when set */
	uint32_t unsupp_types;   /* bit t: answer type t with UNSUPP */
	bool no_status;          /* complete without writing the status (used len as if) */
	bool short_len;          /* report a used length of 1 (the status only) */
	bool hold;               /* take requests but complete none (vfb_complete_held later) */
	unsigned hold_n;         /* ... the next hold_n only */
	bool bad_id_once;        /* complete the next request with a used id out of range */
	/* records */
	unsigned nreq;
	struct vfb_req {
		uint32_t type;
		uint64_t sector;
		uint32_t len;        /* data bytes */
		unsigned segs;       /* data segments */
		uint32_t max_seg;    /* longest data segment */
		uint64_t range_sector; /* DISCARD / WRITE_ZEROES: the first range */
		uint32_t range_sectors, range_flags, ranges;
	} log[VFB_MAX_LOG];
	unsigned nheld;
	uint16_t held[256];
};

/* b behind m (set m->features first, as offered); disk has capacity sectors. Writes the
 * config and installs the queue hook. */
void vfb_init(struct vfb *b, struct vfd *m, uint8_t *disk, uint64_t capacity);
/* Write b's config fields into the model (after changing them). */
void vfb_config(struct vfb *b);
/* Complete the requests taken while b->hold was set. */
void vfb_complete_held(struct vfb *b);

#endif
