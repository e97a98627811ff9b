// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for what a pool reports: its counters, each counting what
 * its name says (BUFPOOL_STATS() in <linux/bufpool.h>), the same in
 * bufpool_get_stats(), debugfs and ethtool; who holds its buffers (the
 * holders file), and the names destroy's warning gives. Each case names
 * the bug it catches, and runs in the pool states where the counter may
 * go astray: the reserve only, below the cap, at the cap, with waiters.
 *
 * Every pool a case creates is destroyed by the suite's .exit, so a case
 * that stops at a failed assertion leaks nothing into the next.
 */
#include <kunit/test.h>
#include <linux/bufpool.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/fault-inject.h>
#include <linux/seq_file.h>
#include <linux/kthread.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <uapi/linux/ethtool.h>

#include "bufpool_internal.h"
#include "bufpool_misuse_probe.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define BS_WAIT		(10 * HZ)	/* generous: TCG with KASAN is slow */
#define BS_POOLS	4
#define BS_BUFS		128

/* A second party: a kthread that runs @fn once. */
struct bs_worker {
	struct task_struct *task;
	int (*fn)(struct bs_worker *w);
	struct bufpool *pool;
	unsigned int state;
	long timeout;
	struct bufpool_buf *buf;
	struct completion done;
	int ret;
};

struct bs_ctx {
	struct bufpool *pools[BS_POOLS];
	struct bs_worker *workers[BS_POOLS];
	struct bufpool_buf *held[BS_BUFS];
	unsigned int nr_held;
};

static int bs_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct bs_ctx), GFP_KERNEL);
	bp_log_reset();
	return test->priv ? 0 : -ENOMEM;
}

static void bs_fault_off(void)
{
#ifdef CONFIG_FAULT_INJECTION
	bufpool_fault_attr.probability = 0;
	atomic_set(&bufpool_fault_attr.times, 1);
	atomic_set(&bufpool_fault_attr.space, 0);
#endif
}

static void bs_exit(struct kunit *test)
{
	struct bs_ctx *ctx = test->priv;
	struct bs_worker *w;
	int i;

	bs_fault_off();
	bufpool_put_bulk(ctx->nr_held, ctx->held);
	for (i = 0; i < BS_POOLS; i++) {
		w = ctx->workers[i];
		if (!w)
			continue;
		wait_for_completion_timeout(&w->done, BS_WAIT);
		kthread_stop(w->task);
		put_task_struct(w->task);
		if (!IS_ERR_OR_NULL(w->buf))
			bufpool_put(w->buf);
	}
	for (i = 0; i < BS_POOLS; i++)
		bufpool_destroy(ctx->pools[i]);
}

static struct bufpool *bs_create(struct kunit *test, unsigned int max,
				 unsigned int min, unsigned int flags)
{
	struct bufpool_params p = {
		.name = "kunit-stats", .buf_size = 64, .max_bufs = max,
		.min_bufs = min, .flags = flags,
	};
	struct bs_ctx *ctx = test->priv;
	struct bufpool *pool;
	char name[16];
	int i;

	for (i = 0; i < BS_POOLS && ctx->pools[i]; i++)
		;
	KUNIT_ASSERT_LT(test, i, BS_POOLS);
	snprintf(name, sizeof(name), "kunit-stats%d", i);
	p.name = name;
	pool = bufpool_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	ctx->pools[i] = pool;
	return pool;
}

/* Someone else destroys @pool now: the exit must not. */
static void bs_disown(struct kunit *test, struct bufpool *pool)
{
	struct bs_ctx *ctx = test->priv;
	int i;

	for (i = 0; i < BS_POOLS; i++)
		if (ctx->pools[i] == pool)
			ctx->pools[i] = NULL;
}

static struct bufpool_stats bs_stats(struct bufpool *pool)
{
	struct bufpool_stats st;

	bufpool_get_stats(pool, &st);
	return st;
}

static void bs_keep(struct kunit *test, struct bufpool_buf *buf)
{
	struct bs_ctx *ctx = test->priv;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	KUNIT_ASSERT_LT(test, ctx->nr_held, BS_BUFS);
	ctx->held[ctx->nr_held++] = buf;
}

/* Put the buffer the case took last. */
static void bs_put_last(struct kunit *test)
{
	struct bs_ctx *ctx = test->priv;

	KUNIT_ASSERT_GT(test, ctx->nr_held, 0);
	bufpool_put(ctx->held[--ctx->nr_held]);
}

/*
 * Two call sites of their own, so that a holder is told by its name.
 * Not tail calls: the store after the call keeps the return address in
 * the helper.
 */
static noinline void bs_site_a(struct kunit *test, struct bufpool *pool)
{
	struct bufpool_buf *buf = bufpool_alloc(pool, GFP_KERNEL);

	bs_keep(test, buf);
}

static noinline void bs_site_b(struct kunit *test, struct bufpool *pool,
			       unsigned int n)
{
	struct bufpool_buf *bufs[8];
	unsigned int i;

	KUNIT_ASSERT_LE(test, n, ARRAY_SIZE(bufs));
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, n, bufs), 0);
	for (i = 0; i < n; i++)
		bs_keep(test, bufs[i]);
}

