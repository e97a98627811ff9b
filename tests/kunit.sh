#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run in the test guest: load each KUnit module given (default: every
# /root/bufpool*_kunit.ko), which runs its suites at load time, and print
# their debugfs results as one KTAP document. Exits 1 if any suite failed.
mods=${*:-$(ls /root/bufpool*_kunit.ko)}
# bufpool_device_kunit charges accounted pools to a memory cgroup of its
# own, /bufpool-kunit; without cgroup v2 and its memory controller those
# cases skip.
cg=/sys/fs/cgroup
if [ -d $cg ] && { grep -q " $cg cgroup2 " /proc/mounts ||
	mount -t cgroup2 none $cg 2>/dev/null; }; then
	echo +memory >$cg/cgroup.subtree_control 2>/dev/null
	mkdir -p $cg/bufpool-kunit 2>/dev/null
fi
for m in $mods; do
	insmod "$m" || exit 2
done
dir=/sys/kernel/debug/kunit
suites=$(ls $dir)
n=0
for s in $suites; do
	n=$((n + 1))
done
if [ $n -eq 0 ]; then
	echo "kunit.sh: no KUnit suite ran (is KUnit enabled?)" >&2
	exit 2
fi
echo "KTAP version 1"
echo "1..$n"
i=0
rc=0
for s in $suites; do
	i=$((i + 1))
	# Each results file is a document of one suite: drop its header and
	# renumber its closing line.
	sed -e '1,2d' -e '$s/^\(\(not \)\{0,1\}ok\) 1 /\1 '$i' /' $dir/$s/results
	tail -n1 $dir/$s/results | grep -q '^ok' || rc=1
done
for m in $mods; do
	rmmod "$(basename "$m" .ko)"
done
rmdir $cg/bufpool-kunit 2>/dev/null
exit $rc
