//! Powered and free flight of a launch vehicle and of the stages it drops.
//!
//! [`fly`] integrates the launch in the rotating ECEF frame on a fixed grid, and returns one
//! [`Trajectory`] per object: the payload (re-entry vehicle or satellite) and every spent stage,
//! which becomes its own falling body at separation.

use nalgebra::Vector3;
use trilink_geo::{Geodetic, LocalFrame};

use crate::integrate::{position, rk4_step, stack, velocity, State6};
use crate::{atmosphere, dynamics, PhysicsError};

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

/// Retro-rockets (or the next stage's hot start, or the springs of a re-entry vehicle's
/// release) push a spent stage back by a few metres per second. Without it a last stage and its
/// payload fly the whole of free flight within a metre of each other: two bodies no radar
/// resolves and no tracker can tell apart (docs/decisions/0104).
pub const SEPARATION_DELTA_V_MPS: f64 = 3.0;

/// Integration settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlightConfig {
    /// Fixed integration and output step (s). 0.1 s gives the 10 Hz truth the contract asks for.
    pub dt_s: f64,
    /// A flight still airborne after this long is cut off (s).
    pub max_duration_s: f64,
    /// Speed at which a spent stage is pushed back from what flies on at separation (m/s),
    /// against the direction of flight; what flies on keeps its state (docs/decisions/0104).
    pub separation_delta_v_mps: f64,
}

impl Default for FlightConfig {
    fn default() -> Self {
        Self {
            dt_s: 0.1,
            max_duration_s: 3.0 * 3600.0,
            separation_delta_v_mps: SEPARATION_DELTA_V_MPS,
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
    /// It reached the ellipsoid (height zero) at the last sample; this can happen while still
    /// under thrust if the pitch programme steers the stack into the ground.
    Impact,
    /// It was still flying at the end of `max_duration_s`.
    StillFlying,
}

/// The sampled flight of one object: `samples[i]` is at `t_s[i]`. Samples lie on the launch's
/// grid `t0_s + k·dt_s` except a spent stage's first (its separation instant) and an impacting
/// object's last (its exact impact instant).
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    pub kind: ObjectKind,
    pub t_s: Vec<f64>,
    pub samples: Vec<State6>,
    pub ending: Ending,
    /// Samples before this index are under thrust (for the payload: the whole boost); the first
    /// sample at or after burnout is the first ballistic one.
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
        let i = self.interval_by_search(t_s)?;
        Some(self.hermite(i, t_s, true))
    }

    /// Position at `t_s`, as [`Trajectory::state_at`] gives it, but finding the interval from the
    /// uniform step `dt_s` the trajectory was flown with instead of a binary search: over a
    /// thousand trajectories, the search's cache misses were the largest cost of scanning them
    /// (docs/decisions/0303).
    pub fn position_at(&self, t_s: f64, dt_s: f64) -> Option<Vector3<f64>> {
        let ts = &self.t_s;
        let n = ts.len();
        if n == 0 || !(t_s >= ts[0] && t_s <= ts[n - 1]) {
            return None;
        }
        if n == 1 {
            return Some(position(&self.samples[0]));
        }
        // Samples are dt apart except the first (a separation instant) and the last (impact), so
        // the guess is off by at most one or two; walk to the right interval.
        let mut i = (((t_s - ts[0]) / dt_s) as usize).min(n - 2);
        while i > 0 && ts[i] > t_s {
            i -= 1;
        }
        while i + 2 < n && ts[i + 1] <= t_s {
            i += 1;
        }
        Some(position(&self.hermite(i, t_s, false)))
    }

    /// The index `i` with `t_s[i] <= t < t_s[i + 1]` (or the last interval at the very end).
    fn interval_by_search(&self, t_s: f64) -> Option<usize> {
        let n = self.t_s.len();
        if n == 0 || !(t_s >= self.t_s[0] && t_s <= self.t_s[n - 1]) {
            return None;
        }
        Some(match self.t_s.binary_search_by(|x| x.total_cmp(&t_s)) {
            Ok(i) => i.min(n.saturating_sub(2)),
            Err(i) => i - 1,
        })
    }