static int bs_worker_thread(void *arg)
{
	struct bs_worker *w = arg;

	allow_signal(SIGKILL);
	w->ret = w->fn(w);
	complete(&w->done);
	/* A signal the case sent may be pending: sleep in TASK_IDLE. */
	while (!kthread_should_stop())
		schedule_timeout_idle(HZ / 10);
	return 0;
}

static struct bs_worker *bs_start(struct kunit *test,
				  int (*fn)(struct bs_worker *w),
				  struct bufpool *pool, unsigned int state)
{
	struct bs_worker *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	struct bs_ctx *ctx = test->priv;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, w);
	for (i = 0; i < BS_POOLS && ctx->workers[i]; i++)
		;
	KUNIT_ASSERT_LT(test, i, BS_POOLS);
	w->fn = fn;
	w->pool = pool;
	w->state = state;
	w->timeout = BS_WAIT;
	init_completion(&w->done);
	w->task = kthread_create(bs_worker_thread, w, "bs_worker/%d", i);
	KUNIT_ASSERT_FALSE(test, IS_ERR(w->task));
	get_task_struct(w->task);
	ctx->workers[i] = w;
	wake_up_process(w->task);
	return w;
}

static int bs_sleeper(struct bs_worker *w)
{
	w->buf = bufpool_alloc_wait(w->pool, GFP_KERNEL, w->state, w->timeout);
	return PTR_ERR_OR_ZERO(w->buf);
}

static int bs_destroyer(struct bs_worker *w)
{
	bufpool_destroy(w->pool);
	return 0;
}

/* Wait until @pool has @n waiters. */
static void bs_wait_waiters(struct kunit *test, struct bufpool *pool,
			    unsigned int n)
{
	int i;

	for (i = 0; i < 5000 && bs_stats(pool).waiters != n; i++)
		usleep_range(500, 1000);
	KUNIT_ASSERT_EQ(test, bs_stats(pool).waiters, n);
}

/* Every counter but those named, the same in @a and @b. */
static void bs_expect_only(struct kunit *test, const struct bufpool_stats *a,
			   const struct bufpool_stats *b, const int *changed,
			   unsigned int n)
{
	unsigned int i, j;

	for (i = 0; i < BUFPOOL_STAT_NR; i++) {
		for (j = 0; j < n && changed[j] != i; j++)
			;
		if (j == n)
			KUNIT_EXPECT_EQ_MSG(test, *bufpool_stats_counter(a, i),
					    *bufpool_stats_counter(b, i),
					    "%s changed", bufpool_stat_names[i]);
	}
}

/* Suite: the counters */

/*
 * Catches a counter missing from one of its views, or in another place
 * there: the names table, the struct's fields, the array, debugfs and
 * ethtool all follow &enum bufpool_stat. Names are unique and fit an
 * ethtool string; each field is the array's entry of its index.
 */
static void bs_views_agree(struct kunit *test)
{
	struct bufpool *pool = bs_create(test, 16, 4, 0);
	u8 *strings, *end;
	struct bufpool_stats st;
	u64 values[BUFPOOL_STAT_NR + 1];
	char want[ETH_GSTRING_LEN];
	unsigned int i, j;

	bs_site_a(test, pool);
	bs_put_last(test);
	bs_site_a(test, pool);
	KUNIT_ASSERT_EQ(test, bufpool_ethtool_stats_get_count(), BUFPOOL_STAT_NR);
	strings = kunit_kzalloc(test, (BUFPOOL_STAT_NR + 1) * ETH_GSTRING_LEN,
				GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, strings);
	memset(strings, 0x5a, (BUFPOOL_STAT_NR + 1) * ETH_GSTRING_LEN);
	end = bufpool_ethtool_stats_get_strings(strings);
	KUNIT_EXPECT_PTR_EQ(test, end, strings + BUFPOOL_STAT_NR * ETH_GSTRING_LEN);
	/* Nothing written past the last string. */
	KUNIT_EXPECT_EQ(test, end[0], 0x5a);
	for (i = 0; i < BUFPOOL_STAT_NR; i++) {
		const u8 *s = strings + i * ETH_GSTRING_LEN;

		KUNIT_EXPECT_GT(test, strlen(bufpool_stat_names[i]), 0);
		memset(want, 0, sizeof(want));
		snprintf(want, sizeof(want), "bufpool_%s", bufpool_stat_names[i]);
		KUNIT_EXPECT_LT(test, strlen(bufpool_stat_names[i]) + 8,
				ETH_GSTRING_LEN);
		/* NUL-padded, as ethtool copies all ETH_GSTRING_LEN bytes. */
		KUNIT_EXPECT_EQ_MSG(test, memcmp(s, want, ETH_GSTRING_LEN), 0,
				    "string %u is not bufpool_%s", i,
				    bufpool_stat_names[i]);
		for (j = 0; j < i; j++)
			KUNIT_EXPECT_STRNEQ(test, bufpool_stat_names[i],
					    bufpool_stat_names[j]);
	}
	/* A quiet pool: ethtool reads what bufpool_get_stats() reads. */
	values[BUFPOOL_STAT_NR] = 0x5a5a;
	st = bs_stats(pool);
	KUNIT_EXPECT_PTR_EQ(test, bufpool_ethtool_stats_get(values, pool),
			    values + BUFPOOL_STAT_NR);
	KUNIT_EXPECT_EQ(test, values[BUFPOOL_STAT_NR], 0x5a5a);
	for (i = 0; i < BUFPOOL_STAT_NR; i++)
		KUNIT_EXPECT_EQ_MSG(test, values[i], *bufpool_stats_counter(&st, i), "%s",
				    bufpool_stat_names[i]);
	/* The names say which field: a few by hand. */
	KUNIT_EXPECT_EQ(test, *bufpool_stats_counter(&st, BUFPOOL_STAT_ALLOCS), st.allocs);
	KUNIT_EXPECT_EQ(test, st.allocs, 2);
	KUNIT_EXPECT_EQ(test, *bufpool_stats_counter(&st, BUFPOOL_STAT_FREES), 1);
	KUNIT_EXPECT_EQ(test, *bufpool_stats_counter(&st, BUFPOOL_STAT_IN_USE), 1);
	KUNIT_EXPECT_EQ(test, *bufpool_stats_counter(&st, BUFPOOL_STAT_BACKED), 4);
	KUNIT_EXPECT_STREQ(test, bufpool_stat_names[BUFPOOL_STAT_FAILS_NOMEM],
			   "fails_nomem");
	KUNIT_EXPECT_STREQ(test, bufpool_stat_names[BUFPOOL_STAT_GROW_FAILS],
			   "grow_fails");
}

