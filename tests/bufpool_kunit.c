// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for bufpool: one case per rule of the API, run in the QEMU
 * debug kernel (KASAN, lockdep, kmemleak) by `make check`.
 *
 * Cases that need a second party use worker kthreads (struct bp_worker).
 * "Is it asleep in the pool?" is asked through the pool's own waiters
 * counter, never by sleeping for a while and hoping.
 *
 * Built only where the kernel has KUnit (Kbuild), which among the test
 * kernels is the 6.12 debug ones: kunit_add_action() needs 6.4, and the
 * console probe a kernel that exports the console tracepoint.
 */
#include <kunit/test.h>
#include <linux/bufpool.h>
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/fault-inject.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/sched/signal.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/swait.h>

#include "bufpool_internal.h"
#include "bufpool_misuse_probe.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define BP_WAIT_MS	5000	/* generous: TCG with KASAN is slow */

/*
 * What a case owns, so that one that aborts on a failed assertion still
 * leaves nothing behind for the cases after it (bp_exit()): its pools,
 * and its workers, which live on the heap, not on the case's stack, and
 * are freed by whichever of the worker and the case lets go last.
 */
struct bp_case {
	struct list_head pools;		/* struct bp_owned */
	struct list_head workers;	/* struct bp_worker */
	struct hrtimer *timers[2];	/* on the heap too */
	unsigned int nr_timers;
};

struct bp_owned {
	struct list_head node;
	struct bufpool *pool;
};

static struct bp_case *bp_case(struct kunit *test)
{
	return test->priv;
}

static struct bufpool_stats bp_stats(struct bufpool *pool)
{
	struct bufpool_stats st;

	bufpool_get_stats(pool, &st);
	return st;
}

/* @pool is the case's until bp_destroy() or bp_disown(). */
static void bp_own(struct kunit *test, struct bufpool *pool)
{
	struct bp_owned *o = kunit_kzalloc(test, sizeof(*o), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, o);
	o->pool = pool;
	list_add(&o->node, &bp_case(test)->pools);
}

static bool bp_disown(struct kunit *test, struct bufpool *pool)
{
	struct bp_owned *o;

	list_for_each_entry(o, &bp_case(test)->pools, node) {
		if (o->pool == pool) {
			list_del(&o->node);
			return true;
		}
	}
	return false;
}

/*
 * The case is done with @pool, which it owns: destroy it. Not if buffers
 * are still out, which destroy would wait for forever: that is a
 * failure, and the pool is left to bp_exit().
 */
static void bp_destroy(struct kunit *test, struct bufpool *pool)
{
	unsigned int out = bp_stats(pool).in_use;

	KUNIT_EXPECT_EQ_MSG(test, out, 0, "pool '%s' still has buffers out",
			    bufpool_name(pool));
	if (out)
		return;
	KUNIT_EXPECT_TRUE(test, bp_disown(test, pool));
	bufpool_destroy(pool);
}

static struct bufpool *bp_create(struct kunit *test, const char *name,
				 size_t size, unsigned int max,
				 unsigned int min, unsigned int flags)
{
	struct bufpool_params p = {
		.name = name, .buf_size = size, .max_bufs = max,
		.min_bufs = min, .flags = flags,
	};
	struct bufpool *pool = bufpool_create(&p);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	bp_own(test, pool);
	return pool;
}

/*
 * A cap at which a pool of small buffers gets magazines of @slots or
 * more on this machine (two buffers per possible CPU at least), so that
 * figures follow the CPU count.
 */
static unsigned int bp_cap_for_mag(unsigned int slots)
{
	return max(slots, 2U) * num_possible_cpus();
}

/* Cases that pin workers to CPUs 0 and 1, with a cap of @cap. */
static void bp_need_cpus(struct kunit *test, unsigned int cap)
{
	if (num_online_cpus() < 2 || !cpu_online(1))
		kunit_skip(test, "needs CPUs 0 and 1 online");
	if (cap > BUFPOOL_MAX_BUFS)
		kunit_skip(test, "magazines of 8 need a cap of %u with %u CPUs",
			   cap, num_possible_cpus());
}

/* Wait until @n callers sleep in @pool; false after BP_WAIT_MS. */
static bool bp_wait_waiters(struct bufpool *pool, unsigned int n)
{
	int i;

	for (i = 0; i < BP_WAIT_MS; i++) {
		if (bp_stats(pool).waiters >= n)
			return true;
		usleep_range(1000, 2000);
	}
	return false;
}

/* Wait until @pool has swept its magazines @n times; false after BP_WAIT_MS. */
static bool bp_wait_sweeps(struct bufpool *pool, unsigned int n)
{
	int i;

	for (i = 0; i < BP_WAIT_MS; i++) {
		if (bp_stats(pool).sweeps >= n)
			return true;
		usleep_range(1000, 2000);
	}
	return false;
}

/* A second party: a kthread that runs @fn once. */
struct bp_worker {
	struct bufpool *pool;
	int (*fn)(struct bp_worker *w);
	struct task_struct *task;
	struct completion done;
	int ret;
	int id;
	unsigned int n;
	unsigned int state;
	long timeout;
	long took;
	struct bufpool_buf *bufs[8];
	void *priv;
	/* The case's and, while it runs, the thread's. */
	refcount_t ref;
	struct list_head node;		/* in struct bp_case's list */
};

static void bp_worker_put(struct bp_worker *w)
{
	if (!refcount_dec_and_test(&w->ref))
		return;
	if (w->task)
		put_task_struct(w->task);
	kfree(w);
}

/* A worker like @tmpl, the case's until its end. */
static struct bp_worker *bp_new(struct kunit *test, const struct bp_worker *tmpl)
{
	struct bp_worker *w = kmemdup(tmpl, sizeof(*w), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, w);
	w->task = NULL;
	init_completion(&w->done);
	refcount_set(&w->ref, 1);
	list_add_tail(&w->node, &bp_case(test)->workers);
	return w;
}

static int bp_worker_thread(void *arg)
{
	struct bp_worker *w = arg;

	w->ret = w->fn(w);
	/* All: the case and its cleanup may each wait for it. */
	complete_all(&w->done);
	bp_worker_put(w);
	return 0;
}

static void bp_start(struct kunit *test, struct bp_worker *w, int cpu)
{
	struct task_struct *task;

	reinit_completion(&w->done);
	refcount_inc(&w->ref);
	task = kthread_create(bp_worker_thread, w, "bp_worker/%d", w->id);
	if (IS_ERR(task))
		refcount_dec(&w->ref);
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	if (w->task)
		put_task_struct(w->task);
	w->task = get_task_struct(task);
	if (cpu >= 0)
		kthread_bind(task, cpu);
	wake_up_process(task);
}

/* Wait for @w to finish; true if it did. */
static bool bp_join(struct bp_worker *w)
{
	return wait_for_completion_timeout(&w->done, msecs_to_jiffies(BP_WAIT_MS));
}

static bool bp_finished(struct bp_worker *w)
{
	return completion_done(&w->done);
}

/* Set up @t, which the case's cleanup cancels before anything else. */
static void bp_timer_init(struct kunit *test, struct hrtimer *t,
			  enum hrtimer_restart (*fn)(struct hrtimer *t),
			  enum hrtimer_mode mode)
{
	struct bp_case *c = bp_case(test);

	KUNIT_ASSERT_LT(test, c->nr_timers, ARRAY_SIZE(c->timers));
	hrtimer_init(t, CLOCK_MONOTONIC, mode);
	t->function = fn;
	c->timers[c->nr_timers++] = t;
}

/* Run @n workers of @fn on @pool, spread over the CPUs; all must return 0. */
static void bp_run_all(struct kunit *test, struct bufpool *pool,
		       int (*fn)(struct bp_worker *w), int n, unsigned int bufs)
{
	struct bp_worker **w = kunit_kcalloc(test, n, sizeof(*w), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, w);
	for (i = 0; i < n; i++) {
		w[i] = bp_new(test, &(struct bp_worker){
			.pool = pool, .fn = fn, .id = i, .n = bufs,
		});
		bp_start(test, w[i], i % num_online_cpus());
	}
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&w[i]->done, 120 * HZ));
		KUNIT_EXPECT_EQ(test, w[i]->ret, 0);
	}
}

#ifdef CONFIG_FAULT_INJECTION
static void bp_fault_nth(int nth)
{
	bufpool_fault_attr.verbose = 0;
	bufpool_fault_attr.interval = 1;
	bufpool_fault_attr.probability = 100;
	atomic_set(&bufpool_fault_attr.space, nth);
	atomic_set(&bufpool_fault_attr.times, nth ? 1 : -1);
}

static void bp_fault_off(void)
{
	bufpool_fault_attr.probability = 0;
	atomic_set(&bufpool_fault_attr.times, 1);
	atomic_set(&bufpool_fault_attr.space, 0);
}
#else
static void bp_fault_nth(int nth)
{
}

static void bp_fault_off(void)
{
}
#endif

static int bp_init(struct kunit *test)
{
	struct bp_case *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	INIT_LIST_HEAD(&c->pools);
	INIT_LIST_HEAD(&c->workers);
	test->priv = c;
	bp_log_reset();
	return 0;
}

/* Wait for every worker of the case; true if none is left running. */
static bool bp_join_all(struct bp_case *c)
{
	struct bp_worker *w, *tmp;
	bool all = true;

	list_for_each_entry_safe(w, tmp, &c->workers, node) {
		if (w->task && !bp_join(w)) {
			all = false;
			continue;
		}
		list_del(&w->node);
		bp_worker_put(w);
	}
	return all;
}

/*
 * After every case, however it ended: no timer armed, no fault
 * injection and no test hook for the next one, no worker left running, no pool left behind.
 * Workers are waited for first, since they use the pools; one still
 * asleep in a pool is woken by stopping the pool. A pool whose buffers
 * the aborted case still held cannot be freed: it is stopped and left to
 * bufpool's unload, which names it (and the run fails anyway).
 */
static void bp_exit(struct kunit *test)
{
	struct bp_case *c = bp_case(test);
	struct bp_owned *o;
	unsigned int i;
	bool stuck;

	for (i = 0; i < c->nr_timers; i++)
		hrtimer_cancel(c->timers[i]);
	bufpool_set_test_hook(NULL);
	bp_fault_off();
	stuck = !bp_join_all(c);
	list_for_each_entry(o, &c->pools, node) {
		unsigned int out = bp_stats(o->pool).in_use;

		if (!stuck && !out) {
			bufpool_destroy(o->pool);
			continue;
		}
		if (out)
			kunit_err(test, "pool '%s': %u buffers still out, stopped and left behind\n",
				  bufpool_name(o->pool), out);
		bufpool_destroy_async(o->pool, NULL, NULL);
	}
	if (stuck && !bp_join_all(c))
		kunit_err(test, "a worker would not finish: left running\n");
	/* Whatever still runs holds its own reference. */
	while (!list_empty(&c->workers)) {
		struct bp_worker *w = list_first_entry(&c->workers,
						       struct bp_worker, node);

		list_del(&w->node);
		bp_worker_put(w);
	}
}

static int bp_alloc_one(struct bp_worker *w)
{
	struct bufpool_buf *buf;

	if (w->state) {
		if (w->state == TASK_INTERRUPTIBLE)
			allow_signal(SIGUSR1);
		if (w->state == TASK_KILLABLE)
			allow_signal(SIGKILL);
		buf = bufpool_alloc_wait(w->pool, GFP_KERNEL, w->state, w->timeout);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
	} else {
		buf = bufpool_alloc(w->pool, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
	}
	w->bufs[0] = buf;
	return 0;
}

/* bp_alloc_one(), timed in jiffies. */
static int bp_alloc_timed(struct bp_worker *w)
{
	unsigned long start = jiffies;
	int ret = bp_alloc_one(w);

	w->took = jiffies - start;
	return ret;
}

static int bp_alloc_bulk(struct bp_worker *w)
{
	return bufpool_alloc_bulk_wait(w->pool, GFP_KERNEL, w->n, w->bufs,
				       TASK_UNINTERRUPTIBLE, w->timeout);
}

/*
 * A new pool has its reserve, idle, and its name. Catches a reserve not
 * filled at creation.
 */
static void bp_create_destroy(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-smoke", 100, 8, 3, 0);
	struct bufpool_stats st = bp_stats(pool);

	KUNIT_EXPECT_STREQ(test, bufpool_name(pool), "kunit-smoke");
	KUNIT_EXPECT_EQ(test, st.backed, 3);
	KUNIT_EXPECT_EQ(test, st.free, 3);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	bp_destroy(test, pool);
}

/*
 * Each invalid field: -EINVAL and one report that names the field (and
 * the pool, once it has a name). Catches a field no longer checked.
 */
struct bp_bad_param {
	const char *what;
	struct bufpool_params p;
	const char *report;
};

static const struct bp_bad_param bp_bad_params[] = {
	{ "NULL name", { NULL, 64, 8, 0, 0, 0 }, "name is NULL" },
	{ "empty name", { "", 64, 8, 0, 0, 0 }, "name is empty" },
	{ "name too long", { "kunit-0123456789012345678901234567890", 64, 8, 0, 0, 0 },
	  "name longer than 31" },
	{ "name with slash", { "kunit/x", 64, 8, 0, 0, 0 }, "'kunit/x': name has a '/'" },
	{ "name with space", { "kunit x", 64, 8, 0, 0, 0 }, "'kunit x': name has a '/'" },
	{ "reserved name", { "pools", 64, 8, 0, 0, 0 }, "'pools': name is reserved" },
	{ "buf_size 0", { "kunit-bad", 0, 8, 0, 0, 0 }, "'kunit-bad': buf_size 0 " },
	{ "buf_size too big", { "kunit-bad", BUFPOOL_MAX_BUF_SIZE + 1, 8, 0, 0, 0 },
	  "'kunit-bad': buf_size 16385 " },
	{ "max_bufs 0", { "kunit-bad", 64, 0, 0, 0, 0 }, "'kunit-bad': max_bufs 0 " },
	{ "max_bufs too big", { "kunit-bad", 64, BUFPOOL_MAX_BUFS + 1, 0, 0, 0 },
	  "'kunit-bad': max_bufs 65537 " },
	{ "min_bufs above max", { "kunit-bad", 64, 8, 9, 0, 0 },
	  "'kunit-bad': min_bufs 9 is above" },
	{ "align not a power of two", { "kunit-bad", 64, 8, 0, 48, 0 },
	  "'kunit-bad': align 48 " },
	{ "align above PAGE_SIZE", { "kunit-bad", 64, 8, 0, 2 * PAGE_SIZE, 0 },
	  "'kunit-bad': align 8192 " },
	{ "unknown flag", { "kunit-bad", 64, 8, 0, 0, 0x80000000 },
	  "'kunit-bad': unknown flags 0x80000000" },
};

static void bp_bad_param_desc(const struct bp_bad_param *b, char *desc)
{
	strscpy(desc, b->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bp_bad, bp_bad_params, bp_bad_param_desc);

static void bp_invalid_params(struct kunit *test)
{
	const struct bp_bad_param *b = test->param_value;

	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_create(&b->p)), -EINVAL);
	bp_expect_reports(test, 1, "bufpool", NULL);
	bp_expect_reports(test, 1, b->report, NULL);
}

