// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for bufpool's queue: the waiters, notify requests, growth
 * on their behalf, and destroy racing with them. Each case names the bug
 * it catches; most hold one party at a test point (bufpool_internal.h)
 * while another does what the race needs, so that the interleaving is
 * certain, not hoped for.
 *
 * A case's pools, workers, timers, notify requests and held buffers are
 * all released by the suite's .exit, however the case ended.
 */
#include <kunit/test.h>
#include <linux/bufpool.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/fault-inject.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/sched.h>

#include "bufpool_internal.h"
#include "bufpool_misuse_probe.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define BQ_WAIT		(5 * HZ)	/* generous: TCG with KASAN is slow */
#define BQ_MAX		4		/* pools, workers, requests per case */
#define BQ_BUFS		128

/* A notify request with what its callback saw. */
struct bq_notify {
	struct bufpool_notify nb;
	struct completion done;
	atomic_t calls;
	int err;
	unsigned int n;
	struct bufpool_buf *bufs[64];
	/* What the callback was handed, once: bufs is reused by a re-queue. */
	struct bufpool_buf *got[64];
	/* If set, the callback queues the request again, there, once. */
	struct bufpool *requeue;
	int requeue_ret;
	bool kept;		/* bq_notify_wait() gave its buffers to the exit */
};

/* A second party: a kthread that runs @fn once. */
struct bq_worker {
	struct task_struct *task;
	int (*fn)(struct bq_worker *w);
	struct bufpool *pool;
	struct bq_notify *bn;
	unsigned int n;
	struct bufpool_buf *buf;
	struct bufpool_buf *bufs[16];
	struct completion done;
	int ret;
	bool started;
};

struct bq_ctx {
	struct bufpool *pools[BQ_MAX];
	struct bq_worker *workers[BQ_MAX];
	struct bq_notify *notifies[BQ_MAX];
	struct bufpool_buf *held[BQ_BUFS];
	unsigned int nr_held;
};

static struct bq_ctx *bq_ctx(struct kunit *test)
{
	return test->priv;
}

static struct bufpool_stats bq_stats(struct bufpool *pool)
{
	struct bufpool_stats st;

	bufpool_get_stats(pool, &st);
	return st;
}

static struct bufpool *bq_create(struct kunit *test, const char *name,
				 unsigned int max, unsigned int min,
				 unsigned int flags)
{
	struct bufpool_params p = {
		.name = name, .buf_size = 64, .max_bufs = max,
		.min_bufs = min, .flags = flags,
	};
	struct bq_ctx *ctx = bq_ctx(test);
	struct bufpool *pool;
	int i;

	for (i = 0; i < BQ_MAX && ctx->pools[i]; i++)
		;
	KUNIT_ASSERT_LT(test, i, BQ_MAX);
	pool = bufpool_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	ctx->pools[i] = pool;
	return pool;
}

/* Someone else destroys @pool now: the exit must not. */
static void bq_disown(struct kunit *test, struct bufpool *pool)
{
	struct bq_ctx *ctx = bq_ctx(test);
	int i;

	for (i = 0; i < BQ_MAX; i++)
		if (ctx->pools[i] == pool)
			ctx->pools[i] = NULL;
}

/* The exit puts what the case holds. */
static void bq_keep(struct kunit *test, struct bufpool_buf *buf)
{
	struct bq_ctx *ctx = bq_ctx(test);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	KUNIT_ASSERT_LT(test, ctx->nr_held, BQ_BUFS);
	ctx->held[ctx->nr_held++] = buf;
}

static struct bufpool_buf *bq_hold(struct kunit *test, struct bufpool *pool)
{
	struct bufpool_buf *buf = bufpool_alloc(pool, GFP_KERNEL);

	bq_keep(test, buf);
	return buf;
}

/* The case put @buf itself. */
static void bq_forget(struct kunit *test, struct bufpool_buf *buf)
{
	struct bq_ctx *ctx = bq_ctx(test);
	unsigned int i;

	for (i = 0; i < ctx->nr_held; i++) {
		if (ctx->held[i] == buf) {
			ctx->held[i] = ctx->held[--ctx->nr_held];
			return;
		}
	}
	KUNIT_FAIL(test, "buffer %p was not held", buf);
}

/* Put the most recently held buffer back. */
static struct bufpool_buf *bq_put_last(struct kunit *test)
{
	struct bq_ctx *ctx = bq_ctx(test);
	struct bufpool_buf *buf;

	KUNIT_ASSERT_GT(test, ctx->nr_held, 0);
	buf = ctx->held[--ctx->nr_held];
	bufpool_put(buf);
	return buf;
}

static void bq_notified(struct bufpool_notify *nb, int err)
{
	struct bq_notify *bn = container_of(nb, struct bq_notify, nb);
	unsigned int i;

	bn->err = err;
	for (i = 0; !err && i < bn->n; i++)
		bn->got[i] = bn->bufs[i];
	if (bn->requeue) {
		struct bufpool *pool = bn->requeue;

		bn->requeue = NULL;
		bn->requeue_ret = bufpool_alloc_notify(pool, 1, bn->bufs, nb);
	}
	atomic_inc(&bn->calls);
	complete(&bn->done);
}

static struct bq_notify *bq_notify_new(struct kunit *test, unsigned int n)
{
	struct bq_notify *bn = kunit_kzalloc(test, sizeof(*bn), GFP_KERNEL);
	struct bq_ctx *ctx = bq_ctx(test);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, bn);
	KUNIT_ASSERT_LE(test, n, ARRAY_SIZE(bn->bufs));
	for (i = 0; i < BQ_MAX && ctx->notifies[i]; i++)
		;
	KUNIT_ASSERT_LT(test, i, BQ_MAX);
	ctx->notifies[i] = bn;
	bn->n = n;
	bufpool_notify_init(&bn->nb, bq_notified);
	init_completion(&bn->done);
	return bn;
}

/* The callback ran: true, its buffers (if any) the exit's to put. */
static bool bq_notify_wait(struct kunit *test, struct bq_notify *bn,
			   unsigned long timeout)
{
	unsigned int i;

	if (!wait_for_completion_timeout(&bn->done, timeout))
		return false;
	bn->kept = true;
	for (i = 0; !bn->err && i < bn->n; i++)
		bq_keep(test, bn->got[i]);
	return true;
}