    /// Cubic Hermite interpolation on the interval starting at sample `i`; the velocity is
    /// computed only when asked for (zero otherwise). Exact at both ends of the interval.
    fn hermite(&self, i: usize, t_s: f64, with_velocity: bool) -> State6 {
        let a = &self.samples[i];
        if i + 1 >= self.samples.len() || t_s == self.t_s[i] {
            return if with_velocity {
                *a
            } else {
                stack(&position(a), &Vector3::zeros())
            };
        }
        let b = &self.samples[i + 1];
        if t_s == self.t_s[i + 1] {
            return if with_velocity {
                *b
            } else {
                stack(&position(b), &Vector3::zeros())
            };
        }
        let (t0, t1) = (self.t_s[i], self.t_s[i + 1]);
        let h = t1 - t0;
        let s = (t_s - t0) / h;
        let (p0, v0, p1, v1) = (position(a), velocity(a), position(b), velocity(b));
        let s2 = s * s;
        let s3 = s2 * s;
        let h00 = 2.0 * s3 - 3.0 * s2 + 1.0;
        let h10 = s3 - 2.0 * s2 + s;
        let h01 = -2.0 * s3 + 3.0 * s2;
        let h11 = s3 - s2;
        let p = h00 * p0 + h10 * h * v0 + h01 * p1 + h11 * h * v1;
        if !with_velocity {
            return stack(&p, &Vector3::zeros());
        }
        let d00 = (6.0 * s2 - 6.0 * s) / h;
        let d10 = 3.0 * s2 - 4.0 * s + 1.0;
        let d01 = (-6.0 * s2 + 6.0 * s) / h;
        let d11 = 3.0 * s2 - 2.0 * s;
        let v = d00 * p0 + d10 * v0 + d01 * p1 + d11 * v1;
        stack(&p, &v)
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

/// Two instants closer than this are the same instant (s); keeps a burn boundary that falls on a
/// grid time, up to rounding, from producing a zero-length RK4 step.
const EDGE_EPS_S: f64 = 1e-9;

/// Acceleration of a body with no thrust (gravity, rotating frame, drag).
fn unpowered_acceleration(r: &Vector3<f64>, v: &Vector3<f64>, beta_kg_m2: f64) -> Vector3<f64> {
    dynamics::free_flight_acceleration(r, v) + atmosphere::drag_acceleration(r, v, beta_kg_m2)
}

/// One stage firing while attached to the stack.
#[derive(Debug, Clone, Copy)]
struct Burn {
    t_start_s: f64,
    t_end_s: f64,
    thrust_n: f64,
    mdot_kg_s: f64,
    mass_start_kg: f64,
    /// Cd·A of the stack during this burn (m²); see [`stack_drag_area_m2`].
    cda_m2: f64,
}

/// The law of motion of one body: its burns (none for a spent stage), then coasting.
struct Body<'a> {
    burns: &'a [Burn],
    coast_beta_kg_m2: f64,
    steer: &'a dyn Fn(f64) -> Vector3<f64>,
}

impl Body<'_> {
    /// One RK4 step that must not straddle a burn boundary; the burn is chosen at the midpoint so
    /// that a step ending exactly on a boundary uses the thrust of the interval it covers.
    fn step(&self, t_s: f64, s: &State6, h_s: f64) -> State6 {
        let mid = t_s + 0.5 * h_s;
        match self
            .burns
            .iter()
            .find(|b| mid >= b.t_start_s && mid < b.t_end_s)
        {
            Some(b) => rk4_step(t_s, s, h_s, |tt, r, v| {
                let m = b.mass_start_kg - b.mdot_kg_s * (tt - b.t_start_s);
                dynamics::free_flight_acceleration(r, v)
                    + atmosphere::drag_acceleration(r, v, m / b.cda_m2)
                    + (self.steer)(tt) * (b.thrust_n / m)
            }),
            None => rk4_step(t_s, s, h_s, |_, r, v| {
                unpowered_acceleration(r, v, self.coast_beta_kg_m2)
            }),
        }
    }

    /// State at `t_to_s` from the state at `t_s`, split at every burn boundary in between so the
    /// thrust discontinuity never sits inside a Runge–Kutta step.
    fn advance(&self, t_s: f64, s: &State6, t_to_s: f64) -> State6 {
        let (mut tc, mut sc) = (t_s, *s);
        for b in self.burns {
            for edge in [b.t_start_s, b.t_end_s] {
                if edge > tc + EDGE_EPS_S && edge < t_to_s - EDGE_EPS_S {
                    sc = self.step(tc, &sc, edge - tc);
                    tc = edge;
                }
            }
        }
        if t_to_s > tc {
            sc = self.step(tc, &sc, t_to_s - tc);
        }
        sc
    }
}

