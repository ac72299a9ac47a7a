/* Register-level virtio-pci device model and platform hooks for the host tests (see .h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "drivers/pci/pci_regs.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/mmio/virtio_mmio.h"
#include "tests/host/virtio_fake_internal.h"

#define D_NEXT 1
#define D_WRITE 2
#define D_INDIRECT 4

static struct vfd *cur; /* the model behind the register functions */
static char log_buf[65536];
static size_t log_len;

/* ---------------------------------------------------------------------------------------- */
/* Records                                                                                   */

static void violation(struct vfd *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violation(struct vfd *m, const char *fmt, ...)
{
	size_t n = strlen(m->violations);
	va_list ap;

	m->nviolations++;
	if (n + 2 >= sizeof(m->violations))
		return;
	va_start(ap, fmt);
	vsnprintf(m->violations + n, sizeof(m->violations) - n - 1, fmt, ap);
	va_end(ap);
	strcat(m->violations, "\n");
}

void vfd_violation(struct vfd *m, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	violation(m, "%s", buf);
}

void vfd_trace(struct vfd *m, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(m->trace) - m->trace_len;

	if (m->trace_full || room < 64) {
		m->trace_full = true;
		return;
	}
	if (m->trace_len)
		m->trace[m->trace_len++] = ' ';
	va_start(ap, fmt);
	int n = vsnprintf(m->trace + m->trace_len, room - 1, fmt, ap);
	va_end(ap);
	if (n > 0)
		m->trace_len += (size_t)n;
}

void vfd_trace_clear(struct vfd *m)
{
	m->trace_len = 0;
	m->trace[0] = 0;
	m->trace_full = false;
}

bool vfd_has_violation(const struct vfd *m, const char *needle)
{
	return strstr(m->violations, needle) != NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* PCI side                                                                                  */

bool vfd_msix_enabled(const struct vfd *m)
{
	return m->msix_entries &&
	       (fake_get16(m->fn, VFD_CAP_MSIX + PCI_MSIX_CTRL) & PCI_MSIX_CTRL_ENABLE);
}

bool vfd_intx_disabled(const struct vfd *m)
{
	return fake_get16(m->fn, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
}

unsigned vfd_legacy_cfg_off(const struct vfd *m)
{
	return vfd_msix_enabled(m) ? 24 : 20;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void vfd_msix_entry(const struct vfd *m, unsigned n, uint64_t *addr, uint32_t *data,
		    uint32_t *ctrl)
{
	const uint8_t *e = m->bar1 + 16 * n;
	*addr = rd32(e) | (uint64_t)rd32(e + 4) << 32;
	*data = rd32(e + 8);
	*ctrl = rd32(e + 12);
}

void vfd_init(struct vfd *m, enum vfd_kind kind, uint16_t type)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->type = type;
	bool legacy = kind == VFD_LEGACY || kind == VFD_MMIO_LEGACY;
	m->features = F_INDIRECT | F_EVENT_IDX | (legacy ? 0 : F_VERSION_1);
	m->num_queues = 1;
	for (unsigned i = 0; i < VFD_MAX_Q; i++) {
		m->queue_max[i] = 64;
		m->notify_off[i] = (uint16_t)i;
	}
	m->notify_mult = 4;
	m->msix_entries = 2;
	m->irq_pin = 1;
	m->initial_status = 0x0f;
	m->reset_delay = 2;
	m->rng_state = 0x12345678;
	m->mmio_magic = 0x74726976; /* "virt" */
	m->mmio_version = kind == VFD_MMIO_LEGACY ? 1 : 2;
	m->mmio_device_id = type;
	m->mmio_line = VFD_MMIO_LINE;
}

static void put_cap(struct fake_fn *x, uint8_t at, uint8_t next, const struct vfd_cap *c)
{
	fake_cap(x, at, PCI_CAP_ID_VNDR, next);
	fake_set8(x, at + 2, c->cap_len);
	fake_set8(x, at + 3, c->cfg_type);
	fake_set8(x, at + 4, c->bar);
	fake_set32(x, at + 8, c->offset);
	fake_set32(x, at + 12, c->length);
	if (c->cap_len >= 20)
		fake_set32(x, at + 16, c->mult);
}

static void reset_state(struct vfd *m)
{
	m->dfsel = m->gfsel = 0;
	m->gfeat = 0;
	m->qsel = 0;
	m->config_vector = VFD_NO_VECTOR;
	m->isr = 0;
	m->failed = false;
	m->pending = 0;
	for (unsigned i = 0; i < VFD_MAX_Q; i++) {
		struct vfd_queue *q = &m->q[i];
		unsigned n = q->notifies, r = q->requests, irqs = q->irqs;
		memset(q, 0, sizeof(*q));
		q->notifies = n;
		q->requests = r;
		q->irqs = irqs;
		q->size = i < m->num_queues ? m->queue_max[i] : 0;
		q->vector = VFD_NO_VECTOR;
	}
	if (vfd_is_mmio(m))
		vfd_mmio_reset(m);
}

void vfd_build(struct vfd *m, struct fake_pci *f)
{
	struct fake_fn *x;
	bool legacy_ids = m->kind != VFD_MODERN;
	uint16_t id = legacy_ids ? (m->type == 4 ? 0x1005 : (uint16_t)(0x1000 + (m->type & 0x3f)))
				 : (uint16_t)(0x1040 + m->type);

	fake_reset(f, PCI_CFG_SIZE_PCIE);
	x = fake_add(f, 0, 0, 0, 0x8086, 0x29c0, 0x060000, PCI_HEADER_TYPE_NORMAL);
	fake_set16(x, PCI_COMMAND, 0);

	x = fake_add(f, VFD_BUS, VFD_DEV, 0, 0x1af4, id, 0x00ff00, PCI_HEADER_TYPE_NORMAL);
	fake_set8(x, PCI_REVISION_ID, m->kind == VFD_MODERN ? 1 : 0);
	fake_set16(x, PCI_SUBSYS_VENDOR, 0x1af4);
	fake_set16(x, PCI_SUBSYS_ID, m->type);
	m->pci = f;
	m->fn = x;
	if (m->kind != VFD_MODERN)
		fake_bar(x, 0, FAKE_IO32, 0x40, VFD_IO_BASE, false);
	if (m->msix_entries) {
		fake_bar(x, 1, FAKE_MEM32, VFD_BAR1_SIZE, VFD_BAR1_PHYS, false);
		m->bar1 = fake_mmio_region(f, VFD_BAR1_PHYS, VFD_BAR1_SIZE);
	}
	if (m->kind != VFD_LEGACY) {
		fake_bar(x, 4, FAKE_MEM64, VFD_BAR4_SIZE, VFD_BAR4_PHYS, true);
		m->bar4 = fake_mmio_region(f, VFD_BAR4_PHYS, VFD_BAR4_SIZE);
	}
	fake_irq(x, m->irq_pin, m->irq_pin ? VFD_IRQ_LINE : 0xff);

	/* Capability chain: extras, MSI-X, common, notify, isr, device, pci-cfg. */
	uint8_t chain[16];
	unsigned n = 0;
	for (unsigned i = 0; i < m->nextra; i++)
		chain[n++] = (uint8_t)(VFD_CAP_EXTRA0 + 0x18 * i);
	if (m->msix_entries)
		chain[n++] = VFD_CAP_MSIX;
	if (m->kind != VFD_LEGACY) {
		static const uint8_t at[] = {0, VFD_CAP_COMMON, VFD_CAP_NOTIFY, VFD_CAP_ISR,
					     VFD_CAP_DEVICE, VFD_CAP_PCICFG};
		for (unsigned t = 1; t <= 5; t++) {
			if (m->omit_caps & (1u << t))
				continue;
			if (t == 4 && !m->devcfg_len)
				continue;
			chain[n++] = at[t];
		}
	}
	if (n)
		fake_cap_start(x, chain[0]);
	for (unsigned i = 0; i < n; i++) {
		uint8_t at = chain[i], next = i + 1 < n ? chain[i + 1] : 0;
		struct vfd_cap c = {16, 0, 4, 0, 0, 0};
		if (at >= VFD_CAP_EXTRA0) {
			put_cap(x, at, next, &m->extra[(at - VFD_CAP_EXTRA0) / 0x18]);
			continue;
		}
		switch (at) {
		case VFD_CAP_MSIX:
			fake_msix_cap(x, at, next, m->msix_entries, 1, 0, 1, 0x800);
			continue;
		case VFD_CAP_COMMON:
			c.cfg_type = 1, c.offset = VFD_COMMON_OFF, c.length = 0x1000;
			break;
		case VFD_CAP_NOTIFY:
			c.cap_len = 20, c.cfg_type = 2, c.offset = VFD_NOTIFY_OFF, c.length = 0x1000;
			c.mult = m->notify_mult;
			break;
		case VFD_CAP_ISR:
			c.cfg_type = 3, c.offset = VFD_ISR_OFF, c.length = 0x1000;
			break;
		case VFD_CAP_DEVICE:
			c.cfg_type = 4, c.offset = VFD_DEVCFG_OFF, c.length = m->devcfg_len;
			break;
		case VFD_CAP_PCICFG:
			c.cap_len = 20, c.cfg_type = 5, c.bar = 0, c.offset = 0, c.length = 0;
			break;
		}
		put_cap(x, at, next, &c);
	}

	reset_state(m);
	m->status = m->old_status = m->initial_status;
	m->reset_complete = false;
	vfd_trace_clear(m);
	log_len = 0;
	log_buf[0] = 0;
	cur = m;
}

void vfd_build_mmio(struct vfd *m, struct virtio_mmio_window *w)
{
	static uint8_t window[VFD_MMIO_SIZE] __attribute__((aligned(4096)));
	m->mmio = window;
	m->mmio_ident = 0;
	vfd_nlines = 0; /* a new machine: earlier devices' handlers are not on its line */
	reset_state(m);
	m->status = m->old_status = m->initial_status;
	m->reset_complete = false;
	vfd_trace_clear(m);
	log_len = 0;
	log_buf[0] = 0;
	cur = m;
	*w = (struct virtio_mmio_window){.phys = VFD_MMIO_PHYS, .size = VFD_MMIO_SIZE,
					 .base = window, .irq = m->mmio_line,
					 .irq_level = m->mmio_level, .source = "test"};
}

/* ---------------------------------------------------------------------------------------- */
/* Interrupts                                                                                */

static void fire_msix(struct vfd *m, uint16_t entry)
{
	uint64_t addr;
	uint32_t data, ctrl;

	if (entry == VFD_NO_VECTOR)
		return; /* 4.1.5.1.2: no vector, no interrupt */
	if (entry >= m->msix_entries) {
		violation(m, "device routed to MSI-X entry %u of %u", entry, m->msix_entries);
		return;
	}
	vfd_msix_entry(m, entry, &addr, &data, &ctrl);
	uint16_t mc = fake_get16(m->fn, VFD_CAP_MSIX + PCI_MSIX_CTRL);
	if ((ctrl & 1) || (mc & PCI_MSIX_CTRL_MASKALL)) {
		m->masked_irqs++; /* would set the pending bit */
		return;
	}
	if (!(fake_get16(m->fn, PCI_COMMAND) & PCI_COMMAND_MASTER))
		violation(m, "MSI-X with bus mastering off");
	if (addr != (0xFEE00000u | (uint64_t)VFD_IRQ_CPU << 12))
		violation(m, "MSI-X entry %u address %#llx does not target cpu %u", entry,
			  (unsigned long long)addr, VFD_IRQ_CPU);
	uint8_t vec = (uint8_t)data;
	m->msix_irqs++;
	if (!vfd_irqs[vec].fn) {
		violation(m, "MSI-X entry %u fires vector %#x that has no handler", entry, vec);
		return;
	}
	vfd_irqs[vec].fired++;
	vfd_irqs[vec].fn(vfd_irqs[vec].ctx);
}

static void fire_intx(struct vfd *m)
{
	if (vfd_intx_disabled(m))
		return; /* the line stays quiet; ISR keeps the reason */
	m->intx_irqs++;
	/* Level-triggered and shared: every handler on the line is called. */
	for (size_t i = 0; i < m->pci->nintx; i++)
		if (m->pci->intx[i].line == VFD_IRQ_LINE)
			m->pci->intx[i].handler(m->pci->intx[i].arg);
}

void vfd_deliver(struct vfd *m)
{
	uint32_t p = m->pending;

	if (vfd_is_mmio(m)) {
		vfd_mmio_deliver(m);
		return;
	}
	m->pending = 0;
	if (!p || !(m->status & ST_DRIVER_OK))
		return;
	if (vfd_msix_enabled(m)) {
		if (p & 0x80000000u)
			fire_msix(m, m->config_vector);
		for (unsigned i = 0; i < VFD_MAX_Q; i++)
			if (p & (1u << i))
				fire_msix(m, m->q[i].vector);
	} else {
		m->isr |= (p & 0xffu) ? 1 : 0;
		fire_intx(m);
	}
}

void vfd_config_change(struct vfd *m)
{
	m->generation++;
	if (vfd_is_mmio(m)) {
		vfd_mmio_raise(m, 2);
		return;
	}
	m->isr |= 2; /* 4.1.4.5: set before every config notification, MSI-X or not */
	m->pending |= 0x80000000u;
}

/* ---------------------------------------------------------------------------------------- */
/* The device side of the split ring (2.7), read from guest memory by the spec's layout.     */

struct ring_addrs {
	uint8_t *desc, *avail, *used;
};

static bool ring_of(struct vfd *m, unsigned qi, struct ring_addrs *r, uint16_t *num)
{
	struct vfd_queue *q = &m->q[qi];
	if (m->kind == VFD_MMIO_LEGACY) {
		if (!q->pfn)
			return false;
		/* 4.2.4: the ring at QueuePFN * GuestPageSize, QueueNum entries, the used ring at
		 * the next QueueAlign boundary after the available ring. */
		*num = q->size;
		uintptr_t base = (uintptr_t)q->pfn * m->guest_page_size;
		uintptr_t align = q->align ? q->align : 1;
		r->desc = (uint8_t *)base;
		r->avail = r->desc + 16u * *num;
		uintptr_t end = (uintptr_t)r->avail + 6 + 2u * *num;
		r->used = (uint8_t *)((end + align - 1) / align * align);
		return true;
	}
	if (m->kind == VFD_LEGACY || (m->kind == VFD_TRANSITIONAL && q->pfn)) {
		if (!q->pfn)
			return false;
		*num = m->queue_max[qi];
		uintptr_t base = (uintptr_t)q->pfn << 12;
		/* 2.7.2 legacy: desc, avail (flags, idx, ring, used_event), pad to 4096, used. */
		r->desc = (uint8_t *)base;
		r->avail = r->desc + 16u * *num;
		uintptr_t end = (uintptr_t)r->avail + 6 + 2u * *num;
		r->used = (uint8_t *)((end + 4095) & ~(uintptr_t)4095);
		return true;
	}
	if (!q->enable)
		return false;
	*num = q->size;
	r->desc = (uint8_t *)(uintptr_t)q->desc;
	r->avail = (uint8_t *)(uintptr_t)q->driver;
	r->used = (uint8_t *)(uintptr_t)q->device;
	return true;
}

static uint16_t ld16(const uint8_t *p)
{
	return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static void st16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

static uint8_t next_byte(struct vfd *m)
{
	/* xorshift32: a deterministic "entropy" stream the tests can compare against. */
	uint32_t x = m->rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	m->rng_state = x;
	uint8_t b = (uint8_t)(x >> 7);
	if (m->nproduced < sizeof(m->produced))
		m->produced[m->nproduced++] = b;
	return b;
}

struct rdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static struct rdesc desc_at(const uint8_t *table, unsigned i)
{
	struct rdesc d;
	memcpy(&d.addr, table + 16 * i, 8);
	memcpy(&d.len, table + 16 * i + 8, 4);
	memcpy(&d.flags, table + 16 * i + 12, 2);
	memcpy(&d.next, table + 16 * i + 14, 2);
	return d;
}

/* Walk one chain (head in the ring table), filling writable buffers. Returns bytes written,
 * or -1 after recording a violation. */
static long serve_chain(struct vfd *m, const uint8_t *dtab, uint16_t num, uint16_t head)
{
	const uint8_t *tab = dtab;
	unsigned tab_n = num, i = head, steps = 0;
	bool in_indirect = false, seen_write = false;
	uint32_t budget = m->fill_none ? 0 : m->max_fill ? m->max_fill : UINT32_MAX;
	long written = 0;

	for (;;) {
		if (i >= tab_n || ++steps > tab_n) {
			violation(m, "chain from head %u: index %u out of range or loop", head, i);
			return -1;
		}
		struct rdesc d = desc_at(tab, i);
		if (d.flags & D_INDIRECT) {
			if (!(m->gfeat & F_INDIRECT))
				violation(m, "INDIRECT descriptor without INDIRECT_DESC negotiated");
			if (in_indirect)
				violation(m, "INDIRECT inside an indirect table");
			if (d.flags & D_NEXT)
				violation(m, "INDIRECT together with NEXT");
			if (d.len == 0 || d.len % 16) {
				violation(m, "indirect table length %u", d.len);
				return -1;
			}
			tab = (const uint8_t *)(uintptr_t)d.addr;
			tab_n = d.len / 16;
			i = 0;
			steps = 0;
			in_indirect = true;
			continue;
		}
		if (d.flags & D_WRITE) {
			seen_write = true;
			uint8_t *p = (uint8_t *)(uintptr_t)d.addr;
			for (uint32_t k = 0; k < d.len && budget; k++, budget--) {
				p[k] = next_byte(m);
				written++;
			}
		} else if (seen_write) {
			violation(m, "device-readable descriptor after a writable one");
		}
		if (!(d.flags & D_NEXT))
			return written;
		i = d.next;
	}
}

void vfd_process(struct vfd *m, unsigned qi)
{
	struct ring_addrs r;
	uint16_t num;

	if (qi < VFD_MAX_Q && m->queue_hook) {
		m->queue_hook(m, qi);
		return;
	}
	if (qi >= VFD_MAX_Q || !ring_of(m, qi, &r, &num))
		return;
	struct vfd_queue *q = &m->q[qi];
	uint16_t avail_idx = ld16(r.avail + 2);
	uint16_t old_used = q->used_idx;
	if ((uint16_t)(avail_idx - q->last_avail) > num) {
		violation(m, "queue %u: avail idx %u runs %u ahead", qi, avail_idx,
			  (uint16_t)(avail_idx - q->last_avail));
		return;
	}
	while (q->last_avail != avail_idx) {
		uint16_t head = ld16(r.avail + 4 + 2 * (q->last_avail % num));
		long len = serve_chain(m, r.desc, num, head);
		if (len < 0)
			return;
		uint8_t *e = r.used + 4 + 8 * (q->used_idx % num);
		uint32_t id = head, l = (uint32_t)len;
		memcpy(e, &id, 4);
		memcpy(e + 4, &l, 4);
		q->used_idx++;
		st16(r.used + 2, q->used_idx);
		q->last_avail++;
		q->requests++;
	}
	vfd_used_flush(m, qi, old_used);
}

bool vfd_ring(struct vfd *m, unsigned qi, struct vfd_ring *out)
{
	struct ring_addrs r;
	uint16_t num;
	if (qi >= VFD_MAX_Q || !ring_of(m, qi, &r, &num))
		return false;
	*out = (struct vfd_ring){r.desc, r.avail, r.used, num};
	return true;
}

#define VFD_D_NEXT 1
#define VFD_D_WRITE 2
#define VFD_D_INDIRECT 4
#define VFD_F_INDIRECT 28

unsigned vfd_pending(struct vfd *m, unsigned qi, struct vfd_ring *r)
{
	if (!vfd_ring(m, qi, r))
		return 0;
	uint16_t ahead = (uint16_t)(__atomic_load_n((const uint16_t *)(r->avail + 2),
						     __ATOMIC_ACQUIRE) - m->q[qi].last_avail);
	if (ahead > r->num) {
		vfd_violation(m, "queue %u avail idx runs %u ahead", qi, ahead);
		return 0;
	}
	return ahead;
}

uint16_t vfd_head_at(const struct vfd *m, unsigned qi, const struct vfd_ring *r, unsigned k)
{
	uint16_t slot = (uint16_t)(m->q[qi].last_avail + k) % r->num;
	return __atomic_load_n((const uint16_t *)(r->avail + 4 + 2 * slot), __ATOMIC_ACQUIRE);
}

int vfd_walk(struct vfd *m, const struct vfd_ring *r, uint16_t head, struct vfd_seg *segs,
	     unsigned max, unsigned *ring_descs)
{
	const uint8_t *tab = r->desc;
	unsigned tab_n = r->num, i = head, steps = 0, k = 0;
	bool in_indirect = false, seen_write = false;

	*ring_descs = 0;
	for (;;) {
		if (i >= tab_n || ++steps > tab_n) {
			vfd_violation(m, "chain from head %u: index %u out of range or loop", head, i);
			return -1;
		}
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
		memcpy(&addr, tab + 16 * i, 8);
		memcpy(&len, tab + 16 * i + 8, 4);
		memcpy(&flags, tab + 16 * i + 12, 2);
		memcpy(&next, tab + 16 * i + 14, 2);
		if (!in_indirect)
			(*ring_descs)++;
		if (flags & VFD_D_INDIRECT) {
			if (in_indirect || (flags & VFD_D_NEXT) || len == 0 || len % 16 ||
			    !((m->gfeat >> VFD_F_INDIRECT) & 1)) {
				vfd_violation(m, "bad indirect descriptor (flags %#x len %u)", flags, len);
				return -1;
			}
			tab = (const uint8_t *)(uintptr_t)addr;
			tab_n = len / 16;
			i = 0;
			steps = 0;
			in_indirect = true;
			continue;
		}
		if (flags & VFD_D_WRITE)
			seen_write = true;
		else if (seen_write)
			vfd_violation(m, "readable descriptor after a writable one");
		if (k == max) {
			vfd_violation(m, "chain longer than %u segments", max);
			return -1;
		}
		segs[k++] = (struct vfd_seg){(uint8_t *)(uintptr_t)addr, len, (flags & VFD_D_WRITE) != 0};
		if (!(flags & VFD_D_NEXT))
			return (int)k;
		i = next;
	}
}

void vfd_push_used(struct vfd *m, unsigned qi, const struct vfd_ring *r, uint16_t head,
		   uint32_t len)
{
	struct vfd_queue *q = &m->q[qi];
	uint8_t *e = r->used + 4 + 8 * (q->used_idx % r->num);
	uint32_t id = head;
	memcpy(e, &id, 4);
	memcpy(e + 4, &len, 4);
	q->used_idx++;
	q->last_avail++;
	q->requests++;
}

void vfd_used_flush(struct vfd *m, unsigned qi, uint16_t old_used)
{
	struct ring_addrs r;
	uint16_t num;
	if (qi >= VFD_MAX_Q || !ring_of(m, qi, &r, &num))
		return;
	struct vfd_queue *q = &m->q[qi];
	st16(r.used + 2, q->used_idx);
	bool event_idx = m->gfeat & F_EVENT_IDX;
	if (event_idx)
		st16(r.used + 4 + 8 * num, q->last_avail); /* avail_event */
	if (q->used_idx == old_used)
		return;
	bool need;
	if (event_idx) {
		uint16_t ev = ld16(r.avail + 4 + 2 * num); /* used_event */
		need = (uint16_t)(q->used_idx - ev - 1) < (uint16_t)(q->used_idx - old_used);
	} else {
		need = !(ld16(r.avail) & 1); /* VRING_AVAIL_F_NO_INTERRUPT */
	}
	if (need) {
		q->irqs++;
		if (vfd_is_mmio(m))
			vfd_mmio_raise(m, 1);
		else
			m->pending |= 1u << qi;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Status and features (shared by both interfaces)                                           */

uint8_t vfd_status_read(struct vfd *m)
{
	if (m->reset_never)
		return m->old_status;
	if (m->reset_reads_left) {
		m->reset_reads_left--;
		return m->old_status;
	}
	if (m->status == 0) {
		m->reset_complete = true;
		memset(m->live_desc, 0, sizeof(m->live_desc)); /* the device let go of its rings */
	}
	return m->status;
}

void vfd_queue_live(struct vfd *m, unsigned qi)
{
	struct vfd_ring r;
	if (qi < VFD_MAX_Q && vfd_ring(m, qi, &r))
		m->live_desc[qi] = r.desc;
}

void vfd_status_write(struct vfd *m, uint8_t v, bool legacy)
{
	m->status_writes++;
	if (v == 0) {
		m->old_status = m->status ? m->status : m->old_status;
		m->status = 0;
		m->reset_reads_left = m->reset_delay;
		m->reset_complete = false;
		reset_state(m);
		return;
	}
	if (!m->reset_complete) {
		if (v & ST_FAILED) { /* giving up on a device that never reset is fine */
			m->old_status |= ST_FAILED;
			m->failed = true;
			return;
		}
		violation(m, "status %#x written before the reset completed", v);
	}
	uint8_t cleared = m->status & (uint8_t)~v, set = v & (uint8_t)~m->status;
	if (cleared)
		violation(m, "status write %#x clears bits %#x", v, cleared);
	if ((set & ST_DRIVER) && !(v & ST_ACK))
		violation(m, "DRIVER before ACKNOWLEDGE");
	if (set & ST_FEATURES_OK) {
		if (legacy)
			violation(m, "FEATURES_OK through the legacy interface");
		if (!(v & ST_DRIVER))
			violation(m, "FEATURES_OK before DRIVER");
		if (m->gfeat & ~m->features)
			violation(m, "accepted features %#llx that were not offered",
				  (unsigned long long)(m->gfeat & ~m->features));
		if (m->refuse_features_ok)
			v &= (uint8_t)~ST_FEATURES_OK;
	}
	if (set & ST_DRIVER_OK) {
		m->driver_ok_writes++;
		if (!legacy && !(v & ST_FEATURES_OK))
			violation(m, "DRIVER_OK without FEATURES_OK");
		if (!(v & ST_DRIVER))
			violation(m, "DRIVER_OK without DRIVER");
		if (legacy && (m->gfeat & ~m->features))
			violation(m, "accepted features %#llx that were not offered",
				  (unsigned long long)(m->gfeat & ~m->features));
	}
	if (set & ST_FAILED)
		m->failed = true;
	m->status = v;
}

/* Rules for every access other than device_status. */
void vfd_check_live(struct vfd *m, const char *what)
{
	if (!m->reset_complete)
		violation(m, "%s accessed before the reset completed", what);
	if (m->failed)
		violation(m, "%s accessed after FAILED", what);
}

void vfd_features_write(struct vfd *m, uint32_t sel, uint32_t v, bool legacy)
{
	if (!(m->status & ST_DRIVER))
		violation(m, "features written before DRIVER");
	if (m->status & ST_FEATURES_OK)
		violation(m, "features written after FEATURES_OK");
	if (m->status & ST_DRIVER_OK)
		violation(m, "features written after DRIVER_OK");
	if (sel > 1) {
		if (v)
			violation(m, "feature bits %#x written in window %u", v, sel);
		return;
	}
	(void)legacy; /* one feature word on legacy, the select window on modern: same state */
	uint64_t mask = 0xffffffffull << (32 * sel);
	m->gfeat = (m->gfeat & ~mask) | ((uint64_t)v << (32 * sel));
}

static bool refused(const struct vfd *m, uint16_t entry)
{
	if (entry == VFD_NO_VECTOR)
		return false;
	return m->refuse_all_vectors || entry >= m->msix_entries ||
	       (entry < 32 && (m->refuse_vectors & (1u << entry)));
}

/* ---------------------------------------------------------------------------------------- */
/* Modern common configuration (4.1.4.3)                                                     */

enum cf {
	CF_DFSEL, CF_DF, CF_GFSEL, CF_GF, CF_CFGVEC, CF_NQ, CF_STATUS, CF_GEN, CF_QSEL, CF_QSIZE,
	CF_QVEC, CF_QEN, CF_NOFF, CF_DESC_LO, CF_DESC_HI, CF_DRV_LO, CF_DRV_HI, CF_DEV_LO,
	CF_DEV_HI, CF_N
};
static const struct {
	uint8_t off, width;
	bool ro;
	const char *name;
} cfields[CF_N] = {
	{0, 4, false, "dfsel"},  {4, 4, true, "df"},      {8, 4, false, "gfsel"},
	{12, 4, false, "gf"},    {16, 2, false, "cfgvec"}, {18, 2, true, "nq"},
	{20, 1, false, "status"}, {21, 1, true, "gen"},    {22, 2, false, "qsel"},
	{24, 2, false, "qsize"}, {26, 2, false, "qvec"},   {28, 2, false, "qen"},
	{30, 2, true, "noff"},   {32, 4, false, "desc_lo"}, {36, 4, false, "desc_hi"},
	{40, 4, false, "drv_lo"}, {44, 4, false, "drv_hi"}, {48, 4, false, "dev_lo"},
	{52, 4, false, "dev_hi"},
};

static int field_at(struct vfd *m, uint32_t off, int width)
{
	for (int i = 0; i < CF_N; i++) {
		if (cfields[i].off != off)
			continue;
		if (cfields[i].width != width) {
			violation(m, "common.%s accessed with width %d (is %d)", cfields[i].name,
				  width, cfields[i].width);
			return -1;
		}
		return i;
	}
	violation(m, "common config offset %#x width %d is not a field", off, width);
	return -1;
}

static struct vfd_queue *selq(struct vfd *m)
{
	return m->qsel < VFD_MAX_Q && m->qsel < m->num_queues ? &m->q[m->qsel] : NULL;
}

static uint32_t common_read(struct vfd *m, uint32_t off, int width)
{
	int f = field_at(m, off, width);
	struct vfd_queue *q = selq(m);
	uint32_t v = 0;

	if (f < 0)
		return 0;
	if (f == CF_STATUS) {
		v = vfd_status_read(m);
		vfd_trace(m, "status?%x", v);
		return v;
	}
	vfd_check_live(m, cfields[f].name);
	switch (f) {
	case CF_DFSEL: v = m->dfsel; break;
	case CF_DF:
		if (!(m->status & ST_DRIVER))
			violation(m, "device_feature read before DRIVER");
		v = m->dfsel < 2 ? (uint32_t)(m->features >> (32 * m->dfsel)) : 0;
		break;
	case CF_GFSEL: v = m->gfsel; break;
	case CF_GF: v = m->gfsel < 2 ? (uint32_t)(m->gfeat >> (32 * m->gfsel)) : 0; break;
	case CF_CFGVEC: v = m->config_vector; break;
	case CF_NQ: v = m->num_queues; break;
	case CF_GEN: v = m->generation; m->gen_reads++; break;
	case CF_QSEL: v = m->qsel; break;
	case CF_QSIZE: v = q ? q->size : 0; break;
	case CF_QVEC: v = q ? q->vector : VFD_NO_VECTOR; break;
	case CF_QEN: v = q ? q->enable : 0; break;
	case CF_NOFF: v = q ? m->notify_off[m->qsel] : 0; break;
	case CF_DESC_LO: v = q ? (uint32_t)q->desc : 0; break;
	case CF_DESC_HI: v = q ? (uint32_t)(q->desc >> 32) : 0; break;
	case CF_DRV_LO: v = q ? (uint32_t)q->driver : 0; break;
	case CF_DRV_HI: v = q ? (uint32_t)(q->driver >> 32) : 0; break;
	case CF_DEV_LO: v = q ? (uint32_t)q->device : 0; break;
	case CF_DEV_HI: v = q ? (uint32_t)(q->device >> 32) : 0; break;
	}
	if (f != CF_GEN)
		vfd_trace(m, "%s?%x", cfields[f].name, v);
	return v;
}

void vfd_set_half(uint64_t *a, bool hi, uint32_t v)
{
	*a = hi ? (*a & 0xffffffffull) | (uint64_t)v << 32 : (*a & ~0xffffffffull) | v;
}

static void queue_setup_check(struct vfd *m, struct vfd_queue *q, const char *what)
{
	if (!q) {
		violation(m, "%s written for queue %u that does not exist", what, m->qsel);
		return;
	}
	if (!(m->status & ST_FEATURES_OK))
		violation(m, "%s written before FEATURES_OK", what);
	if (m->status & ST_DRIVER_OK)
		violation(m, "%s written after DRIVER_OK", what);
	if (q->enable)
		violation(m, "%s written for queue %u that is already enabled", what, m->qsel);
}

static void common_write(struct vfd *m, uint32_t off, int width, uint32_t v)
{
	int f = field_at(m, off, width);
	struct vfd_queue *q = selq(m);

	if (f < 0)
		return;
	if (f >= CF_DESC_LO)
		vfd_trace(m, "%s=*", cfields[f].name);
	else
		vfd_trace(m, "%s=%x", cfields[f].name, v);
	if (f == CF_STATUS) {
		vfd_status_write(m, (uint8_t)v, false);
		return;
	}
	vfd_check_live(m, cfields[f].name);
	if (cfields[f].ro) {
		violation(m, "read-only common.%s written", cfields[f].name);
		return;
	}
	switch (f) {
	case CF_DFSEL: m->dfsel = v; break;
	case CF_GFSEL: m->gfsel = v; break;
	case CF_GF: vfd_features_write(m, m->gfsel, v, false); break;
	case CF_CFGVEC: m->config_vector = refused(m, (uint16_t)v) ? VFD_NO_VECTOR : (uint16_t)v; break;
	case CF_QSEL: m->qsel = (uint16_t)v; break;
	case CF_QSIZE:
		queue_setup_check(m, q, "queue_size");
		if (q && (v == 0 || (v & (v - 1)) || v > m->queue_max[m->qsel]))
			violation(m, "queue_size %u for a queue of at most %u", v,
				  m->queue_max[m->qsel]);
		if (q)
			q->size = (uint16_t)v;
		break;
	case CF_QVEC:
		if (!q) {
			violation(m, "queue_msix_vector for a missing queue %u", m->qsel);
			break;
		}
		q->vector = refused(m, (uint16_t)v) ? VFD_NO_VECTOR : (uint16_t)v;
		break;
	case CF_QEN:
		if (v != 1) {
			violation(m, "queue_enable = %u written (only 1 may be)", v);
			break;
		}
		queue_setup_check(m, q, "queue_enable");
		if (!q)
			break;
		if (q->written != 0x3f)
			violation(m, "queue %u enabled before its addresses were set (%#x)", m->qsel,
				  q->written);
		if ((q->desc & 15) || (q->driver & 1) || (q->device & 3))
			violation(m, "queue %u: misaligned ring parts", m->qsel);
		q->enable = 1;
		vfd_queue_live(m, m->qsel);
		break;
	default: /* the six address halves */
		queue_setup_check(m, q, cfields[f].name);
		if (!q)
			break;
		q->written |= 1u << (f - CF_DESC_LO);
		{
			bool hi = (f - CF_DESC_LO) & 1;
			uint64_t *a = f <= CF_DESC_HI ? &q->desc : f <= CF_DRV_HI ? &q->driver : &q->device;
			vfd_set_half(a, hi, v);
		}
		break;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* The other modern windows                                                                  */

static uint8_t isr_read(struct vfd *m)
{
	uint8_t v = m->isr;
	m->isr = 0; /* 4.1.4.5: read-to-clear */
	m->isr_reads++;
	vfd_trace(m, "isr?%x", v);
	return v;
}

uint32_t vfd_devcfg_read(struct vfd *m, uint32_t off, int width, uint32_t len)
{
	vfd_check_live(m, "device config");
	if (off % (uint32_t)width)
		violation(m, "device config read at %#x width %d is misaligned", off, width);
	if (off + (uint32_t)width > len) {
		violation(m, "device config read at %#x+%d past its %u bytes", off, width, len);
		return 0;
	}
	m->devcfg_reads++;
	if (m->gen_bumps) {
		/* The device updates its config while the driver reads it. */
		m->gen_bumps--;
		m->generation++;
		for (uint32_t i = 0; i < sizeof(m->devcfg); i++)
			m->devcfg[i] ^= 0x5a;
	}
	uint32_t v = 0;
	memcpy(&v, m->devcfg + off, (size_t)width);
	vfd_trace(m, "cfg%u?", off);
	return v;
}

static void notify_write(struct vfd *m, uint32_t off, int width, uint32_t v)
{
	vfd_check_live(m, "notify");
	vfd_trace(m, "notify@%x=%x", off, v);
	if (m->nnotify < 64)
		m->notify_offsets[m->nnotify++] = off;
	if (width != 2)
		violation(m, "notify write of width %d", width);
	if (!(m->status & ST_DRIVER_OK))
		violation(m, "notify before DRIVER_OK");
	if (v >= m->num_queues || v >= VFD_MAX_Q) {
		violation(m, "notify of queue %u that does not exist", v);
		return;
	}
	if (off != (uint32_t)m->notify_off[v] * m->notify_mult)
		violation(m, "queue %u notified at +%#x, expected +%#x", v, off,
			  m->notify_off[v] * m->notify_mult);
	if (!m->q[v].enable)
		violation(m, "notify of queue %u that is not enabled", v);
	m->q[v].notifies++;
	vfd_process(m, v);
}

static uint32_t bad_read(struct vfd *m, const char *what, uintptr_t at, int width)
{
	violation(m, "read of %d bytes at %s %#lx", width, what, (unsigned long)at);
	return 0xffffffffu;
}

static uint32_t io_mmio_read(const volatile void *addr, int width)
{
	struct vfd *m = cur;
	const uint8_t *p = (const uint8_t *)addr;

	m->accesses++;
	if (width != 1 && width != 2 && width != 4)
		violation(m, "MMIO read width %d", width);
	if (m->mmio && p >= m->mmio && p < m->mmio + VFD_MMIO_SIZE)
		return vfd_mmio_read(m, (uint32_t)(p - m->mmio), width);
	if (!m->bar4 || p < m->bar4 || p >= m->bar4 + VFD_BAR4_SIZE)
		return bad_read(m, "an address outside BAR4", (uintptr_t)p, width);
	uint32_t off = (uint32_t)(p - m->bar4);
	if (off % (uint32_t)width)
		violation(m, "misaligned MMIO read at BAR4+%#x width %d", off, width);
	if (off < VFD_ISR_OFF)
		return common_read(m, off, width);
	if (off < VFD_DEVCFG_OFF) {
		vfd_check_live(m, "isr");
		if (off != VFD_ISR_OFF || width != 1)
			return bad_read(m, "ISR window offset", off, width);
		return isr_read(m);
	}
	if (off < VFD_NOTIFY_OFF)
		return vfd_devcfg_read(m, off - VFD_DEVCFG_OFF, width, m->devcfg_len);
	return bad_read(m, "notify window offset", off - VFD_NOTIFY_OFF, width);
}

static void io_mmio_write(volatile void *addr, int width, uint32_t v)
{
	struct vfd *m = cur;
	uint8_t *p = (uint8_t *)addr;

	m->accesses++;
	if (m->mmio && p >= m->mmio && p < m->mmio + VFD_MMIO_SIZE) {
		vfd_mmio_write(m, (uint32_t)(p - m->mmio), width, v);
		return;
	}
	if (!m->bar4 || p < m->bar4 || p >= m->bar4 + VFD_BAR4_SIZE) {
		violation(m, "MMIO write outside BAR4 at %p", (void *)p);
		return;
	}
	uint32_t off = (uint32_t)(p - m->bar4);
	if (off % (uint32_t)width)
		violation(m, "misaligned MMIO write at BAR4+%#x width %d", off, width);
	if (off < VFD_ISR_OFF)
		common_write(m, off, width, v);
	else if (off >= VFD_NOTIFY_OFF)
		notify_write(m, off - VFD_NOTIFY_OFF, width, v);
	else
		violation(m, "write to read-only BAR4+%#x (ISR / device config)", off);
}

/* ---------------------------------------------------------------------------------------- */
/* Legacy I/O BAR (4.1.4.10)                                                                 */

static const struct {
	uint8_t off, width;
	bool ro, wo;
	const char *name;
} lfields[] = {
	{0, 4, true, false, "L.hf"},     {4, 4, false, false, "L.gf"},
	{8, 4, false, false, "L.pfn"},   {12, 2, true, false, "L.qnum"},
	{14, 2, false, false, "L.qsel"}, {16, 2, false, true, "L.notify"},
	{18, 1, false, false, "L.status"}, {19, 1, true, false, "L.isr"},
	{20, 2, false, false, "L.cfgvec"}, {22, 2, false, false, "L.qvec"},
};

static int lfield(struct vfd *m, uint32_t off, int width, bool write)
{
	unsigned n = vfd_msix_enabled(m) ? 10 : 8;
	for (unsigned i = 0; i < n; i++) {
		if (lfields[i].off != off)
			continue;
		if (lfields[i].width != width) {
			violation(m, "%s accessed with width %d", lfields[i].name, width);
			return -1;
		}
		if (write && lfields[i].ro) {
			violation(m, "read-only %s written", lfields[i].name);
			return -1;
		}
		if (!write && lfields[i].wo) {
			violation(m, "write-only %s read", lfields[i].name);
			return -1;
		}
		return (int)i;
	}
	return -2; /* device config, or nothing */
}

static bool legacy_port(struct vfd *m, uint16_t port, int width, uint32_t *off)
{
	m->accesses++;
	if (m->kind == VFD_MODERN || port < VFD_IO_BASE || port + width > VFD_IO_BASE + 0x40) {
		violation(m, "port access %#x width %d outside the I/O BAR", port, width);
		return false;
	}
	if (!(fake_get16(m->fn, PCI_COMMAND) & PCI_COMMAND_IO))
		violation(m, "port access with I/O decode off");
	*off = port - VFD_IO_BASE;
	return true;
}

static uint32_t io_pio_read(uint16_t port, int width)
{
	struct vfd *m = cur;
	uint32_t off, v = 0;
	struct vfd_queue *q = selq(m);

	if (!legacy_port(m, port, width, &off))
		return 0xffffffffu;
	int f = lfield(m, off, width, false);
	if (f == -1)
		return 0;
	if (f == 6) {
		v = vfd_status_read(m);
		vfd_trace(m, "L.status?%x", v);
		return v;
	}
	vfd_check_live(m, f >= 0 ? lfields[f].name : "L.config");
	switch (f) {
	case 0:
		if (!(m->status & ST_DRIVER))
			violation(m, "host_features read before DRIVER");
		v = (uint32_t)m->features;
		break;
	case 1: v = (uint32_t)m->gfeat; break;
	case 2: v = q ? q->pfn : 0; break;
	case 3: v = q ? m->queue_max[m->qsel] : 0; break;
	case 4: v = m->qsel; break;
	case 7: v = isr_read(m); return v;
	case 8: v = m->config_vector; break;
	case 9: v = q ? q->vector : VFD_NO_VECTOR; break;
	default: {
		unsigned base = vfd_legacy_cfg_off(m);
		if (off < base)
			return bad_read(m, "legacy offset", off, width);
		vfd_trace(m, "L.cfg%u?", off - base);
		if (off - base + (uint32_t)width > m->devcfg_len) {
			violation(m, "legacy config read at %u past its %u bytes", off - base,
				  m->devcfg_len);
			return 0;
		}
		m->devcfg_reads++;
		memcpy(&v, m->devcfg + (off - base), (size_t)width);
		return v;
	}
	}
	vfd_trace(m, "%s?%x", lfields[f].name, v);
	return v;
}

static void io_pio_write(uint16_t port, int width, uint32_t v)
{
	struct vfd *m = cur;
	uint32_t off;
	struct vfd_queue *q = selq(m);

	if (!legacy_port(m, port, width, &off))
		return;
	int f = lfield(m, off, width, true);
	if (f == -1)
		return;
	if (f == -2) {
		violation(m, "write to legacy offset %u (device config / nothing)", off);
		return;
	}
	vfd_trace(m, "%s=%x", lfields[f].name, f == 2 && v ? 1 : v);
	if (f == 6) {
		vfd_status_write(m, (uint8_t)v, true);
		return;
	}
	vfd_check_live(m, lfields[f].name);
	switch (f) {
	case 1: vfd_features_write(m, 0, v, true); break;
	case 2:
		if (!q) {
			violation(m, "queue_pfn for a missing queue %u", m->qsel);
			break;
		}
		if (!(m->status & ST_DRIVER) || (m->status & ST_DRIVER_OK))
			violation(m, "queue_pfn written outside DRIVER..DRIVER_OK");
		q->pfn = v;
		vfd_queue_live(m, m->qsel);
		break;
	case 4: m->qsel = (uint16_t)v; break;
	case 5:
		if (!(m->status & ST_DRIVER_OK))
			violation(m, "notify before DRIVER_OK");
		if (v >= m->num_queues || !m->q[v].pfn) {
			violation(m, "notify of queue %u that is not set up", v);
			break;
		}
		m->q[v].notifies++;
		vfd_process(m, v);
		break;
	case 8: m->config_vector = refused(m, (uint16_t)v) ? VFD_NO_VECTOR : (uint16_t)v; break;
	case 9:
		if (q)
			q->vector = refused(m, (uint16_t)v) ? VFD_NO_VECTOR : (uint16_t)v;
		break;
	}
}

/* The register functions of drivers/virtio/core/core_port.h: every access reaches the model. */
uint32_t virtio_reg_read(const volatile void *addr, int width)
{
	return io_mmio_read(addr, width);
}

void virtio_reg_write(volatile void *addr, int width, uint32_t val)
{
	io_mmio_write(addr, width, val);
}

uint32_t virtio_pio_read(uint16_t port, int width)
{
	return io_pio_read(port, width);
}

void virtio_pio_write(uint16_t port, int width, uint32_t val)
{
	io_pio_write(port, width, val);
}

/* ---------------------------------------------------------------------------------------- */
/* The rest of the ports (drivers/virtio/ring/ring_port.h, drivers/virtio/core/core_port.h)   */

struct vfd_irq vfd_irqs[256];
unsigned vfd_irq_allocs, vfd_irq_frees, vfd_idle_calls, vfd_wake_calls;
int vfd_irq_alloc_fail_after;
uint64_t vfd_time_step_ns = 1000;
long vfd_dma_outstanding;
bool vfd_dma_high;
static uint64_t now_ns;

/* DMA memory from the low 2 GiB (MAP_32BIT), so a legacy queue's PFN fits its 32-bit register
 * as it would in a guest; or, with vfd_dma_high, above 16 TiB, where it does not; virt ==
 * phys. */
void *virtio_dma_alloc(size_t bytes, uint64_t *phys)
{
	static uintptr_t high = (uintptr_t)1 << 45;
	size_t rounded = (bytes + 4095) & ~(size_t)4095;
	void *p = vfd_dma_high ? mmap((void *)high, rounded, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)
			       : mmap(NULL, rounded, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (vfd_dma_high && p != MAP_FAILED)
		high += rounded;
	if (p == MAP_FAILED)
		return NULL;
	*phys = (uint64_t)(uintptr_t)p;
	vfd_dma_outstanding++;
	return p;
}

void virtio_dma_free(void *virt, size_t bytes)
{
	if (!virt)
		return;
	/* 2.1.2 / 3.3.1: ring memory goes back only after a reset the device completed. */
	for (unsigned i = 0; cur && i < VFD_MAX_Q; i++)
		if (cur->live_desc[i] >= (uint8_t *)virt && cur->live_desc[i] < (uint8_t *)virt + bytes)
			violation(cur, "the ring memory of queue %u was freed before a completed reset", i);
	vfd_dma_outstanding--;
	munmap(virt, (bytes + 4095) & ~(size_t)4095);
}

uint64_t virtio_virt_to_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static char report_buf[16384];
static size_t report_len;

static int report_out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(report_buf + report_len, sizeof(report_buf) - report_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		report_len += (size_t)n;
	if (report_len >= sizeof(report_buf))
		report_len = sizeof(report_buf) - 1;
	return n;
}

const char *vfd_describe(void)
{
	report_len = 0;
	report_buf[0] = 0;
	virtio_describe_all(report_out);
	return report_buf;
}

void virtio_log(const char *fmt, ...)
{
	va_list ap;
	if (log_len >= sizeof(log_buf) - 256)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(log_buf + log_len, sizeof(log_buf) - log_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		log_len += (size_t)n < sizeof(log_buf) - log_len ? (size_t)n : 0;
}

const char *vfd_log(void)
{
	return log_buf;
}

bool vfd_log_has(const char *needle)
{
	return strstr(log_buf, needle) != NULL;
}

int virtio_irq_alloc(void (*fn)(void *ctx), void *ctx)
{
	if (vfd_irq_alloc_fail_after > 0 && vfd_irq_allocs >= (unsigned)vfd_irq_alloc_fail_after)
		return -ENOSPC;
	for (int v = VFD_FIRST_VECTOR; v < 0xf0; v++) {
		if (!vfd_irqs[v].fn) {
			vfd_irqs[v] = (struct vfd_irq){fn, ctx, 0};
			vfd_irq_allocs++;
			return v;
		}
	}
	return -ENOSPC;
}

void virtio_irq_free(int vector, void (*fn)(void *ctx), void *ctx)
{
	if (vector < 0 || vector > 255 || vfd_irqs[vector].fn != fn || vfd_irqs[vector].ctx != ctx) {
		if (cur)
			violation(cur, "virtio_irq_free(%d) of a vector not allocated so", vector);
		return;
	}
	vfd_irqs[vector].fn = NULL;
	vfd_irqs[vector].ctx = NULL;
	vfd_irq_frees++;
}

struct vfd_line vfd_lines[VFD_MAX_LINES];
unsigned vfd_nlines;

int virtio_irq_line_attach(uint32_t line, bool level, bool active_low, bool (*fn)(void *ctx),
			   void *ctx)
{
	if (vfd_nlines == VFD_MAX_LINES)
		return -ENOSPC;
	vfd_lines[vfd_nlines++] = (struct vfd_line){line, level, active_low, fn, ctx};
	return 0;
}

uint32_t virtio_irq_cpu(void)
{
	return VFD_IRQ_CPU;
}

void virtio_idle(void)
{
	vfd_idle_calls++;
	now_ns += 1000000; /* a halt lasts until the next tick at the latest */
	if (cur)
		vfd_deliver(cur);
}

void virtio_wake(void)
{
	vfd_wake_calls++;
}

uint64_t virtio_time_ns(void)
{
	now_ns += vfd_time_step_ns;
	return now_ns;
}

unsigned long virtio_lock(void)
{
	return 0;
}

void virtio_unlock(unsigned long flags)
{
	(void)flags;
}
