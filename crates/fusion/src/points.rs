//! Fusing launch and impact points with their 95 % ellipses.
//!
//! Each ellipse becomes a 2×2 covariance in one east/north tangent plane at the points' mean,
//! the covariances are fused by the same covariance intersection as the states, and the
//! result goes back to an ellipse. Times are averaged with the CI weights.
use nalgebra::{Matrix2, Vector2, Vector3};
use trilink_domain::PointEstimate;
use trilink_geo::{Ecef, Enu, Geodetic, LocalFrame};
use trilink_track::ipp::{ellipse_95, CHI2_2DOF_95};

use crate::ci::{CovarianceIntersection, FusionRule};
use crate::FusionError;

/// Floor of an ellipse semi-axis (m): a reported zero would be a singular covariance, and no
/// tracker knows a ground point to better than a metre.
const MIN_SEMI_AXIS_M: f64 = 1.0;

/// The east/north covariance of a 95 % ellipse (orientation clockwise from north).
pub fn ellipse_covariance(
    semi_major_m: f64,
    semi_minor_m: f64,
    orientation_deg: f64,
) -> Matrix2<f64> {
    let a = semi_major_m.max(MIN_SEMI_AXIS_M);
    let b = semi_minor_m.max(MIN_SEMI_AXIS_M);
    let t = orientation_deg.to_radians();
    // Clockwise from north: the major axis points (east, north) = (sin θ, cos θ).
    let u = Vector2::new(t.sin(), t.cos());
    let v = Vector2::new(t.cos(), -t.sin());
    (u * u.transpose()) * (a * a / CHI2_2DOF_95) + (v * v.transpose()) * (b * b / CHI2_2DOF_95)
}

fn ground(p: &PointEstimate) -> Result<Ecef, FusionError> {
    Geodetic::from_degrees(p.lat_deg, p.lon_deg, 0.0)
        .map(|g| g.to_ecef())
        .map_err(|_| FusionError::NotFinite {
            what: "point estimate",
        })
}

/// The fusion of `points` by covariance intersection; `None` for an empty list.
pub fn fuse_points(
    points: &[PointEstimate],
    rule: &CovarianceIntersection,
) -> Result<Option<PointEstimate>, FusionError> {
    if points.is_empty() {
        return Ok(None);
    }
    let ecef = points.iter().map(ground).collect::<Result<Vec<_>, _>>()?;
    let mean = ecef.iter().fold(Vector3::zeros(), |s, e| s + e.0) / ecef.len() as f64;
    let origin = Ecef(mean).to_geodetic();
    let frame = LocalFrame::new(Geodetic {
        alt_m: 0.0,
        ..origin
    });
    let inputs: Vec<(Vector2<f64>, Matrix2<f64>)> = points
        .iter()
        .zip(&ecef)
        .map(|(p, e)| {
            let enu = frame.to_enu(e).0;
            (
                Vector2::new(enu.x, enu.y),
                ellipse_covariance(p.semi_major_m, p.semi_minor_m, p.orientation_deg),
            )
        })
        .collect();
    let fused = rule.fuse(&inputs)?;
    let (semi_major_m, semi_minor_m, orientation_deg) = ellipse_95(&fused.p);
    let at = frame
        .to_ecef(&Enu(Vector3::new(fused.x[0], fused.x[1], 0.0)))
        .to_geodetic();
    let time_s = points
        .iter()
        .zip(&fused.weights)
        .map(|(p, w)| p.time_s * w)
        .sum();
    Ok(Some(PointEstimate {
        time_s,
        lat_deg: at.lat_deg(),
        lon_deg: at.lon_deg(),
        semi_major_m,
        semi_minor_m,
        orientation_deg,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ellipse_survives_the_round_trip_through_its_covariance() {
        for (a, b, o) in [
            (5000.0, 2000.0, 30.0),
            (800.0, 800.0, 0.0),
            (9000.0, 100.0, 170.0),
        ] {
            let (a2, b2, o2) = ellipse_95(&ellipse_covariance(a, b, o));
            assert!((a2 - a).abs() < 1e-6 * a && (b2 - b).abs() < 1e-6 * a);
            if a != b {
                assert!((o2 - o).abs() < 1e-6, "{o} → {o2}");
            }
        }
    }
}
