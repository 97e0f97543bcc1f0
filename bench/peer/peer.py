#!/usr/bin/env python3
"""Side-by-side peer comparison: trilink against the best Stone Soup configuration on the
same files. Normally started by bench/peer/run.sh, which prepares the venv and the binary.

For every scenario: `trilink simulate NAME --out DIR --seed S` (or an existing directory in
the brief §3.2 form), then `trilink track` (timed, whole process), then the Stone Soup tracker
for each process-noise setting (tracking loop timed), then `trilink eval` on every output so
one scorer judges both, and one table per scenario (DIR/peer.md and stdout).

Exit codes: 0 ok; 2 bad arguments or input; 3 a trilink subcommand this needs is missing or
failing; 1 anything else.
"""
import argparse
import concurrent.futures
import hashlib
import resource
import datetime
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_SCENARIOS = ["kn-23", "hwasong-12", "hwasong-15", "hwasong-18", "chollima-1", "salvo"]
# Spans 1e-2 .. 1e4 m^2/s^3 in 1.5-decade steps. Gravity (~10 m/s^2) unmodelled by CV acts
# like white acceleration noise of intensity ~ g^2 x revisit, i.e. 1e2 .. 1e3 for 1-10 s.
DEFAULT_Q = [0.01, 0.3162, 10.0, 316.2, 10000.0]
INPUTS = ["sensors.csv", "detections.csv", "truth.csv", "labels.csv"]
EXIT_INPUT, EXIT_MISSING = 2, 3


class Missing(Exception):
    """A trilink subcommand the harness needs is not there or fails."""


class BadInput(Exception):
    """A bad argument or input file."""


def log(msg):
    print(f"[peer {datetime.datetime.now(datetime.timezone.utc):%H:%M:%S}] {msg}",
          file=sys.stderr, flush=True)


def run_trilink(trilink, argv, what):
    """Runs trilink; on failure raises Missing with its stderr so the user sees why."""
    cmd = [trilink] + argv
    log("$ " + shlex.join(cmd))
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall_s = time.perf_counter() - t0
    p.cpu_s = children_cpu_s()
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-5:]
        raise Missing(f"`trilink {what}` failed (exit {p.returncode}): "
                      + " | ".join(tail) + f"\n  command: {shlex.join(cmd)}")
    return p, wall_s


_cpu_seen = [0.0]


