// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool's depot: the layer under the per-CPU magazines. A pool's free
 * list under its lock, the callers waiting for buffers, the pool's
 * growth, and the slab cache that backs it all.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/irq_work.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/memcontrol.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sort.h>

#if IS_ENABLED(CONFIG_KUNIT)
#include <kunit/visibility.h>
#endif

#include "bufpool_internal.h"
#include <trace/bufpool_trace.h>

/**
 * DOC: The depot
 *
 * Every buffer that is not in use and not in a magazine is on the
 * pool's free list, a stack under the pool lock. The lock also covers
 * the pool's growth, its waiters and the counters the hit paths do not
 * touch. The slab cache behind it (one ``kmem_cache`` per pool,
 * ``bufpool-<name>``) creates buffers on demand up to the cap, beyond
 * the ``min_bufs`` reserve, and takes idle ones back when the shrinker
 * asks (``bufpool_shrinker.c``). Since all of a pool's buffers are one
 * size, the free list never fails for fragmentation: a pool runs dry
 * only when all its buffers are out. Growth is another matter: buffers
 * above ``PAGE_SIZE`` come from slabs of order 1 to 3, which the page
 * allocator may fail to find under fragmentation. The promise holds for
 * the reserve, allocated at creation and never given back.
 *
 * The cap counts buffers in existence and slots reserved for buffers
 * being created, so it is never exceeded: a grower reserves its slot
 * under the lock, allocates without it, and gives the slot back if the
 * slab said no.
 */

/**
 * DOC: Waiting
 *
 * Sleepers and notify requests queue in arrival order on the pool's list
 * of waiters, and are served in that order; a caller that is running may
 * take a buffer while the first waiter wakes, at most once per wakeup.
 *
 * That is the kernel mutex's answer (``MUTEX_FLAG_HANDOFF``) to what
 * strict hand-over costs: every returned buffer reserved for a sleeping
 * task, which idles until that task runs while the caller that returned
 * it, which wants one again at once, goes to sleep in turn; every buffer
 * a context switch. So a buffer returned while a single-buffer sleeper
 * heads the queue goes to the free list and wakes it; a running caller
 * may take it meanwhile (a barge, counted in ``barges``). A head that
 * wakes and finds nothing asks for hand-off (``empty_wakeups``): from
 * then on returned buffers go straight to it, under the pool lock
 * (``handoffs``), as does the next one after a barge, so that no waiter
 * is passed over more than once per wakeup. Bulk requests and notify
 * requests get hand-off from the start: a bulk request must never starve
 * behind single takers, and a notify request cannot wake up to retry.
 * Handed-over buffers are counted in the waiter under the lock its check
 * takes, so no wakeup can be lost; a bulk waiter keeps what it is handed
 * until it has everything. A waiter queued behind others gives back what
 * it already holds, so that two bulk requests that each grew part of
 * what they want never wait for each other. Sleepers whose ``gfp``
 * forbids I/O or file system recursion (``GFP_NOIO``, ``GFP_NOFS``: the
 * block path) sleep in ``io_schedule_timeout()`` and count as iowait, as
 * mempool's do.
 *
 * Only the head of the queue, or anyone while nobody waits, may take
 * from the free list or grow the pool. A notify request at the head
 * cannot grow the pool itself (it may have been made in hard IRQ, and
 * its caller has left), so the pool's service work grows for it, handing
 * each new buffer to the queue as if it had been returned. While growth
 * fails, a sleeper and the service work try again every 100 ms.
 *
 * A destroy stops the pool: sleepers wake up to leave with
 * ``-ESHUTDOWN``, giving back what they hold; notify requests are given
 * back for and fail. The pool is freed once every buffer is home and no
 * caller is left inside (``active``): that moment is the last event under
 * the pool lock, and nothing touches the pool after it.
 */

/**
 * DOC: DMA-mapped pools
 *
 * A pool created with a device (``dev``) is laid out for DMA whether it
 * maps or not: the alignment is at least a cache line
 * (``dma_get_cache_alignment()``, and ``L1_CACHE_BYTES`` where that is
 * smaller, as on coherent x86, where it is 1: DMA-API debug tracks
 * mappings by L1 line, and a line shared by two buffers is false sharing
 * between a device and the CPU anyway), the data ends on a line too, and
 * an inline header takes whole lines of its own after the data, so that
 * no write of the CPU to a header can land in a line the device owns: the
 * corruption ``Documentation/core-api/dma-api-howto.rst`` warns of on
 * non-coherent machines, which a header that follows the data in its last
 * line would cause.
 *
 * With ``BUFPOOL_F_DMA_MAP`` each buffer is mapped once, with
 * ``dma_map_single()`` over all of its ``bufpool_buf_size()`` bytes in
 * the pool's ``dma_dir``, when the slab gives it to the pool (the
 * reserve, growth), and unmapped when it goes back (the shrinker, the
 * pool's end): never per hand-out. A mapping that fails is a growth that
 * fails (``grow_fails``; the caller waits or gets NULL as for any
 * growth). Its headers are longer (``struct bufpool_dma_buf``: the bus
 * address and a link in the pool's list of mapped buffers), in the
 * inline layout and in a header cache of their own, so that no other
 * pool pays for them. ``BUFPOOL_F_DMA_SYNC_DEV`` syncs the whole buffer
 * for the device at every hand-out, after it is zeroed and its poison
 * checked; the hit path tests it in the one test of the pool's flags it
 * makes anyway, so a pool without it pays nothing (``scripts/hotpath``
 * counts the same instructions with and without this code).
 *
 * ``bufpool_destroy()`` waits for every buffer, and each is unmapped as it
 * is freed. ``bufpool_destroy_async()`` returns at once, so it unmaps
 * every buffer of the pool before returning, those still held included
 * (``bufpool_depot_unmap_all()``): a driver's ``remove()`` may then
 * return, its device without a mapping of the pool's. A buffer held
 * stays valid memory until its put, which takes it home without a DMA
 * call; ``bufpool_buf_dma()`` and the sync calls on it are reported and
 * ignored from then on; one racing with the destroy is the caller's bug,
 * as a sync racing with ``dma_unmap_single()`` is. A growth that ends
 * after the unmapping unmaps its own buffer and fails, and the shrinker
 * leaves a dying pool alone; a shrink that took buffers just before the
 * destroy frees them while it unmaps: the list of mapped buffers, under
 * a spinlock of its own (never the raw pool lock: the DMA API takes
 * locks of its own), makes whoever takes a buffer off it the only one to
 * unmap it, before its memory can go.
 */

/**
 * DOC: NUMA placement
 *
 * A pool has a node: ``nid`` with ``BUFPOOL_F_NODE``, else its device's
 * (``dev_to_node()``), else none (``NUMA_NO_NODE``). Its reserve, every
 * growth and every apart header are allocated there with
 * ``kmem_cache_alloc_node()``, which falls back to another node only
 * when that one has no memory left, as ``kmalloc_node()`` does. The flag
 * is there because 0 is a node: every caller written before ``nid``
 * existed passes a zeroed field, and must not find its pools pinned to
 * node 0 (``struct kmem_cache_args`` has ``use_freeptr_offset`` for the
 * same reason); without the flag ``nid`` must be 0 or ``NUMA_NO_NODE``,
 * and anything else is refused as a slip. A pool with a node counts the
 * buffers put back by CPUs of another node (``remote_frees``): the last
 * put tests the node in the same test as ``BUFPOOL_F_POISON``, so a pool
 * without a node pays nothing on its hit path either.
 */

/* Headers of buffers whose data is a slab object of its own. */
static struct kmem_cache *bufpool_depot_hdr_cache;
/* The same, for pools with %BUFPOOL_F_DMA_MAP: struct bufpool_dma_buf. */
static struct kmem_cache *bufpool_depot_dma_hdr_cache;

