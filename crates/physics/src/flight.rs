//! Powered and free flight of a launch vehicle and of the stages it drops.
//!
//! [`fly`] integrates the launch in the rotating ECEF frame on a fixed grid, and returns one
//! [`Trajectory`] per object: the payload (re-entry vehicle or satellite) and every spent stage,
//! which becomes its own falling body at separation.

use nalgebra::Vector3;
use trilink_geo::{Geodetic, LocalFrame};

use crate::integrate::{position, rk4_step, stack, velocity, State6};
use crate::{dynamics, PhysicsError};

/// One stage of a launch vehicle: constant thrust for `burn_time_s`, propellant burnt at a
/// constant rate.
#[derive(Debug, Clone, PartialEq)]
pub struct StageSpec {
    pub dry_mass_kg: f64,
    pub propellant_mass_kg: f64,
    pub thrust_n: f64,
    pub burn_time_s: f64,
    /// m / (Cd·A) of the spent stage falling on its own (kg/m²).
    pub ballistic_coefficient_kg_m2: f64,
}

/// How the thrust is steered: straight up for `vertical_s`, then its elevation above the launch
/// site's horizontal goes linearly to `final_elevation_rad` at the end of the last burn, along the
/// launch azimuth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchProgram {
    pub vertical_s: f64,
    pub final_elevation_rad: f64,
}

/// A launch vehicle: stages fired in order, then the payload flies on alone.
#[derive(Debug, Clone, PartialEq)]
pub struct VehicleSpec {
    pub stages: Vec<StageSpec>,
    pub payload_mass_kg: f64,
    /// m / (Cd·A) of the payload (kg/m²); also used for the whole stack while it climbs.
    pub payload_ballistic_coefficient_kg_m2: f64,
    pub pitch: PitchProgram,
}

/// One launch: where, which way, when, what.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    pub site: Geodetic,
    /// Launch azimuth, clockwise from geodetic north.
    pub azimuth_rad: f64,
    pub t0_s: f64,
    pub vehicle: VehicleSpec,
}

/// Integration settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlightConfig {
    /// Fixed integration and output step (s). 0.1 s gives the 10 Hz truth the contract asks for.
    pub dt_s: f64,
    /// A flight still airborne after this long is cut off (s).
    pub max_duration_s: f64,
}

impl Default for FlightConfig {
    fn default() -> Self {
        Self {
            dt_s: 0.1,
            max_duration_s: 3.0 * 3600.0,
        }
    }
}

/// What an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// The last thing flying: a re-entry vehicle or a satellite.
    Payload,
    /// A spent stage, numbered from 1 (the first stage dropped).
    SpentStage(u8),
}

/// How a trajectory ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// It reached the ellipsoid (height zero) at the last sample.
    Impact,
    /// It was still flying at the end of `max_duration_s`.
    StillFlying,
}

/// The sampled flight of one object: `samples[i]` is at `t_s[i]`; samples are `dt_s` apart except
/// the last, which sits at the exact impact time.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    pub kind: ObjectKind,
    pub t_s: Vec<f64>,
    pub samples: Vec<State6>,
    pub ending: Ending,
    /// Samples before this index are under thrust (for the payload: the whole boost).
    pub powered_until: usize,
}

impl Trajectory {
    pub fn t_start_s(&self) -> f64 {
        self.t_s.first().copied().unwrap_or(f64::NAN)
    }

    pub fn t_end_s(&self) -> f64 {
        self.t_s.last().copied().unwrap_or(f64::NAN)
    }

    /// State at any time inside the trajectory by cubic Hermite interpolation of position and
    /// velocity (error far below a millimetre at a 0.1 s step); `None` outside it.
    pub fn state_at(&self, t_s: f64) -> Option<State6> {
        let n = self.t_s.len();
        if n == 0 || !(t_s >= self.t_s[0] && t_s <= self.t_s[n - 1]) {
            return None;
        }
        let i = match self.t_s.binary_search_by(|x| x.total_cmp(&t_s)) {
            Ok(i) => return Some(self.samples[i]),
            Err(i) => i - 1,
        };
        let (t0, t1) = (self.t_s[i], self.t_s[i + 1]);
        let h = t1 - t0;
        let s = (t_s - t0) / h;
        let (a, b) = (&self.samples[i], &self.samples[i + 1]);
        let (p0, v0, p1, v1) = (position(a), velocity(a), position(b), velocity(b));
        let s2 = s * s;
        let s3 = s2 * s;
        let h00 = 2.0 * s3 - 3.0 * s2 + 1.0;
        let h10 = s3 - 2.0 * s2 + s;
        let h01 = -2.0 * s3 + 3.0 * s2;
        let h11 = s3 - s2;
        let p = h00 * p0 + h10 * h * v0 + h01 * p1 + h11 * h * v1;
        let d00 = (6.0 * s2 - 6.0 * s) / h;
        let d10 = 3.0 * s2 - 4.0 * s + 1.0;
        let d01 = (-6.0 * s2 + 6.0 * s) / h;
        let d11 = 3.0 * s2 - 2.0 * s;
        let v = d00 * p0 + d10 * v0 + d01 * p1 + d11 * v1;
        Some(stack(&p, &v))
    }
}

