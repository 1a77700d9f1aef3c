#!/usr/bin/env bash
# RIS Live firehose load test: a local websocket server replays real
# RouteViews updates (the YouTube 2008 window in ../shared/data) as RIS Live
# frames at RATE/s with 10x bursts (2 s every 15 s) into the real RIS Live
# source and the hijack and leak detectors. Prints offered and processed
# updates/s, backlog, CPU per 1k updates/s and peak memory.
#
#   scripts/bench-firehose.sh [RATE] [SECONDS]
#
# Requires a release build (cargo build --release -p bgpsentry). Loopback only.
set -euo pipefail

RATE=${1:-5000}
SECONDS_=${2:-60}
BIN=${BGPSENTRY_BIN:-target/release/bgpsentry}
DATA=${SHARED:-../shared}/data/mrt/incident-youtube-2008
args=()
for f in "$DATA"/updates.20080224.1*.bz2; do args+=(--mrt "$f"); done
"$BIN" bench-firehose "${args[@]}" --rate "$RATE" --seconds "$SECONDS_"