/*
 * What a debugfs file of @pool shows, into @buf: its show function, as
 * reading the file runs it (kernel_read() cannot read a seq_file).
 */
static void bs_show(struct kunit *test, struct bufpool *pool,
		    int (*show)(struct seq_file *m, void *unused), char *buf,
		    size_t len)
{
	struct seq_file m = { .buf = buf, .size = len - 1, .private = pool };

	KUNIT_ASSERT_EQ(test, show(&m, NULL), 0);
	KUNIT_ASSERT_LT_MSG(test, m.count, len - 1, "the file does not fit");
	buf[m.count] = 0;
}

/*
 * Catches a debugfs stats file that leaves a counter out or prints one
 * under another's name: a "name: value" line for each, in order, with
 * the value bufpool_get_stats() reads in a quiet pool.
 */
static void bs_debugfs_stats(struct kunit *test)
{
	struct bufpool *pool = bs_create(test, 16, 2, 0);
	char *text = kunit_kzalloc(test, 4096, GFP_KERNEL), *at, line[64];
	struct bufpool_stats st;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, text);
	bs_site_a(test, pool);
	bs_site_a(test, pool);
	bs_site_a(test, pool);
	bs_put_last(test);
	st = bs_stats(pool);
	bs_show(test, pool, bufpool_debugfs_stats_show, text, 4096);
	at = text;
	for (i = 0; i < BUFPOOL_STAT_NR; i++) {
		snprintf(line, sizeof(line), "\n%s: %llu\n",
			 bufpool_stat_names[i], *bufpool_stats_counter(&st, i));
		at = strstr(at, line);
		KUNIT_ASSERT_NOT_NULL_MSG(test, at, "no line%s", line);
		at++;
	}
}

/*
 * allocs, frees, in_use, backed, free: catches a hand-out or a return
 * not counted on one of the paths (the hit path, a refill, the slow path
 * and growth, a bulk call), in each state: the reserve only, grown below
 * the cap, at the cap. Nothing else moves (no wait, no fail).
 */
static void bs_allocs_frees(struct kunit *test)
{
	static const unsigned int flags[] = { 0, BUFPOOL_F_NO_MAGAZINES };
	struct bufpool_stats a, b;
	struct bufpool *pool;
	unsigned int f;

	for (f = 0; f < ARRAY_SIZE(flags); f++) {
		pool = bs_create(test, 8, 4, flags[f]);
		/* The reserve only. */
		a = bs_stats(pool);
		KUNIT_EXPECT_EQ(test, a.backed, 4);
		KUNIT_EXPECT_EQ(test, a.free, 4);
		bs_site_a(test, pool);
		bs_site_b(test, pool, 2);
		b = bs_stats(pool);
		KUNIT_EXPECT_EQ(test, b.allocs - a.allocs, 3);
		KUNIT_EXPECT_EQ(test, b.in_use, 3);
		KUNIT_EXPECT_EQ(test, b.backed, 4);
		KUNIT_EXPECT_EQ(test, b.free, 1);
		/* Below the cap: growth. */
		bs_site_b(test, pool, 3);
		b = bs_stats(pool);
		KUNIT_EXPECT_EQ(test, b.allocs, 6);
		KUNIT_EXPECT_EQ(test, b.in_use, 6);
		KUNIT_EXPECT_EQ(test, b.backed, 6);
		/* At the cap. */
		bs_site_b(test, pool, 2);
		bs_put_last(test);
		bs_put_last(test);
		bs_put_last(test);
		b = bs_stats(pool);
		KUNIT_EXPECT_EQ(test, b.allocs, 8);
		KUNIT_EXPECT_EQ(test, b.frees, 3);
		KUNIT_EXPECT_EQ(test, b.in_use, 5);
		KUNIT_EXPECT_EQ(test, b.backed, 8);
		KUNIT_EXPECT_EQ(test, b.free, 3);
		KUNIT_EXPECT_EQ(test, b.fails, 0);
		KUNIT_EXPECT_EQ(test, b.waits, 0);
		KUNIT_EXPECT_EQ(test, b.mag_hits + b.mag_misses, b.allocs + b.frees);
		if (flags[f])
			KUNIT_EXPECT_EQ(test, b.mag_hits, 0);
		bs_disown(test, pool);
		while (((struct bs_ctx *)test->priv)->nr_held)
			bs_put_last(test);
		bufpool_destroy(pool);
	}
}

