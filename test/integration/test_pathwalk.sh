#!/usr/bin/env bash
# The in-kernel path walk (probes/pathwalk.h) on real BPF, against what the
# kernel itself says. sentinel-pathwalk-probe walks the struct file of every
# write(2) of one workload process; for each write the decoded walk-1 path
# (via) must be readlink /proc/PID/fd/N read from the host (plus
# " (deleted)" when flagged unlinked), dev:ino what `stat -L` says of that
# link, the mount namespace the inode of /proc/PID/ns/mnt, and the in-root
# path what readlink says inside the process's root. The name rules match
# (host) is the same path, except for a file used through a mount showing
# a subtree of its filesystem (a bind mount): then it is the file's name at
# its origin, compared with the path the test built. Also compared with
# the literal path the test built, so a readlink that changed under us
# cannot hide a wrong walk.
#
# Scenarios: a symlinked directory, /proc/self/root/..., a bind mount,
# /dev/null (a mount crossing), a pipe (no path: escaped), a file renamed
# and one unlinked after open, one moved out of its bind mount's root, 40
# nested directories (exact), a path deeper than the walk's bound and ones
# longer than its 4096 bytes (flagged truncated, leaf part exact), one of
# exactly 4096 bytes (whole); in a new mount namespace a tmpfs over a
# directory (same name, other dev); in a chroot, a file inside and one
# outside the new root. Bind mounts (each named at its origin): a bind of a
# subdirectory, a bind of a directory inside a bind, a file bound over
# another, a tmpfs inside a recursive bind, a bind of a tmpfs's
# subdirectory (its origin found among the tmpfs's mounts), and a tmpfs
# mounted whole (a control: no second name); in a new mount namespace, a
# watched directory bound into an unwatched place, an unwatched one bound
# over a watched path (named as the unwatched file it is), a bind of a
# tmpfs mounted only there (origin in that namespace), and one whose
# filesystem is mounted nowhere else (no origin: readlink's name).
#
# --bench: the cost of one walk of a depth-6 path, from the kernel's own
# accounting (kernel.bpf_stats_enabled=1, bpftool prog show run_time_ns and
# run_cnt), the probe with the walk against the same probe with it compiled
# out, in 5 interleaved rounds of N writes (BENCH_WRITES, 200000); the same
# file written plainly and through a bind mount of its grandparent (the
# same depth: walk 1 as long, plus walk 2's three components and origin).
# The program runs at every syscall on the node and returns at once for
# other processes, whose number varies: each round charges the walk run's
# calls at the baseline's average cost per call, and what is left over the
# N writes is one walk. The median of the rounds.
#
# The struct offsets are the agent's (agent/btfoff.c); pahole's reading of
# the same BTF must agree on each one the walk uses.
#
# Run as root: test_pathwalk.sh PATHWALK_PROBE [--bench]
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: $0 PATHWALK_PROBE [--bench]" >&2; exit 2; }
TOOL=$(readlink -f "$1")
BENCH=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../checks.sh
. "$HERE/../checks.sh"

[ "$(id -u)" -eq 0 ] || { echo "pathwalk tests need root (BPF, mounts)"; exit 1; }
for t in unshare chroot mount stat jq bpftool pahole; do
	command -v "$t" >/dev/null || { echo "test_pathwalk needs $t"; exit 1; }
done

# checks.sh of an older tree may lack these two.
declare -F need >/dev/null || need() {
	[ -n "$2" ] && return 0
	fail "$1" "the value this check compares against was empty"
	return 1
}
declare -F wait_for >/dev/null || wait_for() {
	local what=$1 n=$(($2 * 20))
	shift 2
	until "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { echo "timed out waiting for $what" >&2; return 1; }
		sleep 0.05
	done
}

B=$(mktemp -d /tmp/pathwalk.XXXXXX)
[ -n "$B" ] || { echo "mktemp failed" >&2; exit 1; }
HOST_MOUNTS=()
FILL=() # filler names of t_host's 4096- and 4097-byte paths
W=
TP=

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	kill_wl
	for m in "${HOST_MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done
	rm -rf "$B"
}
trap cleanup EXIT

