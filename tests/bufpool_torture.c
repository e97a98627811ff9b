// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool torture: a bounded stress run, in iterations, not wall time.
 *
 * At load it runs @phases phases. In each, a few pools of different
 * layouts are shared by @nthreads worker threads per online CPU, each
 * doing @iterations operations picked by a seeded PRNG (the seed is
 * printed, and seed=N replays the same choices): allocations that fail at
 * once, wait with short timeouts or are cut short by signals, bulk ones,
 * puts from the worker, from a hard-IRQ hrtimer, from a tasklet and from
 * another CPU by IPI, buffers handed from worker to worker, with and
 * without an extra reference, bulk waits larger than a magazine, notify
 * requests (issued, served, cancelled). A hard-IRQ hrtimer allocates with
 * GFP_ATOMIC from a pool the workers keep at its cap, puts what it got at
 * its next run, and issues notify requests of its own. Beside them, one
 * thread runs the pools'
 * shrinkers, samples their invariants under the pool lock and signals the
 * workers; one takes CPUs offline and online again; one creates and
 * destroys pools of its own while their buffers are still out, with a
 * thread that brings those home late.
 *
 * Every holder stamps a tag of its own into the buffer as it takes it and
 * checks it as it gives the buffer on: a buffer handed to two holders at
 * once is caught by the second. At the end of each phase, with everything
 * quiet, each pool must account for every buffer it ever created exactly
 * once (a walk of its depot and magazines), its counters must equal the
 * test's own, all its buffers must be reachable from one CPU, and a waiter
 * must sleep only while no buffer is free and be served by the next put.
 *
 * What each phase exercised is printed, from the pools' own counters
 * (bufpool_get_stats(), read before the phase-end checks, which would add
 * to them) and the test's: magazine hits, steals, sweeps, hand-offs, notify
 * requests by context and pool state, hard-IRQ allocations that succeeded
 * and that failed, bulk requests larger than a magazine. A phase fails if
 * a pool that must cache per CPU has no magazines, if some online CPU's
 * magazine never held a buffer, or if a path it claims to cover ran zero
 * times.
 *
 * With faults=1 the workers and the pool churner are subject to bufpool's
 * fault point and to failslab (tests/torture.sh sets their rate, with the
 * task filter on; the pools' slab caches are flagged for failslab's cache
 * filter here): allocations may then fail, and must fail cleanly.
 *
 * The result is a KTAP list of cases, one per phase, and the figures, in
 * /sys/kernel/debug/bufpool_torture/report, which tests/torture.sh turns
 * into a KTAP document. Loading fails only if the run could not start.
 */
#include <linux/bufpool.h>
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "bufpool_internal.h"

static uint iterations = 2000;
module_param(iterations, uint, 0444);
MODULE_PARM_DESC(iterations, "operations per worker and phase");
static uint phases = 3;
module_param(phases, uint, 0444);
MODULE_PARM_DESC(phases, "phases, each with pools of its own");
static ulong seed;
module_param(seed, ulong, 0444);
MODULE_PARM_DESC(seed, "PRNG seed; 0 picks one (printed)");
static uint nthreads = 2;
module_param(nthreads, uint, 0444);
MODULE_PARM_DESC(nthreads, "workers per online CPU");
static bool hotplug = true;
module_param(hotplug, bool, 0444);
MODULE_PARM_DESC(hotplug, "take CPUs offline and online during the run");
static bool churn = true;
module_param(churn, bool, 0444);
MODULE_PARM_DESC(churn, "create and destroy pools during the run");
static bool faults;
module_param(faults, bool, 0444);
MODULE_PARM_DESC(faults, "make workers subject to fault injection (task filter)");

#define TT_POOLS	4
#define TT_BIG_POOL	0	/* its magazines are smaller than its cap */
#define TT_CAP_POOL	3	/* kept at its cap; the hard-IRQ allocations' */
#define TT_HOLD		8	/* buffers one worker holds at most */
#define TT_BULK		4	/* largest bulk request */
#define TT_BIG		128	/* largest bulk request past a magazine */
#define TT_IRQ_HOLD	2	/* buffers the allocating hrtimer holds */
#define TT_LIVENESS_MS	10000	/* what must happen, must within this */
#define TT_IRQ_NS	(50 * NSEC_PER_USEC)
#define TT_ATIMER_NS	(1000 * NSEC_PER_USEC)
#define TT_CHURN_ID	0xffffU
#define TT_MAIN_ID	0xfffeU
#define TT_NOTIFY_ID	0xfffdU
#define TT_IRQ_ID	0xfffcU
#define TT_REPORT_SIZE	(16 * PAGE_SIZE)

/* Tags: who holds a buffer, in its first 8 bytes while the test has it. */
/*
 * The magics change with each phase and each load (tt.gen): a fresh
 * buffer's data is whatever its memory held before, a freed worker's
 * tags among others, which must not read as taken.
 */
#define TT_HELD_MAGIC	(0xb000ULL | tt.gen << 1)
#define TT_SENT_MAGIC	(TT_HELD_MAGIC | 1)
#define TT_TAG_FREE	0x7ee7ee7ee7ee7ee7ULL
#define TT_HELD(id, seq)	((TT_HELD_MAGIC << 48) | ((u64)(id) << 32) | (seq))
#define TT_SENT(kind)		((TT_SENT_MAGIC << 48) | (kind))

enum tt_via {		/* how a buffer travels to its next holder */
	TT_VIA_IRQ,	/* the hrtimer, in hard IRQ */
	TT_VIA_SOFTIRQ,	/* the tasklet */
	TT_VIA_HAND,	/* another worker */
	TT_VIA_LATE,	/* the late returner, for the churned pools */
	TT_VIA_IPI,	/* another CPU, in hard IRQ */
};

/* The head of a buffer's data while the test holds it. */
struct tt_hdr {
	atomic64_t tag;
	struct llist_node node;
	struct bufpool_buf *buf;
	int cpu;		/* where it was taken */
};

struct tt_pool {
	struct bufpool *pool;
	struct bufpool_params p;
	char name[BUFPOOL_NAME_MAX + 1];
	atomic64_t allocs;	/* buffers the test got */
	atomic64_t fails;	/* calls that got none */
};

/*
 * A notify request and what it is handed. Its state is the test's: only
 * an IDLE request is issued, by its owner (a worker, or the hrtimer);
 * only a QUEUED one is cancelled, by anyone who turns it CANCELLING; the
 * callback, or a cancel that dequeued it, makes it IDLE again.
 */
enum tt_rq_state { TT_RQ_IDLE, TT_RQ_ISSUING, TT_RQ_QUEUED, TT_RQ_CANCELLING };

struct tt_nreq {
	struct bufpool_notify nb;
	atomic_t state;
	struct tt_pool *tp;
	unsigned int n;
	struct bufpool_buf *bufs[TT_BIG];
};

struct tt_worker {
	struct task_struct *task;
	struct tt_nreq req;
	struct bufpool_buf *big[TT_BIG];
	u64 big_tags[TT_BIG];
	u32 id;
	u32 seq;
	struct rnd_state rnd;
	unsigned int nheld;
	struct bufpool_buf *held[TT_HOLD];
	u64 tags[TT_HOLD];
	struct completion done;
};

enum tt_stat {
	/* operations, up to TT_SHARED */
	TT_ALLOC, TT_ALLOC_WAIT, TT_BULK_OPS, TT_PUT, TT_PUT_IRQ, TT_PUT_SOFTIRQ,
	TT_PUT_IPI, TT_HANDED, TT_SHARED, TT_CROSS_CPU, TT_WAITS, TT_TIMEOUTS,
	TT_EINTR, TT_EAGAIN, TT_ESHUTDOWN, TT_SIGNALS, TT_HOTPLUG, TT_CREATED,
	TT_DESTROYED, TT_DESTROYED_BUSY, TT_CREATE_ENOMEM, TT_GROW_FAILS,
	TT_SCANS, TT_SHRUNK, TT_SAMPLES, TT_SAMPLES_WAKING, TT_FLAGGED,
	/* the hard-IRQ allocations, from the pool at its cap */
	TT_IRQ_ALLOC_OK, TT_IRQ_ALLOC_FAIL,
	/* notify requests: by context and pool state, then outcomes */
	TT_NOTIFY_TASK_BELOW, TT_NOTIFY_TASK_CAP, TT_NOTIFY_TASK_SLEEPERS,
	TT_NOTIFY_IRQ_BELOW, TT_NOTIFY_IRQ_CAP, TT_NOTIFY_IRQ_SLEEPERS,
	TT_NOTIFY_NOW, TT_NOTIFY_QUEUED, TT_NOTIFY_DONE, TT_NOTIFY_CANCELLED,
	TT_NOTIFY_CANCEL_LATE, TT_NOTIFY_BIG_DONE,
	/* bulk waits of more than a magazine holds */
	TT_BIG_BULK, TT_BIG_BULK_DONE,
	/* the pools' own counters, summed at each phase's end */
	TT_MAG_HITS, TT_MAG_MISSES, TT_STEALS, TT_SWEEPS, TT_BARGES,
	TT_HANDOFFS, TT_EMPTY_WAKEUPS, TT_FAILS_EXHAUSTED, TT_NR,
};

