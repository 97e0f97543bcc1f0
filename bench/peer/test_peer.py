"""Checks of the peer harness's own pieces (run: bench/.venv/bin/python -m pytest bench/peer
or plain `python bench/peer/test_peer.py`).

The geodesy is checked against pymap3d, an independent implementation installed with
stonesoup; the converted-measurement covariance against a Monte Carlo of the exact map.
"""
import os
import sys
import tempfile

import numpy as np
import pymap3d

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contract  # noqa: E402
import geo  # noqa: E402
import peer  # noqa: E402

SITES = [(37.0, 128.0, 100.0), (35.5, 133.0, 50.0), (-33.9, 151.2, 0.0), (89.9, -45.0, 3000.0)]


def test_geodetic_to_ecef_matches_pymap3d():
    for lat, lon, alt in SITES + [(39.0, 125.7, 1.0e7)]:
        mine = geo.geodetic_to_ecef(lat, lon, alt)
        ref = np.array(pymap3d.geodetic2ecef(lat, lon, alt))
        assert np.max(np.abs(mine - ref)) < 1e-3, (lat, lon, alt, mine - ref)


def test_aer_to_ecef_matches_pymap3d():
    rng = np.random.default_rng(7)
    for lat, lon, alt in SITES:
        site = geo.geodetic_to_ecef(lat, lon, alt)
        rot = geo.enu_to_ecef_rotation(lat, lon)
        r = rng.uniform(1e3, 4e6, 20)
        az = rng.uniform(0, 2 * np.pi, 20)
        el = rng.uniform(0, np.pi / 2, 20)
        pos, _ = geo.aer_to_ecef(site, rot, r, az, el, np.ones(20), np.ones(20), np.ones(20))
        for i in range(20):
            ref = np.array(pymap3d.aer2ecef(np.degrees(az[i]), np.degrees(el[i]), r[i],
                                             lat, lon, alt))
            assert np.max(np.abs(pos[i] - ref)) < 1e-3


def test_ecef_to_aer_inverts():
    lat, lon, alt = SITES[0]
    site = geo.geodetic_to_ecef(lat, lon, alt)
    rot = geo.enu_to_ecef_rotation(lat, lon)
    pos, _ = geo.aer_to_ecef(site, rot, np.array([1.2e6]), np.array([5.9]), np.array([0.3]),
                             np.ones(1), np.ones(1), np.ones(1))
    r, a, e = geo.ecef_to_aer(site, rot, pos)
    assert abs(r[0] - 1.2e6) < 1e-6 and abs(a[0] - 5.9) < 1e-12 and abs(e[0] - 0.3) < 1e-12


def test_converted_covariance_matches_monte_carlo():
    # Small angular errors: the first-order covariance must match the sample covariance of
    # the exact map to within Monte Carlo noise (2 % with 200k samples is ~9 sigma wide).
    lat, lon, alt = SITES[1]
    site = geo.geodetic_to_ecef(lat, lon, alt)
    rot = geo.enu_to_ecef_rotation(lat, lon)
    r0, a0, e0 = 1.5e6, 4.0, 0.4
    sr, sa, se = 30.0, 1e-3, 1e-3
    _, cov = geo.aer_to_ecef(site, rot, np.array([r0]), np.array([a0]), np.array([e0]),
                             np.array([sr]), np.array([sa]), np.array([se]))
    rng = np.random.default_rng(3)
    n = 200_000
    pos, _ = geo.aer_to_ecef(site, rot, r0 + rng.normal(0, sr, n), a0 + rng.normal(0, sa, n),
                             e0 + rng.normal(0, se, n), np.ones(n), np.ones(n), np.ones(n))
    sample = np.cov(pos.T)
    scale = np.sqrt(np.outer(np.diag(cov[0]), np.diag(cov[0])))
    assert np.max(np.abs(sample - cov[0]) / scale) < 0.02


