// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool under memory pressure: one shrinker per pool gives the idle
 * buffers above the pool's min_bufs reserve back to the slab cache.
 *
 * It frees idle buffers from the depot first, then empties magazines into
 * the depot for the rest: all are idle by definition, and none is in the
 * depot or a magazine while someone waits (returned buffers go straight to
 * waiters), so the shrinker never competes with a sleeper.
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

/* Idle buffers above the reserve: in the depot, and in magazines. */
static unsigned long bufpool_shrink_count(struct bufpool *pool)
{
	unsigned long idle, n;

	n = bufpool_depot_shrink_count(pool, &idle);
	n = min(n, idle + bufpool_mag_cached(pool));
	return n ? n : SHRINK_EMPTY;
}

/*
 * From the depot first; then magazines are emptied into it for the rest,
 * which the depot frees in turn.
 */
static unsigned long bufpool_shrink_scan(struct bufpool *pool,
					 struct shrink_control *sc)
{
	unsigned long n = sc->nr_to_scan, freed;

	freed = bufpool_depot_shrink(pool, n);
	if (freed < n && bufpool_mag_shrink(pool, n - freed))
		freed += bufpool_depot_shrink(pool, n - freed);
	trace_bufpool_shrink(pool, n, freed);
	return freed ? freed : SHRINK_STOP;
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

int bufpool_shrink_register(struct bufpool *pool)
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

void bufpool_shrink_unregister(struct bufpool *pool)
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

int bufpool_shrink_register(struct bufpool *pool)
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

void bufpool_shrink_unregister(struct bufpool *pool)
{
	struct bufpool_shrinker *bs = pool->shrinker;

	if (!bs)
		return;
	unregister_shrinker(&bs->shrinker);
	kfree(bs);
	pool->shrinker = NULL;
}
#endif
