/*
 * libFuzzer target: a hostile virtio-mmio device against the mmio transport and the virtio
 * device core, through the register and configuration path, and (when the input makes it a
 * disk) against the virtio-blk driver: its configuration, completions and status bytes; (when
 * it makes it a NIC) against the virtio-net receive path: headers, num_buffers merges, runts
 * and oversized frames, in buffers the device fills with input bytes and lengths it chooses.
 *
 * The device behind the window answers honestly (a plain version 1 or 2 device) until the
 * input tells it to lie: the first bytes pick the identification registers (magic, version,
 * device id, window size), and then every register read takes one byte that either lets the
 * honest answer through or replaces it with four input bytes; a notify may be answered with
 * honest or forged used elements, and the interrupt line fires with whatever InterruptStatus
 * the input says. A small driver negotiates, reads its configuration at input-chosen offsets
 * and lengths, sets up one to three queues, sends requests and waits for them.
 *
 * Besides ASan/UBSan, the harness checks what the transport promises whatever the device does:
 *   - magic, then version, then device id are the first accesses; a bad magic stops after
 *     one access, a bad version after two, device id 0 after three, with nothing reported
 *     for the empty slot;
 *   - control registers only as aligned 32-bit accesses, never a write to a read-only or a
 *     read of a write-only register, nothing outside the window;
 *   - configuration reads at their field's width, inside the window, and a config read
 *     returns 0, -EINVAL or -EIO;
 *   - QueueNotify only with the index of a queue that was set up;
 *   - after teardown no DMA memory is left, unless a reset never completed (the device is
 *     dead and its queues are kept, docs/FAILURES.md);
 *   - as a disk: every call returns one of the errors virtio_blk.h documents, and a read
 *     never writes past its buffer;
 *   - as a NIC: every frame handed to the stack is 14 to 1518 bytes (1514 and an 802.1Q
 *     tag, netdev.h), inside memory the driver owns, and given back once; transmit returns
 *     a documented result.
 *
 * The transport and the device table keep static tables; this file includes their sources to
 * empty them between inputs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_target.h"
#include "drivers/virtio/core/core_port.h"
#include "drivers/virtio/core/virtio.h"
#include "tests/host/ring_port_host.h"

#include "drivers/virtio/core/virtio_devices.c"
#include "drivers/virtio/mmio/virtio_mmio.c"
#include "drivers/virtio/blk/virtio_blk.c"
#include "drivers/virtio/net/virtio_net.c"

#define FUZZ_TYPE 42
#define WINDOW 0x200
#define NQ 3

static void check_at(bool ok, const char *what, int line)
{
	if (!ok) {
		fprintf(stderr, "fuzz_mmio: check failed at line %d: %s\n", line, what);
		abort();
	}
}
#define check(cond) check_at((cond), #cond, __LINE__)

/* ---- the input ---- */

static const uint8_t *in_p;
static size_t in_n;

static unsigned take(void)
{
	if (!in_n)
		return 0;
	in_n--;
	return *in_p++;
}

static uint32_t take32(void)
{
	uint32_t v = take();
	v |= (uint32_t)take() << 8;
	v |= (uint32_t)take() << 16;
	return v | (uint32_t)take() << 24;
}

/* ---- the device ---- */

static uint8_t window[WINDOW] __attribute__((aligned(4096)));
static struct {
	uint32_t magic, version, id;
	uint64_t size;
	unsigned accesses, lie_rate;
	uint32_t status, dfsel, qsel, page_size, isr, generation;
	uint32_t qnum[NQ], qalign[NQ], qpfn[NQ], qready[NQ];
	uint64_t desc[NQ], drv[NQ], dev[NQ];
	uint16_t last_avail[NQ], used_idx[NQ];
	uint8_t config[WINDOW - 0x100];
	uint32_t features_lo;    /* offered device-specific bits (a disk's) */
	bool (*line_fn)(void *ctx);
	void *line_ctx;
} d;

static uint32_t maybe_lie(uint32_t honest)
{
	if (in_n && take() < d.lie_rate)
		return take32();
	return honest;
}

