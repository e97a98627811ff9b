// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for bufpool in a driver's life: a pool managed by the
 * device model (devm_bufpool_create(), with a platform driver bound in
 * the test), a name reused while its old pool drains, pools charged to a
 * memory cgroup (BUFPOOL_F_ACCOUNT), and notify requests made where a
 * network driver makes them, in NAPI: the pattern Documentation/bufpool.rst
 * shows, and a request in each state a pool can be in. Each case names
 * the bug it catches.
 *
 * The accounted cases need the memory cgroup /bufpool-kunit, which
 * tests/kunit.sh makes; without it (no cgroup v2 in the guest) they skip.
 */
#include <kunit/test.h>
#include <linux/bufpool.h>
#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/mman.h>
#include <linux/memcontrol.h>
#include <linux/netdevice.h>
#include <linux/platform_device.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "bufpool_internal.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define BD_WAIT		(5 * HZ)	/* generous: TCG with KASAN is slow */
#define BD_POOLS	4
#define BD_BUFS		512
#define BD_DEBUGFS	"/sys/kernel/debug/bufpool/"

struct bv_napi;

/* What a case holds, released by bv_exit() whatever happened. */
struct bv_ctx {
	struct bufpool *pools[BD_POOLS];
	struct bufpool_buf *held[BD_BUFS];
	unsigned int nr_held;
	struct platform_device *pdev;
	bool driver;
	struct bv_napi *napi;
	char *text;			/* a debugfs file read, PAGE_SIZE */
	unsigned long ubuf;		/* a user page to read it into */
};

static int bv_init(struct kunit *test)
{
	struct bv_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	ctx->text = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	if (!ctx->text)
		return -ENOMEM;
	test->priv = ctx;
	return 0;
}

static struct platform_driver bv_driver;
static void bv_napi_free(struct bv_napi *bn);

static void bv_exit(struct kunit *test)
{
	struct bv_ctx *ctx = test->priv;
	int i;

	if (ctx->napi)
		bv_napi_free(ctx->napi);
	bufpool_put_bulk(ctx->nr_held, ctx->held);
	for (i = 0; i < BD_POOLS; i++)
		bufpool_destroy(ctx->pools[i]);
	if (ctx->pdev)
		platform_device_unregister(ctx->pdev);
	if (ctx->driver)
		platform_driver_unregister(&bv_driver);
	/* Pools destroyed without waiting are freed before the next case. */
	bufpool_barrier();
}

static struct bufpool *bv_create_flags(struct kunit *test, const char *name,
				       size_t size, unsigned int max,
				       unsigned int min, unsigned int flags)
{
	struct bufpool_params p = {
		.name = name, .buf_size = size, .max_bufs = max,
		.min_bufs = min, .flags = flags,
	};
	struct bv_ctx *ctx = test->priv;
	struct bufpool *pool;
	int i;

	for (i = 0; i < BD_POOLS && ctx->pools[i]; i++)
		;
	KUNIT_ASSERT_LT(test, i, BD_POOLS);
	pool = bufpool_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	ctx->pools[i] = pool;
	return pool;
}

static struct bufpool *bv_create(struct kunit *test, const char *name,
				 unsigned int max, unsigned int min)
{
	return bv_create_flags(test, name, 256, max, min, 0);
}

/* Another party destroys @pool now: bv_exit() must not. */
static void bv_disown(struct kunit *test, struct bufpool *pool)
{
	struct bv_ctx *ctx = test->priv;
	int i;

	for (i = 0; i < BD_POOLS; i++)
		if (ctx->pools[i] == pool)
			ctx->pools[i] = NULL;
}

static struct bufpool_buf *bv_hold(struct kunit *test, struct bufpool *pool)
{
	struct bv_ctx *ctx = test->priv;
	struct bufpool_buf *buf = bufpool_alloc(pool, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_LT(test, ctx->nr_held, BD_BUFS);
	ctx->held[ctx->nr_held++] = buf;
	return buf;
}

static void bv_put(struct kunit *test, struct bufpool_buf *buf)
{
	struct bv_ctx *ctx = test->priv;
	unsigned int i;

	for (i = 0; i < ctx->nr_held; i++) {
		if (ctx->held[i] == buf) {
			ctx->held[i] = ctx->held[--ctx->nr_held];
			bufpool_put(buf);
			return;
		}
	}
	KUNIT_FAIL(test, "buffer %p was not held", buf);
}

/*
 * read(2) of an open debugfs file, into ctx->text: what a reader does,
 * through debugfs's own guard against removal (kernel_read() cannot: the
 * file has no read_iter). Returns the length read, or an error.
 */
static ssize_t bv_fread(struct kunit *test, struct file *f)
{
	struct bv_ctx *ctx = test->priv;
	ssize_t n, len = 0;
	loff_t pos = 0;

	if (!ctx->ubuf) {
		ctx->ubuf = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE,
					  PROT_READ | PROT_WRITE,
					  MAP_ANONYMOUS | MAP_PRIVATE, 0);
		KUNIT_ASSERT_NE(test, ctx->ubuf, 0);
	}
	ctx->text[0] = '\0';
	do {
		n = f->f_op->read(f, (char __user *)ctx->ubuf + len,
				  PAGE_SIZE - 1 - len, &pos);
		if (n > 0)
			len += n;
	} while (n > 0 && len < PAGE_SIZE - 1);
	if (n < 0)
		return n;
	KUNIT_ASSERT_EQ(test, copy_from_user(ctx->text, (char __user *)ctx->ubuf, len), 0);
	ctx->text[len] = '\0';
	return len;
}

