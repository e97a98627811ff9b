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
# An argument ending in ':' says what the packages after it are for
# ("for booting the test kernels:"); the missing ones are listed with
# that reason before anything is installed, since it is done as root.
need_pkgs() {
	local why="for $(basename "$0")" arg list= sudo=
	local missing=() group=()

	# The ':' at the end closes the last group.
	for arg in "$@" :; do
		case "$arg" in
		*:)
			[ ${#group[@]} -eq 0 ] ||
				list="$list  ${group[*]}: $why"$'\n'
			group=()
			why=${arg%:} ;;
		*)
			dpkg-query -W -f='${Status}' "$arg" 2>/dev/null |
				grep -q 'install ok installed' && continue
			group+=("$arg")
			missing+=("$arg") ;;
		esac
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	note "installing ${#missing[@]} missing Debian package(s) with apt-get, as root${sudo:+ (sudo)}:"
	printf '%s' "$list" >&2
	# apt takes its own lock; a second caller waits for it.
	if [ -z "$(find /var/lib/apt/lists -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
		$sudo apt-get update -q >&2 || die "apt-get update failed"
	fi
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		-o DPkg::Lock::Timeout=600 --no-install-recommends \
		"${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

host_pkgs() {
	need_pkgs "for building the test kernels:" make gcc bc bison flex \
		libelf-dev libssl-dev xz-utils perl "$SRC_PKG" \
		"for booting them in QEMU:" qemu-system-x86 busybox-static cpio \
		"for building bufpool against them:" rsync \
		"for the tests (KUnit's parser, sparse, depmod, DKMS, the docs):" \
		python3 sparse kmod dkms python3-docutils
}

pkg_version() {
	dpkg-query -W -f='${Version}' "$1"
}

# The Debian 6.1 ABI a linux-headers metapackage points at: that of
# linux-headers-amd64 (e.g. 6.1.0-56-amd64), or of linux-headers-$1
# (rt-amd64: 6.1.0-56-rt-amd64). Resolved once installed, so the cache
# follows updates.
debian_abi() {
	local flavour=${1:-amd64} re dep

	re="6\.1\.[0-9]*-[0-9]*-$flavour"
	dep=$(apt-cache depends "linux-headers-$flavour" 2>/dev/null |
		sed -n "s/.*Depends: linux-headers-\($re\)\$/\1/p" | head -n1)
	[ -n "$dep" ] || dep=$(ls -d /usr/src/linux-headers-6.1.* 2>/dev/null |
		sed -n "s|.*/linux-headers-\($re\)\$|\1|p" | sort -V | tail -n1)
	[ -n "$dep" ] || die "cannot resolve the Debian 6.1 kernel ABI of linux-headers-$flavour"
	echo "$dep"
}
