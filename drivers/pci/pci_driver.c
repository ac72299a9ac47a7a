/* PCI driver model: match tables, registration, probing. */
#include <errno.h>

#include "drivers/pci/pci_priv.h"

static bool id_is_end(const struct pci_device_id *id)
{
	return id->vendor == 0 && id->device == 0 && id->class_mask == 0;
}

const struct pci_device_id *pci_match_id(const struct pci_device_id *ids, const struct pci_dev *d)
{
	uint32_t class24 = (uint32_t)d->class_code << 16 | (uint32_t)d->subclass << 8 | d->prog_if;

	for (; ids && !id_is_end(ids); ids++) {
		if (ids->vendor != PCI_ANY_ID && ids->vendor != d->vendor)
			continue;
		if (ids->device != PCI_ANY_ID && ids->device != d->device)
			continue;
		if ((class24 ^ ids->class24) & ids->class_mask)
			continue;
		return ids;
	}
	return NULL;
}

int pci_register_driver(const struct pci_driver *drv)
{
	if (!drv || !drv->name || !drv->ids || !drv->probe)
		return -EINVAL;
	for (size_t i = 0; i < pci_state.ndrivers; i++)
		if (pci_state.drivers[i] == drv)
			return -EEXIST;
	if (pci_state.ndrivers == PCI_MAX_DRIVERS)
		return -ENOSPC;
	pci_state.drivers[pci_state.ndrivers++] = drv;
	return 0;
}

int pci_unregister_driver(const struct pci_driver *drv)
{
	size_t i = 0;

	while (i < pci_state.ndrivers && pci_state.drivers[i] != drv)
		i++;
	if (i == pci_state.ndrivers)
		return -ENOENT;
	for (size_t k = 0; k < pci_state.ndevs; k++)
		if (pci_state.devs[k].driver == drv)
			return -EBUSY;
	/* Keep the order: it is the probing order. */
	for (; i + 1 < pci_state.ndrivers; i++)
		pci_state.drivers[i] = pci_state.drivers[i + 1];
	pci_state.ndrivers--;
	return 0;
}

int pci_probe_all(void)
{
	int bound = 0;

	for (size_t i = 0; i < pci_state.ndevs; i++) {
		struct pci_dev *d = &pci_state.devs[i];
		bool matched = false;

		if (d->driver)
			continue;
		for (size_t k = 0; k < pci_state.ndrivers && !d->driver; k++) {
			const struct pci_driver *drv = pci_state.drivers[k];
			const struct pci_device_id *id = pci_match_id(drv->ids, d);
			int ret;

			if (!id)
				continue;
			matched = true;
			ret = drv->probe(d, id);
			if (ret == 0) {
				d->driver = drv;
				d->probe_err = 0;
				bound++;
				pci_log("pci " PCI_BDF_FMT ": bound to %s", PCI_BDF_ARGS(d),
					drv->name);
			} else {
				d->probe_err = ret;
				pci_log("pci " PCI_BDF_FMT ": %s probe failed (%d)", PCI_BDF_ARGS(d),
					drv->name, ret);
			}
		}
		if (!matched)
			pci_log("pci " PCI_BDF_FMT ": %04x:%04x (no driver)", PCI_BDF_ARGS(d),
				d->vendor, d->device);
	}
	return bound;
}
