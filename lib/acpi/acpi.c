/*
 * ACPI table parser. See acpi.h for the contract and acpi_tables.h for the layouts.
 *
 * Firmware tables are input we do not control: a table is used only after its signature,
 * length (at least a header, at most ACPI_MAX_TABLE_LEN, mappable) and checksum check out, and
 * every structure inside is read only when the table's length covers all of it. A bad table is
 * logged and skipped; the rest of the parse goes on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/acpi/acpi.h"
#include "lib/acpi/acpi_port.h"
#include "lib/acpi/acpi_tables.h"

/* Does an FADT of length len contain the whole of field? Older revisions are shorter. */
#define FADT_HAS(len, field)                                                                       \
	(offsetof(struct acpi_fadt, field) + sizeof(((const struct acpi_fadt *)0)->field) <= (len))

/* BIOS areas searched for the RSDP when the loader did not give one (5.2.5.1). */
#define BDA_EBDA_SEGMENT 0x40e /* 16-bit real-mode segment of the EBDA */
#define EBDA_SEARCH_LEN	 1024
#define BIOS_ROM_BASE	 0xe0000
#define BIOS_ROM_LEN	 0x20000
#define RSDP_MAX_LEN	 4096 /* the v2 RSDP is 36 bytes; anything huge is corrupt */

struct ctx {
	struct acpi_info *info;
	bool cpus_full_logged;
};

static void acpi_log(const struct ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void acpi_log(const struct ctx *c, const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	(void)c;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	acpi_port_log(buf);
}

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len-- > 0)
		sum += *b++;
	return sum;
}

static const void *map(const struct ctx *c, uint64_t phys, size_t len)
{
	/* An address range that wraps around cannot be memory. */
	if (phys + len < phys)
		return NULL;
	(void)c;
	return acpi_port_map(phys, len);
}

/* Copy n chars of a firmware string, printable ASCII only, NUL-terminated (dst has n + 1). */
static void copy_id(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[n] = '\0';
}

/* ---- finding and checking tables ---- */

/* Is there a valid RSDP at p? Only the ACPI 1.0 part is required; the rest is checked later. */
static bool rsdp_at(const uint8_t *p)
{
	return memcmp(p, ACPI_RSDP_SIGNATURE, 8) == 0 && checksum(p, ACPI_RSDP_V1_LEN) == 0;
}

/* Search [base, base + len) on 16-byte boundaries (5.2.5.1); 0 if not found or not mapped. */
static uint64_t scan_rsdp(const struct ctx *c, uint64_t base, size_t len)
{
	const uint8_t *p = map(c, base, len);

	if (p == NULL)
		return 0;
	for (size_t off = 0; off + ACPI_RSDP_V1_LEN <= len; off += 16)
		if (rsdp_at(p + off))
			return base + off;
	return 0;
}

static uint64_t find_rsdp(const struct ctx *c)
{
	const uint8_t *seg = map(c, BDA_EBDA_SEGMENT, 2);
	uint64_t found = 0;

	if (seg != NULL) {
		uint64_t ebda = (uint64_t)(seg[0] | seg[1] << 8) << 4;
		/* The EBDA sits just below 640 KiB; anything else is a garbage pointer. */
		if (ebda >= 0x400 && ebda + EBDA_SEARCH_LEN <= 0xa0000)
			found = scan_rsdp(c, ebda, EBDA_SEARCH_LEN);
	}
	if (found == 0)
		found = scan_rsdp(c, BIOS_ROM_BASE, BIOS_ROM_LEN);
	return found;
}

/* Remember a table for acpi_print and the shell; NULL when the list is full. */
static struct acpi_table_desc *record(struct ctx *c, const struct acpi_sdt_header *h, uint64_t phys)
{
	struct acpi_info *info = c->info;
	struct acpi_table_desc *d;

	if (info->ntables >= ACPI_MAX_TABLES)
		return NULL;
	d = &info->tables[info->ntables++];
	copy_id(d->signature, h->signature, 4);
	copy_id(d->oem_id, h->oem_id, 6);
	copy_id(d->oem_table_id, h->oem_table_id, 8);
	d->revision = h->revision;
	d->length = h->length;
	d->phys = phys;
	d->valid = false;
	return d;
}

/*
 * Map and check the table at phys: readable header, signature (if want is given), sane length,
 * readable body, zero checksum. Returns the whole table, or NULL after logging why not.
 */
