// SPDX-License-Identifier: GPL-2.0
/*
 * The misuse table of Documentation/bufpool.rst ("Misuse"), one case a
 * row that tests/bufpool_kunit.c does not already cover: each misuse has
 * its documented outcome (an error code, one report naming the pool or
 * the caller, or refcount_t's WARN), and the pool, and a bystander pool,
 * keep working for everyone else.
 *
 * Two cases provoke a WARN on purpose, so this module runs in a boot of
 * its own (scripts/check), whose verdict allows exactly the two WARNs
 * that bm_refcount_saturated expects (VM_EXPECT_WARNS=2) and no other.
 */
#include <kunit/test.h>
#include <linux/bufpool.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/limits.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "bufpool_internal.h"
#include "bufpool_misuse_probe.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

/* bufpool_destroy() complains every BUFPOOL_DESTROY_WARN: wait three. */
#define BM_WAIT_MS	(3 * BUFPOOL_DESTROY_WARN * 1000 / HZ)

/* Each case's: a pool nobody misuses, which must go on working. */
struct bm_case {
	struct bufpool *bystander;
};

static struct bufpool *bm_create(struct kunit *test, const char *name,
				 unsigned int max, unsigned int flags)
{
	struct bufpool_params p = {
		.name = name, .buf_size = 64, .max_bufs = max, .flags = flags,
	};
	struct bufpool *pool = bufpool_create(&p);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	return pool;
}

/* Whole-pool use: every buffer out, then home, counted. */
static void bm_expect_works(struct kunit *test, struct bufpool *pool,
			    unsigned int n)
{
	struct bufpool_buf *bufs[4];
	struct bufpool_stats before, after;

	bufpool_get_stats(pool, &before);
	KUNIT_ASSERT_LE(test, n, ARRAY_SIZE(bufs));
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, n, bufs), 0);
	bufpool_put_bulk(n, bufs);
	bufpool_get_stats(pool, &after);
	KUNIT_EXPECT_EQ(test, after.allocs - before.allocs, n);
	KUNIT_EXPECT_EQ(test, after.frees - before.frees, n);
	KUNIT_EXPECT_EQ(test, after.in_use, before.in_use);
}

static int bm_init(struct kunit *test)
{
	struct bm_case *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	struct bufpool_params p = {
		.name = "misuse-bystander", .buf_size = 64, .max_bufs = 4,
	};

	if (!c)
		return -ENOMEM;
	c->bystander = bufpool_create(&p);
	if (IS_ERR(c->bystander))
		return PTR_ERR(c->bystander);
	test->priv = c;
	bp_log_reset();
	return 0;
}

static void bm_exit(struct kunit *test)
{
	struct bm_case *c = test->priv;

	bufpool_destroy(c->bystander);
}

static struct bufpool *bm_bystander(struct kunit *test)
{
	return ((struct bm_case *)test->priv)->bystander;
}

static atomic_t bm_notified;

static void bm_notify_fn(struct bufpool_notify *nb, int err)
{
	atomic_inc(&bm_notified);
}

/*
 * A NULL or ERR_PTR pool, to every call that takes a pool: each fails as
 * its kind does (NULL, or -EINVAL) with one report naming the call and
 * its caller, and touches no pool; a destroy of one is nothing, quietly,
 * and its name "(none)", as kfree(NULL) is nothing. A get or put of NULL
 * is nothing, quietly; of an ERR_PTR, one report and nothing done.
 * Catches a check that was dropped (an oops on the bad pointer), one
 * that reports twice, and a notify request taken for a pool that is none.
 */
