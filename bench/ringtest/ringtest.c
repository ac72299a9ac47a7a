/*
 * Ring benchmark in the spirit of Linux's tools/virtio/ringtest (our own code): the real vring
 * core (drivers/virtio/ring/) as the driver in one thread, a device in another thread, one
 * shared ring of 256 entries, in each format: split, packed, and each with IN_ORDER (where the
 * device writes one used entry per pass, for the pass's last buffer).
 *
 *   mode=poll    neither side sleeps: the device spins on avail->idx and asks for no kicks,
 *                the driver spins on virtqueue_get_buf with interrupts disabled.
 *   mode=notify  the device sleeps on a futex when the ring is empty and must be kicked; the
 *                driver sleeps on a futex when it has nothing to do and must be interrupted.
 *                Every kick and interrupt is a real FUTEX_WAKE system call (the stand-in for a
 *                VM exit / an injected interrupt), and is counted.
 *
 * The driver keeps the ring full: it adds requests in batches of `batch` (one publish and at
 * most one kick per batch) whenever that many descriptors are free, and harvests completions.
 * Each request is one device-writable 64-byte segment that the device "fills" (len = 64).
 *
 * --check (make check's two-thread test of the ordering rules): every configuration in both
 * modes, with a watchdog. A lost kick or interrupt (a barrier or a re-check missing: the
 * device sleeps on a kick the driver decided not to send, or the driver on an interrupt the
 * device decided not to raise) stalls a run for good; no completion for STALL_SECONDS fails
 * it, as does a lost request, a wrong length or a broken queue. The watchdog bounds liveness,
 * not speed: a run completes requests every few microseconds, on a host ten times slower too.
 *
 * Output, one line per configuration, key=value fields (parsed by bench/run.py):
 *   bench=ring format=split mode=notify event_idx=1 batch=16 cb=normal requests=N ns_per_req=...
 *   kicks_per_req=... irqs_per_req=... spurious_per_req=...
 * Usage: ringtest [--smoke] [--check] [--count N]
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "drivers/virtio/ring/ring_port.h"
#include "drivers/virtio/ring/virtio_ring.h"
#include "drivers/virtio/ring/virtqueue.h"

#define RING_SIZE 256
#define BUF_LEN   64
#define STALL_SECONDS 30

/* Completions so far, for the watchdog (--check). */
static _Atomic unsigned long progress;
static const char *_Atomic current = "";

/* ---- wake-ups: a sequence counter + futex, like an eventfd ---------------------------------- */

struct waitq {
	_Atomic uint32_t seq;
};

