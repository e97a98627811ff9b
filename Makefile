# SPDX-License-Identifier: GPL-2.0
#
# make               build bufpool.ko and the test modules for the running kernel
# make KDIR=DIR      ... against another kernel build directory
# make run           boot the test VM and run the demo (samples/bufpool_demo.c)
# make check         every test on every test kernel; installs what is missing
# make bench         bufpool against the kernel's own pools on the perf kernel;
#                    BENCH="param=value ..." for the benchmark module
# make install       bufpool.ko into /lib/modules/RELEASE/updates (then
#                    depmod), and for client builds the public header into
#                    $(PREFIX)/include/bufpool/linux/ and Module.symvers into
#                    $(PREFIX)/lib/bufpool/RELEASE/; DESTDIR= stages it all
# make torture       the longer torture run at four CPUs on the debug kernel;
#                    TORTURE="param=value ..." for the torture module

KDIR ?= /lib/modules/$(shell uname -r)/build
PREFIX ?= /usr/local
VERSION := $(file <VERSION)

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# Rebuilt without the test modules, so that they are not installed.
install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) BUFPOOL_TESTS=n modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) BUFPOOL_TESTS=n INSTALL_MOD_DIR=updates \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) DEPMOD=true modules_install
	release=$$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h) && \
	depmod $(if $(DESTDIR),-b $(DESTDIR)) $$release && \
	install -D -m 0644 include/linux/bufpool.h \
		$(DESTDIR)$(PREFIX)/include/bufpool/linux/bufpool.h && \
	install -D -m 0644 Module.symvers \
		$(DESTDIR)$(PREFIX)/lib/bufpool/$$release/Module.symvers

version:
	@echo $(VERSION)

run:
	bash scripts/run

check:
	bash scripts/check

bench:
	bash scripts/bench $(BENCH)

torture:
	bash scripts/torture $(TORTURE)

.PHONY: modules clean install version run check bench torture
