# SPDX-License-Identifier: GPL-2.0
# Shared by the scripts in this directory: where things live, and the
# packages every script may need. Sourced, never run.

BUFPOOL_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUFPOOL_CACHE=${BUFPOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bufpool}
SRC_PKG=linux-source-6.12

die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

note() {
	echo "$(basename "$0"): $*" >&2
}

# Install the Debian packages named on the command line that are missing.
need_pkgs() {
	local missing=() p

	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	note "installing ${missing[*]}"
	# apt takes its own lock; a second caller waits for it.
	if [ -z "$(find /var/lib/apt/lists -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
		apt-get update -q >&2 || die "apt-get update failed"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		-o DPkg::Lock::Timeout=600 --no-install-recommends \
		"${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

host_pkgs() {
	need_pkgs make gcc bc bison flex libelf-dev libssl-dev cpio kmod \
		xz-utils python3 perl rsync qemu-system-x86 busybox-static \
		dkms python3-docutils sparse "$SRC_PKG"
}

pkg_version() {
	dpkg-query -W -f='${Version}' "$1"
}

# The Debian 6.1 ABI the linux-headers-amd64 metapackage points at, e.g.
# 6.1.0-56-amd64. Resolved once installed, so the cache follows updates.
debian_abi() {
	local dep

	dep=$(apt-cache depends linux-headers-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-headers-\(6\.1\.[0-9]*-[0-9]*-amd64\)$/\1/p' | head -n1)
	[ -n "$dep" ] || dep=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null |
		sed 's|.*/linux-headers-||' | sort -V | tail -n1)
	[ -n "$dep" ] || die "cannot resolve the Debian 6.1 kernel ABI"
	echo "$dep"
}
