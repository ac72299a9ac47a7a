# libFuzzer target: a device against the packed virtqueue format (tests/fuzz/fuzz_packed.c),
# honest through the spec-based model of tests/host/packed_device_model.c or hostile.
FUZZ_TARGETS += packed
packed_FUZZ_SRCS := tests/fuzz/fuzz_packed.c tests/host/packed_device_model.c \
	$(VRING_SRCS) tests/host/ring_port_host.c
