// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the parts of bufpool's API that go beyond taking and
 * putting buffers: what a buffer costs in slab memory, finding a buffer
 * from its data, and notify requests. Each case names the bug it catches.
 *
 * Every pool a case creates is destroyed by the suite's .exit, so a case
 * that stops at a failed assertion leaks nothing into the next.
 */
#include <kunit/test.h>
#include <linux/bufpool.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>

#include "bufpool_internal.h"

#define BA_WAIT		(5 * HZ)	/* generous: TCG with KASAN is slow */
#define BA_POOLS	4
#define BA_BUFS		256

/* A second party: a kthread that sleeps for a buffer, or destroys. */
struct ba_thread {
	struct task_struct *task;
	struct bufpool *pool;
	struct bufpool_buf *buf;	/* what a sleeper got, or an error */
	bool destroyer;
};

/* What a case holds, released by ba_exit() whatever happened. */
struct ba_ctx {
	struct ba_thread threads[BA_POOLS];
	struct bufpool_notify *notifies[BA_POOLS];
	struct bufpool *pools[BA_POOLS];
	struct bufpool_buf *held[BA_BUFS];
	unsigned int nr_held;
};

static int ba_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct ba_ctx), GFP_KERNEL);
	return test->priv ? 0 : -ENOMEM;
}

/* Wait for @th to end; a sleeper's buffer is then the caller's. */
static void ba_thread_join(struct ba_thread *th)
{
	if (!th->task)
		return;
	kthread_stop(th->task);
	put_task_struct(th->task);
	th->task = NULL;
}

static void ba_exit(struct kunit *test)
{
	struct ba_ctx *ctx = test->priv;
	struct ba_thread *th;
	int i;

	/* A request still queued gives back what it holds. */
	for (i = 0; i < BA_POOLS && ctx->notifies[i]; i++)
		bufpool_notify_cancel(ctx->notifies[i]);
	bufpool_put_bulk(ctx->nr_held, ctx->held);
	/* Sleepers get one of those or time out; destroyers wait for all. */
	for (i = 0; i < BA_POOLS; i++) {
		th = &ctx->threads[i];
		if (th->destroyer)
			continue;
		ba_thread_join(th);
		if (!IS_ERR_OR_NULL(th->buf))
			bufpool_put(th->buf);
	}
	for (i = 0; i < BA_POOLS; i++)
		ba_thread_join(&ctx->threads[i]);
	for (i = 0; i < BA_POOLS; i++)
		bufpool_destroy(ctx->pools[i]);
}

static struct bufpool *ba_create_flags(struct kunit *test, const char *name,
				       size_t size, unsigned int max,
				       unsigned int min, unsigned int flags)
{
	struct bufpool_params p = {
		.name = name, .buf_size = size, .max_bufs = max,
		.min_bufs = min, .flags = flags,
	};
	struct ba_ctx *ctx = test->priv;
	struct bufpool *pool;
	int i;

	for (i = 0; i < BA_POOLS && ctx->pools[i]; i++)
		;
	KUNIT_ASSERT_LT(test, i, BA_POOLS);
	pool = bufpool_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	ctx->pools[i] = pool;
	return pool;
}

static struct bufpool *ba_create(struct kunit *test, const char *name,
				 size_t size, unsigned int max,
				 unsigned int min)
{
	return ba_create_flags(test, name, size, max, min, 0);
}

static void ba_destroy(struct kunit *test, struct bufpool *pool)
{
	struct ba_ctx *ctx = test->priv;
	int i;

	for (i = 0; i < BA_POOLS; i++)
		if (ctx->pools[i] == pool)
			ctx->pools[i] = NULL;
	bufpool_destroy(pool);
}

/* Another party destroys @pool now: ba_exit() must not. */
static void ba_disown(struct kunit *test, struct bufpool *pool)
{
	struct ba_ctx *ctx = test->priv;
	int i;

	for (i = 0; i < BA_POOLS; i++)
		if (ctx->pools[i] == pool)
			ctx->pools[i] = NULL;
}

