/*
 * The main loop's work hooks. Vireo has one thread: between shell keystrokes (and whenever a
 * command waits) it runs the registered hooks — network stack timers, driver polling — then
 * halts until an interrupt. Interrupt handlers never call into the stacks; they call
 * idle_kick() so the loop runs the hooks again before halting.
 */
#ifndef VIREO_IDLE_H
#define VIREO_IDLE_H

/* Run fn(ctx) on every pass of the main loop. Returns 0 or -ENOSPC. */
int idle_hook_add(void (*fn)(void *ctx), void *ctx);
/* Run every hook once (a long-running command may call this to keep services alive). */
void idle_run_hooks(void);
/* From an interrupt handler: there is work, do not halt before running the hooks. */
void idle_kick(void);
/* Run the hooks, then halt until an interrupt unless something kicked meanwhile. */
void idle_wait(void);

#endif