struct bq_irq_notify {
	struct hrtimer timer;
	struct bufpool *pool;
	struct bq_notify *bn;
	int ret;
};

static enum hrtimer_restart bq_irq_notify_fn(struct hrtimer *t)
{
	struct bq_irq_notify *in = container_of(t, struct bq_irq_notify, timer);

	in->ret = bufpool_alloc_notify(in->pool, in->bn->n, in->bn->bufs,
				       &in->bn->nb);
	return HRTIMER_NORESTART;
}

/* Queue @bn's request in hard IRQ, as a receive path would; its return. */
static int bq_notify_from_irq(struct bufpool *pool, struct bq_notify *bn)
{
	struct bq_irq_notify in = { .pool = pool, .bn = bn };

	hrtimer_init(&in.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	in.timer.function = bq_irq_notify_fn;
	hrtimer_start(&in.timer, ns_to_ktime(50 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_HARD);
	while (hrtimer_active(&in.timer))
		cpu_relax();
	hrtimer_cancel(&in.timer);
	return in.ret;
}

static int bq_worker_thread(void *arg)
{
	struct bq_worker *w = arg;

	w->ret = w->fn(w);
	complete_all(&w->done);
	/* Stay until stopped, so that the task outlives every look at it. */
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ / 10);
	return 0;
}

static struct bq_worker *bq_start(struct kunit *test,
				  int (*fn)(struct bq_worker *w),
				  struct bufpool *pool, int cpu)
{
	struct bq_worker *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	struct bq_ctx *ctx = bq_ctx(test);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, w);
	for (i = 0; i < BQ_MAX && ctx->workers[i]; i++)
		;
	KUNIT_ASSERT_LT(test, i, BQ_MAX);
	w->fn = fn;
	w->pool = pool;
	init_completion(&w->done);
	w->task = kthread_create(bq_worker_thread, w, "bq_worker/%d", i);
	KUNIT_ASSERT_FALSE(test, IS_ERR(w->task));
	get_task_struct(w->task);
	ctx->workers[i] = w;
	if (cpu >= 0)
		kthread_bind(w->task, cpu);
	return w;
}

static void bq_go(struct bq_worker *w)
{
	w->started = true;
	wake_up_process(w->task);
}

static bool bq_join(struct bq_worker *w)
{
	return wait_for_completion_timeout(&w->done, BQ_WAIT);
}

static int bq_destroyer(struct bq_worker *w)
{
	bufpool_destroy(w->pool);
	return 0;
}

static int bq_sleeper(struct bq_worker *w)
{
	w->buf = bufpool_alloc_wait(w->pool, GFP_KERNEL, TASK_UNINTERRUPTIBLE,
				    BQ_WAIT);
	return PTR_ERR_OR_ZERO(w->buf);
}

static int bq_bulk_sleeper(struct bq_worker *w)
{
	return bufpool_alloc_bulk_wait(w->pool, GFP_KERNEL, w->n, w->bufs,
				       TASK_UNINTERRUPTIBLE, BQ_WAIT);
}

static int bq_notifier(struct bq_worker *w)
{
	return bufpool_alloc_notify(w->pool, w->bn->n, w->bn->bufs, &w->bn->nb);
}

static int bq_canceller(struct bq_worker *w)
{
	return bufpool_notify_cancel(&w->bn->nb);
}

static int bq_putter(struct bq_worker *w)
{
	bufpool_put(w->buf);
	return 0;
}

/*
 * Hold one party at a test point: the task given, or (task NULL) the
 * first workqueue worker to get there. It spins where it may not sleep.
 */
struct bq_hold {
	enum bufpool_test_point tp;
	struct task_struct *task;
	bool spin;
	atomic_t state;		/* 0 armed, 1 holding, 2 let go */
};

static struct bq_hold *bq_hold_at;

static void bq_hold_hook(enum bufpool_test_point tp)
{
	struct bq_hold *h = READ_ONCE(bq_hold_at);
	/* Longer than any case holds a party, and than destroy's 5 s. */
	unsigned long end = jiffies + 4 * BQ_WAIT;

	if (!h || tp != h->tp || !in_task())
		return;
	if (h->task ? current != h->task : !(current->flags & PF_WQ_WORKER))
		return;
	if (atomic_cmpxchg(&h->state, 0, 1))
		return;
	while (atomic_read(&h->state) == 1 && time_before(jiffies, end)) {
		if (h->spin)
			cpu_relax();
		else
			usleep_range(200, 400);
	}
}

static void bq_hold_arm(struct bq_hold *h, enum bufpool_test_point tp,
			struct task_struct *task, bool spin)
{
	h->tp = tp;
	h->task = task;
	h->spin = spin;
	atomic_set(&h->state, 0);
	WRITE_ONCE(bq_hold_at, h);
	bufpool_set_test_hook(bq_hold_hook);
}

static bool bq_hold_reached(struct bq_hold *h)
{
	unsigned long end = jiffies + BQ_WAIT;

	while (atomic_read(&h->state) != 1 && time_before(jiffies, end))
		usleep_range(200, 400);
	return atomic_read(&h->state) == 1;
}

static void bq_hold_release(struct bq_hold *h)
{
	atomic_set(&h->state, 2);
}

/* Let the held party go, to be held again the next time it gets there. */
static void bq_hold_again(struct bq_hold *h)
{
	atomic_set(&h->state, 0);
}

static bool bq_wait_for(struct bufpool *pool, bool (*cond)(struct bufpool *pool))
{
	unsigned long end = jiffies + BQ_WAIT;

	while (!cond(pool)) {
		if (time_after(jiffies, end))
			return false;
		usleep_range(500, 1000);
	}
	return true;
}

static bool bq_dying(struct bufpool *pool)
{
	return READ_ONCE(pool->dying);
}

static bool bq_has_waiter(struct bufpool *pool)
{
	return bq_stats(pool).waiters > 0;
}

#ifdef CONFIG_FAULT_INJECTION
/* Every allocation bufpool makes for itself fails, until bq_faults_off(). */
static void bq_faults_on(void)
{
	bufpool_fault_attr.verbose = 0;
	bufpool_fault_attr.interval = 1;
	atomic_set(&bufpool_fault_attr.space, 0);
	atomic_set(&bufpool_fault_attr.times, -1);
	bufpool_fault_attr.probability = 100;
}

