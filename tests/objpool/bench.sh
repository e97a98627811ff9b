#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run in the perf guest by scripts/objpool-bench: the kernel's
# lib/test_objpool.c on the kernel's objpool (kernel_objpool_test.ko)
# and on bufpool (bufpool_objpool_test.ko over bufpool_objpool.ko), $1
# rounds of each, in turns, the order swapped every round. For every
# case of every run prints
#   objpool-bench: CONTENDER ROUND DURATION_US HITS MISSES NAME
# from test_objpool's summary. Measures only: nothing here passes or
# fails on a figure.
rounds=${1:-3}
clock=/sys/devices/system/clocksource/clocksource0/current_clocksource

check_clock() {
	case "$(cat $clock)" in
	tsc | tsc-early) ;;
	*) echo "objpool-bench: warning: the clocksource is $(cat $clock), not the TSC" ;;
	esac
}

# busybox insmod retries a failed finit_module() with init_module(), and
# test_objpool's init always fails: a write open of the file fails the
# first before anything is loaded, so that each run is one run.
insmod_once() {
	# shellcheck disable=SC2094 # the write open is the point
	insmod "$1" 3>>"$1" 2>/dev/null
}

# One run of $2.ko, reported as contender $1 in round $3.
run() {
	echo "objpool-bench: mark $1 $3" >/dev/kmsg
	insmod_once "/root/$2.ko"
	dmesg | sed -n "/objpool-bench: mark $1 $3\$/,\$p" |
		sed 's/^\[[^]]*\] //' | awk -v who="$1" -v round="$3" '
		/^Summary of testcases:/ { on = 1; next }
		on && !/duration:/ { on = 0 }
		on {
			for (i = 1; i <= NF; i++)
				if ($i == "miss:")
					break
			name = $(i + 2)
			for (j = i + 3; j <= NF; j++)
				name = name " " $j
			d = $2
			sub(/us$/, "", d)
			print "objpool-bench:", who, round, d, $4, $(i + 1), name
		}'
}

check_clock
insmod /root/bufpool_objpool.ko || exit 2
r=1
while [ $r -le "$rounds" ]; do
	if [ $((r % 2)) -eq 1 ]; then
		run objpool kernel_objpool_test $r
		run bufpool bufpool_objpool_test $r
	else
		run bufpool bufpool_objpool_test $r
		run objpool kernel_objpool_test $r
	fi
	r=$((r + 1))
done
check_clock
rmmod bufpool_objpool
