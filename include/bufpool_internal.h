/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bufpool internals, shared by the bufpool_*.c files and nothing else.
 *
 * A pool is three layers, fastest first:
 *
 *  1. Per-CPU magazines (bufpool_percpu.c): a small stack of free buffers
 *     per CPU under a raw spinlock of its own, which its CPU takes
 *     uncontended on every hit, and any CPU takes to empty the magazine
 *     into the depot when it would otherwise be told the pool is empty.
 *  2. The depot: a stack of free buffers under the pool lock, which also
 *     serialises growth, the waiters and the counters below it.
 *  3. The slab cache: buffers are created in it up to max_bufs and given
 *     back by the shrinker (bufpool_shrinker.c) above min_bufs.
 *
 * A buffer is its data and a struct bufpool_buf header. Where the header
 * fits beside the data without costing the slab a worse packing, both are
 * one slab object, the data first so that the cache's alignment is the
 * data's; where it would (a 4 KiB buffer and its header no longer pack
 * eight to an order-3 slab), the data has a cache of its own and the
 * header comes from bufpool_hdr_cache, found from the data through the
 * pool's @bufs XArray. bufpool_layout() in bufpool_main.c decides.
 *
 * Locks, outermost first:
 *
 *  - bufpool_list_lock (mutex): the list of pools, debugfs.
 *  - bufpool_cpu.lock (raw spinlock, interrupts off): one CPU's magazine.
 *  - bufpool.lock (raw spinlock, interrupts off): the depot and the rest.
 *
 * Both spinlocks are raw because buffers are put from hard IRQ, where a
 * spinlock_t sleeps on PREEMPT_RT. So the work under them is bounded: at
 * most 2 * batch buffers move under a magazine lock, at most
 * BUFPOOL_LOCKED_MAX under the pool lock before it is dropped and taken
 * again; nothing is allocated or freed, and nothing printed, under either.
 * Under the pool lock the pool wakes tasks (wake_up_process(), complete()),
 * whose locks are raw too: it nests outside the scheduler's locks and
 * nothing of bufpool is called with those held.
 *
 * Every section under either lock runs with interrupts off, so it is an
 * RCU read-side critical section: bufpool_shutdown() waits them out with
 * synchronize_rcu() before the pool is freed.
 */
#ifndef _BUFPOOL_INTERNAL_H
#define _BUFPOOL_INTERNAL_H

#include <linux/bufpool.h>
#include <linux/cache.h>
#include <linux/completion.h>
#include <linux/fault-inject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#define BUFPOOL_BUF_LIVE	0xb0f1a11cU	/* handed out */
#define BUFPOOL_BUF_FREE	0xb0f1f7eeU	/* idle in the pool */
#define BUFPOOL_POISON		0x6b
#define BUFPOOL_POOL_MAGIC	0xb0f1900dU

/*
 * struct bufpool_notify.state: written under the lock of the pool the
 * request is queued on, but IDLE, which its owner's call or its callback's
 * irq_work sets last, with release: from then on the request is its
 * owner's again.
 */
enum {
	BUFPOOL_NOTIFY_IDLE,	/* not queued, callback not due */
	BUFPOOL_NOTIFY_QUEUED,	/* on the waiters of notify->pool */
	BUFPOOL_NOTIFY_FIRING,	/* dequeued, its outcome (->err) on the way */
};

#define BUFPOOL_F_ALL		(BUFPOOL_F_ZERO | BUFPOOL_F_POISON | \
				 BUFPOOL_F_NO_MAGAZINES | BUFPOOL_F_LOOKUP)

/* Sleep at most this long while growth is failing, then try again. */
#define BUFPOOL_GROW_RETRY	(HZ / 10)
/* bufpool_destroy() complains this often about buffers still in use. */
#define BUFPOOL_DESTROY_WARN	(5 * HZ)
/* Most buffers moved in one hold of the pool lock. */
#define BUFPOOL_LOCKED_MAX	32