/// Height above the ellipsoid (m): exact (geodetic) near the ground, where impacts are
/// bisected, and the cheap approximation higher up, where only its sign matters.
fn height_m(s: &State6) -> f64 {
    let r = position(s);
    let approx = atmosphere::approx_height_m(&r);
    // The approximation is within a metre of the truth below 1000 km (tested in atmosphere) and
    // never far off above, so beyond 1 km it cannot put a point on the wrong side of the ground.
    if approx > 1_000.0 {
        approx
    } else {
        trilink_geo::Ecef(r).to_geodetic().alt_m
    }
}

/// Cd·A of the stack while stage `k` fires (m²): the payload's own Cd·A. The stack flies nose
/// first behind the payload's nose, so it meets the air with the payload's shape; the body behind
/// adds skin friction and base drag, which this leaves out (docs/decisions/0101). A spent stage's
/// β describes a tumbling tank seen side-on and would overstate the stack's drag tenfold.
fn stack_drag_area_m2(vehicle: &VehicleSpec, _k: usize) -> f64 {
    vehicle.payload_mass_kg / vehicle.payload_ballistic_coefficient_kg_m2
}

/// Integrates `traj` from its last sample on the launch grid `t0 + k·dt` until it reaches height
/// zero (the last sample then sits at the bisected impact instant) or `max_duration_s` runs out.
/// `on_event` is called with the exact state at each time in `events` that the body lives through
/// (stage separations), in order.
fn integrate(
    body: &Body<'_>,
    traj: &mut Trajectory,
    t_launch_s: f64,
    cfg: &FlightConfig,
    events_s: &[f64],
    mut on_event: impl FnMut(usize, f64, State6),
) {
    let dt = cfg.dt_s;
    let (mut t, mut state) = match (traj.t_s.last(), traj.samples.last()) {
        (Some(&t), Some(&s)) => (t, s),
        _ => return,
    };
    let mut next_event = events_s
        .iter()
        .position(|&e| e > t + EDGE_EPS_S)
        .unwrap_or(events_s.len());
    // Index of the next grid time; a body born between grid times (a stage separating) first
    // steps to the grid, so every object shares one time base.
    let mut k = ((t - t_launch_s) / dt + 1e-6).floor() + 1.0;
    let mut h_prev = height_m(&state);
    loop {
        let t_next = t_launch_s + k * dt;
        if t_next - t_launch_s > cfg.max_duration_s + EDGE_EPS_S {
            return;
        }
        let next = body.advance(t, &state, t_next);
        let h_next = height_m(&next);
        let mut t_end = t_next;
        let mut end = next;
        let impact = h_next <= 0.0 && h_prev > 0.0;
        if impact {
            // Bisect the crossing on the time from the last sample: monotone enough over one
            // step, and exact to ~1e-15 s after 50 halvings of 0.1 s.
            let (mut lo, mut hi) = (t, t_next);
            for _ in 0..50 {
                let mid = 0.5 * (lo + hi);
                if height_m(&body.advance(t, &state, mid)) > 0.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            t_end = hi;
            end = body.advance(t, &state, hi);
        }
        while next_event < events_s.len() && events_s[next_event] <= t_end + EDGE_EPS_S {
            let e = events_s[next_event];
            let at = if (e - t_end).abs() <= EDGE_EPS_S {
                end
            } else {
                body.advance(t, &state, e)
            };
            on_event(next_event, e, at);
            next_event += 1;
        }
        traj.t_s.push(t_end);
        traj.samples.push(end);
        if impact {
            traj.ending = Ending::Impact;
            return;
        }
        t = t_next;
        state = next;
        h_prev = h_next;
        k += 1.0;
    }
}

/// Integrates one launch: the stack under thrust, stage by stage, then every object falling
/// until it reaches the ellipsoid or `max_duration_s` runs out.
///
/// All samples lie on the launch's grid `t0_s + k·dt_s`, except a spent stage's first sample
/// (its exact separation instant) and the last sample of an impacting object (its exact impact
/// instant). Staging instants need not fall on the grid: steps are split there.
pub fn fly(launch: &Launch, cfg: &FlightConfig) -> Result<Flight, PhysicsError> {
    fly_objects(launch, cfg, true)
}

/// The payload's trajectory alone (spent stages are not flown): what a fit needs, at a fraction
/// of the cost.
pub fn fly_payload(launch: &Launch, cfg: &FlightConfig) -> Result<Trajectory, PhysicsError> {
    let mut flight = fly_objects(launch, cfg, false)?;
    Ok(flight.objects.swap_remove(0))
}

fn fly_objects(
    launch: &Launch,
    cfg: &FlightConfig,
    with_stages: bool,
) -> Result<Flight, PhysicsError> {
    let vehicle = &launch.vehicle;
    check_vehicle(vehicle)?;
    for (what, value) in [("dt_s", cfg.dt_s), ("max_duration_s", cfg.max_duration_s)] {
        if !(value.is_finite() && value > 0.0) {
            return Err(PhysicsError::InvalidVehicle {
                what: what.into(),
                value,
                expected: "a finite time greater than zero",
            });
        }
    }
    if !(cfg.separation_delta_v_mps.is_finite() && cfg.separation_delta_v_mps >= 0.0) {
        return Err(PhysicsError::InvalidVehicle {
            what: "separation_delta_v_mps".into(),
            value: cfg.separation_delta_v_mps,
            expected: "a finite speed not below zero",
        });
    }
    let frame = LocalFrame::new(launch.site);
    let t0 = launch.t0_s;
    let (sin_az, cos_az) = launch.azimuth_rad.sin_cos();
    let total_burn_s: f64 = vehicle.stages.iter().map(|s| s.burn_time_s).sum();
    let steer = |t_s: f64| -> Vector3<f64> {
        let t_since_launch = t_s - t0;
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

    let mut burns = Vec::with_capacity(vehicle.stages.len());
    let mut mass_kg: f64 = vehicle.payload_mass_kg
        + vehicle
            .stages
            .iter()
            .map(|s| s.dry_mass_kg + s.propellant_mass_kg)
            .sum::<f64>();
    let mut t_ign = t0;
    for (k, stage) in vehicle.stages.iter().enumerate() {
        if k == 0 {
            let g = crate::gravity::acceleration(&frame.origin().0).norm();
            if stage.thrust_n <= mass_kg * g {
                return Err(PhysicsError::NeverLeavesGround {
                    thrust_n: stage.thrust_n,
                    weight_n: mass_kg * g,
                });
            }
        }
        burns.push(Burn {
            t_start_s: t_ign,
            t_end_s: t_ign + stage.burn_time_s,
            thrust_n: stage.thrust_n,
            mdot_kg_s: stage.propellant_mass_kg / stage.burn_time_s,
            mass_start_kg: mass_kg,
            cda_m2: stack_drag_area_m2(vehicle, k),
        });
        t_ign += stage.burn_time_s;
        mass_kg -= stage.propellant_mass_kg + stage.dry_mass_kg;
    }
    let separations_s: Vec<f64> = burns.iter().map(|b| b.t_end_s).collect();
    let burnout_s = t_ign;

    // Earth-fixed launch: the pad is at rest in ECEF.
    let mut payload = Trajectory {
        kind: ObjectKind::Payload,
        t_s: vec![t0],
        samples: vec![stack(&frame.origin().0, &Vector3::zeros())],
        ending: Ending::StillFlying,
        powered_until: 0,
    };
    let payload_body = Body {
        burns: &burns,
        coast_beta_kg_m2: vehicle.payload_ballistic_coefficient_kg_m2,
        steer: &steer,
    };
    // Every stage separates at burnout, the last one included: pushed back at a few m/s, it then
    // falls close beside the payload, which is exactly the closely spaced pair a tracker must not
    // swap.
    let mut spent: Vec<Trajectory> = Vec::new();
    let push_mps = cfg.separation_delta_v_mps;
    integrate(
        &payload_body,
        &mut payload,
        t0,
        cfg,
        &separations_s,
        |k, t, s| {
            let v = velocity(&s);
            let back = v.try_normalize(1e-9).unwrap_or_else(Vector3::zeros);
            let pushed = stack(&position(&s), &(v - back * push_mps));
            spent.push(Trajectory {
                kind: ObjectKind::SpentStage((k + 1) as u8),
                t_s: vec![t],
                samples: vec![pushed],
                ending: Ending::StillFlying,
                powered_until: 0,
            });
        },
    );
    payload.powered_until = payload
        .t_s
        .iter()
        .take_while(|&&t| t < burnout_s - EDGE_EPS_S)
        .count();

    let mut objects = vec![payload];
    if !with_stages {
        return Ok(Flight { objects });
    }
    for (k, mut s) in spent.into_iter().enumerate() {
        let body = Body {
            burns: &[],
            coast_beta_kg_m2: vehicle.stages[k].ballistic_coefficient_kg_m2,
            steer: &steer,
        };
        integrate(&body, &mut s, t0, cfg, &[], |_, _, _| {});
        objects.push(s);
    }
    Ok(Flight { objects })
}
