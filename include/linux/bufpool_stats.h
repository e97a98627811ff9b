/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every counter of a bufpool pool, once: BUFPOOL_STAT(ENUM, name) makes
 * the enumerator BUFPOOL_STAT_<ENUM> of enum bufpool_stat, the field
 * @name of struct bufpool_stats (a u64), the line "name: value" of the
 * pool's debugfs stats file and the ethtool string "bufpool_<name>", all
 * in this order. A counter is added here and nowhere else (and counted
 * where it happens). No include guard: <linux/bufpool.h> includes this
 * once for each use, with BUFPOOL_STAT() defined for it, as the kernel
 * includes <linux/cgroup_subsys.h>. What each counts:
 *
 * allocs: buffers handed out since creation.
 * frees: buffers returned (last reference dropped) since creation.
 * fails: allocation calls that returned no buffer, and notify requests
 *	failed by destroy: the sum of the five below.
 * fails_exhausted: of those, because every buffer was in use and the
 *	pool could not grow (at its cap, or in a context that may not
 *	grow it), in a caller that could not wait.
 * fails_dying: because the pool was being destroyed.
 * fails_nomem: below the cap, but the slab said no.
 * fails_timeout: a wait that ran out of time.
 * fails_signal: a wait that a signal ended.
 * waits: allocation calls that queued to wait for a buffer.
 * wait_ns_total: time spent queued by all of them, in nanoseconds, until
 *	served, failed, timed out or cancelled.
 * wait_ns_max: longest single wait, in nanoseconds.
 * in_use: buffers handed out and not yet returned (@allocs - @frees).
 * high_watermark: most buffers out of the pool's free list at once: in
 *	use, or idle in a per-CPU magazine (slots being grown are not
 *	buffers yet). Never below the true peak in use; equal to it with
 *	%BUFPOOL_F_NO_MAGAZINES.
 * backed: buffers that currently exist, allocated from the slab cache.
 * free: buffers idle in the pool, @cached included.
 * cached: of those, buffers idle in per-CPU magazines.
 * waiters: callers waiting right now: sleepers, and notify requests
 *	queued (bufpool_alloc_notify()).
 * mag_hits: buffers handed out or taken home by this CPU's magazine,
 *	without a lock: @allocs + @frees - @mag_misses.
 * mag_misses: buffers handed out or taken home that left the hit path.
 * steals: buffers a CPU took from another CPU's magazine, so as not to
 *	be told the pool is empty while buffers idled there.
 * sweeps: times every magazine was emptied into the depot for the
 *	waiters, or for a destroy.
 * barges: buffers a running caller took while the first waiter woke.
 * handoffs: buffers handed straight to a waiter that had asked for them.
 * empty_wakeups: waiters that woke for a buffer and found it taken.
 * shrink_scans: shrinker scans of this pool.
 * shrink_freed: idle buffers the shrinker gave back to the system.
 * grow_fails: buffers the pool could not create under memory pressure,
 *	or could not map for DMA.
 * remote_frees: buffers returned (last reference dropped) by a CPU of
 *	another NUMA node than the pool's; 0 for a pool without a node.
 */
BUFPOOL_STAT(ALLOCS, allocs)
BUFPOOL_STAT(FREES, frees)
BUFPOOL_STAT(FAILS, fails)
BUFPOOL_STAT(FAILS_EXHAUSTED, fails_exhausted)
BUFPOOL_STAT(FAILS_DYING, fails_dying)
BUFPOOL_STAT(FAILS_NOMEM, fails_nomem)
BUFPOOL_STAT(FAILS_TIMEOUT, fails_timeout)
BUFPOOL_STAT(FAILS_SIGNAL, fails_signal)
BUFPOOL_STAT(WAITS, waits)
BUFPOOL_STAT(WAIT_NS_TOTAL, wait_ns_total)
BUFPOOL_STAT(WAIT_NS_MAX, wait_ns_max)
BUFPOOL_STAT(IN_USE, in_use)
BUFPOOL_STAT(HIGH_WATERMARK, high_watermark)
BUFPOOL_STAT(BACKED, backed)
BUFPOOL_STAT(FREE, free)
BUFPOOL_STAT(CACHED, cached)
BUFPOOL_STAT(WAITERS, waiters)
BUFPOOL_STAT(MAG_HITS, mag_hits)
BUFPOOL_STAT(MAG_MISSES, mag_misses)
BUFPOOL_STAT(STEALS, steals)
BUFPOOL_STAT(SWEEPS, sweeps)
BUFPOOL_STAT(BARGES, barges)
BUFPOOL_STAT(HANDOFFS, handoffs)
BUFPOOL_STAT(EMPTY_WAKEUPS, empty_wakeups)
BUFPOOL_STAT(SHRINK_SCANS, shrink_scans)
BUFPOOL_STAT(SHRINK_FREED, shrink_freed)
BUFPOOL_STAT(GROW_FAILS, grow_fails)
BUFPOOL_STAT(REMOTE_FREES, remote_frees)
