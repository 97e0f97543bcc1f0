#!/usr/bin/env bash
# Monte Carlo coverage of trilink's impact-point 95 % ellipse, over whole runs
# (simulate -> track -> eval) with N seeds per scenario.
#
#   bench/impact-mc/run.sh [OPTIONS] [SCENARIO ...]     (default: kn-23 hwasong-12, 50 seeds)
#   bench/impact-mc/run.sh --runs 20 --by-object kn-23
#
# Builds trilink in release (`cargo build --release -p trilink`), then runs
# bench/impact-mc/mc.py (python3, standard library only). The table goes to stdout,
# progress to stderr. Harness-only option, taken here:
#   --no-build       use the existing release binary
# Environment: CARGO_TARGET_DIR (default ./target); TRILINK (a binary to use instead; implies
# --no-build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=1
args=()
for a in "$@"; do
  case "$a" in
    -h|--help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
      echo
      exec python3 "$ROOT/bench/impact-mc/mc.py" --help ;;
    --no-build) build=0 ;;
    *) args+=("$a") ;;
  esac
done

if [ -n "${TRILINK:-}" ]; then
  build=0
else
  TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
  case "$TARGET" in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
  TRILINK=$TARGET/release/trilink
fi
if [ "$build" = 1 ]; then
  echo "[impact-mc] cargo build --release -p trilink" >&2
  (cd "$ROOT" && cargo build --release -p trilink --quiet)
fi
if [ ! -x "$TRILINK" ]; then
  echo "[impact-mc] no trilink binary at $TRILINK (build it, or set TRILINK)" >&2
  exit 3
fi
exec python3 "$ROOT/bench/impact-mc/mc.py" --trilink "$TRILINK" ${args[@]+"${args[@]}"}
