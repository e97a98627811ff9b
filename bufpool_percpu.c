// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool per-CPU magazines (Bonwick and Adams, "Magazines and Vmem", 2001).
 *
 * Each CPU keeps a stack of up to 2 * batch free buffers. An allocation
 * pops from it and a free pushes onto it (bufpool_cpu_pop() and
 * bufpool_cpu_push(), inline in bufpool_internal.h so that the API's
 * functions make no call on a hit but the lock's), on the local CPU,
 * under the magazine's own raw spinlock with interrupts off: the lock is almost
 * never contended and stays in the local cache, so a hit costs one locked
 * instruction and touches no line another CPU writes. An empty magazine
 * is refilled with batch buffers from the depot, a full one gives its
 * batch oldest back, both under the pool lock too, so the pool lock is
 * taken at most once per batch operations.
 *
 * Keeping the cap exact. The lock is what lets any CPU empty any
 * magazine: bufpool_cpu_drain() takes each CPU's lock in turn and moves
 * its buffers to the depot, from any context, without an IPI and without
 * waiting for another CPU to do anything but leave a short section. A
 * caller that finds the depot empty and cannot grow the pool first sets
 * pool->bypass (it waits, or the pool turns tight), then drains: a
 * section that took its magazine lock before the drainer did is over by
 * the time the drainer holds it, and one that takes it after sees
 * bypass, which was written before, and goes to the depot. So once a
 * drain has passed every CPU with bypass set, no magazine holds a buffer
 * until bypass is cleared (pool->mags_empty), and a caller can be told
 * "empty" at once, exactly, without looking at any CPU.
 */
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/percpu.h>

#include "bufpool_internal.h"
#include <trace/bufpool_trace.h>

/* Most buffers a magazine exchanges with the depot at once. */
#define BUFPOOL_BATCH_MAX	32
/*
 * Fewest: a magazine that goes to the depot every one to three operations
 * takes more locks than it saves (make bench, W7: a pool of 16 on two
 * CPUs, batch 1, ran 1.3 times slower than without magazines).
 */
#define BUFPOOL_BATCH_MIN	4
/* Most bytes of idle buffers one CPU's magazine may hold. */
#define BUFPOOL_MAG_BYTES	(128 * 1024)

static enum cpuhp_state bufpool_cpuhp_state;

/**
 * bufpool_cpu_flush_locked - give the @n oldest buffers of a magazine back
 * @pool: the pool
 * @c: the magazine, whose lock the caller holds
 * @n: how many, at most all of them
 *
 * To the depot, or to waiters. The pool lock is taken here, after the
 * magazine is updated, since the last buffer home may let destroy go on.
 */
void bufpool_cpu_flush_locked(struct bufpool *pool, struct bufpool_cpu *c,
			      unsigned int n)
{
	struct bufpool_buf *out[2 * BUFPOOL_BATCH_MAX];
	unsigned int i;

	lockdep_assert_held(&c->lock);
	memcpy(out, c->mag, n * sizeof(out[0]));
	c->count -= n;
	memmove(c->mag, c->mag + n, c->count * sizeof(c->mag[0]));
	c->misses++;
	raw_spin_lock(&pool->lock);
	for (i = 0; i < n; i++)
		bufpool_release_locked(pool, out[i]);
	raw_spin_unlock(&pool->lock);
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
	unsigned long flags;
	bool ok = false;

	if (!pool->batch)
		return false;
	c = bufpool_cpu_lock(&flags, pool);
	if (c->count >= n && !READ_ONCE(pool->bypass)) {
		c->count -= n;
		memcpy(bufs, c->mag + c->count, n * sizeof(*bufs));
		c->hits++;
		ok = true;
	}
	bufpool_cpu_unlock(c, flags);
	return ok;
}

/**
 * bufpool_cpu_refill - refill this CPU's empty magazine from the depot
 * @pool: the pool
 * @bufp: gets one buffer for the caller
 *
 * Return: true with a buffer in *@bufp; false if the depot is empty or
 * the magazines are bypassed (the depot's buffers are the waiters').
 */
bool bufpool_cpu_refill(struct bufpool *pool, struct bufpool_buf **bufp)
{
	struct bufpool_buf *buf;
	struct bufpool_cpu *c;
	unsigned long flags;
	unsigned int n = 0;

	/* A stale look only costs a trip; bypass counts under the pool lock. */
	if (!pool->batch || READ_ONCE(pool->bypass))
		return false;
	c = bufpool_cpu_lock(&flags, pool);
	c->misses++;
	raw_spin_lock(&pool->lock);
	if (!pool->bypass) {
		while (n <= pool->batch && c->count < 2 * pool->batch &&
		       (buf = bufpool_depot_pop(pool))) {
			if (n++)
				c->mag[c->count++] = buf;
			else
				*bufp = buf;
		}
		bufpool_note_out_locked(pool);
		bufpool_update_tight_locked(pool);
	}
	raw_spin_unlock(&pool->lock);
	bufpool_cpu_unlock(c, flags);
	return n;
}

/* Empty one CPU's magazine into the depot; returns how many it held. */
static unsigned int bufpool_cpu_drain_one(struct bufpool *pool, int cpu)
{
	struct bufpool_cpu *c = per_cpu_ptr(pool->cpu, cpu);
	unsigned long flags;
	unsigned int n;

	/*
	 * Not even a peek at the count first: a section that read bypass
	 * clear may still be about to fill it. Only its lock tells.
	 */
	raw_spin_lock_irqsave(&c->lock, flags);
	n = c->count;
	if (n)
		bufpool_cpu_flush_locked(pool, c, n);
	raw_spin_unlock_irqrestore(&c->lock, flags);
	return n;
}

/**
 * bufpool_cpu_drain - give every CPU's idle buffers back to the depot
 * @pool: the pool; the caller holds no lock of it
 *
 * Any context but NMI: each magazine is emptied under its own lock, from
 * here, for online and offline CPUs alike. If pool->bypass was set before
 * and stayed set until the end (pool->bypass_gen unchanged), every
 * magazine stays empty until it is cleared: say so in pool->mags_empty.
 * That holds because bypass is set under the pool lock before the pool
 * lock is taken here to read bypass_gen, and each magazine lock is taken
 * after that: a section that takes a magazine lock after the drain has
 * released it reads bypass set (release and acquire, pool lock then
 * magazine lock, order the store before its load).
 */
void bufpool_cpu_drain(struct bufpool *pool)
{
	unsigned int gen, moved = 0;
	unsigned long flags;
	bool empty;
	int cpu;

	if (!pool->batch)
		return;
	bufpool_lock(pool, flags);
	gen = pool->bypass_gen;
	bufpool_unlock(pool, flags);
	for_each_possible_cpu(cpu)
		moved += bufpool_cpu_drain_one(pool, cpu);
	bufpool_lock(pool, flags);
	pool->drains++;
	if (pool->bypass && pool->bypass_gen == gen)
		pool->mags_empty = true;
	empty = pool->mags_empty;
	bufpool_unlock(pool, flags);
	/* Every caller of a drain keeps the pool alive across it. */
	trace_bufpool_drain(pool, moved, empty);
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

/* A CPU is dead: hand its buffers back now rather than at the next drain. */
static int bufpool_cpu_dead(unsigned int cpu, struct hlist_node *node)
{
	struct bufpool *pool = hlist_entry(node, struct bufpool, cpuhp_node);

	bufpool_cpu_drain_one(pool, cpu);
	return 0;
}

/*
 * The magazine size: each CPU may hide 2 * batch buffers, and all CPUs
 * together at most a quarter of the pool and a bounded amount of memory,
 * so that a cap smaller than the magazines could hide simply gets small
 * magazines, or none when they would be too small to pay for themselves.
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
	return batch < BUFPOOL_BATCH_MIN ? 0 : batch;
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
	int cpu, err;

	pool->batch = bufpool_batch(pool);
	pool->tight_exit = 2 * pool->batch * num_possible_cpus();
	size = sizeof(struct bufpool_cpu) +
	       2 * pool->batch * sizeof(struct bufpool_buf *);
	pool->cpu = bufpool_fault() ? NULL :
		(struct bufpool_cpu __percpu *)__alloc_percpu(size,
					__alignof__(struct bufpool_cpu));
	if (!pool->cpu)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		raw_spin_lock_init(&per_cpu_ptr(pool->cpu, cpu)->lock);
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
