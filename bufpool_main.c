// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool: per-subsystem pools of fixed-size buffers.
 *
 * This file is the pool itself: creation and teardown, the depot under the
 * pool lock, growth from the slab cache, waiting, bulk requests and buffer
 * references. The per-CPU magazines in front of it live in
 * bufpool_percpu.c; the data structures and their locks are described in
 * bufpool_internal.h.
 *
 * Waiting. Sleepers queue on pool->waiters in arrival order. A returned
 * buffer goes straight to the longest waiter, under the pool lock, which
 * wakes exactly one task, and only once that task holds everything it
 * asked for: a bulk waiter reserves buffers as they come back, so neither
 * a stream of single requests nor another bulk waiter can starve it, and
 * two bulk waiters never deadlock on partial holdings (the second gets
 * nothing until the first is served). Since the hand-over happens under
 * the lock that the sleeper checks its holdings under, no wakeup can be
 * lost and nobody can steal the buffer between wakeup and return.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bufpool.h>
#include <linux/ctype.h>
#include <linux/fault-inject.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/string.h>

#include "bufpool_internal.h"

#define CREATE_TRACE_POINTS
#include <trace/bufpool_trace.h>

/* All live pools, for names, debugfs and module exit. */
DEFINE_MUTEX(bufpool_list_lock);
LIST_HEAD(bufpool_list);

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

/*
 * Only the allocation flags that say how hard to try are passed on to the
 * slab; zone and zeroing flags are the pool's business. Growth failing is
 * expected (the caller then waits for a returned buffer), hence NOWARN.
 */
static gfp_t bufpool_grow_gfp(gfp_t gfp)
{
	return (gfp & (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HIGH)) |
	       __GFP_NOWARN;
}

/* Headers of buffers whose data is a slab object of its own. */
static struct kmem_cache *bufpool_hdr_cache;
/* Frees pools destroyed with bufpool_destroy_async(). */
static struct workqueue_struct *bufpool_wq;

/*
 * The slab order SLUB picks for @size-byte objects with its default tuning
 * (calculate_order() in mm/slub.c): slabs of at least 4 * (fls(CPUs) + 1)
 * objects where order 3 allows, in the smallest order up to 3 that wastes
 * at most a sixteenth, else an eighth, a quarter, a half. Under KASAN or
 * slub_debug objects grow and this is a guess.
 */
static unsigned int bufpool_slab_order(size_t size)
{
	unsigned int max_order = PAGE_ALLOC_COSTLY_ORDER, min_order, order;
	unsigned int min_objects = 4 * (fls(num_present_cpus()) + 1);
	unsigned int fraction;
	size_t slab;

	min_objects = min_t(size_t, min_objects,
			    max_t(size_t, (PAGE_SIZE << max_order) / size, 1));
	min_order = min_t(unsigned int, get_order(min_objects * size), max_order);
	for (fraction = 16; fraction > 1; fraction /= 2) {
		for (order = min_order; order <= max_order; order++) {
			slab = PAGE_SIZE << order;
			if (slab >= size && slab % size <= slab / fraction)
				return order;
		}
	}
	return max_order;
}

/*
 * Where @size-byte objects leave part of each slab unused, make them
 * bigger by that part, if SLUB then packs them alike: what the slab
 * would waste becomes the buffer's. Returns the object size; @cost gets
 * the bytes of slab each one takes.
 */
static size_t bufpool_fit_slot(size_t size, unsigned int align, size_t *cost)
{
	unsigned int order = bufpool_slab_order(size);
	size_t slab = PAGE_SIZE << order;
	size_t n = max_t(size_t, slab / size, 1);
	size_t slot = ALIGN_DOWN(slab / n, align);

	*cost = DIV_ROUND_UP(slab, n);
	if (slot <= size || bufpool_slab_order(slot) != order)
		return size;
	return slot;
}

/*
 * An XArray node (576 bytes) maps 64 consecutive keys, and buffers of one
 * slab have consecutive keys: about this much per buffer, when apart.
 */
#define BUFPOOL_INDEX_COST	16

/*
 * Lay a buffer out as cheaply as the slab allows: its header inside the
 * data's slab object, or apart from it, whichever costs fewer bytes of
 * slab. A 4 KiB buffer with its 32 bytes inline packs seven to an order-3
 * slab, apart eight; a 16 KiB one alone, apart two. The data then gets
 * what is left of its slot, so that no size loses more than alignment.
 */
static void bufpool_layout(struct bufpool *pool, size_t want)
{
	size_t hdr = sizeof(struct bufpool_buf), inline_cost, apart_cost;
	size_t inline_slot, apart_slot;

	size_t index_cost = 0;

	if (pool->flags & BUFPOOL_F_LOOKUP)
		index_cost = BUFPOOL_INDEX_COST;
	inline_slot = bufpool_fit_slot(ALIGN(ALIGN(want, __alignof__(struct bufpool_buf)) +
					     hdr, pool->align),
				       pool->align, &inline_cost);
	apart_slot = bufpool_fit_slot(ALIGN(want, pool->align), pool->align,
				      &apart_cost);
	inline_cost += index_cost;
	apart_cost += hdr + BUFPOOL_INDEX_COST;
	if (inline_cost <= apart_cost) {
		/* The header goes last, 8-aligned as the slot is. */
		pool->buf_offset = inline_slot - hdr;
		pool->buf_size = pool->buf_offset;
		pool->buf_cost = inline_cost;
		pool->indexed = index_cost;
		/* Objects are at least a slot apart: keys are unique. */
		pool->key_shift = ilog2(inline_slot);
	} else {
		pool->buf_offset = 0;
		pool->buf_size = apart_slot;
		pool->buf_cost = apart_cost;
		pool->indexed = true;
		pool->key_shift = ilog2(apart_slot);
	}
}

/* Make a header found from its data. See bufpool_data_to_buf(). */
static int bufpool_index_buf(struct bufpool *pool, struct bufpool_buf *buf,
			     gfp_t gfp)
{
	unsigned long key = (unsigned long)buf->data >> pool->key_shift;
	unsigned long flags;
	void *old;

	if (gfpflags_allow_blocking(gfp))
		return xa_err(xa_store_irq(&pool->bufs, key, buf, gfp));
	/* The caller may have interrupts off: no xa_store_irq() then. */
	xa_lock_irqsave(&pool->bufs, flags);
	old = __xa_store(&pool->bufs, key, buf, gfp);
	xa_unlock_irqrestore(&pool->bufs, flags);
	return xa_err(old);
}

