#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run in the perf guest by scripts/bench: load the benchmark module (it
# runs at load), passing on its parameters, show its progress lines as
# they come, and print its results. Fails if the clock the figures are
# read from was not the TSC from start to end: any other clocksource in
# this guest ticks in milliseconds.
clock=/sys/devices/system/clocksource/clocksource0/current_clocksource
check_clock() {
	case "$(cat $clock)" in
	tsc | tsc-early) return 0 ;;
	esac
	echo "bench-guest: the clocksource is $(cat $clock), not the TSC: figures would be coarse" >&2
	exit 3
}

check_clock
while read -r line; do
	case "$line" in
	*bufpool_bench:*) echo "${line#*bufpool_bench: }" >&2 ;;
	esac
done </proc/kmsg &
reader=$!
rc=0
insmod /root/bufpool_bench.ko "$@" || rc=$?
kill $reader
[ $rc -eq 0 ] || exit $rc
check_clock
echo "== results"
cat /sys/kernel/debug/bufpool_bench/results
rmmod bufpool_bench
