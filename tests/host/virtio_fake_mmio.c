/*
 * The device model's virtio-mmio register block (VIRTIO 1.2, 4.2.2 and 4.2.4), with the
 * driver MUSTs of 4.2.2.2, 4.2.3 and 4.2.4 recorded as violations (see virtio_fake_dev.h).
 * Offsets and access rules are written out from the spec's table, not taken from the code
 * under test.
 */
#include <string.h>

#include "tests/host/virtio_fake_internal.h"

#define CONFIG_OFF 0x100
#define INT_VRING 1
#define INT_CONFIG 2

enum { R = 1, W = 2, RW = 3 };
enum { V1 = 1, V2 = 2, VBOTH = 3 };
enum reg {
	MAGIC, VERSION, DEVID, VENDOR, DF, DFSEL, GF, GFSEL, PAGESIZE, QSEL, QMAX, QNUM, QALIGN,
	QPFN, QREADY, QNOTIFY, ISTAT, IACK, STATUS, DESC_LO, DESC_HI, DRV_LO, DRV_HI, DEV_LO,
	DEV_HI, GEN, NREGS
};
static const struct {
	uint16_t off;
	uint8_t access, versions;
	const char *name;
} regs[NREGS] = {
	[MAGIC] = {0x000, R, VBOTH, "magic"},      [VERSION] = {0x004, R, VBOTH, "version"},
	[DEVID] = {0x008, R, VBOTH, "id"},         [VENDOR] = {0x00c, R, VBOTH, "vendor"},
	[DF] = {0x010, R, VBOTH, "df"},            [DFSEL] = {0x014, W, VBOTH, "dfsel"},
	[GF] = {0x020, W, VBOTH, "gf"},            [GFSEL] = {0x024, W, VBOTH, "gfsel"},
	[PAGESIZE] = {0x028, W, V1, "pagesize"},   [QSEL] = {0x030, W, VBOTH, "qsel"},
	[QMAX] = {0x034, R, VBOTH, "qmax"},        [QNUM] = {0x038, W, VBOTH, "qnum"},
	[QALIGN] = {0x03c, W, V1, "qalign"},       [QPFN] = {0x040, RW, V1, "pfn"},
	[QREADY] = {0x044, RW, V2, "ready"},       [QNOTIFY] = {0x050, W, VBOTH, "notify"},
	[ISTAT] = {0x060, R, VBOTH, "istat"},      [IACK] = {0x064, W, VBOTH, "iack"},
	[STATUS] = {0x070, RW, VBOTH, "status"},   [DESC_LO] = {0x080, W, V2, "desc_lo"},
	[DESC_HI] = {0x084, W, V2, "desc_hi"},     [DRV_LO] = {0x090, W, V2, "drv_lo"},
	[DRV_HI] = {0x094, W, V2, "drv_hi"},       [DEV_LO] = {0x0a0, W, V2, "dev_lo"},
	[DEV_HI] = {0x0a4, W, V2, "dev_hi"},       [GEN] = {0x0fc, R, V2, "gen"},
};

bool vfd_is_mmio(const struct vfd *m)
{
	return m->kind == VFD_MMIO || m->kind == VFD_MMIO_LEGACY;
}

static bool legacy(const struct vfd *m)
{
	return m->kind == VFD_MMIO_LEGACY;
}

void vfd_mmio_reset(struct vfd *m)
{
	m->dfsel_set = m->gfsel_set = false;
	m->guest_page_size = 0;
	for (unsigned i = 0; i < VFD_MAX_Q; i++)
		m->q[i].size = 0; /* the driver writes QueueNum */
	m->line_up = m->edge_latched = false;
}