# What every workload script starts with: wl_go (opened, wait for the
# probe), then its writes, then wl_end (written, wait while we look at its
# fds). Only the writes are write(2): the rest is opens and reads.
WL_LIB='wl_go() { : >"$CTL/opened"; read -r _ <"$CTL/go"; }
wl_end() { : >"$CTL/written"; read -r _ <"$CTL/end"; }'

lines_at_least() { [ "$(wc -l <"$1")" -ge "$2" ]; }
# probe_up OUT: the probe (TP) said ready in OUT, or is gone
probe_up() { grep -q '^ready' "$1" || ! kill -0 "$TP" 2>/dev/null; }

# kill_wl: a workload and probe that cannot go on, with what they started
# (the workload's process substitutions).
kill_wl() {
	[ -n "$TP" ] && kill -KILL "$TP" 2>/dev/null
	[ -n "$W" ] && pkill -KILL -P "$W" 2>/dev/null
	[ -n "$W" ] && kill -KILL "$W" 2>/dev/null
	wait "$W" "$TP" 2>/dev/null
	W='' TP=''
}

# run_wl CTL NWRITES CMD...: starts CMD (its control directory CTL, seen
# from the host), the probe on its pid once it has opened its files, lets
# it write, and waits for the probe's NWRITES lines. Sets W and PW_LINES.
run_wl() {
	local ctl=$1 n=$2
	shift 2
	mkfifo "$ctl/go" "$ctl/end"
	"$@" >"$ctl/wl.log" 2>&1 &
	W=$!
	if ! wait_for "the workload to open its files" 20 test -e "$ctl/opened"; then
		fail "workload starts: $*" "$(cat "$ctl/wl.log")"
		kill_wl
		return 1
	fi
	"$TOOL" "$W" >"$ctl/probe.out" 2>"$ctl/probe.err" &
	TP=$!
	wait_for "the probe" 120 probe_up "$ctl/probe.out"
	if ! grep -q '^ready' "$ctl/probe.out"; then
		fail "probe attaches" "$(tail -n 5 "$ctl/probe.err")"
		kill_wl
		return 1
	fi
	grep 'verifier:' "$ctl/probe.err" | sed 's/^/# /'
	echo go >"$ctl/go"
	wait_for "the writes" 20 test -e "$ctl/written" &&
		wait_for "the probe's lines" 20 lines_at_least "$ctl/probe.out" $((n + 1))
	mapfile -t PW_LINES < <(tail -n +2 "$ctl/probe.out")
	[ "${#PW_LINES[@]}" -eq "$n" ] ||
		fail "one probe line per write ($n)" "$(cat "$ctl/probe.out" "$ctl/wl.log")"
}

# end_wl CTL: lets the workload exit; the probe exits with it, cleanly
# (a sanitizer's report makes it exit non-zero).
end_wl() {
	local rc=0
	# a workload that died early has no reader on the fifo
	if ! timeout 10 sh -c 'echo end >"$1"' _ "$1/end"; then
		fail "the workload waits for its end" "$(cat "$1/wl.log")"
		kill_wl
		return
	fi
	wait "$W"
	wait "$TP" || rc=$?
	W='' TP=''
	[ "$rc" -eq 0 ] || fail "the probe exits 0 (exit $rc)" "$(tail -n 5 "$1/probe.err")"
}

# field LINE KEY: a field of a probe line (no field holds a blank: the
# probe writes those as \x20).
field() {
	local f parts
	read -ra parts <<<"$1"
	for f in "${parts[@]}"; do
		case $f in "$2="*) printf '%s\n' "${f#*=}" && return ;; esac
	done
}

# check_write NAME LINE PID FD FLAGS: the line against readlink and stat of
# /proc/PID/fd/FD from the host, and its flags. The walk-1 path (via) is
# what readlink shows; without flags=bind the name (host) is that path.
check_write() {
	local name=$1 line=$2 pid=$3 fd=$4 flags=$5 want via ids
	want=$(readlink "/proc/$pid/fd/$fd")
	ids=$(stat -L -c '%Hd:%Ld %i' "/proc/$pid/fd/$fd")
	via=$(field "$line" via)
	case ,$(field "$line" flags), in *,bind,*) ;; *)
		need "$name: walk 1's path" "$via" &&
			check "$name: without a bind, host = via" "$via" "$(field "$line" host)" ;;
	esac
	case ,$(field "$line" flags), in *,unlinked,*) via="$via (deleted)" ;; esac
	need "$name: readlink /proc/PID/fd/$fd" "$want" &&
		check "$name: walk 1's path = readlink /proc/PID/fd/$fd" "$want" "$via"
	need "$name: stat -L /proc/PID/fd/$fd" "$ids" &&
		check "$name: dev:ino = stat -L" "$ids" "$(field "$line" dev) $(field "$line" ino)"
	check_common "$name" "$line" "$pid" "$flags"
}

