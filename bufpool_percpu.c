// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool's per-CPU magazines: the layer over the depot, where the hit
 * paths are served.
 */
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/log2.h>
#include <linux/smp.h>

#include "bufpool_internal.h"
#include <trace/bufpool_trace.h>

/**
 * DOC: Per-CPU magazines
 *
 * Each CPU has a magazine (Bonwick and Adams, "Magazines and Vmem",
 * 2001): a ring of slots holding idle buffers, ``head`` the next to take
 * and ``tail`` the next to fill, both counters that only grow. An
 * allocation takes from this CPU's magazine, a free fills it, without a
 * lock and without turning interrupts off (``bufpool_mag_take()``,
 * ``bufpool_mag_put()``, inline in the API's functions):
 *
 * - Any CPU may take from any magazine, with one ``cmpxchg`` on ``head``,
 *   after reading the slot: two CPUs racing for the last buffer need one
 *   atomic read-modify-write, and that is all an allocation hit costs. A
 *   slot cannot be refilled under a taker, since it is refilled only
 *   once ``head`` has moved past it, which fails the taker's
 *   ``cmpxchg``; and the counters never wrap in practice, so there is no
 *   ABA.
 * - Only a CPU fills its own magazine, so a free needs no atomic: it
 *   writes the slot and publishes it with a store-release of ``tail``,
 *   under ``preempt_disable()``. What it must survive is a free nested in
 *   it on the same CPU (an interrupt that puts a buffer in the middle of
 *   a task's put): a per-CPU busy marker, plain stores by that CPU only,
 *   sends the nested one to the depot. That is ``local_trylock_t``'s idea
 *   (6.15 and later, used by SLUB's per-CPU sheaves), which 6.1 and 6.12
 *   do not have.
 *
 * So a hit costs one locked instruction to allocate, none to free, and
 * no interrupt is turned off on either (``scripts/hotpath`` checks it in
 * ``make bench``). An empty magazine is refilled from the depot about
 * half full, and a full one gives its older half back, both under the
 * pool lock, a batch of at most 31 and the caller's one: a buffer moves
 * between a magazine and the depot only under that lock, and at most 32
 * per hold of it. Every pool of at least two buffers per possible CPU
 * gets magazines, whatever the CPU count (a pool of 16 on two CPUs, one
 * of 1024 with 64 possible CPUs). A magazine has up to 64 slots, holds
 * at most 128 KiB of idle buffers, and up to the whole cap, not its
 * CPU's share: since any CPU can take from any magazine, a buffer idle
 * on one CPU is never out of another's reach, and a CPU that took a
 * burst of the pool puts it all back without the lock.
 */

/**
 * DOC: Exact at the cap
 *
 * A caller is told the pool is empty only when, at one instant during
 * its call, no buffer was idle anywhere: in the depot or in any CPU's
 * magazine. This holds in every context (task, softirq, hard IRQ,
 * interrupts off, a lock held) with no IPI and no work item, because a
 * caller that finds its own magazine and the depot empty takes from the
 * others itself (``bufpool_mag_steal()``). It reads the magazines twice:
 * since ``head`` and ``tail`` only grow, two passes that read the same
 * values saw magazines that were all empty in between, and the depot's
 * count of buffers ever put on it, read before and after under the pool
 * lock, says it stayed empty too (a buffer moves between a magazine and
 * the depot only under that lock). If the passes disagree, something
 * came back meanwhile: it looks again, a bounded number of times.
 *
 * So that a failing allocation does not cost a cache miss per possible
 * CPU, the pool keeps a summary: one word per possible CPU, in one array,
 * odd while that CPU's magazine may hold buffers. A CPU makes its word
 * odd before it fills its empty magazine and even again when its own
 * allocation finds the magazine empty, both with plain stores (only that
 * CPU writes its word); a scan skips the magazines whose word is even.
 * The words only grow, so they are part of what the two passes compare.
 * A failing allocation then reads the summary, 4 bytes per possible CPU
 * (one cache line for 16 CPUs, 4 for 64, 16 for 256), twice, plus the
 * ``head`` and ``tail`` of each magazine that may hold buffers, and takes
 * the pool lock twice.
 */

