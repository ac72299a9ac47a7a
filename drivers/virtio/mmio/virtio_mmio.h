/*
 * The virtio-mmio transport (VIRTIO 1.2, 4.2 "Virtio Over MMIO"), as the kernel sees it: the
 * kernel discovers the windows (firmware tables, the command line) and hands each one here;
 * the transport checks what is there and gives the device to the virtio core.
 */
#ifndef VIREO_VIRTIO_MMIO_H
#define VIREO_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

/* One device window as discovered. */
struct virtio_mmio_window {
	uint64_t phys;          /* physical address of the register block */
	uint64_t size;          /* bytes (512 on QEMU's microvm, 4096 on Firecracker) */
	volatile uint8_t *base; /* the same, mapped uncached by the caller */
	uint32_t irq;           /* the interrupt line (on x86 a GSI) */
	bool irq_level;         /* level-triggered (else edge), as firmware described it */
	bool irq_active_low;
	const char *source;     /* where it was found, for the log: "acpi", "cmdline" */
};

/*
 * Look at the window (4.2.3.1.1: magic, version, device id first) and add the device to the
 * virtio core, which binds its driver. Returns 0 (also for an empty slot, device id 0, which
 * is left alone and not reported), -EINVAL with a logged reason for a bad magic, an unknown
 * version or a window too small for the registers, -ENOSPC when the table is full.
 */
int virtio_mmio_add(const struct virtio_mmio_window *w);

/*
 * Parse one Linux-style command line entry, the value of virtio_mmio.device=
 * "<size>@<base>:<irq>[:<id>]": size with an optional K, M or G suffix, base and irq in C
 * notation (0x hex or decimal), id ignored. Fills phys, size and irq (edge, active high: what
 * Firecracker and QEMU's microvm use); returns 0, or -EINVAL with the reason in why (len
 * bytes).
 */
int virtio_mmio_parse(const char *s, struct virtio_mmio_window *w, char *why, unsigned len);

#endif
