//! Air density of the U.S. Standard Atmosphere 1976 and aerodynamic drag (docs/decisions/0101).
//!
//! 0–86 km: the standard's own formulation (geopotential layers of linear molecular-scale
//! temperature, hydrostatic pressure, ideal-gas density). 86–1000 km: cubic Hermite
//! interpolation of ln ρ in the standard's tabulated densities, i.e. locally exponential with a
//! scale height that varies smoothly between table nodes. Above [`DRAG_CEILING_ALT_M`] drag is switched off, so
//! free flight up there conserves the Jacobi integral exactly up to integrator error.

use nalgebra::Vector3;
use trilink_geo::wgs84::{A_M, E2};

/// Above this height drag is zero (m). Chosen so that neglecting the air above it moves any body
/// with β ≥ 500 kg/m² at orbital speed by less than 10 m over a 3-hour flight
/// (US76 ρ(400 km) = 2.8e-12 kg/m³ gives |a| ≤ 1.7e-7 m/s²), see docs/decisions/0101.
pub const DRAG_CEILING_ALT_M: f64 = 400_000.0;

/// Top of the tabulated standard (m); density is zero above it.
pub const TOP_ALT_M: f64 = 1_000_000.0;

const G0_MPS2: f64 = 9.806_65;
/// Gas constant and mean molar mass as the 1976 standard defines them (not the CODATA values).
const R_STAR_J_PER_KMOL_K: f64 = 8_314.32;
const M0_KG_PER_KMOL: f64 = 28.964_4;
/// Effective Earth radius the standard uses to turn geometric into geopotential height (m).
const R0_M: f64 = 6_356_766.0;

/// US76 Table 4 base geopotential heights (m'), molecular-scale temperature gradients (K/m').
const LAYER_BASE_H_M: [f64; 7] = [
    0.0, 11_000.0, 20_000.0, 32_000.0, 47_000.0, 51_000.0, 71_000.0,
];
const LAYER_LAPSE_K_PER_M: [f64; 7] = [-0.0065, 0.0, 0.001, 0.0028, 0.0, -0.0028, -0.002];
const SEA_LEVEL_T_K: f64 = 288.15;
const SEA_LEVEL_P_PA: f64 = 101_325.0;

/// US76 Table I densities above 86 km (geometric height km, kg/m³), the standard's own
/// four-figure values.
const UPPER_TABLE: [(f64, f64); 25] = [
    (86.0, 6.958e-6),
    (90.0, 3.416e-6),
    (95.0, 1.393e-6),
    (100.0, 5.604e-7),
    (110.0, 9.708e-8),
    (120.0, 2.222e-8),
    (130.0, 8.152e-9),
    (140.0, 3.831e-9),
    (150.0, 2.076e-9),
    (160.0, 1.233e-9),
    (170.0, 7.815e-10),
    (180.0, 5.194e-10),
    (190.0, 3.581e-10),
    (200.0, 2.541e-10),
    (250.0, 6.073e-11),
    (300.0, 1.916e-11),
    (350.0, 7.014e-12),
    (400.0, 2.803e-12),
    (450.0, 1.184e-12),
    (500.0, 5.215e-13),
    (600.0, 1.137e-13),
    (700.0, 3.070e-14),
    (800.0, 1.136e-14),
    (900.0, 5.759e-15),
    (1000.0, 3.561e-15),
];

/// Base temperature (K) and pressure (Pa) of each of the seven lower layers, chained upward from
/// sea level exactly as the standard derives them.
fn layer_bases() -> [(f64, f64); 7] {
    let mut out = [(SEA_LEVEL_T_K, SEA_LEVEL_P_PA); 7];
    for i in 1..7 {
        let (t_b, p_b) = out[i - 1];
        let dh = LAYER_BASE_H_M[i] - LAYER_BASE_H_M[i - 1];
        out[i] = layer_state(t_b, p_b, LAYER_LAPSE_K_PER_M[i - 1], dh);
    }
    out
}

fn layer_state(t_b: f64, p_b: f64, lapse: f64, dh: f64) -> (f64, f64) {
    let gmr = G0_MPS2 * M0_KG_PER_KMOL / R_STAR_J_PER_KMOL_K;
    if lapse == 0.0 {
        (t_b, p_b * (-gmr * dh / t_b).exp())
    } else {
        let t = t_b + lapse * dh;
        (t, p_b * (t_b / t).powf(gmr / lapse))
    }
}