static void bq_faults_off(void)
{
	bufpool_fault_attr.probability = 0;
	atomic_set(&bufpool_fault_attr.times, 1);
}
#else
static void bq_faults_on(void)
{
}

static void bq_faults_off(void)
{
}
#endif

static void bq_need_faults(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_FAULT_INJECTION))
		kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}

static int bq_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct bq_ctx), GFP_KERNEL);
	if (!test->priv)
		return -ENOMEM;
	bp_log_reset();
	return 0;
}

static void bq_exit(struct kunit *test)
{
	struct bq_ctx *ctx = bq_ctx(test);
	struct bq_worker *w;
	int i;

	if (READ_ONCE(bq_hold_at))
		bq_hold_release(bq_hold_at);
	bufpool_set_test_hook(NULL);
	WRITE_ONCE(bq_hold_at, NULL);
	bq_faults_off();
	for (i = 0; i < BQ_MAX && ctx->notifies[i]; i++) {
		struct bq_notify *bn = ctx->notifies[i];

		bufpool_notify_cancel(&bn->nb);
		/* Served when the case no longer looked. */
		if (atomic_read(&bn->calls) && !bn->err && !bn->kept)
			bufpool_put_bulk(bn->n, bn->got);
	}
	bufpool_put_bulk(ctx->nr_held, ctx->held);
	for (i = 0; i < BQ_MAX && (w = ctx->workers[i]); i++) {
		/* One never started is stopped before it runs its function. */
		if (w->started && !wait_for_completion_timeout(&w->done, 2 * BQ_WAIT)) {
			/* Stuck in bufpool: the run has failed; do not hang. */
			kunit_err(test, "worker %d would not finish: left running\n", i);
			continue;
		}
		/* What a worker got, or what a putter never got to put. */
		if ((w->fn != bq_putter || !w->started) && !IS_ERR_OR_NULL(w->buf))
			bufpool_put(w->buf);
		if (w->fn == bq_bulk_sleeper && w->started && !w->ret)
			bufpool_put_bulk(w->n, w->bufs);
		kthread_stop(w->task);
		put_task_struct(w->task);
	}
	for (i = 0; i < BQ_MAX; i++)
		bufpool_destroy(ctx->pools[i]);
}

/* Suite: notify requests below the cap */

/*
 * Catches a notify request that no one grows the pool for: queued in hard
 * IRQ (where a pool never grows) on a pool below its cap with nothing
 * out, it used to wait for a put that could never come, and every sleeper
 * behind it with it. Growth on its behalf must serve it, and the sleeper
 * after it, and count the high watermark of buffers grown straight into
 * a request.
 */
static void bq_notify_grows_below_cap(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 4, 0, 0);
	struct bq_notify *bn = bq_notify_new(test, 1);
	struct bufpool_buf *buf;
	struct bufpool_stats st;
	int ret;

	ret = bq_notify_from_irq(pool, bn);
	KUNIT_ASSERT_TRUE(test, ret == -EINPROGRESS || ret == 0);
	if (!ret)
		bq_keep(test, bn->bufs[0]);
	else
		KUNIT_ASSERT_TRUE_MSG(test, bq_notify_wait(test, bn, BQ_WAIT),
				      "a request below the cap was never served");
	KUNIT_EXPECT_EQ(test, bn->err, 0);
	KUNIT_EXPECT_EQ(test, bq_stats(pool).high_watermark, 1);
	buf = bufpool_alloc_wait(pool, GFP_KERNEL, TASK_UNINTERRUPTIBLE,
				 msecs_to_jiffies(20));
	KUNIT_ASSERT_FALSE(test, IS_ERR(buf));
	bq_keep(test, buf);
	bq_hold(test, pool);
	st = bq_stats(pool);
	KUNIT_EXPECT_EQ(test, st.in_use, 3);
	KUNIT_EXPECT_EQ(test, st.fails, 0);
	KUNIT_EXPECT_EQ(test, st.waiters, 0);
	KUNIT_EXPECT_EQ(test, st.high_watermark, 3);
}

/*
 * Catches a kick of the head of the queue that takes every head for a
 * sleeper: a sleeper that gives up behind a notify request, on a pool
 * that could grow but whose growth fails, used to wake the request's
 * task, which is NULL (an oops in try_to_wake_up(), with the pool lock
 * held). Once growth works again, the request must be served.
 */
static void bq_notify_head_kick(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 4, 0, 0);
	struct bq_notify *bn = bq_notify_new(test, 1);
	struct bufpool_buf *buf;

	bq_need_faults(test);
	bq_faults_on();
	KUNIT_ASSERT_EQ(test, bq_notify_from_irq(pool, bn), -EINPROGRESS);
	buf = bufpool_alloc_wait(pool, GFP_KERNEL, TASK_UNINTERRUPTIBLE,
				 msecs_to_jiffies(20));
	KUNIT_EXPECT_EQ(test, PTR_ERR(buf), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 0);
	bq_faults_off();
	KUNIT_ASSERT_TRUE(test, bq_notify_wait(test, bn, BQ_WAIT));
	KUNIT_EXPECT_EQ(test, bn->err, 0);
	KUNIT_EXPECT_GT(test, bq_stats(pool).grow_fails, 0);
}

/*
 * Catches a service run queued twice for one request leaving the pool
 * twice: pool->active wrapped and destroy waited for "all home" forever
 * (seen on PREEMPT_RT). The run is held as it starts, before it takes
 * the pool lock; a second request for now then finds service_queued
 * still set, and mod_delayed_work() queues the started work again.
 */
static void bq_service_requeued_once(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 1, 0, 0);
	struct bq_notify *bn = bq_notify_new(test, 1);
	struct bq_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	unsigned long flags;
	unsigned int active;

	KUNIT_ASSERT_NOT_NULL(test, h);
	bq_hold(test, pool);
	bq_hold_arm(h, BUFPOOL_TP_SERVICE, NULL, false);
	/* At its cap: the request heads the queue and asks for growth. */
	KUNIT_ASSERT_EQ(test, bufpool_alloc_notify(pool, 1, bn->bufs, &bn->nb),
			-EINPROGRESS);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(h));
	KUNIT_ASSERT_TRUE(test, bufpool_notify_cancel(&bn->nb));
	KUNIT_ASSERT_EQ(test, bufpool_alloc_notify(pool, 1, bn->bufs, &bn->nb),
			-EINPROGRESS);
	bq_hold_release(h);
	flush_delayed_work(&pool->service_work);
	flush_delayed_work(&pool->service_work);
	bufpool_depot_lock(pool, flags);
	active = pool->active;
	/* Wrapped, the exit's destroy would wait forever. */
	if ((int)active < 0)
		pool->active = 0;
	bufpool_depot_unlock(pool, flags);
	KUNIT_EXPECT_EQ(test, active, 0);
}

