//! The tracker loop: batch the detections of one sensor at one time into a scan, then predict,
//! gate, assign, update, initiate, delete, and report confirmed tracks with their launch and
//! impact points.

use std::collections::HashMap;

use nalgebra::{Matrix3, Vector3};
use statrs::distribution::{ChiSquared, ContinuousCDF};
use trilink_geo::{Ecef, Geodetic};
use trilink_interchange::{DetectionRow, SensorRow};

use crate::assoc::{Associator, GatedPair, Gnn};
use crate::filter::{innovation_d2, FilterKind, Imm, ImmPrediction, ImmState, SwitchLimits};
use crate::grid::Grid;
use crate::ipp::{ground_crossing, impact_point, CrossingConfig, GroundPoint, InvBetaEstimate};
use crate::manage::{
    Candidate, Deleter, Initiator, MofNDeleter, NewTrack, Status, TrackSummary, TwoPointInitiator,
};
use crate::measure::{AerSensor, MeasVec, MeasurementModel};
use crate::motion::{
    augment, kinematic, AugCov, AugVec, Ballistic, MotionModel, StateCov, StateVec, IA, IK, NX,
};
use crate::staging::{self, Split, Verdict};
use crate::TrackError;

/// Model index of the IMM: 0 unpowered (ballistic), 1 boost, 2 re-entry (drag).
pub const MODEL_BALLISTIC: usize = 0;
pub const MODEL_BOOST: usize = 1;
pub const MODEL_REENTRY: usize = 2;
pub const N_MODELS: usize = 3;

/// What to do with a detection older than the scan being processed (an out-of-sequence
/// measurement). See docs/decisions/0403-out-of-sequence-detections.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LatePolicy {
    /// Drop it and count it in [`TrackerStats::late_dropped`]; tracks are untouched.
    Drop,
    /// Return [`TrackError::OutOfOrder`]; tracks are untouched.
    Reject,
}

/// Tracker settings. Defaults are documented in docs/decisions/0401 and 0402.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackerConfig {
    /// Probability that a true detection falls inside the gate (χ², 3 degrees of freedom).
    pub gate_probability: f64,
    /// White-noise acceleration PSD of the ballistic model (m²/s³).
    pub q_ballistic_m2_s3: f64,
    /// White-noise acceleration PSD of the boost model (m²/s³), over its thrust state.
    pub q_boost_m2_s3: f64,
    /// PSD of the white jerk that moves the boost model's thrust acceleration (m²/s⁵).
    pub q_thrust_jerk_m2_s5: f64,
    /// Effective exhaust velocity (m/s) by which the boost model grows its thrust estimate as
    /// the propellant burns (the rocket equation; `f64::INFINITY` holds the thrust constant).
    pub thrust_exhaust_velocity_mps: f64,
    /// Mean time in each IMM model before switching (s).
    pub sojourn_ballistic_s: f64,
    pub sojourn_boost_s: f64,
    /// Prior probability of the boost model for a new track.
    pub initial_boost_probability: f64,
    /// White-noise PSD (m²/s³) of the re-entry model, the PSD of the random walk of its
    /// estimated inverse ballistic coefficient k = 1/β (m⁴ kg⁻² s⁻¹), its mean sojourn (s) and
    /// prior probability for a new track.
    pub q_reentry_m2_s3: f64,
    pub q_inv_beta: f64,
    /// A new track's ballistic coefficient (kg/m²) and the σ of its inverse (m²/kg).
    pub beta_prior_kg_m2: f64,
    pub inv_beta_prior_sigma: f64,
    pub sojourn_reentry_s: f64,
    /// Below this height (m) the IMM does not switch into the drag-free model: drag on any
    /// ballistic body there is more than that model's noise allows for (decision 0401); 0 turns
    /// the limit off.
    pub drag_free_floor_m: f64,
    /// The IMM does not switch into the boost model while the track falls.
    pub no_ignition_when_falling: bool,
    pub initial_reentry_probability: f64,
    /// M-of-N confirmation: M hits within N scans of the initiating sensor.
    pub confirm_m: u32,
    pub confirm_n: u32,
    /// Confirmation also needs the tentative updates' NIS to sum to at most this quantile of
    /// χ² (3 degrees of freedom per update); 1 turns the test off (docs/decisions/0402).
    pub confirm_nis_probability: f64,
    /// A tentative track with no update for this long is dropped (s).
    pub tentative_max_gap_s: f64,
    /// A confirmed track with no update for this long ends (s).
    pub max_coast_s: f64,
    /// A confirmed track whose position σ (√trace) grows beyond this ends (m).
    pub max_position_sigma_m: f64,
    /// Fastest body initiation will pair detections for (m/s).
    pub max_speed_mps: f64,
    /// Oldest unused detection initiation pairs with (s).
    pub seed_max_age_s: f64,
    /// Unknown acceleration allowed for in a new track's velocity covariance (m/s²).
    pub seed_accel_mps2: f64,
    /// σ per axis of the thrust acceleration of a new track that is climbing (m/s²). A track
    /// can be born anywhere in a burn, and short-range missiles end theirs at 20–30 g (the
    /// fitted kn-23 class at 310 m/s²); a new track that is falling is not thrusting and gets
    /// the unpowered models' σ (docs/decisions/0401).
    pub initial_thrust_sigma_mps2: f64,
    /// Shortest interval between launch/impact predictions of one track (s); 0 = every update.
    pub ground_point_interval_s: f64,
    pub crossing: CrossingConfig,
    pub late: LatePolicy,
    /// The filter each IMM model runs: EKF (default) or UKF (docs/decisions/0405-ukf.md).
    pub filter: FilterKind,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            gate_probability: 0.9997,
            q_ballistic_m2_s3: 0.001,
            q_boost_m2_s3: 100.0,
            q_thrust_jerk_m2_s5: 20.0,
            thrust_exhaust_velocity_mps: 2_700.0,
            sojourn_ballistic_s: 3600.0,
            sojourn_boost_s: 60.0,
            initial_boost_probability: 0.3,
            q_reentry_m2_s3: 1.0,
            q_inv_beta: 1e-11,
            beta_prior_kg_m2: 3000.0,
            inv_beta_prior_sigma: 2e-3,
            sojourn_reentry_s: 120.0,
            drag_free_floor_m: 70_000.0,
            no_ignition_when_falling: true,
            initial_reentry_probability: 0.1,
            confirm_m: 4,
            confirm_n: 6,
            confirm_nis_probability: 0.999,
            tentative_max_gap_s: 30.0,
            max_coast_s: 60.0,
            max_position_sigma_m: 30_000.0,
            max_speed_mps: 8_000.0,
            seed_max_age_s: 20.0,
            seed_accel_mps2: 60.0,
            initial_thrust_sigma_mps2: 60.0,
            ground_point_interval_s: 1.0,
            crossing: CrossingConfig::default(),
            late: LatePolicy::Drop,
            filter: FilterKind::Ekf,
        }
    }
}

impl TrackerConfig {
    /// The IMM these settings describe: ballistic, boost (thrust in the state) and re-entry
    /// (ballistic coefficient in the state), in the order of [`MODEL_BALLISTIC`],
    /// [`MODEL_BOOST`] and [`MODEL_REENTRY`].
    pub fn imm(&self) -> Imm<Ballistic, N_MODELS> {
        Imm {
            models: [
                Ballistic::free_flight(self.q_ballistic_m2_s3),
                Ballistic::boost(
                    self.q_boost_m2_s3,
                    self.q_thrust_jerk_m2_s5,
                    self.thrust_exhaust_velocity_mps,
                ),
                Ballistic::reentry(self.q_reentry_m2_s3, self.q_inv_beta),
            ],
            mean_sojourn_s: [
                self.sojourn_ballistic_s,
                self.sojourn_boost_s,
                self.sojourn_reentry_s,
            ],
            limits: SwitchLimits {
                drag_free_floor: (self.drag_free_floor_m > 0.0)
                    .then_some((MODEL_BALLISTIC, self.drag_free_floor_m)),
                thrust_not_falling: self.no_ignition_when_falling.then_some(MODEL_BOOST),
            },
        }
    }

    /// σ per axis of a new track's thrust acceleration from its kinematic state: wide while it
    /// climbs, as small as the unpowered models reset it to once it falls.
    fn initial_thrust_sigma(&self, x: &StateVec) -> f64 {
        let r = Vector3::new(x[0], x[1], x[2]);
        let v = Vector3::new(x[3], x[4], x[5]);
        if r.dot(&v) > 0.0 {
            self.initial_thrust_sigma_mps2
        } else {
            Ballistic::free_flight(self.q_ballistic_m2_s3).accel_sigma_mps2
        }
    }

