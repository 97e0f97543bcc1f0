//! The two probabilities the decision rule reads (docs/decisions/0801):
//!
//! - P_impact(R): the mass of the impact point's 2-D Gaussian (from its 95 % ellipse) inside R,
//!   by a fixed quasi-random sample (Halton bases 2 and 3 through Box–Muller), so the same input
//!   always gives the same number and nothing flaps from sampling noise;
//! - P_over(R): the probability that the ground path passes over R when the whole remaining
//!   path is shifted sideways by σ(s)·ξ, ξ ~ N(0, 1), σ growing linearly with ground distance s
//!   from the track's present spread to the impact ellipse's cross-track σ; ξ is taken at fixed
//!   normal quantiles. One ξ for the whole path: a lateral error is a heading error, which fans
//!   out coherently, not a random walk.
use statrs::distribution::{ContinuousCDF, Normal};

use crate::ellipse::Ellipse;
use crate::geometry::{Plane, Region};
use crate::path::{cumulative_ground_m, PathPoint};

/// Beyond this many σ (major axis) from a region's bound, a Gaussian puts nothing measurable in
/// it (the 2-D mass outside 5σ is 4e-6).
const FAR_SIGMAS: f64 = 5.0;

fn halton(mut i: u32, base: u32) -> f64 {
    let (mut f, mut r) = (1.0, 0.0);
    while i > 0 {
        f /= base as f64;
        r += f * (i % base) as f64;
        i /= base;
    }
    r
}

/// Standard-normal pairs, the same every call.
pub(crate) fn normal_pairs(n: usize) -> Vec<(f64, f64)> {
    (1..=n as u32)
        .map(|i| {
            let (u1, u2) = (halton(i, 2), halton(i, 3));
            let r = (-2.0 * (1.0 - u1).max(1e-300).ln()).sqrt();
            let a = std::f64::consts::TAU * u2;
            (r * a.cos(), r * a.sin())
        })
        .collect()
}

/// Standard-normal quantiles at the mid-points of `n` equal-probability bins.
pub(crate) fn normal_quantiles(n: usize) -> Vec<f64> {
    let Ok(std) = Normal::new(0.0, 1.0) else {
        return vec![0.0];
    };
    (0..n)
        .map(|j| std.inverse_cdf((j as f64 + 0.5) / n as f64))
        .collect()
}

/// P_impact(R) for an impact at `(lat, lon)` with the given 95 % ellipse.
pub fn impact_probability(
    region: &Region,
    lat_deg: f64,
    lon_deg: f64,
    ellipse: &Ellipse,
    pairs: &[(f64, f64)],
) -> f64 {
    let rp = region.plane();
    let c = rp.to_xy(lat_deg, lon_deg);
    let sigma_a = ellipse.semi_major_m / crate::ellipse::CHI2_2_95.sqrt();
    let sigma_b = ellipse.semi_minor_m / crate::ellipse::CHI2_2_95.sqrt();
    if c.0.hypot(c.1) > region.bound_m() + FAR_SIGMAS * sigma_a.max(1.0) {
        return 0.0;
    }
    if pairs.is_empty() {
        return if region.contains_xy(c) { 1.0 } else { 0.0 };
    }
    let local = Plane::new(lat_deg, lon_deg);
    let th = ellipse.orientation_deg.to_radians();
    let (ma, mi) = ((th.sin(), th.cos()), (th.cos(), -th.sin()));
    let hits = pairs
        .iter()
        .filter(|(z1, z2)| {
            let e = z1 * sigma_a * ma.0 + z2 * sigma_b * mi.0;
            let n = z1 * sigma_a * ma.1 + z2 * sigma_b * mi.1;
            let (la, lo) = local.to_lat_lon(e, n);
            region.contains_xy(rp.to_xy(la, lo))
        })
        .count();
    hits as f64 / pairs.len() as f64
}

