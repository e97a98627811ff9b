/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What bufpool printed while a KUnit case ran, for the cases that assert
 * its error reports (tests/bufpool_kunit.c, tests/bufpool_misuse_kunit.c).
 *
 * As in mm/kfence/kfence_test.c, a probe on the console tracepoint sees
 * each message when it is stored, in the context that printed it, before
 * any console does: nothing is missed or read twice, and nothing is read
 * back from the log, which the guest's verdict reads afterwards. Only
 * lines that may matter are kept: bufpool's own, refcount_t's and WARNs.
 *
 * bufpool's reports are rate-limited, 10 per message and 5 seconds: a
 * case expects a report only where it cannot have used up that budget,
 * and a line "...: N callbacks suppressed" in a failure's dump says that
 * it did.
 */
#ifndef _BUFPOOL_MISUSE_PROBE_H
#define _BUFPOOL_MISUSE_PROBE_H

#include <kunit/test.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <trace/events/printk.h>

#define BP_LINES	24
#define BP_LINE_LEN	200

static struct {
	/* Raw: the probe runs wherever printk() is called, hard IRQ too. */
	raw_spinlock_t lock;
	unsigned int n;		/* lines kept, at most BP_LINES */
	unsigned int dropped;	/* lines of interest that did not fit */
	char line[BP_LINES][BP_LINE_LEN];
} bp_log = {
	.lock = __RAW_SPIN_LOCK_UNLOCKED(bp_log.lock),
};

static void bp_log_probe(void *ignore, const char *buf, size_t len)
{
	unsigned long flags;

	/* KUnit's own lines are indented: not ours, and a dump would echo. */
	if (!len || buf[0] == ' ')
		return;
	if (!strnstr(buf, "bufpool", len) && !strnstr(buf, "refcount_t", len) &&
	    !strnstr(buf, "WARNING:", len))
		return;
	raw_spin_lock_irqsave(&bp_log.lock, flags);
	if (bp_log.n < BP_LINES)
		/* @buf has no NUL: strscpy() adds it. */
		strscpy(bp_log.line[bp_log.n++], buf,
			min_t(size_t, len + 1, BP_LINE_LEN));
	else
		bp_log.dropped++;
	raw_spin_unlock_irqrestore(&bp_log.lock, flags);
}

/* Forget what earlier cases printed: each case starts with none. */
static void bp_log_reset(void)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&bp_log.lock, flags);
	bp_log.n = 0;
	bp_log.dropped = 0;
	raw_spin_unlock_irqrestore(&bp_log.lock, flags);
}

static int bp_log_start(struct kunit_suite *suite)
{
	return register_trace_console(bp_log_probe, NULL);
}

static void bp_log_stop(struct kunit_suite *suite)
{
	unregister_trace_console(bp_log_probe, NULL);
	tracepoint_synchronize_unregister();
}

/* Lines kept since the case began that contain @a and, if not NULL, @b. */
static unsigned int bp_log_count(const char *a, const char *b)
{
	unsigned long flags;
	unsigned int i, n = 0;

	raw_spin_lock_irqsave(&bp_log.lock, flags);
	for (i = 0; i < bp_log.n; i++)
		n += strstr(bp_log.line[i], a) && (!b || strstr(bp_log.line[i], b));
	raw_spin_unlock_irqrestore(&bp_log.lock, flags);
	return n;
}

/* Every line kept, into the case's log, to show why a count was off. */
static void bp_log_dump(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < READ_ONCE(bp_log.n); i++)
		kunit_info(test, "printed: %s\n", bp_log.line[i]);
	if (READ_ONCE(bp_log.dropped))
		kunit_info(test, "and %u lines more\n", READ_ONCE(bp_log.dropped));
}

/*
 * Exactly @n lines printed so far contain @a and @b: one report, for a
 * misuse that must be reported once, or none where nothing is wrong.
 */
static void bp_expect_reports(struct kunit *test, unsigned int n,
			      const char *a, const char *b)
{
	unsigned int got = bp_log_count(a, b);

	KUNIT_EXPECT_EQ_MSG(test, got, n, "lines with '%s' and '%s'", a, b ?: "");
	if (got != n)
		bp_log_dump(test);
}

/* As bp_expect_reports(), for a report of @api that names @caller. */
static void __maybe_unused
bp_expect_report_from(struct kunit *test, unsigned int n, const char *api,
		      const char *caller, const char *what)
{
	char from[96];

	snprintf(from, sizeof(from), "%s from %s+", api, caller);
	bp_expect_reports(test, n, from, what);
}

#endif /* _BUFPOOL_MISUSE_PROBE_H */
