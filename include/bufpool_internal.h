/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bufpool internals, shared by the bufpool_*.c files and nothing else.
 *
 * A pool is layers, each calling only those below it, each with a prefix
 * of its own:
 *
 *   bufpool_main.c      bufpool_          the API and a pool's life
 *   bufpool_shrinker.c  bufpool_shrink_   memory pressure
 *   bufpool_debugfs.c   bufpool_debugfs_  /sys/kernel/debug/bufpool
 *   bufpool_percpu.c    bufpool_mag_      per-CPU magazines
 *   bufpool_depot.c     bufpool_depot_    the free list, the waiters,
 *                                         growth and the slab
 *
 * The design is in DOC: blocks in those files, pulled together by
 * Documentation/bufpool.rst. This header says what protects what.
 *
 * Locks, outermost first:
 *
 *  - bufpool_list_lock (mutex): the list of pools (live and dying),
 *    names, debugfs. Taken by the service work, so never held while
 *    waiting for a pool to be done.
 *  - bufpool.lock (raw spinlock, interrupts off): the depot, the waiters
 *    and everything else marked "pool lock" below. Raw because buffers
 *    are put from hard IRQ, where a spinlock_t sleeps on PREEMPT_RT: so
 *    the work under it is bounded (BUFPOOL_LOCKED_MAX buffers before it
 *    is dropped and taken again), nothing is allocated, freed or printed
 *    under it, and it nests outside only the scheduler's raw locks
 *    (wake_up_process(), complete()) and the workqueue's.
 *
 * The magazines take no lock at all (bufpool_percpu.c says how).
 *
 * Every section under the pool lock runs with interrupts off, and every
 * magazine section with preemption off: each is an RCU read-side
 * critical section, so a destroy that waits for an RCU grace period
 * after the last event that could let it go on knows them all over.
 */
#ifndef _BUFPOOL_INTERNAL_H
#define _BUFPOOL_INTERNAL_H

#include <linux/bufpool.h>
#include <linux/cache.h>
#include <linux/completion.h>
#include <linux/fault-inject.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/seqlock.h>
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
				 BUFPOOL_F_NO_MAGAZINES | BUFPOOL_F_LOOKUP | \
				 BUFPOOL_F_ACCOUNT | BUFPOOL_F_DMA_MAP | \
				 BUFPOOL_F_DMA_SYNC_DEV | BUFPOOL_F_NODE)
/*
 * In pool->flags only, never a caller's: the pool has a node, and its
 * puts count those from other nodes. A flag, so that the put hit path
 * tests it with %BUFPOOL_F_POISON in the one test it makes anyway.
 */
#define BUFPOOL_PF_NODE		0x80000000U

/* Sleep at most this long while growth is failing, then try again. */
#define BUFPOOL_GROW_RETRY	(HZ / 10)
/* bufpool_destroy() complains this often about buffers still in use. */
#define BUFPOOL_DESTROY_WARN	(5 * HZ)
/* Most buffers moved in one hold of the pool lock. */
#define BUFPOOL_LOCKED_MAX	32

/*
 * struct bufpool_buf - the header of every buffer
 * @data: the buffer's data, fixed for the buffer's life. First, so that
 *	bufpool_buf_data() in <linux/bufpool.h> is one load.
 * @ref: references; 1 after allocation, 0 while idle in the pool. Written
 *	with a plain store when the buffer changes hands (nobody else can
 *	hold it then), so the single-holder alloc/put pair does no atomic.
 * @magic: %BUFPOOL_BUF_LIVE or %BUFPOOL_BUF_FREE; catches puts of idle
 *	buffers and of pointers that are no buffer at all.
 * @pool: the owner.
 * @next: link in the depot, or in a local list, while idle.
 * @holder: while live: who took it, the return address of the API call
 *	that handed it out (the holders file, and destroy's report).
 * @since: while live: when it was handed out, in jiffies.
 *
 * @holder and @since are written by the hand-out, before @magic turns
 * %BUFPOOL_BUF_LIVE with a release; @holder shares its word with @next,
 * which only the pool lock's holder writes, on buffers going to the
 * depot or leaving it: bufpool_depot_holders() reads them under that lock.
 */