static const struct acpi_sdt_header *map_table(struct ctx *c, uint64_t phys, const char *want)
{
	const struct acpi_sdt_header *h = map(c, phys, sizeof(*h));
	struct acpi_table_desc *d;
	char sig[5];
	uint32_t len;

	if (h == NULL) {
		acpi_log(c, "table at 0x%lx: not readable, skipped", (unsigned long)phys);
		return NULL;
	}
	d = record(c, h, phys);
	copy_id(sig, h->signature, 4);
	len = h->length; /* read once: the checks and the mapping must agree */
	if (want != NULL && memcmp(h->signature, want, 4) != 0) {
		acpi_log(c, "table at 0x%lx: signature \"%s\", expected \"%s\", skipped",
			 (unsigned long)phys, sig, want);
		return NULL;
	}
	if (len < sizeof(*h) || len > ACPI_MAX_TABLE_LEN) {
		acpi_log(c, "%s at 0x%lx: bad length %lu, skipped", sig, (unsigned long)phys,
			 (unsigned long)len);
		return NULL;
	}
	h = map(c, phys, len);
	if (h == NULL) {
		acpi_log(c, "%s at 0x%lx: %lu bytes not readable, skipped", sig,
			 (unsigned long)phys, (unsigned long)len);
		return NULL;
	}
	if (checksum(h, len) != 0) {
		acpi_log(c, "%s at 0x%lx: bad checksum, skipped", sig, (unsigned long)phys);
		return NULL;
	}
	if (d != NULL)
		d->valid = true;
	return h;
}

/* ---- MADT (5.2.12) ---- */

/* MPS INTI flags (Table 5.26) → trigger/polarity; "conforms" means the ISA default: edge,
 * active-high. The reserved encodings (2) are treated as conforming too. */
static void decode_inti(uint16_t flags, bool *level, bool *active_low)
{
	*active_low = (flags & ACPI_MPS_INTI_POLARITY_MASK) == ACPI_MPS_INTI_POLARITY_LOW;
	*level = (flags & ACPI_MPS_INTI_TRIGGER_MASK) == ACPI_MPS_INTI_TRIGGER_LEVEL;
}

static void add_cpu(struct ctx *c, uint32_t uid, uint32_t apic_id, uint32_t flags)
{
	struct acpi_info *info = c->info;

	if (info->ncpus >= ACPI_MAX_CPUS) {
		if (!c->cpus_full_logged)
			acpi_log(c, "MADT: more than %u CPUs, the rest ignored", ACPI_MAX_CPUS);
		c->cpus_full_logged = true;
		return;
	}
	info->cpus[info->ncpus].uid = uid;
	info->cpus[info->ncpus].apic_id = apic_id;
	info->cpus[info->ncpus].enabled = (flags & ACPI_MADT_LAPIC_ENABLED) != 0;
	info->cpus[info->ncpus].online_capable = (flags & ACPI_MADT_LAPIC_ONLINE_CAPABLE) != 0;
	info->ncpus++;
}

static const char *madt_type_name(uint8_t type)
{
	switch (type) {
	case ACPI_MADT_LOCAL_APIC:
		return "local APIC";
	case ACPI_MADT_IO_APIC:
		return "I/O APIC";
	case ACPI_MADT_INTERRUPT_OVERRIDE:
		return "interrupt override";
	case ACPI_MADT_LOCAL_APIC_NMI:
		return "local APIC NMI";
	case ACPI_MADT_LOCAL_APIC_OVERRIDE:
		return "local APIC address override";
	case ACPI_MADT_LOCAL_X2APIC:
		return "local x2APIC";
	default:
		return "unknown";
	}
}

/* Minimum length of a known MADT entry type; 2 (just type + length) for types we ignore. */
static size_t madt_entry_min(uint8_t type)
{
	switch (type) {
	case ACPI_MADT_LOCAL_APIC:
		return sizeof(struct acpi_madt_local_apic);
	case ACPI_MADT_IO_APIC:
		return sizeof(struct acpi_madt_io_apic);
	case ACPI_MADT_INTERRUPT_OVERRIDE:
		return sizeof(struct acpi_madt_interrupt_override);
	case ACPI_MADT_LOCAL_APIC_NMI:
		return sizeof(struct acpi_madt_local_apic_nmi);
	case ACPI_MADT_LOCAL_APIC_OVERRIDE:
		return sizeof(struct acpi_madt_local_apic_override);
	case ACPI_MADT_LOCAL_X2APIC:
		return sizeof(struct acpi_madt_local_x2apic);
	default:
		return sizeof(struct acpi_madt_entry);
	}
}