/* Take a buffer that ba_exit() puts back if the case does not. */
static struct bufpool_buf *ba_hold(struct kunit *test, struct bufpool *pool)
{
	struct ba_ctx *ctx = test->priv;
	struct bufpool_buf *buf = bufpool_alloc(pool, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_LT(test, ctx->nr_held, BA_BUFS);
	ctx->held[ctx->nr_held++] = buf;
	return buf;
}

/* The case put @buf itself: forget it. */
static void ba_forget(struct kunit *test, struct bufpool_buf *buf)
{
	struct ba_ctx *ctx = test->priv;
	unsigned int i;

	for (i = 0; i < ctx->nr_held; i++) {
		if (ctx->held[i] == buf) {
			ctx->held[i] = ctx->held[--ctx->nr_held];
			return;
		}
	}
	KUNIT_FAIL(test, "buffer %p was not held", buf);
}

static void ba_put(struct kunit *test, struct bufpool_buf *buf)
{
	ba_forget(test, buf);
	bufpool_put(buf);
}

/* Suite: what a buffer costs */

static const size_t ba_sizes[] = {
	1, 64, 200, 512, 1500, 2048, 4000, 4096, 9000, 12288, 16384,
};

/*
 * Measure the slab's real packing: with a fresh cache filled in order,
 * the fullest slab holds as many objects as any slab of the cache does.
 */
static unsigned long ba_slab_cost(struct bufpool_buf **bufs, unsigned int n)
{
	unsigned int i, j, same, most = 0;
	struct folio *folio = NULL;

	for (i = 0; i < n; i++) {
		folio = virt_to_folio(bufpool_buf_data(bufs[i]));
		same = 0;
		for (j = 0; j < n; j++)
			same += virt_to_folio(bufpool_buf_data(bufs[j])) == folio;
		most = max(most, same);
	}
	return folio ? folio_size(folio) / most : 0;
}

/*
 * Catches a layout that keeps the header inline where it spoils the
 * packing (a 4 KiB buffer then costs 4.6 KiB, a 16 KiB one 32 KiB), or
 * that loses a slab's slack instead of giving it to the buffers: beyond
 * the header, what a buffer costs is what it holds, and a size that
 * divides a slab costs little more than itself. Checked against the
 * slabs the buffers really sit in where objects are what they seem (not
 * under KASAN, which adds its own metadata to each); reports what each
 * size costs, for Documentation/bufpool.rst.
 */
static void ba_layout_cost(struct kunit *test)
{
	size_t hdr = sizeof(struct bufpool_buf);
	struct bufpool_buf **bufs;
	struct bufpool *pool;
	unsigned long real;
	unsigned int i, n;
	size_t size, usable, extra;

	bufs = kunit_kcalloc(test, BA_BUFS, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);
	for (i = 0; i < ARRAY_SIZE(ba_sizes); i++) {
		size = ba_sizes[i];
		/* Enough to fill several slabs of order 3. */
		n = clamp_t(unsigned int, 4 * (PAGE_SIZE << 3) / size, 16, BA_BUFS);
		pool = ba_create(test, "kunit-layout", size, n, 0);
		KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, n, bufs), 0);
		usable = bufpool_buf_size(bufs[0]);
		/* The header if apart, and every buffer's index entry. */
		extra = (pool->buf_offset ? 0 : hdr) + 16;
		real = ba_slab_cost(bufs, n) + extra;
		kunit_info(test, "buf_size %5zu: holds %5zu, costs %5zu (%s header), %zu%% over; measured %lu\n",
			   size, usable, pool->buf_cost,
			   pool->buf_offset ? "inline" : "apart",
			   (pool->buf_cost - size) * 100 / size, real);
		KUNIT_EXPECT_GE(test, usable, size);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)bufpool_buf_data(bufs[0]),
						   sizeof(void *)));
		/* Beyond the header and the index, at most a thirty-second lost. */
		KUNIT_EXPECT_LE_MSG(test, (pool->buf_cost - usable - hdr - 16) * 32,
				    pool->buf_cost, "buf_size %zu", size);
		/* Sizes that divide a slab cost what they hold, and a header. */
		if (is_power_of_2(size) && size >= 512)
			KUNIT_EXPECT_LE_MSG(test, pool->buf_cost, size + size / 16 + hdr + 16,
					    "buf_size %zu", size);
		if (!IS_ENABLED(CONFIG_KASAN))
			KUNIT_EXPECT_LE_MSG(test, real, pool->buf_cost + 8,
					    "buf_size %zu", size);
		bufpool_put_bulk(n, bufs);
		ba_destroy(test, pool);
	}
}

