//! Behaviour of `fly` itself: sampling grid, staging instants, burnout index, impact, errors.

use nalgebra::Vector3;
use trilink_geo::{Ecef, Geodetic};
use trilink_physics::integrate::{position, velocity};
use trilink_physics::{
    fly, jacobi_integral, missiles, Ending, FlightConfig, Launch, ObjectKind, PhysicsError,
    PitchProgram, StageSpec, VehicleSpec,
};

fn site() -> Geodetic {
    Geodetic::from_degrees(39.2, 125.67, 30.0).unwrap()
}

/// A two-stage vehicle whose burn times (33.37 s, 41.23 s) fall between 0.1 s grid times.
fn off_grid_vehicle() -> VehicleSpec {
    VehicleSpec {
        stages: vec![
            StageSpec {
                dry_mass_kg: 2_000.0,
                propellant_mass_kg: 16_000.0,
                thrust_n: 16_000.0 / 33.37 * 270.0 * 9.806_65,
                burn_time_s: 33.37,
                ballistic_coefficient_kg_m2: 400.0,
            },
            StageSpec {
                dry_mass_kg: 600.0,
                propellant_mass_kg: 5_000.0,
                thrust_n: 5_000.0 / 41.23 * 290.0 * 9.806_65,
                burn_time_s: 41.23,
                ballistic_coefficient_kg_m2: 300.0,
            },
        ],
        payload_mass_kg: 700.0,
        payload_ballistic_coefficient_kg_m2: 5_000.0,
        pitch: PitchProgram {
            vertical_s: 6.0,
            final_elevation_rad: 30f64.to_radians(),
        },
    }
}

fn launch(vehicle: VehicleSpec) -> Launch {
    Launch {
        site: site(),
        azimuth_rad: 80f64.to_radians(),
        t0_s: 1_000.0,
        vehicle,
    }
}

fn height(s: &trilink_physics::State6) -> f64 {
    Ecef(position(s)).to_geodetic().alt_m
}

#[test]
fn first_sample_is_the_pad_at_rest_at_launch_time() {
    let l = launch(off_grid_vehicle());
    let f = fly(&l, &FlightConfig::default()).unwrap();
    let p = f.payload().unwrap();
    assert_eq!(p.t_s[0], 1_000.0);
    assert!((position(&p.samples[0]) - l.site.to_ecef().0).norm() < 1e-6);
    assert_eq!(velocity(&p.samples[0]), Vector3::zeros());
}

#[test]
fn samples_stay_on_the_launch_grid_across_off_grid_staging() {
    let l = launch(off_grid_vehicle());
    let f = fly(&l, &FlightConfig::default()).unwrap();
    for obj in &f.objects {
        let n = obj.t_s.len();
        let first_on_grid = usize::from(obj.kind != ObjectKind::Payload);
        for (i, &t) in obj.t_s.iter().enumerate().take(n - 1).skip(first_on_grid) {
            let k = (t - l.t0_s) / 0.1;
            assert!(
                (k - k.round()).abs() < 1e-6,
                "{:?} sample {i} at {t}",
                obj.kind
            );
        }
    }
}

#[test]
fn stages_separate_at_the_exact_burnout_instants() {
    let l = launch(off_grid_vehicle());
    let f = fly(&l, &FlightConfig::default()).unwrap();
    let p = f.payload().unwrap();
    for (k, t_sep) in [(1u8, 1_033.37), (2, 1_074.6)] {
        let s = f
            .objects
            .iter()
            .find(|o| o.kind == ObjectKind::SpentStage(k))
            .unwrap();
        assert!(
            (s.t_start_s() - t_sep).abs() < 1e-9,
            "stage {k} at {}",
            s.t_start_s()
        );
        // The stage starts where the payload is at that instant (interpolated between grid
        // samples across the thrust cut-off, hence metres, not millimetres).
        let at = p.state_at(t_sep).unwrap();
        let gap_m = (position(&at) - position(&s.samples[0])).norm();
        assert!(gap_m < 1.0, "stage {k} starts {gap_m} m from the payload");
    }
}

#[test]
fn powered_until_points_at_the_first_sample_after_burnout() {
    let l = launch(off_grid_vehicle());
    let f = fly(&l, &FlightConfig::default()).unwrap();
    let p = f.payload().unwrap();
    let burnout = l.t0_s + 33.37 + 41.23;
    let i = p.powered_until;
    assert!(p.t_s[i - 1] < burnout && p.t_s[i] >= burnout, "index {i}");
    // The same holds when burnout falls exactly on a grid time.
    let mut v = off_grid_vehicle();
    v.stages[0].burn_time_s = 33.0;
    v.stages[1].burn_time_s = 41.0;
    let f = fly(&launch(v), &FlightConfig::default()).unwrap();
    let p = f.payload().unwrap();
    let i = p.powered_until;
    assert!((p.t_s[i] - (l.t0_s + 74.0)).abs() < 1e-9, "{}", p.t_s[i]);
}

