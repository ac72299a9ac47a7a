/*
 * lspci: a readable listing of the device table, printed through a caller-provided printf-like
 * sink (the shell's printf, or a test's buffer). The format is documented in docs/PCI.md and
 * compared with QEMU's "info pci" by the system tests: keep the two in step.
 */
#include "drivers/pci/pci_priv.h"

/* virtio vendor-specific capability [virtio 1.1, 4.1.4 "struct virtio_pci_cap"]: only what
 * lspci shows; drivers/virtio owns the real definition. */
#define VIRTIO_CAP_CFG_TYPE 3  /* u8 */
#define VIRTIO_CAP_BAR      4  /* u8 */
#define VIRTIO_CAP_OFFSET   8  /* le32 */
#define VIRTIO_CAP_LENGTH   12 /* le32 */
#define VIRTIO_CAP_MIN_LEN  16

/* Transitional ids 0x1000..0x103F carry the legacy device type; modern ids are 0x1040 + the
 * virtio device type [virtio 1.1, 4.1.2.1 and 5]. */
#define VIRTIO_ID_TRANS_FIRST 0x1000
#define VIRTIO_ID_TRANS_LAST  0x103F
#define VIRTIO_ID_MODERN_BASE 0x1040
#define VIRTIO_ID_MODERN_LAST 0x107F

static const struct {
	uint16_t id;
	const char *name;
} virtio_transitional[] = {
	{0x1000, "virtio-net (transitional)"},     {0x1001, "virtio-blk (transitional)"},
	{0x1002, "virtio-balloon (transitional)"}, {0x1003, "virtio-console (transitional)"},
	{0x1004, "virtio-scsi (transitional)"},    {0x1005, "virtio-rng (transitional)"},
	{0x1009, "virtio-9p (transitional)"},
};

static const char *const virtio_types[] = {
	[1] = "virtio-net",      [2] = "virtio-blk",   [3] = "virtio-console",
	[4] = "virtio-rng",      [5] = "virtio-balloon", [8] = "virtio-scsi",
	[9] = "virtio-9p",       [16] = "virtio-gpu",  [18] = "virtio-input",
	[19] = "virtio-vsock",   [20] = "virtio-crypto", [23] = "virtio-iommu",
	[24] = "virtio-mem",     [26] = "virtio-fs",   [27] = "virtio-pmem",
};

/* Class names [PCI Code and ID Assignment 1.11, section 1]; subclass 0xFF: any other. */
static const struct {
	uint8_t class_code, subclass;
	const char *name;
} class_names[] = {
	{0x01, 0x00, "SCSI controller"},  {0x01, 0x01, "IDE controller"},
	{0x01, 0x05, "ATA controller"},   {0x01, 0x06, "SATA controller"},
	{0x01, 0x08, "NVMe controller"},  {0x01, 0xFF, "storage controller"},
	{0x02, 0x00, "Ethernet controller"}, {0x02, 0xFF, "network controller"},
	{0x03, 0x00, "VGA controller"},   {0x03, 0xFF, "display controller"},
	{0x04, 0x01, "audio device"},     {0x04, 0x03, "HD audio controller"},
	{0x04, 0xFF, "multimedia controller"}, {0x05, 0xFF, "memory controller"},
	{0x06, 0x00, "host bridge"},      {0x06, 0x01, "ISA bridge"},
	{0x06, 0x04, "PCI bridge"},       {0x06, 0xFF, "bridge"},
	{0x07, 0x00, "serial controller"}, {0x07, 0xFF, "communication controller"},
	{0x08, 0xFF, "system peripheral"}, {0x09, 0xFF, "input device"},
	{0x0C, 0x03, "USB controller"},   {0x0C, 0x05, "SMBus controller"},
	{0x0C, 0xFF, "serial bus controller"}, {0x00, 0xFF, "unclassified device"},
};

static const char *virtio_name(uint16_t device)
{
	if (device >= VIRTIO_ID_TRANS_FIRST && device <= VIRTIO_ID_TRANS_LAST) {
		for (size_t i = 0; i < sizeof(virtio_transitional) / sizeof(virtio_transitional[0]);
		     i++)
			if (virtio_transitional[i].id == device)
				return virtio_transitional[i].name;
		return "virtio (transitional, unknown type)";
	}
	if (device >= VIRTIO_ID_MODERN_BASE && device <= VIRTIO_ID_MODERN_LAST) {
		unsigned type = device - VIRTIO_ID_MODERN_BASE;

		if (type < sizeof(virtio_types) / sizeof(virtio_types[0]) && virtio_types[type])
			return virtio_types[type];
		return "virtio (unknown type)";
	}
	return NULL;
}

const char *pci_dev_name(const struct pci_dev *d)
{
	const char *any = NULL;

	if (d->vendor == PCI_VENDOR_VIRTIO) {
		const char *n = virtio_name(d->device);

		if (n)
			return n;
	}
	for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++) {
		if (class_names[i].class_code != d->class_code)
			continue;
		if (class_names[i].subclass == d->subclass)
			return class_names[i].name;
		if (class_names[i].subclass == 0xFF)
			any = class_names[i].name;
	}
	return any ? any : "device";
}

