/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bufpool's trace events, under events/bufpool/ in tracefs.
 *
 * bufpool is built out of tree, so this header is not under the kernel's
 * include/trace/events/: define_trace.h finds it again through
 * TRACE_INCLUDE_PATH below, relative to the -I that Kbuild gives the one
 * file that defines the events (bufpool_main.c). The other files include
 * it as <trace/bufpool_trace.h> and get only the trace_*() calls.
 *
 * The events are defined where struct bufpool is known: its fields are
 * read only while an event is on. Every event copies the pool's name
 * (into a fixed array: the string helpers differ between 6.1 and 6.12),
 * so that a trace read after the pool is gone still says whose it was;
 * buffers are recorded as addresses, printed hashed.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM bufpool

#ifndef _BUFPOOL_TRACE_ENUMS
#define _BUFPOOL_TRACE_ENUMS
#include <linux/bufpool.h>
#include <linux/errno.h>

/* How a buffer was found: bufpool_alloc's path field. */
enum bufpool_trace_path {
	BUFPOOL_PATH_HIT,	/* this CPU's magazine */
	BUFPOOL_PATH_REFILL,	/* the magazine refilled from the depot */
	BUFPOOL_PATH_SLOW,	/* the slow path: depot, growth or a wait */
};

/* Why an allocation failed: bufpool_alloc_fail's reason field. */
enum bufpool_trace_reason {
	BUFPOOL_FAIL_EXHAUSTED,	/* at the cap, or may not grow here */
	BUFPOOL_FAIL_DYING,	/* the pool is being destroyed */
	BUFPOOL_FAIL_NOMEM,	/* below the cap, but the slab said no */
	BUFPOOL_FAIL_TIMEOUT,
	BUFPOOL_FAIL_SIGNAL,
};

static inline enum bufpool_trace_reason bufpool_trace_reason(int err,
							     bool grow_failed)
{
	switch (err) {
	case -ESHUTDOWN:
		return BUFPOOL_FAIL_DYING;
	case -ETIMEDOUT:
		return BUFPOOL_FAIL_TIMEOUT;
	case -EINTR:
		return BUFPOOL_FAIL_SIGNAL;
	default:
		return grow_failed ? BUFPOOL_FAIL_NOMEM : BUFPOOL_FAIL_EXHAUSTED;
	}
}

#endif /* _BUFPOOL_TRACE_ENUMS */

#if !defined(_BUFPOOL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _BUFPOOL_TRACE_H

#include <linux/tracepoint.h>

struct bufpool;
struct bufpool_buf;

TRACE_DEFINE_ENUM(BUFPOOL_PATH_HIT);
TRACE_DEFINE_ENUM(BUFPOOL_PATH_REFILL);
TRACE_DEFINE_ENUM(BUFPOOL_PATH_SLOW);
TRACE_DEFINE_ENUM(BUFPOOL_FAIL_EXHAUSTED);
TRACE_DEFINE_ENUM(BUFPOOL_FAIL_DYING);
TRACE_DEFINE_ENUM(BUFPOOL_FAIL_NOMEM);
TRACE_DEFINE_ENUM(BUFPOOL_FAIL_TIMEOUT);
TRACE_DEFINE_ENUM(BUFPOOL_FAIL_SIGNAL);

#define bufpool_show_path(p)					\
	__print_symbolic(p, { BUFPOOL_PATH_HIT, "hit" },	\
			 { BUFPOOL_PATH_REFILL, "refill" },	\
			 { BUFPOOL_PATH_SLOW, "slow" })

#define bufpool_show_reason(r)					\
	__print_symbolic(r, { BUFPOOL_FAIL_EXHAUSTED, "exhausted" },	\
			 { BUFPOOL_FAIL_DYING, "dying" },	\
			 { BUFPOOL_FAIL_NOMEM, "nomem" },	\
			 { BUFPOOL_FAIL_TIMEOUT, "timeout" },	\
			 { BUFPOOL_FAIL_SIGNAL, "signal" })

TRACE_EVENT(bufpool_alloc,
	    TP_PROTO(const struct bufpool *pool, const struct bufpool_buf *buf,
		     int path),
	    TP_ARGS(pool, buf, path),
	    TP_STRUCT__entry(__array(char, pool, BUFPOOL_NAME_MAX + 1)
			     __field(const void *, buf)
			     __field(int, path)),
	    TP_fast_assign(strscpy(__entry->pool, pool->name, BUFPOOL_NAME_MAX + 1);
			   __entry->buf = buf;
			   __entry->path = path;),
	    TP_printk("pool=%s buf=%p path=%s", __entry->pool, __entry->buf,
		      bufpool_show_path(__entry->path)));

/* The last reference is dropped: @buf goes home. */
TRACE_EVENT(bufpool_put,
	    TP_PROTO(const struct bufpool_buf *buf),
	    TP_ARGS(buf),
	    TP_STRUCT__entry(__array(char, pool, BUFPOOL_NAME_MAX + 1)
			     __field(const void *, buf)),
	    TP_fast_assign(strscpy(__entry->pool, buf->pool->name, BUFPOOL_NAME_MAX + 1);
			   __entry->buf = buf;),
	    TP_printk("pool=%s buf=%p", __entry->pool, __entry->buf));