#[test]
fn every_object_ends_on_the_ellipsoid_at_the_bisected_instant() {
    let l = launch(off_grid_vehicle());
    let f = fly(&l, &FlightConfig::default()).unwrap();
    assert_eq!(f.objects.len(), 3);
    for obj in &f.objects {
        assert_eq!(obj.ending, Ending::Impact, "{:?}", obj.kind);
        let last = obj.samples.last().unwrap();
        assert!(
            height(last).abs() < 1e-3,
            "{:?} ends {} m up",
            obj.kind,
            height(last)
        );
        let n = obj.t_s.len();
        assert!(obj.t_s[n - 1] - obj.t_s[n - 2] <= 0.1 + 1e-9);
        assert!(obj.samples[..n - 1].iter().all(|s| height(s) > -1e-3));
    }
}

#[test]
fn a_stack_steered_into_the_ground_impacts_instead_of_flying_through_the_earth() {
    // One long burn whose thrust the pitch programme turns straight down.
    let mut v = off_grid_vehicle();
    v.stages = vec![StageSpec {
        dry_mass_kg: 1_000.0,
        propellant_mass_kg: 9_000.0,
        thrust_n: 9_000.0 / 120.0 * 250.0 * 9.806_65,
        burn_time_s: 120.0,
        ballistic_coefficient_kg_m2: 300.0,
    }];
    v.pitch = PitchProgram {
        vertical_s: 0.0,
        final_elevation_rad: -90f64.to_radians(),
    };
    let f = fly(&launch(v), &FlightConfig::default()).unwrap();
    let p = f.payload().unwrap();
    assert_eq!(p.ending, Ending::Impact);
    assert!(p.samples.iter().all(|s| height(s) > -1e-3));
    assert!(height(p.samples.last().unwrap()).abs() < 1e-3);
    assert!(p.t_end_s() - 1_000.0 < 120.0, "impact at {}", p.t_end_s());
    assert_eq!(
        p.powered_until,
        p.t_s.len(),
        "every sample was under thrust"
    );
    // The stage never separated: it hit the ground still burning, with the payload.
    assert_eq!(f.objects.len(), 1);
}

#[test]
fn a_launch_that_cannot_lift_its_own_weight_is_an_error() {
    let mut v = off_grid_vehicle();
    v.stages[0].thrust_n = 100_000.0;
    match fly(&launch(v), &FlightConfig::default()) {
        Err(PhysicsError::NeverLeavesGround { thrust_n, weight_n }) => {
            assert_eq!(thrust_n, 100_000.0);
            assert!((weight_n - 24_300.0 * 9.8).abs() < 24_300.0 * 0.05);
        }
        other => panic!("expected NeverLeavesGround, got {other:?}"),
    }
}

#[test]
fn invalid_inputs_are_errors_not_panics() {
    let mut v = off_grid_vehicle();
    v.stages[1].burn_time_s = f64::NAN;
    assert!(matches!(
        fly(&launch(v), &FlightConfig::default()),
        Err(PhysicsError::InvalidVehicle { .. })
    ));
    let cfg = FlightConfig {
        dt_s: 0.0,
        ..FlightConfig::default()
    };
    assert!(fly(&launch(off_grid_vehicle()), &cfg).is_err());
    let cfg = FlightConfig {
        max_duration_s: f64::INFINITY,
        ..FlightConfig::default()
    };
    assert!(fly(&launch(off_grid_vehicle()), &cfg).is_err());
    let cfg = FlightConfig {
        separation_delta_v_mps: -1.0,
        ..FlightConfig::default()
    };
    assert!(matches!(
        fly(&launch(off_grid_vehicle()), &cfg),
        Err(PhysicsError::InvalidVehicle { what, .. }) if what == "separation_delta_v_mps"
    ));
}

#[test]
fn a_flight_cut_short_by_max_duration_stops_at_the_limit() {
    let cfg = FlightConfig {
        dt_s: 0.1,
        max_duration_s: 50.0,
        ..FlightConfig::default()
    };
    let f = fly(&launch(off_grid_vehicle()), &cfg).unwrap();
    let p = f.payload().unwrap();
    assert_eq!(p.ending, Ending::StillFlying);
    assert!((p.t_end_s() - 1_050.0).abs() < 1e-6, "{}", p.t_end_s());
    assert_eq!(p.powered_until, p.t_s.len());
}

