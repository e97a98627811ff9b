#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kselftest-style checks of what bufpool shows its users at run time, in
# the test guest (debug and Debian 6.1 kernels) with bufpool.ko loaded:
# its trace events, enabled through tracefs while
# tests/bufpool_test_client.ko goes through every path that has one, each
# checked for its fields and for values that agree with the pool's own
# counters; and scripts/bufpoolstat, the live view, against a pool of the
# same client. Prints KTAP with the kernel's own ktap_helpers.sh; the
# client, ktap_helpers.sh and bufpoolstat are copied next to this script.

. /root/ktap_helpers.sh

D=/sys/kernel/debug/bufpool
T=/sys/kernel/tracing
CLIENT=/root/bufpool_test_client.ko
EVENTS="alloc put wait_begin wait_end alloc_fail grow shrink sweep"
OUT=/tmp/bufpool.trace

stat_of() {
	grep "^$2: " "$D/$1/stats" | cut -d' ' -f2
}

expect_eq() {
	[ "$1" = "$2" ] && return 0
	ktap_print_msg "expected '$2', got '$1' ($3)"
	return 1
}

# The trace lines of event $1 for pool $2.
events_of() {
	grep " bufpool_$1: pool=$2 " $OUT
}

count_of() {
	events_of "$1" "$2" | wc -l | tr -d ' '
}

ktap_print_header
ktap_set_plan 15

# The guest mounts debugfs only; tracefs has its own mount point.
[ -d $T/events ] || mount -t tracefs tracefs $T 2>/dev/null
check_tracefs() {
	for e in $EVENTS; do
		[ -r $T/events/bufpool/bufpool_$e/format ] ||
			{ ktap_print_msg "no event bufpool_$e"; return 1; }
	done
}
if ! ktap_test_result "tracefs lists every bufpool event" check_tracefs; then
	ktap_exit_fail_msg "no bufpool events in tracefs"
fi

# Catches an event whose fields are renamed or lost: the documented
# bpftrace one-liners read them by name.
check_fields() {
	while read -r e fields; do
		for f in pool $fields; do
			grep -q "field:.* $f[;[]" $T/events/bufpool/bufpool_$e/format ||
				{ ktap_print_msg "bufpool_$e has no field $f"; return 1; }
		done
	done <<EOF
alloc buf path
put buf
wait_begin want waiters notify
wait_end want wait_ns err empty_wakeups
alloc_fail want reason err
grow ok backed
shrink nr_to_scan freed
sweep moved empty
EOF
}
ktap_test_result "each event has its fields" check_fields

echo 0 >$T/tracing_on
echo >$T/trace
echo 1 >$T/events/bufpool/enable
echo 1 >$T/tracing_on

# Pool "trace": grows to its cap, every buffer held at the end, an atomic
# allocation that must fail, and a notify request that waits for a put.
insmod $CLIENT name=trace max_bufs=256 min_bufs=4 cycles=100 burst=32 \
	hold=256 notify=1 try_atomic=1 || ktap_exit_fail_msg "client load failed"
# The notify request's buffer is handed out at unload, after this.
allocs=$(($(stat_of trace allocs) + 1))
backed=$(stat_of trace backed)
rmmod bufpool_test_client
# Pool "trdie": a notify request still queued when the pool is destroyed.
insmod $CLIENT name=trdie max_bufs=64 min_bufs=0 cycles=0 burst=0 hold=64 \
	notify=1 async=1 && rmmod bufpool_test_client
# Pool "trshrink": idle buffers above the reserve, for the shrinkers.
insmod $CLIENT name=trshrink max_bufs=256 min_bufs=4 cycles=0 burst=64 hold=0
echo 2 >/proc/sys/vm/drop_caches
shrunk=$(stat_of trshrink shrink_freed)
rmmod bufpool_test_client

echo 0 >$T/tracing_on
echo 0 >$T/events/bufpool/enable
cat $T/trace >$OUT
grep -q 'LOST' $OUT && ktap_print_msg "the trace lost events"

# Catches an allocation path without its event (each buffer handed out,
# hit, refill, slow path or notify, is one event), and a wrong path.
check_alloc() {
	expect_eq "$(count_of alloc trace)" "$allocs" "alloc events = allocs" &&
	events_of alloc trace | grep -q ' path=hit$' &&
	events_of alloc trace | grep -q ' path=slow$' &&
	! events_of alloc trace | grep -v -q -E ' buf=[0-9a-fx]+ path=(hit|refill|slow)$'
}
ktap_test_result "bufpool_alloc: one per buffer handed out, with its path" check_alloc

# Catches a put without its event, or one recorded for another buffer:
# every buffer comes home by unload, and each put names a buffer that
# an alloc event handed out (%p hashes alike within a boot).
check_put() {
	expect_eq "$(count_of put trace)" "$allocs" "put events = allocs" || return 1
	buf=$(events_of put trace | tail -n1 | sed 's/.* buf=\([0-9a-fx]*\).*/\1/')
	events_of alloc trace | grep -q " buf=$buf "
}
ktap_test_result "bufpool_put: one per buffer returned, naming it" check_put