/// Every object of one launch.
#[derive(Debug, Clone, PartialEq)]
pub struct Flight {
    pub objects: Vec<Trajectory>,
}

impl Flight {
    pub fn payload(&self) -> Option<&Trajectory> {
        self.objects.iter().find(|o| o.kind == ObjectKind::Payload)
    }
}

fn check_vehicle(v: &VehicleSpec) -> Result<(), PhysicsError> {
    let bad = |what: String, value: f64, expected: &'static str| {
        Err(PhysicsError::InvalidVehicle {
            what,
            value,
            expected,
        })
    };
    if v.stages.is_empty() {
        return bad("stages".into(), 0.0, "at least one stage");
    }
    for (i, s) in v.stages.iter().enumerate() {
        let n = i + 1;
        for (name, value) in [
            ("dry_mass_kg", s.dry_mass_kg),
            ("propellant_mass_kg", s.propellant_mass_kg),
            ("thrust_n", s.thrust_n),
            ("burn_time_s", s.burn_time_s),
            ("ballistic_coefficient_kg_m2", s.ballistic_coefficient_kg_m2),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return bad(
                    format!("stage {n} {name}"),
                    value,
                    "a finite number greater than zero",
                );
            }
        }
    }
    if !(v.payload_mass_kg.is_finite() && v.payload_mass_kg > 0.0) {
        return bad(
            "payload_mass_kg".into(),
            v.payload_mass_kg,
            "a finite number greater than zero",
        );
    }
    if !(v.payload_ballistic_coefficient_kg_m2.is_finite()
        && v.payload_ballistic_coefficient_kg_m2 > 0.0)
    {
        return bad(
            "payload_ballistic_coefficient_kg_m2".into(),
            v.payload_ballistic_coefficient_kg_m2,
            "a finite number greater than zero",
        );
    }
    let p = v.pitch;
    if !(p.vertical_s.is_finite() && p.vertical_s >= 0.0) {
        return bad(
            "pitch.vertical_s".into(),
            p.vertical_s,
            "a finite number not below zero",
        );
    }
    if !(p.final_elevation_rad.is_finite()
        && p.final_elevation_rad.abs() <= std::f64::consts::FRAC_PI_2)
    {
        return bad(
            "pitch.final_elevation".into(),
            p.final_elevation_rad,
            "an angle in [-90°, 90°]",
        );
    }
    Ok(())
}

/// Acceleration of a body with no thrust (gravity, rotating frame, drag).
fn unpowered_acceleration(r: &Vector3<f64>, v: &Vector3<f64>, _beta_kg_m2: f64) -> Vector3<f64> {
    dynamics::free_flight_acceleration(r, v)
}

