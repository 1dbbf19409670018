#!/usr/bin/env bash
# check_skips.sh LOG [ALLOW]: every `SKIP NAME: REASON` line in LOG (ctest's
# LastTest.log, which keeps every test's output) must name a check listed in
# ALLOW (test/skips.allow). Prints the skips; exit 1 on an unlisted one.
set -euo pipefail
log=$1
allow=${2:-$(dirname "$0")/skips.allow}
[ -r "$log" ] || { echo "check_skips: cannot read $log" >&2; exit 2; }
mapfile -t allowed < <(sed -e 's/[[:space:]]*#.*//' -e '/^[[:space:]]*$/d' "$allow")
status=0 n=0
while IFS= read -r line; do
	name=${line#SKIP }
	name=${name%%: *}
	n=$((n + 1))
	listed=0
	for a in "${allowed[@]}"; do [ "$a" = "$name" ] && listed=1; done
	if [ "$listed" -eq 1 ]; then
		echo "skip (allowed): $line"
	else
		echo "skip NOT in $allow: $line" >&2
		status=1
	fi
done < <(grep -aE '^SKIP [^:]+: ' "$log" | sort -u)
echo "check_skips: $n distinct skips, $([ "$status" -eq 0 ] && echo all allowed || echo some not allowed)"
exit "$status"