/*
 * NULL params: -EINVAL and one report. Catches a dereference of NULL.
 */
static void bp_null_params(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_create(NULL)), -EINVAL);
	bp_expect_reports(test, 1, "bufpool_create: params is NULL", NULL);
}

/*
 * A live pool's name is refused, and free again once it is destroyed.
 * Catches two pools (and slab caches, debugfs directories) of one name.
 */
static void bp_duplicate_name(struct kunit *test)
{
	struct bufpool_params p = { .name = "kunit-dup", .buf_size = 32, .max_bufs = 4 };
	struct bufpool *a = bp_create(test, "kunit-dup", 32, 4, 0, 0);

	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_create(&p)), -EEXIST);
	bp_expect_reports(test, 1, "'kunit-dup': a pool of that name exists", NULL);
	bp_destroy(test, a);
	/* The name, and its slab cache's name, are free again. */
	a = bufpool_create(&p);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	bp_own(test, a);
	bp_destroy(test, a);
}

static void bp_need_faults(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_FAULT_INJECTION))
		kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}

/*
 * Races made certain: a case sets the test hook to one of its own
 * functions, which holds a chosen caller at a test point (see
 * bufpool_internal.h) while another party does what the race needs. The
 * hook is cleared when the case ends, however it ends.
 */
static void bp_hook_off(void *unused)
{
	bufpool_set_test_hook(NULL);
}

static void bp_hook_on(struct kunit *test,
		       void (*hook)(enum bufpool_test_point tp))
{
	bufpool_set_test_hook(hook);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, bp_hook_off, NULL), 0);
}

/*
 * Hold one caller at BUFPOOL_TP_GROW: its slot is reserved and the pool
 * lock dropped. It tells the case, waits for the go, and then its
 * allocation fails (the fault point fails once, so the next growth works).
 */
struct bp_grow_hold {
	struct task_struct *task;	/* the caller to hold; NULL once held */
	struct completion growing;
	struct completion go;
};

static struct bp_grow_hold *bp_grow_hold;

static void bp_grow_hold_hook(enum bufpool_test_point tp)
{
	struct bp_grow_hold *g = bp_grow_hold;

	if (tp != BUFPOOL_TP_GROW || !in_task() || current != READ_ONCE(g->task))
		return;
	WRITE_ONCE(g->task, NULL);
	complete(&g->growing);
	wait_for_completion_timeout(&g->go, msecs_to_jiffies(BP_WAIT_MS));
	bp_fault_nth(1);
}

static void bp_grow_hold_on(struct kunit *test, struct bp_grow_hold *g)
{
	init_completion(&g->growing);
	init_completion(&g->go);
	bp_grow_hold = g;
	bp_hook_on(test, bp_grow_hold_hook);
}

/* The held grower: w->priv is its struct bp_grow_hold. */
static int bp_alloc_held(struct bp_worker *w)
{
	struct bp_grow_hold *g = w->priv;

	WRITE_ONCE(g->task, current);
	return bp_alloc_one(w);
}

/*
 * Fail each allocation bufpool_create() makes, one at a time: each must
 * give -ENOMEM and leave nothing behind (kmemleak and the reuse of the
 * name check that), until the create with no failure succeeds.
 */
static void bp_create_fault_each_allocation(struct kunit *test)
{
	struct bufpool_params p = {
		.name = "kunit-fault", .buf_size = 200, .max_bufs = 64, .min_bufs = 3,
	};
	struct bufpool *pool;
	int nth, failed = 0;

	bp_need_faults(test);
	for (nth = 1; nth < 50; nth++) {
		bp_fault_nth(nth);
		pool = bufpool_create(&p);
		bp_fault_off();
		if (!IS_ERR(pool))
			break;
		KUNIT_EXPECT_EQ(test, PTR_ERR(pool), -ENOMEM);
		failed++;
	}
	KUNIT_ASSERT_FALSE(test, IS_ERR(pool));
	bp_own(test, pool);
	/* pool, name, slab name, cache, per-CPU, 3 buffers, shrinker */
	KUNIT_EXPECT_GE(test, failed, 9);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).backed, 3);
	bp_destroy(test, pool);
}

/*
 * Each invalid argument: its error code and one report naming the pool
 * (or the caller, where there is no pool); nothing at all for NULL where
 * NULL means "nothing" (put, destroy); and the pool untouched. Catches a
 * check that was dropped, or one that fires twice or for the wrong call.
 */
static void bp_bad_calls(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-bad-calls", 64, 4, 0, 0);
	struct bufpool_buf *bufs[5];
	struct bufpool_stats st;

	KUNIT_EXPECT_NULL(test, bufpool_alloc(NULL, GFP_KERNEL));
	bp_expect_report_from(test, 1, "bufpool_alloc", __func__,
			      "NULL is not a pool");
	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_alloc_wait(ERR_PTR(-ENOMEM), GFP_KERNEL,
							 TASK_INTERRUPTIBLE, 1)), -EINVAL);
	bp_expect_report_from(test, 1, "bufpool_alloc_wait", __func__,
			      "an ERR_PTR is not a pool");
	KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 0, bufs), -EINVAL);
	bp_expect_reports(test, 1, "'kunit-bad-calls': bulk request of 0 buffers", NULL);
	/* More than the cap could never be satisfied: refused, not hung. */
	KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 5, bufs), -EINVAL);
	bp_expect_reports(test, 1, "'kunit-bad-calls': bulk request of 5 buffers", "1..4");
	KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 2, NULL), -EINVAL);
	bp_expect_reports(test, 1, "'kunit-bad-calls': bulk request into a NULL array", NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_alloc_wait(pool, GFP_KERNEL, TASK_RUNNING, 1)),
			-EINVAL);
	bp_expect_reports(test, 1, "'kunit-bad-calls': invalid task state 0", NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_alloc_wait(pool, GFP_KERNEL,
							 TASK_INTERRUPTIBLE, -5)), -EINVAL);
	bp_expect_reports(test, 1, "'kunit-bad-calls': negative timeout -5", NULL);
	bufpool_put_bulk(3, NULL);
	bp_expect_report_from(test, 1, "bufpool_put_bulk", __func__,
			      "NULL array of 3 buffers");
	bufpool_put(NULL);
	bufpool_destroy(NULL);
	bufpool_destroy(ERR_PTR(-EINVAL));
	/* Eight reports in all: the NULLs that mean nothing said nothing. */
	bp_expect_reports(test, 8, "bufpool", NULL);

	/* None of it touched the pool, which works. */
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.allocs, 0);
	KUNIT_EXPECT_EQ(test, st.fails, 0);
	KUNIT_EXPECT_EQ(test, st.backed, 0);
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 4, bufs), 0);
	bufpool_put_bulk(4, bufs);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).frees, 4);
	bp_destroy(test, pool);
}

/*
 * One buffer out and back, counted. Catches a buffer smaller than asked
 * (KASAN) and counters that miss the plain alloc/put pair.
 */
static void bp_alloc_put(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-basic", 1500, 16, 0, 0);
	struct bufpool_buf *buf = bufpool_alloc(pool, GFP_KERNEL);
	struct bufpool_stats st;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_EXPECT_PTR_EQ(test, bufpool_buf_pool(buf), pool);
	KUNIT_EXPECT_GE(test, bufpool_buf_size(buf), 1500);
	memset(bufpool_buf_data(buf), 0xa5, 1500);	/* KASAN checks the bounds */
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.in_use, 1);
	KUNIT_EXPECT_EQ(test, st.backed, 1);
	bufpool_put(buf);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	KUNIT_EXPECT_EQ(test, st.allocs, 1);
	KUNIT_EXPECT_EQ(test, st.frees, 1);
	bp_destroy(test, pool);
}

/*
 * Every alignment and size gives aligned data of the full size. Catches
 * a layout that puts the header where the data's alignment needs it.
 */
static void bp_alignment(struct kunit *test)
{
	static const unsigned int aligns[] = { 0, 8, 64, 512, PAGE_SIZE };
	static const size_t sizes[] = { 1, 100, 4096, BUFPOOL_MAX_BUF_SIZE };
	struct bufpool_params p = { .name = "kunit-align", .max_bufs = 4 };
	struct bufpool_buf *bufs[4];
	int a, s, i;

	for (a = 0; a < ARRAY_SIZE(aligns); a++) {
		for (s = 0; s < ARRAY_SIZE(sizes); s++) {
			struct bufpool *pool;

			p.align = aligns[a];
			p.buf_size = sizes[s];
			pool = bufpool_create(&p);
			KUNIT_ASSERT_FALSE(test, IS_ERR(pool));
			bp_own(test, pool);
			KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 4, bufs), 0);
			for (i = 0; i < 4; i++) {
				void *data = bufpool_buf_data(bufs[i]);

				KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)data,
								   max(aligns[a], 8U)));
				memset(data, 0, sizes[s]);
			}
			bufpool_put_bulk(4, bufs);
			bp_destroy(test, pool);
		}
	}
}

/*
 * BUFPOOL_F_ZERO and __GFP_ZERO both hand out zeroed buffers. Catches a
 * buffer that comes back with the last holder's data.
 */
static void bp_zeroing(struct kunit *test)
{
	struct bufpool *z = bp_create(test, "kunit-zero", 300, 1, 0, BUFPOOL_F_ZERO);
	struct bufpool *plain = bp_create(test, "kunit-nozero", 300, 1, 0, 0);
	struct bufpool_buf *buf;

	buf = bufpool_alloc(z, GFP_KERNEL);
	memset(bufpool_buf_data(buf), 0xff, 300);
	bufpool_put(buf);
	buf = bufpool_alloc(z, GFP_KERNEL);
	KUNIT_EXPECT_NULL(test, memchr_inv(bufpool_buf_data(buf), 0, 300));
	bufpool_put(buf);

	/* __GFP_ZERO asks for it per call. */
	buf = bufpool_alloc(plain, GFP_KERNEL);
	memset(bufpool_buf_data(buf), 0xff, 300);
	bufpool_put(buf);
	buf = bufpool_alloc(plain, GFP_KERNEL | __GFP_ZERO);
	KUNIT_EXPECT_NULL(test, memchr_inv(bufpool_buf_data(buf), 0, 300));
	bufpool_put(buf);
	bp_destroy(test, z);
	bp_destroy(test, plain);
}

/*
 * A write after the last put is reported, once, naming the pool and the
 * byte, when the buffer is next handed out; a buffer left alone is not.
 * Catches the poison check finding nothing (or poison never written).
 */
static void bp_poison(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-poison", 64, 1, 1, BUFPOOL_F_POISON);
	struct bufpool_buf *buf = bufpool_alloc(pool, GFP_KERNEL);
	u8 *data;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	data = bufpool_buf_data(buf);
	memset(data, 0, 64);
	bufpool_put(buf);
	/* Idle buffers carry the poison. */
	KUNIT_EXPECT_NULL(test, memchr_inv(data, BUFPOOL_POISON, bufpool_buf_size(buf)));
	buf = bufpool_alloc(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	bp_expect_reports(test, 0, "bufpool", NULL);

	/* The one buffer of the pool, written after its put. */
	bufpool_put(buf);
	data[17] = 0x42;
	buf = bufpool_alloc(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_EXPECT_PTR_EQ(test, (u8 *)bufpool_buf_data(buf), data);
	bp_expect_reports(test, 1, "'kunit-poison': buffer written after its last put",
			  "byte 17 is 0x42");
	bp_expect_reports(test, 1, "bufpool", NULL);
	bufpool_put(buf);
	bp_destroy(test, pool);
}

/*
 * At the cap an atomic caller gets NULL (or -EAGAIN), counted as a
 * failure, a sleeping one times out, and the pool never exceeds its cap.
 * Catches a pool that grows past max_bufs: with magazines an atomic
 * caller at the cap fails before the depot's growth check, a sleeping
 * one reaches it.
 */
static void bp_exhaustion_atomic(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-exhaust", 64, 4, 0, 0);
	struct bufpool_buf *bufs[4];
	struct bufpool_stats st;
	int i;

	for (i = 0; i < 4; i++) {
		bufs[i] = bufpool_alloc(pool, GFP_ATOMIC);
		KUNIT_ASSERT_NOT_NULL(test, bufs[i]);
	}
	KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_ATOMIC));
	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_alloc_wait(pool, GFP_NOWAIT,
							 TASK_INTERRUPTIBLE, HZ)), -EAGAIN);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_alloc_wait(pool, GFP_KERNEL,
							 TASK_UNINTERRUPTIBLE, 1)), -ETIMEDOUT);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.fails, 3);
	KUNIT_EXPECT_EQ(test, st.in_use, 4);
	KUNIT_EXPECT_EQ(test, st.backed, 4);
	bufpool_put_bulk(4, bufs);
	bp_destroy(test, pool);
}

/*
 * The seeds' story: a flooded pool runs dry alone. Catches pools that
 * share buffers or a cap.
 */
static void bp_isolation(struct kunit *test)
{
	struct bufpool *nic = bp_create(test, "kunit-nic", 1500, 8, 0, 0);
	struct bufpool *disk = bp_create(test, "kunit-disk", 4096, 4, 0, 0);
	struct bufpool_buf *rx[8], *blk[4];
	int i;

	for (i = 0; i < 8; i++)
		rx[i] = bufpool_alloc(nic, GFP_ATOMIC);
	KUNIT_EXPECT_NULL(test, bufpool_alloc(nic, GFP_ATOMIC));
	for (i = 0; i < 4; i++) {
		blk[i] = bufpool_alloc(disk, GFP_ATOMIC);
		KUNIT_EXPECT_NOT_NULL(test, blk[i]);
	}
	bufpool_put_bulk(4, blk);
	bufpool_put_bulk(8, rx);
	bp_destroy(test, nic);
	bp_destroy(test, disk);
}

/*
 * A buffer goes home on its last put only. Catches a put that frees a
 * buffer others still hold.
 */