/**
 * DOC: Waiters and the magazines
 *
 * While anyone waits, returned buffers are the waiters': ``pool->bypass``
 * is set, a free goes to the depot (which hands it to the head of the
 * queue), and allocations and refills leave the magazines alone. What is
 * already in the magazines must come out too, and a free that read
 * ``bypass`` clear just before it was set must not leave its buffer there:
 * a store (filling a slot) racing with a load (of ``bypass``) on each
 * side, which takes a full barrier on one side to close. Frees do not
 * pay for it. A free reads ``bypass`` again after filling its slot, and
 * the first sleeper of a waiting episode, which may sleep and so may
 * wait, makes every CPU pass a full barrier (an IPI that runs
 * ``smp_mb()``, as ``membarrier()`` does) and then sweeps every magazine
 * into the depot (``bufpool_mag_sweep()``). A free whose second look came
 * before its CPU's barrier filled its slot before it too, and the sweep
 * finds the buffer; one whose second look came after sees ``bypass`` and
 * moves its magazine to the depot itself. Later sleepers of the same
 * episode pay nothing: the magazines are known empty until ``bypass`` is
 * cleared, when the last waiter leaves, and the magazines serve again. A
 * notify request, which cannot wait, has the pool's service work sweep
 * for it.
 */

/* Most slots in a magazine. */
#define BUFPOOL_MAG_MAX		64
/* Most bytes of idle buffers one CPU's magazine may hold. */
#define BUFPOOL_MAG_BYTES	(128 * 1024)
/* Pairs of passes a steal makes before it leaves a moving pool be. */
#define BUFPOOL_STEAL_TRIES	4

static enum cpuhp_state bufpool_mag_cpuhp_state;

/*
 * None for a pool of fewer than two buffers per possible CPU, whose
 * callers would mostly find their own magazine empty. Else the smallest
 * of: 64 slots, 128 KiB of buffers, the cap; a power of two, at least 2.
 * Not this CPU's share of the cap: any CPU takes from any magazine, so
 * one that holds much of the pool strands nothing, and a CPU that takes
 * a burst gives it all back without the pool lock.
 */
static unsigned int bufpool_mag_size(const struct bufpool *pool)
{
	unsigned int n = BUFPOOL_MAG_MAX;

	if (pool->flags & BUFPOOL_F_NO_MAGAZINES ||
	    pool->max_bufs / num_possible_cpus() < 2)
		return 0;
	n = min_t(unsigned int, n, pool->max_bufs);
	n = min_t(size_t, n, BUFPOOL_MAG_BYTES / pool->buf_size);
	return n < 2 ? 0 : rounddown_pow_of_two(n);
}

/*
 * Buffers a refill brings and a full magazine gives back: about half,
 * and with the caller's one, BUFPOOL_LOCKED_MAX at most under the lock.
 */
static unsigned int bufpool_mag_batch(const struct bufpool *pool)
{
	return min_t(unsigned int, (pool->mag_mask + 1) / 2, BUFPOOL_LOCKED_MAX - 1);
}

/**
 * bufpool_mag_flag - this CPU's magazine is about to be filled
 * @pool: the pool
 * @m: this CPU's magazine, with preemption or interrupts off
 *
 * Its word in the summary turns odd before the slot is published (the
 * fill's store-release of @tail orders it): a scan that reads it even
 * would have read the magazine empty.
 */
void bufpool_mag_flag(struct bufpool *pool, struct bufpool_mag *m)
{
	u32 *state = &pool->mag_state[smp_processor_id()];

	m->flagged = true;
	WRITE_ONCE(*state, *state + 1);
}

/*
 * This CPU found its own magazine empty: say so in the summary. Only this
 * CPU fills it, and it is not doing so (the caller holds the busy marker,
 * or the CPU is dead), so it stays empty until this CPU's next fill turns
 * the word odd again.
 */
