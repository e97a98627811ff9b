/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bufpool: per-subsystem pools of fixed-size buffers.
 *
 * A subsystem creates its own pool with a fixed buffer size and a hard cap
 * on the buffers it may hold at once, so that when it is flooded (a NIC
 * receiving faster than the stack drains) it runs dry on its own and
 * cannot starve another subsystem of memory. All buffers of a pool have
 * the same size, so a pool's free buffers never fail a caller for
 * fragmentation; a caller fails (if it cannot sleep) or sleeps (else)
 * when all of the pool's buffers are in use, and also, below the cap,
 * where the pool may not grow (hard IRQ) or its growth fails (the slab,
 * under memory pressure; for buffers above PAGE_SIZE slabs of order 1 to
 * 3 may fail to be found on a fragmented system: the min_bufs reserve,
 * allocated at creation, does not).
 *
 * This header is the whole API, with <linux/bufpool_stats.h>, the list of
 * counters it includes; client modules are built from these two alone.
 * See Documentation/bufpool.rst.
 */
#ifndef _LINUX_BUFPOOL_H
#define _LINUX_BUFPOOL_H

#include <linux/atomic.h>
#include <linux/dma-direction.h>
#include <linux/gfp.h>
#include <linux/numa.h>
#include <linux/sched.h>
#include <linux/stddef.h>
#include <linux/types.h>

struct bufpool;
struct bufpool_buf;
struct device;
struct scatterlist;

/*
 * BUFPOOL_MAX_BUF_SIZE: the largest buffer. Buffers come from slabs of
 * order 3 at most (PAGE_ALLOC_COSTLY_ORDER on 4 KiB pages), the largest
 * order the page allocator still works hard to provide, so growing a pool
 * does not depend on finding large contiguous memory: at 16 KiB two fit
 * in one. Bigger I/O is built from several buffers (see
 * bufpool_alloc_bulk()). What each size costs in memory is in the pool's
 * debugfs stats (buf_cost) and in Documentation/bufpool.rst.
 */
#define BUFPOOL_MAX_BUF_SIZE	(16 * 1024)

/*
 * BUFPOOL_MAX_BUFS: the largest cap. A pool is a memory budget: at the
 * largest buffer size this caps one pool at 1 GiB, beyond which it stops
 * protecting anyone. It also bounds a bulk request.
 */
#define BUFPOOL_MAX_BUFS	65536

/* Longest pool name, without the trailing NUL. */
#define BUFPOOL_NAME_MAX	31

/* Zero every buffer's data before handing it out. */
#define BUFPOOL_F_ZERO		0x1
/*
 * Fill buffers with a poison pattern when they are returned and check it
 * when they are handed out again, reporting writes after the last put.
 * For debugging: it touches every byte twice.
 */
#define BUFPOOL_F_POISON	0x2
/* Bypass the per-CPU magazines: every operation takes the pool lock. */
#define BUFPOOL_F_NO_MAGAZINES	0x4
/*
 * Allow bufpool_data_to_buf(), which needs this flag. Every pool keeps
 * the index from each buffer's data to the buffer that it reads (about
 * 16 bytes per buffer, and an XArray store each time the pool grows), for
 * the holders file in debugfs: the flag costs nothing more.
 */
#define BUFPOOL_F_LOOKUP	0x8
/*
 * Charge the pool's buffers (data, headers apart, index) to a memory
 * cgroup: the one the creator runs in, or the one it made active with
 * set_active_memcg(), for the reserve and for every growth, whoever grows
 * the pool and in whatever context (softirq and bufpool's own work for
 * notify requests included), as a BPF map charges its map's cgroup. The
 * charge is the cgroup's until each buffer is freed; the cgroup's limit
 * then bounds the pool's growth as its cap does. See "Accounted pools"
 * in Documentation/bufpool.rst.
 */
#define BUFPOOL_F_ACCOUNT	0x10
/*
 * Map every buffer for DMA by the pool's device once, when it is
 * created, and unmap it when it is freed (as PP_FLAG_DMA_MAP does for a
 * page_pool): bufpool_buf_dma() is then its bus address. Needs @dev. A
 * mapping that fails is a growth that fails. Syncing is the caller's
 * (bufpool_dma_sync_for_cpu(), bufpool_dma_sync_for_device()), but for
 * %BUFPOOL_F_DMA_SYNC_DEV.
 */
