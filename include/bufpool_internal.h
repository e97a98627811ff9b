/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bufpool internals, shared by the bufpool_*.c files and nothing else.
 *
 * A pool is three layers, fastest first:
 *
 *  1. Per-CPU magazines (bufpool_percpu.c): a small stack of free buffers
 *     per CPU, touched only by its own CPU with no lock and no atomic
 *     read-modify-write. Full and empty magazines are exchanged with the
 *     depot in batches.
 *  2. The depot: a stack of free buffers under the pool lock, which also
 *     serialises growth, the wait queue and the counters below it.
 *  3. The slab cache: buffers are created in it up to max_bufs and given
 *     back by the shrinker (bufpool_shrinker.c) above min_bufs.
 *
 * Every buffer is one slab object: its data first, so that the cache's
 * alignment is the data's alignment, then a struct bufpool_buf trailer.
 *
 * Lock order: bufpool_list_lock (mutex), then pool->waitq.lock. The pool
 * lock is taken with interrupts off, since buffers are put from hard IRQ;
 * nothing is allocated and no IPI is sent while holding it. Under it the
 * pool wakes tasks (wake_up_process(), complete()) and queues its drain
 * work (queue_work()), so it nests outside the scheduler's and the
 * workqueue's locks; nothing of bufpool is called with those held.
 */
#ifndef _BUFPOOL_INTERNAL_H
#define _BUFPOOL_INTERNAL_H

#include <linux/bufpool.h>
#include <linux/cache.h>
#include <linux/completion.h>
#include <linux/fault-inject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#define BUFPOOL_BUF_LIVE	0xb0f1a11cU	/* handed out */
#define BUFPOOL_BUF_FREE	0xb0f1f7eeU	/* idle in the pool */
#define BUFPOOL_POISON		0x6b
#define BUFPOOL_POOL_MAGIC	0xb0f1900dU
#define BUFPOOL_F_ALL		(BUFPOOL_F_ZERO | BUFPOOL_F_POISON | \
				 BUFPOOL_F_NO_MAGAZINES)

/* Sleep at most this long while growth is failing, then try again. */
#define BUFPOOL_GROW_RETRY	(HZ / 10)
/* bufpool_destroy() complains this often about buffers still in use. */
#define BUFPOOL_DESTROY_WARN	(5 * HZ)

/*
 * struct bufpool_buf - the trailer of every buffer
 * @ref: references; 1 after allocation, 0 while idle in the pool. Written
 *	with a plain store when the buffer changes hands (nobody else can
 *	hold it then), so the single-holder alloc/put pair does no atomic.
 * @magic: %BUFPOOL_BUF_LIVE or %BUFPOOL_BUF_FREE; catches puts of idle
 *	buffers and of pointers that are no buffer at all.
 * @pool: the owner.
 * @next: link in the depot, or in a local list; meaningless when live.
 */
struct bufpool_buf {
	refcount_t ref;
	u32 magic;
	struct bufpool *pool;
	struct bufpool_buf *next;
};

/*
 * struct bufpool_cpu - one CPU's magazine and fast-path counters
 *
 * @busy and @count/@mag are touched only by their own CPU, with preemption
 * off, between bufpool_cpu_enter() and bufpool_cpu_leave(): @busy makes
 * that section a local trylock, so an interrupt that finds it set (it
 * interrupted its own CPU's fast path) takes the pool lock instead. No
 * atomic instruction is needed because no other CPU ever reads them,
 * except bufpool_cpu_dead() once their CPU is gone. Once a flush has given
 * back the last buffer of a dying pool, the pool may be freed: the section
 * then writes nothing but @busy, and bufpool_shutdown() waits it out with
 * synchronize_rcu() (the section has preemption or interrupts off).
 * @flush_pending: set by a drain IPI that found @busy; the interrupted
 *	section empties the magazine itself in bufpool_cpu_leave().
 * The counters are updated with this_cpu_*() from any context and summed
 * without a lock by bufpool_get_stats().
 */
struct bufpool_cpu {
	bool busy;
	bool flush_pending;
	unsigned int count;
	unsigned long allocs;
	unsigned long frees;
	unsigned long fails;
	unsigned long hits;
	unsigned long misses;
	struct bufpool_buf *mag[];
};

