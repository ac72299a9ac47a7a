/* Wired interrupt lines shared by several handlers (kernel/irq_lines.h). */
#include "kernel/irq_lines.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_SLOTS 48
#define MAX_LINES 32

static struct slot {
	bool (*fn)(void *ctx);
	void *ctx;
	struct slot *next; /* next handler on the same line */
} slots[MAX_SLOTS];
static int nslots;

static struct line {
	const char *owner;
	uint32_t line, gsi;
	bool level, active_low;
	uint8_t vector;
	unsigned nhandlers;
	struct slot *first;
	uint64_t count, spurious;
} lines[MAX_LINES];
static int nlines;

static void dispatch(void *ctx)
{
	struct line *l = ctx;
	bool claimed = false;

	l->count++;
	for (struct slot *s = l->first; s; s = s->next)
		claimed |= s->fn(s->ctx); /* every handler runs: several may be asserting */
	if (!claimed)
		l->spurious++;
}

int irq_line_attach(const char *owner, uint32_t line, uint32_t gsi, bool level, bool active_low,
		    bool (*fn)(void *ctx), void *ctx)
{
	struct line *l = NULL;

	if (!fn)
		return -EINVAL;
	if (nslots == MAX_SLOTS)
		return -ENOSPC;
	for (int i = 0; i < nlines; i++)
		if (lines[i].gsi == gsi)
			l = &lines[i];
	if (l && (l->level != level || l->active_low != active_low))
		return -EBUSY;
	if (!l) {
		if (nlines == MAX_LINES)
			return -ENOSPC;
		int v = irq_alloc_vector();
		if (v < 0)
			return v;
		struct line *n = &lines[nlines];
		*n = (struct line){.owner = owner, .line = line, .gsi = gsi, .level = level,
				   .active_low = active_low, .vector = (uint8_t)v};
		/* Dispatcher first (it claims the vector), then the IOAPIC route: the line may
		 * already be asserted. Nothing is recorded if either fails. */
		int err = irq_register(n->vector, dispatch, n);
		if (err)
			return err;
		err = ioapic_route(gsi, n->vector, level, active_low, lapic_id());
		if (err) {
			irq_unregister(n->vector, dispatch, n);
			return err;
		}
		l = n;
		nlines++;
	}
	/* Append at the tail with interrupts off: the dispatcher may walk the list. */
	struct slot *s = &slots[nslots++];
	*s = (struct slot){fn, ctx, NULL};
	uint64_t fl = cpu_irq_save();
	struct slot **pp = &l->first;
	while (*pp)
		pp = &(*pp)->next;
	*pp = s;
	l->nhandlers++;
	cpu_irq_restore(fl);
	return 0;
}

void irq_lines_print(const char *owner)
{
	for (int i = 0; i < nlines; i++) {
		const struct line *l = &lines[i];
		if (strcmp(l->owner, owner) != 0)
			continue;
		printf("%s: line %u gsi %u vector %#x handlers %u interrupts %llu spurious %llu\n",
		       l->owner, (unsigned)l->line, (unsigned)l->gsi, l->vector, l->nhandlers,
		       (unsigned long long)l->count, (unsigned long long)l->spurious);
	}
}