/*
 * The other way to the same oops: a caller's growth fails while a notify
 * request queued behind it has become the head. The grower is held with
 * its slot reserved (the pool at its cap meanwhile), the request queues
 * in hard IRQ, the growth then fails, and the kick must not take the
 * request for a sleeper.
 */
static void bq_notify_head_after_failed_growth(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 1, 0, 0);
	struct bq_notify *bn = bq_notify_new(test, 1);
	struct bq_worker *grower = bq_start(test, bq_sleeper, pool, -1);
	struct bq_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	bq_need_faults(test);
	bq_hold_arm(h, BUFPOOL_TP_GROW, grower->task, false);
	bq_go(grower);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(h));
	KUNIT_ASSERT_EQ(test, bq_notify_from_irq(pool, bn), -EINPROGRESS);
	bq_faults_on();
	bq_hold_release(h);
	/* The grower sleeps behind the request, retrying its growth. */
	KUNIT_EXPECT_FALSE(test, wait_for_completion_timeout(&grower->done,
							     HZ / 10));
	bq_faults_off();
	KUNIT_ASSERT_TRUE(test, bq_notify_wait(test, bn, BQ_WAIT));
	KUNIT_EXPECT_EQ(test, bn->err, 0);
	/* The grower gets the buffer once the request is done with it. */
	bq_put_last(test);
	KUNIT_ASSERT_TRUE(test, bq_join(grower));
	KUNIT_EXPECT_EQ(test, grower->ret, 0);
}

/*
 * Catches growth on a request's behalf that keeps going after destroy
 * failed the request: the growth is held with its slot reserved while
 * destroy fails the request with -ESHUTDOWN; the buffer it then makes
 * must go to the depot, not to the request (whose owner has its array
 * back), or destroy would wait for it forever.
 */
static void bq_notify_growth_vs_destroy(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 2, 0, 0);
	struct bq_notify *bn = bq_notify_new(test, 1);
	struct bq_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bq_worker *d = bq_start(test, bq_destroyer, pool, -1);

	KUNIT_ASSERT_NOT_NULL(test, h);
	bq_hold_arm(h, BUFPOOL_TP_GROW, NULL, false);
	KUNIT_ASSERT_EQ(test, bq_notify_from_irq(pool, bn), -EINPROGRESS);
	KUNIT_ASSERT_TRUE_MSG(test, bq_hold_reached(h),
			      "nobody grows the pool for the request");
	bq_disown(test, pool);
	bq_go(d);
	KUNIT_ASSERT_TRUE(test, bq_notify_wait(test, bn, BQ_WAIT));
	KUNIT_EXPECT_EQ(test, bn->err, -ESHUTDOWN);
	bq_hold_release(h);
	KUNIT_EXPECT_TRUE_MSG(test, bq_join(d), "destroy waits for a lost buffer");
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 1);
}

/* Suite: notify requests and the slow path */

/*
 * Catches a bulk request that queues on a pool destroy has already
 * stopped: a request for more than one hold of the pool lock moves (32)
 * let go of the lock half-way, destroy fired the queue meanwhile, and the
 * request then queued, never to be fired, holding 36 buffers that destroy
 * waits for forever. It must fail with -ESHUTDOWN and give them back.
 */
static void bq_bulk_notify_vs_destroy(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 40, 40,
					 BUFPOOL_F_NO_MAGAZINES);
	struct bq_notify *bn = bq_notify_new(test, 40);
	struct bq_worker *s = bq_start(test, bq_notifier, pool, -1);
	struct bq_worker *d = bq_start(test, bq_destroyer, pool, -1);
	struct bq_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, h);
	for (i = 0; i < 4; i++)
		bq_hold(test, pool);
	s->bn = bn;
	bq_hold_arm(h, BUFPOOL_TP_RELAX, s->task, false);
	bq_go(s);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(h));
	bq_disown(test, pool);
	bq_go(d);
	KUNIT_ASSERT_TRUE(test, bq_wait_for(pool, bq_dying));
	bq_hold_release(h);
	KUNIT_ASSERT_TRUE(test, bq_join(s));
	KUNIT_EXPECT_EQ(test, s->ret, -ESHUTDOWN);
	for (i = 0; i < 4; i++)
		bq_put_last(test);
	KUNIT_EXPECT_TRUE_MSG(test, bq_join(d),
			      "destroy waits for the buffers of a request never fired");
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 0);
}

/*
 * Catches a request served while its own bufpool_alloc_notify() is still
 * in the slow path, whose callback then runs (and may queue the request
 * again: two slow paths on one request). The submitter, a bulk request
 * for 40, is held after its first 32 buffers, while a sleeper queues
 * ahead of it; it then queues behind, gives its buffers to the sleeper
 * and, now the head, gets the rest back, and is held again half-way
 * through, while the test's puts serve it. The call must return 0 with
 * all 40, and the callback never run.
 */
static void bq_notify_served_in_slow_path(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 64, 64,
					 BUFPOOL_F_NO_MAGAZINES);
	struct bq_notify *bn = bq_notify_new(test, 40);
	struct bq_worker *s = bq_start(test, bq_notifier, pool, -1);
	struct bq_worker *h = bq_start(test, bq_bulk_sleeper, pool, -1);
	struct bq_hold *hold = kunit_kzalloc(test, sizeof(*hold), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, hold);
	for (i = 0; i < 24; i++)
		bq_hold(test, pool);
	s->bn = bn;
	bn->requeue = pool;
	h->n = 16;
	bq_hold_arm(hold, BUFPOOL_TP_RELAX, s->task, false);
	bq_go(s);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(hold));
	bq_go(h);
	KUNIT_ASSERT_TRUE(test, bq_wait_for(pool, bq_has_waiter));
	bq_hold_again(hold);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(hold));
	/* The sleeper has its 16; the request, at the head, 24 of 40. */
	KUNIT_ASSERT_TRUE(test, bq_join(h));
	KUNIT_ASSERT_EQ(test, h->ret, 0);
	for (i = 0; i < 16; i++)
		bq_put_last(test);
	bq_hold_release(hold);
	KUNIT_ASSERT_TRUE(test, bq_join(s));
	KUNIT_EXPECT_EQ(test, s->ret, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 0);
	if (!s->ret)
		for (i = 0; i < 40; i++)
			bq_keep(test, bn->bufs[i]);
	KUNIT_EXPECT_EQ(test, bq_stats(pool).waiters, 0);
	KUNIT_EXPECT_EQ(test, bq_stats(pool).in_use, 64);
}

