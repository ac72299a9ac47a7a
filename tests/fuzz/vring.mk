# libFuzzer target: a malicious device against the vring core (tests/fuzz/fuzz_vring.c).
# (The name vring_SRCS is shared with tests/host/vring.mk; see the note there.)
FUZZ_TARGETS += vring
vring_SRCS := tests/fuzz/fuzz_vring.c drivers/virtio/virtqueue.c tests/host/virtio_platform_host.c
