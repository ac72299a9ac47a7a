# virtio-pci transports and the virtio device core, end to end over the PCI fake, against a
# register-level device model (modern, transitional, legacy) that enforces the driver MUSTs.
HOST_TESTS += virtio_pci
virtio_pci_SRCS := tests/host/cmocka_isolate.c tests/host/test_virtio_pci.c tests/host/virtio_test_driver.c tests/host/virtio_fake_dev.c tests/host/virtio_fake_mmio.c \
	tests/host/pci_fake.c drivers/pci/pci_config.c drivers/pci/pci_ecam.c drivers/pci/pci_enum.c drivers/pci/pci_msi.c \
	drivers/pci/pci_driver.c drivers/pci/pci_lspci.c drivers/virtio/core/virtio.c \
	drivers/virtio/core/virtio_wait.c \
	drivers/virtio/core/virtio_devices.c drivers/virtio/core/virtio_names.c drivers/virtio/pci/virtio_pci.c \
	drivers/virtio/pci/virtio_pci_irq.c drivers/virtio/pci/virtio_pci_describe.c drivers/virtio/pci/virtio_pci_modern.c \
	drivers/virtio/pci/virtio_pci_legacy.c $(VRING_SRCS) \
	drivers/virtio/rng/virtio_rng.c
