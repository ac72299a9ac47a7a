# Ring benchmark: build/bench/ringtest (driver thread + device thread over the real vring core).
# bench/run.py runs it and parses its key=value lines; `build/bench/ringtest --smoke` is quick.
RINGTEST_SRCS := bench/ringtest/ringtest.c $(VRING_SRCS) \
	tests/host/ring_port_host.c

$(BUILD)/bench/ringtest: $(RINGTEST_SRCS) $(wildcard drivers/virtio/ring/*.h) arch/x86_64/barrier.h \
		| $(SETUP_STAMP)
	$(call say,HOSTCC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(WARN) -O2 -g -I. -D_GNU_SOURCE -DVIREO_HOST -pthread -o $@ \
		$(RINGTEST_SRCS) -lpthread

BENCH_DEPS += $(BUILD)/bench/ringtest