static void wq_signal(struct waitq *w)
{
	atomic_fetch_add(&w->seq, 1);
	syscall(SYS_futex, &w->seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Sleep until the sequence moves past seen (returns at once if it already has). */
static void wq_wait(struct waitq *w, uint32_t seen)
{
	while (atomic_load(&w->seq) == seen)
		syscall(SYS_futex, &w->seq, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

/* ---- one run -------------------------------------------------------------------------------- */

enum mode { MODE_POLL, MODE_NOTIFY };

struct run {
	bool packed, in_order;
	enum mode mode;
	bool event_idx;
	bool delayed; /* driver re-enables with enable_cb_delayed */
	unsigned batch;
	unsigned long total;

	struct virtqueue *vq;
	struct vring vr; /* device's view, from the addresses a transport would program */
	struct vring_packed_desc *pdesc;             /* packed: the same */
	struct vring_packed_desc_event *drv_ev, *dev_ev;
	struct waitq kick, irq;
	atomic_bool stop;
	unsigned long dev_irqs;  /* interrupts the device sent (device thread only) */
	unsigned long dev_wakes; /* times the device slept and was woken */
};

static void driver_notify(struct virtqueue *vq)
{
	struct run *r = vq->priv;

	if (r->mode == MODE_NOTIFY)
		wq_signal(&r->kick);
}

static uint16_t ld16_acquire(uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* The device: consume every available chain, complete it, publish once per pass, then decide
 * about the interrupt per 2.7.7.2; sleep (notify mode) when there is nothing to do. */
static void *device_thread(void *arg)
{
	struct run *r = arg;
	struct vring *vr = &r->vr;
	uint16_t mask = (uint16_t)(vr->num - 1);
	uint16_t last_avail = 0, used = 0;
	bool notify_mode = r->mode == MODE_NOTIFY;

	/* Start with kicks suppressed; we ask for them only before sleeping. */
	if (r->event_idx)
		__atomic_store_n(&vring_avail_event(vr), (uint16_t)(last_avail - 1), __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vr->used->flags, VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);

	for (;;) {
		uint16_t avail = ld16_acquire(&vr->avail->idx); /* then the entries it covers */

		if (avail != last_avail) {
			uint16_t old_used = used;

			while (last_avail != avail) {
				uint16_t head = vr->avail->ring[last_avail & mask];
				struct vring_desc *d = &vr->desc[head];
				uint32_t len = (d->flags & VRING_DESC_F_WRITE) ? d->len : 0;

				/* In order: one used element for the pass, naming its last buffer,
				 * written where the first one goes (2.7.9). */
				if (!r->in_order || (uint16_t)(last_avail + 1) == avail) {
					uint16_t at = r->in_order ? old_used : used;
					vr->used->ring[at & mask].id = head;
					vr->used->ring[at & mask].len = len;
				}
				used++;
				last_avail++;
			}
			/* Used elements before used->idx. */
			__atomic_store_n(&vr->used->idx, used, __ATOMIC_RELEASE);
			if (!notify_mode)
				continue;
			/* used->idx store before the used_event / flags load (store -> load). */
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			bool need;
			if (r->event_idx)
				need = vring_need_event(__atomic_load_n(&vring_used_event(vr),
									 __ATOMIC_RELAXED),
							used, old_used);
			else
				need = !(__atomic_load_n(&vr->avail->flags, __ATOMIC_RELAXED) &
					 VRING_AVAIL_F_NO_INTERRUPT);
			if (need) {
				r->dev_irqs++;
				wq_signal(&r->irq);
			}
			continue;
		}
		if (atomic_load(&r->stop))
			break;
		if (!notify_mode) {
			arch_cpu_relax();
			continue;
		}
		/* Nothing to do: ask for a kick, re-check (the same lost wake-up race as the
		 * driver's enable_cb), sleep. */
		uint32_t seen = atomic_load(&r->kick.seq);
		if (r->event_idx)
			__atomic_store_n(&vring_avail_event(vr), last_avail, __ATOMIC_RELAXED);
		else
			__atomic_store_n(&vr->used->flags, 0, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (ld16_acquire(&vr->avail->idx) == last_avail && !atomic_load(&r->stop)) {
			wq_wait(&r->kick, seen);
			r->dev_wakes++;
		}
		/* Busy again: no kicks wanted. With EVENT_IDX the stale avail_event does that by
		 * itself (the driver's index has moved past it). */
		if (!r->event_idx)
			__atomic_store_n(&vr->used->flags, VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* ---- the packed device (2.8) ---- */

#define P_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define P_USED  (1u << VRING_PACKED_DESC_F_USED)

static bool p_available(uint16_t flags, bool wrap)
{
	return !!(flags & P_AVAIL) == wrap && !!(flags & P_USED) != wrap;
}

static void p_step(uint16_t *pos, bool *wrap, uint16_t n)
{
	if ((*pos = (uint16_t)(*pos + n)) >= RING_SIZE) {
		*pos = (uint16_t)(*pos - RING_SIZE);
		*wrap = !*wrap;
	}
}

static void p_set_event(struct vring_packed_desc_event *e, uint16_t off_wrap, uint16_t flags)
{
	__atomic_store_n(&e->off_wrap, off_wrap, __ATOMIC_RELAXED);
	__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
}

static void *device_thread_packed(void *arg)
{
	struct run *r = arg;
	struct vring_packed_desc *ring = r->pdesc;
	uint16_t pos = 0, used_pos = 0;
	bool wrap = true, used_wrap = true, notify_mode = r->mode == MODE_NOTIFY;

	p_set_event(r->dev_ev, 0, VRING_PACKED_EVENT_FLAG_DISABLE); /* no kicks while busy */
	for (;;) {
		uint16_t flags = __atomic_load_n(&ring[pos].flags, __ATOMIC_ACQUIRE);
		if (p_available(flags, wrap)) {
			unsigned old = used_pos + (used_wrap ? 0u : RING_SIZE), count = 0;
			uint16_t first = used_pos, last_id = 0;
			uint32_t last_len = 0;
			bool first_wrap = used_wrap;
			do {
				last_id = ring[pos].id;
				last_len = (flags & VRING_DESC_F_WRITE) ? ring[pos].len : 0;
				if (!r->in_order) {
					ring[used_pos].id = last_id;
					ring[used_pos].len = last_len;
					__atomic_store_n(&ring[used_pos].flags,
							 (uint16_t)(used_wrap ? P_AVAIL | P_USED : 0),
							 __ATOMIC_RELEASE);
					p_step(&used_pos, &used_wrap, 1);
				}
				count++;
				p_step(&pos, &wrap, 1);
				flags = __atomic_load_n(&ring[pos].flags, __ATOMIC_ACQUIRE);
			} while (p_available(flags, wrap));
			if (r->in_order) { /* one used descriptor for the batch (2.8.8) */
				ring[first].id = last_id;
				ring[first].len = last_len;
				__atomic_store_n(&ring[first].flags,
						 (uint16_t)(first_wrap ? P_AVAIL | P_USED : 0),
						 __ATOMIC_RELEASE);
				p_step(&used_pos, &used_wrap, (uint16_t)count);
			}
			if (!notify_mode)
				continue;
			__atomic_thread_fence(__ATOMIC_SEQ_CST); /* used flags before the event load */
			uint16_t ev_flags = __atomic_load_n(&r->drv_ev->flags, __ATOMIC_RELAXED) & 3;
			bool need = ev_flags == VRING_PACKED_EVENT_FLAG_ENABLE;
			if (ev_flags == VRING_PACKED_EVENT_FLAG_DESC) {
				uint16_t ow = __atomic_load_n(&r->drv_ev->off_wrap, __ATOMIC_RELAXED);
				unsigned ev = (ow & 0x7fffu) + ((ow >> 15) ? 0u : RING_SIZE);
				unsigned now = used_pos + (used_wrap ? 0u : RING_SIZE);
				need = (ev + 2 * RING_SIZE - old) % (2 * RING_SIZE) <
				       (now + 2 * RING_SIZE - old) % (2 * RING_SIZE);
			}
			if (need) {
				r->dev_irqs++;
				wq_signal(&r->irq);
			}
			continue;
		}
		if (atomic_load(&r->stop))
			break;
		if (!notify_mode) {
			arch_cpu_relax();
			continue;
		}
		uint32_t seen = atomic_load(&r->kick.seq);
		if (r->event_idx)
			p_set_event(r->dev_ev, (uint16_t)(pos | (wrap ? 0x8000 : 0)),
				    VRING_PACKED_EVENT_FLAG_DESC);
		else
			p_set_event(r->dev_ev, 0, VRING_PACKED_EVENT_FLAG_ENABLE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!p_available(__atomic_load_n(&ring[pos].flags, __ATOMIC_ACQUIRE), wrap) &&
		    !atomic_load(&r->stop)) {
			wq_wait(&r->kick, seen);
			r->dev_wakes++;
		}
		p_set_event(r->dev_ev, 0, VRING_PACKED_EVENT_FLAG_DISABLE);
	}
	return NULL;
}

static void pin(pthread_t t, int cpu)
{
	cpu_set_t set;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu % ncpu, &set);
	pthread_setaffinity_np(t, sizeof(set), &set);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint8_t bufs[RING_SIZE][BUF_LEN];

/* Returns 0, or -1 when the run went wrong (lost requests, bad length, broken queue). */
static int run_one(struct run *r)
{
	struct virtqueue_config cfg = {
		.name = "ringtest",
		.num = RING_SIZE,
		.layout = VIRTQUEUE_LAYOUT_MODERN,
		.packed = r->packed,
		.in_order = r->in_order,
		.event_idx = r->event_idx,
		.notify = driver_notify,
		.priv = r,
	};
	unsigned long started = 0, completed = 0, bad = 0;
	pthread_t dev;
	double t0, t1;

	if (virtqueue_create(&cfg, &r->vq) != 0)
		return -1;
	r->vr.num = RING_SIZE;
	r->vr.desc = (struct vring_desc *)(uintptr_t)virtqueue_desc_phys(r->vq);
	r->vr.avail = (struct vring_avail *)(uintptr_t)virtqueue_avail_phys(r->vq);
	r->vr.used = (struct vring_used *)(uintptr_t)virtqueue_used_phys(r->vq);
	r->pdesc = (struct vring_packed_desc *)(uintptr_t)virtqueue_desc_phys(r->vq);
	r->drv_ev = (struct vring_packed_desc_event *)(uintptr_t)virtqueue_avail_phys(r->vq);
	r->dev_ev = (struct vring_packed_desc_event *)(uintptr_t)virtqueue_used_phys(r->vq);
	atomic_store(&r->stop, false);
	virtqueue_disable_cb(r->vq); /* the driver is busy to begin with */

	pthread_create(&dev, NULL, r->packed ? device_thread_packed : device_thread, r);
	pin(dev, 1);
	pin(pthread_self(), 0);

	t0 = now_ns();
	while (completed < r->total) {
		unsigned long want = r->total - started;
		unsigned n = 0, got = 0;
		void *tok;
		uint32_t len;

		if (want > r->batch)
			want = r->batch;
		if (want && virtqueue_num_free(r->vq) >= want) {
			for (; n < want; n++) {
				unsigned slot = (unsigned)((started + n) % RING_SIZE);
				struct vq_sg sg = {bufs[slot], BUF_LEN};

				if (virtqueue_add(r->vq, &sg, 0, 1, bufs[slot]) != 0)
					break;
			}
			started += n;
			virtqueue_kick(r->vq); /* one publish, at most one kick per batch */
		}
		while ((tok = virtqueue_get_buf(r->vq, &len)) != NULL) {
			if (len != BUF_LEN)
				bad++;
			completed++;
			got++;
		}
		if (got)
			atomic_fetch_add_explicit(&progress, got, memory_order_relaxed);
		if (n || got)
			continue;
		if (virtqueue_is_broken(r->vq))
			break;
		if (r->mode == MODE_POLL) {
			arch_cpu_relax();
			continue;
		}
		/* Idle: enable the interrupt (the re-check says whether we may sleep), sleep,
		 * then run the "interrupt handler" and go back to polled harvesting. */
		uint32_t seen = atomic_load(&r->irq.seq);
		bool idle = r->delayed ? virtqueue_enable_cb_delayed(r->vq)
				       : virtqueue_enable_cb(r->vq);
		if (idle) {
			wq_wait(&r->irq, seen);
			virtqueue_interrupt(r->vq);
		}
		virtqueue_disable_cb(r->vq);
	}
	t1 = now_ns();

	atomic_store(&r->stop, true);
	wq_signal(&r->kick);
	pthread_join(dev, NULL);

	const struct virtqueue_stats *s = &r->vq->stats;
	double n = (double)r->total;
	printf("bench=ring format=%s mode=%s event_idx=%d batch=%u cb=%s requests=%lu "
	       "ns_per_req=%.1f kicks_per_req=%.4f irqs_per_req=%.4f spurious_per_req=%.4f\n",
	       r->packed ? (r->in_order ? "packed-in-order" : "packed")
			 : (r->in_order ? "split-in-order" : "split"),
	       r->mode == MODE_POLL ? "poll" : "notify", r->event_idx,
	       r->batch,
	       r->mode == MODE_POLL ? "off" : (r->delayed ? "delayed" : "normal"), r->total,
	       (t1 - t0) / n, s->kicks / n, r->dev_irqs / n, s->spurious / n);
	fflush(stdout);

	int ret = 0;
	if (completed != r->total || bad || s->added != r->total || virtqueue_is_broken(r->vq)) {
		fprintf(stderr, "ringtest: run failed: completed %lu of %lu, %lu bad lengths%s%s\n",
			completed, r->total, bad, virtqueue_is_broken(r->vq) ? ", broken: " : "",
			virtqueue_is_broken(r->vq) ? r->vq->broken_reason : "");
		ret = -1;
	}
	virtqueue_destroy(r->vq);
	return ret;
}

/* --check: fail the whole program when no request completes for STALL_SECONDS. */
static void *watchdog(void *arg)
{
	(void)arg;
	unsigned long last = atomic_load(&progress);
	for (unsigned still = 0;; ) {
		sleep(1);
		unsigned long now = atomic_load(&progress);
		still = now == last ? still + 1 : 0;
		last = now;
		if (still >= STALL_SECONDS) {
			fprintf(stderr, "ringtest: check: no completion for %u s in %s: a kick or an "
				"interrupt was lost\n", STALL_SECONDS, atomic_load(&current));
			fflush(stderr);
			_exit(1);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long count = 300000;
	static const unsigned batches[] = {1, 16, 64};
	int failed = 0;
	bool check = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			count = 2000;
		} else if (!strcmp(argv[i], "--check")) {
			check = true;
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = strtoul(argv[++i], NULL, 0);
		} else {
			fprintf(stderr, "usage: %s [--smoke] [--check] [--count N]\n", argv[0]);
			return 2;
		}
	}
	if (check) {
		pthread_t w;
		pthread_create(&w, NULL, watchdog, NULL);
		pthread_detach(w);
	}
	static const char *const formats[] = {"split", "packed", "split-in-order",
					      "packed-in-order"};
	for (int fmt = 0; fmt < 4; fmt++)
	for (int m = 0; m < 2; m++) {
		for (int ev = 0; ev < 2; ev++) {
			for (unsigned b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
				/* enable_cb_delayed differs from enable_cb only with EVENT_IDX. */
				for (int del = 0; del < (m == MODE_NOTIFY && ev ? 2 : 1); del++) {
					struct run r = {
						.packed = fmt & 1,
						.in_order = fmt >= 2,
						.mode = (enum mode)m,
						.event_idx = ev,
						.delayed = del,
						.batch = batches[b],
						.total = count,
					};
					static char what[96];
					snprintf(what, sizeof(what),
						 "format=%s mode=%s event_idx=%d batch=%u%s",
						 formats[fmt], m ? "notify" : "poll", ev,
						 batches[b], del ? " delayed" : "");
					atomic_store(&current, what);
					if (run_one(&r) != 0)
						failed = 1;
				}
			}
		}
	}
	return failed;
}
