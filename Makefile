# Vireo — top-level Makefile.
#
#   make            kernel (build/vireo.elf; build/vireo-pvh.elf for the PVH entry), UEFI app
#                   (build/vireo.efi), ESP image (build/esp.img)
#   make check      host unit tests, fuzz smoke runs, QEMU system tests on QEMU 7.2 and 10.0
#                   (QEMU=7.2|10.0 for one); a summary, and last "N passed, N failed"
#   make bench      benchmarks (BENCH=boot|ring|blk|net to run one part)
#   make fuzz       libFuzzer targets for FUZZ_SECONDS each (default 60)
#   make V=1        show full commands
#
# Every path that needs outside software goes through scripts/setup.sh first, so any of these
# targets works as the first command on a fresh Debian/Ubuntu machine.

BUILD   ?= build
V       ?= 0
# `make` with no target builds the images, whatever rule an included fragment defines first.
.DEFAULT_GOAL := all
Q       := $(if $(filter 1,$(V)),,@)
say      = $(if $(filter 1,$(V)),,@printf '  %-8s %s\n' '$(1)' '$(2)';)

CC      := gcc
LD      := ld
OBJCOPY := objcopy
HOSTCC  := gcc
CLANG   := clang
PYTHON  := /usr/bin/python3

# Set-up comes first, before the rest of this file is believed: the stamp is an included
# makefile, so on a fresh machine make runs scripts/setup.sh to create it and then restarts,
# reading the compiler's paths and gnu-efi's files again with the packages installed.
SETUP_STAMP  := $(BUILD)/setup.mk
NEWLIB_STAMP := $(BUILD)/newlib/.built
NEWLIB       := $(BUILD)/newlib/install/x86_64-elf
GCC_INCLUDE  := $(shell $(CC) -print-file-name=include 2>/dev/null)
LIBGCC       := $(shell $(CC) -print-libgcc-file-name 2>/dev/null)

WARN := -std=c11 -Wall -Wextra -Werror -Wmissing-prototypes -Wmissing-declarations
DEPS  = -MMD -MP

# Kernel code: freestanding, no red zone (interrupts push onto the current stack), non-PIC and
# linked below 2 GiB (small code model). SSE is allowed: newlib's printf/memcpy use it, and the
# interrupt stubs save the FPU/SSE state (arch/x86_64/isr.S).
KCFLAGS := $(WARN) -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector -mno-red-zone \
	-fno-omit-frame-pointer -fno-strict-aliasing -nostdinc -isystem $(NEWLIB)/include \
	-isystem $(GCC_INCLUDE) -I. -D_DEFAULT_SOURCE -DVIREO_KERNEL $(DEPS)
KASFLAGS := -g -I. -DVIREO_KERNEL $(DEPS)
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 -T linker.ld --no-warn-rwx-segments

# Host builds of the portable parts (unit tests, fuzzers, ring benchmark).
HOST_CFLAGS := $(WARN) -O1 -g -I. -D_GNU_SOURCE -DVIREO_HOST -DVIRTIO_PORT_HAS_REGISTERS $(DEPS)
HOST_LIBS   := -lcmocka -lpthread
# COVERAGE=1 (make coverage): the same tests with gcov counters, in their own folder.
HOST_DIR    := $(BUILD)/host$(if $(filter 1,$(COVERAGE)),-cov)
ifeq ($(COVERAGE),1)
HOST_CFLAGS += --coverage -DVIREO_COVERAGE
HOST_LIBS   += --coverage
endif

# ---------------------------------------------------------------------------------------------
# Kernel sources: every .c/.S in these folders (host-only code lives under tests/ and bench/).
KDIRS := arch/x86_64 boot boot/multiboot boot/pvh kernel lib lib/acpi lib/newlib port shell selftest net \
	net/lwip drivers/pci drivers/virtio/ring drivers/virtio/core drivers/virtio/pci \
	drivers/virtio/mmio drivers/virtio/blk drivers/virtio/net drivers/virtio/rng
