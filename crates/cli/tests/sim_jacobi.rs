//! Brief §4 physics bar, read back from the files a user gets: in free flight above the
//! atmosphere, the rotating-frame energy (Jacobi integral, J2 included) of every object in
//! `truth.csv` is conserved to 1e-7 relative.

use std::collections::BTreeMap;

use assert_cmd::Command;
use trilink_geo::Ecef;
use trilink_interchange::{read_all, TruthRow};
use trilink_physics::atmosphere::DRAG_CEILING_ALT_M;
use trilink_physics::jacobi_integral;

#[test]
fn jacobi_integral_from_truth_csv_is_conserved_above_the_atmosphere() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("trilink")
        .unwrap()
        .args(["simulate", "hwasong-18", "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let truth: Vec<TruthRow> = read_all(&dir.path().join("truth.csv")).unwrap();
    let vehicle = trilink_sim::vehicle_class("hwasong-18").unwrap();
    let burnout_s: f64 = vehicle.stages.iter().map(|s| s.burn_time_s).sum();
    // A kilometre of margin over the ceiling, because the physics decides "above" with a fast
    // height approximation.
    let ceiling_m = DRAG_CEILING_ALT_M + 1_000.0;

    let mut by_object: BTreeMap<u64, Vec<&TruthRow>> = BTreeMap::new();
    for r in &truth {
        by_object.entry(r.object_id).or_default().push(r);
    }
    let mut checked = 0;
    for (id, rows) in by_object {
        // The unpowered samples above the ceiling: one contiguous arc per object.
        let arc: Vec<&&TruthRow> = rows
            .iter()
            .filter(|r| r.time_s > burnout_s + 1.0)
            .filter(|r| Ecef::new(r.x_m, r.y_m, r.z_m).to_geodetic().alt_m > ceiling_m)
            .collect();
        if arc.len() < 100 {
            continue;
        }
        assert!(
            arc.windows(2)
                .all(|w| w[1].time_s - w[0].time_s <= 0.1 + 1e-9),
            "object {id}: the arc above the ceiling is not contiguous"
        );
        let j = |r: &TruthRow| {
            jacobi_integral(
                &trilink_geo::Vector3::new(r.x_m, r.y_m, r.z_m),
                &trilink_geo::Vector3::new(r.vx_mps, r.vy_mps, r.vz_mps),
            )
        };
        let j0 = j(arc[0]);
        let worst = arc
            .iter()
            .map(|r| ((j(r) - j0) / j0).abs())
            .fold(0.0, f64::max);
        eprintln!(
            "object {id}: {} samples over {:.0} s above {:.0} km, max |ΔJ/J| = {worst:.2e}",
            arc.len(),
            arc[arc.len() - 1].time_s - arc[0].time_s,
            ceiling_m / 1e3
        );
        assert!(worst < 1e-7, "object {id}: max |ΔJ/J| = {worst:e}");
        checked += 1;
    }
    // The payload and the last stage climb to ~6,600 km; the second stage also clears 400 km.
    assert!(checked >= 2, "only {checked} objects had a free-flight arc");
}
