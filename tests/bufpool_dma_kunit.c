// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for DMA-mapped pools: the DMA-safe layout, one mapping per
 * buffer for its life, the sync calls, the sync on hand-out, destroy
 * leaving no mapping behind, and the validation of the DMA and NUMA
 * fields. Each case names the bug it catches.
 *
 * The buffers are mapped for a platform device of the suite's own, with
 * a 64-bit DMA mask and a driver bound to it, registered by the suite's
 * init and removed by its exit. The kernel's own bookkeeping judges:
 * DMA-API debug (CONFIG_DMA_API_DEBUG) reports any misuse of the DMA API
 * as a WARN, which fails the boot's verdict, and any mapping of the
 * device still there when its driver is unbound at the suite's end; and
 * swiotlb counts the slots in use. Most cases need every mapping to
 * bounce (swiotlb=force on the kernel command line, a boot of their own
 * in scripts/check) and skip elsewhere: there the device's side of a
 * mapping is its swiotlb slot, which the test reads and writes as a
 * device would, through the bus address the DMA API returned, and the
 * slots in use count the mappings.
 */
#include <kunit/test.h>
#include <linux/bufpool.h>
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/fault-inject.h>
#include <linux/io.h>
#include <linux/nodemask.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>

#include "bufpool_internal.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define BD_DEV_NAME	"bufpool-dma-test"
#define BD_BUFS		16

static struct platform_device *bd_pdev;

static int bd_probe(struct platform_device *pdev)
{
	return 0;
}

/* Bound, so that DMA-API debug checks for mappings left at unbind. */
static struct platform_driver bd_driver = {
	.probe = bd_probe,
	.driver = { .name = BD_DEV_NAME },
};

static struct device *bd_dev(void)
{
	return &bd_pdev->dev;
}

/* What a case holds, released by bd_exit() whatever happened. */
struct bd_ctx {
	struct bufpool *pool;
	struct bufpool_buf *held[BD_BUFS];
	unsigned int nr_held;
};

static int bd_suite_init(struct kunit_suite *suite)
{
	struct platform_device_info info = {
		.name = BD_DEV_NAME,
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};

	int err = platform_driver_register(&bd_driver);

	if (err)
		return err;
	bd_pdev = platform_device_register_full(&info);
	if (IS_ERR(bd_pdev)) {
		platform_driver_unregister(&bd_driver);
		return PTR_ERR(bd_pdev);
	}
	return 0;
}

/* The unbind: DMA-API debug WARNs of any mapping of the device left. */
static void bd_suite_exit(struct kunit_suite *suite)
{
	platform_driver_unregister(&bd_driver);
	platform_device_unregister(bd_pdev);
}

static int bd_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct bd_ctx), GFP_KERNEL);
	return test->priv ? 0 : -ENOMEM;
}

static void bd_exit(struct kunit *test)
{
	struct bd_ctx *ctx = test->priv;

	bufpool_put_bulk(ctx->nr_held, ctx->held);
	bufpool_destroy(ctx->pool);
}

static struct bufpool *bd_create(struct kunit *test, size_t size,
				 unsigned int max, unsigned int min,
				 unsigned int flags, enum dma_data_direction dir)
{
	struct bufpool_params p = {
		.name = "bd", .buf_size = size, .max_bufs = max,
		.min_bufs = min, .flags = flags, .dev = bd_dev(),
		.dma_dir = dir,
	};
	struct bd_ctx *ctx = test->priv;

	KUNIT_ASSERT_NULL(test, ctx->pool);
	ctx->pool = bufpool_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->pool);
	return ctx->pool;
}

static void bd_destroy(struct kunit *test)
{
	struct bd_ctx *ctx = test->priv;

	bufpool_destroy(ctx->pool);
	ctx->pool = NULL;
}

static struct bufpool_buf *bd_alloc(struct kunit *test, gfp_t gfp)
{
	struct bd_ctx *ctx = test->priv;
	struct bufpool_buf *buf;

	KUNIT_ASSERT_LT(test, ctx->nr_held, BD_BUFS);
	buf = bufpool_alloc(ctx->pool, gfp);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	ctx->held[ctx->nr_held++] = buf;
	return buf;
}

static void bd_put_all(struct kunit *test)
{
	struct bd_ctx *ctx = test->priv;

	bufpool_put_bulk(ctx->nr_held, ctx->held);
	ctx->nr_held = 0;
}