/// Air density (kg/m³) at a geometric height above the ellipsoid (m). Below sea level the lowest
/// layer is extended downward; above 1000 km the result is zero.
pub fn density_kg_m3(alt_m: f64) -> f64 {
    if !(alt_m.is_finite()) || alt_m > TOP_ALT_M {
        return 0.0;
    }
    let upper_start_m = UPPER_TABLE[0].0 * 1e3;
    if alt_m < upper_start_m {
        let h = R0_M * alt_m / (R0_M + alt_m);
        static BASES: std::sync::OnceLock<[(f64, f64); 7]> = std::sync::OnceLock::new();
        let bases = BASES.get_or_init(layer_bases);
        let i = LAYER_BASE_H_M.iter().rposition(|&b| h >= b).unwrap_or(0);
        let (t_b, p_b) = bases[i];
        let (t, p) = layer_state(t_b, p_b, LAYER_LAPSE_K_PER_M[i], h - LAYER_BASE_H_M[i]);
        // ρ = P·M0 / (R*·T_M): the standard's definition through molecular-scale temperature,
        // which also absorbs the 80–86 km molecular-weight change.
        return p * M0_KG_PER_KMOL / (R_STAR_J_PER_KMOL_K * t);
    }
    let km = alt_m / 1e3;
    // First node pair whose upper end is at or above `km` (the table rises strictly).
    let j = UPPER_TABLE[1..]
        .partition_point(|&(z, _)| z < km)
        .min(UPPER_TABLE.len() - 2);
    let (z0, z1) = (UPPER_TABLE[j].0, UPPER_TABLE[j + 1].0);
    let nodes = upper_nodes();
    let (y0, y1) = (nodes[j].0, nodes[j + 1].0);
    let (m0, m1) = (nodes[j].1, nodes[j + 1].1);
    let h = z1 - z0;
    let s = (km - z0) / h;
    let (s2, s3) = (s * s, s * s * s);
    let ln_rho = (2.0 * s3 - 3.0 * s2 + 1.0) * y0
        + (s3 - 2.0 * s2 + s) * h * m0
        + (-2.0 * s3 + 3.0 * s2) * y1
        + (s3 - s2) * h * m1;
    ln_rho.exp()
}

/// `(ln ρ, d(ln ρ)/dz)` at every upper table node, computed once: the drag of every prediction
/// and ground-crossing step above 86 km asks for them, and the eight logarithms per call they
/// cost were a tenth of the tracker's time (docs/decisions/0415). The same functions of the same
/// constants as before, so the density is bit-for-bit unchanged.
fn upper_nodes() -> &'static [(f64, f64); UPPER_TABLE.len()] {
    static NODES: std::sync::OnceLock<[(f64, f64); UPPER_TABLE.len()]> = std::sync::OnceLock::new();
    NODES.get_or_init(|| std::array::from_fn(|i| (UPPER_TABLE[i].1.ln(), log_slope(i))))
}

/// d(ln ρ)/dz at table node `i` (1/km): the slope of the parabola through the node and its
/// neighbours (one-sided at the ends). Cubic Hermite interpolation of ln ρ with these slopes
/// follows the bend of the profile near 110–130 km, where the thermosphere's temperature
/// climbs steeply and straight lines in ln ρ between nodes are off by up to 8 %.
fn log_slope(i: usize) -> f64 {
    let n = UPPER_TABLE.len();
    let (a, b, c) = match i {
        0 => (0, 1, 2),
        _ if i == n - 1 => (n - 3, n - 2, n - 1),
        _ => (i - 1, i, i + 1),
    };
    let (za, zb, zc) = (UPPER_TABLE[a].0, UPPER_TABLE[b].0, UPPER_TABLE[c].0);
    let (ya, yb, yc) = (
        UPPER_TABLE[a].1.ln(),
        UPPER_TABLE[b].1.ln(),
        UPPER_TABLE[c].1.ln(),
    );
    let z = UPPER_TABLE[i].0;
    // Derivative of the Lagrange parabola through (za, ya), (zb, yb), (zc, yc) at z.
    ya * ((z - zb) + (z - zc)) / ((za - zb) * (za - zc))
        + yb * ((z - za) + (z - zc)) / ((zb - za) * (zb - zc))
        + yc * ((z - za) + (z - zb)) / ((zc - za) * (zc - zb))
}

/// Height above the ellipsoid (m) to well under a metre below 1000 km, without the iteration of a
/// full geodetic conversion: the drag model cannot tell the difference, and this runs four times
/// per integration step.
pub fn approx_height_m(r_m: &Vector3<f64>) -> f64 {
    let r = r_m.norm();
    let sin2 = r_m.z * r_m.z / (r * r);
    // Radius of the ellipsoid along the same geocentric direction.
    let surface = A_M * ((1.0 - E2) / (1.0 - E2 * (1.0 - sin2))).sqrt();
    r - surface
}

