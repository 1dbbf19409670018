#!/usr/bin/env bash
# Used in the images' build stage to make a root file system without a
# distribution in it (the detector image is FROM scratch):
#
#   scratch-rootfs.sh DIR BIN... [--tools TOOL...]
#
# copies the shared libraries BIN loads, and the dynamic loader, into DIR at
# their paths, plus each owning package's dpkg record (DIR/var/lib/dpkg/
# status.d, as distroless images do, so that scanners see the versions) and
# its copyright file. The caller installs each BIN itself (they are build
# outputs). A TOOL is a packaged program (an absolute path, e.g. /bin/sh):
# it is copied to DIR at that path (the file a symlink names, under the
# link's name: kmod dispatches on argv[0]), with its libraries and its
# package's record.
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
	local f=$1 real alt pkg
	real=$(readlink -f "$f")
	for alt in "$f" "$real" "/usr$f" "/usr$real" "${f#/usr}" "${real#/usr}"; do
		# "pkg:arch: /path" or "pkg1, pkg2: /path"; "diversion by dash
		# from: /bin/sh" lines name no owner
		pkg=$(dpkg-query -S "$alt" 2>/dev/null | grep -v '^diversion ' | head -n 1 | cut -d: -f1 | cut -d, -f1) || true
		if [ -n "$pkg" ]; then
			echo "$pkg"
			return
		fi
	done
	die "no package owns $f"
}

packages() {
	local f
	libs "$@" | while read -r f; do owner "$f"; done | sort -u
}

# record DIR PKG: PKG's dpkg record and copyright file in DIR.
record() {
	local dest=$1 pkg=$2
	mkdir -p "$dest/var/lib/dpkg/status.d"
	dpkg-query -s "$pkg" >"$dest/var/lib/dpkg/status.d/$pkg"
	if [ -f "/usr/share/doc/$pkg/copyright" ]; then
		mkdir -p "$dest/usr/share/doc/$pkg"
		cp -L "/usr/share/doc/$pkg/copyright" "$dest/usr/share/doc/$pkg/"
	fi
}

# tools DIR TOOL...: each packaged program at its path in DIR.
tools() {
	local dest=$1 t
	shift
	for t in "$@"; do
		case "$t" in
		/*) ;;
		*) die "a tool is an absolute path: $t" ;;
		esac
		[ -x "$t" ] || die "not an executable: $t"
		mkdir -p "$dest$(dirname "$t")"
		cp -L "$t" "$dest$t"
		record "$dest" "$(owner "$t")"
	done
}

rootfs() {
	local dest=$1 f
	shift
	mkdir -p "$dest/var/lib/dpkg/status.d"
	libs "$@" | while read -r f; do
		# -L: the file itself, not the soname link
		mkdir -p "$dest$(dirname "$f")"
		cp -L "$f" "$dest$f"
	done
	packages "$@" | while read -r pkg; do record "$dest" "$pkg"; done
}

[ $# -ge 2 ] || die "usage: scratch-rootfs.sh DIR BIN... [--tools TOOL...]"
dir=$1
shift
bins=()
while [ $# -gt 0 ] && [ "$1" != --tools ]; do
	bins+=("$1")
	shift
done
[ ${#bins[@]} -ge 1 ] || die "no BIN given"
[ $# -eq 0 ] || shift # --tools
rootfs "$dir" "${bins[@]}" "$@"
tools "$dir" "$@"
