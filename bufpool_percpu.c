// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool per-CPU magazines (Bonwick and Adams, "Magazines and Vmem", 2001).
 *
 * Each CPU keeps a stack of up to 2 * batch free buffers. An allocation
 * pops from it and a free pushes onto it, touching no shared cache line
 * and taking no lock. An empty magazine is refilled with batch buffers
 * from the depot, a full one gives its batch oldest back, both under the
 * pool lock, so the lock is taken at most once per batch operations.
 *
 * The section. The magazine is touched only by its own CPU, with
 * preemption off and c->busy set (bufpool_cpu_enter()/leave()): a local
 * trylock made of plain stores and compiler barriers, which is enough
 * because only that CPU, or an interrupt on it, can see the flag. An
 * interrupt that finds it set goes to the depot instead.
 *
 * Keeping the cap exact. A caller that may wait (it may sleep, or is at
 * least preemptible) is told the pool is empty only after the magazines
 * have been emptied: bufpool_cpu_drain() sends every CPU an IPI
 * whose handler gives its magazine back (or, if the IPI interrupted that
 * CPU's own section, leaves c->flush_pending for bufpool_cpu_leave() to
 * act on). Sleepers must also get every returned buffer first, so before
 * draining they set pool->bypass, which each section reads after setting
 * c->busy: a section that began before the IPI is flushed by it or by its
 * own leave, and one that begins after sees bypass (the IPI orders the two
 * CPUs) and goes to the depot, where the buffer is handed to a waiter.
 * Waiting for IPIs needs interrupts on and no lock held (another CPU may
 * spin on it with interrupts off); any other caller empties its own
 * magazine and schedules the drain of the others, so a retry moments
 * later finds their buffers in the depot.
 *
 * Tight mode keeps that window rare and short: once the depot runs empty
 * at the cap, pool->bypass is set until the depot could refill every
 * magazine again (bufpool_cpu_tight()), so near exhaustion frees go where
 * every CPU finds them and the magazines are emptied behind it. What can
 * still be out of reach of a caller in atomic context is what idled in
 * other CPUs' magazines at that moment, until the scheduled drain runs:
 * at most a quarter of the pool, for the time of one work item.
 *
 * Teardown. A flush that gives back the last buffer of a dying pool lets
 * bufpool_destroy() free the pool and its per-CPU area, while the section
 * it runs in still has to clear c->busy. So a flush takes its buffers out
 * of the magazine, and counts, before it gives them back, and
 * bufpool_shutdown() waits out every section with synchronize_rcu(): all
 * run with preemption off (bufpool_cpu_enter(), bufpool_cpu_drain()) or
 * interrupts off (the drain IPI), so each is an RCU read-side critical
 * section, on 6.1 as on 6.12. The CPU-dead callback is not, but touches
 * nothing after its flush.
 */
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/percpu.h>
#include <linux/smp.h>

#include "bufpool_internal.h"

/* Most buffers a magazine exchanges with the depot at once. */
#define BUFPOOL_BATCH_MAX	32
/* Most bytes of idle buffers one CPU's magazine may hold. */
#define BUFPOOL_MAG_BYTES	(128 * 1024)

static enum cpuhp_state bufpool_cpuhp_state;

/*
 * Give the @n oldest buffers of the magazine to the depot, or to waiters.
 * They are taken out and counted first and given back last: once the last
 * buffer of a dying pool is home, destroy may free the pool and @c (see
 * "Teardown" above).
 */
static void bufpool_cpu_flush(struct bufpool *pool, struct bufpool_cpu *c,
			      unsigned int n)
{
	struct bufpool_buf *chain = NULL, *buf;
	unsigned long flags;
	unsigned int i;

	for (i = n; i > 0; i--) {	/* chained oldest first */
		buf = c->mag[i - 1];
		buf->next = chain;
		chain = buf;
	}
	c->count -= n;
	memmove(c->mag, c->mag + n, c->count * sizeof(c->mag[0]));
	this_cpu_inc(pool->cpu->misses);
	bufpool_test_point(BUFPOOL_TP_FLUSH);
	bufpool_lock(pool, flags);
	while ((buf = chain)) {
		chain = buf->next;
		bufpool_release_locked(pool, buf);
	}
	bufpool_unlock(pool, flags);
	bufpool_test_point(BUFPOOL_TP_FLUSHED);
}

/*
 * Empty this CPU's magazine: from a drain IPI, or with preemption off.
 * If that interrupted the CPU's own section, leave it to that section.
 */
static void bufpool_cpu_drain_local(void *arg)
{
	struct bufpool *pool = arg;
	struct bufpool_cpu *c = this_cpu_ptr(pool->cpu);

	if (c->busy) {
		c->flush_pending = true;
		return;
	}
	c->busy = true;
	barrier();
	c->flush_pending = false;
	if (c->count)
		bufpool_cpu_flush(pool, c, c->count);
	barrier();
	c->busy = false;
}

