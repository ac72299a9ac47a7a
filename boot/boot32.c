/* Which 32-bit entry was taken: multiboot (QEMU -kernel, GRUB) or PVH (QEMU -kernel with a
 * PVH-only image, Firecracker, cloud-hypervisor). */
#include "boot/boot32.h"
#include "boot/multiboot/multiboot.h"
#include "boot/pvh/pvh.h"

_Noreturn void boot32_main(uint32_t magic, uint32_t info_phys)
{
	if (magic == XEN_HVM_START_MAGIC_VALUE)
		pvh_main(info_phys);
	multiboot_main(magic, info_phys); /* reports a wrong magic itself */
}
