#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run in the test guest (busybox sh: the guest has no bash): the
# fault-injection series (bufpool_fault_kunit.ko), then the torture
# (bufpool_torture.ko) as it is and again with 10% of the workers'
# allocations failing (bufpool's fault point and failslab on the pools'
# slab caches). Prints one KTAP document of three suites and the count
# of injected failures survived; exits 1 if any case failed, 2 if
# something could not run. Arguments are passed to both torture runs as
# module parameters (iterations=N seed=N ...). TORTURE_ONLY=1 skips the
# fault-injection parts.
DBG=/sys/kernel/debug
BPF=$DBG/bufpool/fail
SLAB=$DBG/failslab
TIMES=1000000
rc=0

# Fault attributes quiet and at rate $2 for tasks that ask for it ($1).
fault_attr() {
	[ -d "$1" ] || return 1
	echo 0 >"$1/probability"
	echo 0 >"$1/verbose"
	echo 1 >"$1/interval"
	echo 0 >"$1/space"
	echo Y >"$1/task-filter"
	echo $TIMES >"$1/times"
	echo "$2" >"$1/probability"
}

# Failures injected through $1 since fault_attr, then off again.
fault_count() {
	[ -d "$1" ] || { echo 0; return; }
	echo 0 >"$1/probability"
	echo $((TIMES - $(cat "$1/times")))
}

# A suite named $1 from the lines of a torture report on stdin (1..N,
# ok/not ok, # figures): its cases, indented.
suite() {
	echo "    KTAP version 1"
	echo "    # Subtest: $1"
	sed 's/^/    /'
}

# bufpool errors a run printed that it should not have: anything but
# the "out of memory" of a create that an injected failure failed.
bufpool_errors() {
	dmesg | tail -n +$(($1 + 1)) | grep 'bufpool: ' | grep -v 'out of memory'
}

# What the torture found, for the reader (its report counts it already).
torture_errors() {
	dmesg | tail -n +$(($1 + 1)) | grep 'bufpool_torture: ' |
		grep -v -E 'seed|PASS|FAIL' | sed 's/^/    # /'
}

# One torture run, named $1, with module parameters $2...: its suite.
torture() {
	local name=$1 lines report

	shift
	lines=$(dmesg | wc -l)
	if ! insmod /root/bufpool_torture.ko "$@"; then
		echo "    # $name: bufpool_torture.ko did not load"
		return 2
	fi
	report=$(cat $DBG/bufpool_torture/report)
	rmmod bufpool_torture
	echo "$report" | suite "$name"
	torture_errors "$lines"
	if bufpool_errors "$lines" | sed 's/^/    # /' | grep .; then
		echo "    # $name: bufpool reported errors (above)"
		return 1
	fi
	echo "$report" | grep -q '^not ok' && return 1
	return 0
}

result() {
	if [ "$1" -eq 0 ]; then
		echo "ok $2 $3"
	else
		echo "not ok $2 $3"
		[ "$1" -gt "$rc" ] && rc=$1
	fi
}

echo "KTAP version 1"
if [ -n "$TORTURE_ONLY" ]; then
	echo "1..1"
	torture bufpool_torture "$@"
	result $? 1 bufpool_torture
	exit $rc
fi
echo "1..3"

# 1. Every allocation failed in turn. failslab must see GFP_KERNEL
# allocations too, and nothing is failed but through fail-nth. Its cache
# filter keeps the walk to what bufpool allocates beside its fault point
# (headers, XArray nodes, debugfs's dentries and inodes) and out of
# kmalloc: 6.12's sysfs_slab_add() leaks the kobject's name when
# kobject_init_and_add() fails, a kernel bug kmemleak would pin on us.
if [ -d $SLAB ]; then
	echo N >$SLAB/ignore-gfp-wait
	echo 0 >$SLAB/verbose
	echo Y >$SLAB/cache-filter
	for c in bufpool_buf radix_tree_node dentry debugfs_inode_cache; do
		echo 1 2>/dev/null >/sys/kernel/slab/$c/failslab &&
			echo "# fault series: failslab on $c"
	done
fi
if insmod /root/bufpool_fault_kunit.ko; then
	r=$DBG/kunit/bufpool_fault/results
	sed -e '1,2d' -e '$s/^\(\(not \)\{0,1\}ok\) 1 /\1 1 /' $r
	echo "# fault series: $(grep -o '[0-9]* injected failures survived' $r |
		awk '{ s += $1 } END { print s }') injected failures survived"
	tail -n1 $r | grep -q '^ok' || [ $rc -gt 1 ] || rc=1
	rmmod bufpool_fault_kunit
else
	echo "not ok 1 bufpool_fault"
	rc=2
fi

# 2. The torture as it is.
torture bufpool_torture "$@"
result $? 2 bufpool_torture

# 3. Again, with 10% of the workers' allocations failing: bufpool's
# fault point, and failslab on the caches the module flags.
fault_attr $BPF 10
fault_attr $SLAB 10
torture bufpool_torture_faults faults=1 "$@"
r=$?
point=$(fault_count $BPF)
slab=$(fault_count $SLAB)
[ "$point" -gt 0 ] || { echo "# torture with faults: nothing was injected"; r=1; }
[ $r -eq 0 ] && survived=survived || survived="injected, NOT all survived"
echo "# torture with faults: $((point + slab)) failures $survived ($point at bufpool's fault point, $slab by failslab)"
result $r 3 bufpool_torture_faults
exit $rc
