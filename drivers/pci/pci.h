/*
 * Vireo's portable PCI layer: configuration access, enumeration, BAR decoding, capability
 * lists, MSI-X / MSI / INTx, a driver model and lspci. See docs/PCI.md.
 *
 * The core never touches hardware: every configuration access, MMIO mapping, MSI message and
 * interrupt hook-up goes through its port (pci_port.h), which the host defines. The same files
 * are built into the kernel and into the host unit tests (tests/host/test_pci.c), where a fake
 * configuration space stands behind the port.
 *
 * Concurrency: the layer keeps one global device table and is not locked. Call pci_init(),
 * pci_register_driver() and pci_probe_all() from one thread during boot; afterwards the
 * per-device functions may be used by the driver that owns the device.
 */
#ifndef VIREO_PCI_H
#define VIREO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/pci/pci_port.h"
#include "drivers/pci/pci_regs.h"

/* Bounds of the static tables. Anything beyond them is logged and dropped. */
#define PCI_MAX_DEVS    64 /* functions in the device table */
#define PCI_MAX_CAPS    16 /* legacy capabilities recorded per function */
#define PCI_MAX_ECAPS   16 /* extended capabilities recorded per function */
#define PCI_MAX_DRIVERS 16
#define PCI_MAX_DEPTH   8  /* bridges followed below the host bridge's bus */

struct pci_dev;

/* ----------------------------------------------------------------------------------------- */
/* Device table.                                                                             */

enum pci_bar_type {
	PCI_BAR_NONE = 0,   /* not implemented (or malformed, see pci_dev.problems) */
	PCI_BAR_IO,         /* I/O ports */
	PCI_BAR_MEM32,      /* memory, 32-bit address */
	PCI_BAR_MEM64,      /* memory, 64-bit address; the next slot is PCI_BAR_MEM64_HI */
	PCI_BAR_MEM64_HI,   /* upper half of the previous 64-bit BAR */
};

struct pci_bar {
	enum pci_bar_type type;
	bool prefetch;  /* memory BARs: prefetchable */
	bool assigned;  /* firmware gave it a (size-aligned, non-zero) address */
	uint64_t addr;  /* bus address (= physical on x86); port number for I/O */
	uint64_t size;  /* bytes (or ports); a power of two */
	void *virt;     /* pci_bar_map() result, NULL until mapped */
};

struct pci_cap {
	uint16_t id;  /* capability ID (8-bit legacy, 16-bit extended) */
	uint16_t off; /* offset in configuration space */
};

/* Problems found in a function's configuration space: logged, recorded here, and the
 * offending structure skipped. */
#define PCI_PROB_CAP_LOOP      0x0001 /* legacy capability list revisits an entry */
#define PCI_PROB_CAP_PTR       0x0002 /* capability pointer below 0x40 or beyond the space */
#define PCI_PROB_CAP_OVERFLOW  0x0004 /* more capabilities than PCI_MAX_CAPS */
#define PCI_PROB_ECAP_LOOP     0x0008
#define PCI_PROB_ECAP_PTR      0x0010 /* extended pointer below 0x100 or beyond 4 KiB */
#define PCI_PROB_ECAP_OVERFLOW 0x0020
#define PCI_PROB_BAR_ZERO      0x0040 /* a BAR that decodes something sizes to zero */
#define PCI_PROB_BAR_TYPE      0x0080 /* reserved memory type, or 64-bit BAR in the last slot */
#define PCI_PROB_BAR_SIZE      0x0100 /* size mask not contiguous (not a power of two) */
#define PCI_PROB_BAR_ALIGN     0x0200 /* address not aligned to the size */
#define PCI_PROB_BRIDGE        0x0400 /* bridge bus numbers unusable (0, <= own, loop, depth) */
#define PCI_PROB_HEADER        0x0800 /* unknown header type */
#define PCI_PROB_INT_PIN       0x1000 /* interrupt pin > 4 */
#define PCI_PROB_MSIX          0x2000 /* MSI-X table/PBA outside an assigned memory BAR */

struct pci_msix_info {
	uint16_t cap;        /* capability offset, 0 = no MSI-X */
	uint16_t size;       /* entries */
	uint8_t table_bar;
	uint32_t table_off;  /* from the BAR start */
	uint8_t pba_bar;
	uint32_t pba_off;
	bool usable;         /* table and PBA lie inside assigned memory BARs */
	bool enabled;
	volatile struct pci_msix_entry *table; /* mapped by pci_msix_enable() */
	volatile uint32_t *pba; /* read as dwords: bit n of dword n / 32 */
};

struct pci_msi_info {
	uint16_t cap;     /* capability offset, 0 = no MSI */
	bool is64;        /* 64-bit message address */
	bool maskable;    /* per-vector mask bits */
	uint8_t max_log2; /* log2 of the vectors the function can request */
	bool enabled;
};

enum pci_irq_mode {
	PCI_IRQ_NONE = 0,
	PCI_IRQ_INTX,
	PCI_IRQ_MSI,
	PCI_IRQ_MSIX,
};

