# libFuzzer target: a malicious device against the vring core (tests/fuzz/fuzz_vring.c).
FUZZ_TARGETS += vring
vring_FUZZ_SRCS := tests/fuzz/fuzz_vring.c $(VRING_SRCS) tests/host/ring_port_host.c
