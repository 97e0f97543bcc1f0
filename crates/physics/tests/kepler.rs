//! Validation (a): the production integrator step against the analytic two-body solution.
//!
//! With J2, drag and rotation off the motion is a Kepler orbit, whose position after any time
//! follows from the initial elements and Kepler's equation alone. The numerical side is exactly
//! what `fly` does each step: `rk4_step` at 0.1 s, here with `point_mass_acceleration` in an
//! inertial frame.

use nalgebra::Vector3;
use trilink_geo::wgs84::GM_M3_PER_S2;
use trilink_physics::gravity::point_mass_acceleration;
use trilink_physics::integrate::{position, stack};
use trilink_physics::rk4_step;

/// Position after `dt_s` on the Kepler orbit through (r0, v0): solve Kepler's equation for the
/// eccentric anomaly, then the Lagrange f and g coefficients.
fn kepler_position(r0: &Vector3<f64>, v0: &Vector3<f64>, dt_s: f64) -> Vector3<f64> {
    let mu = GM_M3_PER_S2;
    let r0n = r0.norm();
    let energy = 0.5 * v0.norm_squared() - mu / r0n;
    assert!(energy < 0.0, "test orbit must be bound");
    let a = -mu / (2.0 * energy);
    let n = (mu / (a * a * a)).sqrt();
    // e·cos E0 and e·sin E0 from the state.
    let ecos = 1.0 - r0n / a;
    let esin = r0.dot(v0) / (mu * a).sqrt();
    let e = (ecos * ecos + esin * esin).sqrt();
    let e0 = esin.atan2(ecos);
    let m0 = e0 - esin;
    let m = m0 + n * dt_s;
    let mut ecc_anom = m;
    for _ in 0..50 {
        let step = (ecc_anom - e * ecc_anom.sin() - m) / (1.0 - e * ecc_anom.cos());
        ecc_anom -= step;
        if step.abs() < 1e-15 {
            break;
        }
    }
    let de = ecc_anom - e0;
    let f = 1.0 - a / r0n * (1.0 - de.cos());
    let g = dt_s - (de - de.sin()) / n;
    f * r0 + g * v0
}

fn integrate(r0: &Vector3<f64>, v0: &Vector3<f64>, duration_s: f64, dt_s: f64) -> Vector3<f64> {
    let steps = (duration_s / dt_s).round() as usize;
    let mut s = stack(r0, v0);
    for i in 0..steps {
        s = rk4_step(i as f64 * dt_s, &s, dt_s, |_, r, _| {
            point_mass_acceleration(r)
        });
    }
    position(&s)
}

#[test]
fn rk4_at_the_production_step_matches_kepler_after_30_minutes() {
    // A lofted ballistic state just after burnout: 300 km up, 6.6 km/s at 35° above the
    // horizontal, out of the equatorial plane; the 30 minutes cover apogee and the fall.
    let r0 = Vector3::new(6_678_137.0, 0.0, 0.0);
    let (sin_g, cos_g) = 35f64.to_radians().sin_cos();
    let v0 = 6_600.0 * Vector3::new(sin_g, cos_g * 0.8, cos_g * 0.6);
    let duration_s = 1_800.0;
    let numeric = integrate(&r0, &v0, duration_s, 0.1);
    let analytic = kepler_position(&r0, &v0, duration_s);
    let error_m = (numeric - analytic).norm();
    eprintln!("Kepler 30 min, lofted state, dt 0.1 s: position error {error_m:.3e} m");
    assert!(error_m < 1.0, "position error {error_m} m");
}

#[test]
fn rk4_at_the_production_step_matches_kepler_on_a_low_orbit() {
    // A near-circular orbit at 400 km with e ≈ 0.01: the fastest motion a payload here has.
    let r0 = Vector3::new(0.0, 6_778_137.0, 0.0);
    let v0 = Vector3::new(-7_700.0, 0.0, 400.0);
    let duration_s = 1_800.0;
    let numeric = integrate(&r0, &v0, duration_s, 0.1);
    let analytic = kepler_position(&r0, &v0, duration_s);
    let error_m = (numeric - analytic).norm();
    eprintln!("Kepler 30 min, low orbit, dt 0.1 s: position error {error_m:.3e} m");
    assert!(error_m < 1.0, "position error {error_m} m");
}

#[test]
fn the_analytic_reference_is_itself_consistent() {
    // Kepler's solution after a whole period returns to the start; a check on the reference,
    // not on the integrator.
    let r0 = Vector3::new(7_000_000.0, 100_000.0, -50_000.0);
    let v0 = Vector3::new(-200.0, 7_200.0, 1_000.0);
    let mu = GM_M3_PER_S2;
    let a: f64 = -mu / (2.0 * (0.5 * v0.norm_squared() - mu / r0.norm()));
    let period_s = 2.0 * std::f64::consts::PI * (a * a * a / mu).sqrt();
    assert!((kepler_position(&r0, &v0, period_s) - r0).norm() < 1e-4);
}