/* Register offsets (4.2.2), from the spec's table. */
enum {
	MAGIC = 0x000, VERSION = 0x004, DEVID = 0x008, VENDOR = 0x00c, DF = 0x010, DFSEL = 0x014,
	GF = 0x020, GFSEL = 0x024, PAGESIZE = 0x028, QSEL = 0x030, QMAX = 0x034, QNUM = 0x038,
	QALIGN = 0x03c, QPFN = 0x040, QREADY = 0x044, QNOTIFY = 0x050, ISTAT = 0x060, IACK = 0x064,
	STATUS = 0x070, DESC_LO = 0x080, DESC_HI = 0x084, DRV_LO = 0x090, DRV_HI = 0x094,
	DEV_LO = 0x0a0, DEV_HI = 0x0a4, GEN = 0x0fc,
};
static bool readable(uint32_t off)
{
	switch (off) {
	case MAGIC: case VERSION: case DEVID: case VENDOR: case DF: case QMAX: case QPFN:
	case QREADY: case ISTAT: case STATUS: case GEN:
		return true;
	}
	return false;
}
static bool writable(uint32_t off)
{
	switch (off) {
	case DFSEL: case GF: case GFSEL: case PAGESIZE: case QSEL: case QNUM: case QALIGN:
	case QPFN: case QREADY: case QNOTIFY: case IACK: case STATUS: case DESC_LO: case DESC_HI:
	case DRV_LO: case DRV_HI: case DEV_LO: case DEV_HI:
		return true;
	}
	return false;
}

/* The identification order, checked on every access. */
static void access_check(uint32_t off, int width, bool write)
{
	unsigned n = d.accesses++;
	check(off < d.size);
	check(n != 0 || (off == MAGIC && !write));
	check(n != 1 || (off == VERSION && !write));
	check(n != 2 || (off == DEVID && !write));
	check(n < 1 || d.magic == 0x74726976);
	check(n < 2 || d.version == 1 || d.version == 2);
	check(n < 3 || d.id != 0);
	if (off < 0x100) {
		check(width == 4 && off % 4 == 0);
		check(write ? writable(off) : readable(off));
	} else {
		check(off % (unsigned)width == 0);
		check(off + (unsigned)width <= d.size);
	}
}

static bool ring_of(unsigned q, uint8_t **desc, uint8_t **avail, uint8_t **used, uint16_t *num)
{
	*num = (uint16_t)d.qnum[q];
	if (!*num || *num > 256)
		return false;
	if (d.version == 1) {
		if (!d.qpfn[q] || !d.qalign[q] || (d.qalign[q] & (d.qalign[q] - 1)))
			return false;
		uintptr_t base = (uintptr_t)d.qpfn[q] * d.page_size;
		*desc = (uint8_t *)base;
		*avail = *desc + 16u * *num;
		uintptr_t end = (uintptr_t)*avail + 6 + 2u * *num;
		*used = (uint8_t *)((end + d.qalign[q] - 1) / d.qalign[q] * d.qalign[q]);
		return true;
	}
	if (!d.qready[q])
		return false;
	*desc = (uint8_t *)(uintptr_t)d.desc[q];
	*avail = (uint8_t *)(uintptr_t)d.drv[q];
	*used = (uint8_t *)(uintptr_t)d.dev[q];
	return true;
}

/* The device-writable segments of the chain at head, an indirect table followed, as a device
 * walks them (at most max; a malformed chain ends the walk). Returns how many. */
struct wseg {
	uint8_t *addr;
	uint32_t len;
};
static unsigned writable_segments(uint8_t *desc, uint16_t num, uint16_t head, struct wseg *out,
				  unsigned max)
{
	uint8_t *tab = desc;
	unsigned n = num, i = head, steps = 0, k = 0;
	while (i < n && ++steps <= n && k < max) {
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
		memcpy(&addr, tab + 16 * i, 8);
		memcpy(&len, tab + 16 * i + 8, 4);
		memcpy(&flags, tab + 16 * i + 12, 2);
		memcpy(&next, tab + 16 * i + 14, 2);
		if (flags & 4) { /* INDIRECT */
			if (tab != desc || len < 16)
				break;
			tab = (uint8_t *)(uintptr_t)addr;
			n = len / 16;
			i = 0;
			steps = 0;
			continue;
		}
		if (flags & 2)
			out[k++] = (struct wseg){(uint8_t *)(uintptr_t)addr, len};
		if (!(flags & 1))
			break;
		i = next;
	}
	return k;
}

