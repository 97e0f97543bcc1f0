"""WGS-84 geodesy for the peer harness: sensor sites to ECEF and AER detections to ECEF
with a first-order converted-measurement covariance.

Kept in plain numpy (vectorised over detections) so that conversion cost does not muddy the
Stone Soup timing, and so that it can be checked against pymap3d in test_geo.py.
"""
import numpy as np

WGS84_A_M = 6378137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)


def geodetic_to_ecef(lat_deg, lon_deg, alt_m):
    """Geodetic (deg, deg, m above the ellipsoid) to ECEF metres."""
    lat = np.radians(lat_deg)
    lon = np.radians(lon_deg)
    sin_lat = np.sin(lat)
    n_m = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    return np.array([
        (n_m + alt_m) * np.cos(lat) * np.cos(lon),
        (n_m + alt_m) * np.cos(lat) * np.sin(lon),
        (n_m * (1.0 - WGS84_E2) + alt_m) * sin_lat,
    ])


def enu_to_ecef_rotation(lat_deg, lon_deg):
    """Matrix whose columns are the local east, north and up unit vectors in ECEF."""
    lat = np.radians(lat_deg)
    lon = np.radians(lon_deg)
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    return np.array([
        [-so, -sl * co, cl * co],
        [co, -sl * so, cl * so],
        [0.0, cl, sl],
    ])


def aer_to_ecef(site_ecef_m, rot_enu_to_ecef, range_m, az_rad, el_rad,
                sigma_range_m, sigma_az_rad, sigma_el_rad):
    """Converts detections of one sensor to ECEF positions and covariances.

    Azimuth is clockwise from geodetic north, elevation above the geodetic horizontal.
    The covariance is J R J^T with J the Jacobian of the AER->ECEF map at the measured
    point (first order; the standard converted-measurement Kalman filter input).

    Returns (positions (n, 3), covariances (n, 3, 3)).
    """
    r = np.asarray(range_m, dtype=float)
    az = np.asarray(az_rad, dtype=float)
    el = np.asarray(el_rad, dtype=float)
    sa, ca = np.sin(az), np.cos(az)
    se, ce = np.sin(el), np.cos(el)
    enu = np.stack([r * ce * sa, r * ce * ca, r * se], axis=-1)
    pos = site_ecef_m[None, :] + enu @ rot_enu_to_ecef.T
    # d(e, n, u) / d(r, az, el), one 3x3 per detection.
    j_enu = np.empty((r.shape[0], 3, 3))
    j_enu[:, 0, 0] = ce * sa
    j_enu[:, 1, 0] = ce * ca
    j_enu[:, 2, 0] = se
    j_enu[:, 0, 1] = r * ce * ca
    j_enu[:, 1, 1] = -r * ce * sa
    j_enu[:, 2, 1] = 0.0
    j_enu[:, 0, 2] = -r * se * sa
    j_enu[:, 1, 2] = -r * se * ca
    j_enu[:, 2, 2] = r * ce
    j = np.einsum("ij,njk->nik", rot_enu_to_ecef, j_enu)
    var = np.stack([np.asarray(sigma_range_m, float) ** 2,
                    np.asarray(sigma_az_rad, float) ** 2,
                    np.asarray(sigma_el_rad, float) ** 2], axis=-1)
    cov = np.einsum("nik,nk,njk->nij", j, var, j)
    # Symmetrise exactly: einsum round-off can leave 1e-9 relative asymmetry that some
    # Cholesky paths reject.
    cov = 0.5 * (cov + np.transpose(cov, (0, 2, 1)))
    return pos, cov


def ecef_to_aer(site_ecef_m, rot_enu_to_ecef, pos_ecef_m):
    """Inverse of the mean map above, for the fixture generator: (range, az, el)."""
    d = np.atleast_2d(pos_ecef_m) - site_ecef_m[None, :]
    enu = d @ rot_enu_to_ecef
    rng = np.linalg.norm(enu, axis=1)
    az = np.mod(np.arctan2(enu[:, 0], enu[:, 1]), 2.0 * np.pi)
    el = np.arcsin(enu[:, 2] / rng)
    return rng, az, el
