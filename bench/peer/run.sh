#!/usr/bin/env bash
# Peer comparison: trilink vs the best Stone Soup configuration, one table per scenario.
#
#   bench/peer/run.sh [OPTIONS] [SCENARIO|DIR ...]
#
# Prepares bench/.venv with the pinned requirements (only when they changed), builds trilink
# in release, then runs bench/peer/peer.py (see `bench/peer/run.sh --help` for its options).
# Harness-only options, taken here:
#   --no-build       use the existing release binary
#   --fake-trilink   plumbing test with bench/peer/testing/fake_trilink (no real trilink)
# Environment: CARGO_TARGET_DIR (default ./target), PEER_VENV (default bench/.venv),
# PYTHON (interpreter that creates the venv, default python3).
# Exit: 0 ok, 2 bad input, 3 a trilink subcommand is missing or failing, 1 other.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# For the report header: the command as typed.
PEER_CMDLINE="bench/peer/run.sh${*:+ $*}"
export PEER_CMDLINE
VENV=${PEER_VENV:-$ROOT/bench/.venv}
REQ=$ROOT/bench/peer/requirements.txt

build=1
fake=0
args=()
for a in "$@"; do
  case "$a" in
    -h|--help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
      if [ -x "$VENV/bin/python" ]; then
        echo; "$VENV/bin/python" "$ROOT/bench/peer/peer.py" --help
      fi
      exit 0 ;;
    --no-build) build=0 ;;
    --fake-trilink) fake=1; build=0 ;;
    *) args+=("$a") ;;
  esac
done

# 1. venv, idempotent: reinstall only when requirements.txt differs from the last install.
TAG=peer
# shellcheck source=bench/peer/venv.sh
source "$ROOT/bench/peer/venv.sh"

# 2. trilink release binary.
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET" in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
TRILINK=$TARGET/release/trilink
if [ "$fake" = 1 ]; then
  TRILINK=$ROOT/bench/peer/testing/fake_trilink
  export PEER_PYTHON="$VENV/bin/python"
  echo "[peer] --fake-trilink: the 'trilink' figures below are NOT trilink's" >&2
elif [ "$build" = 1 ]; then
  echo "[peer] cargo build --release -p trilink (target $TARGET)" >&2
  (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET cargo build --release -p trilink)
fi
if [ ! -x "$TRILINK" ]; then
  echo "[peer] no trilink binary at $TRILINK" >&2
  exit 3
fi

exec "$VENV/bin/python" "$ROOT/bench/peer/peer.py" --trilink "$TRILINK" \
  --python "$VENV/bin/python" ${args[@]+"${args[@]}"}