static struct kmem_cache *bufpool_depot_hdr_cache_of(struct bufpool *pool)
{
	return pool->flags & BUFPOOL_F_DMA_MAP ? bufpool_depot_dma_hdr_cache :
						 bufpool_depot_hdr_cache;
}

/* The slab behind the depot */

/*
 * Only the allocation flags that say how hard to try are passed on to the
 * slab; zone and zeroing flags are the pool's business. Growth failing is
 * expected (the caller then waits for a returned buffer), hence NOWARN.
 */
static gfp_t bufpool_depot_grow_gfp(struct bufpool *pool, gfp_t gfp)
{
	gfp = (gfp & (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HIGH |
		      __GFP_NORETRY | __GFP_RETRY_MAYFAIL | __GFP_NOMEMALLOC)) |
	      __GFP_NOWARN;
	/* The data's cache is SLAB_ACCOUNT; headers and index need this. */
	if (pool->flags & BUFPOOL_F_ACCOUNT)
		gfp |= __GFP_ACCOUNT;
	return gfp;
}

/*
 * The slab order SLUB picks for @size-byte objects with its default tuning
 * (calculate_order() in mm/slub.c): slabs of at least 4 * (fls(CPUs) + 1)
 * objects where order 3 allows, in the smallest order up to 3 that wastes
 * at most a sixteenth, else an eighth, a quarter, a half. Under KASAN or
 * slub_debug objects grow and this is a guess.
 */
static unsigned int bufpool_depot_slab_order(size_t size)
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
 * would waste becomes the buffer's. @extra is what SLUB adds to each
 * object of the cache (its free pointer, placed after the object in a
 * SLAB_TYPESAFE_BY_RCU cache). Returns the object size to ask for;
 * @cost gets the bytes of slab each one takes.
 */
static size_t bufpool_depot_fit_slot(size_t size, unsigned int align,
				     size_t extra, size_t *cost)
{
	size_t obj = ALIGN(size + extra, align);
	unsigned int order = bufpool_depot_slab_order(obj);
	size_t slab = PAGE_SIZE << order;
	size_t n = max_t(size_t, slab / obj, 1);
	size_t slot = ALIGN_DOWN(slab / n, align);

	*cost = DIV_ROUND_UP(slab, n);
	if (slot <= obj || bufpool_depot_slab_order(slot) != order)
		return size;
	return slot - extra;
}

/*
 * An XArray node (576 bytes) maps 64 consecutive keys, and buffers of one
 * slab have consecutive keys: about this much per buffer, when apart.
 */
#define BUFPOOL_INDEX_COST	16

/*
 * Lay a buffer out as cheaply as the slab allows: its header inside the
 * data's slab object, or apart from it, whichever costs fewer bytes of
 * slab. A 4 KiB buffer with its 40 bytes inline packs seven to an order-3
 * slab, apart eight; a 16 KiB one alone, apart two. The data then gets
 * what is left of its slot, so that no size loses more than alignment.
 *
 * Either way every buffer is in the pool's index: the holders walk
 * (bufpool_depot_holders()) finds the buffers in use there.
 *
 * A pool with a device is laid out for DMA: pool->align is a cache line
 * at least (bufpool_create()), the data ends on one too, and an inline
 * header takes whole lines of its own after it, so that no CPU write to
 * a header can land in a line the device owns.
 */
static void bufpool_depot_layout(struct bufpool *pool, size_t want)
{
	size_t hdr = pool->hdr_size, inline_cost, apart_cost, end, hdr_room;
	size_t inline_slot, apart_slot;

	/*
	 * An inline header is read under RCU alone: its cache, the data's,
	 * is SLAB_TYPESAFE_BY_RCU, and SLUB keeps its free pointer out of
	 * each object, a pointer more to pay for.
	 */
	end = pool->dev ? pool->align : __alignof__(struct bufpool_buf);
	hdr_room = ALIGN(hdr, end);
	inline_slot = bufpool_depot_fit_slot(ALIGN(ALIGN(want, end) + hdr_room,
						   pool->align),
					     pool->align, sizeof(void *),
					     &inline_cost);
	apart_slot = bufpool_depot_fit_slot(ALIGN(want, pool->align),
					    pool->align, 0, &apart_cost);
	inline_cost += BUFPOOL_INDEX_COST;
	apart_cost += hdr + BUFPOOL_INDEX_COST;
	if (inline_cost <= apart_cost) {
		/* The header goes last, 8-aligned as the slot is. */
		pool->buf_offset = ALIGN_DOWN(inline_slot - hdr_room, end);
		pool->buf_size = pool->buf_offset;
		pool->buf_cost = inline_cost;
		/* Objects are at least a slot apart: keys are unique. */
		pool->key_shift = ilog2(inline_slot);
	} else {
		pool->buf_offset = 0;
		pool->buf_size = apart_slot;
		pool->buf_cost = apart_cost;
		pool->key_shift = ilog2(apart_slot);
	}
}

