/* `virtio` and `rng`: the virtio devices as the core sees them, and bytes from virtio-rng. */
#include "drivers/virtio/core/virtio.h"
#include "drivers/virtio/rng/virtio_rng.h"
#include "shell/shell.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static int out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

static int cmd_virtio(int argc, char **argv)
{
	if (argc != 1)
		return shell_usage(argv[0]);
	virtio_describe_all(out);
	return 0;
}
SHELL_COMMAND(virtio, "virtio", "",
	      "virtio devices: transport, features, queues, vectors, counters", cmd_virtio);

static int cmd_rng(int argc, char **argv)
{
	unsigned long long n = 16;
	if (argc > 2 || (argc == 2 && (shell_parse_u64(argv[1], &n) || n == 0 || n > 4096))) {
		printf("error: N must be a number from 1 to 4096\n");
		return shell_usage(argv[0]);
	}
	unsigned char buf[4096];
	long r = virtio_rng_read(buf, (size_t)n);
	if (r < 0) {
		printf("error: %s\n", r == -ENODEV ? "no virtio-rng device" : "the rng device failed");
		return 1;
	}
	for (unsigned long long i = 0; i < n; i++)
		printf("%02x%s", buf[i], (i + 1) % 32 == 0 || i + 1 == n ? "\n" : "");
	return 0;
}
SHELL_COMMAND(rng, "rng", "[N]", "N random bytes (default 16) from virtio-rng, in hex", cmd_rng);