/*
 * struct bufpool_waiter - a sleeping caller, queued on pool->waitq
 * @wq: the wait-queue entry; bufpool_wake() hands buffers through it.
 * @task: the sleeper.
 * @bufs: where handed-over buffers go.
 * @want: how many the caller asked for.
 * @got: how many it holds; a bulk waiter keeps what it is handed until
 *	it has all of them, so it cannot be starved by single requests.
 * All fields but @task are under pool->waitq.lock.
 */
struct bufpool_waiter {
	struct wait_queue_entry wq;
	struct task_struct *task;
	struct bufpool_buf **bufs;
	unsigned int want;
	unsigned int got;
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
	 * magazines are skipped so that every returned buffer reaches the
	 * depot and the waiters. Written under the lock
	 * (bufpool_update_bypass_locked()); read locklessly inside the fast
	 * path's section, which a drain IPI orders against (see
	 * bufpool_percpu.c).
	 */
	bool bypass;
	struct bufpool_cpu __percpu *cpu;	/* magazines and counters */
	/* Fixed at creation. */
	size_t buf_size;
	size_t buf_offset;		/* of the trailer in the object */
	unsigned int max_bufs;
	unsigned int min_bufs;
	unsigned int align;
	unsigned int tight_exit;	/* depot size that ends tight mode */
	struct kmem_cache *cache;
	const char *name;

	/*
	 * The pool lock is waitq.lock, so that handing a buffer to a waiter
	 * (__wake_up_locked_key()) happens in the same critical section that
	 * decided there was one. It protects everything below.
	 */
	wait_queue_head_t waitq ____cacheline_aligned_in_smp;
	struct bufpool_buf *depot;	/* stack of idle buffers */
	unsigned int nr_free;		/* in the depot */
	unsigned int backed;		/* exist, or are being created */
	unsigned int growing;		/* of @backed, being created */
	unsigned int nr_waiters;
	unsigned int active;		/* callers inside the slow path */
	bool tight;			/* at the cap: see bufpool_cpu_tight() */
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

	/* Under bufpool_list_lock. */
	struct list_head node;
	struct dentry *debugfs;
	/* Asynchronous drain for callers that cannot send IPIs. */
	struct work_struct drain_work;
	struct hlist_node cpuhp_node;
	void *shrinker;			/* bufpool_shrinker.c owns it */
};

extern struct mutex bufpool_list_lock;
extern struct list_head bufpool_list;

/* bufpool_main.c */
#ifdef CONFIG_FAULT_INJECTION
extern struct fault_attr bufpool_fault_attr;
#endif
#define bufpool_lock(pool, flags)	spin_lock_irqsave(&(pool)->waitq.lock, flags)
#define bufpool_unlock(pool, flags)	spin_unlock_irqrestore(&(pool)->waitq.lock, flags)
bool bufpool_fault(void);
void bufpool_release_locked(struct bufpool *pool, struct bufpool_buf *buf);
void bufpool_note_out_locked(struct bufpool *pool);
void bufpool_free_buf(struct bufpool *pool, struct bufpool_buf *buf);
void bufpool_update_bypass_locked(struct bufpool *pool);

static inline void *bufpool_buf_to_data(const struct bufpool_buf *buf)
{
	return (void *)buf - buf->pool->buf_offset;
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
	BUFPOOL_TP_FLUSH,	/* a magazine flush is about to give buffers back */
	BUFPOOL_TP_FLUSHED,	/* ... and has given them back */
	BUFPOOL_TP_SHUTDOWN,	/* bufpool_shutdown() is done: the pool may go */
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
struct bufpool_buf *bufpool_cpu_pop(struct bufpool *pool);
bool bufpool_cpu_pop_bulk(struct bufpool *pool, unsigned int n,
			  struct bufpool_buf **bufs);
bool bufpool_cpu_push(struct bufpool *pool, struct bufpool_buf *buf);
bool bufpool_cpu_refill(struct bufpool *pool, struct bufpool_buf **bufp);
void bufpool_cpu_drain(struct bufpool *pool, bool may_sleep);
void bufpool_cpu_tight(struct bufpool *pool);
unsigned int bufpool_cpu_cached(struct bufpool *pool);

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