static __always_inline struct bufpool_cpu *
bufpool_cpu_enter(struct bufpool *pool)
{
	struct bufpool_cpu *c;

	preempt_disable();
	c = this_cpu_ptr(pool->cpu);
	if (unlikely(c->busy)) {
		preempt_enable();
		return NULL;
	}
	c->busy = true;
	barrier();
	return c;
}

static __always_inline void bufpool_cpu_leave(struct bufpool *pool,
					      struct bufpool_cpu *c)
{
	barrier();
	c->busy = false;
	barrier();
	if (unlikely(c->flush_pending))
		bufpool_cpu_drain_local(pool);
	preempt_enable();
}

/**
 * bufpool_cpu_pop - the allocation fast path
 * @pool: the pool
 *
 * Return: a buffer from this CPU's magazine, or NULL if it is empty,
 * disabled, or the caller must go through the pool lock.
 */
struct bufpool_buf *bufpool_cpu_pop(struct bufpool *pool)
{
	struct bufpool_buf *buf = NULL;
	struct bufpool_cpu *c;

	if (!pool->batch)
		return NULL;
	c = bufpool_cpu_enter(pool);
	if (unlikely(!c))
		return NULL;
	if (likely(c->count && !READ_ONCE(pool->bypass))) {
		buf = c->mag[--c->count];
		this_cpu_inc(pool->cpu->hits);
	}
	bufpool_cpu_leave(pool, c);
	return buf;
}

/**
 * bufpool_cpu_pop_bulk - take @n buffers from this CPU's magazine
 * @pool: the pool
 * @n: how many
 * @bufs: where to put them
 *
 * Return: true with @n buffers in @bufs, false with none.
 */
bool bufpool_cpu_pop_bulk(struct bufpool *pool, unsigned int n,
			  struct bufpool_buf **bufs)
{
	struct bufpool_cpu *c;
	bool ok = false;

	if (!pool->batch)
		return false;
	c = bufpool_cpu_enter(pool);
	if (unlikely(!c))
		return false;
	if (c->count >= n && !READ_ONCE(pool->bypass)) {
		c->count -= n;
		memcpy(bufs, c->mag + c->count, n * sizeof(*bufs));
		this_cpu_inc(pool->cpu->hits);
		ok = true;
	}
	bufpool_cpu_leave(pool, c);
	return ok;
}

/**
 * bufpool_cpu_push - the free fast path
 * @pool: the pool
 * @buf: a buffer marked free
 *
 * Return: true if @buf went into this CPU's magazine, false if the caller
 * must give it to the depot (someone waits, or the magazine is busy).
 */
bool bufpool_cpu_push(struct bufpool *pool, struct bufpool_buf *buf)
{
	struct bufpool_cpu *c;

	if (!pool->batch)
		return false;
	c = bufpool_cpu_enter(pool);
	if (unlikely(!c))
		return false;
	if (unlikely(READ_ONCE(pool->bypass))) {
		bufpool_cpu_leave(pool, c);
		return false;
	}
	if (unlikely(c->count == 2 * pool->batch))
		bufpool_cpu_flush(pool, c, pool->batch);
	else
		this_cpu_inc(pool->cpu->hits);
	c->mag[c->count++] = buf;
	bufpool_cpu_leave(pool, c);
	return true;
}

/**
 * bufpool_cpu_refill - refill this CPU's empty magazine from the depot
 * @pool: the pool
 * @bufp: gets one buffer for the caller
 *
 * Return: true with a buffer in *@bufp; false if the depot is empty,
 * someone waits (the depot's buffers are theirs) or the magazine is busy.
 */
bool bufpool_cpu_refill(struct bufpool *pool, struct bufpool_buf **bufp)
{
	struct bufpool_buf *buf;
	struct bufpool_cpu *c;
	unsigned long flags;
	unsigned int n = 0;

	if (!pool->batch)
		return false;
	c = bufpool_cpu_enter(pool);
	if (unlikely(!c))
		return false;
	this_cpu_inc(pool->cpu->misses);
	bufpool_lock(pool, flags);
	if (!pool->bypass) {
		while (n <= pool->batch && c->count < 2 * pool->batch &&
		       (buf = bufpool_depot_pop(pool))) {
			if (n++)
				c->mag[c->count++] = buf;
			else
				*bufp = buf;
		}
		bufpool_note_out_locked(pool);
		bufpool_cpu_tight(pool);
	}
	bufpool_unlock(pool, flags);
	bufpool_cpu_leave(pool, c);
	return n;
}

/**
 * bufpool_cpu_tight - turn the magazines off while the pool is at its cap
 * @pool: the pool, whose lock the caller holds
 *
 * At the cap with an empty depot, a buffer freed into a magazine is one
 * that a caller on another CPU that cannot send IPIs would not find. So
 * from the moment the depot runs empty at the cap, frees go to the depot
 * and the magazines are emptied (asynchronously: this may run in any
 * context); from the moment the depot could refill every magazine, or
 * the pool could grow again, they are used again. The gap between the
 * two keeps the mode from flapping.
 */
