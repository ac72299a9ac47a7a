# libFuzzer target: a hostile virtio-mmio device against the mmio transport, the device core and
# the virtio-blk driver (tests/fuzz/fuzz_mmio.c, which includes virtio_mmio.c, virtio_devices.c
# and virtio_blk.c to reset their static tables).
FUZZ_TARGETS += mmio
mmio_FUZZ_SRCS := tests/fuzz/fuzz_mmio.c drivers/virtio/core/virtio.c drivers/virtio/core/virtio_wait.c \
	drivers/virtio/core/virtio_names.c $(VRING_SRCS) tests/host/ring_port_host.c
