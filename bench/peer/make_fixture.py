#!/usr/bin/env python3
"""Writes a small synthetic scenario in the brief §3.2 form, for developing and testing the
peer harness without trilink's simulator.

Deliberately simple physics (point-mass gravity, non-rotating Earth, flight starts at
burnout): it exercises the file contract, the AER geometry, clutter, missed detections and a
closely spaced salvo; it is not a ballistic truth reference.

Usage: make_fixture.py OUTDIR [--seed N] [--missiles K] [--clutter-per-scan L]
"""
import argparse
import os

import numpy as np

import geo

GM_M3_PER_S2 = 3.986004418e14


def flight(lat_deg, lon_deg, heading_deg, speed_mps, gamma_deg, alt_m, t0_s, dt_s=0.1):
    """RK4 point-mass flight from a burnout state until the ellipsoid is reached."""
    r0 = geo.geodetic_to_ecef(lat_deg, lon_deg, alt_m)
    rot = geo.enu_to_ecef_rotation(lat_deg, lon_deg)
    h, g = np.radians(heading_deg), np.radians(gamma_deg)
    v_enu = speed_mps * np.array([np.cos(g) * np.sin(h), np.cos(g) * np.cos(h), np.sin(g)])
    v0 = rot @ v_enu

    def acc(r):
        return -GM_M3_PER_S2 * r / np.linalg.norm(r) ** 3

    t, r, v = t0_s, r0, v0
    out = [(t, r, v)]
    while True:
        k1r, k1v = v, acc(r)
        k2r, k2v = v + 0.5 * dt_s * k1v, acc(r + 0.5 * dt_s * k1r)
        k3r, k3v = v + 0.5 * dt_s * k2v, acc(r + 0.5 * dt_s * k2r)
        k4r, k4v = v + dt_s * k3v, acc(r + dt_s * k3r)
        r = r + dt_s / 6 * (k1r + 2 * k2r + 2 * k3r + k4r)
        v = v + dt_s / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
        t = round(t + dt_s, 6)
        # Stop at the ellipsoid: compare with the geocentric radius of the surface there.
        lat_gc = np.arcsin(r[2] / np.linalg.norm(r))
        surface = geo.geodetic_to_ecef(np.degrees(lat_gc), 0.0, 0.0)
        if np.linalg.norm(r) < np.linalg.norm(surface):
            break
        out.append((t, r, v))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--missiles", type=int, default=3)
    p.add_argument("--clutter-per-scan", type=float, default=1.0)
    p.add_argument("--duration-s", type=float, default=None,
                   help="stop the sensors after this time (default: end of the last flight)")
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)

    flights = []
    for k in range(args.missiles):
        flights.append(flight(39.0, 125.7, 85.0 + 5.0 * k, 3000.0, 45.0, 60_000.0,
                              t0_s=5.0 * k))
    t_end = max(f[-1][0] for f in flights)
    if args.duration_s is not None:
        t_end = min(t_end, args.duration_s)

    # (id, nation, lat, lon, alt, revisit_s, phase_s, sigma_r, sigma_a, sigma_e, pd, max_range)
    sensors = [
        ("KR-1", "KR", 37.0, 128.0, 100.0, 1.0, 0.0, 50.0, 1.5e-3, 1.5e-3, 0.9, 2.5e6),
        ("JP-1", "JP", 35.5, 133.0, 50.0, 2.0, 0.3, 30.0, 1.0e-3, 1.0e-3, 0.9, 3.0e6),
        ("US-1", "US", 40.0, 140.0, 20.0, 3.0, 0.7, 20.0, 0.7e-3, 0.7e-3, 0.95, 4.0e6),
    ]
    with open(os.path.join(args.out, "sensors.csv"), "w") as f:
        f.write("sensor_id,nation,lat_deg,lon_deg,alt_m\n")
        for s in sensors:
            f.write(f"{s[0]},{s[1]},{s[2]},{s[3]},{s[4]}\n")

    with open(os.path.join(args.out, "truth.csv"), "w") as f:
        f.write("time_s,object_id,x_m,y_m,z_m,vx_mps,vy_mps,vz_mps\n")
        rows = []
        for oid, fl in enumerate(flights, start=1):
            for t, r, v in fl:
                if t <= t_end:
                    rows.append((t, oid, *r, *v))
        rows.sort(key=lambda x: (x[0], x[1]))
        for row in rows:
            f.write(f"{row[0]!r},{row[1]}," + ",".join(repr(float(x)) for x in row[2:]) + "\n")

    truth_at = []
    for fl in flights:
        ts = np.array([s[0] for s in fl])
        rs = np.array([s[1] for s in fl])
        truth_at.append((ts, rs))

    dets = []  # (t, sensor_index, r, a, e, object_id)
    for si, s in enumerate(sensors):
        site = geo.geodetic_to_ecef(s[2], s[3], s[4])
        rot = geo.enu_to_ecef_rotation(s[2], s[3])
        t = s[6]
        while t <= t_end:
            for oid, (ts, rs) in enumerate(truth_at, start=1):
                if not ts[0] <= t <= ts[-1]:
                    continue
                pos = np.array([np.interp(t, ts, rs[:, i]) for i in range(3)])
                r, a, e = geo.ecef_to_aer(site, rot, pos)
                if r[0] > s[11] or e[0] < np.radians(0.5) or rng.random() > s[10]:
                    continue
                dets.append((t, si, r[0] + rng.normal(0, s[7]),
                             np.mod(a[0] + rng.normal(0, s[8]), 2 * np.pi),
                             e[0] + rng.normal(0, s[9]), oid))
            for _ in range(rng.poisson(args.clutter_per_scan)):
                dets.append((t, si, rng.uniform(5e4, s[11]), rng.uniform(0, 2 * np.pi),
                             rng.uniform(np.radians(0.5), np.radians(45.0)), 0))
            t = round(t + s[5], 6)
    dets.sort(key=lambda d: (d[0], d[1]))

    with open(os.path.join(args.out, "detections.csv"), "w") as fd, \
            open(os.path.join(args.out, "labels.csv"), "w") as fl:
        fd.write("time_s,sensor_id,range_m,azimuth_rad,elevation_rad,"
                 "sigma_range_m,sigma_azimuth_rad,sigma_elevation_rad\n")
        fl.write("time_s,sensor_id,object_id\n")
        for t, si, r, a, e, oid in dets:
            s = sensors[si]
            r, a, e = float(r), float(a), float(e)
            fd.write(f"{t!r},{s[0]},{r!r},{a!r},{e!r},{s[7]!r},{s[8]!r},{s[9]!r}\n")
            fl.write(f"{t!r},{s[0]},{oid}\n")
    print(f"{args.out}: {len(dets)} detections, {len(flights)} objects, t_end {t_end:.1f} s")


if __name__ == "__main__":
    main()
