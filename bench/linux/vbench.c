/*
 * vbench: the Linux peer's benchmark program (bench/linux, docs/LINUX_PEER.md).
 *
 * It runs the workloads of Vireo's shell benchmark commands inside a minimal Linux guest and
 * prints results in the same one-line key=value format, so bench/run.py parses both alike:
 *
 *   vbench blk DEV rw=randread|randwrite|read|write bs=4096 qd=N n=N [engine=aio|sync]
 *       O_DIRECT I/O on a block device with N requests kept in flight (Linux native AIO via
 *       raw io_setup/io_submit/io_getevents; engine=sync uses pread/pwrite, qd must be 1).
 *       bench=blk guest=linux dev=.. rw=.. bs=.. qd=.. n=.. iops=.. mbps=.. p50_us=.. p99_us=..
 *       irqs_per_req=.. errors=.. secs=.. irqs=.. resubmit_us=..   (irqs: the guest's
 *       /proc/interrupts; resubmit_us: mean time from io_getevents returning to the next
 *       io_submit call)
 *   vbench udp HOST PORT n=N [size=32]
 *       request/response against a UDP echo server: one datagram out, wait for it back.
 *       bench=udp guest=linux host=.. port=.. n=.. size=.. received=.. lost=.. rtt_avg_us=..
 *       p50_us=.. p99_us=.. min_us=.. max_us=..
 *   vbench udpecho PORT [n=N]     echo N datagrams (0: forever) back to their senders
 *   vbench tcpsink PORT           accept one TCP connection, read to EOF
 *       bench=tcpsink guest=linux port=.. bytes=.. secs=.. mbps=..
 *   vbench tcp HOST PORT bytes=N  connect and send N bytes, then close
 *       bench=tcp guest=linux bytes=.. secs=.. mbps=..
 *   vbench tx DEV n=N [size=60]   N broadcast frames from an AF_PACKET socket, straight to the
 *                                 driver; timed until DEV's tx_packets counter took all N
 *       bench=tx guest=linux dev=.. n=.. size=.. sent=.. elapsed_us=.. pps=..
 *   vbench exit N                 leave QEMU through isa-debug-exit (port 0xf4) with code N
 *
 * The blk and udp lines follow Vireo's "blk bench" and "net bench udp": blk's mbps is MiB/s,
 * percentiles are sorted[n/2] and sorted[n*99/100]. mbps of tcp/tcpsink is 10^6 bytes/s.
 * Latencies are per request, from submission to completion as this process sees them (Vireo
 * stamps them in its driver), in microseconds of CLOCK_MONOTONIC.
 *
 * Built with `gcc -static -O2`; no libaio (the AIO ABI is in <linux/aio_abi.h>).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Percentiles as Vireo's commands take them: sorted[n/2] and sorted[n*99/100] (0-based). */
static double pct_us(const uint64_t *sorted, size_t n, unsigned p)
{
	if (n == 0)
		return 0;
	size_t i = n * p / 100;
	return (double)sorted[i < n ? i : n - 1] / 1000.0;
}

/* "key=value" arguments after the positional ones. */
static const char *opt(int argc, char **argv, const char *key, const char *def)
{
	size_t kl = strlen(key);
	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], key, kl) == 0 && argv[i][kl] == '=')
			return argv[i] + kl + 1;
	return def;
}

