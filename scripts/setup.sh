#!/usr/bin/env bash
# Prepare a Debian 12 machine to build, test and run sentinel-ebpf.
# Idempotent: safe to run again; it only installs or links what is missing.
#
#   - installs the Debian packages for the build, the tests and the run time;
#   - makes libbcc find kernel headers (see link_kernel_headers below);
#   - mounts tracefs and debugfs when they are missing.
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }
# shellcheck source=apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
warn() { printf 'setup: WARNING: %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { log "must run as root (installs packages, mounts tracefs)"; exit 1; }

PACKAGES=(
	# build
	build-essential cmake pkg-config
	# mandated libraries
	libbpfcc-dev libyaml-dev libcivetweb-dev
	# struct offsets from the running kernel's BTF (agent/btfoff.h)
	libbpf-dev
	libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev libgrpc-dev
	# small well-kept helpers
	uuid-dev uthash-dev libjson-c-dev
	# tests and checks
	libcmocka-dev jq clang-format cppcheck shellcheck bpftool iproute2 curl valgrind bc openssl
	pahole # an independent reading of BTF offsets for test_btfoff
	liburing-dev # io_uring cases of the evasion suite (test/tools/evade.c)
	xfsprogs # mkfs.xfs: the evasion suite's reflink cases on an XFS loop image
	strace git tar # the oracle (test/integration/test_oracle.sh) and its workload
	clang libclang-rt-dev # libFuzzer (test/fuzz): its runtime is only recommended by clang
	# a detector written for the original Python contract (compat test)
	python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc
	# a kernel headers tree libbcc can fall back on
	linux-headers-amd64
)

install_packages() {
	apt_install_missing "${PACKAGES[@]}"
}

# libbcc looks for /lib/modules/$(uname -r)/build (and .../source). When the
# running kernel ships no headers (as on these VMs), link the distro's generic
# headers there. The probe takes every struct offset it walks from the
# running kernel's BTF (agent/btfoff.c), never from these headers, so an
# older headers tree is safe for it.
link_kernel_headers() {
	local rel moddir build common target
	rel=$(uname -r)
	moddir=/lib/modules/$rel
	if [ -e "$moddir/build/include/generated/autoconf.h" ]; then
		target=$(readlink -f "$moddir/build")
		case "$target" in
		*"$rel"*) log "kernel headers for $rel at $moddir/build" ;;
		*) warn "kernel $rel uses generic headers $target (linked earlier; fine: struct offsets come from BTF)" ;;
		esac
		return
	fi
	build=$(find /usr/src -maxdepth 1 -name 'linux-headers-*-amd64' | sort -V | tail -n 1)
	common=$(find /usr/src -maxdepth 1 -name 'linux-headers-*-common' | sort -V | tail -n 1)
	if [ -z "$build" ] || [ -z "$common" ]; then
		warn "no kernel headers for $rel and no linux-headers-amd64 tree under /usr/src"
		return 1
	fi
	mkdir -p "$moddir"
	ln -sfn "$build" "$moddir/build"
	ln -sfn "$common" "$moddir/source"
	warn "no headers for the running kernel $rel; linked the generic tree"
	warn "  $moddir/build  -> $build"
	warn "  $moddir/source -> $common"
	warn "the probe takes struct offsets from BTF, not headers, so this is safe for sentinel-ebpf"
}

mount_fs() {
	local type=$1 dir=$2
	if mountpoint -q "$dir"; then
		return
	fi
	mkdir -p "$dir"
	mount -t "$type" nodev "$dir"
	log "mounted $type at $dir"
}

install_packages
link_kernel_headers
mount_fs tracefs /sys/kernel/tracing
mount_fs debugfs /sys/kernel/debug
log "ready"