/* One interrupt controller structure; e has at least madt_entry_min(type) bytes. */
static void madt_entry(struct ctx *c, const void *e, uint8_t type)
{
	struct acpi_info *info = c->info;

	switch (type) {
	case ACPI_MADT_LOCAL_APIC: {
		const struct acpi_madt_local_apic *l = e;
		add_cpu(c, l->acpi_processor_uid, l->apic_id, l->flags);
		break;
	}
	case ACPI_MADT_LOCAL_X2APIC: {
		const struct acpi_madt_local_x2apic *x = e;
		add_cpu(c, x->acpi_processor_uid, x->x2apic_id, x->flags);
		break;
	}
	case ACPI_MADT_IO_APIC: {
		const struct acpi_madt_io_apic *io = e;
		if (info->nioapics >= ACPI_MAX_IOAPICS) {
			acpi_log(c, "MADT: more than %u I/O APICs, id %u ignored", ACPI_MAX_IOAPICS,
				 io->io_apic_id);
			break;
		}
		info->ioapics[info->nioapics].id = io->io_apic_id;
		info->ioapics[info->nioapics].address = io->io_apic_address;
		info->ioapics[info->nioapics].gsi_base = io->global_system_interrupt_base;
		info->nioapics++;
		break;
	}
	case ACPI_MADT_INTERRUPT_OVERRIDE: {
		const struct acpi_madt_interrupt_override *o = e;
		struct acpi_irq_override *d;
		if (info->nisos >= ACPI_MAX_ISOS) {
			acpi_log(c, "MADT: more than %u interrupt overrides, IRQ %u ignored",
				 ACPI_MAX_ISOS, o->source);
			break;
		}
		d = &info->isos[info->nisos++];
		d->bus = o->bus;
		d->source = o->source;
		d->gsi = o->global_system_interrupt;
		d->flags = o->flags;
		decode_inti(d->flags, &d->level, &d->active_low);
		break;
	}
	case ACPI_MADT_LOCAL_APIC_NMI: {
		const struct acpi_madt_local_apic_nmi *n = e;
		if (info->nnmis >= ACPI_MAX_NMIS)
			break;
		info->nmis[info->nnmis].uid = n->acpi_processor_uid;
		info->nmis[info->nnmis].lint = n->local_apic_lint;
		info->nmis[info->nnmis].flags = n->flags;
		info->nnmis++;
		break;
	}
	case ACPI_MADT_LOCAL_APIC_OVERRIDE: {
		const struct acpi_madt_local_apic_override *o = e;
		info->lapic_addr = o->local_apic_address;
		break;
	}
	default:
		break; /* GIC, SAPIC, ... are not for us */
	}
}

static void parse_madt(struct ctx *c, const struct acpi_sdt_header *h)
{
	const uint8_t *t = (const uint8_t *)h;
	const struct acpi_madt *m = (const void *)h;
	uint32_t len = h->length, off;

	if (len < sizeof(*m)) {
		acpi_log(c, "MADT: length %lu shorter than its header, skipped",
			 (unsigned long)len);
		return;
	}
	c->info->have_madt = true;
	c->info->lapic_addr = m->local_apic_address;
	c->info->pcat_compat = (m->flags & ACPI_MADT_PCAT_COMPAT) != 0;

	for (off = sizeof(*m); off < len;) {
		const struct acpi_madt_entry *e = (const void *)(t + off);
		uint8_t type, elen;

		if (len - off < sizeof(*e)) {
			acpi_log(c, "MADT: stray byte at offset %lu", (unsigned long)off);
			break;
		}
		type = e->type;
		elen = e->length;
		/* A length below 2 would never advance: stop rather than loop forever. */
		if (elen < sizeof(*e)) {
			acpi_log(c, "MADT: entry type %u at offset %lu has length %u, stopping",
				 type, (unsigned long)off, elen);
			break;
		}
		if (elen > len - off) {
			acpi_log(
			    c,
			    "MADT: entry type %u at offset %lu runs past the table end, stopping",
			    type, (unsigned long)off);
			break;
		}
		if (elen < madt_entry_min(type))
			acpi_log(c, "MADT: %s entry at offset %lu too short (%u bytes), skipped",
				 madt_type_name(type), (unsigned long)off, elen);
		else
			madt_entry(c, e, type);
		off += elen;
	}
}

/* ---- DSDT: \_S5_ (7.4.2, AML encoding in 20.2) ---- */

/* PkgLength (20.2.4): lead byte bits 7-6 give 0-3 following bytes; with none, bits 5-0 are
 * the length, otherwise bits 3-0 are its low nibble and each following byte adds 8 bits. */
static bool aml_pkg_length(const uint8_t *p, size_t avail, uint32_t *len, size_t *nbytes)
{
	unsigned follow;

	if (avail < 1)
		return false;
	follow = p[0] >> 6;
	if (avail < 1 + (size_t)follow)
		return false;
	if (follow == 0) {
		*len = p[0] & 0x3f;
	} else {
		*len = p[0] & 0x0f;
		for (unsigned i = 1; i <= follow; i++)
			*len |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	}
	*nbytes = 1 + follow;
	return true;
}