/// Drag acceleration (m/s²) of a body with ballistic coefficient `beta_kg_m2` = m/(Cd·A) moving
/// at `v_ecef_mps` relative to the Earth-fixed frame. The atmosphere co-rotates with the Earth,
/// so the ECEF velocity is the air-relative velocity.
pub fn drag_acceleration(
    r_m: &Vector3<f64>,
    v_ecef_mps: &Vector3<f64>,
    beta_kg_m2: f64,
) -> Vector3<f64> {
    let r2 = r_m.norm_squared();
    // Cheap rejection before any square root: outside the sphere that bounds the ceiling.
    let bound = A_M + DRAG_CEILING_ALT_M;
    if r2 > bound * bound {
        return Vector3::zeros();
    }
    let h = approx_height_m(r_m);
    if h > DRAG_CEILING_ALT_M {
        return Vector3::zeros();
    }
    let rho = density_kg_m3(h);
    -0.5 * rho * v_ecef_mps.norm() / beta_kg_m2 * v_ecef_mps
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent reference: `pyatmos` 1.2.7 (PyPI), `coesa76(alts)` at geometric heights,
    /// made with `ENABLE_IERS_LOAD=false python3 -c "from pyatmos import coesa76; ..."`.
    /// Its own implementation of the standard (spline fits above 86 km), not ours.
    const PYATMOS_COESA76: [(f64, f64); 44] = [
        (0.0, 1.224999e+00),
        (1.0, 1.111659e+00),
        (3.0, 9.092536e-01),
        (5.0, 7.364277e-01),
        (8.0, 5.257846e-01),
        (11.0, 3.647996e-01),
        (15.0, 1.947526e-01),
        (20.0, 8.890796e-02),
        (25.0, 4.008250e-02),
        (32.0, 1.355441e-02),
        (40.0, 3.995351e-03),
        (47.0, 1.496363e-03),
        (51.0, 9.067985e-04),
        (60.0, 3.096290e-04),
        (71.0, 7.194711e-05),
        (75.0, 3.990918e-05),
        (80.0, 1.845148e-05),
        (84.0, 9.689926e-06),
        (86.0, 6.954795e-06),
        (88.0, 4.874905e-06),
        (93.0, 2.000069e-06),
        (97.0, 9.685670e-07),
        (105.0, 2.324417e-07),
        (115.0, 4.288343e-08),
        (125.0, 1.291058e-08),
        (135.0, 5.464748e-09),
        (145.0, 2.779991e-09),
        (155.0, 1.585140e-09),
        (165.0, 9.749689e-10),
        (175.0, 6.338439e-10),
        (185.0, 4.295412e-10),
        (195.0, 3.006128e-10),
        (225.0, 1.183862e-10),
        (275.0, 3.329219e-11),
        (325.0, 1.143345e-11),
        (375.0, 4.395859e-12),
        (425.0, 1.811608e-12),
        (475.0, 7.821250e-13),
        (550.0, 2.384563e-13),
        (650.0, 5.712581e-14),
        (750.0, 1.788910e-14),
        (850.0, 7.825196e-15),
        (950.0, 4.453093e-15),
        (1000.0, 3.559451e-15),
    ];

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b
    }

    #[test]
    fn lower_atmosphere_matches_an_independent_implementation() {
        let mut worst = 0.0f64;
        for &(km, rho) in PYATMOS_COESA76.iter().filter(|p| p.0 <= 86.0) {
            let e = rel(density_kg_m3(km * 1e3), rho);
            worst = worst.max(e);
            assert!(e < 1e-3, "{km} km: {} vs {rho}", density_kg_m3(km * 1e3));
        }
        eprintln!("US76 0-86 km worst relative error vs pyatmos: {worst:.2e}");
    }

    #[test]
    fn lower_atmosphere_matches_published_table_values() {
        // US76 Table I (geometric height): sea level 1.2250, 11 km 3.6480e-1, 20 km 8.8910e-2,
        // 86 km 6.958e-6 kg/m³.
        for (km, rho) in [
            (0.0, 1.2250),
            (11.0, 0.36480),
            (20.0, 0.088910),
            (85.999, 6.958e-6),
        ] {
            assert!(rel(density_kg_m3(km * 1e3), rho) < 1e-3, "{km} km");
        }
    }

    #[test]
    fn upper_atmosphere_interpolation_stays_within_five_percent_between_nodes() {
        let mut worst = 0.0f64;
        for &(km, rho) in PYATMOS_COESA76.iter().filter(|p| p.0 > 86.0) {
            let e = rel(density_kg_m3(km * 1e3), rho);
            worst = worst.max(e);
            assert!(e < 0.05, "{km} km: {} vs {rho}", density_kg_m3(km * 1e3));
        }
        eprintln!("US76 86-1000 km worst relative error vs pyatmos: {worst:.2e}");
    }

    #[test]
    fn precomputed_upper_nodes_give_the_same_density_bit_for_bit() {
        // The interpolation as it was before the node logarithms and slopes were cached:
        // everything recomputed per call. Any difference would change every drag sum.
        let per_call = |alt_m: f64| {
            let km = alt_m / 1e3;
            let j = UPPER_TABLE
                .windows(2)
                .position(|w| km <= w[1].0)
                .unwrap_or(UPPER_TABLE.len() - 2);
            let (z0, z1) = (UPPER_TABLE[j].0, UPPER_TABLE[j + 1].0);
            let (y0, y1) = (UPPER_TABLE[j].1.ln(), UPPER_TABLE[j + 1].1.ln());
            let (m0, m1) = (log_slope(j), log_slope(j + 1));
            let h = z1 - z0;
            let s = (km - z0) / h;
            let (s2, s3) = (s * s, s * s * s);
            let ln_rho = (2.0 * s3 - 3.0 * s2 + 1.0) * y0
                + (s3 - 2.0 * s2 + s) * h * m0
                + (-2.0 * s3 + 3.0 * s2) * y1
                + (s3 - s2) * h * m1;
            ln_rho.exp()
        };
        let mut alts: Vec<f64> = (0..=91_400)
            .map(|i| 86_000.0 + 10.0 * i as f64 + 0.37)
            .collect();
        // Every node exactly, and either side of it by one unit in the last place.
        for &(km, _) in UPPER_TABLE.iter() {
            let m = km * 1e3;
            alts.extend([
                m,
                f64::from_bits(m.to_bits() - 1),
                f64::from_bits(m.to_bits() + 1),
            ]);
        }
        for alt in alts
            .into_iter()
            .filter(|&a| (86_000.0..=TOP_ALT_M).contains(&a))
        {
            assert_eq!(
                density_kg_m3(alt).to_bits(),
                per_call(alt).to_bits(),
                "{alt} m"
            );
        }
    }

    #[test]
    fn density_falls_monotonically_and_vanishes_above_the_table() {
        let mut prev = f64::INFINITY;
        for i in 0..=2000 {
            let h = i as f64 * 500.0;
            let rho = density_kg_m3(h);
            assert!(rho < prev, "{h} m");
            prev = rho;
        }
        assert_eq!(density_kg_m3(1_000_001.0), 0.0);
    }

    #[test]
    fn approximate_height_agrees_with_the_geodetic_conversion() {
        for (lat, h) in [
            (0.0, 0.0),
            (39.0, 50_000.0),
            (45.0, 120_000.0),
            (89.0, 390_000.0),
        ] {
            let g = trilink_geo::Geodetic::from_degrees(lat, 127.0, h).unwrap();
            let r = g.to_ecef().0;
            assert!(
                (approx_height_m(&r) - h).abs() < 1.0,
                "{lat} {h}: {}",
                approx_height_m(&r)
            );
        }
    }

    #[test]
    fn approximate_height_stays_close_far_above_the_atmosphere() {
        // `fly` trusts its sign above 1 km; it must never be off by anything near that.
        for lat in [0.0, 20.0, 45.0, 70.0, 89.9] {
            for h in [1_000_000.0, 6_700_000.0, 40_000_000.0] {
                let g = trilink_geo::Geodetic::from_degrees(lat, 10.0, h).unwrap();
                let err = (approx_height_m(&g.to_ecef().0) - h).abs();
                assert!(err < 100.0, "{lat} {h}: {err}");
            }
        }
    }

    #[test]
    fn drag_opposes_air_relative_motion_and_stops_at_the_ceiling() {
        let r = trilink_geo::Geodetic::from_degrees(40.0, 125.0, 30_000.0)
            .unwrap()
            .to_ecef()
            .0;
        let v = Vector3::new(100.0, -2000.0, 500.0);
        let a = drag_acceleration(&r, &v, 1000.0);
        assert!(a.dot(&v) < 0.0 && a.cross(&v).norm() < 1e-9 * a.norm() * v.norm());
        let expected = 0.5 * density_kg_m3(30_000.0) * v.norm_squared() / 1000.0;
        assert!(rel(a.norm(), expected) < 1e-3);
        let high = trilink_geo::Geodetic::from_degrees(40.0, 125.0, DRAG_CEILING_ALT_M + 1.0)
            .unwrap()
            .to_ecef()
            .0;
        assert_eq!(drag_acceleration(&high, &v, 1000.0), Vector3::zeros());
    }
}
