/*
 * Wired interrupt lines (IOAPIC inputs) shared by any number of handlers: PCI INTx lines and
 * virtio-mmio lines. Each line in use gets one vector and one dispatcher, which runs every
 * handler attached to it; a handler returns true when its device had raised the line, and an
 * interrupt nobody claims is counted as spurious for the line.
 */
#ifndef VIREO_IRQ_LINES_H
#define VIREO_IRQ_LINES_H

#include <stdbool.h>
#include <stdint.h>

/* Attach fn(ctx) to the line that reaches GSI gsi with the given trigger mode and polarity,
 * routing it through the IOAPIC the first time. owner and line say what the line is for the
 * listing ("intx" and the PCI interrupt line, "mmio" and the GSI). Returns 0, -EINVAL (no fn),
 * -ENOSPC (tables full), -EBUSY (the line is already routed with another trigger mode), or the
 * routing's error. Thread context. */
int irq_line_attach(const char *owner, uint32_t line, uint32_t gsi, bool level, bool active_low,
		    bool (*fn)(void *ctx), void *ctx);
/* One line per attached line of this owner:
 * "intx: line L gsi G vector 0xV handlers N interrupts C spurious S". */
void irq_lines_print(const char *owner);

#endif
