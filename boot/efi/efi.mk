# The UEFI loader (boot/efi) and the ESP image. Included by the top Makefile.
#
#   $(BUILD)/vireo.efi        gnu-efi application embedding $(BUILD)/vireo.bin
#   $(BUILD)/esp.img          FAT image: \EFI\BOOT\BOOTX64.EFI (+ \EFI\BOOT\cmdline.txt when
#                             ESP_CMDLINE is set), boots under OVMF with no shell interaction
#   $(BUILD)/efi-stub/vireo-stub.efi
#                             the same loader around tests/fixtures/efi-stub (a tiny image that
#                             reports what it was handed on COM1 and exits QEMU): tests the
#                             loader without the kernel.  `make efi-stub`
#
# gnu-efi (Debian 3.0.15): libefi.a is built sysv, with efi_callN trampolines for firmware calls.
# We compile with GNU_EFI_USE_MS_ABI instead, which makes uefi_call_wrapper() a direct call
# through ms_abi-typed function pointers: the compiler checks every firmware call's arguments
# against its prototype. Mixing is fine: only firmware entry points are ms_abi; libefi's own
# functions (Print, LibOpenRoot, ...) and efi_main, called by crt0's _start, are sysv either way.
# -maccumulate-outgoing-args is what gnu-efi's own build adds with ms_abi.

ESP_CMDLINE ?=

EFI_INC     := /usr/include/efi
EFI_LIBDIR  := /usr/lib
EFI_CRT0    := $(EFI_LIBDIR)/crt0-efi-x86_64.o
EFI_LDS     := $(EFI_LIBDIR)/elf_x86_64_efi.lds

# gnu11 rather than the kernel's c11: gnu-efi is written for GNU C, and the loader uses
# __attribute__ and __builtin_clz. No warning needs relaxing for gnu-efi 3.0.15's headers.
EFI_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -g \
	-fpic -fshort-wchar -mno-red-zone -ffreestanding -fno-stack-protector -fno-strict-aliasing \
	-fno-asynchronous-unwind-tables -maccumulate-outgoing-args -DGNU_EFI_USE_MS_ABI \
	-I$(EFI_INC) -I$(EFI_INC)/x86_64 -I. $(DEPS)
EFI_LDFLAGS := -nostdlib -znocombreloc -T $(EFI_LDS) -shared -Bsymbolic -L$(EFI_LIBDIR)
# The sections gnu-efi's linker script produces that belong in the PE image.
EFI_SECTIONS := -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela -j .reloc

