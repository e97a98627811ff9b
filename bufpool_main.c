// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool: per-subsystem pools of fixed-size buffers.
 *
 * This file is the API and a pool's life: creation, the hit paths that
 * the API's functions inline, the slow path that goes down the layers
 * (bufpool_percpu.c, then bufpool_depot.c), references, statistics and
 * teardown. bufpool_internal.h says what each lock protects.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bufpool.h>
#include <linux/ctype.h>
#include <linux/fault-inject.h>
#include <linux/irq_work.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/string.h>
#include <uapi/linux/ethtool.h>

#include "bufpool_internal.h"

#define CREATE_TRACE_POINTS
#include <trace/bufpool_trace.h>

/**
 * DOC: A pool
 *
 * A pool is three layers, fastest first, each calling only those below
 * it: per-CPU magazines (``bufpool_percpu.c``), where allocations and
 * frees are served without a lock; the depot (``bufpool_depot.c``), a
 * free list under the pool lock with the waiters and growth; and the
 * pool's slab cache. This file is the API over them, and a pool's life.
 *
 * Fast path: ``bufpool_alloc()`` takes from this CPU's magazine,
 * ``bufpool_put()`` fills it; both are inline in the exported functions,
 * so a hit makes no call. Slow path (``bufpool_alloc_slow()``), straight
 * down: refill the magazine from the depot; take from the depot; take
 * from other CPUs' magazines; grow the pool; queue, and for the first
 * sleeper of a waiting episode sweep the magazines into the depot; sleep
 * or fail. A free that misses goes to the depot, which hands it to the
 * first waiter.
 */

/* All live pools, for names, debugfs and module exit. */
DEFINE_MUTEX(bufpool_list_lock);
LIST_HEAD(bufpool_list);
/* Each pool's service work, and frees of pools destroyed without waiting. */
struct workqueue_struct *bufpool_wq;

/* The first word of a header is its data: see bufpool_buf_data(). */
static_assert(offsetof(struct bufpool_buf, data) == 0);

#if IS_ENABLED(CONFIG_KUNIT)
#include <kunit/visibility.h>

/* Called at every test point while set: see bufpool_test_point(). */
void (*bufpool_test_hook)(enum bufpool_test_point tp);

/* Set the test hook, or clear it with NULL. For KUnit cases only. */
void bufpool_set_test_hook(void (*hook)(enum bufpool_test_point tp))
{
	WRITE_ONCE(bufpool_test_hook, hook);
}
EXPORT_SYMBOL_IF_KUNIT(bufpool_set_test_hook);
#endif

#ifdef CONFIG_FAULT_INJECTION
/*
 * The one fault point: every allocation bufpool makes for itself asks
 * bufpool_fault() first. Driven from debugfs (bufpool/fail) and by the
 * KUnit tests, which walk it over every allocation of bufpool_create().
 */
DECLARE_FAULT_ATTR(bufpool_fault_attr);
#if IS_ENABLED(CONFIG_KUNIT)
EXPORT_SYMBOL_IF_KUNIT(bufpool_fault_attr);
#endif

bool bufpool_fault(void)
{
	return should_fail(&bufpool_fault_attr, 1);
}
#else
bool bufpool_fault(void)
{
	return false;
}
#endif

/* Creation */

static int bufpool_check_name(const char *name)
{
	size_t len = strnlen(name, BUFPOOL_NAME_MAX + 1);
	size_t i;

	if (!len) {
		pr_err_ratelimited("bufpool_create: the name is empty\n");
		return -EINVAL;
	}
	if (len > BUFPOOL_NAME_MAX) {
		pr_err_ratelimited("pool '%.*s...': name longer than %d characters\n",
				   BUFPOOL_NAME_MAX, name, BUFPOOL_NAME_MAX);
		return -EINVAL;
	}
	/* The debugfs directory has files of its own. */
	if (!strcmp(name, "pools") || !strcmp(name, "fail")) {
		pr_err_ratelimited("pool '%s': name is reserved\n", name);
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		if (!isgraph(name[i]) || name[i] == '/') {
			pr_err_ratelimited("pool '%s': name has a '/', a space or a control character\n",
					   name);
			return -EINVAL;
		}
	}
	return 0;
}

static int bufpool_check_params(const struct bufpool_params *p)
{
	int err;

	if (!p) {
		pr_err_ratelimited("bufpool_create: params is NULL\n");
		return -EINVAL;
	}
	if (!p->name) {
		pr_err_ratelimited("bufpool_create: name is NULL\n");
		return -EINVAL;
	}
	err = bufpool_check_name(p->name);
	if (err)
		return err;
	if (!p->buf_size || p->buf_size > BUFPOOL_MAX_BUF_SIZE) {
		pr_err_ratelimited("pool '%s': buf_size %zu is not in 1..%d\n",
				   p->name, p->buf_size, BUFPOOL_MAX_BUF_SIZE);
		return -EINVAL;
	}
	if (!p->max_bufs || p->max_bufs > BUFPOOL_MAX_BUFS) {
		pr_err_ratelimited("pool '%s': max_bufs %u is not in 1..%d\n",
				   p->name, p->max_bufs, BUFPOOL_MAX_BUFS);
		return -EINVAL;
	}
	if (p->min_bufs > p->max_bufs) {
		pr_err_ratelimited("pool '%s': min_bufs %u is above max_bufs %u\n",
				   p->name, p->min_bufs, p->max_bufs);
		return -EINVAL;
	}
	if (p->align && (!is_power_of_2(p->align) || p->align > PAGE_SIZE)) {
		pr_err_ratelimited("pool '%s': align %u is not a power of two up to %lu\n",
				   p->name, p->align, PAGE_SIZE);
		return -EINVAL;
	}
	if (p->flags & ~BUFPOOL_F_ALL) {
		pr_err_ratelimited("pool '%s': unknown flags %#x\n",
				   p->name, p->flags & ~BUFPOOL_F_ALL);
		return -EINVAL;
	}
	return 0;
}

/* Caller holds bufpool_list_lock. */
static struct bufpool *bufpool_find(const char *name)
{
	struct bufpool *pool;

	list_for_each_entry(pool, &bufpool_list, node)
		if (!strcmp(pool->name, name))
			return pool;
	return NULL;
}

static void bufpool_service(struct work_struct *work);
static void bufpool_free_work(struct work_struct *work);

static void bufpool_free_pool(struct bufpool *pool)
{
	bufpool_depot_destroy(pool);
	bufpool_mag_destroy(pool);
	kfree(pool->name);
	kfree(pool);
}

/**
 * bufpool_create - create a pool of fixed-size buffers
 * @params: name, buffer size, cap, reserve, alignment and flags; see
 *	&struct bufpool_params. Not referenced after the call returns.
 *
 * Creates the pool's slab cache, allocates @params->min_bufs buffers at
 * once, registers the pool's shrinker and its debugfs directory.
 *
 * Context: Process context; sleeps.
 * Return: the new pool; ERR_PTR(-EINVAL) for invalid @params (with a
 * message naming the pool and the field), ERR_PTR(-EEXIST) if a live pool
 * has the same name, ERR_PTR(-ENOMEM) if memory ran out, reserve included.
 */
struct bufpool *bufpool_create(const struct bufpool_params *params)
{
	struct bufpool *pool;
	int err;

	might_sleep();
	err = bufpool_check_params(params);
	if (err)
		return ERR_PTR(err);