/*
 * Mappings the pool holds, counted by swiotlb, which backs each one with
 * slots of its own while every mapping bounces: its count of slots in use
 * (what /sys/kernel/debug/swiotlb/io_tlb_used shows) over the slots a
 * buffer of @size takes. Where mappings do not bounce nothing counts
 * them: 0, and bd_expect_mapped() checks nothing (the case still runs,
 * under DMA-API debug, which reports a mapping left at the unbind).
 */
static long bd_mappings(size_t size)
{
#ifdef CONFIG_DEBUG_FS
	struct io_tlb_mem *mem = bd_dev()->dma_io_tlb_mem;

	if (is_swiotlb_force_bounce(bd_dev()))
		return atomic_long_read(&mem->total_used) /
		       DIV_ROUND_UP(size, IO_TLB_SIZE);
#endif
	return 0;
}

#define bd_expect_mapped(test, base, n, size) do {			\
	if (is_swiotlb_force_bounce(bd_dev()))				\
		KUNIT_EXPECT_EQ(test, bd_mappings(size) - (base), (long)(n)); \
} while (0)

/* The device's side of @buf's mapping: its swiotlb slot, or the data. */
static u8 *bd_device_side(const struct bufpool_buf *buf)
{
	return phys_to_virt(dma_to_phys(bd_dev(), bufpool_buf_dma(buf)));
}

/* Every mapping bounces (swiotlb=force): else the bounce cases skip. */
static void bd_need_bounce(struct kunit *test)
{
	if (!is_swiotlb_force_bounce(bd_dev()))
		kunit_skip(test, "mappings do not bounce: boot with swiotlb=force");
}

static bool bd_all(const u8 *p, u8 c, size_t n)
{
	return !memchr_inv(p, c, n);
}

/* Layout */

struct bd_layout {
	size_t size;
	unsigned int flags;
	bool inline_hdr;
};

/*
 * Sizes whose headers go apart from the data and sizes whose headers go
 * inline, after it (bufpool_depot_layout() picks the cheaper): each case
 * checks it got the layout it is here for, or it would test nothing.
 */
static const struct bd_layout bd_layouts[] = {
	{ 1, BUFPOOL_F_DMA_MAP }, { 40, BUFPOOL_F_DMA_MAP },
	{ 100, 0 }, { 1500, BUFPOOL_F_DMA_MAP }, { 2048, BUFPOOL_F_DMA_MAP },
	{ 4000, 0 }, { 4096, BUFPOOL_F_DMA_MAP },
	{ 4096, BUFPOOL_F_DMA_MAP | BUFPOOL_F_LOOKUP },
	{ 16384, BUFPOOL_F_DMA_MAP },
	{ 2350, 0, true }, { 3000, BUFPOOL_F_DMA_MAP, true },
	{ 9000, 0, true }, { 9000, BUFPOOL_F_DMA_MAP, true },
};

static void bd_layout_desc(const struct bd_layout *l, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%zu bytes%s%s", l->size,
		 l->flags & BUFPOOL_F_DMA_MAP ? ", mapped" : ", dev only",
		 l->inline_hdr ? ", inline header" : "");
}

KUNIT_ARRAY_PARAM(bd_layout, bd_layouts, bd_layout_desc);

/*
 * Catches the inline header sharing the data's last cache line (the
 * corruption dma-api-howto.rst warns of on non-coherent machines), data
 * not starting or ending on a line, and two buffers' data in one line:
 * for a pool with a device, mapped or not, every buffer's data is whole
 * cache lines (dma_get_cache_alignment() and L1_CACHE_BYTES), and its
 * header lies outside them.
 */
