#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kselftest-style checks of the API beyond alloc and put (data lookup,
# scatterlists, notify requests, destroy without waiting, what a buffer
# costs), driven through tests/bufpool_test_client.ko, so that they run on
# kernels without KUnit too (Debian's 6.1). Prints KTAP with the kernel's
# own ktap_helpers.sh, copied next to this script. Reads the kernel log
# only after a marker of its own, and never clears it.

. /root/ktap_helpers.sh

D=/sys/kernel/debug/bufpool
CLIENT=/root/bufpool_test_client.ko
n=0

# The kernel log since this script's marker number $1.
log_since() {
	dmesg | sed -n "/bufpool_api.sh: mark $1\$/,\$p"
}

mark() {
	n=$((n + 1))
	echo "bufpool_api.sh: mark $n" >/dev/kmsg
}

# Load the client with "$@", unload it, and look for "$what ok" in the
# log in between, and for no report of failure.
client_says_ok() {
	what=$1
	shift
	mark
	insmod $CLIENT "$@" || return 1
	rmmod bufpool_test_client || return 1
	log_since $n | grep -q "bufpool_test_client: $what ok" &&
		! log_since $n | grep -q -E 'never|failed'
}

ktap_print_header
ktap_set_plan 7

# Catches a lookup that misses a held buffer (a wrong key or offset).
ktap_test_result "data lookup finds each held buffer" \
	client_says_ok lookup name=api-lookup buf_size=4096 max_bufs=16 \
	min_bufs=0 cycles=10 burst=8 hold=8 lookup=1

# Catches a table whose entries are not the buffers handed out.
ktap_test_result "a scatterlist covers the buffers taken" \
	client_says_ok sg name=api-sg buf_size=1500 max_bufs=16 min_bufs=0 \
	cycles=10 burst=12 hold=2 sg=1

# Catches a request that is never served, or served before a put.
ktap_test_result "a notify request is served by a put" \
	client_says_ok notify name=api-notify buf_size=256 max_bufs=4 \
	min_bufs=0 cycles=10 burst=4 hold=4 notify=1

# Catches a pool never freed once its last buffer is home.
ktap_test_result "destroy without waiting frees on the last put" \
	client_says_ok async name=api-async buf_size=256 max_bufs=8 \
	min_bufs=2 cycles=10 burst=4 hold=3 async=1

# Catches a pool whose slot is not given to its buffers: a 9000-byte
# buffer packs three to an order-3 slab, so it holds 10888 bytes; and a
# stats file that shows only that, not the size the driver asked for.
check_cost() {
	insmod $CLIENT name=api-cost buf_size=9000 max_bufs=4 min_bufs=1 \
		cycles=1 burst=1 hold=1 || return 1
	size=$(grep '^buf_size: ' $D/api-cost/stats | cut -d' ' -f2)
	asked=$(grep '^buf_size_asked: ' $D/api-cost/stats | cut -d' ' -f2)
	cost=$(grep '^buf_cost: ' $D/api-cost/stats | cut -d' ' -f2)
	rmmod bufpool_test_client
	ktap_print_msg "buf_size 9000 holds $size, costs $cost, shown asked $asked"
	[ "$asked" = 9000 ] && [ "$size" -ge 9000 ] &&
		[ $((cost - size - 32)) -le $((cost / 32)) ]
}
ktap_test_result "a buffer holds what its slot costs" check_cost

# Catches a notify request left queued on a destroyed pool: loading with
# notify=1 async=1 destroys the pool under it, which must fail it.
check_notify_destroy() {
	mark
	insmod $CLIENT name=api-nd buf_size=256 max_bufs=2 min_bufs=0 \
		cycles=1 burst=2 hold=2 notify=1 async=1 || return 1
	rmmod bufpool_test_client || return 1
	log_since $n | grep -q 'notify failed: -108' &&
		log_since $n | grep -q 'async ok'
}
ktap_test_result "destroy fails a queued notify request" check_notify_destroy

# Catches a cost model that is not SLUB's: the slabs the buffers really
# sit in (/proc/slabinfo) must cost what the pool says, with and without
# BUFPOOL_F_LOOKUP (whose inline headers are in a SLAB_TYPESAFE_BY_RCU
# cache, where SLUB adds its free pointer to each object). Under KASAN
# every object carries metadata and costs more, so the check is for
# kernels without it (Debian's).
check_real_cost() {
	for lookup in 0 1; do
	for size in 200 1500 2048 4096 9000 12288 16384; do
		insmod $CLIENT name=api-real buf_size=$size max_bufs=8 \
			min_bufs=8 cycles=0 burst=0 hold=0 lookup=$lookup || return 1
		cost=$(grep '^buf_cost: ' $D/api-real/stats | cut -d' ' -f2)
		apart=$(grep -c '^header: apart' $D/api-real/stats)
		real=$(awk '$1 == "bufpool-api-real" { print int($6 * 4096 / $5) }' /proc/slabinfo)
		rmmod bufpool_test_client
		# A header apart and its index entry; an inline one's entry.
		if [ $apart = 1 ]; then
			real=$((real + 48))
		elif [ $lookup = 1 ]; then
			real=$((real + 16))
		fi
		ktap_print_msg "buf_size $size lookup $lookup: pool says $cost, slab says $real"
		[ -n "$real" ] && [ "$real" -le $((cost + 8)) ] || return 1
	done
	done
}
if dmesg | grep -q 'KernelAddressSanitizer initialized'; then
	ktap_test_skip "real slab cost (KASAN adds its own to every object)"
else
	ktap_test_result "buffers cost what the pool says in the real slab" check_real_cost
fi

ktap_finished
