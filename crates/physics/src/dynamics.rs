//! Equations of motion in the rotating ECEF frame.

use nalgebra::Vector3;
use trilink_geo::wgs84::OMEGA_RAD_PER_S;

use crate::gravity;

/// Earth's angular velocity vector in ECEF (rad/s).
pub fn earth_rotation() -> Vector3<f64> {
    Vector3::new(0.0, 0.0, OMEGA_RAD_PER_S)
}

/// Coriolis plus centrifugal acceleration felt in the rotating frame: `−2ω×v − ω×(ω×r)`.
pub fn rotating_frame_acceleration(r_m: &Vector3<f64>, v_mps: &Vector3<f64>) -> Vector3<f64> {
    let w = OMEGA_RAD_PER_S;
    // Written out for ω = (0, 0, w): −2ω×v = (2w·vy, −2w·vx, 0), −ω×(ω×r) = (w²x, w²y, 0).
    Vector3::new(
        2.0 * w * v_mps.y + w * w * r_m.x,
        -2.0 * w * v_mps.x + w * w * r_m.y,
        0.0,
    )
}

/// Acceleration of an unpowered body above the atmosphere, in the rotating ECEF frame.
pub fn free_flight_acceleration(r_m: &Vector3<f64>, v_mps: &Vector3<f64>) -> Vector3<f64> {
    gravity::acceleration(r_m) + rotating_frame_acceleration(r_m, v_mps)
}

/// The Jacobi integral (m²/s²): energy per unit mass in the rotating frame,
/// `½|v|² − ½ω²(x² + y²) − U`. Constant in free flight when gravity is axially symmetric (J2
/// included), because the Coriolis force does no work.
pub fn jacobi_integral(r_m: &Vector3<f64>, v_mps: &Vector3<f64>) -> f64 {
    let w = OMEGA_RAD_PER_S;
    0.5 * v_mps.norm_squared()
        - 0.5 * w * w * (r_m.x * r_m.x + r_m.y * r_m.y)
        - gravity::potential(r_m)
}