/* Make a header found from its data. See bufpool_data_to_buf(). */
static int bufpool_depot_index(struct bufpool *pool, struct bufpool_buf *buf,
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

static void bufpool_depot_unindex(struct bufpool *pool, struct bufpool_buf *buf)
{
	unsigned long key = (unsigned long)buf->data >> pool->key_shift;
	unsigned long flags;

	xa_lock_irqsave(&pool->bufs, flags);
	__xa_erase(&pool->bufs, key);
	xa_unlock_irqrestore(&pool->bufs, flags);
}

/**
 * bufpool_depot_lookup - the buffer whose data @data is, if it is in use
 * @pool: the pool
 * @data: any pointer
 *
 * Without a lock, so from hard IRQ on PREEMPT_RT too: the XArray is read
 * under RCU, and the headers it points to are in caches whose slabs are
 * freed only after a grace period (SLAB_TYPESAFE_BY_RCU), so a header
 * read here is a header, if maybe another buffer's by now: what it says
 * is checked against @data.
 *
 * Return: the buffer, or NULL.
 */
struct bufpool_buf *bufpool_depot_lookup(struct bufpool *pool,
					 const void *data)
{
	struct bufpool_buf *buf;

	rcu_read_lock();
	buf = xa_load(&pool->bufs, (unsigned long)data >> pool->key_shift);
	if (buf && (READ_ONCE(buf->data) != data ||
		    READ_ONCE(buf->magic) != BUFPOOL_BUF_LIVE))
		buf = NULL;
	rcu_read_unlock();
	return buf;
}

/**
 * DOC: Who holds the buffers
 *
 * Each hand-out writes two words into the buffer's header: who took it
 * (``holder``: the return address of the API call, whose caller
 * ``%pS`` names) and when (``since``, in jiffies), over the free-list
 * link, which a buffer in use does not need; then it marks the buffer
 * live with a store-release. That is two stores and a load of
 * ``jiffies`` on the hit path, no locked instruction.
 *
 * Every buffer of a pool is in the pool's index (the XArray that
 * ``bufpool_data_to_buf()`` reads), so the buffers in use can be found:
 * ``bufpool_depot_holders()`` walks the index under RCU (the headers'
 * caches are ``SLAB_TYPESAFE_BY_RCU``, so a header freed meanwhile is
 * still a header, checked against its pool and its key), and under the
 * pool lock, 32 buffers per hold of it. Under that lock no buffer goes
 * onto the free list or leaves it, which are the only writes to the link
 * ``holder`` shares: a buffer read live (with an acquire, pairing with
 * the hand-out's release) has a return address there. Each buffer that
 * stays out during the walk is counted once, at its holder; one handed
 * out or put meanwhile may or may not be. The walk sleeps between holds:
 * process context.
 */

/* Count @buf, found at @index, if it is a live buffer of @pool. */
static void bufpool_depot_note_holder(struct bufpool *pool,
				      struct bufpool_holders *h,
				      unsigned long index,
				      struct bufpool_buf *buf)
{
	struct bufpool_holder *site = NULL;
	unsigned long ip, since;
	unsigned int i;

	/* Pairs with the release in the hand-out: @holder, @since written. */
	if (smp_load_acquire(&buf->magic) != BUFPOOL_BUF_LIVE ||
	    READ_ONCE(buf->pool) != pool ||
	    (unsigned long)READ_ONCE(buf->data) >> pool->key_shift != index)
		return;
	ip = READ_ONCE(buf->holder);
	since = READ_ONCE(buf->since);
	h->held++;
	for (i = 0; i < h->nr; i++) {
		if (h->site[i].ip == ip) {
			site = &h->site[i];
			break;
		}
	}
	if (!site) {
		if (h->nr == BUFPOOL_HOLDER_SITES) {
			h->others++;
			return;
		}
		site = &h->site[h->nr++];
		site->ip = ip;
		site->count = 0;
		site->since = since;
	}
	site->count++;
	if (time_before(since, site->since))
		site->since = since;
}

static int bufpool_depot_cmp_holder(const void *a, const void *b)
{
	const struct bufpool_holder *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->ip < y->ip ? -1 : x->ip > y->ip;
}

/**
 * bufpool_depot_site_name - a holder's call site, as printed
 * @buf: gets the name
 * @len: of @buf
 * @ip: the call site
 *
 * The symbol (%pS), or where the code is gone (a module's init code
 * once it has run, a module unloaded) or the kernel has no symbols, the
 * address hashed, as %p prints it: no kernel address is printed. A call
 * site in init code is named only while that code exists.
 */
void bufpool_depot_site_name(char *buf, size_t len, unsigned long ip)
{
	snprintf(buf, len, "%pS", (void *)ip);
	if (!strncmp(buf, "0x", 2))
		snprintf(buf, len, "(no symbol) %p", (void *)ip);
}

/**
 * bufpool_depot_holders - who holds a pool's buffers now
 * @pool: the pool, which stays while this runs
 * @h: gets each call site holding buffers, most first
 *
 * See "Who holds the buffers".
 *
 * Context: Process context; sleeps.
 */
void bufpool_depot_holders(struct bufpool *pool, struct bufpool_holders *h)
{
	XA_STATE(xas, &pool->bufs, 0);
	struct bufpool_buf *buf;
	unsigned long flags;
	unsigned int n;

	might_sleep();
	h->nr = 0;
	h->held = 0;
	h->others = 0;
	do {
		n = 0;
		rcu_read_lock();
		bufpool_depot_lock(pool, flags);
		xas_for_each(&xas, buf, ULONG_MAX) {
			if (xas_retry(&xas, buf))
				continue;
			bufpool_depot_note_holder(pool, h, xas.xa_index, buf);
			if (++n == BUFPOOL_LOCKED_MAX) {
				xas_pause(&xas);
				break;
			}
		}
		bufpool_depot_unlock(pool, flags);
		rcu_read_unlock();
		cond_resched();
	} while (n == BUFPOOL_LOCKED_MAX);
	sort(h->site, h->nr, sizeof(h->site[0]), bufpool_depot_cmp_holder, NULL);
}

#if IS_ENABLED(CONFIG_KUNIT)
EXPORT_SYMBOL_IF_KUNIT(bufpool_depot_holders);
#endif

/* A header for @data, in it or apart from it, indexed. */
static struct bufpool_buf *bufpool_depot_new_header(struct bufpool *pool,
						    void *data, gfp_t gfp)
{
	struct bufpool_buf *buf;

	if (pool->buf_offset)
		buf = data + pool->buf_offset;
	else
		buf = bufpool_fault() ? NULL :
		      kmem_cache_alloc_node(bufpool_depot_hdr_cache_of(pool), gfp,
					    pool->nid);
	if (!buf)
		return NULL;
	/* Lookups may read it under RCU (bufpool_depot_lookup()). */
	WRITE_ONCE(buf->data, data);
	if (bufpool_fault() || bufpool_depot_index(pool, buf, gfp)) {
		if (!pool->buf_offset)
			kmem_cache_free(bufpool_depot_hdr_cache_of(pool), buf);
		return NULL;
	}
	return buf;
}

/*
 * DMA-mapped pools: each buffer is mapped once, when it is created, and
 * listed in pool->dma_bufs while it is; false if the mapping failed, or
 * if the pool was unmapped meanwhile (a growth that finished after a
 * destroy began: no mapping may outlive bufpool_destroy_async()).
 */
static bool bufpool_depot_map(struct bufpool *pool, struct bufpool_buf *buf)
{
	struct bufpool_dma_buf *d = bufpool_dma_buf_of(buf);
	unsigned long flags;
	bool gone;

	if (bufpool_fault())
		return false;
	d->dma = dma_map_single(pool->dev, buf->data, pool->buf_size,
				pool->dma_dir);
	if (dma_mapping_error(pool->dev, d->dma))
		return false;
	spin_lock_irqsave(&pool->dma_lock, flags);
	gone = pool->dma_gone;
	if (!gone)
		list_add(&d->node, &pool->dma_bufs);
	spin_unlock_irqrestore(&pool->dma_lock, flags);
	if (gone)
		dma_unmap_single(pool->dev, d->dma, pool->buf_size,
				 pool->dma_dir);
	return !gone;
}

/* Unmap @buf's data if it is still mapped: the one unmap of its life. */
static void bufpool_depot_unmap(struct bufpool *pool, struct bufpool_buf *buf)
{
	struct bufpool_dma_buf *d = bufpool_dma_buf_of(buf);
	unsigned long flags;
	bool mapped;

	spin_lock_irqsave(&pool->dma_lock, flags);
	mapped = !list_empty(&d->node);
	if (mapped)
		list_del_init(&d->node);
	spin_unlock_irqrestore(&pool->dma_lock, flags);
	/* Off the list, nobody else unmaps it. */
	if (mapped)
		dma_unmap_single(pool->dev, d->dma, pool->buf_size,
				 pool->dma_dir);
}

/**
 * bufpool_depot_unmap_all - unmap every buffer of a DMA-mapped pool
 * @pool: the pool, dying
 *
 * For a destroy that returns before every buffer is home
 * (bufpool_destroy_async(), a pool leaked at module exit): buffers in
 * use are unmapped too, their memory left to their holders until they
 * put them, and none is mapped again (a growth that ends after this
 * unmaps its own buffer and fails). Under @dma_lock throughout, so that
 * a buffer freed meanwhile (by a shrink that took it before the pool
 * was stopped) is unmapped exactly once, by whoever takes it off the
 * list, and never after its memory is gone.
 */
void bufpool_depot_unmap_all(struct bufpool *pool)
{
	struct bufpool_dma_buf *d;
	unsigned long flags;

	if (!(pool->flags & BUFPOOL_F_DMA_MAP))
		return;
	spin_lock_irqsave(&pool->dma_lock, flags);
	/* The sync calls read it unlocked: bufpool_dma_check(). */
	WRITE_ONCE(pool->dma_gone, true);
	while ((d = list_first_entry_or_null(&pool->dma_bufs,
					     struct bufpool_dma_buf, node))) {
		list_del_init(&d->node);
		dma_unmap_single(pool->dev, d->dma, pool->buf_size,
				 pool->dma_dir);
	}
	spin_unlock_irqrestore(&pool->dma_lock, flags);
}

static struct bufpool_buf *bufpool_depot_alloc_buf(struct bufpool *pool,
						   gfp_t gfp)
{
	struct bufpool_buf *buf;
	void *data;

	/* NUMA_NO_NODE: wherever the slab likes, as kmem_cache_alloc(). */
	data = kmem_cache_alloc_node(pool->cache, gfp, pool->nid);
	if (!data)
		return NULL;
	buf = bufpool_depot_new_header(pool, data, gfp);
	if (!buf)
		kmem_cache_free(pool->cache, data);
	return buf;
}

/*
 * A new buffer, reserve or growth. An accounted pool's is charged to the
 * pool's memory cgroup, whatever the context: the growing task's own,
 * a kworker's or a softirq's (none) would be the wrong one, or none.
 */
static struct bufpool_buf *bufpool_depot_new_buf(struct bufpool *pool,
						 gfp_t gfp)
{
	struct mem_cgroup *old;
	struct bufpool_buf *buf;

	gfp = bufpool_depot_grow_gfp(pool, gfp);
	if (bufpool_fault())
		return NULL;
	if (pool->memcg) {
		old = set_active_memcg(pool->memcg);
		buf = bufpool_depot_alloc_buf(pool, gfp);
		set_active_memcg(old);
	} else {
		buf = bufpool_depot_alloc_buf(pool, gfp);
	}
	if (!buf)
		return NULL;
	refcount_set(&buf->ref, 0);
	WRITE_ONCE(buf->magic, BUFPOOL_BUF_FREE);
	/* A header reused under RCU: the holders walk may read these. */
	WRITE_ONCE(buf->pool, pool);
	WRITE_ONCE(buf->next, NULL);
	if (pool->flags & BUFPOOL_F_POISON)
		memset(buf->data, BUFPOOL_POISON, pool->buf_size);
	if (pool->flags & BUFPOOL_F_DMA_MAP) {
		/* Not listed: nothing to unmap in the free below. */
		INIT_LIST_HEAD(&bufpool_dma_buf_of(buf)->node);
		if (!bufpool_depot_map(pool, buf)) {
			bufpool_depot_free_buf(pool, buf);
			return NULL;
		}
	}
	return buf;
}

/**
 * bufpool_depot_free_buf - give a buffer back to the slab cache
 * @pool: its pool
 * @buf: the buffer, idle and in no list, no longer counted in ->backed
 */
void bufpool_depot_free_buf(struct bufpool *pool, struct bufpool_buf *buf)
{
	void *data = buf->data;

	if (pool->flags & BUFPOOL_F_DMA_MAP)
		bufpool_depot_unmap(pool, buf);
	WRITE_ONCE(buf->magic, 0);
	bufpool_depot_unindex(pool, buf);
	if (!pool->buf_offset)
		kmem_cache_free(bufpool_depot_hdr_cache_of(pool), buf);
	kmem_cache_free(pool->cache, data);
}

static int bufpool_depot_create_cache(struct bufpool *pool)
{
	size_t size = pool->buf_size;
	slab_flags_t flags = 0;

	if (pool->buf_offset)
		size = pool->buf_offset + pool->hdr_size;
	/*
	 * Headers are read by lookups and the holders walk under RCU alone:
	 * an inline one in this cache, one apart in a header cache.
	 */
	if (pool->buf_offset)
		flags |= SLAB_TYPESAFE_BY_RCU;
	if (pool->flags & BUFPOOL_F_ACCOUNT)
		flags |= SLAB_ACCOUNT;
	/*
	 * Buffers are I/O buffers: whitelist the data for copy_to_user()
	 * under HARDENED_USERCOPY. A whitelist also keeps the cache from
	 * being merged, so it shows up under its own name, which must then
	 * be unique (bufpool_create() sees to that: the slab WARNs and
	 * sysfs refuses otherwise).
	 */
	if (!bufpool_fault())
		pool->cache = kmem_cache_create_usercopy(pool->slab_name, size,
							 pool->align, flags,
							 0, pool->buf_size, NULL);
	return pool->cache ? 0 : -ENOMEM;
}

/**
 * bufpool_depot_create - set up a new pool's depot and slab cache
 * @pool: the pool, with its name, flags, cap, reserve and alignment set
 * @buf_size: the usable bytes asked for
 *
 * Lays the buffers out, creates the cache and fills the reserve. On
 * error, bufpool_depot_destroy() undoes what was done.
 *
 * Return: 0 or -ENOMEM.
 */
int bufpool_depot_create(struct bufpool *pool, size_t buf_size)
{
	struct bufpool_buf *buf;
	int err;

	pool->asked_size = buf_size;
	pool->hdr_size = pool->flags & BUFPOOL_F_DMA_MAP ?
			 sizeof(struct bufpool_dma_buf) : sizeof(struct bufpool_buf);
	spin_lock_init(&pool->dma_lock);
	INIT_LIST_HEAD(&pool->dma_bufs);
	bufpool_depot_layout(pool, buf_size);
	xa_init_flags(&pool->bufs, XA_FLAGS_LOCK_IRQ |
		      (pool->flags & BUFPOOL_F_ACCOUNT ? XA_FLAGS_ACCOUNT : 0));
	raw_spin_lock_init(&pool->lock);
	seqcount_raw_spinlock_init(&pool->depot_seq, &pool->lock);
	INIT_LIST_HEAD(&pool->waiters);
	init_completion(&pool->home);
	err = bufpool_depot_create_cache(pool);
	if (err)
		return err;
	while (pool->backed < pool->min_bufs) {
		buf = bufpool_depot_new_buf(pool, GFP_KERNEL);
		trace_bufpool_grow(pool, buf, pool->backed + 1);
		if (!buf)
			return -ENOMEM;
		buf->next = pool->depot;
		pool->depot = buf;
		pool->nr_free++;
		pool->backed++;
	}
	return 0;
}

/**
 * bufpool_depot_destroy - free a pool's idle buffers and its slab cache
 * @pool: the pool, with every buffer in its depot
 */
void bufpool_depot_destroy(struct bufpool *pool)
{
	struct bufpool_buf *buf;

	while ((buf = bufpool_depot_pop_locked(pool))) {
		pool->backed--;
		bufpool_depot_free_buf(pool, buf);
	}
	xa_destroy(&pool->bufs);
	kmem_cache_destroy(pool->cache);
}

int bufpool_depot_init(void)
{
	/* Read by lookups under RCU alone: see bufpool_depot_lookup(). */
	bufpool_depot_hdr_cache = KMEM_CACHE(bufpool_buf, SLAB_TYPESAFE_BY_RCU);
	if (!bufpool_depot_hdr_cache)
		return -ENOMEM;
	bufpool_depot_dma_hdr_cache = KMEM_CACHE(bufpool_dma_buf,
						 SLAB_TYPESAFE_BY_RCU);
	if (!bufpool_depot_dma_hdr_cache) {
		kmem_cache_destroy(bufpool_depot_hdr_cache);
		return -ENOMEM;
	}
	return 0;
}

void bufpool_depot_exit(void)
{
	kmem_cache_destroy(bufpool_depot_dma_hdr_cache);
	kmem_cache_destroy(bufpool_depot_hdr_cache);
}

/* The free list */

/**
 * bufpool_depot_pop_locked - take an idle buffer off the free list
 * @pool: the pool, whose lock the caller holds (or that nobody else uses)
 *
 * Return: the buffer, or NULL if the free list is empty.
 */
struct bufpool_buf *bufpool_depot_pop_locked(struct bufpool *pool)
{
	struct bufpool_buf *buf = pool->depot;

	if (buf) {
		pool->depot = buf->next;
		WRITE_ONCE(pool->nr_free, pool->nr_free - 1);
	}
	return buf;
}

/**
 * bufpool_depot_out_locked - buffers out of the depot
 * @pool: the pool, whose lock the caller holds
 *
 * Return: buffers in use or idle in a magazine. Slots reserved for growth
 * are not buffers yet, and may never be.
 */
unsigned int bufpool_depot_out_locked(struct bufpool *pool)
{
	return pool->backed - pool->growing - pool->nr_free;
}

/**
 * bufpool_depot_note_out_locked - sample the high watermark
 * @pool: the pool, whose lock the caller holds
 *
 * Buffers leave the depot only under the pool lock, and a buffer in use
 * is always out of it, so the most ever out at once, sampled wherever one
 * leaves, bounds the peak in use from above without touching the hit
 * path. It counts buffers idle in magazines too: exact without them.
 */
void bufpool_depot_note_out_locked(struct bufpool *pool)
{
	pool->high_watermark = max(pool->high_watermark,
				   bufpool_depot_out_locked(pool));
}

static struct bufpool_waiter *bufpool_depot_first(struct bufpool *pool)
{
	return list_first_entry_or_null(&pool->waiters, struct bufpool_waiter,
					node);
}

/* A growth slot is free: the pool may get one more buffer. */
static bool bufpool_depot_can_grow(struct bufpool *pool)
{
	return pool->backed < pool->max_bufs;
}

/*
 * Magazines are skipped while anyone waits (returned buffers are theirs)
 * and while the pool is dying. Each time they start being skipped,
 * bypass_gen counts it: a sweep tells by it whether bypass held
 * throughout (bufpool_mag_sweep()). They serve again once the last
 * waiter has been gone for BUFPOOL_BYPASS_LINGER: waiting episodes that
 * follow each other closely, as they do on a pool at its cap, then share
 * one sweep, and its IPIs.
 */
static void bufpool_depot_update_bypass_locked(struct bufpool *pool)
{
	bool bypass = pool->dying || pool->nr_waiters;

	if (bypass == pool->bypass)
		return;
	if (!bypass) {
		bufpool_depot_request_locked(pool, BUFPOOL_SERVICE_BYPASS,
					     BUFPOOL_BYPASS_LINGER);
		return;
	}
	pool->bypass_gen++;
	WRITE_ONCE(pool->bypass, true);
}

/**
 * bufpool_depot_end_bypass - let the magazines serve again
 * @pool: the pool
 *
 * For the service work, BUFPOOL_BYPASS_LINGER after the last waiter left:
 * if nobody waits now either.
 */
void bufpool_depot_end_bypass(struct bufpool *pool)
{
	unsigned long flags;

	bufpool_depot_lock(pool, flags);
	if (pool->bypass && !pool->dying && !pool->nr_waiters) {
		pool->mags_empty = false;
		WRITE_ONCE(pool->bypass, false);
	}
	bufpool_depot_unlock(pool, flags);
}

/* A notify request heads the queue, and the pool may grow for it. */
static bool bufpool_depot_head_needs_growth(struct bufpool *pool)
{
	struct bufpool_waiter *head = bufpool_depot_first(pool);

	return head && !head->task && !pool->dying &&
	       bufpool_depot_can_grow(pool);
}

/**
 * bufpool_depot_request_locked - ask the pool's service work for something
 * @pool: the pool, whose lock the caller holds
 * @what: BUFPOOL_SERVICE_* bits
 * @delay: in jiffies
 *
 * For what a notify request needs done and cannot do itself. Queued, the
 * work counts as a caller inside (@active), so that the pool stays until
 * it has run; a request for now hurries one queued for later.
 */
void bufpool_depot_request_locked(struct bufpool *pool, unsigned int what,
				  unsigned long delay)
{
	lockdep_assert_held(&pool->lock);
	/* A dying pool has nobody to grow for, but may need a sweep. */
	if (pool->dying)
		what &= ~BUFPOOL_SERVICE_GROW;
	if (!what)
		return;
	pool->service |= what;
	if (!pool->service_queued) {
		pool->service_queued = true;
		pool->active++;
		queue_delayed_work(bufpool_wq, &pool->service_work, delay);
	} else if (!delay) {
		mod_delayed_work(bufpool_wq, &pool->service_work, 0);
	}
}

/*
 * The head of the queue may wait only because the pool was at its cap or
 * its growth failed: when either may have changed, let it look. A sleeper
 * looks for itself; a notify request has nobody to, so the service work
 * grows the pool for it.
 */
static void bufpool_depot_kick_head_locked(struct bufpool *pool)
{
	struct bufpool_waiter *head = bufpool_depot_first(pool);

	if (!head || !bufpool_depot_can_grow(pool))
		return;
	if (head->task)
		wake_up_process(head->task);
	else
		bufpool_depot_request_locked(pool, BUFPOOL_SERVICE_GROW, 0);
}

static void bufpool_depot_fire_locked(struct bufpool *pool,
				      struct bufpool_waiter *w, int err);

static void bufpool_depot_unlink_locked(struct bufpool *pool,
					struct bufpool_waiter *w)
{
	list_del_init(&w->node);
	WRITE_ONCE(pool->nr_waiters, pool->nr_waiters - 1);
	bufpool_depot_update_bypass_locked(pool);
}

/* @w holds all it wants: off the queue, and told. */
static void bufpool_depot_served_locked(struct bufpool *pool,
					struct bufpool_waiter *w)
{
	bufpool_depot_unlink_locked(pool, w);
	if (w->task)
		wake_up_process(w->task);
	else
		bufpool_depot_fire_locked(pool, w, 0);
}

/* The head, a single-buffer sleeper, is to look at the free list. */
static void bufpool_depot_wake_head_locked(struct bufpool *pool,
					   struct bufpool_waiter *w)
{
	if (w->woken || !w->task)
		return;
	w->woken = true;
	wake_up_process(w->task);
}

/*
 * The head changed, or buffers it was not woken for are on the free list:
 * hand them to a head that takes hand-off, wake one that does not, and
 * let a head wait for growth look. Bounded: BUFPOOL_LOCKED_MAX buffers at
 * most, after which the head is woken to take the rest itself.
 */
static void bufpool_depot_next_head_locked(struct bufpool *pool)
{
	unsigned int moved = 0;
	struct bufpool_waiter *w;

	while ((w = bufpool_depot_first(pool)) && pool->nr_free) {
		if (!w->handoff && !w->passed) {
			bufpool_depot_wake_head_locked(pool, w);
			return;
		}
		/* Enough under the lock: a sleeper takes the rest itself. */
		if (moved++ == BUFPOOL_LOCKED_MAX && w->task) {
			wake_up_process(w->task);
			return;
		}
		w->bufs[w->got++] = bufpool_depot_pop_locked(pool);
		pool->handoffs++;
		if (w->got == w->want)
			bufpool_depot_served_locked(pool, w);
	}
	bufpool_depot_kick_head_locked(pool);
}

static void bufpool_depot_dequeue_locked(struct bufpool *pool,
					 struct bufpool_waiter *w)
{
	bufpool_depot_unlink_locked(pool, w);
	bufpool_depot_next_head_locked(pool);
}

/* Hand @buf to @w, the head, which takes hand-off. */
static void bufpool_depot_hand_locked(struct bufpool *pool,
				      struct bufpool_waiter *w,
				      struct bufpool_buf *buf)
{
	w->bufs[w->got++] = buf;
	if (w->got < w->want)
		return;
	bufpool_depot_served_locked(pool, w);
	bufpool_depot_next_head_locked(pool);
}

/*
 * May a caller that is running, not queued, take from the free list
 * while others wait? Only a buffer left there for a single-buffer sleeper
 * at the head that has been woken for it and not yet passed over.
 */
static bool bufpool_depot_may_barge_locked(struct bufpool *pool)
{
	struct bufpool_waiter *head = bufpool_depot_first(pool);

	return head && head->woken && !head->handoff && !head->passed &&
	       pool->nr_free;
}

/*
 * The head looked and found nothing: if it had been woken for a buffer,
 * that one was taken, and it asks for hand-off.
 */
static void bufpool_depot_found_nothing_locked(struct bufpool *pool,
					       struct bufpool_waiter *w)
{
	if (w->woken) {
		w->handoff = true;
		w->empty_wakeups++;
		pool->empty_wakeups++;
	}
	w->woken = false;
	w->passed = false;
}

/**
 * bufpool_depot_check_home_locked - free a dying pool if all is home
 * @pool: the pool, whose lock the caller holds
 *
 * A dying pool may be freed once every buffer is home and no caller is
 * left inside (a woken waiter still has to take the lock). The caller
 * touches nothing of the pool once it has let go of the lock after this.
 */
void bufpool_depot_check_home_locked(struct bufpool *pool)
{
	if (!pool->dying || pool->nr_free != pool->backed || pool->active)
		return;
	if (!pool->async) {
		complete(&pool->home);
	} else if (!pool->released) {
		/*
		 * After a grace period, as bufpool_destroy() waits one: this
		 * section, under a lock with interrupts off, may still run.
		 */
		pool->released = true;
		queue_rcu_work(bufpool_wq, &pool->free_work);
	}
}

static u64 bufpool_depot_account_wait_locked(struct bufpool *pool,
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
 * instead (bufpool_depot_end_locked()), so that the callback cannot
 * queue the request again under it. The request is its owner's again
 * once its state leaves FIRING, in bufpool_notify_run() or that call.
 */
static void bufpool_depot_fire_locked(struct bufpool *pool,
				      struct bufpool_waiter *w, int err)
{
	struct bufpool_req *req = bufpool_waiter_req(w);
	u64 ns = bufpool_depot_account_wait_locked(pool, w);

	/* Under the lock: the callback may free its pool. */
	trace_bufpool_wait_end(pool, w->want, ns, err, w->empty_wakeups);
	if (err) {
		trace_bufpool_alloc_fail(pool, w->want, err, false);
		this_cpu_inc(pool->mags->fails[bufpool_trace_reason(err, false)]);
	}
	req->err = err;
	atomic_set(&req->state, BUFPOOL_NOTIFY_FIRING);
	if (!w->submitting)
		irq_work_queue(&req->work);
}

/*
 * A buffer comes home: to the longest waiter if there is one (served once
 * it holds all it wants), else onto the free list. The waiter cannot
 * leave before the pool lock is released, so waking it here is safe.
 * Inside a write section of @depot_seq.
 */
static void bufpool_depot_home_locked(struct bufpool *pool,
				      struct bufpool_buf *buf)
{
	struct bufpool_waiter *w = bufpool_depot_first(pool);

	if (w && (w->handoff || w->passed)) {
		pool->handoffs++;
		bufpool_depot_hand_locked(pool, w, buf);
		return;
	}
	/*
	 * The head was woken for a buffer on the free list already: this one
	 * is the next single-buffer waiter's, so that no sleeper sleeps while
	 * a buffer idles.
	 */
	if (w && w->woken && !list_is_last(&w->node, &pool->waiters)) {
		struct bufpool_waiter *next = list_next_entry(w, node);

		if (next->want - next->got == 1) {
			pool->handoffs++;
			next->bufs[next->got++] = buf;
			bufpool_depot_served_locked(pool, next);
			return;
		}
	}
	buf->next = pool->depot;
	pool->depot = buf;
	WRITE_ONCE(pool->nr_free, pool->nr_free + 1);
	if (w)
		bufpool_depot_wake_head_locked(pool, w);
	else
		bufpool_depot_check_home_locked(pool);
}

/**
 * bufpool_depot_push_locked - a buffer comes home
 * @pool: the pool, whose lock the caller holds
 * @buf: the buffer, marked free
 *
 * To the longest waiter if there is one (served once it holds all it
 * wants), else onto the free list.
 */
void bufpool_depot_push_locked(struct bufpool *pool, struct bufpool_buf *buf)
{
	write_seqcount_begin(&pool->depot_seq);
	bufpool_depot_home_locked(pool, buf);
	write_seqcount_end(&pool->depot_seq);
}

/**
 * bufpool_depot_move_in_locked - buffers taken from magazines come home
 * @pool: the pool, whose lock the caller holds
 * @bufs: the buffers
 * @n: how many
 *
 * As bufpool_depot_push_locked(), inside the write section of @depot_seq
 * that the caller opened before it took them, so that they are never in
 * neither a magazine nor the depot unseen.
 */
void bufpool_depot_move_in_locked(struct bufpool *pool,
				  struct bufpool_buf **bufs, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		bufpool_depot_home_locked(pool, bufs[i]);
}

/*
 * Every BUFPOOL_LOCKED_MAX buffers moved, let go of the pool lock for a
 * moment: other CPUs get it, and interrupts get in where the caller had
 * them on. The caller's own state (what it holds in its waiter) stays
 * valid across: only the head of the queue takes, and buffers in hand are
 * counted as in use. The caller looks at the pool again after.
 */
static bool bufpool_depot_relax_locked(struct bufpool *pool,
				       unsigned int moved,
				       unsigned long *flags)
	__must_hold(&pool->lock)
{
	if (moved % BUFPOOL_LOCKED_MAX)
		return false;
	bufpool_depot_unlock(pool, *flags);
	bufpool_test_point(BUFPOOL_TP_RELAX);
	bufpool_depot_lock(pool, *flags);
	return true;
}

/**
 * bufpool_depot_give_back_locked - return buffers a caller holds, in line
 * @pool: the pool, whose lock the caller holds
 * @bufs: the buffers
 * @got: how many; 0 on return
 * @flags: the caller's saved interrupt state, for relaxing the lock
 *
 * They are chained first: one may come straight back into @bufs if the
 * caller is itself queued and becomes the head meanwhile.
 */
void bufpool_depot_give_back_locked(struct bufpool *pool,
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
		bufpool_depot_push_locked(pool, buf);
		bufpool_depot_relax_locked(pool, ++moved, flags);
	}
}

/* Growth */

/*
 * Create one buffer in a slot reserved for it, so that the cap holds
 * while the pool lock is dropped to allocate. NULL if that failed.
 */
static struct bufpool_buf *bufpool_depot_grow_one_locked(struct bufpool *pool,
							 gfp_t gfp,
							 unsigned long *flags)
	__must_hold(&pool->lock)
{
	unsigned int slot = pool->backed + 1;
	struct bufpool_buf *buf;

	/* Read without the lock by bufpool_take_miss(). */
	WRITE_ONCE(pool->backed, slot);
	pool->growing++;
	bufpool_depot_unlock(pool, *flags);
	bufpool_test_point(BUFPOOL_TP_GROW);
	buf = bufpool_depot_new_buf(pool, gfp);
	trace_bufpool_grow(pool, buf, slot);
	bufpool_depot_lock(pool, *flags);
	pool->growing--;
	if (!buf) {
		WRITE_ONCE(pool->backed, pool->backed - 1);
		pool->grow_fails++;
		return NULL;
	}
	/* Out of the depot from here: the caller's, or a waiter's. */
	bufpool_depot_note_out_locked(pool);
	return buf;
}

/* Grow the pool by one buffer for @w, which may be served meanwhile. */
static void bufpool_depot_grow_locked(struct bufpool *pool,
				      struct bufpool_waiter *w,
				      struct bufpool_take *t,
				      unsigned long *flags)
	__must_hold(&pool->lock)
{
	struct bufpool_buf *buf = bufpool_depot_grow_one_locked(pool, t->gfp,
								 flags);

	if (!buf) {
		t->grow_failed = true;
		/* A head waiting at the cap may grow now that we could not. */
		if (bufpool_depot_first(pool) != w)
			bufpool_depot_kick_head_locked(pool);
	} else if (w->got < w->want) {
		w->bufs[w->got++] = buf;
	} else {
		bufpool_depot_push_locked(pool, buf);
	}
}

/**
 * bufpool_depot_grow_for_head - grow the pool for a notify request
 * @pool: the pool; the caller holds none of its locks
 *
 * For the pool's service work: while a notify request heads the queue and
 * the pool may grow, create buffers and hand each to the queue as a
 * returned buffer (no waiter is held across the unlocked allocation: the
 * one at the head may be served, cancelled or failed meanwhile). If
 * growth fails, asks to be run again in BUFPOOL_GROW_RETRY.
 */
void bufpool_depot_grow_for_head(struct bufpool *pool)
{
	struct bufpool_buf *buf;
	unsigned long flags;

	bufpool_depot_lock(pool, flags);
	while (bufpool_depot_head_needs_growth(pool)) {
		buf = bufpool_depot_grow_one_locked(pool, GFP_KERNEL, &flags);
		if (!buf) {
			bufpool_depot_request_locked(pool, BUFPOOL_SERVICE_GROW,
						     BUFPOOL_GROW_RETRY);
			break;
		}
		bufpool_depot_push_locked(pool, buf);
	}
	bufpool_depot_unlock(pool, flags);
}

/* Taking and waiting */

/**
 * bufpool_depot_enter - a caller enters the slow path
 * @pool: the pool
 * @w: the caller's waiter, not queued
 * @flags: gets the saved interrupt state: the pool lock is held on return
 *
 * Counted in @active until bufpool_depot_leave(), so the pool stays.
 */
void bufpool_depot_enter(struct bufpool *pool, struct bufpool_waiter *w,
			 unsigned long *flags)
	__acquires(&pool->lock)
{
	INIT_LIST_HEAD(&w->node);
	bufpool_depot_lock(pool, *flags);
	pool->active++;
	w->submitting = true;
}

/**
 * bufpool_depot_leave - a caller leaves the slow path
 * @pool: the pool, whose lock the caller holds
 * @flags: from bufpool_depot_enter()
 *
 * Releases the pool lock. From here, the pool may be freed under the
 * caller: it must touch nothing of it.
 */
void bufpool_depot_leave(struct bufpool *pool, unsigned long flags)
	__releases(&pool->lock)
{
	pool->active--;
	bufpool_depot_check_home_locked(pool);
	bufpool_depot_unlock(pool, flags);
}

/**
 * bufpool_depot_take_locked - take what the caller may have now
 * @pool: the pool, whose lock the caller holds
 * @w: the caller's waiter
 * @t: how far the caller may go: growth only if @t->grow
 * @flags: the caller's saved interrupt state
 *
 * From the free list, then, if asked, by growing the pool. First come,
 * first served: only the head of the queue (or anyone, while nobody
 * waits) may take or grow. Everything is looked at again after each time
 * the pool lock was let go.
 *
 * Return: 0 once @w holds all it wants; -ESHUTDOWN if the pool is dying;
 * -ECANCELED if @w, queued, was taken off the queue without being served
 * (a notify request, cancelled); -EAGAIN if it must wait or fail.
 */
int bufpool_depot_take_locked(struct bufpool *pool, struct bufpool_waiter *w,
			      struct bufpool_take *t, unsigned long *flags)
{
	struct bufpool_buf *buf;

	for (;;) {
		/* Handed all it wants while it waited, and dequeued for it. */
		if (w->got == w->want)
			return 0;
		if (pool->dying)
			return -ESHUTDOWN;
		if (t->queued && list_empty(&w->node))
			return -ECANCELED;
		if (t->queued ? bufpool_depot_first(pool) != w :
		    pool->nr_waiters && !bufpool_depot_may_barge_locked(pool))
			return -EAGAIN;
		buf = bufpool_depot_pop_locked(pool);
		if (buf) {
			if (!t->queued && pool->nr_waiters) {
				bufpool_depot_first(pool)->passed = true;
				pool->barges++;
			}
			w->bufs[w->got++] = buf;
			bufpool_depot_note_out_locked(pool);
			bufpool_depot_relax_locked(pool, w->got, flags);
			continue;
		}
		if (!t->grow || t->grow_failed || !t->may_grow ||
		    !bufpool_depot_can_grow(pool)) {
			if (t->queued)
				bufpool_depot_found_nothing_locked(pool, w);
			return -EAGAIN;
		}
		bufpool_depot_grow_locked(pool, w, t, flags);
	}
}

/**
 * bufpool_depot_enqueue_locked - queue a caller behind those waiting
 * @pool: the pool, whose lock the caller holds
 * @w: the caller's waiter
 * @flags: the caller's saved interrupt state
 *
 * Only the head of the queue may hold part of a bulk request: a caller
 * queued behind others gives what it has to those ahead, or two callers
 * that grew the pool at once, each to a part of what it wants, would wait
 * for each other forever. The first waiter turns the magazines off.
 */
void bufpool_depot_enqueue_locked(struct bufpool *pool,
				  struct bufpool_waiter *w,
				  unsigned long *flags)
{
	struct bufpool_req *req = bufpool_waiter_req(w);

	list_add_tail(&w->node, &pool->waiters);
	w->start = ktime_get_ns();
	w->handoff = !w->task || w->want > 1;
	w->woken = false;
	w->passed = false;
	w->empty_wakeups = 0;
	if (req) {
		/* Pairs with the acquire in bufpool_depot_dequeue_notify(). */
		WRITE_ONCE(req->pool, pool);
		atomic_set_release(&req->state, BUFPOOL_NOTIFY_QUEUED);
	}
	WRITE_ONCE(pool->nr_waiters, pool->nr_waiters + 1);
	bufpool_depot_update_bypass_locked(pool);
	pool->waits++;
	/* Under the lock, but bounded: the wait starts here. */
	trace_bufpool_wait_begin(pool, w->want, pool->nr_waiters, !!req);
	if (bufpool_depot_first(pool) != w)
		bufpool_depot_give_back_locked(pool, w->bufs, &w->got, flags);
}

/**
 * bufpool_depot_sleep_locked - sleep until served, woken or out of time
 * @pool: the pool, whose lock the caller holds; dropped meanwhile
 * @state: the task state to sleep in
 * @timeout: jiffies left, updated
 * @t: the caller's progress: while growth fails, it wakes up soon to try
 *	again, not only on a put
 * @flags: the caller's saved interrupt state
 *
 * Return: -EINTR or -ETIMEDOUT, or 0 to look again.
 */
int bufpool_depot_sleep_locked(struct bufpool *pool, unsigned int state,
			       long *timeout, struct bufpool_take *t,
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
	if (t->grow_failed && bufpool_depot_can_grow(pool))
		slice = min_t(long, slice, BUFPOOL_GROW_RETRY);
	bufpool_depot_unlock(pool, *flags);
	/* The block path's sleepers count as iowait, as mempool's do. */
	if ((t->gfp & (__GFP_IO | __GFP_FS)) != (__GFP_IO | __GFP_FS))
		left = io_schedule_timeout(slice);
	else
		left = schedule_timeout(slice);
	if (*timeout != MAX_SCHEDULE_TIMEOUT)
		*timeout -= slice - left;
	t->grow_failed = false;
	bufpool_test_point(BUFPOOL_TP_WOKEN);
	bufpool_depot_lock(pool, *flags);
	return 0;
}

/**
 * bufpool_depot_end_locked - how a caller leaves the slow path
 * @pool: the pool, whose lock the caller holds
 * @w: the caller's waiter
 * @t: the caller's progress
 * @err: what the slow path came to: 0, or why it stopped
 * @flags: the caller's saved interrupt state
 *
 * A notify request still queued stays there, and the pool grows for it if
 * that is what it waits for; one taken off the queue while its call was
 * inside gets its outcome from this call: served (0), failed by destroy
 * or cancelled, counted and traced already by whoever dequeued it. Any
 * other caller leaves the queue, with all it wants or with an error and
 * nothing held (what it held goes to the next in line), counted.
 *
 * Return: 0, -EINPROGRESS (still queued), or an error.
 */
int bufpool_depot_end_locked(struct bufpool *pool, struct bufpool_waiter *w,
			     struct bufpool_take *t, int err,
			     unsigned long *flags)
{
	struct bufpool_req *req = bufpool_waiter_req(w);
	u64 ns;

	w->submitting = false;
	if (req && t->queued && list_empty(&w->node)) {
		err = req->err;
		if (err)
			bufpool_depot_give_back_locked(pool, w->bufs, &w->got,
						       flags);
		goto idle;
	}
	if (req && t->queued && err == -EAGAIN) {
		if (bufpool_depot_first(pool) == w)
			bufpool_depot_request_locked(pool, BUFPOOL_SERVICE_GROW, 0);
		return -EINPROGRESS;
	}
	if (t->queued) {
		if (!list_empty(&w->node))
			bufpool_depot_dequeue_locked(pool, w);
		ns = bufpool_depot_account_wait_locked(pool, w);
		trace_bufpool_wait_end(pool, w->want, ns, err, w->empty_wakeups);
	}
	if (err) {
		/* All or nothing: what we hold goes to the next in line. */
		bufpool_depot_give_back_locked(pool, w->bufs, &w->got, flags);
		this_cpu_inc(pool->mags->fails[bufpool_trace_reason(err, t->grow_failed)]);
		trace_bufpool_alloc_fail(pool, w->want, err, t->grow_failed);
	}
idle:
	if (req)
		atomic_set_release(&req->state, BUFPOOL_NOTIFY_IDLE);
	return err;
}

/**
 * bufpool_depot_dequeue_req - take a notify request off its queue
 * @req: the request
 *
 * For bufpool_notify_cancel(): what it held so far goes to the next in
 * line. Queued, its pool cannot have been destroyed (that fires every
 * request first) nor freed before an RCU grace period after that
 * (bufpool_destroy()): the lock is safe to take.
 *
 * Return: true if it was queued and is not any more.
 */
bool bufpool_depot_dequeue_req(struct bufpool_req *req)
{
	struct bufpool *pool;
	unsigned long flags;
	bool dequeued = false;

	rcu_read_lock();
	if (atomic_read_acquire(&req->state) == BUFPOOL_NOTIFY_QUEUED) {
		pool = READ_ONCE(req->pool);
		bufpool_test_point(BUFPOOL_TP_CANCEL);
		bufpool_depot_lock(pool, flags);
		/*
		 * Meanwhile it may have been served, and its callback may
		 * have queued it again, on another pool: only its pool's
		 * lock says. Pairs with the release in
		 * bufpool_depot_enqueue_locked().
		 */
		if (atomic_read_acquire(&req->state) == BUFPOOL_NOTIFY_QUEUED &&
		    READ_ONCE(req->pool) == pool) {
			bufpool_depot_dequeue_locked(pool, &req->w);
			bufpool_depot_give_back_locked(pool, req->w.bufs,
						       &req->w.got, &flags);
			bufpool_depot_account_wait_locked(pool, &req->w);
			if (req->w.submitting) {
				/* Its call is inside: it returns -ECANCELED. */
				req->err = -ECANCELED;
				atomic_set(&req->state, BUFPOOL_NOTIFY_FIRING);
			} else {
				atomic_set(&req->state, BUFPOOL_NOTIFY_IDLE);
			}
			dequeued = true;
		}
		bufpool_depot_unlock(pool, flags);
	}
	rcu_read_unlock();
	return dequeued;
}

/* Stopping */

/*
 * No new allocations; sleepers wake up to leave with -ESHUTDOWN, giving
 * back what they hold themselves; notify requests are given back for,
 * with every waiter off the queue so that their buffers go to the depot,
 * and fail.
 */
static void bufpool_depot_stop_locked(struct bufpool *pool,
				      unsigned long *flags)
{
	struct bufpool_waiter *w, *tmp;
	LIST_HEAD(notified);

	WRITE_ONCE(pool->dying, true);
	bufpool_depot_update_bypass_locked(pool);
	list_for_each_entry_safe(w, tmp, &pool->waiters, node) {
		list_del_init(&w->node);
		WRITE_ONCE(pool->nr_waiters, pool->nr_waiters - 1);
		if (w->task) {
			wake_up_process(w->task);
		} else {
			list_add_tail(&w->node, &notified);
			atomic_set(&bufpool_waiter_req(w)->state,
				   BUFPOOL_NOTIFY_FIRING);
		}
	}
	list_for_each_entry_safe(w, tmp, &notified, node) {
		list_del_init(&w->node);
		bufpool_depot_give_back_locked(pool, w->bufs, &w->got, flags);
		bufpool_depot_fire_locked(pool, w, -ESHUTDOWN);
	}
	/* Service waiting to retry: it has nobody to serve now. */
	if (pool->service_queued)
		mod_delayed_work(bufpool_wq, &pool->service_work, 0);
}

/**
 * bufpool_depot_stop - start a destroy, or report a second one
 * @pool: the pool
 * @async: for bufpool_destroy_async(): the pool is freed by a work item,
 *	which then calls @release(@arg)
 * @release: see @async
 * @arg: see @async
 * @ip: the destroyer, for the report
 *
 * Seeing that the pool is not dying yet and stopping it are one hold of
 * the pool lock, so that of two destroys at once exactly one goes on.
 * With @async the caller counts as inside until it calls
 * bufpool_depot_leave().
 *
 * Return: true if this call stopped the pool.
 */
bool bufpool_depot_stop(struct bufpool *pool, bool async,
			void (*release)(void *arg), void *arg,
			unsigned long ip)
{
	unsigned long flags;

	bufpool_depot_lock(pool, flags);
	if (pool->dying) {
		bufpool_depot_unlock(pool, flags);
		pr_err_ratelimited("pool '%s': destroyed twice, by %pS\n",
				   pool->name, (void *)ip);
		return false;
	}
	if (async) {
		pool->async = true;
		pool->release = release;
		pool->release_arg = arg;
		pool->active++;
	}
	bufpool_depot_stop_locked(pool, &flags);
	bufpool_depot_check_home_locked(pool);
	bufpool_depot_unlock(pool, flags);
	bufpool_test_point(BUFPOOL_TP_DESTROY);
	return true;
}

/* Under memory pressure */

/*
 * Caller holds the pool lock. Only buffers that exist count against the
 * reserve: a slot reserved for growth may still fail to become one.
 */
static unsigned int bufpool_depot_above_reserve_locked(struct bufpool *pool)
{
	unsigned int real = pool->backed - pool->growing;

	return real - min(real, pool->min_bufs);
}

/**
 * bufpool_depot_shrink_count - buffers above the reserve, and idle ones
 * @pool: the pool
 * @idle: gets how many are in the depot
 *
 * Return: how many buffers exist beyond the reserve.
 */
unsigned long bufpool_depot_shrink_count(struct bufpool *pool,
					 unsigned long *idle)
{
	unsigned long flags, n;

	bufpool_depot_lock(pool, flags);
	n = bufpool_depot_above_reserve_locked(pool);
	*idle = pool->nr_free;
	bufpool_depot_unlock(pool, flags);
	return n;
}

/**
 * bufpool_depot_shrink - give up to @n idle buffers above the reserve back
 * @pool: the pool
 * @n: how many at most
 *
 * Only from the depot, which holds every idle buffer a waiter could want
 * (none is in it while anyone waits).
 *
 * Return: how many were freed.
 */
unsigned long bufpool_depot_shrink(struct bufpool *pool, unsigned long n)
{
	struct bufpool_buf *list = NULL, *buf;
	unsigned long flags, freed = 0;

	bufpool_depot_lock(pool, flags);
	pool->shrink_scans++;
	/*
	 * Idle buffers while anyone waits are the head's, on its way; a
	 * dying pool frees its own.
	 */
	while (freed < n && !pool->nr_waiters && !pool->dying &&
	       bufpool_depot_above_reserve_locked(pool) &&
	       (buf = bufpool_depot_pop_locked(pool))) {
		WRITE_ONCE(pool->backed, pool->backed - 1);
		pool->shrink_freed++;
		buf->next = list;
		list = buf;
		/* A bounded time with interrupts off (the lock is raw). */
		bufpool_depot_relax_locked(pool, ++freed, &flags);
	}
	bufpool_depot_unlock(pool, flags);

	/* Free outside the lock: the slab may take its own locks. */
	while ((buf = list)) {
		list = buf->next;
		bufpool_depot_free_buf(pool, buf);
	}
	return freed;
}