static void bm_null_and_err_ptr(struct kunit *test)
{
	struct bufpool *bad[] = { NULL, ERR_PTR(-ENOMEM) };
	static const char * const what[] = {
		"NULL is not a pool", "an ERR_PTR is not a pool",
	};
	struct bufpool_buf *bufs[2] = { ERR_PTR(-EIO), NULL };
	struct bufpool_notify nb;
	struct bufpool_stats st;
	struct scatterlist sg;
	int i;

	bufpool_notify_init(&nb, bm_notify_fn);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_NULL(test, bufpool_alloc(bad[i], GFP_KERNEL));
		bp_expect_report_from(test, 1, "bufpool_alloc", __func__, what[i]);
		KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_alloc_wait(bad[i], GFP_KERNEL,
								 TASK_KILLABLE, HZ)),
				-EINVAL);
		bp_expect_report_from(test, 1, "bufpool_alloc_wait", __func__, what[i]);
		KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk_wait(bad[i], GFP_KERNEL, 1, bufs,
							      TASK_KILLABLE, HZ),
				-EINVAL);
		bp_expect_report_from(test, 1, "bufpool_alloc_bulk_wait", __func__, what[i]);
		KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk(bad[i], GFP_ATOMIC, 1, bufs),
				-EINVAL);
		bp_expect_report_from(test, 1, "bufpool_alloc_bulk", __func__, what[i]);
		KUNIT_EXPECT_EQ(test, bufpool_alloc_sg(bad[i], GFP_ATOMIC, 1, bufs, &sg),
				-EINVAL);
		bp_expect_report_from(test, 1, "bufpool_alloc_sg", __func__, what[i]);
		KUNIT_EXPECT_EQ(test, bufpool_alloc_notify(bad[i], 1, bufs, &nb), -EINVAL);
		bp_expect_report_from(test, 1, "bufpool_alloc_notify", __func__, what[i]);
		KUNIT_EXPECT_NULL(test, bufpool_data_to_buf(bad[i], &st));
		bp_expect_report_from(test, 1, "bufpool_data_to_buf", __func__, what[i]);
		bufpool_get_stats(bad[i], &st);
		KUNIT_EXPECT_EQ(test, st.allocs + st.backed + st.in_use, 0);
		bp_expect_report_from(test, 1, "bufpool_get_stats", __func__, what[i]);
		/* As kfree(NULL): a destroy of what bufpool_create() failed. */
		bufpool_destroy(bad[i]);
		bufpool_destroy_async(bad[i], NULL, NULL);
		KUNIT_EXPECT_STREQ(test, bufpool_name(bad[i]), "(none)");
	}
	bufpool_put(NULL);
	KUNIT_EXPECT_NULL(test, bufpool_get(NULL));
	KUNIT_EXPECT_EQ(test, atomic_read(&bm_notified), 0);
	bp_expect_reports(test, 2 * 8, "bufpool", NULL);

	bufpool_put(ERR_PTR(-ENOMEM));
	bp_expect_report_from(test, 1, "bufpool_put", __func__, "ERR_PTR(-12) is not a buffer");
	KUNIT_EXPECT_NULL(test, bufpool_get(ERR_PTR(-ENOMEM)));
	bp_expect_report_from(test, 1, "bufpool_get", __func__, "ERR_PTR(-12) is not a buffer");
	bufpool_put_bulk(2, bufs);
	bp_expect_report_from(test, 1, "bufpool_put_bulk", __func__, "ERR_PTR(-5) is not a buffer");
	bp_expect_reports(test, 2 * 8 + 3, "bufpool", NULL);
	bm_expect_works(test, bm_bystander(test), 4);
}

/*
 * A buffer belongs to the pool it came from, whatever the caller
 * thinks: a put, or a bulk put of buffers of two pools, sends each home.
 * Asking pool A for the buffer of data from pool B is answered with NULL
 * and one report naming A. Catches a put that returns a buffer to the
 * wrong pool, or a lookup that trusts the caller's pool.
 */
static void bm_other_pools_buffer(struct kunit *test)
{
	struct bufpool *a = bm_create(test, "misuse-a", 2, BUFPOOL_F_LOOKUP);
	struct bufpool *b = bm_bystander(test);
	struct bufpool_buf *bufs[2];
	struct bufpool_stats sa, sb;

	bufs[0] = bufpool_alloc(a, GFP_KERNEL);
	bufs[1] = bufpool_alloc(b, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bufs[0]);
	KUNIT_ASSERT_NOT_NULL(test, bufs[1]);
	KUNIT_EXPECT_NULL(test, bufpool_data_to_buf(a, bufpool_buf_data(bufs[1])));
	bp_expect_reports(test, 1, "pool 'misuse-a': bufpool_data_to_buf:",
			  "is not the data of a buffer in use");
	KUNIT_EXPECT_PTR_EQ(test, bufpool_data_to_buf(a, bufpool_buf_data(bufs[0])),
			    bufs[0]);

	bufpool_put_bulk(2, bufs);
	bufpool_get_stats(a, &sa);
	bufpool_get_stats(b, &sb);
	KUNIT_EXPECT_EQ(test, sa.frees, 1);
	KUNIT_EXPECT_EQ(test, sa.in_use, 0);
	KUNIT_EXPECT_EQ(test, sa.backed, 1);
	KUNIT_EXPECT_EQ(test, sb.frees, 1);
	KUNIT_EXPECT_EQ(test, sb.in_use, 0);
	KUNIT_EXPECT_EQ(test, sb.backed, 1);
	bm_expect_works(test, a, 2);
	bp_expect_reports(test, 1, "bufpool", NULL);
	bufpool_destroy(a);
}