static void bd_layout_safe(struct kunit *test)
{
	const struct bd_layout *l = test->param_value;
	size_t line = max_t(size_t, dma_get_cache_alignment(), L1_CACHE_BYTES);
	struct bufpool *pool = bd_create(test, l->size, 8, 0, l->flags,
					 l->flags ? DMA_FROM_DEVICE : 0);
	unsigned long data, end, hdr;
	struct bufpool_buf *buf;
	int i;

	KUNIT_EXPECT_GE(test, bufpool_buf_size(bd_alloc(test, GFP_KERNEL)), l->size);
	KUNIT_EXPECT_EQ_MSG(test, !!pool->buf_offset, l->inline_hdr,
			    "not the layout this size is for: pick another");
	for (i = 1; i < 8; i++)
		bd_alloc(test, GFP_KERNEL);
	for (i = 0; i < 8; i++) {
		buf = ((struct bd_ctx *)test->priv)->held[i];
		data = (unsigned long)bufpool_buf_data(buf);
		end = data + bufpool_buf_size(buf);
		hdr = (unsigned long)buf;
		KUNIT_EXPECT_EQ(test, data % line, 0);
		KUNIT_EXPECT_EQ(test, end % line, 0);
		KUNIT_EXPECT_TRUE_MSG(test, hdr + pool->hdr_size <= data || hdr >= end,
				      "header at %#lx, data at %#lx..%#lx",
				      hdr, data, end);
	}
}

/* Mapping */

/*
 * Catches a buffer mapped per hand-out (mappings pile up), one not mapped
 * at creation, one left mapped when freed, and the reserve not mapped:
 * the device has exactly one mapping per buffer that exists, from the
 * reserve at creation through growth and reuse, and none once the pool
 * is destroyed; each buffer keeps one bus address, distinct from others.
 */
static void bd_map_once(struct kunit *test)
{
	struct bd_ctx *ctx = test->priv;
	dma_addr_t first[8];
	long base = bd_mappings(1024);
	int i, j;

	bd_create(test, 1024, 8, 3, BUFPOOL_F_DMA_MAP, DMA_BIDIRECTIONAL);
	bd_expect_mapped(test, base, 3, 1024);
	for (i = 0; i < 8; i++)
		first[i] = bufpool_buf_dma(bd_alloc(test, GFP_KERNEL));
	bd_expect_mapped(test, base, 8, 1024);
	for (i = 0; i < 8; i++) {
		KUNIT_EXPECT_NE(test, first[i], DMA_MAPPING_ERROR);
		for (j = 0; j < i; j++)
			KUNIT_EXPECT_NE(test, first[i], first[j]);
	}
	/* The same buffers again: their mappings, no new one. */
	bd_put_all(test);
	for (i = 0; i < 8; i++)
		bd_alloc(test, GFP_KERNEL);
	bd_expect_mapped(test, base, 8, 1024);
	for (i = 0; i < 8; i++) {
		for (j = 0; j < 8 && bufpool_buf_dma(ctx->held[i]) != first[j]; j++)
			;
		KUNIT_EXPECT_LT(test, j, 8);
	}
	bd_put_all(test);
	bd_destroy(test);
	bd_expect_mapped(test, base, 0, 1024);
}

/*
 * Catches a sync that does nothing, or ignores its range: what "the
 * device" wrote into the bounce buffer is in the buffer after
 * bufpool_dma_sync_for_cpu(), exactly the bytes of the range synced.
 */
static void bd_sync_for_cpu(struct kunit *test)
{
	struct bufpool_buf *buf;
	u8 *data, *dev;
	size_t size;

	bd_need_bounce(test);
	bd_create(test, 2048, 4, 1, BUFPOOL_F_DMA_MAP, DMA_FROM_DEVICE);
	buf = bd_alloc(test, GFP_KERNEL);
	data = bufpool_buf_data(buf);
	size = bufpool_buf_size(buf);
	dev = bd_device_side(buf);
	KUNIT_ASSERT_PTR_NE(test, dev, data);

	memset(data, 0xaa, size);
	/* The device receives a frame. */
	memset(dev, 0x5c, size);
	bufpool_dma_sync_for_cpu(buf, 0, size);
	KUNIT_EXPECT_TRUE(test, bd_all(data, 0x5c, size));

	/* And another, of which only bytes 64..191 are read. */
	memset(dev, 0x11, size);
	bufpool_dma_sync_for_cpu(buf, 64, 128);
	KUNIT_EXPECT_TRUE(test, bd_all(data, 0x5c, 64));
	KUNIT_EXPECT_TRUE(test, bd_all(data + 64, 0x11, 128));
	KUNIT_EXPECT_TRUE(test, bd_all(data + 192, 0x5c, size - 192));
}

/*
 * Catches a sync for the device that does nothing, or ignores its range:
 * what the CPU wrote reaches the bounce buffer after
 * bufpool_dma_sync_for_device(), exactly the range synced.
 */
