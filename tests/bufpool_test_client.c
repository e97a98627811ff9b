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
 * The rest of the API, for tests/bufpool_api.sh on kernels without KUnit:
 * lookup=1 creates the pool with BUFPOOL_F_LOOKUP and finds each held
 * buffer from its data; sg=1 takes the burst as a scatterlist; notify=1
 * queues a notify request for one buffer behind the held ones, served at
 * unload when one of them is put; async=1 destroys the pool at unload
 * with bufpool_destroy_async() before putting the held buffers. Each
 * prints one "bufpool_test_client: <what> ok" line, or fails the load.
 * try_atomic=1 makes one GFP_ATOMIC allocation once the held buffers are
 * taken, and puts what it gets: with hold=max_bufs it must fail, which
 * tests/bufpool_trace.sh wants to see traced.
 *
 * It is built from <linux/bufpool.h> alone, as any client module would be.
 */
#include <linux/bufpool.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
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

static bool lookup;
module_param(lookup, bool, 0444);
MODULE_PARM_DESC(lookup, "find each held buffer from its data");
static bool sg;
module_param(sg, bool, 0444);
MODULE_PARM_DESC(sg, "take the burst as a scatterlist");
static bool notify;
module_param(notify, bool, 0444);
MODULE_PARM_DESC(notify, "queue a notify request, served at unload");
static bool async;
module_param(async, bool, 0444);
MODULE_PARM_DESC(async, "destroy with bufpool_destroy_async() at unload");
static bool try_atomic;
module_param(try_atomic, bool, 0444);
MODULE_PARM_DESC(try_atomic, "one GFP_ATOMIC allocation once the held buffers are taken");

static struct bufpool *pool;
static struct bufpool_buf **held;
static struct bufpool_notify nb;
static struct bufpool_buf *notified;
static DECLARE_COMPLETION(notify_done);
static DECLARE_COMPLETION(released);

static void client_notified(struct bufpool_notify *req, int err)
{
	if (err)
		pr_err("bufpool_test_client: notify failed: %d\n", err);
	else
		pr_info("bufpool_test_client: notify ok\n");
	complete(&notify_done);
}

static void client_released(void *arg)
{
	complete(&released);
}

static int client_take_burst(struct bufpool_buf **bufs)
{
	struct scatterlist *sgl;
	unsigned int i;
	int err;

	if (!sg) {
		err = bufpool_alloc_bulk(pool, GFP_KERNEL, burst, bufs);
		if (!err)
			bufpool_put_bulk(burst, bufs);
		return err;
	}
	sgl = kcalloc(burst, sizeof(*sgl), GFP_KERNEL);
	if (!sgl)
		return -ENOMEM;
	err = bufpool_alloc_sg(pool, GFP_KERNEL, burst, bufs, sgl);
	for (i = 0; !err && i < burst; i++)
		if (sg_virt(&sgl[i]) != bufpool_buf_data(bufs[i]))
			err = -EIO;
	if (!err) {
		bufpool_put_bulk(burst, bufs);
		pr_info("bufpool_test_client: sg ok\n");
	}
	kfree(sgl);
	return err;
}

static int client_check_lookup(void)
{
	unsigned int i;

	for (i = 0; lookup && i < hold; i++)
		if (bufpool_data_to_buf(pool, bufpool_buf_data(held[i])) != held[i])
			return -EIO;
	if (lookup)
		pr_info("bufpool_test_client: lookup ok\n");
	return 0;
}

static int __init client_init(void)
{
	struct bufpool_params params = {
		.name = name, .buf_size = buf_size,
		.max_bufs = max_bufs, .min_bufs = min_bufs,
		.flags = lookup ? BUFPOOL_F_LOOKUP : 0,
	};
	struct bufpool_buf **bufs;
	unsigned int i;
	int err;

	pool = bufpool_create(&params);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	if (burst > max_bufs || hold > max_bufs ||
	    (notify && (!hold || hold != max_bufs))) {
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
		err = client_take_burst(bufs);
		if (err)
			goto fail;
	}
	if (hold) {
		err = bufpool_alloc_bulk(pool, GFP_KERNEL, hold, held);
		if (err)
			goto fail;
		err = client_check_lookup();
		if (err)
			goto put;
	}
	if (try_atomic)
		bufpool_put(bufpool_alloc(pool, GFP_ATOMIC));
	if (notify) {
		/* Every buffer is held: the request must wait for a put. */
		bufpool_notify_init(&nb, client_notified);
		err = bufpool_alloc_notify(pool, 1, &notified, &nb);
		if (err != -EINPROGRESS) {
			if (!err)
				bufpool_put(notified);
			err = -EIO;
			goto put;
		}
	}
	kfree(bufs);
	return 0;

put:
	bufpool_put_bulk(hold, held);
fail:
	kfree(bufs);
	kfree(held);
	bufpool_destroy(pool);
	return err;
}

static void __exit client_exit(void)
{
	if (async)
		bufpool_destroy_async(pool, client_released, NULL);
	bufpool_put_bulk(hold, held);
	kfree(held);
	if (notify) {
		/* One of the buffers just put was the request's. */
		if (!wait_for_completion_timeout(&notify_done, 10 * HZ))
			pr_err("bufpool_test_client: notify never came\n");
		else if (!async)
			bufpool_put(notified);
		/*
		 * The callback has signalled, but the irq_work that ran it
		 * may still be writing the request: before this module's
		 * data and code go away, bufpool must be done with both.
		 */
		bufpool_notify_cancel(&nb);
	}
	if (async) {
		if (wait_for_completion_timeout(&released, 10 * HZ))
			pr_info("bufpool_test_client: async ok\n");
		else
			pr_err("bufpool_test_client: pool never released\n");
		/* client_released() may still be returning. */
		bufpool_barrier();
	} else if (destroy) {
		bufpool_destroy(pool);
	}
}

module_init(client_init);
module_exit(client_exit);
MODULE_DESCRIPTION("bufpool client for the shell tests");
MODULE_LICENSE("GPL");