static void bufpool_mag_unflag(struct bufpool *pool, struct bufpool_mag *m,
			       int cpu)
{
	u32 *state = &pool->mag_state[cpu];

	if (!m->flagged || READ_ONCE(m->head) != READ_ONCE(m->tail))
		return;
	m->flagged = false;
	WRITE_ONCE(*state, *state + 1);
}

/*
 * Fill a slot of this CPU's magazine, which has room, interrupts off and
 * no put of this CPU under way (not busy: a put this one interrupted
 * would write the same slot, and set @tail back).
 */
static void bufpool_mag_fill_locked(struct bufpool *pool,
				    struct bufpool_mag *m,
				    struct bufpool_buf *buf)
{
	unsigned long tail = m->tail;

	if (!m->flagged)
		bufpool_mag_flag(pool, m);
	WRITE_ONCE(m->slots[tail & pool->mag_mask], buf);
	/* Pairs with the acquire in bufpool_mag_take(). */
	smp_store_release(&m->tail, tail + 1);
}

/*
 * Take up to @max of the oldest buffers of @m at once, any CPU's, with
 * one cmpxchg; the reads of the slots come first (see bufpool_mag_take()).
 */
static unsigned int bufpool_mag_take_many(struct bufpool_mag *m,
					  unsigned int mask,
					  struct bufpool_buf **out,
					  unsigned int max)
{
	unsigned long head = READ_ONCE(m->head);
	unsigned int n, i;

	do {
		/* Pairs with the release in bufpool_mag_put(): slots filled. */
		n = min_t(unsigned long, smp_load_acquire(&m->tail) - head, max);
		if (!n)
			return 0;
		for (i = 0; i < n; i++)
			out[i] = READ_ONCE(m->slots[(head + i) & mask]);
	} while (!try_cmpxchg_release(&m->head, &head, head + n));
	return n;
}

/*
 * Move up to BUFPOOL_LOCKED_MAX buffers of @m to the depot (or to the
 * waiters), the pool lock held across the take and the push so that no
 * buffer is ever in neither (bufpool_mag_steal()'s snapshot relies on it).
 */
static unsigned int bufpool_mag_empty_locked(struct bufpool *pool,
					     struct bufpool_mag *m,
					     unsigned int max)
{
	struct bufpool_buf *out[BUFPOOL_LOCKED_MAX];
	unsigned int n;

	lockdep_assert_held(&pool->lock);
	write_seqcount_begin(&pool->depot_seq);
	n = bufpool_mag_take_many(m, pool->mag_mask, out,
				  min_t(unsigned int, max, BUFPOOL_LOCKED_MAX));
	bufpool_depot_move_in_locked(pool, out, n);
	write_seqcount_end(&pool->depot_seq);
	return n;
}

/* Move every buffer of @m to the depot, a bounded batch per lock hold. */
static unsigned int bufpool_mag_empty(struct bufpool *pool,
				      struct bufpool_mag *m)
{
	unsigned int n, moved = 0;
	unsigned long flags;

	do {
		bufpool_depot_lock(pool, flags);
		n = bufpool_mag_empty_locked(pool, m, UINT_MAX);
		bufpool_depot_unlock(pool, flags);
		moved += n;
	} while (n);
	return moved;
}

/**
 * bufpool_mag_flush - a free saw a waiter after filling its slot
 * @pool: the pool
 * @m: the magazine it filled, any CPU's
 *
 * Its buffers are the waiters': all go to the depot. A sweep may be
 * emptying @m at once; each buffer goes to whoever takes it.
 */
void bufpool_mag_flush(struct bufpool *pool, struct bufpool_mag *m)
{
	bufpool_mag_empty(pool, m);
}

/**
 * bufpool_mag_put_slow - the free miss path
 * @pool: the pool
 * @buf: the buffer, marked free
 *
 * To the depot if the magazines are bypassed, busy (this put is nested in
 * another on this CPU) or absent; into this CPU's magazine if it was only
 * full, once its older half has gone to the depot.
 */
