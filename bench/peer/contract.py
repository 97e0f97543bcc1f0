"""Readers and writers for the brief §3.2 interchange files, as the peer harness needs them.

Columns are found by name; unknown extra columns are ignored, as the contract requires.
Errors name the file, the line and what was expected, and raise ContractError.
"""
import csv
import math

SENSOR_COLUMNS = ["sensor_id", "nation", "lat_deg", "lon_deg", "alt_m"]
DETECTION_COLUMNS = ["time_s", "sensor_id", "range_m", "azimuth_rad", "elevation_rad",
                     "sigma_range_m", "sigma_azimuth_rad", "sigma_elevation_rad"]
TRACK_COLUMNS = ["time_s", "track_id", "x_m", "y_m", "z_m", "vx_mps", "vy_mps", "vz_mps",
                 "cov_xx", "cov_xy", "cov_xz", "cov_yy", "cov_yz", "cov_zz"]


class ContractError(Exception):
    """A file that does not follow the interchange contract."""


def _rows(path, required):
    try:
        f = open(path, newline="", encoding="utf-8")
    except OSError as e:
        raise ContractError(f"{path}: cannot open: {e.strerror}") from e
    with f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            raise ContractError(f"{path}: empty file, expected a header row") from None
        header = [h.strip() for h in header]
        missing = [c for c in required if c not in header]
        if missing:
            raise ContractError(f"{path}:1: missing column(s) {', '.join(missing)}; "
                                f"expected at least {','.join(required)}")
        index = [header.index(c) for c in required]
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) < len(header):
                raise ContractError(f"{path}:{line_no}: {len(row)} fields, expected "
                                    f"{len(header)} (truncated line?)")
            yield line_no, [row[i] for i in index]


def _float(path, line_no, column, text):
    try:
        v = float(text)
    except ValueError:
        raise ContractError(f"{path}:{line_no}: column {column} = {text!r}, "
                            "expected a number") from None
    if not math.isfinite(v):
        raise ContractError(f"{path}:{line_no}: column {column} = {text!r}, "
                            "expected a finite number")
    return v


def read_sensors(path):
    """Returns {sensor_id: (nation, lat_deg, lon_deg, alt_m)}."""
    sensors = {}
    for line_no, (sid, nation, lat, lon, alt) in _rows(path, SENSOR_COLUMNS):
        lat_deg = _float(path, line_no, "lat_deg", lat)
        if not -90.0 <= lat_deg <= 90.0:
            raise ContractError(f"{path}:{line_no}: column lat_deg = {lat}, "
                                "expected a latitude in [-90, 90]")
        if sid in sensors:
            raise ContractError(f"{path}:{line_no}: sensor_id {sid!r} listed twice")
        sensors[sid] = (nation, lat_deg, _float(path, line_no, "lon_deg", lon),
                        _float(path, line_no, "alt_m", alt))
    return sensors


def read_detections(path, sensors, t_max_s=None):
    """Returns the detection rows as lists of column values (time_s, sensor_id, range_m,
    azimuth_rad, elevation_rad, sigma_range_m, sigma_azimuth_rad, sigma_elevation_rad),
    checked; stops after t_max_s when given."""
    out = []
    last_t = -math.inf
    for line_no, row in _rows(path, DETECTION_COLUMNS):
        t = _float(path, line_no, "time_s", row[0])
        if t < last_t:
            raise ContractError(f"{path}:{line_no}: time_s = {row[0]} is before the previous "
                                f"row's {last_t}; rows must be in time order")
        last_t = t
        if t_max_s is not None and t > t_max_s:
            break
        sid = row[1]
        if sid not in sensors:
            raise ContractError(f"{path}:{line_no}: sensor_id {sid!r} is not in sensors.csv")
        vals = [_float(path, line_no, c, v) for c, v in zip(DETECTION_COLUMNS[2:], row[2:])]
        if vals[0] < 0.0:
            raise ContractError(f"{path}:{line_no}: range_m = {row[2]}, expected >= 0")
        for c, v in zip(DETECTION_COLUMNS[5:], vals[3:]):
            if v <= 0.0:
                raise ContractError(f"{path}:{line_no}: {c} = {v}, expected > 0")
        out.append([t, sid] + vals)
    return out


def read_tracks(path):
    """Returns (time_s, track_id, (x, y, z), (vx, vy, vz), 3x3 position covariance as nested
    lists) for every row of a tracks.csv, in file order."""
    rows = []
    for line_no, v in _rows(path, TRACK_COLUMNS):
        num = [_float(path, line_no, c, x)
               for c, x in zip(TRACK_COLUMNS, v) if c != "track_id"]
        t, x, y, z, vx, vy, vz, cxx, cxy, cxz, cyy, cyz, czz = num
        cov = [[cxx, cxy, cxz], [cxy, cyy, cyz], [cxz, cyz, czz]]
        rows.append((t, v[1], (x, y, z), (vx, vy, vz), cov))
    return rows


def write_tracks(path, rows):
    """rows: iterables in TRACK_COLUMNS order. Floats in repr form (round-trip exact)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write(",".join(TRACK_COLUMNS) + "\n")
        for r in rows:
            f.write(",".join(repr(v) if isinstance(v, float) else str(v) for v in r) + "\n")