/* An integer package element: ZeroOp, OneOp or a Byte/Word/DWord prefixed constant. Returns
 * the bytes used, 0 if p does not start with one inside avail. */
static size_t aml_integer(const uint8_t *p, size_t avail, uint32_t *val)
{
	if (avail < 1)
		return 0;
	switch (p[0]) {
	case AML_ZERO_OP:
		*val = 0;
		return 1;
	case AML_ONE_OP:
		*val = 1;
		return 1;
	case AML_BYTE_PREFIX:
		if (avail < 2)
			return 0;
		*val = p[1];
		return 2;
	case AML_WORD_PREFIX:
		if (avail < 3)
			return 0;
		*val = p[1] | (uint32_t)p[2] << 8;
		return 3;
	case AML_DWORD_PREFIX:
		if (avail < 5)
			return 0;
		*val = p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
		return 5;
	default:
		return 0;
	}
}

/*
 * Parse the package after the name at aml[at] ("_S5_"): PackageOp PkgLength NumElements
 * SLP_TYPa SLP_TYPb .... Everything must lie inside both the package and the table. Returns
 * true and fills the info on success; logs and returns false otherwise.
 */
static bool parse_s5_package(struct ctx *c, const uint8_t *aml, size_t len, size_t at)
{
	size_t p = at + 4, nbytes, end;
	uint32_t pkglen, typ[2];
	uint8_t nelem;

	if (p >= len || aml[p] != AML_PACKAGE_OP)
		return false; /* some other object named _S5_: keep looking */
	p++;
	if (!aml_pkg_length(aml + p, len - p, &pkglen, &nbytes) || pkglen > len - p ||
	    pkglen < nbytes + 1) {
		acpi_log(c, "DSDT: \\_S5_ package truncated or malformed");
		return false;
	}
	/* PkgLength counts itself and everything after it in the package. */
	end = p + pkglen;
	p += nbytes;
	nelem = aml[p++];
	if (nelem < 2) {
		acpi_log(c, "DSDT: \\_S5_ package has %u element(s), need 2", nelem);
		return false;
	}
	for (int i = 0; i < 2; i++) {
		size_t used = aml_integer(aml + p, end - p, &typ[i]);
		if (used == 0) {
			acpi_log(c, "DSDT: \\_S5_ element %d is not an integer or is truncated", i);
			return false;
		}
		p += used;
	}
	/* SLP_TYPx is a 3-bit field of PM1x_CNT (4.8.4.2.1). */
	if (typ[0] > 7 || typ[1] > 7) {
		acpi_log(c, "DSDT: \\_S5_ values %lu/%lu do not fit SLP_TYP", (unsigned long)typ[0],
			 (unsigned long)typ[1]);
		return false;
	}
	c->info->slp_typa = (uint8_t)typ[0];
	c->info->slp_typb = (uint8_t)typ[1];
	c->info->have_s5 = true;
	return true;
}

/*
 * Find Name(\_S5_, Package(){...}) in the DSDT's AML without an interpreter: QEMU, SeaBIOS,
 * OVMF and most real firmware emit it as a plain top-level named package, so matching the
 * NameOp + NameString + PackageOp bytes is enough.
 */
static void find_s5(struct ctx *c, const struct acpi_sdt_header *h)
{
	const uint8_t *aml = (const uint8_t *)h + sizeof(*h);
	size_t len = h->length - sizeof(*h);

	for (size_t i = 0; i + 4 <= len; i++) {
		bool named;

		if (memcmp(aml + i, "_S5_", 4) != 0)
			continue;
		/* NameOp then the NameString, optionally with a root ('\') or parent ('^') prefix.
		 */
		named =
		    (i >= 1 && aml[i - 1] == AML_NAME_OP) ||
		    (i >= 2 && (aml[i - 1] == AML_ROOT_CHAR || aml[i - 1] == AML_PARENT_PREFIX) &&
		     aml[i - 2] == AML_NAME_OP);
		if (named && parse_s5_package(c, aml, len, i))
			return;
	}
	acpi_log(c, "DSDT: no usable \\_S5_ object; ACPI power-off unavailable");
}

/* ---- DSDT: virtio-mmio devices (_HID "LNRO0005", 6.1.5 _HID, 6.2.13 _CRS) ---- */