void bufpool_mag_put_slow(struct bufpool *pool, struct bufpool_buf *buf)
{
	struct bufpool_mag *m;
	unsigned long flags;

	bufpool_depot_lock(pool, flags);
	m = this_cpu_ptr(pool->mags);
	this_cpu_inc(pool->mags->misses);
	if (pool->mag_mask && !pool->bypass && !READ_ONCE(m->busy) &&
	    m->tail - READ_ONCE(m->head) > pool->mag_mask) {
		bufpool_mag_empty_locked(pool, m, bufpool_mag_batch(pool));
		bufpool_mag_fill_locked(pool, m, buf);
	} else {
		bufpool_depot_push_locked(pool, buf);
	}
	bufpool_depot_unlock(pool, flags);
}

/*
 * Fill this CPU's magazine, which is not busy, with up to @n of @bufs,
 * inside a write section of @depot_seq: those that do not fit go to the
 * depot.
 */
static void bufpool_mag_fill_many_locked(struct bufpool *pool,
					 struct bufpool_mag *m,
					 struct bufpool_buf **bufs,
					 unsigned int n)
{
	unsigned int i = 0;

	for (; i < n && m->tail - READ_ONCE(m->head) <= pool->mag_mask; i++)
		bufpool_mag_fill_locked(pool, m, bufs[i]);
	bufpool_depot_move_in_locked(pool, bufs + i, n - i);
}

/*
 * For a refill with the depot empty: take a batch from the first other
 * CPU's magazine that may hold buffers, one for the caller and the rest
 * into this CPU's (not @busy), as one move. Costs one take where
 * stealing for each allocation in turn would cost one each, and bounce
 * that magazine's cache line with its CPU for every one.
 */
static struct bufpool_buf *bufpool_mag_refill_from_others_locked(struct bufpool *pool,
								 struct bufpool_mag *m,
								 bool busy)
{
	struct bufpool_buf *out[BUFPOOL_LOCKED_MAX];
	unsigned int n = 0, self = smp_processor_id(), cpu;

	for_each_cpu_wrap(cpu, cpu_possible_mask, self) {
		/* As in bufpool_mag_scan(). */
		if (cpu == self || !(smp_load_acquire(&pool->mag_state[cpu]) & 1))
			continue;
		write_seqcount_begin(&pool->depot_seq);
		n = bufpool_mag_take_many(per_cpu_ptr(pool->mags, cpu),
					  pool->mag_mask, out,
					  busy ? 1 : bufpool_mag_batch(pool) + 1);
		if (n)
			bufpool_mag_fill_many_locked(pool, m, out + 1, n - 1);
		write_seqcount_end(&pool->depot_seq);
		if (n)
			break;
	}
	if (!n)
		return NULL;
	this_cpu_add(pool->mags->steals, n);
	return out[0];
}

/**
 * bufpool_mag_refill - refill this CPU's empty magazine
 * @pool: the pool
 * @bufp: gets one buffer for the caller
 *
 * A batch, and one for the caller: from the depot, or else from another
 * CPU's magazine; not while anyone waits (the depot's buffers are
 * theirs). An allocation nested in a put of this CPU (from an interrupt)
 * gets its one buffer, and leaves the magazine to that put.
 *
 * Return: true with a buffer in *@bufp; false if no buffer was found or
 * someone waits.
 */
bool bufpool_mag_refill(struct bufpool *pool, struct bufpool_buf **bufp)
{
	struct bufpool_buf *bufs[BUFPOOL_LOCKED_MAX - 1];
	struct bufpool_mag *m;
	unsigned long flags;
	unsigned int n = 0;
	bool busy;

	bufpool_depot_lock(pool, flags);
	m = this_cpu_ptr(pool->mags);
	busy = READ_ONCE(m->busy);
	*bufp = NULL;
	if (pool->bypass)
		goto unlock;
	*bufp = bufpool_depot_pop_locked(pool);
	if (*bufp) {
		write_seqcount_begin(&pool->depot_seq);
		while (!busy && n < bufpool_mag_batch(pool) &&
		       (bufs[n] = bufpool_depot_pop_locked(pool)))
			n++;
		bufpool_mag_fill_many_locked(pool, m, bufs, n);
		write_seqcount_end(&pool->depot_seq);
	} else {
		*bufp = bufpool_mag_refill_from_others_locked(pool, m, busy);
	}
	if (*bufp)
		bufpool_depot_note_out_locked(pool);
unlock:
	bufpool_depot_unlock(pool, flags);
	return *bufp;
}