/* Read a debugfs file of bufpool's into ctx->text: its length or an error. */
static ssize_t bv_read(struct kunit *test, const char *path)
{
	struct file *f;
	ssize_t n;

	f = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	n = bv_fread(test, f);
	filp_close(f, NULL);
	return n;
}

/* Does the pools file have a line for @name (a directory under bufpool/)? */
static bool bv_listed(struct kunit *test, const char *name)
{
	struct bv_ctx *ctx = test->priv;
	char *line;

	KUNIT_ASSERT_GT(test, bv_read(test, BD_DEBUGFS "pools"), 0);
	for (line = ctx->text; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, name, strlen(name)) &&
		    line[strlen(name)] == ' ')
			return true;
	}
	return false;
}

/* Wait up to BD_WAIT for the pools file to stop listing @name. */
static bool bv_unlisted(struct kunit *test, const char *name)
{
	int i;

	for (i = 0; i < 500; i++) {
		bufpool_barrier();
		if (!bv_listed(test, name))
			return true;
		usleep_range(10000, 20000);
	}
	return false;
}

/* The stats file of directory @dir has "@key: @val"? */
static bool bv_stat_is(struct kunit *test, const char *dir, const char *key,
		       unsigned long val)
{
	struct bv_ctx *ctx = test->priv;
	char path[96], want[64];

	snprintf(path, sizeof(path), BD_DEBUGFS "%s/stats", dir);
	snprintf(want, sizeof(want), "\n%s: %lu\n", key, val);
	if (bv_read(test, path) <= 0)
		return false;
	return strstr(ctx->text, want);
}

/* The directory of dying pool @pool, as the pools file names it. */
static void bv_dying_name(struct bufpool *pool, char *buf, size_t len)
{
	snprintf(buf, len, "dying/%s.%lu", bufpool_name(pool), pool->id);
}

/* A destroy that waits, in a thread of its own. */
struct bv_destroyer {
	struct bufpool *pool;
	struct completion done;
};

static int bv_destroy_fn(void *arg)
{
	struct bv_destroyer *d = arg;

	bufpool_destroy(d->pool);
	complete(&d->done);
	return 0;
}

static void bv_destroy_in_thread(struct kunit *test, struct bv_destroyer *d,
				 struct bufpool *pool)
{
	struct task_struct *t;
	int i;

	d->pool = pool;
	init_completion(&d->done);
	bv_disown(test, pool);
	t = kthread_run(bv_destroy_fn, d, "bv_destroy");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	for (i = 0; i < 5000 && !READ_ONCE(pool->dying); i++)
		usleep_range(1000, 2000);
	KUNIT_ASSERT_TRUE(test, READ_ONCE(pool->dying));
}

/* Suite: a name free again once its destroy starts */

/*
 * Catches a name kept until the old pool is freed (a driver recreating
 * its ring's pool gets -EEXIST while the old one drains), a new pool that
 * shares anything with the old one, a debugfs directory still in the
 * way or unreadable, a pools file that names two pools alike, a slab
 * cache name reused (the slab WARNs), and an old pool never freed.
 */
static void bv_name_free_at_destroy(struct kunit *test)
{
	struct bufpool *old = bv_create(test, "kunit-name", 2, 0), *new;
	struct bufpool_buf *held = bv_hold(test, old), *buf;
	struct bv_destroyer *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	struct bufpool_stats st;
	char dying[64];

	KUNIT_ASSERT_NOT_NULL(test, d);
	bv_destroy_in_thread(test, d, old);
	new = bv_create(test, "kunit-name", 7, 1);
	KUNIT_EXPECT_STRNEQ(test, old->slab_name, new->slab_name);
	KUNIT_EXPECT_STREQ(test, new->slab_name, "bufpool-kunit-name.1");
	/* Independent: the old refuses, the new serves. */
	KUNIT_EXPECT_NULL(test, bufpool_alloc(old, GFP_ATOMIC));
	buf = bv_hold(test, new);
	KUNIT_EXPECT_PTR_EQ(test, bufpool_buf_pool(buf), new);
	bufpool_get_stats(new, &st);
	KUNIT_EXPECT_EQ(test, st.in_use, 1);
	bufpool_get_stats(old, &st);
	KUNIT_EXPECT_EQ(test, st.in_use, 1);
	/* debugfs: the name is the new pool's, the old one's moved. */
	bv_dying_name(old, dying, sizeof(dying));
	KUNIT_EXPECT_TRUE(test, bv_stat_is(test, "kunit-name", "max_bufs", 7));
	KUNIT_EXPECT_TRUE(test, bv_stat_is(test, dying, "max_bufs", 2));
	KUNIT_EXPECT_TRUE(test, bv_stat_is(test, dying, "in_use", 1));
	KUNIT_EXPECT_TRUE(test, bv_listed(test, "kunit-name"));
	KUNIT_EXPECT_TRUE(test, bv_listed(test, dying));
	/* The old one's last buffer home: the destroy ends, it is gone. */
	bv_put(test, held);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&d->done, BD_WAIT));
	KUNIT_EXPECT_FALSE(test, bv_listed(test, dying));
	KUNIT_EXPECT_TRUE(test, bv_stat_is(test, "kunit-name", "in_use", 1));
}