	mutex_lock(&bufpool_list_lock);
	if (bufpool_find(params->name)) {
		pr_err_ratelimited("pool '%s': a pool of that name exists\n",
				   params->name);
		err = -EEXIST;
		goto unlock;
	}
	err = -ENOMEM;
	pool = bufpool_fault() ? NULL : kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		goto unlock;
	pool->magic = BUFPOOL_POOL_MAGIC;
	pool->flags = params->flags;
	pool->max_bufs = params->max_bufs;
	pool->min_bufs = params->min_bufs;
	pool->align = max_t(unsigned int, params->align,
			    __alignof__(struct bufpool_buf));
	INIT_DELAYED_WORK(&pool->service_work, bufpool_service);
	INIT_RCU_WORK(&pool->free_work, bufpool_free_work);
	pool->name = bufpool_fault() ? NULL : kstrdup(params->name, GFP_KERNEL);
	if (!pool->name)
		goto free;
	err = bufpool_depot_create(pool, params->buf_size);
	if (err)
		goto free;
	err = bufpool_mag_create(pool);
	if (err)
		goto free;
	err = bufpool_shrink_register(pool);
	if (err)
		goto free;
	list_add_tail(&pool->node, &bufpool_list);
	bufpool_debugfs_add(pool);
	mutex_unlock(&bufpool_list_lock);
	return pool;

free:
	bufpool_free_pool(pool);
unlock:
	mutex_unlock(&bufpool_list_lock);
	if (err == -ENOMEM)
		pr_err_ratelimited("pool '%s': out of memory\n", params->name);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(bufpool_create);

/*
 * What a notify request needs and cannot do itself, in process context:
 * sweep the magazines into the depot for it, grow the pool for it; and
 * let the magazines serve again a while after the last waiter left. The
 * work counts as a caller inside until it has run (bufpool_depot.c).
 */
static void bufpool_service(struct work_struct *work)
{
	struct bufpool *pool = container_of(to_delayed_work(work),
					    struct bufpool, service_work);
	unsigned long flags;
	unsigned int what;

	bufpool_depot_lock(pool, flags);
	what = pool->service;
	pool->service = 0;
	pool->service_queued = false;
	bufpool_depot_unlock(pool, flags);
	if (what & BUFPOOL_SERVICE_SWEEP)
		bufpool_mag_sweep(pool);
	if (what & BUFPOOL_SERVICE_GROW)
		bufpool_depot_grow_for_head(pool);
	if (what & BUFPOOL_SERVICE_BYPASS)
		bufpool_depot_end_bypass(pool);
	bufpool_depot_lock(pool, flags);
	bufpool_depot_leave(pool, flags);
}

/* Buffers changing hands */

/* A call site each, so that each kind has a rate limit of its own. */
static noinline void bufpool_bad_pool(const struct bufpool *pool,
				      const char *fn, unsigned long ip)
{
	if (!pool)
		pr_err_ratelimited("%s from %pS: NULL is not a pool\n", fn,
				   (void *)ip);
	else if (IS_ERR(pool))
		pr_err_ratelimited("%s from %pS: an ERR_PTR is not a pool\n", fn,
				   (void *)ip);
	else
		pr_err_ratelimited("%s from %pS: %p is not a pool (destroyed?)\n",
				   fn, (void *)ip, pool);
}

/* Inlined, so that _RET_IP_ is the API function's caller. */
static __always_inline bool bufpool_check_pool(const struct bufpool *pool,
					       const char *fn)
{
	if (!IS_ERR_OR_NULL(pool) && likely(pool->magic == BUFPOOL_POOL_MAGIC))
		return true;
	bufpool_bad_pool(pool, fn, _RET_IP_);
	return false;
}

static noinline void bufpool_check_poison(struct bufpool *pool,
					  struct bufpool_buf *buf)
{
	u8 *data = buf->data;
	u8 *bad = memchr_inv(data, BUFPOOL_POISON, pool->buf_size);

	if (bad)
		pr_err_ratelimited("pool '%s': buffer written after its last put (byte %td is %#x)\n",
				   pool->name, bad - data, *bad);
}

/*
 * @buf becomes the caller's, with one reference: taken by @ip at @now
 * ("Who holds the buffers" in bufpool_depot.c).
 */
static __always_inline void bufpool_buf_ready(struct bufpool *pool,
					      struct bufpool_buf *buf,
					      gfp_t gfp, unsigned long ip,
					      unsigned long now)
{
	/* First: nothing has to keep them across the calls below. */
	WRITE_ONCE(buf->holder, ip);
	WRITE_ONCE(buf->since, now);
	if (unlikely((pool->flags & (BUFPOOL_F_POISON | BUFPOOL_F_ZERO)) ||
		     (gfp & __GFP_ZERO))) {
		if (pool->flags & BUFPOOL_F_POISON)
			bufpool_check_poison(pool, buf);
		if ((pool->flags & BUFPOOL_F_ZERO) || (gfp & __GFP_ZERO))
			memset(buf->data, 0, pool->buf_size);
	}
	/* Pairs with the acquire in bufpool_depot_holders(). */
	smp_store_release(&buf->magic, BUFPOOL_BUF_LIVE);
	refcount_set(&buf->ref, 1);
}

/* Out of line: the hit path pays only for the static key's test. */
static noinline void bufpool_trace_alloc(struct bufpool *pool, unsigned int n,
					 struct bufpool_buf **bufs, int path)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		trace_bufpool_alloc(pool, bufs[i], path);
}

/*
 * @n buffers taken for a caller become its own, each with one reference,
 * and are counted. For every allocator, a notify request's callback too.
 * @ip is the caller of the API call: _RET_IP_ of the exported function,
 * passed down from there to whatever is out of line.
 */
static __always_inline void bufpool_hand_out(struct bufpool *pool,
					     unsigned int n,
					     struct bufpool_buf **bufs,
					     gfp_t gfp, int path,
					     unsigned long ip)
{
	unsigned long now = jiffies;
	unsigned int i;

	if (trace_bufpool_alloc_enabled())
		bufpool_trace_alloc(pool, n, bufs, path);
	for (i = 0; i < n; i++)
		bufpool_buf_ready(pool, bufs[i], gfp, ip, now);
	this_cpu_add(pool->mags->allocs, n);
}

/* bufpool_hand_out() of one buffer, which need not be in memory. */
static __always_inline void bufpool_hand_out_one(struct bufpool *pool,
						 struct bufpool_buf *buf,
						 gfp_t gfp, int path,
						 unsigned long ip)
{
	trace_bufpool_alloc(pool, buf, path);
	bufpool_buf_ready(pool, buf, gfp, ip, jiffies);
	this_cpu_inc(pool->mags->allocs);
}

/* The last reference to @buf is gone: it goes home. */
static __always_inline void bufpool_release(struct bufpool *pool,
					    struct bufpool_buf *buf)
{
	WRITE_ONCE(buf->magic, BUFPOOL_BUF_FREE);
	refcount_set(&buf->ref, 0);
	/* Count first: the pool may be gone once the buffer is home. */
	this_cpu_inc(pool->mags->frees);
	if (likely(pool->mag_mask) && likely(bufpool_mag_put(pool, buf)))
		return;
	bufpool_mag_put_slow(pool, buf);
}

/* The slow path */

/*
 * May this caller allocate from the slab? Not in hard IRQ, where the slab
 * takes locks that sleep on PREEMPT_RT (lockdep says so on any kernel with
 * PROVE_RAW_LOCK_NESTING), and on PREEMPT_RT only where the caller could
 * be preempted. Elsewhere a caller gets only buffers that exist.
 */
static bool bufpool_may_grow(void)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		return preemptible();
	return !in_hardirq() && !in_nmi();
}

/* Times a caller that cannot wait looks for idle buffers in magazines. */
#define BUFPOOL_LOOKS	4

/*
 * Other CPUs' magazines, for a caller nobody waits ahead of: returns true
 * to look at the depot again (it took some, or the depot or the
 * magazines changed meanwhile, or the depot holds buffers); false if all
 * were empty at one instant with the depot (see "Exact at the cap" in
 * bufpool_percpu.c).
 */
static bool bufpool_steal_locked(struct bufpool *pool,
				 struct bufpool_waiter *w,
				 unsigned long *flags)
	__must_hold(&pool->lock)
{
	int got;

	bufpool_depot_unlock(pool, *flags);
	got = bufpool_mag_steal(pool, w, NULL);
	bufpool_depot_lock(pool, *flags);
	if (got > 0)
		bufpool_depot_note_out_locked(pool);
	return got;
}

/*
 * The first sleeper of a waiting episode empties the magazines into the
 * depot, for the waiters; a notify request, which cannot send the IPIs
 * that takes, asks the service work to.
 */
