// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool_bench: bufpool against the kernel's own pools, in one boot.
 *
 * Every contender is driven through the same loops, compiled once per
 * contender with its alloc and free inlined (a contender that lives in
 * another module or in vmlinux pays its call, as a client would). Each
 * figure is taken @rounds times, the contenders in an order rotated by
 * one each round; the first round warms up and is dropped, and the median
 * and minimum of the others are reported. Every pool is created afresh
 * for each figure and warmed by an untimed pass of the same loop.
 *
 * An op is one allocation and one free. Each allocation writes a word
 * into its buffer, through the contender's own API, as a client would.
 *
 * Loading the module runs the workloads named by @workloads and leaves
 * the results in /sys/kernel/debug/bufpool_bench/results, as sections of
 * CSV; scripts/bench turns them into tables and plots. The workloads and
 * the columns are described in Documentation/bufpool-performance.rst.
 *
 * This is a measuring tool, never a test: nothing here passes or fails.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/bufpool.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/llist.h>
#include <linux/log2.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/utsname.h>
#include <linux/vmalloc.h>

/*
 * objpool came in 6.7; Debian's 6.1 has none. Kbuild says which, as
 * sparse (make C=2) cannot parse __has_include().
 */
#ifdef BENCH_HAVE_OBJPOOL
#include <linux/objpool.h>
#endif
#if IS_ENABLED(CONFIG_SBITMAP)
#define BENCH_HAVE_SBITMAP 1
#include <linux/sbitmap.h>
#endif
/* page_pool's API moved to <net/page_pool/helpers.h> in 6.6: Kbuild says. */
#if IS_ENABLED(CONFIG_PAGE_POOL)
#define BENCH_HAVE_PAGE_POOL 1
#ifdef BENCH_HAVE_PAGE_POOL_HELPERS
#include <net/page_pool/helpers.h>
#else
#include <net/page_pool.h>
#endif
#endif
#ifndef SLAB_NO_MERGE
#define SLAB_NO_MERGE 0
#endif

static unsigned int buf_size = 256;
module_param(buf_size, uint, 0444);
MODULE_PARM_DESC(buf_size, "bytes per buffer (default 256)");
static unsigned int iters = 200000;
module_param(iters, uint, 0444);
MODULE_PARM_DESC(iters, "ops per timed pass, per CPU (default 200000)");
static unsigned int rounds = 11;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "rounds per figure, the first dropped (default 11)");
static unsigned int cpus = 2;
module_param(cpus, uint, 0444);
MODULE_PARM_DESC(cpus, "CPUs for the multi-CPU workloads (default 2)");
static char *workloads = "W1,W2,W3,W4,W5,W5b,W6,W7,W1bh,W2bh";
module_param(workloads, charp, 0444);
MODULE_PARM_DESC(workloads, "comma-separated workloads to run");

#define BENCH_MAX_ROUNDS	64
#define BENCH_MAX_CPUS		8
/* The pool size for workloads that do not measure exhaustion. */
#define BENCH_CAP		4096
/* W4 and W6 hand buffers over through a ring of this many. */
#define BENCH_RING		2048
/* W5: threads sharing a pool of BENCH_W5_CAP, each holding for ~1 us. */
#define BENCH_W5_THREADS	8
#define BENCH_W5_CAP		4
/* A wait this long can only be a lost wakeup (holders hold for 1 us). */
#define BENCH_LOST_NS		(1000ULL * NSEC_PER_MSEC)
/* W6: the hrtimer's period; W7: the hrtimer's period and burst. */
#define BENCH_W6_PERIOD_NS	20000
#define BENCH_W7_CAP		16
#define BENCH_W7_BURST		16
#define BENCH_W7_PERIOD_NS	50000
#define BENCH_W7_IRQ_BURST	4
/* W1bh, W2bh: ops per bottom-half section, a NAPI poll's budget. */
#define BENCH_NAPI_BUDGET	64U

/* Contenders */

struct bench_floor_cpu {
	raw_spinlock_t lock;		/* floor_locked only */
	unsigned int count;
	void *objs[];
};

/*
 * floor_ring: one CPU's ring. Only its CPU pushes, so @tail is written by
 * that CPU alone; any CPU pops, by moving @head with a cmpxchg. They sit
 * on lines of their own so that a remote pop does not bounce the line
 * the owner pushes through.
 */
struct bench_fring {
	unsigned long head ____cacheline_aligned_in_smp;
	unsigned long tail ____cacheline_aligned_in_smp;
	bool busy;			/* the owner is mid-push */
	unsigned long mask;		/* slots - 1, a power of two */
	void **slot;
};

/* One instance of a contender: a pool of @cap buffers. */
struct bench_pool {
	unsigned int cap;
	bool filling;			/* mempool_reserve: being created */
	char name[BUFPOOL_NAME_MAX + 1];
	struct bufpool *bufpool;
	struct kmem_cache *cache;
	mempool_t *mempool;
	struct bench_floor_cpu __percpu *floor;
	struct bench_fring __percpu *fring;
	struct llist_head spill;	/* floor_ring: pushes that fell back */
#ifdef BENCH_HAVE_OBJPOOL
	struct objpool_head objpool;
#endif
#ifdef BENCH_HAVE_PAGE_POOL
	struct page_pool *page_pool;
#endif
	u64 drains;			/* bufpool: drains during the figure */
};

struct bench_ring;

/*
 * What each contender is compiled into: the loops (BENCH_LOOPS), and get
 * and put behind pointers for the workloads whose cost is elsewhere.
 */
struct bench_contender {
	const char *name;
	unsigned int workloads;		/* BIT(n) for Wn */
	int (*setup)(struct bench_pool *p);
	void (*teardown)(struct bench_pool *p);
	u64 (*hot)(struct bench_pool *p, unsigned int n);
	u64 (*batch)(struct bench_pool *p, void **objs, const u32 *order,
		     unsigned int n, unsigned int reps);
	u64 (*burst)(struct bench_pool *p, void **objs, unsigned int n,
		     unsigned int reps, u64 *fails);
	u64 (*fail_loop)(struct bench_pool *p, unsigned int n);
	u64 (*hot_bh)(struct bench_pool *p, unsigned int n);
	u64 (*batch_bh)(struct bench_pool *p, void **objs, const u32 *order,
			unsigned int n, unsigned int reps);
	void (*feed)(struct bench_pool *p, struct bench_ring *ring,
		     unsigned int n);
	void *(*get)(struct bench_pool *p, gfp_t gfp);
	void (*put)(struct bench_pool *p, void *obj);
};

/*
 * A single-producer, single-consumer ring: W4 hands buffers from one CPU
 * to another through it, W6 from a task to a hard IRQ on the same CPU.
 */
struct bench_ring {
	unsigned int head ____cacheline_aligned_in_smp;
	unsigned int tail ____cacheline_aligned_in_smp;
	void *slot[BENCH_RING];
};

static __always_inline void bench_ring_push(struct bench_ring *ring,
					    void *obj)
{
	unsigned int head = ring->head;

	/* Pairs with the release in bench_ring_pop(): the slot is free. */
	while (head - smp_load_acquire(&ring->tail) == BENCH_RING)
		cpu_relax();
	ring->slot[head % BENCH_RING] = obj;
	/* Pairs with the acquire in bench_ring_pop(): the slot is filled. */
	smp_store_release(&ring->head, head + 1);
}

/* Returns NULL if the ring is empty. */
static __always_inline void *bench_ring_pop(struct bench_ring *ring)
{
	unsigned int tail = ring->tail;
	void *obj;

	/* Pairs with the release in bench_ring_push(): the slot is filled. */
	if (smp_load_acquire(&ring->head) == tail)
		return NULL;
	obj = ring->slot[tail % BENCH_RING];
	/* Pairs with the acquire in bench_ring_push(): the slot is free. */
	smp_store_release(&ring->tail, tail + 1);
	return obj;
}

static __always_inline void bench_touch(void *data)
{
	WRITE_ONCE(*(unsigned long *)data, (unsigned long)data);
}

/* empty: the loop alone. */
static unsigned long bench_empty_obj;

static __always_inline void *bc_empty_get(struct bench_pool *p, gfp_t gfp)
{
	void *obj = &bench_empty_obj;

	/* Keep the compiler from folding the loop away. */
	OPTIMIZER_HIDE_VAR(obj);
	return obj;
}

static __always_inline void bc_empty_put(struct bench_pool *p, void *obj)
{
	barrier();
}

static int bc_empty_setup(struct bench_pool *p)
{
	return 0;
}

static void bc_empty_teardown(struct bench_pool *p)
{
}

/* floor: a bare per-CPU stack under preempt_disable(), no checks. */
static __always_inline void *bc_floor_get(struct bench_pool *p, gfp_t gfp)
{
	struct bench_floor_cpu *f;
	void *obj = NULL;

	preempt_disable();
	f = this_cpu_ptr(p->floor);
	if (f->count)
		obj = f->objs[--f->count];
	preempt_enable();
	if (obj)
		bench_touch(obj);
	return obj;
}

static __always_inline void bc_floor_put(struct bench_pool *p, void *obj)
{
	struct bench_floor_cpu *f;

	preempt_disable();
	f = this_cpu_ptr(p->floor);
	f->objs[f->count++] = obj;
	preempt_enable();
}

/*
 * floor_irq and floor_locked: the floor with what makes a per-CPU stack
 * safe against interrupts on its CPU (interrupts off), and what makes it
 * reachable from other CPUs too (its own raw spinlock). What each costs
 * over the floor is what that guarantee costs here.
 */