#define BUFPOOL_F_DMA_MAP	0x20
/*
 * With %BUFPOOL_F_DMA_MAP: sync the whole buffer for the device each
 * time it is handed out, after it is zeroed or its poison checked, so
 * that a driver can give a fresh buffer to its device as it comes.
 */
#define BUFPOOL_F_DMA_SYNC_DEV	0x40
/*
 * @nid says the pool's NUMA node. Without it the node is @dev's, if
 * any, and a zeroed @nid means no preference: a zeroed params struct
 * never pins a pool to node 0 (as kmem_cache_args' use_freeptr_offset
 * makes a zero offset mean something).
 */
#define BUFPOOL_F_NODE		0x80

/**
 * struct bufpool_params - how to create a pool
 * @name: unique among live pools, at most %BUFPOOL_NAME_MAX characters,
 *	no '/' and no white space; not "pools", "fail" or "dying", which
 *	are debugfs entries of bufpool's own. A pool's name is free again
 *	as soon as its destroy has stopped it (before bufpool_destroy()
 *	waits, before bufpool_destroy_async() returns), so that a driver can
 *	create a pool of the same name while the old one drains. Names the
 *	debugfs directory (a dying pool's moves to dying/<name>.<id>) and,
 *	as "bufpool-<name>", the slab cache in /proc/slabinfo (while a dying
 *	pool of the name still has that cache, "bufpool-<name>.<n>"). A
 *	driver with a pool per device puts the device in it, e.g. "%s-rx" of
 *	dev_name() ("0000:03:00.0-rx"), or "mynic%d-rx" of its own index;
 *	bufpool copies the string.
 * @buf_size: usable bytes wanted in each buffer, 1 .. %BUFPOOL_MAX_BUF_SIZE.
 *	Buffers may hold more: where the slab would leave part of each
 *	slot unused, that part is the buffer's (bufpool_buf_size()).
 * @max_bufs: hard cap on buffers in use at once, 1 .. %BUFPOOL_MAX_BUFS
 *	(65536: 1 GiB of the largest buffers, past which a pool no longer
 *	protects anyone).
 * @min_bufs: reserve allocated by bufpool_create() and never given back to
 *	the system, 0 .. @max_bufs.
 * @align: alignment of each buffer's data: 0 for the default (that of a
 *	pointer) or a power of two up to PAGE_SIZE, e.g. for DMA.
 * @flags: any of the BUFPOOL_F_* flags above, each described there.
 * @dev: the device that does DMA to the buffers, or NULL. Set, the
 *	buffers are laid out for DMA whether mapped or not: data starts
 *	and ends on a cache line boundary (dma_get_cache_alignment(), and
 *	at least L1_CACHE_BYTES), and no header shares a line with data.
 *	The pool holds a reference to it (get_device()) until it is freed.
 * @dma_dir: with %BUFPOOL_F_DMA_MAP, the direction of every mapping:
 *	%DMA_TO_DEVICE, %DMA_FROM_DEVICE or %DMA_BIDIRECTIONAL.
 * @nid: with %BUFPOOL_F_NODE, the NUMA node the reserve and every growth
 *	come from: an online node with memory, or %NUMA_NO_NODE for the
 *	default (@dev's node, else no preference). Without the flag it must
 *	be 0 or %NUMA_NO_NODE, and the default applies.
 *
 * Size, cap, alignment, device and node never change after creation, on
 * purpose: there is no resize. A pool is a budget a subsystem gets when
 * it is created, and one that could grow its cap could grow into
 * monopolizing memory, which is what pools are for preventing. A driver
 * whose ring changes size creates a new pool (the same name will do) and
 * destroys the old.
 */
struct bufpool_params {
	const char *name;
	size_t buf_size;
	unsigned int max_bufs;
	unsigned int min_bufs;
	unsigned int align;
	unsigned int flags;
	struct device *dev;
	enum dma_data_direction dma_dir;
	int nid;
};

