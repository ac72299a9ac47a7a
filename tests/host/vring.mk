# Shared vring core: unit tests against an independent spec-based device model.
# (tests/fuzz/vring.mk reuses the name vring_SRCS for the fuzzer; this rule's prerequisites are
# expanded before that fragment is included, and its recipe only uses $^, so they don't clash.)
HOST_TESTS += vring
vring_SRCS := tests/host/test_vring.c tests/host/vring_device_model.c \
	tests/host/virtio_platform_host.c drivers/virtio/virtqueue.c