/* Run @fn(@arg) in hard IRQ (an hrtimer's), and return once it ran. */
struct ba_irq_call {
	struct hrtimer timer;
	void (*fn)(void *arg);
	void *arg;
	bool in_irq;
};

static enum hrtimer_restart ba_irq_call_fn(struct hrtimer *t)
{
	struct ba_irq_call *ic = container_of(t, struct ba_irq_call, timer);

	ic->in_irq = in_hardirq();
	ic->fn(ic->arg);
	return HRTIMER_NORESTART;
}

static void ba_in_hardirq(struct kunit *test, void (*fn)(void *arg), void *arg)
{
	struct ba_irq_call ic = { .fn = fn, .arg = arg };

	hrtimer_init(&ic.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	ic.timer.function = ba_irq_call_fn;
	hrtimer_start(&ic.timer, ns_to_ktime(100 * NSEC_PER_USEC), HRTIMER_MODE_REL_HARD);
	while (hrtimer_active(&ic.timer))
		cpu_relax();
	hrtimer_cancel(&ic.timer);
	KUNIT_EXPECT_TRUE(test, ic.in_irq);
}

/* Suite: from data to buffer */

struct ba_lookup {
	struct bufpool *pool;
	void *data;
	struct bufpool_buf *found;
};

static void ba_lookup_fn(void *arg)
{
	struct ba_lookup *l = arg;

	l->found = bufpool_data_to_buf(l->pool, l->data);
}

/*
 * Catches a wrong offset or a key collision (every buffer must map back
 * to itself), and a lookup that accepts what is no live buffer of the
 * pool: an inner pointer, another pool's buffer, an idle buffer; and a
 * lookup that takes a spinlock_t, which sleeps on PREEMPT_RT, from the
 * hard IRQ it is documented for (lockdep: invalid wait context).
 */
static void ba_data_to_buf_case(struct kunit *test, size_t size)
{
	struct bufpool *pool = ba_create_flags(test, "kunit-data", size, 8, 0,
					       BUFPOOL_F_LOOKUP);
	struct bufpool *other = ba_create_flags(test, "kunit-data2", size, 8, 0,
						BUFPOOL_F_LOOKUP);
	struct bufpool_buf *bufs[8], *foreign;
	struct ba_lookup l = { .pool = pool };
	void *data;
	int i;

	for (i = 0; i < 8; i++)
		bufs[i] = ba_hold(test, pool);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_PTR_EQ(test, bufpool_data_to_buf(pool, bufpool_buf_data(bufs[i])),
				    bufs[i]);
	data = bufpool_buf_data(bufs[0]);
	l.data = data;
	KUNIT_EXPECT_NULL(test, bufpool_data_to_buf(pool, data + 8));
	KUNIT_EXPECT_NULL(test, bufpool_data_to_buf(pool, NULL));
	KUNIT_EXPECT_NULL(test, bufpool_data_to_buf(other, data));
	foreign = ba_hold(test, other);
	KUNIT_EXPECT_NULL(test, bufpool_data_to_buf(pool, bufpool_buf_data(foreign)));
	/* Hard IRQ may look up too (PREEMPT_RT: no sleeping lock taken). */
	ba_in_hardirq(test, ba_lookup_fn, &l);
	KUNIT_EXPECT_PTR_EQ(test, l.found, bufs[0]);
	/* Idle in a magazine or the depot: nobody's to find. */
	ba_put(test, bufs[7]);
	KUNIT_EXPECT_NULL(test, bufpool_data_to_buf(pool, bufpool_buf_data(bufs[7])));
}

static void ba_data_to_buf_inline(struct kunit *test)
{
	ba_data_to_buf_case(test, 100);
}

/*
 * Catches a lookup that reads a header at an offset from any pointer
 * (out of bounds for an inner one) where the pool keeps no index, and
 * one that works without BUFPOOL_F_LOOKUP where the layout happens to
 * index the headers (4 KiB: apart): a driver that forgot the flag would
 * work at one size and break at another. One rule: the flag.
 */
static void ba_data_to_buf_unindexed(struct kunit *test)
{
	struct bufpool *pool = ba_create(test, "kunit-data", 100, 8, 0);
	struct bufpool *apart = ba_create(test, "kunit-data2", 4096, 2, 0);
	struct bufpool_buf *buf = ba_hold(test, pool);
	struct bufpool_buf *big = ba_hold(test, apart);

	KUNIT_EXPECT_NULL(test, bufpool_data_to_buf(pool, bufpool_buf_data(buf)));
	KUNIT_ASSERT_EQ(test, apart->buf_offset, 0);
	KUNIT_EXPECT_NULL(test, bufpool_data_to_buf(apart, bufpool_buf_data(big)));
}

static void ba_data_to_buf_apart(struct kunit *test)
{
	struct bufpool *probe = ba_create(test, "kunit-probe", 4096, 1, 0);

	/* The case is about the XArray: make sure it is in use. */
	KUNIT_ASSERT_EQ(test, probe->buf_offset, 0);
	ba_data_to_buf_case(test, 4096);
}

/* Suite: notify requests */

struct ba_notify {
	struct bufpool_notify nb;
	struct completion done;
	atomic_t calls;
	int err;
	bool in_irq;
	struct bufpool_buf *bufs[4];
};

static void ba_notified(struct bufpool_notify *nb, int err)
{
	struct ba_notify *bn = container_of(nb, struct ba_notify, nb);

	bn->err = err;
	bn->in_irq = in_hardirq();
	atomic_inc(&bn->calls);
	complete(&bn->done);
}

static struct ba_notify *ba_notify_new(struct kunit *test)
{
	struct ba_notify *bn = kunit_kzalloc(test, sizeof(*bn), GFP_KERNEL);
	struct ba_ctx *ctx = test->priv;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, bn);
	for (i = 0; i < BA_POOLS && ctx->notifies[i]; i++)
		;
	KUNIT_ASSERT_LT(test, i, BA_POOLS);
	ctx->notifies[i] = &bn->nb;
	bufpool_notify_init(&bn->nb, ba_notified);
	init_completion(&bn->done);
	return bn;
}