static long optl(int argc, char **argv, const char *key, long def)
{
	const char *v = opt(argc, argv, key, NULL);
	if (!v)
		return def;
	char *end;
	long x = strtol(v, &end, 0);
	if (*end == 'k' || *end == 'K')
		x *= 1024;
	else if (*end == 'm' || *end == 'M')
		x *= 1024 * 1024;
	return x;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	/* xorshift64*: cheap, and the same sequence every run. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* ---- block ---------------------------------------------------------------------------- */

static long sys_io_setup(unsigned nr, aio_context_t *ctx) { return syscall(SYS_io_setup, nr, ctx); }
static long sys_io_submit(aio_context_t ctx, long n, struct iocb **iocbs)
{
	return syscall(SYS_io_submit, ctx, n, iocbs);
}
static long sys_io_getevents(aio_context_t ctx, long min, long max, struct io_event *ev)
{
	return syscall(SYS_io_getevents, ctx, min, max, ev, NULL);
}
static long sys_io_destroy(aio_context_t ctx) { return syscall(SYS_io_destroy, ctx); }

struct blkjob {
	int fd;
	int write, random;
	size_t bs;
	uint64_t blocks, seq;
};

static uint64_t next_offset(struct blkjob *j)
{
	uint64_t b = j->random ? rng() % j->blocks : j->seq++ % j->blocks;
	return b * j->bs;
}

/* The guest's own interrupt count for a virtio device: the "virtioN-..." request-queue lines
 * of /proc/interrupts (not "-config"), summed over CPUs. N comes from /sys/block/DEV/device.
 * Returns -1 when it cannot tell (not a virtio disk, no MSI-X). */
static long virtio_irqs(const char *virtio)
{
	if (!virtio[0])
		return -1;
	FILE *f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	char line[1024], pfx[64];
	snprintf(pfx, sizeof(pfx), "%s-", virtio);
	long total = -1;
	int ncpu = 0;
	if (fgets(line, sizeof(line), f))
		for (char *t = strtok(line, " \t\n"); t; t = strtok(NULL, " \t\n"))
			ncpu++;
	while (fgets(line, sizeof(line), f)) {
		char *name = strstr(line, pfx);
		if (!name || strstr(name, "-config"))
			continue;
		char *p = strchr(line, ':');
		if (!p)
			continue;
		p++;
		for (int c = 0; c < ncpu; c++) {
			char *end;
			long v = strtol(p, &end, 10);
			if (end == p)
				break;
			total = (total < 0 ? 0 : total) + v;
			p = end;
		}
	}
	fclose(f);
	return total;
}

static void virtio_name_of(const char *dev, char *out, size_t len)
{
	char path[256], link[256];
	const char *base = strrchr(dev, '/');
	base = base ? base + 1 : dev;
	out[0] = 0;
	snprintf(path, sizeof(path), "/sys/block/%s/device", base);
	ssize_t r = readlink(path, link, sizeof(link) - 1);
	if (r <= 0)
		return;
	link[r] = 0;
	const char *v = strrchr(link, '/');
	v = v ? v + 1 : link;
	if (!strncmp(v, "virtio", 6))
		snprintf(out, len, "%.31s", v);
}

static int cmd_blk(int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "usage: vbench blk DEV rw=.. bs=4096 qd=N n=N [engine=aio|sync]\n");
		return 2;
	}
	const char *dev = argv[0];
	const char *rw = opt(argc, argv, "rw", "randread");
	long bs = optl(argc, argv, "bs", 4096), qd = optl(argc, argv, "qd", 1);
	long n = optl(argc, argv, "n", 10000);
	const char *engine = opt(argc, argv, "engine", "aio");
	struct blkjob j = {0};
	if (!strcmp(rw, "randread") || !strcmp(rw, "read"))
		j.write = 0;
	else if (!strcmp(rw, "randwrite") || !strcmp(rw, "write"))
		j.write = 1;
	else {
		fprintf(stderr, "vbench blk: bad rw=%s\n", rw);
		return 2;
	}
	j.random = !strncmp(rw, "rand", 4);
	int sync_engine = !strcmp(engine, "sync");
	if (bs <= 0 || bs % 512 || qd < 1 || qd > 1024 || n < 1 || (sync_engine && qd != 1)) {
		fprintf(stderr, "vbench blk: bad bs/qd/n/engine\n");
		return 2;
	}
	j.bs = (size_t)bs;
	j.fd = open(dev, (j.write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (j.fd < 0) {
		fprintf(stderr, "vbench blk: open %s: %s\n", dev, strerror(errno));
		return 1;
	}
	uint64_t size = 0;
	if (ioctl(j.fd, BLKGETSIZE64, &size) < 0) {
		struct stat st;
		if (fstat(j.fd, &st) == 0)
			size = (uint64_t)st.st_size;
	}
	j.blocks = size / j.bs;
	if (j.blocks == 0) {
		fprintf(stderr, "vbench blk: %s is smaller than one block\n", dev);
		return 1;
	}

	uint64_t *lat = calloc((size_t)n, sizeof(*lat));
	uint64_t *start = calloc((size_t)qd, sizeof(*start));
	struct iocb *cbs = calloc((size_t)qd, sizeof(*cbs));
	struct iocb **list = calloc((size_t)qd, sizeof(*list));
	struct io_event *ev = calloc((size_t)qd, sizeof(*ev));
	char *buf;
	if (!lat || !start || !cbs || !list || !ev || posix_memalign((void **)&buf, 4096, j.bs * (size_t)qd)) {
		fprintf(stderr, "vbench blk: out of memory\n");
		return 1;
	}
	memset(buf, 0x5a, j.bs * (size_t)qd);

	char virtio[32];	/* "virtioN" */
	virtio_name_of(dev, virtio, sizeof(virtio));
	long irq0 = virtio_irqs(virtio);
	long done = 0, issued = 0, errors = 0;
	/* Per batch, from a completion seen to the call that submits the next requests: the
	 * user-space part of the guest's time before the kick (docs/PERFORMANCE.md). */
	uint64_t resub_ns = 0, resubs = 0;
	uint64_t t0 = now_ns();
	if (sync_engine) {
		for (; done < n; done++) {
			uint64_t off = next_offset(&j), s = now_ns();
			ssize_t r = j.write ? pwrite(j.fd, buf, j.bs, (off_t)off) : pread(j.fd, buf, j.bs, (off_t)off);
			if (r != (ssize_t)j.bs)
				errors++;
			lat[done] = now_ns() - s;
		}
	} else {
		aio_context_t ctx = 0;
		if (sys_io_setup((unsigned)qd, &ctx) < 0) {
			fprintf(stderr, "vbench blk: io_setup: %s\n", strerror(errno));
			return 1;
		}
		long batch = 0;
		for (long i = 0; i < qd && issued < n; i++, issued++) {
			struct iocb *cb = &cbs[i];
			memset(cb, 0, sizeof(*cb));
			cb->aio_data = (uint64_t)i;
			cb->aio_lio_opcode = j.write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
			cb->aio_fildes = (uint32_t)j.fd;
			cb->aio_buf = (uint64_t)(uintptr_t)(buf + (size_t)i * j.bs);
			cb->aio_nbytes = j.bs;
			cb->aio_offset = (int64_t)next_offset(&j);
			list[batch++] = cb;
		}
		uint64_t e = 0; /* when the last io_getevents returned */
		while (done < n) {
			/* Submit everything that is ready in one call, like fio's iodepth_batch. */
			uint64_t s = now_ns();
			for (long i = 0; i < batch; i++)
				start[list[i]->aio_data] = s;
			if (e) { /* completion seen -> about to submit the next requests */
				resub_ns += s - e;
				resubs++;
			}
			long off = 0;
			while (off < batch) {
				long r = sys_io_submit(ctx, batch - off, list + off);
				if (r < 0 && errno == EAGAIN)
					continue;
				if (r <= 0) {
					fprintf(stderr, "vbench blk: io_submit: %s\n", strerror(errno));
					return 1;
				}
				off += r;
			}
			batch = 0;
			long got = sys_io_getevents(ctx, 1, qd, ev);
			if (got < 0) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "vbench blk: io_getevents: %s\n", strerror(errno));
				return 1;
			}
			e = now_ns();
			for (long k = 0; k < got; k++) {
				uint64_t slot = ev[k].data;
				if (ev[k].res != (int64_t)j.bs)
					errors++;
				lat[done++] = e - start[slot];
				if (issued < n) {
					struct iocb *cb = &cbs[slot];
					cb->aio_offset = (int64_t)next_offset(&j);
					list[batch++] = cb;
					issued++;
				}
			}
		}
		sys_io_destroy(ctx);
	}
	uint64_t t1 = now_ns();
	long irq1 = virtio_irqs(virtio);
	long irqs = irq0 >= 0 && irq1 >= 0 ? irq1 - irq0 : -1;
	close(j.fd);
	double secs = (double)(t1 - t0) / 1e9;
	qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
	const char *devname = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	printf("bench=blk guest=linux dev=%s rw=%s bs=%ld qd=%ld n=%ld iops=%.0f mbps=%.2f p50_us=%.1f"
	       " p99_us=%.1f irqs_per_req=%.4f errors=%ld secs=%.3f irqs=%ld resubmit_us=%.1f\n",
	       devname, rw, bs, qd, n, (double)n / secs, (double)n * (double)bs / secs / 1048576.0,
	       pct_us(lat, (size_t)n, 50),
	       pct_us(lat, (size_t)n, 99), irqs >= 0 ? (double)irqs / (double)n : -1.0, errors, secs, irqs,
	       resubs ? (double)resub_ns / (double)resubs / 1e3 : 0.0);
	fflush(stdout);
	return errors ? 1 : 0;
}

