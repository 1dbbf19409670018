#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The BTF of Debian's 6.1 kernel, for test_btfoff's second kernel
# (SENTINEL_BTF_61): offsets hard-coded for one kernel cannot pass against
# both it and the running one.
#
#   test/tools/fetch_btf61.sh [OUT]    OUT: /var/cache/sentinel-ebpf/btf/vmlinux-6.1
#
# Downloads the newest linux-image-6.1.0-N-amd64-unsigned (apt-get download:
# the apt lists must be current; SENTINEL_BTF_61_PKG names another package),
# decompresses its bzImage to the ELF vmlinux as the kernel's
# scripts/extract-vmlinux does (the payload found by its compression magic),
# and keeps an ELF holding only the .BTF section (~5 MB, not 65), which
# libbpf's btf__parse reads. Idempotent: an OUT that already holds .BTF is
# left alone. Needs apt-get, dpkg-deb, xz/gzip/zstd, binutils.
set -euo pipefail

out=${1:-/var/cache/sentinel-ebpf/btf/vmlinux-6.1}

has_btf() {
	[ -s "$1" ] && readelf -S "$1" 2>/dev/null | grep -q '\.BTF\b'
}

if has_btf "$out"; then
	echo "fetch_btf61: $out already there"
	exit 0
fi

pkg=${SENTINEL_BTF_61_PKG:-$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' |
	cut -d' ' -f1 | sort -V | tail -n1)}
if [ -z "$pkg" ]; then
	echo "fetch_btf61: no linux-image-6.1.0-*-amd64-unsigned in the apt lists (apt-get update? a Debian 12 source?)" >&2
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# (apt-get download as root warns that it runs unsandboxed: harmless)
(cd "$work" && apt-get download -q "$pkg")
dpkg-deb -x "$work"/*.deb "$work/root"
vmlinuz=$(find "$work/root/boot" -name 'vmlinuz-*' | head -n1)
[ -n "$vmlinuz" ] || { echo "fetch_btf61: no /boot/vmlinuz-* in $pkg" >&2; exit 1; }

# extract-vmlinux: at each offset where a compressed stream's magic appears,
# try to decompress; the first output that is an ELF file is the vmlinux.
# Decompressors complain about the bytes after the stream: ignored.
try() { # magic(PCRE) command...
	local magic=$1 off
	shift
	for off in $(LC_ALL=C grep -obUaP "$magic" "$vmlinuz" | cut -d: -f1); do
		tail -c+$((off + 1)) "$vmlinuz" | "$@" >"$work/vmlinux" 2>/dev/null || true
		if readelf -h "$work/vmlinux" >/dev/null 2>&1; then
			return 0
		fi
	done
	return 1
}
try '\xfd7zXZ\x00' xz -dc || try '\x1f\x8b\x08' gzip -dc || try '\x28\xb5\x2f\xfd' zstd -dc ||
	try 'BZh' bzip2 -dc || try '\x5d\x00\x00\x00' xz -F lzma -dc || {
	echo "fetch_btf61: no compressed ELF found in $vmlinuz" >&2
	exit 1
}

mkdir -p "$(dirname "$out")"
# objcopy warns about the now-empty loadable segments: harmless
objcopy -O elf64-x86-64 -j .BTF "$work/vmlinux" "$out.tmp" 2>/dev/null
has_btf "$out.tmp" || { echo "fetch_btf61: $pkg's vmlinux has no .BTF section" >&2; rm -f "$out.tmp"; exit 1; }
mv -f "$out.tmp" "$out"
echo "fetch_btf61: $out from $pkg ($(stat -c %s "$out") bytes)"
