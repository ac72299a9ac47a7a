/* The virtio-net device layer over the virtio-pci model (see virtio_fake_net.h). */
#include <string.h>

#include "tests/host/virtio_fake_net.h"

#define BIT(n) (1ull << (n))

static bool negotiated(const struct vfn *n, unsigned bit)
{
	return (n->m->gfeat >> bit) & 1;
}

unsigned vfn_hdr_len(const struct vfn *n)
{
	return negotiated(n, VFN_F_VERSION_1) || negotiated(n, VFN_F_MRG_RXBUF) ? 12 : 10;
}

static bool legacy_strict_layout(const struct vfn *n)
{
	/* 5.1.6.6 legacy: without ANY_LAYOUT the header sits in a descriptor of its own. */
	return !negotiated(n, VFN_F_VERSION_1) && !negotiated(n, VFN_F_ANY_LAYOUT);
}

/* ---- receive ---- */

void vfn_rx_scan(struct vfn *n, unsigned *bufs, unsigned *descs, uint32_t *min_bytes)
{
	struct vfd_ring r;
	struct vfd_seg segs[VFN_MAX_SEGS];
	unsigned p = vfd_pending(n->m, VFN_RXQ, &r), total = 0;
	uint32_t min = UINT32_MAX;
	for (unsigned k = 0; k < p; k++) {
		unsigned nd;
		int ns = vfd_walk(n->m, &r, vfd_head_at(n->m, VFN_RXQ, &r, k), segs, VFN_MAX_SEGS, &nd);
		if (ns < 0)
			break;
		uint32_t w = 0;
		for (int s = 0; s < ns; s++)
			w += segs[s].write ? segs[s].len : 0;
		if (w < min)
			min = w;
		total += nd;
	}
	*bufs = p;
	*descs = total;
	*min_bytes = p ? min : 0;
}

/* Write len bytes into the writable segments of a chain; returns bytes that did not fit. */
static size_t fill(struct vfd_seg *segs, int ns, const uint8_t *src, size_t len)
{
	for (int s = 0; s < ns && len; s++) {
		if (!segs[s].write)
			continue;
		size_t c = len < segs[s].len ? len : segs[s].len;
		memcpy(segs[s].addr, src, c);
		src += c;
		len -= c;
	}
	return len;
}