/* Wait for the callback; hand its buffers to ba_exit(). */
static void ba_notify_wait(struct kunit *test, struct ba_notify *bn,
			   unsigned int n)
{
	struct ba_ctx *ctx = test->priv;
	unsigned int i;

	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&bn->done, BA_WAIT));
	for (i = 0; !bn->err && i < n; i++)
		ctx->held[ctx->nr_held++] = bn->bufs[i];
}

/* Catches a callback run although the buffers were free at once. */
static void ba_notify_now(struct kunit *test)
{
	struct bufpool *pool = ba_create(test, "kunit-notify", 64, 4, 0);
	struct ba_notify *bn = ba_notify_new(test);
	struct ba_ctx *ctx = test->priv;

	KUNIT_ASSERT_EQ(test, bufpool_alloc_notify(pool, 2, bn->bufs, &bn->nb), 0);
	ctx->held[ctx->nr_held++] = bn->bufs[0];
	ctx->held[ctx->nr_held++] = bn->bufs[1];
	KUNIT_EXPECT_PTR_NE(test, bn->bufs[0], bn->bufs[1]);
	/* Not queued: a second request on it is allowed, and no call due. */
	KUNIT_EXPECT_FALSE(test, bufpool_notify_cancel(&bn->nb));
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 0);
}

