# SPDX-License-Identifier: GPL-2.0
#
# make               build bufpool.ko and the test modules for the running kernel
# make KDIR=DIR      ... against another kernel build directory
# make run           boot the test VM, load bufpool and show its debugfs files
# make check         every test on every test kernel; installs what is missing

KDIR ?= /lib/modules/$(shell uname -r)/build

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

run:
	bash scripts/run

check:
	bash scripts/check

.PHONY: modules clean run check