# Catches growth, at creation or later, that is not traced: every buffer
# the pool has was created once, and the shrinker did not run on it.
check_grow() {
	expect_eq "$(events_of grow trace | grep -c ' ok=1 ')" "$backed" \
		"grow events = backed" &&
	events_of grow trace | tail -n1 | grep -q " backed=$backed\$"
}
ktap_test_result "bufpool_grow: one per buffer created" check_grow

check_wait() {
	events_of wait_begin trace | grep -q ' want=1 waiters=1 notify=1$' &&
	events_of wait_end trace | grep -q -E ' want=1 wait_ns=[0-9]+ err=0 empty_wakeups=0$' &&
	events_of wait_begin trdie | grep -q ' notify=1$' &&
	events_of wait_end trdie | grep -q ' err=-108 empty_wakeups=0$'
}
ktap_test_result "bufpool_wait_begin and _end: a notify request served, one failed" check_wait

# Catches a failure traced with the wrong reason, or not at all.
check_fail() {
	expect_eq "$(count_of alloc_fail trace)" 1 "alloc_fail events of trace" &&
	events_of alloc_fail trace | grep -q ' want=1 reason=exhausted err=-11$' &&
	events_of alloc_fail trdie | grep -q ' want=1 reason=dying err=-108$'
}
ktap_test_result "bufpool_alloc_fail: exhausted and dying" check_fail

# Destroy sweeps every magazine: at least one sweep per pool with them.
check_sweep() {
	events_of sweep trace | grep -q -E ' moved=[0-9]+ empty=[01]$'
}
ktap_test_result "bufpool_sweep: traced with what it moved" check_sweep

check_shrink() {
	[ "$shrunk" -gt 0 ] || { ktap_print_msg "the shrinker freed nothing"; return 1; }
	events_of shrink trshrink | grep -q -E ' nr_to_scan=[0-9]+ freed=[1-9]' &&
	expect_eq "$(events_of shrink trshrink |
		sed 's/.* freed=//' | awk '{ s += $1 } END { print s }')" \
		"$shrunk" "freed in events = shrink_freed"
}
ktap_test_result "bufpool_shrink: what drop_caches freed" check_shrink

# Catches an event left on, or one that reads its pool after destroy:
# the pools are gone, and the verdict's KASAN would see a stale read.
check_quiet() {
	echo >$T/trace
	[ "$(cat $T/events/bufpool/enable)" = 0 ] &&
	[ -z "$(grep -v '^#' $T/trace)" ]
}
ktap_test_result "events off leave the trace empty" check_quiet

# bufpoolstat's table row of pool $1 in file $2, and field $3 of it.
stat_row() {
	awk -v n="$1" -v f="$3" '$1 == n { print $f }' "$2"
}

# A pool created while bufpoolstat waits: all its allocations, failures
# and waits fall in the interval, so their rates are its counters over
# the interval. Catches columns read from the wrong place, rates not
# divided by the interval, and a new pool shown with no rate.
mkdir -p /tmp/bps
TMPDIR=/tmp/bps sh /root/bufpoolstat -b -n 1 -d 8 >/tmp/bps.out 2>&1 &
bps=$!
i=0
while [ -z "$(ls /tmp/bps/*/prev 2>/dev/null)" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
insmod $CLIENT name=stat max_bufs=64 min_bufs=4 cycles=500 burst=0 hold=64 \
	notify=1 try_atomic=1
wait $bps
check_bufpoolstat() {
	dt=$(sed -n 's/.*rates over \([0-9.]*\)s$/\1/p' /tmp/bps.out)
	[ -n "$dt" ] || { cat /tmp/bps.out; return 1; }
	for c in allocs:12:9 fails:13:10 waits:14:11; do
		name=${c%%:*}
		want=$(stat_of stat "$name")
		got=$(stat_row stat /tmp/bps.out "$(echo "$c" | cut -d: -f2)")
		rate=$(stat_row stat /tmp/bps.out "$(echo "$c" | cut -d: -f3)")
		expect_eq "$got" "$want" "$name column" || return 1
		# The rate is printed to 0.1: rate * dt within 0.05 * dt + 1.
		awk -v r="$rate" -v n="$want" -v t="$dt" 'BEGIN {
			d = r * t - n; if (d < 0) d = -d
			exit !(n > 0 && d <= 0.05 * t + 1) }' ||
			{ ktap_print_msg "$name/s $rate over ${dt}s is not $want"; return 1; }
	done
	expect_eq "$(stat_row stat /tmp/bps.out 3)" 64 "MAX column" &&
	expect_eq "$(stat_row stat /tmp/bps.out 4)" 4 "MIN column" &&
	expect_eq "$(stat_row stat /tmp/bps.out 5)" 64 "IN_USE column"
}
ktap_test_result "bufpoolstat: a new pool's counts and rates" check_bufpoolstat
rmmod bufpool_test_client