struct bm_release {
	struct completion done;
};

static void bm_released(void *arg)
{
	complete(&((struct bm_release *)arg)->done);
}

/*
 * Once destroy has begun (here bufpool_destroy_async(), which returns
 * with a buffer still out), every allocation fails as its kind does:
 * NULL, -ESHUTDOWN; quietly, since a client's allocations may race with
 * its own teardown. The last put then frees the pool. Catches an
 * allocation that succeeds on a dying pool, which destroy would then
 * wait for, or free under its holder.
 */
static void bm_alloc_on_dying_pool(struct kunit *test)
{
	struct bufpool *pool = bm_create(test, "misuse-dying", 2, 0);
	struct bm_release *rel = kunit_kzalloc(test, sizeof(*rel), GFP_KERNEL);
	struct bufpool_buf *held, *bufs[2];

	KUNIT_ASSERT_NOT_NULL(test, rel);
	init_completion(&rel->done);
	held = bufpool_alloc(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);
	bufpool_destroy_async(pool, bm_released, rel);

	KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_KERNEL));
	KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_ATOMIC));
	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_alloc_wait(pool, GFP_KERNEL,
							 TASK_UNINTERRUPTIBLE, HZ)),
			-ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 1, bufs), -ESHUTDOWN);
	bp_expect_reports(test, 0, "bufpool", NULL);
	KUNIT_EXPECT_FALSE(test, completion_done(&rel->done));
	bm_expect_works(test, bm_bystander(test), 4);

	bufpool_put(held);
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&rel->done,
							    msecs_to_jiffies(BM_WAIT_MS)));
}

/*
 * A second destroy while the first is under way is reported, naming
 * the pool and the second caller, and ignored: it neither waits nor
 * frees. Catches a second destroy that frees the pool under the first.
 * (A destroy after the first has returned is a use after free, which
 * bufpool cannot see: the pool is gone. KASAN reports it.)
 */
static void bm_destroy_twice(struct kunit *test)
{
	struct bufpool *pool = bm_create(test, "misuse-twice", 2, 0);
	struct bm_release *rel = kunit_kzalloc(test, sizeof(*rel), GFP_KERNEL);
	struct bufpool_buf *held;
	char by[64];

	KUNIT_ASSERT_NOT_NULL(test, rel);
	init_completion(&rel->done);
	held = bufpool_alloc(pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);
	bufpool_destroy_async(pool, bm_released, rel);
	bp_expect_reports(test, 0, "bufpool", NULL);

	bufpool_destroy(pool);		/* returns at once */
	bufpool_destroy_async(pool, bm_released, rel);
	snprintf(by, sizeof(by), "destroyed twice, by %s+", __func__);
	bp_expect_reports(test, 2, "pool 'misuse-twice'", by);
	KUNIT_EXPECT_FALSE(test, completion_done(&rel->done));
	/* The buffer still out is its holder's to use and put. */
	memset(bufpool_buf_data(held), 0, 64);
	bufpool_put(held);
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&rel->done,
							    msecs_to_jiffies(BM_WAIT_MS)));
	bm_expect_works(test, bm_bystander(test), 4);
}

struct bm_destroyer {
	struct bufpool *pool;
	struct completion done;
};

static int bm_destroy_thread(void *arg)
{
	struct bm_destroyer *d = arg;

	bufpool_destroy(d->pool);
	complete(&d->done);
	return 0;
}

/* Wait until bufpool has printed a line with @a and @b. */
static bool bm_wait_report(const char *a, const char *b)
{
	int i;

	for (i = 0; i < BM_WAIT_MS / 20; i++) {
		if (bp_log_count(a, b))
			return true;
		msleep(20);
	}
	return false;
}