/**
 * bufpool_mag_note_empty - this CPU found its own magazine empty
 * @pool: the pool, which has magazines
 *
 * Its word in the summary turns even, so that failing allocations skip
 * it (bufpool_mag_unflag()). Under the busy marker, which keeps a fill of
 * this CPU nested in this (from an interrupt) out: any context.
 */
void bufpool_mag_note_empty(struct bufpool *pool)
{
	struct bufpool_mag *m;

	preempt_disable();
	m = this_cpu_ptr(pool->mags);
	if (m->flagged && !READ_ONCE(m->busy)) {
		WRITE_ONCE(m->busy, true);
		barrier();
		bufpool_mag_unflag(pool, m, smp_processor_id());
		barrier();
		WRITE_ONCE(m->busy, false);
	}
	preempt_enable();
}

/**
 * bufpool_mag_take_bulk - take @n buffers from this CPU's magazine
 * @pool: the pool, which has magazines
 * @n: how many
 * @bufs: where they go
 *
 * All or nothing, with one cmpxchg.
 *
 * Return: true with @n buffers in @bufs, false with none.
 */
bool bufpool_mag_take_bulk(struct bufpool *pool, unsigned int n,
			   struct bufpool_buf **bufs)
{
	struct bufpool_mag *m = raw_cpu_ptr(pool->mags);
	unsigned long head = READ_ONCE(m->head);
	unsigned int i;

	do {
		/* Pairs with the release in bufpool_mag_put(): slots filled. */
		if (smp_load_acquire(&m->tail) - head < n)
			return false;
		for (i = 0; i < n; i++)
			bufs[i] = READ_ONCE(m->slots[(head + i) & pool->mag_mask]);
	} while (!try_cmpxchg_release(&m->head, &head, head + n));
	return true;
}

/*
 * One pass over the magazines that may hold buffers, this CPU's first:
 * with @bufs, taking what it finds into @bufs until *@got reaches @want,
 * unless a magazine holds @enough or more (then *@enough is set and
 * nothing is taken: a refill takes half of it at once); and a sum of
 * everything it read, to compare with another pass.
 */
static unsigned long bufpool_mag_scan(struct bufpool *pool,
				      struct bufpool_buf **bufs,
				      unsigned int want, unsigned int *got,
				      unsigned int *enough)
{
	unsigned int i, cpu = raw_smp_processor_id();
	struct bufpool_buf *buf;
	struct bufpool_mag *m;
	unsigned long sum = 0, head, tail;
	u32 state;

	/*
	 * A plain walk of the summary, which has a word for every CPU id
	 * (those never possible stay 0): no cpumask call per CPU.
	 */
	for (i = 0; i < nr_cpu_ids; i++, cpu = cpu + 1 < nr_cpu_ids ? cpu + 1 : 0) {
		/*
		 * Pairs with the release of @tail that follows
		 * bufpool_mag_flag(): a word read even means the fill after
		 * it is not seen either.
		 */
		state = smp_load_acquire(&pool->mag_state[cpu]);
		sum += state;
		if (!(state & 1))
			goto next;
		m = per_cpu_ptr(pool->mags, cpu);
		head = READ_ONCE(m->head);
		/* Pairs with the release in bufpool_mag_put(). */
		tail = smp_load_acquire(&m->tail);
		sum += head + tail;
		if (!bufs)
			continue;
		if (enough && tail - head >= *enough) {
			*enough = 0;
			return sum;
		}
		while (*got < want && (buf = bufpool_mag_take(m, pool->mag_mask)))
			bufs[(*got)++] = buf;
next:
		if (!bufs)
			continue;
		bufpool_test_point(BUFPOOL_TP_STEAL);
		if (*got == want)
			break;
	}
	return sum;
}

