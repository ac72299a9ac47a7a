/*
 * Device bring-up: the virtio options from the command line, driver registration, PCI
 * enumeration and probing, the virtio-mmio windows, and what needs a device once they are up
 * (rand() seeded from virtio-rng, the network stack's services).
 *
 *   virtio.mode=irq|poll|hybrid     every device (default irq)
 *   virtio.<type>.mode=...          one device type: rng, blk, net
 *   virtio.transport=legacy         transitional devices use the legacy interface
 *   virtio.indirect=0               do not negotiate VIRTIO_RING_F_INDIRECT_DESC
 *   virtio.event_idx=0              do not negotiate VIRTIO_RING_F_EVENT_IDX
 *   virtio.msix=0                   INTx even when MSI-X is available
 *   virtio.packed=0|1               refuse / accept VIRTIO_F_RING_PACKED for every device
 *                                   (default: accepted for blk only; never on legacy)
 *   virtio.in_order=0|1             refuse / accept VIRTIO_F_IN_ORDER for every device
 *                                   (default: accepted for net only)
 *   virtio.<type>.packed=0|1        one device type (rng, blk, net); wins over the above
 *   virtio.<type>.in_order=0|1
 */
#include "drivers/pci/pci.h"
#include "drivers/virtio/blk/virtio_blk.h"
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/mmio/virtio_mmio.h"
#include "kernel/boot_phases.h"
#include "drivers/virtio/net/virtio_net.h"
#include "drivers/virtio/pci/virtio_pci.h"
#include "drivers/virtio/rng/virtio_rng.h"
#include "kernel/cmdline.h"
#include "kernel/idle.h"
#include "arch/x86_64/paging.h"
#include "kernel/kernel.h"
#include "kernel/platform.h"
#include "net/services.h"
#include "port/pci.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_mode(const char *key, enum virtio_mode *m)
{
	const char *v = cmdline_get(key);
	if (!v)
		return 0;
	if (strcmp(v, "irq") == 0)
		*m = VIRTIO_MODE_IRQ;
	else if (strcmp(v, "poll") == 0)
		*m = VIRTIO_MODE_POLL;
	else if (strcmp(v, "hybrid") == 0)
		*m = VIRTIO_MODE_HYBRID;
	else {
		printf("virtio: %s=%s is not irq, poll or hybrid; using irq\n", key, v);
		*m = VIRTIO_MODE_IRQ;
	}
	return 1;
}

/* key=0|1 (all devices) and, per type, virtio.<type>.<name>=0|1 (e.g. virtio.blk.packed=1).
 * Off unless asked for, except for on_for_type (-1: none), where it measured better
 * (docs/VRING.md, "Which format"). */
static void parse_flag(const char *name, struct virtio_flag_option *o, int on_for_type)
{
	static const struct {
		const char *type;
		int id;
	} types[] = {{"rng", VIRTIO_ID_RNG}, {"blk", VIRTIO_ID_BLOCK}, {"net", VIRTIO_ID_NET}};
	char key[40];
	snprintf(key, sizeof(key), "virtio.%s", name);
	bool global = cmdline_get(key) != NULL;
	o->on = cmdline_get_int(key, 0) != 0;
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(key, sizeof(key), "virtio.%s.%s", types[i].type, name);
		long v = cmdline_get_int(key, -1);
		o->set_by_type[types[i].id] = v >= 0;
		o->by_type[types[i].id] = v > 0;
	}
	if (on_for_type >= 0 && !global && !o->set_by_type[on_for_type])
		o->set_by_type[on_for_type] = o->by_type[on_for_type] = true;
}

static void virtio_maintain_hook(void *ctx)
{
	(void)ctx;
	virtio_maintain();
}