def children_cpu_s():
    """CPU seconds (user + system) used by children since the previous call. Only meaningful
    while one child runs at a time, which is how trilink is run here."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ru.ru_utime + ru.ru_stime
    delta = total - _cpu_seen[0]
    _cpu_seen[0] = total
    return delta


def count_rows(path):
    with open(path, "rb") as f:
        n = sum(1 for line in f if line.strip())
    return max(n - 1, 0)


def crop(src, dst, t_max_s):
    """Copies a scenario directory keeping only rows with time_s <= t_max_s, so that both
    trackers and the scorer see exactly the same shortened files."""
    os.makedirs(dst, exist_ok=True)
    shutil.copyfile(os.path.join(src, "sensors.csv"), os.path.join(dst, "sensors.csv"))
    kept = None
    for name in ["detections.csv", "labels.csv", "truth.csv"]:
        s = os.path.join(src, name)
        if not os.path.exists(s):
            continue
        with open(s, encoding="utf-8") as fin, \
                open(os.path.join(dst, name), "w", encoding="utf-8") as fout:
            header = fin.readline()
            fout.write(header)
            col = header.strip().split(",").index("time_s")
            n = 0
            for line in fin:
                if not line.strip():
                    continue
                if float(line.split(",")[col]) > t_max_s:
                    # detections and labels are in time order; truth is too (>= 10 Hz grid).
                    break
                fout.write(line)
                n += 1
            if name == "detections.csv":
                kept = n
            elif name == "labels.csv" and kept is not None and n != kept:
                raise BadInput(f"{s}: {n} rows up to t = {t_max_s} s but detections.csv has "
                               f"{kept}; labels must match detections row for row")


def link_inputs(scen_dir, out_dir):
    for name in INPUTS:
        src = os.path.join(scen_dir, name)
        dst = os.path.join(out_dir, name)
        if os.path.exists(src) and not os.path.exists(dst):
            os.symlink(os.path.relpath(src, out_dir), dst)


def flatten(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield prefix, float(obj)


def pick(metrics, must, avoid):
    """The first numeric key containing every word of `must` and none of `avoid`."""
    for key, value in flatten(metrics):
        k = key.lower()
        if all(w in k for w in must) and not any(w in k for w in avoid):
            return key, value
    return None, math.nan


def at_path(obj, path):
    """(found, value) for a dotted path; value NaN when the field is null."""
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return False, math.nan
        obj = obj[part]
    if obj is None:
        return True, math.nan
    return isinstance(obj, (int, float)), float(obj) if isinstance(obj, (int, float)) else math.nan


# Field names of `trilink eval`'s JSON (crates/eval/src/evaluate.rs, `Summary`).
GOSPA_PATH = "gospa.mean_m"
RMSE_PATH = "rmse.all.position_m"


def read_scores(eval_json):
    """GOSPA mean and position RMSE from `trilink eval`'s JSON: the known field paths first,
    then a search by key name so that a renamed field is found rather than silently lost.
    A null RMSE (no track row assigned to any object) stays NaN: no fallback to another
    field."""
    found, gospa = at_path(eval_json, GOSPA_PATH)
    g_key = GOSPA_PATH if found else None
    if not found:
        g_key, gospa = pick(eval_json, ["gospa", "mean"], ["loc", "miss", "false", "switch"])
    found, rmse = at_path(eval_json, RMSE_PATH)
    r_key = RMSE_PATH if found else None
    if not found:
        r_key, rmse = pick(eval_json, ["rmse", "pos"], ["vel", "pcrlb", "ratio", "free"])
    return {"gospa_m": gospa, "rmse_m": rmse, "gospa_key": g_key, "rmse_key": r_key,
            "rmse_free_flight_m": at_path(eval_json, "rmse.free_flight.position_m")[1],
            "gospa_missed_m": at_path(eval_json, "gospa.mean_missed_m")[1],
            "gospa_false_m": at_path(eval_json, "gospa.mean_false_m")[1],
            "tracks": at_path(eval_json, "inputs.tracks")[1],
            "objects": at_path(eval_json, "inputs.objects")[1]}


def evaluate(trilink, scen_dir, out_dir):
    link_inputs(scen_dir, out_dir)
    p, _ = run_trilink(trilink, ["eval", out_dir, "--json-only"], "eval")
    try:
        metrics = json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise Missing(f"`trilink eval {out_dir}` did not print JSON on stdout ({e})") from e
    with open(os.path.join(out_dir, "eval.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2)
    scores = read_scores(metrics)
    if scores["gospa_key"] is None:
        raise Missing(f"`trilink eval` JSON has no GOSPA field; keys: "
                      + ", ".join(k for k, _ in flatten(metrics)))
    return scores


def input_sha256(dirpath):
    h = hashlib.sha256()
    for name in ("sensors.csv", "detections.csv"):
        with open(os.path.join(dirpath, name), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def reusable(out, argv_tail, sha):
    """A finished earlier run on byte-identical inputs with the same options, or None."""
    try:
        with open(os.path.join(out, "timing.json"), encoding="utf-8") as f:
            timing = json.load(f)
    except (OSError, json.JSONDecodeError):
        return None
    if timing.get("input_sha256") != sha or timing.get("argv", [None])[1:] != argv_tail:
        return None
    if not os.path.exists(os.path.join(out, "tracks.csv")):
        return None
    return timing


def run_stonesoup(python, scen_dir, model, q, extra, reuse):
    out = os.path.join(scen_dir, f"stonesoup-{model}-q{q:g}")
    cmd = [python, os.path.join(HERE, "stonesoup_tracker.py"), scen_dir, "--out", out,
           "--q", repr(q), "--model", model] + extra
    if reuse:
        # argv as the tracker saw it: DIR first, then options (DIR may differ by path only).
        timing = reusable(out, cmd[3:], input_sha256(scen_dir))
        if timing is not None:
            log(f"reusing {out} (same inputs and options, finished {timing['finished_utc']})")
            timing["reused"] = True
            return out, timing
    log("$ " + shlex.join(cmd))
    # One core per Stone Soup process: keep BLAS from spreading small matrix work over threads.
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise (BadInput if p.returncode == 2 else RuntimeError)(
            f"Stone Soup tracker failed (exit {p.returncode}) on {scen_dir} q={q}: "
            + p.stderr.strip()[-2000:])
    with open(os.path.join(out, "timing.json"), encoding="utf-8") as f:
        timing = json.load(f)
    return out, timing


def fmt(v, digits=0):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if abs(v) >= 1e5:
        return f"{v:.3g}"
    return f"{v:,.{digits}f}"


def table(name, info, tl, sweep):
    best = min(sweep, key=lambda r: (math.isnan(r["gospa_m"]), r["gospa_m"]))
    speed_ratio = tl["detections_per_s"] / best["detections_per_s"]
    cpu_ratio = tl["detections_per_cpu_s"] / best["detections_per_cpu_s"]
    gospa_ratio = best["gospa_m"] / tl["gospa_m"] if tl["gospa_m"] > 0 else math.inf
    rmse_ratio = best["rmse_m"] / tl["rmse_m"] if tl["rmse_m"] > 0 else math.inf
    lines = [
        f"### {name}",
        "",
        f"{info['detections']} detections, {info['window']}; scorer `trilink eval` "
        f"(GOSPA p = 1, c = 5 km, alpha = 2; fields `{tl['gospa_key']}`, `{tl['rmse_key']}`).",
        "",
        "| tracker | configuration | GOSPA mean (m) | position RMSE (m) | detections/s | "
        "detections/CPU-s | tracks / objects |",
        "|---|---|---:|---:|---:|---:|---:|",
        f"| trilink | `trilink track`, whole process, median of {tl['repeats']} runs "
        f"({statistics.median(tl['walls_s']):.3f} s wall, "
        f"{statistics.median(tl['cpu_s']):.3f} s CPU) | "
        f"{fmt(tl['gospa_m'])} | {fmt(tl['rmse_m'])} | {fmt(tl['detections_per_s'])} | "
        f"{fmt(tl['detections_per_cpu_s'])} | {fmt(tl['tracks'])} / {fmt(tl['objects'])} |",
        f"| Stone Soup {best['version']} (best of {len(sweep)}) | {best['label']} | "
        f"{fmt(best['gospa_m'])} | {fmt(best['rmse_m'])} | {fmt(best['detections_per_s'])} | "
        f"{fmt(best['detections_per_cpu_s'])} | {fmt(best['tracks'])} / "
        f"{fmt(best['objects'])} |",
        f"| **ratio** | Stone Soup / trilink (GOSPA, RMSE); trilink / Stone Soup (speed) | "
        f"**{fmt(gospa_ratio, 2)}×** | {fmt(rmse_ratio, 2)}× | **{fmt(speed_ratio, 0)}×** | "
        f"{fmt(cpu_ratio, 0)}× | |",
        "",
        "<details><summary>Stone Soup sweep</summary>",
        "",
        "| configuration | GOSPA mean (m) | missed / false part (m) | position RMSE (m) | "
        "detections/s | loop s | confirmed tracks |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sweep:
        mark = " (best)" if r is best else ""
        if r.get("reused_from"):
            mark += f" [measured {r['reused_from']}]"
        lines.append(f"| {r['label']}{mark} | {fmt(r['gospa_m'])} | "
                     f"{fmt(r['gospa_missed_m'])} / {fmt(r['gospa_false_m'])} | "
                     f"{fmt(r['rmse_m'])} | "
                     f"{fmt(r['detections_per_s'])} | {fmt(r['loop_s'], 1)} | "
                     f"{r['tracks_confirmed']} |")
    lines += ["", "</details>", ""]
    summary = {"scenario": name, "detections": info["detections"], "window": info["window"],
               "trilink": tl, "stonesoup_best": best, "stonesoup_sweep": sweep,
               "speed_ratio": speed_ratio, "cpu_speed_ratio": cpu_ratio,
               "gospa_ratio": gospa_ratio, "rmse_ratio": rmse_ratio}
    return "\n".join(lines), summary


def machine():
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next((l.split(":", 1)[1].strip() for l in out.splitlines()
                      if l.startswith("Model name")), "")
    except OSError:
        pass
    return f"{os.cpu_count()} logical CPUs, {model or platform.processor() or 'unknown CPU'}"


def git_rev():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def one_scenario(args, name):
    if os.path.isdir(name) and os.path.exists(os.path.join(name, "detections.csv")):
        src = os.path.abspath(name)
        label = os.path.basename(src.rstrip("/"))
        scen_dir = os.path.join(args.work, label)
        os.makedirs(scen_dir, exist_ok=True)
        if os.path.realpath(src) != os.path.realpath(scen_dir):
            for f in INPUTS:
                if os.path.exists(os.path.join(src, f)):
                    shutil.copyfile(os.path.join(src, f), os.path.join(scen_dir, f))
    else:
        label = name
        scen_dir = os.path.join(args.work, label)
        os.makedirs(scen_dir, exist_ok=True)
        run_trilink(args.trilink, ["simulate", name, "--out", scen_dir, "--seed",
                                   str(args.seed)], "simulate")
    for f in INPUTS:
        if not os.path.exists(os.path.join(scen_dir, f)):
            raise BadInput(f"{scen_dir}: no {f}; the comparison needs all of "
                           + ", ".join(INPUTS))
    window = "whole scenario"
    if args.window_s is not None:
        cropped = os.path.join(scen_dir, f"window-{args.window_s:g}s")
        crop(scen_dir, cropped, args.window_s)
        scen_dir = cropped
        window = f"first {args.window_s:g} s only (--window-s)"
    n_det = count_rows(os.path.join(scen_dir, "detections.csv"))
    if n_det == 0:
        raise BadInput(f"{scen_dir}/detections.csv has no rows")

    # trilink: whole-process wall time, median of a few runs (it is quick, and process
    # start-up noise matters more than for minute-long Stone Soup loops).
    tl_out = os.path.join(scen_dir, "trilink")
    walls, cpus = [], []
    children_cpu_s()
    for _ in range(args.trilink_repeats):
        p, wall_s = run_trilink(args.trilink, ["track", scen_dir, "--out", tl_out], "track")
        walls.append(wall_s)
        cpus.append(p.cpu_s)
    if not os.path.exists(os.path.join(tl_out, "tracks.csv")):
        raise Missing(f"`trilink track` wrote no {tl_out}/tracks.csv")
    wall_s = statistics.median(walls)
    cpu_s = statistics.median(cpus)
    tl = {"wall_s": wall_s, "walls_s": walls, "cpu_s": cpus, "repeats": len(walls),
          "detections_per_s": n_det / wall_s,
          "detections_per_cpu_s": n_det / cpu_s if cpu_s > 0 else math.inf}
    tl.update(evaluate(args.trilink, scen_dir, tl_out))

    extra = []
    if args.min_points is not None:
        extra += ["--min-points", str(args.min_points)]
    if args.gate is not None:
        extra += ["--gate", repr(args.gate)]
    sweep = []

    def run_batch(jobs):
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(run_stonesoup, args.python, scen_dir, m, q, extra,
                                   args.reuse)
                       for m, q in jobs]
            for (m, q), fut in zip(jobs, futures):
                out, timing = fut.result()
                scores = evaluate(args.trilink, scen_dir, out)
                unit = "m²/s³" if m == "cv" else "m²/s⁵"
                sweep.append({"label": f"{m.upper()} q = {q:.4g} {unit}", "model": m, "q": q,
                              "version": timing["stonesoup_version"],
                              "detections_per_s": timing["detections_per_s"],
                              "loop_s": timing["loop_s"],
                              "detections_per_cpu_s": timing["detections_per_cpu_s"],
                              "tracks_confirmed": timing["tracks_confirmed"],
                              "reused_from": timing.get("finished_utc")
                              if timing.get("reused") else None,
                              "config": timing["config"], **scores})

    qs = sorted(args.q)
    run_batch([(m, q) for m in args.models for q in qs])
    if args.refine and len(qs) > 1:
        # Look beyond an edge optimum, and halve the log step either side of an inner one, so
        # that the reported "best" is not an artefact of where the grid happened to fall.
        step = (qs[-1] / qs[0]) ** (1.0 / (len(qs) - 1))
        more = []
        for m in args.models:
            rows = [r for r in sweep if r["model"] == m and math.isfinite(r["gospa_m"])]
            if not rows:
                continue
            q_best = min(rows, key=lambda r: r["gospa_m"])["q"]
            if q_best == qs[-1]:
                cand = [q_best * step, q_best / math.sqrt(step)]
            elif q_best == qs[0]:
                cand = [q_best / step, q_best * math.sqrt(step)]
            else:
                cand = [q_best / math.sqrt(step), q_best * math.sqrt(step)]
            more += [(m, q) for q in cand]
        run_batch(more)
    sweep.sort(key=lambda r: (r["model"], r["q"]))
    text, summary = table(label, {"detections": n_det, "window": window}, tl, sweep)
    with open(os.path.join(scen_dir, "peer.md"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    with open(os.path.join(scen_dir, "peer.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    return text, summary


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenarios", nargs="*",
                   help="built-in scenario names (default: " + " ".join(DEFAULT_SCENARIOS)
                        + "), or directories already holding the §3.2 files")
    p.add_argument("--trilink", required=True, help="path of the trilink binary")
    p.add_argument("--python", default=sys.executable,
                   help="python with stonesoup installed (default: this one)")
    p.add_argument("--work", default=os.path.join(ROOT, "out", "peer"),
                   help="working directory, one subdirectory per scenario (default out/peer)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--q", type=float, nargs="+", default=DEFAULT_Q,
                   help="process-noise intensities to sweep")
    p.add_argument("--models", nargs="+", choices=["cv", "ca"], default=["cv"],
                   help="Stone Soup motion models to sweep (default cv)")
    p.add_argument("--gate", type=float, default=None, help="Mahalanobis gate for Stone Soup")
    p.add_argument("--min-points", type=int, default=None, help="Stone Soup initiator points")
    p.add_argument("--window-s", type=float, default=None,
                   help="use only the first T seconds of every file (both trackers and the "
                        "scorer), to keep Stone Soup's run time bounded on large scenarios")
    p.add_argument("--refine", action=argparse.BooleanOptionalAction, default=True,
                   help="after the sweep, run two more q per model around the best (one "
                        "step beyond it if it is at an edge); default on")
    p.add_argument("--reuse", action=argparse.BooleanOptionalAction, default=True,
                   help="keep a Stone Soup result already in WORK when its inputs are "
                        "byte-identical (sha256) and its options the same; the table says so. "
                        "Default on")
    p.add_argument("--jobs", type=int, default=1,
                   help="Stone Soup runs in parallel (each is one single-threaded process; "
                        "more than the free cores distorts its detections/s)")
    p.add_argument("--trilink-repeats", type=int, default=3)
    p.add_argument("--trilink-rev", default=None,
                   help="commit the binary was built from, for the report (default: HEAD of "
                        "this checkout)")
    p.add_argument("--out-md", default=None,
                   help="also write all tables to this file (default WORK/peer.md)")
    args = p.parse_args()
    args.scenarios = args.scenarios or DEFAULT_SCENARIOS
    args.work = os.path.abspath(args.work)
    if not os.access(args.trilink, os.X_OK):
        print(f"peer: trilink binary {args.trilink} not found or not executable "
              "(run bench/peer/run.sh, which builds it)", file=sys.stderr)
        return EXIT_MISSING
    if args.jobs < 1 or args.trilink_repeats < 1:
        p.error("--jobs and --trilink-repeats must be >= 1")
    if any(not (q > 0 and math.isfinite(q)) for q in args.q):
        p.error("--q values must be finite and > 0")
    os.makedirs(args.work, exist_ok=True)

    started = datetime.datetime.now(datetime.timezone.utc)
    header = [
        "## Peer comparison: trilink vs Stone Soup",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC; trilink built from commit "
        f"{args.trilink_rev or git_rev()}",
        f"- machine: {machine()}; load average at start "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1/5/15 min)",
        "- command: `" + os.environ.get("PEER_CMDLINE", shlex.join(sys.argv)) + "`",
        f"- Stone Soup sweep: models {', '.join(args.models)}, q = "
        + ", ".join(f"{q:g}" for q in args.q)
        + (" then two refinements around the best" if args.refine else "")
        + f"; {args.jobs} Stone Soup run(s) at a time",
        "",
    ]
    texts, summaries = [], []
    try:
        for name in args.scenarios:
            log(f"scenario {name}")
            text, summary = one_scenario(args, name)
            print(text, flush=True)
            texts.append(text)
            summaries.append(summary)
    except Missing as e:
        print(f"peer: trilink is not ready for this comparison:\n  {e}", file=sys.stderr)
        return EXIT_MISSING
    except BadInput as e:
        print(f"peer: {e}", file=sys.stderr)
        return EXIT_INPUT
    finally:
        if texts:
            out_md = args.out_md or os.path.join(args.work, "peer.md")
            with open(out_md, "w", encoding="utf-8") as f:
                f.write("\n".join(header) + "\n" + "\n".join(texts) + "\n")
            with open(os.path.join(args.work, "peer.json"), "w", encoding="utf-8") as f:
                json.dump(summaries, f, indent=2)
            log(f"tables written to {out_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