EFI_SRCS := $(wildcard boot/efi/*.c)
EFI_OBJS := $(patsubst boot/efi/%.c,$(BUILD)/efi/%.o,$(EFI_SRCS))

$(BUILD)/efi/%.o: boot/efi/%.c boot/efi/efi.mk | $(SETUP_STAMP)
	$(call say,EFICC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

# $(1): the .efi to make, $(2): the flat image it embeds, $(3): directory for intermediates.
define efi_app_rule
$(3)/kernel_blob.o: boot/efi/kernel_blob.S $(2) | $(SETUP_STAMP)
	$$(call say,EFIAS,$$@)
	@mkdir -p $$(dir $$@)
	$$(Q)$(CC) -c -DKERNEL_BIN='"$(2)"' $$< -o $$@

$(3)/loader.so: $(EFI_OBJS) $(3)/kernel_blob.o $(EFI_LDS)
	$$(call say,EFILD,$$@)
	$$(Q)$(LD) $(EFI_LDFLAGS) $(EFI_CRT0) $(EFI_OBJS) $(3)/kernel_blob.o -o $$@ -lefi -lgnuefi

$(1): $(3)/loader.so
	$$(call say,OBJCOPY,$$@)
	$$(Q)$(OBJCOPY) $(EFI_SECTIONS) --target=efi-app-x86_64 $$< $$@
endef

$(eval $(call efi_app_rule,$(BUILD)/vireo.efi,$(BUILD)/vireo.bin,$(BUILD)/efi))

# ---------------------------------------------------------------------------------------------
# ESP image, built with mtools: no root, no loop device. The size leaves room for the app plus
# a megabyte; mkfs.vfat picks FAT12/16 for that, which OVMF reads fine.
MKFS_VFAT := $(firstword $(wildcard /usr/sbin/mkfs.vfat /sbin/mkfs.vfat) mkfs.vfat)
esc_sq = $(subst ','\'',$(1))

# Rebuild the image when ESP_CMDLINE changes: this file holds the value, rewritten only when it
# differs.
$(BUILD)/efi/esp-cmdline.txt: FORCE
	@mkdir -p $(dir $@)
	@printf '%s' '$(call esc_sq,$(ESP_CMDLINE))' > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/esp.img: $(BUILD)/vireo.efi $(BUILD)/efi/esp-cmdline.txt
	$(call say,ESP,$@)
	$(Q)rm -f $@.tmp && \
	kb=$$(( ($$(stat -c %s $(BUILD)/vireo.efi) / 1024 + 1024 + 1023) / 1024 * 1024 )) && \
	$(MKFS_VFAT) -C -n VIREO $@.tmp $$kb > /dev/null && \
	MTOOLS_SKIP_CHECK=1 mmd -i $@.tmp ::/EFI ::/EFI/BOOT && \
	MTOOLS_SKIP_CHECK=1 mcopy -i $@.tmp $(BUILD)/vireo.efi ::/EFI/BOOT/BOOTX64.EFI && \
	if [ -s $(BUILD)/efi/esp-cmdline.txt ]; then \
		printf '%s\n' "$$(cat $(BUILD)/efi/esp-cmdline.txt)" > $(BUILD)/efi/cmdline.txt && \
		MTOOLS_SKIP_CHECK=1 mcopy -i $@.tmp $(BUILD)/efi/cmdline.txt ::/EFI/BOOT/cmdline.txt; \
	fi && \
	mv $@.tmp $@

# ---------------------------------------------------------------------------------------------
# The loader test fixture: tests/fixtures/efi-stub, a flat image linked at 1 MiB with a valid
# vireo_image_header whose entry64 prints what the loader handed it and exits QEMU.
EFI_STUB_DIR   := tests/fixtures/efi-stub
EFI_STUB_FLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -ffreestanding -fno-pic -fno-pie \
	-mno-red-zone -fno-stack-protector -mgeneral-regs-only -fno-asynchronous-unwind-tables \
	-nostdinc -isystem $(GCC_INCLUDE) -I. $(DEPS)

.PHONY: efi-stub
efi-stub: $(BUILD)/efi-stub/vireo-stub.efi

$(BUILD)/efi-stub/%.o: $(EFI_STUB_DIR)/% | $(SETUP_STAMP)
	$(call say,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(EFI_STUB_FLAGS) -c $< -o $@

$(BUILD)/efi-stub/stub.elf: $(BUILD)/efi-stub/stub.S.o $(BUILD)/efi-stub/stub.c.o $(EFI_STUB_DIR)/stub.ld
	$(call say,LD,$@)
	$(Q)$(LD) -nostdlib -static -z max-page-size=0x1000 -z noexecstack -T $(EFI_STUB_DIR)/stub.ld \
		-o $@ $(BUILD)/efi-stub/stub.S.o $(BUILD)/efi-stub/stub.c.o

$(BUILD)/efi-stub/stub.bin: $(BUILD)/efi-stub/stub.elf
	$(call say,OBJCOPY,$@)
	$(Q)$(OBJCOPY) -O binary $< $@

$(eval $(call efi_app_rule,$(BUILD)/efi-stub/vireo-stub.efi,$(BUILD)/efi-stub/stub.bin,$(BUILD)/efi-stub))
