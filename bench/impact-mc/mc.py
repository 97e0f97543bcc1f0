#!/usr/bin/env python3
"""Whole-process Monte Carlo of trilink's impact-point 95 % ellipse (standard library only).

For each scenario and seed: `trilink simulate S --out D --seed k`, `trilink track D`,
`trilink eval D --json-only`. From eval's JSON it takes `impact.samples`: per truth object
that got an impact prediction, the prediction nearest each of eval's sample times to go
(60, 120, 300, 600 s; eval's `impact_sample_time_to_go_s`, within max(10 s, 10 %)) and the
last prediction before impact, each with whether the true impact lies inside its 95 %
ellipse and its squared Mahalanobis distance. It pools them over the runs and prints, per
scenario and time to go: coverage, its 95 % Wilson interval, the median miss distance and
the verdict against the target 95 +- 3 %.

The pooled unit is one object's prediction at one time to go in one run: runs are
independent (different seeds), and within a run each (object, time to go) is counted once,
so a track that lives long does not outweigh one that lives briefly.

Other columns: `d2 mean` is the mean squared Mahalanobis distance of the truth (2 if the
ellipse's covariance tells the truth; larger means the ellipses are too small or biased);
`bias maj` is the median signed error along the ellipse's major axis divided by the median
semi-major axis / 2.45 (a sigma-scaled bias: near 0 when centred). ANEES is eval's
position NEES average per run (3 when the tracker's covariance is consistent), median over
the runs, as a check on the filter itself.

Exit status: 0 (and with --check, 1 when a row misses the target), 2 bad arguments,
3 a trilink subcommand failed.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = 0.95
TOLERANCE = 0.03
# Two-sided 95 % normal quantile, for the Wilson interval.
Z95 = 1.959963984540054
# sqrt(chi2(2, 0.95)): semi-axis / this = the axis' standard deviation.
SQRT_CHI2_2_95 = math.sqrt(-2.0 * math.log(0.05))


def wilson(k, n, z=Z95):
    """Wilson score interval of a binomial proportion k/n; (nan, nan) when n = 0."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z / den * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def verdict(k, n):
    """'meets' when the coverage is inside 95 +- 3 %; otherwise 'LOW'/'HIGH', with '?' when
    the Wilson interval still reaches the target band (too few runs to be sure)."""
    if n == 0:
        return "-"
    p = k / n
    lo, hi = wilson(k, n)
    if TARGET - TOLERANCE <= p <= TARGET + TOLERANCE:
        return "meets"
    word = "LOW" if p < TARGET - TOLERANCE else "HIGH"
    reaches = hi >= TARGET - TOLERANCE and lo <= TARGET + TOLERANCE
    return word + ("?" if reaches else "")


def log(msg):
    print(f"[impact-mc] {msg}", file=sys.stderr, flush=True)


class ToolFailed(Exception):
    pass


def run_tool(cmd, capture=False):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise ToolFailed(
            f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr.strip()[-2000:]}"
        )
    return proc.stdout if capture else None


def one_run(trilink, scenario, seed, run_dir):
    """Simulate, track and evaluate one seed; returns (impact samples, the run's scores)."""
    run_tool([trilink, "simulate", scenario, "--out", run_dir, "--seed", str(seed)])
    run_tool([trilink, "track", run_dir])
    out = run_tool([trilink, "eval", run_dir, "--json-only"], capture=True)
    try:
        ev = json.loads(out)
    except json.JSONDecodeError as e:
        raise ToolFailed(f"trilink eval {run_dir}: output is not JSON ({e})")
    impact = ev.get("impact") or {}
    if "samples" not in impact:
        raise ToolFailed(
            f"trilink eval {run_dir}: JSON has no impact.samples (a trilink older than the "
            "harness, or no impacts.csv)"
        )
    pos = (ev.get("nees") or {}).get("position") or {}
    scores = {
        "anees": pos.get("average"),
        "gospa_m": (ev.get("gospa") or {}).get("mean_m"),
        "tracks": (ev.get("inputs") or {}).get("tracks"),
        "id_switches": (ev.get("continuity") or {}).get("id_switches"),
        "pcrlb_ratio": (ev.get("pcrlb") or {}).get("free_flight_ratio"),
    }
    return impact["samples"], scores


def ttg_label(target):
    return "last" if target is None else f"{target:g}"


def summarise(records, by_object):
    """Rows of the table: one per (scenario[, object], time to go)."""
    groups = {}
    for r in records:
        key = (r["scenario"], r["object_id"] if by_object else None, r["target_time_to_go_s"])
        groups.setdefault(key, []).append(r)

    def order(key):
        s, o, t = key
        return (s, o if o is not None else 0, -(t if t is not None else -1.0))

    rows = []
    for key in sorted(groups, key=order):
        g = groups[key]
        n = len(g)
        k = sum(1 for r in g if r["inside_95"])
        lo, hi = wilson(k, n)
        d2 = [r["mahalanobis2"] for r in g if r["mahalanobis2"] is not None]
        semi = statistics.median(r["semi_major_m"] for r in g)
        bias = statistics.median(r["error_major_m"] for r in g)
        sigma = semi / SQRT_CHI2_2_95
        rows.append(
            {
                "scenario": key[0],
                "object_id": key[1],
                "time_to_go_s": key[2],
                "runs": len({r["seed"] for r in g}),
                "samples": n,
                "inside": k,
                "coverage": k / n,
                "wilson_lo": lo,
                "wilson_hi": hi,
                "median_miss_m": statistics.median(r["error_m"] for r in g),
                "median_semi_major_m": semi,
                "mean_mahalanobis2": statistics.fmean(d2) if d2 else math.nan,
                "major_bias_sigma": bias / sigma if sigma > 0 else math.nan,
                "median_ttg_s": statistics.median(r["time_to_go_s"] for r in g),
                "verdict": verdict(k, n),
            }
        )
    return rows


