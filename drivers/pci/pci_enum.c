/*
 * PCI bus enumeration: every function, its BARs sized, its capability lists walked, the table
 * sorted (configuration access itself is pci_config.c).
 *
 * Everything read from configuration space is untrusted: a capability list may loop or point
 * into the header, a BAR may size to nothing, a bridge may claim bus 0 or its own bus. Such
 * input is logged, recorded in pci_dev.problems, and the broken structure is skipped; the scan
 * always terminates (every list walk is bounded by a visited bitmap, every bus is scanned at
 * most once, bridges are followed at most PCI_MAX_DEPTH deep).
 */
#include <errno.h>
#include <string.h>

#include "drivers/pci/pci_priv.h"

/* ---------------------------------------------------------------------------------------- */
/* BARs                                                                                      */

static void bar_problem(struct pci_dev *d, unsigned i, uint32_t prob, const char *what)
{
	d->problems |= prob;
	pci_log("pci " PCI_BDF_FMT ": BAR%u %s, ignored", PCI_BDF_ARGS(d), i, what);
}

/* Write all ones, then all zeros, to the BAR at off and restore orig. Returns the bits that
 * followed both writes: the writable address bits. Bits stuck at one (a read-only address, or
 * flags) are not part of the size; a real BAR has none in its address field [PCI 6.2.5.1], so
 * reading them back as "size" would accept a broken BAR with a made-up size. */
static uint32_t bar_probe(struct pci_dev *d, uint16_t off, uint32_t orig, uint32_t *ones)
{
	uint32_t zeros;

	pci_cfg_write32(d, off, 0xFFFFFFFFu);
	*ones = pci_cfg_read32(d, off);
	pci_cfg_write32(d, off, 0);
	zeros = pci_cfg_read32(d, off);
	pci_cfg_write32(d, off, orig);
	return *ones & ~zeros;
}

/*
 * Size BAR i [PCI 6.2.5.1]: the writable address bits form the size mask (all bits above the
 * size are writable, those below it are hardwired to zero). Returns the number of BAR slots
 * consumed (2 for a 64-bit BAR). The caller has turned off decoding.
 */