/*
 * Catches the same for bufpool_destroy_async(), which may be called
 * where debugfs cannot be touched: its directory moves from a work item,
 * or at once when a pool of the name is created; and a file of the old
 * pool held open across its free read as a crash instead of an error.
 */
static void bv_name_free_at_destroy_async(struct kunit *test)
{
	struct bufpool *a = bv_create(test, "kunit-name", 2, 0), *b, *c;
	struct bufpool_buf *ha = bv_hold(test, a), *hb;
	char dying_a[64], dying_b[64], path[96];
	struct file *f;

	bv_disown(test, a);
	bufpool_destroy_async(a, NULL, NULL);
	/* At once, before any work ran: the name is free. */
	b = bv_create(test, "kunit-name", 3, 0);
	hb = bv_hold(test, b);
	bv_dying_name(a, dying_a, sizeof(dying_a));
	KUNIT_EXPECT_TRUE(test, bv_stat_is(test, "kunit-name", "max_bufs", 3));
	KUNIT_EXPECT_TRUE(test, bv_stat_is(test, dying_a, "max_bufs", 2));
	/* A second generation while the first still drains. */
	bv_disown(test, b);
	bufpool_destroy_async(b, NULL, NULL);
	bv_dying_name(b, dying_b, sizeof(dying_b));
	/* Nobody creates the name: the work moves the directory. */
	bufpool_barrier();
	KUNIT_EXPECT_TRUE(test, bv_listed(test, dying_b));
	KUNIT_EXPECT_FALSE(test, bv_listed(test, "kunit-name"));
	c = bv_create(test, "kunit-name", 4, 0);
	KUNIT_EXPECT_STRNEQ(test, c->slab_name, a->slab_name);
	KUNIT_EXPECT_STRNEQ(test, c->slab_name, b->slab_name);
	KUNIT_EXPECT_TRUE(test, bv_stat_is(test, "kunit-name", "max_bufs", 4));
	KUNIT_EXPECT_TRUE(test, bv_stat_is(test, dying_b, "in_use", 1));

	/* Open across the free: later reads fail, they do not crash. */
	snprintf(path, sizeof(path), BD_DEBUGFS "%s/stats", dying_a);
	f = filp_open(path, O_RDONLY, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f));
	bv_put(test, ha);
	KUNIT_EXPECT_TRUE(test, bv_unlisted(test, dying_a));
	KUNIT_EXPECT_EQ(test, bv_fread(test, f), -EIO);
	filp_close(f, NULL);
	bv_put(test, hb);
	KUNIT_EXPECT_TRUE(test, bv_unlisted(test, dying_b));
	KUNIT_EXPECT_TRUE(test, bv_listed(test, "kunit-name"));
}

/* Catches "dying", bufpool's own directory, taken as a pool's name. */
static void bv_name_dying_reserved(struct kunit *test)
{
	struct bufpool_params p = { .name = "dying", .buf_size = 64, .max_bufs = 2 };

	KUNIT_EXPECT_EQ(test, PTR_ERR(bufpool_create(&p)), -EINVAL);
}

/* Suite: devm_bufpool_create() */

/* What the test driver's probe did, for the case that bound it. */
static struct bufpool *bv_probed;
static int bv_probe_err;

static int bv_probe(struct platform_device *pdev)
{
	struct bufpool_params p = {
		.name = "kunit-devm", .buf_size = 256, .max_bufs = 4, .min_bufs = 2,
	};
	struct bufpool *pool = devm_bufpool_create(&pdev->dev, &p);

	if (IS_ERR(pool)) {
		bv_probe_err = PTR_ERR(pool);
		return bv_probe_err;
	}
	bv_probed = pool;
	return 0;
}

static struct platform_driver bv_driver = {
	.probe = bv_probe,
	.driver = { .name = "bufpool-kunit" },
};

/* Register the driver and a device it binds to: probe creates a pool. */
static struct bufpool *bv_bind(struct kunit *test)
{
	struct bv_ctx *ctx = test->priv;

	bv_probed = NULL;
	bv_probe_err = 0;
	if (!ctx->driver) {
		KUNIT_ASSERT_EQ(test, platform_driver_register(&bv_driver), 0);
		ctx->driver = true;
	}
	ctx->pdev = platform_device_register_simple("bufpool-kunit", 0, NULL, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->pdev);
	KUNIT_ASSERT_EQ(test, bv_probe_err, 0);
	KUNIT_ASSERT_NOT_NULL(test, ctx->pdev->dev.driver);
	KUNIT_ASSERT_NOT_NULL(test, bv_probed);
	return bv_probed;
}

struct bv_unbind {
	struct device *dev;
	struct completion done;
};

static int bv_unbind_fn(void *arg)
{
	struct bv_unbind *u = arg;

	device_release_driver(u->dev);
	complete(&u->done);
	return 0;
}

/* Unbind the device in a thread: true if that returned in time. */
static bool bv_unbind(struct kunit *test, struct bv_unbind *u)
{
	struct bv_ctx *ctx = test->priv;
	struct task_struct *t;

	u->dev = &ctx->pdev->dev;
	init_completion(&u->done);
	t = kthread_run(bv_unbind_fn, u, "bv_unbind");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	return wait_for_completion_timeout(&u->done, BD_WAIT);
}

