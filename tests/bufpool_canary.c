// SPDX-License-Identifier: GPL-2.0
/*
 * A module that does one thing wrong on purpose, chosen by its "bug"
 * parameter, so that scripts/check-harness can show the test runner's
 * verdict catches each kind of bug: a leaked allocation, a use after
 * free, a lock-order inversion and a sleep under a spinlock. With
 * bug=none it does nothing wrong, and the verdict must pass.
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

static char *bug = "none";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "none, leak, uaf, lock-inversion or sleep-in-atomic");

static void *canary_leaked;
static DEFINE_SPINLOCK(canary_a);	/* taken before b, and once after */
static DEFINE_SPINLOCK(canary_b);

static int __init canary_init(void)
{
	char *p;

	if (!strcmp(bug, "leak")) {
		/* Referenced until unload, then forgotten. */
		canary_leaked = kmalloc(64, GFP_KERNEL);
	} else if (!strcmp(bug, "uaf")) {
		p = kmalloc(64, GFP_KERNEL);
		kfree(p);
		pr_info("canary: read %d after free\n", READ_ONCE(p[8]));
	} else if (!strcmp(bug, "lock-inversion")) {
		spin_lock(&canary_a);
		spin_lock(&canary_b);
		spin_unlock(&canary_b);
		spin_unlock(&canary_a);
		spin_lock(&canary_b);
		spin_lock(&canary_a);
		spin_unlock(&canary_a);
		spin_unlock(&canary_b);
	} else if (!strcmp(bug, "sleep-in-atomic")) {
		spin_lock(&canary_a);
		msleep(20);
		spin_unlock(&canary_a);
	} else if (strcmp(bug, "none")) {
		return -EINVAL;
	}
	return 0;
}

static void __exit canary_exit(void)
{
	canary_leaked = NULL;
}

module_init(canary_init);
module_exit(canary_exit);
MODULE_DESCRIPTION("Deliberate bugs for the test runner's own tests");
MODULE_LICENSE("GPL");
