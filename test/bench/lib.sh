# shellcheck shell=bash
# Shared by the benchmark scripts: memory of a running agent.

# Resident KiB of @pid (VmRSS).
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# Resident KiB of @pid's BPF map mappings: the ring buffer's pages, kernel
# memory sized by probe.ringBufferKiB and mapped twice (reported apart).
ring_kib() { awk '/anon_inode:bpf-map/ { m = 1; next } /^[0-9a-f]+-/ { m = 0 } m && /^Rss:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps"; }