static void ba_put_fn(void *buf)
{
	bufpool_put(buf);
}

/* Put @buf from hard IRQ, and return once that is done. */
static void ba_put_from_irq(struct kunit *test, struct bufpool_buf *buf)
{
	ba_forget(test, buf);
	ba_in_hardirq(test, ba_put_fn, buf);
}

/*
 * Catches a callback that runs before the request holds all it asked
 * for, or never; buffers returned from hard IRQ must reach it too.
 */
static void ba_notify_later(struct kunit *test)
{
	struct bufpool *pool = ba_create(test, "kunit-notify", 64, 2, 0);
	struct bufpool_buf *a = ba_hold(test, pool), *b = ba_hold(test, pool);
	struct ba_notify *bn = ba_notify_new(test);
	struct bufpool_stats st;

	KUNIT_ASSERT_EQ(test, bufpool_alloc_notify(pool, 2, bn->bufs, &bn->nb),
			-EINPROGRESS);
	KUNIT_EXPECT_EQ(test, bufpool_alloc_notify(pool, 2, bn->bufs, &bn->nb),
			-EBUSY);
	ba_put(test, a);
	KUNIT_EXPECT_FALSE(test, wait_for_completion_timeout(&bn->done, HZ / 10));
	ba_put_from_irq(test, b);
	ba_notify_wait(test, bn, 2);
	KUNIT_EXPECT_EQ(test, bn->err, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 1);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		KUNIT_EXPECT_TRUE(test, bn->in_irq);
	bufpool_get_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.in_use, 2);
	KUNIT_EXPECT_EQ(test, st.waits, 1);
	KUNIT_EXPECT_EQ(test, st.fails, 0);
	/* Each handed over with one reference: get and put work. */
	KUNIT_EXPECT_PTR_EQ(test, bufpool_get(bn->bufs[0]), bn->bufs[0]);
	bufpool_put(bn->bufs[0]);
}

struct ba_irq_notify {
	struct bufpool *pool;
	struct ba_notify *bn;
	int ret;
};

static void ba_irq_notify_fn(void *arg)
{
	struct ba_irq_notify *in = arg;

	in->ret = bufpool_alloc_notify(in->pool, 1, in->bn->bufs, &in->bn->nb);
}

/*
 * Catches a request that cannot be made where it is meant to be made: in
 * hard IRQ, on an exhausted pool (the receive path that just dropped).
 */
static void ba_notify_from_irq(struct kunit *test)
{
	struct bufpool *pool = ba_create(test, "kunit-notify", 64, 1, 0);
	struct bufpool_buf *held = ba_hold(test, pool);
	struct ba_irq_notify in = { .pool = pool, .bn = ba_notify_new(test) };

	ba_in_hardirq(test, ba_irq_notify_fn, &in);
	KUNIT_ASSERT_EQ(test, in.ret, -EINPROGRESS);
	ba_put(test, held);
	ba_notify_wait(test, in.bn, 1);
	KUNIT_EXPECT_EQ(test, in.bn->err, 0);
	KUNIT_EXPECT_PTR_EQ(test, in.bn->bufs[0], held);
}

static int ba_sleeper(void *arg)
{
	struct ba_thread *th = arg;

	th->buf = bufpool_alloc_wait(th->pool, GFP_KERNEL, TASK_UNINTERRUPTIBLE,
				     BA_WAIT);
	return 0;
}

static int ba_destroyer(void *arg)
{
	struct ba_thread *th = arg;

	bufpool_destroy(th->pool);
	return 0;
}