struct bufpool_buf {
	void *data;
	refcount_t ref;
	u32 magic;
	struct bufpool *pool;
	union {
		struct bufpool_buf *next;
		unsigned long holder;
	};
	unsigned long since;
};

/*
 * struct bufpool_dma_buf - the header of a buffer of a DMA-mapped pool
 * @buf: the header every buffer has; first
 * @dma: the bus address of the data, fixed from creation
 * @node: in pool->dma_bufs while the data is mapped, else empty; under
 *	pool->dma_lock
 *
 * Only %BUFPOOL_F_DMA_MAP pools have these longer headers (their inline
 * layout and their apart cache are sized for it), so that no other pool
 * pays for them.
 */
struct bufpool_dma_buf {
	struct bufpool_buf buf;
	dma_addr_t dma;
	struct list_head node;
};

static inline struct bufpool_dma_buf *bufpool_dma_buf_of(const struct bufpool_buf *buf)
{
	return container_of(buf, struct bufpool_dma_buf, buf);
}

/*
 * struct bufpool_waiter - a caller in line for buffers (bufpool's own)
 * @node: in the pool's queue, in arrival order; empty once dequeued.
 * @task: the sleeper, or NULL for a &struct bufpool_notify.
 * @bufs: where handed-over buffers go.
 * @want: how many the caller asked for.
 * @got: how many it holds; a bulk waiter keeps what it is handed until
 *	it has all of them, so it cannot be starved by single requests.
 * @start: when it queued, in ktime_get_ns() time.
 * @submitting: its caller is still inside bufpool: a notify request
 *	dequeued meanwhile is answered by that call's return, not by its
 *	callback.
 * @handoff: returned buffers go straight to it, at the head: it asked
 *	(it woke and found nothing), or it is a bulk or notify request.
 * @woken: at the head, woken for a buffer left on the free list.
 * @passed: a running caller took that buffer: the next is handed over.
 * @empty_wakeups: times it woke for a buffer and found none.
 *
 * All fields but @task are under the pool lock.
 */
struct bufpool_waiter {
	struct list_head node;
	struct task_struct *task;
	struct bufpool_buf **bufs;
	unsigned int want;
	unsigned int got;
	u64 start;
	bool submitting;
	bool handoff;
	bool woken;
	bool passed;
	unsigned int empty_wakeups;
};

/*
 * struct bufpool_req - the inside of a &struct bufpool_notify
 * @w: its place in line; @w.task is NULL
 * @pool: the pool it is queued on, under that pool's lock (written with
 *	the release of @state, read with its acquire by a cancel)
 * @work: runs the callback
 * @state: BUFPOOL_NOTIFY_*
 * @err: the outcome, for the callback or the call that is still inside
 * @ip: the caller of bufpool_alloc_notify(): the buffers' holder
 */
struct bufpool_req {
	struct bufpool_waiter w;
	struct bufpool *pool;
	struct irq_work work;
	atomic_t state;
	int err;
	unsigned long ip;
};

static_assert(sizeof(struct bufpool_req) <=
	      sizeof_field(struct bufpool_notify, priv));

static inline struct bufpool_req *bufpool_req_of(struct bufpool_notify *nb)
{
	return (struct bufpool_req *)nb->priv;
}

static inline struct bufpool_notify *bufpool_notify_of(struct bufpool_req *req)
{
	return container_of((unsigned long *)req, struct bufpool_notify, priv[0]);
}

/* Why an allocation failed: the fails_* counters, in this order. */
#define BUFPOOL_FAIL_REASONS	\
	(BUFPOOL_STAT_FAILS_SIGNAL - BUFPOOL_STAT_FAILS_EXHAUSTED + 1)

