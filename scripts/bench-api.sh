#!/usr/bin/env bash
# Throughput of the Radar-compatible API under wrk, over a store of
# synthetic events (1M hijacks + 200k leaks, generated on first use by
# `bgpsentry bench-api`). Latency percentiles per query type come from
# `bgpsentry bench-api` itself; this script adds sustained requests/s.
#
#   scripts/bench-api.sh [DB] [DURATION] [CONNECTIONS] [THREADS]
#
# Requires: a release build (cargo build --release -p bgpsentry) and wrk
# (apt-get install -y wrk). Only talks to 127.0.0.1.
set -euo pipefail

DB=${1:-/tmp/bgpsentry-bench.sqlite}
DURATION=${2:-20s}
CONNS=${3:-16}
THREADS=${4:-2}
BIN=${BGPSENTRY_BIN:-target/release/bgpsentry}
PORT=${PORT:-18080}
BASE="http://127.0.0.1:${PORT}"
H=/client/v4/radar/bgp/hijacks/events
L=/client/v4/radar/bgp/leaks/events

command -v wrk >/dev/null || { echo "wrk not installed (apt-get install -y wrk)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no $BIN; run: cargo build --release -p bgpsentry" >&2; exit 1; }

# Generate the store if needed (no measurement).
"$BIN" bench-api --db "$DB" --generate-only

"$BIN" serve --db "$DB" --listen "127.0.0.1:${PORT}" --readers "${READERS:-4}" 2>/tmp/bgpsentry-bench-serve.log &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

# A Lua script that rotates through typical queries (ASNs and prefixes
# drawn from the synthetic pool) and counts non-2xx answers as errors.
LUA=$(mktemp --suffix=.lua)
cat >"$LUA" <<'LUAEOF'
local paths = {}
local H = "/client/v4/radar/bgp/hijacks/events"
local L = "/client/v4/radar/bgp/leaks/events"
for i = 0, 63 do
  local asn = 65512 + (i * 37) % 400
  paths[#paths + 1] = H .. "?per_page=10&page=1&involvedAsn=" .. asn .. "&sortBy=ID&sortOrder=DESC"
  paths[#paths + 1] = H .. "?hijackerAsn=" .. asn .. "&per_page=100"
  paths[#paths + 1] = H .. "?minConfidence=8&per_page=100&page=" .. (1 + i)
  paths[#paths + 1] = H .. "?prefix=" .. (1 + i) .. ".0.0.0/8&prefixMatch=more-specific&per_page=10"
  paths[#paths + 1] = L .. "?involvedAsn=" .. asn .. "&sortBy=LEAKS"
end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
local bad = 0
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non-200 responses: %d\n", summary.errors.status))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("latency p%d: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
LUAEOF

echo "== mixed typical queries ($DURATION, $CONNS connections, $THREADS threads)"
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$LUA" "$BASE"
echo
echo "== alert app page 1 (involvedAsn, ID DESC, per_page=10)"
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "$BASE$H?per_page=10&page=1&involvedAsn=65513&sortBy=ID&sortOrder=DESC"
echo
echo "== unfiltered, per_page=100"
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "$BASE$H?per_page=100"
rm -f "$LUA"
