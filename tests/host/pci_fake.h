/*
 * A fake PCI configuration space for the host tests of drivers/pci.
 *
 * Each function is 4 KiB of bytes plus a per-bit write mask, which is enough to emulate what
 * the core depends on with real hardware semantics:
 *   - BARs: only the address bits above the size are writable, the type/prefetch bits are
 *     read-only, so writing all ones reads back the size mask (PCI 3.0, 6.2.5.1);
 *   - absent functions read all ones (master abort);
 *   - the command register's decode/master/INTx-disable bits are writable, the rest is not;
 *   - MSI-X tables and PBAs live in host buffers that map_mmio hands out for "physical"
 *     ranges registered with fake_mmio_region().
 * It also records what the core should never do: BAR writes while decode is on, misaligned or
 * out-of-range accesses, reads of the extended space.
 */
#ifndef VIREO_TESTS_PCI_FAKE_H
#define VIREO_TESTS_PCI_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/pci/pci.h"
#include "drivers/pci/pci_access.h"

#define FAKE_MAX_FNS   96
#define FAKE_MAX_MMIO  8
#define FAKE_MAX_INTX  8

struct fake_fn {
	uint8_t bus, dev, fn;
	uint8_t cfg[PCI_CFG_SIZE_PCIE];
	uint8_t wmask[PCI_CFG_SIZE_PCIE]; /* 1 = writable bit */
	bool bar_write_while_decoding;
	unsigned writes;
};

struct fake_mmio {
	uint64_t phys, size;
	uint8_t *buf;
};

struct fake_intx {
	const struct pci_dev *dev;
	uint8_t line;
	pci_intx_handler_t handler;
	void *arg;
};

struct fake_pci {
	struct fake_fn *fns[FAKE_MAX_FNS];
	size_t nfns;
	struct fake_mmio mmio[FAKE_MAX_MMIO];
	size_t nmmio;
	struct fake_intx intx[FAKE_MAX_INTX];
	size_t nintx;
	int intx_ret; /* what intx_attach returns */

	unsigned bad_accesses; /* misaligned, bad width, or beyond cfg_size */
	unsigned ext_reads;    /* reads at offsets >= 0x100 */
	unsigned map_calls;
	uint64_t last_map_phys, last_map_size;

	/* How the fake stands behind drivers/pci/pci_port.h (set after fake_reset). */
	uint16_t cfg_size;            /* what to pass to pci_init */
	const struct pci_ecam *ecam;  /* non-NULL: configuration access through this ECAM window
				       * (pci_ecam_addr) instead of the fake space */
	/* MSI message composer (default: the x86 LAPIC format). */
	void (*msi_compose)(uint8_t vector, uint32_t cpu, uint64_t *addr, uint32_t *data);
};

/* Start empty; cfg_size 4096 (ECAM-like) or 256 (port-I/O-like). Frees what was there. f is
 * the fake behind the PCI port from now on. */
void fake_reset(struct fake_pci *f, uint16_t cfg_size);
/* Everything logged since fake_reset, one line per log call. */
const char *fake_log(void);
bool fake_log_has(const char *needle);

/* Add a function; class24 = class << 16 | subclass << 8 | prog-if. hdr may carry
 * PCI_HEADER_MULTIFUNC. */
struct fake_fn *fake_add(struct fake_pci *f, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor,
			 uint16_t device, uint32_t class24, uint8_t hdr);
struct fake_fn *fake_find(struct fake_pci *f, uint8_t bus, uint8_t dev, uint8_t fn);

void fake_set8(struct fake_fn *fn, uint16_t off, uint8_t v);
void fake_set16(struct fake_fn *fn, uint16_t off, uint16_t v);
void fake_set32(struct fake_fn *fn, uint16_t off, uint32_t v);
uint8_t fake_get8(const struct fake_fn *fn, uint16_t off);
uint16_t fake_get16(const struct fake_fn *fn, uint16_t off);
uint32_t fake_get32(const struct fake_fn *fn, uint16_t off);
/* Make bits writable. */
void fake_wmask32(struct fake_fn *fn, uint16_t off, uint32_t mask);

