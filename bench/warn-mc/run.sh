#!/usr/bin/env bash
# Monte Carlo of the warning chain over every built-in scenario but raid-1000: lead times,
# gains and wrong-area / missed / false counts, shared and alone. Extra arguments go to
# `trilink run` (e.g. `--warn p_issue=0.2`).
#   bash bench/warn-mc/run.sh RUNS [trilink run options...]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-20}
shift || true
bin=target/release/trilink
[ -x "$bin" ] || cargo build --release --quiet
out=${OUT:-out/warn-mc}
mkdir -p "$out"
for s in kn-23 salvo hwasong-12 chollima-1 hwasong-15 hwasong-18; do
    "$bin" run "$s" --runs "$runs" --seed 1 --out "$out/$s" "$@" > "$out/$s.txt" 2>/dev/null
    python3 - "$out/$s/summary.json" "$s" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
mc = d.get("monte_carlo", {})
for n in mc.get("nations", []):
    def sp(v):
        return "-" if not v else f"{v['median']:.0f} [{v['p10']:.0f},{v['p90']:.0f}]"
    s, a = n["scores_shared"], n["scores_alone"]
    print(f"{sys.argv[2]:<11} {n['nation']:<3} runs {n['runs']:>3}  lead shared {sp(n['lead_time_s']['shared']):>16}  alone {sp(n['lead_time_s']['alone']):>16}  gain {sp(n['gain_s']):>14}  "
          f"launch<=30s {n['launch_warnings_within_30_s']}/{n['launch_warnings']}  late-area {n['area_warnings_after_the_event']}  "
          f"W/M/F shared {s['wrong_area']}/{s['missed']}/{s['false']} alone {a['wrong_area']}/{a['missed']}/{a['false']}")
PY
done
