/*
 * The kernel command line: "key=value" options, then optionally " -- " and shell commands
 * separated by ';' that run before the interactive prompt.
 *   -append "virtio.mode=poll net.ip=10.0.2.15 -- selftest; poweroff 3"
 * A virtio_mmio.device= option is taken as one wherever it stands, also after the commands,
 * where a VMM appends it (QEMU's microvm on the PVH path).
 */
#ifndef VIREO_CMDLINE_H
#define VIREO_CMDLINE_H

/* Parse cmdline (copied). */
void cmdline_parse(const char *cmdline);
/* Value of key ("1" for a bare word), or NULL. */
const char *cmdline_get(const char *key);
/* The n-th value (0 first) of a key given several times (virtio_mmio.device=), or NULL. */
const char *cmdline_get_nth(const char *key, unsigned n);
/* Value of key as a number, def when absent or not a number. */
long cmdline_get_int(const char *key, long def);
/* The commands after " -- ", or "" when none. */
const char *cmdline_commands(void);
/* The whole command line as given. */
const char *cmdline_raw(void);

#endif