struct pci_driver;
struct pci_device_id;

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_id; /* type 0 headers only */
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t header_type; /* without the multifunction bit */
	bool multifunction;
	uint8_t depth;       /* bridges between the host bridge's bus and this function */

	/* Type 1 headers: bus numbers as firmware assigned them. */
	uint8_t sec_bus, sub_bus;

	uint8_t nbars; /* BAR slots in this header type: 6, 2 or 0 */
	struct pci_bar bar[PCI_BARS_NORMAL];

	uint8_t ncaps, necaps;
	struct pci_cap caps[PCI_MAX_CAPS];   /* legacy list, in list order */
	struct pci_cap ecaps[PCI_MAX_ECAPS]; /* extended list, in list order */
	bool is_pcie;
	uint8_t pcie_type; /* PCI_EXP_TYPE_*, when is_pcie */

	uint8_t irq_pin;  /* 0 none, 1..4 INTA..INTD */
	uint8_t irq_line; /* firmware-assigned line, PCI_INT_LINE_NONE when unknown */
	enum pci_irq_mode irq_mode; /* what is currently enabled */

	struct pci_msix_info msix;
	struct pci_msi_info msi;

	uint32_t problems; /* PCI_PROB_* */

	const struct pci_driver *driver; /* bound driver, NULL if none */
	int probe_err;                   /* last failed probe's error, 0 if none */
	void *driver_data;               /* the driver's */
};

/*
 * Enumerate every function reachable from bus 0 through the port: all 32 devices of each bus,
 * functions 1..7 where function 0 says multifunction, and the secondary bus of every PCI-to-PCI
 * bridge / PCIe port (depth first, numbers as firmware assigned them). Sizes the BARs, walks the
 * capability lists. cfg_size is the configuration space the port reaches per function:
 * PCI_CFG_SIZE_PCIE (4096, ECAM; extended capabilities are walked) or PCI_CFG_SIZE (256, ports
 * 0xCF8/0xCFC). Forgets any previous enumeration (and the bindings in it); driver
 * registrations are kept, so drivers may register before or after pci_init().
 * Returns the number of functions recorded.
 */
int pci_init(uint16_t cfg_size);

/* Number of functions in the table, and the i-th one (NULL when out of range). Table order is
 * the scan order: each bus in device/function order, a bridge's buses right after it. */
size_t pci_dev_count(void);
struct pci_dev *pci_dev_at(size_t i);
/* Function at bus:dev.fn, or NULL. */
struct pci_dev *pci_find_bdf(uint8_t bus, uint8_t dev, uint8_t fn);
/* Next function after from (NULL: from the start) with these ids; PCI_ANY_ID matches all. */
struct pci_dev *pci_find_device(uint16_t vendor, uint16_t device, const struct pci_dev *from);

/* ----------------------------------------------------------------------------------------- */
/* Configuration access. Reads of a misaligned or out-of-range offset return all ones and writes
 * are dropped (both logged). Valid after pci_init(). */
uint8_t pci_cfg_read8(const struct pci_dev *d, uint16_t off);
uint16_t pci_cfg_read16(const struct pci_dev *d, uint16_t off);
uint32_t pci_cfg_read32(const struct pci_dev *d, uint16_t off);
void pci_cfg_write8(const struct pci_dev *d, uint16_t off, uint8_t val);
void pci_cfg_write16(const struct pci_dev *d, uint16_t off, uint16_t val);
void pci_cfg_write32(const struct pci_dev *d, uint16_t off, uint32_t val);
/* The same by address, for functions not in the table. width is 1, 2 or 4. */
uint32_t pci_cfg_read(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width);
void pci_cfg_write(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, int width, uint32_t val);

/* Turn on decoding of the function's assigned BARs (I/O and/or memory, by the types present)
 * and bus mastering (DMA and MSI writes need it). Returns 0. */
int pci_enable_device(struct pci_dev *d);
/* Set or clear the bus master bit. */
void pci_set_master(struct pci_dev *d, bool on);

/* ----------------------------------------------------------------------------------------- */
/* BARs. */

/* Map memory BAR bar (0..5) through pci_port_map_mmio, once; *virt receives the address of the
 * BAR's first byte. Returns 0, -EINVAL (no such BAR / I/O BAR / upper half), -ENXIO (firmware
 * left it unassigned) or -ENOMEM (the mapping failed). */
int pci_bar_map(struct pci_dev *d, unsigned bar, void **virt);

/* ----------------------------------------------------------------------------------------- */
/* Capabilities (from the table pci_init() built; malformed lists were cut where they broke). */

/* Offset of the first legacy capability with this id, or 0. */
uint16_t pci_find_cap(const struct pci_dev *d, uint8_t id);
/* Offset of the next capability with this id after offset after (0: from the start), or 0.
 * Used for repeated capabilities such as virtio's vendor-specific ones. */
uint16_t pci_find_next_cap(const struct pci_dev *d, uint8_t id, uint16_t after);
/* Offset of the first extended capability with this id, or 0. */
uint16_t pci_find_ext_cap(const struct pci_dev *d, uint16_t id);

/* ----------------------------------------------------------------------------------------- */
/* Interrupts. */