static void bv_count_res(struct device *dev, void *res, void *data)
{
	(*(int *)data)++;
}

/* How many pools of devm_bufpool_create() @dev holds. */
static int bv_devres(struct device *dev)
{
	int n = 0;

	devres_for_each_res(dev, bufpool_devm_release, NULL, NULL,
			    bv_count_res, &n);
	return n;
}

/*
 * Catches a devm pool not destroyed at detach (it still serves after the
 * driver is gone), one destroyed with a destroy that waits (a detach
 * hung on a buffer still out: a leak, or one the stack holds), a name
 * still taken when the driver binds again, and a pool never freed once
 * its last buffer is put.
 */
static void bv_devm_detach(struct kunit *test)
{
	struct bv_ctx *ctx = test->priv;
	struct bufpool *pool = bv_bind(test), *again;
	struct bufpool_buf *held = bv_hold(test, pool);
	struct bv_unbind *u = kunit_kzalloc(test, sizeof(*u), GFP_KERNEL);
	char dying[64];

	KUNIT_ASSERT_NOT_NULL(test, u);
	KUNIT_EXPECT_EQ(test, bv_devres(&ctx->pdev->dev), 1);
	if (!bv_unbind(test, u)) {
		/* Waiting for @held: let it finish, and fail. */
		bv_put(test, held);
		wait_for_completion(&u->done);
		KUNIT_FAIL(test, "the detach waited for a buffer still out");
		return;
	}
	KUNIT_EXPECT_EQ(test, bv_devres(&ctx->pdev->dev), 0);
	/* Destroyed: refuses, and its name is free. */
	KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_ATOMIC));
	bv_dying_name(pool, dying, sizeof(dying));
	bufpool_barrier();
	KUNIT_EXPECT_TRUE(test, bv_listed(test, dying));
	/* Bound again while the old pool drains: probe gets its pool. */
	KUNIT_ASSERT_EQ(test, device_attach(&ctx->pdev->dev), 1);
	KUNIT_EXPECT_EQ(test, bv_probe_err, 0);
	again = bv_probed;
	KUNIT_ASSERT_NOT_NULL(test, again);
	KUNIT_EXPECT_PTR_NE(test, again, pool);
	KUNIT_EXPECT_TRUE(test, bv_listed(test, "kunit-devm"));
	/* The last buffer of the old pool home: freed. */
	bv_put(test, held);
	KUNIT_EXPECT_TRUE(test, bv_unlisted(test, dying));
	/* The second one goes with the device (bv_exit()): idle, freed. */
	KUNIT_ASSERT_TRUE(test, bv_unbind(test, u));
	KUNIT_EXPECT_TRUE(test, bv_unlisted(test, "kunit-devm"));
}

/*
 * Catches a devm create that leaves a devres entry behind when it fails
 * (the detach would destroy a pool that is not there, or an ERR_PTR),
 * accepts a NULL device, loses a failed allocation's error, and a
 * devm_bufpool_destroy() that does not destroy, or destroys a pool that
 * is not the device's.
 */