/*
 * fails_exhausted: catches a failure at the cap not counted, or counted
 * under another reason, on each path that can fail so: the lock-free
 * miss (one buffer, magazines), the slow path (no magazines; a bulk
 * request), a notify-free caller that may not wait.
 */
static void bs_fails_exhausted(struct kunit *test)
{
	static const int changed[] = {
		BUFPOOL_STAT_FAILS, BUFPOOL_STAT_FAILS_EXHAUSTED,
		BUFPOOL_STAT_MAG_MISSES, BUFPOOL_STAT_MAG_HITS,
	};
	static const unsigned int flags[] = { 0, BUFPOOL_F_NO_MAGAZINES };
	struct bufpool_buf *bufs[2];
	struct bufpool_stats a, b;
	struct bufpool *pool;
	unsigned int f;

	for (f = 0; f < ARRAY_SIZE(flags); f++) {
		pool = bs_create(test, 4, 4, flags[f]);
		bs_site_b(test, pool, 4);
		a = bs_stats(pool);
		KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_ATOMIC));
		KUNIT_EXPECT_PTR_EQ(test, bufpool_alloc_wait(pool, GFP_NOWAIT,
							     TASK_UNINTERRUPTIBLE, 0),
				    ERR_PTR(-EAGAIN));
		KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk(pool, GFP_ATOMIC, 2, bufs),
				-EAGAIN);
		b = bs_stats(pool);
		KUNIT_EXPECT_EQ(test, b.fails_exhausted - a.fails_exhausted, 3);
		KUNIT_EXPECT_EQ(test, b.fails - a.fails, 3);
		bs_expect_only(test, &a, &b, changed, ARRAY_SIZE(changed));
	}
}

/*
 * fails_timeout, waits, wait_ns_total, wait_ns_max: catches a timed-out
 * wait not counted as a wait, its time not added, the maximum not the
 * longest (a shorter wait after a longer one leaves it), and a timeout
 * counted under another reason. At the cap, reserve only.
 */
static void bs_fails_timeout_and_wait_time(struct kunit *test)
{
	struct bufpool *pool = bs_create(test, 2, 2, 0);
	struct bufpool_stats a, b, c;
	struct bufpool_buf *buf;
	u64 long_ns = 50 * NSEC_PER_MSEC;

	bs_site_b(test, pool, 2);
	a = bs_stats(pool);
	buf = bufpool_alloc_wait(pool, GFP_KERNEL, TASK_UNINTERRUPTIBLE,
				 msecs_to_jiffies(50));
	KUNIT_EXPECT_PTR_EQ(test, buf, ERR_PTR(-ETIMEDOUT));
	b = bs_stats(pool);
	KUNIT_EXPECT_EQ(test, b.waits - a.waits, 1);
	KUNIT_EXPECT_EQ(test, b.fails_timeout - a.fails_timeout, 1);
	KUNIT_EXPECT_EQ(test, b.fails - a.fails, 1);
	KUNIT_EXPECT_EQ(test, b.fails_exhausted, a.fails_exhausted);
	KUNIT_EXPECT_GE(test, b.wait_ns_total - a.wait_ns_total, long_ns);
	KUNIT_EXPECT_GE(test, b.wait_ns_max, long_ns);
	KUNIT_EXPECT_EQ(test, b.waiters, 0);
	/* A shorter wait: the total grows, the maximum stays. */
	buf = bufpool_alloc_wait(pool, GFP_KERNEL, TASK_UNINTERRUPTIBLE, 1);
	KUNIT_EXPECT_PTR_EQ(test, buf, ERR_PTR(-ETIMEDOUT));
	c = bs_stats(pool);
	KUNIT_EXPECT_EQ(test, c.waits - b.waits, 1);
	KUNIT_EXPECT_EQ(test, c.fails_timeout, 2);
	KUNIT_EXPECT_GT(test, c.wait_ns_total, b.wait_ns_total);
	KUNIT_EXPECT_EQ(test, c.wait_ns_max, b.wait_ns_max);
	KUNIT_EXPECT_LE(test, c.wait_ns_max, c.wait_ns_total);
}

/*
 * fails_signal: catches a wait a signal ended counted under another
 * reason, or not at all. At the cap, a killable sleeper gets SIGKILL.
 */