/* Best mode the function offers: MSI-X if usable, else MSI, else INTx if it has a pin. */
enum pci_irq_mode pci_irq_best(const struct pci_dev *d);

/* MSI-X [PCI 6.8.2]. pci_msix_enable maps the table and PBA, turns memory decode on, enables
 * MSI-X with every entry masked and INTx disabled (MSI off), and turns bus mastering on.
 * Returns 0, -ENODEV (no usable MSI-X), -ENOMEM (mapping), -ENXIO (a memory BAR is
 * unassigned, so memory decode cannot be turned on safely). */
int pci_msix_enable(struct pci_dev *d);
/* Disable MSI-X (entries stay programmed). */
void pci_msix_disable(struct pci_dev *d);
/* Program entry with the message for vector on cpu, via pci_port_msi_compose. The entry is
 * masked while its address/data change (undefined otherwise [PCI 6.8.2.9]) and is left MASKED:
 * call pci_msix_unmask() when the handler is ready. Returns 0, -EINVAL (entry out of range),
 * -ENODEV (MSI-X not enabled). */
int pci_msix_set_vector(struct pci_dev *d, uint16_t entry, uint8_t vector, uint32_t cpu);
int pci_msix_mask(struct pci_dev *d, uint16_t entry);
int pci_msix_unmask(struct pci_dev *d, uint16_t entry);
/* Function-wide mask (message control bit 14), independent of the per-entry masks. */
int pci_msix_mask_all(struct pci_dev *d, bool masked);
/* Pending bit of entry: 1, 0, or a negative errno. */
int pci_msix_pending(const struct pci_dev *d, uint16_t entry);

/* MSI [PCI 6.8.1], one vector: program address/data for vector on cpu, enable MSI, disable INTx,
 * bus master on. Returns 0, -ENODEV (no MSI capability), -ERANGE (32-bit MSI and the message
 * address is above 4 GiB). */
int pci_msi_enable(struct pci_dev *d, uint8_t vector, uint32_t cpu);
void pci_msi_disable(struct pci_dev *d);

/* INTx: hand handler to pci_port_intx_attach for the function's pin/line and enable INTx on the
 * function. Returns 0, -ENODEV (no interrupt pin), -ENXIO (firmware left the line unknown) or
 * the port's error. */
int pci_intx_attach(struct pci_dev *d, pci_intx_handler_t handler, void *arg);
/* Set or clear the command register's INTx disable bit. */
void pci_intx_enable(struct pci_dev *d, bool on);
/* Status register interrupt bit: the function is asserting INTx (for shared-line handlers). */
bool pci_intx_asserted(const struct pci_dev *d);

/* ----------------------------------------------------------------------------------------- */
/* Driver model. */

#define PCI_ANY_ID 0xFFFF

/* One match rule. vendor/device: exact ids or PCI_ANY_ID. class_mask selects which bits of
 * class24 (class << 16 | subclass << 8 | prog-if) must equal class24; 0 ignores the class.
 * A table ends with an all-zero entry. */
struct pci_device_id {
	uint16_t vendor, device;
	uint32_t class24, class_mask;
};
#define PCI_DEVICE(v, d)           {.vendor = (v), .device = (d), .class24 = 0, .class_mask = 0}
#define PCI_DEVICE_CLASS(c, mask)  {.vendor = PCI_ANY_ID, .device = PCI_ANY_ID, \
				    .class24 = (c), .class_mask = (mask)}

struct pci_driver {
	const char *name;                /* shown by lspci */
	const struct pci_device_id *ids; /* zero-terminated */
	/* Called for each unbound function matching ids; id is the entry that matched. Returns 0
	 * to bind, a negative errno to decline (the next matching driver is tried). */
	int (*probe)(struct pci_dev *d, const struct pci_device_id *id);
};

/* Register drv (it must stay valid). Returns 0, -EINVAL (no name/ids/probe), -EEXIST (already
 * registered) or -ENOSPC (PCI_MAX_DRIVERS reached). */
int pci_register_driver(const struct pci_driver *drv);
/* Remove drv from the registry. Returns 0, -ENOENT (not registered) or -EBUSY (a function is
 * bound to it: there is no remove callback to unbind it). */
int pci_unregister_driver(const struct pci_driver *drv);
/* The entry of ids matching d, or NULL. */
const struct pci_device_id *pci_match_id(const struct pci_device_id *ids, const struct pci_dev *d);
/* Offer every unbound function to the registered drivers, in registration order. Returns the
 * number of functions bound by this call. Unmatched functions are logged as "(no driver)". */
int pci_probe_all(void);

/* ----------------------------------------------------------------------------------------- */
/* Listing. */

/* Printf-like sink; the return value is ignored. */
typedef int (*pci_out_fn)(const char *fmt, ...);

/* One line per function, format in docs/PCI.md:
 *   "00:02.0 1af4:1000 0200 virtio-net (transitional) [virtio-net]"
 * verbose adds indented lines for BARs, capabilities, interrupt routing and problems. */
void pci_lspci(bool verbose, pci_out_fn out);
/* Readable name of a function: a virtio device name for vendor 0x1AF4, else its class name. */
const char *pci_dev_name(const struct pci_dev *d);

#endif
