# libFuzzer target: a malformed PCI function against the PCI library's enumeration and
# capability walk and the virtio-pci transport (tests/fuzz/fuzz_pci.c, which includes the
# sources that keep static tables, to reset them between inputs).
FUZZ_TARGETS += pci
pci_FUZZ_SRCS := tests/fuzz/fuzz_pci.c tests/host/virtio_fake_dev.c tests/host/virtio_fake_mmio.c \
	tests/host/pci_fake.c drivers/pci/pci_config.c drivers/pci/pci_ecam.c drivers/pci/pci_enum.c \
	drivers/pci/pci_msi.c drivers/pci/pci_driver.c drivers/virtio/core/virtio.c \
	drivers/virtio/core/virtio_wait.c drivers/virtio/core/virtio_names.c \
	drivers/virtio/pci/virtio_pci_describe.c drivers/virtio/pci/virtio_pci_modern.c \
	drivers/virtio/pci/virtio_pci_legacy.c $(VRING_SRCS)
