#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run in the perf guest by scripts/bench: load the benchmark module (it
# runs at load), passing on its parameters, show its progress lines as
# they come, and print its results.
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
echo "== results"
cat /sys/kernel/debug/bufpool_bench/results
rmmod bufpool_bench
