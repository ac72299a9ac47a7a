# libFuzzer target: a hostile virtio-mmio device against the mmio transport, the device core, the
# virtio-blk driver and virtio-net's receive path (tests/fuzz/fuzz_mmio.c, which includes
# virtio_mmio.c, virtio_devices.c, virtio_blk.c and virtio_net.c to reset their static tables).
FUZZ_TARGETS += mmio
mmio_FUZZ_SRCS := tests/fuzz/fuzz_mmio.c drivers/virtio/core/virtio.c drivers/virtio/core/virtio_wait.c \
	drivers/virtio/core/virtio_names.c $(VRING_SRCS) tests/host/ring_port_host.c