int vfn_rx(struct vfn *n, const void *frame, size_t len, const struct vfn_rx_opts *o)
{
	static const struct vfn_rx_opts none = {.num_buffers = -1};
	struct vfd_ring r;
	struct vfd_seg segs[VFN_MAX_SEGS];
	uint8_t stream[12 + 65536];
	if (!o)
		o = &none;
	unsigned hl = vfn_hdr_len(n), k = o->spread ? o->spread : 1;
	if (len > sizeof(stream) - hl || vfd_pending(n->m, VFN_RXQ, &r) < k)
		return -1;
	uint16_t nb = o->num_buffers >= 0 ? (uint16_t)o->num_buffers
		      : negotiated(n, VFN_F_MRG_RXBUF) ? (uint16_t)k : 1;
	/* 5.1.6: flags, gso_type NONE, hdr_len, gso_size, csum_start, csum_offset (0), and
	 * num_buffers when the header has it. Little-endian (the host is, as legacy's guest). */
	memset(stream, 0, hl);
	stream[0] = o->flags;
	if (hl == 12)
		memcpy(stream + 10, &nb, 2);
	memcpy(stream + hl, frame, len);

	/* Split the frame into k pieces; the header goes with the first. */
	size_t piece = (len + k - 1) / k;
	uint16_t old_used = n->m->q[VFN_RXQ].used_idx;
	struct {
		uint16_t head;
		uint32_t len;
	} used[64];
	if (k > 64)
		return -1;
	for (unsigned b = 0; b < k; b++) {
		unsigned nd;
		uint16_t head = vfd_head_at(n->m, VFN_RXQ, &r, b);
		int ns = vfd_walk(n->m, &r, head, segs, VFN_MAX_SEGS, &nd);
		if (ns < 0)
			return -1;
		int first_w = -1;
		for (int s = 0; s < ns; s++) {
			if (!segs[s].write)
				vfd_violation(n->m, "net: device-readable descriptor in an RX buffer");
			else if (first_w < 0)
				first_w = s;
		}
		if (first_w < 0)
			return -1;
		n->rx_last_first_seg = segs[first_w].len;
		if (b == 0 && legacy_strict_layout(n) && segs[first_w].len != hl)
			vfd_violation(n->m,
				      "net: legacy without ANY_LAYOUT: RX header descriptor is %u "
				      "bytes, not %u",
				      segs[first_w].len, hl);
		/* Frame bytes [b * piece, (b + 1) * piece) go into buffer b, after the header in
		 * the first. */
		size_t fs = b * piece, fe = (b + 1) * piece;
		if (fs > len)
			fs = len;
		if (fe > len || b + 1 == k)
			fe = len;
		size_t start = b == 0 ? 0 : hl + fs, end = hl + fe;
		if (fill(segs, ns, stream + start, end - start))
			return -1; /* does not fit: nothing published */
		used[b].head = head;
		used[b].len = b == 0 && o->used_len ? o->used_len : (uint32_t)(end - start);
	}
	/* All buffers of the frame become visible together (one used->idx store). */
	for (unsigned b = 0; b < k; b++)
		vfd_push_used(n->m, VFN_RXQ, &r, used[b].head, used[b].len);
	vfd_used_flush(n->m, VFN_RXQ, old_used);
	n->rx_frames++;
	return (int)k;
}

/* ---- transmit ---- */

static void tx_one(struct vfn *n, const struct vfd_ring *r, uint16_t head)
{
	struct vfd_seg segs[VFN_MAX_SEGS];
	struct vfn_tx_frame *f = &n->tx[n->ntx % VFN_TX_KEEP];
	unsigned nd, hl = vfn_hdr_len(n);
	int ns = vfd_walk(n->m, r, head, segs, VFN_MAX_SEGS, &nd);
	memset(f, 0, sizeof(*f));
	f->hdr_len = hl;
	if (ns > 0 && legacy_strict_layout(n) && segs[0].len != hl)
		vfd_violation(n->m, "net: legacy without ANY_LAYOUT: TX header descriptor is %u bytes",
			      segs[0].len);
	size_t got = 0;
	for (int s = 0; s < ns; s++) {
		if (segs[s].write) {
			vfd_violation(n->m, "net: device-writable descriptor in a TX chain");
			continue;
		}
		f->seg_len[f->nsegs++] = segs[s].len;
		for (uint32_t i = 0; i < segs[s].len; i++, got++) {
			if (got < hl)
				f->hdr[got] = segs[s].addr[i];
			else if (got - hl < sizeof(f->data))
				f->data[got - hl] = segs[s].addr[i];
		}
	}
	f->len = got > hl ? got - hl : 0;
	n->ntx++;
	vfd_push_used(n->m, VFN_TXQ, r, head, n->tx_used_len);
}

unsigned vfn_tx_pending(struct vfn *n)
{
	struct vfd_ring r;
	return vfd_pending(n->m, VFN_TXQ, &r);
}

unsigned vfn_tx_complete(struct vfn *n, unsigned max)
{
	struct vfd_ring r;
	unsigned p = vfd_pending(n->m, VFN_TXQ, &r), done = 0;
	uint16_t old_used = n->m->q[VFN_TXQ].used_idx;
	for (; done < p && done < max; done++)
		tx_one(n, &r, vfd_head_at(n->m, VFN_TXQ, &r, 0));
	vfd_used_flush(n->m, VFN_TXQ, old_used);
	return done;
}

