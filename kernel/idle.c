#include "kernel/idle.h"
#include "arch/x86_64/cpu.h"

#include <errno.h>

#define MAX_HOOKS 8
static struct {
	void (*fn)(void *);
	void *ctx;
} hooks[MAX_HOOKS];
static volatile int kicked;

int idle_hook_add(void (*fn)(void *ctx), void *ctx)
{
	for (int i = 0; i < MAX_HOOKS; i++) {
		if (!hooks[i].fn) {
			hooks[i].ctx = ctx;
			hooks[i].fn = fn;
			return 0;
		}
	}
	return -ENOSPC;
}

void idle_run_hooks(void)
{
	for (int i = 0; i < MAX_HOOKS && hooks[i].fn; i++)
		hooks[i].fn(hooks[i].ctx);
}

void idle_kick(void)
{
	kicked = 1;
}

void idle_wait(void)
{
	idle_run_hooks();
	/* Check and halt with interrupts off, and let "sti; hlt" open them atomically: a kick
	 * that lands after the check wakes the hlt instead of being lost until the next tick.
	 * The flag is consumed here and nowhere else, so a kick from any time since the last
	 * idle_wait — even before the caller decided to wait — keeps us from halting. */
	cpu_cli();
	if (kicked) {
		kicked = 0;
		cpu_sti();
	} else {
		cpu_sti_hlt();
	}
}