static unsigned size_bar(struct pci_dev *d, unsigned i)
{
	uint16_t off = (uint16_t)(PCI_BAR0 + i * PCI_BAR_STRIDE);
	struct pci_bar *b = &d->bar[i];
	uint32_t orig, rb, wr, orig_hi, rb_hi, wr_hi;
	uint64_t mask, addr;
	unsigned used = 1;

	orig = pci_cfg_read32(d, off);
	wr = bar_probe(d, off, orig, &rb);

	if (orig == 0 && rb == 0)
		return 1; /* not implemented: hardwired to zero */

	if (orig & PCI_BAR_SPACE_IO) {
		mask = wr & PCI_BAR_IO_MASK;
		addr = orig & PCI_BAR_IO_MASK;
		/* A function decoding only 16 I/O address bits hardwires the upper 16 to zero. */
		if (mask && !(mask & 0xFFFF0000u))
			mask |= 0xFFFF0000u;
		mask |= 0xFFFFFFFF00000000ull;
		b->type = PCI_BAR_IO;
	} else {
		uint32_t mt = orig & PCI_BAR_MEM_TYPE;

		if (mt != PCI_BAR_MEM_TYPE_32 && mt != PCI_BAR_MEM_TYPE_64) {
			bar_problem(d, i, PCI_PROB_BAR_TYPE, "has a reserved memory type");
			return 1;
		}
		if (mt == PCI_BAR_MEM_TYPE_64) {
			if (i + 1 >= d->nbars) {
				bar_problem(d, i, PCI_PROB_BAR_TYPE, "is 64-bit in the last slot");
				return 1;
			}
			orig_hi = pci_cfg_read32(d, off + PCI_BAR_STRIDE);
			wr_hi = bar_probe(d, off + PCI_BAR_STRIDE, orig_hi, &rb_hi);
			mask = (uint64_t)wr_hi << 32 | (wr & PCI_BAR_MEM_MASK);
			addr = (uint64_t)orig_hi << 32 | (orig & PCI_BAR_MEM_MASK);
			b->type = PCI_BAR_MEM64;
			d->bar[i + 1].type = PCI_BAR_MEM64_HI;
			used = 2;
		} else {
			mask = 0xFFFFFFFF00000000ull | (wr & PCI_BAR_MEM_MASK);
			addr = orig & PCI_BAR_MEM_MASK;
			b->type = PCI_BAR_MEM32;
		}
		b->prefetch = (orig & PCI_BAR_MEM_PREFETCH) != 0;
	}

	/* The BAR says it decodes something (flags or address bits are set) but no address
	 * bit is writable: there is nothing to place, and placing it would be a guess. */
	if ((b->type == PCI_BAR_MEM64 && mask == 0) ||
	    (b->type != PCI_BAR_MEM64 && (uint32_t)mask == 0))
		goto bad_zero;
	b->size = ~mask + 1;
	if (b->size == 0 || (b->size & (b->size - 1))) {
		b->size = 0;
		bar_problem(d, i, PCI_PROB_BAR_SIZE, "size mask is not contiguous");
		goto bad_clear;
	}
	b->addr = addr;
	if (addr == 0) {
		/* Firmware did not place it; decoding it now would claim address 0. */
		pci_log("pci " PCI_BDF_FMT ": BAR%u unassigned (size 0x%lx)", PCI_BDF_ARGS(d), i,
			(unsigned long)b->size);
	} else if (addr & (b->size - 1)) {
		bar_problem(d, i, PCI_PROB_BAR_ALIGN, "address not aligned to its size");
	} else {
		b->assigned = true;
	}
	return used;

bad_zero:
	bar_problem(d, i, PCI_PROB_BAR_ZERO, "sizes to zero");
bad_clear:
	b->type = PCI_BAR_NONE;
	b->prefetch = false;
	if (used == 2)
		d->bar[i + 1].type = PCI_BAR_NONE;
	return used;
}

static void size_bars(struct pci_dev *d)
{
	uint16_t cmd;

	if (d->nbars == 0)
		return;
	/*
	 * While a BAR holds all ones it claims the top of the address space (where the LAPIC,
	 * IOAPIC and other devices' BARs live), and between the two halves of a 64-bit BAR it
	 * claims a mix of old and new bits. With decoding on, any access that happens to hit
	 * that range in the window (another CPU, an interrupt handler, firmware SMM) would be
	 * claimed by this function. So I/O and memory decode are off for the whole sizing and the
	 * original command register is put back afterwards.
	 */
	cmd = pci_cfg_read16(d, PCI_COMMAND);
	if (cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY))
		pci_cfg_write16(d, PCI_COMMAND,
				cmd & (uint16_t)~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < d->nbars;)
		i += size_bar(d, i);
	if (cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY))
		pci_cfg_write16(d, PCI_COMMAND, cmd);
}

/* ---------------------------------------------------------------------------------------- */
/* Capability lists                                                                          */

