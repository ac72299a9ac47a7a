/*
 * A second kernel around Vireo's virtio stack: it brings up the virtio-blk device QEMU's
 * microvm names on the command line (virtio_mmio.device=<size>@<base>:<irq>, as Firecracker
 * and cloud-hypervisor also do), reads the first sectors through the unchanged ring, device
 * core, mmio transport and blk driver, and prints their CRC-32 for the host to compare.
 *
 * Command line (PVH's): virtio_mmio.device=... (one or more), sectors=N (default 64).
 */
#include "drivers/virtio/blk/virtio_blk.h"
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/mmio/virtio_mmio.h"
#include "examples/embed/console.h"
#include "examples/embed/start_info.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DEVICE_KEY "virtio_mmio.device="
#define SECTORS_KEY "sectors="
#define MAX_SECTORS 256

_Noreturn void embed_main(uint32_t start_info);

/* The CRC-32 of IEEE 802.3 (reflected, polynomial 0xEDB88320), as zlib's crc32() computes. */
static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

/* The value of the word at w that starts with key, copied to out (len bytes), or NULL. */
static const char *word_value(const char *w, const char *key, char *out, size_t len)
{
	size_t k = strlen(key), n = 0;
	if (strncmp(w, key, k) != 0)
		return NULL;
	for (w += k; *w && *w != ' ' && n + 1 < len; w++)
		out[n++] = *w;
	out[n] = '\0';
	return out;
}

/* Hand every window the command line names to the mmio transport; the core binds virtio-blk
 * to the disk. Returns the number of windows added. */
static unsigned add_windows(const char *cmdline, unsigned *sectors)
{
	unsigned added = 0;
	for (const char *w = cmdline; *w; w++) {
		if (w != cmdline && w[-1] != ' ')
			continue;
		char v[64], why[120];
		if (word_value(w, SECTORS_KEY, v, sizeof(v))) {
			unsigned n = 0;
			for (const char *d = v; *d >= '0' && *d <= '9'; d++)
				n = n * 10 + (unsigned)(*d - '0');
			*sectors = n;
		}
		if (!word_value(w, DEVICE_KEY, v, sizeof(v)))
			continue;
		struct virtio_mmio_window win;
		if (virtio_mmio_parse(v, &win, why, sizeof(why))) {
			console_printf("embed: bad virtio_mmio.device=%s; skipped\n", why);
			continue;
		}
		win.base = (volatile uint8_t *)(uintptr_t)win.phys; /* identity map, uncached */
		win.source = "cmdline";
		if (virtio_mmio_add(&win) == 0)
			added++;
	}
	return added;
}

static uint8_t data[MAX_SECTORS * VIRTIO_BLK_SECTOR] __attribute__((aligned(4096)));

_Noreturn void embed_main(uint32_t start_info)
{
	console_init();
	const struct hvm_start_info *si = (const void *)(uintptr_t)start_info;
	if (si->magic != HVM_START_MAGIC) {
		console_printf("embed: no PVH start info (magic %#x)\n", si->magic);
		console_exit(1);
	}
	const char *cmdline = si->cmdline_paddr ? (const char *)(uintptr_t)si->cmdline_paddr : "";
	console_printf("embed: Vireo's virtio stack in a second kernel; command line \"%s\"\n",
		       cmdline);

	virtio_options.mode = VIRTIO_MODE_POLL; /* this kernel takes no interrupts */
	virtio_blk_register();
	unsigned sectors = 64;
	unsigned windows = add_windows(cmdline, &sectors);
	if (vblk_count() == 0) {
		console_printf("embed: no virtio disk among %u windows\n", windows);
		console_exit(1);
	}
	if (sectors == 0 || sectors > MAX_SECTORS) {
		console_printf("embed: sectors=%u is not 1..%u\n", sectors, MAX_SECTORS);
		console_exit(1);
	}
	struct vblk *d = vblk_at(0);
	const struct vblk_info *info = vblk_info(d);
	if (info->capacity < sectors) {
		console_printf("embed: %s has %llu sectors, fewer than %u\n", info->name,
			       (unsigned long long)info->capacity, sectors);
		console_exit(1);
	}
	int err = vblk_io(d, VIRTIO_BLK_T_IN, 0, data, (size_t)sectors * VIRTIO_BLK_SECTOR);
	if (err) {
		console_printf("embed: reading %s failed (%d)\n", info->name, err);
		console_exit(1);
	}
	console_printf("embed: %s: crc32 of sectors 0-%u: %08x\n", info->name, sectors - 1,
		       crc32(data, (size_t)sectors * VIRTIO_BLK_SECTOR));
	console_exit(0);
}