/*
 * A cancel held between reading the request's pool and taking its lock,
 * while a put serves the request and its callback runs (@requeue: and
 * queues it again on another pool). Catches a cancel that trusts what it
 * read: it dequeued the request from the first pool's queue while it was
 * on the second's (one pool's waiters count underflowed, the other's
 * leaked, and a buffer of one pool could land in the other's depot).
 * Either way the cancel must take the request off the queue it is on, or
 * find the callback has run.
 */
static void bq_cancel_vs_serve_case(struct kunit *test, bool requeue)
{
	struct bufpool *a = bq_create(test, "kunit-qa", 1, 0, 0);
	struct bufpool *b = bq_create(test, "kunit-qb", 1, 0, 0);
	struct bq_notify *bn = bq_notify_new(test, 1);
	struct bq_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bufpool_buf *held_b;
	struct bufpool_stats st;
	struct bq_worker *c, *p;

	if (num_online_cpus() < 2 || !cpu_online(1))
		kunit_skip(test, "needs CPUs 0 and 1 online");
	c = bq_start(test, bq_canceller, a, 0);
	p = bq_start(test, bq_putter, a, 1);
	KUNIT_ASSERT_NOT_NULL(test, h);
	p->buf = bufpool_alloc(a, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p->buf);
	held_b = bq_hold(test, b);
	c->bn = bn;
	bn->requeue = requeue ? b : NULL;
	KUNIT_ASSERT_EQ(test, bufpool_alloc_notify(a, 1, bn->bufs, &bn->nb),
			-EINPROGRESS);
	/* It spins there: it is inside an RCU read-side section. */
	bq_hold_arm(h, BUFPOOL_TP_CANCEL, c->task, true);
	bq_go(c);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(h));
	/* Served from CPU 1: the callback runs there too. */
	bq_go(p);
	KUNIT_ASSERT_TRUE(test, bq_join(p));
	KUNIT_ASSERT_TRUE(test, bq_notify_wait(test, bn, BQ_WAIT));
	KUNIT_EXPECT_EQ(test, bn->err, 0);
	if (requeue)
		KUNIT_EXPECT_EQ(test, bn->requeue_ret, -EINPROGRESS);
	bq_hold_release(h);
	KUNIT_ASSERT_TRUE(test, bq_join(c));
	/* Queued on b, it was cancelled there; served on a, it was not. */
	KUNIT_EXPECT_EQ(test, c->ret, requeue);
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 1);
	st = bq_stats(a);
	KUNIT_EXPECT_EQ(test, st.waiters, 0);
	KUNIT_EXPECT_EQ(test, st.in_use, 1);
	st = bq_stats(b);
	KUNIT_EXPECT_EQ(test, st.waiters, 0);
	/* b's buffer goes to b's depot, not to a cancelled request. */
	bq_forget(test, held_b);
	bufpool_put(held_b);
	st = bq_stats(b);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	KUNIT_EXPECT_EQ(test, st.free, 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 1);
}

static void bq_cancel_vs_serve(struct kunit *test)
{
	bq_cancel_vs_serve_case(test, false);
}

static void bq_cancel_vs_requeue(struct kunit *test)
{
	bq_cancel_vs_serve_case(test, true);
}

/*
 * Catches what a notify request's end does not count: a request failed
 * by destroy counts in fails, and a cancelled one's wait in the wait time.
 */
static void bq_notify_counted(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 1, 0, 0);
	struct bq_notify *bn = bq_notify_new(test, 1);
	struct bq_worker *d = bq_start(test, bq_destroyer, pool, -1);
	struct bufpool_stats st;

	bq_hold(test, pool);
	KUNIT_ASSERT_EQ(test, bufpool_alloc_notify(pool, 1, bn->bufs, &bn->nb),
			-EINPROGRESS);
	usleep_range(1000, 2000);
	KUNIT_ASSERT_TRUE(test, bufpool_notify_cancel(&bn->nb));
	st = bq_stats(pool);
	KUNIT_EXPECT_EQ(test, st.waits, 1);
	KUNIT_EXPECT_GE(test, st.wait_ns_total, NSEC_PER_MSEC);
	KUNIT_EXPECT_EQ(test, st.fails, 0);

	KUNIT_ASSERT_EQ(test, bufpool_alloc_notify(pool, 1, bn->bufs, &bn->nb),
			-EINPROGRESS);
	bq_disown(test, pool);
	bq_go(d);
	KUNIT_ASSERT_TRUE(test, bq_notify_wait(test, bn, BQ_WAIT));
	KUNIT_EXPECT_EQ(test, bn->err, -ESHUTDOWN);
	st = bq_stats(pool);
	KUNIT_EXPECT_EQ(test, st.fails, 1);
	KUNIT_EXPECT_EQ(test, st.waits, 2);
	KUNIT_EXPECT_EQ(test, st.waiters, 0);
	bq_put_last(test);
	KUNIT_EXPECT_TRUE(test, bq_join(d));
}

/* Suite: destroy racing destroy */

/*
 * Catches two destroys that both proceed: the first is held just past its
 * "already dying" check; the second (a destroy, or a destroy without
 * waiting) must be reported and return, not tear the pool down a second
 * time (a double shrinker_free() and a double free, which KASAN reports).
 */
