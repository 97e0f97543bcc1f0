#!/usr/bin/env python3
"""Driver of bench/peer-fusion/run.sh: per scenario and seed, `trilink run`, Stone Soup's fusion
of the three national track files, `trilink eval` of five track files, one table.

    harness.py --trilink BIN --python PY --work DIR --runs N [--timeout S] SCENARIO...

Scored per run: KR, JP, US own national tracks; trilink's US (hub) fused.csv; Stone Soup's
fusion of the same KR/JP/US tracks.csv. GOSPA mean (m) and position ANEES (3 is consistent)
from `trilink eval`. Timed: trilink's whole `run` (wall s) and Stone Soup's fusion (whole
process wall s, and its fusion loop alone). Results also go to WORK/results.jsonl.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COLS = [("KR", "KR/tracks.csv"), ("JP", "JP/tracks.csv"), ("US", "US/tracks.csv"),
        ("trilink hub", "US/fused.csv"), ("Stone Soup", "stonesoup/tracks.csv")]


def evaluate(trilink, rundir, tracks, scratch):
    if not os.path.exists(tracks):
        return None
    os.makedirs(scratch, exist_ok=True)
    for name in os.listdir(os.path.join(rundir, "sim")):
        if name.endswith(".csv"):
            shutil.copy(os.path.join(rundir, "sim", name), scratch)
    shutil.copy(tracks, os.path.join(scratch, "tracks.csv"))
    p = subprocess.run([trilink, "eval", scratch], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"[peer-fusion] trilink eval {scratch} failed: {p.stderr.strip()[-300:]}",
              file=sys.stderr)
        return None
    d = json.loads(p.stdout)
    nees = (d.get("nees") or {}).get("position") or {}
    return {"gospa_m": d["gospa"]["mean_m"], "anees": nees.get("average"),
            "rows": sum(1 for _ in open(tracks)) - 1}


def one(args, scenario, seed):
    rundir = os.path.join(args.work, f"{scenario}-s{seed}")
    t0 = time.perf_counter()
    p = subprocess.run([args.trilink, "run", scenario, "--seed", str(seed), "--out", rundir],
                       capture_output=True, text=True)
    trilink_s = time.perf_counter() - t0
    if p.returncode != 0:
        print(f"[peer-fusion] trilink run {scenario} --seed {seed} failed:\n{p.stderr[-800:]}",
              file=sys.stderr)
        sys.exit(3)
    out_csv = os.path.join(rundir, "stonesoup", "tracks.csv")
    os.makedirs(os.path.dirname(out_csv), exist_ok=True)
    if os.path.exists(out_csv):
        os.remove(out_csv)
    t0 = time.perf_counter()
    ss = {"status": "ok"}
    try:
        q = subprocess.run([args.python, os.path.join(HERE, "stonesoup_fusion.py"), rundir,
                            out_csv] + args.ss_args, capture_output=True, text=True,
                           timeout=args.timeout)
        if q.returncode != 0:
            ss = {"status": f"exit {q.returncode}"}
            print(f"[peer-fusion] stonesoup_fusion failed:\n{q.stderr[-800:]}", file=sys.stderr)
        else:
            ss.update(json.loads(q.stdout.strip().splitlines()[-1]))
    except subprocess.TimeoutExpired:
        ss = {"status": f"timeout {args.timeout:g} s"}
    ss_s = time.perf_counter() - t0
    scores = {}
    for label, rel in COLS:
        scores[label] = evaluate(args.trilink, rundir, os.path.join(rundir, rel),
                                 os.path.join(rundir, "eval", rel.replace("/", "_")))
    rec = {"scenario": scenario, "seed": seed, "trilink_run_s": trilink_s,
           "stonesoup_s": ss_s, "stonesoup": ss, "scores": scores}
    with open(os.path.join(args.work, "results.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(rec) + "\n")
    return rec


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def cell(s):
    if s is None:
        return "-"
    return f"{fmt(s['gospa_m'], '.0f')} / {fmt(s['anees'], '.2f')}"


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def table(recs):
    head = ["scenario", "seed"] + [c for c, _ in COLS] + ["trilink run s", "Stone Soup s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in recs:
        ss_t = f"{r['stonesoup_s']:.1f}"
        if r["stonesoup"]["status"] != "ok":
            ss_t += f" ({r['stonesoup']['status']})"
        lines.append("| " + " | ".join([r["scenario"], str(r["seed"])]
                                       + [cell(r["scores"][c]) for c, _ in COLS]
                                       + [f"{r['trilink_run_s']:.1f}", ss_t]) + " |")
    out = ["Per run: GOSPA mean (m) / position ANEES (3 = consistent; - = no tracks).", ""]
    out += lines
    out += ["", "Medians per scenario (over seeds):", ""]
    mh = ["scenario", "runs"] + [c for c, _ in COLS] + ["trilink run s", "Stone Soup s"]
    out += ["| " + " | ".join(mh) + " |", "|" + "---|" * len(mh)]
    for sc in dict.fromkeys(r["scenario"] for r in recs):
        rs = [r for r in recs if r["scenario"] == sc]
        cells = []
        for c, _ in COLS:
            g = median([r["scores"][c]["gospa_m"] if r["scores"][c] else None for r in rs])
            a = median([r["scores"][c]["anees"] if r["scores"][c] else None for r in rs])
            cells.append(f"{fmt(g, '.0f')} / {fmt(a, '.2f')}")
        out.append("| " + " | ".join([sc, str(len(rs))] + cells + [
            f"{median([r['trilink_run_s'] for r in rs]):.1f}",
            f"{median([r['stonesoup_s'] for r in rs]):.1f}"]) + " |")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trilink", required=True)
    p.add_argument("--python", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--runs", type=int, default=3, help="seeds 1..RUNS")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="cap on one Stone Soup fusion (wall s)")
    p.add_argument("--ss-arg", dest="ss_args", action="append", default=[],
                   help="extra argument for stonesoup_fusion.py (repeatable)")
    p.add_argument("scenarios", nargs="+")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    res = os.path.join(args.work, "results.jsonl")
    if os.path.exists(res):
        os.remove(res)
    recs = []
    for sc in args.scenarios:
        for seed in range(1, args.runs + 1):
            print(f"[peer-fusion] {sc} seed {seed}", file=sys.stderr, flush=True)
            recs.append(one(args, sc, seed))
    print(table(recs))


if __name__ == "__main__":
    main()