static void virtio_options_init(void)
{
	struct virtio_options *o = &virtio_options;
	parse_mode("virtio.mode", &o->mode);
	static const struct {
		const char *key;
		int type;
	} per_type[] = {{"virtio.rng.mode", VIRTIO_ID_RNG},
			{"virtio.blk.mode", VIRTIO_ID_BLOCK},
			{"virtio.net.mode", VIRTIO_ID_NET}};
	for (unsigned i = 0; i < sizeof(per_type) / sizeof(per_type[0]); i++)
		o->mode_set_by_type[per_type[i].type] =
			parse_mode(per_type[i].key, &o->mode_by_type[per_type[i].type]);
	const char *t = cmdline_get("virtio.transport");
	virtio_pci_options.force_legacy = t && strcmp(t, "legacy") == 0;
	if (t && !virtio_pci_options.force_legacy && strcmp(t, "modern") != 0)
		printf("virtio: virtio.transport=%s is not modern or legacy; using modern\n", t);
	o->no_indirect = cmdline_get_int("virtio.indirect", 1) == 0;
	o->no_event_idx = cmdline_get_int("virtio.event_idx", 1) == 0;
	/* Where the device offers them: packed rings for disks, in-order use for the network
	 * (docs/VRING.md, "Which format", has the figures). */
	parse_flag("packed", &o->packed, VIRTIO_ID_BLOCK);
	parse_flag("in_order", &o->in_order, VIRTIO_ID_NET);
	virtio_pci_options.no_msix = cmdline_get_int("virtio.msix", 1) == 0;

	idle_hook_add(virtio_maintain_hook, NULL); /* recoveries, poll-mode config changes */
	virtio_pci_register();
	virtio_rng_register();
	virtio_blk_register();
	virtio_net_register();
}

/* ---- virtio-mmio: where the windows are ----
 * Two sources, documented in docs/VIRTIO.md ("virtio-mmio"): the command line's Linux syntax
 * virtio_mmio.device=<size>@<base>:<irq> (Firecracker, cloud-hypervisor, and QEMU's microvm on
 * the PVH path put them there), and the DSDT's LNRO0005 devices (QEMU's microvm with ACPI,
 * which is also how the multiboot path, whose command line QEMU does not extend, finds them).
 * A window named by both is used once; the DSDT's trigger mode wins, since the command line
 * has none. A malformed entry is reported and skipped; the others are still used. */
#define MAX_WINDOWS 32

static int add_window(struct virtio_mmio_window *ws, unsigned *n,
		      const struct virtio_mmio_window *w)
{
	for (unsigned i = 0; i < *n; i++)
		if (ws[i].phys == w->phys)
			return 0; /* the same device from the other source */
	if (*n == MAX_WINDOWS) {
		printf("virtio-mmio: more than %d windows; %#llx ignored\n", MAX_WINDOWS,
		       (unsigned long long)w->phys);
		return -ENOSPC;
	}
	ws[(*n)++] = *w;
	return 0;
}

static void virtio_mmio_discover(void)
{
	struct virtio_mmio_window ws[MAX_WINDOWS];
	unsigned n = 0;
	for (unsigned i = 0; kernel_acpi_ok && i < kernel_acpi.nmmio; i++) {
		const struct acpi_mmio_device *a = &kernel_acpi.mmio[i];
		struct virtio_mmio_window w = {.phys = a->base, .size = a->size, .irq = a->gsi,
					       .irq_level = a->level,
					       .irq_active_low = a->active_low, .source = "acpi"};
		add_window(ws, &n, &w);
	}
	const char *v;
	for (unsigned i = 0; (v = cmdline_get_nth("virtio_mmio.device", i)); i++) {
		struct virtio_mmio_window w;
		char why[120];
		if (virtio_mmio_parse(v, &w, why, sizeof(why))) {
			printf("virtio-mmio: bad virtio_mmio.device=%s; skipped\n", why);
			continue;
		}
		add_window(ws, &n, &w);
	}
	for (unsigned i = 0; i < n; i++) {
		ws[i].base = mmio_map(ws[i].phys, ws[i].size);
		if (!ws[i].base) {
			printf("virtio-mmio: cannot map %#llx+%#llx; skipped\n",
			       (unsigned long long)ws[i].phys, (unsigned long long)ws[i].size);
			continue;
		}
		virtio_mmio_add(&ws[i]);
	}
}

/* After probing: seed newlib's rand()/random() from the entropy device when there is one. */
static void seed_rand(void)
{
	unsigned seed;
	if (virtio_rng_read(&seed, sizeof(seed)) == (long)sizeof(seed)) {
		srand(seed);
		srandom(seed);
		printf("virtio: rand() seeded from rng0\n");
	}
}

void drivers_init(void)
{
	virtio_options_init(); /* and registers the virtio-pci driver and the device drivers */
	int n = pci_init(kernel_pci_config_setup());
	printf("pci: %d functions via %s\n", n, kernel_pci_mechanism());
	pci_probe_all();
	boot_phase_done("pci");
	virtio_mmio_discover();
	boot_phase_done("mmio");
	seed_rand();
	net_services_start();
	boot_phase_done("services");
}