/* Start a sleeper or a destroyer on @pool; ba_exit() joins it. */
static struct ba_thread *ba_thread_start(struct kunit *test,
					 struct bufpool *pool, bool destroyer)
{
	struct ba_ctx *ctx = test->priv;
	struct ba_thread *th;
	int i;

	for (i = 0; i < BA_POOLS && ctx->threads[i].pool; i++)
		;
	KUNIT_ASSERT_LT(test, i, BA_POOLS);
	th = &ctx->threads[i];
	th->pool = pool;
	th->destroyer = destroyer;
	th->task = kthread_create(destroyer ? ba_destroyer : ba_sleeper, th,
				  "ba_thread/%d", i);
	KUNIT_ASSERT_FALSE(test, IS_ERR(th->task));
	get_task_struct(th->task);
	wake_up_process(th->task);
	return th;
}

static bool ba_wait_waiters(struct bufpool *pool, unsigned int n)
{
	struct bufpool_stats st;
	int i;

	for (i = 0; i < 5000; i++) {
		bufpool_get_stats(pool, &st);
		if (st.waiters >= n)
			return true;
		usleep_range(1000, 2000);
	}
	return false;
}

/*
 * Catches a notify request that jumps the queue: a sleeper queued first
 * gets the first buffer returned, the request the second.
 */
static void ba_notify_fifo(struct kunit *test)
{
	struct bufpool *pool = ba_create(test, "kunit-notify", 64, 1, 0);
	struct bufpool_buf *held = ba_hold(test, pool);
	struct ba_notify *bn = ba_notify_new(test);
	struct ba_thread *th = ba_thread_start(test, pool, false);

	KUNIT_ASSERT_TRUE(test, ba_wait_waiters(pool, 1));
	KUNIT_ASSERT_EQ(test, bufpool_alloc_notify(pool, 1, bn->bufs, &bn->nb),
			-EINPROGRESS);
	ba_put(test, held);
	ba_thread_join(th);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(th->buf));
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 0);
	bufpool_put(th->buf);
	th->buf = NULL;
	ba_notify_wait(test, bn, 1);
	KUNIT_EXPECT_EQ(test, bn->err, 0);
}

/*
 * Catches a cancel that loses what the request held so far (the pool
 * would be a buffer short forever) or lets the callback run anyway.
 */
static void ba_notify_cancel(struct kunit *test)
{
	struct bufpool *pool = ba_create(test, "kunit-notify", 64, 2, 0);
	struct bufpool_buf *a = ba_hold(test, pool);
	struct ba_notify *bn = ba_notify_new(test);
	struct bufpool_stats st;

	ba_hold(test, pool);
	KUNIT_ASSERT_EQ(test, bufpool_alloc_notify(pool, 2, bn->bufs, &bn->nb),
			-EINPROGRESS);
	ba_put(test, a);		/* the request now holds one */
	KUNIT_EXPECT_TRUE(test, bufpool_notify_cancel(&bn->nb));
	KUNIT_EXPECT_FALSE(test, bufpool_notify_cancel(&bn->nb));
	bufpool_get_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.in_use, 1);
	KUNIT_EXPECT_EQ(test, st.free, 1);
	KUNIT_EXPECT_EQ(test, st.waiters, 0);
	/* The one it held is anyone's again. */
	ba_hold(test, pool);
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 0);
}

/*
 * Catches a destroy that leaves a request queued on a pool it frees (a
 * use after free when the request is cancelled or served) or never calls
 * it: the callback must run with -ESHUTDOWN and no buffer.
 */
static void ba_notify_destroy(struct kunit *test)
{
	struct bufpool *pool = ba_create(test, "kunit-notify", 64, 2, 0);
	struct bufpool_buf *a = ba_hold(test, pool), *b = ba_hold(test, pool);
	struct ba_notify *bn = ba_notify_new(test);
	struct ba_thread *th;

	KUNIT_ASSERT_EQ(test, bufpool_alloc_notify(pool, 2, bn->bufs, &bn->nb),
			-EINPROGRESS);
	ba_put(test, a);		/* held by the request when destroy comes */
	ba_disown(test, pool);		/* the destroyer's now */
	th = ba_thread_start(test, pool, true);
	ba_notify_wait(test, bn, 0);
	KUNIT_EXPECT_EQ(test, bn->err, -ESHUTDOWN);
	KUNIT_EXPECT_FALSE(test, bufpool_notify_cancel(&bn->nb));
	ba_put(test, b);		/* the last one: destroy may finish */
	ba_thread_join(th);
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 1);
}

