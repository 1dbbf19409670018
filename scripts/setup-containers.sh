#!/usr/bin/env bash
# Prepare a Debian 12 machine to build and run sentinel-ebpf's images with
# podman (no Docker engine needed). Idempotent: safe to run again.
#
#   - installs podman, buildah, runc, debootstrap and their helpers;
#   - writes the engine settings these VMs need (runc, cgroupfs, ulimits);
#   - makes a local debian:bookworm-slim base image with debootstrap when
#     the image store has none (registries other than Debian's apt mirror are
#     unreachable here), caching the root file system tarball.
#
# Environment:
#   SENTINEL_BASE_CACHE  where the base tarball is cached
#                        (default /var/cache/sentinel-ebpf)
#   DEBIAN_MIRROR        debootstrap mirror (default http://deb.debian.org/debian)
set -euo pipefail

log() { printf 'setup-containers: %s\n' "$*" >&2; }
# shellcheck source=apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

[ "$(id -u)" -eq 0 ] || { log "must run as root (installs packages, writes /etc/containers)"; exit 1; }

BASE_IMAGE=debian:bookworm-slim
CACHE_DIR=${SENTINEL_BASE_CACHE:-/var/cache/sentinel-ebpf}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

PACKAGES=(
	# engine and image builder (podman build uses buildah's library)
	podman buildah
	# OCI runtime: crun fails on this machine's hybrid cgroup v1/v2 layout
	runc conmon
	# rootless helpers and the overlay driver podman expects to find
	uidmap fuse-overlayfs slirp4netns
	# container networks (build steps and pod networks) and their DNS
	netavark aardvark-dns iptables
	# the base image
	debootstrap
)

install_packages() {
	apt_install_missing "${PACKAGES[@]}"
}

# write_if_changed FILE: stdin becomes FILE unless FILE already holds it.
write_if_changed() {
	local file=$1 tmp
	tmp=$(mktemp)
	cat >"$tmp"
	if [ -f "$file" ] && cmp -s "$tmp" "$file"; then
		rm -f "$tmp"
		return
	fi
	mkdir -p "$(dirname "$file")"
	if [ -f "$file" ] && ! grep -q '^# managed by sentinel-ebpf' "$file"; then
		cp -p "$file" "$file.orig"
		log "kept the previous $file as $file.orig"
	fi
	install -m 0644 "$tmp" "$file"
	rm -f "$tmp"
	log "wrote $file"
}

configure_engine() {
	# Default ulimits: podman's own defaults (nofile 1048576) exceed this
	# machine's hard limits and make every container fail to start.
	write_if_changed /etc/containers/containers.conf <<-'EOF'
	# managed by sentinel-ebpf scripts/setup-containers.sh
	[containers]
	default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
	log_driver = "k8s-file"

	[engine]
	runtime = "runc"
	cgroup_manager = "cgroupfs"
	events_logger = "file"

	[network]
	network_backend = "netavark"
	EOF
	write_if_changed /etc/containers/storage.conf <<-'EOF'
	# managed by sentinel-ebpf scripts/setup-containers.sh
	[storage]
	driver = "overlay"
	runroot = "/run/containers/storage"
	graphroot = "/var/lib/containers/storage"
	EOF
}

# remove_rootfs DIR: a debootstrap tree, even one a failed run left with
# /proc or /sys mounted in it.
remove_rootfs() {
	umount -R "$1/proc" "$1/sys" 2>/dev/null || true
	rm -rf --one-file-system "$1"
}

# A debian:bookworm-slim equivalent: debootstrap's minbase variant, less the
# documentation, with the same apt sources the official image has.
make_base_image() {
	local tarball=$CACHE_DIR/debian-bookworm-minbase.tar dir
	if podman image exists "$BASE_IMAGE"; then
		log "base image $BASE_IMAGE present"
		return
	fi
	if [ ! -s "$tarball" ]; then
		log "debootstrap bookworm (minbase) from $MIRROR, about a minute"
		dir=$(mktemp -d /var/tmp/sentinel-rootfs.XXXXXX)
		# shellcheck disable=SC2064 # expand now: $dir is local
		trap "remove_rootfs '$dir'" EXIT
		debootstrap --variant=minbase bookworm "$dir" "$MIRROR" >/dev/null
		chroot "$dir" apt-get clean
		# as the official slim image: no documentation but the copyright
		# files, now and for the packages installed on top of it
		printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
			'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
			'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/lintian/*' \
			>"$dir/etc/dpkg/dpkg.cfg.d/slim"
		find "$dir/usr/share/doc" -type f ! -name copyright -delete
		rm -rf "$dir"/var/lib/apt/lists/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* \
			"$dir"/usr/share/locale/* "$dir"/var/cache/apt/*.bin "$dir"/var/log/*.log
		printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
			"$MIRROR" "$MIRROR" >"$dir/etc/apt/sources.list"
		mkdir -p "$CACHE_DIR"
		tar -C "$dir" --numeric-owner -cf "$tarball.tmp" .
		mv "$tarball.tmp" "$tarball"
		remove_rootfs "$dir"
		trap - EXIT
	else
		log "using cached $tarball"
	fi
	podman import --quiet --change 'CMD ["bash"]' "$tarball" "$BASE_IMAGE" >/dev/null
	log "imported $BASE_IMAGE"
}

install_packages
configure_engine
make_base_image
log "ready ($(podman --version), $(runc --version | sed -n 1p))"
