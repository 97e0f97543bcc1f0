#!/usr/bin/env python3
"""Makes the geodesy test vectors trilink-geo is checked against.

The references are independent of trilink: PROJ 9.5.1 through pyproj 3.7.2 (EPSG:4979 ->
EPSG:4978) for geodetic -> ECEF, GeographicLib 2.1 (C. F. F. Karney's own Python implementation)
for geodesics, and pymap3d 3.2.0 for the local east-north-up and azimuth-elevation-range frames.

ECEF -> geodetic vectors are made from PROJ's closed-form forward conversion: the geodetic point
that produced an ECEF point is the exact answer for the inverse. (PROJ's own inverse is not used
as a reference: at 40,000 km it is off by 0.2 m in height and 3e-7 degrees in latitude.)

Regenerate with:
    python3 -m venv /tmp/geovenv && /tmp/geovenv/bin/pip install geographiclib==2.1 pymap3d==3.2.0 pyproj==3.7.2
    /tmp/geovenv/bin/python crates/geo/tests/vectors/make_vectors.py crates/geo/tests/vectors
The points come from a fixed-seed generator, so the output is the same on every run.
"""
import random
import sys
from pathlib import Path

import pymap3d
import pyproj
from geographiclib.geodesic import Geodesic

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
rng = random.Random(20231219)
to_ecef = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
wgs84 = pymap3d.Ellipsoid.from_name("wgs84")

# Heights from 10 km below the ellipsoid to beyond geostationary orbit, plus the poles,
# the equator and the antimeridian.
heights = [-10e3, -500.0, 0.0, 1.0, 50e3, 100e3, 1_000e3, 6_648.4e3, 10_000e3, 35_786e3, 42_000e3]
lats = [-90.0, -89.999999, -60.0, -0.000001, 0.0, 33.3, 45.0, 89.9999, 90.0]
lons = [-180.0, -135.0, 0.0, 1e-7, 127.5, 179.999999]
points = [(la, lo, h) for la in lats for lo in lons[:2] for h in heights]
for _ in range(400):
    points.append((rng.uniform(-90, 90), rng.uniform(-180, 180), rng.choice(heights) * rng.random()))

with open(out / "geodetic_ecef.csv", "w") as f:
    f.write("lat_deg,lon_deg,alt_m,x_m,y_m,z_m\n")
    for la, lo, h in points:
        x, y, z = to_ecef.transform(lo, la, h)
        f.write(f"{la!r},{lo!r},{h!r},{x!r},{y!r},{z!r}\n")

with open(out / "ecef_geodetic.csv", "w") as f:
    f.write("x_m,y_m,z_m,lat_deg,lon_deg,alt_m\n")
    for _ in range(400):
        la, lo = rng.uniform(-90, 90), rng.uniform(-180, 180)
        h = rng.uniform(-10e3, 48_000e3)
        x, y, z = to_ecef.transform(lo, la, h)
        f.write(f"{x!r},{y!r},{z!r},{la!r},{lo!r},{h!r}\n")

with open(out / "aer.csv", "w") as f:
    f.write("site_lat_deg,site_lon_deg,site_alt_m,lat_deg,lon_deg,alt_m,east_m,north_m,up_m,az_deg,el_deg,range_m\n")
    for _ in range(300):
        la0, lo0, h0 = rng.uniform(-80, 80), rng.uniform(-180, 180), rng.uniform(-400, 3000)
        la = max(-89.9, min(89.9, la0 + rng.uniform(-25, 25)))
        lo = lo0 + rng.uniform(-25, 25)
        h = rng.choice([0.0, 10e3, 100e3, 1_000e3, 5_000e3]) * rng.random()
        e, n, u = pymap3d.geodetic2enu(la, lo, h, la0, lo0, h0, ell=wgs84, deg=True)
        az, el, rg = pymap3d.geodetic2aer(la, lo, h, la0, lo0, h0, ell=wgs84, deg=True)
        f.write(f"{la0!r},{lo0!r},{h0!r},{la!r},{lo!r},{h!r},{e!r},{n!r},{u!r},{az!r},{el!r},{rg!r}\n")

gd = Geodesic.WGS84
with open(out / "geodesic.csv", "w") as f:
    f.write("lat1_deg,lon1_deg,lat2_deg,lon2_deg,distance_m,azi1_deg,azi2_deg\n")
    pairs = [(39.2, 125.67, 41.0, 140.0), (39.66, 124.7, 24.5, 125.3), (0.0, 0.0, 0.5, 179.5)]
    for _ in range(200):
        pairs.append((rng.uniform(-89, 89), rng.uniform(-180, 180), rng.uniform(-89, 89), rng.uniform(-180, 180)))
    for la1, lo1, la2, lo2 in pairs:
        g = gd.Inverse(la1, lo1, la2, lo2)
        f.write(f"{la1!r},{lo1!r},{la2!r},{lo2!r},{g['s12']!r},{g['azi1']!r},{g['azi2']!r}\n")