/*
 * struct bufpool_mag - one CPU's magazine and fast-path counters
 * @head: the next slot to take. Any CPU takes, with one cmpxchg.
 * @tail: the next slot to fill. Only this CPU fills (and writes @tail),
 *	with a release that publishes the slot.
 * @busy: this CPU is filling a slot; a put nested in it (an interrupt on
 *	this CPU) goes to the depot instead. Plain stores by this CPU only,
 *	under preempt_disable(); read by this CPU only.
 * @flagged: this CPU's copy of the parity of its word in pool->mag_state.
 *	This CPU only.
 * @allocs, @frees: buffers handed out and taken home on this CPU; on the
 *	hit path, with this_cpu_inc().
 * @misses: allocations and frees of this CPU that left the hit path.
 * @fails: allocation calls of this CPU that got no buffer, by reason
 *	(&enum bufpool_trace_reason, the order of the fails_* counters).
 * @steals: buffers this CPU took from another CPU's magazine.
 * @remote_frees: buffers this CPU returned to a pool of another node.
 * @slots: the ring, pool->mag_mask + 1 entries.
 *
 * The counters are written only by their own CPU, with this_cpu_*(), and
 * summed by bufpool_get_stats() with READ_ONCE(). Slots in [@head,
 * @tail) hold idle buffers; @head and @tail only grow, so two reads that
 * agree saw a magazine that did not change between them.
 */
struct bufpool_mag {
	unsigned long head;
	unsigned long tail;
	bool busy;
	bool flagged;
	unsigned long allocs;
	unsigned long frees;
	unsigned long misses;
	unsigned long fails[BUFPOOL_FAIL_REASONS];
	unsigned long steals;
	unsigned long remote_frees;
	struct bufpool_buf *slots[];
};

/*
 * struct bufpool - a pool
 *
 * The first cache line is read-mostly: the hit paths read it and nothing
 * writes it after creation but @bypass.
 */
struct bufpool {
	/* What the hit paths read: fixed at creation, but @bypass. */
	u32 magic;
	unsigned int flags;
	unsigned int mag_mask;		/* slots per magazine - 1; 0: none */
	/*
	 * Set, under the pool lock, while anyone waits or the pool is dying:
	 * returned buffers then go to the depot, where the waiters are
	 * (bufpool_percpu.c, "Waiters and the magazines"). Read without
	 * a lock: READ_ONCE().
	 */
	bool bypass;
	struct bufpool_mag __percpu *mags;
	/*
	 * One word per possible CPU, odd while that CPU's magazine may hold
	 * buffers: written by that CPU only (bufpool_mag_flag()), read by any.
	 */
	u32 *mag_state;
	/* Fixed at creation. */
	size_t buf_size;		/* what each holds: asked_size or more */
	size_t asked_size;
	size_t buf_offset;		/* of the header in the object, or 0 */
	size_t buf_cost;		/* bytes of slab per buffer */
	size_t hdr_size;		/* of each header: see bufpool_dma_buf */
	unsigned int max_bufs;
	unsigned int min_bufs;
	unsigned int align;
	int nid;			/* of every buffer, or NUMA_NO_NODE */
	struct kmem_cache *cache;	/* data, and the header if inline */
	/*
	 * DMA: @dev (referenced) and @dma_dir fixed at creation. With
	 * %BUFPOOL_F_DMA_MAP, @dma_bufs lists the headers of the buffers
	 * whose data is mapped, and @dma_gone says that
	 * bufpool_depot_unmap_all() unmapped them all: both under
	 * @dma_lock, a spinlock_t taken with interrupts off, never under
	 * the pool lock (the DMA API takes locks of its own) nor in hard
	 * IRQ on PREEMPT_RT. @dma_gone is read without it by the sync
	 * calls: READ_ONCE().
	 */
	struct device *dev;
	enum dma_data_direction dma_dir;
	spinlock_t dma_lock;		/* @dma_bufs, @dma_gone */
	struct list_head dma_bufs;
	bool dma_gone;
	/*
	 * Every buffer, by data >> @key_shift: for bufpool_data_to_buf()
	 * and the holders walk. Changes take the XArray's own lock, with
	 * interrupts off; readers take none: they read under RCU, and the
	 * headers' caches are SLAB_TYPESAFE_BY_RCU (bufpool_depot_lookup(),
	 * bufpool_depot_holders()).
	 */
	struct xarray bufs;
	unsigned int key_shift;
	const char *name;
	/* Its slab cache's, unique among the pools on bufpool_list. */
	const char *slab_name;
	/* Never reused: names a dying pool's debugfs directory. */
	unsigned long id;
	/* BUFPOOL_F_ACCOUNT: charged with all its buffers (a reference). */
	struct mem_cgroup *memcg;

