#!/usr/bin/env bash
# Schemathesis (PyPI) against docs/openapi.json on a served store: the API
# smoke run of issue 19, run by .ci/run after the tests.
#
#   scripts/schemathesis-smoke.sh [BIN] [MAX_EXAMPLES]
#
# BIN defaults to target/debug/bgpsentry (built by `cargo test`). The store is
# a replay of four real files around the YouTube hijack (2008-02-24 18:39 to
# 19:39); `serve` runs with a bearer token on a free loopback port, so the
# authentication checks mean something. Every check runs except
# positive_data_acceptance: the schema cannot say that `dateRange` excludes
# `dateStart`/`dateEnd` or that `minConfidence` must not exceed
# `maxConfidence`, and those combinations are correctly answered 400 (naming
# the parameter). The seed is fixed, so a run is reproducible. Exit status is
# schemathesis's: non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/debug/bgpsentry}
MAX_EXAMPLES=${2:-100}
SCHEMATHESIS_VERSION=4.32.5
DATA=../shared/data
Y=$DATA/mrt/incident-youtube-2008

test -x "$BIN" || { echo "schemathesis-smoke: $BIN is not built (run cargo test or cargo build first)"; exit 2; }

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== schemathesis $SCHEMATHESIS_VERSION into $work/venv"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"

echo "== store: replay of 4 YouTube files"
"$BIN" replay --db "$work/yt.sqlite" --bootstrap "$DATA/pfx2as/ipasn_20080501_v12.dat.gz" \
  "$Y/updates.20080224.1839.bz2" "$Y/updates.20080224.1854.bz2" \
  "$Y/updates.20080224.1909.bz2" "$Y/updates.20080224.1924.bz2" >"$work/replay.txt"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=schemathesis-smoke-token
"$BIN" serve --db "$work/yt.sqlite" --listen "127.0.0.1:$port" --now 2008-02-25T00:00:00Z \
  --token "$token" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz')" 2>/dev/null; then break; fi
  sleep 0.1
done

echo "== schemathesis run (max $MAX_EXAMPLES examples per operation)"
"$work/venv/bin/schemathesis" run docs/openapi.json --url "http://127.0.0.1:$port" \
  --checks all --exclude-checks positive_data_acceptance \
  --header "Authorization: Bearer $token" \
  --max-examples "$MAX_EXAMPLES" --seed 19 --workers 2 --no-color