static void bs_fails_signal(struct kunit *test)
{
	struct bufpool *pool = bs_create(test, 1, 1, 0);
	struct bs_worker *w;
	struct bufpool_stats st;

	bs_site_a(test, pool);
	w = bs_start(test, bs_sleeper, pool, TASK_KILLABLE);
	bs_wait_waiters(test, pool, 1);
	send_sig(SIGKILL, w->task, 1);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&w->done, BS_WAIT));
	KUNIT_EXPECT_EQ(test, w->ret, -EINTR);
	st = bs_stats(pool);
	KUNIT_EXPECT_EQ(test, st.fails_signal, 1);
	KUNIT_EXPECT_EQ(test, st.fails, 1);
	KUNIT_EXPECT_EQ(test, st.fails_timeout, 0);
	KUNIT_EXPECT_EQ(test, st.fails_exhausted, 0);
	KUNIT_EXPECT_EQ(test, st.waits, 1);
	KUNIT_EXPECT_EQ(test, st.waiters, 0);
}

/*
 * waiters, waits, wait_ns_max of a served wait: catches a sleeper not
 * counted while it waits, or still counted once served, and a served
 * wait whose time is not measured. With a waiter, then without.
 */
static void bs_waiters(struct kunit *test)
{
	struct bufpool *pool = bs_create(test, 2, 0, 0);
	struct bs_worker *w;
	struct bufpool_stats st;

	bs_site_b(test, pool, 2);
	w = bs_start(test, bs_sleeper, pool, TASK_UNINTERRUPTIBLE);
	bs_wait_waiters(test, pool, 1);
	st = bs_stats(pool);
	KUNIT_EXPECT_EQ(test, st.waits, 1);
	msleep(30);
	bs_put_last(test);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&w->done, BS_WAIT));
	KUNIT_EXPECT_EQ(test, w->ret, 0);
	st = bs_stats(pool);
	KUNIT_EXPECT_EQ(test, st.waiters, 0);
	KUNIT_EXPECT_EQ(test, st.waits, 1);
	KUNIT_EXPECT_EQ(test, st.fails, 0);
	KUNIT_EXPECT_GE(test, st.wait_ns_max, 20 * NSEC_PER_MSEC);
	KUNIT_EXPECT_EQ(test, st.wait_ns_max, st.wait_ns_total);
}

/*
 * fails_dying: catches a failure because the pool is being destroyed
 * counted under another reason (exhausted, for a caller that could not
 * wait) or not at all: a sleeper woken by destroy, and calls made while
 * the destroy waits for the buffer the case holds.
 */
static void bs_fails_dying(struct kunit *test)
{
	struct bufpool *pool = bs_create(test, 1, 1, 0);
	struct bs_worker *s, *d;
	struct bufpool_stats st;
	int i;

	bs_site_a(test, pool);
	s = bs_start(test, bs_sleeper, pool, TASK_UNINTERRUPTIBLE);
	bs_wait_waiters(test, pool, 1);
	bs_disown(test, pool);
	d = bs_start(test, bs_destroyer, pool, 0);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&s->done, BS_WAIT));
	KUNIT_EXPECT_EQ(test, s->ret, -ESHUTDOWN);
	for (i = 0; i < 5000 && !READ_ONCE(pool->dying); i++)
		usleep_range(500, 1000);
	/* The destroy waits for the case's buffer: the pool stays. */
	KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_ATOMIC));
	KUNIT_EXPECT_PTR_EQ(test, bufpool_alloc_wait(pool, GFP_KERNEL,
						     TASK_UNINTERRUPTIBLE, HZ),
			    ERR_PTR(-ESHUTDOWN));
	st = bs_stats(pool);
	KUNIT_EXPECT_EQ(test, st.fails_dying, 3);
	KUNIT_EXPECT_EQ(test, st.fails, 3);
	KUNIT_EXPECT_EQ(test, st.fails_exhausted, 0);
	bs_put_last(test);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&d->done, BS_WAIT));
}

/*
 * grow_fails, fails_nomem: catches growth that failed not counted, and
 * a caller failed by it counted as exhausted (the pool was below its
 * cap: memory, not the cap, said no). Below the cap, no reserve, with
 * and without magazines; every allocation bufpool makes fails.
 */
static void bs_fails_nomem(struct kunit *test)
{
#ifdef CONFIG_FAULT_INJECTION
	static const unsigned int flags[] = { 0, BUFPOOL_F_NO_MAGAZINES };
	struct bufpool_stats st;
	struct bufpool *pool;
	unsigned int f;

	for (f = 0; f < ARRAY_SIZE(flags); f++) {
		pool = bs_create(test, 8, 0, flags[f]);
		bufpool_fault_attr.verbose = 0;
		bufpool_fault_attr.interval = 1;
		bufpool_fault_attr.probability = 100;
		atomic_set(&bufpool_fault_attr.space, 0);
		atomic_set(&bufpool_fault_attr.times, -1);
		KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_ATOMIC));
		bs_fault_off();
		st = bs_stats(pool);
		KUNIT_EXPECT_EQ(test, st.grow_fails, 1);
		KUNIT_EXPECT_EQ(test, st.fails_nomem, 1);
		KUNIT_EXPECT_EQ(test, st.fails, 1);
		KUNIT_EXPECT_EQ(test, st.fails_exhausted, 0);
		KUNIT_EXPECT_EQ(test, st.backed, 0);
		/* Memory back: it grows, and nothing more fails. */
		bs_site_a(test, pool);
		st = bs_stats(pool);
		KUNIT_EXPECT_EQ(test, st.grow_fails, 1);
		KUNIT_EXPECT_EQ(test, st.backed, 1);
	}