	/* The pool lock protects everything below, up to @node. */
	raw_spinlock_t lock ____cacheline_aligned_in_smp;
	struct list_head waiters;	/* struct bufpool_waiter, FIFO */
	struct bufpool_buf *depot;	/* stack of idle buffers */
	unsigned int nr_free;		/* in the depot */
	unsigned int backed;		/* exist, or are being created */
	unsigned int growing;		/* of those, being created */
	unsigned int nr_waiters;
	unsigned int active;		/* callers inside, and queued work */
	/*
	 * A write section around every buffer put on the free list, and
	 * every move between the depot and a magazine or two magazines, so
	 * that no buffer is ever in neither unseen: the snapshot of
	 * bufpool_mag_steal() reads it ("Exact at the cap").
	 */
	seqcount_raw_spinlock_t depot_seq;
	/*
	 * No magazine holds a buffer: a sweep ran to its end after @bypass
	 * was set, and none takes one while it stays set. @bypass_gen
	 * counts the times @bypass was set, to tell.
	 */
	bool mags_empty;
	unsigned int bypass_gen;
	/* What bufpool_service() is to do: BUFPOOL_SERVICE_*. */
	unsigned int service;
	bool service_queued;
	unsigned int high_watermark;
	/*
	 * Set once, by the destroy that stops the pool; read without the
	 * lock (READ_ONCE()) by bufpool_create(), to which the name of a
	 * dying pool is free.
	 */
	bool dying;
	u64 waits;
	u64 wait_ns_total;
	u64 wait_ns_max;
	u64 sweeps;
	u64 barges;
	u64 handoffs;
	u64 empty_wakeups;
	u64 shrink_scans;
	u64 shrink_freed;
	u64 grow_fails;
	struct completion home;		/* dying, all home, nobody inside */
	/* Set by bufpool_destroy_async(): free from a work item instead. */
	bool async;
	void (*release)(void *arg);
	void *release_arg;
	bool released;			/* the work is queued */

	/* Set up at creation, then only queued and run. */
	struct delayed_work service_work;	/* counts in @active, queued */
	struct rcu_work free_work;

	/*
	 * @node, @debugfs and @retired are written and read under
	 * bufpool_list_lock (but in module exit, which runs alone): a
	 * dying pool's directory is moved out of its name's way by
	 * whoever gets there first, its destroy, the service work or a
	 * bufpool_create() of the same name. The others are set up by
	 * bufpool_create() and torn down by the one thread that ends the
	 * pool (bufpool_shutdown(), bufpool_free_work(), bufpool_exit()),
	 * with or without the lock: nobody else writes them (the hotplug
	 * core walks @cpuhp_node under its own lock).
	 */
	struct list_head node;
	struct dentry *debugfs;
	bool retired;			/* @debugfs moved to dying/ */
	struct hlist_node cpuhp_node;
	void *shrinker;			/* bufpool_shrinker.c owns it */
};

/* What the pool's service work is asked to do (bufpool_main.c). */
#define BUFPOOL_SERVICE_SWEEP	0x1	/* a notify request waits: sweep */
#define BUFPOOL_SERVICE_GROW	0x2	/* grow for a notify request */
#define BUFPOOL_SERVICE_BYPASS	0x4	/* the last waiter left a while ago */
#define BUFPOOL_SERVICE_RETIRE	0x8	/* destroyed: debugfs dir to dying/ */
/*
 * The magazines stay off this long after the last waiter leaves, so that
 * waiting episodes that follow each other closely pay for one sweep, not
 * one each (bufpool_depot_update_bypass_locked()).
 */
