/* `lspci`: the PCI functions the enumeration found (drivers/pci), their BARs, capabilities,
 * interrupt routing and driver; -r reads a BAR register through the kernel's mapping. */
#include "drivers/pci/pci.h"
#include "port/pci.h"
#include "shell/shell.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int lspci_out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

/* `lspci -r BB:DD.F BAR OFFSET`: map a memory BAR (pci_bar_map, also above 4 GiB) and read the
 * aligned dword at OFFSET. Decode is not turned on here: firmware's setting is used. */
static int lspci_read(char **argv)
{
	unsigned bus, dev, fn;
	unsigned long long bar, off;
	char tail;

	if (sscanf(argv[2], "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3 || bus > 255 ||
	    dev > 31 || fn > 7 || shell_parse_u64(argv[3], &bar) || bar > 5 ||
	    shell_parse_u64(argv[4], &off) || (off & 3)) {
		printf("error: lspci -r BB:DD.F BAR OFFSET (BAR 0..5, OFFSET dword aligned)\n");
		return 2;
	}
	struct pci_dev *d = pci_find_bdf((uint8_t)bus, (uint8_t)dev, (uint8_t)fn);
	if (!d) {
		printf("error: no function %02x:%02x.%x\n", bus, dev, fn);
		return 1;
	}
	void *virt;
	int err = pci_bar_map(d, (unsigned)bar, &virt);
	if (err) {
		printf("error: BAR%llu of %02x:%02x.%x cannot be mapped (%d)\n", bar, bus, dev, fn,
		       err);
		return 1;
	}
	if (off >= d->bar[bar].size || d->bar[bar].size - off < 4) { /* off + 4 may wrap */
		printf("error: offset %#llx beyond BAR%llu (size %#llx)\n", off, bar,
		       (unsigned long long)d->bar[bar].size);
		return 1;
	}
	uint32_t val = *(volatile uint32_t *)((volatile uint8_t *)virt + off);
	printf("%02x:%02x.%x BAR%llu phys %#llx = 0x%08x\n", bus, dev, fn, bar,
	       (unsigned long long)(d->bar[bar].addr + off), (unsigned)val);
	return 0;
}

static int cmd_lspci(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "-r") == 0)
		return lspci_read(argv);
	bool verbose = argc == 2 && strcmp(argv[1], "-v") == 0;
	if (argc > 2 || (argc == 2 && !verbose))
		return shell_usage(argv[0]);
	pci_lspci(verbose, lspci_out);
	if (verbose)
		kernel_pci_intx_print();
	return 0;
}
SHELL_COMMAND(lspci, "lspci", "[-v] | -r BB:DD.F BAR OFFSET",
	      "PCI functions: ids, class, BARs, capabilities, IRQs (INTx counts), driver; -r reads a BAR dword",
	      cmd_lspci);
