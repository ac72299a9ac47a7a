# The Linux peer guest (docs/LINUX_PEER.md): Debian's kernel, busybox-static and vbench in an
# initramfs, built from `apt-get download` packages (nothing installed). bench/linux_guest.py
# boots it. A build takes ~5 s with a fresh download, ~3 s when build/linux-guest/debs has
# the packages, and nothing when it is up to date.
#   make linux-guest      just this
#   LINUX_PEER=0          leave it out of BENCH_DEPS (and so of `make check`)
LINUX_GUEST_DIR  := $(BUILD)/linux-guest
LINUX_GUEST_SRCS := bench/linux/build-guest.sh bench/linux/mkinitramfs.py bench/linux/init \
	bench/linux/vbench.c

$(LINUX_GUEST_DIR)/.built: $(LINUX_GUEST_SRCS) | $(SETUP_STAMP)
	$(call say,GUEST,$(LINUX_GUEST_DIR))
	$(Q)bench/linux/build-guest.sh $(LINUX_GUEST_DIR)

.PHONY: linux-guest
linux-guest: $(LINUX_GUEST_DIR)/.built

ifneq ($(LINUX_PEER),0)
BENCH_DEPS += $(LINUX_GUEST_DIR)/.built
endif
