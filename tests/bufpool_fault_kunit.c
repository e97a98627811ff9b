// SPDX-License-Identifier: GPL-2.0
/*
 * The fault-injection series: a pool's whole life (create, growth to its
 * cap through the magazines, destroy) run again and again, with its 1st,
 * 2nd, ... Nth allocation failed, one per run, until a run sees no
 * failure. Two walks per layout of pool:
 *
 *  - bufpool's own fault point (bufpool_fault(), which every allocation
 *    bufpool makes asks first): the count of failures must equal the
 *    count of allocations the pool's geometry says it makes, so that no
 *    allocation escapes the fault point;
 *  - every fault-injection site the life reaches, through the task's
 *    fail-nth (as syzkaller does): bufpool's point, and failslab on the
 *    slab caches tests/torture.sh flags for its cache filter (the
 *    headers', the XArray's nodes, debugfs's dentries and inodes) once
 *    it has turned failslab's ignore-gfp-wait off.
 *
 * Each run must end with a clean error from bufpool_create(), or with a
 * working pool whose sleeping allocations waited out the failure, whose
 * atomic ones failed cleanly, and whose counters account for every
 * buffer; kmemleak and the guest's verdict check that nothing leaked and
 * nothing warned. The counts of failures survived are printed.
 */
#include <kunit/test.h>
#include <linux/bufpool.h>
#include <linux/debug_locks.h>
#include <linux/fault-inject.h>
#include <linux/sched.h>

#include "bufpool_internal.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define BPF_MAX		8	/* each pool's cap: growth from min_bufs to it */
#define BPF_MAX_RUNS	1000	/* a walk that goes on longer is broken */

struct bpf_layout {
	const char *name;
	size_t buf_size;
	unsigned int flags;
};

static const struct bpf_layout bpf_layouts[] = {
	{ "inline", 200, 0 },
	{ "apart", 4096, 0 },
	{ "lookup", 512, BUFPOOL_F_LOOKUP },
	{ "nomag", 64, BUFPOOL_F_NO_MAGAZINES | BUFPOOL_F_POISON },
};

static void bpf_layout_desc(const struct bpf_layout *l, char *desc)
{
	strscpy(desc, l->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bpf_layout, bpf_layouts, bpf_layout_desc);

#ifdef CONFIG_FAULT_INJECTION
/* Undo whatever a case armed, however it ends. */
static void bpf_disarm(void *unused)
{
	bufpool_fault_attr.probability = 0;
	bufpool_fault_attr.task_filter = false;
	atomic_set(&bufpool_fault_attr.times, 1);
	atomic_set(&bufpool_fault_attr.space, 0);
	current->make_it_fail = 0;
	current->fail_nth = 0;
}

/* Fail the @nth call of bufpool's fault point by this task, only that. */
static void bpf_arm_point(int nth)
{
	bufpool_fault_attr.verbose = 0;
	bufpool_fault_attr.interval = 1;
	bufpool_fault_attr.task_filter = true;
	atomic_set(&bufpool_fault_attr.space, nth);
	atomic_set(&bufpool_fault_attr.times, 1);
	current->make_it_fail = 1;
	bufpool_fault_attr.probability = 100;
}

/* Disarm; did the armed failure happen? */
static bool bpf_fired_point(void)
{
	bool fired = !atomic_read(&bufpool_fault_attr.times);

	bpf_disarm(NULL);
	return fired;
}

/* Fail the @nth fault-injection site this task reaches, whatever it is. */
static void bpf_arm_nth(int nth)
{
	bufpool_fault_attr.verbose = 0;
	current->fail_nth = nth;
}

static bool bpf_fired_nth(void)
{
	bool fired = !current->fail_nth;

	bpf_disarm(NULL);
	return fired;
}
#else
static void bpf_disarm(void *unused)
{
}

static void bpf_arm_point(int nth)
{
}

static bool bpf_fired_point(void)
{
	return false;
}

static void bpf_arm_nth(int nth)
{
}

static bool bpf_fired_nth(void)
{
	return false;
}
#endif

static struct bufpool_stats bpf_stats(struct bufpool *pool)
{
	struct bufpool_stats st;

	bufpool_get_stats(pool, &st);
	return st;
}

/*
 * The allocations bufpool_fault() guards in a pool's life: the pool, its
 * name, the slab cache's name and the cache, the per-CPU state and, with
 * magazines, their summary, the shrinker, and for each buffer its data,
 * its header if apart and its index entry.
 */
static unsigned int bpf_expected_points(struct bufpool *pool)
{
	unsigned int per_buf = 2 + !pool->buf_offset;

	return 6 + !!pool->mag_mask + BPF_MAX * per_buf;
}

/*
 * One life, armed by the caller: create with a reserve of two, take the
 * cap without sleeping (growth may fail: a clean NULL), then sleeping
 * (growth may fail: the caller waits and it is tried again), give all
 * back, destroy. Returns the create error, or 0 for a life lived.
 */
static int bpf_life(struct kunit *test, const struct bpf_layout *l,
		    unsigned int *points)
{
	struct bufpool_params p = {
		.name = "kunit-fault-life", .buf_size = l->buf_size,
		.max_bufs = BPF_MAX, .min_bufs = 2, .flags = l->flags,
	};
	struct bufpool_buf *bufs[BPF_MAX], *atomic_buf;
	struct bufpool_stats st;
	struct bufpool *pool;
	int err;

	pool = bufpool_create(&p);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	atomic_buf = bufpool_alloc(pool, GFP_ATOMIC);
	err = bufpool_alloc_bulk_wait(pool, GFP_KERNEL, BPF_MAX - !!atomic_buf,
				      bufs, TASK_UNINTERRUPTIBLE, 10 * HZ);
	if (points)
		*points = bpf_expected_points(pool);
	st = bpf_stats(pool);
	KUNIT_EXPECT_EQ_MSG(test, err, 0, "a sleeping caller did not wait out a failed growth");
	KUNIT_EXPECT_EQ(test, st.in_use, err ? !!atomic_buf : BPF_MAX);
	KUNIT_EXPECT_EQ(test, st.backed, st.free + st.in_use);
	KUNIT_EXPECT_LE(test, st.grow_fails, 1);
	if (!err)
		bufpool_put_bulk(BPF_MAX - !!atomic_buf, bufs);
	bufpool_put(atomic_buf);
	st = bpf_stats(pool);
	KUNIT_EXPECT_EQ(test, st.in_use, 0);
	KUNIT_EXPECT_EQ(test, st.allocs, st.frees);
	KUNIT_EXPECT_EQ(test, st.backed, st.free);
	bufpool_destroy(pool);
	return 0;
}

static void bpf_need_faults(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_FAULT_INJECTION))
		kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, bpf_disarm, NULL), 0);
}