static __always_inline void *bc_floor_irq_get(struct bench_pool *p, gfp_t gfp)
{
	struct bench_floor_cpu *f;
	unsigned long flags;
	void *obj = NULL;

	local_irq_save(flags);
	f = this_cpu_ptr(p->floor);
	if (f->count)
		obj = f->objs[--f->count];
	local_irq_restore(flags);
	if (obj)
		bench_touch(obj);
	return obj;
}

static __always_inline void bc_floor_irq_put(struct bench_pool *p, void *obj)
{
	struct bench_floor_cpu *f;
	unsigned long flags;

	local_irq_save(flags);
	f = this_cpu_ptr(p->floor);
	f->objs[f->count++] = obj;
	local_irq_restore(flags);
}

static __always_inline void *bc_floor_locked_get(struct bench_pool *p,
						 gfp_t gfp)
{
	struct bench_floor_cpu *f;
	unsigned long flags;
	void *obj = NULL;

	local_irq_save(flags);
	f = this_cpu_ptr(p->floor);
	raw_spin_lock(&f->lock);
	if (f->count)
		obj = f->objs[--f->count];
	raw_spin_unlock(&f->lock);
	local_irq_restore(flags);
	if (obj)
		bench_touch(obj);
	return obj;
}

static __always_inline void bc_floor_locked_put(struct bench_pool *p,
						void *obj)
{
	struct bench_floor_cpu *f;
	unsigned long flags;

	local_irq_save(flags);
	f = this_cpu_ptr(p->floor);
	raw_spin_lock(&f->lock);
	f->objs[f->count++] = obj;
	raw_spin_unlock(&f->lock);
	local_irq_restore(flags);
}

static void bc_floor_teardown(struct bench_pool *p)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct bench_floor_cpu *f = per_cpu_ptr(p->floor, cpu);

		while (f->count)
			kfree(f->objs[--f->count]);
	}
	free_percpu(p->floor);
}

/*
 * Each CPU gets objects enough for the largest batch, in an array inside
 * the per-CPU area (which takes at most 32 KiB at once): the floor never
 * runs dry or overflows.
 */
#define BENCH_FLOOR_MAX	2048

static int bc_floor_setup(struct bench_pool *p)
{
	size_t size;
	int cpu;

	p->cap = min(p->cap, BENCH_FLOOR_MAX);
	size = sizeof(struct bench_floor_cpu) + p->cap * sizeof(void *);
	p->floor = __alloc_percpu(size, __alignof__(struct bench_floor_cpu));
	if (!p->floor)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct bench_floor_cpu *f = per_cpu_ptr(p->floor, cpu);

		raw_spin_lock_init(&f->lock);
		while (f->count < p->cap) {
			f->objs[f->count] = kmalloc(buf_size, GFP_KERNEL);
			if (!f->objs[f->count]) {
				bc_floor_teardown(p);
				return -ENOMEM;
			}
			f->count++;
		}
	}
	return 0;
}

/*
 * floor_ring: the bare lock-free per-CPU ring protocol, and nothing else
 * (no cap to enforce, no waiters, no statistics), so that what bufpool
 * spends beyond it is a figure. The owner pushes with plain stores under
 * preempt_disable(); a push that finds its CPU's ring busy can only have
 * interrupted the owner's own push (a softirq or hard IRQ on that CPU),
 * and goes to @spill instead, a lock-free list any context may use. Any
 * CPU pops with one cmpxchg on the ring's head. No interrupt is ever
 * disabled. Each CPU's ring holds the whole pool, so a push never finds
 * it full but in a race it could only lose to @spill.
 */
static __always_inline void *bench_fring_pop(struct bench_fring *r)
{
	/*
	 * Acquire, so that @head is read before @tail and never runs ahead
	 * of the tail it is compared with.
	 */
	unsigned long head = smp_load_acquire(&r->head);
	void *obj;

	do {
		/* Pairs with the release in bc_floor_ring_put(). */
		if (head == smp_load_acquire(&r->tail))
			return NULL;
		obj = READ_ONCE(r->slot[head & r->mask]);
		/*
		 * Succeeds only if no one took this slot since @head was
		 * read; the owner cannot have refilled it, as it reuses a
		 * slot only once @head has passed it.
		 */
	} while (!try_cmpxchg(&r->head, &head, head + 1));
	return obj;
}

/* The miss: the other CPUs' rings, then the spill list. */
static noinline void *bench_fring_steal(struct bench_pool *p,
					unsigned int self)
{
	struct llist_node *first, *last;
	unsigned int cpu;
	void *obj;

	for_each_online_cpu(cpu) {
		if (cpu == self)
			continue;
		obj = bench_fring_pop(per_cpu_ptr(p->fring, cpu));
		if (obj)
			return obj;
	}
	/*
	 * Several contexts may pop at once, which llist_del_first() does not
	 * allow: take the whole list and give back all but one. Meanwhile
	 * another getter may find none: the floor keeps no exact count.
	 */
	first = llist_del_all(&p->spill);
	if (first && first->next) {
		for (last = first->next; last->next; last = last->next)
			;
		llist_add_batch(first->next, last, &p->spill);
	}
	return first;
}

static __always_inline void *bc_floor_ring_get(struct bench_pool *p,
					       gfp_t gfp)
{
	/* Any CPU may pop any ring: which one is only where to start. */
	unsigned int cpu = raw_smp_processor_id();
	void *obj = bench_fring_pop(per_cpu_ptr(p->fring, cpu));

	if (unlikely(!obj))
		obj = bench_fring_steal(p, cpu);
	if (obj)
		bench_touch(obj);
	return obj;
}

static __always_inline void bc_floor_ring_put(struct bench_pool *p,
					      void *obj)
{
	struct bench_fring *r;
	unsigned long tail;

	preempt_disable();
	r = this_cpu_ptr(p->fring);
	if (unlikely(READ_ONCE(r->busy)))
		goto spill;
	/*
	 * An interrupt that came before this store has finished its push;
	 * one that comes after it sees the marker. So @tail is read after
	 * the last push that could change it.
	 */
	WRITE_ONCE(r->busy, true);
	barrier();
	tail = r->tail;
	/* Pairs with the cmpxchg in bench_fring_pop(): the slot is free. */
	if (unlikely(tail - smp_load_acquire(&r->head) > r->mask)) {
		WRITE_ONCE(r->busy, false);
		goto spill;
	}
	WRITE_ONCE(r->slot[tail & r->mask], obj);
	/* Pairs with the acquire in bench_fring_pop(): the slot is filled. */
	smp_store_release(&r->tail, tail + 1);
	barrier();
	WRITE_ONCE(r->busy, false);
	preempt_enable();
	return;
spill:
	preempt_enable();
	llist_add(obj, &p->spill);
}

static void bc_floor_ring_teardown(struct bench_pool *p)
{
	struct llist_node *node, *next;
	void *obj;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct bench_fring *r = per_cpu_ptr(p->fring, cpu);

		if (!r->slot)
			continue;
		while ((obj = bench_fring_pop(r)))
			kfree(obj);
		kfree(r->slot);
	}
	llist_for_each_safe(node, next, llist_del_all(&p->spill))
		kfree(node);
	free_percpu(p->fring);
}

/*
 * @cap buffers in all, dealt out to the online CPUs' rings (the
 * benchmark never takes a CPU down), as objpool deals out its objects.
 */
static int bc_floor_ring_setup(struct bench_pool *p)
{
	unsigned int i, slots = roundup_pow_of_two(p->cap);
	struct bench_fring *r;
	int cpu;

	init_llist_head(&p->spill);
	p->fring = alloc_percpu(struct bench_fring);
	if (!p->fring)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		r = per_cpu_ptr(p->fring, cpu);
		r->mask = slots - 1;
		r->slot = kcalloc_node(slots, sizeof(void *), GFP_KERNEL,
				       cpu_to_node(cpu));
		if (!r->slot) {
			bc_floor_ring_teardown(p);
			return -ENOMEM;
		}
	}
	cpu = cpumask_first(cpu_online_mask);
	for (i = 0; i < p->cap; i++) {
		void *obj = kmalloc(buf_size, GFP_KERNEL);

		if (!obj) {
			bc_floor_ring_teardown(p);
			return -ENOMEM;
		}
		r = per_cpu_ptr(p->fring, cpu);
		r->slot[r->tail++ & r->mask] = obj;
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
	}
	return 0;
}

/* bufpool, with and without magazines, filled to its cap at creation. */
static __always_inline void *bc_bufpool_get(struct bench_pool *p, gfp_t gfp)
{
	struct bufpool_buf *buf = bufpool_alloc(p->bufpool, gfp);

	if (buf)
		bench_touch(bufpool_buf_data(buf));
	return buf;
}

static __always_inline void bc_bufpool_put(struct bench_pool *p, void *obj)
{
	bufpool_put(obj);
}

static atomic_t bench_seq = ATOMIC_INIT(0);

static int bench_bufpool_create(struct bench_pool *p, unsigned int flags)
{
	struct bufpool_params params = {
		.name = p->name,
		.buf_size = buf_size,
		.max_bufs = p->cap,
		.min_bufs = p->cap,
		.flags = flags,
	};
	struct bufpool_stats st;

	snprintf(p->name, sizeof(p->name), "bench-%d",
		 atomic_inc_return(&bench_seq));
	p->bufpool = bufpool_create(&params);
	if (IS_ERR(p->bufpool))
		return PTR_ERR(p->bufpool);
	bufpool_get_stats(p->bufpool, &st);
	p->drains = st.sweeps;
	return 0;
}

