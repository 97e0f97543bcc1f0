//! trilink-geo against independent references (PROJ, pymap3d, GeographicLib); see
//! `tests/vectors/make_vectors.py` for how the vectors were made. Each test prints the largest
//! error it measured, which docs/VALIDATION.md records.

use std::path::PathBuf;

use trilink_geo::{geodesic_inverse, Ecef, Geodetic, LocalFrame};

/// Tolerances from issue #2: 1 mm in position, 1e-9 rad in angles.
const TOL_M: f64 = 1e-3;
const TOL_RAD: f64 = 1e-9;

fn vectors(name: &str) -> Vec<Vec<f64>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|v| {
                    v.parse::<f64>()
                        .unwrap_or_else(|e| panic!("{name}: {v}: {e}"))
                })
                .collect()
        })
        .collect()
}

fn geodetic(lat_deg: f64, lon_deg: f64, alt_m: f64) -> Geodetic {
    Geodetic::from_degrees(lat_deg, lon_deg, alt_m).expect("reference point is valid")
}

/// Angular difference in (-π, π], so 180° and −180° compare equal.
fn angle_diff_rad(a: f64, b: f64) -> f64 {
    trilink_geo::wrap_pi(a - b).abs()
}

#[test]
fn geodetic_to_ecef_matches_proj() {
    let mut worst = 0.0f64;
    for v in vectors("geodetic_ecef.csv") {
        let got = geodetic(v[0], v[1], v[2]).to_ecef();
        let err = (got.0 - nalgebra::Vector3::new(v[3], v[4], v[5])).norm();
        assert!(err < TOL_M, "at {v:?}: {err} m");
        worst = worst.max(err);
    }
    println!("geodetic->ECEF vs PROJ: max position error {worst:.3e} m");
}

#[test]
fn ecef_to_geodetic_recovers_proj_inputs_from_minus_10_km_to_48000_km() {
    let (mut worst_lat, mut worst_lon, mut worst_alt) = (0.0f64, 0.0f64, 0.0f64);
    for v in vectors("ecef_geodetic.csv") {
        let got = Ecef::new(v[0], v[1], v[2]).to_geodetic();
        let d_lat = (got.lat_rad - v[3].to_radians()).abs();
        let d_lon = angle_diff_rad(got.lon_rad, v[4].to_radians());
        let d_alt = (got.alt_m - v[5]).abs();
        // Longitude is undefined on the axis; the vectors include near-polar points, where an
        // angular error maps to a tiny distance, so judge longitude by the distance it moves.
        let lon_dist_m = d_lon * v[0].hypot(v[1]);
        assert!(
            d_lat < TOL_RAD && lon_dist_m < TOL_M && d_alt < TOL_M,
            "at {v:?}: {d_lat} rad {lon_dist_m} m {d_alt} m"
        );
        worst_lat = worst_lat.max(d_lat);
        worst_lon = worst_lon.max(if v[0].hypot(v[1]) > 1.0 { d_lon } else { 0.0 });
        worst_alt = worst_alt.max(d_alt);
    }
    println!("ECEF->geodetic: max |dlat| {worst_lat:.3e} rad, |dlon| {worst_lon:.3e} rad, |dh| {worst_alt:.3e} m");
}

#[test]
fn enu_and_aer_match_pymap3d() {
    let (mut worst_enu, mut worst_ang, mut worst_range) = (0.0f64, 0.0f64, 0.0f64);
    for v in vectors("aer.csv") {
        let frame = LocalFrame::new(geodetic(v[0], v[1], v[2]));
        let target = geodetic(v[3], v[4], v[5]).to_ecef();
        let enu = frame.to_enu(&target);
        let err_enu = (enu.0 - nalgebra::Vector3::new(v[6], v[7], v[8])).norm();
        let aer = frame.aer_of(&target);
        let d_az = angle_diff_rad(aer.az_rad, v[9].to_radians());
        let d_el = (aer.el_rad - v[10].to_radians()).abs();
        let d_range = (aer.range_m - v[11]).abs();
        assert!(
            err_enu < TOL_M && d_range < TOL_M,
            "at {v:?}: enu {err_enu} m, range {d_range} m"
        );
        assert!(
            d_az < TOL_RAD && d_el < TOL_RAD,
            "at {v:?}: az {d_az} rad, el {d_el} rad"
        );
        // And back: the AER must lead to the same ECEF point.
        let back = frame.ecef_of(&aer);
        assert!(back.distance_m(&target) < TOL_M, "AER->ECEF at {v:?}");
        worst_enu = worst_enu.max(err_enu);
        worst_ang = worst_ang.max(d_az).max(d_el);
        worst_range = worst_range.max(d_range);
    }
    println!("ENU/AER vs pymap3d: max ENU error {worst_enu:.3e} m, angle {worst_ang:.3e} rad, range {worst_range:.3e} m");
}

#[test]
fn geodesic_inverse_matches_geographiclib() {
    let (mut worst_s, mut worst_az) = (0.0f64, 0.0f64);
    for v in vectors("geodesic.csv") {
        let g = geodesic_inverse(&geodetic(v[0], v[1], 0.0), &geodetic(v[2], v[3], 0.0));
        let d_s = (g.distance_m - v[4]).abs();
        let d_az1 = angle_diff_rad(g.azimuth1_rad, v[5].to_radians());
        let d_az2 = angle_diff_rad(g.azimuth2_rad, v[6].to_radians());
        assert!(
            d_s < TOL_M && d_az1 < TOL_RAD && d_az2 < TOL_RAD,
            "at {v:?}: {d_s} m {d_az1} {d_az2}"
        );
        worst_s = worst_s.max(d_s);
        worst_az = worst_az.max(d_az1).max(d_az2);
    }
    println!(
        "geodesic vs GeographicLib: max distance error {worst_s:.3e} m, azimuth {worst_az:.3e} rad"
    );
}