static void bq_destroy_twice_case(struct kunit *test, bool async)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 4, 2, 0);
	struct bq_worker *d = bq_start(test, bq_destroyer, pool, -1);
	struct bq_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	bq_disown(test, pool);
	bq_hold_arm(h, BUFPOOL_TP_DESTROY, d->task, false);
	bq_go(d);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(h));
	if (async)
		bufpool_destroy_async(pool, NULL, NULL);
	else
		bufpool_destroy(pool);
	/* Named as every report of bufpool's is, whichever file prints it. */
	bp_expect_reports(test, 1, "bufpool: pool 'kunit-q': destroyed twice", NULL);
	bq_hold_release(h);
	KUNIT_EXPECT_TRUE(test, bq_join(d));
}

static void bq_destroy_twice(struct kunit *test)
{
	bq_destroy_twice_case(test, false);
}

static void bq_destroy_vs_destroy_async(struct kunit *test)
{
	bq_destroy_twice_case(test, true);
}

/* Suite: the queue's counters */

/*
 * Catches a high watermark that counts a growth slot as a buffer out: a
 * grower is held with its slot reserved while another caller takes the
 * pool's one buffer, then its growth fails. Only one buffer was ever in
 * use; without magazines the watermark is exact.
 */
static void bq_high_watermark_exact(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 4, 0,
					 BUFPOOL_F_NO_MAGAZINES);
	struct bq_worker *g = bq_start(test, bq_sleeper, pool, -1);
	struct bq_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	bq_need_faults(test);
	bq_hold_arm(h, BUFPOOL_TP_GROW, g->task, false);
	bq_go(g);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(h));
	bq_hold(test, pool);
	bq_faults_on();
	bq_hold_release(h);
	/* Its growth fails: it waits for a buffer, and gets the held one. */
	KUNIT_ASSERT_TRUE(test, bq_wait_for(pool, bq_has_waiter));
	bq_faults_off();
	bq_put_last(test);
	KUNIT_ASSERT_TRUE(test, bq_join(g));
	KUNIT_EXPECT_EQ(test, g->ret, 0);
	KUNIT_EXPECT_EQ(test, bq_stats(pool).high_watermark, 1);
}

/*
 * Catches a destroy that counts a growth slot as a buffer in use when it
 * says what it waits for: with only a grower held, it must not complain
 * of a buffer still in use (its first complaint comes after 5 s).
 */
static void bq_destroy_counts_buffers(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 4, 0, 0);
	struct bq_worker *g = bq_start(test, bq_sleeper, pool, -1);
	struct bq_worker *d = bq_start(test, bq_destroyer, pool, -1);
	struct bq_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	bq_hold_arm(h, BUFPOOL_TP_GROW, g->task, false);
	bq_go(g);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(h));
	bq_disown(test, pool);
	bq_go(d);
	ssleep(6);
	bp_expect_reports(test, 0, "still in use", NULL);
	bq_hold_release(h);
	KUNIT_ASSERT_TRUE(test, bq_join(g));
	if (!g->ret) {
		bufpool_put(g->buf);
		g->buf = NULL;
	}
	KUNIT_EXPECT_TRUE(test, bq_join(d));
}

/*
 * Catches a pool destroyed without waiting and without a release callback
 * that is never freed (bufpool_destroy_async(pool, NULL, NULL), as an
 * objpool-style client frees): once its last buffer is home, it is gone
 * with its slab cache, whose name a new pool of its name then gets. (The
 * pool's own name is free from the destroy on: a new pool's cache is
 * bufpool-<name>.<n> while the old one lives.)
 */
static bool bq_slab_name_free(struct bufpool *unused)
{
	struct bufpool_params p = {
		.name = "kunit-q", .buf_size = 64, .max_bufs = 1,
	};
	struct bufpool *pool = bufpool_create(&p);
	bool free;

	if (IS_ERR(pool))
		return false;
	free = !strcmp(pool->slab_name, "bufpool-kunit-q");
	bufpool_destroy(pool);
	return free;
}

static void bq_destroy_async_no_release(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 4, 1, 0);
	struct bq_worker *p = bq_start(test, bq_putter, pool, -1);

	p->buf = bufpool_alloc(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p->buf);
	bq_disown(test, pool);
	bufpool_destroy_async(pool, NULL, NULL);
	KUNIT_EXPECT_FALSE(test, bq_slab_name_free(NULL));
	bq_go(p);
	KUNIT_ASSERT_TRUE(test, bq_join(p));
	KUNIT_EXPECT_TRUE_MSG(test, bq_wait_for(NULL, bq_slab_name_free),
			      "the pool is never freed");
}

/* Suite: waiting at the head, and barging */

static bool bq_asleep(struct task_struct *task)
{
	return READ_ONCE(task->__state) & (TASK_UNINTERRUPTIBLE | TASK_INTERRUPTIBLE);
}

/*
 * Catches barging allowed more than once per wakeup. Two buffers are
 * returned while the sleeper at the head is woken but has not looked
 * yet (held): one running caller may take one of them, a second may not,
 * and the sleeper gets the other.
 */
static void bq_barge_once_per_wakeup(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 2, 2,
					 BUFPOOL_F_NO_MAGAZINES);
	struct bq_worker *s = bq_start(test, bq_sleeper, pool, -1);
	struct bq_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bufpool_buf *barged, *second;
	struct bufpool_stats st;

	KUNIT_ASSERT_NOT_NULL(test, h);
	bq_hold(test, pool);
	bq_hold(test, pool);
	bq_hold_arm(h, BUFPOOL_TP_WOKEN, s->task, false);
	bq_go(s);
	KUNIT_ASSERT_TRUE(test, bq_wait_for(pool, bq_has_waiter));
	bq_put_last(test);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(h));
	bq_put_last(test);
	barged = bufpool_alloc(pool, GFP_ATOMIC);
	second = bufpool_alloc(pool, GFP_ATOMIC);
	KUNIT_EXPECT_NOT_NULL_MSG(test, barged, "no running caller could take a buffer");
	KUNIT_EXPECT_NULL_MSG(test, second, "the head was passed over twice in one wakeup");
	if (barged)
		bq_keep(test, barged);
	if (second)
		bq_keep(test, second);
	bq_hold_release(h);
	KUNIT_ASSERT_TRUE(test, bq_join(s));
	KUNIT_EXPECT_EQ(test, s->ret, 0);
	st = bq_stats(pool);
	KUNIT_EXPECT_EQ(test, st.barges, 1);
	KUNIT_EXPECT_EQ(test, st.empty_wakeups, 0);
}