static void bufpool_sweep_locked(struct bufpool *pool, bool can_sleep,
				 unsigned long *flags)
	__must_hold(&pool->lock)
{
	if (!can_sleep) {
		bufpool_depot_request_locked(pool, BUFPOOL_SERVICE_SWEEP, 0);
		return;
	}
	bufpool_depot_unlock(pool, *flags);
	bufpool_test_point(BUFPOOL_TP_DRAIN);
	bufpool_mag_sweep(pool);
	bufpool_depot_lock(pool, *flags);
}

/*
 * The slow path, for one buffer or a bulk request, straight down: take
 * from the depot; take from other CPUs' magazines; grow the pool; queue
 * if the caller may sleep or asked to be notified, and sweep the
 * magazines; at last sleep, or fail. Returns 0 with all @w wants in
 * @w->bufs (not yet readied); -EINPROGRESS for a notify request left in
 * the queue; or an error with no buffer held, counted in the pool's fails.
 *
 * Once it has let go of the pool lock for the last time, a destroy that
 * waits for this caller may free the pool, and the callback of a request
 * left queued may free it: nothing of either is touched then.
 */
static noinline int bufpool_alloc_slow(struct bufpool *pool, gfp_t gfp,
				       struct bufpool_waiter *w,
				       unsigned int state, long timeout)
{
	struct bufpool_req *req = bufpool_waiter_req(w);
	bool can_sleep = !req && gfpflags_allow_blocking(gfp);
	/* Asked before the pool lock, which makes no caller preemptible. */
	struct bufpool_take t = { .gfp = gfp, .may_grow = bufpool_may_grow() };
	unsigned int looks = 0;
	unsigned long flags;
	bool swept = false;
	int err;

	if (can_sleep)
		might_sleep();
	bufpool_depot_enter(pool, w, &flags);
	for (;;) {
		err = bufpool_depot_take_locked(pool, w, &t, &flags);
		if (err != -EAGAIN)
			break;
		if (!t.queued && !pool->nr_waiters && looks < BUFPOOL_LOOKS) {
			looks++;
			if (bufpool_steal_locked(pool, w, &flags))
				continue;
			looks = BUFPOOL_LOOKS;
		}
		if (!t.grow && t.may_grow) {
			t.grow = true;
			continue;
		}
		if ((can_sleep || req) && !t.queued) {
			bufpool_test_point(BUFPOOL_TP_ENQUEUE);
			bufpool_depot_enqueue_locked(pool, w, &flags);
			t.queued = true;
			continue;
		}
		if (t.queued && !swept && pool->mag_mask && !pool->mags_empty) {
			swept = true;
			bufpool_sweep_locked(pool, can_sleep, &flags);
			continue;
		}
		if (!can_sleep)
			break;
		err = bufpool_depot_sleep_locked(pool, state, &timeout, &t,
						 &flags);
		if (err)
			break;
		swept = false;
	}
	err = bufpool_depot_end_locked(pool, w, &t, err, &flags);
	bufpool_depot_leave(pool, flags);
	bufpool_test_point(BUFPOOL_TP_SLOW_EXIT);
	return err;
}

static int bufpool_check_wait(struct bufpool *pool, unsigned int state,
			      long timeout)
{
	if (state != TASK_INTERRUPTIBLE && state != TASK_KILLABLE &&
	    state != TASK_UNINTERRUPTIBLE) {
		pr_err_ratelimited("pool '%s': invalid task state %#x\n",
				   pool->name, state);
		return -EINVAL;
	}
	if (timeout < 0) {
		pr_err_ratelimited("pool '%s': negative timeout %ld\n",
				   pool->name, timeout);
		return -EINVAL;
	}
	return 0;
}

static int bufpool_check_bulk(struct bufpool *pool, unsigned int n,
			      struct bufpool_buf **bufs)
{
	if (!n || n > pool->max_bufs) {
		pr_err_ratelimited("pool '%s': bulk request of %u buffers is not in 1..%u\n",
				   pool->name, n, pool->max_bufs);
		return -EINVAL;
	}
	if (!bufs) {
		pr_err_ratelimited("pool '%s': bulk request into a NULL array\n",
				   pool->name);
		return -EINVAL;
	}
	return 0;
}

/* The allocation hit path: this CPU's magazine, unless someone waits. */
static __always_inline struct bufpool_buf *bufpool_take_hit(struct bufpool *pool)
{
	/* Not while anyone waits: first come, first served. */
	if (likely(pool->mag_mask) && likely(!READ_ONCE(pool->bypass)))
		return bufpool_mag_take(raw_cpu_ptr(pool->mags), pool->mag_mask);
	return NULL;
}

/*
 * One buffer for a caller whose magazine is empty, while nobody waits:
 * refill the magazine (from the depot, or half a magazine from another
 * CPU's: one pool lock round trip) where that may find enough to be worth
 * the lock; else take one buffer from another CPU's magazine without a
 * lock. A caller that could only fail learns that nothing is idle
 * without the pool lock at all: a failed allocation of a pool at its cap
 * costs two reads of the summary and of the magazines it marks (see
 * "Exact at the cap" in bufpool_percpu.c). Returns 0 with the buffer, 1
 * for the slow path, or -EAGAIN for a failure, counted.
 */
static int bufpool_take_miss_fast(struct bufpool *pool, gfp_t gfp,
				  struct bufpool_buf **bufp)
{
	struct bufpool_waiter w = { .bufs = bufp, .want = 1 };
	unsigned int enough = (pool->mag_mask + 1) / 2;
	int got;

	bufpool_mag_note_empty(pool);
	if (READ_ONCE(pool->nr_free) && bufpool_mag_refill(pool, bufp))
		return 0;
	got = bufpool_mag_steal(pool, &w, &enough);
	if (got > 0)
		return 0;
	/* A magazine with half of one or more: a refill takes that half. */
	if (!enough && bufpool_mag_refill(pool, bufp))
		return 0;
	if (got || gfpflags_allow_blocking(gfp) || READ_ONCE(pool->nr_waiters) ||
	    (bufpool_may_grow() && READ_ONCE(pool->backed) < pool->max_bufs))
		return 1;
	this_cpu_inc(pool->mags->fails[BUFPOOL_FAIL_EXHAUSTED]);
	trace_bufpool_alloc_fail(pool, 1, -EAGAIN, false);
	return -EAGAIN;
}

/*
 * The allocation miss path, for @n buffers: refill this CPU's magazine
 * (one buffer), or the slow path. Out of line, so that the hit path
 * keeps no waiter on its stack.
 */
static noinline int bufpool_take_miss(struct bufpool *pool, gfp_t gfp,
				      unsigned int n,
				      struct bufpool_buf **bufs,
				      unsigned int state, long timeout,
				      unsigned long ip)
{
	struct bufpool_waiter w = {
		.task = current, .bufs = bufs, .want = n,
	};
	int path = BUFPOOL_PATH_REFILL;
	int err;

	if (n == 1 && pool->mag_mask && !READ_ONCE(pool->bypass)) {
		err = bufpool_take_miss_fast(pool, gfp, bufs);
		if (err > 0)
			goto slow;
		if (err)
			return err;
		goto ready;
	}
slow:
	err = bufpool_alloc_slow(pool, gfp, &w, state, timeout);
	if (err)
		return err;
	path = BUFPOOL_PATH_SLOW;
ready:
	/* Counted once handed out: a failure is no miss (mag_hits). */
	this_cpu_add(pool->mags->misses, n);
	bufpool_hand_out(pool, n, bufs, gfp, path, ip);
	return 0;
}

/* bufpool_take_miss() for one buffer: the buffer, or an ERR_PTR. */
static noinline struct bufpool_buf *bufpool_take_one_miss(struct bufpool *pool,
							  gfp_t gfp,
							  unsigned int state,
							  long timeout,
							  unsigned long ip)
{
	struct bufpool_buf *buf;
	int err = bufpool_take_miss(pool, gfp, 1, &buf, state, timeout, ip);

	return err ? ERR_PTR(err) : buf;
}

/* @n buffers into @bufs, all or nothing: 0 or an error. */
static int bufpool_take(struct bufpool *pool, gfp_t gfp, unsigned int n,
			struct bufpool_buf **bufs, unsigned int state,
			long timeout, unsigned long ip)
{
	if (pool->mag_mask && !READ_ONCE(pool->bypass) &&
	    bufpool_mag_take_bulk(pool, n, bufs)) {
		bufpool_hand_out(pool, n, bufs, gfp, BUFPOOL_PATH_HIT, ip);
		return 0;
	}
	return bufpool_take_miss(pool, gfp, n, bufs, state, timeout, ip);
}