/**
 * bufpool_mag_steal - take idle buffers from any CPU's magazine
 * @pool: the pool; the caller holds none of its locks
 * @bufs: where the buffers go
 * @want: how many the caller wants, at most
 * @enough: if not NULL, a magazine holding this many or more is left
 *	alone and *@enough set to 0: half of it is the caller's to refill
 *	from (one move, under the pool lock, not one take per allocation)
 *
 * Lock-free, from any context: see "Exact at the cap". Takes no waiter:
 * a caller that cannot wait gets here without building one.
 *
 * Return: how many it took; 0 if every magazine and the depot were empty
 * at one instant (two passes read the same, and no buffer came to the
 * depot or moved meanwhile); -EAGAIN if they kept changing, or the depot
 * holds buffers.
 */
int bufpool_mag_steal(struct bufpool *pool, struct bufpool_buf **bufs,
		      unsigned int want, unsigned int *enough)
{
	unsigned int got = 0, tries, seq;
	unsigned long sum;
	bool depot;

	if (!pool->mag_mask)
		return READ_ONCE(pool->nr_free) ? -EAGAIN : 0;
	for (tries = 0; tries < BUFPOOL_STEAL_TRIES; tries++) {
		/* Pairs with the write sections around every move. */
		seq = read_seqcount_begin(&pool->depot_seq);
		depot = READ_ONCE(pool->nr_free);
		sum = bufpool_mag_scan(pool, bufs, want, &got, enough);
		if (got) {
			this_cpu_add(pool->mags->steals, got);
			return got;
		}
		if (enough && !*enough)
			return -EAGAIN;
		if (bufpool_mag_scan(pool, NULL, 0, NULL, NULL) == sum &&
		    !read_seqcount_retry(&pool->depot_seq, seq))
			return depot ? -EAGAIN : 0;
	}
	return -EAGAIN;
}

static void bufpool_mag_barrier_ipi(void *unused)
{
	/* Pairs with the smp_mb() in bufpool_mag_sweep(). */
	smp_mb();
}

/**
 * bufpool_mag_sweep - move every idle buffer in a magazine to the depot
 * @pool: the pool, with @bypass set; the caller holds none of its locks
 *
 * For the first sleeper of a waiting episode, a destroy, and the service
 * work of a notify request: see "Waiters and the magazines". If @bypass
 * held throughout, every magazine stays empty until it is cleared: say so
 * in @mags_empty. Sends IPIs and waits for them: process context, with
 * interrupts on.
 */
void bufpool_mag_sweep(struct bufpool *pool)
{
	unsigned int gen, moved = 0;
	unsigned long flags;
	bool bypass, empty;
	int cpu;

	if (!pool->mag_mask)
		return;
	bufpool_depot_lock(pool, flags);
	gen = pool->bypass_gen;
	bypass = pool->bypass;
	bufpool_depot_unlock(pool, flags);
	if (!bypass)
		return;
	/*
	 * Every CPU passes a full barrier after @bypass was set: a free that
	 * filled its slot before its CPU's is seen below, and one that fills
	 * it after reads @bypass set when it looks again. Pairs with
	 * bufpool_mag_barrier_ipi(), and with the second look at @bypass in
	 * bufpool_mag_put().
	 */
	smp_mb();
	smp_call_function(bufpool_mag_barrier_ipi, NULL, 1);
	for_each_possible_cpu(cpu)
		/* As in bufpool_mag_scan(). */
		if (smp_load_acquire(&pool->mag_state[cpu]) & 1)
			moved += bufpool_mag_empty(pool, per_cpu_ptr(pool->mags, cpu));
	bufpool_depot_lock(pool, flags);
	pool->sweeps++;
	if (pool->bypass && pool->bypass_gen == gen)
		pool->mags_empty = true;
	empty = pool->mags_empty;
	bufpool_depot_unlock(pool, flags);
	/* Every caller of a sweep keeps the pool alive across it. */
	trace_bufpool_sweep(pool, moved, empty);
}

/**
 * bufpool_mag_cached - how many buffers idle in magazines
 * @pool: the pool
 *
 * Return: the sum over all CPUs, read without synchronisation.
 */