static void bp_refcount(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-ref", 64, 2, 0, 0);
	struct bufpool_buf *buf = bufpool_alloc(pool, GFP_KERNEL);

	KUNIT_EXPECT_PTR_EQ(test, bufpool_get(buf), buf);
	KUNIT_EXPECT_PTR_EQ(test, bufpool_get(buf), buf);
	bufpool_put(buf);
	bufpool_put(buf);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).in_use, 1);
	bufpool_put(buf);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).in_use, 0);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).frees, 1);
	bp_destroy(test, pool);
}

/*
 * A put too many, and a get after the last put, are reported once each,
 * naming the pool and the caller, and ignored: the buffer is not freed
 * twice. Catches a put that trusts the reference count of an idle buffer.
 */
static void bp_double_put(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-dput", 64, 2, 0,
					 BUFPOOL_F_NO_MAGAZINES);
	struct bufpool_buf *buf = bufpool_alloc(pool, GFP_KERNEL);
	struct bufpool_buf *a, *b;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	bufpool_put(buf);
	bp_expect_reports(test, 0, "bufpool", NULL);
	bufpool_put(buf);
	bp_expect_report_from(test, 1, "bufpool_put", __func__,
			      "pool 'kunit-dput' is not held by anyone");
	KUNIT_EXPECT_NULL(test, bufpool_get(buf));
	bp_expect_report_from(test, 1, "bufpool_get", __func__,
			      "pool 'kunit-dput' is not held by anyone");
	KUNIT_EXPECT_EQ(test, bp_stats(pool).frees, 1);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).free, 1);
	/* Two distinct buffers still come out. */
	a = bufpool_alloc(pool, GFP_KERNEL);
	b = bufpool_alloc(pool, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, a);
	KUNIT_EXPECT_NOT_NULL(test, b);
	KUNIT_EXPECT_PTR_NE(test, a, b);
	bufpool_put(a);
	bufpool_put(b);
	bp_destroy(test, pool);
}

/*
 * Two puts of a buffer held once, racing: both see the last reference.
 * That is the caller's bug, undefined as for skb_unref(), but with
 * BUFPOOL_F_POISON (debugging asked for) the second must be caught and
 * ignored. Catches a pool that took the buffer home twice (a cycle in the
 * depot, or one buffer handed to two callers): the first put is held
 * past its reference check while the second goes all the way.
 */
struct bp_put_hold {
	struct task_struct *task;	/* the put to hold; NULL once held */
	struct completion held;
	struct completion go;
};

static struct bp_put_hold *bp_put_hold;

static void bp_put_hold_hook(enum bufpool_test_point tp)
{
	struct bp_put_hold *h = bp_put_hold;

	if (tp != BUFPOOL_TP_PUT || !in_task() || current != READ_ONCE(h->task))
		return;
	WRITE_ONCE(h->task, NULL);
	complete(&h->held);
	wait_for_completion_timeout(&h->go, msecs_to_jiffies(BP_WAIT_MS));
}

static bool bp_wait_completion(struct completion *c)
{
	return wait_for_completion_timeout(c, msecs_to_jiffies(BP_WAIT_MS));
}

static int bp_put_first(struct bp_worker *w)
{
	struct bp_put_hold *h = w->priv;

	WRITE_ONCE(h->task, current);
	bufpool_put(w->bufs[0]);
	return 0;
}

static void bp_double_put_race(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-race", 64, 2, 0,
					 BUFPOOL_F_POISON | BUFPOOL_F_NO_MAGAZINES);
	struct bp_put_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bp_worker *first = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_put_first, .priv = h,
	});
	struct bufpool_buf *buf, *a, *b;
	struct bufpool_stats st;

	KUNIT_ASSERT_NOT_NULL(test, h);
	init_completion(&h->held);
	init_completion(&h->go);
	buf = bufpool_alloc(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	first->bufs[0] = buf;
	bp_put_hold = h;
	bp_hook_on(test, bp_put_hold_hook);
	bp_start(test, first, -1);
	KUNIT_ASSERT_TRUE(test, bp_wait_completion(&h->held));
	bufpool_put(buf);
	complete(&h->go);
	KUNIT_ASSERT_TRUE(test, bp_join(first));
	bp_expect_reports(test, 1, "pool 'kunit-race' is not held by anyone", NULL);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.backed, 1);
	KUNIT_EXPECT_EQ(test, st.free, 1);
	KUNIT_EXPECT_EQ(test, st.frees, 1);
	/* One buffer home once: the second of two allocations grows. */
	a = bufpool_alloc(pool, GFP_KERNEL);
	b = bufpool_alloc(pool, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, a);
	KUNIT_EXPECT_NOT_NULL(test, b);
	KUNIT_EXPECT_PTR_NE(test, a, b);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).backed, 2);
	bufpool_put(a);
	bufpool_put(b);
	bp_destroy(test, pool);
}

/*
 * A put of memory that is no buffer, though it looks like a held one of
 * this pool in all but its magic: reported, naming the caller, and
 * ignored. Catches a put that does not check the magic: it would hand
 * the junk to the pool (counted as freed, and allocated to the next
 * caller) and write to it.
 */
static void bp_put_foreign(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-foreign", 64, 2, 0, 0);
	struct bufpool_buf *junk = kunit_kzalloc(test, 256, GFP_KERNEL);
	struct bufpool_buf *copy = kunit_kzalloc(test, 256, GFP_KERNEL);
	struct bufpool_buf *bufs[2];

	KUNIT_ASSERT_NOT_NULL(test, junk);
	KUNIT_ASSERT_NOT_NULL(test, copy);
	refcount_set(&junk->ref, 1);
	junk->pool = pool;
	junk->data = junk + 1;
	memcpy(copy, junk, 256);

	bufpool_put(junk);
	bp_expect_report_from(test, 1, "bufpool_put", __func__,
			      "is not a bufpool buffer");
	KUNIT_EXPECT_NULL(test, bufpool_get(junk));
	bp_expect_report_from(test, 1, "bufpool_get", __func__,
			      "is not a bufpool buffer");
	KUNIT_EXPECT_EQ(test, memcmp(junk, copy, 256), 0);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).frees, 0);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).free, 0);
	/* The pool hands out its own buffers, and only those. */
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_ATOMIC, 2, bufs), 0);
	KUNIT_EXPECT_PTR_NE(test, bufs[0], junk);
	KUNIT_EXPECT_PTR_NE(test, bufs[1], junk);
	KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_ATOMIC));
	bufpool_put_bulk(2, bufs);
	bp_destroy(test, pool);
}

/*
 * The counters agree with what the case did, round after round. Catches
 * counters that drift (in_use, backed, free, high watermark).
 */
static void bp_stats_add_up(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-stats", 64, 32, 4, 0);
	struct bufpool_buf *bufs[32];
	struct bufpool_stats st;
	int i, round, held = 0;

	for (round = 0; round < 50; round++) {
		int n = (round * 7) % 32;

		for (i = held; i < n; i++)
			bufs[i] = bufpool_alloc(pool, GFP_KERNEL);
		for (i = held - 1; i >= n; i--)
			bufpool_put(bufs[i]);
		held = n;
		st = bp_stats(pool);
		KUNIT_EXPECT_EQ(test, st.allocs - st.frees, (u64)held);
		KUNIT_EXPECT_EQ(test, st.in_use, held);
		KUNIT_EXPECT_EQ(test, st.backed, st.in_use + st.free);
		KUNIT_EXPECT_LE(test, st.backed, 32);
		KUNIT_EXPECT_GE(test, st.high_watermark, held);
	}
	bufpool_put_bulk(held, bufs);
	bp_destroy(test, pool);
}

/*
 * A sleeper gets the buffer put back, and an atomic caller meanwhile
 * gets NULL at once. Catches a lost wakeup, and an atomic caller that
 * takes a buffer owed to a sleeper.
 */
static void bp_sleeper_wakes_on_put(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-sleep", 64, 1, 0, 0);
	struct bufpool_buf *held = bufpool_alloc(pool, GFP_KERNEL);
	struct bp_worker *w = bp_new(test, &(struct bp_worker){ .pool = pool, .fn = bp_alloc_one });

	bp_start(test, w, -1);
	KUNIT_ASSERT_TRUE(test, bp_wait_waiters(pool, 1));
	/* Meanwhile an atomic caller is told no at once. */
	KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_ATOMIC));
	KUNIT_EXPECT_FALSE(test, bp_finished(w));
	bufpool_put(held);
	KUNIT_ASSERT_TRUE(test, bp_join(w));
	KUNIT_EXPECT_EQ(test, w->ret, 0);
	KUNIT_EXPECT_PTR_EQ(test, w->bufs[0], held);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).waits, 1);
	bufpool_put(w->bufs[0]);
	bp_destroy(test, pool);
}

/*
 * A wait that times out returns -ETIMEDOUT, counted, its time measured.
 * Catches a timeout that leaves the waiter queued.
 */
static void bp_timeout(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-timeout", 64, 1, 0, 0);
	struct bufpool_buf *held = bufpool_alloc(pool, GFP_KERNEL);
	struct bufpool_stats st;

	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_alloc_wait(pool, GFP_KERNEL,
							 TASK_UNINTERRUPTIBLE, 0)), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_alloc_wait(pool, GFP_KERNEL,
							 TASK_UNINTERRUPTIBLE, HZ / 20)),
			-ETIMEDOUT);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.waiters, 0);
	KUNIT_EXPECT_EQ(test, st.fails, 2);
	KUNIT_EXPECT_GT(test, st.wait_ns_max, 0);
	KUNIT_EXPECT_GE(test, st.wait_ns_total, st.wait_ns_max);
	bufpool_put(held);
	bp_destroy(test, pool);
}

static void bp_signal_case(struct kunit *test, unsigned int state, int sig)
{
	struct bufpool *pool = bp_create(test, "kunit-signal", 64, 1, 0, 0);
	struct bufpool_buf *held = bufpool_alloc(pool, GFP_KERNEL);
	struct bp_worker *w = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_alloc_one, .state = state,
		.timeout = MAX_SCHEDULE_TIMEOUT,
	});

	bp_start(test, w, -1);
	KUNIT_ASSERT_TRUE(test, bp_wait_waiters(pool, 1));
	send_sig(sig, w->task, 1);
	KUNIT_ASSERT_TRUE(test, bp_join(w));
	KUNIT_EXPECT_EQ(test, w->ret, -EINTR);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).waiters, 0);
	bufpool_put(held);
	bp_destroy(test, pool);
}

/*
 * Catches a TASK_INTERRUPTIBLE wait that a signal does not end.
 */
static void bp_signal(struct kunit *test)
{
	bp_signal_case(test, TASK_INTERRUPTIBLE, SIGUSR1);
}

/*
 * Catches a TASK_KILLABLE wait that SIGKILL does not end.
 */
static void bp_killable(struct kunit *test)
{
	bp_signal_case(test, TASK_KILLABLE, SIGKILL);
}

/*
 * Waiters are served in arrival order. Catches a LIFO (or any other)
 * order of service.
 */
static void bp_fifo(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-fifo", 64, 1, 0, 0);
	struct bufpool_buf *held = bufpool_alloc(pool, GFP_KERNEL);
	struct bp_worker *w[4];
	int i, j;

	for (i = 0; i < 4; i++) {
		w[i] = bp_new(test, &(struct bp_worker){
			.pool = pool, .fn = bp_alloc_one, .id = i,
		});
		bp_start(test, w[i], -1);
		KUNIT_ASSERT_TRUE(test, bp_wait_waiters(pool, i + 1));
	}
	for (i = 0; i < 4; i++) {
		bufpool_put(held);
		KUNIT_ASSERT_TRUE(test, bp_join(w[i]));
		/* Only the longest waiter got it. */
		for (j = i + 1; j < 4; j++)
			KUNIT_EXPECT_FALSE(test, bp_finished(w[j]));
		held = w[i]->bufs[0];
	}
	bufpool_put(held);
	bp_destroy(test, pool);
}

/*
 * A bulk request gets all it asks or nothing, even after waiting.
 * Catches a failed bulk request that keeps part of what it took.
 */
static void bp_bulk_all_or_nothing(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-bulk", 64, 8, 0, 0);
	struct bufpool_buf *held[5], *bufs[4];

	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 5, held), 0);
	KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk(pool, GFP_ATOMIC, 4, bufs), -EAGAIN);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).in_use, 5);
	KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk_wait(pool, GFP_KERNEL, 4, bufs,
						      TASK_KILLABLE, HZ / 20), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).in_use, 5);
	KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk(pool, GFP_ATOMIC, 3, bufs), 0);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).in_use, 8);
	bufpool_put_bulk(3, bufs);
	bufpool_put_bulk(5, held);
	bp_destroy(test, pool);
}

/*
 * A bulk waiter keeps what comes back: later single requests wait
 * behind. Catches a bulk waiter starved by single requests.
 */
static void bp_bulk_not_starved(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-bulk-fair", 64, 4, 0, 0);
	struct bp_worker *bulk = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_alloc_bulk, .n = 3,
		.timeout = MAX_SCHEDULE_TIMEOUT, .id = 1,
	});
	struct bp_worker *single = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_alloc_one, .id = 2,
	});
	struct bufpool_buf *held[4];
	int i;

	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 4, held), 0);
	bp_start(test, bulk, -1);
	KUNIT_ASSERT_TRUE(test, bp_wait_waiters(pool, 1));
	bp_start(test, single, -1);
	KUNIT_ASSERT_TRUE(test, bp_wait_waiters(pool, 2));
	for (i = 0; i < 2; i++) {
		bufpool_put(held[i]);
		KUNIT_EXPECT_EQ(test, bp_stats(pool).waiters, 2);
	}
	KUNIT_EXPECT_FALSE(test, bp_finished(single));
	bufpool_put(held[2]);
	KUNIT_ASSERT_TRUE(test, bp_join(bulk));
	KUNIT_EXPECT_EQ(test, bulk->ret, 0);
	KUNIT_EXPECT_FALSE(test, bp_finished(single));
	bufpool_put(held[3]);
	KUNIT_ASSERT_TRUE(test, bp_join(single));
	KUNIT_EXPECT_EQ(test, single->ret, 0);
	bufpool_put_bulk(3, bulk->bufs);
	bufpool_put(single->bufs[0]);
	bp_destroy(test, pool);
}

static int bp_bulk_loop(struct bp_worker *w)
{
	int i, err;

	for (i = 0; i < 20; i++) {
		err = bufpool_alloc_bulk_wait(w->pool, GFP_KERNEL, w->n, w->bufs,
					      TASK_UNINTERRUPTIBLE, 10 * HZ);
		if (err)
			return err;
		bufpool_put_bulk(w->n, w->bufs);
	}
	return 0;
}

/*
 * Two bulk callers that together want more than the cap never deadlock,
 * even when both grow a fresh pool at once, each to part of its request.
 */