/**
 * bufpool_alloc - take a buffer from a pool
 * @pool: the pool
 * @gfp: GFP_KERNEL, GFP_NOIO, GFP_ATOMIC, ...; decides whether the call
 *	may sleep and how hard the pool tries to grow. __GFP_ZERO zeroes
 *	the buffer.
 *
 * If @gfp allows blocking and all of the pool's buffers are in use, sleeps
 * (uninterruptibly, without a timeout) until one is returned. Otherwise
 * never sleeps. Of @gfp, growth passes on to the slab how hard to try
 * (__GFP_DIRECT_RECLAIM, __GFP_KSWAPD_RECLAIM, __GFP_IO, __GFP_FS,
 * __GFP_HIGH, __GFP_NORETRY, __GFP_RETRY_MAYFAIL, __GFP_NOMEMALLOC);
 * zone modifiers are ignored (a pool's buffers are one cache's);
 * __GFP_NOFAIL is ignored (a pool at its cap cannot promise a buffer: a
 * caller that may sleep waits for one anyway); __GFP_ACCOUNT is the
 * pool's to say, not the caller's, and is ignored. A notify request's
 * buffers are not zeroed by any @gfp (it takes none): a pool that needs
 * them zeroed is created with %BUFPOOL_F_ZERO.
 *
 * Context: Any context but NMI; process context if @gfp allows blocking.
 * Return: a buffer with one reference, or NULL if the pool is exhausted
 * and @gfp does not allow blocking, or the pool is being destroyed.
 */
struct bufpool_buf *bufpool_alloc(struct bufpool *pool, gfp_t gfp)
{
	struct bufpool_buf *buf;

	if (!bufpool_check_pool(pool, __func__))
		return NULL;
	buf = bufpool_take_hit(pool);
	if (likely(buf)) {
		bufpool_hand_out_one(pool, buf, gfp, BUFPOOL_PATH_HIT, _RET_IP_);
		return buf;
	}
	buf = bufpool_take_one_miss(pool, gfp, TASK_UNINTERRUPTIBLE,
				    MAX_SCHEDULE_TIMEOUT, _RET_IP_);
	return IS_ERR(buf) ? NULL : buf;
}
EXPORT_SYMBOL_GPL(bufpool_alloc);

/**
 * bufpool_alloc_wait - take a buffer, sleeping as told while none is free
 * @pool: the pool
 * @gfp: as for bufpool_alloc(); must allow blocking for the call to wait
 * @state: %TASK_INTERRUPTIBLE, %TASK_KILLABLE or %TASK_UNINTERRUPTIBLE
 * @timeout: longest wait in jiffies, or %MAX_SCHEDULE_TIMEOUT
 *
 * Waiters are served in arrival order.
 *
 * Context: Process context if @gfp allows blocking; else any but NMI.
 * Return: a buffer with one reference, never NULL. ERR_PTR(-EINTR) if a
 * signal allowed by @state arrived, ERR_PTR(-ETIMEDOUT) if @timeout
 * passed, ERR_PTR(-EAGAIN) if the pool is exhausted and @gfp does not
 * allow blocking, ERR_PTR(-ESHUTDOWN) if the pool is being destroyed,
 * ERR_PTR(-EINVAL) for an invalid @pool, @state or @timeout.
 */
struct bufpool_buf *bufpool_alloc_wait(struct bufpool *pool, gfp_t gfp,
				       unsigned int state, long timeout)
{
	struct bufpool_buf *buf;
	int err;

	if (!bufpool_check_pool(pool, __func__))
		return ERR_PTR(-EINVAL);
	err = bufpool_check_wait(pool, state, timeout);
	if (err)
		return ERR_PTR(err);
	buf = bufpool_take_hit(pool);
	if (likely(buf)) {
		bufpool_hand_out_one(pool, buf, gfp, BUFPOOL_PATH_HIT, _RET_IP_);
		return buf;
	}
	return bufpool_take_one_miss(pool, gfp, state, timeout, _RET_IP_);
}
EXPORT_SYMBOL_GPL(bufpool_alloc_wait);

/*
 * Inlined into each bulk call, so that a report names it and its caller,
 * and _RET_IP_ is that caller: the buffers' holder.
 */
static __always_inline int bufpool_bulk(struct bufpool *pool, gfp_t gfp,
					unsigned int n, struct bufpool_buf **bufs,
					unsigned int state, long timeout,
					const char *fn)
{
	int err;

	if (!bufpool_check_pool(pool, fn))
		return -EINVAL;
	err = bufpool_check_bulk(pool, n, bufs);
	if (!err)
		err = bufpool_check_wait(pool, state, timeout);
	if (!err)
		err = bufpool_take(pool, gfp, n, bufs, state, timeout, _RET_IP_);
	return err;
}

/**
 * bufpool_alloc_bulk - take @n buffers at once, all or nothing
 * @pool: the pool
 * @gfp: as for bufpool_alloc(); if it allows blocking, the call sleeps
 *	uninterruptibly until all @n buffers are free
 * @n: how many, 1 .. the pool's max_bufs
 * @bufs: array of at least @n entries, filled on success
 *
 * A sleeping bulk request keeps the buffers returned to it while it waits,
 * in line with single requests, so it is never starved by them.
 *
 * Context: Any context but NMI; process context if @gfp allows blocking.
 * Return: 0 with @n buffers in @bufs, each with one reference.
 * -EAGAIN if fewer than @n are free and @gfp does not allow blocking,
 * -ESHUTDOWN if the pool is being destroyed, -EINVAL for an invalid @pool,
 * @n (0, or more than the pool could ever hold) or @bufs. On error @bufs
 * holds nothing.
 */
int bufpool_alloc_bulk(struct bufpool *pool, gfp_t gfp, unsigned int n,
		       struct bufpool_buf **bufs)
{
	return bufpool_bulk(pool, gfp, n, bufs, TASK_UNINTERRUPTIBLE,
			    MAX_SCHEDULE_TIMEOUT, __func__);
}
EXPORT_SYMBOL_GPL(bufpool_alloc_bulk);

/**
 * bufpool_alloc_bulk_wait - take @n buffers, sleeping as told until all are free
 * @pool: the pool
 * @gfp: as for bufpool_alloc()
 * @n: how many, 1 .. the pool's max_bufs
 * @bufs: array of at least @n entries, filled on success
 * @state: %TASK_INTERRUPTIBLE, %TASK_KILLABLE or %TASK_UNINTERRUPTIBLE
 * @timeout: longest wait in jiffies, or %MAX_SCHEDULE_TIMEOUT
 *
 * Context: Process context if @gfp allows blocking; else any but NMI.
 * Return: 0 with @n buffers in @bufs; -EINTR, -ETIMEDOUT, -EAGAIN,
 * -ESHUTDOWN or -EINVAL as for bufpool_alloc_wait() and
 * bufpool_alloc_bulk(), with no buffer held.
 */
int bufpool_alloc_bulk_wait(struct bufpool *pool, gfp_t gfp, unsigned int n,
			    struct bufpool_buf **bufs, unsigned int state,
			    long timeout)
{
	return bufpool_bulk(pool, gfp, n, bufs, state, timeout, __func__);
}
EXPORT_SYMBOL_GPL(bufpool_alloc_bulk_wait);

/**
 * bufpool_alloc_sg - take @n buffers at once, as the entries of a scatterlist
 * @pool: the pool
 * @gfp: as for bufpool_alloc_bulk()
 * @n: how many, 1 .. the pool's max_bufs
 * @bufs: array of at least @n entries, filled on success: what to put
 * @sgl: a scatterlist table of at least @n entries
 *
 * For one I/O that spans buffers: on success @sgl is initialised with @n
 * entries, the last one marked as the end, each covering one buffer's
 * bufpool_buf_size() bytes; trim lengths as the I/O needs. Return the
 * buffers with bufpool_put_bulk(@n, @bufs).
 *
 * Context: as for bufpool_alloc_bulk().
 * Return: 0, or an error as for bufpool_alloc_bulk() (-EINVAL for a NULL
 * @sgl too) with no buffer held and @sgl untouched.
 */
