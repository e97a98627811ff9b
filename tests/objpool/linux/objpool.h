/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The objpool API (include/linux/objpool.h of the kernel) on bufpool, so
 * that the kernel's own objpool test, lib/test_objpool.c, compiled from
 * the kernel tree with this directory first on the include path, tests
 * bufpool (see the objpool block in Kbuild). Built from <linux/bufpool.h>
 * alone, as any client module would be.
 *
 * An objpool is a bufpool with min_bufs = max_bufs = nr_objs: every
 * buffer exists from creation and none is ever given back to the slab,
 * so objinit runs exactly once on each object, as objpool promises.
 * Pop and push are bufpool_alloc(GFP_ATOMIC) and bufpool_put(), from any
 * context; objpool_drop() is bufpool_put() too, and objpool_fini() is
 * bufpool_destroy_async(), which frees the pool once its last buffer is
 * home, whoever brings it.
 *
 * objpool_init() and objpool_fini() live in bufpool_objpool.ko
 * (tests/objpool/bufpool_objpool.c): a release callback runs from a
 * bufpool work item, which a module that unloads must wait for, and a
 * module cannot wait for its own work after its init failed, as
 * test_objpool's always does.
 *
 * Not the same as objpool: objpool_init() sleeps whatever @gfp says
 * (bufpool_create() does); a drop before objpool_fini() returns the
 * object to the pool, where a pop may find it again, instead of taking
 * it out of the pool for good; the release callback runs later, once a
 * grace period and a work item have passed, not inside the last drop;
 * objpool_drop() cannot tell whether it was the last, and says -EAGAIN.
 * objpool_free() is not provided.
 */
#ifndef _LINUX_OBJPOOL_H
#define _LINUX_OBJPOOL_H

#include <linux/bufpool.h>
#include <linux/errno.h>
#include <linux/gfp.h>

struct objpool_head;

typedef int (*objpool_init_obj_cb)(void *obj, void *context);
typedef int (*objpool_fini_cb)(struct objpool_head *head, void *context);

/**
 * struct objpool_head - an objpool, as a bufpool
 * @obj_size: object size, aligned to sizeof(long) as objpool aligns it
 * @nr_objs: objects in the pool, all made by objpool_init()
 * @bp: the bufpool the objects' buffers come from
 * @release: called once the pool is freed, or NULL
 * @context: passed to the callbacks
 */
struct objpool_head {
	int obj_size;
	int nr_objs;
	struct bufpool *bp;
	objpool_fini_cb release;
	void *context;
};

/*
 * Each object sits in its buffer's data behind a pointer to the buffer,
 * written once by objpool_init(), rather than being found back with
 * bufpool_data_to_buf() and BUFPOOL_F_LOOKUP:
 *  - objects are dropped after objpool_fini(), and once the pool is
 *    destroyed only bufpool_put() and bufpool_get() may touch it, while
 *    the lookup takes the pool;
 *  - objpool pushes from any context, and on PREEMPT_RT the lookup's
 *    index lock is a spinlock_t, not to be taken in hard IRQ;
 *  - a push is then one load and the put, where the lookup would take a
 *    lock and walk an XArray, as objpool's lockless push does not.
 * It costs 8 bytes an object, less than the index would (about 16).
 * Objects stay aligned to a pointer, as objpool's are.
 */
struct bufpool_objpool_hdr {
	struct bufpool_buf *buf;
};

int bufpool_objpool_init(struct objpool_head *pool, int nr_objs,
			 int object_size, gfp_t gfp, void *context,
			 objpool_init_obj_cb objinit, objpool_fini_cb release);
void bufpool_objpool_fini(struct objpool_head *pool);

static inline int objpool_init(struct objpool_head *pool, int nr_objs,
			       int object_size, gfp_t gfp, void *context,
			       objpool_init_obj_cb objinit,
			       objpool_fini_cb release)
{
	return bufpool_objpool_init(pool, nr_objs, object_size, gfp, context,
				    objinit, release);
}

static inline struct bufpool_buf *bufpool_objpool_buf(void *obj)
{
	return ((struct bufpool_objpool_hdr *)obj - 1)->buf;
}

/* GFP_ATOMIC never sleeps; the pool cannot grow past its reserve anyway. */
static inline void *objpool_pop(struct objpool_head *pool)
{
	struct bufpool_buf *buf = bufpool_alloc(pool->bp, GFP_ATOMIC);
	struct bufpool_objpool_hdr *hdr;

	if (!buf)
		return NULL;
	hdr = bufpool_buf_data(buf);
	return hdr + 1;
}

static inline int objpool_push(void *obj, struct objpool_head *pool)
{
	bufpool_put(bufpool_objpool_buf(obj));
	return 0;
}

/* After objpool_fini() too: @pool is not touched, only the buffer. */
static inline int objpool_drop(void *obj, struct objpool_head *pool)
{
	if (!obj || !pool)
		return -EINVAL;
	bufpool_put(bufpool_objpool_buf(obj));
	return -EAGAIN;
}

static inline void objpool_fini(struct objpool_head *pool)
{
	bufpool_objpool_fini(pool);
}

#endif /* _LINUX_OBJPOOL_H */
