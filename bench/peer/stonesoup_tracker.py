#!/usr/bin/env python3
"""The peer: a fair Stone Soup multi-target tracker on brief §3.2 files.

Kalman filter on converted measurements (each AER detection turned into an ECEF point with
its first-order covariance J R J^T, carried by the Detection's own LinearGaussian model),
nearly-constant-velocity (or -acceleration) motion in 3-D, Mahalanobis distance gating,
global-nearest-neighbour 2-D assignment, multi-measurement initiation, time-based deletion.
Choices and their reasons: docs/decisions/0601-stonesoup-peer.md.

Writes OUT/tracks.csv (confirmed tracks, one row per update, ECEF, position covariance upper
triangle) and OUT/timing.json. Only the tracking loop is timed: file parsing, conversion and
output writing are outside the clock.

Exit codes: 0 ok, 2 bad input, 1 anything else.
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time
from datetime import datetime, timedelta, timezone

import numpy as np

import contract
import geo

# Heavy imports happen here, before any timing.
from stonesoup.base import Property
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.deleter.base import Deleter
from stonesoup.deleter.error import CovarianceBasedDeleter
from stonesoup.deleter.multi import CompositeDeleter
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.measurement.linear import LinearGaussian
from stonesoup.models.transition.linear import (CombinedLinearGaussianTransitionModel,
                                                ConstantAcceleration, ConstantVelocity)
from stonesoup.predictor.kalman import KalmanPredictor
from stonesoup.tracker.simple import MultiTargetTracker
from stonesoup.types.array import CovarianceMatrix, StateVector
from stonesoup.types.detection import Detection
from stonesoup.types.state import GaussianState
from stonesoup.types.update import Update
from stonesoup.updater.kalman import KalmanUpdater

EPOCH = datetime(2000, 1, 1)


class RecentUpdateTimeDeleter(Deleter):
    """Deletes a track with no measurement update in the last `time_since_update`.

    Same rule as Stone Soup's UpdateTimeDeleter, but it walks the track backwards and stops at
    the first update, where UpdateTimeDeleter slices the whole history by time on every call
    (quadratic in flight length). Keeping the peer from paying for that is the fair choice.
    """
    time_since_update: timedelta = Property(doc="Maximum time since last update")

    def check_for_deletion(self, track, timestamp=None, **kwargs):
        now = track.timestamp if timestamp is None else timestamp
        horizon = now - self.time_since_update
        for state in reversed(track.states):
            if state.timestamp < horizon:
                return True
            if isinstance(state, Update) and state.hypothesis:
                return False
        return True


def build_tracker(args, revisit_s):
    ndim_axis = 2 if args.model == "cv" else 3
    if args.model == "cv":
        axis = ConstantVelocity(args.q)
    else:
        axis = ConstantAcceleration(args.q)
    transition = CombinedLinearGaussianTransitionModel([axis, axis, axis])
    predictor = KalmanPredictor(transition)
    # No updater-level model: each Detection carries its own converted-measurement model.
    updater = KalmanUpdater(measurement_model=None, use_joseph_cov=True,
                            force_symmetric_covariance=True)
    hypothesiser = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(),
                                        missed_distance=args.gate)
    associator = GNNWith2DAssignment(hypothesiser)

    ndim = 3 * ndim_axis
    prior_var = np.zeros(ndim)
    for axis_i in range(3):
        base = axis_i * ndim_axis
        prior_var[base] = 0.0  # position comes from the first detection
        prior_var[base + 1] = args.prior_speed_mps ** 2
        if ndim_axis == 3:
            prior_var[base + 2] = args.prior_accel_mps2 ** 2
    prior = GaussianState(StateVector(np.zeros(ndim)), CovarianceMatrix(np.diag(prior_var)))

    delete_after_s = args.delete_after_s or max(3.0 * revisit_s, 10.0)
    hold_after_s = args.hold_after_s or max(2.5 * revisit_s, 5.0)
    pos_idx = [i * ndim_axis for i in range(3)]
    deleter = CompositeDeleter([
        RecentUpdateTimeDeleter(timedelta(seconds=delete_after_s)),
        CovarianceBasedDeleter(covar_trace_thresh=3.0 * args.max_pos_sigma_m ** 2,
                               mapping=pos_idx),
    ], intersect=False)
    init_deleter = RecentUpdateTimeDeleter(timedelta(seconds=hold_after_s))
    initiator = MultiMeasurementInitiator(prior_state=prior, deleter=init_deleter,
                                          data_associator=associator, updater=updater,
                                          min_points=args.min_points)
    tracker = MultiTargetTracker(initiator=initiator, deleter=deleter, detector=None,
                                 data_associator=associator, updater=updater)
    config = {"model": args.model, "q_m2_per_s3": args.q, "gate_mahalanobis": args.gate,
              "min_points": args.min_points, "prior_speed_mps": args.prior_speed_mps,
              "delete_after_s": delete_after_s, "hold_after_s": hold_after_s,
              "max_pos_sigma_m": args.max_pos_sigma_m, "revisit_s": revisit_s}
    if args.model == "ca":
        config["prior_accel_mps2"] = args.prior_accel_mps2
    return tracker, ndim_axis, config


def estimate_revisit_s(scans):
    """Median time between successive scans of the same sensor, largest over sensors."""
    times = {}
    for t, sid, _ in scans:
        times.setdefault(sid, []).append(t)
    per_sensor = [float(np.median(np.diff(ts))) for ts in times.values() if len(ts) > 1]
    return max(per_sensor) if per_sensor else 1.0


def make_scans(rows, sensors, ndim_axis):
    """Groups rows into scans (same time, same sensor) in time order and builds Stone Soup
    Detections with their own converted-measurement LinearGaussian model."""
    sites = {sid: (geo.geodetic_to_ecef(lat, lon, alt), geo.enu_to_ecef_rotation(lat, lon))
             for sid, (_, lat, lon, alt) in sensors.items()}
    if not rows:
        return []
    arr = np.array([r[2:] for r in rows], dtype=float)
    sids = [r[1] for r in rows]
    pos = np.empty((len(rows), 3))
    cov = np.empty((len(rows), 3, 3))
    for sid, (site, rot) in sites.items():
        idx = np.array([i for i, s in enumerate(sids) if s == sid], dtype=int)
        if idx.size == 0:
            continue
        p, c = geo.aer_to_ecef(site, rot, arr[idx, 0], arr[idx, 1], arr[idx, 2],
                               arr[idx, 3], arr[idx, 4], arr[idx, 5])
        pos[idx] = p
        cov[idx] = c
    mapping = tuple(i * ndim_axis for i in range(3))
    ndim = 3 * ndim_axis
    scans = []
    current = {}
    current_t = None
    for i, r in enumerate(rows):
        t = r[0]
        if current_t is not None and t != current_t:
            scans.extend((current_t, s, d) for s, d in current.items())
            current = {}
        current_t = t
        ts = EPOCH + timedelta(seconds=t)
        model = LinearGaussian(ndim_state=ndim, mapping=mapping,
                               noise_covar=CovarianceMatrix(cov[i]))
        det = Detection(StateVector(pos[i]), timestamp=ts, measurement_model=model)
        current.setdefault(r[1], set()).add(det)
    scans.extend((current_t, s, d) for s, d in current.items())
    return scans


def input_sha256(dirpath):
    """Digest of the two input files, so a later run can tell whether a result is reusable."""
    h = hashlib.sha256()
    for name in ("sensors.csv", "detections.csv"):
        with open(os.path.join(dirpath, name), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def run(args):
    sensors = contract.read_sensors(os.path.join(args.dir, "sensors.csv"))
    rows = contract.read_detections(os.path.join(args.dir, "detections.csv"), sensors,
                                    t_max_s=args.t_max_s)
    # ndim_axis is known before the tracker is built; build scans once with it.
    ndim_axis = 2 if args.model == "cv" else 3
    scans = make_scans(rows, sensors, ndim_axis)
    revisit_s = estimate_revisit_s(scans)
    tracker, ndim_axis, config = build_tracker(args, revisit_s)

    pos_idx = [i * ndim_axis for i in range(3)]
    vel_idx = [i * ndim_axis + 1 for i in range(3)]
    track_numbers = {}
    out_rows = []

    start = time.perf_counter()
    start_cpu = time.process_time()
    for t, _sid, detections in scans:
        ts = EPOCH + timedelta(seconds=t)
        _, tracks = tracker.update_tracker(ts, detections)
        for track in tracks:
            state = track.state
            if (isinstance(state, Update) and state.hypothesis
                    and state.timestamp == ts):
                number = track_numbers.setdefault(track.id, len(track_numbers) + 1)
                # Copy out only the numbers; formatting waits until the clock stops.
                out_rows.append((t, number, state.state_vector, state.covar))
    loop_s = time.perf_counter() - start
    loop_cpu_s = time.process_time() - start_cpu

    final = []
    for t, number, sv, cv in out_rows:
        p = [float(sv[i, 0]) for i in pos_idx]
        v = [float(sv[i, 0]) for i in vel_idx]
        c = cv[np.ix_(pos_idx, pos_idx)]
        final.append([t, number] + p + v + [float(c[0, 0]), float(c[0, 1]), float(c[0, 2]),
                                            float(c[1, 1]), float(c[1, 2]), float(c[2, 2])])
    os.makedirs(args.out, exist_ok=True)
    contract.write_tracks(os.path.join(args.out, "tracks.csv"), final)
    timing = {
        "tracker": "stonesoup",
        "stonesoup_version": __import__("stonesoup").__version__,
        "config": config,
        "detections": len(rows),
        "scans": len(scans),
        "track_rows": len(final),
        "tracks_confirmed": len(track_numbers),
        "loop_s": loop_s,
        "detections_per_s": (len(rows) / loop_s) if loop_s > 0 else math.inf,
        "loop_cpu_s": loop_cpu_s,
        "detections_per_cpu_s": (len(rows) / loop_cpu_s) if loop_cpu_s > 0 else math.inf,
        "t_max_s": args.t_max_s,
        "input_sha256": input_sha256(args.dir),
        "argv": sys.argv[1:],
        "finished_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    with open(os.path.join(args.out, "timing.json"), "w", encoding="utf-8") as f:
        json.dump(timing, f, indent=2)
    print(json.dumps(timing))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", help="directory with sensors.csv and detections.csv")
    p.add_argument("--out", required=True, help="output directory for tracks.csv, timing.json")
    p.add_argument("--q", type=float, required=True,
                   help="process-noise intensity per axis (m^2/s^3 for cv, m^2/s^5 for ca)")
    p.add_argument("--model", choices=["cv", "ca"], default="cv")
    p.add_argument("--gate", type=float, default=5.0,
                   help="Mahalanobis gate (distance, not squared); 5 ~ chi2(3) p=0.9998")
    p.add_argument("--min-points", type=int, default=3,
                   help="updates needed before a held track is confirmed")
    p.add_argument("--prior-speed-mps", type=float, default=3000.0,
                   help="1-sigma prior speed per axis for a new track")
    p.add_argument("--prior-accel-mps2", type=float, default=30.0,
                   help="1-sigma prior acceleration per axis (ca only)")
    p.add_argument("--delete-after-s", type=float, default=None,
                   help="delete a confirmed track after this long without an update "
                        "(default max(3 x revisit, 10 s))")
    p.add_argument("--hold-after-s", type=float, default=None,
                   help="drop a tentative track after this long without an update "
                        "(default max(2.5 x revisit, 5 s))")
    p.add_argument("--max-pos-sigma-m", type=float, default=20000.0,
                   help="delete a track whose RMS position sigma exceeds this")
    p.add_argument("--t-max-s", type=float, default=None,
                   help="only use detections with time_s <= this (cap for large scenarios)")
    args = p.parse_args(argv)
    if not (args.q > 0 and math.isfinite(args.q)):
        p.error(f"--q {args.q}: expected a finite number > 0")
    if args.min_points < 1:
        p.error(f"--min-points {args.min_points}: expected >= 1")
    try:
        run(args)
    except contract.ContractError as e:
        print(f"stonesoup_tracker: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