static const char * const tt_stat_names[TT_NR] = {
	"allocs", "alloc_waits", "bulk_allocs", "puts", "puts_hardirq",
	"puts_softirq", "puts_ipi", "handed_over", "shared_with_get",
	"cross_cpu_puts", "waits", "timeouts", "eintr", "eagain",
	"eshutdown", "signals", "hotplug_cycles", "pools_created",
	"pools_destroyed", "destroyed_with_buffers_out", "create_enomem",
	"grow_fails", "shrink_scans", "shrink_freed", "invariant_samples",
	"samples_head_waking", "caches_flagged_failslab",
	"hardirq_allocs_ok", "hardirq_allocs_failed",
	"notify_task_below_cap", "notify_task_at_cap", "notify_task_with_sleepers",
	"notify_hardirq_below_cap", "notify_hardirq_at_cap",
	"notify_hardirq_with_sleepers",
	"notify_got_at_once", "notify_queued", "notify_completed",
	"notify_cancelled", "notify_cancel_after_callback",
	"notify_past_magazine_completed",
	"bulk_past_magazine", "bulk_past_magazine_completed",
	"mag_hits", "mag_misses", "steals", "sweeps", "barges", "handoffs",
	"empty_wakeups", "fails_exhausted",
};

/*
 * What each phase prints of its own, and must have run at least once:
 * the paths this torture claims to cover.
 */
static const struct {
	enum tt_stat stat;
	bool must;
} tt_claims[] = {
	{ TT_MAG_HITS, true }, { TT_MAG_MISSES, true }, { TT_STEALS, true },
	{ TT_SWEEPS, true }, { TT_HANDOFFS, true }, { TT_BARGES, false },
	{ TT_EMPTY_WAKEUPS, false }, { TT_FAILS_EXHAUSTED, true },
	{ TT_WAITS, true }, { TT_TIMEOUTS, true }, { TT_EINTR, true },
	{ TT_PUT_IRQ, true }, { TT_PUT_SOFTIRQ, true }, { TT_PUT_IPI, true },
	{ TT_IRQ_ALLOC_OK, true }, { TT_IRQ_ALLOC_FAIL, true },
	{ TT_NOTIFY_TASK_BELOW, true }, { TT_NOTIFY_TASK_CAP, true },
	{ TT_NOTIFY_TASK_SLEEPERS, true }, { TT_NOTIFY_IRQ_BELOW, true },
	{ TT_NOTIFY_IRQ_CAP, true }, { TT_NOTIFY_IRQ_SLEEPERS, true },
	{ TT_NOTIFY_NOW, true }, { TT_NOTIFY_QUEUED, true },
	{ TT_NOTIFY_DONE, true }, { TT_NOTIFY_CANCELLED, true },
	{ TT_NOTIFY_CANCEL_LATE, false }, { TT_NOTIFY_BIG_DONE, false },
	{ TT_BIG_BULK, true }, { TT_BIG_BULK_DONE, true },
};

static struct {
	struct tt_pool pools[TT_POOLS];
	struct tt_worker *workers;
	unsigned int nworkers;
	struct llist_head irq_list, softirq_list, hand_list, late_list;
	unsigned long irq_armed;
	struct hrtimer timer;
	/* The allocating hrtimer's: nobody else's while it runs. */
	struct hrtimer atimer;
	bool atimer_on;
	struct rnd_state irq_rnd;
	unsigned int irq_nheld;
	struct bufpool_buf *irq_held[TT_IRQ_HOLD];
	u64 irq_tags[TT_IRQ_HOLD];
	u32 irq_seq;
	struct tt_nreq irq_req;
	struct tasklet_struct tasklet;
	wait_queue_head_t late_wq;
	atomic_t in_transit;
	atomic64_t stat[TT_NR];
	atomic_t errors;
	u16 gen;		/* 11 bits, for the tags' magics */
	struct rnd_state rnd;	/* the helpers', under main's control */
	char *report;
	size_t len;
	struct dentry *dir;
} tt;

#define tt_err(fmt, ...) do {						\
	atomic_inc(&tt.errors);						\
	pr_err_ratelimited("bufpool_torture: " fmt "\n", ##__VA_ARGS__); \
} while (0)

static void tt_count(enum tt_stat s, long n)
{
	atomic64_add(n, &tt.stat[s]);
}

static __printf(1, 2) void tt_print(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	tt.len += vscnprintf(tt.report + tt.len, TT_REPORT_SIZE - tt.len, fmt, args);
	va_end(args);
}

static u32 tt_rand(struct rnd_state *rnd, u32 n)
{
	return prandom_u32_state(rnd) % n;
}

/* Tags */

static bool tt_tag_taken(u64 tag)
{
	return (tag >> 48) == TT_HELD_MAGIC || (tag >> 48) == TT_SENT_MAGIC;
}

/*
 * A holder takes @buf: nobody else may have it. Catches a buffer handed
 * out twice (a depot or magazine race, a put counted twice).
 */
static u64 tt_take(struct bufpool_buf *buf, u32 id, u32 seq)
{
	struct tt_hdr *h = bufpool_buf_data(buf);
	u64 tag = TT_HELD(id, seq), old;

	old = atomic64_xchg(&h->tag, tag);
	if (tt_tag_taken(old)) {
		tt_err("pool '%s': buffer handed out while held (tag %llx, taken by %x seq %x on CPU %d, last taken on CPU %d)",
		       bufpool_name(bufpool_buf_pool(buf)), old, id, seq,
		       raw_smp_processor_id(), h->cpu);
		if (atomic_read(&tt.errors) < 3)
			dump_stack();
	}
	h->buf = buf;
	h->cpu = raw_smp_processor_id();
	return tag;
}

/* The tag must still be @expect; it becomes @next. */
static void tt_retag(struct tt_hdr *h, u64 expect, u64 next)
{
	u64 old = atomic64_xchg(&h->tag, next);

	if (old != expect)
		tt_err("pool '%s': tag %llx, expected %llx: two holders at once",
		       bufpool_name(bufpool_buf_pool(h->buf)), old, expect);
}

/* Give the buffer back for good, from any context. */
static void tt_put(struct tt_hdr *h, u64 expect)
{
	struct bufpool_buf *buf = h->buf;

	if (h->cpu != raw_smp_processor_id())
		tt_count(TT_CROSS_CPU, 1);
	tt_retag(h, expect, TT_TAG_FREE);
	bufpool_put(buf);
}

/* Buffers in transit: the hrtimer, the tasklet, the late returner. */

static void tt_send(struct bufpool_buf *buf, u64 tag, enum tt_via via,
		    struct llist_head *list)
{
	struct tt_hdr *h = bufpool_buf_data(buf);

	tt_retag(h, tag, TT_SENT(via));
	atomic_inc(&tt.in_transit);
	llist_add(&h->node, list);
}

static long tt_put_list(struct llist_head *list, enum tt_via via)
{
	struct llist_node *first = llist_del_all(list);
	struct tt_hdr *h, *tmp;
	long n = 0;

	llist_for_each_entry_safe(h, tmp, first, node) {
		tt_put(h, TT_SENT(via));
		atomic_dec(&tt.in_transit);
		n++;
	}
	return n;
}

static enum hrtimer_restart tt_timer_fn(struct hrtimer *timer)
{
	if (!in_hardirq())
		tt_err("the hrtimer put outside hard IRQ");
	tt_count(TT_PUT_IRQ, tt_put_list(&tt.irq_list, TT_VIA_IRQ));
	clear_bit(0, &tt.irq_armed);
	/* A sender that saw the bit set must find its buffer seen here. */
	smp_mb__after_atomic();
	if (!llist_empty(&tt.irq_list) && !test_and_set_bit(0, &tt.irq_armed)) {
		hrtimer_forward_now(timer, ns_to_ktime(TT_IRQ_NS));
		return HRTIMER_RESTART;
	}
	return HRTIMER_NORESTART;
}

static void tt_tasklet_fn(struct tasklet_struct *t)
{
	if (!in_serving_softirq())
		tt_err("the tasklet put outside softirq");
	tt_count(TT_PUT_SOFTIRQ, tt_put_list(&tt.softirq_list, TT_VIA_SOFTIRQ));
}