    // The negated comparison also rejects NaN, which the flipped comparison would let through.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    fn check(&self) -> Result<(), TrackError> {
        let bad = |key, value: f64, expected| {
            Err(TrackError::BadConfig {
                key,
                value,
                expected,
            })
        };
        if !(self.gate_probability > 0.0 && self.gate_probability < 1.0) {
            return bad(
                "gate_probability",
                self.gate_probability,
                "a probability in (0, 1)",
            );
        }
        for (key, v) in [
            ("q_ballistic_m2_s3", self.q_ballistic_m2_s3),
            ("q_boost_m2_s3", self.q_boost_m2_s3),
            ("q_thrust_jerk_m2_s5", self.q_thrust_jerk_m2_s5),
            ("q_inv_beta", self.q_inv_beta),
            ("ground_point_interval_s", self.ground_point_interval_s),
            ("crossing.drag_beta_kg_m2", self.crossing.drag_beta_kg_m2),
            ("seed_accel_mps2", self.seed_accel_mps2),
            ("initial_thrust_sigma_mps2", self.initial_thrust_sigma_mps2),
            ("drag_free_floor_m", self.drag_free_floor_m),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(key, v, "a finite number not below zero");
            }
        }
        for (key, v) in [
            ("sojourn_ballistic_s", self.sojourn_ballistic_s),
            ("sojourn_boost_s", self.sojourn_boost_s),
            ("tentative_max_gap_s", self.tentative_max_gap_s),
            ("max_coast_s", self.max_coast_s),
            ("max_position_sigma_m", self.max_position_sigma_m),
            ("max_speed_mps", self.max_speed_mps),
            ("seed_max_age_s", self.seed_max_age_s),
            ("crossing.step_s", self.crossing.step_s),
            ("crossing.max_duration_s", self.crossing.max_duration_s),
            ("crossing.max_back_s", self.crossing.max_back_s),
            ("q_reentry_m2_s3", self.q_reentry_m2_s3),
            ("beta_prior_kg_m2", self.beta_prior_kg_m2),
            ("inv_beta_prior_sigma", self.inv_beta_prior_sigma),
            ("sojourn_reentry_s", self.sojourn_reentry_s),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(key, v, "a finite number greater than zero");
            }
        }
        // Infinite is allowed: a thrust that does not grow.
        if !(self.thrust_exhaust_velocity_mps > 0.0) {
            return bad(
                "thrust_exhaust_velocity_mps",
                self.thrust_exhaust_velocity_mps,
                "a speed greater than zero (infinite for a constant thrust)",
            );
        }
        if !(0.0..=1.0).contains(&self.initial_reentry_probability)
            || !(self.initial_boost_probability + self.initial_reentry_probability <= 1.0)
        {
            return bad(
                "initial_reentry_probability",
                self.initial_reentry_probability,
                "a probability in [0, 1] that with initial_boost_probability sums to at most 1",
            );
        }
        if !(self.confirm_nis_probability > 0.0 && self.confirm_nis_probability <= 1.0) {
            return bad(
                "confirm_nis_probability",
                self.confirm_nis_probability,
                "a probability in (0, 1]",
            );
        }
        if !(0.0..=1.0).contains(&self.initial_boost_probability) {
            return bad(
                "initial_boost_probability",
                self.initial_boost_probability,
                "a probability in [0, 1]",
            );
        }
        if self.confirm_m == 0 || self.confirm_n < self.confirm_m {
            return bad(
                "confirm_m/confirm_n",
                f64::from(self.confirm_m),
                "1 ≤ M ≤ N",
            );
        }
        Ok(())
    }
}

/// Least predicted probability of an IMM model whose own prediction may gate a detection
/// ([`gate_distance`]); below it a model is a numerical remnant, not a hypothesis.
const MODEL_GATE_MIN_PROBABILITY: f64 = 1e-3;
/// Height above which a burnout may be gated by the unpowered models' own predictions (m):
/// above it no model's drag can read the velocity error a burn leaves as a ballistic
/// coefficient (at 100 km, drag on a β = 150 kg/m² stage at 2 km/s is 0.01 m/s²).
const MODEL_GATE_MIN_HEIGHT_M: f64 = 100_000.0;

/// The normalised distance by which a detection is gated for a track: the moment-matched
/// prediction's, or, for a confirmed track that was boosting within the last seconds and
/// whose combined prediction misses the detection, the smallest of its models' own (each
/// with at least [`MODEL_GATE_MIN_PROBABILITY`]), above [`MODEL_GATE_MIN_HEIGHT_M`]. At
/// burnout a track is ~99 % boost, so the combined prediction flies the last thrust, still
/// growing, on for another scan and misses the coasting body by hundreds of metres, while the
/// ballistic model is on it (docs/decisions/0402). `None` when no innovation covariance is
/// positive definite.
fn gate_distance<S: MeasurementModel>(
    filter: FilterKind,
    sensor: &S,
    pred: &ImmPrediction<N_MODELS>,
    z: &MeasVec,
    r_diag: &MeasVec,
    gate: f64,
    just_boosting: bool,
) -> Option<f64> {
    let combined = innovation_d2(filter, sensor, &pred.x_comb, &pred.p_comb, z, r_diag);
    if !just_boosting || combined.is_some_and(|d2| d2 <= gate) {
        return combined;
    }
    let x = &pred.x_comb;
    let r = Vector3::new(x[0], x[1], x[2]);
    if Ecef(r).to_geodetic().alt_m < MODEL_GATE_MIN_HEIGHT_M {
        return combined;
    }
    (0..N_MODELS)
        .filter(|&m| pred.c[m] >= MODEL_GATE_MIN_PROBABILITY)
        .filter_map(|m| innovation_d2(filter, sensor, &pred.x[m], &pred.p[m], z, r_diag))
        .chain(combined)
        .min_by(f64::total_cmp)
}

/// Flight phase as the tracker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The boost model dominates (thrust, or any strong unmodelled acceleration).
    Boost,
    /// Unpowered, above 100 km or still climbing.
    Midcourse,
    /// Unpowered, below 100 km and descending.
    Terminal,
}

impl Phase {
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::Boost => "boost",
            Phase::Midcourse => "midcourse",
            Phase::Terminal => "terminal",
        }
    }
}

/// One update of a confirmed track: what the node shares and `trilink track` writes.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackUpdate {
    pub time_s: f64,
    pub track_id: u64,
    /// ECEF position and velocity and their covariance.
    pub x: StateVec,
    pub p: StateCov,
    /// Estimated thrust acceleration (ECEF, m/s²; zero when no model believes in thrust).
    pub thrust_mps2: Vector3<f64>,
    /// Estimated inverse ballistic coefficient k = 1/β (m²/kg) and its σ. Only the atmosphere
    /// makes it observable: above ~80 km it stays at the prior.
    pub inv_beta_m2_kg: f64,
    pub inv_beta_sigma: f64,
    /// Normalised innovation squared of this update, against the combined IMM prediction (for
    /// a burnout above the air that only one model's own prediction gated, that model's:
    /// `gate_distance`).
    pub nis: f64,
    pub nis_dof: u32,
    pub phase: Phase,
    /// IMM model probabilities: `[ballistic, boost, reentry]`.
    pub model_probability: [f64; N_MODELS],
    /// Detections associated so far.
    pub hits: u32,
    /// Index (in the sensor table given to [`Tracker::new`]) of the sensor whose detection made
    /// this update; [`Tracker::sensor_id`] names it. Local knowledge: never to be shared.
    pub sensor: usize,
    /// The impact-point prediction made at this update, if one was made.
    pub impact: Option<GroundPoint>,
    /// The track's current launch-point estimate.
    pub launch: Option<GroundPoint>,
}

/// A confirmed track that ended, with its last launch-point estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct EndedTrack {
    pub track_id: u64,
    pub t_last_update_s: f64,
    pub launch: Option<GroundPoint>,
}

/// Counters over the whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackerStats {
    pub detections: u64,
    pub scans: u64,
    pub late_dropped: u64,
    pub updates: u64,
    pub tracks_started: u64,
    pub tracks_confirmed: u64,
    pub tracks_ended: u64,
    /// Confirmed tracks ended because another track followed the same object.
    pub tracks_merged: u64,
    /// Updates refused because an innovation covariance was not positive definite.
    pub numerical_rejects: u64,
    /// Tracks ended because their state left what any ballistic body can do (see
    /// [`physically_plausible`]).
    pub tracks_diverged: u64,
    /// Confirmed tracks born beside a boosting track (a stage dropped by its stack), and how
    /// often such a pair exchanged identities so that the parent's id stays on the thrusting
    /// body ([`crate::staging`]).
    pub staging_pairs: u64,
    pub staging_exchanges: u64,
}

struct SensorInfo {
    id: String,
    model: AerSensor,
    scans: u64,
}

struct Track {
    /// 0 while tentative.
    id: u64,
    imm: ImmState<N_MODELS>,
    /// The moment-matched state and covariance of `imm`, kept so that indexing, merging and
    /// deletion do not recompute the mixture.
    x_c: AugVec,
    p_c: AugCov,
    t_s: f64,
    status: Status,
    hits: u32,
    init_sensor: usize,
    init_scan: u64,
    /// (sensor, scan number) of the latest detections this track took, newest at
    /// `recent_next − 1`. Two tracks that took different detections of one scan are two
    /// objects, however alike their estimates: one scan sees one object once.
    recent_scans: [(u32, u64); RECENT_SCANS],
    recent_next: usize,
    last_ground_t_s: f64,
    /// The state left what a ballistic body can do: ended at the next sweep, never reported.
    diverged: bool,
    launch: Option<GroundPoint>,
    /// The launch point came from the boost model run backwards (see [`boost_launch_point`]);
    /// a free-flight back-propagation, which lands downrange of the pad, no longer replaces it.
    launch_from_boost: bool,
    /// Time of the detection that started the track (s).
    t_start_s: f64,
    /// Internal serial, never reused, that staging pairs refer to (ids are given only at
    /// confirmation and move with an identity exchange).
    uid: u64,
    /// When the boost model last dominated (s), and the thrust direction it estimated then.
    t_boost_s: f64,
    thrust_axis: Vector3<f64>,
    /// Confirmed since the last sweep: to be checked for a boosting parent.
    fresh: bool,
    /// Sum and number of the normalised innovations squared (3 dof each) of the updates
    /// while tentative, which confirmation weighs ([`nis_consistent`]).
    tentative_nis_sum: f64,
    tentative_nis_n: u32,
}

