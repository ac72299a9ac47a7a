/*
 * libFuzzer target: a device against the packed virtqueue format (2.8), with and without
 * IN_ORDER, INDIRECT and EVENT_IDX, at any queue size 1..64.
 *
 * The input picks the queue's shape and then a sequence of operations interleaving the driver
 * (add, kick, harvest, interrupt control) with a device that is honest (the spec-based model
 * of tests/host/packed_device_model.c takes available chains and completes them, out of order,
 * or in order as batches) or hostile (raw descriptors with any id, length and flags at any
 * position, arbitrary device event suppression).
 *
 * Besides ASan/UBSan catching any out-of-bounds access, the harness checks the core's promises:
 *   - while the device is honest, every chain the driver publishes is one the model accepts
 *     (AVAIL/USED bits for its lap, readable before writable, INDIRECT rules);
 *   - get_buf only returns tokens that are in flight and were published, each once, with a
 *     length no larger than the device-writable bytes offered;
 *   - a broken queue refuses everything, and detach_unused returns exactly the tokens still
 *     owned, after which every descriptor is free and no DMA memory leaks at destroy.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_target.h"
#include "drivers/virtio/ring/virtqueue.h"
#include "tests/host/packed_device_model.h"
#include "tests/host/ring_port_host.h"

#define MAX_REQ 128
#define MAX_SEG 6

struct req {
	bool inflight, published;
	uint32_t in_len;
};

static void notify_cb(struct virtqueue *vq)
{
	(void)vq;
}

static struct req reqs[MAX_REQ];
static uint8_t bufs[MAX_SEG][64];
static struct pdm dev;
static struct pdm_chain pend[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct virtqueue *vq;
	unsigned shape = take(&in), npend = 0, adds = 0;
	bool scribbled = false;
	long dma_before = virtio_host_dma_outstanding();
	struct virtqueue_config cfg = {
		.name = "fuzz", .notify = notify_cb, .layout = VIRTQUEUE_LAYOUT_MODERN,
		.packed = true, .num = 1 + take(&in) % 64, .indirect = shape & 1,
		.event_idx = (shape & 2) != 0, .in_order = (shape & 4) != 0,
		.indirect_max = (shape & 8) ? 3 : 0,
	};

	virtio_host_log_quiet(true);
	if (virtqueue_create(&cfg, &vq) != 0)
		return 0;
	memset(reqs, 0, sizeof(reqs));
	pdm_attach(&dev, virtqueue_desc_phys(vq), virtqueue_avail_phys(vq), virtqueue_used_phys(vq),
		   (uint16_t)cfg.num, cfg.event_idx, cfg.indirect);
	unsigned num = cfg.num;

	while (in.n > 0) {
		unsigned op = take(&in);
		switch (op % 9) {
		case 0:
		case 1: { /* driver: add a request */
			unsigned total = 1 + take(&in) % MAX_SEG, out = take(&in) % (total + 1);
			unsigned slot = adds % MAX_REQ;
			struct vq_sg sg[MAX_SEG];
			uint32_t in_len = 0;
			if (reqs[slot].inflight)
				break;
			for (unsigned k = 0; k < total; k++) {
				sg[k].addr = bufs[k];
				sg[k].len = 1 + take(&in) % 64;
				if (k >= out)
					in_len += sg[k].len;
			}
			int ret = virtqueue_add(vq, sg, out, total - out, &reqs[slot]);
			if (vq->broken) {
				check(ret == -EIO);
				break;
			}
			if (ret == -ENOSPC || ret == -EINVAL)
				break;
			check(ret == 0);
			reqs[slot] = (struct req){true, false, in_len};
			adds++;
			break;
		}
		case 2: /* driver: kick */
			if (op & 0x80)
				virtqueue_kick_prepare(vq);
			else
				virtqueue_kick(vq);
			if (!vq->broken)
				for (unsigned i = 0; i < MAX_REQ; i++)
					reqs[i].published |= reqs[i].inflight;
			break;
		case 3: { /* driver: harvest */
			void *t;
			uint32_t len;
			while ((t = virtqueue_get_buf(vq, &len)) != NULL) {
				struct req *r = t;
				check(r >= reqs && r < reqs + MAX_REQ);
				check(r->inflight && r->published);
				check(len <= r->in_len);
				r->inflight = r->published = false;
			}
			check(vq->num_free <= num);
			break;
		}
		case 4: /* honest device: take what is available */
			if (scribbled)
				break;
			while (npend < 64) {
				int r = pdm_pop(&dev, &pend[npend]);
				check(r >= 0); /* the driver's chains are what the spec says */
				if (r == 0)
					break;
				npend++;
			}
			break;
		case 5: { /* honest device: complete some, in order as a batch or in any order */
			if (scribbled || !npend)
				break;
			unsigned k = 1 + take(&in) % npend;
			if (cfg.in_order) {
				uint16_t descs = 0;
				for (unsigned c = 0; c < k; c++)
					descs = (uint16_t)(descs + pend[c].ndesc);
				uint32_t w = (uint32_t)pend[k - 1].writable_bytes;
				pdm_push(&dev, pend[k - 1].id, w ? take32(&in) % (w + 1) : 0, descs);
				memmove(pend, pend + k, (npend - k) * sizeof(*pend));
				npend -= k;
			} else {
				for (unsigned c = 0; c < k; c++) {
					unsigned pick = take(&in) % npend;
					uint32_t w = (uint32_t)pend[pick].writable_bytes;
					pdm_push(&dev, pend[pick].id, w ? take32(&in) % (w + 1) : 0,
						 pend[pick].ndesc);
					pend[pick] = pend[--npend];
				}
			}
			if (take(&in) & 1)
				pdm_publish(&dev);
			break;
		}
		case 6: /* hostile: a raw descriptor anywhere */
			pdm_raw_desc(&dev, (uint16_t)(take(&in) % num), take32(&in), take32(&in),
				     (uint16_t)(op & 0x80 ? take32(&in) : take(&in) % (num + 2)),
				     (uint16_t)take32(&in));
			scribbled = true;
			break;
		case 7: /* hostile or honest device event suppression */
			if (op & 0x80)
				pdm_raw_device_event(&dev, (uint16_t)take32(&in), (uint16_t)take(&in));
			else if (!scribbled)
				pdm_want_notify(&dev, take(&in) & 1);
			break;
		case 8: /* interrupt control */
			switch (take(&in) % 5) {
			case 0: virtqueue_disable_cb(vq); break;
			case 1: virtqueue_enable_cb(vq); break;
			case 2: virtqueue_enable_cb_delayed(vq); break;
			case 3: check(!virtqueue_poll(vq) || !vq->broken); break;
			default: virtqueue_interrupt(vq); break;
			}
			break;
		}
		if (vq->broken) {
			check(vq->broken_reason[0] != '\0');
			check(virtqueue_add(vq, &(struct vq_sg){bufs[0], 1}, 1, 0, &reqs[0]) == -EIO);
			check(virtqueue_get_buf(vq, NULL) == NULL);
			check(!virtqueue_kick_prepare(vq));
		} else if (!scribbled) {
			check(!dev.error[0]);
		}
	}

	/* Reset: every token still owned comes back exactly once, then all descriptors are free. */
	void *t;
	unsigned owned = 0, returned = 0;
	for (unsigned i = 0; i < MAX_REQ; i++)
		owned += reqs[i].inflight;
	while ((t = virtqueue_detach_unused(vq)) != NULL) {
		struct req *r = t;
		check(r >= reqs && r < reqs + MAX_REQ && r->inflight);
		r->inflight = false;
		returned++;
	}
	check(returned == owned);
	check(virtqueue_num_free(vq) == num);
	virtqueue_destroy(vq);
	check(virtio_host_dma_outstanding() == dma_before);
	return 0;
}