static void bp_two_bulk_no_deadlock(struct kunit *test)
{
	struct bufpool *pool;
	int round;

	for (round = 0; round < 30; round++) {
		pool = bp_create(test, "kunit-bulk2", 64, 4, 0, 0);
		bp_run_all(test, pool, bp_bulk_loop, 2, 3);
		KUNIT_EXPECT_EQ(test, bp_stats(pool).in_use, 0);
		bp_destroy(test, pool);
	}
}

/* Take w->n buffers (an extra reference on each), check, put, repeat. */
static int bp_hammer(struct bp_worker *w)
{
	struct bufpool_buf *extra;
	unsigned int i, j;

	for (i = 0; i < 1000; i++) {
		if (bufpool_alloc_bulk(w->pool, GFP_KERNEL, w->n, w->bufs))
			return -ENOMEM;
		for (j = 0; j < w->n; j++)
			*(int *)bufpool_buf_data(w->bufs[j]) = w->id;
		for (j = 0; j < w->n; j++) {
			/* A buffer taken from us meanwhile fails, not oopses. */
			extra = bufpool_get(w->bufs[j]);
			if (!extra || *(int *)bufpool_buf_data(extra) != w->id)
				return -EIO;
			bufpool_put(extra);
		}
		for (j = 0; j < w->n; j++)
			bufpool_put(w->bufs[j]);
		if (!(i % 64))
			cond_resched();
	}
	return 0;
}

/*
 * get/put from several kthreads, with fewer buffers than threads.
 * Catches a buffer handed to two holders at once (the tag check), and
 * counts lost under contention.
 */
static void bp_many_threads(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-threads", 64, 3, 0, 0);
	struct bufpool_stats st;

	bp_run_all(test, pool, bp_hammer, 6, 1);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.allocs, 6 * 1000);
	KUNIT_EXPECT_EQ(test, st.frees, 6 * 1000);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	KUNIT_EXPECT_LE(test, st.high_watermark, 3);
	bp_destroy(test, pool);
}

struct bp_irq_put {
	struct hrtimer timer;
	struct bufpool_buf *bufs[4];
	int n;
	bool hardirq;
};

static enum hrtimer_restart bp_irq_put_fn(struct hrtimer *t)
{
	struct bp_irq_put *ip = container_of(t, struct bp_irq_put, timer);

	ip->hardirq = in_hardirq();
	bufpool_put_bulk(ip->n, ip->bufs);
	return HRTIMER_NORESTART;
}

/*
 * Buffers put from hard IRQ reach a sleeper and the pool intact. Catches
 * a put path that is not safe in hard IRQ (lockdep) or loses a wakeup there.
 */
static void bp_put_from_hardirq(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-hardirq", 64, 4, 0, 0);
	struct bp_worker *w = bp_new(test, &(struct bp_worker){ .pool = pool, .fn = bp_alloc_one });
	struct bp_irq_put *ip = kunit_kzalloc(test, sizeof(*ip), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ip);
	ip->n = 4;
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 4, ip->bufs), 0);
	bufpool_get(ip->bufs[0]);	/* the IRQ drops one of two references */
	bp_start(test, w, -1);
	KUNIT_ASSERT_TRUE(test, bp_wait_waiters(pool, 1));
	bp_timer_init(test, &ip->timer, bp_irq_put_fn, HRTIMER_MODE_REL_HARD);
	hrtimer_start(&ip->timer, ms_to_ktime(1), HRTIMER_MODE_REL_HARD);
	KUNIT_ASSERT_TRUE(test, bp_join(w));
	hrtimer_cancel(&ip->timer);
	KUNIT_EXPECT_TRUE(test, ip->hardirq);
	KUNIT_EXPECT_EQ(test, w->ret, 0);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).in_use, 2);
	bufpool_put(ip->bufs[0]);
	bufpool_put(w->bufs[0]);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).in_use, 0);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).frees, 5);
	bp_destroy(test, pool);
}

struct bp_irq_churn {
	struct hrtimer timer;
	struct bufpool *pool;
	atomic_t fires;
	atomic_t errors;
	bool stop;
};

static enum hrtimer_restart bp_irq_churn_fn(struct hrtimer *t)
{
	struct bp_irq_churn *ic = container_of(t, struct bp_irq_churn, timer);
	struct bufpool_buf *buf = bufpool_alloc(ic->pool, GFP_ATOMIC);

	if (buf)
		bufpool_put(buf);
	else
		atomic_inc(&ic->errors);
	atomic_inc(&ic->fires);
	if (READ_ONCE(ic->stop))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(50 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

/*
 * Hard IRQs that allocate and put on the CPU whose task is in the middle
 * of the magazine fast path: the pool stays exact.
 */
static void bp_irq_vs_fast_path(struct kunit *test)
{
	/* A hard IRQ never grows a pool: it needs buffers that exist. */
	unsigned int cap = bp_cap_for_mag(8);
	struct bp_irq_churn *ic = kunit_kzalloc(test, sizeof(*ic), GFP_KERNEL);
	struct bufpool *pool;
	struct bufpool_buf *buf;
	struct bufpool_stats st;
	u64 done = 0;

	KUNIT_ASSERT_NOT_NULL(test, ic);
	if (cap > BUFPOOL_MAX_BUFS)
		kunit_skip(test, "magazines need a cap of %u here", cap);
	pool = bp_create(test, "kunit-irqfast", 64, cap, 8, 0);
	ic->pool = pool;
	KUNIT_ASSERT_GT(test, pool->mag_mask, 0);
	bp_timer_init(test, &ic->timer, bp_irq_churn_fn, HRTIMER_MODE_REL_PINNED_HARD);
	hrtimer_start(&ic->timer, ns_to_ktime(50 * NSEC_PER_USEC), HRTIMER_MODE_REL_PINNED_HARD);
	while (done < 20000 || (atomic_read(&ic->fires) < 100 && done < 10000000)) {
		buf = bufpool_alloc(pool, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, buf);
		bufpool_put(buf);
		done++;
	}
	WRITE_ONCE(ic->stop, true);
	hrtimer_cancel(&ic->timer);
	KUNIT_EXPECT_EQ(test, atomic_read(&ic->errors), 0);
	KUNIT_EXPECT_GE(test, atomic_read(&ic->fires), 100);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.allocs, st.frees);
	KUNIT_EXPECT_EQ(test, st.allocs, done + atomic_read(&ic->fires));
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	KUNIT_EXPECT_EQ(test, st.free, st.backed);
	bp_destroy(test, pool);
}

static int bp_destroy_worker(struct bp_worker *w)
{
	bufpool_destroy(w->pool);
	return 0;
}

/*
 * Whether destroy waited for the buffer: recorded at the end of its wait
 * (BUFPOOL_TP_SHUTDOWN), in the destroyer.
 */
struct bp_shutdown_watch {
	struct bufpool_buf *held;	/* the buffer out, until put */
	bool ended;
	bool ended_early;		/* with the buffer still out */
};

static struct bp_shutdown_watch *bp_shutdown_watch;

static void bp_shutdown_hook(enum bufpool_test_point tp)
{
	struct bp_shutdown_watch *sw = bp_shutdown_watch;

	if (tp != BUFPOOL_TP_SHUTDOWN)
		return;
	WRITE_ONCE(sw->ended_early, !!READ_ONCE(sw->held));
	WRITE_ONCE(sw->ended, true);
}

/* Wait until a destroy of @pool waits for its buffers to come home. */
static bool bp_wait_destroy_waits(struct bufpool *pool)
{
	int i;

	for (i = 0; i < BP_WAIT_MS; i++) {
		if (swait_active(&pool->home.wait))
			return true;
		usleep_range(1000, 2000);
	}
	return false;
}

/*
 * Destroy wakes sleepers with -ESHUTDOWN, fails new allocations at once
 * and waits for the last put. Catches a destroy that frees the pool with
 * a buffer still out, or that leaves a sleeper asleep. That destroy waits
 * is seen, not hoped for after a sleep: the destroyer is queued on the
 * pool's home completion, and the hook says whether its wait ended
 * with the buffer still out.
 */
static void bp_destroy_with_waiter(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-destroy", 64, 1, 0, 0);
	struct bp_shutdown_watch *sw = kunit_kzalloc(test, sizeof(*sw), GFP_KERNEL);
	struct bp_worker *waiter = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_alloc_one, .state = TASK_UNINTERRUPTIBLE,
		.timeout = MAX_SCHEDULE_TIMEOUT,
	});
	struct bp_worker *destroyer = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_destroy_worker, .id = 1,
	});
	struct bufpool_buf *bufs[1];

	KUNIT_ASSERT_NOT_NULL(test, sw);
	sw->held = bufpool_alloc(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sw->held);
	bp_shutdown_watch = sw;
	bp_hook_on(test, bp_shutdown_hook);
	bp_start(test, waiter, -1);
	KUNIT_ASSERT_TRUE(test, bp_wait_waiters(pool, 1));
	/* The destroyer's from here. */
	bp_disown(test, pool);
	bp_start(test, destroyer, -1);
	KUNIT_ASSERT_TRUE(test, bp_join(waiter));
	KUNIT_EXPECT_EQ(test, waiter->ret, -ESHUTDOWN);
	/* New allocations fail at once, each as its kind says. */
	KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_alloc_wait(pool, GFP_KERNEL,
							 TASK_UNINTERRUPTIBLE, HZ)),
			-ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 1, bufs), -ESHUTDOWN);
	KUNIT_EXPECT_TRUE_MSG(test, bp_wait_destroy_waits(pool),
			      "destroy did not wait for the buffer still out");
	KUNIT_EXPECT_FALSE(test, READ_ONCE(sw->ended));
	KUNIT_EXPECT_FALSE(test, bp_finished(destroyer));
	bufpool_put(sw->held);
	WRITE_ONCE(sw->held, NULL);
	KUNIT_ASSERT_TRUE(test, bp_join(destroyer));
	KUNIT_EXPECT_TRUE(test, sw->ended);
	KUNIT_EXPECT_FALSE_MSG(test, sw->ended_early,
			       "destroy went on with a buffer still out");
	bp_expect_reports(test, 0, "bufpool", NULL);
}

/*
 * Catches a use after free in destroy: a waiter leaving with -ESHUTDOWN
 * used to count its failure in the pool's per-CPU counters after it had
 * left the slow path, when the last put may already have let destroy free
 * the pool (KASAN: slab-use-after-free in bufpool_alloc_wait()). The hook
 * holds the waiter just past its exit, puts the pool's last buffer and
 * waits for destroy to return; from there on the waiter must not touch
 * the pool.
 */
struct bp_exit_hold {
	struct task_struct *task;
	struct bufpool_buf *held;	/* the pool's last buffer out */
	struct bp_worker *destroyer;
	bool destroyed;
};

static struct bp_exit_hold *bp_exit_hold;

static void bp_exit_hold_hook(enum bufpool_test_point tp)
{
	struct bp_exit_hold *e = bp_exit_hold;

	if (tp != BUFPOOL_TP_SLOW_EXIT || !in_task() || current != e->task ||
	    !e->held)
		return;
	bufpool_put(e->held);
	e->held = NULL;
	e->destroyed = bp_join(e->destroyer);
}

static int bp_destroy_when_waited(struct bp_worker *w)
{
	if (!bp_wait_waiters(w->pool, 1))
		return -ETIMEDOUT;
	bufpool_destroy(w->pool);
	return 0;
}

static void bp_destroy_waiter_exit(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-exit", 64, 1, 0, 0);
	struct bp_worker *destroyer = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_destroy_when_waited, .id = 1,
	});
	struct bp_exit_hold e = { .task = current, .destroyer = destroyer };
	struct bufpool_buf *buf;

	e.held = bufpool_alloc(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e.held);
	bp_exit_hold = &e;
	bp_hook_on(test, bp_exit_hold_hook);
	/* The destroyer's from here. */
	bp_disown(test, pool);
	bp_start(test, destroyer, -1);
	buf = bufpool_alloc_wait(pool, GFP_KERNEL, TASK_UNINTERRUPTIBLE, 10 * HZ);
	/* The pool is gone now, if all went as planned. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(buf), -ESHUTDOWN);
	KUNIT_EXPECT_NULL(test, e.held);
	KUNIT_EXPECT_TRUE(test, e.destroyed);
	if (e.destroyed) {
		KUNIT_EXPECT_EQ(test, destroyer->ret, 0);
		return;
	}
	/* Something else happened: clean up without touching a freed pool. */
	if (!IS_ERR(buf))
		bufpool_put(buf);
	bufpool_put(e.held);
	KUNIT_ASSERT_TRUE(test, bp_join(destroyer));
	if (destroyer->ret)
		bufpool_destroy(pool);
}

/*
 * Destroy after everything came back frees it all, slab cache included.
 * Catches buffers or caches left behind (kmemleak, and the name's reuse).
 */
static void bp_destroy_frees_all(struct kunit *test)
{
	struct bufpool_params p = { .name = "kunit-destroy2", .buf_size = 512,
				    .max_bufs = 64, .min_bufs = 8 };
	struct bufpool_buf *bufs[64];
	struct bufpool *pool;
	int round;

	for (round = 0; round < 3; round++) {
		pool = bufpool_create(&p);
		KUNIT_ASSERT_FALSE(test, IS_ERR(pool));
		bp_own(test, pool);
		KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 64, bufs), 0);
		bufpool_put_bulk(64, bufs);
		KUNIT_EXPECT_EQ(test, bp_stats(pool).backed, 64);
		bp_destroy(test, pool);
	}
}

/*
 * Growth failing under memory pressure is not exhaustion: an atomic
 * caller fails, a sleeper waits for a put. Catches a growth failure
 * taken for a full pool, or a sleeper that never gets the next put.
 */
static void bp_grow_failure(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-grow", 64, 4, 0, 0);
	struct bufpool_buf *held = bufpool_alloc(pool, GFP_KERNEL);
	struct bp_worker *w = bp_new(test, &(struct bp_worker){ .pool = pool, .fn = bp_alloc_one });

	KUNIT_ASSERT_NOT_NULL(test, held);
	bp_need_faults(test);
	bp_fault_nth(0);
	KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_ATOMIC));
	KUNIT_EXPECT_GE(test, bp_stats(pool).grow_fails, 1);
	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_alloc_wait(pool, GFP_KERNEL,
							 TASK_UNINTERRUPTIBLE, HZ / 5)),
			-ETIMEDOUT);
	/* A sleeper that cannot grow the pool gets the next returned buffer. */
	bp_start(test, w, -1);
	KUNIT_ASSERT_TRUE(test, bp_wait_waiters(pool, 1));
	bufpool_put(held);
	KUNIT_ASSERT_TRUE(test, bp_join(w));
	bp_fault_off();
	KUNIT_EXPECT_EQ(test, w->ret, 0);
	bufpool_put(w->bufs[0]);
	/* Once memory is back the pool grows to its cap. */
	w->n = 4;
	KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 4, w->bufs), 0);
	bufpool_put_bulk(4, w->bufs);
	bp_destroy(test, pool);
}