static int bc_bufpool_setup(struct bench_pool *p)
{
	return bench_bufpool_create(p, 0);
}

static int bc_bufpool_nomag_setup(struct bench_pool *p)
{
	return bench_bufpool_create(p, BUFPOOL_F_NO_MAGAZINES);
}

static void bc_bufpool_teardown(struct bench_pool *p)
{
	struct bufpool_stats st;

	bufpool_get_stats(p->bufpool, &st);
	p->drains = st.sweeps - p->drains;
	bufpool_destroy(p->bufpool);
}

#define bc_floor_irq_setup		bc_floor_setup
#define bc_floor_irq_teardown		bc_floor_teardown
#define bc_floor_locked_setup		bc_floor_setup
#define bc_floor_locked_teardown	bc_floor_teardown

#define bc_bufpool_nomag_get		bc_bufpool_get
#define bc_bufpool_nomag_put		bc_bufpool_put
#define bc_bufpool_nomag_teardown	bc_bufpool_teardown

/* kmem_cache: SLUB, with a cache of its own (never merged). */
static __always_inline void *bc_kmem_cache_get(struct bench_pool *p,
					       gfp_t gfp)
{
	void *obj = kmem_cache_alloc(p->cache, gfp);

	if (obj)
		bench_touch(obj);
	return obj;
}

static __always_inline void bc_kmem_cache_put(struct bench_pool *p,
					      void *obj)
{
	kmem_cache_free(p->cache, obj);
}

static int bc_kmem_cache_setup(struct bench_pool *p)
{
	/* SLUB keeps the name, not a copy: it lives in @p. */
	snprintf(p->name, sizeof(p->name), "bench-kc-%d",
		 atomic_inc_return(&bench_seq));
	p->cache = kmem_cache_create(p->name, buf_size, 0, SLAB_NO_MERGE, NULL);
	return p->cache ? 0 : -ENOMEM;
}

static void bc_kmem_cache_teardown(struct bench_pool *p)
{
	kmem_cache_destroy(p->cache);
}

/*
 * mempool over a slab cache: the normal path allocates from the slab and
 * touches its reserve only when the slab fails.
 */
static __always_inline void *bc_mempool_get(struct bench_pool *p, gfp_t gfp)
{
	void *obj = mempool_alloc(p->mempool, gfp);

	if (obj)
		bench_touch(obj);
	return obj;
}

static __always_inline void bc_mempool_put(struct bench_pool *p, void *obj)
{
	mempool_free(obj, p->mempool);
}

static int bc_mempool_setup(struct bench_pool *p)
{
	int err = bc_kmem_cache_setup(p);

	if (err)
		return err;
	/* The reserve a driver would keep: a few dozen elements. */
	p->mempool = mempool_create_slab_pool(32, p->cache);
	if (!p->mempool) {
		bc_kmem_cache_teardown(p);
		return -ENOMEM;
	}
	return 0;
}

static void bc_mempool_teardown(struct bench_pool *p)
{
	mempool_destroy(p->mempool);
	bc_kmem_cache_teardown(p);
}

/*
 * mempool_reserve: a mempool whose element allocator fails once its
 * reserve of @cap is filled, so that every allocation is served from the
 * reserve: a capped pool under one spinlock, with sleepers. This is what
 * a mempool is while memory is short.
 */
static void *bench_reserve_alloc(gfp_t gfp, void *data)
{
	struct bench_pool *p = data;

	return p->filling ? kmalloc(buf_size, gfp) : NULL;
}

static void bench_reserve_free(void *obj, void *data)
{
	kfree(obj);
}

#define bc_mempool_reserve_get	bc_mempool_get
#define bc_mempool_reserve_put	bc_mempool_put

static int bc_mempool_reserve_setup(struct bench_pool *p)
{
	p->filling = true;
	p->mempool = mempool_create(p->cap, bench_reserve_alloc,
				    bench_reserve_free, p);
	p->filling = false;
	return p->mempool ? 0 : -ENOMEM;
}

static void bc_mempool_reserve_teardown(struct bench_pool *p)
{
	mempool_destroy(p->mempool);
}

#ifdef BENCH_HAVE_OBJPOOL
/* objpool: per-CPU rings; a CPU whose ring is empty pops from others'. */
static __always_inline void *bc_objpool_get(struct bench_pool *p, gfp_t gfp)
{
	void *obj = objpool_pop(&p->objpool);

	if (obj)
		bench_touch(obj);
	return obj;
}

static __always_inline void bc_objpool_put(struct bench_pool *p, void *obj)
{
	objpool_push(obj, &p->objpool);
}

static int bc_objpool_setup(struct bench_pool *p)
{
	return objpool_init(&p->objpool, p->cap, buf_size, GFP_KERNEL,
			    NULL, NULL, NULL);
}

static void bc_objpool_teardown(struct bench_pool *p)
{
	objpool_fini(&p->objpool);
}
#endif

#ifdef BENCH_HAVE_PAGE_POOL
/*
 * page_pool: what a NIC driver allocates its receive pages from, order-0
 * pages from a pool with no device (no DMA mapping) and a ring as large
 * as the cap. Only with bottom halves off (W1bh, W2bh), as from a NAPI
 * poll: page_pool_recycle_direct() puts into the pool's lockless cache,
 * which only that context may touch.
 */
static __always_inline void *bc_page_pool_get(struct bench_pool *p, gfp_t gfp)
{
	struct page *page = page_pool_dev_alloc_pages(p->page_pool);

	if (page)
		bench_touch(page_address(page));
	return page;
}

static __always_inline void bc_page_pool_put(struct bench_pool *p, void *obj)
{
	page_pool_recycle_direct(p->page_pool, obj);
}

static int bc_page_pool_setup(struct bench_pool *p)
{
	struct page_pool_params pp = {
		.flags = 0,
		.order = 0,
		.pool_size = p->cap,
		.nid = NUMA_NO_NODE,
	};

	p->page_pool = page_pool_create(&pp);
	return PTR_ERR_OR_ZERO(p->page_pool);
}

static void bc_page_pool_teardown(struct bench_pool *p)
{
	page_pool_destroy(p->page_pool);
}
#endif

/*
 * The loops, once per contender, with its get and put inlined. hot, batch
 * and fail_loop return the allocations that failed; burst returns those
 * that succeeded and adds the failures to @fails. hot_bh and batch_bh
 * (W1bh, W2bh) are hot and batch with bottom halves off, a NAPI budget of
 * ops (or one batch, if larger) at a time, as a NIC driver's poll runs.
 */
#define BENCH_LOOPS(_c)							\
static noinline u64 bc_##_c##_hot(struct bench_pool *p, unsigned int n)	\
{									\
	u64 fails = 0;							\
	void *obj;							\
									\
	while (n--) {							\
		obj = bc_##_c##_get(p, GFP_KERNEL);			\
		if (unlikely(!obj)) {					\
			fails++;					\
			continue;					\
		}							\
		bc_##_c##_put(p, obj);					\
	}								\
	return fails;							\
}									\
									\
static noinline u64 bc_##_c##_batch(struct bench_pool *p, void **objs,	\
				    const u32 *order, unsigned int n,	\
				    unsigned int reps)			\
{									\
	unsigned int i;							\
	u64 fails = 0;							\
									\
	while (reps--) {						\
		for (i = 0; i < n; i++) {				\
			objs[i] = bc_##_c##_get(p, GFP_KERNEL);		\
			fails += !objs[i];				\
		}							\
		for (i = 0; i < n; i++) {				\
			void *obj = objs[order[i]];			\
									\
			if (likely(obj))				\
				bc_##_c##_put(p, obj);			\
		}							\
	}								\
	return fails;							\
}									\
									\
static noinline u64 bc_##_c##_burst(struct bench_pool *p, void **objs,	\
				    unsigned int n, unsigned int reps,	\
				    u64 *fails)				\
{									\
	unsigned int i, got;						\
	u64 done = 0;							\
									\
	while (reps--) {						\
		for (i = got = 0; i < n; i++) {				\
			objs[got] = bc_##_c##_get(p, GFP_ATOMIC);	\
			if (objs[got])					\
				got++;					\
		}							\
		*fails += n - got;					\
		done += got;						\
		while (got)						\
			bc_##_c##_put(p, objs[--got]);			\
	}								\
	return done;							\
}									\
									\
static noinline u64 bc_##_c##_fail_loop(struct bench_pool *p,		\
					unsigned int n)			\
{									\
	u64 fails = 0;							\
	void *obj;							\
									\
	while (n--) {							\
		obj = bc_##_c##_get(p, GFP_ATOMIC);			\
		if (likely(!obj))					\
			fails++;					\
		else							\
			bc_##_c##_put(p, obj);				\
	}								\
	return fails;							\
}									\
									\
static noinline void bc_##_c##_feed(struct bench_pool *p,		\
				    struct bench_ring *ring,		\
				    unsigned int n)			\
{									\
	void *obj;							\
									\
	while (n) {							\
		obj = bc_##_c##_get(p, GFP_ATOMIC);			\
		if (unlikely(!obj)) {					\
			cpu_relax();					\
			continue;					\
		}							\
		bench_ring_push(ring, obj);				\
		n--;							\
	}								\
}									\
									\
