/* Where boot time goes: each bring-up phase marks its end, and the ready line says how long
 * each took (kernel/boot_phases.c). */
#ifndef VIREO_BOOT_PHASES_H
#define VIREO_BOOT_PHASES_H

/* The phase called `name` ends now (a string literal: it is kept, not copied). Before the
 * clock is calibrated too: marks are TSC readings, converted when printed. */
void boot_phase_done(const char *name);
/* "name N.N, name N.N, ..." in milliseconds, into buf. */
void boot_phases_format(char *buf, unsigned len);

#endif
