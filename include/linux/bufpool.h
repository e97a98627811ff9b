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
#include <linux/gfp.h>
#include <linux/sched.h>
#include <linux/types.h>

struct bufpool;
struct bufpool_buf;
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

/**
 * struct bufpool_params - how to create a pool
 * @name: unique among live pools, at most %BUFPOOL_NAME_MAX characters,
 *	no '/' and no white space; not "pools" or "fail", which are
 *	debugfs files of bufpool's own. Names the debugfs directory and, as
 *	"bufpool-<name>", the slab cache in /proc/slabinfo. A driver with a
 *	pool per device puts the device in it, e.g. "%s-rx" of dev_name()
 *	("0000:03:00.0-rx"), or "mynic%d-rx" of its own index; bufpool
 *	copies the string.
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
 *
 * Size, cap and alignment never change after creation.
 */
struct bufpool_params {
	const char *name;
	size_t buf_size;
	unsigned int max_bufs;
	unsigned int min_bufs;
	unsigned int align;
	unsigned int flags;
};

/*
 * enum bufpool_stat - the index of each counter: BUFPOOL_STAT_<ENUM> of
 * each line BUFPOOL_STAT(ENUM, name) of <linux/bufpool_stats.h>, which
 * says what each counts, then BUFPOOL_STAT_NR, how many there are. It
 * indexes &struct bufpool_stats.counters and the strings of
 * bufpool_ethtool_stats_get_strings(). (Not kernel-doc, which reads no
 * #include.)
 */
enum bufpool_stat {
#define BUFPOOL_STAT(e, name)	BUFPOOL_STAT_##e,
#include <linux/bufpool_stats.h>
#undef BUFPOOL_STAT
	BUFPOOL_STAT_NR
};

/**
 * struct bufpool_stats - a snapshot of a pool's counters
 * @counters: every counter, indexed by &enum bufpool_stat; each is also
 *	a field of its own name, stats.allocs for
 *	stats.counters[BUFPOOL_STAT_ALLOCS], and so on down
 *	<linux/bufpool_stats.h>, which says what each counts.
 *
 * Counters on the fast path are per CPU and summed when read, so a
 * snapshot taken while the pool is busy need not add up exactly.
 */
struct bufpool_stats {
	union {
		u64 counters[BUFPOOL_STAT_NR];
		/* private: the same, by name (kernel-doc reads no macros) */
		struct {
#define BUFPOOL_STAT(e, name)	u64 name;
#include <linux/bufpool_stats.h>
#undef BUFPOOL_STAT
		};
	};
};

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

struct bufpool_buf *bufpool_get(struct bufpool_buf *buf);
void bufpool_put(struct bufpool_buf *buf);
void bufpool_put_bulk(unsigned int n, struct bufpool_buf **bufs);

void bufpool_get_stats(struct bufpool *pool, struct bufpool_stats *stats);
int bufpool_ethtool_stats_get_count(void);
u8 *bufpool_ethtool_stats_get_strings(u8 *data);
u64 *bufpool_ethtool_stats_get(u64 *data, struct bufpool *pool);
const char *bufpool_name(const struct bufpool *pool);

#endif /* _LINUX_BUFPOOL_H */
