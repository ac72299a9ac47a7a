# The embedding example (examples/embed/README.md): a second kernel of its own boot, console,
# C library and ten port functions around the unchanged virtio ring, device core, virtio-mmio
# transport and virtio-blk driver, compiled here with the example's own flags.
#   make embed      build/embed/embed.elf (ELF32, for QEMU's -kernel), build/embed/embed64.elf
EMBED_DIR    := $(BUILD)/embed
EMBED_STACK  := $(VRING_SRCS) drivers/virtio/core/virtio.c drivers/virtio/core/virtio_devices.c \
	drivers/virtio/core/virtio_names.c drivers/virtio/core/virtio_wait.c \
	drivers/virtio/mmio/virtio_mmio.c drivers/virtio/mmio/virtio_mmio_cmdline.c \
	drivers/virtio/blk/virtio_blk.c
EMBED_OWN    := examples/embed/start.S examples/embed/main.c examples/embed/port.c \
	examples/embed/console.c examples/embed/libc.c
EMBED_OBJS   := $(patsubst %,$(EMBED_DIR)/%.o,$(EMBED_OWN) $(EMBED_STACK))
EMBED_CFLAGS := $(WARN) -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-mno-red-zone -mgeneral-regs-only -fno-builtin -nostdinc -isystem $(NEWLIB)/include \
	-isystem $(GCC_INCLUDE) -I. $(DEPS)

$(EMBED_DIR)/%.c.o: %.c | $(NEWLIB_STAMP)
	$(call say,CC,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(EMBED_CFLAGS) -c $< -o $@

$(EMBED_DIR)/%.S.o: %.S | $(SETUP_STAMP)
	$(call say,AS,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -g $(DEPS) -c $< -o $@

$(EMBED_DIR)/embed64.elf: $(EMBED_OBJS) examples/embed/embed.ld
	$(call say,LD,$@)
	$(Q)$(LD) -nostdlib -static -z max-page-size=0x1000 --no-warn-rwx-segments \
		-T examples/embed/embed.ld -o $@ $(EMBED_OBJS) $(LIBGCC)

# QEMU's -kernel takes PVH from an ELF32 file only; Firecracker takes embed64.elf.
$(EMBED_DIR)/embed.elf: $(EMBED_DIR)/embed64.elf
	$(call say,OBJCOPY,$@)
	$(Q)$(OBJCOPY) -I elf64-x86-64 -O elf32-i386 $< $@

.PHONY: embed
embed: $(EMBED_DIR)/embed.elf
-include $(shell find $(EMBED_DIR) -name '*.d' -type f 2>/dev/null)