static noinline u64 bc_##_c##_hot_bh(struct bench_pool *p,		\
				     unsigned int n)			\
{									\
	unsigned int k;							\
	u64 fails = 0;							\
	void *obj;							\
									\
	while (n) {							\
		k = min(n, BENCH_NAPI_BUDGET);				\
		n -= k;							\
		local_bh_disable();					\
		while (k--) {						\
			obj = bc_##_c##_get(p, GFP_ATOMIC);		\
			if (unlikely(!obj)) {				\
				fails++;				\
				continue;				\
			}						\
			bc_##_c##_put(p, obj);				\
		}							\
		local_bh_enable();					\
	}								\
	return fails;							\
}									\
									\
static noinline u64 bc_##_c##_batch_bh(struct bench_pool *p,		\
				       void **objs, const u32 *order,	\
				       unsigned int n, unsigned int reps) \
{									\
	unsigned int i, k, per = max(BENCH_NAPI_BUDGET / n, 1U);	\
	u64 fails = 0;							\
									\
	while (reps) {							\
		k = min(reps, per);					\
		reps -= k;						\
		local_bh_disable();					\
		while (k--) {						\
			for (i = 0; i < n; i++) {			\
				objs[i] = bc_##_c##_get(p, GFP_ATOMIC);	\
				fails += !objs[i];			\
			}						\
			for (i = 0; i < n; i++) {			\
				void *obj = objs[order[i]];		\
									\
				if (likely(obj))			\
					bc_##_c##_put(p, obj);		\
			}						\
		}							\
		local_bh_enable();					\
	}								\
	return fails;							\
}									\
									\
static void *bc_##_c##_get_fn(struct bench_pool *p, gfp_t gfp)		\
{									\
	return bc_##_c##_get(p, gfp);					\
}									\
									\
static void bc_##_c##_put_fn(struct bench_pool *p, void *obj)		\
{									\
	bc_##_c##_put(p, obj);						\
}

#define BENCH_CONTENDER(_c, _workloads)					\
{									\
	.name = #_c,							\
	.workloads = _workloads,					\
	.setup = bc_##_c##_setup,					\
	.teardown = bc_##_c##_teardown,					\
	.hot = bc_##_c##_hot,						\
	.batch = bc_##_c##_batch,					\
	.burst = bc_##_c##_burst,					\
	.fail_loop = bc_##_c##_fail_loop,				\
	.hot_bh = bc_##_c##_hot_bh,					\
	.batch_bh = bc_##_c##_batch_bh,					\
	.feed = bc_##_c##_feed,						\
	.get = bc_##_c##_get_fn,					\
	.put = bc_##_c##_put_fn,					\
}

BENCH_LOOPS(empty)
BENCH_LOOPS(floor)
BENCH_LOOPS(floor_irq)
BENCH_LOOPS(floor_locked)
BENCH_LOOPS(floor_ring)
BENCH_LOOPS(bufpool)
BENCH_LOOPS(bufpool_nomag)
BENCH_LOOPS(kmem_cache)
BENCH_LOOPS(mempool)
BENCH_LOOPS(mempool_reserve)
#ifdef BENCH_HAVE_OBJPOOL
BENCH_LOOPS(objpool)
#endif
#ifdef BENCH_HAVE_PAGE_POOL
BENCH_LOOPS(page_pool)
#endif

#define W(n)		BIT(n)
#define W_LOCAL		(W(1) | W(2) | W(3))
/* W1bh and W2bh, the loops with bottom halves off. */
#define W_BH		BIT(8)

/*
 * The empty loop and the floor are per-CPU and never run dry: nothing of
 * theirs crosses CPUs, waits or runs out, and the floor is not safe
 * against interrupts. floor_ring is, and any CPU pops from it, so it
 * takes part wherever bufpool's magazines do. kmem_cache and mempool over
 * the slab never run out. Only capped pools take part in W5 and W7;
 * sbitmap_queue is W5's own (bench_w5_contenders). page_pool may only be
 * used with bottom halves off.
 */
static const struct bench_contender bench_contenders[] = {
	BENCH_CONTENDER(empty, W_LOCAL | W_BH),
	BENCH_CONTENDER(floor, W_LOCAL | W_BH),
	BENCH_CONTENDER(floor_irq, W_LOCAL),
	BENCH_CONTENDER(floor_locked, W_LOCAL),
	BENCH_CONTENDER(floor_ring, W_LOCAL | W_BH | W(4) | W(6) | W(7)),
	BENCH_CONTENDER(bufpool, W_LOCAL | W_BH | W(4) | W(6) | W(7)),
	BENCH_CONTENDER(bufpool_nomag, W_LOCAL | W(4) | W(6) | W(7)),
	BENCH_CONTENDER(kmem_cache, W_LOCAL | W_BH | W(4) | W(6)),
	BENCH_CONTENDER(mempool, W_LOCAL | W(4) | W(6)),
	BENCH_CONTENDER(mempool_reserve, W_LOCAL | W(4) | W(6) | W(7)),
#ifdef BENCH_HAVE_OBJPOOL
	BENCH_CONTENDER(objpool, W_LOCAL | W(4) | W(6) | W(7)),
#endif
#ifdef BENCH_HAVE_PAGE_POOL
	BENCH_CONTENDER(page_pool, W_BH),
#endif
};

#define BENCH_NR	ARRAY_SIZE(bench_contenders)

/* Threads: one per CPU (W5: several), started at once. */

struct bench_job;

struct bench_thread {
	struct bench_job *job;
	struct task_struct *task;
	unsigned int cpu;
	u64 start, end;			/* ktime_get_ns() */
	u64 ops, fails;
	u64 irq_ops, irq_fails;		/* W7: by this CPU's hrtimer */
	u64 lost;			/* W5: waits that ended without */
	struct hrtimer timer;		/* W6, W7 */
	void **objs;			/* W2, W7 */
	u64 *lat;			/* W5: ns per get, one per op */
};

struct bench_job {
	const struct bench_contender *c;
	const struct bench_waiter *wc;	/* W5 */
	struct bench_pool *p;
	void *w5;			/* W5: the waiter pool */
	atomic_t claimed;		/* W5: ops taken from the budget */
	unsigned int total;		/* W5: the budget, all threads' */
	bool w5_bulk;			/* W5b: thread 0 waits in bulk */
	void (*fn)(struct bench_job *job, struct bench_thread *t);
	unsigned int nthreads;
	unsigned int ops;		/* per thread */
	unsigned int n;			/* batch or burst size */
	const u32 *order;		/* W2: the order of the puts */
	struct bench_ring *ring;	/* W4, W6 */
	atomic_t ready;
	atomic_t left;
	bool go;
	bool stop_timer;
	struct completion done;
	struct bench_thread t[BENCH_W5_THREADS];
};

