# SPDX-License-Identifier: GPL-2.0
#
# make               build bufpool.ko (alone) for the running kernel
# make KDIR=DIR      ... against another kernel build directory
# make BUFPOOL_TESTS=y  ... and the test, benchmark and demo modules
#                    (scripts/build does this for the targets below)
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

modules: kdir
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean: kdir
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# Without a kernel build directory the kernel's make stops with a bare
# "No such file or directory": say what is missing and how to get it.
kdir:
	@test -f $(KDIR)/Makefile || { \
	echo "bufpool: no kernel build directory at $(KDIR)" >&2; \
	echo "  Install the headers of the running kernel: on Debian and Ubuntu," >&2; \
	echo "  apt-get install linux-headers-$$(uname -r) (Fedora: kernel-devel-$$(uname -r))." >&2; \
	echo "  Or build against another kernel's: make KDIR=/path/to/its/build/directory" >&2; \
	exit 1; }

# Rebuilt without BUFPOOL_TESTS, should the tree have been built with
# it, so that only bufpool.ko is installed.
install: kdir
	$(MAKE) -C $(KDIR) M=$(CURDIR) BUFPOOL_TESTS= modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) BUFPOOL_TESTS= INSTALL_MOD_DIR=updates \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) DEPMOD=true modules_install
	release=$$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h) && \
	depmod $(if $(DESTDIR),-b $(DESTDIR)) $$release && \
	install -D -m 0644 include/linux/bufpool.h \
		$(DESTDIR)$(PREFIX)/include/bufpool/linux/bufpool.h && \
	install -D -m 0644 include/linux/bufpool_stats.h \
		$(DESTDIR)$(PREFIX)/include/bufpool/linux/bufpool_stats.h && \
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

.PHONY: modules clean kdir install version run check bench torture
