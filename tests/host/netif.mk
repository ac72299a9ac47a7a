# Host unit tests of the lwIP netif glue (net/lwip/netif.c) against a fake netdev.
# lwIP's core is compiled for the host from the fetched sources ($(LWIP_HOST_SRCS), defined in
# net/lwip/lwip.mk) with the same lwipopts.h; the kernel-only parts of the port (services,
# shell commands) are left out and the few kernel functions the glue calls are faked in the
# test.
HOST_TESTS += netif
netif_SRCS := tests/host/test_netif.c net/lwip/netif.c net/lwip/sys_arch.c \
	$(LWIP_HOST_SRCS)

NETIF_HOST_OBJS := $(patsubst %,$(HOST_DIR)/%.o,$(netif_SRCS))
$(NETIF_HOST_OBJS): HOST_CFLAGS += $(LWIP_INC)
$(NETIF_HOST_OBJS): | $(LWIP_STAMP)