static void bv_devm_errors(struct kunit *test)
{
	struct bufpool_params bad = { .name = "kunit-devm2", .buf_size = 0, .max_bufs = 4 };
	struct bufpool_params good = { .name = "kunit-devm2", .buf_size = 64, .max_bufs = 4 };
	struct bv_ctx *ctx = test->priv;
	struct bufpool *other, *pool;
	struct device *dev;
	int nth, failed = 0;

	bv_bind(test);
	dev = &ctx->pdev->dev;
	KUNIT_EXPECT_EQ(test, PTR_ERR(devm_bufpool_create(NULL, &good)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(devm_bufpool_create(dev, &bad)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(devm_bufpool_create(dev, NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, bv_devres(dev), 1);
	/* Each allocation failed in turn: -ENOMEM, nothing left behind. */
	if (IS_ENABLED(CONFIG_FAULT_INJECTION)) {
		for (nth = 1; nth < 50; nth++) {
#ifdef CONFIG_FAULT_INJECTION
			bufpool_fault_attr.verbose = 0;
			bufpool_fault_attr.interval = 1;
			bufpool_fault_attr.probability = 100;
			atomic_set(&bufpool_fault_attr.space, nth);
			atomic_set(&bufpool_fault_attr.times, 1);
#endif
			pool = devm_bufpool_create(dev, &good);
#ifdef CONFIG_FAULT_INJECTION
			bufpool_fault_attr.probability = 0;
			atomic_set(&bufpool_fault_attr.space, 0);
#endif
			if (!IS_ERR(pool))
				break;
			KUNIT_EXPECT_EQ(test, PTR_ERR(pool), -ENOMEM);
			KUNIT_EXPECT_EQ(test, bv_devres(dev), 1);
			failed++;
		}
		KUNIT_EXPECT_GT(test, failed, 1);
	} else {
		pool = devm_bufpool_create(dev, &good);
	}
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_EXPECT_EQ(test, bv_devres(dev), 2);
	/* Not the device's: refused, and left alone. */
	other = bv_create(test, "kunit-devm3", 2, 0);
	devm_bufpool_destroy(dev, other);
	bv_put(test, bv_hold(test, other));
	/* Ended early: dying at once, no longer the detach's. */
	devm_bufpool_destroy(dev, pool);
	KUNIT_EXPECT_EQ(test, bv_devres(dev), 1);
	KUNIT_EXPECT_NULL(test, bufpool_alloc(pool, GFP_ATOMIC));
	bv_create(test, "kunit-devm2", 2, 0);
}

/* Suite: accounted pools */

#ifdef CONFIG_MEMCG
/* The test's memory cgroup, made by tests/kunit.sh, or NULL. */
static struct mem_cgroup *bv_memcg(void)
{
	struct cgroup_subsys_state *css;
	struct cgroup *cgrp;

	cgrp = cgroup_get_from_path("/bufpool-kunit");
	if (IS_ERR_OR_NULL(cgrp))
		return NULL;
	css = cgroup_get_e_css(cgrp, &memory_cgrp_subsys);
	cgroup_put(cgrp);
	/* The root's, if memory is not enabled below it: no use. */
	if (css && !css->parent) {
		css_put(css);
		css = NULL;
	}
	return css ? container_of(css, struct mem_cgroup, css) : NULL;
}

static long bv_charged(struct mem_cgroup *memcg)
{
	return page_counter_read(&memcg->memory) * PAGE_SIZE;
}

/*
 * What per-CPU stocks may hide or add of a charge: 64 pages a CPU
 * (MEMCG_CHARGE_BATCH), and a page of bytes.
 */
#define BD_SLACK	(2 * (64 + 1) * PAGE_SIZE)
#define BD_ACCT_SIZE	BUFPOOL_MAX_BUF_SIZE
#define BD_ACCT_MIN	128		/* 2 MiB of reserve */
#define BD_ACCT_GROW	256		/* 4 MiB of growth */

/*
 * Take @n buffers from @pool in a context with no memory cgroup of its
 * own (this kthread, no active memcg): all the growth beyond the reserve.
 */
static void bv_take(struct kunit *test, struct bufpool *pool, unsigned int n)
{
	struct bv_ctx *ctx = test->priv;

	KUNIT_ASSERT_LE(test, ctx->nr_held + n, BD_BUFS);
	KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, n,
						 ctx->held + ctx->nr_held), 0);
	ctx->nr_held += n;
}

/*
 * Catches a BUFPOOL_F_ACCOUNT pool whose reserve is not charged to its
 * creator's memory cgroup, whose growth is charged to whoever grows it
 * (here a kthread of no cgroup: nobody) instead of the pool's, whose
 * charge outlives its buffers, and a pool without the flag charged all
 * the same.
 */
static void bv_account(struct kunit *test)
{
	struct mem_cgroup *memcg = bv_memcg(), *old;
	struct bv_ctx *ctx = test->priv;
	struct bufpool *pool;
	long c0, c1, c2, c3;

	if (!memcg)
		kunit_skip(test, "no memory cgroup /bufpool-kunit (tests/kunit.sh makes it)");
	c0 = bv_charged(memcg);
	old = set_active_memcg(memcg);
	pool = bv_create_flags(test, "kunit-acct", BD_ACCT_SIZE,
			       BD_ACCT_MIN + BD_ACCT_GROW, BD_ACCT_MIN,
			       BUFPOOL_F_ACCOUNT);
	set_active_memcg(old);
	c1 = bv_charged(memcg);
	kunit_info(test, "reserve of %d: %ld bytes charged\n", BD_ACCT_MIN, c1 - c0);
	KUNIT_EXPECT_GE(test, c1 - c0, (long)BD_ACCT_MIN * BD_ACCT_SIZE - BD_SLACK);
	bv_take(test, pool, BD_ACCT_MIN + BD_ACCT_GROW);
	c2 = bv_charged(memcg);
	kunit_info(test, "growth of %d: %ld bytes charged\n", BD_ACCT_GROW, c2 - c1);
	KUNIT_EXPECT_GE(test, c2 - c1, (long)BD_ACCT_GROW * BD_ACCT_SIZE - BD_SLACK);
	bufpool_put_bulk(ctx->nr_held, ctx->held);
	ctx->nr_held = 0;
	bv_disown(test, pool);
	bufpool_destroy(pool);
	c3 = bv_charged(memcg);
	KUNIT_EXPECT_LT(test, c3 - c0, (long)BD_SLACK);

	/* Without the flag: nothing, reserve or growth. */
	old = set_active_memcg(memcg);
	pool = bv_create_flags(test, "kunit-acct", BD_ACCT_SIZE,
			       BD_ACCT_MIN + BD_ACCT_GROW, BD_ACCT_MIN, 0);
	set_active_memcg(old);
	bv_take(test, pool, BD_ACCT_MIN + BD_ACCT_GROW);
	c1 = bv_charged(memcg);
	kunit_info(test, "unaccounted pool: %ld bytes charged\n", c1 - c3);
	/*
	 * Creating a slab cache charges its sysfs and debugfs entries to
	 * the creator (a stock's batch, 256 KiB): far below the 6 MiB.
	 */
	KUNIT_EXPECT_LT(test, c1 - c3,
			(long)(BD_ACCT_MIN + BD_ACCT_GROW) * BD_ACCT_SIZE / 6);
	css_put(&memcg->css);
}
#else
static void bv_account(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_MEMCG");
}
#endif

/* Suite: notify requests in NAPI */

#define BD_RING		4

/*
 * A receive ring's refill, as a NIC driver's NAPI poll would do it: take
 * what is free; when the pool runs dry, ask to be notified, and have the
 * callback schedule NAPI, whose next poll refills from what the request
 * got (the pattern in Documentation/bufpool.rst).
 */
struct bv_napi {
	struct net_device *dev;
	struct napi_struct napi;
	struct bufpool *pool;
	struct bufpool_notify nb;
	struct bufpool_buf *got[BD_RING];
	struct bufpool_buf *ring[BD_RING];
	unsigned int ring_n;
	unsigned int want;
	/* Done by the next poll, once. */
	void (*fn)(struct bv_napi *bn);
	bool asked;		/* the poll's: a request is out */
	int ret;		/* of the last bufpool_alloc_notify() */
	int err;		/* the callback's */
	atomic_t calls;		/* callbacks run */
	bool notified;		/* the callback ran, the poll has not seen it */
	bool cb_in_hardirq;
	bool poll_in_softirq;
	struct completion polled;
};

/* The refill: the free buffers, then a request for the rest. */
static void bv_napi_refill(struct bv_napi *bn)
{
	struct bufpool_buf *buf;

	/* Until the answer is in the ring, bn->got is the request's. */
	while (!bn->asked && bn->ring_n < BD_RING) {
		buf = bufpool_alloc(bn->pool, GFP_ATOMIC);
		if (buf) {
			bn->ring[bn->ring_n++] = buf;
			continue;
		}
		bn->want = BD_RING - bn->ring_n;
		bn->ret = bufpool_alloc_notify(bn->pool, bn->want, bn->got, &bn->nb);
		if (bn->ret) {
			bn->asked = bn->ret == -EINPROGRESS;
			break;
		}
		memcpy(bn->ring + bn->ring_n, bn->got, bn->want * sizeof(*bn->got));
		bn->ring_n += bn->want;
	}
}

static int bv_napi_poll(struct napi_struct *napi, int budget)
{
	struct bv_napi *bn = container_of(napi, struct bv_napi, napi);
	void (*fn)(struct bv_napi *bn);

	fn = xchg(&bn->fn, NULL);
	bn->poll_in_softirq = in_serving_softirq();
	/* Pairs with the release in bv_napi_notified(). */
	if (smp_load_acquire(&bn->notified)) {
		bn->notified = false;
		bn->asked = false;
		if (!bn->err) {
			memcpy(bn->ring + bn->ring_n, bn->got,
			       bn->want * sizeof(*bn->got));
			bn->ring_n += bn->want;
		}
	}
	if (fn)
		fn(bn);
	napi_complete_done(napi, 0);
	complete(&bn->polled);
	return 0;
}

/* The notify callback: hard IRQ (the irq_work thread on PREEMPT_RT). */
static void bv_napi_notified(struct bufpool_notify *nb, int err)
{
	struct bv_napi *bn = container_of(nb, struct bv_napi, nb);

	bn->err = err;
	bn->cb_in_hardirq = in_hardirq();
	atomic_inc(&bn->calls);
	/* The outcome before the flag: pairs with the acquire in the poll. */
	smp_store_release(&bn->notified, true);
	napi_schedule(&bn->napi);
}

static void bv_napi_free(struct bv_napi *bn)
{
	bufpool_notify_cancel(&bn->nb);
	napi_disable(&bn->napi);
	netif_napi_del(&bn->napi);
	kfree(bn->dev);
	bufpool_put_bulk(bn->ring_n, bn->ring);
}

static struct bv_napi *bv_napi_new(struct kunit *test, struct bufpool *pool)
{
	struct bv_napi *bn = kunit_kzalloc(test, sizeof(*bn), GFP_KERNEL);
	struct bv_ctx *ctx = test->priv;

	KUNIT_ASSERT_NOT_NULL(test, bn);
	KUNIT_ASSERT_NULL(test, ctx->napi);
	/* Not alloc_netdev_dummy(): 6.10's; this is 6.1's and 6.12's. */
	bn->dev = kzalloc(sizeof(*bn->dev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bn->dev);
	init_dummy_netdev(bn->dev);
	bn->pool = pool;
	init_completion(&bn->polled);
	bufpool_notify_init(&bn->nb, bv_napi_notified);
	netif_napi_add(bn->dev, &bn->napi, bv_napi_poll);
	napi_enable(&bn->napi);
	/* bv_exit() ends it before the case's pools. */
	ctx->napi = bn;
	return bn;
}

/* Run @fn in a NAPI poll of @bn, and return once the poll is done. */
static void bv_in_napi(struct kunit *test, struct bv_napi *bn,
		       void (*fn)(struct bv_napi *bn))
{
	reinit_completion(&bn->polled);
	WRITE_ONCE(bn->fn, fn);
	local_bh_disable();
	napi_schedule(&bn->napi);
	local_bh_enable();
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&bn->polled, BD_WAIT));
	KUNIT_EXPECT_TRUE(test, bn->poll_in_softirq);
}

/* Wait for the poll that a callback scheduled. */
static void bv_napi_wait(struct kunit *test, struct bv_napi *bn)
{
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&bn->polled, BD_WAIT));
	KUNIT_EXPECT_FALSE(test, READ_ONCE(bn->notified));
}

