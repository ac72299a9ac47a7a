# Shared vring core: unit tests against an independent spec-based device model.
HOST_TESTS += vring
vring_SRCS := tests/host/test_vring.c tests/host/vring_device_model.c \
	tests/host/ring_port_host.c $(VRING_SRCS)