static int bench_thread_fn(void *arg)
{
	struct bench_thread *t = arg;
	struct bench_job *job = t->job;

	atomic_inc(&job->ready);
	/* Pairs with the release in bench_run(). */
	while (!smp_load_acquire(&job->go)) {
		if (job->nthreads > cpus)
			usleep_range(50, 100);
		else
			cpu_relax();
	}
	t->start = ktime_get_ns();
	job->fn(job, t);
	t->end = ktime_get_ns();
	/* The last one out lets bench_run() go on; @job is its. */
	if (atomic_dec_and_test(&job->left))
		complete(&job->done);
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* Run job->fn on job->nthreads threads, thread i bound to CPU i % cpus. */
static int bench_run(struct bench_job *job)
{
	unsigned int i, made;
	int err = 0;

	atomic_set(&job->ready, 0);
	atomic_set(&job->left, job->nthreads);
	job->go = false;
	init_completion(&job->done);
	for (made = 0; made < job->nthreads; made++) {
		struct bench_thread *t = &job->t[made];

		t->job = job;
		t->cpu = made % cpus;
		t->ops = 0;
		t->fails = 0;
		t->irq_ops = 0;
		t->irq_fails = 0;
		t->lost = 0;
		t->task = kthread_create(bench_thread_fn, t, "bufpool_bench/%u",
					 made);
		if (IS_ERR(t->task)) {
			err = PTR_ERR(t->task);
			break;
		}
		kthread_bind(t->task, t->cpu);
	}
	if (err) {
		/* Never woken: they exit without running bench_thread_fn. */
		for (i = 0; i < made; i++)
			kthread_stop(job->t[i].task);
		return err;
	}
	for (i = 0; i < made; i++)
		wake_up_process(job->t[i].task);
	while (atomic_read(&job->ready) < job->nthreads)
		usleep_range(50, 100);
	/* Pairs with the acquire in bench_thread_fn(): all start at once. */
	smp_store_release(&job->go, true);
	wait_for_completion(&job->done);
	for (i = 0; i < made; i++)
		kthread_stop(job->t[i].task);
	return 0;
}

/* Picoseconds per op of each thread, averaged: the per-CPU cost. */
static u64 bench_ps_per_op(struct bench_job *job)
{
	u64 sum = 0;
	unsigned int i;

	for (i = 0; i < job->nthreads; i++)
		sum += div64_u64((job->t[i].end - job->t[i].start) * 1000,
				 max_t(u64, job->t[i].ops, 1));
	return div_u64(sum, job->nthreads);
}

/* From the first start to the last end, in ns. */
static u64 bench_wall_ns(struct bench_job *job)
{
	u64 start = U64_MAX, end = 0;
	unsigned int i;

	for (i = 0; i < job->nthreads; i++) {
		start = min(start, job->t[i].start);
		end = max(end, job->t[i].end);
	}
	return end - start;
}

/* Output: /sys/kernel/debug/bufpool_bench/results */

#define BENCH_OUT_SIZE	(1024 * 1024)

static char *bench_out;
static size_t bench_out_len;
static struct debugfs_blob_wrapper bench_blob;
static struct dentry *bench_dir;

static __printf(1, 2) void bench_emit(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	bench_out_len += vscnprintf(bench_out + bench_out_len,
				    BENCH_OUT_SIZE - bench_out_len, fmt, args);
	va_end(args);
}

/* Picoseconds as nanoseconds with two decimals, into @buf. */
#define BENCH_NS_LEN	24

static const char *bench_ns(char *buf, u64 ps)
{
	snprintf(buf, BENCH_NS_LEN, "%llu.%02llu", div_u64(ps, 1000),
		 div_u64(ps % 1000, 10));
	return buf;
}

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @v; returns the value at @permille of it. */
static u64 bench_quantile(u64 *v, unsigned int n, unsigned int permille)
{
	sort(v, n, sizeof(*v), bench_cmp_u64, NULL);
	return v[min(n - 1, (n * permille) / 1000)];
}

/* The median of the rounds after the first. */
static u64 bench_med(u64 *v)
{
	return bench_quantile(v + 1, rounds - 1, 500);
}

/* One row of results.csv from the rounds after the first. */
static void bench_emit_row(const char *workload, unsigned int n,
			   unsigned int ncpus, const char *name, u64 *ps)
{
	u64 med = bench_quantile(ps + 1, rounds - 1, 500);
	char a[BENCH_NS_LEN], b[BENCH_NS_LEN];

	/* Sorted: ps[1] is the least of the rounds kept. */
	bench_emit("%s,%u,%u,%s,%s,%s\n", workload, n, ncpus, name,
		   bench_ns(a, med), bench_ns(b, ps[1]));
}

static unsigned int bench_done, bench_total;
static u64 bench_start;

/* The seconds since the start say what each workload costs a run. */
static void bench_progress(const char *what)
{
	pr_info("%s done (%u/%u, %llu s)\n", what, ++bench_done, bench_total,
		div_u64(ktime_get_ns() - bench_start, NSEC_PER_SEC));
}

/* Figures: each contender, @rounds times, in rotating order */

static struct bench_pool *bench_pool_create(const struct bench_contender *c,
					    unsigned int cap)
{
	struct bench_pool *p;
	int err;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return ERR_PTR(-ENOMEM);
	p->cap = cap;
	err = c->setup(p);
	if (err) {
		kfree(p);
		return ERR_PTR(err);
	}
	return p;
}

static void bench_pool_destroy(const struct bench_contender *c,
			       struct bench_pool *p)
{
	c->teardown(p);
	kfree(p);
}

/*
 * Set up a pool of @cap, run @job on it once untimed with a quarter of
 * the ops and once timed, and tear it down. Gives ps per op in @ps.
 */
static int bench_figure(const struct bench_contender *c,
			struct bench_job *job, unsigned int cap, u64 *ps)
{
	unsigned int ops = job->ops;
	struct bench_pool *p;
	int err;

	p = bench_pool_create(c, cap);
	if (IS_ERR(p))
		return PTR_ERR(p);
	job->c = c;
	job->p = p;
	job->ops = max(ops / 4, 1U);
	err = bench_run(job);
	job->ops = ops;
	if (!err)
		err = bench_run(job);
	*ps = bench_ps_per_op(job);
	bench_pool_destroy(c, p);
	return err;
}

/*
 * Every contender that takes part in workload @wl, over all rounds, one
 * results.csv row each. @job is set up but for its contender and pool.
 */
static int bench_contenders_run(unsigned int wl, const char *workload,
				unsigned int n, struct bench_job *job,
				unsigned int cap)
{
	static u64 ps[BENCH_NR][BENCH_MAX_ROUNDS];
	unsigned int r, k, i;
	int err;

	for (r = 0; r < rounds; r++) {
		for (k = 0; k < BENCH_NR; k++) {
			i = (k + r) % BENCH_NR;
			if (!(bench_contenders[i].workloads & W(wl)))
				continue;
			err = bench_figure(&bench_contenders[i], job, cap,
					   &ps[i][r]);
			if (err) {
				pr_err("%s: %s: error %d\n", workload,
				       bench_contenders[i].name, err);
				return err;
			}
		}
	}
	for (i = 0; i < BENCH_NR; i++)
		if (bench_contenders[i].workloads & W(wl))
			bench_emit_row(workload, n, job->nthreads,
				       bench_contenders[i].name, ps[i]);
	return 0;
}

/* W1, W3: alloc then put, on each thread's CPU. */
static void bench_hot(struct bench_job *job, struct bench_thread *t)
{
	t->fails = job->c->hot(job->p, job->ops);
	t->ops = job->ops;
}

/* W2, W3: alloc n then put n, in job->order. */
static void bench_batch(struct bench_job *job, struct bench_thread *t)
{
	unsigned int reps = max(job->ops / job->n, 1U);

	t->fails = job->c->batch(job->p, t->objs, job->order, job->n, reps);
	t->ops = (u64)reps * job->n;
}

static void bench_hot_bh(struct bench_job *job, struct bench_thread *t)
{
	t->fails = job->c->hot_bh(job->p, job->ops);
	t->ops = job->ops;
}

static void bench_batch_bh(struct bench_job *job, struct bench_thread *t)
{
	unsigned int reps = max(job->ops / job->n, 1U);

	t->fails = job->c->batch_bh(job->p, t->objs, job->order, job->n, reps);
	t->ops = (u64)reps * job->n;
}

/* A fixed seed: the same shuffle in every run. */
static u32 bench_rand(u32 *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

static void bench_order(u32 *order, unsigned int n, bool shuffle)
{
	u32 seed = 0x9e3779b9, j, tmp;
	unsigned int i;

	/* LIFO: the last taken is the first put. */
	for (i = 0; i < n; i++)
		order[i] = n - 1 - i;
	if (!shuffle)
		return;
	for (i = n - 1; i > 0; i--) {
		j = bench_rand(&seed) % (i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
}

static int bench_objs_alloc(struct bench_job *job, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < job->nthreads; i++) {
		job->t[i].objs = kcalloc(n, sizeof(void *), GFP_KERNEL);
		if (!job->t[i].objs)
			return -ENOMEM;
	}
	return 0;
}

static void bench_objs_free(struct bench_job *job)
{
	unsigned int i;

	for (i = 0; i < BENCH_W5_THREADS; i++) {
		kfree(job->t[i].objs);
		job->t[i].objs = NULL;
	}
}

static const unsigned int bench_w2_sizes[] = { 1, 8, 32, 64, 256, 1024 };

static int bench_w1(struct bench_job *job)
{
	int err;

	job->nthreads = 1;
	job->ops = iters;
	job->fn = bench_hot;
	err = bench_contenders_run(1, "W1", 1, job, BENCH_CAP);
	bench_progress("W1 hot alloc+put");
	return err;
}

static int bench_w2_one(struct bench_job *job, unsigned int wl,
			const char *workload, unsigned int n,
			unsigned int ncpus, bool shuffle)
{
	char what[48];
	u32 *order;
	int err;

	order = kcalloc(n, sizeof(*order), GFP_KERNEL);
	if (!order)
		return -ENOMEM;
	bench_order(order, n, shuffle);
	job->nthreads = ncpus;
	job->ops = iters;
	job->n = n;
	job->order = order;
	job->fn = wl == 8 ? bench_batch_bh : bench_batch;
	err = bench_objs_alloc(job, n);
	if (!err)
		err = bench_contenders_run(wl, workload, n, job, BENCH_CAP);
	bench_objs_free(job);
	kfree(order);
	snprintf(what, sizeof(what), "%s n=%u cpus=%u", workload, n, ncpus);
	bench_progress(what);
	return err;
}

static int bench_w2(struct bench_job *job)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(bench_w2_sizes) && !err; i++)
		err = bench_w2_one(job, 2, "W2", bench_w2_sizes[i], 1, false);
	for (i = 0; i < ARRAY_SIZE(bench_w2_sizes) && !err; i++)
		err = bench_w2_one(job, 2, "W2s", bench_w2_sizes[i], 1, true);
	return err;
}

/* W1bh, W2bh: W1 and W2 (LIFO) with bottom halves off. */
static int bench_w1bh(struct bench_job *job)
{
	int err;

	job->nthreads = 1;
	job->ops = iters;
	job->fn = bench_hot_bh;
	err = bench_contenders_run(8, "W1bh", 1, job, BENCH_CAP);
	bench_progress("W1bh hot alloc+put, bottom halves off");
	return err;
}

static int bench_w2bh(struct bench_job *job)
{
	unsigned int i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(bench_w2_sizes) && !err; i++)
		err = bench_w2_one(job, 8, "W2bh", bench_w2_sizes[i], 1, false);
	return err;
}

/* W3: W1 and W2 (n = 64) on one CPU and on @cpus at once. */
static int bench_w3(struct bench_job *job)
{
	unsigned int ncpus;
	char what[32];
	int err = 0;

	for (ncpus = 1; ncpus <= cpus && !err; ncpus += max(cpus - 1, 1U)) {
		job->nthreads = ncpus;
		job->ops = iters;
		job->fn = bench_hot;
		err = bench_contenders_run(3, "W3", 1, job, BENCH_CAP);
		snprintf(what, sizeof(what), "W3 hot cpus=%u", ncpus);
		bench_progress(what);
		if (!err)
			err = bench_w2_one(job, 3, "W3", 64, ncpus, false);
	}
	return err;
}