KSRCS := $(foreach d,$(KDIRS),$(wildcard $(d)/*.c) $(wildcard $(d)/*.S))
KOBJS := $(patsubst %,$(BUILD)/k/%.o,$(KSRCS))

# lwIP (fetched at build time) and the include path of its port: $(LWIP_LIB), $(LWIP_STAMP).
include net/lwip/lwip.mk

.PHONY: all check bench fuzz clean setup newlib host-tests fuzz-smoke system-tests FORCE
all: $(BUILD)/vireo.elf $(BUILD)/vireo-pvh.elf $(BUILD)/vireo.efi $(BUILD)/esp.img \
	compile_commands.json

setup: $(SETUP_STAMP)
$(SETUP_STAMP): scripts/setup.sh
	$(Q)scripts/setup.sh
	$(Q)mkdir -p $(BUILD) && echo '# scripts/setup.sh ran: the Debian packages are installed' > $@
include $(SETUP_STAMP)

newlib: $(NEWLIB_STAMP)
$(NEWLIB_STAMP): scripts/build-newlib.sh | $(SETUP_STAMP)
	$(call say,NEWLIB,$(NEWLIB))
	$(Q)scripts/build-newlib.sh $(BUILD)/newlib

$(BUILD)/k/%.c.o: %.c | $(NEWLIB_STAMP)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@
	@scripts/compdb-entry.sh "$(CURDIR)" "$<" "$(CC) $(KCFLAGS) -c $< -o $@" > $@.json

$(BUILD)/k/%.S.o: %.S | $(NEWLIB_STAMP)
	$(call say,AS,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KASFLAGS) -c $< -o $@

# The kernel proper: one 64-bit image linked at 1 MiB. GDB uses vireo64.elf.
$(BUILD)/vireo64.elf: $(KOBJS) $(LWIP_LIB) linker.ld $(NEWLIB_STAMP)
	$(call say,LD,$@)
	$(Q)$(LD) $(KLDFLAGS) -o $@ $(KOBJS) $(LWIP_LIB) $(NEWLIB)/lib/libc.a $(NEWLIB)/lib/libm.a $(LIBGCC)

# QEMU's multiboot loader refuses ELF64, so the same image is re-labelled as ELF32; its entry
# point is the 32-bit code in boot/multiboot/entry.S that switches to long mode.
$(BUILD)/vireo.elf: $(BUILD)/vireo64.elf
	$(call say,OBJCOPY,$@)
	$(Q)$(OBJCOPY) -I elf64-x86-64 -O elf32-i386 $< $@

# The same image for the PVH entry (boot/pvh): QEMU's -kernel takes a multiboot header first
# when the file has one, so this copy has the multiboot magic (the first word of .text)
# blanked; its ELF note still names pvh_start. Firecracker and cloud-hypervisor take the ELF64
# build/vireo64.elf, which has the same note.
$(BUILD)/vireo-pvh.elf: $(BUILD)/vireo.elf
	$(call say,PVH,$@)
	$(Q)off=$$(( 0x$$(readelf -SW $< | sed -n 's/.* \.text  *PROGBITS  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1/p') )) && \
	test "$$(od -An -tx4 -j $$off -N 4 $< | tr -d ' ')" = 1badb002 && \
	cp $< $@.tmp && printf '\0\0\0\0' | dd of=$@.tmp bs=1 seek=$$off count=4 conv=notrunc 2>/dev/null && \
	mv $@.tmp $@

# Flat image of the kernel for the UEFI loader to place at its link address.
$(BUILD)/vireo.bin: $(BUILD)/vireo64.elf
	$(call say,OBJCOPY,$@)
	$(Q)$(OBJCOPY) -O binary $< $@

include boot/efi/efi.mk

# ---------------------------------------------------------------------------------------------
# Host unit tests: each tests/host/*.mk adds a name to HOST_TESTS and sets <name>_SRCS.
HOST_TESTS :=
# The virtqueue core, for every host build that links it.
VRING_SRCS := drivers/virtio/ring/virtqueue.c drivers/virtio/ring/virtqueue_split.c \
	drivers/virtio/ring/virtqueue_packed.c drivers/virtio/ring/vq_broken.c
include $(wildcard tests/host/*.mk)
define host_test_rule
$(HOST_DIR)/test_$(1): $$(patsubst %,$(HOST_DIR)/%.o,$$($(1)_SRCS))
	$$(call say,HOSTLD,$$@)
	$$(Q)$$(HOSTCC) -o $$@ $$^ $$($(1)_LIBS) $(HOST_LIBS)
endef
$(foreach t,$(HOST_TESTS),$(eval $(call host_test_rule,$(t))))
HOST_TEST_BINS := $(patsubst %,$(HOST_DIR)/test_%,$(HOST_TESTS))

$(HOST_DIR)/%.c.o: %.c | $(SETUP_STAMP)
	$(call say,HOSTCC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -c $< -o $@

host-tests: $(HOST_TEST_BINS)

# Line and branch coverage of the portable code (drivers/, lib/acpi) by the host tests, with
# Debian's gcovr: a summary on the terminal, the details in build/coverage/index.html.
.PHONY: coverage
coverage: | $(SETUP_STAMP)
	$(Q)rm -rf $(BUILD)/host-cov $(BUILD)/coverage
	$(Q)$(MAKE) --no-print-directory COVERAGE=1 host-tests
	$(Q)scripts/coverage.sh $(BUILD)/host-cov $(BUILD)/coverage

# Fuzz targets: each tests/fuzz/*.mk adds a name to FUZZ_TARGETS and sets <name>_FUZZ_SRCS.
FUZZ_TARGETS :=
FUZZ_CFLAGS  := $(WARN) -O1 -g -I. -D_GNU_SOURCE -DVIREO_HOST -DVIREO_FUZZ -DVIRTIO_PORT_HAS_REGISTERS \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
include $(wildcard tests/fuzz/*.mk)
define fuzz_rule
$(BUILD)/fuzz/fuzz_$(1): $$($(1)_FUZZ_SRCS) $$(FUZZ_DEPS) | $(SETUP_STAMP)
	$$(call say,FUZZCC,$$@)
	@mkdir -p $$(dir $$@)
	$$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $$@ $$($(1)_FUZZ_SRCS)
endef
# One clang call per target leaves no usable dependency file; a fuzzer rebuilds (in seconds)
# when any source or header of the portable code or the tests changes.
FUZZ_DEPS := $(wildcard drivers/*/*.[ch] drivers/*/*/*.[ch] lib/*/*.[ch] tests/fuzz/*.[ch] tests/host/*.[ch])
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_SECONDS ?= 60

fuzz: $(FUZZ_BINS)
	$(Q)scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# ---------------------------------------------------------------------------------------------
# Benchmarks: each bench/*.mk adds to BENCH_DEPS what its part needs built.
BENCH_DEPS :=
include $(wildcard bench/*.mk)
include examples/embed/embed.mk
BENCH ?= all
bench: all $(BENCH_DEPS)
	$(Q)$(PYTHON) bench/run.py --only $(BENCH)

# ---------------------------------------------------------------------------------------------
# The QEMUs the system tests run on: the system's (Debian 12: 7.2) and Debian's
# bookworm-backports 10.0, unpacked into $(BUILD)/qemu-10.0 by scripts/fetch-qemu.sh.
#   make check QEMU=7.2 | QEMU=10.0     one of them (default: both)
QEMU        ?= all
QEMU10_DIR  := $(BUILD)/qemu-10.0
QEMU10      := $(QEMU10_DIR)/qemu-system-x86_64
QEMU_7.2    := 7.2=qemu-system-x86_64
QEMU_10.0   := 10.0=$(abspath $(QEMU10))
CHECK_QEMUS := $(if $(filter all,$(QEMU)),$(QEMU_7.2) $(QEMU_10.0),$(QEMU_$(QEMU)))
ifeq ($(strip $(CHECK_QEMUS)),)
$(error QEMU=$(QEMU): say 7.2, 10.0 or all)
endif
CHECK_DEPS  := $(if $(filter 10.0=%,$(CHECK_QEMUS)),$(QEMU10_DIR)/.fetched)

.PHONY: qemu10
qemu10: $(QEMU10_DIR)/.fetched
$(QEMU10_DIR)/.fetched: scripts/fetch-qemu.sh scripts/apt-private.sh | $(SETUP_STAMP)
	$(call say,FETCH,QEMU 10.0 (Debian bookworm-backports))
	$(Q)rm -f $@ && scripts/fetch-qemu.sh $(QEMU10_DIR)

check: all $(HOST_TEST_BINS) $(FUZZ_BINS) $(BENCH_DEPS) $(CHECK_DEPS) $(EMBED_DIR)/embed.elf
	$(Q)$(PYTHON) scripts/check.py --host $(HOST_TEST_BINS) --fuzz $(FUZZ_BINS) \
		--qemu $(CHECK_QEMUS)

compile_commands.json: $(KOBJS)
	@scripts/compdb-merge.sh $(BUILD) > $@

clean:
	rm -rf $(BUILD)/k $(BUILD)/host $(BUILD)/host-cov $(BUILD)/coverage $(BUILD)/fuzz $(BUILD)/efi $(BUILD)/*.elf $(BUILD)/*.efi \
		$(BUILD)/*.bin $(BUILD)/esp.img $(BUILD)/embed compile_commands.json

-include $(shell find $(BUILD)/k $(HOST_DIR) $(BUILD)/efi $(BUILD)/lwip -name '*.d' -type f 2>/dev/null)