static void walk_caps(struct pci_dev *d)
{
	/* One bit per dword of the 256-byte space: a capability starts on a dword boundary,
	 * so a revisited dword is a loop. */
	uint64_t seen = 0;
	uint16_t ptr;

	if (!(pci_cfg_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return;
	ptr = pci_cfg_read8(d, d->header_type == PCI_HEADER_TYPE_CARDBUS ? PCI_CB_CAP_PTR
									  : PCI_CAP_PTR);
	ptr &= PCI_CAP_PTR_MASK;
	while (ptr) {
		uint8_t id, next;

		if (ptr < PCI_CAP_PTR_MIN || ptr > PCI_CAP_PTR_MAX) {
			d->problems |= PCI_PROB_CAP_PTR;
			pci_log("pci " PCI_BDF_FMT ": capability pointer 0x%x out of range, list cut",
				PCI_BDF_ARGS(d), ptr);
			return;
		}
		if (seen & (1ull << (ptr / 4))) {
			d->problems |= PCI_PROB_CAP_LOOP;
			pci_log("pci " PCI_BDF_FMT ": capability list loops at 0x%x, list cut",
				PCI_BDF_ARGS(d), ptr);
			return;
		}
		seen |= 1ull << (ptr / 4);
		if (d->ncaps == PCI_MAX_CAPS) {
			d->problems |= PCI_PROB_CAP_OVERFLOW;
			pci_log("pci " PCI_BDF_FMT ": more than %d capabilities, rest ignored",
				PCI_BDF_ARGS(d), PCI_MAX_CAPS);
			return;
		}
		id = pci_cfg_read8(d, ptr + PCI_CAP_ID);
		next = pci_cfg_read8(d, ptr + PCI_CAP_NEXT);
		d->caps[d->ncaps].id = id;
		d->caps[d->ncaps].off = ptr;
		d->ncaps++;
		if (id == PCI_CAP_ID_PCIE && !d->is_pcie) {
			d->is_pcie = true;
			d->pcie_type = (uint8_t)((pci_cfg_read16(d, ptr + PCI_EXP_FLAGS) &
						  PCI_EXP_FLAGS_TYPE) >>
						 PCI_EXP_FLAGS_TYPE_SHIFT);
		}
		ptr = next & PCI_CAP_PTR_MASK;
	}
}

static void walk_ext_caps(struct pci_dev *d)
{
	/* One bit per dword of the 4 KiB space. */
	uint64_t seen[PCI_CFG_SIZE_PCIE / 4 / 64] = {0};
	uint16_t off = PCI_EXT_CAP_START;

	for (;;) {
		uint32_t h = pci_cfg_read32(d, off);
		uint16_t next;

		/* 0: no (more) capabilities [PCIe 7.6.3]; all ones: no extended space at all
		 * (a conventional function behind ECAM). */
		if (h == 0 || h == 0xFFFFFFFFu)
			return;
		if (seen[off / 4 / 64] & (1ull << (off / 4 % 64))) {
			d->problems |= PCI_PROB_ECAP_LOOP;
			pci_log("pci " PCI_BDF_FMT ": extended capability list loops at 0x%x, list cut",
				PCI_BDF_ARGS(d), off);
			return;
		}
		seen[off / 4 / 64] |= 1ull << (off / 4 % 64);
		if (d->necaps == PCI_MAX_ECAPS) {
			d->problems |= PCI_PROB_ECAP_OVERFLOW;
			pci_log("pci " PCI_BDF_FMT ": more than %d extended capabilities, rest ignored",
				PCI_BDF_ARGS(d), PCI_MAX_ECAPS);
			return;
		}
		d->ecaps[d->necaps].id = PCI_EXT_CAP_ID(h);
		d->ecaps[d->necaps].off = off;
		d->necaps++;
		next = PCI_EXT_CAP_NEXT(h);
		if (next == 0)
			return;
		if (next < PCI_EXT_CAP_START || next > PCI_CFG_SIZE_PCIE - 4) {
			d->problems |= PCI_PROB_ECAP_PTR;
			pci_log("pci " PCI_BDF_FMT
				": extended capability pointer 0x%x out of range, list cut",
				PCI_BDF_ARGS(d), next);
			return;
		}
		off = next;
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Enumeration                                                                               */

/* Buses already scanned: a second bridge claiming one of them is broken (or a loop). */
static uint8_t bus_seen[PCI_MAX_BUS / 8];

static struct pci_dev *add_function(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t depth)
{
	struct pci_dev *d;
	uint32_t class_rev;
	uint8_t hdr;

	if (pci_state.ndevs == PCI_MAX_DEVS) {
		pci_state.dropped++;
		pci_log("pci %02x:%02x.%x: device table full (%d), not recorded", bus, dev, fn,
			PCI_MAX_DEVS);
		return NULL;
	}
	d = &pci_state.devs[pci_state.ndevs++];
	memset(d, 0, sizeof(*d));
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->depth = depth;
	d->vendor = pci_cfg_read16(d, PCI_VENDOR_ID);
	d->device = pci_cfg_read16(d, PCI_DEVICE_ID);
	class_rev = pci_cfg_read32(d, PCI_REVISION_ID);
	d->revision = (uint8_t)class_rev;
	d->prog_if = (uint8_t)(class_rev >> 8);
	d->subclass = (uint8_t)(class_rev >> 16);
	d->class_code = (uint8_t)(class_rev >> 24);
	hdr = pci_cfg_read8(d, PCI_HEADER_TYPE);
	d->header_type = hdr & PCI_HEADER_TYPE_MASK;
	d->multifunction = (hdr & PCI_HEADER_MULTIFUNC) != 0;
	d->irq_line = PCI_INT_LINE_NONE;

	switch (d->header_type) {
	case PCI_HEADER_TYPE_NORMAL:
		d->nbars = PCI_BARS_NORMAL;
		d->subsys_vendor = pci_cfg_read16(d, PCI_SUBSYS_VENDOR);
		d->subsys_id = pci_cfg_read16(d, PCI_SUBSYS_ID);
		break;
	case PCI_HEADER_TYPE_BRIDGE:
		d->nbars = PCI_BARS_BRIDGE;
		d->sec_bus = pci_cfg_read8(d, PCI_SECONDARY_BUS);
		d->sub_bus = pci_cfg_read8(d, PCI_SUBORDINATE_BUS);
		break;
	case PCI_HEADER_TYPE_CARDBUS:
		break; /* no CardBus support: recorded, not followed */
	default:
		d->problems |= PCI_PROB_HEADER;
		pci_log("pci " PCI_BDF_FMT ": unknown header type 0x%x, only ids recorded",
			PCI_BDF_ARGS(d), d->header_type);
		return d;
	}

	if (d->header_type != PCI_HEADER_TYPE_CARDBUS) {
		d->irq_pin = pci_cfg_read8(d, PCI_INT_PIN);
		d->irq_line = pci_cfg_read8(d, PCI_INT_LINE);
		if (d->irq_pin > PCI_INT_PIN_MAX) {
			d->problems |= PCI_PROB_INT_PIN;
			pci_log("pci " PCI_BDF_FMT ": interrupt pin %u invalid, ignored",
				PCI_BDF_ARGS(d), d->irq_pin);
			d->irq_pin = PCI_INT_PIN_NONE;
		}
		if (d->irq_pin == PCI_INT_PIN_NONE)
			d->irq_line = PCI_INT_LINE_NONE;
	}

	size_bars(d);
	walk_caps(d);
	if (d->is_pcie && pci_state.cfg_size >= PCI_CFG_SIZE_PCIE)
		walk_ext_caps(d);
	pci_msi_parse(d);
	return d;
}

static void scan_bus(uint8_t bus, uint8_t depth, uint8_t max_bus);

/* Follow bridge d (found on bus `bus`, whose own range ends at max_bus) to its secondary bus,
 * unless its numbers cannot be right. */
static void follow_bridge(struct pci_dev *d, uint8_t bus, uint8_t depth, uint8_t max_bus)
{
	const char *why = NULL;

	if (d->sec_bus == 0)
		why = "secondary bus 0 (not configured)";
	else if (d->sec_bus <= bus)
		why = "secondary bus not above its own bus";
	else if (d->sec_bus > max_bus)
		why = "secondary bus outside the parent's range";
	else if (d->sub_bus < d->sec_bus)
		why = "subordinate bus below secondary bus";
	else if (bus_seen[d->sec_bus / 8] & (1u << (d->sec_bus % 8)))
		why = "secondary bus already scanned";
	else if (depth + 1 > PCI_MAX_DEPTH)
		why = "too deep";
	if (why) {
		d->problems |= PCI_PROB_BRIDGE;
		pci_log("pci " PCI_BDF_FMT ": bridge to bus %02x-%02x not followed: %s",
			PCI_BDF_ARGS(d), d->sec_bus, d->sub_bus, why);
		return;
	}
	scan_bus(d->sec_bus, (uint8_t)(depth + 1), d->sub_bus);
}

static void scan_bus(uint8_t bus, uint8_t depth, uint8_t max_bus)
{
	bus_seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
	for (uint8_t dev = 0; dev < PCI_MAX_DEV; dev++) {
		uint16_t vendor = (uint16_t)pci_cfg_read(bus, dev, 0, PCI_VENDOR_ID, 2);
		uint8_t nfn;

		if (vendor == PCI_VENDOR_NONE || vendor == 0)
			continue;
		/* Functions 1..7 exist only if function 0 says so; a single-function device may
		 * decode every function number and would otherwise appear eight times. */
		nfn = pci_cfg_read(bus, dev, 0, PCI_HEADER_TYPE, 1) & PCI_HEADER_MULTIFUNC
			      ? PCI_MAX_FN
			      : 1;
		for (uint8_t fn = 0; fn < nfn; fn++) {
			struct pci_dev *d;

			if (fn) {
				vendor = (uint16_t)pci_cfg_read(bus, dev, fn, PCI_VENDOR_ID, 2);
				if (vendor == PCI_VENDOR_NONE || vendor == 0)
					continue;
			}
			d = add_function(bus, dev, fn, depth);
			if (d && d->header_type == PCI_HEADER_TYPE_BRIDGE)
				follow_bridge(d, bus, depth, max_bus);
		}
	}
}

static int bdf_key(const struct pci_dev *d)
{
	return d->bus << 8 | d->dev << 3 | d->fn;
}

int pci_init(uint16_t cfg_size)
{
	/* Drop the old table, keep the driver registrations. */
	memset(pci_state.devs, 0, sizeof(pci_state.devs));
	pci_state.ndevs = 0;
	pci_state.dropped = 0;
	memset(bus_seen, 0, sizeof(bus_seen));
	pci_state.cfg_size = cfg_size >= PCI_CFG_SIZE_PCIE ? PCI_CFG_SIZE_PCIE : PCI_CFG_SIZE;

	scan_bus(0, 0, PCI_MAX_BUS - 1);

	/* Depth-first discovery interleaves buses; list in bus:dev.fn order like lspci and
	 * QEMU's "info pci". Insertion sort: at most PCI_MAX_DEVS entries, done once. */
	for (size_t i = 1; i < pci_state.ndevs; i++) {
		struct pci_dev tmp = pci_state.devs[i];
		size_t j = i;

		while (j > 0 && bdf_key(&pci_state.devs[j - 1]) > bdf_key(&tmp)) {
			pci_state.devs[j] = pci_state.devs[j - 1];
			j--;
		}
		pci_state.devs[j] = tmp;
	}
	if (pci_state.dropped)
		pci_log("pci: %u functions not recorded (table holds %d)",
			(unsigned)pci_state.dropped, PCI_MAX_DEVS);
	return (int)pci_state.ndevs;
}

size_t pci_dev_count(void)
{
	return pci_state.ndevs;
}

struct pci_dev *pci_dev_at(size_t i)
{
	return i < pci_state.ndevs ? &pci_state.devs[i] : NULL;
}

struct pci_dev *pci_find_bdf(uint8_t bus, uint8_t dev, uint8_t fn)
{
	for (size_t i = 0; i < pci_state.ndevs; i++) {
		struct pci_dev *d = &pci_state.devs[i];

		if (d->bus == bus && d->dev == dev && d->fn == fn)
			return d;
	}
	return NULL;
}

struct pci_dev *pci_find_device(uint16_t vendor, uint16_t device, const struct pci_dev *from)
{
	size_t i = from ? (size_t)(from - pci_state.devs) + 1 : 0;

	for (; i < pci_state.ndevs; i++) {
		struct pci_dev *d = &pci_state.devs[i];

		if ((vendor == PCI_ANY_ID || d->vendor == vendor) &&
		    (device == PCI_ANY_ID || d->device == device))
			return d;
	}
	return NULL;
}