/*
 * struct bufpool_buf - the header of every buffer
 * @ref: references; 1 after allocation, 0 while idle in the pool. Written
 *	with a plain store when the buffer changes hands (nobody else can
 *	hold it then), so the single-holder alloc/put pair does no atomic.
 * @magic: %BUFPOOL_BUF_LIVE or %BUFPOOL_BUF_FREE; catches puts of idle
 *	buffers and of pointers that are no buffer at all.
 * @pool: the owner.
 * @next: link in the depot, or in a local list; meaningless when live.
 * @data: the buffer's data, fixed for the buffer's life.
 */
struct bufpool_buf {
	refcount_t ref;
	u32 magic;
	struct bufpool *pool;
	struct bufpool_buf *next;
	void *data;
};

/*
 * struct bufpool_cpu - one CPU's magazine and fast-path counters
 * @lock: protects @count and @mag. Taken by its own CPU on every hit and,
 *	to empty the magazine, by any CPU (bufpool_cpu_drain()) and by the
 *	hotplug callback of a dead CPU. Always with interrupts off, so a
 *	hard IRQ that puts a buffer never finds it held on its own CPU.
 * @count: buffers in @mag, 0 .. 2 * pool->batch.
 * The counters are written only by their own CPU: under @lock on the
 * hit path, with this_cpu_*() elsewhere; bufpool_get_stats() sums them
 * without a lock.
 */
struct bufpool_cpu {
	raw_spinlock_t lock;
	unsigned int count;
	unsigned long allocs;
	unsigned long frees;
	unsigned long fails;
	unsigned long hits;
	unsigned long misses;
	struct bufpool_buf *mag[];
};

/*
 * struct bufpool - a pool
 *
 * The first cache line is read-mostly: the fast path reads its first 24
 * bytes, and nothing writes it after creation except @bypass.
 */
struct bufpool {
	/* What the fast path reads, first: fixed at creation but @bypass. */
	u32 magic;
	unsigned int flags;
	unsigned int batch;		/* magazine exchange size, 0: none */
	/*
	 * Set while anyone sleeps, the pool is dying or it is tight: the
	 * magazines are skipped, so that every returned buffer reaches the
	 * depot and the waiters. Written under the pool lock
	 * (bufpool_update_bypass_locked()); read under a magazine lock,
	 * which orders it against bufpool_cpu_drain() (see there).
	 */
	bool bypass;
	struct bufpool_cpu __percpu *cpu;	/* magazines and counters */
	/* Fixed at creation. */
	size_t buf_size;
	size_t buf_offset;		/* of the header in the object, or 0 */
	size_t buf_cost;		/* bytes of slab per buffer */
	unsigned int max_bufs;
	unsigned int min_bufs;
	unsigned int align;
	unsigned int tight_exit;	/* depot size that ends tight mode */
	struct kmem_cache *cache;	/* data, and the header if inline */
	/*
	 * If @indexed (headers apart, or BUFPOOL_F_LOOKUP): data >>
	 * @key_shift to header, for bufpool_data_to_buf(). The XArray's own
	 * lock, taken with interrupts off, serialises its changes; lookups
	 * take none.
	 */
	struct xarray bufs;
	unsigned int key_shift;
	bool indexed;
	const char *name;

	/* The pool lock protects everything below, up to @node. */
	raw_spinlock_t lock ____cacheline_aligned_in_smp;
	struct list_head waiters;	/* struct bufpool_waiter, FIFO */
	struct bufpool_buf *depot;	/* stack of idle buffers */
	unsigned int nr_free;		/* in the depot */
	unsigned int backed;		/* exist, or are being created */
	unsigned int growing;		/* of those, being created */
	unsigned int nr_waiters;
	unsigned int active;		/* callers inside the slow path */
	bool tight;			/* see bufpool_update_tight_locked() */
	/*
	 * The magazines are all empty: a drain ran to its end while @bypass
	 * stayed set, and no magazine takes a buffer while it is.
	 * @bypass_gen counts the times @bypass was set, to tell.
	 */
	bool mags_empty;
	unsigned int bypass_gen;
	unsigned int high_watermark;
	bool dying;
	u64 waits;
	u64 wait_ns_total;
	u64 wait_ns_max;
	u64 drains;
	u64 shrink_scans;
	u64 shrink_freed;
	u64 grow_fails;
	struct completion drained;	/* dying, all home, nobody inside */
	/*
	 * Growth on behalf of a notify request at the head of the queue,
	 * which nobody else may grow for (bufpool_grow_work()). Queued, it
	 * counts in @active.
	 */
	struct delayed_work grow_work;
	bool grow_queued;
	/* Set by bufpool_destroy_async(): free from a work item instead. */
	bool async;
	void (*release)(void *arg);
	void *release_arg;
	bool released;			/* the work is queued */
	struct rcu_work free_work;

