#!/usr/bin/env python3
"""Stone Soup's own track-to-track fusion of the three nations' national tracks.

    stonesoup_fusion.py RUNDIR OUTCSV [options]

Reads RUNDIR/{KR,JP,US}/tracks.csv (brief §3.2 form, as `trilink run` writes them), replays
every national track as a Stone Soup Track, and fuses them the way Stone Soup's documentation
does it: `stonesoup.feeder.track.Tracks2GaussianDetectionFeeder` turns each track's newest
state into a GaussianDetection (its measurement model is a full-state LinearGaussian whose
noise is the track's covariance), and a `MultiTargetTracker` fuses those detections with
`stonesoup.updater.chernoff.ChernoffUpdater` (Chernoff fusion with a fixed ω, which for
Gaussians is covariance intersection; `--updater kalman` swaps in `KalmanUpdater`, which
assumes the inputs independent), a nearly-constant-velocity model per ECEF axis, a
`DistanceHypothesiser` with the Mahalanobis measure, `GNNWith2DAssignment`,
`MultiMeasurementInitiator` and `UpdateTimeDeleter`.

Inputs are fed in time order, one scan per (time, nation): a nation's tracks at one instant
are distinct objects as far as that nation knows, which is what a one-to-one assignment needs.

The contract's tracks.csv carries position covariance only. The 6-D Gaussian a feeder needs is
built with that position block and an assumed velocity variance per axis (`--vel-sigma-mps`,
no position/velocity cross terms); this is a limitation of the interchange file, not of
Stone Soup, and it is stated in docs/benchmarks/peer-fusion.md.

Writes OUTCSV (confirmed fused tracks, one row per update, position covariance only) and
prints one JSON line with the configuration, counts and the fusion loop's wall seconds
(reading and writing files are outside that clock).
Exit: 0 ok, 2 bad input, 1 other.
"""
import argparse
import json
import math
import os
import sys
import time
from datetime import datetime, timedelta

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peer"))
import contract  # noqa: E402  (bench/peer/contract.py: the interchange readers)

# Heavy imports before any timing.
import stonesoup
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.deleter.time import UpdateTimeDeleter
from stonesoup.feeder.track import Tracks2GaussianDetectionFeeder
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.transition.linear import (CombinedLinearGaussianTransitionModel,
                                                ConstantVelocity)
from stonesoup.predictor.kalman import KalmanPredictor
from stonesoup.tracker.simple import MultiTargetTracker
from stonesoup.types.array import CovarianceMatrix, StateVector
from stonesoup.types.state import GaussianState
from stonesoup.types.track import Track
from stonesoup.types.update import Update
from stonesoup.updater.chernoff import ChernoffUpdater
from stonesoup.updater.kalman import KalmanUpdater

NATIONS = ("KR", "JP", "US")
EPOCH = datetime(2000, 1, 1)
# Stone Soup state order for three CV axes: x, vx, y, vy, z, vz.
POS = [0, 2, 4]
VEL = [1, 3, 5]


class InputError(Exception):
    pass


def read_tracks(path, nation):
    """Rows (time_s, nation, track_id, pos[3], vel[3], cov3x3) of one nation's tracks.csv,
    read by the peer harness's contract reader (a header-only file: a nation that tracked
    nothing)."""
    try:
        rows = contract.read_tracks(path)
    except contract.ContractError as e:
        raise InputError(str(e)) from None
    return [(t, nation, tid, p, v, np.array(cov)) for t, tid, p, v, cov in rows]


class NationalTrackReplay:
    """Replays national tracks as Stone Soup Tracks: yields (timestamp, tracks updated now),
    one (time, nation) scan at a time, which is the input Tracks2GaussianDetectionFeeder
    expects (it takes each yielded track's newest state)."""

    def __init__(self, rows, vel_var):
        self.rows = rows
        self.vel_var = vel_var

    def __iter__(self):
        tracks = {}
        scan = []
        key = None
        for t, nation, tid, p, v, cov in self.rows:
            if key is not None and (t, nation) != key:
                yield EPOCH + timedelta(seconds=key[0]), set(scan)
                scan = []
            key = (t, nation)
            sv = np.zeros(6)
            sv[POS] = p
            sv[VEL] = v
            c = np.zeros((6, 6))
            c[np.ix_(POS, POS)] = cov
            c[VEL, VEL] = self.vel_var
            ts = EPOCH + timedelta(seconds=t)
            trk = tracks.get((nation, tid))
            if trk is None:
                trk = tracks[(nation, tid)] = Track(
                    [], init_metadata={"nation": nation, "national_id": tid})
            trk.append(GaussianState(StateVector(sv), CovarianceMatrix(c), timestamp=ts))
            scan.append(trk)
        if key is not None:
            yield EPOCH + timedelta(seconds=key[0]), set(scan)


