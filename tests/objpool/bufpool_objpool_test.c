// SPDX-License-Identifier: GPL-2.0
/*
 * bufpool_objpool_test.ko: the kernel's own objpool test, lib/test_objpool.c
 * of the tree built against, compiled from there as it is, on the objpool
 * API over bufpool: Kbuild puts tests/objpool/ ahead of the kernel's
 * headers for this file, so that its <linux/objpool.h> is the shim's.
 */
#include BUFPOOL_TEST_OBJPOOL_C