/*
 * Catches the NAPI pattern not working end to end: a request that
 * cannot be made from a poll (softirq) on a dry pool, a put that does
 * not fire its callback, a callback from which napi_schedule() does not
 * get a poll, or a poll that finds the buffers not yet the request's;
 * and a refill that asks again while its request is out.
 */
static void bv_napi_pattern(struct kunit *test)
{
	struct bufpool *pool = bv_create(test, "kunit-napi", 6, 6);
	struct bufpool_buf *held[4];
	struct bv_napi *bn;
	int i;

	bn = bv_napi_new(test, pool);
	for (i = 0; i < 4; i++)
		held[i] = bv_hold(test, pool);
	/* Two free: the ring gets them, and asks for two more. */
	bv_in_napi(test, bn, bv_napi_refill);
	KUNIT_EXPECT_EQ(test, bn->ring_n, 2);
	KUNIT_ASSERT_EQ(test, bn->ret, -EINPROGRESS);
	/* A poll meanwhile asks for nothing: the request is out. */
	bn->ret = 1;
	bv_in_napi(test, bn, bv_napi_refill);
	KUNIT_EXPECT_EQ(test, bn->ret, 1);
	KUNIT_EXPECT_EQ(test, bn->ring_n, 2);
	/* One back is not enough for the request: no poll yet. */
	reinit_completion(&bn->polled);
	bv_put(test, held[0]);
	KUNIT_EXPECT_FALSE(test, wait_for_completion_timeout(&bn->polled, HZ / 10));
	bv_put(test, held[1]);
	bv_napi_wait(test, bn);
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 1);
	KUNIT_EXPECT_EQ(test, bn->err, 0);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		KUNIT_EXPECT_TRUE(test, bn->cb_in_hardirq);
	KUNIT_EXPECT_EQ(test, bn->ring_n, BD_RING);
	KUNIT_EXPECT_TRUE(test, bn->ring[2] == held[0] || bn->ring[2] == held[1]);
	KUNIT_EXPECT_TRUE(test, bn->ring[3] == held[0] || bn->ring[3] == held[1]);
	/* The ring's buffers are live: each one's get works. */
	for (i = 0; i < BD_RING; i++)
		KUNIT_EXPECT_PTR_EQ(test, bufpool_get(bn->ring[i]), bn->ring[i]);
	for (i = 0; i < BD_RING; i++)
		bufpool_put(bn->ring[i]);
}