int bufpool_alloc_sg(struct bufpool *pool, gfp_t gfp, unsigned int n,
		     struct bufpool_buf **bufs, struct scatterlist *sgl)
{
	unsigned int i;
	int err;

	if (!bufpool_check_pool(pool, __func__))
		return -EINVAL;
	if (!sgl) {
		pr_err_ratelimited("pool '%s': %s into a NULL scatterlist\n",
				   pool->name, __func__);
		return -EINVAL;
	}
	err = bufpool_bulk(pool, gfp, n, bufs, TASK_UNINTERRUPTIBLE,
			   MAX_SCHEDULE_TIMEOUT, __func__);
	if (err)
		return err;
	sg_init_table(sgl, n);
	for (i = 0; i < n; i++)
		sg_set_buf(&sgl[i], bufs[i]->data, pool->buf_size);
	return 0;
}
EXPORT_SYMBOL_GPL(bufpool_alloc_sg);

/* Notify requests */

static void bufpool_notify_run(struct irq_work *work)
{
	struct bufpool_req *req = container_of(work, struct bufpool_req, work);
	struct bufpool_notify *nb = bufpool_notify_of(req);
	void (*func)(struct bufpool_notify *nb, int err) = nb->func;
	int err = req->err;

	/* Handed over, the buffers are in use: the pool stays meanwhile. */
	if (!err)
		bufpool_hand_out(req->pool, req->w.want, req->w.bufs, 0,
				 BUFPOOL_PATH_SLOW, req->ip);
	/*
	 * From here @nb is its owner's: it may queue it again at once. Pairs
	 * with the acquire in bufpool_alloc_notify().
	 */
	atomic_set_release(&req->state, BUFPOOL_NOTIFY_IDLE);
	func(nb, err);
}

/**
 * bufpool_notify_init - set up a notify request
 * @nb: the request, owned by the caller
 * @func: its callback; see &struct bufpool_notify
 *
 * Once, before @nb is first used, or again when it is idle.
 *
 * Context: Any context.
 */
void bufpool_notify_init(struct bufpool_notify *nb,
			 void (*func)(struct bufpool_notify *nb, int err))
{
	struct bufpool_req *req = bufpool_req_of(nb);

	memset(nb, 0, sizeof(*nb));
	nb->func = func;
	INIT_LIST_HEAD(&req->w.node);
	init_irq_work(&req->work, bufpool_notify_run);
	atomic_set(&req->state, BUFPOOL_NOTIFY_IDLE);
}
EXPORT_SYMBOL_GPL(bufpool_notify_init);

/**
 * bufpool_alloc_notify - take @n buffers now, or be handed them later
 * @pool: the pool
 * @n: how many, 1 .. the pool's max_bufs
 * @bufs: array of at least @n entries; filled now (return 0) or before the
 *	callback runs with 0. Must stay valid while the request is queued.
 * @nb: an idle request, set up with bufpool_notify_init()
 *
 * For callers that cannot sleep but would rather not poll, such as a
 * receive path that has just dropped a packet: if the buffers are not
 * free now, the request queues with the sleepers, in arrival order, and
 * the buffers returned to it are its own, as a sleeper's would be. Below
 * its cap the pool grows for a request at the head of the queue, from a
 * work item if the caller could not (in hard IRQ). Its callback then runs
 * once: with 0 when it holds all @n, each with one reference, or with
 * -ESHUTDOWN, holding none, if the pool is destroyed first. It never runs
 * before this call has returned -EINPROGRESS: whatever happens to the
 * request while the call is inside, the call returns it.
 *
 * Context: Any context but NMI.
 * Return: 0 with @n buffers in @bufs (the callback will not run);
 * -EINPROGRESS if the request was queued; -ESHUTDOWN if the pool is being
 * destroyed; -ECANCELED if bufpool_notify_cancel() dequeued it meanwhile;
 * -EBUSY if @nb is still queued or its callback pending; -EINVAL for an
 * invalid @pool, @n, @bufs or @nb.
 */
int bufpool_alloc_notify(struct bufpool *pool, unsigned int n,
			 struct bufpool_buf **bufs, struct bufpool_notify *nb)
{
	int path = BUFPOOL_PATH_HIT;
	struct bufpool_req *req;
	int err;

	if (!bufpool_check_pool(pool, __func__))
		return -EINVAL;
	err = bufpool_check_bulk(pool, n, bufs);
	if (err)
		return err;
	if (!nb || !nb->func) {
		pr_err_ratelimited("pool '%s': notify request without a callback\n",
				   pool->name);
		return -EINVAL;
	}
	req = bufpool_req_of(nb);
	/* Pairs with the release in bufpool_notify_run(). */
	if (atomic_read_acquire(&req->state) != BUFPOOL_NOTIFY_IDLE)
		return -EBUSY;
	if (pool->mag_mask && !READ_ONCE(pool->bypass) &&
	    bufpool_mag_take_bulk(pool, n, bufs))
		goto ready;
	req->w.task = NULL;
	req->w.bufs = bufs;
	req->w.want = n;
	req->w.got = 0;
	/* The holder of what its callback will be handed. */
	req->ip = _RET_IP_;
	err = bufpool_alloc_slow(pool, GFP_ATOMIC, &req->w, TASK_RUNNING, 0);
	if (err)
		return err;
	path = BUFPOOL_PATH_SLOW;
ready:
	bufpool_hand_out(pool, n, bufs, 0, path, _RET_IP_);
	return 0;
}
EXPORT_SYMBOL_GPL(bufpool_alloc_notify);

/**
 * bufpool_notify_cancel - take a notify request out of the queue
 * @nb: the request
 *
 * If @nb is queued, dequeues it and gives back what it held so far to the
 * next in line; its callback will not run. Otherwise waits until a
 * callback that is due has returned and the irq_work that ran it is done
 * with @nb. Either way @nb is idle when this returns, and its owner may
 * free it: call it on every request before freeing it, and before the
 * module that owns the callback is unloaded. Called while the request's
 * own bufpool_alloc_notify() is still running, it dequeues the request
 * and that call returns -ECANCELED.
 *
 * Context: Process context; may sleep.
 * Return: true if the request was dequeued, false if its callback ran (or
 * it was never queued).
 */
bool bufpool_notify_cancel(struct bufpool_notify *nb)
{
	struct bufpool_req *req = bufpool_req_of(nb);

	might_sleep();
	for (;;) {
		if (bufpool_depot_dequeue_req(req)) {
			/* If its call was still inside, until it returns. */
			while (atomic_read_acquire(&req->state) != BUFPOOL_NOTIFY_IDLE)
				schedule_timeout_uninterruptible(1);
			return true;
		}
		switch (atomic_read_acquire(&req->state)) {
		case BUFPOOL_NOTIFY_IDLE:
			/* Its callback may still be running: wait it out. */
			irq_work_sync(&req->work);
			if (atomic_read(&req->state) == BUFPOOL_NOTIFY_IDLE)
				return false;
			break;	/* it queued @nb again */
		case BUFPOOL_NOTIFY_FIRING:
			/* Due, but maybe not yet an irq_work (shutdown). */
			schedule_timeout_uninterruptible(1);
			break;
		}
	}
}
EXPORT_SYMBOL_GPL(bufpool_notify_cancel);

/* References */

/*
 * A get or put of something that is not a live buffer: say so once,
 * naming the caller, and do nothing. NULL is no buffer, quietly, as for
 * kfree(); an ERR_PTR or an idle buffer is read no further than its magic.
 */
static noinline void bufpool_bad_buf(const struct bufpool_buf *buf,
				     const char *fn, unsigned long ip)
{
	if (!buf)
		return;
	if (IS_ERR(buf))
		pr_err_ratelimited("%s from %pS: ERR_PTR(%ld) is not a buffer\n",
				   fn, (void *)ip, PTR_ERR(buf));
	else if (READ_ONCE(buf->magic) == BUFPOOL_BUF_FREE)
		pr_err_ratelimited("%s from %pS: buffer of pool '%s' is not held by anyone (put once too often?)\n",
				   fn, (void *)ip, buf->pool->name);
	else
		pr_err_ratelimited("%s from %pS: %p is not a bufpool buffer\n",
				   fn, (void *)ip, buf);
}

