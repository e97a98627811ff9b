// SPDX-License-Identifier: GPL-2.0
/*
 * A bufpool client for the shell tests: at load it creates a pool from its
 * module parameters, runs @cycles alloc/put pairs, takes and returns
 * @burst buffers at once (so the pool grows to that many), then holds
 * @hold buffers until it is unloaded. The shell tests check that the
 * debugfs figures say exactly that. Loading fails with bufpool_create()'s
 * error if the parameters are invalid.
 *
 * With destroy=0 it returns its buffers at unload but leaves the pool, as
 * a buggy client would, for the test of bufpool's own unload.
 *
 * It is built from <linux/bufpool.h> alone, as any client module would be.
 */
#include <linux/bufpool.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/slab.h>

static char *name = "selftest";
module_param(name, charp, 0444);
MODULE_PARM_DESC(name, "pool name");
static uint buf_size = 2048;
module_param(buf_size, uint, 0444);
MODULE_PARM_DESC(buf_size, "buffer size");
static uint max_bufs = 64;
module_param(max_bufs, uint, 0444);
MODULE_PARM_DESC(max_bufs, "pool cap");
static uint min_bufs = 4;
module_param(min_bufs, uint, 0444);
MODULE_PARM_DESC(min_bufs, "pool reserve");
static uint cycles = 100;
module_param(cycles, uint, 0444);
MODULE_PARM_DESC(cycles, "alloc/put pairs at load");
static uint burst = 32;
module_param(burst, uint, 0444);
MODULE_PARM_DESC(burst, "buffers taken and returned at once at load");
static uint hold = 10;
module_param(hold, uint, 0444);
MODULE_PARM_DESC(hold, "buffers held until unload");
static bool destroy = true;
module_param(destroy, bool, 0444);
MODULE_PARM_DESC(destroy, "destroy the pool at unload (0: leave it, as a buggy client would)");

static struct bufpool *pool;
static struct bufpool_buf **held;

static int __init client_init(void)
{
	struct bufpool_params params = {
		.name = name, .buf_size = buf_size,
		.max_bufs = max_bufs, .min_bufs = min_bufs,
	};
	struct bufpool_buf **bufs;
	unsigned int i;
	int err;

	pool = bufpool_create(&params);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	if (burst > max_bufs || hold > max_bufs) {
		bufpool_destroy(pool);
		return -EINVAL;
	}
	for (i = 0; i < cycles; i++)
		bufpool_put(bufpool_alloc(pool, GFP_KERNEL));

	err = -ENOMEM;
	bufs = kcalloc(max(burst, 1U), sizeof(*bufs), GFP_KERNEL);
	held = kcalloc(max(hold, 1U), sizeof(*held), GFP_KERNEL);
	if (!bufs || !held)
		goto fail;
	if (burst) {
		err = bufpool_alloc_bulk(pool, GFP_KERNEL, burst, bufs);
		if (err)
			goto fail;
		bufpool_put_bulk(burst, bufs);
	}
	if (hold) {
		err = bufpool_alloc_bulk(pool, GFP_KERNEL, hold, held);
		if (err)
			goto fail;
	}
	kfree(bufs);
	return 0;

fail:
	kfree(bufs);
	kfree(held);
	bufpool_destroy(pool);
	return err;
}

static void __exit client_exit(void)
{
	bufpool_put_bulk(hold, held);
	kfree(held);
	if (destroy)
		bufpool_destroy(pool);
}

module_init(client_init);
module_exit(client_exit);
MODULE_DESCRIPTION("bufpool client for the shell tests");
MODULE_LICENSE("GPL");