/* ---- network -------------------------------------------------------------------------- */

/* Dotted IPv4 only: the guest has no resolver (and static glibc's getaddrinfo wants NSS). */
static int resolve(const char *host, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(port));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int cmd_udp(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: vbench udp HOST PORT n=N [size=32]\n");
		return 2;
	}
	long n = optl(argc, argv, "n", 1000), size = optl(argc, argv, "size", 32);
	if (n < 1 || n > 1000000 || size < 4 || size > 1472) {
		fprintf(stderr, "vbench udp: need n 1..1000000, size 4..1472\n");
		return 2;
	}
	struct sockaddr_in sa;
	if (resolve(argv[0], argv[1], &sa) < 0) {
		fprintf(stderr, "vbench udp: cannot resolve %s\n", argv[0]);
		return 1;
	}
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct timeval tv = {.tv_sec = 1};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vbench udp: connect: %s\n", strerror(errno));
		return 1;
	}
	uint64_t *lat = calloc((size_t)n, sizeof(*lat));
	char *out = malloc((size_t)size), *in = calloc(1, (size_t)size + 1);
	memset(out, 0x5a, (size_t)size);
	long got = 0, lost = 0;
	uint64_t sum = 0;
	/* Same datagram as Vireo's "net bench udp": a 32-bit sequence number from 1, then 0x5a. */
	for (uint32_t seq = 1; seq <= (uint32_t)n; seq++) {
		memcpy(out, &seq, sizeof(seq));
		uint64_t s0 = now_ns();
		if (send(s, out, (size_t)size, 0) < 0) {
			fprintf(stderr, "vbench udp: send: %s\n", strerror(errno));
			return 1;
		}
		for (;;) {
			ssize_t r = recv(s, in, (size_t)size + 1, 0);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				lost++; /* timeout (or ICMP unreachable): count and move on */
				break;
			}
			uint32_t back;
			if (r >= 4 && (memcpy(&back, in, 4), back == seq)) {
				lat[got] = now_ns() - s0;
				sum += lat[got++];
				break;
			}
			/* A late echo of an earlier, timed-out datagram: keep waiting for ours. */
		}
		if (lost > n / 10 + 10) {
			fprintf(stderr, "vbench udp: too many lost (%ld)\n", lost);
			break;
		}
	}
	qsort(lat, (size_t)got, sizeof(*lat), cmp_u64);
	printf("bench=udp guest=linux host=%s port=%s n=%ld size=%ld received=%ld lost=%ld rtt_avg_us=%.1f"
	       " p50_us=%.1f p99_us=%.1f min_us=%.1f max_us=%.1f\n",
	       argv[0], argv[1], n, size, got, lost, got ? (double)sum / (double)got / 1000.0 : 0.0,
	       pct_us(lat, (size_t)got, 50), pct_us(lat, (size_t)got, 99), got ? (double)lat[0] / 1000.0 : 0.0,
	       got ? (double)lat[got - 1] / 1000.0 : 0.0);
	fflush(stdout);
	return got == n ? 0 : 1;
}

