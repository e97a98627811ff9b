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
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/fault-inject.h>
#include <linux/irq_work.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/nodemask.h>
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

/*
 * All pools, live and dying, for names, debugfs and module exit. A pool
 * is on it from its creation until its slab cache is gone.
 */
DEFINE_MUTEX(bufpool_list_lock);
LIST_HEAD(bufpool_list);
/* The id of the last pool created, under bufpool_list_lock. */
static unsigned long bufpool_last_id;
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
	/* The debugfs directory has entries of its own. */
	if (!strcmp(name, "pools") || !strcmp(name, "fail") ||
	    !strcmp(name, "dying")) {
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

/* The DMA and NUMA fields: @dev, @dma_dir, @nid and their flags. */
static int bufpool_check_dma_params(const struct bufpool_params *p)
{
	unsigned int dma = p->flags & (BUFPOOL_F_DMA_MAP | BUFPOOL_F_DMA_SYNC_DEV);

	if (dma && !p->dev) {
		pr_err_ratelimited("pool '%s': BUFPOOL_F_DMA_MAP and BUFPOOL_F_DMA_SYNC_DEV need a dev\n",
				   p->name);
		return -EINVAL;
	}
	if (dma == BUFPOOL_F_DMA_SYNC_DEV) {
		pr_err_ratelimited("pool '%s': BUFPOOL_F_DMA_SYNC_DEV needs BUFPOOL_F_DMA_MAP\n",
				   p->name);
		return -EINVAL;
	}
	if (dma && !p->dev->dma_mask) {
		pr_err_ratelimited("pool '%s': device %s has no DMA mask\n",
				   p->name, dev_name(p->dev));
		return -EINVAL;
	}
	/* DMA_BIDIRECTIONAL is 0: a direction set without mapping is a slip. */
	if (dma ? !valid_dma_direction(p->dma_dir) : p->dma_dir != DMA_BIDIRECTIONAL) {
		pr_err_ratelimited("pool '%s': dma_dir %d is %s\n", p->name,
				   p->dma_dir, dma ? "not a DMA direction" :
				   "set without BUFPOOL_F_DMA_MAP");
		return -EINVAL;
	}
	if (!(p->flags & BUFPOOL_F_NODE)) {
		if (p->nid && p->nid != NUMA_NO_NODE) {
			pr_err_ratelimited("pool '%s': nid %d set without BUFPOOL_F_NODE\n",
					   p->name, p->nid);
			return -EINVAL;
		}
	} else if (p->nid != NUMA_NO_NODE &&
		   (p->nid < 0 || p->nid >= MAX_NUMNODES || !node_online(p->nid) ||
		    !node_state(p->nid, N_MEMORY))) {
		pr_err_ratelimited("pool '%s': nid %d is not an online node with memory\n",
				   p->name, p->nid);
		return -EINVAL;
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
	return bufpool_check_dma_params(p);
}

/*
 * The live pool named @name, or NULL. Dying pools of that name, whose
 * name is free, get their debugfs directory out of the way meanwhile.
 * Caller holds bufpool_list_lock.
 */
static struct bufpool *bufpool_find_live(const char *name)
{
	struct bufpool *pool, *live = NULL;

	list_for_each_entry(pool, &bufpool_list, node) {
		if (strcmp(pool->name, name))
			continue;
		/* Pairs with nothing: the stop is one store, seen or not. */
		if (!READ_ONCE(pool->dying))
			live = pool;
		else
			bufpool_debugfs_retire(pool);
	}
	return live;
}

/*
 * "bufpool-<name>", or while a dying pool of the name still has that
 * cache, the first "bufpool-<name>.<n>" no pool has: the slab wants its
 * caches' names unique. Caller holds bufpool_list_lock.
 */
static char *bufpool_slab_name(const char *name)
{
	struct bufpool *pool;
	unsigned int n = 0;
	char *slab_name;

again:
	slab_name = n ? kasprintf(GFP_KERNEL, "bufpool-%s.%u", name, n) :
			kasprintf(GFP_KERNEL, "bufpool-%s", name);
	if (!slab_name)
		return NULL;
	list_for_each_entry(pool, &bufpool_list, node) {
		if (!strcmp(pool->slab_name, slab_name)) {
			kfree(slab_name);
			n++;
			goto again;
		}
	}
	return slab_name;
}

static void bufpool_service(struct work_struct *work);
static void bufpool_free_work(struct work_struct *work);

static void bufpool_free_pool(struct bufpool *pool)
{
	/* A run with nothing to do may still be queued (bufpool_service()). */
	cancel_delayed_work_sync(&pool->service_work);
	bufpool_depot_destroy(pool);
	bufpool_mag_destroy(pool);
	mem_cgroup_put(pool->memcg);
	kfree(pool->slab_name);
	put_device(pool->dev);
	kfree(pool->name);
	kfree(pool);
}

/*
 * The node a pool's memory comes from: the one asked for, else its
 * device's (NUMA_NO_NODE if the device has none), else no preference.
 */
static int bufpool_pool_node(const struct bufpool_params *p)
{
	if ((p->flags & BUFPOOL_F_NODE) && p->nid != NUMA_NO_NODE)
		return p->nid;
	return p->dev ? dev_to_node(p->dev) : NUMA_NO_NODE;
}

/**
 * bufpool_create - create a pool of fixed-size buffers
 * @params: name, buffer size, cap, reserve, alignment and flags; see
 *	&struct bufpool_params. Not referenced after the call returns.
 *
 * Creates the pool's slab cache, allocates @params->min_bufs buffers at
 * once (on the pool's node, and mapped for @params->dev with
 * %BUFPOOL_F_DMA_MAP), registers the pool's shrinker and its debugfs
 * directory.
 *
 * The name of a pool that is being destroyed is free: the new pool gets
 * it, and the old one's debugfs directory moves to dying/<name>.<id>.
 *
 * Context: Process context; sleeps.
 * Return: the new pool; ERR_PTR(-EINVAL) for invalid @params (with a
 * message naming the pool and the field), ERR_PTR(-EEXIST) if a live pool
 * (one not being destroyed) has the same name, ERR_PTR(-ENOMEM) if memory
 * ran out, reserve included, or a mapping of the reserve failed.
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
	if (bufpool_find_live(params->name)) {
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
	if (params->dev) {
		/* DMA-safe: see bufpool_depot_layout(). */
		pool->align = max_t(unsigned int, pool->align,
				    max_t(unsigned int, dma_get_cache_alignment(),
					  L1_CACHE_BYTES));
		pool->dev = get_device(params->dev);
		pool->dma_dir = params->dma_dir;
	}
	pool->nid = bufpool_pool_node(params);
	if (pool->nid != NUMA_NO_NODE)
		pool->flags |= BUFPOOL_PF_NODE;
	INIT_DELAYED_WORK(&pool->service_work, bufpool_service);
	INIT_RCU_WORK(&pool->free_work, bufpool_free_work);
	pool->id = ++bufpool_last_id;
	pool->name = bufpool_fault() ? NULL : kstrdup(params->name, GFP_KERNEL);
	if (!pool->name)
		goto free_bare;
	pool->slab_name = bufpool_fault() ? NULL : bufpool_slab_name(pool->name);
	if (!pool->slab_name)
		goto free_bare;
	/* The active memcg if the caller set one, else its own. */
	if (pool->flags & BUFPOOL_F_ACCOUNT)
		pool->memcg = get_mem_cgroup_from_mm(NULL);
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
	goto unlock;
free_bare:
	/* No depot yet: bufpool_free_pool() would take its XArray's lock. */
	put_device(pool->dev);
	kfree(pool->slab_name);
	kfree(pool->name);
	kfree(pool);
unlock:
	mutex_unlock(&bufpool_list_lock);
	if (err == -ENOMEM)
		pr_err_ratelimited("pool '%s': out of memory\n", params->name);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(bufpool_create);

/*
 * A device's pool at detach: destroyed without waiting, so that a buffer
 * still out (leaked, or held by whoever the driver gave it to) holds the
 * pool's memory until it is put, not the detach forever.
 */
void bufpool_devm_release(struct device *dev, void *res)
{
	struct bufpool *pool = *(struct bufpool **)res;
	struct bufpool_stats st;

	bufpool_get_stats(pool, &st);
	if (st.in_use)
		dev_warn(dev, "pool '%s': %llu buffers still in use at detach; the pool is freed when the last is put\n",
			 pool->name, st.in_use);
	bufpool_destroy_async(pool, NULL, NULL);
}

#if IS_ENABLED(CONFIG_KUNIT)
/* For devres_find() by the tests. */
EXPORT_SYMBOL_IF_KUNIT(bufpool_devm_release);
#endif

static int bufpool_devm_match(struct device *dev, void *res, void *data)
{
	return *(struct bufpool **)res == data;
}

/**
 * devm_bufpool_create - create a pool that is destroyed at driver detach
 * @dev: the device whose driver the pool is for
 * @params: as for bufpool_create()
 *
 * A managed bufpool_create(), as dmam_pool_create() is a managed
 * dma_pool_create(): when the driver is detached from @dev (unbind,
 * remove, a failed probe), after its remove() has run, the pool is
 * destroyed with bufpool_destroy_async(), which does not wait. A buffer
 * still out then (reported, with the count) keeps the pool's memory until
 * it is put, when the pool is freed; the detach never waits for it. The
 * pool's name is free again at detach, so a driver bound again may create
 * the same one. Do not destroy the pool with bufpool_destroy() or
 * bufpool_destroy_async(): devm_bufpool_destroy() ends it early.
 *
 * Context: Process context; sleeps.
 * Return: the new pool, or an ERR_PTR as for bufpool_create() (the device
 * then holds nothing of bufpool's): ERR_PTR(-EINVAL) for a NULL @dev too.
 */
struct bufpool *devm_bufpool_create(struct device *dev,
				    const struct bufpool_params *params)
{
	struct bufpool **res, *pool;

	might_sleep();
	if (!dev) {
		pr_err_ratelimited("%s from %pS: NULL is not a device\n",
				   __func__, (void *)_RET_IP_);
		return ERR_PTR(-EINVAL);
	}
	res = bufpool_fault() ? NULL :
	      devres_alloc(bufpool_devm_release, sizeof(*res), GFP_KERNEL);
	if (!res)
		return ERR_PTR(-ENOMEM);
	pool = bufpool_create(params);
	if (IS_ERR(pool)) {
		devres_free(res);
		return pool;
	}
	*res = pool;
	devres_add(dev, res);
	return pool;
}
EXPORT_SYMBOL_GPL(devm_bufpool_create);

/**
 * devm_bufpool_destroy - destroy a pool of devm_bufpool_create() before detach
 * @dev: the device it was created for
 * @pool: the pool
 *
 * What the detach would do, now: bufpool_destroy_async(), not waiting
 * for buffers still out. For a driver that replaces a pool while bound
 * (a ring resized): the new pool may have the old one's name.
 *
 * Context: Process context.
 */
void devm_bufpool_destroy(struct device *dev, struct bufpool *pool)
{
	if (!dev || IS_ERR_OR_NULL(pool) ||
	    devres_release(dev, bufpool_devm_release, bufpool_devm_match, pool))
		pr_err_ratelimited("%s from %pS: pool '%s' is no managed pool of that device\n",
				   __func__, (void *)_RET_IP_, bufpool_name(pool));
}
EXPORT_SYMBOL_GPL(devm_bufpool_destroy);

/*
 * What a notify request needs and cannot do itself, in process context:
 * sweep the magazines into the depot for it, grow the pool for it; and
 * let the magazines serve again a while after the last waiter left; and
 * for a destroy without waiting, which may be called in any context,
 * move the pool's debugfs directory out of its name's way. The work
 * counts as a caller inside until it has run (bufpool_depot.c).
 */
static void bufpool_service(struct work_struct *work)
{
	struct bufpool *pool = container_of(to_delayed_work(work),
					    struct bufpool, service_work);
	unsigned long flags;
	unsigned int what;

	bufpool_test_point(BUFPOOL_TP_SERVICE);
	bufpool_depot_lock(pool, flags);
	/*
	 * A request for now that found @service_queued still set after this
	 * run had started queued it again (mod_delayed_work() queues a work
	 * that is not pending): that run took the request, and counted in
	 * @active once. This one has nothing to do and nothing to leave.
	 */
	if (!pool->service_queued) {
		bufpool_depot_unlock(pool, flags);
		return;
	}
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
	if (what & BUFPOOL_SERVICE_RETIRE) {
		mutex_lock(&bufpool_list_lock);
		bufpool_debugfs_retire(pool);
		mutex_unlock(&bufpool_list_lock);
	}
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

/* BUFPOOL_F_DMA_SYNC_DEV: the whole buffer is the device's as it is handed out. */
static noinline void bufpool_sync_handed_out(struct bufpool *pool,
					     struct bufpool_buf *buf)
{
	dma_sync_single_for_device(pool->dev, bufpool_dma_buf_of(buf)->dma,
				   pool->buf_size, pool->dma_dir);
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
	/* One test on the hit path for every flag that asks for work. */
	if (unlikely((pool->flags & (BUFPOOL_F_POISON | BUFPOOL_F_ZERO |
				     BUFPOOL_F_DMA_SYNC_DEV)) ||
		     (gfp & __GFP_ZERO))) {
		if (pool->flags & BUFPOOL_F_POISON)
			bufpool_check_poison(pool, buf);
		if ((pool->flags & BUFPOOL_F_ZERO) || (gfp & __GFP_ZERO))
			memset(buf->data, 0, pool->buf_size);
		/* Last: what the CPU wrote above goes to the device too. */
		if (pool->flags & BUFPOOL_F_DMA_SYNC_DEV)
			bufpool_sync_handed_out(pool, buf);
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
	/* What no magazine served is a miss: mag_hits is the rest. */
	if (path != BUFPOOL_PATH_HIT)
		this_cpu_add(pool->mags->misses, n);
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
	got = bufpool_mag_steal(pool, w->bufs + w->got, w->want - w->got, NULL);
	bufpool_depot_lock(pool, *flags);
	if (got > 0) {
		w->got += got;
		bufpool_depot_note_out_locked(pool);
	}
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
	unsigned int enough = (pool->mag_mask + 1) / 2;
	int got;

	bufpool_mag_note_empty(pool);
	if (READ_ONCE(pool->nr_free) && bufpool_mag_refill(pool, bufp))
		return 0;
	got = bufpool_mag_steal(pool, bufp, 1, &enough);
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
 * The slow path for a caller of its own (no notify request). Out of
 * line, so that neither the hit path nor a miss that the magazines
 * serve, or that fails at once, builds a waiter.
 */
static noinline int bufpool_take_slow(struct bufpool *pool, gfp_t gfp,
				      unsigned int n,
				      struct bufpool_buf **bufs,
				      unsigned int state, long timeout)
{
	struct bufpool_waiter w = {
		.task = current, .bufs = bufs, .want = n,
	};

	return bufpool_alloc_slow(pool, gfp, &w, state, timeout);
}

/*
 * The allocation miss path, for @n buffers: refill this CPU's magazine
 * (one buffer), or the slow path.
 */
static noinline int bufpool_take_miss(struct bufpool *pool, gfp_t gfp,
				      unsigned int n,
				      struct bufpool_buf **bufs,
				      unsigned int state, long timeout,
				      unsigned long ip)
{
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
	err = bufpool_take_slow(pool, gfp, n, bufs, state, timeout);
	if (err)
		return err;
	path = BUFPOOL_PATH_SLOW;
ready:
	/* Counted as a miss only now: a failure is none (mag_hits). */
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
 * For callers that keep only the data pointer (a descriptor ring that
 * holds addresses); the pool must have been created with
 * %BUFPOOL_F_LOOKUP.
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

/* DMA */

/*
 * May @buf's mapping be used? Not for a pool without BUFPOOL_F_DMA_MAP,
 * nor once bufpool_destroy_async() unmapped it; nor past its end.
 */
static bool bufpool_dma_check(const struct bufpool_buf *buf,
			      unsigned int offset, unsigned int len,
			      const char *fn, unsigned long ip)
{
	struct bufpool *pool;

	if (!bufpool_live_buf(buf)) {
		bufpool_bad_buf(buf, fn, ip);
		return false;
	}
	pool = buf->pool;
	if (!(pool->flags & BUFPOOL_F_DMA_MAP)) {
		pr_err_ratelimited("pool '%s': %s from %pS needs BUFPOOL_F_DMA_MAP\n",
				   pool->name, fn, (void *)ip);
		return false;
	}
	if (READ_ONCE(pool->dma_gone)) {
		pr_err_ratelimited("pool '%s': %s from %pS after the pool's destroy unmapped its buffers\n",
				   pool->name, fn, (void *)ip);
		return false;
	}
	if (offset > pool->buf_size || len > pool->buf_size - offset) {
		pr_err_ratelimited("pool '%s': %s from %pS of %u bytes at %u, past the buffer's %zu\n",
				   pool->name, fn, (void *)ip, len, offset,
				   pool->buf_size);
		return false;
	}
	return true;
}

/**
 * bufpool_buf_dma - the bus address of a buffer's data
 * @buf: a buffer the caller holds, of a pool with %BUFPOOL_F_DMA_MAP
 *
 * Fixed for the buffer's life: mapped once, when the pool created it,
 * for the pool's dev and dma_dir, over all of its bufpool_buf_size()
 * bytes. The device owns the data between a sync for the device (or a
 * hand-out with %BUFPOOL_F_DMA_SYNC_DEV) and the next sync for the CPU.
 *
 * Context: Any context.
 * Return: the address; %DMA_MAPPING_ERROR (with a message) for a pool
 * that does not map, and once bufpool_destroy_async() has unmapped the
 * pool's buffers.
 */
dma_addr_t bufpool_buf_dma(const struct bufpool_buf *buf)
{
	if (!bufpool_dma_check(buf, 0, 0, __func__, _RET_IP_))
		return DMA_MAPPING_ERROR;
	return bufpool_dma_buf_of(buf)->dma;
}
EXPORT_SYMBOL_GPL(bufpool_buf_dma);

/**
 * bufpool_dma_sync_for_cpu - make what the device wrote visible to the CPU
 * @buf: a buffer the caller holds, of a pool with %BUFPOOL_F_DMA_MAP
 * @offset: of the first byte, into the buffer's data
 * @len: how many bytes; @offset + @len at most bufpool_buf_size()
 *
 * dma_sync_single_range_for_cpu() of that range of @buf's mapping, in the
 * pool's direction: call it once the device has written (a receive
 * completed), before reading. A range past the buffer's end, a pool that
 * does not map, and a call after bufpool_destroy_async() returned, are
 * reported and ignored; one racing with that destroy is the caller's bug,
 * as a sync racing with dma_unmap_single() is.
 *
 * Context: Any context but NMI (what the DMA API allows).
 */
void bufpool_dma_sync_for_cpu(const struct bufpool_buf *buf,
			      unsigned int offset, unsigned int len)
{
	struct bufpool *pool;

	if (!bufpool_dma_check(buf, offset, len, __func__, _RET_IP_))
		return;
	pool = buf->pool;
	dma_sync_single_range_for_cpu(pool->dev, bufpool_dma_buf_of(buf)->dma,
				      offset, len, pool->dma_dir);
}
EXPORT_SYMBOL_GPL(bufpool_dma_sync_for_cpu);

/**
 * bufpool_dma_sync_for_device - give a range of a buffer to the device
 * @buf: a buffer the caller holds, of a pool with %BUFPOOL_F_DMA_MAP
 * @offset: of the first byte, into the buffer's data
 * @len: how many bytes; @offset + @len at most bufpool_buf_size()
 *
 * dma_sync_single_range_for_device() of that range of @buf's mapping, in
 * the pool's direction: call it after the CPU wrote (a frame to send) and
 * before the device reads or writes it. Misuse is reported and ignored as
 * for bufpool_dma_sync_for_cpu().
 *
 * Context: Any context but NMI (what the DMA API allows).
 */
void bufpool_dma_sync_for_device(const struct bufpool_buf *buf,
				 unsigned int offset, unsigned int len)
{
	struct bufpool *pool;

	if (!bufpool_dma_check(buf, offset, len, __func__, _RET_IP_))
		return;
	pool = buf->pool;
	dma_sync_single_range_for_device(pool->dev, bufpool_dma_buf_of(buf)->dma,
					 offset, len, pool->dma_dir);
}
EXPORT_SYMBOL_GPL(bufpool_dma_sync_for_device);

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

/*
 * The last put of a buffer of a pool with poison or a node: false if it
 * must go no further (a racing put took it home).
 */
static noinline bool bufpool_put_special(struct bufpool *pool,
					 struct bufpool_buf *buf,
					 const char *fn, unsigned long ip)
{
	if ((pool->flags & BUFPOOL_F_POISON) &&
	    !bufpool_claim_poisoned(pool, buf, fn, ip))
		return false;
	if ((pool->flags & BUFPOOL_PF_NODE) && numa_node_id() != pool->nid)
		this_cpu_inc(pool->mags->remote_frees);
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
	if (unlikely(pool->flags & (BUFPOOL_F_POISON | BUFPOOL_PF_NODE)) &&
	    !bufpool_put_special(pool, buf, fn, ip))
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
 * Every counter of a pool is a u64 field of ``struct bufpool_stats`` and
 * one line of ``<linux/bufpool_stats.h>``, ``BUFPOOL_STAT(ENUM, name)``,
 * which makes its index in ``enum bufpool_stat`` (its place in the
 * struct), its name in ``bufpool_stat_names[]``, its line in the pool's
 * debugfs ``stats`` and its ethtool string, in the same order (as
 * ``mm/kfence`` keeps its counters, with an enum and a names table); a
 * line without its field does not build. Counters of the hit paths are
 * per CPU, the others under the pool lock; ``bufpool_get_stats()`` reads
 * them all.
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

/* Where each counter's field is, to check its index against. */
static const size_t bufpool_stat_offsets[BUFPOOL_STAT_NR] __initconst = {
#define BUFPOOL_STAT(e, name) \
	[BUFPOOL_STAT_##e] = offsetof(struct bufpool_stats, name),
#include <linux/bufpool_stats.h>
#undef BUFPOOL_STAT
};

/*
 * A line of <linux/bufpool_stats.h> out of the order of the fields of
 * &struct bufpool_stats would have its index read another counter.
 */
static int __init bufpool_check_stat_layout(void)
{
	unsigned int i;

	for (i = 0; i < BUFPOOL_STAT_NR; i++) {
		if (bufpool_stat_offsets[i] != i * sizeof(u64)) {
			pr_err("counter %s: its field is not at its index\n",
			       bufpool_stat_names[i]);
			return -EINVAL;
		}
	}
	return 0;
}

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
			*bufpool_stats_counter(stats,
					       BUFPOOL_STAT_FAILS_EXHAUSTED + i) +=
				READ_ONCE(m->fails[i]);
		stats->steals += READ_ONCE(m->steals);
		stats->remote_frees += READ_ONCE(m->remote_frees);
		misses += READ_ONCE(m->misses);
	}
	for (i = 0; i < BUFPOOL_FAIL_REASONS; i++)
		stats->fails += *bufpool_stats_counter(stats,
						       BUFPOOL_STAT_FAILS_EXHAUSTED + i);
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
	memcpy(data, &st, sizeof(st));
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

/*
 * The last of a pool: off the list, whose slab cache names it keeps
 * unique, once its debugfs files are gone (debugfs waits for their
 * readers), then freed.
 */
static void bufpool_unlist_free(struct bufpool *pool)
{
	mutex_lock(&bufpool_list_lock);
	bufpool_debugfs_remove(pool);
	list_del(&pool->node);
	pool->magic = 0;
	bufpool_free_pool(pool);
	mutex_unlock(&bufpool_list_lock);
}

/**
 * bufpool_destroy - destroy a pool once all its buffers are back
 * @pool: the pool; NULL or an ERR_PTR is ignored
 *
 * New allocations fail at once and sleeping allocators wake up with an
 * error, and the pool's name is free for a new pool: its debugfs
 * directory moves to dying/<name>.<id>, still readable. Then waits until
 * every buffer has been put, printing a warning with the pool's name and
 * the count still in use every few seconds, and frees everything, slab
 * cache included.
 *
 * Must not be called by a context that still holds buffers of @pool, or
 * whose progress the holders depend on: it would wait forever. With
 * %BUFPOOL_F_DMA_MAP, each buffer is unmapped as it is freed: once this
 * returns, no mapping the pool made remains.
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
	mutex_lock(&bufpool_list_lock);
	bufpool_debugfs_retire(pool);
	mutex_unlock(&bufpool_list_lock);
	bufpool_shutdown(pool, true);
	bufpool_unlist_free(pool);
}
EXPORT_SYMBOL_GPL(bufpool_destroy);

/* The last buffer of a pool destroyed with bufpool_destroy_async() is home. */
static void bufpool_free_work(struct work_struct *work)
{
	struct bufpool *pool = container_of(to_rcu_work(work), struct bufpool,
					    free_work);
	void (*release)(void *arg) = pool->release;
	void *arg = pool->release_arg;

	bufpool_shrink_unregister(pool);
	bufpool_unlist_free(pool);
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
 * now on, sleepers wake up with -ESHUTDOWN and notify requests fail, the
 * name is free for a new pool (the debugfs directory moves to dying/ from
 * a work item, or when a pool of the same name is created), and
 * the last bufpool_put() of a buffer of @pool, from whatever context,
 * has the pool freed by a work item, which then calls @release. For
 * clients that count their buffers home and cannot wait for them, as
 * objpool's users do. After this call only bufpool_put() and
 * bufpool_get() of buffers still held may touch @pool. With @release
 * NULL the pool is freed all the same. The module of @release must stay
 * loaded until it has run and bufpool_barrier() has returned.
 *
 * A pool with %BUFPOOL_F_DMA_MAP has every buffer unmapped before this
 * returns, those still held included, so that a driver's remove() may
 * return with its device's mappings gone: call it once the device does
 * no more DMA to them, and sync for the CPU first what is still to be
 * read. The buffers held stay valid memory until put; bufpool_buf_dma()
 * and the sync calls on them are reported and ignored from then on (one
 * racing with this call is the caller's bug, as a sync racing with
 * dma_unmap_single() is).
 *
 * Context: Any context but NMI; for a pool with %BUFPOOL_F_DMA_MAP, not
 * hard IRQ on PREEMPT_RT nor under a raw spinlock (the DMA API takes a
 * spinlock_t).
 */
void bufpool_destroy_async(struct bufpool *pool, void (*release)(void *arg),
			   void *arg)
{
	unsigned long flags;

	if (IS_ERR_OR_NULL(pool) || !bufpool_check_pool(pool, __func__))
		return;
	if (!bufpool_depot_stop(pool, true, release, arg, _RET_IP_))
		return;
	/*
	 * No mapping outlives this call, buffers in use included: counted
	 * inside, the pool cannot be freed meanwhile.
	 */
	bufpool_depot_unmap_all(pool);
	/*
	 * Buffers idle in magazines must go home: a sweep sends IPIs. The
	 * debugfs directory moves under a mutex.
	 */
	bufpool_depot_lock(pool, flags);
	bufpool_depot_request_locked(pool, BUFPOOL_SERVICE_SWEEP |
				     BUFPOOL_SERVICE_RETIRE, 0);
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

	err = bufpool_check_stat_layout();
	if (err)
		return err;
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
		bufpool_debugfs_remove(pool);
		if (pool->async) {
			/* Its mappings went with bufpool_destroy_async(). */
			pr_err("pool '%s': destroyed without waiting, but buffers are still out: leaking it\n",
			       pool->name);
			bufpool_shrink_unregister(pool);
		} else {
			pr_err("pool '%s' was never destroyed\n", pool->name);
			bufpool_depot_stop(pool, false, NULL, NULL, _THIS_IP_);
			if (bufpool_shutdown(pool, false)) {
				bufpool_free_pool(pool);
				continue;
			}
			/* Nobody is left to unmap what its holders hold. */
			bufpool_depot_unmap_all(pool);
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
