#!/usr/bin/env bash
# GOSPA (and position ANEES) of each nation's own tracks against its fused picture, scored by
# `trilink eval` against truth, over seeds of the built-ins.
#   bash bench/fusion-gospa/run.sh RUNS [scenario ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
shift || true
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(kn-23 salvo hwasong-12 chollima-1 hwasong-15 hwasong-18)
bin=target/release/trilink
[ -x "$bin" ] || cargo build --release --quiet
work=${OUT:-out/fusion-gospa}
mkdir -p "$work"
for s in "${scenarios[@]}"; do
    for seed in $(seq 1 "$runs"); do
        run="$work/$s-$seed"
        "$bin" run "$s" --seed "$seed" --out "$run" >/dev/null 2>&1
        for n in KR JP US; do
            for kind in tracks fused; do
                d="$work/eval-$s-$seed-$n-$kind"
                mkdir -p "$d"
                cp "$run"/sim/*.csv "$d"/
                cp "$run/$n/$kind.csv" "$d/tracks.csv"
                "$bin" eval "$d" 2>/dev/null > "$d/eval.json" || true
                python3 - "$d/eval.json" "$s" "$seed" "$n" "$kind" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], "eval failed")
    sys.exit(0)
g = (d.get("gospa") or {}).get("mean_m")
a = ((d.get("nees") or {}).get("position") or {}).get("average")
print(f"{sys.argv[2]:<11} seed {sys.argv[3]:>2} {sys.argv[4]} {sys.argv[5]:<6} gospa_mean_m {g} position_anees {a}")
PY
            done
        done
    done
done