static void tt_ipi_fn(void *arg)
{
	struct tt_hdr *h = arg;

	/*
	 * In hard IRQ, or in the idle task with interrupts off when the
	 * target was polling and the kernel spared the IPI.
	 */
	if (!irqs_disabled())
		tt_err("the cross-CPU put ran with interrupts on");
	tt_put(h, TT_SENT(TT_VIA_IPI));
}

/* Workers */

static void tt_hold(struct tt_worker *w, struct bufpool_buf *buf)
{
	w->held[w->nheld] = buf;
	w->tags[w->nheld] = tt_take(buf, w->id, ++w->seq);
	w->nheld++;
}

/* Take out held buffer @i, returning its tag. */
static u64 tt_unhold(struct tt_worker *w, unsigned int i,
		     struct bufpool_buf **bufp)
{
	u64 tag = w->tags[i];

	*bufp = w->held[i];
	w->nheld--;
	w->held[i] = w->held[w->nheld];
	w->tags[i] = w->tags[w->nheld];
	return tag;
}

/* Count a call's result against its pool, the way bufpool must. */
static void tt_result(struct tt_pool *tp, int err, unsigned int n)
{
	if (!err) {
		atomic64_add(n, &tp->allocs);
		return;
	}
	atomic64_inc(&tp->fails);
	switch (err) {
	case -ETIMEDOUT:
		tt_count(TT_TIMEOUTS, 1);
		break;
	case -EINTR:
		tt_count(TT_EINTR, 1);
		flush_signals(current);
		break;
	case -EAGAIN:
		tt_count(TT_EAGAIN, 1);
		break;
	case -ESHUTDOWN:
		tt_count(TT_ESHUTDOWN, 1);
		break;
	default:
		tt_err("pool '%s': allocation failed with %d", tp->name, err);
	}
}

/* Notify requests */

/* Slots a magazine of @tp's pool has: 0 without magazines. */
static unsigned int tt_mag_size(struct tt_pool *tp)
{
	return tp->pool->mag_mask ? tp->pool->mag_mask + 1 : 0;
}

/*
 * The state a request finds its pool in, under the pool lock: 0 below
 * its cap or with a buffer in the depot, 1 at its cap with none there, 2
 * with a sleeper queued (and so every magazine bypassed).
 */
static unsigned int tt_pool_state(struct tt_pool *tp)
{
	struct bufpool *pool = tp->pool;
	struct bufpool_waiter *wt;
	unsigned int state = 0;
	unsigned long flags;

	bufpool_depot_lock(pool, flags);
	list_for_each_entry(wt, &pool->waiters, node) {
		if (wt->task) {
			state = 2;
			break;
		}
	}
	if (!state && pool->backed >= pool->max_bufs && !pool->nr_free)
		state = 1;
	bufpool_depot_unlock(pool, flags);
	return state;
}

/* The request holds its buffers: tagged, they go to the workers. */
static void tt_notify_deliver(struct tt_nreq *r, u32 id)
{
	unsigned int i;

	atomic64_add(r->n, &r->tp->allocs);
	for (i = 0; i < r->n; i++)
		tt_send(r->bufs[i], tt_take(r->bufs[i], id, i), TT_VIA_HAND,
			&tt.hand_list);
	if (r->n > tt_mag_size(r->tp))
		tt_count(TT_NOTIFY_BIG_DONE, 1);
}

/*
 * From an irq_work: hard IRQ, interrupts off (a CPU going offline runs
 * its irq_work so too), or the irq_work thread on PREEMPT_RT.
 */
static void tt_notify_fn(struct bufpool_notify *nb, int err)
{
	struct tt_nreq *r = container_of(nb, struct tt_nreq, nb);

	if (!IS_ENABLED(CONFIG_PREEMPT_RT) && !irqs_disabled())
		tt_err("a notify callback ran with interrupts on");
	if (err) {
		/* The phase's pools are not destroyed under their requests. */
		tt_err("pool '%s': a notify request of %u failed with %d",
		       r->tp->name, r->n, err);
	} else {
		tt_notify_deliver(r, TT_NOTIFY_ID);
		tt_count(TT_NOTIFY_DONE, 1);
	}
	/* Its buffers are delivered: the owner may issue it again. */
	atomic_set_release(&r->state, TT_RQ_IDLE);
}

static void tt_notify_setup(struct tt_nreq *r)
{
	bufpool_notify_init(&r->nb, tt_notify_fn);
	atomic_set(&r->state, TT_RQ_IDLE);
}

/* Ask @tp for @n buffers through @r, if it is idle: from task or hard IRQ. */
static void tt_notify_issue(struct tt_nreq *r, struct tt_pool *tp,
			    unsigned int n, bool irq)
{
	int err;

	if (atomic_cmpxchg(&r->state, TT_RQ_IDLE, TT_RQ_ISSUING) != TT_RQ_IDLE)
		return;
	r->tp = tp;
	r->n = n;
	tt_count((irq ? TT_NOTIFY_IRQ_BELOW : TT_NOTIFY_TASK_BELOW) +
		 tt_pool_state(tp), 1);
	err = bufpool_alloc_notify(tp->pool, n, r->bufs, &r->nb);
	if (err == -EINPROGRESS) {
		tt_count(TT_NOTIFY_QUEUED, 1);
		/* Unless its callback already ran. */
		atomic_cmpxchg(&r->state, TT_RQ_ISSUING, TT_RQ_QUEUED);
		return;
	}
	if (!err) {
		tt_notify_deliver(r, irq ? TT_IRQ_ID : TT_NOTIFY_ID);
		tt_count(TT_NOTIFY_NOW, 1);
	} else {
		tt_err("pool '%s': a notify request of %u failed with %d",
		       tp->name, n, err);
	}
	atomic_set_release(&r->state, TT_RQ_IDLE);
}

/* Take @r out of its queue if it is there; process context. */
static void tt_notify_cancel(struct tt_nreq *r)
{
	if (atomic_cmpxchg(&r->state, TT_RQ_QUEUED, TT_RQ_CANCELLING) !=
	    TT_RQ_QUEUED)
		return;
	if (bufpool_notify_cancel(&r->nb)) {
		/* Its callback will not run: what it held went back. */
		tt_count(TT_NOTIFY_CANCELLED, 1);
		atomic_set_release(&r->state, TT_RQ_IDLE);
		return;
	}
	/* Its callback ran, and has returned. */
	tt_count(TT_NOTIFY_CANCEL_LATE, 1);
	if (atomic_read_acquire(&r->state) != TT_RQ_IDLE)
		tt_err("a notify cancel returned before the callback did");
}

/*
 * @r idle for good, its owner done issuing: cancelled if queued, else its
 * callback waited for. A request neither served nor cancelable in time is
 * a lost notification.
 */
static void tt_notify_quiesce(struct tt_nreq *r)
{
	unsigned int ms;

	for (ms = 0; ms < TT_LIVENESS_MS; ms++) {
		tt_notify_cancel(r);
		if (atomic_read_acquire(&r->state) == TT_RQ_IDLE)
			break;
		usleep_range(1000, 2000);
	}
	if (atomic_read_acquire(&r->state) != TT_RQ_IDLE)
		tt_err("pool '%s': a notify request of %u is stuck in state %d",
		       r->tp->name, r->n, atomic_read(&r->state));
	/* The irq_work that ran its callback is done with it too. */
	bufpool_notify_cancel(&r->nb);
}

/* How many buffers to ask @tp for at once: a magazine or more, at times. */
static unsigned int tt_notify_n(struct rnd_state *rnd, struct tt_pool *tp)
{
	unsigned int mag = tt_mag_size(tp), cap = tp->p.max_bufs;

	if (mag && mag < cap && !tt_rand(rnd, 4))
		return mag + 1 + tt_rand(rnd, cap - mag);
	return min_t(unsigned int, 1 + tt_rand(rnd, TT_BULK), cap);
}

/* The hard-IRQ allocations */

/*
 * Every TT_ATIMER_NS while the phase runs, in hard IRQ: put what it got
 * the last time, take one or two with GFP_ATOMIC from the pool the
 * workers keep at its cap (hard IRQ never grows a pool, so below the cap
 * too only what is idle is to be had), and now and then a notify request.
 */
static enum hrtimer_restart tt_atimer_fn(struct hrtimer *timer)
{
	struct tt_pool *tp = &tt.pools[TT_CAP_POOL];
	struct bufpool_buf *bufs[TT_IRQ_HOLD];
	unsigned int i, n;
	int err;
	u32 r;