static void bd_sync_for_device(struct kunit *test)
{
	struct bufpool_buf *buf;
	u8 *data, *dev;
	size_t size;

	bd_need_bounce(test);
	bd_create(test, 2048, 4, 1, BUFPOOL_F_DMA_MAP, DMA_TO_DEVICE);
	buf = bd_alloc(test, GFP_KERNEL);
	data = bufpool_buf_data(buf);
	size = bufpool_buf_size(buf);
	dev = bd_device_side(buf);
	KUNIT_ASSERT_PTR_NE(test, dev, data);

	memset(dev, 0, size);
	memset(data, 0x3c, size);
	bufpool_dma_sync_for_device(buf, 0, size);
	KUNIT_EXPECT_TRUE(test, bd_all(dev, 0x3c, size));

	memset(data, 0x4d, size);
	bufpool_dma_sync_for_device(buf, size - 100, 100);
	KUNIT_EXPECT_TRUE(test, bd_all(dev, 0x3c, size - 100));
	KUNIT_EXPECT_TRUE(test, bd_all(dev + size - 100, 0x4d, 100));
}

/*
 * Catches BUFPOOL_F_DMA_SYNC_DEV skipped on a hand-out (from the
 * magazine, from the depot, in bulk), and a sync made before the buffer
 * is zeroed: a buffer the CPU wrote while it was free is in the bounce
 * buffer as it is handed out, and a __GFP_ZERO hand-out gives the device
 * zeroes.
 */
static void bd_sync_on_hand_out(struct kunit *test)
{
	struct bd_ctx *ctx = test->priv;
	struct bufpool_buf *buf, *bufs[2];
	u8 *data[2], *dev[2];
	struct bufpool *pool;
	size_t size;
	int i, j;

	bd_need_bounce(test);
	pool = bd_create(test, 512, 2, 2,
			 BUFPOOL_F_DMA_MAP | BUFPOOL_F_DMA_SYNC_DEV,
			 DMA_BIDIRECTIONAL);
	for (i = 0; i < 2; i++) {
		buf = bd_alloc(test, GFP_KERNEL);
		data[i] = bufpool_buf_data(buf);
		dev[i] = bd_device_side(buf);
		KUNIT_ASSERT_PTR_NE(test, dev[i], data[i]);
	}
	size = bufpool_buf_size(buf);
	bd_put_all(test);

	/* Written while free; one handed out, from a magazine or the depot. */
	for (i = 0; i < 4; i++) {
		memset(data[0], 0x60 + i, size);
		memset(data[1], 0x60 + i, size);
		buf = bd_alloc(test, GFP_KERNEL);
		KUNIT_EXPECT_TRUE(test, bd_all(bd_device_side(buf), 0x60 + i, size));
		bd_put_all(test);
	}
	/* Zeroed, then synced: the device sees the zeroes. */
	memset(dev[0], 0xee, size);
	memset(dev[1], 0xee, size);
	buf = bd_alloc(test, GFP_KERNEL | __GFP_ZERO);
	KUNIT_EXPECT_TRUE(test, bd_all(bd_device_side(buf), 0, size));
	bd_put_all(test);

	/* In bulk, both. */
	for (j = 0; j < 2; j++) {
		memset(data[0], 0x70 + j, size);
		memset(data[1], 0x70 + j, size);
		KUNIT_ASSERT_EQ(test, bufpool_alloc_bulk(pool, GFP_KERNEL, 2, bufs), 0);
		ctx->held[ctx->nr_held++] = bufs[0];
		ctx->held[ctx->nr_held++] = bufs[1];
		for (i = 0; i < 2; i++)
			KUNIT_EXPECT_TRUE(test, bd_all(bd_device_side(bufs[i]),
						       0x70 + j, size));
		bd_put_all(test);
	}
}

/*
 * Catches a sync past the buffer's end reaching the DMA API (which
 * would copy past the bounce slot, and DMA-API debug report), and the
 * DMA calls on a pool that does not map taken: each is reported and
 * ignored, and bufpool_buf_dma() is DMA_MAPPING_ERROR there.
 */