/**
 * struct bufpool_stats - a snapshot of a pool's counters
 * @allocs: buffers handed out since creation.
 * @frees: buffers returned (last reference dropped) since creation.
 * @fails: allocation calls that returned no buffer, and notify requests
 *	failed by destroy: the sum of the five below.
 * @fails_exhausted: of those, every buffer in use and no growth possible, for
 *	a caller that could not wait.
 * @fails_dying: of those, the pool was being destroyed.
 * @fails_nomem: of those, below the cap, but the slab said no.
 * @fails_timeout: of those, a wait that ran out of time.
 * @fails_signal: of those, a wait that a signal ended.
 * @waits: allocation calls that queued to wait for a buffer.
 * @wait_ns_total: time spent queued by all of them, in nanoseconds.
 * @wait_ns_max: longest single wait, in nanoseconds.
 * @in_use: buffers handed out and not yet returned.
 * @high_watermark: most buffers out of the pool's free list at once.
 * @backed: buffers that currently exist.
 * @free: buffers idle in the pool, @cached included.
 * @cached: of those, buffers idle in per-CPU magazines.
 * @waiters: callers waiting right now, notify requests included.
 * @mag_hits: buffers handed out or taken home by a magazine.
 * @mag_misses: buffers handed out or taken home that left the hit path.
 * @steals: buffers a CPU took from another CPU's magazine.
 * @sweeps: times every magazine was emptied into the depot.
 * @barges: buffers a running caller took while the first waiter woke.
 * @handoffs: buffers handed straight to a waiter.
 * @empty_wakeups: waiters that woke for a buffer and found it taken.
 * @shrink_scans: shrinker scans of this pool.
 * @shrink_freed: idle buffers the shrinker gave back.
 * @grow_fails: buffers the pool could not create, or map for DMA.
 * @remote_frees: buffers returned by a CPU of another NUMA node.
 *
 * Every field is a u64 counter, in the order of <linux/bufpool_stats.h>,
 * which says at length what each counts. Counters on the fast path are
 * per CPU and summed when read, so a snapshot taken while the pool is
 * busy need not add up exactly.
 */
struct bufpool_stats {
	u64 allocs;
	u64 frees;
	u64 fails;
	u64 fails_exhausted;
	u64 fails_dying;
	u64 fails_nomem;
	u64 fails_timeout;
	u64 fails_signal;
	u64 waits;
	u64 wait_ns_total;
	u64 wait_ns_max;
	u64 in_use;
	u64 high_watermark;
	u64 backed;
	u64 free;
	u64 cached;
	u64 waiters;
	u64 mag_hits;
	u64 mag_misses;
	u64 steals;
	u64 sweeps;
	u64 barges;
	u64 handoffs;
	u64 empty_wakeups;
	u64 shrink_scans;
	u64 shrink_freed;
	u64 grow_fails;
	u64 remote_frees;
};

/* The index of a counter (BUFPOOL_STAT()'s @name is its field). */
#define __bufpool_stat_index(e, ...)	BUFPOOL_STAT_##e

/*
 * enum bufpool_stat - the index of each counter: BUFPOOL_STAT_<ENUM> of
 * each line BUFPOOL_STAT(ENUM, name) of <linux/bufpool_stats.h> is the
 * place of @name in &struct bufpool_stats (bufpool checks it when it is
 * loaded), which bufpool_stats_counter() reads by it; BUFPOOL_STAT_NR is
 * how many there are. It indexes the strings of
 * bufpool_ethtool_stats_get_strings() too. (Not kernel-doc, which reads
 * no #include.)
 */
enum bufpool_stat {
#define BUFPOOL_STAT(e, name)	__bufpool_stat_index(e, name),
#include <linux/bufpool_stats.h>
#undef BUFPOOL_STAT
	BUFPOOL_STAT_NR
};

static_assert(BUFPOOL_STAT_NR * sizeof(u64) == sizeof(struct bufpool_stats));

/**
 * bufpool_stats_counter - a counter of a snapshot, by its index
 * @st: the snapshot
 * @i: which counter
 *
 * Return: a pointer to it.
 */
static inline u64 *bufpool_stats_counter(const struct bufpool_stats *st,
					 enum bufpool_stat i)
{
	return (u64 *)st + i;
}