	if (!in_hardirq())
		tt_err("the allocating hrtimer ran outside hard IRQ");
	for (i = 0; i < tt.irq_nheld; i++)
		tt_put(bufpool_buf_data(tt.irq_held[i]), tt.irq_tags[i]);
	tt_count(TT_PUT_IRQ, tt.irq_nheld);
	tt.irq_nheld = 0;
	r = tt_rand(&tt.irq_rnd, 100);
	n = r < 25 ? TT_IRQ_HOLD : 1;
	if (n == 1) {
		bufs[0] = bufpool_alloc(tp->pool, GFP_ATOMIC);
		err = bufs[0] ? 0 : -EAGAIN;
	} else {
		err = bufpool_alloc_bulk(tp->pool, GFP_ATOMIC, n, bufs);
	}
	tt_result(tp, err, n);
	tt_count(err ? TT_IRQ_ALLOC_FAIL : TT_IRQ_ALLOC_OK, 1);
	for (; !err && tt.irq_nheld < n; tt.irq_nheld++) {
		tt.irq_held[tt.irq_nheld] = bufs[tt.irq_nheld];
		tt.irq_tags[tt.irq_nheld] = tt_take(bufs[tt.irq_nheld], TT_IRQ_ID,
						    ++tt.irq_seq);
	}
	if (r >= 70) {
		struct tt_pool *np = &tt.pools[tt_rand(&tt.irq_rnd, TT_POOLS)];

		tt_notify_issue(&tt.irq_req, np, tt_notify_n(&tt.irq_rnd, np), true);
	}
	if (!READ_ONCE(tt.atimer_on))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(TT_ATIMER_NS));
	return HRTIMER_RESTART;
}

/* After hrtimer_cancel(): what it held goes back. */
static void tt_atimer_drain(void)
{
	unsigned int i;

	for (i = 0; i < tt.irq_nheld; i++)
		tt_put(bufpool_buf_data(tt.irq_held[i]), tt.irq_tags[i]);
	tt_count(TT_PUT, tt.irq_nheld);
	tt.irq_nheld = 0;
}

static void tt_op_alloc(struct tt_worker *w, struct tt_pool *tp, u32 how)
{
	static const unsigned int states[] = {
		TASK_INTERRUPTIBLE, TASK_KILLABLE, TASK_UNINTERRUPTIBLE,
	};
	struct bufpool_buf *buf;
	long timeout = 1 + tt_rand(&w->rnd, 3);

	if (how == 0) {
		buf = bufpool_alloc(tp->pool, GFP_ATOMIC);
		tt_count(TT_ALLOC, 1);
		tt_result(tp, buf ? 0 : -EAGAIN, 1);
	} else {
		buf = bufpool_alloc_wait(tp->pool, GFP_KERNEL, states[how - 1],
					 timeout);
		tt_count(TT_ALLOC_WAIT, 1);
		tt_result(tp, PTR_ERR_OR_ZERO(buf), 1);
		if (IS_ERR(buf))
			buf = NULL;
	}
	if (buf)
		tt_hold(w, buf);
}

static void tt_op_bulk(struct tt_worker *w, struct tt_pool *tp, bool wait)
{
	struct bufpool_buf *bufs[TT_BULK];
	unsigned int n = 2 + tt_rand(&w->rnd, TT_BULK - 1), i;
	int err;

	n = min(n, TT_HOLD - w->nheld);
	n = min(n, tp->p.max_bufs);
	if (!n)
		return;
	if (wait)
		err = bufpool_alloc_bulk_wait(tp->pool, GFP_KERNEL, n, bufs,
					      TASK_INTERRUPTIBLE,
					      1 + tt_rand(&w->rnd, 3));
	else
		err = bufpool_alloc_bulk(tp->pool, GFP_ATOMIC, n, bufs);
	tt_count(TT_BULK_OPS, 1);
	tt_result(tp, err, n);
	for (i = 0; !err && i < n; i++)
		tt_hold(w, bufs[i]);
}

/*
 * All or nothing, more than a magazine holds and up to the cap, waiting:
 * served by returned buffers kept for it in line while others come and
 * go, or timed out and given back. Put at once, as one bulk.
 */
static void tt_op_big_bulk(struct tt_worker *w)
{
	struct tt_pool *tp = &tt.pools[TT_BIG_POOL];
	unsigned int mag = tt_mag_size(tp), cap = tp->p.max_bufs, n, i;
	int err;

	if (!mag || mag >= cap)
		return;	/* the phase fails on that already */
	n = mag + 1 + tt_rand(&w->rnd, cap - mag);
	err = bufpool_alloc_bulk_wait(tp->pool, GFP_KERNEL, n, w->big,
				      tt_rand(&w->rnd, 2) ? TASK_INTERRUPTIBLE :
				      TASK_KILLABLE,
				      msecs_to_jiffies(2 + tt_rand(&w->rnd, 20)));
	tt_count(TT_BIG_BULK, 1);
	tt_result(tp, err, n);
	if (err)
		return;
	tt_count(TT_BIG_BULK_DONE, 1);
	/* All taken before any is let go: one handed out twice is seen. */
	for (i = 0; i < n; i++)
		w->big_tags[i] = tt_take(w->big[i], w->id, ++w->seq);
	for (i = 0; i < n; i++)
		tt_retag(bufpool_buf_data(w->big[i]), w->big_tags[i], TT_TAG_FREE);
	bufpool_put_bulk(n, w->big);
	tt_count(TT_PUT, n);
}

/* A notify request of the worker's own: issued, or cancelled if queued. */
static void tt_op_notify(struct tt_worker *w, struct tt_pool *tp)
{
	if (atomic_read(&w->req.state) == TT_RQ_QUEUED && tt_rand(&w->rnd, 3))
		tt_notify_cancel(&w->req);
	else
		tt_notify_issue(&w->req, tp, tt_notify_n(&w->rnd, tp), false);
}

/* Hand a held buffer on: to another CPU, IRQ, softirq or worker. */
static void tt_op_give(struct tt_worker *w, u32 how)
{
	struct bufpool_buf *buf;
	u64 tag = tt_unhold(w, tt_rand(&w->rnd, w->nheld), &buf);
	struct tt_hdr *h = bufpool_buf_data(buf);
	int cpu;

	switch (how) {
	case 0:
		tt_put(h, tag);
		tt_count(TT_PUT, 1);
		break;
	case 1:
		tt_send(buf, tag, TT_VIA_IRQ, &tt.irq_list);
		if (!test_and_set_bit(0, &tt.irq_armed))
			hrtimer_start(&tt.timer, ns_to_ktime(TT_IRQ_NS),
				      HRTIMER_MODE_REL_HARD);
		break;
	case 2:
		tt_send(buf, tag, TT_VIA_SOFTIRQ, &tt.softirq_list);
		tasklet_schedule(&tt.tasklet);
		break;
	case 3:
		tt_retag(h, tag, TT_SENT(TT_VIA_IPI));
		/* Not preemptible: the other CPU must stay another one. */
		cpu = cpumask_any_but(cpu_online_mask, get_cpu());
		if (cpu < nr_cpu_ids && !smp_call_function_single(cpu, tt_ipi_fn, h, 1)) {
			tt_count(TT_PUT_IPI, 1);
			h = NULL;
		}
		put_cpu();
		if (h)	/* the only CPU online */
			tt_put(h, TT_SENT(TT_VIA_IPI));
		break;
	case 4:
		/* With a reference of our own, dropped once it is theirs. */
		bufpool_get(buf);
		tt_send(buf, tag, TT_VIA_HAND, &tt.hand_list);
		bufpool_put(buf);
		tt_count(TT_SHARED, 1);
		break;
	default:
		tt_send(buf, tag, TT_VIA_HAND, &tt.hand_list);
		tt_count(TT_HANDED, 1);
	}
}

/* Take what other workers handed over; what does not fit goes back. */
static void tt_op_adopt(struct tt_worker *w)
{
	struct llist_node *first = llist_del_all(&tt.hand_list);
	struct tt_hdr *h, *tmp;

	llist_for_each_entry_safe(h, tmp, first, node) {
		atomic_dec(&tt.in_transit);
		if (w->nheld == TT_HOLD) {
			tt_put(h, TT_SENT(TT_VIA_HAND));
			continue;
		}
		tt_retag(h, TT_SENT(TT_VIA_HAND), TT_TAG_FREE);
		tt_hold(w, h->buf);
	}
}

static void tt_put_all(struct tt_worker *w)
{
	struct bufpool_buf *buf;

	while (w->nheld) {
		u64 tag = tt_unhold(w, 0, &buf);

		tt_put(bufpool_buf_data(buf), tag);
		tt_count(TT_PUT, 1);
	}
}

