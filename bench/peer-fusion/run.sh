#!/usr/bin/env bash
# Peer comparison of track-to-track fusion: trilink's hub (US) fused picture against Stone
# Soup's own fusion of the same three national track files.
#
#   bench/peer-fusion/run.sh [RUNS] [SCENARIO ...]
#
# RUNS: seeds 1..RUNS (default 3). Scenarios default to the six single-theatre built-ins.
# Prepares bench/.venv with bench/peer/requirements.txt exactly as bench/peer/run.sh does
# (same venv, same stamp: reinstalls only when the requirements changed), uses the existing
# release binary (builds it only if missing), then bench/peer-fusion/harness.py.
# Environment: CARGO_TARGET_DIR (default ./target), PEER_VENV (default bench/.venv),
# PYTHON (interpreter that creates the venv, default python3), PEER_FUSION_WORK (default
# out/peer-fusion), PEER_FUSION_TIMEOUT (cap on one Stone Soup fusion, s, default 900).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${PEER_VENV:-$ROOT/bench/.venv}
REQ=$ROOT/bench/peer/requirements.txt

case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
RUNS=3
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then RUNS=$1; shift; fi
if [ $# -eq 0 ]; then set -- kn-23 salvo hwasong-12 chollima-1 hwasong-15 hwasong-18; fi

# 1. venv, idempotent (shared with bench/peer).
TAG=peer-fusion
# shellcheck source=bench/peer/venv.sh
source "$ROOT/bench/peer/venv.sh"

# 2. trilink release binary: built only when missing.
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET" in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
TRILINK=$TARGET/release/trilink
if [ ! -x "$TRILINK" ]; then
  echo "[peer-fusion] no binary at $TRILINK; cargo build --release -p trilink" >&2
  (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release -p trilink)
fi

WORK=${PEER_FUSION_WORK:-$ROOT/out/peer-fusion}
echo "[peer-fusion] bench/peer-fusion/run.sh $RUNS $*  ($(date -u +%FT%TZ), nproc $(nproc))" >&2
exec "$VENV/bin/python" "$ROOT/bench/peer-fusion/harness.py" --trilink "$TRILINK" \
  --python "$VENV/bin/python" --work "$WORK" --runs "$RUNS" \
  --timeout "${PEER_FUSION_TIMEOUT:-900}" "$@"