static void bd_sync_misuse(struct kunit *test)
{
	struct bufpool_params p = {
		.name = "bd-nomap", .buf_size = 256, .max_bufs = 2,
		.dev = bd_dev(),
	};
	struct bufpool_buf *buf, *plain;
	struct bufpool *nomap;
	u8 *data, *dev;
	size_t size;

	bd_need_bounce(test);
	bd_create(test, 1000, 2, 1, BUFPOOL_F_DMA_MAP, DMA_TO_DEVICE);
	buf = bd_alloc(test, GFP_KERNEL);
	data = bufpool_buf_data(buf);
	size = bufpool_buf_size(buf);
	dev = bd_device_side(buf);
	memset(dev, 0, size);
	memset(data, 0x22, size);
	bufpool_dma_sync_for_device(buf, size - 10, 20);
	bufpool_dma_sync_for_device(buf, size + 1, 0);
	bufpool_dma_sync_for_device(buf, UINT_MAX, 2);
	bufpool_dma_sync_for_cpu(buf, 0, size + 1);
	KUNIT_EXPECT_TRUE(test, bd_all(dev, 0, size));
	/* The whole buffer is fine. */
	bufpool_dma_sync_for_device(buf, 0, size);
	KUNIT_EXPECT_TRUE(test, bd_all(dev, 0x22, size));

	nomap = bufpool_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, nomap);
	plain = bufpool_alloc(nomap, GFP_KERNEL);
	if (plain) {
		KUNIT_EXPECT_EQ(test, bufpool_buf_dma(plain), DMA_MAPPING_ERROR);
		bufpool_dma_sync_for_cpu(plain, 0, 16);
		bufpool_dma_sync_for_device(plain, 0, 16);
		bufpool_put(plain);
	}
	bufpool_destroy(nomap);
	KUNIT_EXPECT_NOT_NULL(test, plain);
}

/* Destroy */

static void bd_released(void *arg)
{
	complete(arg);
}

/*
 * Catches buffers still held left mapped by bufpool_destroy_async() (a
 * driver's remove() returns with mappings of its device), a sync after
 * it reaching the DMA API (which DMA-API debug reports), and a buffer
 * mapped again or unmapped twice when it is put afterwards: once the call
 * returns the device has no mapping of the pool's, the held buffers'
 * memory is still theirs, and the pool is freed once they are put.
 */
static void bd_destroy_async_unmaps_held(struct kunit *test)
{
	struct bd_ctx *ctx = test->priv;
	DECLARE_COMPLETION_ONSTACK(done);
	struct bufpool *pool;
	struct bufpool_buf *buf;
	long base = bd_mappings(700);
	int i;

	pool = bd_create(test, 700, 6, 2, BUFPOOL_F_DMA_MAP, DMA_FROM_DEVICE);
	for (i = 0; i < 4; i++)
		bd_alloc(test, GFP_KERNEL);
	bd_expect_mapped(test, base, 4, 700);
	ctx->pool = NULL;
	bufpool_destroy_async(pool, bd_released, &done);
	bd_expect_mapped(test, base, 0, 700);
	for (i = 0; i < 4; i++) {
		buf = ctx->held[i];
		/* Still the holder's memory (KASAN would say otherwise). */
		memset(bufpool_buf_data(buf), i, bufpool_buf_size(buf));
		KUNIT_EXPECT_EQ(test, bufpool_buf_dma(buf), DMA_MAPPING_ERROR);
		bufpool_dma_sync_for_cpu(buf, 0, 64);
		bufpool_dma_sync_for_device(buf, 0, 64);
	}
	KUNIT_EXPECT_FALSE(test, completion_done(&done));
	bd_put_all(test);
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&done, 10 * HZ));
	bufpool_barrier();
	bd_expect_mapped(test, base, 0, 700);
}

/*
 * Catches a destroy that frees buffers without unmapping them: once
 * bufpool_destroy() has returned (the last buffer put by another
 * context meanwhile, reserve and growth alike), the device has no
 * mapping of the pool's.
 */
static void bd_destroy_unmaps(struct kunit *test)
{
	long base = bd_mappings(3000);
	int i;

	bd_create(test, 3000, 5, 2, BUFPOOL_F_DMA_MAP, DMA_TO_DEVICE);
	for (i = 0; i < 5; i++)
		bd_alloc(test, GFP_KERNEL);
	bd_expect_mapped(test, base, 5, 3000);
	bd_put_all(test);
	bd_destroy(test);
	bd_expect_mapped(test, base, 0, 3000);
}