/*
 * Catches a head that never asks for hand-off. Woken for a buffer that a
 * running caller then takes, it finds nothing: from then on the next
 * returned buffer must go straight to it, and another running caller
 * must not get that one.
 */
static void bq_handoff_after_empty_wakeup(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 1, 1,
					 BUFPOOL_F_NO_MAGAZINES);
	struct bq_worker *s = bq_start(test, bq_sleeper, pool, -1);
	struct bq_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bufpool_buf *barged, *after;
	struct bufpool_stats st;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, h);
	bq_hold(test, pool);
	bq_hold_arm(h, BUFPOOL_TP_WOKEN, s->task, false);
	bq_go(s);
	KUNIT_ASSERT_TRUE(test, bq_wait_for(pool, bq_has_waiter));
	bq_put_last(test);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(h));
	barged = bufpool_alloc(pool, GFP_ATOMIC);
	KUNIT_ASSERT_NOT_NULL(test, barged);
	bq_hold_release(h);
	/* It looked, found nothing, and sleeps again. */
	for (i = 0; i < 5000 && !(bq_stats(pool).empty_wakeups && bq_asleep(s->task)); i++)
		usleep_range(500, 1000);
	KUNIT_ASSERT_EQ(test, bq_stats(pool).empty_wakeups, 1);
	bufpool_put(barged);
	after = bufpool_alloc(pool, GFP_ATOMIC);
	KUNIT_EXPECT_NULL_MSG(test, after, "the next buffer was taken from under the head");
	if (after)
		bq_keep(test, after);
	KUNIT_ASSERT_TRUE(test, bq_join(s));
	KUNIT_EXPECT_EQ(test, s->ret, 0);
	st = bq_stats(pool);
	KUNIT_EXPECT_EQ(test, st.barges, 1);
	KUNIT_EXPECT_EQ(test, st.handoffs, 1);
}

/* A bit-field: no READ_ONCE(). Set before the task sleeps, read while it does. */
static bool bq_in_iowait(struct task_struct *task)
{
	return task->in_iowait;
}

static int bq_noio_sleeper(struct bq_worker *w)
{
	w->buf = bufpool_alloc_wait(w->pool, w->n ? GFP_NOIO : GFP_KERNEL,
				    TASK_UNINTERRUPTIBLE, BQ_WAIT);
	return PTR_ERR_OR_ZERO(w->buf);
}

/*
 * Catches a block-path sleeper (GFP_NOIO) that does not count as iowait,
 * as mempool's do, and a GFP_KERNEL one that does.
 */
static void bq_noio_iowait(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 1, 1, 0);
	struct bq_worker *io = bq_start(test, bq_noio_sleeper, pool, -1);
	struct bq_worker *plain = bq_start(test, bq_noio_sleeper, pool, -1);
	int i;

	bq_hold(test, pool);
	io->n = 1;
	bq_go(io);
	/* io first in line, so that the one buffer put below is its. */
	for (i = 0; i < 5000 && bq_stats(pool).waiters < 1; i++)
		usleep_range(500, 1000);
	KUNIT_ASSERT_EQ(test, bq_stats(pool).waiters, 1);
	bq_go(plain);
	for (i = 0; i < 5000 && bq_stats(pool).waiters < 2; i++)
		usleep_range(500, 1000);
	KUNIT_ASSERT_EQ(test, bq_stats(pool).waiters, 2);
	/* Queued is not yet asleep: give it the time to get there. */
	for (i = 0; i < 1000 && !bq_in_iowait(io->task); i++)
		usleep_range(500, 1000);
	KUNIT_EXPECT_TRUE(test, bq_in_iowait(io->task));
	KUNIT_EXPECT_FALSE(test, bq_in_iowait(plain->task));
	bq_put_last(test);
	KUNIT_ASSERT_TRUE(test, bq_join(io));
	bufpool_put(io->buf);
	io->buf = NULL;
	KUNIT_ASSERT_TRUE(test, bq_join(plain));
}

static int bq_signalled(struct bq_worker *w)
{
	allow_signal(SIGUSR1);
	allow_signal(SIGKILL);
	w->buf = bufpool_alloc_wait(w->pool, GFP_KERNEL, w->n,
				    msecs_to_jiffies(300));
	return PTR_ERR_OR_ZERO(w->buf);
}

/*
 * The wait states as promised: TASK_KILLABLE ignores a signal that is
 * not fatal and leaves on SIGKILL; TASK_UNINTERRUPTIBLE ignores both
 * (and leaves at its timeout). Catches a wait that any signal ends.
 */
static void bq_wait_states(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 1, 1, 0);
	struct bq_worker *k = bq_start(test, bq_signalled, pool, -1);
	struct bq_worker *u = bq_start(test, bq_signalled, pool, -1);
	int i;

	bq_hold(test, pool);
	k->n = TASK_KILLABLE;
	u->n = TASK_UNINTERRUPTIBLE;
	bq_go(k);
	bq_go(u);
	for (i = 0; i < 5000 && bq_stats(pool).waiters < 2; i++)
		usleep_range(500, 1000);
	KUNIT_ASSERT_EQ(test, bq_stats(pool).waiters, 2);
	send_sig(SIGUSR1, k->task, 1);
	send_sig(SIGUSR1, u->task, 1);
	/*
	 * Neither state is woken by SIGUSR1: wake them anyway (a spurious
	 * wakeup, which a wait must sleep through), so that a wait that
	 * looks at any pending signal sees this one now, not at its timeout.
	 */
	wake_up_process(k->task);
	wake_up_process(u->task);
	msleep(50);
	KUNIT_EXPECT_FALSE_MSG(test, completion_done(&k->done),
			       "a killable wait ended on a signal that is not fatal");
	KUNIT_EXPECT_FALSE_MSG(test, completion_done(&u->done),
			       "an uninterruptible wait ended on a signal");
	send_sig(SIGKILL, k->task, 1);
	send_sig(SIGKILL, u->task, 1);
	wake_up_process(u->task);
	KUNIT_ASSERT_TRUE(test, bq_join(k));
	KUNIT_EXPECT_EQ(test, k->ret, -EINTR);
	KUNIT_ASSERT_TRUE(test, bq_join(u));
	KUNIT_EXPECT_EQ_MSG(test, u->ret, -ETIMEDOUT,
			    "an uninterruptible wait ended on SIGKILL");
}