/// Integrates one launch: the stack under thrust, stage by stage, then every object falling
/// until it reaches the ellipsoid or `max_duration_s` runs out.
pub fn fly(launch: &Launch, cfg: &FlightConfig) -> Result<Flight, PhysicsError> {
    let vehicle = &launch.vehicle;
    check_vehicle(vehicle)?;
    if !(cfg.dt_s.is_finite() && cfg.dt_s > 0.0) {
        return Err(PhysicsError::InvalidVehicle {
            what: "dt_s".into(),
            value: cfg.dt_s,
            expected: "a finite step greater than zero",
        });
    }
    let frame = LocalFrame::new(launch.site);
    let dt = cfg.dt_s;
    let (sin_az, cos_az) = launch.azimuth_rad.sin_cos();
    let total_burn_s: f64 = vehicle.stages.iter().map(|s| s.burn_time_s).sum();
    let steer = |t_since_launch: f64| -> Vector3<f64> {
        let p = vehicle.pitch;
        let el = if t_since_launch <= p.vertical_s || total_burn_s <= p.vertical_s {
            std::f64::consts::FRAC_PI_2
        } else {
            let frac =
                ((t_since_launch - p.vertical_s) / (total_burn_s - p.vertical_s)).clamp(0.0, 1.0);
            std::f64::consts::FRAC_PI_2
                + frac * (p.final_elevation_rad - std::f64::consts::FRAC_PI_2)
        };
        let (sin_el, cos_el) = el.sin_cos();
        frame.rotate_to_ecef(&Vector3::new(cos_el * sin_az, cos_el * cos_az, sin_el))
    };

    // Earth-fixed launch: the pad is at rest in ECEF.
    let mut state = stack(&frame.origin().0, &Vector3::zeros());
    let mut t = launch.t0_s;
    let mut payload = Trajectory {
        kind: ObjectKind::Payload,
        t_s: vec![t],
        samples: vec![state],
        ending: Ending::StillFlying,
        powered_until: 0,
    };
    let mut spent: Vec<Trajectory> = Vec::new();
    let mut upper_mass: f64 = vehicle.payload_mass_kg
        + vehicle
            .stages
            .iter()
            .map(|s| s.dry_mass_kg + s.propellant_mass_kg)
            .sum::<f64>();

    for (k, stage) in vehicle.stages.iter().enumerate() {
        let mdot = stage.propellant_mass_kg / stage.burn_time_s;
        let stage_start = t;
        let mass_at_ignition = upper_mass;
        if k == 0 {
            let g = crate::gravity::acceleration(&frame.origin().0).norm();
            if stage.thrust_n <= mass_at_ignition * g {
                return Err(PhysicsError::NeverLeavesGround {
                    thrust_n: stage.thrust_n,
                    weight_n: mass_at_ignition * g,
                });
            }
        }
        let steps = (stage.burn_time_s / dt).round().max(1.0) as usize;
        let h = stage.burn_time_s / steps as f64;
        for _ in 0..steps {
            let accel = |tt: f64, r: &Vector3<f64>, v: &Vector3<f64>| {
                let m = mass_at_ignition - mdot * (tt - stage_start);
                unpowered_acceleration(r, v, vehicle.payload_ballistic_coefficient_kg_m2)
                    + steer(tt - launch.t0_s) * (stage.thrust_n / m)
            };
            state = rk4_step(t, &state, h, accel);
            t += h;
            payload.t_s.push(t);
            payload.samples.push(state);
        }
        upper_mass = mass_at_ignition - stage.propellant_mass_kg - stage.dry_mass_kg;
        // Every stage separates at burnout, the last one included: it then falls close beside
        // the payload, which is exactly the closely spaced pair a tracker must not swap.
        spent.push(Trajectory {
            kind: ObjectKind::SpentStage((k + 1) as u8),
            t_s: vec![t],
            samples: vec![state],
            ending: Ending::StillFlying,
            powered_until: 0,
        });
    }
    payload.powered_until = payload.samples.len();
    coast(
        &mut payload,
        vehicle.payload_ballistic_coefficient_kg_m2,
        launch.t0_s,
        cfg,
    );
    let mut objects = vec![payload];
    for (k, mut s) in spent.into_iter().enumerate() {
        coast(
            &mut s,
            vehicle.stages[k].ballistic_coefficient_kg_m2,
            launch.t0_s,
            cfg,
        );
        objects.push(s);
    }
    Ok(Flight { objects })
}

/// Lets a trajectory fall from its last sample until it reaches height zero.
fn coast(traj: &mut Trajectory, beta_kg_m2: f64, t_launch_s: f64, cfg: &FlightConfig) {
    let dt = cfg.dt_s;
    let (mut t, mut state) = match (traj.t_s.last(), traj.samples.last()) {
        (Some(&t), Some(&s)) => (t, s),
        _ => return,
    };
    let height = |s: &State6| trilink_geo::Ecef(position(s)).to_geodetic().alt_m;
    let mut h_prev = height(&state);
    while t - t_launch_s < cfg.max_duration_s {
        let accel =
            |_: f64, r: &Vector3<f64>, v: &Vector3<f64>| unpowered_acceleration(r, v, beta_kg_m2);
        let next = rk4_step(t, &state, dt, accel);
        let h_next = height(&next);
        if h_next <= 0.0 && h_prev > 0.0 {
            // Find the crossing by bisection on the step length.
            let (mut lo, mut hi) = (0.0, dt);
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                if height(&rk4_step(t, &state, mid, accel)) > 0.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let end = rk4_step(t, &state, hi, accel);
            traj.t_s.push(t + hi);
            traj.samples.push(end);
            traj.ending = Ending::Impact;
            return;
        }
        t += dt;
        state = next;
        h_prev = h_next;
        traj.t_s.push(t);
        traj.samples.push(state);
    }
}