void bufpool_cpu_tight(struct bufpool *pool)
{
	bool tight = pool->tight;

	lockdep_assert_held(&pool->waitq.lock);
	if (!pool->batch)
		return;
	if (pool->backed < pool->max_bufs || pool->nr_free >= pool->tight_exit)
		tight = false;
	else if (!pool->nr_free)
		tight = true;
	if (tight == pool->tight)
		return;
	pool->tight = tight;
	bufpool_update_bypass_locked(pool);
	if (tight)
		queue_work(system_highpri_wq, &pool->drain_work);
}

/**
 * bufpool_cpu_drain - give every CPU's idle buffers back to the depot
 * @pool: the pool
 * @may_sleep: the caller may sleep (and so may wait for IPIs)
 *
 * A caller that cannot sleep, or holds locks (it is not preemptible), must
 * not wait for other CPUs: one of them may spin on a lock it holds, with
 * interrupts off. It empties its own magazine and leaves the others to
 * pool->drain_work.
 */
void bufpool_cpu_drain(struct bufpool *pool, bool may_sleep)
{
	unsigned long flags;

	if (!pool->batch)
		return;
	if (may_sleep || preemptible()) {
		on_each_cpu(bufpool_cpu_drain_local, pool, 1);
		bufpool_lock(pool, flags);
		pool->drains++;
		bufpool_unlock(pool, flags);
	} else {
		preempt_disable();
		bufpool_cpu_drain_local(pool);
		preempt_enable();
		queue_work(system_highpri_wq, &pool->drain_work);
	}
}

/**
 * bufpool_cpu_cached - how many buffers idle in magazines
 * @pool: the pool
 *
 * Return: the sum over all CPUs, read without synchronisation.
 */
unsigned int bufpool_cpu_cached(struct bufpool *pool)
{
	unsigned int sum = 0;
	int cpu;

	if (!pool->batch)
		return 0;
	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(pool->cpu, cpu)->count);
	return sum;
}

/*
 * A CPU is dead: its magazine can no longer be touched by its owner, so
 * hand the buffers back from here (the control CPU).
 */
static int bufpool_cpu_dead(unsigned int cpu, struct hlist_node *node)
{
	struct bufpool *pool = hlist_entry(node, struct bufpool, cpuhp_node);
	struct bufpool_cpu *c = per_cpu_ptr(pool->cpu, cpu);

	c->flush_pending = false;
	if (c->count)
		bufpool_cpu_flush(pool, c, c->count);
	return 0;
}

/*
 * The magazine size: each CPU may hide 2 * batch buffers, and all CPUs
 * together at most a quarter of the pool and a bounded amount of memory,
 * so that a cap smaller than the magazines could hide simply gets small
 * magazines, or none.
 */
static unsigned int bufpool_batch(const struct bufpool *pool)
{
	unsigned int batch = BUFPOOL_BATCH_MAX;

	if (pool->flags & BUFPOOL_F_NO_MAGAZINES)
		return 0;
	batch = min_t(unsigned int, batch,
		      pool->max_bufs / (8 * num_possible_cpus()));
	batch = min_t(unsigned int, batch,
		      BUFPOOL_MAG_BYTES / (2 * pool->buf_size));
	return batch;
}

/**
 * bufpool_cpu_create - set up a pool's per-CPU state
 * @pool: the pool being created
 *
 * Return: 0 or -ENOMEM.
 */
int bufpool_cpu_create(struct bufpool *pool)
{
	size_t size;
	int err;

	pool->batch = bufpool_batch(pool);
	pool->tight_exit = 2 * pool->batch * num_possible_cpus();
	size = sizeof(struct bufpool_cpu) +
	       2 * pool->batch * sizeof(struct bufpool_buf *);
	pool->cpu = bufpool_fault() ? NULL :
		(struct bufpool_cpu __percpu *)__alloc_percpu(size,
					__alignof__(struct bufpool_cpu));
	if (!pool->cpu)
		return -ENOMEM;
	if (!pool->batch)
		return 0;
	err = cpuhp_state_add_instance_nocalls(bufpool_cpuhp_state,
					       &pool->cpuhp_node);
	if (err) {
		free_percpu(pool->cpu);
		pool->cpu = NULL;
	}
	return err;
}

/**
 * bufpool_cpu_destroy - free a pool's per-CPU state
 * @pool: the pool, with its magazines drained
 */
void bufpool_cpu_destroy(struct bufpool *pool)
{
	if (!pool->cpu)
		return;
	if (pool->batch)
		cpuhp_state_remove_instance_nocalls(bufpool_cpuhp_state,
						    &pool->cpuhp_node);
	free_percpu(pool->cpu);
	pool->cpu = NULL;
}

int bufpool_percpu_init(void)
{
	int ret;

	ret = cpuhp_setup_state_multi(CPUHP_BP_PREPARE_DYN, "bufpool:dead",
				      NULL, bufpool_cpu_dead);
	if (ret < 0)
		return ret;
	bufpool_cpuhp_state = ret;
	return 0;
}

void bufpool_percpu_exit(void)
{
	cpuhp_remove_multi_state(bufpool_cpuhp_state);
}
