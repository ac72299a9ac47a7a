# The boot floor (bench/stub/stub.S): a multiboot kernel that prints a line and exits at its
# first instructions. bench/run.py's boot part times QEMU start to that line on each machine.
$(BUILD)/bench/stub.elf: bench/stub/stub.S | $(SETUP_STAMP)
	$(call say,AS,$@)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) -m32 -nostdlib -static -Wl,--build-id=none -Wl,-N,--no-warn-rwx-segments -Wl,-Ttext=0x100000 -o $@ $<

BENCH_DEPS += $(BUILD)/bench/stub.elf
