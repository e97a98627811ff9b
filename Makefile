# SPDX-License-Identifier: GPL-2.0
#
# make               build bufpool.ko and the test modules for the running kernel
# make KDIR=DIR      ... against another kernel build directory
# make run           boot the test VM, load bufpool and show its debugfs files
# make check         every test on every test kernel; installs what is missing
# make bench         bufpool against the kernel's own pools on the perf kernel;
#                    BENCH="param=value ..." for the benchmark module
# make torture       the longer torture run at four CPUs on the debug kernel;
#                    TORTURE="param=value ..." for the torture module

KDIR ?= /lib/modules/$(shell uname -r)/build

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

run:
	bash scripts/run

check:
	bash scripts/check

bench:
	bash scripts/bench $(BENCH)

torture:
	bash scripts/torture $(TORTURE)

.PHONY: modules clean run check bench torture