static int cmd_udpecho(int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "usage: vbench udpecho PORT [n=N]\n");
		return 2;
	}
	long n = optl(argc, argv, "n", 0);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[0]))};
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vbench udpecho: bind: %s\n", strerror(errno));
		return 1;
	}
	printf("vbench: udpecho listening on %s\n", argv[0]);
	fflush(stdout);
	static char buf[65536];
	for (long i = 0; n == 0 || i < n; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (r < 0)
			continue;
		sendto(s, buf, (size_t)r, 0, (struct sockaddr *)&from, fl);
	}
	return 0;
}

static int cmd_tcpsink(int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "usage: vbench tcpsink PORT\n");
		return 2;
	}
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[0]))};
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0) {
		fprintf(stderr, "vbench tcpsink: bind/listen: %s\n", strerror(errno));
		return 1;
	}
	printf("vbench: tcpsink listening on %s\n", argv[0]);
	fflush(stdout);
	int c = accept(l, NULL, NULL);
	if (c < 0) {
		fprintf(stderr, "vbench tcpsink: accept: %s\n", strerror(errno));
		return 1;
	}
	static char buf[256 * 1024];
	uint64_t bytes = 0, t0 = 0, t1 = 0;
	for (;;) {
		ssize_t r = read(c, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		/* Timed from the first byte: slirp accepts the host's connect before we do. */
		if (!bytes)
			t0 = now_ns();
		bytes += (uint64_t)r;
		t1 = now_ns();
	}
	close(c);
	close(l);
	double secs = t1 > t0 ? (double)(t1 - t0) / 1e9 : 0;
	printf("bench=tcpsink guest=linux port=%s bytes=%llu secs=%.3f mbps=%.2f\n", argv[0], (unsigned long long)bytes,
	       secs, secs > 0 ? (double)bytes / secs / 1e6 : 0.0);
	fflush(stdout);
	return bytes ? 0 : 1;
}