/* "0x" and the hex digits of v, without relying on the C library's %llx (newlib may be built
 * without long long formatting). */
static const char *hex64(char buf[19], uint64_t v)
{
	char tmp[16];
	int n = 0, k = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 0xF];
		v >>= 4;
	} while (v);
	buf[k++] = '0';
	buf[k++] = 'x';
	while (n)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
	return buf;
}

static const char *cap_name(uint8_t id)
{
	switch (id) {
	case PCI_CAP_ID_PM:
		return "power management";
	case PCI_CAP_ID_AGP:
		return "AGP";
	case PCI_CAP_ID_VPD:
		return "VPD";
	case PCI_CAP_ID_SLOT:
		return "slot id";
	case PCI_CAP_ID_MSI:
		return "MSI";
	case PCI_CAP_ID_HT:
		return "HyperTransport";
	case PCI_CAP_ID_VNDR:
		return "vendor";
	case PCI_CAP_ID_DBG:
		return "debug port";
	case PCI_CAP_ID_SSVID:
		return "bridge subsystem id";
	case PCI_CAP_ID_PCIE:
		return "PCIe";
	case PCI_CAP_ID_MSIX:
		return "MSI-X";
	case PCI_CAP_ID_SATA:
		return "SATA";
	case PCI_CAP_ID_AF:
		return "advanced features";
	default:
		return "unknown";
	}
}

static const char *ecap_name(uint16_t id)
{
	switch (id) {
	case PCI_EXT_CAP_ID_AER:
		return "AER";
	case PCI_EXT_CAP_ID_VC:
		return "virtual channel";
	case PCI_EXT_CAP_ID_DSN:
		return "serial number";
	case PCI_EXT_CAP_ID_PWR:
		return "power budgeting";
	case PCI_EXT_CAP_ID_VNDR:
		return "vendor";
	case PCI_EXT_CAP_ID_ACS:
		return "ACS";
	case PCI_EXT_CAP_ID_ARI:
		return "ARI";
	case PCI_EXT_CAP_ID_ATS:
		return "ATS";
	case PCI_EXT_CAP_ID_SRIOV:
		return "SR-IOV";
	default:
		return "unknown";
	}
}

static const char *pcie_type_name(uint8_t t)
{
	switch (t) {
	case PCI_EXP_TYPE_ENDPOINT:
		return "endpoint";
	case PCI_EXP_TYPE_LEG_END:
		return "legacy endpoint";
	case PCI_EXP_TYPE_ROOT_PORT:
		return "root port";
	case PCI_EXP_TYPE_UPSTREAM:
		return "switch upstream port";
	case PCI_EXP_TYPE_DOWNSTREAM:
		return "switch downstream port";
	case PCI_EXP_TYPE_PCIE_PCI:
		return "PCIe-to-PCI bridge";
	case PCI_EXP_TYPE_PCI_PCIE:
		return "PCI-to-PCIe bridge";
	case PCI_EXP_TYPE_RC_END:
		return "root complex integrated endpoint";
	case PCI_EXP_TYPE_RC_EC:
		return "root complex event collector";
	default:
		return "unknown type";
	}
}

static const char *irq_mode_name(enum pci_irq_mode m)
{
	switch (m) {
	case PCI_IRQ_INTX:
		return "intx";
	case PCI_IRQ_MSI:
		return "msi";
	case PCI_IRQ_MSIX:
		return "msi-x";
	default:
		return "none";
	}
}

static const char *const virtio_cfg_types[] = {
	[1] = "common", [2] = "notify", [3] = "isr", [4] = "device", [5] = "pci-cfg",
	[8] = "shared-memory",
};

static void print_cap(const struct pci_dev *d, const struct pci_cap *c, pci_out_fn out)
{
	char a[19], b[19];

	out("  cap %02x@%02x %s", c->id, c->off, cap_name((uint8_t)c->id));
	switch (c->id) {
	case PCI_CAP_ID_MSIX:
		if (d->msix.cap == c->off)
			out(": %u entries, table BAR%u+%s, PBA BAR%u+%s%s", d->msix.size,
			    d->msix.table_bar, hex64(a, d->msix.table_off), d->msix.pba_bar,
			    hex64(b, d->msix.pba_off), d->msix.usable ? "" : " (unusable)");
		break;
	case PCI_CAP_ID_MSI:
		if (d->msi.cap == c->off)
			out(": %s-bit%s, up to %u vectors", d->msi.is64 ? "64" : "32",
			    d->msi.maskable ? ", maskable" : "", 1u << d->msi.max_log2);
		break;
	case PCI_CAP_ID_PCIE:
		out(": %s", pcie_type_name(d->pcie_type));
		break;
	case PCI_CAP_ID_VNDR:
		if (d->vendor == PCI_VENDOR_VIRTIO &&
		    pci_cfg_read8(d, c->off + 2) >= VIRTIO_CAP_MIN_LEN &&
		    c->off + VIRTIO_CAP_MIN_LEN <= PCI_CFG_SIZE) {
			uint8_t t = pci_cfg_read8(d, c->off + VIRTIO_CAP_CFG_TYPE);
			const char *tn = t < sizeof(virtio_cfg_types) / sizeof(virtio_cfg_types[0])
						 ? virtio_cfg_types[t]
						 : NULL;

			out(": virtio %s BAR%u+%s len %s", tn ? tn : "unknown",
			    pci_cfg_read8(d, c->off + VIRTIO_CAP_BAR),
			    hex64(a, pci_cfg_read32(d, c->off + VIRTIO_CAP_OFFSET)),
			    hex64(b, pci_cfg_read32(d, c->off + VIRTIO_CAP_LENGTH)));
		}
		break;
	default:
		break;
	}
	out("\n");
}