#[test]
fn drag_slows_a_dense_reentry_body_more_than_a_light_one() {
    // Same launch, two payload ballistic coefficients: the draggier payload loses more energy
    // in the atmosphere and so falls short.
    let range_of = |beta: f64| {
        let mut v = off_grid_vehicle();
        v.payload_ballistic_coefficient_kg_m2 = beta;
        let l = launch(v);
        let f = fly(&l, &FlightConfig::default()).unwrap();
        let end = Ecef(position(f.payload().unwrap().samples.last().unwrap())).to_geodetic();
        trilink_geo::geodesic_inverse(&l.site, &end).distance_m
    };
    assert!(range_of(500.0) < range_of(20_000.0) - 1_000.0);
}

/// Step-size study for docs/decisions/0102: the production 0.1 s step against 0.01 s over a
/// whole Hwasong-18 flight.
#[test]
fn the_production_step_agrees_with_a_ten_times_finer_one() {
    let l = missiles::template_launch("hwasong-18", 0.0).unwrap();
    let run = |dt_s: f64| {
        let cfg = FlightConfig {
            dt_s,
            ..FlightConfig::default()
        };
        let f = fly(&l, &cfg).unwrap();
        let p = f.payload().unwrap().clone();
        let free: Vec<f64> = p.samples[p.powered_until..]
            .iter()
            .filter(|s| height(s) > trilink_physics::atmosphere::DRAG_CEILING_ALT_M)
            .map(|s| jacobi_integral(&position(s), &velocity(s)))
            .collect();
        let drift = free
            .iter()
            .map(|j| ((j - free[0]) / free[0]).abs())
            .fold(0.0f64, f64::max);
        (p, drift)
    };
    let (coarse, drift_coarse) = run(0.1);
    let (fine, drift_fine) = run(0.01);
    let impact_gap_m =
        (position(coarse.samples.last().unwrap()) - position(fine.samples.last().unwrap())).norm();
    let time_gap_s = (coarse.t_end_s() - fine.t_end_s()).abs();
    let worst_gap_m = coarse
        .t_s
        .iter()
        .step_by(100)
        .filter_map(|&t| {
            Some((position(&coarse.state_at(t)?) - position(&fine.state_at(t)?)).norm())
        })
        .fold(0.0f64, f64::max);
    eprintln!(
        "hwasong-18 dt 0.1 vs 0.01 s: impact {impact_gap_m:.2e} m apart, impact time {time_gap_s:.2e} s apart, \
         worst position gap {worst_gap_m:.2e} m; Jacobi drift {drift_coarse:.2e} (0.1 s) vs {drift_fine:.2e} (0.01 s)"
    );
    assert!(impact_gap_m < 10.0);
    assert!(drift_coarse < 1e-9);
}

#[test]
fn a_spent_stage_is_pushed_back_along_the_flight_and_drifts_off_at_that_speed() {
    // The last stage of the fitted hwasong-12 class separates above the air, so beyond the push
    // only the gravity gradient acts on the pair: over a minute the gap is the push times the
    // time, to well within a percent (relative motion in orbit departs from a straight line as
    // (n t)², n ≈ 1e-3 rad/s).
    let l = missiles::template_launch("hwasong-12", 0.0).unwrap();
    let still = FlightConfig {
        separation_delta_v_mps: 0.0,
        ..FlightConfig::default()
    };
    let pushed = FlightConfig::default();
    assert_eq!(pushed.separation_delta_v_mps, 3.0);
    let last = |cfg: &FlightConfig| {
        let f = fly(&l, cfg).unwrap();
        let n = l.vehicle.stages.len() as u8;
        let stage = f
            .objects
            .iter()
            .find(|o| o.kind == ObjectKind::SpentStage(n))
            .unwrap()
            .clone();
        (f.payload().unwrap().clone(), stage)
    };
    let (_, still_stage) = last(&still);
    let (payload, stage) = last(&pushed);
    // At the separation instant the push is the only difference, and it points backwards.
    let s0 = still_stage.samples[0];
    let s1 = stage.samples[0];
    assert!((position(&s0) - position(&s1)).norm() < 1e-9);
    let dv = velocity(&s1) - velocity(&s0);
    let ahead = velocity(&s0).normalize();
    assert!((dv.norm() - 3.0).abs() < 1e-9, "push {} m/s", dv.norm());
    assert!((dv.normalize().dot(&ahead) + 1.0).abs() < 1e-12);
    assert!(height(&s1) > 100e3, "separation at {} m", height(&s1));
    // A minute later the stage trails by the push times the time.
    let t = stage.t_start_s() + 60.0;
    let gap_m = (payload.position_at(t, 0.1).unwrap() - stage.position_at(t, 0.1).unwrap()).norm();
    eprintln!("gap after 60 s: {gap_m} m (push × time: 180 m)");
    assert!(
        (gap_m / 180.0 - 1.0).abs() < 0.01,
        "gap {gap_m} m after 60 s"
    );
}