enum fake_bar_kind { FAKE_IO16, FAKE_IO32, FAKE_MEM32, FAKE_MEM64 };
/* BAR idx of the given kind and size (a power of two), firmware address addr (0: unassigned). */
void fake_bar(struct fake_fn *fn, unsigned idx, enum fake_bar_kind kind, uint64_t size,
	      uint64_t addr, bool prefetch);
/* Start the capability list at ptr (sets the status bit). */
void fake_cap_start(struct fake_fn *fn, uint8_t ptr);
/* A bare capability header. */
void fake_cap(struct fake_fn *fn, uint8_t off, uint8_t id, uint8_t next);
/* MSI-X capability: nent entries, table at tbir+toff, PBA at pbir+poff. */
void fake_msix_cap(struct fake_fn *fn, uint8_t off, uint8_t next, uint16_t nent, uint8_t tbir,
		   uint32_t toff, uint8_t pbir, uint32_t poff);
/* MSI capability with writable address/data/mask registers. */
void fake_msi_cap(struct fake_fn *fn, uint8_t off, uint8_t next, bool is64, bool maskable,
		  uint8_t mmc);
/* virtio vendor capability [virtio 1.1 4.1.4]: cfg_type, bar, offset, length. */
void fake_virtio_cap(struct fake_fn *fn, uint8_t off, uint8_t next, uint8_t cfg_type,
		     uint8_t bar, uint32_t offset, uint32_t length);
/* PCIe capability of the given device/port type. */
void fake_pcie_cap(struct fake_fn *fn, uint8_t off, uint8_t next, uint8_t type);
/* Extended capability header at off (>= 0x100). */
void fake_ecap(struct fake_fn *fn, uint16_t off, uint16_t id, uint8_t ver, uint16_t next);
void fake_bridge(struct fake_fn *fn, uint8_t primary, uint8_t secondary, uint8_t subordinate);
void fake_irq(struct fake_fn *fn, uint8_t pin, uint8_t line);

/* A "physical" range map_mmio can map; returns the zeroed host buffer behind it. */
uint8_t *fake_mmio_region(struct fake_pci *f, uint64_t phys, uint64_t size);

/*
 * The standard topology used by most tests (addresses as SeaBIOS would assign on q35):
 *   00:00.0 8086:29c0 host bridge
 *   00:01.0 1af4:1000 virtio-net (transitional): BAR0 io 0xc040/0x20, BAR1 mem32
 *           0xfebd1000/0x1000 (MSI-X: 3 entries, table +0, PBA +0x800), BAR4 mem64 prefetch
 *           0xfe000000/0x4000; caps 0x98 MSI-X -> 0x84 virtio common -> 0x70 notify
 *           -> 0x60 isr -> 0x50 device; INTA line 11
 *   00:02.0 8086:2934 USB (multifunction), BAR4 io 0xc060/0x20, INTA line 10
 *   00:02.1 8086:2935 USB, INTB line 11
 *   00:02.3 8086:2930 SMBus, MSI (64-bit, maskable) only, BAR4 io 0x0700/0x40 (16-bit)
 *   00:03.0 1b36:000c PCIe root port (bridge 00 -> 01..01); caps 0x40 PCIe root port
 *   01:00.0 1af4:1042 virtio-blk (modern): BAR1 mem32 0xfe800000/0x1000 (MSI-X 2 entries,
 *           table +0, PBA +0x800), BAR4 mem64 prefetch 0x800000000/0x4000 (above 4 GiB);
 *           caps 0x98 MSI-X -> 0x40 PCIe endpoint; ecaps 0x100 AER -> 0x140 DSN; INTA line 10
 *   00:04.0 1234:1111 VGA: BAR0 mem32 prefetch 0xfd000000/16 MiB, BAR2 mem32 unassigned 0x1000
 *   00:05.0 1b36:0001 PCI-to-PCI bridge (00 -> 02..03)
 *   02:01.0 1af4:1005 virtio-rng (transitional), BAR0 io 0xd000/0x20, INTA line 11
 *   02:02.0 1b36:0001 PCI-to-PCI bridge (02 -> 03..03)
 *   03:00.0 1af4:1043 virtio-console (modern), no BARs, INTA line 10
 *   00:1f.0 8086:2918 ISA bridge, multifunction bit clear but a ghost 00:1f.1 answers too
 */
void fake_build_standard(struct fake_pci *f);

#endif