#ifdef CONFIG_FAULT_INJECTION
/* Fail the @nth call of bufpool's fault point by this task, only that. */
static void bd_arm(int nth)
{
	bufpool_fault_attr.verbose = 0;
	bufpool_fault_attr.interval = 1;
	bufpool_fault_attr.task_filter = true;
	atomic_set(&bufpool_fault_attr.space, nth);
	atomic_set(&bufpool_fault_attr.times, 1);
	current->make_it_fail = 1;
	bufpool_fault_attr.probability = 100;
}

static bool bd_disarm(void)
{
	bool fired = !atomic_read(&bufpool_fault_attr.times);

	bufpool_fault_attr.probability = 0;
	bufpool_fault_attr.task_filter = false;
	atomic_set(&bufpool_fault_attr.times, 1);
	atomic_set(&bufpool_fault_attr.space, 0);
	current->make_it_fail = 0;
	return fired;
}

/*
 * Catches a mapping leaked, or a buffer handed out unmapped, when a
 * growth fails at any of its steps, the mapping last: each fails the
 * allocation (GFP_ATOMIC: no wait), counts in grow_fails and leaves the
 * device no mapping more; and a pool whose creation fails at any step,
 * its reserve's mappings included, leaves none either.
 */
static void bd_map_failure(struct kunit *test)
{
	struct bd_ctx *ctx = test->priv;
	struct bufpool_params p = {
		.name = "bd-fault", .buf_size = 256, .max_bufs = 4,
		.min_bufs = 2, .flags = BUFPOOL_F_DMA_MAP, .dev = bd_dev(),
		.dma_dir = DMA_BIDIRECTIONAL,
	};
	struct bufpool_stats st;
	struct bufpool_buf *buf;
	struct bufpool *pool;
	long base = bd_mappings(256);
	int nth, fails = 0;

	for (nth = 1; nth < 100; nth++) {
		bd_arm(nth);
		pool = bufpool_create(&p);
		if (!bd_disarm()) {
			KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
			break;
		}
		KUNIT_EXPECT_EQ(test, PTR_ERR(pool), -ENOMEM);
		bd_expect_mapped(test, base, 0, 256);
	}
	KUNIT_EXPECT_GT(test, nth, 1);
	ctx->pool = pool;
	bd_expect_mapped(test, base, 2, 256);
	bd_alloc(test, GFP_ATOMIC);
	bd_alloc(test, GFP_ATOMIC);
	for (nth = 1; nth < 20; nth++) {
		bd_arm(nth);
		buf = bufpool_alloc(pool, GFP_ATOMIC);
		if (!bd_disarm()) {
			KUNIT_ASSERT_NOT_NULL(test, buf);
			ctx->held[ctx->nr_held++] = buf;
			break;
		}
		KUNIT_EXPECT_NULL(test, buf);
		fails++;
		bd_expect_mapped(test, base, 2, 256);
	}
	KUNIT_EXPECT_GT(test, fails, 0);
	bufpool_get_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.grow_fails, fails);
	bd_expect_mapped(test, base, 3, 256);
	KUNIT_EXPECT_NE(test, bufpool_buf_dma(buf), DMA_MAPPING_ERROR);
}
#else
static void bd_map_failure(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}
#endif

/* Validation */

struct bd_bad {
	const char *what;
	unsigned int flags;
	bool dev;
	enum dma_data_direction dir;
	int nid;
};

static const struct bd_bad bd_bads[] = {
	{ "mapped without a device", BUFPOOL_F_DMA_MAP, false, DMA_TO_DEVICE, 0 },
	{ "synced without a device", BUFPOOL_F_DMA_SYNC_DEV, false, 0, 0 },
	{ "synced, not mapped", BUFPOOL_F_DMA_SYNC_DEV, true, 0, 0 },
	{ "DMA_NONE", BUFPOOL_F_DMA_MAP, true, DMA_NONE, 0 },
	{ "direction 7", BUFPOOL_F_DMA_MAP, true, 7, 0 },
	{ "a direction, not mapped", 0, true, DMA_FROM_DEVICE, 0 },
	{ "nid without BUFPOOL_F_NODE", 0, false, 0, 1 },
	{ "nid -2", BUFPOOL_F_NODE, false, 0, -2 },
	{ "nid MAX_NUMNODES", BUFPOOL_F_NODE, false, 0, MAX_NUMNODES },
};

