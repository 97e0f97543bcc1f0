//! Missile classes by name: the one place where a `class = "..."` in a scenario becomes a
//! vehicle.
//!
//! The fitted classes belong to the physics crate (`trilink_physics::missiles`, being added at
//! the time of writing). Until it lands, the interim parameters below stand in: plausible
//! masses and burn times, with the pitch programme and thrust tuned by
//! `tests::interim_classes_fly_near_their_templates` to fly roughly like the public templates.
//! They are not the validated fit; switching is a change to [`vehicle_class`] and
//! [`class_names`] only.

use trilink_physics::{PitchProgram, StageSpec, VehicleSpec};

fn stage(dry_kg: f64, prop_kg: f64, thrust_n: f64, burn_s: f64, beta: f64) -> StageSpec {
    StageSpec {
        dry_mass_kg: dry_kg,
        propellant_mass_kg: prop_kg,
        thrust_n,
        burn_time_s: burn_s,
        ballistic_coefficient_kg_m2: beta,
    }
}

const NAMES: [&str; 5] = ["kn-23", "hwasong-12", "hwasong-15", "hwasong-18", "chollima-1"];

/// The class names a scenario may use.
pub fn class_names() -> Vec<&'static str> {
    NAMES.to_vec()
}

/// The vehicle of a named class, or `None` for an unknown name.
pub fn vehicle_class(name: &str) -> Option<VehicleSpec> {
    let v = match name {
        "kn-23" => VehicleSpec {
            stages: vec![stage(900.0, 2_600.0, KN23_THRUST_N, 40.0, 2_000.0)],
            payload_mass_kg: 500.0,
            payload_ballistic_coefficient_kg_m2: 5_000.0,
            pitch: PitchProgram {
                vertical_s: 4.0,
                final_elevation_rad: KN23_FINAL_EL_DEG.to_radians(),
            },
        },
        "hwasong-12" => VehicleSpec {
            stages: vec![stage(2_500.0, 20_000.0, HS12_THRUST_N, 110.0, 1_500.0)],
            payload_mass_kg: 650.0,
            payload_ballistic_coefficient_kg_m2: 8_000.0,
            pitch: PitchProgram {
                vertical_s: 8.0,
                final_elevation_rad: HS12_FINAL_EL_DEG.to_radians(),
            },
        },
        "hwasong-15" => VehicleSpec {
            stages: vec![
                stage(4_500.0, 50_000.0, HS15_THRUST_N, 140.0, 1_500.0),
                stage(1_000.0, 8_000.0, 160_000.0, 110.0, 1_000.0),
            ],
            payload_mass_kg: 1_000.0,
            payload_ballistic_coefficient_kg_m2: 8_000.0,
            pitch: PitchProgram {
                vertical_s: 10.0,
                final_elevation_rad: HS15_FINAL_EL_DEG.to_radians(),
            },
        },
        "hwasong-18" => VehicleSpec {
            stages: vec![
                stage(4_000.0, 36_000.0, HS18_THRUST_N, 80.0, 1_500.0),
                stage(1_500.0, 12_000.0, 340_000.0, 70.0, 1_000.0),
                stage(400.0, 3_000.0, 100_000.0, 60.0, 800.0),
            ],
            payload_mass_kg: 900.0,
            payload_ballistic_coefficient_kg_m2: 8_000.0,
            pitch: PitchProgram {
                vertical_s: 10.0,
                final_elevation_rad: HS18_FINAL_EL_DEG.to_radians(),
            },
        },
        "chollima-1" => VehicleSpec {
            stages: vec![
                stage(5_000.0, 45_000.0, CH1_THRUST_N, 150.0, 1_500.0),
                stage(1_200.0, 10_000.0, 120_000.0, 200.0, 800.0),
                stage(300.0, 2_000.0, 15_000.0, 300.0, 400.0),
            ],
            payload_mass_kg: 300.0,
            payload_ballistic_coefficient_kg_m2: 300.0,
            pitch: PitchProgram {
                vertical_s: 12.0,
                final_elevation_rad: CH1_FINAL_EL_DEG.to_radians(),
            },
        },
        _ => return None,
    };
    Some(v)
}

// Tuned values (see the module comment).
const KN23_THRUST_N: f64 = 160_000.0;
const KN23_FINAL_EL_DEG: f64 = 20.0;
const HS12_THRUST_N: f64 = 460_000.0;
const HS12_FINAL_EL_DEG: f64 = 35.0;
const HS15_THRUST_N: f64 = 900_000.0;
const HS15_FINAL_EL_DEG: f64 = 70.0;
const HS18_THRUST_N: f64 = 1_100_000.0;
const HS18_FINAL_EL_DEG: f64 = 70.0;
const CH1_THRUST_N: f64 = 900_000.0;
const CH1_FINAL_EL_DEG: f64 = 0.0;
