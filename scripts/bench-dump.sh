#!/usr/bin/env bash
# Compare `bgpsentry dump` with Debian's `bgpdump -m`: identical output and
# wall time, side by side in one run, on the 48 YouTube-2008 update files
# (../shared/data/mrt/incident-youtube-2008). With --all, also diff every
# other MRT sample under ../shared/data/mrt against bgpdump.
#
#   scripts/bench-dump.sh [--all] [--runs N]
#
# Needs: bgpdump (apt-get install bgpdump), a release build of bgpsentry
# (built here unless BGPSENTRY=/path/to/binary is set), GNU time if present.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
data="${DATA:-$root/../shared/data/mrt}"
runs=2
all=0
while [ $# -gt 0 ]; do
  case "$1" in
    --all) all=1 ;;
    --runs) runs="$2"; shift ;;
    *) echo "usage: $0 [--all] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done

command -v bgpdump >/dev/null || { echo "bgpdump not found: apt-get install -y bgpdump" >&2; exit 1; }
if [ -z "${BGPSENTRY:-}" ]; then
  (cd "$root" && cargo build --release -q -p bgpsentry)
  BGPSENTRY="$root/target/release/bgpsentry"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
files=("$data"/incident-youtube-2008/*.bz2)
echo "inputs: ${#files[@]} files, $(du -cb "${files[@]}" | tail -1 | cut -f1) bytes compressed"

now() { date +%s.%N; }
timeit() { # name outfile cmd...
  local name="$1" out="$2"; shift 2
  local t0 t1 rss=""
  t0=$(now)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%M" -o "$tmp/$name.rss" "$@" > "$out" 2>/dev/null
    rss=$(cat "$tmp/$name.rss")
  else
    "$@" > "$out" 2>/dev/null
  fi
  t1=$(now)
  echo "$(echo "$t1 - $t0" | bc) ${rss:-?}"
}
bgpdump_all() { for f in "${files[@]}"; do bgpdump -m "$f"; done; }
export -f bgpdump_all 2>/dev/null || true

best_ours=""; best_theirs=""
for i in $(seq 1 "$runs"); do
  read -r t_ours rss_ours < <(timeit ours "$tmp/ours.txt" "$BGPSENTRY" dump "${files[@]}")
  read -r t_theirs rss_theirs < <(timeit theirs "$tmp/theirs.txt" bash -c "$(declare -p files); $(declare -f bgpdump_all); bgpdump_all")
  printf 'run %d: bgpsentry dump %6.2f s (peak RSS %s KB)   bgpdump -m %6.2f s (peak RSS %s KB, per process)\n' \
    "$i" "$t_ours" "$rss_ours" "$t_theirs" "$rss_theirs"
  if [ -z "$best_ours" ] || [ "$(echo "$t_ours < $best_ours" | bc)" = 1 ]; then best_ours=$t_ours; fi
  if [ -z "$best_theirs" ] || [ "$(echo "$t_theirs < $best_theirs" | bc)" = 1 ]; then best_theirs=$t_theirs; fi
done

lines=$(wc -l < "$tmp/theirs.txt")
if cmp -s "$tmp/ours.txt" "$tmp/theirs.txt"; then
  echo "output: identical, $lines lines"
else
  echo "output: DIFFERENT (bgpdump $lines lines, bgpsentry $(wc -l < "$tmp/ours.txt") lines)"
  diff "$tmp/theirs.txt" "$tmp/ours.txt" | head -5
  status=1
fi
printf 'time ratio (best of %d): bgpsentry / bgpdump = %.3f  (%.2f s / %.2f s, %.1fx faster)\n' \
  "$runs" "$(echo "$best_ours / $best_theirs" | bc -l)" "$best_ours" "$best_theirs" "$(echo "$best_theirs / $best_ours" | bc -l)"

if [ "$all" = 1 ]; then
  echo
  echo "other samples against bgpdump -m (Debian 1.6.2):"
  while IFS= read -r f; do
    rel="${f#"$data"/}"
    case "$rel" in
      incident-youtube-2008/*|*/expected-bgpdump-output/*) continue ;;
    esac
    bgpdump -m "$f" > "$tmp/b.txt" 2>/dev/null || true
    "$BGPSENTRY" dump "$f" > "$tmp/o.txt" 2>/dev/null || true
    nb=$(wc -l < "$tmp/b.txt"); no=$(wc -l < "$tmp/o.txt")
    if cmp -s "$tmp/b.txt" "$tmp/o.txt"; then
      printf '  %-70s identical (%d lines)\n' "$rel" "$nb"
    else
      common=$(comm -12 <(sort "$tmp/b.txt") <(sort "$tmp/o.txt") | wc -l)
      note=""
      case "$rel" in
        mrtparse-samples/bird_bgp|mrtparse-samples/bird6_bgp) note="expected: D2 (Add-Path under plain subtype)" ;;
        mrtparse-samples/openbgpd_rib_table) note="expected: D3 (8-byte AGGREGATOR)" ;;
        */updates.nlri_mask_trailing_bits.gz) note="expected: HEAD masks host bits, 1.6.2 does not" ;;
        pyasn-ribs/bview.20140112.1600_3samples.bz2) note="" ;;
      esac
      printf '  %-70s differs: bgpdump %d, bgpsentry %d, %d in common  %s\n' "$rel" "$nb" "$no" "$common" "$note"
    fi
  done < <(find "$data" -type f | sort)
fi
exit "${status:-0}"
