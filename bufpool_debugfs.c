// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool in debugfs, at /sys/kernel/debug/bufpool:
 *
 *   pools         one line per pool, with a header row, like /proc/slabinfo
 *   <name>/stats  "key: value" lines of the pool's parameters, then of
 *                 every counter (<linux/bufpool_stats.h>, in order)
 *   <name>/holders who holds the pool's buffers now: a line per call site
 *   dying/<name>.<id>/
 *                 the directory of a pool being destroyed, whose name is
 *                 free for a new pool: <id> tells pools of one name apart
 *   fail/         the fault-injection attributes of bufpool's one fault
 *                 point (with CONFIG_FAULT_INJECTION_DEBUG_FS)
 *
 * A pool's directory is removed before the pool is freed, and debugfs
 * makes that removal wait for reads in progress (later reads of a file
 * still open fail with -EIO), so no reader can touch a freed pool; a
 * move to dying/ keeps the files and their pool, and files open stay
 * open. The pools file walks the pool list under bufpool_list_lock, and
 * names a dying pool by its directory, dying/<name>.<id>. Directories
 * are made, moved and removed under that lock too. No kernel address is
 * printed: the holders' call sites are symbols, or hashed
 * (bufpool_depot_site_name()).
 */
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/seq_file.h>
#if IS_ENABLED(CONFIG_KUNIT)
#include <kunit/visibility.h>
#endif

#include "bufpool_internal.h"

static struct dentry *bufpool_debugfs_root;
static struct dentry *bufpool_debugfs_dying;

/* Room for "dying/", a name, "." and an id. */
#define BUFPOOL_DEBUGFS_NAME_MAX	(6 + BUFPOOL_NAME_MAX + 1 + 20)

/* A pool's directory under bufpool/. Caller holds bufpool_list_lock. */
static void bufpool_debugfs_name(struct bufpool *pool, char *buf, size_t len)
{
	if (pool->retired)
		snprintf(buf, len, "dying/%s.%lu", pool->name, pool->id);
	else
		strscpy(buf, pool->name, len);
}

