#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run in the test guest: the kernel's own objpool test, lib/test_objpool.c,
# on bufpool through the objpool API of tests/objpool/ (see Kbuild), with
# bufpool_objpool.ko, bufpool_objpool_test.ko and the kernel's
# ktap_helpers.sh copied next to this script. Prints KTAP: one case per
# test_objpool case, and what must hold once its module is gone.
#
# test_objpool asserts nothing itself but its WARN_ON()s (the guest's
# verdict counts those): it runs every case at load, prints a summary of
# each and fails its init with -EAGAIN, so that it never stays loaded. A
# case passes here if it ran (its summary printed, for a nonzero time),
# completed operations (in its hrtimer too, for the cases that have one),
# and the memory test_objpool counts came back:
# at once for the synchronous cases, whose pools have no release
# callback; for the asynchronous ones the callback that frees test_objpool's
# context comes from bufpool later than objpool calls it, so it may not
# have run by the time the case reports, and is counted afterwards.
#
# Reads the kernel log only after a marker of its own. Exits 1 if a case
# failed or the test could not run.

. /root/ktap_helpers.sh

DBG=/sys/kernel/debug
SHIM=$DBG/bufpool_objpool
# How long bufpool may take to free a pool once its last buffer is home:
# a grace period and a work item, a few hundred milliseconds here.
SETTLE=5

echo "objpool.sh: mark" >/dev/kmsg
log_since_mark() {
	dmesg | sed -n '/objpool\.sh: mark$/,$p'
}

# busybox insmod tries finit_module(), and if that fails for any reason,
# as test_objpool's init always does, init_module() with the same file:
# the test would run twice. A write open of the file fails the first
# (-ETXTBSY) before anything is loaded.
insmod_once() {
	# shellcheck disable=SC2094 # the write open is the point
	insmod "$1" 3>>"$1"
}

ktap_print_header
insmod /root/bufpool_objpool.ko || ktap_exit_fail_msg "bufpool_objpool.ko did not load"
insmod_once /root/bufpool_objpool_test.ko 2>/tmp/insmod.err
insmod_rc=$?
sed "s/^/# /" /tmp/insmod.err

# One line per case from test_objpool's reports:
# name|duration_us|hits|miss|reported|irq_hits|kmalloc_alloc|kmalloc_free|vmalloc_left
log_since_mark | sed 's/^\[[^]]*\] //' >/tmp/log
awk '
function after(key,   i) {
	for (i = 1; i < NF; i++)
		if ($i == key)
			return $(i + 1)
	return ""
}
function rest(from,   i, s) {
	s = $from
	for (i = from + 1; i <= NF; i++)
		s = s " " $i
	return s
}
/^Testing summary for / { name = substr($0, 21); reported[name] = 1 }
/^[ \t]*irq:/ { irq[name] += after("irq:") }
/^memory allocation summary for / { name = substr($0, 31) }
/^ *kmalloc:/ { ka[name] = after("kmalloc:"); kf[name] = $4 }
/^ *vmalloc:/ { vl[name] = $6 }
/^Summary of testcases:/ { final = 1; next }
final && !/duration:/ { final = 0 }
final && /duration:/ {
	for (i = 1; i <= NF; i++)
		if ($i == "miss:")
			break
	n = rest(i + 2)
	order[++cases] = n
	dur[n] = after("duration:")
	sub(/us$/, "", dur[n])
	hits[n] = after("hits:")
	miss[n] = after("miss:")
}
END {
	for (c = 1; c <= cases; c++) {
		n = order[c]
		printf "%s|%s|%s|%s|%s|%s|%s|%s|%s\n", n, dur[n], hits[n],
			miss[n], reported[n] + 0, irq[n] + 0, ka[n], kf[n], vl[n]
	}
}' /tmp/log >/tmp/cases

ncases=$(wc -l </tmp/cases)
[ "$ncases" -gt 0 ] || {
	tail -n 40 /tmp/log | sed 's/^/# /'
	ktap_exit_fail_msg "test_objpool printed no summary of its cases"
}
ktap_set_plan $((ncases + 4))

# busybox insmod says only the error's text.
if grep -q 'Resource temporarily unavailable' /tmp/insmod.err; then
	ktap_test_pass "test_objpool's init ends as it always does, with -EAGAIN"
else
	ktap_print_msg "insmod exited $insmod_rc: $(cat /tmp/insmod.err)"
	ktap_test_fail "test_objpool's init ends as it always does, with -EAGAIN"
fi

nasync=0
while IFS='|' read -r name dur hits miss reported irq kalloc kfree vleft; do
	ktap_print_msg "$name: $hits hits ($irq from the hrtimer), $miss misses in ${dur}us; kmalloc $kalloc - $kfree, vmalloc left $vleft"
	bad=0
	# Catches pops that never succeed in the hrtimer (hard IRQ).
	case "$name" in
	*hrtimer*) [ "$irq" -gt 0 ] || bad=1 ;;
	esac
	case "$name" in
	async*)
		nasync=$((nasync + 1))
		# Freed by the release callback: now, or once bufpool calls it.
		[ "$kfree" = "$kalloc" ] || [ "$kfree" = 0 ] || bad=1
		;;
	*)
		[ "$kfree" = "$kalloc" ] || bad=1
		;;
	esac
	if [ "$reported" = 1 ] && [ "${dur:-0}" -gt 0 ] && [ "${hits:-0}" -gt 0 ] &&
		[ -n "$kalloc" ] && [ $bad -eq 0 ] && [ "$vleft" = 0 ]; then
		ktap_test_pass "$name"
	else
		ktap_test_fail "$name"
	fi
done </tmp/cases

# The test module waited, in the shim's notifier, for every release
# callback queued: by now each has run, and each frees a context.
made=$(cat $SHIM/pools)
queued=$(cat $SHIM/fini_with_release)
released=$(cat $SHIM/released)
ktap_print_msg "shim: $made pools made, $queued destroyed with a release callback, $released callbacks run"
if [ "$made" -eq "$ncases" ] && [ "$queued" -eq "$nasync" ] &&
	[ "$released" -eq "$queued" ]; then
	ktap_test_pass "every asynchronous pool's release callback ran"
else
	ktap_test_fail "every asynchronous pool's release callback ran"
fi

# Catches a pool that bufpool_destroy_async() never frees, with or
# without a release callback: the test module is gone, and so are all
# of its objects.
waited=0
while grep -q '^objpool-' $DBG/bufpool/pools && [ $waited -lt $SETTLE ]; do
	sleep 1
	waited=$((waited + 1))
done
if grep -q '^objpool-' $DBG/bufpool/pools; then
	ktap_print_msg "${waited}s after test_objpool's module went, /sys/kernel/debug/bufpool/pools still lists:"
	grep -e '^# name' -e '^objpool-' $DBG/bufpool/pools | sed 's/^/#   /'
	ktap_test_fail "no pool of test_objpool's is left ${SETTLE}s after its module is gone"
else
	ktap_test_pass "no pool of test_objpool's is left ${SETTLE}s after its module is gone"
fi

# bufpool says what it will not do (a put of a buffer nobody holds, a
# pool destroyed twice) and goes on: the verdict would not see it.
log_since_mark | grep -e 'bufpool: ' -e 'bufpool_objpool: ' >/tmp/errors
if [ -s /tmp/errors ]; then
	sed 's/^/# /' /tmp/errors
	ktap_test_fail "bufpool and the shim reported nothing"
else
	ktap_test_pass "bufpool and the shim reported nothing"
fi

rmmod bufpool_objpool
ktap_finished
