#!/usr/bin/env bash
# The official Cloudflare SDKs against bgpsentry: installs the Python SDK
# (`cloudflare` from PyPI) into a temporary venv and, when node and npm are
# present, the TypeScript SDK (`cloudflare` from npm) into a temporary
# directory; fills a store with a real replay of the 2008 YouTube hijack
# (../shared/data), serves it on 127.0.0.1 with a token, and runs every
# method bgpsentry implements (scripts/radar-sdk/check.py, check.mjs):
# strict response validation, no missing fields, typed errors.
#
#   scripts/check-radar-sdk.sh            # both SDKs (Python only without node)
#   PY_SDK=5.9.0 TS_SDK=7.3.0 scripts/check-radar-sdk.sh
#   REQUIRE_TS=1 scripts/check-radar-sdk.sh   # fail instead of skipping TypeScript
set -euo pipefail
cd "$(dirname "$0")/.."
PY_SDK="${PY_SDK:-5.9.0}"
TS_SDK="${TS_SDK:-7.3.0}"
DATA="$(cd ../shared/data && pwd)"
YT="$DATA/mrt/incident-youtube-2008"

cargo build -q -p bgpsentry
BIN="$PWD/target/debug/bgpsentry"
WORK="$(mktemp -d)"
SERVE_PID=""
cleanup() {
  if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== store: replay of the YouTube hijack, 18:07-19:09"
"$BIN" replay --no-progress --collector rrc00 \
  --bootstrap "$DATA/pfx2as/ipasn_20080501_v12.dat.gz" \
  --as2org "$DATA/as2org/20080402.as-org2info.jsonl.gz" \
  --db "$WORK/yt.sqlite" \
  "$YT"/updates.20080224.{1807,1824,1839,1854}.bz2 >/dev/null

echo "== serve"
TOKEN="sdk-check-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
BGPSENTRY_API_TOKENS="$TOKEN" "$BIN" serve --db "$WORK/yt.sqlite" --listen 127.0.0.1:0 \
  --now 2008-02-24T19:10:00Z 2>"$WORK/serve.log" &
SERVE_PID=$!
BASE=""
for _ in $(seq 1 100); do
  BASE="$(sed -n 's/^bgpsentry: listening on //p' "$WORK/serve.log" | head -1)"
  [ -n "$BASE" ] && break
  sleep 0.1
done
[ -n "$BASE" ] || { cat "$WORK/serve.log"; echo "serve did not start"; exit 1; }
echo "serving on $BASE"

echo "== Python SDK cloudflare==$PY_SDK"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --disable-pip-version-check "cloudflare==$PY_SDK"
"$WORK/venv/bin/python" scripts/radar-sdk/check.py "$BASE" "$TOKEN"

if command -v node >/dev/null && command -v npm >/dev/null; then
  echo "== TypeScript SDK cloudflare@$TS_SDK (node $(node --version))"
  mkdir -p "$WORK/ts"
  cp scripts/radar-sdk/check.mjs "$WORK/ts/"
  (cd "$WORK/ts" && npm init -y >/dev/null && npm install -q --no-audit --no-fund "cloudflare@$TS_SDK" >/dev/null)
  (cd "$WORK/ts" && node check.mjs "$BASE" "$TOKEN")
elif [ "${REQUIRE_TS:-0}" = 1 ]; then
  echo "node/npm missing (Debian: apt-get install -y --no-install-recommends nodejs npm)"; exit 1
else
  echo "== TypeScript SDK skipped: node/npm not installed (Debian packages nodejs npm)"
fi
echo "== all SDK checks passed"