	/* Under bufpool_list_lock. */
	struct list_head node;
	struct dentry *debugfs;
	struct hlist_node cpuhp_node;
	void *shrinker;			/* bufpool_shrinker.c owns it */
};

extern struct mutex bufpool_list_lock;
extern struct list_head bufpool_list;

/* bufpool_main.c */
#ifdef CONFIG_FAULT_INJECTION
extern struct fault_attr bufpool_fault_attr;
#endif
#define bufpool_lock(pool, flags)	raw_spin_lock_irqsave(&(pool)->lock, flags)
#define bufpool_unlock(pool, flags)	raw_spin_unlock_irqrestore(&(pool)->lock, flags)
bool bufpool_fault(void);
void bufpool_release_locked(struct bufpool *pool, struct bufpool_buf *buf);
void bufpool_note_out_locked(struct bufpool *pool);
void bufpool_free_buf(struct bufpool *pool, struct bufpool_buf *buf);
void bufpool_update_tight_locked(struct bufpool *pool);

static inline void *bufpool_buf_to_data(const struct bufpool_buf *buf)
{
	return buf->data;
}

/* Take an idle buffer off the depot, or NULL. Caller holds the pool lock. */
static inline struct bufpool_buf *bufpool_depot_pop(struct bufpool *pool)
{
	struct bufpool_buf *buf = pool->depot;

	if (buf) {
		pool->depot = buf->next;
		pool->nr_free--;
	}
	return buf;
}

/* Put an idle buffer on the depot. Caller holds the pool lock. */
static inline void bufpool_depot_push(struct bufpool *pool,
				      struct bufpool_buf *buf)
{
	buf->next = pool->depot;
	pool->depot = buf;
	pool->nr_free++;
}

/*
 * Test points: where a KUnit case (tests/bufpool_kunit.c) may hold a caller
 * to open a race window at will, and so catch a use after free or a lost
 * wakeup every time instead of once in a while. The hook is a function of
 * the test module, set only while one of its cases runs; it may sleep only
 * where the caller it stops may. Without KUnit the points compile to
 * nothing.
 */
enum bufpool_test_point {
	BUFPOOL_TP_SLOW_EXIT,	/* bufpool_get_slow() let go of the pool */
	BUFPOOL_TP_GROW,	/* a growth slot is reserved, the lock dropped */
	BUFPOOL_TP_SHUTDOWN,	/* bufpool_shutdown() is done: the pool may go */
	BUFPOOL_TP_MAG_PUSH,	/* a put read bypass clear, magazine locked */
	BUFPOOL_TP_RELAX,	/* a bulk move let go of the pool lock */
	BUFPOOL_TP_PUT,		/* a put found the last reference, not yet home */
	BUFPOOL_TP_DESTROY,	/* a destroy passed its "already dying" check */
	BUFPOOL_TP_CANCEL,	/* a cancel read the request's pool, unlocked */
	BUFPOOL_TP_DRAIN,	/* the slow path let go of the pool lock to drain */
};

#if IS_ENABLED(CONFIG_KUNIT)
extern void (*bufpool_test_hook)(enum bufpool_test_point tp);
void bufpool_set_test_hook(void (*hook)(enum bufpool_test_point tp));

static inline void bufpool_test_point(enum bufpool_test_point tp)
{
	void (*hook)(enum bufpool_test_point tp) = READ_ONCE(bufpool_test_hook);

	if (unlikely(hook))
		hook(tp);
}
#else
static inline void bufpool_test_point(enum bufpool_test_point tp)
{
}
#endif