#define BUFPOOL_BYPASS_LINGER	max(HZ / 100, 1)

/* The counters' names, by enum bufpool_stat (bufpool_main.c). */
extern const char *const bufpool_stat_names[BUFPOOL_STAT_NR];

extern struct mutex bufpool_list_lock;
extern struct list_head bufpool_list;
extern struct workqueue_struct *bufpool_wq;

#ifdef CONFIG_FAULT_INJECTION
extern struct fault_attr bufpool_fault_attr;
#endif
bool bufpool_fault(void);

/*
 * Test points: where a KUnit case may hold a caller to open a race window
 * at will, and so catch a use after free or a lost wakeup every time
 * instead of once in a while. The hook is a function of the test module,
 * set only while one of its cases runs; it may sleep only where the
 * caller it stops may. Without KUnit the points compile to nothing.
 */
enum bufpool_test_point {
	BUFPOOL_TP_SLOW_EXIT,	/* the slow path let go of the pool */
	BUFPOOL_TP_GROW,	/* a growth slot is reserved, the lock dropped */
	BUFPOOL_TP_SHUTDOWN,	/* destroy is done waiting: the pool may go */
	BUFPOOL_TP_MAG_PUT,	/* a put holds its magazine, the slot not filled */
	BUFPOOL_TP_RELAX,	/* a bulk move let go of the pool lock */
	BUFPOOL_TP_PUT,		/* a put found the last reference, not yet home */
	BUFPOOL_TP_DESTROY,	/* a destroy passed its "already dying" check */
	BUFPOOL_TP_CANCEL,	/* a cancel read the request's pool, unlocked */
	BUFPOOL_TP_DRAIN,	/* the slow path let go of the pool lock: sweep */
	BUFPOOL_TP_STEAL,	/* a steal looked at one magazine */
	BUFPOOL_TP_ENQUEUE,	/* a caller is about to queue, the lock held */
	BUFPOOL_TP_WOKEN,	/* a sleeper woke, the lock not yet taken */
	BUFPOOL_TP_SERVICE,	/* the service work runs, the lock not yet taken */
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

/* bufpool_main.c: devm_bufpool_create()'s devres release (tests find it). */
struct device;
void bufpool_devm_release(struct device *dev, void *res);

/* bufpool_depot.c */
#define bufpool_depot_lock(pool, flags)	raw_spin_lock_irqsave(&(pool)->lock, flags)
#define bufpool_depot_unlock(pool, flags) \
	raw_spin_unlock_irqrestore(&(pool)->lock, flags)

/* How far a caller may go to get buffers: bufpool_depot_take_locked(). */
struct bufpool_take {
	gfp_t gfp;
	bool may_grow;		/* this context may call the slab */
	bool grow;		/* now: growth is the next step */
	bool grow_failed;	/* since the last sleep */
	bool queued;
};

int bufpool_depot_init(void);
void bufpool_depot_exit(void);
int bufpool_depot_create(struct bufpool *pool, size_t buf_size);
void bufpool_depot_destroy(struct bufpool *pool);
struct bufpool_buf *bufpool_depot_lookup(struct bufpool *pool,
					 const void *data);

/* Most call sites bufpool_depot_holders() tells apart; the rest are lumped. */
#define BUFPOOL_HOLDER_SITES	64

/*
 * struct bufpool_holders - who holds a pool's buffers, by call site
 * @nr: sites in @site, most buffers first
 * @held: buffers found in use
 * @others: of those, held by sites beyond @site's room
 * @site: each call site (@ip, the caller of the API call that handed the
 *	buffers out), how many it holds (@count) and since when its oldest
 *	(@since, jiffies)
 */
struct bufpool_holders {
	unsigned int nr;
	unsigned long held;
	unsigned long others;
	struct bufpool_holder {
		unsigned long ip;
		unsigned long count;
		unsigned long since;
	} site[BUFPOOL_HOLDER_SITES];
};

void bufpool_depot_holders(struct bufpool *pool, struct bufpool_holders *h);
/* Room for a call site's name: most symbols, with their module. */
#define BUFPOOL_SITE_NAME_LEN	128
void bufpool_depot_site_name(char *buf, size_t len, unsigned long ip);
void bufpool_depot_free_buf(struct bufpool *pool, struct bufpool_buf *buf);
void bufpool_depot_unmap_all(struct bufpool *pool);
struct bufpool_buf *bufpool_depot_pop_locked(struct bufpool *pool);
void bufpool_depot_push_locked(struct bufpool *pool, struct bufpool_buf *buf);
void bufpool_depot_move_in_locked(struct bufpool *pool,
				  struct bufpool_buf **bufs, unsigned int n);
void bufpool_depot_end_bypass(struct bufpool *pool);
void bufpool_depot_note_out_locked(struct bufpool *pool);
unsigned int bufpool_depot_out_locked(struct bufpool *pool);
void bufpool_depot_give_back_locked(struct bufpool *pool,
				    struct bufpool_buf **bufs,
				    unsigned int *got, unsigned long *flags);
void bufpool_depot_enter(struct bufpool *pool, struct bufpool_waiter *w,
			 unsigned long *flags) __acquires(&pool->lock);
void bufpool_depot_leave(struct bufpool *pool, unsigned long flags)
	__releases(&pool->lock);
int bufpool_depot_take_locked(struct bufpool *pool, struct bufpool_waiter *w,
			      struct bufpool_take *t, unsigned long *flags);
void bufpool_depot_enqueue_locked(struct bufpool *pool,
				  struct bufpool_waiter *w,
				  unsigned long *flags);
int bufpool_depot_sleep_locked(struct bufpool *pool, unsigned int state,
			       long *timeout, struct bufpool_take *t,
			       unsigned long *flags);
int bufpool_depot_end_locked(struct bufpool *pool, struct bufpool_waiter *w,
			     struct bufpool_take *t, int err,
			     unsigned long *flags);
bool bufpool_depot_dequeue_req(struct bufpool_req *req);
void bufpool_depot_grow_for_head(struct bufpool *pool);
void bufpool_depot_request_locked(struct bufpool *pool, unsigned int what,
				  unsigned long delay);
bool bufpool_depot_stop(struct bufpool *pool, bool async,
			void (*release)(void *arg), void *arg,
			unsigned long ip);
void bufpool_depot_check_home_locked(struct bufpool *pool);
unsigned long bufpool_depot_shrink_count(struct bufpool *pool,
					 unsigned long *idle);
unsigned long bufpool_depot_shrink(struct bufpool *pool, unsigned long n);

/* The notify request @w is part of, or NULL for a sleeper. */
static inline struct bufpool_req *bufpool_waiter_req(struct bufpool_waiter *w)
{
	return w->task ? NULL : container_of(w, struct bufpool_req, w);
}

/* bufpool_percpu.c */
int bufpool_mag_init(void);
void bufpool_mag_exit(void);
int bufpool_mag_create(struct bufpool *pool);
void bufpool_mag_destroy(struct bufpool *pool);
bool bufpool_mag_refill(struct bufpool *pool, struct bufpool_buf **bufp);
void bufpool_mag_note_empty(struct bufpool *pool);
bool bufpool_mag_take_bulk(struct bufpool *pool, unsigned int n,
			   struct bufpool_buf **bufs);
void bufpool_mag_put_slow(struct bufpool *pool, struct bufpool_buf *buf);
void bufpool_mag_flush(struct bufpool *pool, struct bufpool_mag *m);
int bufpool_mag_steal(struct bufpool *pool, struct bufpool_buf **bufs,
		      unsigned int want, unsigned int *enough);
void bufpool_mag_sweep(struct bufpool *pool);
unsigned int bufpool_mag_cached(struct bufpool *pool);
unsigned long bufpool_mag_shrink(struct bufpool *pool, unsigned long n);
void bufpool_mag_flag(struct bufpool *pool, struct bufpool_mag *m);

/*
 * bufpool_mag_take - take an idle buffer from a magazine, any CPU's
 * @m: the magazine
 * @mask: pool->mag_mask
 *
 * The allocation hit path (on this CPU's magazine) and the steal (on
 * another's) alike: one cmpxchg on @head, nothing else locked.
 *
 * Return: a buffer, or NULL if @m is empty.
 */
static __always_inline struct bufpool_buf *
bufpool_mag_take(struct bufpool_mag *m, unsigned int mask)
{
	unsigned long head = READ_ONCE(m->head);
	struct bufpool_buf *buf;

	do {
		/* Pairs with the release in bufpool_mag_put(): slot filled. */
		if (head == smp_load_acquire(&m->tail))
			return NULL;
		/*
		 * The slot may be refilled under us only once @head has moved
		 * past it, and then the cmpxchg fails: a marked read.
		 */
		buf = READ_ONCE(m->slots[head & mask]);
		/* Release: the slot is read before it is given back. */
	} while (!try_cmpxchg_release(&m->head, &head, head + 1));
	return buf;
}

/*
 * bufpool_mag_put - the free hit path: @buf into this CPU's magazine
 * @pool: the pool, which has magazines
 * @buf: the buffer, marked free
 *
 * No locked instruction and no interrupt disabling: only this CPU fills
 * its magazine, and the busy marker sends a put nested in this one (an
 * interrupt) to the depot. @bypass is read before filling, to skip the
 * magazine while anyone waits, and again after, for a sleeper whose
 * barrier came in between (bufpool_mag_sweep()).
 *
 * Return: true if @buf is in, false if the caller must use
 * bufpool_mag_put_slow() (bypassed, busy or full).
 */
static __always_inline bool bufpool_mag_put(struct bufpool *pool,
					    struct bufpool_buf *buf)
{
	struct bufpool_mag *m;
	unsigned long tail;

