/*
 * libFuzzer target: a malformed PCI function against the PCI library's enumeration and
 * capability walk (legacy and extended, MSI-X) and the virtio-pci transport's capability
 * parsing, end to end: the register-level virtio-pci model (tests/host/virtio_fake_dev.c)
 * builds an honest modern, transitional or legacy virtio-rng function, then the input
 * rewrites its configuration space, byte by byte where it says so (capability pointers and
 * lists, virtio capabilities' type, BAR, offset, length and multiplier, MSI-X table size and
 * BIR, the status register), and the kernel's sequence runs on it: pci_init, the virtio-pci
 * probe, the rng driver, one read, teardown.
 *
 * Besides ASan/UBSan, the harness checks what the layers promise whatever the function says:
 * enumeration and probing return, a read returns its length or an error, and after teardown
 * no DMA memory is left (unless a reset never completed: the device is then dead and keeps its
 * queues, which the harness reclaims).
 *
 * The PCI library, the transport, the device table and the rng driver keep static tables;
 * this file includes the sources that hold them, to empty them between inputs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_target.h"
#include "drivers/pci/pci_priv.h"
#include "tests/host/pci_fake.h"
#include "tests/host/virtio_fake_dev.h"

#include "drivers/virtio/core/virtio_devices.c"
#include "drivers/virtio/pci/virtio_pci.c"
#include "drivers/virtio/pci/virtio_pci_irq.c"
#include "drivers/virtio/rng/virtio_rng.c"

static struct fake_pci fake;
static struct vfd dev;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	vfd_time_step_ns = 10000000; /* 10 ms a look: a timeout costs hundreds of iterations */
	static const enum vfd_kind kinds[] = {VFD_MODERN, VFD_TRANSITIONAL, VFD_LEGACY};
	vfd_init(&dev, kinds[take(&in) % 3], 4 /* entropy */);
	dev.msix_entries = (uint16_t)(take(&in) % 4);
	dev.num_queues = (uint16_t)(1 + take(&in) % 2);
	dev.queue_max[0] = (uint16_t)(1u << (take(&in) % 10));
	dev.notify_mult = take(&in) % 3 ? 4 : take32(&in);
	vfd_build(&dev, &fake);

	/* Rewrite configuration space where the input says: a skip count, then a byte. */
	struct fake_fn *fn = fake_find(&fake, VFD_BUS, VFD_DEV, 0);
	check(fn != NULL);
	for (unsigned at = 0x04 + take(&in) % 0x30; at < 0x100 && in.n; at += 1 + take(&in) % 24)
		fake_set8(fn, (uint16_t)at, (uint8_t)take(&in));

	memset(&pci_state, 0, sizeof(pci_state));
	ndevices = 0;
	ndrivers = 0;
	npci_devs = 0;
	memset(pci_devs, 0, sizeof(pci_devs));
	nmsix_ctx = 0;
	nrngs = 0;
	memset(rngs, 0, sizeof(rngs));
	virtio_options.mode = (enum virtio_mode)(take(&in) % 3);
	virtio_pci_options.no_msix = take(&in) & 1;

	pci_init(fake.cfg_size);
	check(virtio_pci_register() == 0);
	check(virtio_rng_register() == 0);
	pci_probe_all();

	uint8_t out[16];
	long got = virtio_rng_read(out, 1 + take(&in) % sizeof(out));
	check(got < 0 || (got >= 1 && got <= (long)sizeof(out)));

	for (size_t i = 0; i < virtio_device_count(); i++) {
		struct virtio_device *v = virtio_device_at(i);
		if (!v->ops || !v->driver)
			continue; /* listed without a usable transport, or never bound: nothing set up */
		if (!v->dead)
			virtio_teardown(v);
		if (v->dead) {
			for (unsigned q = 0; q < v->nvqs; q++)
				virtqueue_destroy(v->vqs[q].vq);
			v->nvqs = 0;
		}
	}
	for (unsigned i = 0; i < nrngs; i++)
		if (rngs[i].buf)
			virtio_dma_free(rngs[i].buf, RNG_CHUNK);
	check(vfd_dma_outstanding == 0);
	return 0;
}
