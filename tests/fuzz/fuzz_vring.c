/*
 * libFuzzer target: a malicious device against the vring core.
 *
 * The input picks the queue shape (size, layout, INDIRECT, EVENT_IDX, IN_ORDER) and then a sequence of
 * operations interleaving the driver (add, kick, harvest, interrupt control) with a device that
 * is sometimes honest (pops available chains and completes them with a legal length) and
 * sometimes hostile (raw used elements with arbitrary id/len, arbitrary used->idx, garbage in
 * the descriptor table, avail_event and used->flags).
 *
 * Besides ASan/UBSan catching any out-of-bounds access, the harness checks the core's promises:
 *   - get_buf only returns tokens that are in flight and were published, each once, with a
 *     length no larger than the device-writable bytes offered;
 *   - while the device only scribbled nothing, every published chain is well formed (walk with
 *     bounds: no loop, readable before writable, INDIRECT rules, the segments that were added);
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
#include "drivers/virtio/ring/ring_port.h"
#include "drivers/virtio/ring/virtio_ring.h"
#include "drivers/virtio/ring/virtqueue.h"
#include "tests/host/ring_port_host.h"

#define MAX_REQ 256
#define MAX_SEG 6

struct req {
	bool inflight;
	uint32_t in_len;
	unsigned out, in;
	uint32_t pos; /* add sequence number */
};

static void notify_cb(struct virtqueue *vq)
{
	(void)vq;
}

static struct req reqs[MAX_REQ];
static uint8_t bufs[MAX_SEG][64];

