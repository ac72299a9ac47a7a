/*
 * Port I/O and MMIO accessors. With barrier.h and cpu.h, the only place where Vireo touches
 * hardware registers directly; everything else calls these.
 *
 * MMIO accessors are volatile single accesses of the named width: device registers must be read
 * and written with exactly the width the device defines (e.g. virtio common config fields), and
 * the compiler must neither merge, split nor drop them.
 */
#ifndef VIREO_ARCH_IO_H
#define VIREO_ARCH_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint8_t mmio_read8(const volatile void *addr)
{
	return *(const volatile uint8_t *)addr;
}
static inline uint16_t mmio_read16(const volatile void *addr)
{
	return *(const volatile uint16_t *)addr;
}
static inline uint32_t mmio_read32(const volatile void *addr)
{
	return *(const volatile uint32_t *)addr;
}
static inline uint64_t mmio_read64(const volatile void *addr)
{
	return *(const volatile uint64_t *)addr;
}
static inline void mmio_write8(volatile void *addr, uint8_t v)
{
	*(volatile uint8_t *)addr = v;
}
static inline void mmio_write16(volatile void *addr, uint16_t v)
{
	*(volatile uint16_t *)addr = v;
}
static inline void mmio_write32(volatile void *addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}
static inline void mmio_write64(volatile void *addr, uint64_t v)
{
	*(volatile uint64_t *)addr = v;
}

/* One access of width 1, 2 or 4 bytes chosen at run time (the ports of the portable layers
 * take the width as an argument). */
static inline uint32_t pio_read(uint16_t port, int width)
{
	return width == 1 ? inb(port) : width == 2 ? inw(port) : inl(port);
}

static inline void pio_write(uint16_t port, int width, uint32_t v)
{
	if (width == 1)
		outb(port, (uint8_t)v);
	else if (width == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}

static inline uint32_t mmio_read(const volatile void *addr, int width)
{
	return width == 1 ? mmio_read8(addr) : width == 2 ? mmio_read16(addr) : mmio_read32(addr);
}

static inline void mmio_write(volatile void *addr, int width, uint32_t v)
{
	if (width == 1)
		mmio_write8(addr, (uint8_t)v);
	else if (width == 2)
		mmio_write16(addr, (uint16_t)v);
	else
		mmio_write32(addr, v);
}

#endif