#else
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
#endif
}

/*
 * high_watermark: catches a watermark that follows what is in use now
 * instead of the peak, or adds up hand-outs: 5 out, all back, 2 out
 * leaves it at 5. Without magazines, where it is exact.
 */
static void bs_high_watermark(struct kunit *test)
{
	struct bufpool *pool = bs_create(test, 8, 2, BUFPOOL_F_NO_MAGAZINES);
	int i;

	KUNIT_EXPECT_EQ(test, bs_stats(pool).high_watermark, 0);
	bs_site_b(test, pool, 5);
	KUNIT_EXPECT_EQ(test, bs_stats(pool).high_watermark, 5);
	for (i = 0; i < 5; i++)
		bs_put_last(test);
	bs_site_b(test, pool, 2);
	KUNIT_EXPECT_EQ(test, bs_stats(pool).high_watermark, 5);
	bs_site_b(test, pool, 6);
	KUNIT_EXPECT_EQ(test, bs_stats(pool).high_watermark, 8);
}

/* Suite: who holds the buffers */

static struct bufpool_holder *bs_site(struct kunit *test,
				      struct bufpool_holders *h,
				      const char *fn)
{
	char name[64];
	unsigned int i;

	for (i = 0; i < h->nr; i++) {
		/* "bs_site_a [bufpool_stats_kunit]" */
		snprintf(name, sizeof(name), "%ps", (void *)h->site[i].ip);
		strreplace(name, ' ', 0);
		if (!strcmp(name, fn))
			return &h->site[i];
	}
	return NULL;
}

/*
 * Catches a hand-out that records no holder, or the wrong one (the
 * inlined or out-of-line helper instead of the API's caller: a hit, a
 * refill, the slow path and growth, a bulk call), and counts that do not
 * go down as buffers come home. Sites sorted by count.
 */
static void bs_holders_sites(struct kunit *test)
{
	static const unsigned int flags[] = { 0, BUFPOOL_F_NO_MAGAZINES };
	struct bufpool_holders *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bufpool_holder *a, *b;
	struct bufpool *pool;
	unsigned int f;

	KUNIT_ASSERT_NOT_NULL(test, h);
	for (f = 0; f < ARRAY_SIZE(flags); f++) {
		pool = bs_create(test, 16, 2, flags[f]);
		bufpool_depot_holders(pool, h);
		KUNIT_EXPECT_EQ(test, h->nr, 0);
		KUNIT_EXPECT_EQ(test, h->held, 0);
		bs_site_a(test, pool);
		bs_site_b(test, pool, 3);
		bs_site_a(test, pool);
		bs_site_b(test, pool, 2);
		bufpool_depot_holders(pool, h);
		KUNIT_EXPECT_EQ(test, h->held, 7);
		KUNIT_EXPECT_EQ(test, h->nr, 2);
		a = bs_site(test, h, "bs_site_a");
		b = bs_site(test, h, "bs_site_b");
		KUNIT_ASSERT_NOT_NULL_MSG(test, a, "bs_site_a holds nothing");
		KUNIT_ASSERT_NOT_NULL_MSG(test, b, "bs_site_b holds nothing");
		KUNIT_EXPECT_EQ(test, a->count, 2);
		KUNIT_EXPECT_EQ(test, b->count, 5);
		KUNIT_EXPECT_PTR_EQ(test, b, &h->site[0]);
		/* The last two, bs_site_b's, come home. */
		bs_put_last(test);
		bs_put_last(test);
		bufpool_depot_holders(pool, h);
		KUNIT_EXPECT_EQ(test, h->held, 5);
		b = bs_site(test, h, "bs_site_b");
		KUNIT_ASSERT_NOT_NULL(test, b);
		KUNIT_EXPECT_EQ(test, b->count, 3);
		bs_disown(test, pool);
		while (((struct bs_ctx *)test->priv)->nr_held)
			bs_put_last(test);
		bufpool_depot_holders(pool, h);
		KUNIT_EXPECT_EQ(test, h->held, 0);
		bufpool_destroy(pool);
	}
}

/*
 * Catches a walk that stops after its first hold of the pool lock (32
 * buffers) or counts a buffer twice across holds: 100 buffers out, of a
 * pool of 128, from one site, and the idle rest not counted.
 */
static void bs_holders_many(struct kunit *test)
{
	struct bufpool *pool = bs_create(test, 128, 128, 0);
	struct bufpool_holders *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bufpool_holder *b;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, h);
	for (i = 0; i < 100 / 4; i++)
		bs_site_b(test, pool, 4);
	bufpool_depot_holders(pool, h);
	KUNIT_EXPECT_EQ(test, h->held, 100);
	KUNIT_EXPECT_EQ(test, h->nr, 1);
	b = bs_site(test, h, "bs_site_b");
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, b->count, 100);
}