/* A disk's completion of the chain at head: the status byte (the last writable byte) written
 * with an input-chosen value, and a used length that is the honest one (every writable byte)
 * or the input's. Returns the used length. */
static uint32_t blk_complete(uint8_t *desc, uint16_t num, uint16_t head)
{
	struct wseg w[80];
	unsigned n = writable_segments(desc, num, head, w, 80);
	uint32_t writable = 0;
	for (unsigned k = 0; k < n; k++)
		writable += w[k].len;
	if (n && w[n - 1].len)
		w[n - 1].addr[w[n - 1].len - 1] = (uint8_t)(take() % 4); /* OK, IOERR, UNSUPP, junk */
	return take() < d.lie_rate ? take32() : writable;
}

/* A NIC's receive of the chain at head: the writable bytes filled with input (the header's
 * num_buffers among them), and a used length of the input's choosing, mostly within what was
 * offered. Returns the used length. */
static uint32_t net_rx_complete(uint8_t *desc, uint16_t num, uint16_t head)
{
	struct wseg w[4];
	unsigned n = writable_segments(desc, num, head, w, 4);
	uint32_t writable = 0;
	for (unsigned k = 0; k < n; k++) {
		for (uint32_t b = 0; b < w[k].len && b < 64; b++)
			w[k].addr[b] = (uint8_t)take();
		writable += w[k].len;
	}
	return take() < d.lie_rate ? take32() : writable ? take32() % (writable + 1) : 0;
}

/* The driver notified queue q: complete what is available (honestly: the heads, length 0;
 * a disk writes its status, a NIC fills receive buffers), or forge used elements. */
static void device_notify(unsigned q)
{
	uint8_t *desc, *avail, *used;
	uint16_t num;
	if (!ring_of(q, &desc, &avail, &used, &num))
		return;
	(void)desc;
	uint16_t aidx;
	memcpy(&aidx, avail + 2, 2);
	if (take() < d.lie_rate) {
		unsigned n = take() % 4;
		for (unsigned i = 0; i < n; i++) {
			uint32_t e[2] = {take32() % (num + 2u), take32()};
			memcpy(used + 4 + 8 * (d.used_idx[q] % num), e, 8);
			d.used_idx[q]++;
		}
		d.used_idx[q] += (uint16_t)(take() % 3);
	} else {
		for (unsigned guard = 0; d.last_avail[q] != aidx && guard < num; guard++) {
			uint16_t head;
			memcpy(&head, avail + 4 + 2 * (d.last_avail[q] % num), 2);
			uint32_t e[2] = {head, d.id == VIRTIO_ID_BLOCK		  ? blk_complete(desc, num, head)
					       : d.id == VIRTIO_ID_NET && q == 0 ? net_rx_complete(desc, num, head)
										 : 0};
			memcpy(used + 4 + 8 * (d.used_idx[q] % num), e, 8);
			d.used_idx[q]++;
			d.last_avail[q]++;
		}
	}
	memcpy(used + 2, &d.used_idx[q], 2);
	d.isr |= 1;
}

uint32_t virtio_reg_read(const volatile void *addr, int width)
{
	uint32_t off = (uint32_t)((const volatile uint8_t *)addr - window);
	access_check(off, width, false);
	if (off >= 0x100) {
		uint32_t v = 0;
		memcpy(&v, d.config + (off - 0x100), (size_t)width);
		return maybe_lie(v);
	}
	switch (off) {
	case MAGIC: return d.magic;
	case VERSION: return d.version;
	case DEVID: return d.id;
	case VENDOR: return maybe_lie(0x554d4551);
	case DF: return maybe_lie(d.dfsel == 0 ? 0x30000000u | d.features_lo : d.dfsel == 1 ? 1u : 0u);
	case QMAX: return maybe_lie(d.qsel < NQ ? 64 : 0);
	case QPFN: return maybe_lie(d.qsel < NQ ? d.qpfn[d.qsel] : 0);
	case QREADY: return maybe_lie(d.qsel < NQ ? d.qready[d.qsel] : 0);
	case ISTAT: return maybe_lie(d.isr);
	case STATUS: return maybe_lie(d.status);
	case GEN: return maybe_lie(d.generation);
	}
	return 0;
}