/*
 * Catches a bulk request queued behind another that keeps what it holds:
 * two bulk requests for 3 of a pool of 4, each having grown 2, would wait
 * for each other forever. a is held in its second growth; b grows the
 * other two and waits at the cap, the head; a's growth completes behind
 * it and a must give its 2 to b: b is served, and a once b's are home.
 */
static void bq_bulk_give_back(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 4, 0,
					 BUFPOOL_F_NO_MAGAZINES);
	struct bq_worker *a = bq_start(test, bq_bulk_sleeper, pool, -1);
	struct bq_worker *b = bq_start(test, bq_bulk_sleeper, pool, -1);
	struct bq_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	a->n = 3;
	b->n = 3;
	/* Hold a in its second growth: 1 in hand, a second slot reserved. */
	bq_hold_arm(h, BUFPOOL_TP_GROW, a->task, false);
	bq_go(a);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(h));
	bq_hold_again(h);
	KUNIT_ASSERT_TRUE(test, bq_hold_reached(h));
	bq_go(b);
	KUNIT_ASSERT_TRUE(test, bq_wait_for(pool, bq_has_waiter));
	/* a's 1 and b's 2: a's second is still being made. */
	KUNIT_EXPECT_EQ(test, bq_stats(pool).backed, 3);
	bq_hold_release(h);
	KUNIT_ASSERT_TRUE(test, bq_join(b));
	KUNIT_EXPECT_EQ_MSG(test, b->ret, 0, "two bulk requests waited for each other");
	if (!b->ret)
		bufpool_put_bulk(b->n, b->bufs);
	b->ret = -1;
	KUNIT_ASSERT_TRUE(test, bq_join(a));
	KUNIT_EXPECT_EQ(test, a->ret, 0);
}

static int bq_single_taker(struct bq_worker *w)
{
	struct bufpool_buf *buf;
	unsigned long end = jiffies + HZ / 2;

	while (time_before(jiffies, end)) {
		buf = bufpool_alloc_wait(w->pool, GFP_KERNEL, TASK_UNINTERRUPTIBLE, BQ_WAIT);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
		bufpool_put(buf);
	}
	return 0;
}

/* Bulk requests for w->n, 20 of them, each put back at once. */
static int bq_bulk_loop(struct bq_worker *w)
{
	int i, err;

	for (i = 0; i < 20; i++) {
		err = bufpool_alloc_bulk_wait(w->pool, GFP_KERNEL, w->n, w->bufs,
					      TASK_UNINTERRUPTIBLE, BQ_WAIT);
		if (err)
			return err;
		bufpool_put_bulk(w->n, w->bufs);
	}
	return 0;
}

/*
 * Catches a bulk waiter starved by single takers that barge: three
 * threads hammer a pool of 4 one buffer at a time while a fourth wants 3
 * at once, twenty times: every bulk request completes within its wait.
 */
static void bq_bulk_among_singles(struct kunit *test)
{
	struct bufpool *pool = bq_create(test, "kunit-q", 4, 4, 0);
	struct bq_worker *bulk = bq_start(test, bq_bulk_loop, pool, -1);
	struct bq_worker *t[3];
	int i;

	for (i = 0; i < 3; i++)
		t[i] = bq_start(test, bq_single_taker, pool, -1);
	bulk->n = 3;
	for (i = 0; i < 3; i++)
		bq_go(t[i]);
	bq_go(bulk);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&bulk->done, 4 * BQ_WAIT));
	KUNIT_EXPECT_EQ_MSG(test, bulk->ret, 0, "a bulk request starved");
	for (i = 0; i < 3; i++) {
		KUNIT_ASSERT_TRUE(test, bq_join(t[i]));
		KUNIT_EXPECT_EQ(test, t[i]->ret, 0);
	}
}

static struct kunit_case bq_wait_cases[] = {
	KUNIT_CASE(bq_barge_once_per_wakeup),
	KUNIT_CASE(bq_handoff_after_empty_wakeup),
	KUNIT_CASE(bq_noio_iowait),
	KUNIT_CASE(bq_wait_states),
	KUNIT_CASE(bq_bulk_give_back),
	KUNIT_CASE(bq_bulk_among_singles),
	{}
};

static struct kunit_suite bq_wait_suite = {
	.name = "bufpool_queue_wait",
	.init = bq_init,
	.exit = bq_exit,
	.suite_init = bp_log_start,
	.suite_exit = bp_log_stop,
	.test_cases = bq_wait_cases,
};

static struct kunit_case bq_notify_cases[] = {
	KUNIT_CASE(bq_notify_grows_below_cap),
	KUNIT_CASE(bq_notify_head_kick),
	KUNIT_CASE(bq_notify_head_after_failed_growth),
	KUNIT_CASE(bq_service_requeued_once),
	KUNIT_CASE(bq_notify_growth_vs_destroy),
	KUNIT_CASE(bq_bulk_notify_vs_destroy),
	KUNIT_CASE(bq_notify_served_in_slow_path),
	KUNIT_CASE(bq_cancel_vs_serve),
	KUNIT_CASE(bq_cancel_vs_requeue),
	KUNIT_CASE(bq_notify_counted),
	{}
};

static struct kunit_suite bq_notify_suite = {
	.name = "bufpool_queue_notify",
	.init = bq_init,
	.exit = bq_exit,
	.suite_init = bp_log_start,
	.suite_exit = bp_log_stop,
	.test_cases = bq_notify_cases,
};

static struct kunit_case bq_destroy_cases[] = {
	KUNIT_CASE(bq_destroy_twice),
	KUNIT_CASE(bq_destroy_vs_destroy_async),
	KUNIT_CASE(bq_high_watermark_exact),
	KUNIT_CASE(bq_destroy_counts_buffers),
	KUNIT_CASE(bq_destroy_async_no_release),
	{}
};

static struct kunit_suite bq_destroy_suite = {
	.name = "bufpool_queue_destroy",
	.init = bq_init,
	.exit = bq_exit,
	.suite_init = bp_log_start,
	.suite_exit = bp_log_stop,
	.test_cases = bq_destroy_cases,
};

kunit_test_suites(&bq_notify_suite, &bq_destroy_suite, &bq_wait_suite);

MODULE_DESCRIPTION("KUnit tests for bufpool's queue: waiters, notify requests, destroy races");
MODULE_LICENSE("GPL");
