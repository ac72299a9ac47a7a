/*
 * Host implementation of drivers/virtio/ring/ring_port.h for unit tests, the fuzzer and the
 * ring benchmark: "DMA" memory is page-aligned heap memory and virtual == physical, so a device
 * model handed a physical address from the queue can simply dereference it.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio/ring/ring_port.h"
#include "tests/host/ring_port_host.h"

static long dma_outstanding;
static int dma_fail_at;
static bool log_quiet;
static char last_log[512];
static unsigned long log_count;

void *virtio_dma_alloc(size_t bytes, uint64_t *phys)
{
	size_t rounded = (bytes + 4095) & ~(size_t)4095;
	void *p;

	if (dma_fail_at > 0 && --dma_fail_at == 0)
		return NULL;
	p = aligned_alloc(4096, rounded ? rounded : 4096);
	if (!p)
		return NULL;
	memset(p, 0, rounded);
	*phys = (uint64_t)(uintptr_t)p;
	dma_outstanding++;
	return p;
}

void virtio_dma_free(void *virt, size_t bytes)
{
	(void)bytes;
	if (!virt)
		return;
	dma_outstanding--;
	free(virt);
}

uint64_t virtio_virt_to_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

void virtio_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	log_count++;
	if (!log_quiet)
		fputs(last_log, stderr);
}

long virtio_host_dma_outstanding(void)
{
	return dma_outstanding;
}

void virtio_host_dma_fail_at(int n)
{
	dma_fail_at = n;
}

void virtio_host_log_quiet(bool quiet)
{
	log_quiet = quiet;
}

const char *virtio_host_last_log(void)
{
	return last_log;
}

unsigned long virtio_host_log_count(void)
{
	return log_count;
}
