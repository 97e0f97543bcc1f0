//! Validation (b): the Jacobi integral in free flight above the atmosphere, J2 and rotation on.
//!
//! In the rotating frame, with gravity symmetric about the spin axis and no drag, the Jacobi
//! integral is an exact constant of motion; its drift over a whole flight measures the
//! integrator (and proves drag is really off above the ceiling).

use trilink_geo::Ecef;
use trilink_physics::atmosphere::DRAG_CEILING_ALT_M;
use trilink_physics::integrate::{position, velocity};
use trilink_physics::{fly, jacobi_integral, missiles, FlightConfig, Trajectory};

/// Largest relative change of the Jacobi integral over the samples of `traj` that are unpowered
/// and above the drag ceiling, and how many such samples there were.
fn jacobi_drift(traj: &Trajectory) -> (f64, usize) {
    let free: Vec<f64> = traj
        .samples
        .iter()
        .skip(traj.powered_until)
        .filter(|s| Ecef(position(s)).to_geodetic().alt_m > DRAG_CEILING_ALT_M)
        .map(|s| jacobi_integral(&position(s), &velocity(s)))
        .collect();
    let j0 = free.first().copied().unwrap_or(f64::NAN);
    let worst = free
        .iter()
        .map(|j| (j - j0).abs() / j0.abs())
        .fold(0.0f64, f64::max);
    (worst, free.len())
}

#[test]
fn jacobi_integral_is_conserved_over_every_lofted_free_flight() {
    for name in ["hwasong-18", "hwasong-15", "hwasong-12"] {
        let launch = missiles::template_launch(name, 0.0).unwrap();
        let flight = fly(&launch, &FlightConfig::default()).unwrap();
        for obj in &flight.objects {
            let (drift, n) = jacobi_drift(obj);
            if n < 100 {
                continue; // a stage that never climbs above the ceiling
            }
            eprintln!(
                "{name} {:?}: Jacobi relative drift {drift:.2e} over {n} samples",
                obj.kind
            );
            assert!(drift < 1e-7, "{name} {:?}: {drift}", obj.kind);
        }
    }
}

#[test]
fn jacobi_integral_is_conserved_by_a_satellite_for_three_hours() {
    let launch = missiles::template_launch("chollima-1", 0.0).unwrap();
    let flight = fly(&launch, &FlightConfig::default()).unwrap();
    let payload = flight.payload().unwrap();
    let (drift, n) = jacobi_drift(payload);
    eprintln!("chollima-1 payload: Jacobi relative drift {drift:.2e} over {n} samples");
    assert!(n > 90_000, "the satellite should stay up: {n} samples");
    assert!(drift < 1e-7, "{drift}");
}