# check_common NAME LINE PID FLAGS: mount namespace and flags.
check_common() {
	local name=$1 line=$2 pid=$3 flags=$4 ns
	ns=$(stat -L -c %i "/proc/$pid/ns/mnt")
	need "$name: the mount namespace inode" "$ns" &&
		check "$name: mount namespace" "$ns" "$(field "$line" mntns)"
	check "$name: flags" "$flags" "$(field "$line" flags)"
}

# d_chain N NAME: N nested NAMEs ("NAME/NAME/.../NAME").
d_chain() {
	local i out=$2
	for ((i = 1; i < $1; i++)); do out="$out/$2"; done
	printf '%s' "$out"
}

# The offsets the walk uses, read from BTF twice: by the agent's btfoff
# (what the probe gets) and by pahole.
t_offsets() {
	local mine agent
	mine=$("$TOOL" --pahole --print-offsets)
	agent=$("$TOOL" --print-offsets)
	need "offsets from pahole" "$mine" && need "offsets from btfoff" "$agent" || return
	check "offsets: btfoff has each of pahole's, equal" "" \
		"$(comm -23 <(sort <<<"$mine") <(sort <<<"$agent"))"
}

# Host namespace: one workload, one write to each of thirteen files.
t_host() {
	local c=$B/host deep name255 i n pid
	mkdir -p "$c" "$B/realdir" "$B/p" "$B/a" "$B/b" "$B/r" "$B/r2" "$B/u" "$B/n40" "$B/deep" \
		"$B/a2" "$B/b2" "$B/out2"
	ln -s "$B/realdir" "$B/lnk"
	mount --bind "$B/a" "$B/b" && HOST_MOUNTS+=("$B/b")
	mount --bind "$B/a2" "$B/b2" && HOST_MOUNTS+=("$B/b2")
	deep=$B/deep/$(d_chain 150 d)
	mkdir -p "$deep" "$B/n40/$(d_chain 40 dir)"
	# 20 names of 255 bytes: 5121 bytes, beyond both PATH_MAX and the walk's
	# 4096; built and opened relative to the cwd.
	name255=$(printf 'n%.0s' $(seq 255))
	mkdir -p "$B/long"
	(cd "$B/long" && for i in $(seq 20); do mkdir "$name255" && cd "$name255" || exit 1; done)
	# Paths of exactly 4096 and 4097 bytes (the walk counts each name with
	# its NUL: as many bytes as the path has characters): $B/xN, a filler
	# name, 15 names of 255 bytes, f.
	for n in 4096 4097; do
		FILL[n]=$(printf 'm%.0s' $(seq $((n - ${#B} - 6 - 1 - 15 * 256 - 2))))
		mkdir -p "$B/x$n/${FILL[n]}"
		(cd "$B/x$n/${FILL[n]}" &&
			for i in $(seq 15); do mkdir "$name255" && cd "$name255" || exit 1; done)
	done
	cat >"$c/wl.sh" <<-EOF
		$WL_LIB
		exec 3>"$B/lnk/f" 4>"/proc/self/root$B/p/f" 5>"$B/b/f" 6>/dev/null
		exec 7> >(cat >/dev/null)
		exec 8>"$B/r/old" 9>"$B/u/f" 10>"$B/n40/$(d_chain 40 dir)/f" 11>"$deep/f"
		cd "$B/long" || exit 1
		for i in \$(seq 20); do cd "$name255" || exit 1; done
		exec 12>f && cd / || exit 1
		cd "$B/x4096/${FILL[4096]}" || exit 1
		for i in \$(seq 15); do cd "$name255" || exit 1; done
		exec 14>f && cd / || exit 1
		cd "$B/x4097/${FILL[4097]}" || exit 1
		for i in \$(seq 15); do cd "$name255" || exit 1; done
		exec 15>f && cd / || exit 1
		exec 13>"$B/b2/g"
		mv "$B/r/old" "$B/r2/new" && rm "$B/u/f" && mv "$B/a2/g" "$B/out2/g" || exit 1
		wl_go
		for fd in 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo x >&\$fd; done
		wl_end
	EOF
	CTL=$c run_wl "$c" 13 bash "$c/wl.sh" || return
	pid=$W
	check_write "symlinked dir" "${PW_LINES[0]}" "$pid" 3 root
	check "symlinked dir: the target's path" "$B/realdir/f" "$(field "${PW_LINES[0]}" host)"
	check "symlinked dir: in-root path" "$B/realdir/f" "$(field "${PW_LINES[0]}" inroot)"
	check_write "/proc/self/root" "${PW_LINES[1]}" "$pid" 4 root
	check "/proc/self/root: the path below it" "$B/p/f" "$(field "${PW_LINES[1]}" host)"
	check_write "bind mount" "${PW_LINES[2]}" "$pid" 5 root,bind
	check "bind mount: readlink names it where it is mounted" "$B/b/f" \
		"$(field "${PW_LINES[2]}" via)"
	check "bind mount: named at its origin" "$B/a/f" "$(field "${PW_LINES[2]}" host)"
	check "bind mount: the source's inode" "$(stat -c %i "$B/a/f")" \
		"$(field "${PW_LINES[2]}" ino)"
	check_write "/dev/null (devtmpfs: a mount crossing)" "${PW_LINES[3]}" "$pid" 6 root
	check "/dev/null: path" "/dev/null" "$(field "${PW_LINES[3]}" host)"
	# A pipe has no path: the walk stops at once (readlink says pipe:[N]).
	check_common "pipe" "${PW_LINES[4]}" "$pid" escaped
	check "pipe: no components" "0 /" \
		"$(field "${PW_LINES[4]}" count) $(field "${PW_LINES[4]}" host)"
	check "pipe: dev:ino = stat -L" "$(stat -L -c '%Hd:%Ld %i' "/proc/$pid/fd/7")" \
		"$(field "${PW_LINES[4]}" dev) $(field "${PW_LINES[4]}" ino)"
	check_write "renamed after open" "${PW_LINES[5]}" "$pid" 8 root
	check "renamed after open: the new name" "$B/r2/new" "$(field "${PW_LINES[5]}" host)"
	check_write "unlinked" "${PW_LINES[6]}" "$pid" 9 unlinked,root
	check "unlinked: the name it had" "$B/u/f" "$(field "${PW_LINES[6]}" host)"
	check_write "40 nested dirs" "${PW_LINES[7]}" "$pid" 10 root
	check "40 nested dirs: exact" "$B/n40/$(d_chain 40 dir)/f" "$(field "${PW_LINES[7]}" host)"
	# Moved out of the part of the filesystem a bind mount shows: the walk
	# meets the filesystem's root, not the mount's, and, as d_path, names
	# it "/"; where it lies in its filesystem comes apart (fspath).
	check_write "moved out of a bind mount's root" "${PW_LINES[10]}" "$pid" 13 escaped,bind
	check "moved out of a bind mount's root: path in its filesystem" "$B/out2/g" \
		"$(field "${PW_LINES[10]}" fspath)"
	check "moved out of a bind mount's root: named where it now is" "$B/out2/g" \
		"$(field "${PW_LINES[10]}" host)"
	t_host_bounds "$pid"
	end_wl "$c"
}

# The walk's bounds: the leaf-most components, exact, flagged truncated.
t_host_bounds() {
	local pid=$1 want tail name255 host
	# 150 + 1 components, more than its 128 steps: the last 128.
	tail=$(field "${PW_LINES[8]}" host)
	check_common "deeper than the bound" "${PW_LINES[8]}" "$pid" truncated
	check "deeper than the bound: the leaf-most 128 components" "$(d_chain 127 d)/f" "$tail"
	want=$(readlink "/proc/$pid/fd/11")
	need "deeper than the bound: readlink" "$want" &&
		check "deeper than the bound: a tail of readlink" "$want" "${want%/"$tail"}/$tail"
	check "deeper than the bound: dev:ino = stat -L" \
		"$(stat -L -c '%Hd:%Ld %i' "/proc/$pid/fd/11")" \
		"$(field "${PW_LINES[8]}" dev) $(field "${PW_LINES[8]}" ino)"
	# 255-byte names take 256 bytes: "f" and 15 of them fit in 4096.
	name255=$(printf 'n%.0s' $(seq 255))
	check_common "longer than 4096 bytes" "${PW_LINES[9]}" "$pid" truncated
	check "longer than 4096 bytes: the 15 leaf-most names of 255 bytes" \
		"$(d_chain 15 "$name255")/f" "$(field "${PW_LINES[9]}" host)"
	if readlink "/proc/$pid/fd/12" >/dev/null 2>&1; then
		fail "longer than 4096 bytes: readlink cannot name it either (ENAMETOOLONG)"
	else
		ok "longer than 4096 bytes: readlink cannot name it either (ENAMETOOLONG)"
	fi
	check "longer than 4096 bytes: dev:ino = stat -L" \
		"$(stat -L -c '%Hd:%Ld %i' "/proc/$pid/fd/12")" \
		"$(field "${PW_LINES[9]}" dev) $(field "${PW_LINES[9]}" ino)"
	# Exactly 4096 bytes fit, whole; at 4097 the top name ("tmp") is left out.
	want=$B/x4096/${FILL[4096]}/$(d_chain 15 "$name255")/f
	check_common "exactly 4096 bytes" "${PW_LINES[11]}" "$pid" root
	host=$(field "${PW_LINES[11]}" host)
	check "exactly 4096 bytes: whole" "4096 $want" "${#host} $host"
	check "exactly 4096 bytes: dev:ino = stat -L" \
		"$(stat -L -c '%Hd:%Ld %i' "/proc/$pid/fd/14")" \
		"$(field "${PW_LINES[11]}" dev) $(field "${PW_LINES[11]}" ino)"
	want=$B/x4097/${FILL[4097]}/$(d_chain 15 "$name255")/f
	check_common "4097 bytes" "${PW_LINES[12]}" "$pid" truncated
	check "4097 bytes: all but the top name" "${want#/*/}" "$(field "${PW_LINES[12]}" host)"
}

# A new mount namespace with a tmpfs over a directory: the same name as a
# file on the host, another file (dev), another namespace.
t_mntns() {
	local c=$B/ns-ctl host_ids
	mkdir -p "$c" "$B/ns"
	echo host >"$B/ns/f"
	cat >"$c/wl.sh" <<-EOF
		$WL_LIB
		mount -t tmpfs pathwalk-tmp "$B/ns" || exit 1
		exec 3>"$B/ns/f"
		wl_go
		echo x >&3
		wl_end
	EOF
	CTL=$c run_wl "$c" 1 unshare -m --propagation private bash "$c/wl.sh" || return
	check_write "tmpfs in a mount namespace" "${PW_LINES[0]}" "$W" 3 root
	check "tmpfs in a mount namespace: path" "$B/ns/f" "$(field "${PW_LINES[0]}" host)"
	host_ids=$(stat -c '%Hd:%Ld %i' "$B/ns/f")
	need "the host's file of that name" "$host_ids" || { end_wl "$c"; return; }
	if [ "$host_ids" != "$(field "${PW_LINES[0]}" dev) $(field "${PW_LINES[0]}" ino)" ]; then
		ok "tmpfs in a mount namespace: not the host's file of that name"
	else
		fail "tmpfs in a mount namespace: not the host's file of that name" "$host_ids"
	fi
	if [ "$(stat -L -c %i /proc/self/ns/mnt)" != "$(field "${PW_LINES[0]}" mntns)" ]; then
		ok "tmpfs in a mount namespace: not the host's namespace"
	else
		fail "tmpfs in a mount namespace: not the host's namespace"
	fi
	end_wl "$c"
}

# chroot (in its own mount namespace, so its mounts go with it): a file
# inside the new root and one opened outside it before the chroot.
t_chroot() {
	local r=$B/root l d
	mkdir -p "$r/usr" "$r/proc" "$r/tmp" "$r/ctl" "$B/outside"
	cat >"$B/chroot.sh" <<-EOF
		mount --bind /usr "$r/usr" && mount -t proc proc "$r/proc" || exit 1
	EOF
	# /bin, /lib... are links into /usr on merged-/usr systems, else dirs
	for l in bin sbin lib lib64; do
		if [ -L "/$l" ]; then
			ln -s "$(readlink "/$l")" "$r/$l"
		elif [ -d "/$l" ]; then
			mkdir "$r/$l" && echo "mount --bind /$l $r/$l || exit 1" >>"$B/chroot.sh"
		fi
	done
	echo "exec 4>$B/outside/f && exec chroot $r /bin/bash /wl.sh" >>"$B/chroot.sh"
	cat >"$r/wl.sh" <<-EOF
		$WL_LIB
		exec 3>/tmp/f
		readlink /proc/self/fd/3 >/ctl/in3 && readlink /proc/self/fd/4 >/ctl/in4 || exit 1
		wl_go
		echo x >&3
		echo x >&4
		wl_end
	EOF
	CTL=/ctl run_wl "$r/ctl" 2 unshare -m --propagation private bash "$B/chroot.sh" || return
	check_write "chroot" "${PW_LINES[0]}" "$W" 3 root
	check "chroot: host path through the new root" "$r/tmp/f" "$(field "${PW_LINES[0]}" host)"
	d=$(cat "$r/ctl/in3")
	need "chroot: readlink inside" "$d" &&
		check "chroot: in-root path = readlink inside" "$d" "$(field "${PW_LINES[0]}" inroot)"
	check "chroot: in-root path" "/tmp/f" "$(field "${PW_LINES[0]}" inroot)"
	check "chroot: components below the root" "2" "$(field "${PW_LINES[0]}" root_at)"
	# Outside the root the kernel shows the process the path from the top.
	check_write "chroot, a file outside the root" "${PW_LINES[1]}" "$W" 4 -
	d=$(cat "$r/ctl/in4")
	need "chroot, outside: readlink inside" "$d" &&
		check "chroot, outside: in-root path = readlink inside" "$d" \
			"$(field "${PW_LINES[1]}" inroot)"
	check "chroot, outside: path" "$B/outside/f" "$(field "${PW_LINES[1]}" host)"
	end_wl "$r/ctl"
}

# check_bind NAME LINE PID FD FLAGS HOST VIA [ORIGIN_NS]: check_write, and
# the name at the origin (HOST), readlink's (VIA), the origin's namespace.
check_bind() {
	local name=$1 line=$2
	check_write "$name" "$line" "$3" "$4" "$5"
	check "$name: named at its origin" "$6" "$(field "$line" host)"
	check "$name: readlink's name" "$7" "$(field "$line" via)"
	[ $# -ge 8 ] && check "$name: the origin's mount namespace" "$8" "$(field "$line" origin_ns)"
}

# Bind mounts in the host's namespace.
t_bind() {
	local c=$B/bind-ctl pid hostns
	hostns=$(stat -L -c %i /proc/self/ns/mnt)
	mkdir -p "$c" "$B/bs/src/sub" "$B/bs/dst" "$B/nb/a/c" "$B/nb/b" "$B/nb/d" \
		"$B/rb/src/t" "$B/rb/dst" "$B/tm" "$B/ts" "$B/tsb"
	: >"$B/fa"
	: >"$B/fb"
	mount --bind "$B/bs/src/sub" "$B/bs/dst" && HOST_MOUNTS+=("$B/bs/dst")
	# nested: a directory inside the bind b, bound again at d
	mount --bind "$B/nb/a" "$B/nb/b" && HOST_MOUNTS+=("$B/nb/b")
	mount --bind "$B/nb/b/c" "$B/nb/d" && HOST_MOUNTS+=("$B/nb/d")
	mount --bind "$B/fa" "$B/fb" && HOST_MOUNTS+=("$B/fb")
	mount -t tmpfs pw-tm "$B/tm" && HOST_MOUNTS+=("$B/tm")
	# the file's own mount is whole (a tmpfs), its parent the subtree
	mount -t tmpfs pw-rbt "$B/rb/src/t" && HOST_MOUNTS+=("$B/rb/src/t")
	mount --rbind "$B/rb/src" "$B/rb/dst" && HOST_MOUNTS+=("$B/rb/dst")
	# not the root filesystem: its origin is found among the tmpfs's mounts
	mount -t tmpfs pw-ts "$B/ts" && HOST_MOUNTS+=("$B/ts")
	mkdir "$B/ts/sub" && mount --bind "$B/ts/sub" "$B/tsb" && HOST_MOUNTS+=("$B/tsb")
	cat >"$c/wl.sh" <<-EOF
		$WL_LIB
		exec 3>"$B/bs/dst/f" 4>"$B/nb/d/f" 5>"$B/fb" 6>"$B/tm/f" 7>"$B/rb/dst/t/f"
		exec 8>"$B/tsb/f" 9>"$B/nb/b/c/g"
		wl_go
		for fd in 3 4 5 6 7 8 9; do echo x >&\$fd; done
		wl_end
	EOF
	CTL=$c run_wl "$c" 7 bash "$c/wl.sh" || return
	pid=$W
	check_bind "bind of a subdirectory" "${PW_LINES[0]}" "$pid" 3 root,bind \
		"$B/bs/src/sub/f" "$B/bs/dst/f" "$hostns"
	check "bind of a subdirectory: walk 1's components kept" "1" \
		"$(field "${PW_LINES[0]}" bind_at)"
	check_bind "a bind of a directory inside a bind" "${PW_LINES[1]}" "$pid" 4 root,bind \
		"$B/nb/a/c/f" "$B/nb/d/f" "$hostns"
	check_bind "a file bound over another" "${PW_LINES[2]}" "$pid" 5 root,bind \
		"$B/fa" "$B/fb" "$hostns"
	check "a file bound over another: no component of walk 1 kept" "0" \
		"$(field "${PW_LINES[2]}" bind_at)"
	check_write "a tmpfs (control)" "${PW_LINES[3]}" "$pid" 6 root
	check "a tmpfs (control): named where it is mounted" "$B/tm/f" \
		"$(field "${PW_LINES[3]}" host)"
	check_bind "a tmpfs inside a recursive bind" "${PW_LINES[4]}" "$pid" 7 root,bind \
		"$B/rb/src/t/f" "$B/rb/dst/t/f" "$hostns"
	check_bind "a bind of a tmpfs's subdirectory" "${PW_LINES[5]}" "$pid" 8 root,bind \
		"$B/ts/sub/f" "$B/tsb/f" "$hostns"
	check_bind "through the outer bind" "${PW_LINES[6]}" "$pid" 9 root,bind \
		"$B/nb/a/c/g" "$B/nb/b/c/g" "$hostns"
	end_wl "$c"
}

# Bind mounts a process makes in its own mount namespace.
t_bind_ns() {
	local c=$B/bindns-ctl hostns ns
	hostns=$(stat -L -c %i /proc/self/ns/mnt)
	mkdir -p "$c" "$B/nw" "$B/nu" "$B/nu2" "$B/nw2" "$B/pt" "$B/pt2" "$B/no" "$B/no2"
	echo host >"$B/nw2/x"
	cat >"$c/wl.sh" <<-EOF
		$WL_LIB
		mount --bind "$B/nw" "$B/nu" && mount --bind "$B/nu2" "$B/nw2" || exit 1
		mount -t tmpfs pw-pt "$B/pt" && mkdir "$B/pt/sub" || exit 1
		mount --bind "$B/pt/sub" "$B/pt2" || exit 1
		mount -t tmpfs pw-no "$B/no" && mkdir "$B/no/sub" || exit 1
		mount --bind "$B/no/sub" "$B/no2" && umount "$B/no" || exit 1
		exec 3>"$B/nu/f" 4>"$B/nw2/x" 5>"$B/pt2/f" 6>"$B/no2/f"
		wl_go
		for fd in 3 4 5 6; do echo x >&\$fd; done
		wl_end
	EOF
	CTL=$c run_wl "$c" 4 unshare -m --propagation private bash "$c/wl.sh" || return
	ns=$(stat -L -c %i "/proc/$W/ns/mnt")
	check_bind "namespace: a directory bound into another place" "${PW_LINES[0]}" "$W" 3 \
		root,bind "$B/nw/f" "$B/nu/f" "$hostns"
	# The attacker's reverse: what the process writes as $B/nw2/x is $B/nu2/x.
	check_bind "namespace: a directory bound over another" "${PW_LINES[1]}" "$W" 4 \
		root,bind "$B/nu2/x" "$B/nw2/x" "$hostns"
	check "namespace: a directory bound over another: the host's file untouched" "host" \
		"$(cat "$B/nw2/x")"
	need "namespace: the workload's mount namespace" "$ns" &&
		check_bind "namespace: a tmpfs mounted only there" "${PW_LINES[2]}" "$W" 5 root,bind \
			"$B/pt/sub/f" "$B/pt2/f" "$ns"
	check_write "namespace: no origin" "${PW_LINES[3]}" "$W" 6 root,no_origin
	check "namespace: no origin: readlink's name" "$B/no2/f" "$(field "${PW_LINES[3]}" host)"
	end_wl "$c"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# bench_run CTL FILE [--no-walk]: one run of BENCH_WRITES 1-byte writes by
# dd to FILE; prints "run_time_ns run_cnt" of the probe.
bench_run() {
	local ctl=$1 file=$2 id
	shift 2
	rm -f "$ctl/go" "$ctl/out"
	mkfifo "$ctl/go"
	bash -c 'read -r _ <"$1/go"; exec dd if=/dev/zero of="$2" bs=1 count="$3" status=none' \
		_ "$ctl" "$file" "$BENCH_WRITES" &
	W=$!
	"$TOOL" --bench "$@" "$W" >"$ctl/out" 2>/dev/null &
	TP=$!
	wait_for "the probe" 120 probe_up "$ctl/out"
	grep -q '^ready' "$ctl/out" || { kill_wl; return 1; }
	id=$(sed -n 's/^ready prog_id=//p' "$ctl/out")
	echo go >"$ctl/go"
	wait "$W"
	bpftool prog show id "$id" -j | jq -r '"\(.run_time_ns) \(.run_cnt)"'
	kill -TERM "$TP"
	wait "$TP"
	W='' TP=''
}

# walk_cost "WALK_RT WALK_CNT" "BASE_RT BASE_CNT": the ns one walk adds,
# the walk run's calls charged at the baseline's cost per call.
walk_cost() {
	awk -v w="$1" -v b="$2" -v n="$BENCH_WRITES" 'BEGIN {
		split(w, W, " "); split(b, B, " ")
		printf "%d\n", (W[1] - B[1] / B[2] * W[2]) / n }'
}

# The cost of one walk, for a plain file and the same one through a bind
# mount.
t_bench() {
	local ctl=$B/bench old i v k r plain bind walk
	local -A runs=() res=()
	BENCH_WRITES=${BENCH_WRITES:-200000}
	mkdir -p "$ctl" "$B/x/y/z" "$B/bx"
	plain=$B/x/y/z/f # /tmp/pathwalk.XXXXXX/x/y/z/f: 6 components
	bind=$B/bx/y/z/f # the same depth through a bind of $B/x
	mount --bind "$B/x" "$B/bx" && HOST_MOUNTS+=("$B/bx") || { fail "bench: mount --bind"; return; }
	old=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	for i in 1 2 3 4 5; do
		for k in plain bind; do
			for v in walk base; do
				if [ "$v" = walk ]; then r=$(bench_run "$ctl" "${!k}");
				else r=$(bench_run "$ctl" "${!k}" --no-walk); fi
				[ -n "$r" ] || { fail "bench: run $i $k $v"; sysctl -qw kernel.bpf_stats_enabled="$old"; return; }
				note "bench run $i $k $v: run_time_ns run_cnt = $r"
				res[$v]=$r
			done
			walk=$(walk_cost "${res[walk]}" "${res[base]}")
			note "bench run $i $k: one walk $walk ns"
			runs[$k]+="$walk "
		done
	done
	sysctl -qw kernel.bpf_stats_enabled="$old"
	for k in plain bind; do
		# shellcheck disable=SC2086 # one number a word
		walk=$(printf '%s\n' ${runs[$k]} | median)
		note "bench $k: $BENCH_WRITES writes of a depth-6 path; one walk costs $walk ns" \
			"(median of rounds: ${runs[$k]% })"
		if [ "$walk" -gt 0 ]; then ok "bench $k: measured"; else fail "bench $k: the walk costs time"; fi
	done
}

if [ "$BENCH" = --bench ]; then
	t_bench
else
	t_offsets
	t_host
	t_mntns
	t_chroot
	t_bind
	t_bind_ns
fi
printf '\n%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
[ "$T_FAIL" -eq 0 ]