	preempt_disable();
	m = this_cpu_ptr(pool->mags);
	if (likely(!READ_ONCE(m->busy) && !READ_ONCE(pool->bypass))) {
		WRITE_ONCE(m->busy, true);
		barrier();
		tail = m->tail;
		/* Between the read of @tail and the fill: a nested put's window. */
		bufpool_test_point(BUFPOOL_TP_MAG_PUT);
		/* Pairs with the release in bufpool_mag_take(): slot read. */
		if (likely(tail - smp_load_acquire(&m->head) <= pool->mag_mask)) {
			if (unlikely(!m->flagged))
				bufpool_mag_flag(pool, m);
			WRITE_ONCE(m->slots[tail & pool->mag_mask], buf);
			/* Publish: pairs with the acquires of @tail by takers. */
			smp_store_release(&m->tail, tail + 1);
			barrier();
			WRITE_ONCE(m->busy, false);
			preempt_enable();
			/* A waiter came while we filled it: the buffers are theirs. */
			if (unlikely(READ_ONCE(pool->bypass)))
				bufpool_mag_flush(pool, m);
			return true;
		}
		barrier();
		WRITE_ONCE(m->busy, false);
	}
	preempt_enable();
	return false;
}

/* bufpool_shrinker.c */
int bufpool_shrink_register(struct bufpool *pool);
void bufpool_shrink_unregister(struct bufpool *pool);

/* bufpool_debugfs.c */
struct fault_attr;
void bufpool_debugfs_init(void);
void bufpool_debugfs_fault(struct fault_attr *attr);
void bufpool_debugfs_exit(void);
void bufpool_debugfs_add(struct bufpool *pool);
void bufpool_debugfs_retire(struct bufpool *pool);
void bufpool_debugfs_remove(struct bufpool *pool);
/* The show functions of a pool's stats and holders files. */
struct seq_file;
int bufpool_debugfs_stats_show(struct seq_file *m, void *unused);
int bufpool_debugfs_holders_show(struct seq_file *m, void *unused);

#endif /* _BUFPOOL_INTERNAL_H */