/* bufpool_percpu.c */
int bufpool_percpu_init(void);
void bufpool_percpu_exit(void);
int bufpool_cpu_create(struct bufpool *pool);
void bufpool_cpu_destroy(struct bufpool *pool);
bool bufpool_cpu_pop_bulk(struct bufpool *pool, unsigned int n,
			  struct bufpool_buf **bufs);
bool bufpool_cpu_refill(struct bufpool *pool, struct bufpool_buf **bufp);
void bufpool_cpu_flush_locked(struct bufpool *pool, struct bufpool_cpu *c,
			      unsigned int n);
void bufpool_cpu_drain(struct bufpool *pool);
unsigned int bufpool_cpu_cached(struct bufpool *pool);

/* The magazine of this CPU, locked, with interrupts off. */
static __always_inline struct bufpool_cpu *
bufpool_cpu_lock(unsigned long *flags, struct bufpool *pool)
{
	struct bufpool_cpu *c;

	local_irq_save(*flags);
	c = this_cpu_ptr(pool->cpu);
	raw_spin_lock(&c->lock);
	return c;
}

static __always_inline void bufpool_cpu_unlock(struct bufpool_cpu *c,
					       unsigned long flags)
{
	raw_spin_unlock(&c->lock);
	local_irq_restore(flags);
}

/*
 * bufpool_cpu_pop - the allocation hit path (bufpool_percpu.c)
 *
 * Returns a buffer from this CPU's magazine, or NULL if it is empty,
 * disabled or bypassed. bypass is read before the lock, to skip it while
 * the pool is short, and again under it, where it counts.
 */
static __always_inline struct bufpool_buf *bufpool_cpu_pop(struct bufpool *pool)
{
	struct bufpool_buf *buf = NULL;
	struct bufpool_cpu *c;
	unsigned long flags;

	if (unlikely(!pool->batch || READ_ONCE(pool->bypass)))
		return NULL;
	c = bufpool_cpu_lock(&flags, pool);
	if (likely(c->count && !READ_ONCE(pool->bypass))) {
		buf = c->mag[--c->count];
		c->hits++;
	}
	bufpool_cpu_unlock(c, flags);
	return buf;
}

/*
 * bufpool_cpu_push - the free hit path (bufpool_percpu.c)
 *
 * Returns true if @buf, marked free, went into this CPU's magazine, false
 * if the caller must give it to the depot (bypassed or disabled). A full
 * magazine gives its oldest half to the depot first. As in
 * bufpool_cpu_pop(), the look at bypass before the lock only saves the
 * lock; the one under it is what a drain is ordered against.
 */
static __always_inline bool bufpool_cpu_push(struct bufpool *pool,
					     struct bufpool_buf *buf)
{
	struct bufpool_cpu *c;
	unsigned long flags;

	if (unlikely(!pool->batch || READ_ONCE(pool->bypass)))
		return false;
	c = bufpool_cpu_lock(&flags, pool);
	if (unlikely(READ_ONCE(pool->bypass))) {
		bufpool_cpu_unlock(c, flags);
		return false;
	}
	bufpool_test_point(BUFPOOL_TP_MAG_PUSH);
	if (unlikely(c->count == 2 * pool->batch))
		bufpool_cpu_flush_locked(pool, c, pool->batch);
	else
		c->hits++;
	c->mag[c->count++] = buf;
	bufpool_cpu_unlock(c, flags);
	return true;
}

/* bufpool_shrinker.c */
int bufpool_shrinker_register(struct bufpool *pool);
void bufpool_shrinker_unregister(struct bufpool *pool);

/* bufpool_debugfs.c */
struct fault_attr;
void bufpool_debugfs_init(void);
void bufpool_debugfs_fault(struct fault_attr *attr);
void bufpool_debugfs_exit(void);
void bufpool_debugfs_add(struct bufpool *pool);
void bufpool_debugfs_remove(struct bufpool *pool);

#endif /* _BUFPOOL_INTERNAL_H */
