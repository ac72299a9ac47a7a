/*
 * kernel_main: where both boot paths meet. The order matters and is the whole story of how a
 * PC comes up:
 *   console → descriptor tables (so faults are reported) → pages → ACPI (where the interrupt
 *   controllers are; before paging, which unmaps page 0 where the RSDP search starts) → page
 *   tables → heap → command line (options such as clock= are read by what follows) → PIC off,
 *   LAPIC, IOAPIC, clock and tick → devices and services → "ready" → commands from the command
 *   line → shell.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/serial.h"
#include "boot/boot_info.h"
#include "kernel/boot_phases.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/heap.h"
#include "kernel/kernel.h"
#include "kernel/page_alloc.h"
#include "shell/shell.h"
#include "kernel/time.h"

#include <stdio.h>
#include <string.h>

struct boot_info kernel_boot_info;
extern char __kernel_start[], __kernel_end[];

static _Noreturn void fatal(const char *what, int err)
{
	printf("vireo: fatal: %s (error %d); halting\n", what, err);
	cpu_halt_forever();
}

_Noreturn void kernel_main(const struct boot_info *bi)
{
	/* Copy first: the loader's memory (UEFI LoaderData) becomes free RAM below. */
	if (bi != &kernel_boot_info)
		memcpy(&kernel_boot_info, bi, sizeof(kernel_boot_info));
	bi = &kernel_boot_info;

	serial_init();
	/* Unbuffered stdout: output must reach the console before a fault or a poweroff. */
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("\nVireo %s: booted by %s, command line \"%s\"\n", VIREO_VERSION, bi->loader,
	       bi->cmdline);
	if (bi->magic != BOOT_INFO_MAGIC)
		fatal("boot_info has a bad magic", -1);

	gdt_init();
	idt_init();
	boot_phase_done("console");

	int err = page_alloc_init(bi, (uint64_t)__kernel_start, (uint64_t)__kernel_end);
	if (err)
		fatal("page allocator", err);
	platform_acpi_init(bi);
	if ((err = paging_init(bi)))
		fatal("page tables", err);
	if ((err = kheap_init()))
		fatal("heap", err);
	boot_phase_done("memory");

	cmdline_parse(bi->cmdline);
	console_quiet(cmdline_get("quiet") != NULL);
	platform_init(); /* interrupt controllers, clock, tick */
	cpu_sti();
	boot_phase_done("platform");

	drivers_init(); /* marks its own phases */

	uint64_t ready_ns = time_ns();
	unsigned held = console_quiet(false);
	char phases[160];
	boot_phases_format(phases, sizeof(phases));
	printf("vireo: ready in %llu ms (%s)", (unsigned long long)(ready_ns / 1000000), phases);
	if (held)
		printf("; quiet: %u boot lines in dmesg", held);
	printf("\n");
	const char *cmds = cmdline_commands();
	if (*cmds)
		shell_run_script(cmds);
	shell_loop();
}

/* UEFI path: boot/efi hands over a boot_info it filled (entry64 in boot/multiboot/entry.S). */
_Noreturn void efi_entry_main(const struct boot_info *bi)
{
	kernel_main(bi);
}
