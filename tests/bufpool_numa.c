// SPDX-License-Identifier: GPL-2.0
/*
 * NUMA placement, for tests/bufpool_numa.sh on a kernel with two nodes
 * (Debian's 6.1 kernel with numa=fake=2: no KUnit there). At load, for a
 * pool on each node (BUFPOOL_F_NODE), with its header inline and apart:
 * every buffer, reserve and growth, has its data and its header on that
 * node; puts from every online CPU count in remote_frees exactly those
 * made by CPUs of another node. Then a pool without a node counts none,
 * and an offline node is refused. Prints one "bufpool_numa: ok - ..." or
 * "bufpool_numa: not ok - ..." line per check, BN_CHECKS of them, which
 * the script turns into KTAP. Built from <linux/bufpool.h> alone.
 */
#include <linux/bufpool.h>
#include <linux/cpu.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#define BN_BUFS		32
#define BN_RESERVE	8
/* Two nodes, two layouts each, placement and remote count; then two. */
#define BN_CHECKS	10

static unsigned int bn_printed;

static void bn_result(bool ok, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_info("bufpool_numa: %s - %pV\n", ok ? "ok" : "not ok", &vaf);
	va_end(args);
	bn_printed++;
}

struct bn_puts {
	struct bufpool_buf **bufs;
	unsigned int n;
};

/* On the CPU it was sent to: put the buffers given. */
static long bn_put_here(void *arg)
{
	struct bn_puts *p = arg;

	bufpool_put_bulk(p->n, p->bufs);
	return 0;
}

/*
 * Put @bufs, a share from each online CPU; returns how many went from a
 * CPU of another node than @nid (all, for NUMA_NO_NODE: none count).
 */
static unsigned int bn_put_everywhere(struct bufpool_buf **bufs,
				      unsigned int n, int nid)
{
	unsigned int cpus = num_online_cpus(), share = n / cpus, done = 0;
	unsigned int remote = 0;
	struct bn_puts p;
	int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		p.bufs = bufs + done;
		p.n = cpumask_next(cpu, cpu_online_mask) >= nr_cpu_ids ?
		      n - done : share;
		work_on_cpu(cpu, bn_put_here, &p);
		if (nid != NUMA_NO_NODE && cpu_to_node(cpu) != nid)
			remote += p.n;
		done += p.n;
	}
	cpus_read_unlock();
	return remote;
}

/*
 * Catches the reserve or a growth allocated wherever the slab likes
 * (kmem_cache_alloc() for kmem_cache_alloc_node()), for the data or an
 * apart header; and puts from another node miscounted.
 */
static void bn_pool_on(int nid, size_t size, const char *layout)
{
	struct bufpool_params p = {
		.name = "bn", .buf_size = size, .max_bufs = BN_BUFS,
		.min_bufs = BN_RESERVE, .flags = BUFPOOL_F_NODE, .nid = nid,
	};
	struct bufpool_buf **bufs;
	struct bufpool_stats st;
	struct bufpool *pool;
	unsigned int i, wrong = 0, remote;
	bool grew;

	bufs = kcalloc(BN_BUFS, sizeof(*bufs), GFP_KERNEL);
	pool = bufs ? bufpool_create(&p) : ERR_PTR(-ENOMEM);
	if (IS_ERR(pool)) {
		bn_result(false, "node %d, %s: bufpool_create: %ld", nid, layout,
			  PTR_ERR(pool));
		bn_result(false, "node %d, %s: remote_frees", nid, layout);
		kfree(bufs);
		return;
	}
	bufpool_get_stats(pool, &st);
	grew = st.backed == BN_RESERVE;
	for (i = 0; i < BN_BUFS; i++) {
		bufs[i] = bufpool_alloc(pool, GFP_KERNEL);
		if (!bufs[i] ||
		    page_to_nid(virt_to_page(bufpool_buf_data(bufs[i]))) != nid ||
		    page_to_nid(virt_to_page(bufs[i])) != nid)
			wrong++;
	}
	bufpool_get_stats(pool, &st);
	grew = grew && st.backed == BN_BUFS;
	bn_result(!wrong && grew,
		  "node %d, %s: all %d buffers (reserve %d, then growth) have data and header on node %d (%u not)",
		  nid, layout, BN_BUFS, BN_RESERVE, nid, wrong);
	if (wrong) {
		for (i = 0; i < BN_BUFS; i++)
			bufpool_put(bufs[i]);
		bn_result(false, "node %d, %s: remote_frees", nid, layout);
	} else {
		remote = bn_put_everywhere(bufs, BN_BUFS, nid);
		bufpool_get_stats(pool, &st);
		bn_result(st.remote_frees == remote,
			  "node %d, %s: remote_frees counts the %u puts of %u from CPUs of other nodes (%llu)",
			  nid, layout, remote, BN_BUFS, st.remote_frees);
	}
	bufpool_destroy(pool);
	kfree(bufs);
}

/* Catches a pool without a node counting remote frees all the same. */
static void bn_no_node(void)
{
	struct bufpool_params p = {
		.name = "bn", .buf_size = 512, .max_bufs = BN_BUFS,
	};
	struct bufpool_buf *bufs[BN_BUFS];
	struct bufpool_stats st;
	struct bufpool *pool = bufpool_create(&p);
	unsigned int i;

	if (IS_ERR(pool)) {
		bn_result(false, "no node: bufpool_create: %ld", PTR_ERR(pool));
		return;
	}
	for (i = 0; i < BN_BUFS; i++)
		bufs[i] = bufpool_alloc(pool, GFP_KERNEL);
	bn_put_everywhere(bufs, BN_BUFS, NUMA_NO_NODE);
	bufpool_get_stats(pool, &st);
	bn_result(!st.remote_frees,
		  "a pool without a node counts no remote frees (%llu)",
		  st.remote_frees);
	bufpool_destroy(pool);
}

/* Catches a node that is not online taken (slab falls back silently). */
static void bn_offline_node(void)
{
	struct bufpool_params p = {
		.name = "bn", .buf_size = 512, .max_bufs = 4,
		.flags = BUFPOOL_F_NODE,
	};
	struct bufpool *pool;
	int nid;

	for (nid = 0; nid < MAX_NUMNODES && node_online(nid); nid++)
		;
	p.nid = nid;
	pool = bufpool_create(&p);
	if (!IS_ERR(pool))
		bufpool_destroy(pool);
	bn_result(PTR_ERR_OR_ZERO(pool) == -EINVAL,
		  "node %d, offline, is refused with -EINVAL (%d)", nid,
		  PTR_ERR_OR_ZERO(pool));
}

static int __init bn_init(void)
{
	int nid, nodes = 0;

	for_each_node_state(nid, N_MEMORY) {
		if (nodes++ == 2)
			break;
		bn_pool_on(nid, 2000, "header inline");
		bn_pool_on(nid, 16384, "header apart");
	}
	bn_no_node();
	bn_offline_node();
	while (bn_printed < BN_CHECKS)
		bn_result(false, "check %u: only %d node(s) with memory", bn_printed,
			  nodes);
	return 0;
}

static void __exit bn_exit(void)
{
}

module_init(bn_init);
module_exit(bn_exit);
MODULE_DESCRIPTION("bufpool NUMA placement checks, for tests/bufpool_numa.sh");
MODULE_LICENSE("GPL");