static void set_half(uint64_t *a, bool hi, uint32_t v)
{
	*a = hi ? (*a & 0xffffffffull) | (uint64_t)v << 32 : (*a & ~0xffffffffull) | v;
}

void virtio_reg_write(volatile void *addr, int width, uint32_t v)
{
	uint32_t off = (uint32_t)((volatile uint8_t *)addr - window);
	access_check(off, width, true);
	check(off < 0x100); /* the driver writes no device config */
	unsigned q = d.qsel;
	switch (off) {
	case STATUS:
		d.status = v;
		if (v == 0) {
			memset(d.qready, 0, sizeof(d.qready));
			memset(d.qpfn, 0, sizeof(d.qpfn));
			memset(d.last_avail, 0, sizeof(d.last_avail));
			memset(d.used_idx, 0, sizeof(d.used_idx));
			d.isr = 0;
		}
		break;
	case DFSEL: d.dfsel = v; break;
	case PAGESIZE: d.page_size = v; break;
	case QSEL: d.qsel = v; break;
	case IACK: d.isr &= ~v; break;
	case QNOTIFY:
		check(v < NQ && (d.qready[v] || d.qpfn[v]));
		device_notify(v);
		break;
	}
	if (q >= NQ)
		return;
	switch (off) {
	case QNUM: d.qnum[q] = v; break;
	case QALIGN: d.qalign[q] = v; break;
	case QPFN: d.qpfn[q] = v; break;
	case QREADY: d.qready[q] = v; break;
	case DESC_LO: case DESC_HI: set_half(&d.desc[q], off == DESC_HI, v); break;
	case DRV_LO: case DRV_HI: set_half(&d.drv[q], off == DRV_HI, v); break;
	case DEV_LO: case DEV_HI: set_half(&d.dev[q], off == DEV_HI, v); break;
	}
}

uint32_t virtio_pio_read(uint16_t port, int width)
{
	(void)port;
	(void)width;
	check(!"port I/O from the mmio transport");
	return 0;
}

void virtio_pio_write(uint16_t port, int width, uint32_t val)
{
	(void)port;
	(void)width;
	(void)val;
	check(!"port I/O from the mmio transport");
}

/* ---- the rest of the device layer's port ---- */

static uint64_t now;

int virtio_irq_alloc(void (*fn)(void *ctx), void *ctx)
{
	(void)fn;
	(void)ctx;
	check(!"MSI-X from the mmio transport");
	return -ENOSPC;
}

void virtio_irq_free(int vector, void (*fn)(void *ctx), void *ctx)
{
	(void)vector;
	(void)fn;
	(void)ctx;
	check(!"MSI-X from the mmio transport");
}

uint32_t virtio_irq_cpu(void)
{
	return 0;
}

int virtio_irq_line_attach(uint32_t line, bool level, bool active_low, bool (*fn)(void *ctx),
			   void *ctx)
{
	(void)line;
	(void)level;
	(void)active_low;
	if (take() == 0xff)
		return -ENOSPC;
	d.line_fn = fn;
	d.line_ctx = ctx;
	return 0;
}

/* Idle: the line fires when the device says so (or the input does, spuriously). Time runs
 * fast here (100 ms per halt, 10 ms per look at the clock): only timeouts depend on it, and a
 * 30-second one should cost hundreds of iterations, not tens of thousands. */
void virtio_idle(void)
{
	now += 100000000;
	if (d.line_fn && (d.isr || take() > 0xf0))
		d.line_fn(d.line_ctx);
}

void virtio_wake(void)
{
}

uint64_t virtio_time_ns(void)
{
	return now += 10000000;
}

unsigned long virtio_lock(void)
{
	return 0;
}

void virtio_unlock(unsigned long flags)
{
	(void)flags;
}

/* ---- a driver that exercises the config and queue paths ---- */

static bool done_flags[NQ];

static void harvest(struct virtqueue *vq)
{
	uint32_t len;
	bool *tok;
	while ((tok = virtqueue_get_buf(vq, &len))) {
		check(tok >= done_flags && tok < done_flags + NQ);
		*tok = true;
	}
}

static bool is_done(void *arg)
{
	return *(bool *)arg;
}

static const char *const qnames[NQ] = {"q0", "q1", "q2"};

