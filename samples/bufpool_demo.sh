#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run in the test guest (busybox sh) by scripts/run and scripts/check:
# loads /root/bufpool_demo.ko with the module parameters given, shows
# /sys/kernel/debug/bufpool/pools halfway through each of its two runs,
# prints the demo's table from the kernel log and unloads the demo.
# Exits non-zero if the demo failed to load or to unload.
set -eu
set -o pipefail

POOLS=/sys/kernel/debug/bufpool/pools
PARAMS=/sys/module/bufpool_demo/parameters

# Wait until pool $1 exists (or the demo is done), then show the pools
# halfway through the run.
snapshot() {
	while ! grep -q "^$1 " $POOLS; do
		kill -0 "$demo" 2>/dev/null || return 0
		usleep 50000
	done
	usleep $(($(cat $PARAMS/duration_ms) * 500))
	echo "== $1 running: $POOLS"
	cat $POOLS
}

# Mark the log rather than clear it: the guest's verdict reads it all.
echo "bufpool_demo.sh: start" >/dev/kmsg
insmod /root/bufpool_demo.ko "$@" &
demo=$!
snapshot demo-netrx
snapshot demo-shared
rc=0
wait $demo || rc=$?
echo "== the demo's table"
dmesg | sed -n '/bufpool_demo.sh: start$/,$p' | sed -n 's/^.*bufpool_demo: //p'
[ $rc -eq 0 ] || exit $rc
rmmod bufpool_demo
echo "== bufpool_demo unloaded; pools left: $(($(wc -l <$POOLS) - 1))"