/* Suite: a scatterlist over buffers */

/*
 * Catches a table that does not cover exactly the buffers handed out, in
 * order, or an error that leaves buffers taken or the table written.
 */
static void ba_alloc_sg(struct kunit *test)
{
	struct bufpool *pool = ba_create(test, "kunit-sg", 1000, 4, 0);
	struct bufpool_buf *bufs[4], *more[4];
	struct scatterlist sgl[4], spare[4];
	struct ba_ctx *ctx = test->priv;
	struct bufpool_stats st;
	size_t size, copied;
	u8 *pattern;
	int i;

	KUNIT_ASSERT_EQ(test, bufpool_alloc_sg(pool, GFP_KERNEL, 3, bufs, sgl), 0);
	for (i = 0; i < 3; i++)
		ctx->held[ctx->nr_held++] = bufs[i];
	size = bufpool_buf_size(bufs[0]);
	KUNIT_EXPECT_EQ(test, sg_nents(sgl), 3);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_PTR_EQ(test, sg_virt(&sgl[i]), bufpool_buf_data(bufs[i]));
		KUNIT_EXPECT_EQ(test, sgl[i].length, size);
	}
	pattern = kunit_kmalloc(test, 3 * size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	for (i = 0; i < 3 * size; i++)
		pattern[i] = i % 251;
	copied = sg_copy_from_buffer(sgl, 3, pattern, 3 * size);
	KUNIT_EXPECT_EQ(test, copied, 3 * size);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, memcmp(bufpool_buf_data(bufs[i]),
					     pattern + i * size, size), 0);

	/* Two more than are left: nothing taken, the table untouched. */
	memset(spare, 0x5a, sizeof(spare));
	KUNIT_EXPECT_EQ(test, bufpool_alloc_sg(pool, GFP_ATOMIC, 2, more, spare), -EAGAIN);
	KUNIT_EXPECT_EQ(test, bufpool_alloc_sg(pool, GFP_KERNEL, 5, more, spare), -EINVAL);
	KUNIT_EXPECT_EQ(test, bufpool_alloc_sg(pool, GFP_KERNEL, 1, more, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, ((u8 *)spare)[0], 0x5a);
	bufpool_get_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.in_use, 3);
}

/* Suite: destroy without waiting */

struct ba_release {
	struct completion done;
	atomic_t calls;
};

static void ba_released(void *arg)
{
	struct ba_release *r = arg;

	atomic_inc(&r->calls);
	complete(&r->done);
}

static struct ba_release *ba_release_new(struct kunit *test)
{
	struct ba_release *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	init_completion(&r->done);
	return r;
}

/* Catches an idle pool that is never freed (kmemleak) or never released. */
static void ba_destroy_async_idle(struct kunit *test)
{
	struct bufpool *pool = ba_create(test, "kunit-async", 64, 8, 4);
	struct ba_release *r = ba_release_new(test);

	ba_disown(test, pool);
	bufpool_destroy_async(pool, ba_released, r);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&r->done, BA_WAIT));
	/* Freed: the name, and its slab cache's, can be taken again. */
	ba_create(test, "kunit-async", 64, 8, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->calls), 1);
}

struct ba_irq_destroy {
	struct bufpool *pool;
	struct ba_release *r;
};

static void ba_irq_destroy_fn(void *arg)
{
	struct ba_irq_destroy *d = arg;

	bufpool_destroy_async(d->pool, ba_released, d->r);
}

