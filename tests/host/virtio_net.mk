# The virtio-net driver's header, buffer, link, MAC, control-queue and interrupt handling, end
# to end over the PCI fake and the virtio-pci transports, against a virtio-net device
# (virtio_fake_net.c) on the register-level virtio-pci model; the test plays the network stack.
HOST_TESTS += virtio_net
virtio_net_SRCS := tests/host/cmocka_isolate.c tests/host/test_virtio_net.c tests/host/virtio_fake_net.c \
	tests/host/virtio_fake_dev.c tests/host/virtio_fake_mmio.c tests/host/pci_fake.c drivers/pci/pci_config.c drivers/pci/pci_ecam.c drivers/pci/pci_enum.c \
	drivers/pci/pci_msi.c drivers/pci/pci_driver.c drivers/pci/pci_lspci.c \
	drivers/virtio/core/virtio.c drivers/virtio/core/virtio_wait.c \
	drivers/virtio/core/virtio_devices.c drivers/virtio/core/virtio_names.c drivers/virtio/pci/virtio_pci.c \
	drivers/virtio/pci/virtio_pci_irq.c drivers/virtio/pci/virtio_pci_describe.c drivers/virtio/pci/virtio_pci_modern.c \
	drivers/virtio/pci/virtio_pci_legacy.c $(VRING_SRCS) \
	drivers/virtio/net/virtio_net.c
