#!/usr/bin/env bash
# Benchmark: `bgpsentry replay` against `bgpdump -m` on the same MRT files,
# side by side in one run. Prints wall times, the ratio and peak memory.
#
#   scripts/bench-replay.sh [DIR_OR_FILES...]   (default: the 12-hour YouTube 2008 set)
#   EXTRA="--bootstrap ../shared/data/pfx2as/ipasn_20080501_v12.dat.gz" scripts/bench-replay.sh
set -euo pipefail
cd "$(dirname "$0")/.."
inputs=("$@")
[ ${#inputs[@]} -gt 0 ] || inputs=(../shared/data/mrt/incident-youtube-2008)
command -v bgpdump >/dev/null || { echo "needs bgpdump (apt-get install bgpdump)"; exit 1; }
cargo build --release -q -p bgpsentry
bin=target/release/bgpsentry
files=()
for i in "${inputs[@]}"; do
  if [ -d "$i" ]; then while IFS= read -r f; do files+=("$f"); done < <(find "$i" -type f | sort); else files+=("$i"); fi
done
echo "files: ${#files[@]}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
t() { /usr/bin/time -f "%e %M" -o "$tmp/t" "$@" > /dev/null 2>"$tmp/err" || true; cat "$tmp/t"; }
read -r bd_s bd_kb < <(t bash -c 'for f in "$@"; do bgpdump -m "$f"; done' _ "${files[@]}")
# shellcheck disable=SC2086
read -r bs_s bs_kb < <(t "$bin" replay --no-progress --json ${EXTRA:-} "${inputs[@]}")
read -r dump_s dump_kb < <(t "$bin" dump "${files[@]}")
ratio=$(awk -v a="$bs_s" -v b="$bd_s" 'BEGIN{printf "%.3f", a/b}')
dratio=$(awk -v a="$dump_s" -v b="$bd_s" 'BEGIN{printf "%.3f", a/b}')
printf "%-34s %8s s  %8s MiB\n" "bgpdump -m (loop over files)" "$bd_s" "$((bd_kb/1024))"
printf "%-34s %8s s  %8s MiB  ratio %s\n" "bgpsentry replay ${EXTRA:+(+ EXTRA)}" "$bs_s" "$((bs_kb/1024))" "$ratio"
printf "%-34s %8s s  %8s MiB  ratio %s\n" "bgpsentry dump" "$dump_s" "$((dump_kb/1024))" "$dratio"