const struct vfn_tx_frame *vfn_tx_last(const struct vfn *n)
{
	return n->ntx ? &n->tx[(n->ntx - 1) % VFN_TX_KEEP] : NULL;
}

/* ---- control ---- */

static void ctrl_all(struct vfn *n)
{
	struct vfd_ring r;
	struct vfd_seg segs[VFN_MAX_SEGS];
	unsigned p = vfd_pending(n->m, VFN_CTRLQ, &r);
	uint16_t old_used = n->m->q[VFN_CTRLQ].used_idx;
	for (unsigned k = 0; k < p; k++) {
		unsigned nd;
		uint16_t head = vfd_head_at(n->m, VFN_CTRLQ, &r, 0);
		int ns = vfd_walk(n->m, &r, head, segs, VFN_MAX_SEGS, &nd);
		struct vfn_ctrl_cmd *c = &n->ctrl[n->nctrl % VFN_CTRL_KEEP];
		uint8_t buf[2 + sizeof(c->data)];
		size_t got = 0;
		uint8_t *ack = NULL;
		memset(c, 0, sizeof(*c));
		for (int s = 0; s < ns; s++) {
			if (segs[s].write) {
				c->in_len += segs[s].len;
				if (!ack && segs[s].len)
					ack = segs[s].addr;
				continue;
			}
			c->nsegs_out++;
			for (uint32_t i = 0; i < segs[s].len && got < sizeof(buf); i++)
				buf[got++] = segs[s].addr[i];
		}
		/* 5.1.6.5: u8 class, u8 command, command data (readable), u8 ack (writable). */
		if (got < 2 || c->in_len != 1 || !ack)
			vfd_violation(n->m, "net: control command layout: %zu readable bytes, %u "
					    "writable",
				      got, c->in_len);
		c->cls = got > 0 ? buf[0] : 0xff;
		c->cmd = got > 1 ? buf[1] : 0xff;
		c->len = got > 2 ? got - 2 : 0;
		memcpy(c->data, buf + 2, c->len);
		if (ack)
			*ack = n->ctrl_ack;
		n->nctrl++;
		vfd_push_used(n->m, VFN_CTRLQ, &r, head, ack ? 1 : 0);
	}
	vfd_used_flush(n->m, VFN_CTRLQ, old_used);
}

/* ---- the hook ---- */

static void hook(struct vfd *m, unsigned qi)
{
	struct vfn *n = m->hook_ctx;
	switch (qi) {
	case VFN_RXQ:
		break; /* buffers wait for frames (vfn_rx) */
	case VFN_TXQ:
		if (!n->tx_hold)
			vfn_tx_complete(n, ~0u);
		break;
	case VFN_CTRLQ:
		if (negotiated(n, VFN_F_CTRL_VQ))
			ctrl_all(n);
		else
			vfd_violation(m, "net: queue 2 used without CTRL_VQ");
		break;
	default:
		vfd_violation(m, "net: notify of queue %u", qi);
	}
}

void vfn_init(struct vfn *n, struct vfd *m, enum vfd_kind kind, uint64_t features,
	      const uint8_t mac[6], uint16_t status)
{
	memset(n, 0, sizeof(*n));
	vfd_init(m, kind, 1 /* VIRTIO_ID_NET */);
	n->m = m;
	m->features = features;
	m->num_queues = (features & BIT(VFN_F_CTRL_VQ)) ? 3 : 2;
	m->msix_entries = 4;
	memcpy(m->devcfg, mac, 6);
	memcpy(m->devcfg + 6, &status, 2);
	uint16_t pairs = 1, mtu = 1500;
	memcpy(m->devcfg + 8, &pairs, 2);
	memcpy(m->devcfg + 10, &mtu, 2);
	m->devcfg_len = 12;
	m->queue_hook = hook;
	m->hook_ctx = n;
}

void vfn_set_status(struct vfn *n, uint16_t status)
{
	memcpy(n->m->devcfg + 6, &status, 2);
	vfd_config_change(n->m);
}