static struct bufpool_notify *bs_nb;
static struct bufpool_buf *bs_nb_bufs[2];
static DECLARE_COMPLETION(bs_nb_done);

static void bs_nb_fn(struct bufpool_notify *nb, int err)
{
	complete(&bs_nb_done);
}

static noinline int bs_site_notify(struct bufpool *pool)
{
	int err = bufpool_alloc_notify(pool, 2, bs_nb_bufs, bs_nb);

	return err == -EINPROGRESS ? 1 : err;
}

/*
 * Catches buffers handed to a notify request's callback recorded as held
 * by the irq_work that ran it rather than by the caller that asked.
 */
static void bs_holders_notify(struct kunit *test)
{
	struct bufpool *pool = bs_create(test, 2, 2, 0);
	struct bufpool_holders *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bufpool_holder *n;

	bs_nb = kunit_kzalloc(test, sizeof(*bs_nb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_NOT_NULL(test, bs_nb);
	reinit_completion(&bs_nb_done);
	bufpool_notify_init(bs_nb, bs_nb_fn);
	bs_site_a(test, pool);
	KUNIT_ASSERT_EQ(test, bs_site_notify(pool), 1);
	KUNIT_EXPECT_EQ(test, bs_stats(pool).waiters, 1);
	bs_put_last(test);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&bs_nb_done, BS_WAIT));
	bufpool_depot_holders(pool, h);
	n = bs_site(test, h, "bs_site_notify");
	KUNIT_EXPECT_NOT_NULL_MSG(test, n, "the notify caller holds nothing");
	if (n)
		KUNIT_EXPECT_EQ(test, n->count, 2);
	bs_keep(test, bs_nb_bufs[0]);
	bs_keep(test, bs_nb_bufs[1]);
}

/*
 * Catches the buffers of a notify request served by the slow path, at
 * once or through its callback, counted as magazine hits (mag_hits is
 * @allocs + @frees - @mag_misses): none of them is, and a pool without
 * magazines has none at all.
 */
static void bs_notify_misses(struct kunit *test)
{
	static const unsigned int flags[] = { 0, BUFPOOL_F_NO_MAGAZINES };
	struct bufpool_stats a, b;
	struct bufpool *pool;
	unsigned int f;

	bs_nb = kunit_kzalloc(test, sizeof(*bs_nb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bs_nb);
	for (f = 0; f < ARRAY_SIZE(flags); f++) {
		/* Two per possible CPU or more: magazines, but for the flag. */
		pool = bs_create(test, max(8U, 2 * num_possible_cpus()), 0,
				 flags[f]);
		bufpool_notify_init(bs_nb, bs_nb_fn);
		/* Nothing idle: the slow path grows the pool, at once. */
		a = bs_stats(pool);
		KUNIT_ASSERT_EQ(test, bs_site_notify(pool), 0);
		b = bs_stats(pool);
		KUNIT_EXPECT_EQ(test, b.allocs - a.allocs, 2);
		KUNIT_EXPECT_EQ(test, b.mag_hits, a.mag_hits);
		bs_keep(test, bs_nb_bufs[0]);
		bs_keep(test, bs_nb_bufs[1]);
		while (bs_stats(pool).in_use < max(8U, 2 * num_possible_cpus()))
			bs_keep(test, bufpool_alloc(pool, GFP_KERNEL));
		/* At the cap: queued, served by two puts, through its callback. */
		reinit_completion(&bs_nb_done);
		a = bs_stats(pool);
		KUNIT_ASSERT_EQ(test, bs_site_notify(pool), 1);
		bs_put_last(test);
		bs_put_last(test);
		KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&bs_nb_done, BS_WAIT));
		b = bs_stats(pool);
		KUNIT_EXPECT_EQ(test, b.allocs - a.allocs, 2);
		KUNIT_EXPECT_EQ(test, b.frees - a.frees, 2);
		KUNIT_EXPECT_EQ(test, b.mag_hits, a.mag_hits);
		if (flags[f])
			KUNIT_EXPECT_EQ(test, b.mag_hits, 0);
		bufpool_notify_cancel(bs_nb);
		bs_keep(test, bs_nb_bufs[0]);
		bs_keep(test, bs_nb_bufs[1]);
	}
}

/*
 * Catches a holders file that does not name the call sites, miscounts
 * them, or ages them wrong: a line per site, most first, with its count,
 * the age of its oldest buffer and its symbol.
 */
