#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# NUMA placement on a kernel with two nodes, each with memory (scripts/check
# boots Debian's 6.1 kernel with numa=fake=2): tests/bufpool_numa.ko checks
# at load that every buffer of a pool on each node, reserve and growth,
# data and header, is on that node, and counts remote frees; this turns its
# "bufpool_numa: ok - ..." lines into KTAP with the kernel's own
# ktap_helpers.sh, copied next to this script. Reads the kernel log only
# after a marker of its own.

. /root/ktap_helpers.sh

# Lines the module prints, whatever it finds (see BN_CHECKS).
checks=10

ktap_print_header
ktap_set_plan $((checks + 1))

# Catches a boot whose two nodes are not there (numa=fake ignored): the
# checks below would then prove nothing about placement.
two_nodes() {
	for nd in 0 1; do
		kb=$(sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' \
			/sys/devices/system/node/node$nd/meminfo 2>/dev/null)
		[ "${kb:-0}" -gt 0 ] || return 1
	done
}
ktap_test_result "two NUMA nodes, each with memory" two_nodes

echo "bufpool_numa.sh: mark" >/dev/kmsg
if insmod /root/bufpool_numa.ko; then
	rmmod bufpool_numa
fi
dmesg | sed -n '/bufpool_numa.sh: mark$/,$p' |
	sed -n 's/.*bufpool_numa: \(\(not \)\{0,1\}ok\) - \(.*\)$/\1 \3/p' >/tmp/numa
got=0
while read -r verdict rest; do
	got=$((got + 1))
	[ $got -le $checks ] || break
	case "$verdict" in
	ok) ktap_test_pass "$rest" ;;
	*) ktap_test_fail "${rest#ok }" ;;
	esac
done </tmp/numa
while [ $got -lt $checks ]; do
	got=$((got + 1))
	ktap_test_fail "check $got: no result from bufpool_numa.ko"
done
ktap_finished
