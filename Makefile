# SPDX-License-Identifier: GPL-2.0
#
# make               build bufpool.ko and the test modules for the running kernel
# make KDIR=DIR      ... against another kernel build directory
# make run           boot the test VM and run the demo (samples/bufpool_demo.c)
# make check         every test on every test kernel; installs what is missing
# make bench         bufpool against the kernel's own pools on the perf kernel;
#                    BENCH="param=value ..." for the benchmark module

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

.PHONY: modules clean run check bench
