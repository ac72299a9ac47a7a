# The virtio-blk driver against a virtio-blk device (virtio_fake_blk.c: a RAM disk that checks
# the driver MUSTs of 5.2.6.1) on the register-level model's virtio-mmio block: request
# layout, the status byte, capacity, read-only, FLUSH, BLK_SIZE, seg_max, size_max, GET_ID,
# IOERR and UNSUPP, and a configuration that cannot be read consistently.
HOST_TESTS += virtio_blk
virtio_blk_SRCS := tests/host/cmocka_isolate.c tests/host/test_virtio_blk.c \
	tests/host/virtio_fake_blk.c tests/host/virtio_fake_dev.c tests/host/virtio_fake_mmio.c \
	tests/host/pci_fake.c drivers/pci/pci_ecam.c drivers/virtio/core/virtio.c \
	drivers/virtio/core/virtio_wait.c drivers/virtio/core/virtio_devices.c \
	drivers/virtio/core/virtio_names.c drivers/virtio/mmio/virtio_mmio.c \
	drivers/virtio/mmio/virtio_mmio_cmdline.c $(VRING_SRCS) drivers/virtio/blk/virtio_blk.c