static int bufpool_pools_show(struct seq_file *m, void *unused)
{
	char name[BUFPOOL_DEBUGFS_NAME_MAX + 1];
	struct bufpool_stats st;
	struct bufpool *pool;

	seq_printf(m, "%-*s %8s %8s %8s %8s %8s %8s %8s %12s %10s %10s\n",
		   BUFPOOL_NAME_MAX, "# name", "buf_size", "max", "min",
		   "in_use", "free", "cached", "hwm", "allocs", "fails",
		   "waits");
	mutex_lock(&bufpool_list_lock);
	list_for_each_entry(pool, &bufpool_list, node) {
		bufpool_get_stats(pool, &st);
		bufpool_debugfs_name(pool, name, sizeof(name));
		seq_printf(m, "%-*s %8zu %8u %8u %8llu %8llu %8llu %8llu %12llu %10llu %10llu\n",
			   BUFPOOL_NAME_MAX, name, pool->buf_size,
			   pool->max_bufs, pool->min_bufs, st.in_use, st.free,
			   st.cached, st.high_watermark, st.allocs, st.fails,
			   st.waits);
	}
	mutex_unlock(&bufpool_list_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bufpool_pools);

int bufpool_debugfs_stats_show(struct seq_file *m, void *unused)
{
	struct bufpool *pool = m->private;
	struct bufpool_stats st;
	unsigned int i;

	bufpool_get_stats(pool, &st);
	seq_printf(m, "buf_size: %zu\n", pool->buf_size);
	seq_printf(m, "buf_size_asked: %zu\n", pool->asked_size);
	seq_printf(m, "max_bufs: %u\n", pool->max_bufs);
	seq_printf(m, "min_bufs: %u\n", pool->min_bufs);
	seq_printf(m, "align: %u\n", pool->align);
	seq_printf(m, "buf_cost: %zu\n", pool->buf_cost);
	seq_printf(m, "header: %s\n", pool->buf_offset ? "inline" : "apart");
	seq_printf(m, "node: %d\n", pool->nid);
	seq_printf(m, "dma: %s\n", !pool->dev ? "none" :
		   !(pool->flags & BUFPOOL_F_DMA_MAP) ? "layout" :
		   READ_ONCE(pool->dma_gone) ? "unmapped" : "mapped");
	seq_printf(m, "magazine_slots: %u\n", pool->mag_mask ? pool->mag_mask + 1 : 0);
	for (i = 0; i < BUFPOOL_STAT_NR; i++)
		seq_printf(m, "%s: %llu\n", bufpool_stat_names[i],
			   *bufpool_stats_counter(&st, i));
	return 0;
}

#if IS_ENABLED(CONFIG_KUNIT)
EXPORT_SYMBOL_IF_KUNIT(bufpool_debugfs_stats_show);
#endif
DEFINE_SHOW_ATTRIBUTE(bufpool_debugfs_stats);

/*
 * A header row, then a line per call site holding buffers, most first:
 * how many it holds, how long its oldest has been out, and the call
 * site. A last line lumps the sites beyond what the walk tells apart.
 */
int bufpool_debugfs_holders_show(struct seq_file *m, void *unused)
{
	struct bufpool *pool = m->private;
	char site[BUFPOOL_SITE_NAME_LEN];
	struct bufpool_holders *h;
	unsigned long now;
	unsigned int i;

	h = kmalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	bufpool_depot_holders(pool, h);
	now = jiffies;
	seq_printf(m, "%10s %12s %s\n", "# held", "oldest_ms", "call site");
	for (i = 0; i < h->nr; i++) {
		bufpool_depot_site_name(site, sizeof(site), h->site[i].ip);
		seq_printf(m, "%10lu %12u %s\n", h->site[i].count,
			   jiffies_to_msecs(now - h->site[i].since), site);
	}
	if (h->others)
		seq_printf(m, "%10lu %12s (other call sites)\n", h->others, "-");
	kfree(h);
	return 0;
}

#if IS_ENABLED(CONFIG_KUNIT)
EXPORT_SYMBOL_IF_KUNIT(bufpool_debugfs_holders_show);
#endif
DEFINE_SHOW_ATTRIBUTE(bufpool_debugfs_holders);

/* Caller holds bufpool_list_lock. */
void bufpool_debugfs_add(struct bufpool *pool)
{
	/* Failures only cost the files, by debugfs convention. */
	pool->debugfs = debugfs_create_dir(pool->name, bufpool_debugfs_root);
	debugfs_create_file("stats", 0444, pool->debugfs, pool,
			    &bufpool_debugfs_stats_fops);
	debugfs_create_file("holders", 0444, pool->debugfs, pool,
			    &bufpool_debugfs_holders_fops);
}

/*
 * A pool being destroyed gives up its name: its directory moves to
 * dying/<name>.<id>, where its files stay readable until it is freed.
 * Once; if the move fails, the directory goes, so that the name is free.
 * Caller holds bufpool_list_lock.
 */
void bufpool_debugfs_retire(struct bufpool *pool)
{
	char name[BUFPOOL_DEBUGFS_NAME_MAX + 1];
	struct dentry *moved;

	if (pool->retired)
		return;
	pool->retired = true;
	if (IS_ERR_OR_NULL(pool->debugfs))
		return;
	snprintf(name, sizeof(name), "%s.%lu", pool->name, pool->id);
	moved = debugfs_rename(bufpool_debugfs_root, pool->debugfs,
			       bufpool_debugfs_dying, name);
	if (IS_ERR(moved)) {
		debugfs_remove(pool->debugfs);
		pool->debugfs = NULL;
	}
}

/* Caller holds bufpool_list_lock, but in module exit. */
void bufpool_debugfs_remove(struct bufpool *pool)
{
	debugfs_remove(pool->debugfs);
	pool->debugfs = NULL;
}

void bufpool_debugfs_fault(struct fault_attr *attr)
{
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	fault_create_debugfs_attr("fail", bufpool_debugfs_root, attr);
#endif
}

void bufpool_debugfs_init(void)
{
	bufpool_debugfs_root = debugfs_create_dir("bufpool", NULL);
	bufpool_debugfs_dying = debugfs_create_dir("dying", bufpool_debugfs_root);
	debugfs_create_file("pools", 0444, bufpool_debugfs_root, NULL,
			    &bufpool_pools_fops);
}

void bufpool_debugfs_exit(void)
{
	debugfs_remove(bufpool_debugfs_root);
}