static void bv_napi_ask_one(struct bv_napi *bn)
{
	bn->want = 1;
	bn->ret = bufpool_alloc_notify(bn->pool, 1, bn->got, &bn->nb);
	if (!bn->ret)
		bn->ring[bn->ring_n++] = bn->got[0];
}

/* A request made in NAPI waits; a put serves it; the poll gets it. */
static void bv_napi_served_by_put(struct kunit *test, struct bufpool *pool,
				  struct bv_napi *bn, struct bufpool_buf *held)
{
	bv_in_napi(test, bn, bv_napi_ask_one);
	KUNIT_ASSERT_EQ(test, bn->ret, -EINPROGRESS);
	reinit_completion(&bn->polled);
	bv_put(test, held);
	bv_napi_wait(test, bn);
	KUNIT_EXPECT_EQ(test, bn->err, 0);
	KUNIT_ASSERT_EQ(test, bn->ring_n, 1);
	KUNIT_EXPECT_PTR_EQ(test, bn->ring[0], held);
}

/*
 * Catches a request that fails, or is never served, on a pool that
 * holds only its reserve, all of it out (the pool may not grow at all).
 */
static void bv_notify_reserve_only(struct kunit *test)
{
	struct bufpool *pool = bv_create(test, "kunit-nstate", 2, 2);
	struct bv_napi *bn = bv_napi_new(test, pool);
	struct bufpool_buf *held = bv_hold(test, pool);

	bv_hold(test, pool);
	bv_napi_served_by_put(test, pool, bn, held);
}

/*
 * Catches a request below the cap that waits for a put although the
 * pool may grow for it: from NAPI it grows at once, or, if it could not,
 * bufpool's work grows for it.
 */
static void bv_notify_below_cap(struct kunit *test)
{
	struct bufpool *pool = bv_create(test, "kunit-nstate", 4, 1);
	struct bv_napi *bn = bv_napi_new(test, pool);
	struct bufpool_stats st;

	bv_hold(test, pool);
	bv_in_napi(test, bn, bv_napi_ask_one);
	if (bn->ret == -EINPROGRESS) {
		bv_napi_wait(test, bn);
		KUNIT_EXPECT_EQ(test, bn->err, 0);
	} else {
		KUNIT_EXPECT_EQ(test, bn->ret, 0);
		KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 0);
	}
	KUNIT_EXPECT_EQ(test, bn->ring_n, 1);
	bufpool_get_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.backed, 2);
	KUNIT_EXPECT_EQ(test, st.in_use, 2);
}

/* Catches a request at the cap that grows past it, or is never served. */
static void bv_notify_at_cap(struct kunit *test)
{
	struct bufpool *pool = bv_create(test, "kunit-nstate", 2, 0);
	struct bv_napi *bn = bv_napi_new(test, pool);
	struct bufpool_buf *held = bv_hold(test, pool);
	struct bufpool_stats st;

	bv_hold(test, pool);
	bv_napi_served_by_put(test, pool, bn, held);
	bufpool_get_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.backed, 2);
}