/// How many of its latest scans a track remembers for telling two objects from one object
/// tracked twice: with ten radars, the last few seconds.
const RECENT_SCANS: usize = 8;

/// Whether two tracks took detections of the same scan (of one sensor) recently.
fn shared_a_scan(a: &Track, b: &Track) -> bool {
    a.recent_scans
        .iter()
        .any(|k| k.1 != u64::MAX && b.recent_scans.contains(k))
}

/// Where a track sits in the spatial index, extrapolated to the index epoch.
#[derive(Clone, Copy)]
struct GridEntry {
    p: Vector3<f64>,
    v: Vector3<f64>,
    radius_m: f64,
}

struct Det {
    z: MeasVec,
    r_diag: MeasVec,
    p: Vector3<f64>,
    cov: Matrix3<f64>,
    radius_m: f64,
}

/// How often the spatial index is rebuilt (s of data time) and how far ahead it must hold.
const GRID_HORIZON_S: f64 = 1.0;
const GRID_CELL_M: f64 = 30_000.0;
/// How often deletion runs (s of data time).
const SWEEP_INTERVAL_S: f64 = 1.0;

/// Whether two estimates whose positions differ by `dp` and velocities by `dv` are one object:
/// both differences inside the χ² gate of the summed covariance blocks.
fn same_object(dp: &Vector3<f64>, dv: &Vector3<f64>, pa: &AugCov, pb: &AugCov, gate: f64) -> bool {
    let spp = pa.fixed_view::<3, 3>(0, 0) + pb.fixed_view::<3, 3>(0, 0);
    let svv = pa.fixed_view::<3, 3>(3, 3) + pb.fixed_view::<3, 3>(3, 3);
    let (Some(cp), Some(cv)) = (spp.cholesky(), svv.cholesky()) else {
        return false;
    };
    dp.dot(&cp.solve(dp)) <= gate && dv.dot(&cv.solve(dv)) <= gate
}

/// No body is pushed forward by the air: an update that leaves k = 1/β below zero has let k
/// explain an acceleration along the velocity, which is thrust. The mean is moved to the most
/// likely state with k = 0 (the Gaussian conditioned on it: every element correlated with k
/// moves with it), the covariance is kept. Without this, a boosting track's re-entry model took
/// the thrust as negative drag, outweighed the boost model, and its k then needed a minute of
/// real drag to recover, flying impact points at a wrong β meanwhile.
// The negated comparison also rejects NaN, which the flipped comparison would let through.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn project_onto_nonnegative_k(x: &mut AugVec, p: &AugCov) {
    let (k, var_k) = (x[IK], p[(IK, IK)]);
    if k >= 0.0 || !(var_k > 0.0) {
        return;
    }
    let shift = p.column(IK) * (k / var_k);
    *x -= shift;
    x[IK] = 0.0;
}

/// Largest thrust acceleration a tracked body can have (m/s², about 100 g). Ballistic missiles
/// burn out at 10–30 g (the fitted kn-23 class at 32 g); only a runaway estimate passes this.
const MAX_THRUST_ACCEL_MPS2: f64 = 1_000.0;

/// Whether `n` innovations of 3 degrees of freedom summing to `sum` are what a track on one
/// real object gives: `sum` at or below the `probability` quantile of χ² with `3n` degrees of
/// freedom (always, for `probability` 1 or no innovations).
fn nis_consistent(sum: f64, n: u32, probability: f64) -> bool {
    if n == 0 || probability >= 1.0 {
        return true;
    }
    match ChiSquared::new(3.0 * f64::from(n)) {
        Ok(c) => sum <= c.inverse_cdf(probability),
        Err(_) => true,
    }
}

/// Whether an estimate is something a ballistic body could be: finite, with positive variances,
/// between 50 km below the ellipsoid and 50,000 km above the centre of the Earth, slower than
/// 1.5 × the fastest body initiation pairs for, and with thrust below
/// [`MAX_THRUST_ACCEL_MPS2`].
fn physically_plausible(x: &AugVec, p: &AugCov, max_speed_mps: f64) -> bool {
    if !x.iter().all(|v| v.is_finite())
        || !(0..NX).all(|i| p[(i, i)] > 0.0 && p[(i, i)].is_finite())
    {
        return false;
    }
    let r = Vector3::new(x[0], x[1], x[2]).norm();
    let v = Vector3::new(x[3], x[4], x[5]).norm();
    let a = Vector3::new(x[IA], x[IA + 1], x[IA + 2]).norm();
    (6_300_000.0..50_000_000.0).contains(&r) && v < 1.5 * max_speed_mps && a < MAX_THRUST_ACCEL_MPS2
}

/// A track's kinematic estimate as the staging test reads it.
fn side_of(tr: &Track) -> staging::Side {
    let (x, p) = (&tr.x_c, &tr.p_c);
    staging::Side {
        t_s: tr.t_s,
        r: Vector3::new(x[0], x[1], x[2]),
        v: Vector3::new(x[3], x[4], x[5]),
        p_rr: p.fixed_view::<3, 3>(0, 0).into_owned(),
        p_rv: p.fixed_view::<3, 3>(0, 3).into_owned(),
        p_vv: p.fixed_view::<3, 3>(3, 3).into_owned(),
    }
}

/// Launch points are flown back from the boost states of a track's first seconds only: the
/// further into the burn, the further the constant-thrust assumption of
/// [`boost_launch_point`] is from the truth.
const BOOST_LAUNCH_WINDOW_S: f64 = 20.0;

/// Where a thrusting track left the ground: its boost-model state flown backwards with the
/// estimated thrust held constant, second by second, until it reaches the ellipsoid or its
/// speed stops falling (the vehicle at rest on the pad). Thrust acceleration grows as
/// propellant burns, so the constant thrust of the present over-decelerates the past: the
/// search stops short of the ground, high above the pad rather than downrange of it; the point
/// below is the estimate. `None` if it does not come to rest within 300 s.
fn boost_launch_point(model: &Ballistic, t_s: f64, x: &AugVec, p: &AugCov) -> Option<GroundPoint> {
    const STEP_S: f64 = 1.0;
    let (mut x, mut p, mut t) = (*x, *p, t_s);
    let speed = |x: &AugVec| Vector3::new(x[3], x[4], x[5]).norm();
    let mut found = false;
    for _ in 0..300 {
        if Ecef(Vector3::new(x[0], x[1], x[2])).to_geodetic().alt_m <= 0.0 {
            found = true;
            break;
        }
        let pred = model.predict(&x, -STEP_S);
        if speed(&pred.x) >= speed(&x) {
            found = true;
            break;
        }
        p = crate::filter::propagate_cov(&pred.stm, &p, &pred.q);
        x = pred.x;
        t -= STEP_S;
    }
    if !found {
        return None;
    }
    let site = Ecef(Vector3::new(x[0], x[1], x[2])).to_geodetic();
    let site = Geodetic { alt_m: 0.0, ..site };
    let frame = trilink_geo::LocalFrame::new(site);
    let rot = frame.ecef_to_enu_rotation();
    let p_enu = rot * p.fixed_view::<3, 3>(0, 0) * rot.transpose();
    let cov_en = p_enu.fixed_view::<2, 2>(0, 0).into_owned();
    let (semi_major_m, semi_minor_m, orientation_deg) = crate::ipp::ellipse_95(&cov_en);
    GroundPoint {
        t_s: t,
        site,
        cov_en_m2: cov_en,
        semi_major_m,
        semi_minor_m,
        orientation_deg,
    }
    .finite()
}

/// A multi-target ballistic tracker for the sensors of one nation.
pub struct Tracker<A: Associator = Gnn, I: Initiator = TwoPointInitiator, D: Deleter = MofNDeleter>
{
    cfg: TrackerConfig,
    gate: f64,
    imm: Imm<Ballistic, N_MODELS>,
    sensors: Vec<SensorInfo>,
    by_id: HashMap<String, usize, std::hash::BuildHasherDefault<crate::grid::CellHasher>>,
    associator: A,
    initiator: I,
    deleter: D,
    tracks: Vec<Track>,
    next_id: u64,
    /// Time of the scan being gathered (detections at this time are buffered).
    now_s: f64,
    open: Vec<Vec<Det>>,
    any_open: bool,
    last_sweep_s: f64,
    grid: Grid,
    grid_t_s: f64,
    grid_valid: bool,
    entries: Vec<GridEntry>,
    oversize: Vec<u32>,
    updates: Vec<TrackUpdate>,
    ended: Vec<EndedTrack>,
    stats: TrackerStats,
    // Scratch reused across scans.
    cand: Vec<(u32, u32)>,
    slot_of: Vec<u32>,
    /// Track index of each slot (a candidate track of the scan), in order of first candidacy.
    slots: Vec<u32>,
    /// Each slot's prediction, when made (`predicted`); the buffer only grows, so predictions
    /// are written in place.
    preds: Vec<ImmPrediction<N_MODELS>>,
    predicted: Vec<bool>,
    pairs_confirmed: Vec<GatedPair>,
    pairs_tentative: Vec<GatedPair>,
    merge_confirmed: Vec<usize>,
    merge_grid: Grid,
    merge_doomed: Vec<bool>,
    merge_near: Vec<usize>,
    assigned: Vec<(u32, u32)>,
    det_used: Vec<bool>,
    slot_of_det: Vec<u32>,
    new_tracks: Vec<NewTrack>,
    unused: Vec<Candidate>,
    /// Parent/child pairs born of a staging, watched for [`staging::WINDOW_S`].
    splits: Vec<Split>,
    next_uid: u64,
    /// Some track was confirmed since staging last looked.
    any_fresh: bool,
}