static void bufpool_unindex_buf(struct bufpool *pool, struct bufpool_buf *buf)
{
	unsigned long key = (unsigned long)buf->data >> pool->key_shift;
	unsigned long flags;

	xa_lock_irqsave(&pool->bufs, flags);
	__xa_erase(&pool->bufs, key);
	xa_unlock_irqrestore(&pool->bufs, flags);
}

/* A header for @data, in it or apart from it, indexed if need be. */
static struct bufpool_buf *bufpool_new_header(struct bufpool *pool,
					      void *data, gfp_t gfp)
{
	struct bufpool_buf *buf;

	if (pool->buf_offset)
		buf = data + pool->buf_offset;
	else
		buf = bufpool_fault() ? NULL : kmem_cache_alloc(bufpool_hdr_cache, gfp);
	if (!buf)
		return NULL;
	buf->data = data;
	if (pool->indexed && (bufpool_fault() || bufpool_index_buf(pool, buf, gfp))) {
		if (!pool->buf_offset)
			kmem_cache_free(bufpool_hdr_cache, buf);
		return NULL;
	}
	return buf;
}

static struct bufpool_buf *bufpool_new_buf(struct bufpool *pool, gfp_t gfp)
{
	struct bufpool_buf *buf;
	void *data;

	gfp = bufpool_grow_gfp(gfp);
	if (bufpool_fault())
		return NULL;
	data = kmem_cache_alloc(pool->cache, gfp);
	if (!data)
		return NULL;
	buf = bufpool_new_header(pool, data, gfp);
	if (!buf) {
		kmem_cache_free(pool->cache, data);
		return NULL;
	}
	refcount_set(&buf->ref, 0);
	buf->magic = BUFPOOL_BUF_FREE;
	buf->pool = pool;
	buf->next = NULL;
	buf->data = data;
	if (pool->flags & BUFPOOL_F_POISON)
		memset(data, BUFPOOL_POISON, pool->buf_size);
	return buf;
}

/* Give one buffer, not in the depot any more, back to the slab cache. */
void bufpool_free_buf(struct bufpool *pool, struct bufpool_buf *buf)
{
	void *data = buf->data;

	buf->magic = 0;
	if (pool->indexed)
		bufpool_unindex_buf(pool, buf);
	if (!pool->buf_offset)
		kmem_cache_free(bufpool_hdr_cache, buf);
	kmem_cache_free(pool->cache, data);
}

/* Give every idle buffer in the depot back to the slab cache. */
static void bufpool_free_depot(struct bufpool *pool)
{
	struct bufpool_buf *buf;

	while ((buf = bufpool_depot_pop(pool))) {
		pool->backed--;
		bufpool_free_buf(pool, buf);
	}
}

static int bufpool_fill_reserve(struct bufpool *pool)
{
	struct bufpool_buf *buf;

	while (pool->backed < pool->min_bufs) {
		buf = bufpool_new_buf(pool, GFP_KERNEL);
		trace_bufpool_grow(pool, buf, pool->backed + 1);
		if (!buf)
			return -ENOMEM;
		bufpool_depot_push(pool, buf);
		pool->backed++;
	}
	return 0;
}

static int bufpool_create_cache(struct bufpool *pool)
{
	size_t size = pool->buf_size;
	char *slab_name;

	if (pool->buf_offset)
		size = pool->buf_offset + sizeof(struct bufpool_buf);

	if (bufpool_fault())
		return -ENOMEM;
	slab_name = kasprintf(GFP_KERNEL, "bufpool-%s", pool->name);
	if (!slab_name)
		return -ENOMEM;
	/*
	 * Buffers are I/O buffers: whitelist the data for copy_to_user()
	 * under HARDENED_USERCOPY. A whitelist also keeps the cache from
	 * being merged, so it shows up under its own name.
	 */
	if (!bufpool_fault())
		pool->cache = kmem_cache_create_usercopy(slab_name, size,
							 pool->align, 0, 0,
							 pool->buf_size, NULL);
	kfree(slab_name);
	return pool->cache ? 0 : -ENOMEM;
}

static void bufpool_grow_work(struct work_struct *work);