static const struct {
	uint32_t bit;
	const char *name;
} problem_names[] = {
	{PCI_PROB_CAP_LOOP, "cap-loop"},       {PCI_PROB_CAP_PTR, "cap-ptr"},
	{PCI_PROB_CAP_OVERFLOW, "cap-overflow"}, {PCI_PROB_ECAP_LOOP, "ecap-loop"},
	{PCI_PROB_ECAP_PTR, "ecap-ptr"},       {PCI_PROB_ECAP_OVERFLOW, "ecap-overflow"},
	{PCI_PROB_BAR_ZERO, "bar-zero"},       {PCI_PROB_BAR_TYPE, "bar-type"},
	{PCI_PROB_BAR_SIZE, "bar-size"},       {PCI_PROB_BAR_ALIGN, "bar-align"},
	{PCI_PROB_BRIDGE, "bridge"},           {PCI_PROB_HEADER, "header"},
	{PCI_PROB_INT_PIN, "int-pin"},         {PCI_PROB_MSIX, "msix"},
};

static void print_verbose(const struct pci_dev *d, pci_out_fn out)
{
	char a[19], b[19];

	out("  rev %02x prog-if %02x header %u%s", d->revision, d->prog_if, d->header_type,
	    d->multifunction ? " multifunction" : "");
	if (d->header_type == PCI_HEADER_TYPE_NORMAL)
		out(" subsystem %04x:%04x", d->subsys_vendor, d->subsys_id);
	out("\n");
	if (d->header_type == PCI_HEADER_TYPE_BRIDGE)
		out("  bridge: secondary bus %02x subordinate bus %02x\n", d->sec_bus, d->sub_bus);

	for (unsigned i = 0; i < d->nbars; i++) {
		const struct pci_bar *bar = &d->bar[i];
		const char *t;

		switch (bar->type) {
		case PCI_BAR_IO:
			t = "io";
			break;
		case PCI_BAR_MEM32:
			t = "mem32";
			break;
		case PCI_BAR_MEM64:
			t = "mem64";
			break;
		default:
			continue;
		}
		out("  BAR%u %s%s %s size %s\n", i, t, bar->prefetch ? " prefetch" : "",
		    bar->assigned ? hex64(a, bar->addr) : "unassigned", hex64(b, bar->size));
	}

	for (unsigned i = 0; i < d->ncaps; i++)
		print_cap(d, &d->caps[i], out);
	for (unsigned i = 0; i < d->necaps; i++)
		out("  ecap %04x@%03x %s\n", d->ecaps[i].id, d->ecaps[i].off,
		    ecap_name(d->ecaps[i].id));

	if (d->irq_pin == PCI_INT_PIN_NONE)
		out("  irq: no pin");
	else if (d->irq_line == PCI_INT_LINE_NONE)
		out("  irq: INT%c line none", 'A' + d->irq_pin - 1);
	else
		out("  irq: INT%c line %u", 'A' + d->irq_pin - 1, d->irq_line);
	out(", best %s, enabled %s\n", irq_mode_name(pci_irq_best(d)), irq_mode_name(d->irq_mode));

	if (d->problems) {
		out("  problems:");
		for (size_t i = 0; i < sizeof(problem_names) / sizeof(problem_names[0]); i++)
			if (d->problems & problem_names[i].bit)
				out(" %s", problem_names[i].name);
		out("\n");
	}
	if (!d->driver && d->probe_err)
		out("  probe failed: %d\n", d->probe_err);
}

void pci_lspci(bool verbose, pci_out_fn out)
{
	for (size_t i = 0; i < pci_state.ndevs; i++) {
		const struct pci_dev *d = &pci_state.devs[i];

		out("%02x:%02x.%x %04x:%04x %02x%02x %s ", d->bus, d->dev, d->fn, d->vendor,
		    d->device, d->class_code, d->subclass, pci_dev_name(d));
		if (d->driver)
			out("[%s]\n", d->driver->name);
		else
			out("(no driver)\n");
		if (verbose)
			print_verbose(d, out);
	}
	if (pci_state.dropped)
		out("(%u more functions not recorded: table full)\n", (unsigned)pci_state.dropped);
}