impl Tracker {
    /// A tracker over `sensors` with the default associator (GNN), initiator (two-point) and
    /// deleter (M-of-N and coasting limits).
    pub fn new(sensors: &[SensorRow], cfg: TrackerConfig) -> Result<Self, TrackError> {
        cfg.check()?;
        let initiator = TwoPointInitiator::new(
            sensors.len(),
            cfg.max_speed_mps,
            cfg.seed_max_age_s,
            cfg.seed_accel_mps2,
        );
        let deleter = MofNDeleter {
            confirm_m: cfg.confirm_m,
            confirm_n: cfg.confirm_n,
            tentative_max_gap_s: cfg.tentative_max_gap_s,
            max_coast_s: cfg.max_coast_s,
            max_position_sigma_m: cfg.max_position_sigma_m,
        };
        Self::with_components(sensors, cfg, Gnn::default(), initiator, deleter)
    }
}

fn check_sensor(s: &SensorRow) -> Result<Geodetic, TrackError> {
    let bad = |what, value: f64, expected| TrackError::BadSensor {
        sensor_id: s.sensor_id.clone(),
        what,
        value: value.to_string(),
        expected,
    };
    if s.sensor_id.is_empty() {
        return Err(TrackError::BadSensor {
            sensor_id: String::new(),
            what: "sensor_id",
            value: "\"\"".into(),
            expected: "a non-empty identifier",
        });
    }
    if !s.lon_deg.is_finite() {
        return Err(bad("lon_deg", s.lon_deg, "a finite number"));
    }
    if !s.alt_m.is_finite() {
        return Err(bad("alt_m", s.alt_m, "a finite number"));
    }
    Geodetic::from_degrees(s.lat_deg, s.lon_deg, s.alt_m)
        .map_err(|_| bad("lat_deg", s.lat_deg, "a finite latitude in [-90, 90]"))
}

impl<A: Associator, I: Initiator, D: Deleter> Tracker<A, I, D> {
    /// A tracker with your own components.
    pub fn with_components(
        sensors: &[SensorRow],
        cfg: TrackerConfig,
        associator: A,
        initiator: I,
        deleter: D,
    ) -> Result<Self, TrackError> {
        cfg.check()?;
        let mut by_id: HashMap<
            String,
            usize,
            std::hash::BuildHasherDefault<crate::grid::CellHasher>,
        > = HashMap::default();
        let mut infos = Vec::with_capacity(sensors.len());
        for s in sensors {
            let site = check_sensor(s)?;
            if by_id.insert(s.sensor_id.clone(), infos.len()).is_some() {
                return Err(TrackError::DuplicateSensor {
                    sensor_id: s.sensor_id.clone(),
                });
            }
            infos.push(SensorInfo {
                id: s.sensor_id.clone(),
                model: AerSensor::new(site),
                scans: 0,
            });
        }
        let gate = ChiSquared::new(3.0)
            .map(|d| d.inverse_cdf(cfg.gate_probability))
            .unwrap_or(21.0);
        let imm = cfg.imm();
        let n = infos.len();
        Ok(Self {
            cfg,
            gate,
            imm,
            sensors: infos,
            by_id,
            associator,
            initiator,
            deleter,
            tracks: Vec::new(),
            next_id: 1,
            now_s: f64::NEG_INFINITY,
            open: (0..n).map(|_| Vec::new()).collect(),
            any_open: false,
            last_sweep_s: f64::NEG_INFINITY,
            grid: Grid::new(GRID_CELL_M),
            grid_t_s: f64::NEG_INFINITY,
            grid_valid: false,
            entries: Vec::new(),
            oversize: Vec::new(),
            updates: Vec::new(),
            ended: Vec::new(),
            stats: TrackerStats::default(),
            cand: Vec::new(),
            slot_of: Vec::new(),
            slots: Vec::new(),
            preds: Vec::new(),
            predicted: Vec::new(),
            pairs_confirmed: Vec::new(),
            pairs_tentative: Vec::new(),
            merge_confirmed: Vec::new(),
            merge_grid: Grid::new(GRID_CELL_M),
            merge_doomed: Vec::new(),
            merge_near: Vec::new(),
            assigned: Vec::new(),
            det_used: Vec::new(),
            slot_of_det: Vec::new(),
            new_tracks: Vec::new(),
            unused: Vec::new(),
            splits: Vec::new(),
            next_uid: 0,
            any_fresh: false,
        })
    }

    pub fn config(&self) -> &TrackerConfig {
        &self.cfg
    }

    /// The χ² gate on the normalised innovation (3 degrees of freedom).
    pub fn gate(&self) -> f64 {
        self.gate
    }

    /// The id of sensor `index` in the table given to [`Tracker::new`].
    pub fn sensor_id(&self, index: usize) -> Option<&str> {
        self.sensors.get(index).map(|s| s.id.as_str())
    }

    pub fn stats(&self) -> &TrackerStats {
        &self.stats
    }

    /// Live tracks (tentative and confirmed).
    pub fn live_tracks(&self) -> usize {
        self.tracks.len()
    }

    pub fn confirmed_tracks(&self) -> usize {
        self.tracks
            .iter()
            .filter(|t| t.status == Status::Confirmed)
            .count()
    }

