//! Earth gravity: point mass plus the J2 zonal term (BRIEF §3.1 constants).
//!
//! J2 is symmetric about the rotation axis, so it has the same form in ECEF as in an inertial
//! frame aligned with the pole; no Earth-orientation model is needed for it.

use nalgebra::{Matrix3, Vector3};
use trilink_geo::wgs84::{A_M, GM_M3_PER_S2, J2};

/// Gravitational potential (positive convention, m²/s²): `U = GM/r · (1 − J2 (a/r)² P2(z/r))`.
pub fn potential(r_m: &Vector3<f64>) -> f64 {
    let r2 = r_m.norm_squared();
    let r = r2.sqrt();
    let sin2_phi = r_m.z * r_m.z / r2;
    let p2 = 0.5 * (3.0 * sin2_phi - 1.0);
    GM_M3_PER_S2 / r * (1.0 - J2 * (A_M * A_M / r2) * p2)
}

/// Gravitational acceleration (m/s²), the gradient of [`potential`].
pub fn acceleration(r_m: &Vector3<f64>) -> Vector3<f64> {
    let r2 = r_m.norm_squared();
    let r = r2.sqrt();
    let z2_over_r2 = r_m.z * r_m.z / r2;
    let k = 1.5 * J2 * A_M * A_M / r2;
    let mu_r3 = GM_M3_PER_S2 / (r2 * r);
    let equatorial = 1.0 - k * (5.0 * z2_over_r2 - 1.0);
    let polar = 1.0 - k * (5.0 * z2_over_r2 - 3.0);
    Vector3::new(
        -mu_r3 * r_m.x * equatorial,
        -mu_r3 * r_m.y * equatorial,
        -mu_r3 * r_m.z * polar,
    )
}

/// Point-mass gravitational acceleration only (for two-body checks and fast linearisations).
pub fn point_mass_acceleration(r_m: &Vector3<f64>) -> Vector3<f64> {
    let r2 = r_m.norm_squared();
    -GM_M3_PER_S2 / (r2 * r2.sqrt()) * r_m
}

/// ∂a/∂r of [`acceleration`] (1/s²), for filter Jacobians.
///
/// The point-mass part is analytic; the J2 part, three orders of magnitude smaller, is taken by
/// central differences with a 1 m step, which is exact to far below what any filter can notice.
pub fn gradient(r_m: &Vector3<f64>) -> Matrix3<f64> {
    let r2 = r_m.norm_squared();
    let r = r2.sqrt();
    let mu_r3 = GM_M3_PER_S2 / (r2 * r);
    let unit = r_m / r;
    let point_mass = mu_r3 * (3.0 * unit * unit.transpose() - Matrix3::identity());
    let j2_only = |p: &Vector3<f64>| acceleration(p) - point_mass_acceleration(p);
    let h = 1.0;
    let mut j2_part = Matrix3::zeros();
    for i in 0..3 {
        let mut dp = Vector3::zeros();
        dp[i] = h;
        let col = (j2_only(&(r_m + dp)) - j2_only(&(r_m - dp))) / (2.0 * h);
        j2_part.set_column(i, &col);
    }
    point_mass + j2_part
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surface_gravity_matches_published_normal_gravity() {
        // Somigliana normal gravity on the WGS-84 ellipsoid (NIMA TR8350.2 Table 3.4):
        // 9.7803253359 m/s² at the equator, 9.8321849378 m/s² at the poles. Those include the
        // centrifugal term and all zonal harmonics; with J2 only the gravitational part
        // should match to within a few mm/s².
        let omega = trilink_geo::wgs84::OMEGA_RAD_PER_S;
        let eq = Vector3::new(A_M, 0.0, 0.0);
        let g_eq = acceleration(&eq).x + omega * omega * A_M;
        assert!(
            (g_eq.abs() - 9.780_325_335_9).abs() < 5e-3,
            "equator {g_eq}"
        );
        let pole = Vector3::new(0.0, 0.0, trilink_geo::wgs84::B_M);
        assert!((acceleration(&pole).z.abs() - 9.832_184_937_8).abs() < 5e-3);
    }

    #[test]
    fn acceleration_is_the_gradient_of_the_potential() {
        let r = Vector3::new(4.1e6, -3.3e6, 4.4e6);
        let h = 0.5;
        let a = acceleration(&r);
        for i in 0..3 {
            let mut dp = Vector3::zeros();
            dp[i] = h;
            let numeric = (potential(&(r + dp)) - potential(&(r - dp))) / (2.0 * h);
            assert!(
                (numeric - a[i]).abs() < 1e-7 * a.norm(),
                "axis {i}: {numeric} vs {}",
                a[i]
            );
        }
    }

    #[test]
    fn gradient_matches_finite_differences_of_acceleration() {
        let r = Vector3::new(-2.9e6, 4.9e6, 3.6e6);
        let g = gradient(&r);
        for i in 0..3 {
            let mut dp = Vector3::zeros();
            dp[i] = 10.0;
            let col = (acceleration(&(r + dp)) - acceleration(&(r - dp))) / 20.0;
            assert!((g.column(i) - col).norm() < 1e-12, "column {i}");
        }
    }
}
