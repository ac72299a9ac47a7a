# lwIP, Vireo's TCP/IP stack: Debian's `lwip` source package, fetched by scripts/fetch-lwip.sh
# into $(BUILD)/lwip/src (never committed) and compiled with the kernel's flags into
# $(BUILD)/lwip/liblwip.a. The port (this folder) is compiled with the rest of the kernel.
#
# Included by the top Makefile after KOBJS is known. Also used by tests/host/netif.mk, which
# builds a host copy of the same lwIP files (LWIP_HOST_SRCS).

LWIP_STAMP := $(BUILD)/lwip/.fetched
LWIP_DIR   := $(BUILD)/lwip/src/src
LWIP_LIB   := $(BUILD)/lwip/liblwip.a
LWIP_INC   := -Inet/lwip -I$(LWIP_DIR)/include

# The files the port needs, named one by one: the folder does not exist until the fetch ran, so
# a wildcard would come out empty on a fresh tree. IPv4 only; no sockets/netconn (NO_SYS).
LWIP_FILES := core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/raw.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c \
	core/tcp_out.c core/timeouts.c core/udp.c \
	core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c \
	core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c \
	netif/ethernet.c
LWIP_APP_FILES := apps/lwiperf/lwiperf.c
LWIP_SRCS  := $(addprefix $(LWIP_DIR)/,$(LWIP_FILES) $(LWIP_APP_FILES))
LWIP_OBJS  := $(patsubst $(LWIP_DIR)/%.c,$(BUILD)/lwip/obj/%.c.o,$(LWIP_SRCS))
# The core files the host unit tests link (no apps).
LWIP_HOST_SRCS := $(addprefix $(LWIP_DIR)/,$(LWIP_FILES))

# lwIP 2.1.3 builds cleanly with our full warning set (-Wall -Wextra -Werror) and these options,
# so its files get exactly the kernel's flags, no relaxation.

$(LWIP_STAMP): | $(SETUP_STAMP)
	$(call say,FETCH,lwIP (Debian source package))
	$(Q)scripts/fetch-lwip.sh $(BUILD)/lwip

# The sources appear when the fetch runs.
$(sort $(LWIP_SRCS) $(LWIP_HOST_SRCS)): | $(LWIP_STAMP) ;

$(BUILD)/lwip/obj/%.c.o: $(LWIP_DIR)/%.c net/lwip/lwipopts.h net/lwip/arch/cc.h \
		| $(LWIP_STAMP) $(NEWLIB_STAMP)
	$(call say,CC,lwip/$*.c)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KCFLAGS) $(LWIP_INC) -c $< -o $@

$(LWIP_LIB): $(LWIP_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# The files that use lwIP see its headers (the port, the services, the net shell commands and
# selftests); every kernel object waits for the fetch (to keep one order).
$(BUILD)/k/net/%.o: KCFLAGS += $(LWIP_INC)
$(BUILD)/k/shell/net_cmds.c.o $(BUILD)/k/selftest/net_tests.c.o: KCFLAGS += $(LWIP_INC)
$(KOBJS): | $(LWIP_STAMP)