/**
 * struct bufpool_notify - a request to be handed buffers when they are free
 * @func: called once the buffers are the caller's (@err 0, in the array
 *	given to bufpool_alloc_notify()) or the request failed (@err
 *	-ESHUTDOWN, no buffer held). From an irq_work: hard IRQ context, or
 *	the irq_work thread on PREEMPT_RT. It may queue @nb again.
 *
 * Owned by the caller and set up once with bufpool_notify_init(); the
 * rest is bufpool's, opaque, so that nothing of bufpool's inside is part
 * of what a client module embeds. While a request is queued, and until
 * its callback has returned or bufpool_notify_cancel() has, it must stay
 * where it is.
 */
struct bufpool_notify {
	void (*func)(struct bufpool_notify *nb, int err);
	/* private: bufpool's, room enough on every kernel it builds for */
	unsigned long priv[16];
};

struct bufpool *bufpool_create(const struct bufpool_params *params);
struct bufpool *devm_bufpool_create(struct device *dev,
				    const struct bufpool_params *params);
void devm_bufpool_destroy(struct device *dev, struct bufpool *pool);
void bufpool_destroy(struct bufpool *pool);
void bufpool_destroy_async(struct bufpool *pool, void (*release)(void *arg),
			   void *arg);
void bufpool_barrier(void);

struct bufpool_buf *bufpool_alloc(struct bufpool *pool, gfp_t gfp);
struct bufpool_buf *bufpool_alloc_wait(struct bufpool *pool, gfp_t gfp,
				       unsigned int state, long timeout);
int bufpool_alloc_bulk(struct bufpool *pool, gfp_t gfp, unsigned int n,
		       struct bufpool_buf **bufs);
int bufpool_alloc_bulk_wait(struct bufpool *pool, gfp_t gfp, unsigned int n,
			    struct bufpool_buf **bufs, unsigned int state,
			    long timeout);

int bufpool_alloc_sg(struct bufpool *pool, gfp_t gfp, unsigned int n,
		     struct bufpool_buf **bufs, struct scatterlist *sgl);
void bufpool_notify_init(struct bufpool_notify *nb,
			 void (*func)(struct bufpool_notify *nb, int err));
int bufpool_alloc_notify(struct bufpool *pool, unsigned int n,
			 struct bufpool_buf **bufs, struct bufpool_notify *nb);
bool bufpool_notify_cancel(struct bufpool_notify *nb);

/**
 * bufpool_buf_data - the data of a buffer
 * @buf: a buffer the caller holds
 *
 * Inline: a buffer's header begins with its data pointer (bufpool checks
 * that at build time), so this is one load.
 *
 * Context: Any context.
 * Return: the buffer's usable bytes (bufpool_buf_size() of them), aligned
 * as the pool was created with.
 */
static inline void *bufpool_buf_data(const struct bufpool_buf *buf)
{
	return *(void * const *)buf;
}

struct bufpool_buf *bufpool_data_to_buf(struct bufpool *pool, const void *data);
struct bufpool *bufpool_buf_pool(const struct bufpool_buf *buf);
size_t bufpool_buf_size(const struct bufpool_buf *buf);

dma_addr_t bufpool_buf_dma(const struct bufpool_buf *buf);
void bufpool_dma_sync_for_cpu(const struct bufpool_buf *buf,
			      unsigned int offset, unsigned int len);
void bufpool_dma_sync_for_device(const struct bufpool_buf *buf,
				 unsigned int offset, unsigned int len);

struct bufpool_buf *bufpool_get(struct bufpool_buf *buf);
void bufpool_put(struct bufpool_buf *buf);
void bufpool_put_bulk(unsigned int n, struct bufpool_buf **bufs);

void bufpool_get_stats(struct bufpool *pool, struct bufpool_stats *stats);
int bufpool_ethtool_stats_get_count(void);
u8 *bufpool_ethtool_stats_get_strings(u8 *data);
u64 *bufpool_ethtool_stats_get(u64 *data, struct bufpool *pool);
const char *bufpool_name(const struct bufpool *pool);

#endif /* _LINUX_BUFPOOL_H */