/*
 * Catches a lost wakeup for growth. A's first look finds the pool at its
 * cap, counting B's slot still being allocated, so A sleeps without a
 * growth retry of its own (it never failed to grow). B's allocation
 * fails and gives the slot back: the pool could grow again, and A must be
 * woken to grow it. It was not, and slept out its whole timeout.
 */
static void bp_grow_failure_wakes_head(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-grow-wake", 64, 1, 0, 0);
	struct bp_grow_hold *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);
	struct bp_worker *b = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_alloc_held, .priv = g,
		.state = TASK_UNINTERRUPTIBLE, .timeout = 10 * HZ,
	});
	struct bp_worker *a = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_alloc_timed, .id = 1,
		.state = TASK_UNINTERRUPTIBLE, .timeout = 2 * HZ,
	});

	KUNIT_ASSERT_NOT_NULL(test, g);
	bp_need_faults(test);
	bp_grow_hold_on(test, g);
	bp_start(test, b, -1);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&g->growing,
							    msecs_to_jiffies(BP_WAIT_MS)));
	bp_start(test, a, -1);
	KUNIT_ASSERT_TRUE(test, bp_wait_waiters(pool, 1));
	complete(&g->go);		/* B's allocation fails */
	KUNIT_ASSERT_TRUE(test, bp_join(a));
	bp_fault_off();
	/* Even unwoken, A tries once more when its time is up, and grows. */
	KUNIT_EXPECT_EQ(test, a->ret, 0);
	KUNIT_EXPECT_LT_MSG(test, a->took, a->timeout,
			    "the head waiter slept out its timeout although the pool could grow");
	if (!a->ret)
		bufpool_put(a->bufs[0]);		/* to B, waiting behind A */
	KUNIT_ASSERT_TRUE(test, bp_join(b));
	KUNIT_EXPECT_EQ(test, b->ret, 0);
	if (!b->ret)
		bufpool_put(b->bufs[0]);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).grow_fails, 1);
	bp_destroy(test, pool);
}

/* Suite: per-CPU magazines, shrinker */

static int bp_on_cpu_cycle(struct bp_worker *w)
{
	struct bufpool_buf *bufs[8];
	int i, round;

	for (round = 0; round < 100; round++) {
		for (i = 0; i < w->n; i++)
			bufs[i] = bufpool_alloc(w->pool, GFP_KERNEL);
		for (i = 0; i < w->n; i++)
			bufpool_put(bufs[i]);
	}
	return 0;
}

/*
 * One CPU cycling n buffers: after the first n allocations, which grow
 * the pool, every operation is a magazine hit. Catches a hit path that
 * takes the pool lock, or magazines too small for n.
 */
static void bp_magazine_hits(struct kunit *test)
{
	const unsigned int n = 4, ops = 2 * 100 * n;
	unsigned int cap = bp_cap_for_mag(2 * n);
	struct bufpool *pool;
	struct bp_worker *w;
	struct bufpool_stats st;

	if (cap > BUFPOOL_MAX_BUFS)
		kunit_skip(test, "magazines of %u need a cap of %u here", n, cap);
	pool = bp_create(test, "kunit-mag", 64, cap, 0, 0);
	w = bp_new(test, &(struct bp_worker){ .pool = pool, .fn = bp_on_cpu_cycle, .n = n });
	KUNIT_ASSERT_GE(test, pool->mag_mask + 1, 2 * n);
	bp_start(test, w, 0);
	KUNIT_ASSERT_TRUE(test, bp_join(w));
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.allocs, ops / 2);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	/* All but the first few operations hit the magazine. */
	KUNIT_EXPECT_GE(test, st.mag_hits, ops - 2 * n);
	KUNIT_EXPECT_LE(test, st.mag_misses, 2 * n);
	/* The first n grew the pool: misses, counted. */
	KUNIT_EXPECT_GE(test, st.mag_misses, n);
	KUNIT_EXPECT_EQ(test, st.backed, n);
	KUNIT_EXPECT_EQ(test, st.cached, n);
	bp_destroy(test, pool);
}

/*
 * Failed allocations are neither hits nor misses: mag_hits is derived
 * (allocs + frees - misses), so a failure counted as a miss makes it
 * wrap below zero on a pool without magazines, and undercount on one
 * with them. Checked on both, each at its cap with failures.
 */
static void bp_fails_not_misses(struct kunit *test)
{
	unsigned int cap = bp_cap_for_mag(4), flags[] = { 0, BUFPOOL_F_NO_MAGAZINES };
	struct bufpool_buf *bufs[64], *two[2];
	struct bufpool_stats st;
	struct bufpool *pool;
	int i, k;

	if (cap > ARRAY_SIZE(bufs))
		kunit_skip(test, "magazines of 4 need a cap of %u here", cap);
	for (k = 0; k < ARRAY_SIZE(flags); k++) {
		pool = bp_create(test, "kunit-fails", 64, cap, 0, flags[k]);
		KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, cap, bufs), 0);
		for (i = 0; i < 10; i++)
			KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_ATOMIC));
		KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk(pool, GFP_ATOMIC, 2, two), -EAGAIN);
		bufpool_put_bulk(cap, bufs);
		st = bp_stats(pool);
		KUNIT_EXPECT_EQ(test, st.fails, 11);
		KUNIT_EXPECT_EQ(test, st.allocs, cap);
		KUNIT_EXPECT_LE(test, st.mag_misses, st.allocs + st.frees);
		KUNIT_EXPECT_EQ(test, st.mag_hits + st.mag_misses, st.allocs + st.frees);
		if (flags[k])
			KUNIT_EXPECT_EQ(test, st.mag_hits, 0);
		bp_destroy(test, pool);
	}
}

struct bp_pipe {
	spinlock_t lock;		/* protects all of the pipe */
	struct bufpool_buf *slot[16];
	unsigned int head, tail;
	bool stop;
};

static int bp_pipe_producer(struct bp_worker *w)
{
	struct bp_pipe *p = w->priv;
	struct bufpool_buf *buf;
	int i;

	for (i = 0; i < 5000; i++) {
		buf = bufpool_alloc(w->pool, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		for (;;) {
			spin_lock(&p->lock);
			if (p->head - p->tail < ARRAY_SIZE(p->slot)) {
				p->slot[p->head++ % ARRAY_SIZE(p->slot)] = buf;
				spin_unlock(&p->lock);
				break;
			}
			spin_unlock(&p->lock);
			cond_resched();
		}
	}
	WRITE_ONCE(p->stop, true);
	return 0;
}

static int bp_pipe_consumer(struct bp_worker *w)
{
	struct bp_pipe *p = w->priv;
	struct bufpool_buf *buf;
	int got = 0;

	while (got < 5000) {
		buf = NULL;
		spin_lock(&p->lock);
		if (p->tail != p->head)
			buf = p->slot[p->tail++ % ARRAY_SIZE(p->slot)];
		spin_unlock(&p->lock);
		if (buf) {
			bufpool_put(buf);
			got++;
		} else {
			cond_resched();
		}
	}
	return 0;
}

/*
 * Allocate on CPU 0, free on CPU 1: the totals stay exact. Catches
 * per-CPU counters or magazines that lose buffers crossing CPUs.
 */
static void bp_cross_cpu(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-xcpu", 64, 64, 0, 0);
	struct bp_pipe *pipe = kunit_kzalloc(test, sizeof(*pipe), GFP_KERNEL);
	struct bp_worker *prod = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_pipe_producer, .priv = pipe,
	});
	struct bp_worker *cons = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_pipe_consumer, .priv = pipe, .id = 1,
	});
	struct bufpool_stats st;

	bp_need_cpus(test, 0);
	KUNIT_ASSERT_NOT_NULL(test, pipe);
	spin_lock_init(&pipe->lock);
	bp_start(test, cons, 1);
	bp_start(test, prod, 0);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&prod->done, 120 * HZ));
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&cons->done, 120 * HZ));
	KUNIT_EXPECT_EQ(test, prod->ret, 0);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.allocs, 5000);
	KUNIT_EXPECT_EQ(test, st.frees, 5000);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	KUNIT_EXPECT_EQ(test, st.free, st.backed);
	KUNIT_EXPECT_LE(test, st.backed, 64);
	bp_destroy(test, pool);
}

static int bp_fill_magazine(struct bp_worker *w)
{
	int i;

	for (i = 0; i < w->n; i++)
		w->bufs[i] = bufpool_alloc(w->pool, GFP_KERNEL);
	bufpool_put_bulk(w->n, w->bufs);
	return 0;
}

/*
 * With buffers idle in CPU 1's magazine, CPU 0 still gets every buffer of
 * the pool before being told it is empty: it takes them from there.
 */
static void bp_exhaustion_steals(struct kunit *test)
{
	unsigned int cap = bp_cap_for_mag(8);
	struct bufpool_buf **bufs;
	struct bufpool *pool;
	struct bp_worker *fill;
	struct bufpool_stats st;

	bp_need_cpus(test, cap);
	bufs = kunit_kcalloc(test, cap, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);
	pool = bp_create(test, "kunit-steal", 64, cap, 0, 0);
	fill = bp_new(test, &(struct bp_worker){ .pool = pool, .fn = bp_fill_magazine, .n = 4 });
	KUNIT_ASSERT_GE(test, pool->mag_mask, 3);
	bp_start(test, fill, 1);
	KUNIT_ASSERT_TRUE(test, bp_join(fill));
	KUNIT_EXPECT_EQ(test, bp_stats(pool).cached, 4);
	/* Blocking, but no sleep: taken from CPU 1, the rest grown. */
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk_wait(pool, GFP_KERNEL, cap, bufs,
						      TASK_UNINTERRUPTIBLE, 0), 0);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.backed, cap);
	KUNIT_EXPECT_EQ(test, st.cached, 0);
	KUNIT_EXPECT_EQ(test, st.steals, 4);
	KUNIT_EXPECT_EQ(test, st.sweeps, 0);
	bufpool_put_bulk(cap, bufs);
	bp_destroy(test, pool);
}

static int bp_put_held(struct bp_worker *w)
{
	bufpool_put(w->bufs[0]);
	return 0;
}

/*
 * A sleeper on CPU 0 is woken by a put on CPU 1 (not into a magazine).
 * Catches puts that go into a magazine while someone waits.
 */
static void bp_remote_put_wakes(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-remote", 64, 64, 0, 0);
	struct bufpool_buf *bufs[64];
	struct bp_worker *sleeper = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_alloc_one,
	});
	struct bp_worker *putter = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_put_held, .id = 1,
	});

	bp_need_cpus(test, 0);
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 64, bufs), 0);
	bp_start(test, sleeper, 0);
	KUNIT_ASSERT_TRUE(test, bp_wait_waiters(pool, 1));
	putter->bufs[0] = bufs[63];
	bp_start(test, putter, 1);
	KUNIT_ASSERT_TRUE(test, bp_join(putter));
	KUNIT_ASSERT_TRUE(test, bp_join(sleeper));
	KUNIT_EXPECT_EQ(test, sleeper->ret, 0);
	KUNIT_EXPECT_PTR_EQ(test, sleeper->bufs[0], bufs[63]);
	bufpool_put_bulk(63, bufs);
	bufpool_put(sleeper->bufs[0]);
	bp_destroy(test, pool);
}

/* Where bp_exact() takes the buffers from. */
enum bp_ctx { BP_TASK, BP_SOFTIRQ, BP_HARDIRQ, BP_IRQS_OFF, BP_SPINLOCK };

static const char * const bp_ctx_names[] = {
	[BP_TASK] = "task", [BP_SOFTIRQ] = "softirq", [BP_HARDIRQ] = "hard IRQ",
	[BP_IRQS_OFF] = "interrupts off", [BP_SPINLOCK] = "spinlock held",
};

static const enum bp_ctx bp_ctxs[] = {
	BP_TASK, BP_SOFTIRQ, BP_HARDIRQ, BP_IRQS_OFF, BP_SPINLOCK,
};