/*
 * Destroy with a buffer out waits for it, saying every five seconds
 * which pool waits and for how many buffers; meanwhile other pools work.
 * Catches a destroy that frees the pool under the holder, or that waits
 * without a word (a hang nobody can name).
 */
static void bm_destroy_with_buffers_out(struct kunit *test)
{
	struct bufpool *pool = bm_create(test, "misuse-out", 2, 0);
	struct bufpool_buf *held = bufpool_alloc(pool, GFP_KERNEL);
	/* Not the case's: the thread may outlive an aborted case. */
	struct bm_destroyer *d = kzalloc(sizeof(*d), GFP_KERNEL);
	struct task_struct *task;

	KUNIT_ASSERT_NOT_NULL(test, held);
	KUNIT_ASSERT_NOT_NULL(test, d);
	d->pool = pool;
	init_completion(&d->done);
	task = kthread_run(bm_destroy_thread, d, "bm_destroyer");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));

	KUNIT_EXPECT_TRUE(test, bm_wait_report("pool 'misuse-out': destroy waits for 1 buffers",
					       "still in use"));
	KUNIT_EXPECT_FALSE(test, completion_done(&d->done));
	bm_expect_works(test, bm_bystander(test), 4);
	bufpool_put(held);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&d->done,
							    msecs_to_jiffies(BM_WAIT_MS)));
	kfree(d);
}

/*
 * A buffer's references are a refcount_t: a get that would overflow it
 * saturates it, with refcount_t's WARN, and the buffer is leaked, never
 * freed under a holder; a put of the saturated buffer WARNs that it
 * underflowed and does not return it either. Other buffers and pools are
 * untouched. Catches references kept in a plain counter, which would
 * wrap to zero and return a buffer still held. The two WARNs are the
 * ones this boot's verdict allows.
 */
static void bm_refcount_saturated(struct kunit *test)
{
	struct bufpool *pool = bm_create(test, "misuse-ref", 2, BUFPOOL_F_NO_MAGAZINES);
	struct bufpool_buf *buf = bufpool_alloc(pool, GFP_KERNEL);
	struct bufpool_stats st;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	/* As if a client had taken 2^31 - 2 references and never put them. */
	refcount_set(&buf->ref, INT_MAX - 1);
	KUNIT_EXPECT_PTR_EQ(test, bufpool_get(buf), buf);
	bp_expect_reports(test, 0, "refcount_t", NULL);
	KUNIT_EXPECT_PTR_EQ(test, bufpool_get(buf), buf);
	bp_expect_reports(test, 1, "refcount_t: saturated; leaking memory", NULL);
	bp_expect_reports(test, 1, "WARNING:", "refcount");

	bufpool_put(buf);
	bp_expect_reports(test, 1, "refcount_t: underflow", NULL);
	bp_expect_reports(test, 2, "WARNING:", "refcount");
	bufpool_get_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.frees, 0);
	KUNIT_EXPECT_EQ(test, st.in_use, 1);
	/* The pool's other buffer, and the bystander, still serve. */
	bm_expect_works(test, pool, 1);
	bm_expect_works(test, bm_bystander(test), 4);

	/* Undo the leak by hand, so that the pool can be destroyed. */
	refcount_set(&buf->ref, 1);
	bufpool_put(buf);
	bufpool_destroy(pool);
}

static struct kunit_case bm_cases[] = {
	KUNIT_CASE(bm_null_and_err_ptr),
	KUNIT_CASE(bm_other_pools_buffer),
	KUNIT_CASE(bm_alloc_on_dying_pool),
	KUNIT_CASE(bm_destroy_twice),
	KUNIT_CASE_SLOW(bm_destroy_with_buffers_out),
	KUNIT_CASE(bm_refcount_saturated),
	{}
};

static struct kunit_suite bm_suite = {
	.name = "bufpool_misuse",
	.test_cases = bm_cases,
	.init = bm_init,
	.exit = bm_exit,
	.suite_init = bp_log_start,
	.suite_exit = bp_log_stop,
};

kunit_test_suites(&bm_suite);

MODULE_DESCRIPTION("KUnit tests for bufpool: the misuse table");
MODULE_LICENSE("GPL");
