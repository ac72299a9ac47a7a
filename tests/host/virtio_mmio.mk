# The virtio-mmio transport (version 2 and legacy 1) and the virtio device core, end to end
# against the register-level model's mmio block (virtio_fake_mmio.c), which enforces the
# driver MUSTs of 4.2; and the virtio_mmio.device= command line syntax.
HOST_TESTS += virtio_mmio
virtio_mmio_SRCS := tests/host/cmocka_isolate.c tests/host/test_virtio_mmio.c \
	tests/host/virtio_test_driver.c tests/host/virtio_fake_dev.c tests/host/virtio_fake_mmio.c \
	tests/host/pci_fake.c drivers/pci/pci_ecam.c drivers/virtio/core/virtio.c drivers/virtio/core/virtio_wait.c \
	drivers/virtio/core/virtio_devices.c drivers/virtio/core/virtio_names.c \
	drivers/virtio/mmio/virtio_mmio.c drivers/virtio/mmio/virtio_mmio_cmdline.c \
	$(VRING_SRCS) drivers/virtio/rng/virtio_rng.c