/* W4: thread 0 allocates and hands over, thread 1 (other CPU) puts. */
static void bench_remote(struct bench_job *job, struct bench_thread *t)
{
	struct bench_ring *ring = job->ring;
	unsigned int i;
	void *obj;

	if (t == &job->t[0]) {
		for (i = 0; i < job->ops; i++) {
			while (!(obj = job->c->get(job->p, GFP_KERNEL))) {
				t->fails++;
				cpu_relax();
			}
			bench_ring_push(ring, obj);
		}
	} else {
		for (i = 0; i < job->ops; i++) {
			while (!(obj = bench_ring_pop(ring)))
				cpu_relax();
			job->c->put(job->p, obj);
		}
	}
	t->ops = job->ops;
}

static int bench_w4(struct bench_job *job)
{
	int err;

	if (cpus < 2) {
		pr_info("W4 needs two CPUs: skipped\n");
		return 0;
	}
	job->ring = kzalloc(sizeof(*job->ring), GFP_KERNEL);
	if (!job->ring)
		return -ENOMEM;
	job->nthreads = 2;
	job->ops = iters;
	job->fn = bench_remote;
	err = bench_contenders_run(4, "W4", 1, job, BENCH_CAP);
	kfree(job->ring);
	job->ring = NULL;
	bench_progress("W4 remote put");
	return err;
}

/* W6: the thread allocates; its CPU's hrtimer puts from hard IRQ. */
static enum hrtimer_restart bench_irq_put(struct hrtimer *timer)
{
	struct bench_thread *t = container_of(timer, struct bench_thread, timer);
	struct bench_job *job = t->job;
	void *obj;

	while ((obj = bench_ring_pop(job->ring)))
		job->c->put(job->p, obj);
	if (READ_ONCE(job->stop_timer))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(BENCH_W6_PERIOD_NS));
	return HRTIMER_RESTART;
}