static void bufpool_free_pool(struct bufpool *pool)
{
	bufpool_free_depot(pool);
	xa_destroy(&pool->bufs);
	kmem_cache_destroy(pool->cache);
	bufpool_cpu_destroy(pool);
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
	bufpool_layout(pool, params->buf_size);
	xa_init_flags(&pool->bufs, XA_FLAGS_LOCK_IRQ);
	raw_spin_lock_init(&pool->lock);
	INIT_LIST_HEAD(&pool->waiters);
	init_completion(&pool->drained);
	INIT_DELAYED_WORK(&pool->grow_work, bufpool_grow_work);
	pool->name = bufpool_fault() ? NULL : kstrdup(params->name, GFP_KERNEL);
	if (!pool->name)
		goto free;
	err = bufpool_create_cache(pool);
	if (err)
		goto free;
	err = bufpool_cpu_create(pool);
	if (err)
		goto free;
	err = bufpool_fill_reserve(pool);
	if (err)
		goto free;
	err = bufpool_shrinker_register(pool);
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

/* Buffers changing hands */

static noinline void bufpool_bad_pool(const struct bufpool *pool,
				      const char *fn, unsigned long ip)
{
	if (IS_ERR_OR_NULL(pool))
		pr_err_ratelimited("%s from %pS: %s is not a pool\n", fn,
				   (void *)ip, pool ? "an ERR_PTR" : "NULL");
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

static void bufpool_check_poison(struct bufpool *pool, struct bufpool_buf *buf)
{
	u8 *data = bufpool_buf_to_data(buf);
	u8 *bad = memchr_inv(data, BUFPOOL_POISON, pool->buf_size);

	if (bad)
		pr_err_ratelimited("pool '%s': buffer written after its last put (byte %td is %#x)\n",
				   pool->name, bad - data, *bad);
}

/* @buf becomes the caller's, with one reference. */
static __always_inline void bufpool_buf_ready(struct bufpool *pool,
					      struct bufpool_buf *buf,
					      gfp_t gfp)
{
	if (unlikely(pool->flags & BUFPOOL_F_POISON))
		bufpool_check_poison(pool, buf);
	if (unlikely((pool->flags & BUFPOOL_F_ZERO) || (gfp & __GFP_ZERO)))
		memset(bufpool_buf_to_data(buf), 0, pool->buf_size);
	buf->magic = BUFPOOL_BUF_LIVE;
	refcount_set(&buf->ref, 1);
}

/* Waiting */

/*
 * Magazines are skipped while anyone waits (returned buffers are theirs),
 * while the pool is dying, and while it is tight. Each time they start
 * being skipped, bypass_gen counts it: a drain tells by it whether bypass
 * held throughout (see bufpool_cpu_drain()).
 */
static void bufpool_update_bypass_locked(struct bufpool *pool)
{
	bool bypass = pool->dying || pool->nr_waiters || pool->tight;

	lockdep_assert_held(&pool->lock);
	if (bypass == pool->bypass)
		return;
	if (bypass)
		pool->bypass_gen++;
	else
		pool->mags_empty = false;
	WRITE_ONCE(pool->bypass, bypass);
}

/**
 * bufpool_update_tight_locked - turn the magazines off while the pool is short
 * @pool: the pool, whose lock the caller holds
 *
 * Tight mode starts when a caller that cannot wait finds the depot empty
 * and cannot grow the pool (bufpool_get_slow()): from then on every
 * returned buffer goes to the depot, where every CPU finds it, and the
 * magazines, once drained, stay empty, so that the next such caller is
 * told "empty" at once and truly. It ends here, once the depot could
 * refill every magazine again; the gap keeps the mode from flapping.
 */
void bufpool_update_tight_locked(struct bufpool *pool)
{
	lockdep_assert_held(&pool->lock);
	if (pool->tight && pool->nr_free >= pool->tight_exit) {
		pool->tight = false;
		bufpool_update_bypass_locked(pool);
	}
}

static void bufpool_set_tight_locked(struct bufpool *pool)
{
	if (!pool->batch || pool->tight)
		return;
	pool->tight = true;
	bufpool_update_bypass_locked(pool);
}

static struct bufpool_waiter *bufpool_first_waiter(struct bufpool *pool)
{
	return list_first_entry_or_null(&pool->waiters, struct bufpool_waiter,
					node);
}

/* A growth slot is free: the pool may get one more buffer. */
static bool bufpool_can_grow(struct bufpool *pool)
{
	return pool->backed < pool->max_bufs;
}

/*
 * Buffers out of the depot: in use, or idle in a magazine. Slots reserved
 * for growth are not buffers yet, and may never be.
 */
static unsigned int bufpool_out_locked(struct bufpool *pool)
{
	return pool->backed - pool->growing - pool->nr_free;
}

static void bufpool_queue_growth_locked(struct bufpool *pool,
					unsigned long delay);

/*
 * The head of the queue may wait only because the pool was at its cap or
 * its growth failed: when either may have changed, let it look. A sleeper
 * looks for itself; a notify request has nobody to, so a work item grows
 * the pool for it.
 */
static void bufpool_kick_head_locked(struct bufpool *pool)
{
	struct bufpool_waiter *head = bufpool_first_waiter(pool);

	if (!head || !bufpool_can_grow(pool))
		return;
	if (head->task)
		wake_up_process(head->task);
	else
		bufpool_queue_growth_locked(pool, 0);
}

static void bufpool_dequeue(struct bufpool *pool, struct bufpool_waiter *w)
{
	list_del_init(&w->node);
	pool->nr_waiters--;
	bufpool_update_bypass_locked(pool);
	bufpool_kick_head_locked(pool);
}

/*
 * A dying pool may be freed once every buffer is home and no caller is
 * left inside the slow path (a woken waiter still has to take the lock).
 */
static void bufpool_check_drained(struct bufpool *pool)
{
	if (!pool->dying || pool->nr_free != pool->backed || pool->active)
		return;
	if (!pool->async) {
		complete(&pool->drained);
	} else if (!pool->released) {
		/*
		 * After a grace period, as bufpool_shutdown() waits one: this
		 * section, under a lock with interrupts off, may still run.
		 */
		pool->released = true;
		queue_rcu_work(bufpool_wq, &pool->free_work);
	}
}

/* The notify request @w is part of, or NULL for a sleeper. */
static struct bufpool_notify *bufpool_waiter_notify(struct bufpool_waiter *w)
{
	return w->task ? NULL : container_of(w, struct bufpool_notify, w);
}

static u64 bufpool_account_wait_locked(struct bufpool *pool,
				       struct bufpool_waiter *w)
{
	u64 ns = ktime_get_ns() - w->start;

	pool->wait_ns_total += ns;
	pool->wait_ns_max = max(pool->wait_ns_max, ns);
	return ns;
}

/*
 * A queued notify request, dequeued, is done (@err 0: it holds all it
 * wants) or failed (it holds nothing). Its callback runs from an
 * irq_work, never under the pool lock; but while its own
 * bufpool_alloc_notify() is still inside, that call returns the outcome
 * instead (bufpool_slow_end_locked()), so that the callback cannot queue
 * the request again under it. The request is its owner's again once its
 * state leaves FIRING, in bufpool_notify_run() or that call.
 */
static void bufpool_notify_fire_locked(struct bufpool *pool,
				       struct bufpool_waiter *w, int err)
{
	struct bufpool_notify *nb = bufpool_waiter_notify(w);
	u64 ns = bufpool_account_wait_locked(pool, w);

	/* Under the lock: the callback may free its pool. */
	trace_bufpool_wait_end(pool, w->want, ns, err);
	if (err) {
		trace_bufpool_alloc_fail(pool, w->want, err, false);
		this_cpu_inc(pool->cpu->fails);
	}
	nb->err = err;
	atomic_set(&nb->state, BUFPOOL_NOTIFY_FIRING);
	if (!w->submitting)
		irq_work_queue(&nb->work);
}

/*
 * bufpool_release_locked - a buffer comes home
 *
 * To the longest waiter if there is one (woken once it holds all it
 * wants), else onto the depot. Caller holds the pool lock; @buf is
 * already marked free. The waiter cannot leave before the pool lock is
 * released, so waking it here is safe.
 */
void bufpool_release_locked(struct bufpool *pool, struct bufpool_buf *buf)
{
	struct bufpool_waiter *w = bufpool_first_waiter(pool);

	lockdep_assert_held(&pool->lock);
	if (w) {
		w->bufs[w->got++] = buf;
		if (w->got == w->want) {
			bufpool_dequeue(pool, w);
			if (w->task)
				wake_up_process(w->task);
			else
				bufpool_notify_fire_locked(pool, w, 0);
		}
		return;
	}
	bufpool_depot_push(pool, buf);
	bufpool_update_tight_locked(pool);
	bufpool_check_drained(pool);
}

/*
 * Buffers leave the depot only under the pool lock, and a buffer in use is
 * always out of it, so the most ever out at once, sampled here, bounds the
 * peak in use from above without touching the fast path. It counts
 * buffers idle in magazines too: exact with BUFPOOL_F_NO_MAGAZINES.
 */
void bufpool_note_out_locked(struct bufpool *pool)
{
	pool->high_watermark = max(pool->high_watermark,
				   bufpool_out_locked(pool));
}

/*
 * Every BUFPOOL_LOCKED_MAX buffers moved, let go of the pool lock for a
 * moment: other CPUs get it, and interrupts get in where the caller had
 * them on. The caller's own state (what it holds in its waiter) stays
 * valid across: only the head of the queue takes, and buffers in hand are
 * counted as in use.
 */
static bool bufpool_relax_locked(struct bufpool *pool, unsigned int moved,
				 unsigned long *flags)
{
	if (moved % BUFPOOL_LOCKED_MAX)
		return false;
	bufpool_unlock(pool, *flags);
	bufpool_test_point(BUFPOOL_TP_RELAX);
	bufpool_lock(pool, *flags);
	return true;
}

/*
 * Return the @*got buffers in @bufs, in line like any returned buffer.
 * They are chained first: one may come straight back into @bufs if the
 * caller is itself queued and becomes the head meanwhile.
 */
static void bufpool_give_back_locked(struct bufpool *pool,
				     struct bufpool_buf **bufs,
				     unsigned int *got, unsigned long *flags)
{
	struct bufpool_buf *chain = NULL, *buf;
	unsigned int moved = 0;

	while (*got) {
		buf = bufs[--*got];
		buf->next = chain;
		chain = buf;
	}
	while ((buf = chain)) {
		chain = buf->next;
		bufpool_release_locked(pool, buf);
		bufpool_relax_locked(pool, ++moved, flags);
	}
}

/*
 * Queue a sleeper. Only the head of the queue may hold part of a bulk
 * request: a caller queued behind others gives what it has to those
 * ahead, or two callers that grew the pool at once, each to a part of
 * what it wants, would wait for each other forever.
 */
static void bufpool_enqueue(struct bufpool *pool, struct bufpool_waiter *w,
			    unsigned long *flags)
{
	struct bufpool_notify *nb = bufpool_waiter_notify(w);

	list_add_tail(&w->node, &pool->waiters);
	w->start = ktime_get_ns();
	if (nb) {
		/* Pairs with the acquire in bufpool_notify_dequeue(). */
		WRITE_ONCE(nb->pool, pool);
		atomic_set_release(&nb->state, BUFPOOL_NOTIFY_QUEUED);
	}
	pool->nr_waiters++;
	bufpool_update_bypass_locked(pool);
	pool->waits++;
	/* Under the lock, but bounded: the wait starts here. */
	trace_bufpool_wait_begin(pool, w->want, pool->nr_waiters, nb);
	if (bufpool_first_waiter(pool) != w)
		bufpool_give_back_locked(pool, w->bufs, &w->got, flags);
}

/* The last reference to @buf is gone. */
static __always_inline void bufpool_release(struct bufpool *pool,
					    struct bufpool_buf *buf)
{
	unsigned long flags;

	buf->magic = BUFPOOL_BUF_FREE;
	refcount_set(&buf->ref, 0);
	if (unlikely(pool->flags & BUFPOOL_F_POISON))
		memset(bufpool_buf_to_data(buf), BUFPOOL_POISON, pool->buf_size);
	/* Count first: the pool may be gone once the buffer is home. */
	this_cpu_inc(pool->cpu->frees);
	if (bufpool_cpu_push(pool, buf))
		return;
	bufpool_lock(pool, flags);
	bufpool_release_locked(pool, buf);
	bufpool_unlock(pool, flags);
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

/*
 * Create one buffer in a slot reserved for it, so that the cap holds
 * while the pool lock is dropped to allocate. NULL if that failed.
 */
static struct bufpool_buf *bufpool_grow_one_locked(struct bufpool *pool,
						   gfp_t gfp,
						   unsigned long *flags)
	__must_hold(&pool->lock)
{
	unsigned int slot = ++pool->backed;
	struct bufpool_buf *buf;

	pool->growing++;
	bufpool_unlock(pool, *flags);
	bufpool_test_point(BUFPOOL_TP_GROW);
	buf = bufpool_new_buf(pool, gfp);
	trace_bufpool_grow(pool, buf, slot);
	bufpool_lock(pool, *flags);
	pool->growing--;
	if (!buf) {
		pool->backed--;
		pool->grow_fails++;
		return NULL;
	}
	/* Out of the depot from here: the caller's, or a waiter's. */
	bufpool_note_out_locked(pool);
	return buf;
}

/* Grow the pool by one buffer for @w, which may be served meanwhile. */
static void bufpool_grow_locked(struct bufpool *pool, struct bufpool_waiter *w,
				gfp_t gfp, bool *grow_failed,
				unsigned long *flags)
	__must_hold(&pool->lock)
{
	struct bufpool_buf *buf = bufpool_grow_one_locked(pool, gfp, flags);

	if (!buf) {
		*grow_failed = true;
		/* A head waiting at the cap may grow now that we could not. */
		if (bufpool_first_waiter(pool) != w)
			bufpool_kick_head_locked(pool);
	} else if (w->got < w->want) {
		w->bufs[w->got++] = buf;
	} else {
		bufpool_release_locked(pool, buf);
	}
}

/* A notify request heads the queue, and the pool may grow for it. */
static bool bufpool_head_needs_growth(struct bufpool *pool)
{
	struct bufpool_waiter *head = bufpool_first_waiter(pool);

	return head && !head->task && !pool->dying && bufpool_can_grow(pool);
}

/*
 * Growth for a notify request at the head of the queue. Only the head
 * may grow the pool, and a request cannot: it may have been made in hard
 * IRQ, and its caller has left. So this work item grows for it, in
 * process context, handing each new buffer to the queue as any returned
 * buffer is (no waiter is held across the unlocked allocation: the one
 * at the head may be served, cancelled or failed meanwhile). While growth
 * fails it tries again every BUFPOOL_GROW_RETRY, as a sleeper would.
 */
static void bufpool_grow_work(struct work_struct *work)
{
	struct bufpool *pool = container_of(to_delayed_work(work),
					    struct bufpool, grow_work);
	struct bufpool_buf *buf = NULL;
	unsigned long flags;

	bufpool_lock(pool, flags);
	while (bufpool_head_needs_growth(pool)) {
		buf = bufpool_grow_one_locked(pool, GFP_KERNEL, &flags);
		if (!buf)
			break;
		bufpool_release_locked(pool, buf);
	}
	pool->grow_queued = false;
	pool->active--;
	if (!buf)
		bufpool_queue_growth_locked(pool, BUFPOOL_GROW_RETRY);
	bufpool_check_drained(pool);
	bufpool_unlock(pool, flags);
}

/*
 * Queued, the work counts as a caller inside (@active), so that the pool
 * stays until it has run. A destroy makes it run at once, to leave.
 */
static void bufpool_queue_growth_locked(struct bufpool *pool,
					unsigned long delay)
{
	lockdep_assert_held(&pool->lock);
	if (pool->grow_queued || !bufpool_head_needs_growth(pool))
		return;
	pool->grow_queued = true;
	pool->active++;
	queue_delayed_work(bufpool_wq, &pool->grow_work, delay);
}

/*
 * Take what the caller may have now: from the depot, then by growing the
 * pool. First come, first served: only the head of the queue (or anyone,
 * while nobody waits) may take or grow. Everything is looked at again
 * after each time the pool lock was let go. Returns 0 once @w holds all
 * it wants; -ESHUTDOWN if the pool is dying; -ECANCELED if @w, queued,
 * was taken off the queue without being served (a notify request,
 * cancelled); -EAGAIN if it must wait or fail.
 */
static int bufpool_take_locked(struct bufpool *pool, struct bufpool_waiter *w,
			       gfp_t gfp, bool queued, bool may_grow,
			       bool *grow_failed, unsigned long *flags)
{
	struct bufpool_buf *buf;

	for (;;) {
		/* Handed all it wants while it waited, and dequeued for it. */
		if (w->got == w->want)
			return 0;
		if (pool->dying)
			return -ESHUTDOWN;
		if (queued && list_empty(&w->node))
			return -ECANCELED;
		if (queued ? bufpool_first_waiter(pool) != w : pool->nr_waiters)
			return -EAGAIN;
		buf = bufpool_depot_pop(pool);
		if (buf) {
			w->bufs[w->got++] = buf;
			bufpool_note_out_locked(pool);
			bufpool_update_tight_locked(pool);
			bufpool_relax_locked(pool, w->got, flags);
			continue;
		}
		if (*grow_failed || !may_grow || !bufpool_can_grow(pool))
			return -EAGAIN;
		bufpool_grow_locked(pool, w, gfp, grow_failed, flags);
	}
}

/*
 * Buffers may idle in magazines: with bypass set (the caller waits, or
 * the pool turns tight), empty them all into the depot. Once that has
 * been done and bypass has held since, there is nothing left to find.
 * Returns false if there was nothing to do.
 */
static bool bufpool_drain_locked(struct bufpool *pool, unsigned long *flags)
{
	if (!pool->batch || pool->mags_empty)
		return false;
	bufpool_unlock(pool, *flags);
	bufpool_test_point(BUFPOOL_TP_DRAIN);
	bufpool_cpu_drain(pool);
	bufpool_lock(pool, *flags);
	return true;
}

/*
 * Sleep until woken or @*timeout runs out, the pool lock dropped
 * meanwhile. While growth fails, wake up soon to try it again, not only
 * on a put. Returns -EINTR or -ETIMEDOUT, or 0 to look again.
 */
static int bufpool_sleep_locked(struct bufpool *pool, unsigned int state,
				long *timeout, bool *grow_failed,
				unsigned long *flags)
	__must_hold(&pool->lock)
{
	long slice, left;

	if (!*timeout)
		return -ETIMEDOUT;
	set_current_state(state);
	if (signal_pending_state(state, current)) {
		__set_current_state(TASK_RUNNING);
		return -EINTR;
	}
	slice = *timeout;
	if (*grow_failed && bufpool_can_grow(pool))
		slice = min_t(long, slice, BUFPOOL_GROW_RETRY);
	bufpool_unlock(pool, *flags);
	left = schedule_timeout(slice);
	if (*timeout != MAX_SCHEDULE_TIMEOUT)
		*timeout -= slice - left;
	*grow_failed = false;
	bufpool_lock(pool, *flags);
	return 0;
}

/*
 * Leave the slow path. A notify request still queued stays there
 * (-EINPROGRESS), and the pool grows for it if that is all it waits for;
 * one taken off the queue while its call was inside gets its outcome
 * from this call: served (0), failed by destroy or cancelled, counted and
 * traced already by whoever dequeued it. Any other caller leaves the
 * queue, with all it wants (0) or with an error and nothing held, given
 * back to the next in line.
 */
static int bufpool_slow_end_locked(struct bufpool *pool,
				   struct bufpool_waiter *w, bool queued,
				   int err, bool grow_failed,
				   unsigned long *flags)
{
	struct bufpool_notify *nb = bufpool_waiter_notify(w);
	u64 ns = 0;

	w->submitting = false;
	if (nb && queued && list_empty(&w->node)) {
		err = nb->err;
		if (err)
			bufpool_give_back_locked(pool, w->bufs, &w->got, flags);
		goto idle;
	}
	if (nb && queued && err == -EAGAIN) {
		if (bufpool_first_waiter(pool) == w)
			bufpool_queue_growth_locked(pool, 0);
		return -EINPROGRESS;
	}
	if (queued) {
		if (!list_empty(&w->node))
			bufpool_dequeue(pool, w);
		ns = bufpool_account_wait_locked(pool, w);
		trace_bufpool_wait_end(pool, w->want, ns, err);
	}
	if (err) {
		/* All or nothing: what we hold goes to the next in line. */
		bufpool_give_back_locked(pool, w->bufs, &w->got, flags);
		this_cpu_inc(pool->cpu->fails);
		trace_bufpool_alloc_fail(pool, w->want, err, grow_failed);
	}
idle:
	if (nb)
		atomic_set_release(&nb->state, BUFPOOL_NOTIFY_IDLE);
	return err;
}

/*
 * The slow path, for one buffer or a bulk request: take from the depot or
 * grow the pool; queue if the caller may sleep or asked to be notified;
 * empty the magazines; and at last sleep, or fail. Returns 0 with all
 * @w wants in @w->bufs (not yet readied); -EINPROGRESS for a notify
 * request left in the queue; or an error with no buffer held, counted in
 * the pool's fails.
 *
 * Once it has let go of the pool lock for the last time, a destroy that
 * waits for this caller may free the pool, and the callback of a request
 * left queued may free it: nothing of either is touched then.
 */
static noinline int bufpool_get_slow(struct bufpool *pool, gfp_t gfp,
				     struct bufpool_waiter *w,
				     unsigned int state, long timeout)
{
	struct bufpool_notify *nb = bufpool_waiter_notify(w);
	bool can_sleep = !nb && gfpflags_allow_blocking(gfp);
	/* Asked before the pool lock, which makes no caller preemptible. */
	bool may_grow = bufpool_may_grow();
	bool queued = false, grow_failed = false;
	unsigned int drained = 0;
	unsigned long flags;
	int err;

	if (can_sleep)
		might_sleep();
	INIT_LIST_HEAD(&w->node);
	bufpool_lock(pool, flags);
	pool->active++;
	w->submitting = true;
	for (;;) {
		err = bufpool_take_locked(pool, w, gfp, queued, may_grow,
					  &grow_failed, &flags);
		if (err != -EAGAIN)
			break;
		if ((can_sleep || nb) && !queued) {
			bufpool_enqueue(pool, w, &flags);
			queued = true;
			continue;
		}
		/* Waiters have bypass set already: it is theirs to clear. */
		if (!queued && !pool->nr_waiters)
			bufpool_set_tight_locked(pool);
		/*
		 * Twice at most between sleeps: a drain that did not leave
		 * the magazines known empty saw bypass change, buffers on
		 * the move, and a caller in hard IRQ must not chase them.
		 */
		if (drained < 2 && bufpool_drain_locked(pool, &flags)) {
			drained++;
			continue;
		}
		if (!can_sleep)
			break;
		err = bufpool_sleep_locked(pool, state, &timeout, &grow_failed,
					   &flags);
		if (err)
			break;
		drained = 0;
	}
	err = bufpool_slow_end_locked(pool, w, queued, err, grow_failed,
				      &flags);
	pool->active--;
	bufpool_check_drained(pool);
	bufpool_unlock(pool, flags);
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
 */
static __always_inline void bufpool_hand_out(struct bufpool *pool,
					     unsigned int n,
					     struct bufpool_buf **bufs,
					     gfp_t gfp, int path)
{
	unsigned int i;

	if (trace_bufpool_alloc_enabled())
		bufpool_trace_alloc(pool, n, bufs, path);
	for (i = 0; i < n; i++)
		bufpool_buf_ready(pool, bufs[i], gfp);
	this_cpu_add(pool->cpu->allocs, n);
}

/* Inlined into each allocator, so that n == 1 folds into a lean fast path. */
static __always_inline int bufpool_take(struct bufpool *pool, gfp_t gfp,
					unsigned int n,
					struct bufpool_buf **bufs,
					unsigned int state, long timeout)
{
	int path = BUFPOOL_PATH_HIT;
	bool slow;
	int err;

	if (n == 1) {
		bufs[0] = bufpool_cpu_pop(pool);
		slow = !bufs[0];
	} else {
		slow = !bufpool_cpu_pop_bulk(pool, n, bufs);
	}
	if (unlikely(slow) && (n > 1 || !bufpool_cpu_refill(pool, bufs))) {
		struct bufpool_waiter w = {
			.task = current, .bufs = bufs, .want = n,
		};

		err = bufpool_get_slow(pool, gfp, &w, state, timeout);
		if (err)
			return err;
		path = BUFPOOL_PATH_SLOW;
	} else if (unlikely(slow)) {
		path = BUFPOOL_PATH_REFILL;
	}
	bufpool_hand_out(pool, n, bufs, gfp, path);
	return 0;
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
 * never sleeps. Zone modifiers in @gfp are ignored.
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
	if (bufpool_take(pool, gfp, 1, &buf, TASK_UNINTERRUPTIBLE,
			 MAX_SCHEDULE_TIMEOUT))
		return NULL;
	return buf;
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
	if (!err)
		err = bufpool_take(pool, gfp, 1, &buf, state, timeout);
	return err ? ERR_PTR(err) : buf;
}
EXPORT_SYMBOL_GPL(bufpool_alloc_wait);

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
	return bufpool_alloc_bulk_wait(pool, gfp, n, bufs, TASK_UNINTERRUPTIBLE,
				       MAX_SCHEDULE_TIMEOUT);
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
	int err;

	if (!bufpool_check_pool(pool, __func__))
		return -EINVAL;
	err = bufpool_check_bulk(pool, n, bufs);
	if (!err)
		err = bufpool_check_wait(pool, state, timeout);
	if (!err)
		err = bufpool_take(pool, gfp, n, bufs, state, timeout);
	return err;
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

	if (!sgl && bufpool_check_pool(pool, __func__)) {
		pr_err_ratelimited("pool '%s': %s into a NULL scatterlist\n",
				   pool->name, __func__);
		return -EINVAL;
	}
	err = bufpool_alloc_bulk(pool, gfp, n, bufs);
	if (err)
		return err;
	sg_init_table(sgl, n);
	for (i = 0; i < n; i++)
		sg_set_buf(&sgl[i], bufpool_buf_to_data(bufs[i]), pool->buf_size);
	return 0;
}
EXPORT_SYMBOL_GPL(bufpool_alloc_sg);

/* Notify requests */

static void bufpool_notify_run(struct irq_work *work)
{
	struct bufpool_notify *nb = container_of(work, struct bufpool_notify,
						 work);
	void (*func)(struct bufpool_notify *nb, int err) = nb->func;
	int err = nb->err;

	/* Handed over, the buffers are in use: the pool stays meanwhile. */
	if (!err)
		bufpool_hand_out(nb->pool, nb->w.want, nb->w.bufs, 0,
				 BUFPOOL_PATH_SLOW);
	/*
	 * From here @nb is its owner's: it may queue it again at once. Pairs
	 * with the acquire in bufpool_alloc_notify().
	 */
	atomic_set_release(&nb->state, BUFPOOL_NOTIFY_IDLE);
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
	memset(nb, 0, sizeof(*nb));
	nb->func = func;
	INIT_LIST_HEAD(&nb->w.node);
	init_irq_work(&nb->work, bufpool_notify_run);
	atomic_set(&nb->state, BUFPOOL_NOTIFY_IDLE);
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
	/* Pairs with the release in bufpool_notify_run(). */
	if (atomic_read_acquire(&nb->state) != BUFPOOL_NOTIFY_IDLE)
		return -EBUSY;
	if (bufpool_cpu_pop_bulk(pool, n, bufs))
		goto ready;
	nb->w.task = NULL;
	nb->w.bufs = bufs;
	nb->w.want = n;
	nb->w.got = 0;
	err = bufpool_get_slow(pool, GFP_ATOMIC, &nb->w, TASK_RUNNING, 0);
	if (err)
		return err;
	path = BUFPOOL_PATH_SLOW;
ready:
	bufpool_hand_out(pool, n, bufs, 0, path);
	return 0;
}
EXPORT_SYMBOL_GPL(bufpool_alloc_notify);

/* Dequeue @nb if it is queued. See bufpool_notify_cancel(). */
static bool bufpool_notify_dequeue(struct bufpool_notify *nb)
{
	struct bufpool *pool;
	unsigned long flags;
	bool dequeued = false;

	/*
	 * Queued, its pool cannot have been destroyed (that fires every
	 * request first) nor freed before an RCU grace period after that
	 * (bufpool_shutdown()): the lock is safe to take.
	 */
	rcu_read_lock();
	if (atomic_read_acquire(&nb->state) == BUFPOOL_NOTIFY_QUEUED) {
		pool = READ_ONCE(nb->pool);
		bufpool_test_point(BUFPOOL_TP_CANCEL);
		bufpool_lock(pool, flags);
		/*
		 * Meanwhile it may have been served, and its callback may
		 * have queued it again, on another pool: only its pool's
		 * lock says. Pairs with the release in bufpool_enqueue().
		 */
		if (atomic_read_acquire(&nb->state) == BUFPOOL_NOTIFY_QUEUED &&
		    READ_ONCE(nb->pool) == pool) {
			bufpool_dequeue(pool, &nb->w);
			bufpool_give_back_locked(pool, nb->w.bufs, &nb->w.got,
						 &flags);
			bufpool_account_wait_locked(pool, &nb->w);
			if (nb->w.submitting) {
				/* Its call is inside: it returns -ECANCELED. */
				nb->err = -ECANCELED;
				atomic_set(&nb->state, BUFPOOL_NOTIFY_FIRING);
			} else {
				atomic_set(&nb->state, BUFPOOL_NOTIFY_IDLE);
			}
			dequeued = true;
		}
		bufpool_unlock(pool, flags);
	}
	rcu_read_unlock();
	return dequeued;
}

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
	might_sleep();
	for (;;) {
		if (bufpool_notify_dequeue(nb)) {
			/* If its call was still inside, until it returns. */
			while (atomic_read_acquire(&nb->state) != BUFPOOL_NOTIFY_IDLE)
				schedule_timeout_uninterruptible(1);
			return true;
		}
		switch (atomic_read_acquire(&nb->state)) {
		case BUFPOOL_NOTIFY_IDLE:
			/* Its callback may still be running: wait it out. */
			irq_work_sync(&nb->work);
			if (atomic_read(&nb->state) == BUFPOOL_NOTIFY_IDLE)
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
	else if (buf->magic == BUFPOOL_BUF_FREE)
		pr_err_ratelimited("%s from %pS: buffer of pool '%s' is not held by anyone (put once too often?)\n",
				   fn, (void *)ip, buf->pool->name);
	else
		pr_err_ratelimited("%s from %pS: %p is not a bufpool buffer\n",
				   fn, (void *)ip, buf);
}

static __always_inline bool bufpool_live_buf(const struct bufpool_buf *buf)
{
	return !IS_ERR_OR_NULL(buf) && likely(buf->magic == BUFPOOL_BUF_LIVE);
}

/**
 * bufpool_buf_data - the data of a buffer
 * @buf: a buffer the caller holds
 *
 * Context: Any context.
 * Return: the buffer's usable bytes (the pool's buf_size of them), aligned
 * as the pool was created with.
 */
void *bufpool_buf_data(const struct bufpool_buf *buf)
{
	return bufpool_buf_to_data(buf);
}
EXPORT_SYMBOL_GPL(bufpool_buf_data);

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
 * Context: Any context but NMI; on PREEMPT_RT not hard IRQ (the index's
 * lock is a spinlock_t).
 * Return: the buffer, with no reference taken, or NULL.
 */
struct bufpool_buf *bufpool_data_to_buf(struct bufpool *pool, const void *data)
{
	struct bufpool_buf *buf;
	unsigned long flags;

	if (!bufpool_check_pool(pool, __func__))
		return NULL;
	if (!pool->indexed) {
		pr_err_ratelimited("pool '%s': %s needs BUFPOOL_F_LOOKUP\n",
				   pool->name, __func__);
		return NULL;
	}
	/* Under the lock that bufpool_unindex_buf() takes before a free. */
	xa_lock_irqsave(&pool->bufs, flags);
	buf = xa_load(&pool->bufs, (unsigned long)data >> pool->key_shift);
	if (buf && (buf->data != data || buf->magic != BUFPOOL_BUF_LIVE))
		buf = NULL;
	xa_unlock_irqrestore(&pool->bufs, flags);
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

static __always_inline void bufpool_put_one(struct bufpool_buf *buf,
					    const char *fn, unsigned long ip)
{
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
	bufpool_test_point(BUFPOOL_TP_PUT);
	/*
	 * Two puts of a buffer held once, racing, both get here: the
	 * caller's bug, as for skb_unref(). Where debugging is asked for,
	 * one compare-and-exchange lets exactly one take it home.
	 */
	if (unlikely(buf->pool->flags & BUFPOOL_F_POISON) &&
	    cmpxchg(&buf->magic, BUFPOOL_BUF_LIVE, BUFPOOL_BUF_FREE) !=
	    BUFPOOL_BUF_LIVE) {
		bufpool_bad_buf(buf, fn, ip);
		return;
	}
	trace_bufpool_put(buf);
	bufpool_release(buf->pool, buf);
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
 * bufpool_get_stats - read a pool's counters
 * @pool: the pool
 * @stats: filled with a snapshot
 *
 * Context: Any context but NMI.
 */
void bufpool_get_stats(struct bufpool *pool, struct bufpool_stats *stats)
{
	unsigned long flags;
	int cpu;

	memset(stats, 0, sizeof(*stats));
	if (!bufpool_check_pool(pool, __func__))
		return;
	for_each_possible_cpu(cpu) {
		struct bufpool_cpu *c = per_cpu_ptr(pool->cpu, cpu);

		stats->allocs += READ_ONCE(c->allocs);
		stats->frees += READ_ONCE(c->frees);
		stats->fails += READ_ONCE(c->fails);
		stats->mag_hits += READ_ONCE(c->hits);
		stats->mag_misses += READ_ONCE(c->misses);
	}
	stats->in_use = stats->allocs - stats->frees;
	stats->cached = bufpool_cpu_cached(pool);

	bufpool_lock(pool, flags);
	stats->waits = pool->waits;
	stats->wait_ns_total = pool->wait_ns_total;
	stats->wait_ns_max = pool->wait_ns_max;
	stats->high_watermark = pool->high_watermark;
	stats->backed = pool->backed - pool->growing;
	stats->free = pool->nr_free + stats->cached;
	stats->waiters = pool->nr_waiters;
	stats->drains = pool->drains;
	stats->shrink_scans = pool->shrink_scans;
	stats->shrink_freed = pool->shrink_freed;
	stats->grow_fails = pool->grow_fails;
	bufpool_unlock(pool, flags);
}
EXPORT_SYMBOL_GPL(bufpool_get_stats);

/**
 * bufpool_name - the name a pool was created with
 * @pool: the pool
 *
 * Context: Any context.
 * Return: the name, valid until the pool is destroyed.
 */
const char *bufpool_name(const struct bufpool *pool)
{
	return pool->name;
}
EXPORT_SYMBOL_GPL(bufpool_name);

/*
 * No new allocations; sleepers wake up to leave with -ESHUTDOWN, giving
 * back what they hold themselves; notify requests are given back for,
 * with every waiter off the queue so that their buffers go to the depot,
 * and fail. Caller holds the pool lock.
 */
static void bufpool_stop_locked(struct bufpool *pool, unsigned long *flags)
{
	struct bufpool_waiter *w, *tmp;
	LIST_HEAD(notified);

	pool->dying = true;
	bufpool_update_bypass_locked(pool);
	list_for_each_entry_safe(w, tmp, &pool->waiters, node) {
		list_del_init(&w->node);
		pool->nr_waiters--;
		if (w->task) {
			wake_up_process(w->task);
		} else {
			list_add_tail(&w->node, &notified);
			atomic_set(&bufpool_waiter_notify(w)->state,
				   BUFPOOL_NOTIFY_FIRING);
		}
	}
	list_for_each_entry_safe(w, tmp, &notified, node) {
		list_del_init(&w->node);
		bufpool_give_back_locked(pool, w->bufs, &w->got, flags);
		bufpool_notify_fire_locked(pool, w, -ESHUTDOWN);
	}
	/* Growth waiting to retry: it has nobody to grow for now. */
	if (pool->grow_queued)
		mod_delayed_work(bufpool_wq, &pool->grow_work, 0);
}

static void bufpool_free_work(struct work_struct *work);

/*
 * Start a destroy, or report a second one. Seeing that the pool is not
 * dying yet and stopping it are one hold of the pool lock, so that of two
 * destroys at once exactly one goes on. @async: for
 * bufpool_destroy_async(), which frees the pool from a work item.
 */
static bool bufpool_start_destroy(struct bufpool *pool, bool async,
				  void (*release)(void *arg), void *arg,
				  unsigned long ip)
{
	unsigned long flags;

	bufpool_lock(pool, flags);
	if (pool->dying) {
		bufpool_unlock(pool, flags);
		pr_err_ratelimited("pool '%s': destroyed twice, by %pS\n",
				   pool->name, (void *)ip);
		return false;
	}
	if (async) {
		pool->async = true;
		pool->release = release;
		pool->release_arg = arg;
		INIT_RCU_WORK(&pool->free_work, bufpool_free_work);
		/* Inside, as a caller of the slow path is: the pool stays. */
		pool->active++;
	}
	bufpool_stop_locked(pool, &flags);
	bufpool_check_drained(pool);
	bufpool_unlock(pool, flags);
	bufpool_test_point(BUFPOOL_TP_DESTROY);
	return true;
}

/*
 * Finish the destroy of a stopped pool: every buffer idle in a magazine
 * goes to the depot. Returns once no buffer is in use, complaining every
 * few seconds; if @wait is false and some still are after the first few
 * seconds, returns false instead.
 */
static bool bufpool_shutdown(struct bufpool *pool, bool wait)
{
	bool drained = true;
	unsigned int in_use;
	unsigned long flags;

	bufpool_debugfs_remove(pool);
	bufpool_shrinker_unregister(pool);
	bufpool_cpu_drain(pool);

	while (!wait_for_completion_timeout(&pool->drained, BUFPOOL_DESTROY_WARN)) {
		bufpool_lock(pool, flags);
		in_use = bufpool_out_locked(pool);
		bufpool_unlock(pool, flags);
		if (!in_use)
			continue;	/* only callers leaving: no need to complain */
		if (!wait) {
			pr_err("pool '%s': %u buffers still in use, leaking the pool\n",
			       pool->name, in_use);
			drained = false;
			break;
		}
		pr_warn("pool '%s': destroy waits for %u buffers still in use\n",
			pool->name, in_use);
	}
	/*
	 * The last buffer home, or the last caller out, completed drained
	 * from inside a section under a pool or magazine lock, interrupts
	 * off, which may still be running: an RCU read-side critical
	 * section, so this waits it out.
	 */
	synchronize_rcu();
	bufpool_test_point(BUFPOOL_TP_SHUTDOWN);
	return drained;
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
	if (!bufpool_start_destroy(pool, false, NULL, NULL, _RET_IP_))
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
	bufpool_shrinker_unregister(pool);
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
	if (!bufpool_start_destroy(pool, true, release, arg, _RET_IP_))
		return;
	bufpool_cpu_drain(pool);

	bufpool_lock(pool, flags);
	pool->active--;
	bufpool_check_drained(pool);
	bufpool_unlock(pool, flags);
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

	bufpool_hdr_cache = KMEM_CACHE(bufpool_buf, 0);
	if (!bufpool_hdr_cache)
		return -ENOMEM;
	bufpool_wq = alloc_workqueue("bufpool", WQ_UNBOUND, 0);
	if (!bufpool_wq) {
		err = -ENOMEM;
		goto free_cache;
	}
	err = bufpool_percpu_init();
	if (err)
		goto free_wq;
	bufpool_debugfs_init();
#ifdef CONFIG_FAULT_INJECTION
	bufpool_debugfs_fault(&bufpool_fault_attr);
#endif
	return 0;

free_wq:
	destroy_workqueue(bufpool_wq);
free_cache:
	kmem_cache_destroy(bufpool_hdr_cache);
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
	destroy_workqueue(bufpool_wq);

	list_for_each_entry_safe(pool, tmp, &bufpool_list, node) {
		list_del(&pool->node);
		if (pool->async) {
			pr_err("pool '%s': destroyed without waiting, but buffers are still out: leaking it\n",
			       pool->name);
			bufpool_debugfs_remove(pool);
			bufpool_shrinker_unregister(pool);
		} else {
			pr_err("pool '%s' was never destroyed\n", pool->name);
			bufpool_start_destroy(pool, false, NULL, NULL, _THIS_IP_);
			if (bufpool_shutdown(pool, false)) {
				bufpool_free_pool(pool);
				continue;
			}
		}
		bufpool_cpu_destroy(pool);
		leaked = true;
	}
	bufpool_debugfs_exit();
	bufpool_percpu_exit();
	/* The headers of a leaked pool's buffers still in use live there. */
	if (!leaked)
		kmem_cache_destroy(bufpool_hdr_cache);
}

module_init(bufpool_init);
module_exit(bufpool_exit);
MODULE_DESCRIPTION("Per-subsystem pools of fixed-size buffers");
MODULE_AUTHOR("The bufpool maintainers");
MODULE_LICENSE("GPL");
MODULE_VERSION(BUFPOOL_VERSION);