static void bp_ctx_desc(const enum bp_ctx *ctx, char *desc)
{
	strscpy(desc, bp_ctx_names[*ctx], KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bp_ctx, bp_ctxs, bp_ctx_desc);

struct bp_grab {
	struct bufpool *pool;
	struct bufpool_buf **bufs;
	unsigned int n;
	int got;
	enum bp_ctx ctx;
	spinlock_t lock;		/* held around the grab: BP_SPINLOCK */
	struct hrtimer timer;
	struct completion done;
};

/* Take buffers with GFP_ATOMIC until told the pool is empty, or n + 1. */
static void bp_grab_all(struct bp_grab *g)
{
	g->got = 0;
	while (g->got <= g->n &&
	       (g->bufs[g->got] = bufpool_alloc(g->pool, GFP_ATOMIC)))
		g->got++;
}

static enum hrtimer_restart bp_grab_timer(struct hrtimer *t)
{
	struct bp_grab *g = container_of(t, struct bp_grab, timer);

	bp_grab_all(g);
	complete(&g->done);
	return HRTIMER_NORESTART;
}

/* Grab in a softirq or a hard IRQ of this CPU, from an hrtimer. */
static void bp_grab_from_timer(struct bp_grab *g, enum hrtimer_mode mode)
{
	init_completion(&g->done);
	hrtimer_init(&g->timer, CLOCK_MONOTONIC, mode);
	g->timer.function = bp_grab_timer;
	hrtimer_start(&g->timer, ns_to_ktime(NSEC_PER_USEC), mode);
	wait_for_completion(&g->done);
	/* The timer core may still touch it after the callback's complete(). */
	hrtimer_cancel(&g->timer);
}

static int bp_grab_in_ctx(struct bp_worker *w)
{
	struct bp_grab *g = w->priv;

	switch (g->ctx) {
	case BP_TASK:
		bp_grab_all(g);
		break;
	case BP_SOFTIRQ:
		bp_grab_from_timer(g, HRTIMER_MODE_REL_PINNED_SOFT);
		break;
	case BP_HARDIRQ:
		bp_grab_from_timer(g, HRTIMER_MODE_REL_PINNED_HARD);
		break;
	case BP_IRQS_OFF:
		local_irq_disable();
		bp_grab_all(g);
		local_irq_enable();
		break;
	case BP_SPINLOCK:
		spin_lock(&g->lock);
		bp_grab_all(g);
		spin_unlock(&g->lock);
		break;
	}
	return 0;
}

/*
 * Exact at the cap in every context: with buffers idle in CPU 1's
 * magazine, CPU 0 takes every buffer of the pool with GFP_ATOMIC, from a
 * task, a softirq, a hard IRQ, with interrupts off and under a spinlock,
 * and only then is told the pool is empty. Catches an atomic caller told
 * "empty" while another CPU's magazine still holds buffers (bufpool used
 * to leave those to a drain it could only schedule, and the caller got
 * 60 of 64). The pool is filled at creation: on PREEMPT_RT a hard IRQ
 * may not grow it.
 */
static void bp_exact(struct kunit *test)
{
	const enum bp_ctx *ctx = test->param_value;
	unsigned int cap = bp_cap_for_mag(8);
	struct bp_grab *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);
	struct bufpool_buf **bufs;
	struct bufpool *pool;
	struct bp_worker *fill, *grab;
	struct bufpool_stats st;
	unsigned int parked;

	bp_need_cpus(test, cap);
	bufs = kunit_kcalloc(test, cap + 1, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);
	KUNIT_ASSERT_NOT_NULL(test, g);
	pool = bp_create(test, "kunit-exact", 64, cap, cap, 0);
	*g = (struct bp_grab){ .pool = pool, .bufs = bufs, .n = cap, .ctx = *ctx };
	fill = bp_new(test, &(struct bp_worker){ .pool = pool, .fn = bp_fill_magazine, .n = 4 });
	grab = bp_new(test, &(struct bp_worker){ .pool = pool, .fn = bp_grab_in_ctx, .priv = g });
	KUNIT_ASSERT_GE(test, pool->mag_mask, 3);
	spin_lock_init(&g->lock);
	bp_start(test, fill, 1);
	KUNIT_ASSERT_TRUE(test, bp_join(fill));
	parked = bp_stats(pool).cached;
	KUNIT_ASSERT_GT(test, parked, 0);

	bp_start(test, grab, 0);
	KUNIT_ASSERT_TRUE(test, bp_join(grab));
	KUNIT_EXPECT_EQ_MSG(test, g->got, cap, "from %s", bp_ctx_names[*ctx]);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.in_use, g->got);
	KUNIT_EXPECT_EQ(test, st.free, 0);
	KUNIT_EXPECT_EQ(test, st.fails, 1);

	/* CPU 1's could only be taken from its magazine. */
	KUNIT_EXPECT_EQ(test, st.steals, parked);
	/* A buffer put back, on whichever CPU, is found again. */
	bufpool_put(bufs[--g->got]);
	g->n = 1;
	g->bufs = bufs + g->got;
	bp_start(test, grab, 0);
	KUNIT_ASSERT_TRUE(test, bp_join(grab));
	KUNIT_EXPECT_EQ(test, g->got, 1);
	bufpool_put_bulk(cap, bufs);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).in_use, 0);
	bp_destroy(test, pool);
}

/*
 * A pool below its cap grows for a caller that cannot sleep, wherever
 * the slab may be called: a GFP_ATOMIC caller in softirq (a NIC's receive
 * path), with interrupts off or under a spinlock gets buffers that do not
 * exist yet. Catches growth refused to every caller but a preemptible
 * task. Not in hard IRQ, and on PREEMPT_RT not with interrupts off, where
 * the slab's locks would sleep: there the caller gets only what exists.
 */
static void bp_grow_in_ctx(struct kunit *test)
{
	const enum bp_ctx *ctx = test->param_value;
	struct bp_grab *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);
	struct bufpool_buf *bufs[5];
	struct bufpool *pool;
	struct bp_worker *grab;
	unsigned int want = 4;

	KUNIT_ASSERT_NOT_NULL(test, g);
	if (*ctx == BP_HARDIRQ ||
	    (IS_ENABLED(CONFIG_PREEMPT_RT) && *ctx == BP_IRQS_OFF))
		want = 0;
	pool = bp_create(test, "kunit-grow-ctx", 64, 4, 0, 0);
	*g = (struct bp_grab){ .pool = pool, .bufs = bufs, .n = 4, .ctx = *ctx };
	spin_lock_init(&g->lock);
	grab = bp_new(test, &(struct bp_worker){ .pool = pool, .fn = bp_grab_in_ctx, .priv = g });
	bp_start(test, grab, 0);
	KUNIT_ASSERT_TRUE(test, bp_join(grab));
	KUNIT_EXPECT_EQ_MSG(test, g->got, want, "from %s", bp_ctx_names[*ctx]);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).backed, want);
	bufpool_put_bulk(g->got, bufs);
	bp_destroy(test, pool);
}

/*
 * Hold one party inside a magazine section (preemption off): it spins,
 * in udelay()s, which read the TSC (a guest whose clocksource fell back
 * to jiffies sees no time pass with interrupts off), until @go or about
 * 300 ms. @act runs first, on the held party's CPU, to do what the race
 * needs there (arm a timer).
 */
struct bp_mag_hold {
	enum bufpool_test_point tp;
	struct task_struct *task;	/* the party to hold; NULL once held */
	void (*act)(struct bp_mag_hold *h);
	struct bufpool *pool;
	struct bufpool_buf *buf;	/* for @act to put */
	struct hrtimer timer;
	bool held;
	bool acted;			/* @act's work is done */
	bool go;
};

static struct bp_mag_hold *bp_mag_hold;

static void bp_mag_hold_hook(enum bufpool_test_point tp)
{
	struct bp_mag_hold *h = bp_mag_hold;
	unsigned int us;

	if (tp != h->tp || current != READ_ONCE(h->task))
		return;
	WRITE_ONCE(h->task, NULL);
	if (h->act)
		h->act(h);
	WRITE_ONCE(h->held, true);
	for (us = 0; us < 300 * USEC_PER_MSEC && !READ_ONCE(h->go); us++)
		udelay(1);
}

static void bp_mag_hold_on(struct kunit *test, struct bp_mag_hold *h,
			   enum bufpool_test_point tp)
{
	h->tp = tp;
	bp_mag_hold = h;
	bp_hook_on(test, bp_mag_hold_hook);
}

/*
 * Wait until the party is held; false after half of BP_WAIT_MS, so that a
 * worker waiting here is done before the case's cleanup gives up on it.
 */
static bool bp_mag_held(struct bp_mag_hold *h)
{
	unsigned long end = jiffies + msecs_to_jiffies(BP_WAIT_MS / 2);

	while (!READ_ONCE(h->held) && time_before(jiffies, end))
		usleep_range(1000, 2000);
	return READ_ONCE(h->held);
}

/* The held party's magazine work, from a hard IRQ on its CPU. */
static enum hrtimer_restart bp_mag_hold_timer(struct hrtimer *t)
{
	struct bp_mag_hold *h = container_of(t, struct bp_mag_hold, timer);

	bufpool_put(h->buf);
	WRITE_ONCE(h->acted, true);
	return HRTIMER_NORESTART;
}

/* The held party's allocation, from a hard IRQ on its CPU. */
static enum hrtimer_restart bp_mag_hold_alloc_timer(struct hrtimer *t)
{
	struct bp_mag_hold *h = container_of(t, struct bp_mag_hold, timer);

	h->buf = bufpool_alloc(h->pool, GFP_ATOMIC);
	WRITE_ONCE(h->acted, true);
	return HRTIMER_NORESTART;
}

/* @act: put h->buf from a hard IRQ on this CPU, and wait for it. */
static void bp_mag_hold_irq_put(struct bp_mag_hold *h)
{
	unsigned int us;

	hrtimer_start(&h->timer, ns_to_ktime(NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_HARD);
	for (us = 0; us < 300 * USEC_PER_MSEC && !READ_ONCE(h->acted); us++)
		udelay(1);
}

/* A sleeper to hold: bp_alloc_one(), marked for the hook. */
static int bp_held_alloc(struct bp_worker *w)
{
	struct bp_mag_hold *h = w->priv;

	WRITE_ONCE(h->task, current);
	return bp_alloc_one(w);
}

static int bp_held_put(struct bp_worker *w)
{
	struct bp_mag_hold *h = w->priv;

	WRITE_ONCE(h->task, current);
	bufpool_put(w->bufs[0]);
	return 0;
}

/*
 * Catches a put that looks at bypass only before filling its slot. The
 * put on CPU 1 read bypass clear and is held with its slot not yet
 * filled, while a sleeper on CPU 0 finds the pool empty, turns the
 * magazines off, makes every CPU pass a barrier, sweeps them (CPU 1's is
 * empty yet) and sleeps. The put then fills its slot: it must see the
 * waiter and hand its buffer over, or the sleeper sleeps with a buffer
 * idle in CPU 1's magazine until its timeout.
 */
static void bp_put_vs_sweep(struct kunit *test)
{
	unsigned int cap = bp_cap_for_mag(8);
	struct bp_mag_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bufpool_buf **bufs;
	struct bufpool *pool;
	struct bp_worker *putter, *sleeper;

	bp_need_cpus(test, cap);
	KUNIT_ASSERT_NOT_NULL(test, h);
	bufs = kunit_kcalloc(test, cap, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);
	pool = bp_create(test, "kunit-put-sweep", 64, cap, cap, 0);
	KUNIT_ASSERT_GT(test, pool->mag_mask, 0);
	putter = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_held_put, .priv = h, .id = 1,
	});
	sleeper = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_alloc_one, .state = TASK_UNINTERRUPTIBLE,
		.timeout = msecs_to_jiffies(BP_WAIT_MS),
	});
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, cap, bufs), 0);
	putter->bufs[0] = bufs[cap - 1];
	bp_mag_hold_on(test, h, BUFPOOL_TP_MAG_PUT);
	bp_start(test, putter, 1);
	KUNIT_ASSERT_TRUE(test, bp_mag_held(h));
	bp_start(test, sleeper, 0);
	KUNIT_ASSERT_TRUE(test, bp_wait_sweeps(pool, 1));
	WRITE_ONCE(h->go, true);
	KUNIT_ASSERT_TRUE(test, bp_join(putter));
	KUNIT_ASSERT_TRUE(test, bp_join(sleeper));
	KUNIT_EXPECT_EQ_MSG(test, sleeper->ret, 0,
			    "the sleeper was left asleep with a buffer idle");
	if (!sleeper->ret)
		bufpool_put(sleeper->bufs[0]);
	bufpool_put_bulk(cap - 1, bufs);
	bp_destroy(test, pool);
}

/* A put on CPU 1, once the sleeper on CPU 0 is held before it queues. */
static int bp_put_when_held(struct bp_worker *w)
{
	struct bp_mag_hold *h = w->priv;

	if (!bp_mag_held(h))
		return -ETIMEDOUT;
	bufpool_put(w->bufs[0]);
	WRITE_ONCE(h->go, true);
	return 0;
}

/*
 * Catches a first sleeper that does not sweep the magazines. It found
 * them all empty, and is held just before it queues (the magazines still
 * in use) while a put on CPU 1 fills a slot there. Once queued, it must
 * sweep that buffer out for itself: nothing else will bring it (later
 * puts go to the depot, allocations leave the magazines alone while
 * anyone waits), and it would sleep with a buffer idle.
 */
static void bp_sweep_finds_late_put(struct kunit *test)
{
	unsigned int cap = bp_cap_for_mag(8);
	struct bp_mag_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bufpool_buf **bufs;
	struct bufpool *pool;
	struct bp_worker *putter, *sleeper;

	bp_need_cpus(test, cap);
	KUNIT_ASSERT_NOT_NULL(test, h);
	bufs = kunit_kcalloc(test, cap, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);
	pool = bp_create(test, "kunit-late-put", 64, cap, cap, 0);
	KUNIT_ASSERT_GT(test, pool->mag_mask, 0);
	putter = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_put_when_held, .priv = h, .id = 1,
	});
	sleeper = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_held_alloc, .priv = h,
		.state = TASK_UNINTERRUPTIBLE, .timeout = msecs_to_jiffies(BP_WAIT_MS),
	});
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, cap, bufs), 0);
	putter->bufs[0] = bufs[cap - 1];
	bp_mag_hold_on(test, h, BUFPOOL_TP_ENQUEUE);
	bp_start(test, putter, 1);
	bp_start(test, sleeper, 0);
	KUNIT_ASSERT_TRUE(test, bp_join(putter));
	KUNIT_ASSERT_EQ(test, putter->ret, 0);
	KUNIT_ASSERT_TRUE(test, bp_join(sleeper));
	KUNIT_EXPECT_EQ_MSG(test, sleeper->ret, 0,
			    "the first sleeper slept with a buffer idle in a magazine");
	if (!sleeper->ret)
		bufpool_put(sleeper->bufs[0]);
	bufpool_put_bulk(cap - 1, bufs);
	bp_destroy(test, pool);
}

/*
 * Catches a magazine without its busy marker: a put on CPU 1 is held
 * with its slot not yet filled while a hard IRQ on CPU 1 puts another
 * buffer. The nested put must go to the depot; had it filled the same
 * slot, the held put would overwrite it, and one buffer would be lost.
 */
static void bp_nested_put(struct kunit *test)
{
	unsigned int cap = bp_cap_for_mag(8);
	struct bp_mag_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bufpool_buf *bufs[2];
	struct bufpool *pool;
	struct bp_worker *putter;
	struct bufpool_stats st;

	bp_need_cpus(test, cap);
	KUNIT_ASSERT_NOT_NULL(test, h);
	pool = bp_create(test, "kunit-nested", 64, cap, 0, 0);
	KUNIT_ASSERT_GT(test, pool->mag_mask, 0);
	putter = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_held_put, .priv = h, .id = 1,
	});
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 2, bufs), 0);
	putter->bufs[0] = bufs[0];
	h->buf = bufs[1];
	h->act = bp_mag_hold_irq_put;
	bp_timer_init(test, &h->timer, bp_mag_hold_timer,
		      HRTIMER_MODE_REL_PINNED_HARD);
	bp_mag_hold_on(test, h, BUFPOOL_TP_MAG_PUT);
	WRITE_ONCE(h->go, true);
	bp_start(test, putter, 1);
	KUNIT_ASSERT_TRUE(test, bp_join(putter));
	KUNIT_ASSERT_TRUE(test, READ_ONCE(h->acted));
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	KUNIT_EXPECT_EQ(test, st.backed, 2);
	KUNIT_EXPECT_EQ_MSG(test, st.free, 2, "a buffer put in an interrupt was lost");
	/* Both come out again, once each. */
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_ATOMIC, 2, bufs), 0);
	KUNIT_EXPECT_PTR_NE(test, bufs[0], bufs[1]);
	bufpool_put_bulk(2, bufs);
	bp_destroy(test, pool);
}