static int fuzz_probe(struct virtio_device *vd)
{
	int err = virtio_negotiate(vd, take32() | (uint64_t)take32() << 32);
	if (err)
		return err;
	for (unsigned i = take() % 4; i > 0; i--) {
		uint8_t buf[16];
		unsigned off = take() % 0x110, len = take() % 17;
		err = virtio_config_read(vd, off, buf, len);
		check(err == 0 || err == -EINVAL || err == -EIO);
	}
	unsigned n = 1 + take() % NQ;
	struct virtio_vq_spec specs[NQ];
	for (unsigned i = 0; i < n; i++)
		specs[i] = (struct virtio_vq_spec){.name = qnames[i], .size = 1u << (take() % 8),
						   .callback = harvest};
	if ((err = virtio_setup_vqs(vd, n, specs)))
		return err;
	virtio_device_ready(vd);
	return 0;
}

static const struct virtio_driver fuzz_driver = {
	.name = "fuzz",
	.device_type = FUZZ_TYPE,
	.probe = fuzz_probe,
};

/* ---- the network stack, played by the harness ---- */

static struct netdev *the_nd;
static unsigned lent; /* receive buffers the stack holds */

static void stack_rx(struct netdev *nd, void *data, size_t len, bool csum_ok, void *token)
{
	(void)csum_ok;
	check(len >= 14 && len <= 1518);
	volatile const uint8_t *p = data;
	(void)p[0], (void)p[len - 1]; /* ASan: the whole frame is the driver's memory */
	lent++;
	if (take() & 1) { /* give it back now, or keep it until the end of the round */
		nd->ops->rx_release(nd, token);
		lent--;
	}
}

static void stack_tx_done(struct netdev *nd, void *token)
{
	(void)nd;
	check(token == (void *)1);
}

static void stack_link_changed(struct netdev *nd)
{
	(void)nd;
}

int netdev_register(struct netdev *nd)
{
	nd->rx = stack_rx;
	nd->tx_done = stack_tx_done;
	nd->link_changed = stack_link_changed;
	the_nd = nd;
	return 0;
}

/* A NIC: polls (the device answers what the driver posted), transmits, and the maintenance a
 * main loop does (resets the driver asked for). */
static void nic_rounds(struct netdev *nd)
{
	static uint8_t frame[1514];
	lent = 0;
	for (unsigned round = take() % 8; round > 0; round--) {
		nd->ops->poll(nd);
		virtio_maintain();
		if (take() & 1) {
			struct netdev_frag fr = {frame, 14 + take() % 1501};
			int e = nd->ops->xmit(nd, &fr, 1, NULL, (void *)1);
			check(e == 0 || e == -ENOSPC || e == -ENETDOWN || e == -EIO || e == -EINVAL);
		}
	}
}

/* A disk: reads, writes and flushes at input-chosen places, each answered as the device
 * likes; what comes back must be a documented result, and a read stays in its buffer. */