TRACE_EVENT(bufpool_wait_begin,
	    TP_PROTO(const struct bufpool *pool, unsigned int want,
		     unsigned int waiters, bool notify),
	    TP_ARGS(pool, want, waiters, notify),
	    TP_STRUCT__entry(__array(char, pool, BUFPOOL_NAME_MAX + 1)
			     __field(unsigned int, want)
			     __field(unsigned int, waiters)
			     __field(bool, notify)),
	    TP_fast_assign(strscpy(__entry->pool, pool->name, BUFPOOL_NAME_MAX + 1);
			   __entry->want = want;
			   __entry->waiters = waiters;
			   __entry->notify = notify;),
	    TP_printk("pool=%s want=%u waiters=%u notify=%d", __entry->pool,
		      __entry->want, __entry->waiters, __entry->notify));

/* @err: 0 if the waiter got all it wanted. */
TRACE_EVENT(bufpool_wait_end,
	    TP_PROTO(const struct bufpool *pool, unsigned int want, u64 wait_ns,
		     int err, unsigned int empty_wakeups),
	    TP_ARGS(pool, want, wait_ns, err, empty_wakeups),
	    TP_STRUCT__entry(__array(char, pool, BUFPOOL_NAME_MAX + 1)
			     __field(unsigned int, want)
			     __field(int, err)
			     __field(u64, wait_ns)
			     __field(unsigned int, empty_wakeups)),
	    TP_fast_assign(strscpy(__entry->pool, pool->name, BUFPOOL_NAME_MAX + 1);
			   __entry->want = want;
			   __entry->err = err;
			   __entry->wait_ns = wait_ns;
			   __entry->empty_wakeups = empty_wakeups;),
	    TP_printk("pool=%s want=%u wait_ns=%llu err=%d empty_wakeups=%u",
		      __entry->pool, __entry->want, __entry->wait_ns,
		      __entry->err, __entry->empty_wakeups));

TRACE_EVENT(bufpool_alloc_fail,
	    TP_PROTO(const struct bufpool *pool, unsigned int want, int err,
		     bool grow_failed),
	    TP_ARGS(pool, want, err, grow_failed),
	    TP_STRUCT__entry(__array(char, pool, BUFPOOL_NAME_MAX + 1)
			     __field(unsigned int, want)
			     __field(int, err)
			     __field(int, reason)),
	    TP_fast_assign(strscpy(__entry->pool, pool->name, BUFPOOL_NAME_MAX + 1);
			   __entry->want = want;
			   __entry->err = err;
			   __entry->reason = bufpool_trace_reason(err, grow_failed);),
	    TP_printk("pool=%s want=%u reason=%s err=%d", __entry->pool,
		      __entry->want, bufpool_show_reason(__entry->reason),
		      __entry->err));

/* @backed counts the buffers that exist or are being created. */
TRACE_EVENT(bufpool_grow,
	    TP_PROTO(const struct bufpool *pool, bool ok, unsigned int backed),
	    TP_ARGS(pool, ok, backed),
	    TP_STRUCT__entry(__array(char, pool, BUFPOOL_NAME_MAX + 1)
			     __field(bool, ok)
			     __field(unsigned int, backed)),
	    TP_fast_assign(strscpy(__entry->pool, pool->name, BUFPOOL_NAME_MAX + 1);
			   __entry->ok = ok;
			   __entry->backed = backed;),
	    TP_printk("pool=%s ok=%d backed=%u", __entry->pool, __entry->ok,
		      __entry->backed));

TRACE_EVENT(bufpool_shrink,
	    TP_PROTO(const struct bufpool *pool, unsigned long nr_to_scan,
		     unsigned long freed),
	    TP_ARGS(pool, nr_to_scan, freed),
	    TP_STRUCT__entry(__array(char, pool, BUFPOOL_NAME_MAX + 1)
			     __field(unsigned long, nr_to_scan)
			     __field(unsigned long, freed)),
	    TP_fast_assign(strscpy(__entry->pool, pool->name, BUFPOOL_NAME_MAX + 1);
			   __entry->nr_to_scan = nr_to_scan;
			   __entry->freed = freed;),
	    TP_printk("pool=%s nr_to_scan=%lu freed=%lu", __entry->pool,
		      __entry->nr_to_scan, __entry->freed));

/*
 * Every magazine emptied into the depot for the waiters (or a destroy):
 * @empty, they are known empty until bypass is cleared.
 */
TRACE_EVENT(bufpool_sweep,
	    TP_PROTO(const struct bufpool *pool, unsigned int moved, bool empty),
	    TP_ARGS(pool, moved, empty),
	    TP_STRUCT__entry(__array(char, pool, BUFPOOL_NAME_MAX + 1)
			     __field(unsigned int, moved)
			     __field(bool, empty)),
	    TP_fast_assign(strscpy(__entry->pool, pool->name, BUFPOOL_NAME_MAX + 1);
			   __entry->moved = moved;
			   __entry->empty = empty;),
	    TP_printk("pool=%s moved=%u empty=%d", __entry->pool,
		      __entry->moved, __entry->empty));

#endif /* _BUFPOOL_TRACE_H */

/* Relative to the -I Kbuild gives bufpool_main.c: see the head comment. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE bufpool_trace
#include <trace/define_trace.h>
