/* Fake PCI configuration space for the host tests (see pci_fake.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/host/pci_fake.h"

static char log_buf[65536];
static size_t log_len;
static struct fake_pci *cur; /* the fake behind the port */

void pci_port_log(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (log_len >= sizeof(log_buf) - 2)
		return;
	va_start(ap, fmt);
	n = vsnprintf(log_buf + log_len, sizeof(log_buf) - log_len - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	log_len += (size_t)n;
	if (log_len > sizeof(log_buf) - 2)
		log_len = sizeof(log_buf) - 2;
	log_buf[log_len++] = '\n';
	log_buf[log_len] = '\0';
}

const char *fake_log(void)
{
	return log_buf;
}

bool fake_log_has(const char *needle)
{
	return strstr(log_buf, needle) != NULL;
}

struct fake_fn *fake_find(struct fake_pci *f, uint8_t bus, uint8_t dev, uint8_t fn)
{
	for (size_t i = 0; i < f->nfns; i++) {
		struct fake_fn *x = f->fns[i];

		if (x->bus == bus && x->dev == dev && x->fn == fn)
			return x;
	}
	return NULL;
}

static bool access_ok(struct fake_pci *f, uint16_t off, int width)
{
	if ((width != 1 && width != 2 && width != 4) || (off & (width - 1)) ||
	    (uint32_t)off + (uint32_t)width > f->cfg_size) {
		f->bad_accesses++;
		return false;
	}
	return true;
}

uint32_t pci_port_cfg_read(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width)
{
	struct fake_pci *f = cur;
	struct fake_fn *x;
	uint32_t v = 0;

	if (!access_ok(f, off, width))
		return 0xFFFFFFFFu;
	if (f->ecam) {
		volatile uint8_t *a = pci_ecam_addr(f->ecam, bus, dev, fn, off);
		if (!a)
			return 0xFFFFFFFFu;
		for (int i = width - 1; i >= 0; i--)
			v = v << 8 | a[i];
		return v;
	}
	if (off >= PCI_CFG_SIZE)
		f->ext_reads++;
	x = fake_find(f, bus, dev, fn);
	if (!x)
		return width == 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1;
	for (int i = width - 1; i >= 0; i--)
		v = v << 8 | x->cfg[off + i];
	return v;
}

static bool is_bar_offset(const struct fake_fn *x, uint16_t off)
{
	unsigned n = (x->cfg[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK) == PCI_HEADER_TYPE_BRIDGE
			     ? PCI_BARS_BRIDGE
			     : PCI_BARS_NORMAL;

	return off >= PCI_BAR0 && off < PCI_BAR0 + n * PCI_BAR_STRIDE;
}

void pci_port_cfg_write(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width,
			uint32_t val)
{
	struct fake_pci *f = cur;
	struct fake_fn *x;

	if (!access_ok(f, off, width))
		return;
	if (f->ecam) {
		volatile uint8_t *a = pci_ecam_addr(f->ecam, bus, dev, fn, off);
		for (int i = 0; a && i < width; i++)
			a[i] = (uint8_t)(val >> (8 * i));
		return;
	}
	x = fake_find(f, bus, dev, fn);
	if (!x)
		return;
	x->writes++;
	if (is_bar_offset(x, off) &&
	    (fake_get16(x, PCI_COMMAND) & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)))
		x->bar_write_while_decoding = true;
	for (int i = 0; i < width; i++) {
		uint8_t m = x->wmask[off + i];
		uint8_t b = (uint8_t)(val >> (8 * i));

		x->cfg[off + i] = (uint8_t)((x->cfg[off + i] & ~m) | (b & m));
	}
}

void *pci_port_map_mmio(uint64_t phys, uint64_t size)
{
	struct fake_pci *f = cur;

	f->map_calls++;
	f->last_map_phys = phys;
	f->last_map_size = size;
	for (size_t i = 0; i < f->nmmio; i++) {
		struct fake_mmio *m = &f->mmio[i];

		if (phys >= m->phys && size <= m->size && phys - m->phys <= m->size - size)
			return m->buf + (phys - m->phys);
	}
	return NULL;
}

/* Host memory stands in for device memory. */
uint32_t pci_port_mmio_read32(const volatile void *addr)
{
	return *(const volatile uint32_t *)addr;
}

void pci_port_mmio_write32(volatile void *addr, uint32_t val)
{
	*(volatile uint32_t *)addr = val;
}

/* What the kernel's LAPIC helper composes on x86 (Intel SDM vol. 3, 10.11): fixed delivery,
 * physical destination, edge. */
void pci_port_msi_compose(uint8_t vector, uint32_t cpu, uint64_t *addr, uint32_t *data)
{
	if (cur->msi_compose) {
		cur->msi_compose(vector, cpu, addr, data);
		return;
	}
	*addr = 0xFEE00000u | (uint64_t)(cpu & 0xFF) << 12;
	*data = vector;
}

int pci_port_intx_attach(const struct pci_dev *dev, uint8_t line, pci_intx_handler_t handler,
			 void *arg)
{
	struct fake_pci *f = cur;

	if (f->intx_ret)
		return f->intx_ret;
	if (f->nintx == FAKE_MAX_INTX)
		return -28; /* ENOSPC */
	f->intx[f->nintx].dev = dev;
	f->intx[f->nintx].line = line;
	f->intx[f->nintx].handler = handler;
	f->intx[f->nintx].arg = arg;
	f->nintx++;
	return 0;
}

void fake_reset(struct fake_pci *f, uint16_t cfg_size)
{
	for (size_t i = 0; i < f->nfns; i++)
		free(f->fns[i]);
	for (size_t i = 0; i < f->nmmio; i++)
		free(f->mmio[i].buf);
	memset(f, 0, sizeof(*f));
	f->cfg_size = cfg_size;
	cur = f;
	log_len = 0;
	log_buf[0] = '\0';
}

void fake_set8(struct fake_fn *x, uint16_t off, uint8_t v)
{
	x->cfg[off] = v;
}

void fake_set16(struct fake_fn *x, uint16_t off, uint16_t v)
{
	x->cfg[off] = (uint8_t)v;
	x->cfg[off + 1] = (uint8_t)(v >> 8);
}

void fake_set32(struct fake_fn *x, uint16_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		x->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

uint8_t fake_get8(const struct fake_fn *x, uint16_t off)
{
	return x->cfg[off];
}

uint16_t fake_get16(const struct fake_fn *x, uint16_t off)
{
	return (uint16_t)(x->cfg[off] | x->cfg[off + 1] << 8);
}

uint32_t fake_get32(const struct fake_fn *x, uint16_t off)
{
	return (uint32_t)fake_get16(x, off) | (uint32_t)fake_get16(x, off + 2) << 16;
}

void fake_wmask32(struct fake_fn *x, uint16_t off, uint32_t mask)
{
	for (int i = 0; i < 4; i++)
		x->wmask[off + i] |= (uint8_t)(mask >> (8 * i));
}

static void fake_wmask16(struct fake_fn *x, uint16_t off, uint16_t mask)
{
	x->wmask[off] |= (uint8_t)mask;
	x->wmask[off + 1] |= (uint8_t)(mask >> 8);
}

struct fake_fn *fake_add(struct fake_pci *f, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor,
			 uint16_t device, uint32_t class24, uint8_t hdr)
{
	struct fake_fn *x = calloc(1, sizeof(*x));

	if (!x || f->nfns == FAKE_MAX_FNS)
		abort();
	f->fns[f->nfns++] = x;
	x->bus = bus;
	x->dev = dev;
	x->fn = fn;
	/* Unimplemented registers read as zero; a PCIe function without extended
	 * capabilities has a zero header at 0x100. */
	fake_set16(x, PCI_VENDOR_ID, vendor);
	fake_set16(x, PCI_DEVICE_ID, device);
	fake_set8(x, PCI_PROG_IF, (uint8_t)class24);
	fake_set8(x, PCI_SUBCLASS, (uint8_t)(class24 >> 8));
	fake_set8(x, PCI_CLASS, (uint8_t)(class24 >> 16));
	fake_set8(x, PCI_HEADER_TYPE, hdr);
	/* Firmware left decode on, as SeaBIOS does for devices with BARs. */
	fake_set16(x, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	fake_wmask16(x, PCI_COMMAND,
		     PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			     PCI_COMMAND_INTX_DISABLE);
	x->wmask[PCI_INT_LINE] = 0xFF;
	return x;
}

void fake_bar(struct fake_fn *x, unsigned idx, enum fake_bar_kind kind, uint64_t size,
	      uint64_t addr, bool prefetch)
{
	uint16_t off = (uint16_t)(PCI_BAR0 + idx * PCI_BAR_STRIDE);
	uint64_t amask = ~(size - 1); /* writable address bits */

	switch (kind) {
	case FAKE_IO16:
		fake_set32(x, off, (uint32_t)(addr & 0xFFFC) | PCI_BAR_SPACE_IO);
		fake_wmask32(x, off, (uint32_t)amask & 0x0000FFFCu);
		break;
	case FAKE_IO32:
		fake_set32(x, off, (uint32_t)(addr & PCI_BAR_IO_MASK) | PCI_BAR_SPACE_IO);
		fake_wmask32(x, off, (uint32_t)amask & PCI_BAR_IO_MASK);
		break;
	case FAKE_MEM32:
		fake_set32(x, off,
			   (uint32_t)(addr & PCI_BAR_MEM_MASK) |
				   (prefetch ? PCI_BAR_MEM_PREFETCH : 0));
		fake_wmask32(x, off, (uint32_t)amask & PCI_BAR_MEM_MASK);
		break;
	case FAKE_MEM64:
		fake_set32(x, off,
			   (uint32_t)(addr & PCI_BAR_MEM_MASK) | PCI_BAR_MEM_TYPE_64 |
				   (prefetch ? PCI_BAR_MEM_PREFETCH : 0));
		fake_set32(x, off + 4, (uint32_t)(addr >> 32));
		fake_wmask32(x, off, (uint32_t)amask & PCI_BAR_MEM_MASK);
		fake_wmask32(x, off + 4, (uint32_t)(amask >> 32));
		break;
	}
}

void fake_cap_start(struct fake_fn *x, uint8_t ptr)
{
	unsigned hdr = x->cfg[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK;

	fake_set16(x, PCI_STATUS, fake_get16(x, PCI_STATUS) | PCI_STATUS_CAP_LIST);
	fake_set8(x, hdr == PCI_HEADER_TYPE_CARDBUS ? PCI_CB_CAP_PTR : PCI_CAP_PTR, ptr);
}

void fake_cap(struct fake_fn *x, uint8_t off, uint8_t id, uint8_t next)
{
	fake_set8(x, off + PCI_CAP_ID, id);
	fake_set8(x, off + PCI_CAP_NEXT, next);
}

void fake_msix_cap(struct fake_fn *x, uint8_t off, uint8_t next, uint16_t nent, uint8_t tbir,
		   uint32_t toff, uint8_t pbir, uint32_t poff)
{
	fake_cap(x, off, PCI_CAP_ID_MSIX, next);
	fake_set16(x, off + PCI_MSIX_CTRL, (uint16_t)((nent - 1) & PCI_MSIX_CTRL_QSIZE));
	fake_wmask16(x, off + PCI_MSIX_CTRL, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	fake_set32(x, off + PCI_MSIX_TABLE, toff | tbir);
	fake_set32(x, off + PCI_MSIX_PBA, poff | pbir);
}

void fake_msi_cap(struct fake_fn *x, uint8_t off, uint8_t next, bool is64, bool maskable,
		  uint8_t mmc)
{
	uint16_t ctrl = (uint16_t)(mmc << PCI_MSI_CTRL_MMC_SHIFT);

	if (is64)
		ctrl |= PCI_MSI_CTRL_64BIT;
	if (maskable)
		ctrl |= PCI_MSI_CTRL_MASKBIT;
	fake_cap(x, off, PCI_CAP_ID_MSI, next);
	fake_set16(x, off + PCI_MSI_CTRL, ctrl);
	fake_wmask16(x, off + PCI_MSI_CTRL, PCI_MSI_CTRL_ENABLE | PCI_MSI_CTRL_MME);
	fake_wmask32(x, off + PCI_MSI_ADDR_LO, 0xFFFFFFFCu);
	if (is64) {
		fake_wmask32(x, off + PCI_MSI_ADDR_HI, 0xFFFFFFFFu);
		fake_wmask16(x, off + PCI_MSI_DATA_64, 0xFFFF);
	} else {
		fake_wmask16(x, off + PCI_MSI_DATA_32, 0xFFFF);
	}
	if (maskable) {
		uint16_t moff = off + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);

		uint32_t nvec = 1u << mmc;
		uint32_t bits = nvec >= 32 ? 0xFFFFFFFFu : (1u << nvec) - 1;

		fake_set32(x, moff, bits); /* every implemented vector masked, as at reset */
		fake_wmask32(x, moff, bits);
	}
}

void fake_virtio_cap(struct fake_fn *x, uint8_t off, uint8_t next, uint8_t cfg_type,
		     uint8_t bar, uint32_t offset, uint32_t length)
{
	fake_cap(x, off, PCI_CAP_ID_VNDR, next);
	fake_set8(x, off + 2, cfg_type == 2 ? 20 : 16); /* cap_len (notify adds a multiplier) */
	fake_set8(x, off + 3, cfg_type);
	fake_set8(x, off + 4, bar);
	fake_set32(x, off + 8, offset);
	fake_set32(x, off + 12, length);
}

void fake_pcie_cap(struct fake_fn *x, uint8_t off, uint8_t next, uint8_t type)
{
	fake_cap(x, off, PCI_CAP_ID_PCIE, next);
	fake_set16(x, off + PCI_EXP_FLAGS, (uint16_t)(2 | type << PCI_EXP_FLAGS_TYPE_SHIFT));
}

void fake_ecap(struct fake_fn *x, uint16_t off, uint16_t id, uint8_t ver, uint16_t next)
{
	fake_set32(x, off, (uint32_t)id | (uint32_t)(ver & 0xF) << 16 | (uint32_t)next << 20);
}

void fake_bridge(struct fake_fn *x, uint8_t primary, uint8_t secondary, uint8_t subordinate)
{
	fake_set8(x, PCI_PRIMARY_BUS, primary);
	fake_set8(x, PCI_SECONDARY_BUS, secondary);
	fake_set8(x, PCI_SUBORDINATE_BUS, subordinate);
}

void fake_irq(struct fake_fn *x, uint8_t pin, uint8_t line)
{
	fake_set8(x, PCI_INT_PIN, pin);
	fake_set8(x, PCI_INT_LINE, line);
}

uint8_t *fake_mmio_region(struct fake_pci *f, uint64_t phys, uint64_t size)
{
	struct fake_mmio *m;

	if (f->nmmio == FAKE_MAX_MMIO)
		abort();
	m = &f->mmio[f->nmmio++];
	m->phys = phys;
	m->size = size;
	m->buf = calloc(1, (size_t)size);
	if (!m->buf)
		abort();
	return m->buf;
}

void fake_build_standard(struct fake_pci *f)
{
	struct fake_fn *x;

	x = fake_add(f, 0, 0, 0, 0x8086, 0x29c0, 0x060000, PCI_HEADER_TYPE_NORMAL);
	fake_set16(x, PCI_COMMAND, 0);

	/* virtio-net, transitional */
	x = fake_add(f, 0, 1, 0, 0x1af4, 0x1000, 0x020000, PCI_HEADER_TYPE_NORMAL);
	fake_set16(x, PCI_SUBSYS_VENDOR, 0x1af4);
	fake_set16(x, PCI_SUBSYS_ID, 0x0001);
	fake_bar(x, 0, FAKE_IO32, 0x20, 0xc040, false);
	fake_bar(x, 1, FAKE_MEM32, 0x1000, 0xfebd1000, false);
	fake_bar(x, 4, FAKE_MEM64, 0x4000, 0xfe000000, true);
	fake_cap_start(x, 0x98);
	fake_msix_cap(x, 0x98, 0x84, 3, 1, 0x0, 1, 0x800);
	fake_virtio_cap(x, 0x84, 0x70, 1, 4, 0x0, 0x1000);
	fake_virtio_cap(x, 0x70, 0x60, 2, 4, 0x3000, 0x1000);
	fake_virtio_cap(x, 0x60, 0x50, 3, 4, 0x1000, 0x1000);
	fake_virtio_cap(x, 0x50, 0x00, 4, 4, 0x2000, 0x1000);
	fake_irq(x, 1, 11);
	fake_mmio_region(f, 0xfebd1000, 0x1000);
	fake_mmio_region(f, 0xfe000000, 0x4000);

	/* A multifunction USB/SMBus device with a hole at function 2. */
	x = fake_add(f, 0, 2, 0, 0x8086, 0x2934, 0x0c0300, PCI_HEADER_MULTIFUNC);
	fake_bar(x, 4, FAKE_IO32, 0x20, 0xc060, false);
	fake_irq(x, 1, 10);
	x = fake_add(f, 0, 2, 1, 0x8086, 0x2935, 0x0c0300, PCI_HEADER_TYPE_NORMAL);
	fake_irq(x, 2, 11);
	x = fake_add(f, 0, 2, 3, 0x8086, 0x2930, 0x0c0500, PCI_HEADER_TYPE_NORMAL);
	fake_bar(x, 4, FAKE_IO16, 0x40, 0x0700, false);
	fake_cap_start(x, 0x80);
	fake_msi_cap(x, 0x80, 0x00, true, true, 0);
	fake_irq(x, 1, 10);

	/* PCIe root port to bus 1, a PCIe virtio-blk behind it. */
	x = fake_add(f, 0, 3, 0, 0x1b36, 0x000c, 0x060400, PCI_HEADER_TYPE_BRIDGE);
	fake_bridge(x, 0, 1, 1);
	fake_cap_start(x, 0x40);
	fake_pcie_cap(x, 0x40, 0x00, PCI_EXP_TYPE_ROOT_PORT);
	fake_irq(x, 1, 10);

	x = fake_add(f, 1, 0, 0, 0x1af4, 0x1042, 0x010000, PCI_HEADER_TYPE_NORMAL);
	fake_bar(x, 1, FAKE_MEM32, 0x1000, 0xfe800000, false);
	fake_bar(x, 4, FAKE_MEM64, 0x4000, 0x800000000ull, true);
	fake_cap_start(x, 0x98);
	fake_msix_cap(x, 0x98, 0x40, 2, 1, 0x0, 1, 0x800);
	fake_pcie_cap(x, 0x40, 0x00, PCI_EXP_TYPE_ENDPOINT);
	fake_ecap(x, 0x100, PCI_EXT_CAP_ID_AER, 2, 0x140);
	fake_ecap(x, 0x140, PCI_EXT_CAP_ID_DSN, 1, 0);
	fake_irq(x, 1, 10);
	fake_mmio_region(f, 0xfe800000, 0x1000);
	fake_mmio_region(f, 0x800000000ull, 0x4000);

	/* VGA with an unassigned BAR. */
	x = fake_add(f, 0, 4, 0, 0x1234, 0x1111, 0x030000, PCI_HEADER_TYPE_NORMAL);
	fake_bar(x, 0, FAKE_MEM32, 0x1000000, 0xfd000000, true);
	fake_bar(x, 2, FAKE_MEM32, 0x1000, 0, false);
	fake_set16(x, PCI_COMMAND, 0); /* firmware did not enable it: a BAR is unassigned */

	/* Conventional PCI-to-PCI bridges: 00 -> 02..03, 02 -> 03. */
	x = fake_add(f, 0, 5, 0, 0x1b36, 0x0001, 0x060400, PCI_HEADER_TYPE_BRIDGE);
	fake_bridge(x, 0, 2, 3);
	x = fake_add(f, 2, 1, 0, 0x1af4, 0x1005, 0x00ff00, PCI_HEADER_TYPE_NORMAL);
	fake_bar(x, 0, FAKE_IO32, 0x20, 0xd000, false);
	fake_irq(x, 1, 11);
	x = fake_add(f, 2, 2, 0, 0x1b36, 0x0001, 0x060400, PCI_HEADER_TYPE_BRIDGE);
	fake_bridge(x, 2, 3, 3);
	x = fake_add(f, 3, 0, 0, 0x1af4, 0x1043, 0x078000, PCI_HEADER_TYPE_NORMAL);
	fake_irq(x, 1, 10);

	/* ISA bridge, single function, but function 1 answers too (decodes all functions). */
	fake_add(f, 0, 0x1f, 0, 0x8086, 0x2918, 0x060100, PCI_HEADER_TYPE_NORMAL);
	fake_add(f, 0, 0x1f, 1, 0x8086, 0x2918, 0x060100, PCI_HEADER_TYPE_NORMAL);
}