static void tt_op(struct tt_worker *w)
{
	/* The pool at its cap twice as often: the workers keep it there. */
	u32 r = tt_rand(&w->rnd, TT_POOLS + 1);
	struct tt_pool *tp = &tt.pools[r < TT_POOLS ? r : TT_CAP_POOL];

	r = tt_rand(&w->rnd, 100);
	if (r < 3) {
		tt_op_notify(w, tp);
		return;
	}
	if (r < 4) {
		tt_op_big_bulk(w);
		return;
	}
	r = tt_rand(&w->rnd, 100);
	if (r < 45 && w->nheld == TT_HOLD)
		r = 45 + tt_rand(&w->rnd, 55);
	else if (r >= 45 && r < 95 && !w->nheld)
		r = tt_rand(&w->rnd, 45);
	if (r < 15)
		tt_op_alloc(w, tp, 0);
	else if (r < 33)
		tt_op_alloc(w, tp, 1 + (r - 15) / 6);
	else if (r < 39)
		tt_op_bulk(w, tp, false);
	else if (r < 45)
		tt_op_bulk(w, tp, true);
	else if (r < 90)
		tt_op_give(w, (r - 45) / 8);	/* 0..5 */
	else if (r < 95)
		tt_put_all(w);
	else
		tt_op_adopt(w);
}

static void tt_make_it_fail(void)
{
#ifdef CONFIG_FAULT_INJECTION
	if (faults)
		current->make_it_fail = 1;
#endif
}