/* Walk the published chain at head with bounds; compare with what was added. */
static void validate_chain(struct virtqueue *vq, uint16_t head, const struct req *r)
{
	const struct vring_desc *table = vq->vring.desc;
	unsigned n = vq->num, i = head, seg = 0;
	bool in_indirect = false;

	for (unsigned steps = 0;;) {
		check(i < n);
		check(++steps <= n); /* no loop, never longer than the table */
		const struct vring_desc *d = &table[i];
		if (d->flags & VRING_DESC_F_INDIRECT) {
			check(vq->indirect && !in_indirect && seg == 0);
			check(!(d->flags & VRING_DESC_F_NEXT));
			check(d->len % 16 == 0 && d->len / 16 >= 2 && d->len / 16 <= n);
			table = (const struct vring_desc *)(uintptr_t)d->addr;
			n = d->len / 16;
			i = 0;
			in_indirect = true;
			steps = 0;
			continue;
		}
		check(((d->flags & VRING_DESC_F_WRITE) != 0) == (seg >= r->out));
		seg++;
		if (!(d->flags & VRING_DESC_F_NEXT))
			break;
		i = d->next;
	}
	check(seg == r->out + r->in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct virtqueue *vq;
	struct virtqueue_config cfg = {.name = "fuzz", .notify = notify_cb};
	unsigned shape = take(&in);
	uint16_t head_req[64]; /* head -> reqs[] slot; num <= 64 below */
	uint32_t adds = 0, published = 0;
	uint16_t dev_last_avail, dev_used;
	bool scribbled = false;
	long dma_before = virtio_host_dma_outstanding();

	virtio_host_log_quiet(true);
	cfg.num = 1u << (shape % 7); /* 1 .. 64 */
	cfg.layout = (shape & 0x08) ? VIRTQUEUE_LAYOUT_LEGACY : VIRTQUEUE_LAYOUT_MODERN;
	cfg.indirect = (shape & 0x10) != 0;
	cfg.event_idx = (shape & 0x20) != 0;
	cfg.indirect_max = (shape & 0x40) ? 3 : 0;
	cfg.in_order = take(&in) & 1; /* the honest device below completes in order anyway */
	if (virtqueue_create(&cfg, &vq) != 0)
		return 0;
	memset(reqs, 0, sizeof(reqs));
	memset(head_req, 0xff, sizeof(head_req));
	uint16_t start = (shape & 0x80) ? (uint16_t)(65536 - 1 - take(&in) % 64) : 0;
	check(virtqueue_test_set_indices(vq, start) == 0);
	dev_last_avail = dev_used = start;

	struct vring *vr = &vq->vring;
	unsigned num = vq->num;

	while (in.n > 0) {
		unsigned op = take(&in);
		switch (op % 10) {
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
			uint16_t pos = (uint16_t)(start + adds);
			int ret = virtqueue_add(vq, sg, out, total - out, &reqs[slot]);
			if (vq->broken) {
				check(ret == -EIO);
				break;
			}
			if (ret == -ENOSPC || ret == -EINVAL)
				break;
			check(ret == 0);
			uint16_t head = vr->avail->ring[pos & (num - 1)];
			check(head < num);
			check(vq->heads[head].token == &reqs[slot]);
			head_req[head] = (uint16_t)slot;
			reqs[slot] = (struct req){true, in_len, out, total - out, adds};
			adds++;
			break;
		}
		case 2: /* driver: kick */
			if (op & 0x80)
				virtqueue_kick_prepare(vq);
			else
				virtqueue_kick(vq);
			if (!vq->broken)
				published = adds;
			check(vq->broken || vr->avail->idx == (uint16_t)(start + adds));
			break;
		case 3: { /* driver: harvest */
			void *t;
			uint32_t len;
			while ((t = virtqueue_get_buf(vq, &len)) != NULL) {
				struct req *r = t;
				check(r >= reqs && r < reqs + MAX_REQ);
				check(r->inflight);
				check(r->pos < published);
				check(len <= r->in_len);
				r->inflight = false;
			}
			check(vq->num_free <= num);
			break;
		}
		case 4: { /* honest device: pop one chain, complete it */
			if ((uint16_t)(vr->avail->idx - dev_last_avail) == 0)
				break;
			uint16_t head = vr->avail->ring[dev_last_avail & (num - 1)];
			dev_last_avail++;
			if (head >= num || head_req[head] >= MAX_REQ)
				break;
			struct req *r = &reqs[head_req[head]];
			if (!scribbled && r->inflight)
				validate_chain(vq, head, r);
			uint32_t len = r->in_len ? take32(&in) % (r->in_len + 1) : 0;
			vr->used->ring[dev_used & (num - 1)].id = head;
			vr->used->ring[dev_used & (num - 1)].len = len;
			dev_used++;
			virtio_wmb(); /* used element before used->idx */
			vr->used->idx = dev_used;
			break;
		}
		case 5: /* hostile: raw used element at the device's position */
			vr->used->ring[take(&in) % num].id = take32(&in) % (op & 0x80 ? 0xffffffffu : 2 * num);
			vr->used->ring[take(&in) % num].len = take32(&in) % (op & 0x40 ? 0xffffffffu : 200);
			break;
		case 6: /* hostile: move used->idx */
			dev_used = (op & 0x80) ? (uint16_t)take32(&in) : (uint16_t)(dev_used + take(&in) % 4);
			vr->used->idx = dev_used;
			break;
		case 7: { /* hostile: scribble descriptors / event fields */
			unsigned what = take(&in) % 4;
			if (what == 0) {
				struct vring_desc *d = &vr->desc[take(&in) % num];
				d->addr = take32(&in);
				d->len = take32(&in);
				d->flags = (uint16_t)take(&in);
				d->next = (uint16_t)take32(&in);
				scribbled = true;
			} else if (what == 1) {
				vring_avail_event(vr) = (uint16_t)take32(&in);
			} else if (what == 2) {
				vr->used->flags = (uint16_t)take(&in);
			} else if (vq->indirect_slab) {
				vq->indirect_slab[take(&in) % (num * vq->indirect_max)].next =
					(uint16_t)take32(&in);
				scribbled = true;
			}
			break;
		}
		case 8: /* interrupt control */
			switch (take(&in) % 5) {
			case 0: virtqueue_disable_cb(vq); break;
			case 1: virtqueue_enable_cb(vq); break;
			case 2: virtqueue_enable_cb_delayed(vq); break;
			case 3: check(!virtqueue_poll(vq) || !vq->broken); break;
			default: virtqueue_interrupt(vq); break;
			}
			break;
		case 9: /* the device's avail-side suppression, honestly */
			vring_avail_event(vr) = dev_last_avail;
			break;
		}
		if (vq->broken) {
			check(vq->broken_reason[0] != '\0');
			check(virtqueue_add(vq, &(struct vq_sg){bufs[0], 1}, 1, 0, &reqs[0]) == -EIO);
			check(virtqueue_get_buf(vq, NULL) == NULL);
			check(!virtqueue_kick_prepare(vq));
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