    /// Takes the confirmed-track updates produced so far.
    pub fn drain_updates(&mut self) -> std::vec::Drain<'_, TrackUpdate> {
        self.updates.drain(..)
    }

    /// Takes the confirmed tracks that have ended so far.
    pub fn drain_ended(&mut self) -> std::vec::Drain<'_, EndedTrack> {
        self.ended.drain(..)
    }

    /// Feeds one detection. Detections at the same time are gathered into one scan per sensor,
    /// processed when a later time arrives (or on [`Tracker::flush`]).
    pub fn process(&mut self, d: &DetectionRow) -> Result<(), TrackError> {
        let Some(&sensor) = self.by_id.get(d.sensor_id.as_str()) else {
            let mut known: Vec<&str> = self.sensors.iter().map(|s| s.id.as_str()).collect();
            known.sort_unstable();
            return Err(TrackError::UnknownSensor {
                sensor_id: d.sensor_id.clone(),
                known: known.join(", "),
            });
        };
        let bad = |what, value: f64, expected| TrackError::BadDetection {
            time_s: d.time_s,
            sensor_id: d.sensor_id.clone(),
            what,
            value,
            expected,
        };
        for (what, v) in [
            ("time_s", d.time_s),
            ("azimuth_rad", d.azimuth_rad),
            ("elevation_rad", d.elevation_rad),
        ] {
            if !v.is_finite() {
                return Err(bad(what, v, "a finite number"));
            }
        }
        if !(d.range_m.is_finite() && d.range_m > 0.0) {
            return Err(bad(
                "range_m",
                d.range_m,
                "a finite number greater than zero",
            ));
        }
        if d.elevation_rad.abs() > std::f64::consts::FRAC_PI_2 {
            return Err(bad(
                "elevation_rad",
                d.elevation_rad,
                "an angle in [-π/2, π/2]",
            ));
        }
        for (what, v) in [
            ("sigma_range_m", d.sigma_range_m),
            ("sigma_azimuth_rad", d.sigma_azimuth_rad),
            ("sigma_elevation_rad", d.sigma_elevation_rad),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad(what, v, "a finite number greater than zero"));
            }
        }
        self.stats.detections += 1;
        if d.time_s < self.now_s {
            return match self.cfg.late {
                LatePolicy::Drop => {
                    self.stats.late_dropped += 1;
                    Ok(())
                }
                LatePolicy::Reject => Err(TrackError::OutOfOrder {
                    time_s: d.time_s,
                    sensor_id: d.sensor_id.clone(),
                    current_s: self.now_s,
                }),
            };
        }
        if d.time_s > self.now_s {
            self.flush();
            self.now_s = d.time_s;
        }
        let z = MeasVec::new(d.azimuth_rad, d.elevation_rad, d.range_m);
        let sigma = MeasVec::new(d.sigma_azimuth_rad, d.sigma_elevation_rad, d.sigma_range_m);
        let model = &self.sensors[sensor].model;
        let (p, cov) = model.to_ecef(&z, &sigma);
        let radius_m = self.gate.sqrt() * cov.trace().sqrt();
        self.open[sensor].push(Det {
            z,
            r_diag: sigma.component_mul(&sigma),
            p,
            cov,
            radius_m,
        });
        self.any_open = true;
        Ok(())
    }

    /// Processes every gathered scan now (call at the end of input).
    pub fn flush(&mut self) {
        if !self.any_open {
            return;
        }
        let t = self.now_s;
        for s in 0..self.open.len() {
            if self.open[s].is_empty() {
                continue;
            }
            let dets = std::mem::take(&mut self.open[s]);
            self.process_scan(s, t, &dets);
            let mut dets = dets;
            dets.clear();
            self.open[s] = dets;
        }
        self.any_open = false;
        if t - self.last_sweep_s >= SWEEP_INTERVAL_S {
            self.sweep(t);
            self.last_sweep_s = t;
        }
        if self.any_fresh || !self.splits.is_empty() {
            // Every scan time, not every sweep: each second the wrong track keeps an identity
            // is written out at kilometres of error.
            self.watch_staging(t);
        }
    }

    /// Flushes and ends every track (end of input): confirmed ones are reported as ended.
    pub fn close(&mut self) {
        self.flush();
        for tr in self.tracks.drain(..) {
            if tr.status == Status::Confirmed {
                self.stats.tracks_ended += 1;
                self.ended.push(EndedTrack {
                    track_id: tr.id,
                    t_last_update_s: tr.t_s,
                    launch: tr.launch,
                });
            }
        }
        self.grid_valid = false;
    }

    fn summary(&self, tr: &Track, now_s: f64) -> TrackSummary {
        let (_, p) = (tr.x_c, tr.p_c);
        let dt = (now_s - tr.t_s).max(0.0);
        let var = p.fixed_view::<3, 3>(0, 0).trace()
            + 2.0 * dt * p.fixed_view::<3, 3>(0, 3).trace().abs()
            + dt * dt * p.fixed_view::<3, 3>(3, 3).trace();
        TrackSummary {
            status: tr.status,
            hits: tr.hits,
            t_last_update_s: tr.t_s,
            scans_since_init: self.sensors[tr.init_sensor].scans - tr.init_scan,
            position_sigma_m: var.max(0.0).sqrt(),
        }
    }

    fn sweep(&mut self, now_s: f64) {
        let mut i = 0;
        let mut removed = false;
        while i < self.tracks.len() {
            let s = self.summary(&self.tracks[i], now_s);
            if self.tracks[i].diverged || self.deleter.should_delete(&s, now_s) {
                let tr = self.tracks.swap_remove(i);
                removed = true;
                if tr.status == Status::Confirmed {
                    self.stats.tracks_ended += 1;
                    self.ended.push(EndedTrack {
                        track_id: tr.id,
                        t_last_update_s: tr.t_s,
                        launch: tr.launch,
                    });
                }
            } else {
                i += 1;
            }
        }
        if removed {
            self.grid_valid = false;
        }
        self.merge_duplicates(now_s);
        self.initiator.prune(now_s);
    }

    /// Pairs each newly confirmed track with the boosting track it was born beside, if any, and
    /// gives each watched pair's identities to the right bodies (see [`crate::staging`]).
    fn watch_staging(&mut self, now_s: f64) {
        if std::mem::take(&mut self.any_fresh) {
            for ci in 0..self.tracks.len() {
                if !std::mem::take(&mut self.tracks[ci].fresh) {
                    continue;
                }
                if let Some(split) = self.find_parent(ci) {
                    self.splits.push(split);
                    self.stats.staging_pairs += 1;
                }
            }
        }
        if self.splits.is_empty() {
            return;
        }
        // Pairs are few (one per staging, for a minute): one pass finds their tracks.
        let mut splits = std::mem::take(&mut self.splits);
        let mut index_of: HashMap<u64, usize> = HashMap::new();
        for (i, t) in self.tracks.iter().enumerate() {
            if t.status == Status::Confirmed
                && splits.iter().any(|s| s.parent == t.uid || s.child == t.uid)
            {
                index_of.insert(t.uid, i);
            }
        }
        splits.retain_mut(|sp| {
            if sp.expired(now_s) {
                return false;
            }
            let (Some(&pi), Some(&ci)) = (index_of.get(&sp.parent), index_of.get(&sp.child)) else {
                return false;
            };
            let (parent, child) = (side_of(&self.tracks[pi]), side_of(&self.tracks[ci]));
            if sp.judge(&parent, &child, now_s) == Verdict::Exchange {
                // Once per pair: two tracks that trade places again and again are not a
                // staging the test can read (measured on salvo: a poor track beside a stage
                // handed its id back and forth four times).
                self.exchange_identities(pi, ci);
                self.stats.staging_exchanges += 1;
                return false;
            }
            true
        });
        self.splits = splits;
    }

    /// The split that confirmed track `ci` makes with an older confirmed track that was in
    /// boost when `ci` was born and whose gate it is in (the nearest, by Mahalanobis distance).
    fn find_parent(&self, ci: usize) -> Option<Split> {
        let child = &self.tracks[ci];
        let (c, t_birth) = (side_of(child), child.t_start_s);
        let mut best: Option<(f64, usize)> = None;
        for (pi, p) in self.tracks.iter().enumerate() {
            if pi == ci
                || p.status != Status::Confirmed
                || p.t_boost_s < t_birth - staging::BOOST_RECENT_S
                || p.t_start_s > t_birth - staging::PARENT_MIN_AGE_S
            {
                continue;
            }
            if let Some(d2) = staging::born_beside(&side_of(p), &c, self.gate) {
                if best.is_none_or(|(db, _)| d2 < db) {
                    best = Some((d2, pi));
                }
            }
        }
        let (_, pi) = best?;
        let p = &self.tracks[pi];
        Some(Split::new(p.uid, child.uid, t_birth, p.thrust_axis))
    }

    /// Moves everything that belongs to a track's identity (its id, its history of hits, its
    /// launch point and start) from track `a` to track `b` and back; the estimates stay.
    fn exchange_identities(&mut self, a: usize, b: usize) {
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = self.tracks.split_at_mut(hi);
        let (x, y) = (&mut left[lo], &mut right[0]);
        std::mem::swap(&mut x.id, &mut y.id);
        std::mem::swap(&mut x.hits, &mut y.hits);
        std::mem::swap(&mut x.launch, &mut y.launch);
        std::mem::swap(&mut x.launch_from_boost, &mut y.launch_from_boost);
        std::mem::swap(&mut x.t_start_s, &mut y.t_start_s);
        std::mem::swap(&mut x.last_ground_t_s, &mut y.last_ground_t_s);
        std::mem::swap(&mut x.uid, &mut y.uid);
    }

    /// Two tracks on one object (started by two sensors, or from two seed pairings) would split
    /// its detections between them. Where two tracks agree in position and velocity within the
    /// χ² gate of their summed covariances, the one with fewer hits goes (ids stay stable: the
    /// older, better-supported track survives).
    fn merge_duplicates(&mut self, now_s: f64) {
        // Only confirmed pairs: a tentative track that duplicates a confirmed one is held back
        // at confirmation, and tentative tracks compete for detections in the GNN.
        self.rebuild_grid(now_s);
        // Scratch kept across sweeps: the local grid's cell map and these vectors were built
        // anew every second.
        let mut confirmed = std::mem::take(&mut self.merge_confirmed);
        let mut local = std::mem::replace(&mut self.merge_grid, Grid::new(GRID_CELL_M));
        let mut doomed = std::mem::take(&mut self.merge_doomed);
        let mut near = std::mem::take(&mut self.merge_near);
        confirmed.clear();
        confirmed
            .extend((0..self.tracks.len()).filter(|&i| self.tracks[i].status == Status::Confirmed));
        local.clear();
        doomed.clear();
        doomed.resize(self.tracks.len(), false);
        if confirmed.len() >= 2 {
            for (k, &i) in confirmed.iter().enumerate() {
                local.insert(&self.entries[i].p, k as u32);
            }
            self.find_duplicates(&confirmed, &local, &mut doomed, &mut near);
        }
        let any = doomed.iter().any(|&d| d);
        if any {
            self.remove_merged(&doomed);
        }
        (self.merge_confirmed, self.merge_grid) = (confirmed, local);
        (self.merge_doomed, self.merge_near) = (doomed, near);
    }

    /// Marks in `doomed` the confirmed tracks (indices `confirmed`, in the grid `local` by their
    /// place in it) that another confirmed track follows on the same object.
    fn find_duplicates(
        &self,
        confirmed: &[usize],
        local: &Grid,
        doomed: &mut [bool],
        near: &mut Vec<usize>,
    ) {
        for (ka, &i) in confirmed.iter().enumerate() {
            if doomed[i] {
                continue;
            }
            near.clear();
            let ei = self.entries[i];
            // Pairs are looked at once, from their earlier member.
            local.for_near(&ei.p, |k| {
                if k as usize > ka {
                    near.push(k as usize);
                }
            });
            for &kb in near.iter() {
                let j = confirmed[kb];
                if doomed[j] {
                    continue;
                }
                let ej = self.entries[j];
                if (ei.p - ej.p).norm_squared() > (ei.radius_m + ej.radius_m).powi(2) {
                    continue;
                }
                let (a, b) = (&self.tracks[i], &self.tracks[j]);
                if shared_a_scan(a, b) {
                    continue;
                }
                if same_object(&(ei.p - ej.p), &(ei.v - ej.v), &a.p_c, &b.p_c, self.gate) {
                    let loser =
                        if (a.hits, std::cmp::Reverse(a.id)) >= (b.hits, std::cmp::Reverse(b.id)) {
                            j
                        } else {
                            i
                        };
                    doomed[loser] = true;
                    if loser == i {
                        break;
                    }
                }
            }
        }
    }

    /// Ends the tracks marked in `doomed` (merged into another), keeping the others' order.
    fn remove_merged(&mut self, doomed: &[bool]) {
        // In place and in order: a new vector of every track (kilobytes each) per sweep was
        // most of this step's time, in copies and fresh pages.
        let (stats, ended) = (&mut self.stats, &mut self.ended);
        let mut k = 0;
        self.tracks.retain(|tr| {
            let gone = doomed[k];
            k += 1;
            if gone && tr.status == Status::Confirmed {
                stats.tracks_ended += 1;
                stats.tracks_merged += 1;
                ended.push(EndedTrack {
                    track_id: tr.id,
                    t_last_update_s: tr.t_s,
                    launch: tr.launch,
                });
            }
            !gone
        });
        self.grid_valid = false;
    }

    /// `true` if track `ti` (just updated at `t_s`) agrees in position and velocity with a
    /// confirmed track within the gate of their summed covariances.
    fn duplicates_a_confirmed_track(&self, ti: usize, t_s: f64) -> bool {
        if !self.grid_valid {
            return false;
        }
        let (x, p) = (self.tracks[ti].x_c, self.tracks[ti].p_c);
        let r = Vector3::new(x[0], x[1], x[2]);
        let v = Vector3::new(x[3], x[4], x[5]);
        let tau = t_s - self.grid_t_s;
        let this = &self.tracks[ti];
        let mut dup = false;
        let mut check = |j: u32| {
            let j = j as usize;
            if dup
                || j == ti
                || j >= self.tracks.len()
                || self.tracks[j].status != Status::Confirmed
                || shared_a_scan(this, &self.tracks[j])
            {
                return;
            }
            let e = &self.entries[j];
            let dp = r - (e.p + e.v * tau);
            let dv = v - e.v;
            let (_, pj) = (self.tracks[j].x_c, self.tracks[j].p_c);
            dup = same_object(&dp, &dv, &p, &pj, self.gate);
        };
        self.grid.for_near(&(r - v * tau), &mut check);
        for &j in &self.oversize {
            check(j);
        }
        dup
    }

    fn grid_entry(&self, tr: &Track, epoch_s: f64) -> GridEntry {
        let (x, p) = (tr.x_c, tr.p_c);
        let dt = epoch_s - tr.t_s;
        let r = Vector3::new(x[0], x[1], x[2]);
        let v = Vector3::new(x[3], x[4], x[5]);
        let a = trilink_physics::free_flight_acceleration(&r, &v);
        let h = dt.abs() + GRID_HORIZON_S;
        let q: f64 = self
            .imm
            .models
            .iter()
            .zip(tr.imm.mu.iter())
            .map(|(m, mu)| m.q_psd_m2_s3 * mu)
            .sum();
        let var = p.fixed_view::<3, 3>(0, 0).trace()
            + 2.0 * h * p.fixed_view::<3, 3>(0, 3).trace().abs()
            + h * h * p.fixed_view::<3, 3>(3, 3).trace()
            + q * h * h * h;
        GridEntry {
            p: r + v * dt + 0.5 * a * dt * dt,
            v: v + a * dt,
            radius_m: self.gate.sqrt() * var.max(0.0).sqrt() + 200.0,
        }
    }

    fn index_track(&mut self, idx: usize) {
        let e = self.grid_entry(&self.tracks[idx], self.grid_t_s);
        // Everything the track may gate with until the next rebuild lies within its gate radius
        // of where it has moved by then.
        let reach_m = e.radius_m + e.v.norm() * GRID_HORIZON_S;
        if reach_m > 0.5 * GRID_CELL_M {
            // Too wide for the base cells that the duplicate check searches.
            self.oversize.push(idx as u32);
        }
        self.grid.insert_reach(&e.p, reach_m, idx as u32);
        if idx < self.entries.len() {
            self.entries[idx] = e;
        } else {
            self.entries.push(e);
        }
    }

    fn rebuild_grid(&mut self, t_s: f64) {
        self.grid.clear();
        self.oversize.clear();
        self.entries.clear();
        self.grid_t_s = t_s;
        for i in 0..self.tracks.len() {
            self.index_track(i);
        }
        self.grid_valid = true;
    }

    fn process_scan(&mut self, sensor: usize, t_s: f64, dets: &[Det]) {
        self.stats.scans += 1;
        self.sensors[sensor].scans += 1;
        if !self.grid_valid || t_s - self.grid_t_s > GRID_HORIZON_S {
            self.rebuild_grid(t_s);
        }
        // Candidate pairs from the spatial index.
        self.cand.clear();
        let tau = t_s - self.grid_t_s;
        for (j, d) in dets.iter().enumerate() {
            let entries = &self.entries;
            let cand = &mut self.cand;
            // Each track is indexed with its own reach, so only tracks whose reach meets the
            // detection's are visited (not every wide tentative track for every detection).
            self.grid.for_within(&d.p, d.radius_m, |ti: u32| {
                let e = &entries[ti as usize];
                let at = e.p + e.v * tau;
                if (d.p - at).norm_squared() <= (e.radius_m + d.radius_m).powi(2) {
                    cand.push((ti, j as u32));
                }
            });
        }
        self.cand.sort_unstable();
        self.cand.dedup();

        // Slots in order of first candidacy; confirmed tracks are predicted and gated now.
        // Tentative tracks only after the confirmed tracks have chosen (below): a detection a
        // confirmed track took is not theirs to have, so a tentative track whose candidates were
        // all taken is never predicted (a third of them on raid-1000). Their slot numbers and
        // gated pairs are as if every candidate had been gated first.
        self.slot_of.clear();
        self.slot_of.resize(self.tracks.len(), u32::MAX);
        self.slots.clear();
        self.predicted.clear();
        self.pairs_confirmed.clear();
        self.pairs_tentative.clear();
        let model = self.sensors[sensor].model;
        for k in 0..self.cand.len() {
            let (ti, j) = self.cand[k];
            let slot = match self.slot_of[ti as usize] {
                u32::MAX => {
                    let s = self.slots.len() as u32;
                    self.slots.push(ti);
                    self.predicted.push(false);
                    self.slot_of[ti as usize] = s;
                    s
                }
                s => s,
            };
            if self.tracks[ti as usize].status == Status::Confirmed {
                if let Some(pair) = self.gate_pair(&model, slot, &dets[j as usize], j, t_s) {
                    self.pairs_confirmed.push(pair);
                }
            }
        }

        // Confirmed tracks choose first; tentative ones take what is left.
        self.assigned.clear();
        self.det_used.clear();
        self.det_used.resize(dets.len(), false);
        let n_slots = self.slots.len();
        self.associator.assign(
            n_slots,
            dets.len(),
            &self.pairs_confirmed,
            self.gate,
            &mut self.assigned,
        );
        for &(_, j) in &self.assigned {
            self.det_used[j as usize] = true;
        }
        let first = self.assigned.len();
        for k in 0..self.cand.len() {
            let (ti, j) = self.cand[k];
            if self.det_used[j as usize] || self.tracks[ti as usize].status == Status::Confirmed {
                continue;
            }
            let slot = self.slot_of[ti as usize];
            if let Some(pair) = self.gate_pair(&model, slot, &dets[j as usize], j, t_s) {
                self.pairs_tentative.push(pair);
            }
        }
        self.associator.assign(
            n_slots,
            dets.len(),
            &self.pairs_tentative,
            self.gate,
            &mut self.assigned,
        );
        for &(_, j) in &self.assigned[first..] {
            self.det_used[j as usize] = true;
        }

        // Two confirmed tracks that each gate both of two detections may have them the other
        // way round (a payload and its stage at one point): each is updated with both, weighted
        // by the two joint hypotheses (JPDA for that pair). GNN's hard choice would hand each
        // track the detection on its own side, every scan, and both would drift apart from the
        // truth between them while their covariances shrank.
        self.pairs_confirmed
            .sort_unstable_by_key(|p| (p.track, p.det));
        // Sorted too so that an update finds its pair's d², the NIS it reports.
        self.pairs_tentative
            .sort_unstable_by_key(|p| (p.track, p.det));
        let cost = |pairs: &[GatedPair], t: u32, d: u32| {
            pairs
                .binary_search_by_key(&(t, d), |p| (p.track, p.det))
                .ok()
                .map(|k| pairs[k].cost)
        };
        self.slot_of_det.clear();
        self.slot_of_det.resize(dets.len(), u32::MAX);
        for &(slot, j) in &self.assigned[..first] {
            self.slot_of_det[j as usize] = slot;
        }
        let assigned = std::mem::take(&mut self.assigned);
        for (n, &(slot, i)) in assigned.iter().enumerate() {
            let mut second = None;
            if n < first {
                let pairs = &self.pairs_confirmed;
                let start = pairs.partition_point(|p| p.track < slot);
                for p in pairs[start..].iter().take_while(|p| p.track == slot) {
                    let b = self.slot_of_det[p.det as usize];
                    if p.det == i || b == u32::MAX {
                        continue;
                    }
                    let (Some(own), Some(b_other), Some(b_own)) = (
                        cost(pairs, slot, i),
                        cost(pairs, b, i),
                        cost(pairs, b, p.det),
                    ) else {
                        continue;
                    };
                    // GNN chose h1; the crossed hypothesis h2 costs at least as much.
                    let (h1, h2) = (own + b_own, p.cost + b_other);
                    let w_own = 1.0 / (1.0 + (-0.5 * (h2 - h1)).exp());
                    if w_own < 0.999 {
                        second = Some((p.det, w_own));
                    }
                    break;
                }
            }
            let second = second.map(|(j, w)| (&dets[j as usize], w));
            let pairs = if n < first {
                &self.pairs_confirmed
            } else {
                &self.pairs_tentative
            };
            let d2 = cost(pairs, slot, i);
            self.update_track(sensor, slot, &dets[i as usize], d2, second, t_s);
        }
        self.assigned = assigned;

        // Initiate from what nobody took.
        self.unused.clear();
        for (j, d) in dets.iter().enumerate() {
            if !self.det_used[j] {
                self.unused.push(Candidate {
                    t_s,
                    p: d.p,
                    cov: d.cov,
                });
            }
        }
        self.new_tracks.clear();
        self.initiator
            .initiate(sensor, &self.unused, &mut self.new_tracks);
        let mu0 = [
            1.0 - self.cfg.initial_boost_probability - self.cfg.initial_reentry_probability,
            self.cfg.initial_boost_probability,
            self.cfg.initial_reentry_probability,
        ];
        let new_tracks = std::mem::take(&mut self.new_tracks);
        for nt in &new_tracks {
            // Thrust unknown (wide while climbing, see `initial_thrust_sigma`); drag at the
            // prior β.
            let (x, p) = augment(
                &nt.x,
                &nt.p,
                self.cfg.initial_thrust_sigma(&nt.x),
                1.0 / self.cfg.beta_prior_kg_m2,
                self.cfg.inv_beta_prior_sigma,
            );
            self.tracks.push(Track {
                id: 0,
                imm: ImmState::new(x, p, mu0),
                x_c: x,
                p_c: p,
                t_s,
                status: Status::Tentative,
                hits: 2,
                init_sensor: sensor,
                init_scan: self.sensors[sensor].scans,
                recent_scans: {
                    let mut r = [(u32::MAX, u64::MAX); RECENT_SCANS];
                    r[0] = (sensor as u32, self.sensors[sensor].scans);
                    r
                },
                recent_next: 1,
                last_ground_t_s: f64::NEG_INFINITY,
                diverged: false,
                launch: None,
                launch_from_boost: false,
                t_start_s: t_s,
                uid: self.next_uid,
                t_boost_s: f64::NEG_INFINITY,
                thrust_axis: Vector3::zeros(),
                fresh: false,
                tentative_nis_sum: 0.0,
                tentative_nis_n: 0,
            });
            self.next_uid += 1;
            self.stats.tracks_started += 1;
            let idx = self.tracks.len() - 1;
            if self.grid_valid {
                self.index_track(idx);
            }
        }
        self.new_tracks = new_tracks;
    }

    /// The gated pair of the track in `slot` and detection `d` (number `j` of the scan), if `d`
    /// is inside the track's gate; the track is predicted to `t_s` first if it was not yet.
    fn gate_pair(
        &mut self,
        model: &AerSensor,
        slot: u32,
        d: &Det,
        j: u32,
        t_s: f64,
    ) -> Option<GatedPair> {
        let s = slot as usize;
        if !self.predicted[s] {
            let tr = &self.tracks[self.slots[s] as usize];
            if self.preds.len() <= s {
                self.preds.resize(s + 1, ImmPrediction::zeros());
            }
            self.imm
                .predict_into(self.cfg.filter, &tr.imm, t_s - tr.t_s, &mut self.preds[s]);
            self.predicted[s] = true;
        }
        let pred = &self.preds[s];
        let tr = &self.tracks[self.slots[s] as usize];
        let just_boosting = tr.status == Status::Confirmed
            && tr.t_boost_s >= t_s - staging::BOOST_RECENT_S
            && tr.t_s >= t_s - staging::BOOST_RECENT_S;
        let d2 = gate_distance(
            self.cfg.filter,
            model,
            pred,
            &d.z,
            &d.r_diag,
            self.gate,
            just_boosting,
        )?;
        (d2 <= self.gate).then_some(GatedPair {
            track: slot,
            det: j,
            cost: d2,
        })
    }

    /// Updates the track in `slot` with detection `d`, whose gating found `d2` (the NIS of
    /// this update; computed again if not given); when `second` = (other, w) is given, with
    /// `d` at weight w and `other` at 1 − w (the pair JPDA of `process_scan`).
    fn update_track(
        &mut self,
        sensor: usize,
        slot: u32,
        d: &Det,
        d2: Option<f64>,
        second: Option<(&Det, f64)>,
        t_s: f64,
    ) {
        let model = &self.sensors[sensor].model;
        let (ti, pred) = (
            self.slots[slot as usize] as usize,
            &self.preds[slot as usize],
        );
        let filter = self.cfg.filter;
        let nis = d2.unwrap_or_else(|| {
            innovation_d2(filter, model, &pred.x_comb, &pred.p_comb, &d.z, &d.r_diag)
                .unwrap_or(f64::NAN)
        });
        let tr = &mut self.tracks[ti];
        let updated = match second {
            Some((other, w_own)) => self
                .imm
                .update_pda(
                    filter,
                    pred,
                    model,
                    &[(d.z, d.r_diag, w_own), (other.z, other.r_diag, 1.0 - w_own)],
                )
                .map(|s| tr.imm = s),
            _ => self
                .imm
                .update_into(filter, pred, model, &d.z, &d.r_diag, &mut tr.imm),
        };
        if updated.is_none() {
            self.stats.numerical_rejects += 1;
            return;
        }
        self.stats.updates += 1;
        for (x, p) in tr.imm.x.iter_mut().zip(tr.imm.p.iter()) {
            project_onto_nonnegative_k(x, p);
        }
        tr.imm.combined_into(&mut tr.x_c, &mut tr.p_c);
        if !physically_plausible(&tr.x_c, &tr.p_c, self.cfg.max_speed_mps) {
            // Fed by clutter or by another object's detections, a track's thrust estimate can
            // run away and take the covariance into round-off; nothing it says is worth sharing.
            if !tr.diverged {
                tr.diverged = true;
                self.stats.tracks_diverged += 1;
            }
            return;
        }
        tr.t_s = t_s;
        tr.hits += 1;
        if tr.status == Status::Tentative && nis.is_finite() {
            tr.tentative_nis_sum += nis;
            tr.tentative_nis_n += 1;
        }
        tr.recent_scans[tr.recent_next % RECENT_SCANS] =
            (sensor as u32, self.sensors[sensor].scans);
        tr.recent_next += 1;
        if tr.status == Status::Tentative {
            let scans = self.sensors[tr.init_sensor].scans - tr.init_scan;
            if tr.hits >= self.cfg.confirm_m && scans <= u64::from(self.cfg.confirm_n) {
                if !nis_consistent(
                    tr.tentative_nis_sum,
                    tr.tentative_nis_n,
                    self.cfg.confirm_nis_probability,
                ) {
                    // Clutter that happened to fall in the gates M times: each hit inside its
                    // gate, but together far out in the tail of a real object's innovations.
                    return;
                }
                if self.duplicates_a_confirmed_track(ti, t_s) {
                    // A track started on an object already tracked (from a detection the
                    // confirmed track's gate missed, or another sensor's) is the same track
                    // again: it is held back. Two tracks fed by different detections of one
                    // scan (a stage and its payload after separation) are not duplicates.
                    let tr = &mut self.tracks[ti];
                    tr.hits = self.cfg.confirm_m - 1;
                    return;
                }
                let tr = &mut self.tracks[ti];
                tr.status = Status::Confirmed;
                tr.id = self.next_id;
                tr.fresh = true;
                self.any_fresh = true;
                self.next_id += 1;
                self.stats.tracks_confirmed += 1;
            }
        }
        let tr = &mut self.tracks[ti];
        if tr.status != Status::Confirmed {
            return;
        }
        let (x, p) = kinematic(&tr.x_c, &tr.p_c);
        let thrust_mps2 = Vector3::new(tr.x_c[IA], tr.x_c[IA + 1], tr.x_c[IA + 2]);
        let (inv_beta_m2_kg, inv_beta_sigma) = (tr.x_c[IK], tr.p_c[(IK, IK)].max(0.0).sqrt());
        let mu = tr.imm.mu;
        if mu[MODEL_BOOST] > 0.5 {
            let xb = &tr.imm.x[MODEL_BOOST];
            let a = Vector3::new(xb[IA], xb[IA + 1], xb[IA + 2]);
            let v = Vector3::new(xb[3], xb[4], xb[5]);
            tr.t_boost_s = t_s;
            tr.thrust_axis = if a.norm() > 1.0 { a } else { v }.normalize();
        }
        let r = Vector3::new(x[0], x[1], x[2]);
        let v = Vector3::new(x[3], x[4], x[5]);
        let geo = Ecef(r).to_geodetic();
        let phase = if mu[MODEL_BOOST] > 0.5 {
            Phase::Boost
        } else if mu[MODEL_REENTRY] > 0.5 || (geo.alt_m < 100_000.0 && geo.up().dot(&v) < 0.0) {
            Phase::Terminal
        } else {
            Phase::Midcourse
        };
        let mut impact = None;
        // A microsecond of slack: scan times such as 29.000000000000004 must not skip a prediction.
        if t_s - tr.last_ground_t_s >= self.cfg.ground_point_interval_s - 1e-6 {
            tr.last_ground_t_s = t_s;
            // An impact point flown from a thrusting state is thousands of km off (measured:
            // median 3,900 km); none is made until the boost model lets go.
            if phase != Phase::Boost {
                // The filter's k, its covariance with the state, and the prior it started
                // from: the impact covariance swaps that prior for one over real bodies
                // (docs/decisions/0417-impact-coverage.md).
                let k = InvBetaEstimate {
                    k_m2_kg: inv_beta_m2_kg,
                    var: tr.p_c[(IK, IK)],
                    cov_state_k: tr.p_c.fixed_view::<6, 1>(0, IK).into_owned(),
                    prior_k_m2_kg: 1.0 / self.cfg.beta_prior_kg_m2,
                    prior_var: self.cfg.inv_beta_prior_sigma * self.cfg.inv_beta_prior_sigma,
                };
                impact = impact_point(t_s, &x, &p, Some(&k), &self.cfg.crossing);
            }
            if phase == Phase::Boost && t_s - tr.t_start_s <= BOOST_LAUNCH_WINDOW_S {
                let (xb, pb) = (&tr.imm.x[MODEL_BOOST], &tr.imm.p[MODEL_BOOST]);
                if let Some(lp) = boost_launch_point(&self.imm.models[MODEL_BOOST], t_s, xb, pb) {
                    tr.launch = Some(lp);
                    tr.launch_from_boost = true;
                }
            } else if !tr.launch_from_boost {
                // Seen only after burnout: the free-flight arc back to the ground, which lands
                // downrange of the pad by what the boost phase "saved".
                if let Some(lp) = ground_crossing(t_s, &x, &p, false, &self.cfg.crossing) {
                    tr.launch = Some(lp);
                }
            }
        }
        self.updates.push(TrackUpdate {
            time_s: t_s,
            track_id: tr.id,
            x,
            p,
            thrust_mps2,
            inv_beta_m2_kg,
            inv_beta_sigma,
            nis,
            nis_dof: 3,
            phase,
            model_probability: mu,
            hits: tr.hits,
            sensor,
            impact,
            launch: tr.launch,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rocket_climb_flown_back_lands_on_its_pad() {
        // From rest on a pad, constant thrust tilted 10° east of up, 25 m/s² at lift-off and
        // growing as the propellant burns (exhaust velocity 2,700 m/s: the mass is 81 % of the
        // lift-off mass after 20 s), integrated by the physics crate at 0.1 s: the boost model
        // run backwards from there must find the pad and the launch time.
        let pad = Geodetic::from_degrees(39.0, 125.7, 0.0).unwrap();
        let frame = trilink_geo::LocalFrame::new(pad);
        let up_east = frame.rotate_to_ecef(&Vector3::new(
            10f64.to_radians().sin(),
            0.0,
            10f64.to_radians().cos(),
        ));
        let ve = TrackerConfig::default().thrust_exhaust_velocity_mps;
        let thrust = |t: f64| 25.0 / (1.0 - 25.0 * t / ve) * up_east;
        let r0 = frame.origin().0;
        let mut s = trilink_physics::integrate::State6::new(r0.x, r0.y, r0.z, 0.0, 0.0, 0.0);
        for i in 0..200 {
            s = trilink_physics::rk4_step(f64::from(i) * 0.1, &s, 0.1, |t, r, v| {
                trilink_physics::free_flight_acceleration(r, v) + thrust(t)
            });
        }
        let mut x = AugVec::zeros();
        for i in 0..6 {
            x[i] = s[i];
        }
        for i in 0..3 {
            x[IA + i] = thrust(20.0)[i];
        }
        let p = AugCov::identity() * 100.0;
        let model = TrackerConfig::default().imm().models[MODEL_BOOST];
        let lp = boost_launch_point(&model, 120.0, &x, &p).unwrap();
        let miss = Ecef(lp.site.to_ecef().0).distance_m(&pad.to_ecef());
        assert!(miss < 300.0, "{miss} m from the pad");
        assert!((lp.t_s - 100.0).abs() <= 1.0, "launch at {} s", lp.t_s);
        assert!(lp.semi_major_m > 0.0);
    }

    #[test]
    fn a_negative_k_is_moved_to_the_gaussian_conditioned_on_k_zero() {
        // k = −4e-4 ± 2e-4, correlated with the along-track velocity (ρ = −0.6, σ 10 m/s) and
        // with nothing else. Conditioning the Gaussian on k = 0 moves the velocity by
        // ρ σ_v / σ_k · (0 − k) = −0.6 · 10 / 2e-4 · 4e-4 = −12 m/s.
        let mut x = AugVec::zeros();
        x[3] = 2_000.0;
        x[0] = 6_400_000.0;
        x[IK] = -4e-4;
        let mut p = AugCov::identity();
        p[(3, 3)] = 100.0;
        p[(IK, IK)] = 4e-8;
        p[(3, IK)] = -0.6 * 10.0 * 2e-4;
        p[(IK, 3)] = p[(3, IK)];
        let before = x;
        project_onto_nonnegative_k(&mut x, &p);
        assert_eq!(x[IK], 0.0);
        assert!((x[3] - (2_000.0 - 12.0)).abs() < 1e-9, "v {}", x[3]);
        for i in [0, 1, 2, 4, 5, 6, 7, 8] {
            assert_eq!(x[i], before[i], "element {i} is uncorrelated with k");
        }
        // A k that is already physical is left alone.
        let mut y = before;
        y[IK] = 1e-4;
        let kept = y;
        project_onto_nonnegative_k(&mut y, &p);
        assert_eq!(y, kept);
    }

    /// A track 99.9 % in boost, 300 m/s² of thrust along its 3 km/s velocity, `height_m` up over
    /// the Sea of Japan, predicted 2 s on; and the detection a radar on a ship 300 km down
    /// its track makes (5 m, 0.3 mrad: the difference lies mostly along its range) of where
    /// the ballistic model says the body is.
    fn burnout_case(height_m: f64) -> (ImmPrediction<N_MODELS>, AerSensor, MeasVec, MeasVec) {
        let site = Geodetic::from_degrees(39.5, 137.5, 20.0).unwrap();
        let at = Geodetic::from_degrees(39.5, 134.0, height_m).unwrap();
        let frame = trilink_geo::LocalFrame::new(at);
        let r = frame.origin().0;
        let dir = frame.rotate_to_ecef(&Vector3::new(0.8, 0.0, 0.6));
        let mut x = AugVec::zeros();
        for i in 0..3 {
            x[i] = r[i];
            x[3 + i] = 3_000.0 * dir[i];
            x[IA + i] = 300.0 * dir[i];
        }
        x[IK] = 1.0 / 3000.0;
        let mut p = AugCov::identity() * 100.0;
        for i in 3..6 {
            p[(i, i)] = 25.0;
        }
        for i in IA..IA + 3 {
            p[(i, i)] = 25.0;
        }
        p[(IK, IK)] = 4e-6;
        let state = ImmState::new(x, p, [0.0005, 0.999, 0.0005]);
        let pred = TrackerConfig::default().imm().predict(&state, 2.0);
        let sensor = AerSensor::new(site);
        let z = sensor.measure(&pred.x[MODEL_BALLISTIC]);
        let r_diag = MeasVec::new(9e-8, 9e-8, 25.0);
        (pred, sensor, z, r_diag)
    }

    #[test]
    fn a_burnout_above_the_air_is_gated_by_the_ballistic_models_own_prediction() {
        // χ² with 3 dof at the default 0.9997.
        let gate = ChiSquared::new(3.0)
            .unwrap()
            .inverse_cdf(TrackerConfig::default().gate_probability);
        let (pred, sensor, z, r) = burnout_case(150_000.0);
        let combined =
            innovation_d2(FilterKind::Ekf, &sensor, &pred.x_comb, &pred.p_comb, &z, &r).unwrap();
        // 2 s of 300 m/s² is 600 m: outside the combined gate, which is the boost model's.
        assert!(combined > gate, "combined d² {combined}");
        let via_models =
            gate_distance(FilterKind::Ekf, &sensor, &pred, &z, &r, gate, true).unwrap();
        assert!(
            via_models < 1e-6,
            "the ballistic model's own d² {via_models}"
        );
        // Not for a track that was not just boosting.
        let not_boosting =
            gate_distance(FilterKind::Ekf, &sensor, &pred, &z, &r, gate, false).unwrap();
        assert_eq!(not_boosting, combined);
        // Nor in the air, where the re-entry model would read the burn's velocity error as drag.
        let (pred, sensor, z, r) = burnout_case(40_000.0);
        let low = gate_distance(FilterKind::Ekf, &sensor, &pred, &z, &r, gate, true).unwrap();
        assert!(low > gate, "{low}");
    }

    #[test]
    fn tentative_innovations_are_weighed_against_chi_square_quantiles() {
        // χ² quantiles from published tables (NIST/SEMATECH e-Handbook, 1.3.6.7.4): 6 dof at
        // 0.99 is 16.812, 9 dof at 0.99 is 21.666.
        assert!(nis_consistent(16.80, 2, 0.99));
        assert!(!nis_consistent(16.83, 2, 0.99));
        assert!(nis_consistent(21.65, 3, 0.99));
        assert!(!nis_consistent(21.68, 3, 0.99));
        // Off, or nothing to weigh.
        assert!(nis_consistent(1e9, 3, 1.0));
        assert!(nis_consistent(1e9, 0, 0.99));
    }

    #[test]
    fn implausible_states_are_recognised() {
        let mut x = AugVec::zeros();
        x[0] = 6_678_137.0;
        x[4] = 7_000.0;
        let p = AugCov::identity();
        assert!(physically_plausible(&x, &p, 8_000.0));
        let mut fast = x;
        fast[4] = 13_000.0;
        assert!(!physically_plausible(&fast, &p, 8_000.0));
        let mut thrust = x;
        // A short-range missile at burnout (the fitted kn-23 class: 310 m/s²) is plausible.
        thrust[IA] = 310.0;
        assert!(physically_plausible(&thrust, &p, 8_000.0));
        thrust[IA] = 1_500.0;
        assert!(!physically_plausible(&thrust, &p, 8_000.0));
        let mut far = x;
        far[0] = 6e7;
        assert!(!physically_plausible(&far, &p, 8_000.0));
        let mut bad_p = p;
        bad_p[(1, 1)] = -1.0;
        assert!(!physically_plausible(&x, &bad_p, 8_000.0));
        let mut nan = x;
        nan[IK] = f64::NAN;
        assert!(!physically_plausible(&nan, &p, 8_000.0));
    }
}