def print_table(rows, anees, by_object, out=sys.stdout):
    head = ["scenario"] + (["obj"] if by_object else []) + [
        "ttg s", "runs", "n", "coverage", "Wilson 95 %", "median miss m",
        "median a95 m", "d2 mean", "bias maj", "verdict",
    ]
    body = []
    for r in rows:
        t = r["time_to_go_s"]
        ttg = "last" if t is None else f"{t:g}"
        if t is None:
            ttg += f" ({r['median_ttg_s']:.0f})"
        body.append(
            [r["scenario"]] + ([str(r["object_id"])] if by_object else []) + [
                ttg,
                str(r["runs"]),
                str(r["samples"]),
                f"{100 * r['coverage']:.1f} %",
                f"{100 * r['wilson_lo']:.1f}-{100 * r['wilson_hi']:.1f} %",
                f"{r['median_miss_m']:.0f}",
                f"{r['median_semi_major_m']:.0f}",
                f"{r['mean_mahalanobis2']:.2f}",
                f"{r['major_bias_sigma']:+.2f}",
                r["verdict"],
            ]
        )
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(head), file=out)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=out)
    for b in body:
        print(line(b), file=out)
    print(file=out)
    for s, runs in anees.items():
        v = [r["anees"] for r in runs if r["anees"] is not None]
        if v:
            print(
                f"{s}: position ANEES median {statistics.median(v):.2f} over {len(v)} runs "
                "(3 when the tracker's covariance is consistent)",
                file=out,
            )
        med = lambda key: statistics.median(vals) if (vals := [r[key] for r in runs if r[key] is not None]) else None
        g, pc = med("gospa_m"), med("pcrlb_ratio")
        tracks = [r["tracks"] for r in runs if r["tracks"] is not None]
        switches = sum(r["id_switches"] or 0 for r in runs)
        if g is not None:
            print(
                f"{s}: GOSPA median {g:.0f} m, tracks per run {statistics.mean(tracks):.1f}, "
                f"id switches {switches} in all"
                + (f", free-flight RMSE/PCRLB median {pc:.2f}" if pc is not None else ""),
                file=out,
            )


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench/impact-mc/run.sh",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "scenarios", nargs="*", default=["kn-23", "hwasong-12"], metavar="SCENARIO",
        help="built-in scenario names or scenario files (default: kn-23 hwasong-12)",
    )
    p.add_argument("--runs", type=int, default=50, metavar="N", help="seeds per scenario (default 50)")
    p.add_argument("--first-seed", type=int, default=1, metavar="K", help="seeds K..K+N-1 (default 1)")
    p.add_argument("--trilink", default=os.environ.get("TRILINK", "trilink"), help="the trilink binary")
    p.add_argument("--work", metavar="DIR", help="keep the run directories here (default: a temporary directory, removed)")
    p.add_argument("--by-object", action="store_true", help="one row per truth object id as well (1 = payload, 2.. = stages)")
    p.add_argument("--json", metavar="FILE", help="also write every sample and the table rows as JSON")
    p.add_argument("--check", action="store_true", help="exit 1 unless every row meets 95 +- 3 %%")
    a = p.parse_args(argv)
    if a.runs < 1:
        p.error(f"--runs {a.runs}: expected at least 1")
    if a.first_seed < 0:
        p.error(f"--first-seed {a.first_seed}: expected 0 or more")
    return a


def main(argv):
    a = parse_args(argv)
    tmp = None
    if a.work:
        work = a.work
        os.makedirs(work, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="impact-mc-")
        work = tmp.name
    records, anees = [], {}
    t0 = time.monotonic()
    try:
        for s in a.scenarios:
            label = os.path.splitext(os.path.basename(s))[0]
            anees[label] = []
            for i in range(a.runs):
                seed = a.first_seed + i
                d = os.path.join(work, f"{label}-{seed}")
                samples, scores = one_run(a.trilink, s, seed, d)
                anees[label].append(scores)
                for x in samples:
                    records.append(dict(x, scenario=label, seed=seed))
                inside = sum(1 for x in samples if x["inside_95"])
                log(f"{label} run {i + 1}/{a.runs} (seed {seed}): {len(samples)} samples, "
                    f"{inside} inside; {time.monotonic() - t0:.0f} s")
    except ToolFailed as e:
        log(str(e))
        return 3
    except OSError as e:
        log(f"cannot run {a.trilink}: {e}")
        return 3
    finally:
        if tmp is not None:
            tmp.cleanup()
    rows = summarise(records, False)
    if a.by_object:
        rows += summarise(records, True)
    print_table(summarise(records, False), anees, False)
    if a.by_object:
        print_table(summarise(records, True), {}, True)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump({"rows": rows, "samples": records, "runs": anees}, f, indent=1)
    if a.check and any(r["verdict"] != "meets" for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
