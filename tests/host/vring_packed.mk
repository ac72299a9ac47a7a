# The packed virtqueue format (and IN_ORDER on it) against an independent device model written
# from the spec's 2.8 (tests/host/packed_device_model.c).
HOST_TESTS += vring_packed
vring_packed_SRCS := tests/host/test_vring_packed.c tests/host/packed_device_model.c \
	tests/host/ring_port_host.c $(VRING_SRCS)