static uint16_t le16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32_at(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Walk a resource template (6.4: small descriptors tag = name << 3 | length, large ones
 * 0x80 | name with a 16-bit length) for a Memory32Fixed window and an Extended Interrupt.
 * Returns true when both were found inside [p, end).
 */
static bool parse_mmio_resources(const uint8_t *p, const uint8_t *end, struct acpi_mmio_device *d)
{
	bool mem = false, irq = false;
	while (p < end) {
		uint8_t tag = p[0];
		const uint8_t *body;
		size_t blen;
		if (tag & 0x80) {
			if (end - p < 3)
				return false;
			blen = le16_at(p + 1);
			body = p + 3;
		} else {
			if (tag == ACPI_RES_END_TAG)
				break;
			blen = tag & 7;
			body = p + 1;
		}
		if ((size_t)(end - body) < blen)
			return false; /* a descriptor running past the buffer */
		if (tag == ACPI_RES_MEMORY32_FIXED && blen >= 9) {
			d->base = le32_at(body + 1);
			d->size = le32_at(body + 5);
			mem = d->size != 0;
		} else if (tag == ACPI_RES_EXT_IRQ && blen >= 6 && body[1] >= 1) {
			d->level = !(body[0] & ACPI_RES_IRQ_EDGE);
			d->active_low = body[0] & ACPI_RES_IRQ_ACTIVE_LOW;
			d->gsi = le32_at(body + 2);
			irq = true;
		}
		p = body + blen;
	}
	return mem && irq;
}

/*
 * Find Device(...) { Name(_HID, "LNRO0005") ... Name(_CRS, ResourceTemplate() {...}) } without
 * an interpreter, as for \_S5_: QEMU's microvm declares each virtio-mmio window this way. The
 * _CRS is looked for after the _HID, before the next Device.
 */
static void find_mmio_devices(struct ctx *c, const struct acpi_sdt_header *h)
{
	static const uint8_t hid[] = {AML_NAME_OP, '_', 'H', 'I', 'D', AML_STRING_PREFIX,
				      'L', 'N', 'R', 'O', '0', '0', '0', '5', 0};
	const uint8_t *aml = (const uint8_t *)h + sizeof(*h);
	size_t len = h->length - sizeof(*h);

	for (size_t i = 0; i + sizeof(hid) <= len; i++) {
		if (memcmp(aml + i, hid, sizeof(hid)) != 0)
			continue;
		bool found = false;
		for (size_t j = i + sizeof(hid); j + 6 <= len && !found; j++) {
			if (aml[j] == AML_EXT_OP && aml[j + 1] == AML_DEVICE_OP)
				break; /* the next device: this one has no _CRS */
			if (aml[j] != AML_NAME_OP || memcmp(aml + j + 1, "_CRS", 4) != 0 ||
			    aml[j + 5] != AML_BUFFER_OP)
				continue;
			/* BufferOp PkgLength BufferSize ByteList (20.2.5.4). */
			size_t p = j + 6, nbytes;
			uint32_t pkglen, bufsize;
			if (!aml_pkg_length(aml + p, len - p, &pkglen, &nbytes) || pkglen > len - p)
				break;
			size_t end = p + pkglen;
			p += nbytes;
			size_t used = aml_integer(aml + p, end - p, &bufsize);
			if (used == 0 || bufsize > end - p - used)
				break;
			p += used;
			struct acpi_mmio_device d = {0};
			if (!parse_mmio_resources(aml + p, aml + p + bufsize, &d))
				break;
			found = true;
			if (c->info->nmmio == ACPI_MAX_MMIO) {
				acpi_log(c, "DSDT: more than %d virtio-mmio devices, the rest ignored",
					 ACPI_MAX_MMIO);
				return;
			}
			c->info->mmio[c->info->nmmio++] = d;
		}
		if (!found)
			acpi_log(c, "DSDT: a LNRO0005 (virtio-mmio) device without a usable _CRS "
				    "(memory window and interrupt); skipped");
	}
}

/* ---- FADT (5.2.9) ---- */

static void parse_fadt(struct ctx *c, const struct acpi_sdt_header *h)
{
	const struct acpi_fadt *f = (const void *)h;
	struct acpi_info *info = c->info;
	uint32_t len = h->length;
	uint64_t dsdt = 0;

	/* ACPI 1.0 FADTs end after the flags (116 bytes); anything shorter is not an FADT. */
	if (!FADT_HAS(len, flags)) {
		acpi_log(c, "FADT: length %lu too short, skipped", (unsigned long)len);
		return;
	}
	info->have_fadt = true;
	info->fadt_revision = h->revision;
	info->sci_irq = f->sci_int;
	info->smi_cmd = f->smi_cmd;
	info->acpi_enable = f->acpi_enable;
	info->acpi_disable = f->acpi_disable;
	info->fadt_flags = f->flags;
	info->iapc_boot_arch = f->iapc_boot_arch;
	info->pm1a_cnt = (uint16_t)f->pm1a_cnt_blk;
	info->pm1b_cnt = (uint16_t)f->pm1b_cnt_blk;
	/* The X_ blocks win when present and in I/O space (5.2.9: "If this field contains a
	 * nonzero value, then the [32-bit] field must be ignored by OSPM"). */
	if (FADT_HAS(len, x_pm1a_cnt_blk) && f->x_pm1a_cnt_blk.address != 0 &&
	    f->x_pm1a_cnt_blk.space_id == ACPI_GAS_SYSTEM_IO)
		info->pm1a_cnt = (uint16_t)f->x_pm1a_cnt_blk.address;
	if (FADT_HAS(len, x_pm1b_cnt_blk) && f->x_pm1b_cnt_blk.address != 0 &&
	    f->x_pm1b_cnt_blk.space_id == ACPI_GAS_SYSTEM_IO)
		info->pm1b_cnt = (uint16_t)f->x_pm1b_cnt_blk.address;

	if (FADT_HAS(len, reset_value) && (f->flags & ACPI_FADT_F_RESET_REG_SUP) != 0 &&
	    f->reset_reg.address != 0) {
		info->have_reset = true;
		info->reset_reg.space_id = f->reset_reg.space_id;
		info->reset_reg.bit_width = f->reset_reg.bit_width;
		info->reset_reg.bit_offset = f->reset_reg.bit_offset;
		info->reset_reg.access_size = f->reset_reg.access_size;
		info->reset_reg.address = f->reset_reg.address;
		info->reset_value = f->reset_value;
	}

	if ((f->flags & ACPI_FADT_F_HW_REDUCED) && FADT_HAS(len, sleep_control_reg) &&
	    f->sleep_control_reg.address != 0) {
		info->have_sleep_control = true;
		info->sleep_control.space_id = f->sleep_control_reg.space_id;
		info->sleep_control.bit_width = f->sleep_control_reg.bit_width;
		info->sleep_control.bit_offset = f->sleep_control_reg.bit_offset;
		info->sleep_control.access_size = f->sleep_control_reg.access_size;
		info->sleep_control.address = f->sleep_control_reg.address;
	}

	if (FADT_HAS(len, x_dsdt) && f->x_dsdt != 0)
		dsdt = f->x_dsdt;
	else if (FADT_HAS(len, dsdt))
		dsdt = f->dsdt;
	info->dsdt_phys = dsdt;
	if (dsdt == 0) {
		acpi_log(c, "FADT: no DSDT");
		return;
	}
	h = map_table(c, dsdt, "DSDT");
	if (h != NULL) {
		find_s5(c, h);
		find_mmio_devices(c, h);
	}
}

/* ---- MCFG (PCI Firmware 3.2, 4.1.2) and HPET (IA-PC HPET 1.0a, 3.2.4) ---- */

static void parse_mcfg(struct ctx *c, const struct acpi_sdt_header *h)
{
	const uint8_t *t = (const uint8_t *)h;
	struct acpi_info *info = c->info;
	uint32_t len = h->length;

	if (len < sizeof(struct acpi_mcfg)) {
		acpi_log(c, "MCFG: length %lu too short, skipped", (unsigned long)len);
		return;
	}
	if ((len - sizeof(struct acpi_mcfg)) % sizeof(struct acpi_mcfg_allocation) != 0)
		acpi_log(c, "MCFG: %lu trailing bytes ignored",
			 (unsigned long)((len - sizeof(struct acpi_mcfg)) %
					 sizeof(struct acpi_mcfg_allocation)));
	for (size_t off = sizeof(struct acpi_mcfg);
	     len - off >= sizeof(struct acpi_mcfg_allocation);
	     off += sizeof(struct acpi_mcfg_allocation)) {
		const struct acpi_mcfg_allocation *a = (const void *)(t + off);
		if (a->start_bus > a->end_bus) {
			acpi_log(c, "MCFG: segment %u has buses %u-%u, skipped",
				 a->pci_segment_group, a->start_bus, a->end_bus);
			continue;
		}
		if (info->nmcfg >= ACPI_MAX_MCFG) {
			acpi_log(c, "MCFG: more than %u regions, the rest ignored", ACPI_MAX_MCFG);
			break;
		}
		info->mcfg[info->nmcfg].base = a->base_address;
		info->mcfg[info->nmcfg].segment = a->pci_segment_group;
		info->mcfg[info->nmcfg].start_bus = a->start_bus;
		info->mcfg[info->nmcfg].end_bus = a->end_bus;
		info->nmcfg++;
	}
}

static void parse_hpet(struct ctx *c, const struct acpi_sdt_header *h)
{
	const struct acpi_hpet *t = (const void *)h;

	if (h->length < sizeof(*t)) {
		acpi_log(c, "HPET: length %lu too short, skipped", (unsigned long)h->length);
		return;
	}
	if (t->base_address.space_id != ACPI_GAS_SYSTEM_MEMORY) {
		acpi_log(c, "HPET: base address in space %u, not memory; ignored",
			 t->base_address.space_id);
		return;
	}
	c->info->hpet_addr = t->base_address.address;
}

/* ---- root ---- */

static void parse_table(struct ctx *c, uint64_t phys)
{
	struct acpi_info *info = c->info;
	const struct acpi_sdt_header *h = map_table(c, phys, NULL);

	if (h == NULL)
		return;
	/* The first of each kind wins; firmware that lists one twice gets a note. */
	if (memcmp(h->signature, "APIC", 4) == 0) {
		if (info->have_madt)
			acpi_log(c, "second MADT at 0x%lx ignored", (unsigned long)phys);
		else
			parse_madt(c, h);
	} else if (memcmp(h->signature, "FACP", 4) == 0) {
		if (info->have_fadt)
			acpi_log(c, "second FADT at 0x%lx ignored", (unsigned long)phys);
		else
			parse_fadt(c, h);
	} else if (memcmp(h->signature, "MCFG", 4) == 0) {
		if (info->nmcfg == 0)
			parse_mcfg(c, h);
	} else if (memcmp(h->signature, "HPET", 4) == 0) {
		if (info->hpet_addr == 0)
			parse_hpet(c, h);
	}
}

/* Walk the XSDT (8-byte entries) or RSDT (4-byte entries) at phys. */
static int walk_root(struct ctx *c, uint64_t phys, bool xsdt)
{
	const struct acpi_sdt_header *h = map_table(c, phys, xsdt ? "XSDT" : "RSDT");
	size_t esize = xsdt ? 8 : 4, n, i;
	const uint8_t *e;

	if (h == NULL)
		return -EINVAL;
	n = (h->length - sizeof(*h)) / esize;
	if ((h->length - sizeof(*h)) % esize != 0)
		acpi_log(c, "%s: length not a whole number of entries", xsdt ? "XSDT" : "RSDT");
	e = (const uint8_t *)h + sizeof(*h);
	for (i = 0; i < n; i++) {
		uint64_t addr = 0;
		/* Entries are unaligned (the XSDT's start 4 bytes past an 8-byte boundary):
		 * memcpy instead of a cast. Little-endian host and firmware. */
		memcpy(&addr, e + i * esize, esize);
		if (addr == 0)
			continue;
		parse_table(c, addr);
	}
	return 0;
}

int acpi_parse(uint64_t rsdp_phys, struct acpi_info *out)
{
	struct ctx c = {.info = out};
	const struct acpi_rsdp *r;
	uint64_t xsdt = 0, rsdt;
	int err;

	if (out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (rsdp_phys == 0) {
		rsdp_phys = find_rsdp(&c);
		if (rsdp_phys == 0) {
			acpi_log(&c, "no RSDP in the EBDA or 0xE0000-0xFFFFF");
			return -ENOENT;
		}
	}
	r = map(&c, rsdp_phys, ACPI_RSDP_V1_LEN);
	if (r == NULL) {
		acpi_log(&c, "RSDP at 0x%lx not readable", (unsigned long)rsdp_phys);
		return -EINVAL;
	}
	if (!rsdp_at((const uint8_t *)r)) {
		acpi_log(&c, "RSDP at 0x%lx: bad signature or checksum", (unsigned long)rsdp_phys);
		return -EINVAL;
	}
	out->rsdp_phys = rsdp_phys;
	out->rsdp_revision = r->revision;
	copy_id(out->rsdp_oem_id, r->oem_id, 6);
	rsdt = r->rsdt_address;

	/* ACPI 2.0+: the XSDT is preferred, if the extended part checks out (5.2.5.3). */
	if (r->revision >= 2) {
		const struct acpi_rsdp *r2 = map(&c, rsdp_phys, sizeof(*r2));
		uint32_t len = r2 != NULL ? r2->length : 0;

		if (r2 != NULL && len >= sizeof(*r2) && len <= RSDP_MAX_LEN &&
		    (r2 = map(&c, rsdp_phys, len)) != NULL && checksum(r2, len) == 0)
			xsdt = r2->xsdt_address;
		else
			acpi_log(&c, "RSDP: extended part invalid, using the RSDT");
	}
	err = -EINVAL;
	if (xsdt != 0) {
		err = walk_root(&c, xsdt, true);
		out->used_xsdt = err == 0;
		if (err != 0 && rsdt != 0)
			acpi_log(&c, "XSDT unusable, falling back to the RSDT");
	}
	if (err != 0 && rsdt != 0)
		err = walk_root(&c, rsdt, false);
	if (err != 0)
		acpi_log(&c, "no usable XSDT or RSDT");
	return err;
}

uint32_t acpi_irq_to_gsi(const struct acpi_info *info, uint8_t isa_irq, bool *level,
			 bool *active_low)
{
	bool lvl = false, low = false; /* ISA: edge-triggered, active-high */
	uint32_t gsi = isa_irq;

	for (unsigned i = 0; info != NULL && i < info->nisos; i++) {
		if (info->isos[i].bus == 0 && info->isos[i].source == isa_irq) {
			gsi = info->isos[i].gsi;
			lvl = info->isos[i].level;
			low = info->isos[i].active_low;
			break;
		}
	}
	if (level != NULL)
		*level = lvl;
	if (active_low != NULL)
		*active_low = low;
	return gsi;
}

void acpi_print(const struct acpi_info *info)
{
	printf("ACPI: RSDP rev %u at 0x%lx, OEM \"%s\", root %s\n", info->rsdp_revision,
	       (unsigned long)info->rsdp_phys, info->rsdp_oem_id,
	       info->used_xsdt ? "XSDT" : "RSDT");
	for (unsigned i = 0; i < info->ntables; i++) {
		const struct acpi_table_desc *t = &info->tables[i];
		printf("  %s 0x%08lx %6lu rev %u %-6s %-8s%s\n", t->signature,
		       (unsigned long)t->phys, (unsigned long)t->length, t->revision, t->oem_id,
		       t->oem_table_id, t->valid ? "" : "  (invalid, skipped)");
	}
	if (info->have_madt) {
		printf("local APIC at 0x%lx%s\n", (unsigned long)info->lapic_addr,
		       info->pcat_compat ? ", 8259 PICs present" : "");
		for (unsigned i = 0; i < info->ncpus; i++)
			printf("  CPU uid %lu apic id %lu%s\n", (unsigned long)info->cpus[i].uid,
			       (unsigned long)info->cpus[i].apic_id,
			       info->cpus[i].enabled	      ? ""
			       : info->cpus[i].online_capable ? " (online capable)"
							      : " (disabled)");
		for (unsigned i = 0; i < info->nioapics; i++)
			printf("  IOAPIC id %u at 0x%lx, GSI base %lu\n", info->ioapics[i].id,
			       (unsigned long)info->ioapics[i].address,
			       (unsigned long)info->ioapics[i].gsi_base);
		for (unsigned i = 0; i < info->nisos; i++)
			printf("  override bus %u IRQ %u -> GSI %lu, %s, active-%s\n",
			       info->isos[i].bus, info->isos[i].source,
			       (unsigned long)info->isos[i].gsi,
			       info->isos[i].level ? "level" : "edge",
			       info->isos[i].active_low ? "low" : "high");
		for (unsigned i = 0; i < info->nnmis; i++)
			printf("  NMI on LINT%u of uid 0x%x\n", info->nmis[i].lint,
			       info->nmis[i].uid);
	}
	for (unsigned i = 0; i < info->nmcfg; i++)
		printf("PCIe ECAM at 0x%lx, segment %u, buses %u-%u\n",
		       (unsigned long)info->mcfg[i].base, info->mcfg[i].segment,
		       info->mcfg[i].start_bus, info->mcfg[i].end_bus);
	if (info->hpet_addr != 0)
		printf("HPET at 0x%lx\n", (unsigned long)info->hpet_addr);
	if (info->have_fadt) {
		printf("FADT rev %u: SCI IRQ %u, SMI_CMD 0x%lx (enable 0x%x), PM1a_CNT 0x%x, "
		       "PM1b_CNT 0x%x\n",
		       info->fadt_revision, info->sci_irq, (unsigned long)info->smi_cmd,
		       info->acpi_enable, info->pm1a_cnt, info->pm1b_cnt);
		if (info->have_reset)
			printf("  reset: write 0x%x to 0x%lx (space %u)\n", info->reset_value,
			       (unsigned long)info->reset_reg.address, info->reset_reg.space_id);
		if (info->have_sleep_control)
			printf("  hardware-reduced: sleep control at %#llx (space %u)\n",
			       (unsigned long long)info->sleep_control.address,
			       info->sleep_control.space_id);
		if (info->have_s5)
			printf("  S5: SLP_TYPa %u, SLP_TYPb %u\n", info->slp_typa, info->slp_typb);
		else
			printf("  S5: not found\n");
	}
	for (unsigned i = 0; i < info->nmmio; i++)
		printf("virtio-mmio at %#llx (%u bytes), GSI %u %s, active %s\n",
		       (unsigned long long)info->mmio[i].base, (unsigned)info->mmio[i].size,
		       (unsigned)info->mmio[i].gsi, info->mmio[i].level ? "level" : "edge",
		       info->mmio[i].active_low ? "low" : "high");
}