static void disk_rounds(struct vblk *disk)
{
	static uint8_t buf[16 * 512 + 64];
	for (unsigned round = take() % 6; round > 0; round--) {
		unsigned what = take() % 3;
		uint64_t sector = take() < 0x80 ? take() : take32();
		size_t len = (size_t)(1 + take() % 16) * 512;
		memset(buf + len, 0xa5, 64);
		int e = what == 2 ? vblk_flush(disk)
				  : vblk_io(disk, what ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector,
					    buf, len);
		check(e == 0 || e == -EIO || e == -EPROTO || e == -EOPNOTSUPP || e == -ERANGE ||
		      e == -EINVAL || e == -EROFS || e == -ETIMEDOUT || e == -ENOSPC);
		for (unsigned k = 0; k < 64; k++)
			check(buf[len + k] == 0xa5);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t bufs[NQ][64];
	in_p = data;
	in_n = size;
	memset(&d, 0, sizeof(d));
	memset(window, 0, sizeof(window));
	ndevices = 0;
	ndrivers = 0;
	nmmio_devs = 0;
	ndisks = 0;
	memset(disks, 0, sizeof(disks));
	nnics = 0;
	memset(nics, 0, sizeof(nics));
	the_nd = NULL;
	now = 0;
	virtio_host_log_quiet(true);
	virtio_options.mode = (enum virtio_mode)(take() % 3);
	check(virtio_register_driver(&fuzz_driver) == 0);
	check(virtio_blk_register() == 0);
	check(virtio_net_register() == 0);

	unsigned f = take();
	d.magic = (f & 1) ? take32() : 0x74726976;
	d.version = (f & 6) == 2 ? 1 : (f & 6) == 4 ? take32() : 2;
	d.id = (f & 8) ? take32() % 64 : (f & 32) ? VIRTIO_ID_BLOCK : (f & 64) ? VIRTIO_ID_NET : FUZZ_TYPE;
	d.features_lo = d.id == VIRTIO_ID_BLOCK || d.id == VIRTIO_ID_NET ? take32() & 0xffffff : 0;
	d.size = (f & 16) ? take32() % 0x1000 : WINDOW;
	if (d.size > WINDOW)
		d.size = WINDOW;
	d.lie_rate = take() / 4;
	for (unsigned i = 0; i < sizeof(d.config); i++)
		d.config[i] = (uint8_t)take();

	struct virtio_mmio_window w = {.phys = 0xfeb00000, .size = d.size, .base = window,
				       .irq = 5, .source = "fuzz"};
	unsigned long logs = virtio_host_log_count();
	int r = virtio_mmio_add(&w);
	check(r == 0 || r == -EINVAL);
	if (d.size < 0x100) {
		check(r == -EINVAL && d.accesses == 0);
	} else if (d.magic != 0x74726976) {
		check(r == -EINVAL && d.accesses == 1);
	} else if (d.version != 1 && d.version != 2) {
		check(r == -EINVAL && d.accesses == 2);
	} else if (d.id == 0) {
		check(r == 0 && d.accesses == 3 && virtio_device_count() == 0);
		check(virtio_host_log_count() == logs); /* an empty slot is not reported */
	}

	struct virtio_device *vd = virtio_device_count() ? virtio_device_at(0) : NULL;
	if (vd && vd->driver == &blk_driver && vblk_count())
		disk_rounds(vblk_at(0));
	else if (vd && vd->driver == &net_driver && the_nd)
		nic_rounds(the_nd);
	else if (vd && vd->driver && !vd->failed && vd->nvqs) {
		for (unsigned round = take() % 8; round > 0; round--) {
			unsigned q = take() % vd->nvqs;
			struct virtqueue *vq = vd->vqs[q].vq;
			struct vq_sg sg = {bufs[q], 1 + take() % 64};
			done_flags[q] = false;
			if (virtqueue_add(vq, &sg, 0, 1, &done_flags[q]) == 0) {
				virtqueue_kick(vq);
				int e = virtio_wait(vd, vq, is_done, &done_flags[q], 200000000ull);
				check(e == 0 || e == -EIO || e == -ETIMEDOUT);
				if (e == -ETIMEDOUT) {
					virtio_abandon(vd, "fuzz: timed out");
					break;
				}
			}
			if (d.line_fn && take() > 0xe0) {
				d.isr = take32();
				d.line_fn(d.line_ctx);
			}
		}
	}
	for (size_t i = 0; i < virtio_device_count(); i++) {
		struct virtio_device *v = virtio_device_at(i);
		if (!v->dead)
			virtio_teardown(v);
		if (v->dead) { /* its queues were kept on purpose; the fuzzer reclaims them */
			for (unsigned q = 0; q < v->nvqs; q++)
				virtqueue_destroy(v->vqs[q].vq);
			v->nvqs = 0;
		}
	}
	/* virtio-net keeps its pools for the life of the device (a kernel's NIC is never
	 * removed): the harness gives them back. */
	for (unsigned i = 0; i < nnics; i++) {
		struct vnet *n = &nics[i];
		for (unsigned k = 0; n->bufs && k < n->nbufs; k++)
			free(n->bufs[k].bounce);
		free(n->bufs);
		if (n->rx_mem)
			virtio_dma_free(n->rx_mem, (size_t)n->nbufs * RX_BUF_SIZE);
		if (n->slots)
			virtio_dma_free(n->slots, n->nslots * sizeof(*n->slots));
		if (n->ctrl)
			virtio_dma_free(n->ctrl, sizeof(*n->ctrl));
	}
	check(virtio_host_dma_outstanding() == 0);
	return 0;
}
