#!/usr/bin/env python3
"""One summary table from every DIR/**/peer.json that bench/peer/peer.py wrote under a work
directory (default out/peer), for docs/benchmarks/peer.md.

Usage: summarise.py [WORK] [SCENARIO ...]   (scenarios in the order given; default all)
"""
import glob
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def fmt(v, digits=0):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if abs(v) >= 1e5:
        return f"{v:.3g}"
    return f"{v:,.{digits}f}"


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "out", "peer")
    order = sys.argv[2:]
    found = {}
    for path in glob.glob(os.path.join(work, "**", "peer.json"), recursive=True):
        if os.path.dirname(os.path.abspath(path)) == os.path.abspath(work):
            continue  # the per-invocation list, not a scenario
        with open(path, encoding="utf-8") as f:
            s = json.load(f)
        found[s["scenario"]] = s
    names = order or sorted(found)
    print("| scenario | detections | span | GOSPA trilink (m) | GOSPA Stone Soup best (m) "
          "| Stone Soup / trilink GOSPA | RMSE trilink / Stone Soup (m) | detections/s trilink "
          "| detections/s Stone Soup | speed ratio (wall) | speed ratio (CPU) |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in names:
        if n not in found:
            print(f"| {n} | not run | | | | | | | | | |")
            continue
        s = found[n]
        tl, b = s["trilink"], s["stonesoup_best"]
        span = s["window"].split(" only")[0] if "first" in s["window"] else "whole"
        print(f"| {n} | {s['detections']} | {span} | {fmt(tl['gospa_m'])} | "
              f"{fmt(b['gospa_m'])} ({b['label'].replace(' m²/s³', '')}) | "
              f"{fmt(s['gospa_ratio'], 2)}× | {fmt(tl['rmse_m'])} / {fmt(b['rmse_m'])} | "
              f"{fmt(tl['detections_per_s'])} | {fmt(b['detections_per_s'], 1)} | "
              f"{fmt(s['speed_ratio'])}× | {fmt(s.get('cpu_speed_ratio'))}× |")


if __name__ == "__main__":
    main()