static int cmd_tcp(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: vbench tcp HOST PORT bytes=N\n");
		return 2;
	}
	long total = optl(argc, argv, "bytes", 64L * 1024 * 1024);
	struct sockaddr_in sa;
	if (resolve(argv[0], argv[1], &sa) < 0)
		return 1;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vbench tcp: connect: %s\n", strerror(errno));
		return 1;
	}
	static char buf[256 * 1024];
	memset(buf, 0xa5, sizeof(buf));
	uint64_t t0 = now_ns();
	long sent = 0;
	while (sent < total) {
		size_t len = (size_t)(total - sent) < sizeof(buf) ? (size_t)(total - sent) : sizeof(buf);
		ssize_t w = write(s, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "vbench tcp: write: %s\n", strerror(errno));
			return 1;
		}
		sent += w;
	}
	shutdown(s, SHUT_WR);
	while (read(s, buf, sizeof(buf)) > 0) /* wait for the peer's close: all data taken */
		;
	double secs = (double)(now_ns() - t0) / 1e9;
	close(s);
	printf("bench=tcp guest=linux bytes=%ld secs=%.3f mbps=%.2f\n", sent, secs, (double)sent / secs / 1e6);
	fflush(stdout);
	return 0;
}

static int cmd_exit(int argc, char **argv)
{
	unsigned code = argc > 0 ? (unsigned)atoi(argv[0]) : 0;
	fflush(NULL);
	/* isa-debug-exit,iobase=0xf4,iosize=4: QEMU exits with (code << 1) | 1. Without the
	 * device the write goes nowhere and we return, so the caller can fall back to poweroff. */
	if (ioperm(0xf4, 4, 1) < 0) {
		fprintf(stderr, "vbench exit: ioperm: %s\n", strerror(errno));
		return 1;
	}
	outl(code, 0xf4);
	return 1;
}

static long long tx_packets(const char *dev)
{
	char path[128], buf[32];
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_packets", dev);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return atoll(buf);
}

static int cmd_tx(int argc, char **argv)
{
	long n = 0, size = 60;
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "n=", 2))
			n = atol(argv[i] + 2);
		else if (!strncmp(argv[i], "size=", 5))
			size = atol(argv[i] + 5);
	}
	if (argc < 1 || n <= 0 || size < 60 || size > 1514) {
		fprintf(stderr, "usage: vbench tx DEV n=N [size=60..1514]\n");
		return 2;
	}
	const char *dev = argv[0];
	int s = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, receive nothing */
	unsigned ifindex = if_nametoindex(dev);
	if (s < 0 || !ifindex) {
		fprintf(stderr, "vbench tx: socket/%s: %s\n", dev, strerror(errno));
		return 1;
	}
	struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = (int)ifindex,
				 .sll_halen = ETH_ALEN};
	memset(to.sll_addr, 0xff, ETH_ALEN);
	static unsigned char frame[1514];
	memset(frame, 0xff, ETH_ALEN);                 /* broadcast, as Vireo's net bench tx */
	frame[12] = 0x88, frame[13] = 0xb5;            /* IEEE 802 local experimental */
	long long t0_pkts = tx_packets(dev);
	uint64_t t0 = now_ns();
	long sent = 0;
	while (sent < n) {
		if (sendto(s, frame, (size_t)size, 0, (struct sockaddr *)&to, sizeof(to)) == size)
			sent++;
		else if (errno != ENOBUFS && errno != EAGAIN) {
			fprintf(stderr, "vbench tx: sendto: %s\n", strerror(errno));
			return 1;
		}
	}
	/* Timed until the driver took every frame (up to 30 s more), as Vireo's waits for the
	 * device to finish with them. */
	while (t0_pkts >= 0 && tx_packets(dev) < t0_pkts + n && now_ns() - t0 < 30000000000ull)
		usleep(100);
	double secs = (double)(now_ns() - t0) / 1e9;
	printf("bench=tx guest=linux dev=%s n=%ld size=%ld sent=%ld elapsed_us=%.0f pps=%.0f\n", dev, n,
	       size, sent, secs * 1e6, (double)sent / secs);
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: vbench blk|udp|udpecho|tcpsink|tcp|tx|exit ...\n");
		return 2;
	}
	const char *cmd = argv[1];
	argc -= 2;
	argv += 2;
	if (!strcmp(cmd, "blk"))
		return cmd_blk(argc, argv);
	if (!strcmp(cmd, "udp"))
		return cmd_udp(argc, argv);
	if (!strcmp(cmd, "udpecho"))
		return cmd_udpecho(argc, argv);
	if (!strcmp(cmd, "tcpsink"))
		return cmd_tcpsink(argc, argv);
	if (!strcmp(cmd, "tcp"))
		return cmd_tcp(argc, argv);
	if (!strcmp(cmd, "tx"))
		return cmd_tx(argc, argv);
	if (!strcmp(cmd, "exit"))
		return cmd_exit(argc, argv);
	fprintf(stderr, "vbench: unknown command %s\n", cmd);
	return 2;
}