unsigned int bufpool_mag_cached(struct bufpool *pool)
{
	struct bufpool_mag *m;
	unsigned int sum = 0;
	int cpu;

	if (!pool->mag_mask)
		return 0;
	for_each_possible_cpu(cpu) {
		m = per_cpu_ptr(pool->mags, cpu);
		sum += READ_ONCE(m->tail) - READ_ONCE(m->head);
	}
	return sum;
}

/**
 * bufpool_mag_shrink - move up to @n idle buffers from magazines to the depot
 * @pool: the pool
 * @n: how many at most
 *
 * For the shrinker, which frees them from there.
 *
 * Return: how many were moved.
 */
unsigned long bufpool_mag_shrink(struct bufpool *pool, unsigned long n)
{
	unsigned long flags, moved = 0;
	int cpu;

	if (!pool->mag_mask)
		return 0;
	for_each_possible_cpu(cpu) {
		if (moved >= n)
			break;
		bufpool_depot_lock(pool, flags);
		moved += bufpool_mag_empty_locked(pool,
						  per_cpu_ptr(pool->mags, cpu),
						  n - moved);
		bufpool_depot_unlock(pool, flags);
	}
	return moved;
}

/* A CPU is dead: hand its buffers back now, and clear its word. */
static int bufpool_mag_cpu_dead(unsigned int cpu, struct hlist_node *node)
{
	struct bufpool *pool = hlist_entry(node, struct bufpool, cpuhp_node);
	struct bufpool_mag *m = per_cpu_ptr(pool->mags, cpu);

	bufpool_mag_empty(pool, m);
	/* Its CPU is gone: nothing else writes its word now. */
	bufpool_mag_unflag(pool, m, cpu);
	return 0;
}

/**
 * bufpool_mag_create - set up a pool's per-CPU state
 * @pool: the pool being created, its buffer size and cap set
 *
 * Every pool has per-CPU counters; magazines where bufpool_mag_size()
 * allows.
 *
 * Return: 0 or -ENOMEM.
 */
int bufpool_mag_create(struct bufpool *pool)
{
	unsigned int slots = bufpool_mag_size(pool);
	int err;

	pool->mag_mask = slots ? slots - 1 : 0;
	pool->mags = bufpool_fault() ? NULL :
		(struct bufpool_mag __percpu *)
		__alloc_percpu(sizeof(struct bufpool_mag) +
			       slots * sizeof(struct bufpool_buf *),
			       __alignof__(struct bufpool_mag));
	if (!pool->mags)
		return -ENOMEM;
	if (!slots)
		return 0;
	err = -ENOMEM;
	pool->mag_state = bufpool_fault() ? NULL :
		kcalloc(nr_cpu_ids, sizeof(*pool->mag_state), GFP_KERNEL);
	if (!pool->mag_state)
		goto free;
	err = cpuhp_state_add_instance_nocalls(bufpool_mag_cpuhp_state,
					       &pool->cpuhp_node);
	if (!err)
		return 0;
	kfree(pool->mag_state);
	pool->mag_state = NULL;
free:
	free_percpu(pool->mags);
	pool->mags = NULL;
	return err;
}

/**
 * bufpool_mag_destroy - free a pool's per-CPU state
 * @pool: the pool, with its magazines empty
 */
void bufpool_mag_destroy(struct bufpool *pool)
{
	if (!pool->mags)
		return;
	if (pool->mag_state)
		cpuhp_state_remove_instance_nocalls(bufpool_mag_cpuhp_state,
						    &pool->cpuhp_node);
	kfree(pool->mag_state);
	pool->mag_state = NULL;
	free_percpu(pool->mags);
	pool->mags = NULL;
}

int bufpool_mag_init(void)
{
	int ret;

	ret = cpuhp_setup_state_multi(CPUHP_BP_PREPARE_DYN, "bufpool:dead",
				      NULL, bufpool_mag_cpu_dead);
	if (ret < 0)
		return ret;
	bufpool_mag_cpuhp_state = ret;
	return 0;
}

void bufpool_mag_exit(void)
{
	cpuhp_remove_multi_state(bufpool_mag_cpuhp_state);
}