/// P_over(R) for a path whose lateral σ grows from `sigma_start_m` at its first point to
/// `sigma_end_m` at its last.
pub fn overflight_probability(
    region: &Region,
    path: &[PathPoint],
    sigma_start_m: f64,
    sigma_end_m: f64,
    quantiles: &[f64],
) -> f64 {
    if path.is_empty() || quantiles.is_empty() {
        return 0.0;
    }
    let rp = region.plane();
    let xy: Vec<(f64, f64)> = path
        .iter()
        .map(|p| rp.to_xy(p.lat_deg, p.lon_deg))
        .collect();
    let reach = region.bound_m() + FAR_SIGMAS * sigma_end_m.max(sigma_start_m);
    let s = cumulative_ground_m(path);
    let total = s.last().copied().unwrap_or(0.0);
    // Legs that cannot come near the region, even shifted, are skipped.
    let near: Vec<bool> = xy
        .windows(2)
        .map(|w| {
            let leg = (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1);
            w[0].0.hypot(w[0].1) <= reach + leg
        })
        .collect();
    let single_near = xy.len() == 1 && xy[0].0.hypot(xy[0].1) <= reach;
    if !single_near && !near.iter().any(|&b| b) {
        return 0.0;
    }
    // Unit normals (left of travel) on the region's plane, and the σ at each point.
    let n = xy.len();
    let normals: Vec<(f64, f64)> = (0..n)
        .map(|k| {
            let (a, b) = (xy[k.saturating_sub(1)], xy[(k + 1).min(n - 1)]);
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let len = dx.hypot(dy);
            if len > 0.0 {
                (-dy / len, dx / len)
            } else {
                (0.0, 0.0)
            }
        })
        .collect();
    let sig: Vec<f64> = s
        .iter()
        .map(|sk| {
            let f = if total > 0.0 { sk / total } else { 1.0 };
            sigma_start_m + f * (sigma_end_m - sigma_start_m)
        })
        .collect();
    let shifted = |k: usize, xi: f64| {
        (
            xy[k].0 + xi * sig[k] * normals[k].0,
            xy[k].1 + xi * sig[k] * normals[k].1,
        )
    };
    let hits = quantiles
        .iter()
        .filter(|&&xi| {
            if n == 1 {
                return region.contains_xy(shifted(0, xi));
            }
            (0..n - 1)
                .any(|k| near[k] && region.segment_hits_xy(shifted(k, xi), shifted(k + 1, xi)))
        })
        .count();
    hits as f64 / quantiles.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilink_domain::{RegionShape, RegionSpec};

    fn aomori() -> Region {
        Region::new(&RegionSpec {
            name: "Aomori".into(),
            nation: "JP".into(),
            shape: RegionShape::Polygon(vec![
                (41.55, 139.95),
                (41.55, 141.70),
                (40.20, 141.70),
                (40.20, 139.85),
            ]),
        })
        .expect("valid")
    }

    fn round(a: f64, b: f64) -> Ellipse {
        Ellipse {
            semi_major_m: a,
            semi_minor_m: b,
            orientation_deg: 30.0,
        }
    }

    #[test]
    fn an_ellipse_well_inside_a_region_is_certain_and_one_far_away_is_impossible() {
        let pairs = normal_pairs(512);
        let r = aomori();
        assert_eq!(
            impact_probability(&r, 40.85, 140.75, &round(10_000.0, 5_000.0), &pairs),
            1.0
        );
        assert_eq!(
            impact_probability(&r, 41.03, 131.91, &round(50_000.0, 20_000.0), &pairs),
            0.0
        );
    }

    #[test]
    fn an_ellipse_straddling_the_edge_gives_about_half() {
        let pairs = normal_pairs(512);
        let r = aomori();
        // Centred on the eastern edge (lon 141.70), a round ellipse: half in, half out.
        let p = impact_probability(&r, 40.875, 141.70, &round(30_000.0, 30_000.0), &pairs);
        assert!((p - 0.5).abs() < 0.06, "p = {p}");
    }

    fn line(lat: f64, lon0: f64, lon1: f64, n: usize) -> Vec<PathPoint> {
        (0..n)
            .map(|k| {
                let f = k as f64 / (n - 1) as f64;
                PathPoint {
                    t_s: f * 600.0,
                    lat_deg: lat,
                    lon_deg: lon0 + f * (lon1 - lon0),
                    alt_m: 1e5,
                }
            })
            .collect()
    }

    #[test]
    fn a_path_straight_over_a_region_is_certain_and_one_far_beside_it_is_not() {
        let q = normal_quantiles(41);
        let r = aomori();
        let over = line(40.9, 128.0, 160.0, 60);
        assert_eq!(overflight_probability(&r, &over, 500.0, 20_000.0, &q), 1.0);
        let beside = line(45.0, 128.0, 160.0, 60);
        assert_eq!(
            overflight_probability(&r, &beside, 500.0, 20_000.0, &q),
            0.0
        );
        // A wide spread makes a near miss possible, not certain.
        let near = line(42.0, 128.0, 160.0, 60);
        let p = overflight_probability(&r, &near, 500.0, 400_000.0, &q);
        assert!(p > 0.0 && p < 1.0, "p = {p}");
    }
}
