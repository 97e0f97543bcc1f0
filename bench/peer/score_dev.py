#!/usr/bin/env python3
"""Development-only scorer: GOSPA (p = 1, c = 5 km, alpha = 2) and position RMSE of a
tracks.csv against truth.csv on a 1 s grid.

NOT the reported figure: the harness reports `trilink eval`'s numbers for both trackers, so
that one scorer judges both. This exists to tune and test the Stone Soup side before
`trilink eval` exists. A track counts at grid time t if it has a row in (t - stale_s, t];
its last row is extrapolated to t at constant velocity.

Usage: score_dev.py DIR TRACKS_CSV [--json]
"""
import csv
import json
import sys

import numpy as np
from scipy.optimize import linear_sum_assignment

C_M = 5000.0
STALE_S = 10.0


def load(path, key):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows


def main():
    d, tracks_path = sys.argv[1], sys.argv[2]
    truth = {}
    for r in load(f"{d}/truth.csv", "object_id"):
        truth.setdefault(r["object_id"], []).append(
            (float(r["time_s"]), float(r["x_m"]), float(r["y_m"]), float(r["z_m"])))
    truth = {k: np.array(v) for k, v in truth.items()}
    tracks = {}
    for r in load(tracks_path, "track_id"):
        tracks.setdefault(r["track_id"], []).append(
            [float(r[c]) for c in ("time_s", "x_m", "y_m", "z_m", "vx_mps", "vy_mps", "vz_mps")])
    tracks = {k: np.array(v) for k, v in tracks.items()}
    t0 = min(v[0, 0] for v in truth.values())
    t1 = max(v[-1, 0] for v in truth.values())
    gospas, sq, n_sq = [], 0.0, 0
    for t in np.arange(np.ceil(t0), np.floor(t1) + 1.0):
        xs = [np.array([np.interp(t, v[:, 0], v[:, i]) for i in (1, 2, 3)])
              for v in truth.values() if v[0, 0] <= t <= v[-1, 0]]
        ys = []
        for v in tracks.values():
            i = np.searchsorted(v[:, 0], t, side="right") - 1
            if i >= 0 and t - v[i, 0] < STALE_S:
                ys.append(v[i, 1:4] + (t - v[i, 0]) * v[i, 4:7])
        if xs and ys:
            dist = np.linalg.norm(np.array(xs)[:, None, :] - np.array(ys)[None, :, :], axis=2)
            ri, ci = linear_sum_assignment(np.minimum(dist, C_M))
            matched = dist[ri, ci] < C_M
            loc = dist[ri, ci][matched].sum()
            sq += (dist[ri, ci][matched] ** 2).sum()
            n_sq += int(matched.sum())
            n_match = int(matched.sum())
        else:
            loc, n_match = 0.0, 0
        gospas.append(loc + C_M / 2 * (len(xs) - n_match + len(ys) - n_match))
    # Same field paths as `trilink eval`'s JSON, so the fake trilink can stand in for it.
    result = {"gospa": {"mean_m": float(np.mean(gospas))},
              "rmse": {"all": {"position_m": float(np.sqrt(sq / max(n_sq, 1)))}},
              "grid_points": len(gospas), "tracks": len(tracks), "scorer": "score_dev.py"}
    if "--json" in sys.argv[3:]:
        print(json.dumps(result))
    else:
        print(f"gospa_mean_m {result['gospa']['mean_m']:.1f}  "
              f"pos_rmse_m {result['rmse']['all']['position_m']:.1f}  "
              f"grid {len(gospas)}  tracks {len(tracks)}")


if __name__ == "__main__":
    main()