def build(args):
    cv = ConstantVelocity(args.q)
    transition = CombinedLinearGaussianTransitionModel([cv, cv, cv])
    predictor = KalmanPredictor(transition)
    if args.updater == "chernoff":
        updater = ChernoffUpdater(measurement_model=None, omega=args.omega)
    else:
        updater = KalmanUpdater(measurement_model=None, force_symmetric_covariance=True)
    hypothesiser = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(),
                                        missed_distance=args.gate)
    associator = GNNWith2DAssignment(hypothesiser)
    # The feeder's detections measure the whole state, so the initiator takes its state and
    # covariance from the first detection; the prior is only a shape.
    prior = GaussianState(StateVector(np.zeros(6)), CovarianceMatrix(np.eye(6)))
    initiator = MultiMeasurementInitiator(
        prior_state=prior,
        deleter=UpdateTimeDeleter(timedelta(seconds=args.hold_after_s)),
        data_associator=associator, updater=updater, min_points=args.min_points)
    deleter = UpdateTimeDeleter(timedelta(seconds=args.delete_after_s))
    return predictor, updater, associator, initiator, deleter


def run(args):
    rows = []
    for n in NATIONS:
        rows.extend(read_tracks(os.path.join(args.rundir, n, "tracks.csv"), n))
    order = {n: i for i, n in enumerate(NATIONS)}
    rows.sort(key=lambda r: (r[0], order[r[1]]))
    times = {}
    for r in rows:
        times.setdefault(EPOCH + timedelta(seconds=r[0]), r[0])

    _, updater, associator, initiator, deleter = build(args)
    feeder = Tracks2GaussianDetectionFeeder(reader=NationalTrackReplay(rows, args.vel_sigma_mps ** 2))
    tracker = MultiTargetTracker(initiator=initiator, deleter=deleter, detector=feeder,
                                 data_associator=associator, updater=updater)
    numbers = {}
    out = {}
    start = time.perf_counter()
    for ts, tracks in tracker:
        for trk in tracks:
            st = trk.state
            if isinstance(st, Update) and st.hypothesis and st.timestamp == ts:
                num = numbers.setdefault(trk.id, len(numbers) + 1)
                # One row per (track, instant): a later scan at the same instant replaces it.
                out[(ts, num)] = (np.array(st.state_vector, dtype=float).ravel(),
                                  np.array(st.covar, dtype=float))
    loop_s = time.perf_counter() - start

    lines = []
    for (ts, num), (sv, c) in sorted(out.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        p = c[np.ix_(POS, POS)]
        vals = [times[ts], num, *sv[POS], *sv[VEL],
                p[0, 0], p[0, 1], p[0, 2], p[1, 1], p[1, 2], p[2, 2]]
        lines.append(",".join(repr(float(x)) if i != 1 else str(x) for i, x in enumerate(vals)))
    os.makedirs(os.path.dirname(os.path.abspath(args.outcsv)), exist_ok=True)
    with open(args.outcsv, "w", encoding="utf-8") as f:
        f.write(",".join(contract.TRACK_COLUMNS) + "\n")
        for line in lines:
            f.write(line + "\n")
    info = {
        "stonesoup_version": stonesoup.__version__,
        "updater": args.updater, "omega": args.omega if args.updater == "chernoff" else None,
        "q_m2_per_s3": args.q, "gate_mahalanobis": args.gate,
        "vel_sigma_mps": args.vel_sigma_mps, "min_points": args.min_points,
        "delete_after_s": args.delete_after_s, "hold_after_s": args.hold_after_s,
        "input_rows": len(rows), "fused_rows": len(lines), "fused_tracks": len(numbers),
        "loop_s": round(loop_s, 3),
    }
    print(json.dumps(info))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rundir", help="a `trilink run --out` directory with KR/, JP/, US/tracks.csv")
    p.add_argument("outcsv", help="fused tracks.csv to write")
    p.add_argument("--updater", choices=["chernoff", "kalman"], default="chernoff")
    p.add_argument("--omega", type=float, default=0.3,
                   help="ChernoffUpdater weight on the incoming track, in (0, 1)")
    p.add_argument("--q", type=float, default=1000.0,
                   help="CV process-noise intensity per ECEF axis, m^2/s^3")
    p.add_argument("--gate", type=float, default=10.0, help="Mahalanobis gate (distance)")
    p.add_argument("--vel-sigma-mps", type=float, default=200.0,
                   help="assumed 1-sigma velocity per axis of an incoming track (the CSV "
                        "has no velocity covariance)")
    p.add_argument("--min-points", type=int, default=2,
                   help="updates before a fused track is confirmed")
    p.add_argument("--delete-after-s", type=float, default=20.0,
                   help="delete a fused track after this long without an update")
    p.add_argument("--hold-after-s", type=float, default=10.0,
                   help="drop a tentative track after this long without an update")
    args = p.parse_args(argv)
    if not 0.0 < args.omega < 1.0:
        p.error(f"--omega {args.omega}: expected 0 < omega < 1")
    for name in ("q", "gate", "vel_sigma_mps", "delete_after_s", "hold_after_s"):
        v = getattr(args, name)
        if not (math.isfinite(v) and v > 0):
            p.error(f"--{name.replace('_', '-')} {v}: expected a finite number > 0")
    try:
        run(args)
    except InputError as e:
        print(f"stonesoup_fusion: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
