#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kselftest-style checks of bufpool's debugfs files, run in the test guest
# (debug and Debian 6.1 kernels) with bufpool.ko loaded. Prints KTAP with
# the kernel's own ktap_helpers.sh, copied next to this script.

. /root/ktap_helpers.sh

D=/sys/kernel/debug/bufpool
CLIENT=/root/bufpool_test_client.ko

stat_of() {
	grep "^$2: " "$D/$1/stats" | cut -d' ' -f2
}

# Field $2 (1-based) of pool $1's line in the pools file.
pools_field() {
	awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$D/pools"
}

# What the kernel logged since mark_log TAG. The guest's verdict reads
# the whole log after the tests: nothing here may clear or rewrite it.
mark_log() {
	echo "bufpool_selftest: mark $1" >/dev/kmsg
}

log_since() {
	dmesg | sed -n "/bufpool_selftest: mark $1\$/,\$p"
}

expect_eq() {
	[ "$1" = "$2" ] && return 0
	ktap_print_msg "expected '$2', got '$1' ($3)"
	return 1
}

ktap_print_header
ktap_set_plan 12

ok=0
insmod $CLIENT name=selftest buf_size=2048 max_bufs=64 min_bufs=4 \
	cycles=100 burst=32 hold=10 && ok=1
ktap_test_result "client loads and creates a pool" [ $ok = 1 ]

check_pools_row() {
	head -n1 $D/pools | grep -q '^# name *buf_size *max *min *in_use' &&
	expect_eq "$(pools_field selftest 2)" 2048 buf_size &&
	expect_eq "$(pools_field selftest 3)" 64 max &&
	expect_eq "$(pools_field selftest 4)" 4 min &&
	expect_eq "$(pools_field selftest 5)" 10 in_use
}
ktap_test_result "pools has a header and the pool's row" check_pools_row

# The burst of 32 may grow the pool past buffers that idle in a CPU's
# magazine (growing is cheaper than an IPI to every CPU): at most the
# four of the reserve.
check_counts() {
	backed=$(stat_of selftest backed)
	hwm=$(stat_of selftest high_watermark)
	expect_eq "$(stat_of selftest allocs)" 142 allocs &&
	expect_eq "$(stat_of selftest frees)" 132 frees &&
	expect_eq "$(stat_of selftest in_use)" 10 in_use &&
	expect_eq "$(stat_of selftest fails)" 0 fails &&
	expect_eq "$(stat_of selftest free)" $((backed - 10)) "free = backed - in_use" &&
	[ "$backed" -ge 32 ] && [ "$backed" -le 36 ] &&
	[ "$hwm" -ge 32 ] && [ "$hwm" -le "$backed" ]
}
ktap_test_result "stats match what the client did" check_counts

check_keys() {
	for k in allocs frees fails fails_exhausted fails_dying fails_nomem \
		fails_timeout fails_signal waits wait_ns_total wait_ns_max in_use \
		high_watermark backed free cached waiters mag_hits mag_misses \
		steals sweeps barges handoffs empty_wakeups shrink_scans \
		shrink_freed grow_fails remote_frees; do
		grep -q "^$k: [0-9][0-9]*\$" $D/selftest/stats ||
			{ ktap_print_msg "no counter $k"; return 1; }
	done
}
ktap_test_result "stats has every counter" check_keys

check_no_addresses() {
	! grep -q -E 'ffff[0-9a-f]{12}' $D/pools $D/selftest/stats \
		$D/selftest/holders
}
ktap_test_result "no kernel address is printed" check_no_addresses

# The client holds its 10 from one bufpool_alloc_bulk() call, in its
# init function: code freed once the module is loaded, so the site is
# not named but hashed (a symbol would be a wrong one, and an address a
# leak).
check_holders() {
	grep -q 'call site' $D/selftest/holders &&
	grep -q -E '^ +10 +[0-9]+ \(no symbol\) [0-9a-f]{16}$' \
		$D/selftest/holders ||
		{ cat $D/selftest/holders; return 1; }
}
ktap_test_result "holders counts the client's 10 buffers at one call site, hashed once its code is freed" check_holders

check_slabinfo() {
	[ -r /proc/slabinfo ] || return 0
	grep -q '^bufpool-selftest ' /proc/slabinfo
}
ktap_test_result "the pool's slab cache is in /proc/slabinfo" check_slabinfo

# The shrinker gives back idle buffers above the reserve and no more.
SHRINK=$(ls -d /sys/kernel/debug/shrinker/bufpool-selftest-* 2>/dev/null | head -n1)
check_shrinker() {
	echo "0 0 1000" >"$SHRINK/scan" || return 1
	backed=$(stat_of selftest backed)
	cached=$(stat_of selftest cached)
	expect_eq "$(stat_of selftest in_use)" 10 in_use &&
	expect_eq "$backed" $((10 + cached)) "backed after scan" &&
	[ "$(stat_of selftest shrink_freed)" -ge 1 ]
}
if [ -n "$SHRINK" ]; then
	ktap_test_result "shrinker scan frees idle buffers only" check_shrinker
else
	ktap_test_skip "shrinker scan frees idle buffers only (no SHRINKER_DEBUG)"
fi

# Keep the stats file open across the pool's destruction: reading it then
# must fail cleanly (debugfs waits for readers and cuts later reads off),
# and never touch the freed pool (the verdict has KASAN look).
exec 3<$D/selftest/stats
rmmod bufpool_test_client
check_open_file() {
	! cat <&3 >/dev/null 2>&1
}
ktap_test_result "a stats file held open across destroy reads nothing" check_open_file
exec 3<&-

check_gone() {
	[ ! -e $D/selftest ] && ! grep -q '^selftest ' $D/pools
}
ktap_test_result "unloading the client destroys the pool" check_gone

check_bad_params() {
	mark_log bad_params
	insmod $CLIENT name=badpool max_bufs=0 2>/dev/null && return 1
	log_since bad_params | grep -q "pool 'badpool': max_bufs 0 is not in" || return 1
	[ ! -e $D/badpool ]
}
ktap_test_result "invalid parameters are refused with a message" check_bad_params

# Last, since it unloads bufpool: a client that went away without
# destroying its pool leaves it to bufpool's unload, which frees it (the
# verdict's kmemleak scan checks) and names it.
check_orphan() {
	mark_log orphan
	insmod $CLIENT name=orphan destroy=0 || return 1
	rmmod bufpool_test_client || return 1
	grep -q '^orphan ' $D/pools || return 1
	rmmod bufpool || return 1
	[ "$(log_since orphan | grep -c "pool 'orphan' was never destroyed")" = 1 ]
}
ktap_test_result "unloading bufpool frees a pool its client left behind" check_orphan

ktap_finished