/* A sleeper for bv_notify_with_waiters(). */
struct bv_sleeper {
	struct bufpool *pool;
	struct bufpool_buf *buf;
	struct completion done;
};

static int bv_sleep_fn(void *arg)
{
	struct bv_sleeper *s = arg;

	s->buf = bufpool_alloc_wait(s->pool, GFP_KERNEL, TASK_UNINTERRUPTIBLE,
				    BD_WAIT);
	complete(&s->done);
	return 0;
}

/*
 * Catches a request from NAPI that jumps a sleeper queued before it:
 * the first buffer back is the sleeper's, the second the request's.
 */
static void bv_notify_with_waiters(struct kunit *test)
{
	struct bufpool *pool = bv_create(test, "kunit-nstate", 2, 0);
	struct bv_napi *bn = bv_napi_new(test, pool);
	struct bufpool_buf *a = bv_hold(test, pool), *b = bv_hold(test, pool);
	struct bv_sleeper *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	struct bufpool_stats st;
	struct task_struct *t;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, s);
	s->pool = pool;
	init_completion(&s->done);
	t = kthread_run(bv_sleep_fn, s, "bv_sleeper");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	for (i = 0; i < 5000; i++) {
		bufpool_get_stats(pool, &st);
		if (st.waiters)
			break;
		usleep_range(1000, 2000);
	}
	KUNIT_ASSERT_EQ(test, st.waiters, 1);
	bv_in_napi(test, bn, bv_napi_ask_one);
	KUNIT_ASSERT_EQ(test, bn->ret, -EINPROGRESS);
	reinit_completion(&bn->polled);
	bv_put(test, a);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&s->done, BD_WAIT));
	KUNIT_ASSERT_PTR_EQ(test, s->buf, a);
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 0);
	bufpool_put(s->buf);
	bv_napi_wait(test, bn);
	KUNIT_EXPECT_EQ(test, bn->err, 0);
	KUNIT_ASSERT_EQ(test, bn->ring_n, 1);
	KUNIT_EXPECT_PTR_EQ(test, bn->ring[0], a);
	bv_put(test, b);
}

/*
 * Catches a request left queued on a pool being destroyed (its callback
 * never runs, or runs with buffers of a freed pool), and a request made
 * on a dying pool that queues instead of failing at once.
 */
static void bv_notify_dying(struct kunit *test)
{
	struct bufpool *pool = bv_create(test, "kunit-nstate", 1, 0);
	struct bv_napi *bn = bv_napi_new(test, pool);
	struct bufpool_buf *held = bv_hold(test, pool);

	bv_in_napi(test, bn, bv_napi_ask_one);
	KUNIT_ASSERT_EQ(test, bn->ret, -EINPROGRESS);
	reinit_completion(&bn->polled);
	bv_disown(test, pool);
	bufpool_destroy_async(pool, NULL, NULL);
	bv_napi_wait(test, bn);
	KUNIT_EXPECT_EQ(test, bn->err, -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, bn->ring_n, 0);
	bv_in_napi(test, bn, bv_napi_ask_one);
	KUNIT_EXPECT_EQ(test, bn->ret, -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, atomic_read(&bn->calls), 1);
	bv_put(test, held);
}

static struct kunit_case bv_name_cases[] = {
	KUNIT_CASE(bv_name_free_at_destroy),
	KUNIT_CASE(bv_name_free_at_destroy_async),
	KUNIT_CASE(bv_name_dying_reserved),
	{}
};

static struct kunit_suite bv_name_suite = {
	.name = "bufpool_names",
	.init = bv_init,
	.exit = bv_exit,
	.test_cases = bv_name_cases,
};

static struct kunit_case bv_devm_cases[] = {
	KUNIT_CASE(bv_devm_detach),
	KUNIT_CASE(bv_devm_errors),
	{}
};

static struct kunit_suite bv_devm_suite = {
	.name = "bufpool_devm",
	.init = bv_init,
	.exit = bv_exit,
	.test_cases = bv_devm_cases,
};

static struct kunit_case bv_account_cases[] = {
	KUNIT_CASE(bv_account),
	{}
};

static struct kunit_suite bv_account_suite = {
	.name = "bufpool_account",
	.init = bv_init,
	.exit = bv_exit,
	.test_cases = bv_account_cases,
};

static struct kunit_case bv_napi_cases[] = {
	KUNIT_CASE(bv_napi_pattern),
	KUNIT_CASE(bv_notify_reserve_only),
	KUNIT_CASE(bv_notify_below_cap),
	KUNIT_CASE(bv_notify_at_cap),
	KUNIT_CASE(bv_notify_with_waiters),
	KUNIT_CASE(bv_notify_dying),
	{}
};

static struct kunit_suite bv_napi_suite = {
	.name = "bufpool_napi",
	.init = bv_init,
	.exit = bv_exit,
	.test_cases = bv_napi_cases,
};

kunit_test_suites(&bv_name_suite, &bv_devm_suite, &bv_account_suite,
		  &bv_napi_suite);

MODULE_DESCRIPTION("KUnit tests for bufpool in a driver's life: devm, names, accounting, NAPI");
MODULE_LICENSE("GPL");