def test_reader_rejects_bad_rows_with_file_and_line():
    with tempfile.TemporaryDirectory() as d:
        sp = os.path.join(d, "sensors.csv")
        dp = os.path.join(d, "detections.csv")
        with open(sp, "w") as f:
            f.write("sensor_id,nation,lat_deg,lon_deg,alt_m,extra\nS1,KR,37,128,0,x\n")
        sensors = contract.read_sensors(sp)
        header = ",".join(contract.DETECTION_COLUMNS)
        cases = {
            "1.0,S9,1e5,0.1,0.1,10,0.001,0.001\n": "not in sensors.csv",
            "1.0,S1,nan,0.1,0.1,10,0.001,0.001\n": "finite",
            "1.0,S1,1e5,0.1,0.1,-10,0.001,0.001\n": "sigma_range_m",
            "2.0,S1,1e5,0.1,0.1,10,0.001,0.001\n1.0,S1,1e5,0.1,0.1,10,0.001,0.001\n":
                "time order",
            "1.0,S1,1e5,0.1\n": "truncated",
        }
        for body, needle in cases.items():
            with open(dp, "w") as f:
                f.write(header + "\n" + body)
            try:
                contract.read_detections(dp, sensors)
            except contract.ContractError as e:
                assert needle in str(e) and "detections.csv:" in str(e), str(e)
            else:
                raise AssertionError(f"accepted {body!r}")
        with open(dp, "w") as f:
            f.write("time_s,sensor_id\n")
        try:
            contract.read_detections(dp, sensors)
        except contract.ContractError as e:
            assert "missing column" in str(e)
        else:
            raise AssertionError("accepted a header without range_m")


def test_crop_keeps_detections_and_labels_aligned():
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
        os.makedirs(src)
        with open(os.path.join(src, "sensors.csv"), "w") as f:
            f.write("sensor_id,nation,lat_deg,lon_deg,alt_m\nS1,KR,37,128,0\n")
        with open(os.path.join(src, "detections.csv"), "w") as f:
            f.write(",".join(contract.DETECTION_COLUMNS) + "\n")
            for t in [0.0, 1.0, 2.0, 2.0, 3.0]:
                f.write(f"{t},S1,1e5,0.1,0.1,10,0.001,0.001\n")
        with open(os.path.join(src, "labels.csv"), "w") as f:
            f.write("time_s,sensor_id,object_id\n")
            for t in [0.0, 1.0, 2.0, 2.0, 3.0]:
                f.write(f"{t},S1,1\n")
        with open(os.path.join(src, "truth.csv"), "w") as f:
            f.write("time_s,object_id,x_m,y_m,z_m,vx_mps,vy_mps,vz_mps\n")
            for k in range(31):
                f.write(f"{k / 10},1,0,0,0,0,0,0\n")
        peer.crop(src, dst, 2.0)
        assert peer.count_rows(os.path.join(dst, "detections.csv")) == 4
        assert peer.count_rows(os.path.join(dst, "labels.csv")) == 4
        assert peer.count_rows(os.path.join(dst, "truth.csv")) == 21


def test_scores_read_by_field_path_and_null_stays_nan():
    s = peer.read_scores({"gospa": {"mean_m": 812.5, "mean_missed_m": 3.0},
                          "rmse": {"all": {"position_m": None},
                                   "free_flight": {"position_m": 40.0}}})
    assert s["gospa_m"] == 812.5 and s["gospa_key"] == "gospa.mean_m"
    assert np.isnan(s["rmse_m"]) and s["rmse_key"] == "rmse.all.position_m"
    s = peer.read_scores({"gospa": {"mean_m": 1.0}, "rmse": {"all": {"position_m": 7.5}}})
    assert s["rmse_m"] == 7.5


if __name__ == "__main__":
    n = 0
    for name, fn in sorted(globals().items()):
        if name.startswith("test_") and callable(fn):
            fn()
            n += 1
    print(f"{n} passed, 0 failed")