/*
 * Catches a refill that forgets the busy marker: a put on CPU 1 is held
 * with its slot not yet filled, its magazine empty, while a hard IRQ on
 * CPU 1 allocates and misses. The refill must give it one buffer and
 * leave the magazine to the put; had it filled the magazine, the put
 * would overwrite a slot and set the tail back, losing buffers or handing
 * one out twice.
 */
static void bp_nested_refill(struct kunit *test)
{
	unsigned int cap = bp_cap_for_mag(8), n;
	struct bp_mag_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bufpool_buf **bufs;
	struct bufpool *pool;
	struct bp_worker *putter;
	struct bufpool_stats st;

	bp_need_cpus(test, cap);
	KUNIT_ASSERT_NOT_NULL(test, h);
	bufs = kunit_kcalloc(test, cap + 3, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);
	pool = bp_create(test, "kunit-nested-refill", 64, cap, cap, 0);
	KUNIT_ASSERT_GT(test, pool->mag_mask, 0);
	h->pool = pool;
	putter = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_held_put, .priv = h, .id = 1,
	});
	/* Two from the depot, as a bulk request takes them: no magazine filled. */
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 2, bufs), 0);
	KUNIT_ASSERT_EQ(test, bp_stats(pool).cached, 0);
	putter->bufs[0] = bufs[0];
	h->act = bp_mag_hold_irq_put;
	bp_timer_init(test, &h->timer, bp_mag_hold_alloc_timer,
		      HRTIMER_MODE_REL_PINNED_HARD);
	bp_mag_hold_on(test, h, BUFPOOL_TP_MAG_PUT);
	WRITE_ONCE(h->go, true);
	bp_start(test, putter, 1);
	KUNIT_ASSERT_TRUE(test, bp_join(putter));
	KUNIT_ASSERT_TRUE(test, READ_ONCE(h->acted));
	KUNIT_ASSERT_NOT_NULL(test, h->buf);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.in_use, 2);
	KUNIT_EXPECT_EQ(test, st.free + st.in_use, st.backed);
	/* Every other buffer, once each, and none of those held. */
	for (n = 0; n <= cap && (bufs[n + 2] = bufpool_alloc(pool, GFP_ATOMIC)); n++)
		KUNIT_EXPECT_TRUE(test, bufs[n + 2] != bufs[1] && bufs[n + 2] != h->buf);
	KUNIT_EXPECT_EQ_MSG(test, n, cap - 2, "buffers lost or handed out twice");
	bufpool_put_bulk(n, bufs + 2);
	bufpool_put(bufs[1]);
	bufpool_put(h->buf);
	bp_destroy(test, pool);
}

/* The other CPU takes its own idle buffer while the scanner is held. */
static int bp_take_own_when_held(struct bp_worker *w)
{
	struct bp_mag_hold *h = w->priv;

	if (!bp_mag_held(h))
		return -ETIMEDOUT;
	w->bufs[0] = bufpool_alloc(w->pool, GFP_ATOMIC);
	WRITE_ONCE(h->go, true);
	return w->bufs[0] ? 0 : -ENOMEM;
}

static void bp_notified_unused(struct bufpool_notify *nb, int err)
{
}

/*
 * A notify request, which goes straight to the slow path (no refill, as
 * a bulk request): its steal is what the case holds. Queued, it is
 * cancelled; its return is the case's verdict.
 */
static int bp_grab_one(struct bp_worker *w)
{
	struct bp_mag_hold *h = w->priv;
	struct bufpool_notify nb;
	int ret;

	bufpool_notify_init(&nb, bp_notified_unused);
	WRITE_ONCE(h->task, current);
	ret = bufpool_alloc_notify(w->pool, 1, w->bufs, &nb);
	if (ret)
		bufpool_notify_cancel(&nb);
	return ret;
}

/*
 * Catches a steal that trusts one pass over the magazines. One buffer,
 * X, idles in CPU 1's magazine; every other is out. A request on CPU 0
 * finds its own magazine and the depot empty and steals: it is held
 * after looking at its own magazine (empty), while a hard IRQ on CPU 0
 * puts Y there and CPU 1 takes X. At every instant a buffer was idle (X,
 * then Y), so CPU 0 must not be told "empty" (its request queued): its
 * second pass sees its own magazine has changed, and it looks again.
 */
static void bp_steal_two_passes(struct kunit *test)
{
	unsigned int cap = bp_cap_for_mag(8);
	struct bp_mag_hold *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct bufpool_buf **bufs;
	struct bufpool *pool;
	struct bp_worker *fill, *other, *grab;

	bp_need_cpus(test, cap);
	KUNIT_ASSERT_NOT_NULL(test, h);
	bufs = kunit_kcalloc(test, cap, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);
	pool = bp_create(test, "kunit-steal2", 64, cap, 0, 0);
	KUNIT_ASSERT_GT(test, pool->mag_mask, 0);
	fill = bp_new(test, &(struct bp_worker){ .pool = pool, .fn = bp_fill_magazine, .n = 1 });
	other = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_take_own_when_held, .priv = h, .id = 1,
	});
	grab = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_grab_one, .priv = h, .id = 2,
	});
	/* Every buffer out but X, grown last and put in CPU 1's magazine. */
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, cap - 1, bufs), 0);
	bp_start(test, fill, 1);
	KUNIT_ASSERT_TRUE(test, bp_join(fill));
	KUNIT_ASSERT_EQ(test, bp_stats(pool).cached, 1);
	h->buf = bufs[cap - 2];
	h->act = bp_mag_hold_irq_put;
	bp_timer_init(test, &h->timer, bp_mag_hold_timer,
		      HRTIMER_MODE_REL_PINNED_HARD);
	bp_mag_hold_on(test, h, BUFPOOL_TP_STEAL);
	bp_start(test, other, 1);
	bp_start(test, grab, 0);
	KUNIT_ASSERT_TRUE(test, bp_join(grab));
	KUNIT_ASSERT_TRUE(test, bp_join(other));
	KUNIT_ASSERT_EQ(test, other->ret, 0);
	KUNIT_ASSERT_TRUE(test, READ_ONCE(h->acted));
	KUNIT_EXPECT_EQ_MSG(test, grab->ret, 0,
			    "told empty with a buffer idle at every instant");
	if (grab->ret)
		grab->bufs[0] = NULL;
	KUNIT_EXPECT_PTR_EQ(test, grab->bufs[0], h->buf);
	bufpool_put(grab->bufs[0]);
	bufpool_put(other->bufs[0]);
	bufpool_put_bulk(cap - 2, bufs);
	bp_destroy(test, pool);
}

/*
 * A buffer's first word says who holds it: @id claims it (false if
 * someone else still does), and gives it up just before it is put. Held
 * from take to put, a buffer handed to both CPUs is seen whichever
 * claims first.
 */
static bool bp_race_claim(struct bufpool_buf *buf, u64 id)
{
	return !cmpxchg((u64 *)bufpool_buf_data(buf), 0, id);
}

static bool bp_race_unclaim(struct bufpool_buf *buf, u64 id)
{
	return cmpxchg((u64 *)bufpool_buf_data(buf), id, 0) == id;
}

/*
 * CPU 0: takes (from CPU 1's magazine, its own stays empty) and hands
 * on, still claimed: CPU 1 gives the claim up and puts it.
 */
static int bp_race_taker(struct bp_worker *w)
{
	struct bp_pipe *p = w->priv;
	struct bufpool_buf *buf;
	int i, ret = 0;

	for (i = 0; i < 20000 && !ret; i++) {
		buf = bufpool_alloc(w->pool, GFP_ATOMIC);
		if (!buf) {
			cond_resched();
			continue;
		}
		if (!bp_race_claim(buf, 1)) {
			ret = -EBUSY;
			break;
		}
		for (;;) {
			spin_lock(&p->lock);
			if (p->head - p->tail < ARRAY_SIZE(p->slot)) {
				p->slot[p->head++ % ARRAY_SIZE(p->slot)] = buf;
				spin_unlock(&p->lock);
				break;
			}
			spin_unlock(&p->lock);
			cond_resched();
		}
	}
	WRITE_ONCE(p->stop, true);
	return ret;
}

/*
 * CPU 1: takes from its own magazine, and holds that across putting
 * what it was handed.
 */
static int bp_race_owner(struct bp_worker *w)
{
	struct bp_pipe *p = w->priv;
	struct bufpool_buf *buf, *handed;
	bool stop;
	int ret = 0;

	do {
		stop = READ_ONCE(p->stop);
		buf = bufpool_alloc(w->pool, GFP_ATOMIC);
		if (buf && !bp_race_claim(buf, 2)) {
			/* Not ours to put: its other holder will. */
			ret = -EBUSY;
			buf = NULL;
		}
		handed = NULL;
		spin_lock(&p->lock);
		if (p->tail != p->head)
			handed = p->slot[p->tail++ % ARRAY_SIZE(p->slot)];
		spin_unlock(&p->lock);
		if (handed) {
			if (!bp_race_unclaim(handed, 1))
				ret = -EBUSY;
			bufpool_put(handed);
		}
		if (buf) {
			if (!bp_race_unclaim(buf, 2))
				ret = -EBUSY;
			bufpool_put(buf);
		}
		cond_resched();
	} while (!stop || handed);
	return ret;
}

/*
 * Two CPUs taking from one magazine at once: its own CPU, and the other
 * CPU, whose magazine stays empty and takes from it. Catches a take
 * without the cmpxchg on head, which hands one buffer to both: each
 * claims what it holds until it is put, and finds the other's claim.
 */
static void bp_take_race(struct kunit *test)
{
	unsigned int cap = bp_cap_for_mag(8), i;
	struct bp_pipe *pipe = kunit_kzalloc(test, sizeof(*pipe), GFP_KERNEL);
	struct bufpool_buf **bufs;
	struct bufpool *pool;
	struct bp_worker *a, *b;

	bp_need_cpus(test, cap);
	KUNIT_ASSERT_NOT_NULL(test, pipe);
	bufs = kunit_kcalloc(test, cap, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);
	spin_lock_init(&pipe->lock);
	pool = bp_create(test, "kunit-take-race", 64, cap, cap, 0);
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, cap, bufs), 0);
	for (i = 0; i < cap; i++)
		*(u64 *)bufpool_buf_data(bufs[i]) = 0;
	bufpool_put_bulk(cap, bufs);
	a = bp_new(test, &(struct bp_worker){ .pool = pool, .fn = bp_race_taker, .priv = pipe });
	b = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_race_owner, .priv = pipe, .id = 1,
	});
	bp_start(test, b, 1);
	bp_start(test, a, 0);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&a->done, 120 * HZ));
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&b->done, 120 * HZ));
	KUNIT_EXPECT_EQ_MSG(test, a->ret, 0, "a buffer held by both CPUs at once");
	KUNIT_EXPECT_EQ_MSG(test, b->ret, 0, "a buffer held by both CPUs at once");
	KUNIT_EXPECT_GT(test, bp_stats(pool).steals, 0);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).in_use, 0);
	bp_destroy(test, pool);
}

/*
 * Whatever turns the magazines off ends, and they serve again. Catches
 * magazines left bypassed after a waiting episode: once the last waiter
 * has gone, a CPU cycling buffers hits its magazine again.
 */
static void bp_magazines_serve_again(struct kunit *test)
{
	unsigned int cap = bp_cap_for_mag(8);
	struct bufpool_buf **bufs;
	struct bufpool *pool;
	struct bp_worker *sleeper, *cycle;
	struct bufpool_stats before, after;
	int i;

	bp_need_cpus(test, cap);
	bufs = kunit_kcalloc(test, cap, sizeof(*bufs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs);
	pool = bp_create(test, "kunit-again", 64, cap, 0, 0);
	sleeper = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_alloc_one, .state = TASK_UNINTERRUPTIBLE,
		.timeout = msecs_to_jiffies(BP_WAIT_MS),
	});
	cycle = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_on_cpu_cycle, .n = 2, .id = 1,
	});
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, cap, bufs), 0);
	bp_start(test, sleeper, 0);
	KUNIT_ASSERT_TRUE(test, bp_wait_waiters(pool, 1));
	bufpool_put(bufs[cap - 1]);
	KUNIT_ASSERT_TRUE(test, bp_join(sleeper));
	KUNIT_ASSERT_EQ(test, sleeper->ret, 0);
	bufpool_put(sleeper->bufs[0]);
	bufpool_put_bulk(cap - 1, bufs);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).waiters, 0);
	/* They stay off a moment after the last waiter, then serve again. */
	for (i = 0; i < BP_WAIT_MS && READ_ONCE(pool->bypass); i++)
		usleep_range(1000, 2000);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(pool->bypass));
	before = bp_stats(pool);
	bp_start(test, cycle, 1);
	KUNIT_ASSERT_TRUE(test, bp_join(cycle));
	after = bp_stats(pool);
	/* 400 operations: all but a refill's worth hit. */
	KUNIT_EXPECT_GE(test, after.mag_hits - before.mag_hits, 400 - 2 * 2);
	bp_destroy(test, pool);
}

/*
 * A client that frees its pool when the last of its buffers comes home,
 * as objpool's users do: every buffer it has out holds a reference, and
 * whoever drops the last one (a task on either CPU, or a hard IRQ) takes
 * every buffer of the pool with GFP_ATOMIC, to be sure none is out, and
 * would then free the pool. Catches an atomic caller told "empty" while
 * buffers idle in a magazine: the client would count them as still out
 * and never free its pool.
 */
struct bp_rc {
	struct bufpool *pool;
	atomic_t live;			/* buffers out, + 1 while running */
	unsigned int cap;		/* the pool's, with magazines */
	struct bufpool_buf **all;	/* cap + 1 */
	int got;			/* what the teardown took */
	bool teardown_in_irq;
	int teardown_cpu;
	struct completion done;
	struct hrtimer timer;
	bool stop_timer;
	bool irq_drops_ref;		/* the timer drops the test's reference */
};

static void bp_rc_teardown(struct bp_rc *rc)
{
	int n = 0;

	while (n <= rc->cap &&
	       (rc->all[n] = bufpool_alloc(rc->pool, GFP_ATOMIC)))
		n++;
	rc->got = n;
	rc->teardown_in_irq = in_hardirq();
	rc->teardown_cpu = raw_smp_processor_id();
	complete(&rc->done);
}

static void bp_rc_unref(struct bp_rc *rc)
{
	if (atomic_dec_and_test(&rc->live))
		bp_rc_teardown(rc);
}

/* One use of a buffer by the client; false once it is being torn down. */
static bool bp_rc_use(struct bp_rc *rc)
{
	struct bufpool_buf *buf;

	if (!atomic_inc_not_zero(&rc->live))
		return false;
	buf = bufpool_alloc(rc->pool, GFP_ATOMIC);
	if (buf)
		bufpool_put(buf);
	bp_rc_unref(rc);
	return true;
}

