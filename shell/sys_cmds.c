/* The kernel's own shell commands: mem, irq, uptime, poweroff, fault, dmesg, cmdline. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/paging.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/heap.h"
#include "kernel/page_alloc.h"
#include "kernel/power.h"
#include "shell/shell.h"
#include "kernel/time.h"

#include <stdio.h>
#include <string.h>

static int cmd_mem(int argc, char **argv)
{
	if (argc != 1)
		return shell_usage(argv[0]);
	page_alloc_print();
	uint64_t hsize, hused, ram, mmio;
	kheap_stats(&hsize, &hused);
	paging_stats(&ram, &mmio);
	printf("heap: %llu KiB of %llu KiB handed to malloc\n", (unsigned long long)(hused >> 10),
	       (unsigned long long)(hsize >> 10));
	printf("page tables: %llu MiB identity-mapped RAM, %llu MMIO mappings\n",
	       (unsigned long long)(ram >> 20), (unsigned long long)mmio);
	return 0;
}
SHELL_COMMAND(mem, "mem", "", "memory map, free pages, heap and mappings", cmd_mem);

static int cmd_irq(int argc, char **argv)
{
	if (argc != 1)
		return shell_usage(argv[0]);
	irq_print_counts();
	return 0;
}
SHELL_COMMAND(irq, "irq", "", "interrupt counts per vector", cmd_irq);

static int cmd_uptime(int argc, char **argv)
{
	if (argc != 1)
		return shell_usage(argv[0]);
	uint64_t ns = time_ns();
	printf("up %llu.%03llu s, %llu ticks at %d Hz, TSC %llu.%03llu MHz, %llu sleeps halted\n",
	       (unsigned long long)(ns / 1000000000), (unsigned long long)(ns / 1000000 % 1000),
	       (unsigned long long)ticks(), TICK_HZ, (unsigned long long)(tsc_hz() / 1000000),
	       (unsigned long long)(tsc_hz() / 1000 % 1000), (unsigned long long)sleep_halts());
	return 0;
}
SHELL_COMMAND(uptime, "uptime", "", "time since boot", cmd_uptime);

static int cmd_poweroff(int argc, char **argv)
{
	unsigned long long code = 0;
	if (argc > 2 || (argc == 2 && (shell_parse_u64(argv[1], &code) || code > 127))) {
		printf("error: exit code must be a number from 0 to 127\n");
		return shell_usage(argv[0]);
	}
	power_off((int)code);
}
SHELL_COMMAND(poweroff, "poweroff", "[code]", "power off (QEMU exits with (code << 1) | 1)",
	      cmd_poweroff);

static int cmd_dmesg(int argc, char **argv)
{
	if (argc != 1)
		return shell_usage(argv[0]);
	console_dmesg();
	return 0;
}
SHELL_COMMAND(dmesg, "dmesg", "", "the console log since boot (what `quiet` held back too)",
	      cmd_dmesg);

static int cmd_cmdline(int argc, char **argv)
{
	if (argc != 1)
		return shell_usage(argv[0]);
	printf("%s\n", cmdline_raw());
	return 0;
}
SHELL_COMMAND(cmdline, "cmdline", "", "the kernel command line", cmd_cmdline);

/* Deliberate faults, to see (and test) the exception report. volatile keeps the compiler from
 * proving the faults away. */
static int cmd_fault(int argc, char **argv)
{
	if (argc != 2)
		return shell_usage(argv[0]);
	const char *k = argv[1];
	if (strcmp(k, "null") == 0) {
		volatile int *p = NULL;
		return *p;
	} else if (strcmp(k, "pf") == 0) {
		volatile int *p = (volatile int *)0x7ff000000000ull; /* never mapped */
		*p = 1;
	} else if (strcmp(k, "ud") == 0) {
		__asm__ volatile("ud2");
	} else if (strcmp(k, "de") == 0) {
		volatile int num = 7, zero = 0; /* 1 / x compiles to compares, 7 / x to idiv */
		return num / zero;
	} else if (strcmp(k, "gp") == 0) {
		/* A non-canonical address (bits 63:47 not all equal) raises #GP, not #PF. */
		volatile int *p = (volatile int *)0x8000000000000000ull;
		*p = 1;
	} else if (strcmp(k, "frame") == 0) {
		/* #UD with a frame pointer into unmapped memory below 4 GiB (1 GiB: not RAM with
		 * the system tests' 256 MiB), as after a stack overwrite: the report's backtrace
		 * must stop there, not fault again. */
		__asm__ volatile("mov $0x40000000, %%ebp\n\tud2" ::: "memory");
	} else {
		printf("error: unknown fault '%s' (null, pf, ud, de, gp, frame)\n", k);
		return 2;
	}
	return 0;
}
SHELL_COMMAND(fault, "fault", "null|pf|ud|de|gp|frame", "raise an exception on purpose (halts)",
	      cmd_fault);