static int tt_worker_fn(void *arg)
{
	struct tt_worker *w = arg;
	unsigned int i;

	allow_signal(SIGUSR1);
	tt_make_it_fail();
	for (i = 0; i < iterations; i++) {
		tt_op(w);
		if (!(i % 32))
			cond_resched();
	}
	tt_notify_quiesce(&w->req);
	tt_put_all(w);
	complete_all(&w->done);	/* waited for twice */
	while (!kthread_should_stop()) {
		flush_signals(current);
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

/* Helpers */

/* A thread that stays for tt_stop(), even if @fn returns first. */
static struct task_struct *tt_helper(int (*fn)(void *), void *arg,
				     const char *name)
{
	struct task_struct *t = kthread_create(fn, arg, "%s", name);

	if (IS_ERR(t)) {
		tt_err("cannot start %s", name);
		return NULL;
	}
	get_task_struct(t);
	wake_up_process(t);
	return t;
}

static void tt_stop(struct task_struct *t)
{
	if (!t)
		return;
	kthread_stop(t);
	put_task_struct(t);
}

/* Run a pool's shrinker as memory pressure would. */
static unsigned long tt_shrink(struct bufpool *pool, unsigned long n)
{
	struct shrink_control sc = { .gfp_mask = GFP_KERNEL, .nr_to_scan = n };
	/* Before 6.7, the first member of bufpool_shrinker.c's wrapper. */
	struct shrinker *s = pool->shrinker;
	unsigned long freed;

	if (s->count_objects(s, &sc) == SHRINK_EMPTY)
		return 0;
	freed = s->scan_objects(s, &sc);
	return freed == SHRINK_STOP ? 0 : freed;
}

/*
 * Buffers may idle in the depot while callers wait only for a first
 * waiter that is on its way to take them: woken for them (a running
 * caller may take one meanwhile, a barge) or running anyway (between two
 * lock holds of its own slow path). A first waiter asleep and not woken,
 * or a notify request, which never takes for itself, with buffers idle
 * is a lost wakeup: nobody will come for them.
 *
 * Running includes TASK_WAKING: a wakeup sent to another CPU's queue
 * leaves the task so until that CPU takes it, which under TCG may be a
 * while. A bulk waiter handed BUFPOOL_LOCKED_MAX buffers in one go is
 * woken so, to take the rest itself (bufpool_depot_next_head_locked()),
 * without @woken: with bulk requests past 32 buffers, samples see it.
 * On PREEMPT_RT, TASK_RTLOCK_WAIT is a running task blocked on a
 * spinlock_t. @waking counts the samples that needed either.
 */
static bool tt_idle_while_waiting_ok(struct bufpool *pool, bool *waking)
{
	struct bufpool_waiter *head;
	unsigned int state;

	head = list_first_entry_or_null(&pool->waiters, struct bufpool_waiter,
					node);
	if (!head || !pool->nr_free)
		return true;
	if (!head->task)
		return false;
	if (head->woken)
		return true;
	state = READ_ONCE(head->task->__state);
	*waking = state == TASK_WAKING || state == TASK_RTLOCK_WAIT;
	return state == TASK_RUNNING || *waking;
}

/*
 * What must hold whenever the pool lock is free: nobody sleeps first in
 * line while a buffer idles in the depot, the reserve is never given
 * back, the cap never passed. Catches a returned buffer parked instead
 * of handed or woken for (a lost wakeup), the shrinker eating the
 * reserve, growth past the cap.
 */
/* The head of the queue as a sample saw it, for the report. */
struct tt_head {
	pid_t pid;
	unsigned int state;
	unsigned int want, got;
	bool handoff, woken, passed, submitting;
	unsigned int bypass;
};

static void tt_head_read(struct bufpool *pool, struct tt_head *hd)
{
	struct bufpool_waiter *head;

	memset(hd, 0, sizeof(*hd));
	head = list_first_entry_or_null(&pool->waiters, struct bufpool_waiter,
					node);
	if (!head)
		return;
	hd->pid = head->task ? task_pid_nr(head->task) : -1;
	hd->state = head->task ? READ_ONCE(head->task->__state) : 0;
	hd->want = head->want;
	hd->got = head->got;
	hd->handoff = head->handoff;
	hd->woken = head->woken;
	hd->passed = head->passed;
	hd->submitting = head->submitting;
	hd->bypass = pool->bypass;
}

static void tt_sample(struct tt_pool *tp)
{
	struct bufpool *pool = tp->pool;
	unsigned int waiters, idle, real, later;
	bool idle_ok, waking = false;
	struct tt_head hd, hd2;
	unsigned long flags;

	bufpool_depot_lock(pool, flags);
	waiters = pool->nr_waiters;
	idle = pool->nr_free;
	real = pool->backed - pool->growing;
	idle_ok = tt_idle_while_waiting_ok(pool, &waking);
	if (!idle_ok)
		tt_head_read(pool, &hd);
	bufpool_depot_unlock(pool, flags);
	if (!idle_ok) {
		/* Still so a while later: nobody is coming for them. */
		msleep(200);
		bufpool_depot_lock(pool, flags);
		later = pool->nr_free;
		idle_ok = tt_idle_while_waiting_ok(pool, &waking);
		tt_head_read(pool, &hd2);
		bufpool_depot_unlock(pool, flags);
		tt_err("pool '%s': %u waiters, the first asleep, while %u buffers idle: head pid %d state %#x want %u got %u handoff %d woken %d passed %d submitting %d bypass %u; 200 ms later %s, %u idle, head pid %d state %#x want %u got %u handoff %d woken %d",
		       tp->name, waiters, idle, hd.pid, hd.state, hd.want,
		       hd.got, hd.handoff, hd.woken, hd.passed, hd.submitting,
		       hd.bypass, idle_ok ? "fine" : "STILL", later, hd2.pid,
		       hd2.state, hd2.want, hd2.got, hd2.handoff, hd2.woken);
	}
	if (real < tp->p.min_bufs || real > tp->p.max_bufs)
		tt_err("pool '%s': %u buffers, outside %u..%u", tp->name, real,
		       tp->p.min_bufs, tp->p.max_bufs);
	tt_count(TT_SAMPLES, 1);
	tt_count(TT_SAMPLES_WAKING, waking);
}

/* Shrinker scans, invariant samples and signals to the workers. */
static int tt_pressure_fn(void *arg)
{
	struct rnd_state rnd;
	u32 i = 0;

	prandom_seed_state(&rnd, seed + 1);
	while (!kthread_should_stop()) {
		struct tt_pool *tp = &tt.pools[tt_rand(&rnd, TT_POOLS)];

		tt_sample(tp);
		if (!(++i % 4)) {
			tt_count(TT_SHRUNK, tt_shrink(tp->pool, 1 + tt_rand(&rnd, 8)));
			tt_count(TT_SCANS, 1);
		}
		if (!(i % 2)) {
			send_sig(SIGUSR1, tt.workers[tt_rand(&rnd, tt.nworkers)].task, 1);
			tt_count(TT_SIGNALS, 1);
		}
		/* Requests cancelled by another than their owner. */
		if (!(i % 8))
			tt_notify_cancel(i % 16 ? &tt.irq_req :
					 &tt.workers[tt_rand(&rnd, tt.nworkers)].req);
		usleep_range(200, 400);
	}
	return 0;
}

/* CPUs other than 0 offline and online again, until told to stop. */
static int tt_hotplug_fn(void *arg)
{
	struct rnd_state rnd;
	unsigned int cpu, tries;

	prandom_seed_state(&rnd, seed + 2);
	while (!kthread_should_stop()) {
		cpu = 1 + tt_rand(&rnd, num_possible_cpus() - 1);
		if (cpu_online(cpu) && !remove_cpu(cpu)) {
			usleep_range(1000, 5000);
			for (tries = 0; add_cpu(cpu) && tries < 100; tries++)
				msleep(20);
			if (!cpu_online(cpu))
				tt_err("CPU %u would not come back online", cpu);
			else
				tt_count(TT_HOTPLUG, 1);
		}
		usleep_range(5000, 15000);
	}
	return 0;
}

/* Brings the churned pools' buffers home late, so destroy must wait. */
static int tt_late_fn(void *arg)
{
	while (!kthread_should_stop()) {
		wait_event_timeout(tt.late_wq, !llist_empty(&tt.late_list) ||
				   kthread_should_stop(), HZ);
		if (llist_empty(&tt.late_list))
			continue;
		usleep_range(2000, 3000);
		tt_put_list(&tt.late_list, TT_VIA_LATE);
	}
	tt_put_list(&tt.late_list, TT_VIA_LATE);
	return 0;
}

/* Let failslab's cache filter pick this pool's slab cache. */
static void tt_flag_failslab(const char *name)
{
	char path[64 + BUFPOOL_NAME_MAX];
	struct file *f;
	loff_t pos = 0;

	if (!faults)
		return;
	snprintf(path, sizeof(path), "/sys/kernel/slab/bufpool-%s/failslab", name);
	f = filp_open(path, O_WRONLY, 0);
	if (IS_ERR(f))
		return;
	if (kernel_write(f, "1", 1, &pos) == 1)
		tt_count(TT_FLAGGED, 1);
	filp_close(f, NULL);
}

static void tt_release_cb(void *arg)
{
	complete(arg);
}

/* One churned pool's life, destroyed with @n of its buffers still out. */
static void tt_churn_one(struct rnd_state *rnd, u32 nr)
{
	struct bufpool_buf *bufs[TT_BULK + 1];
	struct bufpool_params p = {
		.buf_size = 64 << tt_rand(rnd, 7),
		.max_bufs = 1 + tt_rand(rnd, 16),
		/* Any flags but those a device or a node must go with. */
		.flags = tt_rand(rnd, BUFPOOL_F_ALL + 1) &
			 ~(BUFPOOL_F_DMA_MAP | BUFPOOL_F_DMA_SYNC_DEV |
			   BUFPOOL_F_NODE),
	};
	DECLARE_COMPLETION_ONSTACK(released);
	char name[BUFPOOL_NAME_MAX + 1];
	bool async = tt_rand(rnd, 2);
	unsigned int n, i;
	struct bufpool_stats st;
	struct bufpool *pool;
	int err;

	snprintf(name, sizeof(name), "torture-churn-%u", nr);
	p.name = name;
	p.min_bufs = tt_rand(rnd, p.max_bufs + 1);
	n = min_t(unsigned int, 1 + tt_rand(rnd, TT_BULK), p.max_bufs);
	pool = bufpool_create(&p);
	if (IS_ERR(pool)) {
		if (!faults || PTR_ERR(pool) != -ENOMEM)
			tt_err("pool '%s': create failed with %ld", name, PTR_ERR(pool));
		tt_count(TT_CREATE_ENOMEM, 1);
		return;
	}
	tt_count(TT_CREATED, 1);
	tt_flag_failslab(name);
	err = bufpool_alloc_bulk_wait(pool, GFP_KERNEL, n, bufs,
				      TASK_UNINTERRUPTIBLE, HZ);
	if (err) {
		/* Only growth failing again and again could make it time out. */
		if (!faults || err != -ETIMEDOUT)
			tt_err("pool '%s': bulk of %u failed with %d", name, n, err);
		n = 0;
	}
	bufpool_get_stats(pool, &st);
	if (st.in_use != n || st.allocs != n || st.backed != st.free + n)
		tt_err("pool '%s': %u out, stats say in_use %llu allocs %llu backed %llu free %llu",
		       name, n, st.in_use, st.allocs, st.backed, st.free);
	tt_count(TT_GROW_FAILS, st.grow_fails);
	for (i = 0; i < n; i++) {
		u64 tag = tt_take(bufs[i], TT_CHURN_ID, i);

		/* Keep the first back: the async pool must not go before. */
		if (async && !i)
			continue;
		tt_send(bufs[i], tag, TT_VIA_LATE, &tt.late_list);
	}
	wake_up(&tt.late_wq);
	tt_count(TT_DESTROYED_BUSY, n > 0);
	if (!async) {
		bufpool_destroy(pool);
	} else {
		bufpool_destroy_async(pool, tt_release_cb, &released);
		if (n) {
			/* Dying: no buffer for anyone, and told why. */
			if (bufpool_alloc(pool, GFP_ATOMIC))
				tt_err("pool '%s': a dying pool handed out a buffer", name);
			if (PTR_ERR(bufpool_alloc_wait(pool, GFP_KERNEL, TASK_KILLABLE,
						       HZ)) != -ESHUTDOWN)
				tt_err("pool '%s': a wait on a dying pool did not fail", name);
			tt_count(TT_ESHUTDOWN, 1);
			tt_send(bufs[0], TT_HELD(TT_CHURN_ID, 0), TT_VIA_LATE,
				&tt.late_list);
			wake_up(&tt.late_wq);
		}
		if (!wait_for_completion_timeout(&released,
						 msecs_to_jiffies(TT_LIVENESS_MS)))
			tt_err("pool '%s': never released after destroy_async", name);
	}
	tt_count(TT_DESTROYED, 1);
}

static int tt_churn_fn(void *arg)
{
	struct rnd_state rnd;
	u32 nr = 0;

	prandom_seed_state(&rnd, seed + 3);
	tt_make_it_fail();
	while (!kthread_should_stop()) {
		tt_churn_one(&rnd, nr++);
		usleep_range(1000, 2000);
	}
	return 0;
}

/* Phase-end checks, everything quiet */

static int tt_cmp_ptr(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static bool tt_idle_ok(struct bufpool *pool, struct bufpool_buf *buf)
{
	return buf->magic == BUFPOOL_BUF_FREE && !refcount_read(&buf->ref) &&
	       buf->pool == pool;
}

/*
 * Every idle buffer, in the magazines and the depot, is there exactly
 * once. Catches a buffer lost (left in a dead CPU's magazine, dropped by
 * a drain), duplicated, or idle but still marked live.
 */
static void tt_walk(struct tt_pool *tp)
{
	struct bufpool *pool = tp->pool;
	unsigned int n = 0, depot = 0, i, cap = tp->p.max_bufs;
	struct bufpool_buf **all, *buf;
	unsigned long flags;
	int cpu;

	all = kcalloc(cap + 1, sizeof(*all), GFP_KERNEL);
	if (!all) {
		atomic_inc(&tt.errors);
		return;
	}
	/* Quiet now: the magazines are read as they stand. */
	for_each_possible_cpu(cpu) {
		struct bufpool_mag *m = per_cpu_ptr(pool->mags, cpu);
		unsigned long slot;

		for (slot = READ_ONCE(m->head);
		     pool->mag_mask && slot != READ_ONCE(m->tail) && n <= cap; slot++)
			all[n++] = READ_ONCE(m->slots[slot & pool->mag_mask]);
	}
	bufpool_depot_lock(pool, flags);
	for (buf = pool->depot; buf && n <= cap; buf = buf->next, depot++)
		all[n++] = buf;
	if (depot != pool->nr_free || pool->growing || n != pool->backed)
		tt_err("pool '%s': walk found %u idle (%u in the depot), pool says %u backed, %u in the depot",
		       tp->name, n, depot, pool->backed, pool->nr_free);
	bufpool_depot_unlock(pool, flags);
	sort(all, n, sizeof(*all), tt_cmp_ptr, NULL);
	for (i = 0; i < n; i++) {
		if (i && all[i] == all[i - 1])
			tt_err("pool '%s': a buffer idles twice", tp->name);
		else if (!tt_idle_ok(pool, all[i]))
			tt_err("pool '%s': an idle buffer is not marked free", tp->name);
	}
	kfree(all);
}

/* Catches counters that drift from the truth (a failure not counted). */
static void tt_check_stats(struct tt_pool *tp, unsigned int out)
{
	u64 allocs = atomic64_read(&tp->allocs), fails = atomic64_read(&tp->fails);
	struct bufpool_stats st;

	bufpool_get_stats(tp->pool, &st);
	if (st.allocs != allocs || st.fails != fails || st.in_use != out ||
	    st.allocs - st.frees != out || st.backed != st.free + out ||
	    st.waiters)
		tt_err("pool '%s': stats allocs %llu fails %llu in_use %llu frees %llu backed %llu free %llu waiters %llu; test: allocs %llu fails %llu out %u",
		       tp->name, st.allocs, st.fails, st.in_use, st.frees,
		       st.backed, st.free, st.waiters, allocs, fails, out);
}

static int tt_waiter_fn(void *arg)
{
	struct bufpool_buf *buf;
	struct tt_pool *tp = arg;

	buf = bufpool_alloc_wait(tp->pool, GFP_KERNEL, TASK_UNINTERRUPTIBLE,
				 msecs_to_jiffies(TT_LIVENESS_MS));
	tt_result(tp, PTR_ERR_OR_ZERO(buf), 1);
	if (IS_ERR(buf)) {
		tt_err("pool '%s': the waiter was not served: %ld", tp->name,
		       PTR_ERR(buf));
		return 0;
	}
	tt_put(bufpool_buf_data(buf), tt_take(buf, TT_MAIN_ID, 0));
	return 0;
}

static bool tt_wait_waiters(struct bufpool *pool, unsigned int n)
{
	struct bufpool_stats st;
	unsigned int ms;

	for (ms = 0; ms < TT_LIVENESS_MS; ms += 3) {
		bufpool_get_stats(pool, &st);
		if (st.waiters == n)
			return true;
		usleep_range(2000, 3000);
	}
	return false;
}

/*
 * From one CPU, every buffer up to the cap (none lost in a magazine of a
 * CPU that went away); then a waiter sleeps only with nothing free, and
 * is served by the next put. Catches buffers out of reach, a caller told
 * "empty" while buffers idle elsewhere, a put that wakes nobody.
 */
static void tt_check_all_reachable(struct tt_pool *tp)
{
	unsigned int cap = tp->p.max_bufs, i;
	struct bufpool_buf **all, *extra;
	struct bufpool_stats st;
	struct task_struct *t;
	u64 *tags;
	int err;

	all = kcalloc(cap, sizeof(*all), GFP_KERNEL);
	tags = kcalloc(cap, sizeof(*tags), GFP_KERNEL);
	if (!all || !tags)
		goto out;
	err = bufpool_alloc_bulk_wait(tp->pool, GFP_KERNEL, cap, all,
				      TASK_UNINTERRUPTIBLE,
				      msecs_to_jiffies(TT_LIVENESS_MS));
	tt_result(tp, err, cap);
	if (err) {
		tt_err("pool '%s': the whole cap of %u was not to be had: %d",
		       tp->name, cap, err);
		goto out;
	}
	for (i = 0; i < cap; i++)
		tags[i] = tt_take(all[i], TT_MAIN_ID, i);
	tt_check_stats(tp, cap);
	extra = bufpool_alloc(tp->pool, GFP_ATOMIC);
	tt_result(tp, extra ? 0 : -EAGAIN, 1);
	if (extra) {
		tt_err("pool '%s': a buffer past the cap", tp->name);
		tt_put(bufpool_buf_data(extra), tt_take(extra, TT_MAIN_ID, cap));
	}
	t = tt_helper(tt_waiter_fn, tp, "tt_waiter");
	if (t && !tt_wait_waiters(tp->pool, 1)) {
		tt_err("pool '%s': the waiter never queued", tp->name);
	} else {
		bufpool_get_stats(tp->pool, &st);
		if (st.free)
			tt_err("pool '%s': a waiter sleeps while %llu buffers are free",
			       tp->name, st.free);
	}
	/* The waiter takes the first; it must be gone before the check. */
	tt_put(bufpool_buf_data(all[0]), tags[0]);
	if (t && !tt_wait_waiters(tp->pool, 0))
		tt_err("pool '%s': the waiter was not woken by a put", tp->name);
	tt_stop(t);	/* it put what it got */
	for (i = 1; i < cap; i++)
		tt_put(bufpool_buf_data(all[i]), tags[i]);
out:
	kfree_sensitive(tags);
	kfree(all);
}

/* The phase */

/*
 * The phase's pools. Those that must cache per CPU get magazines on every
 * CPU: at least two buffers per possible CPU (@per_cpu raises the cap to
 * that many per possible CPU where it is less), and no
 * BUFPOOL_F_NO_MAGAZINES. TT_BIG_POOL's magazines hold fewer than its cap
 * (64 slots at most), for the bulk requests past a magazine, which are
 * past BUFPOOL_LOCKED_MAX too; TT_CAP_POOL has the smallest cap that
 * still caches, so that the workers keep it at its cap.
 */
static const struct {
	struct bufpool_params p;
	unsigned int per_cpu;
	bool cache;
} tt_layouts[TT_POOLS] = {
	{ { .buf_size = 64, .max_bufs = 96, .min_bufs = 4 }, 4, true },
	{ { .buf_size = 4096, .max_bufs = 8, .flags = BUFPOOL_F_POISON }, 2, true },
	{ { .buf_size = 200, .max_bufs = 12, .min_bufs = 2,
	    .flags = BUFPOOL_F_NO_MAGAZINES | BUFPOOL_F_LOOKUP }, 0, false },
	{ { .buf_size = 64, .max_bufs = 2 }, 2, true },
};

static int tt_create_pools(unsigned int phase)
{
	unsigned int i;

	for (i = 0; i < TT_POOLS; i++) {
		struct tt_pool *tp = &tt.pools[i];

		memset(tp, 0, sizeof(*tp));
		tp->p = tt_layouts[i].p;
		tp->p.max_bufs = max(tp->p.max_bufs,
				     tt_layouts[i].per_cpu * num_possible_cpus());
		/* Sizes vary with the seed; layouts stay what they are. */
		tp->p.buf_size += tt_rand(&tt.rnd, 64) * sizeof(long);
		if (tp->p.flags & BUFPOOL_F_POISON && phase % 2)
			tp->p.flags = BUFPOOL_F_ZERO;
		snprintf(tp->name, sizeof(tp->name), "torture-%u-%u", phase, i);
		tp->p.name = tp->name;
		tp->pool = bufpool_create(&tp->p);
		if (IS_ERR(tp->pool)) {
			tt_err("pool '%s': create failed: %ld", tp->name,
			       PTR_ERR(tp->pool));
			tp->pool = NULL;
			return -ENOMEM;
		}
		tt_count(TT_CREATED, 1);
		tt_flag_failslab(tp->name);
		if (tt_layouts[i].cache && !tt_mag_size(tp))
			tt_err("pool '%s' must cache per CPU and has no magazines (cap %u, %u possible CPUs, flags %#x)",
			       tp->name, tp->p.max_bufs, num_possible_cpus(),
			       tp->p.flags);
		if (i == TT_BIG_POOL && tt_mag_size(tp) >= tp->p.max_bufs)
			tt_err("pool '%s': a magazine of %u holds its whole cap: no bulk request is larger",
			       tp->name, tt_mag_size(tp));
	}
	return 0;
}

static void tt_destroy_pools(void)
{
	struct bufpool_stats st;
	unsigned int i;

	for (i = 0; i < TT_POOLS; i++) {
		if (!tt.pools[i].pool)
			continue;
		bufpool_get_stats(tt.pools[i].pool, &st);
		tt_count(TT_GROW_FAILS, st.grow_fails);
		bufpool_destroy(tt.pools[i].pool);
		tt.pools[i].pool = NULL;
		tt_count(TT_DESTROYED, 1);
	}
}

/* Wait for the buffers in flight to land, and take the handed-over ones. */
static void tt_settle(void)
{
	/* Main's, and too big for its stack. */
	static struct tt_worker w;
	unsigned int ms;

	memset(&w, 0, sizeof(w));
	w.id = TT_MAIN_ID;

	for (ms = 0; ms < TT_LIVENESS_MS; ms++) {
		do {
			tt_op_adopt(&w);
			tt_put_all(&w);
		} while (!llist_empty(&tt.hand_list));
		if (!atomic_read(&tt.in_transit))
			return;
		usleep_range(1000, 2000);
	}
	tt_err("%d buffers never landed", atomic_read(&tt.in_transit));
}

static int tt_start_workers(void)
{
	unsigned int i;

	tt.nworkers = nthreads * num_online_cpus();
	tt.workers = kcalloc(tt.nworkers, sizeof(*tt.workers), GFP_KERNEL);
	if (!tt.workers)
		return -ENOMEM;
	for (i = 0; i < tt.nworkers; i++) {
		struct tt_worker *w = &tt.workers[i];

		w->id = i;
		prandom_seed_state(&w->rnd, seed + 100 + i);
		tt_notify_setup(&w->req);
		init_completion(&w->done);
		w->task = kthread_create(tt_worker_fn, w, "tt_worker/%u", i);
		if (IS_ERR(w->task)) {
			w->task = NULL;
			return -ENOMEM;
		}
		get_task_struct(w->task);
	}
	for (i = 0; i < tt.nworkers; i++)
		wake_up_process(tt.workers[i].task);
	return 0;
}

static void tt_stop_workers(void)
{
	unsigned int i;

	for (i = 0; i < tt.nworkers && tt.workers[i].task; i++) {
		wait_for_completion(&tt.workers[i].done);
		tt_stop(tt.workers[i].task);
	}
	/* Their tags, which the next pools' memory may be. */
	kfree_sensitive(tt.workers);
	tt.workers = NULL;
}

/* Online CPUs whose magazine of @tp's pool ever held a buffer. */
static unsigned int tt_cpus_caching(struct tt_pool *tp)
{
	unsigned int n = 0;
	int cpu;

	if (!tp->pool->mag_mask)
		return 0;
	/* A CPU's word turns odd before its magazine is first filled. */
	for_each_online_cpu(cpu)
		n += !!READ_ONCE(tp->pool->mag_state[cpu]);
	return n;
}

/*
 * What the phase exercised, from the pools' counters and the test's,
 * read with everything quiet and before the phase-end checks add to
 * them; printed, and a path it claims to cover that ran zero times fails
 * the phase. @before: tt.stat at the phase's start.
 */
static void tt_coverage(unsigned int phase, const u64 *before)
{
	bool every_cpu = false;
	struct bufpool_stats st;
	unsigned int i, cpus;

	for (i = 0; i < TT_POOLS; i++) {
		struct tt_pool *tp = &tt.pools[i];

		bufpool_get_stats(tp->pool, &st);
		tt_count(TT_MAG_HITS, st.mag_hits);
		tt_count(TT_MAG_MISSES, st.mag_misses);
		tt_count(TT_STEALS, st.steals);
		tt_count(TT_SWEEPS, st.sweeps);
		tt_count(TT_BARGES, st.barges);
		tt_count(TT_HANDOFFS, st.handoffs);
		tt_count(TT_EMPTY_WAKEUPS, st.empty_wakeups);
		tt_count(TT_FAILS_EXHAUSTED, st.fails_exhausted);
		tt_count(TT_WAITS, st.waits);
		cpus = tt_cpus_caching(tp);
		tt_print("# phase_%u: pool %s mag_slots %u cap %u cpus_caching %u of %u\n",
			 phase, tp->name, tt_mag_size(tp), tp->p.max_bufs, cpus,
			 num_online_cpus());
		tt_print("# phase_%u: pool %s hits %llu steals %llu sweeps %llu handoffs %llu\n",
			 phase, tp->name, st.mag_hits, st.steals, st.sweeps,
			 st.handoffs);
		/* Counted as hits, the slow path would fake the coverage. */
		if (!tt_mag_size(tp) && st.mag_hits)
			tt_err("phase %u: pool '%s' has no magazines and counts %llu magazine hits",
			       phase, tp->name, st.mag_hits);
		if (!tt_layouts[i].cache)
			continue;
		if (!st.mag_hits)
			tt_err("phase %u: pool '%s' must cache and its magazines never served",
			       phase, tp->name);
		every_cpu |= cpus == num_online_cpus();
	}
	if (!every_cpu)
		tt_err("phase %u: no pool cached in the magazine of every online CPU",
		       phase);
	for (i = 0; i < ARRAY_SIZE(tt_claims); i++) {
		enum tt_stat s = tt_claims[i].stat;
		u64 n = atomic64_read(&tt.stat[s]) - before[s];

		tt_print("# phase_%u: %s %llu\n", phase, tt_stat_names[s], n);
		if (!n && tt_claims[i].must)
			tt_err("phase %u: %s ran zero times", phase,
			       tt_stat_names[s]);
	}
}

static void tt_phase(unsigned int phase)
{
	ktime_t start = ktime_get();
	u64 before[TT_NR];
	struct task_struct *pressure = NULL, *plug = NULL, *churner = NULL;
	int errors = atomic_read(&tt.errors);
	unsigned int i;

	for (i = 0; i < TT_NR; i++)
		before[i] = atomic64_read(&tt.stat[i]);
	tt.gen = (tt.gen + 1) & 0x7ff;
	if (tt_create_pools(phase) || tt_start_workers()) {
		tt_err("phase %u could not start", phase);
		goto out;
	}
	pressure = tt_helper(tt_pressure_fn, NULL, "tt_pressure");
	if (hotplug && IS_ENABLED(CONFIG_HOTPLUG_CPU) && num_possible_cpus() > 1)
		plug = tt_helper(tt_hotplug_fn, NULL, "tt_hotplug");
	if (churn)
		churner = tt_helper(tt_churn_fn, NULL, "tt_churn");
	WRITE_ONCE(tt.atimer_on, true);
	hrtimer_start(&tt.atimer, ns_to_ktime(TT_ATIMER_NS),
		      HRTIMER_MODE_REL_HARD);
	for (i = 0; i < tt.nworkers; i++)
		wait_for_completion(&tt.workers[i].done);
	WRITE_ONCE(tt.atimer_on, false);
	hrtimer_cancel(&tt.atimer);
	tt_stop(churner);
	tt_stop(plug);
	tt_stop(pressure);
	tt_notify_quiesce(&tt.irq_req);
	tt_atimer_drain();
	tt_settle();
	tt_print("# phase_%u: ms %lld\n", phase, ktime_ms_delta(ktime_get(), start));
	tt_coverage(phase, before);
	for (i = 0; i < TT_POOLS; i++) {
		tt_check_stats(&tt.pools[i], 0);
		tt_walk(&tt.pools[i]);
		tt_check_all_reachable(&tt.pools[i]);
		tt_check_stats(&tt.pools[i], 0);
		tt_walk(&tt.pools[i]);
	}
out:
	if (tt.workers)
		tt_stop_workers();
	tt_destroy_pools();
	tt_print("%sok %u phase_%u\n",
		 atomic_read(&tt.errors) == errors ? "" : "not ", phase, phase);
}

static void tt_figures(void)
{
	u64 ops = 0;
	int i;

	for (i = TT_ALLOC; i <= TT_SHARED; i++)
		ops += atomic64_read(&tt.stat[i]);
	tt_print("# torture: %llu ops\n", ops);
	for (i = 0; i < TT_NR; i++)
		tt_print("# torture: %s %lld\n", tt_stat_names[i],
			 atomic64_read(&tt.stat[i]));
	tt_print("# torture: errors %d\n", atomic_read(&tt.errors));
}

static int tt_report_show(struct seq_file *m, void *unused)
{
	seq_write(m, tt.report, tt.len);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(tt_report);

static int __init tt_init(void)
{
	unsigned int phase;

	tt.report = kzalloc(TT_REPORT_SIZE, GFP_KERNEL);
	if (!tt.report)
		return -ENOMEM;
	if (!seed)
		seed = get_random_u32() | 1;
	prandom_seed_state(&tt.rnd, seed);
	tt.gen = get_random_u32();
	init_llist_head(&tt.irq_list);
	init_llist_head(&tt.softirq_list);
	init_llist_head(&tt.hand_list);
	init_llist_head(&tt.late_list);
	init_waitqueue_head(&tt.late_wq);
	hrtimer_init(&tt.timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	tt.timer.function = tt_timer_fn;
	hrtimer_init(&tt.atimer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	tt.atimer.function = tt_atimer_fn;
	prandom_seed_state(&tt.irq_rnd, seed + 4);
	tt_notify_setup(&tt.irq_req);
	tasklet_setup(&tt.tasklet, tt_tasklet_fn);

	tt_print("# torture: seed %lu cpus %u workers %u iterations %u phases %u faults %d\n",
		 seed, num_online_cpus(), nthreads * num_online_cpus(),
		 iterations, phases, faults);
	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU) || num_possible_cpus() < 2)
		tt_print("# torture: no CPU hotplug: %s\n",
			 IS_ENABLED(CONFIG_HOTPLUG_CPU) ? "one CPU" :
			 "CONFIG_HOTPLUG_CPU is off");
	pr_info("bufpool_torture: seed %lu\n", seed);
	tt_print("1..%u\n", phases);
	{
		struct task_struct *late = tt_helper(tt_late_fn, NULL, "tt_late");

		for (phase = 1; phase <= phases; phase++)
			tt_phase(phase);
		tt_stop(late);
	}
	hrtimer_cancel(&tt.timer);
	hrtimer_cancel(&tt.atimer);
	tasklet_kill(&tt.tasklet);
	tt_figures();
	pr_info("bufpool_torture: %s, %d errors\n",
		atomic_read(&tt.errors) ? "FAIL" : "PASS", atomic_read(&tt.errors));
	tt.dir = debugfs_create_dir("bufpool_torture", NULL);
	debugfs_create_file("report", 0444, tt.dir, NULL, &tt_report_fops);
	return 0;
}

static void __exit tt_exit(void)
{
	debugfs_remove(tt.dir);
	kfree(tt.report);
}

module_init(tt_init);
module_exit(tt_exit);
MODULE_DESCRIPTION("bufpool torture test");
MODULE_LICENSE("GPL");
