// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool_demo: why a subsystem wants a pool of its own, in one load.
 *
 * Two subsystems share the machine. "netrx" receives packets in hard IRQ
 * (an hrtimer standing in for a NIC's interrupt) faster than its
 * "protocol" kthread can process them, so its buffers pile up in the
 * protocol's queue; a packet that finds no free buffer is dropped, and
 * netrx then takes none until a notify request has refilled its ring
 * with a burst's worth (no polling). "disk"
 * is a kthread issuing I/Os at a steady rate, each over @io_bufs buffers
 * taken with GFP_NOIO, sleeping up to @io_timeout_ms, and completed from
 * hard IRQ @io_service_us later, where its buffers go back.
 *
 * Run 1 gives each subsystem its own pool. Run 2 gives both one pool of
 * the same total size: the world without per-subsystem pools. The flood
 * takes every buffer it is allowed to, so in run 2 the disk gets only
 * what the protocol frees, one packet at a time, and each I/O waits for
 * @io_bufs of them. A table at the end puts the two runs side by side.
 *
 * All the work happens while the module loads; when insmod returns, every
 * timer and thread has stopped and both runs' pools are gone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bufpool.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/llist.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

static uint duration_ms = 3000;
module_param(duration_ms, uint, 0444);
MODULE_PARM_DESC(duration_ms, "length of each of the two runs (100 .. 60000)");
static uint buf_size = 2048;
module_param(buf_size, uint, 0444);
MODULE_PARM_DESC(buf_size, "bytes per buffer, in every pool (one shared pool has one size)");
static uint pkt_len = 1500;
module_param(pkt_len, uint, 0444);
MODULE_PARM_DESC(pkt_len, "bytes per packet, at most buf_size");
static uint rx_period_us = 500;
module_param(rx_period_us, uint, 0444);
MODULE_PARM_DESC(rx_period_us, "netrx interrupt period (50 ..)");
static uint rx_burst = 16;
module_param(rx_burst, uint, 0444);
MODULE_PARM_DESC(rx_burst, "packets arriving per netrx interrupt");
static uint proto_pps = 200;
module_param(proto_pps, uint, 0444);
MODULE_PARM_DESC(proto_pps, "packets per second the protocol thread handles");
static uint net_bufs = 256;
module_param(net_bufs, uint, 0444);
MODULE_PARM_DESC(net_bufs, "netrx pool cap in run 1");
static uint disk_bufs = 32;
module_param(disk_bufs, uint, 0444);
MODULE_PARM_DESC(disk_bufs, "disk pool cap in run 1; run 2's shared pool has net_bufs + disk_bufs");
static uint io_bufs = 16;
module_param(io_bufs, uint, 0444);
MODULE_PARM_DESC(io_bufs, "buffers per disk I/O, at most disk_bufs");
/*
 * Well above io_service_us: under QEMU the kernel often falls back to the
 * jiffies clock, and a completion then comes a tick or two late; it must
 * still come before the next I/O is due, or run 1 would lose I/Os too.
 */
static uint io_interval_us = 10000;
module_param(io_interval_us, uint, 0444);
MODULE_PARM_DESC(io_interval_us, "one disk I/O issued every so often (100 ..)");
static uint io_service_us = 2000;
module_param(io_service_us, uint, 0444);
MODULE_PARM_DESC(io_service_us, "time from issue to completion of a disk I/O");
static uint io_timeout_ms = 100;
module_param(io_timeout_ms, uint, 0444);
MODULE_PARM_DESC(io_timeout_ms, "longest wait for an I/O's buffers before it fails (1 ..)");

/* Waits kept per run for the percentiles; further I/Os are only counted. */
#define DEMO_MAX_WAITS		65536
/* Protocol credit carried over a long sleep, so it cannot catch up in bursts. */
#define DEMO_PROTO_MAX_CREDIT	(10 * NSEC_PER_MSEC)

/*
 * At the head of each packet's buffer, as an skb's head would be. The
 * protocol keeps only this pointer and finds the buffer from it
 * (bufpool_data_to_buf()), as the network stack does with skb->head.
 */
struct demo_pkt {
	struct llist_node node;
	u32 seq;
};

struct demo_result {
	u64 rx;
	u64 drops;
	u64 refills;
	u64 processed;
	u64 bad;
	u64 ios;
	u64 timeouts;
	u64 io_errors;
	u32 p50;
	u32 p99;
	u32 max;
};

struct demo_run {
	struct bufpool *net_pool;
	struct bufpool *disk_pool;
	struct demo_result res;

	/* netrx: the interrupt and the queue to the protocol thread */
	struct hrtimer rx_timer;
	u32 seq;
	/*
	 * The receive ring: once the pool runs dry, netrx stops taking
	 * buffers (every packet is dropped, none is polled for) until a
	 * notify request hands it a burst's worth, in line with the pool's
	 * other waiters. @paused is set by the interrupt and cleared, after
	 * @ring_n is written, by the request's callback.
	 */
	struct bufpool_notify refill;
	struct bufpool_buf **ring;
	unsigned int ring_n;
	bool paused;
	struct llist_head rxq;
	struct task_struct *proto;

	/* disk: the issuing thread and its one I/O in flight */
	struct task_struct *disk;
	ktime_t end;		/* no I/O is issued from then on */
	struct hrtimer io_timer;
	struct completion io_done;
	struct bufpool_buf **io;
	u32 *waits;
	unsigned int nwaits;
};

static size_t demo_payload(void)
{
	return pkt_len - sizeof(struct demo_pkt);
}

static bool demo_rx_one(struct demo_run *r)
{
	struct bufpool_buf *buf;
	struct demo_pkt *pkt;

	if (r->ring_n)
		buf = r->ring[--r->ring_n];
	else
		buf = bufpool_alloc(r->net_pool, GFP_ATOMIC);
	if (!buf)
		return false;
	pkt = bufpool_buf_data(buf);
	pkt->seq = r->seq++;
	memset(pkt + 1, (u8)pkt->seq, demo_payload());
	llist_add(&pkt->node, &r->rxq);
	r->res.rx++;
	return true;
}

/* From an irq_work: the pool handed netrx a burst's worth of buffers. */
static void demo_rx_refilled(struct bufpool_notify *nb, int err)
{
	struct demo_run *r = container_of(nb, struct demo_run, refill);

	if (!err) {
		r->ring_n = rx_burst;
		r->res.refills++;
	}
	/* Pairs with the acquire in demo_rx_tick(): the ring first. */
	smp_store_release(&r->paused, false);
}

/* The pool ran dry: receive nothing until a burst's worth is ours. */
static void demo_rx_pause(struct demo_run *r)
{
	int err;

	WRITE_ONCE(r->paused, true);
	err = bufpool_alloc_notify(r->net_pool, rx_burst, r->ring, &r->refill);
	if (err == -EINPROGRESS)
		return;		/* demo_rx_refilled() resumes */
	if (!err)
		r->ring_n = rx_burst;
	WRITE_ONCE(r->paused, false);
}

/* Hard IRQ. Only this timer touches rx, drops and seq; runs are never concurrent. */
static enum hrtimer_restart demo_rx_tick(struct hrtimer *t)
{
	struct demo_run *r = container_of(t, struct demo_run, rx_timer);
	unsigned int i;

	/* Pairs with the release in demo_rx_refilled(): then the ring. */
	if (smp_load_acquire(&r->paused)) {
		/* No free descriptor: the burst is lost on the wire. */
		r->res.drops += rx_burst;
	} else {
		for (i = 0; i < rx_burst; i++) {
			if (!demo_rx_one(r)) {
				r->res.drops += rx_burst - i;
				demo_rx_pause(r);
				break;
			}
		}
	}
	hrtimer_forward_now(t, ns_to_ktime((u64)rx_period_us * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

static void demo_proto_one(struct demo_run *r, struct demo_pkt *pkt)
{
	/* A buffer handed out twice would have been overwritten meanwhile. */
	if (memchr_inv(pkt + 1, (u8)pkt->seq, demo_payload()))
		r->res.bad++;
	r->res.processed++;
	bufpool_put(bufpool_data_to_buf(r->net_pool, pkt));
}

/* Handle what @credit_ns pays for, oldest first; returns the credit left. */
static u64 demo_proto_batch(struct demo_run *r, struct llist_node **todo,
			    u64 credit_ns)
{
	u64 cost = NSEC_PER_SEC / proto_pps;
	struct demo_pkt *pkt;

	while (credit_ns >= cost) {
		if (!*todo)
			*todo = llist_reverse_order(llist_del_all(&r->rxq));
		if (!*todo)
			break;
		pkt = llist_entry(*todo, struct demo_pkt, node);
		*todo = (*todo)->next;
		demo_proto_one(r, pkt);
		credit_ns -= cost;
	}
	return credit_ns;
}

/*
 * The protocol: paced at @proto_pps by the clock rather than by a count
 * of sleeps, since a sleep under QEMU can last much longer than asked.
 */
static int demo_proto_fn(void *arg)
{
	struct demo_run *r = arg;
	struct llist_node *todo = NULL, *next;
	u64 last = ktime_get_ns(), credit = 0, now;

	while (!kthread_should_stop()) {
		usleep_range(1000, 1200);
		now = ktime_get_ns();
		credit = min_t(u64, credit + now - last, DEMO_PROTO_MAX_CREDIT);
		last = now;
		credit = demo_proto_batch(r, &todo, credit);
	}
	/* The run is over: what is still queued goes home unprocessed. */
	if (!todo)
		todo = llist_del_all(&r->rxq);
	for (; todo; todo = next) {
		next = todo->next;
		bufpool_put(bufpool_data_to_buf(r->net_pool,
						llist_entry(todo, struct demo_pkt, node)));
		if (!next)
			next = llist_del_all(&r->rxq);
	}
	return 0;
}

/* Hard IRQ: the device is done with the I/O, its buffers go back here. */
static enum hrtimer_restart demo_io_done(struct hrtimer *t)
{
	struct demo_run *r = container_of(t, struct demo_run, io_timer);

	bufpool_put_bulk(io_bufs, r->io);
	complete(&r->io_done);
	return HRTIMER_NORESTART;
}

static void demo_record_wait(struct demo_run *r, u64 ns)
{
	if (r->nwaits < DEMO_MAX_WAITS)
		r->waits[r->nwaits++] = min_t(u64, ns / NSEC_PER_USEC, U32_MAX);
}

static void demo_disk_io(struct demo_run *r)
{
	u64 t0 = ktime_get_ns();
	unsigned int i;
	int err;

	err = bufpool_alloc_bulk_wait(r->disk_pool, GFP_NOIO, io_bufs, r->io,
				      TASK_UNINTERRUPTIBLE,
				      msecs_to_jiffies(io_timeout_ms));
	demo_record_wait(r, ktime_get_ns() - t0);
	if (err == -ETIMEDOUT) {
		r->res.timeouts++;
		return;
	}
	if (err) {
		r->res.io_errors++;
		return;
	}
	/* What a read's DMA would do to the buffers. */
	for (i = 0; i < io_bufs; i++)
		memset(bufpool_buf_data(r->io[i]), (u8)r->res.ios, buf_size);
	reinit_completion(&r->io_done);
	hrtimer_start(&r->io_timer, ns_to_ktime((u64)io_service_us * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_HARD);
	wait_for_completion(&r->io_done);
	r->res.ios++;
}

/* Until @next, or for good once the run is over: kthread_stop() wakes it. */
static void demo_disk_sleep(struct demo_run *r, ktime_t next)
{
	set_current_state(TASK_INTERRUPTIBLE);
	if (!kthread_should_stop()) {
		if (ktime_before(next, r->end))
			schedule_hrtimeout(&next, HRTIMER_MODE_ABS);
		else
			schedule();
	}
	__set_current_state(TASK_RUNNING);
}

/*
 * The disk issues at its own pace: one I/O every @io_interval_us until
 * the run ends, or as soon as the last one is done if that took longer.
 * A late I/O does not make the next ones leave early, so waits are not
 * hidden by a catch-up.
 */
static int demo_disk_fn(void *arg)
{
	struct demo_run *r = arg;
	ktime_t next = ktime_get();

	while (!kthread_should_stop()) {
		if (ktime_before(next, r->end)) {
			demo_disk_io(r);
			next = ktime_add_us(next, io_interval_us);
			if (ktime_before(next, ktime_get()))
				next = ktime_get();
		}
		demo_disk_sleep(r, next);
	}
	return 0;
}

static struct bufpool *demo_pool(const char *name, unsigned int bufs)
{
	/*
	 * The whole cap is reserved: netrx takes buffers in hard IRQ, where
	 * a pool cannot grow, and both runs should hold the same memory.
	 */
	struct bufpool_params p = {
		.name = name, .buf_size = buf_size,
		.max_bufs = bufs, .min_bufs = bufs,
		.flags = BUFPOOL_F_LOOKUP,	/* for the protocol */
	};

	return bufpool_create(&p);
}

static int demo_create_pools(struct demo_run *r, bool shared)
{
	if (shared) {
		r->net_pool = demo_pool("demo-shared", net_bufs + disk_bufs);
		if (IS_ERR(r->net_pool))
			return PTR_ERR(r->net_pool);
		r->disk_pool = r->net_pool;
		return 0;
	}
	r->net_pool = demo_pool("demo-netrx", net_bufs);
	if (IS_ERR(r->net_pool))
		return PTR_ERR(r->net_pool);
	r->disk_pool = demo_pool("demo-disk", disk_bufs);
	if (IS_ERR(r->disk_pool)) {
		bufpool_destroy(r->net_pool);
		return PTR_ERR(r->disk_pool);
	}
	return 0;
}

static void demo_destroy_pools(struct demo_run *r)
{
	if (r->disk_pool != r->net_pool)
		bufpool_destroy(r->disk_pool);
	bufpool_destroy(r->net_pool);
}

static void demo_free_run(struct demo_run *r)
{
	kvfree(r->waits);
	kfree(r->ring);
	kfree(r->io);
	kfree(r);
}

static struct demo_run *demo_alloc_run(void)
{
	struct demo_run *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return NULL;
	r->io = kcalloc(io_bufs, sizeof(*r->io), GFP_KERNEL);
	r->ring = kcalloc(rx_burst, sizeof(*r->ring), GFP_KERNEL);
	r->waits = kvcalloc(DEMO_MAX_WAITS, sizeof(*r->waits), GFP_KERNEL);
	if (!r->io || !r->ring || !r->waits) {
		demo_free_run(r);
		return NULL;
	}
	init_llist_head(&r->rxq);
	bufpool_notify_init(&r->refill, demo_rx_refilled);
	init_completion(&r->io_done);
	hrtimer_init(&r->rx_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	r->rx_timer.function = demo_rx_tick;
	hrtimer_init(&r->io_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	r->io_timer.function = demo_io_done;
	return r;
}

static int demo_start(struct demo_run *r)
{
	r->end = ktime_add_ms(ktime_get(), duration_ms);
	r->proto = kthread_run(demo_proto_fn, r, "demo-protocol");
	if (IS_ERR(r->proto))
		return PTR_ERR(r->proto);
	r->disk = kthread_run(demo_disk_fn, r, "demo-disk");
	if (IS_ERR(r->disk)) {
		kthread_stop(r->proto);
		return PTR_ERR(r->disk);
	}
	hrtimer_start(&r->rx_timer, ns_to_ktime((u64)rx_period_us * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_HARD);
	return 0;
}

/*
 * Flood first, so nothing new arrives; then the disk, whose last I/O may
 * still be waiting for buffers that only the protocol thread can free;
 * then the protocol, which returns what is left in its queue.
 */
static void demo_stop(struct demo_run *r)
{
	hrtimer_cancel(&r->rx_timer);
	/* A refill still queued gives back what it holds; one done is ours. */
	bufpool_notify_cancel(&r->refill);
	bufpool_put_bulk(r->ring_n, r->ring);
	r->ring_n = 0;
	kthread_stop(r->disk);
	/* complete() may run before the callback has returned. */
	hrtimer_cancel(&r->io_timer);
	kthread_stop(r->proto);
}

static int demo_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static void demo_percentiles(struct demo_run *r)
{
	unsigned int n = r->nwaits;

	if (!n)
		return;
	sort(r->waits, n, sizeof(*r->waits), demo_cmp_u32, NULL);
	r->res.p50 = r->waits[(n - 1) * 50 / 100];
	r->res.p99 = r->waits[(n - 1) * 99 / 100];
	r->res.max = r->waits[n - 1];
}

static int demo_run(bool shared, struct demo_result *res)
{
	struct demo_run *r = demo_alloc_run();
	int err;

	if (!r)
		return -ENOMEM;
	err = demo_create_pools(r, shared);
	if (err)
		goto out;
	pr_info("run %d: %s for %u ms\n", shared ? 2 : 1,
		shared ? "one shared pool" : "a pool per subsystem",
		duration_ms);
	err = demo_start(r);
	if (!err) {
		msleep(duration_ms);
		demo_stop(r);
	}
	demo_destroy_pools(r);
	demo_percentiles(r);
	*res = r->res;
out:
	demo_free_run(r);
	return err;
}

static void demo_row(const char *label, u64 own, u64 shared)
{
	pr_info("%-28s %12llu %16llu\n", label, own, shared);
}

static void demo_print(const struct demo_result *res)
{
	char own[24];

	pr_info("netrx: %u packets of %u bytes every %u us; the protocol handles %u packets/s\n",
		rx_burst, pkt_len, rx_period_us, proto_pps);
	pr_info("disk: one I/O of %u buffers every %u us, done %u us later\n",
		io_bufs, io_interval_us, io_service_us);
	snprintf(own, sizeof(own), "%u+%u", net_bufs, disk_bufs);
	pr_info("%-28s %12s %16s\n", "", "own pools", "one shared pool");
	pr_info("%-28s %12s %16u\n", "buffers (netrx+disk)", own,
		net_bufs + disk_bufs);
	demo_row("packets received", res[0].rx, res[1].rx);
	demo_row("packets dropped", res[0].drops, res[1].drops);
	demo_row("netrx ring refills", res[0].refills, res[1].refills);
	demo_row("packets processed", res[0].processed, res[1].processed);
	demo_row("packet data errors", res[0].bad, res[1].bad);
	demo_row("disk I/Os completed", res[0].ios, res[1].ios);
	demo_row("disk I/Os timed out", res[0].timeouts, res[1].timeouts);
	demo_row("disk I/O errors", res[0].io_errors, res[1].io_errors);
	demo_row("disk wait p50 (us)", res[0].p50, res[1].p50);
	demo_row("disk wait p99 (us)", res[0].p99, res[1].p99);
	demo_row("disk wait max (us)", res[0].max, res[1].max);
	pr_info("the disk did %llu I/Os of its %u with a pool of its own (median wait %u us), %llu sharing one with the flood (median wait %u us)\n",
		res[0].ios, DIV_ROUND_UP(duration_ms * 1000U, io_interval_us),
		res[0].p50,
		res[1].ios, res[1].p50);
}

static int demo_check_params(void)
{
	if (duration_ms < 100 || duration_ms > 60000 ||
	    pkt_len < sizeof(struct demo_pkt) || pkt_len > buf_size ||
	    buf_size > BUFPOOL_MAX_BUF_SIZE || rx_period_us < 50 ||
	    !rx_burst || !proto_pps || proto_pps > NSEC_PER_SEC ||
	    !net_bufs || !disk_bufs || net_bufs > BUFPOOL_MAX_BUFS ||
	    disk_bufs > BUFPOOL_MAX_BUFS ||
	    net_bufs + disk_bufs > BUFPOOL_MAX_BUFS ||
	    !io_bufs || io_bufs > disk_bufs || io_interval_us < 100 ||
	    !io_timeout_ms) {
		pr_err("invalid parameters (see modinfo bufpool_demo)\n");
		return -EINVAL;
	}
	return 0;
}

static int __init demo_init(void)
{
	struct demo_result res[2];
	int err;

	err = demo_check_params();
	if (!err)
		err = demo_run(false, &res[0]);
	if (!err)
		err = demo_run(true, &res[1]);
	if (err)
		return err;
	demo_print(res);
	return 0;
}

/* Everything stopped before init returned: there is nothing to undo. */
static void __exit demo_exit(void)
{
}

module_init(demo_init);
module_exit(demo_exit);
MODULE_DESCRIPTION("bufpool demo: a packet flood and a disk, with and without pools of their own");
MODULE_LICENSE("GPL");