/*
 * Catches a pool freed while buffers are out (KASAN on the later puts),
 * released before its last buffer is home, or never; destroyed from hard
 * IRQ, its last buffer put from hard IRQ. Meanwhile it refuses new
 * allocations, and a second destroy is reported, not done.
 */
static void ba_destroy_async_last_put(struct kunit *test)
{
	struct bufpool *pool = ba_create(test, "kunit-async", 64, 4, 0);
	struct bufpool_buf *a = ba_hold(test, pool), *b = ba_hold(test, pool);
	struct ba_irq_destroy d = { .pool = pool, .r = ba_release_new(test) };

	ba_disown(test, pool);
	ba_in_hardirq(test, ba_irq_destroy_fn, &d);

	KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_ATOMIC));
	KUNIT_EXPECT_PTR_EQ(test, bufpool_alloc_wait(pool, GFP_KERNEL,
						     TASK_UNINTERRUPTIBLE, HZ),
			    ERR_PTR(-ESHUTDOWN));
	bufpool_destroy_async(pool, ba_released, d.r);
	ba_put(test, a);
	KUNIT_EXPECT_FALSE(test, wait_for_completion_timeout(&d.r->done, HZ / 10));
	ba_put_from_irq(test, b);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&d.r->done, BA_WAIT));
	ba_create(test, "kunit-async", 64, 8, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&d.r->calls), 1);
}

/* Catches a sleeper left asleep on a pool destroyed without waiting. */
static void ba_destroy_async_sleeper(struct kunit *test)
{
	struct bufpool *pool = ba_create(test, "kunit-async", 64, 1, 0);
	struct bufpool_buf *held = ba_hold(test, pool);
	struct ba_release *r = ba_release_new(test);
	struct ba_thread *th = ba_thread_start(test, pool, false);

	KUNIT_ASSERT_TRUE(test, ba_wait_waiters(pool, 1));
	ba_disown(test, pool);
	bufpool_destroy_async(pool, ba_released, r);
	ba_thread_join(th);
	KUNIT_EXPECT_PTR_EQ(test, th->buf, ERR_PTR(-ESHUTDOWN));
	ba_put(test, held);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&r->done, BA_WAIT));
}

static struct kunit_case ba_layout_cases[] = {
	KUNIT_CASE(ba_layout_cost),
	KUNIT_CASE(ba_data_to_buf_inline),
	KUNIT_CASE(ba_data_to_buf_apart),
	KUNIT_CASE(ba_data_to_buf_unindexed),
	KUNIT_CASE(ba_alloc_sg),
	{}
};

static struct kunit_suite ba_layout_suite = {
	.name = "bufpool_data",
	.init = ba_init,
	.exit = ba_exit,
	.test_cases = ba_layout_cases,
};

static struct kunit_case ba_notify_cases[] = {
	KUNIT_CASE(ba_notify_now),
	KUNIT_CASE(ba_notify_later),
	KUNIT_CASE(ba_notify_from_irq),
	KUNIT_CASE(ba_notify_fifo),
	KUNIT_CASE(ba_notify_cancel),
	KUNIT_CASE(ba_notify_destroy),
	{}
};

static struct kunit_suite ba_notify_suite = {
	.name = "bufpool_notify",
	.init = ba_init,
	.exit = ba_exit,
	.test_cases = ba_notify_cases,
};

static struct kunit_case ba_async_cases[] = {
	KUNIT_CASE(ba_destroy_async_idle),
	KUNIT_CASE(ba_destroy_async_last_put),
	KUNIT_CASE(ba_destroy_async_sleeper),
	{}
};

static struct kunit_suite ba_async_suite = {
	.name = "bufpool_destroy_async",
	.init = ba_init,
	.exit = ba_exit,
	.test_cases = ba_async_cases,
};

kunit_test_suites(&ba_layout_suite, &ba_notify_suite, &ba_async_suite);

MODULE_DESCRIPTION("KUnit tests for bufpool's layout, data lookup and notify requests");
MODULE_LICENSE("GPL");