static void bench_timer_start(struct bench_thread *t,
			      enum hrtimer_restart (*fn)(struct hrtimer *),
			      u64 period)
{
	hrtimer_init(&t->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	t->timer.function = fn;
	WRITE_ONCE(t->job->stop_timer, false);
	hrtimer_start(&t->timer, ns_to_ktime(period),
		      HRTIMER_MODE_REL_PINNED_HARD);
}

static void bench_timer_stop(struct bench_thread *t)
{
	WRITE_ONCE(t->job->stop_timer, true);
	hrtimer_cancel(&t->timer);
}

static void bench_irq_feed(struct bench_job *job, struct bench_thread *t)
{
	bench_timer_start(t, bench_irq_put, BENCH_W6_PERIOD_NS);
	job->c->feed(job->p, job->ring, job->ops);
	/* The time the last buffers wait for the timer is part of the op. */
	while (READ_ONCE(job->ring->head) != smp_load_acquire(&job->ring->tail))
		cpu_relax();
	bench_timer_stop(t);
	t->ops = job->ops;
}

static int bench_w6(struct bench_job *job)
{
	int err;

	job->ring = kzalloc(sizeof(*job->ring), GFP_KERNEL);
	if (!job->ring)
		return -ENOMEM;
	job->nthreads = 1;
	job->ops = iters;
	job->fn = bench_irq_feed;
	err = bench_contenders_run(6, "W6", 1, job, 2 * BENCH_RING);
	kfree(job->ring);
	job->ring = NULL;
	bench_progress("W6 hard-IRQ put");
	return err;
}

/*
 * W5: BENCH_W5_THREADS threads on @cpus CPUs share a pool of BENCH_W5_CAP;
 * each takes one, sleeping while none is free, holds it about 1 us and
 * puts it. The peers are capped pools with sleepers: mempool's reserve
 * and sbitmap_queue, the blk-mq tag allocator, used as blk-mq uses it.
 */
struct bench_w5_pool {
	struct bench_pool p;
#ifdef BENCH_HAVE_SBITMAP
	struct sbitmap_queue sbq;
	atomic_t wait_index;
#endif
};

struct bench_waiter {
	const char *name;
	int (*setup)(struct bench_w5_pool *w);
	void (*teardown)(struct bench_w5_pool *w);
	/* NULL if a wait ended without a buffer. */
	void *(*get)(struct bench_w5_pool *w);
	void (*put)(struct bench_w5_pool *w, void *obj);
	/* W5b: BENCH_W5B_BULK at once; an error if the wait ended without. */
	int (*get_bulk)(struct bench_w5_pool *w, void **objs);
	void (*put_bulk)(struct bench_w5_pool *w, void **objs);
};

/* Waits end after this long, so that a lost wakeup cannot hang us. */
#define BENCH_W5_TIMEOUT	(2 * HZ)

static int bw_bufpool_setup(struct bench_w5_pool *w)
{
	return bc_bufpool_setup(&w->p);
}

/* How the waits of a W5 or W5b round went: what its figures come from. */
static void bw_bufpool_teardown(struct bench_w5_pool *w)
{
	struct bufpool_stats st;

	bufpool_get_stats(w->p.bufpool, &st);
	pr_info("W5 round: %llu allocs, %llu waits, %llu barges, %llu handoffs, %llu empty wakeups\n",
		st.allocs, st.waits, st.barges, st.handoffs, st.empty_wakeups);
	bc_bufpool_teardown(&w->p);
}

static void *bw_bufpool_get(struct bench_w5_pool *w)
{
	struct bufpool_buf *buf;

	buf = bufpool_alloc_wait(w->p.bufpool, GFP_KERNEL, TASK_UNINTERRUPTIBLE,
				 BENCH_W5_TIMEOUT);
	if (IS_ERR(buf))
		return NULL;
	bench_touch(bufpool_buf_data(buf));
	return buf;
}

static void bw_bufpool_put(struct bench_w5_pool *w, void *obj)
{
	bufpool_put(obj);
}

static int bw_mempool_setup(struct bench_w5_pool *w)
{
	return bc_mempool_reserve_setup(&w->p);
}

static void bw_mempool_teardown(struct bench_w5_pool *w)
{
	bc_mempool_reserve_teardown(&w->p);
}

/* mempool_alloc() sleeps in slices of 5 s until it gets one. */
static void *bw_mempool_get(struct bench_w5_pool *w)
{
	return bc_mempool_get(&w->p, GFP_KERNEL);
}

static void bw_mempool_put(struct bench_w5_pool *w, void *obj)
{
	bc_mempool_put(&w->p, obj);
}

#ifdef BENCH_HAVE_SBITMAP
static int bw_sbq_setup(struct bench_w5_pool *w)
{
	atomic_set(&w->wait_index, 0);
	return sbitmap_queue_init_node(&w->sbq, w->p.cap, -1, false,
				       GFP_KERNEL, NUMA_NO_NODE);
}

static void bw_sbq_teardown(struct bench_w5_pool *w)
{
	sbitmap_queue_free(&w->sbq);
}

/* As blk_mq_get_tag() waits for a tag. A tag is returned as tag + 1. */
static void *bw_sbq_get(struct bench_w5_pool *w)
{
	struct sbq_wait_state *ws;
	DEFINE_SBQ_WAIT(wait);
	int tag;

	tag = __sbitmap_queue_get(&w->sbq);
	if (tag >= 0)
		return (void *)(long)(tag + 1);
	ws = sbq_wait_ptr(&w->sbq, &w->wait_index);
	for (;;) {
		sbitmap_prepare_to_wait(&w->sbq, ws, &wait,
					TASK_UNINTERRUPTIBLE);
		tag = __sbitmap_queue_get(&w->sbq);
		if (tag >= 0)
			break;
		if (!io_schedule_timeout(BENCH_W5_TIMEOUT)) {
			sbitmap_finish_wait(&w->sbq, ws, &wait);
			return NULL;
		}
		sbitmap_finish_wait(&w->sbq, ws, &wait);
		ws = sbq_wait_ptr(&w->sbq, &w->wait_index);
	}
	sbitmap_finish_wait(&w->sbq, ws, &wait);
	return (void *)(long)(tag + 1);
}

static void bw_sbq_put(struct bench_w5_pool *w, void *obj)
{
	sbitmap_queue_clear(&w->sbq, (long)obj - 1, raw_smp_processor_id());
}
#endif

/* W5b: the bulk waiter's request, half the pool. */
#define BENCH_W5B_BULK		(BENCH_W5_CAP / 2)

static int bw_bufpool_get_bulk(struct bench_w5_pool *w, void **objs)
{
	struct bufpool_buf **bufs = (struct bufpool_buf **)objs;
	unsigned int i;
	int err;

	err = bufpool_alloc_bulk_wait(w->p.bufpool, GFP_KERNEL, BENCH_W5B_BULK,
				      bufs, TASK_UNINTERRUPTIBLE,
				      BENCH_W5_TIMEOUT);
	if (err)
		return err;
	for (i = 0; i < BENCH_W5B_BULK; i++)
		bench_touch(bufpool_buf_data(bufs[i]));
	return 0;
}

static void bw_bufpool_put_bulk(struct bench_w5_pool *w, void **objs)
{
	bufpool_put_bulk(BENCH_W5B_BULK, (struct bufpool_buf **)objs);
}

#define BENCH_WAITER(_name, _w)						\
	{ _name, bw_##_w##_setup, bw_##_w##_teardown, bw_##_w##_get,	\
	  bw_##_w##_put }

static const struct bench_waiter bench_w5_contenders[] = {
	BENCH_WAITER("bufpool", bufpool),
	BENCH_WAITER("mempool_reserve", mempool),
#ifdef BENCH_HAVE_SBITMAP
	BENCH_WAITER("sbitmap_queue", sbq),
#endif
};

/*
 * W5b: only bufpool can wait for several buffers at once; the peers'
 * users take them one by one, holding the first while waiting for the
 * next, which is what a bulk wait is for.
 */
static const struct bench_waiter bench_w5b_contenders[] = {
	{ "bufpool", bw_bufpool_setup, bw_bufpool_teardown, bw_bufpool_get,
	  bw_bufpool_put, bw_bufpool_get_bulk, bw_bufpool_put_bulk },
};

#define BENCH_W5_NR	ARRAY_SIZE(bench_w5_contenders)

/*
 * The threads share one budget of ops, each claiming the next until it
 * runs out, so that how many each got is the fairness figure. A get that
 * took over BENCH_LOST_NS (a wait that timed out included) counts as a
 * lost wakeup. In W5b thread 0 asks for BENCH_W5B_BULK at a time.
 */
static void bench_wait_hold(struct bench_job *job, struct bench_thread *t)
{
	const struct bench_waiter *wc = job->wc;
	bool bulk = job->w5_bulk && t == &job->t[0];
	void *objs[BENCH_W5B_BULK];
	void *obj = NULL;
	u64 t0;

	while (atomic_fetch_inc(&job->claimed) < (int)job->total) {
		t0 = ktime_get_ns();
		if (bulk)
			obj = wc->get_bulk(job->w5, objs) ? NULL : objs;
		else
			obj = wc->get(job->w5);
		t->lat[t->ops++] = ktime_get_ns() - t0;
		if (!obj) {
			t->lost++;
			continue;
		}
		udelay(1);
		if (bulk)
			wc->put_bulk(job->w5, objs);
		else
			wc->put(job->w5, obj);
	}
}

struct bench_w5_figures {
	u64 ps[BENCH_MAX_ROUNDS];	/* wall time per op */
	u64 p50[BENCH_MAX_ROUNDS];	/* single gets */
	u64 p99[BENCH_MAX_ROUNDS];
	u64 max;
	u64 lost;
	u64 thread_min, thread_max;	/* ops a thread completed, kept rounds */
	u64 bulk_p50[BENCH_MAX_ROUNDS];	/* W5b: the bulk waits */
	u64 bulk_p99[BENCH_MAX_ROUNDS];
	u64 bulk_max;
	u64 bulk_asked, bulk_done;	/* kept rounds */
};

/* The quantiles of @n latencies, into round @r of @p50 and @p99. */
static u64 bench_lat_figures(u64 *v, unsigned int n, u64 *p50, u64 *p99,
			     unsigned int r)
{
	if (!n) {
		p50[r] = 0;
		p99[r] = 0;
		return 0;
	}
	p50[r] = bench_quantile(v, n, 500);
	p99[r] = bench_quantile(v, n, 990);
	return v[n - 1];
}

static int bench_w5_figure(const struct bench_waiter *wc,
			   struct bench_job *job, u64 *all, u64 *bulk_all,
			   struct bench_w5_figures *f, unsigned int r)
{
	unsigned int i, n = 0, nb = 0, j;
	struct bench_w5_pool *w;
	u64 total = 0;
	int err;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	w->p.cap = BENCH_W5_CAP;
	err = wc->setup(w);
	if (err)
		goto free;
	job->wc = wc;
	job->w5 = w;
	atomic_set(&job->claimed, 0);
	err = bench_run(job);
	wc->teardown(w);
	if (err)
		goto free;
	if (r == 1) {
		f->thread_min = U64_MAX;
		f->thread_max = 0;
	}
	for (i = 0; i < job->nthreads; i++) {
		struct bench_thread *t = &job->t[i];
		bool bulk = job->w5_bulk && i == 0;

		total += t->ops;
		for (j = 0; j < t->ops; j++) {
			if (bulk)
				bulk_all[nb++] = t->lat[j];
			else
				all[n++] = t->lat[j];
			if (t->lat[j] >= BENCH_LOST_NS)
				f->lost++;
		}
		if (!r)
			continue;
		if (bulk) {
			f->bulk_asked += t->ops;
			f->bulk_done += t->ops - t->lost;
		} else {
			f->thread_min = min(f->thread_min, t->ops - t->lost);
			f->thread_max = max(f->thread_max, t->ops - t->lost);
		}
	}
	f->ps[r] = div64_u64(bench_wall_ns(job) * 1000, max_t(u64, total, 1));
	f->max = max(f->max, bench_lat_figures(all, n, f->p50, f->p99, r));
	f->bulk_max = max(f->bulk_max, bench_lat_figures(bulk_all, nb,
							 f->bulk_p50,
							 f->bulk_p99, r));
free:
	kfree(w);
	return err;
}

/*
 * W5 (@bulk false) and W5b: BENCH_W5_THREADS threads share a budget of
 * their number times iters / 20 ops (W5b: a quarter of that, as every
 * bulk wait holds up the single takers queued behind it and a W5b op
 * costs many W5 ones), over the contenders of @wcs.
 */
static int bench_w5_run(struct bench_job *job, const char *workload,
			const struct bench_waiter *wcs, unsigned int nr,
			bool bulk)
{
	static struct bench_w5_figures fig[BENCH_W5_NR];
	unsigned int r, k, i, total;
	u64 *all = NULL, *bulk_all = NULL;
	int err = 0;

	memset(fig, 0, sizeof(fig));
	total = BENCH_W5_THREADS * max(iters / (bulk ? 80 : 20), 100U);
	all = kvmalloc_array(total, sizeof(u64), GFP_KERNEL);
	bulk_all = kvmalloc_array(total, sizeof(u64), GFP_KERNEL);
	if (!all || !bulk_all)
		err = -ENOMEM;
	job->nthreads = BENCH_W5_THREADS;
	job->total = total;
	job->w5_bulk = bulk;
	job->fn = bench_wait_hold;
	/* Any thread may claim every op. */
	for (i = 0; i < BENCH_W5_THREADS && !err; i++) {
		job->t[i].lat = kvmalloc_array(total, sizeof(u64), GFP_KERNEL);
		if (!job->t[i].lat)
			err = -ENOMEM;
	}
	for (r = 0; r < rounds && !err; r++) {
		for (k = 0; k < nr && !err; k++) {
			i = (k + r) % nr;
			err = bench_w5_figure(&wcs[i], job, all, bulk_all,
					      &fig[i], r);
		}
	}
	for (i = 0; i < nr && !err; i++)
		bench_emit_row(workload, bulk ? BENCH_W5B_BULK : 1, cpus,
			       wcs[i].name, fig[i].ps);
	bench_emit("# %s.csv\n", bulk ? "w5b" : "w5");
	bench_emit("contender,ops_per_s,wait_p50_ns,wait_p99_ns,wait_max_ns,lost_wakeups,");
	bench_emit("thread_ops_min,thread_ops_max,thread_ops_fair");
	if (bulk)
		bench_emit(",bulk_n,bulk_asked,bulk_done,%s",
			   "bulk_wait_p50_ns,bulk_wait_p99_ns,bulk_wait_max_ns");
	bench_emit("\n");
	for (i = 0; i < nr && !err; i++) {
		struct bench_w5_figures *f = &fig[i];

		bench_emit("%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%u",
			   wcs[i].name,
			   div64_u64(1000ULL * NSEC_PER_SEC,
				     max_t(u64, bench_med(f->ps), 1)),
			   bench_med(f->p50), bench_med(f->p99), f->max,
			   f->lost, f->thread_min, f->thread_max,
			   total / BENCH_W5_THREADS);
		if (bulk)
			bench_emit(",%u,%llu,%llu,%llu,%llu,%llu",
				   BENCH_W5B_BULK, f->bulk_asked, f->bulk_done,
				   bench_med(f->bulk_p50),
				   bench_med(f->bulk_p99), f->bulk_max);
		bench_emit("\n");
	}
	bench_emit("# results.csv\n");
	for (i = 0; i < BENCH_W5_THREADS; i++) {
		kvfree(job->t[i].lat);
		job->t[i].lat = NULL;
	}
	kvfree(bulk_all);
	kvfree(all);
	job->w5_bulk = false;
	bench_progress(bulk ? "W5b waiting, with a bulk waiter" : "W5 waiting");
	return err;
}

static int bench_w5(struct bench_job *job)
{
	return bench_w5_run(job, "W5", bench_w5_contenders, BENCH_W5_NR,
			    false);
}

static int bench_w5b(struct bench_job *job)
{
	return bench_w5_run(job, "W5b", bench_w5b_contenders,
			    ARRAY_SIZE(bench_w5b_contenders), true);
}

/*
 * W7: a pool of BENCH_W7_CAP at its cap. Each CPU's thread takes bursts
 * of BENCH_W7_BURST with GFP_ATOMIC and puts what it got; each CPU's
 * hrtimer takes BENCH_W7_IRQ_BURST in hard IRQ and puts them.
 */
static enum hrtimer_restart bench_irq_take(struct hrtimer *timer)
{
	struct bench_thread *t = container_of(timer, struct bench_thread, timer);
	struct bench_job *job = t->job;
	void *objs[BENCH_W7_IRQ_BURST];
	unsigned int i, got = 0;

	for (i = 0; i < BENCH_W7_IRQ_BURST; i++) {
		objs[got] = job->c->get(job->p, GFP_ATOMIC);
		if (objs[got])
			got++;
	}
	t->irq_ops += got;
	t->irq_fails += BENCH_W7_IRQ_BURST - got;
	while (got)
		job->c->put(job->p, objs[--got]);
	if (READ_ONCE(job->stop_timer))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(BENCH_W7_PERIOD_NS));
	return HRTIMER_RESTART;
}

static void bench_flood(struct bench_job *job, struct bench_thread *t)
{
	unsigned int reps = max(job->ops / BENCH_W7_BURST, 1U);

	bench_timer_start(t, bench_irq_take, BENCH_W7_PERIOD_NS);
	t->ops = job->c->burst(job->p, t->objs, BENCH_W7_BURST, reps,
			       &t->fails);
	bench_timer_stop(t);
}

/* Hit, then failure, on an idle and then an exhausted pool. */
static void bench_fail_cost(struct bench_job *job, struct bench_thread *t)
{
	unsigned int held = 0, n = max(job->ops / 4, 1U);
	u64 t0;

	t0 = ktime_get_ns();
	job->c->hot(job->p, n);
	t->irq_ops = div64_u64((ktime_get_ns() - t0) * 1000, n);
	while (held < job->p->cap &&
	       (t->objs[held] = job->c->get(job->p, GFP_ATOMIC)))
		held++;
	t0 = ktime_get_ns();
	t->fails = job->c->fail_loop(job->p, n);
	t->irq_fails = div64_u64((ktime_get_ns() - t0) * 1000, n);
	while (held)
		job->c->put(job->p, t->objs[--held]);
	t->ops = n;
}

struct bench_w7_figures {
	u64 ps[BENCH_MAX_ROUNDS];	/* CPU time per successful op */
	u64 ok_per_s[BENCH_MAX_ROUNDS];
	u64 fail_per_s[BENCH_MAX_ROUNDS];
	u64 hit_ps[BENCH_MAX_ROUNDS];
	u64 fail_ps[BENCH_MAX_ROUNDS];
	u64 drains[BENCH_MAX_ROUNDS];
	u64 late_hits;			/* found after saying "none" */
};

static int bench_w7_figure(const struct bench_contender *c,
			   struct bench_job *job, struct bench_w7_figures *f,
			   unsigned int r)
{
	u64 ok = 0, fails = 0, wall;
	struct bench_pool *p;
	unsigned int i;
	int err;

	p = bench_pool_create(c, BENCH_W7_CAP);
	if (IS_ERR(p))
		return PTR_ERR(p);
	job->c = c;
	job->p = p;
	job->nthreads = cpus;
	job->ops = iters;
	job->fn = bench_flood;
	err = bench_run(job);
	for (i = 0; i < job->nthreads; i++) {
		ok += job->t[i].ops + job->t[i].irq_ops;
		fails += job->t[i].fails + job->t[i].irq_fails;
	}
	wall = max_t(u64, bench_wall_ns(job), 1);
	if (!err) {
		job->nthreads = 1;
		job->fn = bench_fail_cost;
		err = bench_run(job);
	}
	c->teardown(p);
	f->drains[r] = p->drains;
	kfree(p);
	if (err)
		return err;
	f->ps[r] = div64_u64(wall * cpus * 1000, max_t(u64, ok, 1));
	f->ok_per_s[r] = div64_u64(ok * NSEC_PER_SEC, wall);
	f->fail_per_s[r] = div64_u64(fails * NSEC_PER_SEC, wall);
	f->hit_ps[r] = job->t[0].irq_ops;
	f->fail_ps[r] = job->t[0].irq_fails;
	f->late_hits += job->t[0].ops - job->t[0].fails;
	return 0;
}

static int bench_w7(struct bench_job *job)
{
	static struct bench_w7_figures fig[BENCH_NR];
	unsigned int r, k, i;
	int err;

	memset(fig, 0, sizeof(fig));
	job->nthreads = cpus;
	err = bench_objs_alloc(job, BENCH_W7_CAP);
	for (r = 0; r < rounds && !err; r++) {
		for (k = 0; k < BENCH_NR && !err; k++) {
			i = (k + r) % BENCH_NR;
			if (bench_contenders[i].workloads & W(7))
				err = bench_w7_figure(&bench_contenders[i], job,
						      &fig[i], r);
		}
	}
	bench_objs_free(job);
	if (err)
		return err;
	for (i = 0; i < BENCH_NR; i++)
		if (bench_contenders[i].workloads & W(7))
			bench_emit_row("W7", BENCH_W7_BURST, cpus,
				       bench_contenders[i].name, fig[i].ps);
	bench_emit("# w7.csv\n");
	bench_emit("cpus,contender,ok_per_s,failed_per_s,hit_ns,failed_alloc_ns,");
	bench_emit("failed_over_hit,drains,late_hits\n");
	for (i = 0; i < BENCH_NR; i++) {
		char a[BENCH_NS_LEN], b[BENCH_NS_LEN];
		u64 hit, fail;

		if (!(bench_contenders[i].workloads & W(7)))
			continue;
		hit = bench_med(fig[i].hit_ps);
		fail = bench_med(fig[i].fail_ps);
		bench_emit("%u,%s,%llu,%llu,%s,%s,%llu.%02llu,%llu,%llu\n",
			   cpus, bench_contenders[i].name,
			   bench_med(fig[i].ok_per_s),
			   bench_med(fig[i].fail_per_s), bench_ns(a, hit),
			   bench_ns(b, fail), div64_u64(fail, max_t(u64, hit, 1)),
			   div64_u64(fail * 100, max_t(u64, hit, 1)) % 100,
			   bench_med(fig[i].drains), fig[i].late_hits);
	}
	bench_emit("# results.csv\n");
	bench_progress("W7 flood");
	return 0;
}

/* Loading runs the benchmark */

static bool bench_wants(const char *wl)
{
	const char *s = workloads;
	size_t len = strlen(wl);

	while ((s = strstr(s, wl))) {
		if ((s == workloads || s[-1] == ',') &&
		    (s[len] == ',' || s[len] == '\0'))
			return true;
		s += len;
	}
	return false;
}

static int bench_check_params(void)
{
	if (rounds < 2 || rounds > BENCH_MAX_ROUNDS) {
		pr_err("rounds %u is not in 2..%d\n", rounds, BENCH_MAX_ROUNDS);
		return -EINVAL;
	}
	if (!buf_size || buf_size > BUFPOOL_MAX_BUF_SIZE ||
	    buf_size < sizeof(unsigned long)) {
		pr_err("buf_size %u is not in %zu..%d\n", buf_size,
		       sizeof(unsigned long), BUFPOOL_MAX_BUF_SIZE);
		return -EINVAL;
	}
	if (iters < 1024) {
		pr_err("iters %u is below 1024\n", iters);
		return -EINVAL;
	}
	if (!cpus || cpus > min_t(unsigned int, num_online_cpus(),
				  BENCH_MAX_CPUS)) {
		pr_err("cpus %u is not in 1..%u (online, at most %d)\n", cpus,
		       num_online_cpus(), BENCH_MAX_CPUS);
		return -EINVAL;
	}
	return 0;
}

/* @figures: progress lines each prints. */
static const struct {
	const char *name;
	int (*run)(struct bench_job *job);
	unsigned int figures;
} bench_workloads[] = {
	{ "W1", bench_w1, 1 },
	{ "W2", bench_w2, 2 * ARRAY_SIZE(bench_w2_sizes) },
	{ "W3", bench_w3, 4 },
	{ "W4", bench_w4, 1 },
	{ "W5", bench_w5, 1 },
	{ "W5b", bench_w5b, 1 },
	{ "W6", bench_w6, 1 },
	{ "W7", bench_w7, 1 },
	{ "W1bh", bench_w1bh, 1 },
	{ "W2bh", bench_w2bh, ARRAY_SIZE(bench_w2_sizes) },
};

static int bench_all(void)
{
	struct bench_job *job;
	unsigned int i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(bench_workloads); i++)
		if (bench_wants(bench_workloads[i].name))
			bench_total += bench_workloads[i].figures;
	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return -ENOMEM;
	bench_start = ktime_get_ns();
	bench_emit("# bufpool_bench buf_size=%u iters=%u rounds=%u cpus=%u kernel=%s\n",
		   buf_size, iters, rounds, cpus, utsname()->release);
	bench_emit("# results.csv\n");
	bench_emit("workload,n,cpus,contender,ns_per_op_median,ns_per_op_min\n");
	for (i = 0; i < ARRAY_SIZE(bench_workloads) && !err; i++)
		if (bench_wants(bench_workloads[i].name))
			err = bench_workloads[i].run(job);
	kfree(job);
	return err;
}

static int __init bench_init(void)
{
	int err = bench_check_params();

	if (err)
		return err;
	bench_out = vzalloc(BENCH_OUT_SIZE);
	if (!bench_out)
		return -ENOMEM;
	pr_info("%zu contenders; buf_size=%u iters=%u rounds=%u cpus=%u\n",
		BENCH_NR, buf_size, iters, rounds, cpus);
	err = bench_all();
	if (err) {
		vfree(bench_out);
		return err;
	}
	bench_blob.data = bench_out;
	bench_blob.size = bench_out_len;
	bench_dir = debugfs_create_dir("bufpool_bench", NULL);
	debugfs_create_blob("results", 0444, bench_dir, &bench_blob);
	return 0;
}

static void __exit bench_exit(void)
{
	debugfs_remove(bench_dir);
	vfree(bench_out);
}

module_init(bench_init);
module_exit(bench_exit);
MODULE_DESCRIPTION("bufpool against the kernel's own pools");
MODULE_LICENSE("GPL");
