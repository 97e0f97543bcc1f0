//! The tracker loop: batch the detections of one sensor at one time into a scan, then predict,
//! gate, assign, update, initiate, delete, and report confirmed tracks with their launch and
//! impact points.

use std::collections::HashMap;

use nalgebra::{Matrix3, Vector3};
use statrs::distribution::{ChiSquared, ContinuousCDF};
use trilink_geo::{Ecef, Geodetic};
use trilink_interchange::{DetectionRow, SensorRow};

use crate::assoc::{Associator, GatedPair, Gnn};
use crate::filter::{innovation_d2, FilterKind, Imm, ImmPrediction, ImmState};
use crate::grid::Grid;
use crate::ipp::{ground_crossing, CrossingConfig, GroundPoint};
use crate::manage::{
    Candidate, Deleter, Initiator, MofNDeleter, NewTrack, Status, TrackSummary, TwoPointInitiator,
};
use crate::measure::{AerSensor, MeasVec};
use crate::motion::{Ballistic, StateCov, StateVec};
use crate::TrackError;

/// Model index of the IMM: 0 unpowered (ballistic), 1 boost, 2 re-entry (drag).
pub const MODEL_BALLISTIC: usize = 0;
pub const MODEL_BOOST: usize = 1;
pub const MODEL_REENTRY: usize = 2;
const N_MODELS: usize = 3;

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
    /// White-noise acceleration PSD of the boost model (m²/s³).
    pub q_boost_m2_s3: f64,
    /// Mean time in each IMM model before switching (s).
    pub sojourn_ballistic_s: f64,
    pub sojourn_boost_s: f64,
    /// Prior probability of the boost model for a new track.
    pub initial_boost_probability: f64,
    /// White-noise PSD (m²/s³) and nominal ballistic coefficient (kg/m²) of the re-entry
    /// model, its mean sojourn (s) and prior probability for a new track.
    pub q_reentry_m2_s3: f64,
    pub beta_reentry_kg_m2: f64,
    pub sojourn_reentry_s: f64,
    pub initial_reentry_probability: f64,
    /// M-of-N confirmation: M hits within N scans of the initiating sensor.
    pub confirm_m: u32,
    pub confirm_n: u32,
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
            q_boost_m2_s3: 2000.0,
            sojourn_ballistic_s: 3600.0,
            sojourn_boost_s: 60.0,
            initial_boost_probability: 0.3,
            q_reentry_m2_s3: 20.0,
            beta_reentry_kg_m2: 3000.0,
            sojourn_reentry_s: 120.0,
            initial_reentry_probability: 0.1,
            confirm_m: 4,
            confirm_n: 6,
            tentative_max_gap_s: 30.0,
            max_coast_s: 60.0,
            max_position_sigma_m: 30_000.0,
            max_speed_mps: 8_000.0,
            seed_max_age_s: 20.0,
            seed_accel_mps2: 60.0,
            ground_point_interval_s: 1.0,
            crossing: CrossingConfig::default(),
            late: LatePolicy::Drop,
            filter: FilterKind::Ekf,
        }
    }
}