# Catches -n not counting tables and -s not sorting: a made-up pools
# file (-f), with its columns in another order than bufpool's.
cat >/tmp/bps.pools <<EOF
# name allocs fails waits buf_size max min in_use free cached hwm
bb 100 5 0 64 8 0 0 0 0 0
aa 300 0 9 64 8 0 0 0 0 0
cc 200 1 0 64 8 0 0 0 0 0
EOF
check_bufpoolstat_sort() {
	sh /root/bufpoolstat -f /tmp/bps.pools -n 2 -d 0.1 -s allocs >/tmp/bps.out 2>&1 &&
	expect_eq "$(grep -c '^NAME ' /tmp/bps.out)" 2 "tables for -n 2" &&
	expect_eq "$(awk '$1 ~ /^[a-c][a-c]$/ { printf "%s%s ", $1, $12 }' /tmp/bps.out)" \
		"aa300 cc200 bb100 aa300 cc200 bb100 " "-s allocs" &&
	sh /root/bufpoolstat -f /tmp/bps.pools -n 1 -d 0.1 -s fails >/tmp/bps.out 2>&1 &&
	expect_eq "$(awk '$1 ~ /^[a-c][a-c]$/ { printf "%s ", $1 }' /tmp/bps.out)" \
		"bb cc aa " "-s fails" &&
	sh /root/bufpoolstat -f /tmp/bps.pools -n 1 -d 0.1 -s name >/tmp/bps.out 2>&1 &&
	expect_eq "$(awk '$1 ~ /^[a-c][a-c]$/ { printf "%s ", $1 }' /tmp/bps.out)" \
		"aa bb cc " "-s name" &&
	! sh /root/bufpoolstat -f /tmp/bps.pools -n 1 -s nosuch 2>/dev/null
}
ktap_test_result "bufpoolstat: -n tables, sorted by -s" check_bufpoolstat_sort

# Catches -h and --help taken for wrong options (status 2, "Illegal
# option"), and a wrong option taken for help.
check_bufpoolstat_help() {
	for h in -h --help; do
		sh /root/bufpoolstat $h >/tmp/bps.out 2>/tmp/bps.err
		expect_eq "$?" 0 "status of $h" &&
		grep -q '^bufpoolstat \[-d DELAY\]' /tmp/bps.out &&
		grep -q '^columns: ' /tmp/bps.out &&
		[ ! -s /tmp/bps.err ] ||
			{ ktap_print_msg "$h: $(cat /tmp/bps.out /tmp/bps.err)"; return 1; }
	done
	sh /root/bufpoolstat -x >/tmp/bps.out 2>/tmp/bps.err
	expect_eq "$?" 2 "status of -x" &&
	[ ! -s /tmp/bps.out ] && grep -q '^bufpoolstat \[-d DELAY\]' /tmp/bps.err
}
ktap_test_result "bufpoolstat: -h and --help print the usage, status 0" check_bufpoolstat_help

# A name of BUFPOOL_NAME_MAX (31) characters and a reserve (min) per pool,
# in another order than the allocations.
cat >/tmp/bps.pools <<EOF
# name allocs fails waits buf_size max min in_use free cached hwm
bb 100 5 0 64 8 2 0 0 0 0
a_pool_name_of_31_characters_xx 300 0 9 64 8 7 0 0 0 0
cc 200 1 0 64 8 4 0 0 0 0
EOF

# Catches a name column too narrow for the longest name: every column
# but the name (left-aligned) must end where the header's does.
check_bufpoolstat_width() {
	sh /root/bufpoolstat -f /tmp/bps.pools -n 1 -d 0.1 >/tmp/bps.out 2>&1 &&
	expect_eq "$(grep -c -e '^NAME ' -e '^[abc][a-z0-9_]* ' /tmp/bps.out)" 4 "table lines" &&
	expect_eq "$(grep -e '^NAME ' -e '^[abc][a-z0-9_]* ' /tmp/bps.out | awk '{
		s = $0; p = 0; e = ""; f = 0
		while (match(s, /[^ ]+/)) {
			p += RSTART + RLENGTH - 1
			s = substr(s, RSTART + RLENGTH)
			if (++f > 1)
				e = e " " p
		}
		print e }' | sort -u | wc -l | tr -d ' ')" 1 "column ends alike in every line" ||
		{ cat /tmp/bps.out; return 1; }
}
ktap_test_result "bufpoolstat: a 31-character name shifts no column" check_bufpoolstat_width

# Catches -s min sorting by a column the table does not show: the MIN
# column (found by its header) must read largest first.
check_bufpoolstat_min() {
	sh /root/bufpoolstat -f /tmp/bps.pools -n 1 -d 0.1 -s min >/tmp/bps.out 2>&1 &&
	expect_eq "$(awk '$1 == "NAME" { for (i = 1; i <= NF; i++) if ($i == "MIN") c = i }
		c && $1 != "NAME" && NF > 10 { printf "%s ", $c }' /tmp/bps.out)" \
		"7 4 2 " "MIN column, -s min" || { cat /tmp/bps.out; return 1; }
}
ktap_test_result "bufpoolstat: -s min sorts by the MIN column shown" check_bufpoolstat_min

ktap_finished