/*
 * Catches an allocation that fails without a clean error (a create that
 * returns a half-built pool, a leak on an error path, a sleeping caller
 * told "empty" when growth failed) and, by the exact count, a new
 * allocation that bypasses the fault point.
 */
static void bpf_each_point(struct kunit *test)
{
	const struct bpf_layout *l = test->param_value;
	unsigned int nth, points = 0, survived = 0;
	bool fired;
	int err;

	bpf_need_faults(test);
	for (nth = 1; nth < BPF_MAX_RUNS; nth++) {
		bpf_arm_point(nth);
		err = bpf_life(test, l, NULL);
		fired = bpf_fired_point();
		if (!fired)
			break;
		survived++;
		KUNIT_EXPECT_TRUE_MSG(test, !err || err == -ENOMEM,
				      "run %u: create failed with %d", nth, err);
		/* Catches an error path that takes a lock never initialised. */
		KUNIT_EXPECT_TRUE_MSG(test, debug_locks,
				      "run %u: lockdep turned itself off", nth);
	}
	KUNIT_ASSERT_LT(test, nth, BPF_MAX_RUNS);
	KUNIT_EXPECT_EQ(test, bpf_life(test, l, &points), 0);
	KUNIT_EXPECT_EQ_MSG(test, survived, points,
			    "failures survived vs allocations bufpool makes");
	kunit_info(test, "%s: %u injected failures survived (bufpool's fault point)\n",
		   l->name, survived);
}

/*
 * Catches the same at every allocation the life reaches that failslab
 * is let fail, the kernel's own on bufpool's behalf included (debugfs
 * entries, the XArray's nodes): an error path that frees what it did not
 * get or keeps what it did, a debugfs failure that fails the pool.
 */
static void bpf_each_site(struct kunit *test)
{
	const struct bpf_layout *l = test->param_value;
	unsigned int nth, survived = 0, enomem = 0;
	int err;

	bpf_need_faults(test);
	for (nth = 1; nth < BPF_MAX_RUNS; nth++) {
		bpf_arm_nth(nth);
		err = bpf_life(test, l, NULL);
		if (!bpf_fired_nth())
			break;
		survived++;
		enomem += err == -ENOMEM;
		KUNIT_EXPECT_TRUE_MSG(test, !err || err == -ENOMEM,
				      "run %u: create failed with %d", nth, err);
	}
	KUNIT_ASSERT_LT(test, nth, BPF_MAX_RUNS);
	/* At least bufpool's own: the fault point counts as a site. */
	KUNIT_EXPECT_GE(test, survived, 6 + BPF_MAX);
	kunit_info(test, "%s: %u injected failures survived (every site; %u creates failed)\n",
		   l->name, survived, enomem);
}

static struct kunit_case bpf_cases[] = {
	KUNIT_CASE_PARAM(bpf_each_point, bpf_layout_gen_params),
	KUNIT_CASE_PARAM(bpf_each_site, bpf_layout_gen_params),
	{}
};

static struct kunit_suite bpf_suite = {
	.name = "bufpool_fault",
	.test_cases = bpf_cases,
};

kunit_test_suite(bpf_suite);

MODULE_DESCRIPTION("bufpool: every allocation failed in turn");
MODULE_LICENSE("GPL");