static struct vfd_queue *selq(struct vfd *m)
{
	return m->qsel < VFD_MAX_Q && m->qsel < m->num_queues ? &m->q[m->qsel] : NULL;
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Find the control register at off, checking the access itself. -1: none to use. */
static int reg_at(struct vfd *m, uint32_t off, int width, bool write)
{
	if (width != 4 || off % 4) {
		vfd_violation(m, "control register %#x accessed with width %d (4.2.2.2: 32-bit, "
				 "aligned)", off, width);
		return -1;
	}
	int r;
	for (r = 0; r < NREGS && regs[r].off != off; r++)
		;
	if (r == NREGS) {
		vfd_violation(m, "%s of %#x, which is no register", write ? "write" : "read", off);
		return -1;
	}
	bool known = m->mmio_version == 1 || m->mmio_version == 2;
	if (known && !(regs[r].versions & m->mmio_version)) {
		vfd_violation(m, "%s is not a version %u register", regs[r].name, m->mmio_version);
		return -1;
	}
	if (write && !(regs[r].access & W)) {
		vfd_violation(m, "read-only %s written", regs[r].name);
		return -1;
	}
	if (!write && !(regs[r].access & R)) {
		vfd_violation(m, "write-only %s read", regs[r].name);
		return -1;
	}
	/* 4.2.3.1.1: magic, version, device id first, in that order; device id 0: stop. */
	unsigned want = r == MAGIC ? 0 : r == VERSION ? 1 : r == DEVID ? 3 : 7;
	if ((m->mmio_ident & want) != want)
		vfd_violation(m, "%s accessed before the identification registers (4.2.3.1.1)",
			      regs[r].name);
	if (r > DEVID && (m->mmio_ident & 4) && m->mmio_device_id == 0)
		vfd_violation(m, "%s touched in an empty slot (device id 0)", regs[r].name);
	if (r <= DEVID)
		m->mmio_ident |= 1u << r;
	return r;
}

/* Queue registers while the queue is set up: 4.2.3.2 (version 2), 4.2.4 (version 1). */
static bool queue_check(struct vfd *m, struct vfd_queue *q, const char *what)
{
	if (!q) {
		vfd_violation(m, "%s written for queue %u that does not exist", what, m->qsel);
		return false;
	}
	if (!legacy(m) && !(m->status & ST_FEATURES_OK))
		vfd_violation(m, "%s written before FEATURES_OK", what);
	if (legacy(m) && !(m->status & ST_DRIVER))
		vfd_violation(m, "%s written before DRIVER", what);
	if (m->status & ST_DRIVER_OK)
		vfd_violation(m, "%s written after DRIVER_OK", what);
	if (q->enable || q->pfn)
		vfd_violation(m, "%s written for queue %u that is in use", what, m->qsel);
	if (!q->checked)
		vfd_violation(m, "%s written before %s was read for queue %u", what,
			      legacy(m) ? "QueuePFN" : "QueueReady", m->qsel);
	return true;
}

uint32_t vfd_mmio_read(struct vfd *m, uint32_t off, int width)
{
	if (off >= CONFIG_OFF)
		return vfd_devcfg_read(m, off - CONFIG_OFF, width, m->devcfg_len);
	int r = reg_at(m, off, width, false);
	if (r < 0)
		return 0;
	if (r == STATUS) {
		uint32_t v = vfd_status_read(m);
		vfd_trace(m, "status?%x", v);
		return v;
	}
	if (r > DEVID)
		vfd_check_live(m, regs[r].name);
	struct vfd_queue *q = selq(m);
	uint32_t v = 0;
	switch (r) {
	case MAGIC: v = m->mmio_magic; break;
	case VERSION: v = m->mmio_version; break;
	case DEVID: v = m->mmio_device_id; break;
	case VENDOR: v = 0x554d4551; break; /* "QEMU" */
	case DF:
		if (!m->dfsel_set)
			vfd_violation(m, "DeviceFeatures read before DeviceFeaturesSel was written");
		if (!(m->status & ST_DRIVER))
			vfd_violation(m, "DeviceFeatures read before DRIVER");
		v = m->dfsel < 2 ? (uint32_t)(m->features >> (32 * m->dfsel)) : 0;
		break;
	case QMAX:
		if (legacy(m) && !m->guest_page_size)
			vfd_violation(m, "QueueNumMax read before GuestPageSize was written");
		v = q ? (m->mmio_num_max ? m->mmio_num_max : m->queue_max[m->qsel]) : 0;
		break;
	case QPFN:
	case QREADY:
		if (q)
			q->checked = true;
		v = !q ? 0 : r == QPFN ? q->pfn : q->enable;
		if (m->queue_stuck & (1u << m->qsel))
			v = 1;
		break;
	case ISTAT: v = m->isr; break;
	case GEN: v = m->generation; m->gen_reads++; return v;
	}
	vfd_trace(m, "%s?%x", regs[r].name, v);
	return v;
}

static void queue_write(struct vfd *m, int r, uint32_t v)
{
	struct vfd_queue *q = selq(m);
	if (r == QREADY && v == 0) { /* stopping a queue is allowed at any time */
		if (q)
			q->enable = 0;
		return;
	}
	if (r == QPFN && v == 0) { /* 4.2.4: writing 0 releases the queue */
		if (q)
			q->pfn = 0;
		return;
	}
	if (!queue_check(m, q, regs[r].name))
		return;
	switch (r) {
	case QNUM:
		if (!is_pow2(v) || v > m->queue_max[m->qsel])
			vfd_violation(m, "QueueNum %u for a queue of at most %u", v,
				      m->queue_max[m->qsel]);
		q->size = (uint16_t)v;
		q->written |= 0x40;
		break;
	case QALIGN:
		if (!is_pow2(v))
			vfd_violation(m, "QueueAlign %u is not a power of two", v);
		q->align = v;
		q->written |= 0x80;
		break;
	case QPFN:
		if (q->written != 0xc0)
			vfd_violation(m, "QueuePFN written before QueueNum and QueueAlign (%#x)",
				      q->written);
		q->pfn = v;
		vfd_queue_live(m, m->qsel);
		break;
	case QREADY:
		if (v != 1)
			vfd_violation(m, "QueueReady = %u", v);
		if (q->written != 0x7f)
			vfd_violation(m, "queue %u ready before its size and addresses were set "
					 "(%#x)", m->qsel, q->written);
		if ((q->desc & 15) || (q->driver & 1) || (q->device & 3))
			vfd_violation(m, "queue %u: misaligned ring parts", m->qsel);
		q->enable = 1;
		vfd_queue_live(m, m->qsel);
		break;
	default: { /* the six address halves */
		unsigned k = (unsigned)(r - DESC_LO);
		uint64_t *a = k < 2 ? &q->desc : k < 4 ? &q->driver : &q->device;
		vfd_set_half(a, k & 1, v);
		q->written |= 1u << k;
		break;
	}
	}
}

void vfd_mmio_write(struct vfd *m, uint32_t off, int width, uint32_t v)
{
	if (off >= CONFIG_OFF) {
		vfd_violation(m, "device config written at %#x (this device has no writable "
				 "field)", off - CONFIG_OFF);
		return;
	}
	int r = reg_at(m, off, width, true);
	if (r < 0)
		return;
	bool addr = r == QPFN || (r >= DESC_LO && r <= DEV_HI);
	vfd_trace(m, "%s=%x", regs[r].name, addr && v ? 1 : v);
	if (r == STATUS) {
		vfd_status_write(m, (uint8_t)v, legacy(m));
		return;
	}
	vfd_check_live(m, regs[r].name);
	switch (r) {
	case DFSEL: m->dfsel = v; m->dfsel_set = true; break;
	case GFSEL: m->gfsel = v; m->gfsel_set = true; break;
	case GF:
		if (!m->gfsel_set)
			vfd_violation(m, "DriverFeatures written before DriverFeaturesSel");
		vfd_features_write(m, m->gfsel, v, legacy(m));
		break;
	case PAGESIZE:
		if (!is_pow2(v))
			vfd_violation(m, "GuestPageSize %u is not a power of two", v);
		for (unsigned i = 0; i < VFD_MAX_Q; i++)
			if (m->q[i].pfn)
				vfd_violation(m, "GuestPageSize written while queue %u is set up", i);
		m->guest_page_size = v;
		break;
	case QSEL:
		if (legacy(m) && !m->guest_page_size)
			vfd_violation(m, "QueueSel written before GuestPageSize (4.2.4)");
		m->qsel = (uint16_t)v;
		break;
	case QNOTIFY:
		if (!(m->status & ST_DRIVER_OK))
			vfd_violation(m, "notify before DRIVER_OK");
		if (v >= m->num_queues || v >= VFD_MAX_Q || !(m->q[v].enable || m->q[v].pfn)) {
			vfd_violation(m, "notify of queue %u that is not set up", v);
			break;
		}
		m->q[v].notifies++;
		vfd_process(m, v);
		break;
	case IACK:
		m->acks++;
		if (!v || (v & ~(uint32_t)m->isr))
			vfd_violation(m, "InterruptACK %#x with InterruptStatus %#x", v, m->isr);
		m->isr &= (uint8_t)~v;
		m->line_up = m->isr != 0; /* a bit set after this raises a new edge */
		break;
	default:
		queue_write(m, r, v);
		break;
	}
}

/* The device sets InterruptStatus bits (VIRTIO_MMIO_INT_*): the line follows
 * InterruptStatus != 0, and an edge-triggered interrupt controller latches its rising edge
 * even while the CPU is in a handler. */
void vfd_mmio_raise(struct vfd *m, uint32_t bits)
{
	bool was_up = m->line_up;
	m->isr |= (uint8_t)bits;
	m->line_up = m->isr != 0;
	if (!was_up && m->line_up)
		m->edge_latched = true;
}

/* The CPU takes the line's interrupt (from virtio_idle): level-triggered, for as long as the
 * line is high; edge-triggered, once per latched edge. */
void vfd_mmio_deliver(struct vfd *m)
{
	if (!(m->status & ST_DRIVER_OK))
		return;
	for (int round = 0;; round++) {
		if (m->mmio_level ? !m->line_up : !m->edge_latched)
			return;
		m->edge_latched = false;
		bool claimed = false, any = false;
		uint8_t st = m->isr;
		for (unsigned i = 0; i < vfd_nlines; i++) {
			if (vfd_lines[i].line != m->mmio_line)
				continue;
			any = true;
			claimed |= vfd_lines[i].fn(vfd_lines[i].ctx);
		}
		if (!any)
			return; /* nobody listens (poll mode) */
		m->line_irqs++;
		if (st && !claimed)
			vfd_violation(m, "line %u raised with InterruptStatus %#x and no handler "
					 "claimed it", m->mmio_line, st);
		if (round == 8) {
			vfd_violation(m, "line %u still raised after 8 handler rounds", m->mmio_line);
			return;
		}
	}
}
