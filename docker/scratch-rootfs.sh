#!/usr/bin/env bash
# Used in the images' build stage to make a root file system without a
# distribution in it (the detector image is FROM scratch):
#
#   scratch-rootfs.sh DIR BIN...
#
# copies the shared libraries BIN loads, and the dynamic loader, into DIR at
# their paths, plus each owning package's dpkg record (DIR/var/lib/dpkg/
# status.d, as distroless images do, so that scanners see the versions) and
# its copyright file.
set -euo pipefail

die() {
	printf 'scratch-rootfs: %s\n' "$*" >&2
	exit 1
}

# libs BIN...: absolute paths of every shared object the binaries load,
# the dynamic loader included.
libs() {
	local bin
	for bin in "$@"; do
		[ -x "$bin" ] || die "not an executable: $bin"
		if ldd "$bin" | grep -q 'not found'; then
			ldd "$bin" >&2
			die "$bin has unresolved libraries"
		fi
		# "libx.so.1 => /lib/.../libx.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
		ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
	done | sort -u
}

# owner FILE: the package that owns FILE. Debian 12 is half-way through
# merging /lib into /usr/lib: dpkg may know the file under either name.
owner() {
	local f=$1 real alt
	real=$(readlink -f "$f")
	for alt in "$f" "$real" "/usr$f" "/usr$real" "${f#/usr}" "${real#/usr}"; do
		if dpkg-query -S "$alt" >/dev/null 2>&1; then
			# "pkg:arch: /path" or "pkg1, pkg2: /path"
			dpkg-query -S "$alt" | head -n 1 | cut -d: -f1 | cut -d, -f1
			return
		fi
	done
	die "no package owns $f"
}

packages() {
	local f
	libs "$@" | while read -r f; do owner "$f"; done | sort -u
}

rootfs() {
	local dest=$1 f pkg
	shift
	mkdir -p "$dest/var/lib/dpkg/status.d"
	libs "$@" | while read -r f; do
		# -L: the file itself, not the soname link
		mkdir -p "$dest$(dirname "$f")"
		cp -L "$f" "$dest$f"
	done
	packages "$@" | while read -r pkg; do
		dpkg-query -s "$pkg" >"$dest/var/lib/dpkg/status.d/$pkg"
		if [ -f "/usr/share/doc/$pkg/copyright" ]; then
			mkdir -p "$dest/usr/share/doc/$pkg"
			cp -L "/usr/share/doc/$pkg/copyright" "$dest/usr/share/doc/$pkg/"
		fi
	done
}

[ $# -ge 2 ] || die "usage: scratch-rootfs.sh DIR BIN..."
rootfs "$@"
