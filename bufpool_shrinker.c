// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool under memory pressure: one shrinker per pool gives the idle
 * buffers above the pool's min_bufs reserve back to the slab cache.
 *
 * It takes only buffers from the depot: those are idle by definition, and
 * the depot is empty whenever someone waits (returned buffers go straight
 * to waiters), so the shrinker never competes with a sleeper. Buffers in
 * per-CPU magazines are left alone: they are few (see bufpool_batch()) and
 * are what keeps the hot path fast.
 *
 * The shrinker API changed in 6.7 (shrinker_alloc() and friends replaced
 * register_shrinker() on an embedded struct); the code at the end of this
 * file is the only code that knows.
 */
#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

#include "bufpool_internal.h"
#include <trace/bufpool_trace.h>

/*
 * seeks: rebuilding an idle buffer costs one slab allocation and no I/O,
 * which is cheaper than the page cache (DEFAULT_SEEKS, 2), so offer
 * ours more eagerly than it.
 */
#define BUFPOOL_SEEKS	1

/*
 * Caller holds the pool lock. Only buffers that exist count against the
 * reserve: a slot reserved for growth may still fail to become one.
 */
static unsigned long bufpool_idle_above_reserve(struct bufpool *pool)
{
	unsigned int real = pool->backed - pool->growing;
	unsigned int above = real - min(real, pool->min_bufs);

	return min(above, pool->nr_free);
}

static unsigned long bufpool_shrink_count(struct bufpool *pool)
{
	unsigned long flags, n;

	bufpool_lock(pool, flags);
	n = bufpool_idle_above_reserve(pool);
	bufpool_unlock(pool, flags);
	return n ? n : SHRINK_EMPTY;
}

static unsigned long bufpool_shrink_scan(struct bufpool *pool,
					 struct shrink_control *sc)
{
	struct bufpool_buf *list = NULL, *buf;
	unsigned long flags, n = 0;

	bufpool_lock(pool, flags);
	pool->shrink_scans++;
	while (n < sc->nr_to_scan && bufpool_idle_above_reserve(pool)) {
		buf = bufpool_depot_pop(pool);
		pool->backed--;
		pool->shrink_freed++;
		buf->next = list;
		list = buf;
		/* A bounded time with interrupts off (the lock is raw). */
		if (!(++n % BUFPOOL_LOCKED_MAX)) {
			bufpool_unlock(pool, flags);
			bufpool_lock(pool, flags);
		}
	}
	bufpool_unlock(pool, flags);

	/* Free outside the lock: the slab may take its own locks. */
	while ((buf = list)) {
		list = buf->next;
		bufpool_free_buf(pool, buf);
	}
	trace_bufpool_shrink(pool, sc->nr_to_scan, n);
	return n ? n : SHRINK_STOP;
}

/* SHRINKER_ALLOCATED came with shrinker_alloc() in 6.7. */
#ifdef SHRINKER_ALLOCATED
static unsigned long bufpool_count_objects(struct shrinker *s,
					   struct shrink_control *sc)
{
	return bufpool_shrink_count(s->private_data);
}

static unsigned long bufpool_scan_objects(struct shrinker *s,
					  struct shrink_control *sc)
{
	return bufpool_shrink_scan(s->private_data, sc);
}

int bufpool_shrinker_register(struct bufpool *pool)
{
	struct shrinker *s;

	s = bufpool_fault() ? NULL : shrinker_alloc(0, "bufpool-%s", pool->name);
	if (!s)
		return -ENOMEM;
	s->count_objects = bufpool_count_objects;
	s->scan_objects = bufpool_scan_objects;
	s->seeks = BUFPOOL_SEEKS;
	s->private_data = pool;
	shrinker_register(s);
	pool->shrinker = s;
	return 0;
}

void bufpool_shrinker_unregister(struct bufpool *pool)
{
	shrinker_free(pool->shrinker);
	pool->shrinker = NULL;
}
#else
struct bufpool_shrinker {
	struct shrinker shrinker;
	struct bufpool *pool;
};

static struct bufpool *bufpool_of(struct shrinker *s)
{
	return container_of(s, struct bufpool_shrinker, shrinker)->pool;
}

static unsigned long bufpool_count_objects(struct shrinker *s,
					   struct shrink_control *sc)
{
	return bufpool_shrink_count(bufpool_of(s));
}

static unsigned long bufpool_scan_objects(struct shrinker *s,
					  struct shrink_control *sc)
{
	return bufpool_shrink_scan(bufpool_of(s), sc);
}

int bufpool_shrinker_register(struct bufpool *pool)
{
	struct bufpool_shrinker *bs;
	int err;

	bs = bufpool_fault() ? NULL : kzalloc(sizeof(*bs), GFP_KERNEL);
	if (!bs)
		return -ENOMEM;
	bs->pool = pool;
	bs->shrinker.count_objects = bufpool_count_objects;
	bs->shrinker.scan_objects = bufpool_scan_objects;
	bs->shrinker.seeks = BUFPOOL_SEEKS;
	err = register_shrinker(&bs->shrinker, "bufpool-%s", pool->name);
	if (err) {
		kfree(bs);
		return err;
	}
	pool->shrinker = bs;
	return 0;
}

void bufpool_shrinker_unregister(struct bufpool *pool)
{
	struct bufpool_shrinker *bs = pool->shrinker;

	if (!bs)
		return;
	unregister_shrinker(&bs->shrinker);
	kfree(bs);
	pool->shrinker = NULL;
}
#endif