static enum hrtimer_restart bp_rc_timer(struct hrtimer *t)
{
	struct bp_rc *rc = container_of(t, struct bp_rc, timer);

	if (READ_ONCE(rc->irq_drops_ref)) {
		WRITE_ONCE(rc->irq_drops_ref, false);
		bp_rc_unref(rc);
	}
	if (!bp_rc_use(rc) || READ_ONCE(rc->stop_timer))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(20 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

/* A thread of the client, using buffers. */
static int bp_rc_worker(struct bp_worker *w)
{
	struct bp_rc *rc = w->priv;
	int i;

	/* Until the teardown has begun (or a bound, should it never). */
	for (i = 0; i < w->n && bp_rc_use(rc); i++)
		;
	return 0;
}

/*
 * Who drops the last reference varies by round: a hard IRQ after the
 * threads have stopped (so it is the last), or the test or the IRQ while
 * threads on both CPUs still run (so any of them may be).
 */
static void bp_refcounted_teardown(struct kunit *test)
{
	struct bp_rc *rc = kunit_kzalloc(test, sizeof(*rc), GFP_KERNEL);
	int round, in_irq = 0;
	bool done;

	KUNIT_ASSERT_NOT_NULL(test, rc);
	rc->cap = bp_cap_for_mag(8);
	bp_need_cpus(test, rc->cap);
	rc->all = kunit_kcalloc(test, rc->cap + 1, sizeof(*rc->all), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rc->all);
	bp_timer_init(test, &rc->timer, bp_rc_timer, HRTIMER_MODE_REL_HARD);
	for (round = 0; round < 21; round++) {
		bool threads_first = round % 3 == 0;
		unsigned int uses = threads_first ? 2000 : 1000000;
		struct bp_worker *w[2];

		/* A hard IRQ may not grow a pool: it is full from the start. */
		rc->pool = bp_create(test, "kunit-refcount", 64, rc->cap,
				     rc->cap, 0);
		w[0] = bp_new(test, &(struct bp_worker){
			.pool = rc->pool, .fn = bp_rc_worker, .priv = rc, .n = uses,
		});
		w[1] = bp_new(test, &(struct bp_worker){
			.pool = rc->pool, .fn = bp_rc_worker, .priv = rc, .n = uses,
			.id = 1,
		});
		atomic_set(&rc->live, 1);
		init_completion(&rc->done);
		WRITE_ONCE(rc->stop_timer, false);
		WRITE_ONCE(rc->irq_drops_ref, false);
		hrtimer_start(&rc->timer, ns_to_ktime(20 * NSEC_PER_USEC),
			      HRTIMER_MODE_REL_HARD);
		bp_start(test, w[0], 0);
		bp_start(test, w[1], 1);
		if (threads_first) {
			KUNIT_EXPECT_TRUE(test, bp_join(w[0]));
			KUNIT_EXPECT_TRUE(test, bp_join(w[1]));
		} else {
			msleep(1 + round % 4);
		}
		/* The run is over: whoever is last out tears down. */
		if (threads_first || round % 3 == 2)
			WRITE_ONCE(rc->irq_drops_ref, true);
		else
			bp_rc_unref(rc);
		done = wait_for_completion_timeout(&rc->done,
						   msecs_to_jiffies(BP_WAIT_MS));
		/* Before any assertion: the timer and threads use @rc. */
		WRITE_ONCE(rc->stop_timer, true);
		hrtimer_cancel(&rc->timer);
		if (!threads_first) {
			KUNIT_ASSERT_TRUE(test, bp_join(w[0]));
			KUNIT_ASSERT_TRUE(test, bp_join(w[1]));
		}
		KUNIT_ASSERT_TRUE(test, done);
		KUNIT_EXPECT_EQ_MSG(test, rc->got, rc->cap,
				    "round %d: the last put, %s on CPU %d, found %d of %d buffers home",
				    round, rc->teardown_in_irq ? "in hard IRQ" : "in a task",
				    rc->teardown_cpu, rc->got, rc->cap);
		in_irq += rc->teardown_in_irq;
		bufpool_put_bulk(rc->got, rc->all);
		bp_destroy(test, rc->pool);
	}
	KUNIT_EXPECT_GE(test, in_irq, 7);
	kunit_info(test, "%d of 21 teardowns ran in hard IRQ\n", in_irq);
}

/* A CPU going offline hands its magazine back. */
/* Whatever the case did, CPU 1 is back for the next one. */
static void bp_cpu_back(void *unused)
{
	if (!cpu_online(1))
		add_cpu(1);
}

/*
 * A CPU going offline hands its magazine back. Catches buffers stranded
 * in a dead CPU's magazine.
 */
static void bp_cpu_offline(struct kunit *test)
{
	unsigned int cap = bp_cap_for_mag(8);
	struct bufpool *pool;
	struct bp_worker *fill;
	struct bufpool_stats st;
	int err;

	bp_need_cpus(test, cap);
	pool = bp_create(test, "kunit-hotplug", 64, cap, 0, 0);
	fill = bp_new(test, &(struct bp_worker){ .pool = pool, .fn = bp_fill_magazine, .n = 4 });
	bp_start(test, fill, 1);
	KUNIT_ASSERT_TRUE(test, bp_join(fill));
	KUNIT_EXPECT_EQ(test, bp_stats(pool).cached, 4);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, bp_cpu_back, NULL), 0);
	err = remove_cpu(1);
	KUNIT_ASSERT_EQ(test, err, 0);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.cached, 0);
	KUNIT_EXPECT_EQ(test, st.free, 4);
	KUNIT_EXPECT_EQ(test, st.sweeps, 0);
	KUNIT_EXPECT_EQ(test, add_cpu(1), 0);
	bp_destroy(test, pool);
}

static unsigned long bp_shrink(struct bufpool *pool, unsigned long n, bool scan)
{
	struct shrinker *s = pool->shrinker;
	struct shrink_control sc = { .gfp_mask = GFP_KERNEL, .nr_to_scan = n };

	return scan ? s->scan_objects(s, &sc) : s->count_objects(s, &sc);
}

/*
 * The shrinker frees idle buffers above the reserve and nothing else.
 * Catches a shrinker that eats the reserve or frees buffers in use.
 */
static void bp_shrinker(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-shrink", 64, 32, 4,
					 BUFPOOL_F_NO_MAGAZINES);
	struct bufpool_buf *bufs[32];
	struct bufpool_stats st;

	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 20, bufs), 0);
	bufpool_put_bulk(14, bufs + 6);		/* 6 stay in use */
	KUNIT_EXPECT_EQ(test, bp_stats(pool).backed, 20);
	/* 14 idle; the reserve keeps 4 of the 20 backed. */
	KUNIT_EXPECT_EQ(test, bp_shrink(pool, 0, false), 14);
	KUNIT_EXPECT_EQ(test, bp_shrink(pool, 5, true), 5);
	KUNIT_EXPECT_EQ(test, bp_shrink(pool, 100, true), 9);
	KUNIT_EXPECT_EQ(test, bp_shrink(pool, 100, true), SHRINK_STOP);
	KUNIT_EXPECT_EQ(test, bp_shrink(pool, 0, false), SHRINK_EMPTY);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.backed, 6);
	KUNIT_EXPECT_EQ(test, st.in_use, 6);
	KUNIT_EXPECT_EQ(test, st.shrink_freed, 14);
	/* With everything back, it stops at the reserve. */
	bufpool_put_bulk(6, bufs);
	KUNIT_EXPECT_EQ(test, bp_shrink(pool, 100, true), 2);
	KUNIT_EXPECT_EQ(test, bp_stats(pool).backed, 4);
	/* The buffers in use were untouched: the pool still serves its cap. */
	KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 32, bufs), 0);
	bufpool_put_bulk(32, bufs);
	bp_destroy(test, pool);
}

/*
 * Catches the shrinker taking the pool below min_bufs. A slot reserved
 * for growth is counted as a buffer before it is one; a scan during that
 * allocation used to free a real buffer against it, and when the
 * allocation then failed the pool was left with fewer than min_bufs.
 */
static void bp_shrinker_vs_growth(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-shrink-grow", 64, 4, 2,
					 BUFPOOL_F_NO_MAGAZINES);
	struct bp_grow_hold *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);
	struct bp_worker *w = bp_new(test, &(struct bp_worker){
		.pool = pool, .fn = bp_alloc_held, .priv = g,
	});
	struct bufpool_buf *bufs[2];

	KUNIT_ASSERT_NOT_NULL(test, g);
	bp_need_faults(test);
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 2, bufs), 0);
	bp_grow_hold_on(test, g);
	bp_start(test, w, -1);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&g->growing,
							    msecs_to_jiffies(BP_WAIT_MS)));
	/* Two buffers idle, the reserve is two, a third is being created. */
	bufpool_put_bulk(2, bufs);
	bp_shrink(pool, 100, true);
	complete(&g->go);		/* the third is never created */
	KUNIT_ASSERT_TRUE(test, bp_join(w));
	bp_fault_off();
	KUNIT_EXPECT_EQ(test, w->ret, 0);
	KUNIT_EXPECT_GE_MSG(test, bp_stats(pool).backed, 2,
			    "the shrinker freed part of the min_bufs reserve");
	if (!w->ret)
		bufpool_put(w->bufs[0]);
	bp_destroy(test, pool);
}

/*
 * Both CPUs at once through magazines, depot and waits (four callers of
 * five buffers share sixteen): stats equal the truth.
 */
static void bp_concurrent_stats(struct kunit *test)
{
	struct bufpool *pool = bp_create(test, "kunit-conc", 128, 16, 2, 0);
	struct bufpool_stats st;

	bp_run_all(test, pool, bp_hammer, 4, 5);
	st = bp_stats(pool);
	KUNIT_EXPECT_EQ(test, st.allocs, 4 * 5 * 1000);
	KUNIT_EXPECT_EQ(test, st.frees, 4 * 5 * 1000);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	KUNIT_EXPECT_EQ(test, st.free, st.backed);
	KUNIT_EXPECT_LE(test, st.backed, 16);
	KUNIT_EXPECT_LE(test, st.high_watermark, 16);
	bp_destroy(test, pool);
}

static struct kunit_case bp_create_cases[] = {
	KUNIT_CASE(bp_create_destroy),
	KUNIT_CASE_PARAM(bp_invalid_params, bp_bad_gen_params),
	KUNIT_CASE(bp_null_params),
	KUNIT_CASE(bp_duplicate_name),
	KUNIT_CASE(bp_create_fault_each_allocation),
	KUNIT_CASE(bp_bad_calls),
	KUNIT_CASE(bp_destroy_frees_all),
	{}
};

static struct kunit_suite bp_create_suite = {
	.name = "bufpool_create",
	.test_cases = bp_create_cases,
	.init = bp_init,
	.exit = bp_exit,
	.suite_init = bp_log_start,
	.suite_exit = bp_log_stop,
};

static struct kunit_case bp_buf_cases[] = {
	KUNIT_CASE(bp_alloc_put),
	KUNIT_CASE(bp_alignment),
	KUNIT_CASE(bp_zeroing),
	KUNIT_CASE(bp_poison),
	KUNIT_CASE(bp_exhaustion_atomic),
	KUNIT_CASE(bp_isolation),
	KUNIT_CASE(bp_refcount),
	KUNIT_CASE(bp_double_put),
	KUNIT_CASE(bp_double_put_race),
	KUNIT_CASE(bp_put_foreign),
	KUNIT_CASE(bp_stats_add_up),
	{}
};

static struct kunit_suite bp_buf_suite = {
	.name = "bufpool_buffers",
	.test_cases = bp_buf_cases,
	.init = bp_init,
	.exit = bp_exit,
	.suite_init = bp_log_start,
	.suite_exit = bp_log_stop,
};

static struct kunit_case bp_wait_cases[] = {
	KUNIT_CASE(bp_sleeper_wakes_on_put),
	KUNIT_CASE(bp_timeout),
	KUNIT_CASE(bp_signal),
	KUNIT_CASE(bp_killable),
	KUNIT_CASE(bp_fifo),
	KUNIT_CASE(bp_bulk_all_or_nothing),
	KUNIT_CASE(bp_bulk_not_starved),
	KUNIT_CASE(bp_two_bulk_no_deadlock),
	KUNIT_CASE(bp_many_threads),
	KUNIT_CASE(bp_put_from_hardirq),
	KUNIT_CASE(bp_irq_vs_fast_path),
	KUNIT_CASE(bp_destroy_with_waiter),
	KUNIT_CASE(bp_destroy_waiter_exit),
	KUNIT_CASE(bp_grow_failure),
	KUNIT_CASE(bp_grow_failure_wakes_head),
	{}
};

static struct kunit_suite bp_wait_suite = {
	.name = "bufpool_wait",
	.test_cases = bp_wait_cases,
	.init = bp_init,
	.exit = bp_exit,
	.suite_init = bp_log_start,
	.suite_exit = bp_log_stop,
};

static struct kunit_case bp_percpu_cases[] = {
	KUNIT_CASE(bp_magazine_hits),
	KUNIT_CASE(bp_fails_not_misses),
	KUNIT_CASE(bp_cross_cpu),
	KUNIT_CASE(bp_exhaustion_steals),
	KUNIT_CASE(bp_remote_put_wakes),
	KUNIT_CASE_PARAM(bp_exact, bp_ctx_gen_params),
	KUNIT_CASE_PARAM(bp_grow_in_ctx, bp_ctx_gen_params),
	KUNIT_CASE(bp_put_vs_sweep),
	KUNIT_CASE(bp_sweep_finds_late_put),
	KUNIT_CASE(bp_nested_put),
	KUNIT_CASE(bp_nested_refill),
	KUNIT_CASE(bp_steal_two_passes),
	KUNIT_CASE(bp_take_race),
	KUNIT_CASE(bp_magazines_serve_again),
	KUNIT_CASE(bp_refcounted_teardown),
	KUNIT_CASE(bp_cpu_offline),
	KUNIT_CASE(bp_shrinker),
	KUNIT_CASE(bp_shrinker_vs_growth),
	KUNIT_CASE(bp_concurrent_stats),
	{}
};

static struct kunit_suite bp_percpu_suite = {
	.name = "bufpool_percpu",
	.test_cases = bp_percpu_cases,
	.init = bp_init,
	.exit = bp_exit,
	.suite_init = bp_log_start,
	.suite_exit = bp_log_stop,
};

kunit_test_suites(&bp_create_suite, &bp_buf_suite, &bp_wait_suite,
		  &bp_percpu_suite);

MODULE_DESCRIPTION("KUnit tests for bufpool");
MODULE_LICENSE("GPL");