static __always_inline bool bufpool_live_buf(const struct bufpool_buf *buf)
{
	return !IS_ERR_OR_NULL(buf) && likely(READ_ONCE(buf->magic) == BUFPOOL_BUF_LIVE);
}

/**
 * bufpool_data_to_buf - the buffer whose data @data is
 * @pool: the pool the buffer came from
 * @data: bufpool_buf_data() of a buffer of @pool that the caller holds
 *
 * For callers that keep only the data pointer, as the network stack keeps
 * skb->head; the pool must have been created with %BUFPOOL_F_LOOKUP.
 * Checked against @pool through its index, so any pointer is safe to
 * ask about: one that is not the start of a live buffer of @pool gets a
 * message naming the pool and NULL.
 *
 * Context: Any context but NMI, hard IRQ included (on PREEMPT_RT too: the
 * index is read under RCU, without a lock).
 * Return: the buffer, with no reference taken, or NULL.
 */
struct bufpool_buf *bufpool_data_to_buf(struct bufpool *pool, const void *data)
{
	struct bufpool_buf *buf;

	if (!bufpool_check_pool(pool, __func__))
		return NULL;
	/* One rule, whatever the layout: the flag asks for the index. */
	if (!(pool->flags & BUFPOOL_F_LOOKUP)) {
		pr_err_ratelimited("pool '%s': %s needs BUFPOOL_F_LOOKUP\n",
				   pool->name, __func__);
		return NULL;
	}
	buf = bufpool_depot_lookup(pool, data);
	if (unlikely(!buf))
		pr_err_ratelimited("pool '%s': %s: %p is not the data of a buffer in use\n",
				   pool->name, __func__, data);
	return buf;
}
EXPORT_SYMBOL_GPL(bufpool_data_to_buf);

/**
 * bufpool_buf_pool - the pool a buffer belongs to
 * @buf: a buffer the caller holds
 *
 * Context: Any context.
 * Return: the pool @buf came from.
 */
struct bufpool *bufpool_buf_pool(const struct bufpool_buf *buf)
{
	return buf->pool;
}
EXPORT_SYMBOL_GPL(bufpool_buf_pool);

/**
 * bufpool_buf_size - the usable size of a buffer
 * @buf: a buffer the caller holds
 *
 * Context: Any context.
 * Return: the bytes each buffer of @buf's pool holds: at least the
 * buf_size it was created with, more where the slab's slot is bigger.
 */
size_t bufpool_buf_size(const struct bufpool_buf *buf)
{
	return buf->pool->buf_size;
}
EXPORT_SYMBOL_GPL(bufpool_buf_size);

/**
 * bufpool_get - take another reference to a buffer
 * @buf: a buffer the caller holds a reference to
 *
 * Context: Any context but NMI.
 * Return: @buf, or NULL (with a message) if @buf is not a live buffer.
 */
struct bufpool_buf *bufpool_get(struct bufpool_buf *buf)
{
	if (!bufpool_live_buf(buf)) {
		bufpool_bad_buf(buf, __func__, _RET_IP_);
		return NULL;
	}
	refcount_inc(&buf->ref);
	return buf;
}
EXPORT_SYMBOL_GPL(bufpool_get);

/*
 * Two puts of a buffer held once, racing, both get as far as this: the
 * caller's bug, as for skb_unref(). Where debugging is asked for, one
 * compare-and-exchange lets exactly one take it home, poisoned.
 */
static noinline bool bufpool_claim_poisoned(struct bufpool *pool,
					    struct bufpool_buf *buf,
					    const char *fn, unsigned long ip)
{
	if (cmpxchg(&buf->magic, BUFPOOL_BUF_LIVE, BUFPOOL_BUF_FREE) !=
	    BUFPOOL_BUF_LIVE) {
		bufpool_bad_buf(buf, fn, ip);
		return false;
	}
	memset(buf->data, BUFPOOL_POISON, pool->buf_size);
	return true;
}

static __always_inline void bufpool_put_one(struct bufpool_buf *buf,
					    const char *fn, unsigned long ip)
{
	struct bufpool *pool;

	if (unlikely(!bufpool_live_buf(buf))) {
		bufpool_bad_buf(buf, fn, ip);
		return;
	}
	/*
	 * A buffer with one reference is ours alone: nobody else can take
	 * one, so skip the atomic (the sk_buff trick; see skb_unref()).
	 */
	if (likely(refcount_read(&buf->ref) == 1)) {
		/* Acquire, as refcount_dec_and_test() would give. */
		smp_rmb();
	} else if (!refcount_dec_and_test(&buf->ref)) {
		return;
	}
	pool = buf->pool;
	bufpool_test_point(BUFPOOL_TP_PUT);
	if (unlikely(pool->flags & BUFPOOL_F_POISON) &&
	    !bufpool_claim_poisoned(pool, buf, fn, ip))
		return;
	trace_bufpool_put(buf);
	bufpool_release(pool, buf);
}

/**
 * bufpool_put - drop a reference to a buffer
 * @buf: the buffer; NULL is ignored
 *
 * The last put returns the buffer to its pool: to the longest waiter if
 * anyone waits, else to this CPU's magazine or the pool's free list. A put
 * of a buffer nobody holds, of an ERR_PTR or of a pointer that is not a
 * buffer is reported, naming the caller, and ignored. Two puts racing for
 * a buffer held once (each caller thinking it holds the last reference)
 * are the caller's bug, undefined as for skb_unref(): with
 * %BUFPOOL_F_POISON the second is reported and ignored too; without it,
 * the buffer may be returned twice.
 *
 * Context: Any context but NMI, hard IRQ included.
 */
void bufpool_put(struct bufpool_buf *buf)
{
	bufpool_put_one(buf, __func__, _RET_IP_);
}
EXPORT_SYMBOL_GPL(bufpool_put);

/**
 * bufpool_put_bulk - drop a reference to each of @n buffers
 * @n: how many
 * @bufs: the buffers, from any pools; NULL entries are ignored
 *
 * Context: Any context but NMI.
 */
void bufpool_put_bulk(unsigned int n, struct bufpool_buf **bufs)
{
	unsigned int i;

	if (n && !bufs) {
		pr_err_ratelimited("%s from %pS: NULL array of %u buffers\n",
				   __func__, (void *)_RET_IP_, n);
		return;
	}
	for (i = 0; i < n; i++)
		bufpool_put_one(bufs[i], __func__, _RET_IP_);
}
EXPORT_SYMBOL_GPL(bufpool_put_bulk);

/* Statistics and teardown */

/**
 * DOC: Counters
 *
 * Every counter of a pool is one line of ``<linux/bufpool_stats.h>``,
 * ``BUFPOOL_STAT(ENUM, name)``, which makes its index in ``enum bufpool_stat``,
 * its field in ``struct bufpool_stats``, its name in
 * ``bufpool_stat_names[]``, its line in the pool's debugfs ``stats`` and
 * its ethtool string, in the same order (as ``mm/kfence`` keeps its
 * counters, with an enum and a names table). Counters of the hit paths
 * are per CPU, the others under the pool lock; ``bufpool_get_stats()``
 * reads them all.
 */

