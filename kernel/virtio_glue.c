/*
 * Vireo's virtio set-up: options from the command line, driver registration, and the shell
 * commands `virtio` and `rng`.
 *
 *   virtio.mode=irq|poll|hybrid     every device (default irq)
 *   virtio.<type>.mode=...          one device type: rng, blk, net
 *   virtio.transport=legacy         transitional devices use the legacy interface
 *   virtio.indirect=0               do not negotiate VIRTIO_RING_F_INDIRECT_DESC
 *   virtio.event_idx=0              do not negotiate VIRTIO_RING_F_EVENT_IDX
 *   virtio.msix=0                   INTx even when MSI-X is available
 */
#include "drivers/virtio/virtio.h"
#include "drivers/virtio/virtio_blk.h"
#include "drivers/virtio/virtio_net.h"
#include "drivers/virtio/virtio_rng.h"
#include "kernel/cmdline.h"
#include "kernel/idle.h"
#include "kernel/shell.h"
#include "lib/lwip_port/net_port.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_mode(const char *key, enum virtio_mode *m)
{
	const char *v = cmdline_get(key);
	if (!v)
		return 0;
	if (strcmp(v, "irq") == 0)
		*m = VIRTIO_MODE_IRQ;
	else if (strcmp(v, "poll") == 0)
		*m = VIRTIO_MODE_POLL;
	else if (strcmp(v, "hybrid") == 0)
		*m = VIRTIO_MODE_HYBRID;
	else {
		printf("virtio: %s=%s is not irq, poll or hybrid; using irq\n", key, v);
		*m = VIRTIO_MODE_IRQ;
	}
	return 1;
}

/* The HTTP status page's virtio section: one row per queue with its counters. */
static void http_virtio_stats(char *buf, size_t len, size_t *used)
{
#define EMIT(...)                                                                                 \
	do {                                                                                      \
		int w_ = snprintf(buf + *used, len - *used, __VA_ARGS__);                         \
		if (w_ > 0)                                                                       \
			*used += (size_t)w_ < len - *used ? (size_t)w_ : len - *used - 1;         \
	} while (0)
	EMIT("<h2>virtio</h2>\n<table border=1>\n<tr><th>device</th><th>transport</th><th>mode</th>"
	     "<th>irq</th><th>queue</th><th>size</th><th>requests</th><th>kicks</th>"
	     "<th>suppressed</th><th>interrupts</th><th>spurious</th><th>indirect</th></tr>\n");
	for (size_t i = 0; i < virtio_device_count(); i++) {
		struct virtio_device *vd = virtio_device_at(i);
		for (unsigned q = 0; q < vd->nvqs; q++) {
			const struct virtqueue *vq = vd->vqs[q].vq;
			const struct virtqueue_stats *st = &vq->stats;
			EMIT("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s%s</td><td>%u</td>"
			     "<td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td>"
			     "<td>%llu</td></tr>\n",
			     vd->name, vd->ops ? vd->ops->name : "-", virtio_mode_name(vd->mode),
			     virtio_irq_kind_name(vd->irq_kind), vq->name ? vq->name : "?",
			     vq->broken ? " (BROKEN)" : "", virtqueue_size(vq),
			     (unsigned long long)st->added, (unsigned long long)st->kicks,
			     (unsigned long long)st->kicks_suppressed,
			     (unsigned long long)st->interrupts, (unsigned long long)st->spurious,
			     (unsigned long long)st->indirect);
		}
	}
	EMIT("</table>\n");
#undef EMIT
}

static void poll_config(void *ctx)
{
	(void)ctx;
	virtio_poll_config();
}

void virtio_glue_init(void);
void virtio_glue_init(void)
{
	struct virtio_options *o = &virtio_options;
	parse_mode("virtio.mode", &o->mode);
	static const struct {
		const char *key;
		int type;
	} per_type[] = {{"virtio.rng.mode", VIRTIO_ID_RNG},
			{"virtio.blk.mode", VIRTIO_ID_BLOCK},
			{"virtio.net.mode", VIRTIO_ID_NET}};
	for (unsigned i = 0; i < sizeof(per_type) / sizeof(per_type[0]); i++)
		o->mode_set_by_type[per_type[i].type] =
			parse_mode(per_type[i].key, &o->mode_by_type[per_type[i].type]);
	const char *t = cmdline_get("virtio.transport");
	o->force_legacy = t && strcmp(t, "legacy") == 0;
	if (t && !o->force_legacy && strcmp(t, "modern") != 0)
		printf("virtio: virtio.transport=%s is not modern or legacy; using modern\n", t);
	o->no_indirect = cmdline_get_int("virtio.indirect", 1) == 0;
	o->no_event_idx = cmdline_get_int("virtio.event_idx", 1) == 0;
	o->no_msix = cmdline_get_int("virtio.msix", 1) == 0;

	idle_hook_add(poll_config, NULL); /* poll-mode devices' config changes */
	http_stats_register(http_virtio_stats);
	virtio_pci_register();
	virtio_rng_register();
	virtio_blk_register();
	virtio_net_register();
}

/* After probing: seed newlib's rand()/random() from the entropy device when there is one. */
void virtio_glue_late(void);
void virtio_glue_late(void)
{
	unsigned seed;
	if (virtio_rng_read(&seed, sizeof(seed)) == (long)sizeof(seed)) {
		srand(seed);
		srandom(seed);
		printf("virtio: rand() seeded from rng0\n");
	}
}

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
