# Host unit tests of the portable PCI layer against a fake configuration space.
HOST_TESTS += pci
pci_SRCS := tests/host/test_pci.c tests/host/pci_fake.c drivers/pci/pci_config.c drivers/pci/pci_enum.c \
	drivers/pci/pci_msi.c drivers/pci/pci_driver.c drivers/pci/pci_lspci.c \
	drivers/pci/pci_ecam.c drivers/pci/pci_portio.c