impl TrackerConfig {
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
            ("ground_point_interval_s", self.ground_point_interval_s),
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
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(key, v, "a finite number greater than zero");
            }
        }
        if !(self.crossing.drag_beta_kg_m2.is_finite() && self.crossing.drag_beta_kg_m2 >= 0.0) {
            return bad(
                "crossing.drag_beta_kg_m2",
                self.crossing.drag_beta_kg_m2,
                "a finite number not below zero",
            );
        }
        if !(self.seed_accel_mps2.is_finite() && self.seed_accel_mps2 >= 0.0) {
            return bad(
                "seed_accel_mps2",
                self.seed_accel_mps2,
                "a finite number not below zero",
            );
        }
        for (key, v) in [
            ("q_reentry_m2_s3", self.q_reentry_m2_s3),
            ("beta_reentry_kg_m2", self.beta_reentry_kg_m2),
            ("sojourn_reentry_s", self.sojourn_reentry_s),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(key, v, "a finite number greater than zero");
            }
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
    pub x: StateVec,
    pub p: StateCov,
    /// Normalised innovation squared of this update (against the combined IMM prediction).
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
    x_c: StateVec,
    p_c: StateCov,
    t_s: f64,
    status: Status,
    hits: u32,
    init_sensor: usize,
    init_scan: u64,
    /// (sensor, scan number) of the latest detection this track took. Two tracks that took
    /// different detections of one scan are two objects, however alike their estimates.
    last_scan: (usize, u64),
    last_ground_t_s: f64,
    launch: Option<GroundPoint>,
    launch_from_ballistic: bool,
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
fn same_object(
    dp: &Vector3<f64>,
    dv: &Vector3<f64>,
    pa: &StateCov,
    pb: &StateCov,
    gate: f64,
) -> bool {
    let spp = pa.fixed_view::<3, 3>(0, 0) + pb.fixed_view::<3, 3>(0, 0);
    let svv = pa.fixed_view::<3, 3>(3, 3) + pb.fixed_view::<3, 3>(3, 3);
    let (Some(cp), Some(cv)) = (spp.cholesky(), svv.cholesky()) else {
        return false;
    };
    dp.dot(&cp.solve(dp)) <= gate && dv.dot(&cv.solve(dv)) <= gate
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
    slots: Vec<(u32, ImmPrediction<N_MODELS>)>,
    pairs_confirmed: Vec<GatedPair>,
    pairs_tentative: Vec<GatedPair>,
    assigned: Vec<(u32, u32)>,
    det_used: Vec<bool>,
    new_tracks: Vec<NewTrack>,
    unused: Vec<Candidate>,
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
        let imm = Imm {
            models: [
                Ballistic::free_flight(cfg.q_ballistic_m2_s3),
                Ballistic::boost(cfg.q_boost_m2_s3),
                Ballistic::reentry(cfg.q_reentry_m2_s3, cfg.beta_reentry_kg_m2),
            ],
            mean_sojourn_s: [
                cfg.sojourn_ballistic_s,
                cfg.sojourn_boost_s,
                cfg.sojourn_reentry_s,
            ],
        };
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
            pairs_confirmed: Vec::new(),
            pairs_tentative: Vec::new(),
            assigned: Vec::new(),
            det_used: Vec::new(),
            new_tracks: Vec::new(),
            unused: Vec::new(),
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
            if self.deleter.should_delete(&s, now_s) {
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

    /// Two tracks on one object (started by two sensors, or from two seed pairings) would split
    /// its detections between them. Where two tracks agree in position and velocity within the
    /// χ² gate of their summed covariances, the one with fewer hits goes (ids stay stable: the
    /// older, better-supported track survives).
    fn merge_duplicates(&mut self, now_s: f64) {
        // Only confirmed pairs: a tentative track that duplicates a confirmed one is held back
        // at confirmation, and tentative tracks compete for detections in the GNN.
        self.rebuild_grid(now_s);
        let confirmed: Vec<usize> = (0..self.tracks.len())
            .filter(|&i| self.tracks[i].status == Status::Confirmed)
            .collect();
        if confirmed.len() < 2 {
            return;
        }
        let mut local = Grid::new(GRID_CELL_M);
        for (k, &i) in confirmed.iter().enumerate() {
            local.insert(&self.entries[i].p, k as u32);
        }
        let mut doomed = vec![false; self.tracks.len()];
        let mut near = Vec::new();
        for (ka, &i) in confirmed.iter().enumerate() {
            if doomed[i] {
                continue;
            }
            near.clear();
            let ei = self.entries[i];
            local.for_near(&ei.p, |k| near.push(k as usize));
            for &kb in &near {
                let j = confirmed[kb];
                if kb <= ka || doomed[j] {
                    continue;
                }
                let ej = self.entries[j];
                if (ei.p - ej.p).norm_squared() > (ei.radius_m + ej.radius_m).powi(2) {
                    continue;
                }
                let (a, b) = (&self.tracks[i], &self.tracks[j]);
                if a.last_scan == b.last_scan {
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
        if !doomed.iter().any(|&d| d) {
            return;
        }
        let mut k = 0;
        let mut kept = Vec::with_capacity(self.tracks.len());
        for tr in self.tracks.drain(..) {
            if doomed[k] {
                if tr.status == Status::Confirmed {
                    self.stats.tracks_ended += 1;
                    self.stats.tracks_merged += 1;
                    self.ended.push(EndedTrack {
                        track_id: tr.id,
                        t_last_update_s: tr.t_s,
                        launch: tr.launch,
                    });
                }
            } else {
                kept.push(tr);
            }
            k += 1;
        }
        self.tracks = kept;
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
        let this_scan = self.tracks[ti].last_scan;
        let mut dup = false;
        let mut check = |j: u32| {
            let j = j as usize;
            if dup
                || j == ti
                || j >= self.tracks.len()
                || self.tracks[j].status != Status::Confirmed
                || self.tracks[j].last_scan == this_scan
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

        // Predict each candidate track once, gate each pair.
        self.slot_of.clear();
        self.slot_of.resize(self.tracks.len(), u32::MAX);
        self.slots.clear();
        self.pairs_confirmed.clear();
        self.pairs_tentative.clear();
        let model = self.sensors[sensor].model;
        for &(ti, j) in &self.cand {
            let slot = match self.slot_of[ti as usize] {
                u32::MAX => {
                    let tr = &self.tracks[ti as usize];
                    let pred = self
                        .imm
                        .predict_with(self.cfg.filter, &tr.imm, t_s - tr.t_s);
                    let s = self.slots.len() as u32;
                    self.slots.push((ti, pred));
                    self.slot_of[ti as usize] = s;
                    s
                }
                s => s,
            };
            let pred = &self.slots[slot as usize].1;
            let d = &dets[j as usize];
            let filter = self.cfg.filter;
            let Some(d2) =
                innovation_d2(filter, &model, &pred.x_comb, &pred.p_comb, &d.z, &d.r_diag)
            else {
                continue;
            };
            if d2 <= self.gate {
                let pair = GatedPair {
                    track: slot,
                    det: j,
                    cost: d2,
                };
                if self.tracks[ti as usize].status == Status::Confirmed {
                    self.pairs_confirmed.push(pair);
                } else {
                    self.pairs_tentative.push(pair);
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
        let used = &self.det_used;
        self.pairs_tentative.retain(|p| !used[p.det as usize]);
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

        // Update.
        let assigned = std::mem::take(&mut self.assigned);
        for &(slot, j) in &assigned {
            self.update_track(sensor, slot, &dets[j as usize], t_s, &model);
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
            self.tracks.push(Track {
                id: 0,
                imm: ImmState::new(nt.x, nt.p, mu0),
                x_c: nt.x,
                p_c: nt.p,
                t_s,
                status: Status::Tentative,
                hits: 2,
                init_sensor: sensor,
                init_scan: self.sensors[sensor].scans,
                last_scan: (sensor, self.sensors[sensor].scans),
                last_ground_t_s: f64::NEG_INFINITY,
                launch: None,
                launch_from_ballistic: false,
            });
            self.stats.tracks_started += 1;
            let idx = self.tracks.len() - 1;
            if self.grid_valid {
                self.index_track(idx);
            }
        }
        self.new_tracks = new_tracks;
    }

    fn update_track(&mut self, sensor: usize, slot: u32, d: &Det, t_s: f64, model: &AerSensor) {
        let (ti, pred) = &self.slots[slot as usize];
        let ti = *ti as usize;
        let filter = self.cfg.filter;
        let nis = innovation_d2(filter, model, &pred.x_comb, &pred.p_comb, &d.z, &d.r_diag)
            .unwrap_or(f64::NAN);
        let Some(new_state) = self.imm.update_with(filter, pred, model, &d.z, &d.r_diag) else {
            self.stats.numerical_rejects += 1;
            return;
        };
        self.stats.updates += 1;
        let tr = &mut self.tracks[ti];
        tr.imm = new_state;
        (tr.x_c, tr.p_c) = tr.imm.combined();
        tr.t_s = t_s;
        tr.hits += 1;
        tr.last_scan = (sensor, self.sensors[sensor].scans);
        if tr.status == Status::Tentative {
            let scans = self.sensors[tr.init_sensor].scans - tr.init_scan;
            if tr.hits >= self.cfg.confirm_m && scans <= u64::from(self.cfg.confirm_n) {
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
                self.next_id += 1;
                self.stats.tracks_confirmed += 1;
            }
        }
        let tr = &mut self.tracks[ti];
        if tr.status != Status::Confirmed {
            return;
        }
        let (x, p) = (tr.x_c, tr.p_c);
        let mu = tr.imm.mu;
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
            impact = ground_crossing(t_s, &x, &p, true, &self.cfg.crossing);
            // A launch point back-propagated from a thrusting state is meaningless; prefer
            // estimates made while the ballistic model dominates.
            let ballistic = phase != Phase::Boost;
            if ballistic || !tr.launch_from_ballistic {
                if let Some(lp) = ground_crossing(t_s, &x, &p, false, &self.cfg.crossing) {
                    tr.launch = Some(lp);
                    tr.launch_from_ballistic = ballistic;
                }
            }
        }
        self.updates.push(TrackUpdate {
            time_s: t_s,
            track_id: tr.id,
            x,
            p,
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
