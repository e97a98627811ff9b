// SPDX-License-Identifier: GPL-2.0
/*
 * kernel_objpool_test.ko: the kernel's lib/test_objpool.c on the kernel's
 * own objpool, the figures scripts/objpool-bench sets bufpool's against.
 * Compiled from the tree built against, as it is.
 */
#include BUFPOOL_TEST_OBJPOOL_C
