#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Per-CPU caching on a machine with many possible CPUs, in the test guest
# (scripts/check boots Debian's 6.1 with --smp 2,maxcpus=64 for it): a
# pool of two buffers per possible CPU or more gets magazines whatever
# the CPU count, and the pool still gives out all of its buffers, to one
# CPU, from the others' magazines. Prints KTAP with the kernel's own
# ktap_helpers.sh; tests/bufpool_test_client.ko is copied next to it.

. /root/ktap_helpers.sh

D=/sys/kernel/debug/bufpool
CLIENT=/root/bufpool_test_client.ko

stat_of() {
	grep "^$2: " "$D/$1/stats" | cut -d' ' -f2
}

possible=$(cat /sys/devices/system/cpu/possible)
last=${possible##*-}
ncpus=$((last + 1))

ktap_print_header
ktap_set_plan 3
ktap_print_msg "possible CPUs: $possible"

# Catches magazines refused to a pool whose cap is small next to the
# possible CPUs: 1024 buffers of 2 KiB on 64 possible CPUs is 16 each.
check_big_machine() {
	insmod $CLIENT name=possible buf_size=2048 max_bufs=1024 min_bufs=0 \
		cycles=10 burst=64 hold=0 || return 1
	slots=$(stat_of possible magazine_slots)
	rmmod bufpool_test_client
	ktap_print_msg "1024 x 2 KiB, $ncpus possible CPUs: $slots slots"
	[ "$slots" -ge 2 ]
}
ktap_test_result "a pool of 1024 caches per CPU with $ncpus possible CPUs" check_big_machine

# Two per possible CPU is enough (a magazine may then hold up to the
# whole cap, 64 slots at most); fewer gets none.
check_small_pools() {
	insmod $CLIENT name=possible buf_size=256 max_bufs=$((2 * ncpus)) \
		min_bufs=0 cycles=10 burst=2 hold=0 || return 1
	slots=$(stat_of possible magazine_slots)
	rmmod bufpool_test_client
	[ "$slots" -ge 2 ] || { ktap_print_msg "two per CPU: $slots slots"; return 1; }
	insmod $CLIENT name=possible buf_size=256 max_bufs=$((2 * ncpus - 1)) \
		min_bufs=0 cycles=10 burst=2 hold=0 || return 1
	slots=$(stat_of possible magazine_slots)
	rmmod bufpool_test_client
	[ "$slots" -eq 0 ] || { ktap_print_msg "under two per CPU: $slots slots"; return 1; }
}
ktap_test_result "two buffers per possible CPU get magazines, fewer none" check_small_pools

# The client holds the whole cap at load: it must get it, though the
# cycles before left buffers in this CPU's magazine and the burst in
# another's (the shell's CPU may change between the two).
check_whole_cap() {
	insmod $CLIENT name=possible buf_size=2048 max_bufs=1024 min_bufs=0 \
		cycles=100 burst=512 hold=1024 try_atomic=1 || return 1
	in_use=$(stat_of possible in_use)
	rmmod bufpool_test_client
	[ "$in_use" -eq 1024 ] || { ktap_print_msg "in_use $in_use"; return 1; }
}
ktap_test_result "the whole cap is handed out" check_whole_cap

ktap_finished