static void bd_bad_desc(const struct bd_bad *b, char *desc)
{
	strscpy(desc, b->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bd_bad, bd_bads, bd_bad_desc);

/*
 * Catches a DMA or NUMA field taken as it comes: flags that need a
 * device without one, a sync without the mapping, a direction that is
 * none or set for nothing, a node that is not one or set without its
 * flag. Each is -EINVAL.
 */
static void bd_validation(struct kunit *test)
{
	const struct bd_bad *b = test->param_value;
	struct bufpool_params p = {
		.name = "bd-bad", .buf_size = 64, .max_bufs = 4,
		.flags = b->flags, .dev = b->dev ? bd_dev() : NULL,
		.dma_dir = b->dir, .nid = b->nid,
	};
	struct bufpool *pool = bufpool_create(&p);

	if (!IS_ERR(pool))
		bufpool_destroy(pool);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(pool), -EINVAL);
}

/*
 * Catches a device without a DMA mask mapped all the same (the DMA API
 * would WARN): -EINVAL. (An offline node: tests/bufpool_numa.c, on a
 * kernel with two nodes.)
 */
static void bd_validation_nomask(struct kunit *test)
{
	struct device *nomask = root_device_register("bufpool-dma-nomask");
	struct bufpool_params p = {
		.name = "bd-bad", .buf_size = 64, .max_bufs = 4,
		.flags = BUFPOOL_F_DMA_MAP, .dma_dir = DMA_TO_DEVICE,
	};
	struct bufpool *pool;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, nomask);
	KUNIT_ASSERT_NULL(test, nomask->dma_mask);
	p.dev = nomask;
	pool = bufpool_create(&p);
	if (!IS_ERR(pool))
		bufpool_destroy(pool);
	root_device_unregister(nomask);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(pool), -EINVAL);
}

/*
 * Catches a zeroed params struct pinning a pool to node 0 (every caller
 * written before @nid existed), NUMA_NO_NODE refused, and a node asked
 * for with its flag not taken: no flag, nid 0 or NUMA_NO_NODE, is no
 * preference (or the device's node); BUFPOOL_F_NODE with an online node
 * is that node.
 */
static void bd_node_default(struct kunit *test)
{
	struct bufpool_params p = {
		.name = "bd-node", .buf_size = 64, .max_bufs = 4,
	};
	struct bufpool *pool;

	pool = bufpool_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_EXPECT_EQ(test, pool->nid, NUMA_NO_NODE);
	bufpool_destroy(pool);

	p.nid = NUMA_NO_NODE;
	p.dev = bd_dev();
	pool = bufpool_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_EXPECT_EQ(test, pool->nid, dev_to_node(bd_dev()));
	bufpool_destroy(pool);

	p.dev = NULL;
	p.flags = BUFPOOL_F_NODE;
	p.nid = first_memory_node;
	pool = bufpool_create(&p);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_EXPECT_EQ(test, pool->nid, first_memory_node);
	bufpool_destroy(pool);
}

static struct kunit_case bd_cases[] = {
	KUNIT_CASE_PARAM(bd_layout_safe, bd_layout_gen_params),
	KUNIT_CASE(bd_map_once),
	KUNIT_CASE(bd_sync_for_cpu),
	KUNIT_CASE(bd_sync_for_device),
	KUNIT_CASE(bd_sync_on_hand_out),
	KUNIT_CASE(bd_sync_misuse),
	KUNIT_CASE(bd_destroy_async_unmaps_held),
	KUNIT_CASE(bd_destroy_unmaps),
	KUNIT_CASE(bd_map_failure),
	KUNIT_CASE_PARAM(bd_validation, bd_bad_gen_params),
	KUNIT_CASE(bd_validation_nomask),
	KUNIT_CASE(bd_node_default),
	{}
};

static struct kunit_suite bd_suite = {
	.name = "bufpool_dma",
	.suite_init = bd_suite_init,
	.suite_exit = bd_suite_exit,
	.init = bd_init,
	.exit = bd_exit,
	.test_cases = bd_cases,
};

kunit_test_suites(&bd_suite);

MODULE_DESCRIPTION("KUnit tests for bufpool's DMA-mapped pools");
MODULE_LICENSE("GPL");
