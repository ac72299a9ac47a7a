# libFuzzer target: a hostile virtio-mmio device against the mmio transport and the device core
# (tests/fuzz/fuzz_mmio.c, which includes virtio_mmio.c and virtio_devices.c to reset them).
FUZZ_TARGETS += mmio
mmio_FUZZ_SRCS := tests/fuzz/fuzz_mmio.c drivers/virtio/core/virtio.c drivers/virtio/core/virtio_wait.c \
	drivers/virtio/core/virtio_names.c $(VRING_SRCS) tests/host/ring_port_host.c