/* The counters' names, by &enum bufpool_stat: debugfs, ethtool. */
const char *const bufpool_stat_names[BUFPOOL_STAT_NR] = {
#define BUFPOOL_STAT(e, name) \
	[BUFPOOL_STAT_##e] = #name,
#include <linux/bufpool_stats.h>
#undef BUFPOOL_STAT
};

#if IS_ENABLED(CONFIG_KUNIT)
EXPORT_SYMBOL_IF_KUNIT(bufpool_stat_names);
#endif

/* The same as ethtool strings, NUL-padded (a name too long warns). */
static const char bufpool_stat_strings[BUFPOOL_STAT_NR][ETH_GSTRING_LEN] = {
#define BUFPOOL_STAT(e, name) \
	[BUFPOOL_STAT_##e] = "bufpool_" #name,
#include <linux/bufpool_stats.h>
#undef BUFPOOL_STAT
};

/* The fails_* counters are in the order of the trace event's reasons. */
static_assert(BUFPOOL_STAT_FAILS_EXHAUSTED + BUFPOOL_FAIL_EXHAUSTED ==
	      BUFPOOL_STAT_FAILS_EXHAUSTED);
static_assert(BUFPOOL_STAT_FAILS_EXHAUSTED + BUFPOOL_FAIL_DYING ==
	      BUFPOOL_STAT_FAILS_DYING);
static_assert(BUFPOOL_STAT_FAILS_EXHAUSTED + BUFPOOL_FAIL_NOMEM ==
	      BUFPOOL_STAT_FAILS_NOMEM);
static_assert(BUFPOOL_STAT_FAILS_EXHAUSTED + BUFPOOL_FAIL_TIMEOUT ==
	      BUFPOOL_STAT_FAILS_TIMEOUT);
static_assert(BUFPOOL_STAT_FAILS_EXHAUSTED + BUFPOOL_FAIL_SIGNAL ==
	      BUFPOOL_STAT_FAILS_SIGNAL);
/* The named fields are the array. */
static_assert(sizeof(struct bufpool_stats) == BUFPOOL_STAT_NR * sizeof(u64));
static_assert(offsetof(struct bufpool_stats, grow_fails) ==
	      BUFPOOL_STAT_GROW_FAILS * sizeof(u64));

/**
 * bufpool_get_stats - read a pool's counters
 * @pool: the pool
 * @stats: filled with a snapshot; <linux/bufpool_stats.h> says what each
 *	counts
 *
 * Context: Any context but NMI.
 */
void bufpool_get_stats(struct bufpool *pool, struct bufpool_stats *stats)
{
	unsigned long flags;
	unsigned int i;
	u64 misses = 0;
	int cpu;

	memset(stats, 0, sizeof(*stats));
	if (!bufpool_check_pool(pool, __func__))
		return;
	for_each_possible_cpu(cpu) {
		struct bufpool_mag *m = per_cpu_ptr(pool->mags, cpu);

		stats->allocs += READ_ONCE(m->allocs);
		stats->frees += READ_ONCE(m->frees);
		for (i = 0; i < BUFPOOL_FAIL_REASONS; i++)
			stats->counters[BUFPOOL_STAT_FAILS_EXHAUSTED + i] +=
				READ_ONCE(m->fails[i]);
		stats->steals += READ_ONCE(m->steals);
		misses += READ_ONCE(m->misses);
	}
	for (i = 0; i < BUFPOOL_FAIL_REASONS; i++)
		stats->fails += stats->counters[BUFPOOL_STAT_FAILS_EXHAUSTED + i];
	stats->in_use = stats->allocs - stats->frees;
	/* Every buffer handed out or taken home hit unless it missed. */
	stats->mag_misses = misses;
	stats->mag_hits = stats->allocs + stats->frees - misses;
	stats->cached = bufpool_mag_cached(pool);

	bufpool_depot_lock(pool, flags);
	stats->waits = pool->waits;
	stats->wait_ns_total = pool->wait_ns_total;
	stats->wait_ns_max = pool->wait_ns_max;
	stats->high_watermark = pool->high_watermark;
	stats->backed = pool->backed - pool->growing;
	stats->free = pool->nr_free + stats->cached;
	stats->waiters = pool->nr_waiters;
	stats->sweeps = pool->sweeps;
	stats->barges = pool->barges;
	stats->handoffs = pool->handoffs;
	stats->empty_wakeups = pool->empty_wakeups;
	stats->shrink_scans = pool->shrink_scans;
	stats->shrink_freed = pool->shrink_freed;
	stats->grow_fails = pool->grow_fails;
	bufpool_depot_unlock(pool, flags);
}
EXPORT_SYMBOL_GPL(bufpool_get_stats);

/**
 * bufpool_ethtool_stats_get_count - how many counters a pool reports to ethtool
 *
 * For a driver's &ethtool_ops.get_sset_count (%ETH_SS_STATS), as
 * page_pool_ethtool_stats_get_count() is: add this for each pool it
 * reports.
 *
 * Context: Any context.
 * Return: %BUFPOOL_STAT_NR, the entries bufpool_ethtool_stats_get_strings()
 * and bufpool_ethtool_stats_get() write.
 */
int bufpool_ethtool_stats_get_count(void)
{
	return BUFPOOL_STAT_NR;
}
EXPORT_SYMBOL_GPL(bufpool_ethtool_stats_get_count);

/**
 * bufpool_ethtool_stats_get_strings - the names of a pool's counters, for ethtool
 * @data: where the strings go, %ETH_GSTRING_LEN bytes each
 *
 * For a driver's &ethtool_ops.get_strings (%ETH_SS_STATS), as
 * page_pool_ethtool_stats_get_strings() is: "bufpool_allocs" and so on,
 * one per counter of <linux/bufpool_stats.h>, in &enum bufpool_stat order, each
 * padded with NULs. A driver that reports several pools names them
 * itself, or sums them.
 *
 * Context: Any context.
 * Return: @data past the last string written, for the driver's next.
 */
u8 *bufpool_ethtool_stats_get_strings(u8 *data)
{
	unsigned int i;

	for (i = 0; i < BUFPOOL_STAT_NR; i++) {
		memcpy(data, bufpool_stat_strings[i], ETH_GSTRING_LEN);
		data += ETH_GSTRING_LEN;
	}
	return data;
}
EXPORT_SYMBOL_GPL(bufpool_ethtool_stats_get_strings);

/**
 * bufpool_ethtool_stats_get - a pool's counters, for ethtool
 * @data: where the values go, one u64 per counter
 * @pool: the pool
 *
 * For a driver's &ethtool_ops.get_ethtool_stats, as
 * page_pool_ethtool_stats_get() is: bufpool_get_stats() of @pool, in the
 * order of bufpool_ethtool_stats_get_strings(). An invalid @pool is
 * reported and its entries are zero.
 *
 * Context: Any context but NMI.
 * Return: @data past the last value written, for the driver's next.
 */
u64 *bufpool_ethtool_stats_get(u64 *data, struct bufpool *pool)
{
	struct bufpool_stats st;

	bufpool_get_stats(pool, &st);
	memcpy(data, st.counters, sizeof(st.counters));
	return data + BUFPOOL_STAT_NR;
}
EXPORT_SYMBOL_GPL(bufpool_ethtool_stats_get);

/**
 * bufpool_name - the name a pool was created with
 * @pool: the pool
 *
 * Context: Any context.
 * Return: the name, valid until the pool is destroyed; "(none)" for a
 * NULL or ERR_PTR pool.
 */
const char *bufpool_name(const struct bufpool *pool)
{
	return IS_ERR_OR_NULL(pool) ? "(none)" : pool->name;
}
EXPORT_SYMBOL_GPL(bufpool_name);

/* Call sites destroy's warning names, most buffers first. */
#define BUFPOOL_REPORT_SITES	4

/*
 * Name who holds the buffers a destroy waits for: the call sites holding
 * most, with how many each holds and for how long its oldest.
 */
static void bufpool_report_holders(struct bufpool *pool)
{
	struct bufpool_holders *h = kmalloc(sizeof(*h), GFP_KERNEL);
	char site[BUFPOOL_SITE_NAME_LEN];
	unsigned long rest;
	unsigned int i;

	if (!h)
		return;
	bufpool_depot_holders(pool, h);
	rest = h->held;
	for (i = 0; i < min_t(unsigned int, h->nr, BUFPOOL_REPORT_SITES); i++) {
		bufpool_depot_site_name(site, sizeof(site), h->site[i].ip);
		pr_warn("pool '%s':   %lu held by %s for %u ms\n", pool->name,
			h->site[i].count, site,
			jiffies_to_msecs(jiffies - h->site[i].since));
		rest -= h->site[i].count;
	}
	if (rest)
		pr_warn("pool '%s':   %lu held by other call sites\n",
			pool->name, rest);
	kfree(h);
}

/*
 * Finish the destroy of a stopped pool: every buffer idle in a magazine
 * goes to the depot. Returns once no buffer is in use, complaining every
 * few seconds; if @wait is false and some still are after the first few
 * seconds, returns false instead.
 */
static bool bufpool_shutdown(struct bufpool *pool, bool wait)
{
	bool home = true;
	unsigned int in_use;
	unsigned long flags;

	bufpool_debugfs_remove(pool);
	bufpool_shrink_unregister(pool);
	bufpool_mag_sweep(pool);

	while (!wait_for_completion_timeout(&pool->home, BUFPOOL_DESTROY_WARN)) {
		bufpool_depot_lock(pool, flags);
		in_use = bufpool_depot_out_locked(pool);
		bufpool_depot_unlock(pool, flags);
		if (!in_use)
			continue;	/* only callers leaving: no need to complain */
		if (!wait) {
			pr_err("pool '%s': %u buffers still in use, leaking the pool\n",
			       pool->name, in_use);
			home = false;
			break;
		}
		pr_warn("pool '%s': destroy waits for %u buffers still in use\n",
			pool->name, in_use);
		bufpool_report_holders(pool);
	}
	/*
	 * The last buffer home, or the last caller out, completed @home
	 * from inside a section under the pool lock, interrupts off, which
	 * may still be running: an RCU read-side critical section, as every
	 * magazine section (preemption off) is, so this waits them out.
	 */
	synchronize_rcu();
	bufpool_test_point(BUFPOOL_TP_SHUTDOWN);
	return home;
}

/**
 * bufpool_destroy - destroy a pool once all its buffers are back
 * @pool: the pool; NULL or an ERR_PTR is ignored
 *
 * New allocations fail at once and sleeping allocators wake up with an
 * error. Then waits until every buffer has been put, printing a warning
 * with the pool's name and the count still in use every few seconds, and
 * frees everything, slab cache included.
 *
 * Must not be called by a context that still holds buffers of @pool, or
 * whose progress the holders depend on: it would wait forever.
 *
 * Context: Process context; sleeps.
 */
void bufpool_destroy(struct bufpool *pool)
{
	if (IS_ERR_OR_NULL(pool))
		return;
	if (!bufpool_check_pool(pool, __func__))
		return;
	might_sleep();
	if (!bufpool_depot_stop(pool, false, NULL, NULL, _RET_IP_))
		return;
	bufpool_shutdown(pool, true);
	/* The name stays taken until its slab cache is gone. */
	mutex_lock(&bufpool_list_lock);
	list_del(&pool->node);
	pool->magic = 0;
	bufpool_free_pool(pool);
	mutex_unlock(&bufpool_list_lock);
}
EXPORT_SYMBOL_GPL(bufpool_destroy);

/* The last buffer of a pool destroyed with bufpool_destroy_async() is home. */
static void bufpool_free_work(struct work_struct *work)
{
	struct bufpool *pool = container_of(to_rcu_work(work), struct bufpool,
					    free_work);
	void (*release)(void *arg) = pool->release;
	void *arg = pool->release_arg;

	bufpool_debugfs_remove(pool);
	bufpool_shrink_unregister(pool);
	mutex_lock(&bufpool_list_lock);
	list_del(&pool->node);
	pool->magic = 0;
	bufpool_free_pool(pool);
	mutex_unlock(&bufpool_list_lock);
	if (release)
		release(arg);
}

/**
 * bufpool_destroy_async - destroy a pool once its last buffer is back, without waiting
 * @pool: the pool; NULL or an ERR_PTR is ignored
 * @release: called, in process context, once the pool is freed; or NULL
 * @arg: passed to @release
 *
 * As bufpool_destroy(), but returns at once: new allocations fail from
 * now on, sleepers wake up with -ESHUTDOWN and notify requests fail, and
 * the last bufpool_put() of a buffer of @pool, from whatever context,
 * has the pool freed by a work item, which then calls @release. For
 * clients that count their buffers home and cannot wait for them, as
 * objpool's users do. After this call only bufpool_put() and
 * bufpool_get() of buffers still held may touch @pool. With @release
 * NULL the pool is freed all the same. The module of @release must stay
 * loaded until it has run and bufpool_barrier() has returned.
 *
 * Context: Any context but NMI.
 */
void bufpool_destroy_async(struct bufpool *pool, void (*release)(void *arg),
			   void *arg)
{
	unsigned long flags;

	if (IS_ERR_OR_NULL(pool) || !bufpool_check_pool(pool, __func__))
		return;
	if (!bufpool_depot_stop(pool, true, release, arg, _RET_IP_))
		return;
	/* Buffers idle in magazines must go home: a sweep sends IPIs. */
	bufpool_depot_lock(pool, flags);
	bufpool_depot_request_locked(pool, BUFPOOL_SERVICE_SWEEP, 0);
	bufpool_depot_leave(pool, flags);
}
EXPORT_SYMBOL_GPL(bufpool_destroy_async);

/**
 * bufpool_barrier - wait until bufpool is done with every release callback
 *
 * A module that passed a @release callback to bufpool_destroy_async()
 * must call this before its code goes away (in its exit function), once
 * its own count says every such pool was released: a callback that has
 * signalled the module may still be running its last instructions, and
 * pools destroyed without waiting may still be on their way to it. Waits
 * for every pool destroyed without waiting whose last buffer is home to
 * be freed and its callback to return, as rcu_barrier() does for
 * call_rcu(). Notify requests need bufpool_notify_cancel() instead.
 *
 * Context: Process context; sleeps.
 */
void bufpool_barrier(void)
{
	might_sleep();
	/* A pool's free work is queued from an RCU callback (queue_rcu_work). */
	rcu_barrier();
	flush_workqueue(bufpool_wq);
}
EXPORT_SYMBOL_GPL(bufpool_barrier);

static int __init bufpool_init(void)
{
	int err;

	err = bufpool_depot_init();
	if (err)
		return err;
	err = -ENOMEM;
	bufpool_wq = alloc_workqueue("bufpool", WQ_UNBOUND, 0);
	if (!bufpool_wq)
		goto depot;
	err = bufpool_mag_init();
	if (err)
		goto free_wq;
	bufpool_debugfs_init();
#ifdef CONFIG_FAULT_INJECTION
	bufpool_debugfs_fault(&bufpool_fault_attr);
#endif
	return 0;

free_wq:
	destroy_workqueue(bufpool_wq);
depot:
	bufpool_depot_exit();
	return err;
}

/*
 * Module references keep bufpool loaded while a client is; a client that
 * went away without destroying its pools left them here. Free those that
 * are idle, and leak, loudly, those whose buffers are still out.
 */
static void __exit bufpool_exit(void)
{
	struct bufpool *pool, *tmp;
	bool leaked = false;

	/* Pools destroyed asynchronously whose buffers are all home. */
	rcu_barrier();
	flush_workqueue(bufpool_wq);

	list_for_each_entry_safe(pool, tmp, &bufpool_list, node) {
		list_del(&pool->node);
		if (pool->async) {
			pr_err("pool '%s': destroyed without waiting, but buffers are still out: leaking it\n",
			       pool->name);
			bufpool_debugfs_remove(pool);
			bufpool_shrink_unregister(pool);
		} else {
			pr_err("pool '%s' was never destroyed\n", pool->name);
			bufpool_depot_stop(pool, false, NULL, NULL, _THIS_IP_);
			if (bufpool_shutdown(pool, false)) {
				bufpool_free_pool(pool);
				continue;
			}
		}
		/* Its buffers are lost with bufpool's code: keep their memory. */
		bufpool_mag_destroy(pool);
		leaked = true;
	}
	destroy_workqueue(bufpool_wq);
	bufpool_debugfs_exit();
	bufpool_mag_exit();
	/* The headers of a leaked pool's buffers still in use live there. */
	if (!leaked)
		bufpool_depot_exit();
}

module_init(bufpool_init);
module_exit(bufpool_exit);
MODULE_DESCRIPTION("Per-subsystem pools of fixed-size buffers");
MODULE_AUTHOR("The bufpool maintainers");
MODULE_LICENSE("GPL");
MODULE_VERSION(BUFPOOL_VERSION);
