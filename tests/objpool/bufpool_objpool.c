// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool_objpool.ko: the half of the objpool API on bufpool that is not
 * inline (tests/objpool/linux/objpool.h), for the kernel's lib/test_objpool.c
 * built as bufpool_objpool_test.ko.
 *
 * A module of its own because of the release callback. objpool calls it
 * inside the last drop, before test_objpool's case returns; bufpool calls
 * it from a work item after a grace period, which may come after
 * test_objpool's init has returned -EAGAIN, as it always does, and its
 * module been freed. Nothing of a module whose init failed runs at its
 * end, so it cannot wait for that itself: this module, which outlives it,
 * waits in its MODULE_STATE_GOING notifier until every release callback
 * queued has run. The callback returns here, not into the freed module.
 *
 * /sys/kernel/debug/bufpool_objpool/ counts pools made by objpool_init(),
 * objpool_fini() calls with a release callback, and release callbacks
 * run, for tests/objpool.sh.
 */
#include <linux/atomic.h>
#include <linux/bufpool.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait_bit.h>

/* The shim's, beside this file, not the kernel's. */
#include "linux/objpool.h"

/* Long enough for bufpool under KASAN in QEMU, short of the guest's timeout. */
#define BUFPOOL_OBJPOOL_WAIT	(20 * HZ)

static atomic_t bufpool_objpool_seq;
static atomic_t bufpool_objpool_made;
static atomic_t bufpool_objpool_queued;
static atomic_t bufpool_objpool_released;
static struct dentry *bufpool_objpool_dir;

/**
 * bufpool_objpool_init - objpool_init() on bufpool
 * @pool: the head, the caller's
 * @nr_objs: objects, 1 .. %BUFPOOL_MAX_BUFS
 * @object_size: bytes in each, rounded up to sizeof(long)
 * @gfp: ignored: bufpool_create() allocates as it sees fit
 * @context: for @objinit and @release
 * @objinit: called once on each object, zeroed, at creation; or NULL
 * @release: called once the pool is freed after objpool_fini(); or NULL
 *
 * Context: Process context; sleeps.
 * Return: 0, or the error of bufpool_create() or of @objinit.
 */
int bufpool_objpool_init(struct objpool_head *pool, int nr_objs,
			 int object_size, gfp_t gfp, void *context,
			 objpool_init_obj_cb objinit, objpool_fini_cb release)
{
	char name[BUFPOOL_NAME_MAX + 1];
	struct bufpool_params p = {};
	struct bufpool_buf **bufs;
	struct bufpool *bp;
	int i, err;

	if (nr_objs <= 0 || object_size <= 0)
		return -EINVAL;
	memset(pool, 0, sizeof(*pool));
	pool->obj_size = ALIGN(object_size, sizeof(long));
	/* Unique for the boot, so that no pool left over can clash. */
	snprintf(name, sizeof(name), "objpool-%d",
		 atomic_inc_return(&bufpool_objpool_seq));
	p.name = name;
	p.buf_size = sizeof(struct bufpool_objpool_hdr) + pool->obj_size;
	p.max_bufs = nr_objs;
	p.min_bufs = nr_objs;
	bp = bufpool_create(&p);
	if (IS_ERR(bp))
		return PTR_ERR(bp);

	/* All at once, so that each object is met exactly once. */
	bufs = kvmalloc_array(nr_objs, sizeof(*bufs), GFP_KERNEL);
	if (!bufs) {
		bufpool_destroy(bp);
		return -ENOMEM;
	}
	err = bufpool_alloc_bulk(bp, GFP_KERNEL, nr_objs, bufs);
	if (err) {
		kvfree(bufs);
		bufpool_destroy(bp);
		return err;
	}
	for (i = 0; i < nr_objs && !err; i++) {
		struct bufpool_objpool_hdr *hdr = bufpool_buf_data(bufs[i]);

		hdr->buf = bufs[i];
		memset(hdr + 1, 0, pool->obj_size);
		if (objinit)
			err = objinit(hdr + 1, context);
	}
	bufpool_put_bulk(nr_objs, bufs);
	kvfree(bufs);
	if (err) {
		bufpool_destroy(bp);
		return err;
	}
	pool->nr_objs = nr_objs;
	pool->bp = bp;
	pool->release = release;
	pool->context = context;
	atomic_inc(&bufpool_objpool_made);
	return 0;
}
EXPORT_SYMBOL_GPL(bufpool_objpool_init);

static void bufpool_objpool_release(void *arg)
{
	struct objpool_head *pool = arg;

	/* Frees @pool, as test_objpool's does. */
	pool->release(pool, pool->context);
	atomic_inc(&bufpool_objpool_released);
	wake_up_var(&bufpool_objpool_released);
}

/**
 * bufpool_objpool_fini - objpool_fini() on bufpool
 * @pool: the head; with a release callback, not touched after the call,
 *	which may have freed it
 *
 * Objects still out may be dropped afterwards, from any context; the
 * last one home frees the pool and then calls the release callback, in
 * process context.
 *
 * Context: Any context but NMI.
 */
void bufpool_objpool_fini(struct objpool_head *pool)
{
	if (!pool->release) {
		bufpool_destroy_async(pool->bp, NULL, NULL);
		return;
	}
	atomic_inc(&bufpool_objpool_queued);
	bufpool_destroy_async(pool->bp, bufpool_objpool_release, pool);
}
EXPORT_SYMBOL_GPL(bufpool_objpool_fini);

static bool bufpool_objpool_idle(void)
{
	return atomic_read(&bufpool_objpool_released) ==
	       atomic_read(&bufpool_objpool_queued);
}

/*
 * Whichever module goes, wait for every release callback queued: only
 * the objpool test uses this module, and nothing else is pending then.
 */
static int bufpool_objpool_going(struct notifier_block *nb,
				 unsigned long action, void *data)
{
	struct module *mod = data;

	if (action != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	if (!wait_var_event_timeout(&bufpool_objpool_released,
				    bufpool_objpool_idle(),
				    BUFPOOL_OBJPOOL_WAIT))
		pr_err("%s goes with %d release callbacks not run: their pools were never freed\n",
		       mod->name, atomic_read(&bufpool_objpool_queued) -
		       atomic_read(&bufpool_objpool_released));
	return NOTIFY_DONE;
}

static struct notifier_block bufpool_objpool_nb = {
	.notifier_call = bufpool_objpool_going,
};

static int __init bufpool_objpool_mod_init(void)
{
	int err = register_module_notifier(&bufpool_objpool_nb);

	if (err)
		return err;
	bufpool_objpool_dir = debugfs_create_dir("bufpool_objpool", NULL);
	debugfs_create_atomic_t("pools", 0444, bufpool_objpool_dir,
				&bufpool_objpool_made);
	debugfs_create_atomic_t("fini_with_release", 0444,
				bufpool_objpool_dir, &bufpool_objpool_queued);
	debugfs_create_atomic_t("released", 0444, bufpool_objpool_dir,
				&bufpool_objpool_released);
	return 0;
}

/*
 * Its users are gone, and went only once their callbacks had run (or
 * the wait gave up, and said so).
 */
static void __exit bufpool_objpool_mod_exit(void)
{
	debugfs_remove_recursive(bufpool_objpool_dir);
	unregister_module_notifier(&bufpool_objpool_nb);
}

module_init(bufpool_objpool_mod_init);
module_exit(bufpool_objpool_mod_exit);

MODULE_DESCRIPTION("The objpool API on bufpool, for the kernel's test_objpool");
MODULE_LICENSE("GPL");