static void bs_holders_file(struct kunit *test)
{
	struct bufpool *pool = bs_create(test, 16, 0, 0);
	char *text = kunit_kzalloc(test, 4096, GFP_KERNEL), *a, *b;
	unsigned long count, ms;
	int i, n;

	KUNIT_ASSERT_NOT_NULL(test, text);
	bs_site_a(test, pool);
	msleep(200);
	for (i = 0; i < 3; i++)
		bs_site_b(test, pool, 1);
	bs_show(test, pool, bufpool_debugfs_holders_show, text, 4096);
	kunit_info(test, "holders:\n%s", text);
	KUNIT_EXPECT_NOT_NULL(test, strstr(text, "call site"));
	b = strstr(text, "bs_site_b+");
	a = strstr(text, "bs_site_a+");
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	/* Most first. */
	KUNIT_EXPECT_LT(test, b - text, a - text);
	/* "count oldest_ms site": the line of bs_site_a. */
	while (a > text && a[-1] != '\n')
		a--;
	n = sscanf(a, "%lu %lu", &count, &ms);
	KUNIT_ASSERT_EQ(test, n, 2);
	KUNIT_EXPECT_EQ(test, count, 1);
	KUNIT_EXPECT_GE(test, ms, 200);
	KUNIT_EXPECT_LT(test, ms, 100000);
	while (b > text && b[-1] != '\n')
		b--;
	n = sscanf(b, "%lu %lu", &count, &ms);
	KUNIT_ASSERT_EQ(test, n, 2);
	KUNIT_EXPECT_EQ(test, count, 3);
	KUNIT_EXPECT_LT(test, ms, 200);
	/* After the puts, it goes down. */
	bs_put_last(test);
	bs_put_last(test);
	bs_show(test, pool, bufpool_debugfs_holders_show, text, 4096);
	b = strstr(text, "bs_site_b+");
	KUNIT_ASSERT_NOT_NULL(test, b);
	while (b > text && b[-1] != '\n')
		b--;
	n = sscanf(b, "%lu %lu", &count, &ms);
	KUNIT_ASSERT_EQ(test, n, 2);
	KUNIT_EXPECT_EQ(test, count, 1);
	bs_put_last(test);
	bs_put_last(test);
	bs_show(test, pool, bufpool_debugfs_holders_show, text, 4096);
	KUNIT_EXPECT_NULL(test, strstr(text, "bs_site_"));
}

static bool bs_logged(const char *what)
{
	unsigned long flags;
	bool found = false;
	unsigned int i;

	raw_spin_lock_irqsave(&bp_log.lock, flags);
	for (i = 0; i < bp_log.n && !found; i++)
		found = strstr(bp_log.line[i], what);
	raw_spin_unlock_irqrestore(&bp_log.lock, flags);
	return found;
}

/*
 * Catches a destroy that says how many buffers it waits for but not who
 * holds them: its warning names each call site with its count.
 */
static void bs_destroy_names_holders(struct kunit *test)
{
	struct bufpool *pool = bs_create(test, 8, 0, 0);
	struct bs_worker *d;

	bs_site_a(test, pool);
	bs_site_b(test, pool, 2);
	bs_disown(test, pool);
	bp_log_reset();
	d = bs_start(test, bs_destroyer, pool, 0);
	/* The first warning comes after BUFPOOL_DESTROY_WARN. */
	KUNIT_EXPECT_FALSE(test, wait_for_completion_timeout(&d->done,
							     BUFPOOL_DESTROY_WARN + HZ));
	KUNIT_EXPECT_TRUE(test, bs_logged("destroy waits for 3 buffers still in use"));
	KUNIT_EXPECT_TRUE_MSG(test, bs_logged("2 held by bs_site_b+"),
			      "destroy does not name bs_site_b");
	KUNIT_EXPECT_TRUE_MSG(test, bs_logged("1 held by bs_site_a+"),
			      "destroy does not name bs_site_a");
	bs_put_last(test);
	bs_put_last(test);
	bs_put_last(test);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&d->done, BS_WAIT));
}

static struct kunit_case bs_counter_cases[] = {
	KUNIT_CASE(bs_views_agree),
	KUNIT_CASE(bs_debugfs_stats),
	KUNIT_CASE(bs_allocs_frees),
	KUNIT_CASE(bs_fails_exhausted),
	KUNIT_CASE(bs_fails_timeout_and_wait_time),
	KUNIT_CASE(bs_fails_signal),
	KUNIT_CASE(bs_waiters),
	KUNIT_CASE(bs_fails_dying),
	KUNIT_CASE(bs_fails_nomem),
	KUNIT_CASE(bs_high_watermark),
	KUNIT_CASE(bs_notify_misses),
	{}
};

static struct kunit_suite bs_counter_suite = {
	.name = "bufpool_stats",
	.init = bs_init,
	.exit = bs_exit,
	.test_cases = bs_counter_cases,
};

static struct kunit_case bs_holder_cases[] = {
	KUNIT_CASE(bs_holders_sites),
	KUNIT_CASE(bs_holders_many),
	KUNIT_CASE(bs_holders_notify),
	KUNIT_CASE(bs_holders_file),
	KUNIT_CASE_SLOW(bs_destroy_names_holders),
	{}
};

static struct kunit_suite bs_holder_suite = {
	.name = "bufpool_holders",
	.init = bs_init,
	.exit = bs_exit,
	.suite_init = bp_log_start,
	.suite_exit = bp_log_stop,
	.test_cases = bs_holder_cases,
};

kunit_test_suites(&bs_counter_suite, &bs_holder_suite);

MODULE_DESCRIPTION("KUnit tests for bufpool's counters, ethtool stats and holders");
MODULE_LICENSE("GPL");
