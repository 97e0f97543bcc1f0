//! The whole evaluation of one run: GOSPA on a time grid, and every metric that needs to know
//! which truth object a track row belongs to.
//!
//! Association. At each grid time t the truth states (interpolated) and the live tracks (each
//! track's most recent row at or before t, no older than `max_age_s`, propagated to t by free
//! flight) are assigned optimally by GOSPA; a track is "assigned to" an object at t if GOSPA
//! pairs them (closer than c). A track row at time t_r (or an impact prediction made at t_r)
//! belongs to the object its track is assigned to at the first grid time at or after t_r: that
//! is the first grid time at which the row is the track's current state. Errors are measured at
//! the row's own time against truth interpolated there, never against the propagated state.
//! docs/decisions/0500 says why.

use std::collections::HashMap;

use nalgebra::{Matrix3, Matrix3x6, Matrix6, Vector3};
use serde::Serialize;
use trilink_geo::{geodesic_inverse, Ecef, Geodetic};
use trilink_physics::integrate::{position, rk4_step, velocity, State6};

use crate::consistency::{nees3, ChiSquareAverage, ConsistencySummary};
use crate::gospa::{gospa, GospaParams};
use crate::input::{FreeFlightRule, ObjectDetection, ObjectTruth, RunInputs};
use crate::pcrlb::{aer_jacobian, transition_matrix, Information};
use crate::EvalError;

/// How the run is scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalConfig {
    pub gospa: GospaParams,
    /// Spacing of the GOSPA time grid (s); grid times are whole multiples of it.
    pub grid_s: f64,
    /// A track whose most recent row is older than this at a grid time is not live there (s).
    pub max_age_s: f64,
    /// Propagate each live track's last row to the grid time by free flight (gravity with J2
    /// and the rotating-frame terms), as a consumer of the track would.
    pub propagate: bool,
    pub free_flight: FreeFlightRule,
    /// Two id changes (o1: A→B, o2: B→A) at most this far apart make one swap (s).
    pub swap_window_s: f64,
    /// Edges of the time-to-go bins for impact-point error (s), increasing from 0.
    pub impact_bin_edges_s: Vec<f64>,
    /// Score a truth object at every grid time of its flight, seen by a sensor or not. Off by
    /// default: an object counts at t only if one of the run's sensors detected it within the
    /// last `max_age_s` (decision 0500, item 8).
    pub score_unobserved: bool,
    /// Times to go (s) at which each object's prediction is sampled for `impact.samples`
    /// (one prediction per object and time, so that Monte Carlo runs can be pooled without
    /// long-lived tracks outweighing short ones).
    pub impact_sample_time_to_go_s: Vec<f64>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            gospa: GospaParams::trilink(),
            grid_s: 1.0,
            max_age_s: 10.0,
            propagate: true,
            free_flight: FreeFlightRule::default(),
            swap_window_s: 10.0,
            impact_bin_edges_s: vec![0.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0],
            score_unobserved: false,
            impact_sample_time_to_go_s: vec![60.0, 120.0, 300.0, 600.0],
        }
    }
}

impl EvalConfig {
    pub fn validate(&self) -> Result<(), EvalError> {
        let positive = |name: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(EvalError::Parameter {
                    name,
                    value: v,
                    expected: "a finite number greater than zero",
                })
            }
        };
        GospaParams::new(self.gospa.c_m, self.gospa.p)?;
        positive("grid_s", self.grid_s)?;
        positive("max_age_s", self.max_age_s)?;
        positive("swap_window_s", self.swap_window_s)?;
        for &t in &self.impact_sample_time_to_go_s {
            positive("impact_sample_time_to_go_s", t)?;
        }
        if self.max_age_s < self.grid_s {
            return Err(EvalError::Parameter {
                name: "max_age_s",
                value: self.max_age_s,
                expected: "at least grid_s, or tracks could vanish between grid times",
            });
        }
        Ok(())
    }
}

/// The numbers (what `trilink eval` prints as JSON).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub parameters: EvalConfig,
    pub inputs: InputCounts,
    pub gospa: GospaSummary,
    pub rmse: RmseSummary,
    pub nees: NeesSummary,
    /// ANIS from the tracker's `nis`/`nis_dof` columns; null when tracks.csv has none.
    pub nis: Option<ConsistencySummary>,
    pub pcrlb: PcrlbSummary,
    pub timeliness: TimelinessSummary,
    pub continuity: ContinuitySummary,
    /// Null when there is no impacts.csv.
    pub impact: Option<ImpactSummary>,
    /// Null when there is no launches.csv.
    pub launch: Option<LaunchSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputCounts {
    pub objects: usize,
    pub sensors: usize,
    pub detections: usize,
    pub false_alarms: usize,
    pub tracks: usize,
    pub track_rows: usize,
    pub impact_rows: Option<usize>,
    pub launch_rows: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GospaSummary {
    /// Mean over grid times at which any truth object or live track exists (m).
    pub mean_m: f64,
    pub mean_localisation_m: f64,
    pub mean_missed_m: f64,
    pub mean_false_m: f64,
    pub mean_missed_targets: f64,
    pub mean_false_tracks: f64,
    pub max_m: f64,
    pub grid_points: usize,
    /// The split into localisation, missed and false parts adds up to GOSPA^p; for p = 1 the
    /// `mean_*_m` parts add up to `mean_m`.
    pub split_is_of_power_p: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Rmse {
    pub position_m: Option<f64>,
    pub velocity_mps: Option<f64>,
    pub samples: usize,
}

#[derive(Default, Clone)]
struct RmseAcc {
    pos2: f64,
    vel2: f64,
    n: usize,
}

impl RmseAcc {
    fn push(&mut self, dp: &Vector3<f64>, dv: &Vector3<f64>) {
        self.pos2 += dp.norm_squared();
        self.vel2 += dv.norm_squared();
        self.n += 1;
    }
    fn finish(&self) -> Rmse {
        let n = self.n as f64;
        Rmse {
            position_m: (self.n > 0).then(|| (self.pos2 / n).sqrt()),
            velocity_mps: (self.n > 0).then(|| (self.vel2 / n).sqrt()),
            samples: self.n,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectRmse {
    pub object_id: u64,
    pub all: Rmse,
    pub free_flight: Rmse,
}

/// Errors of track rows against the truth object they are assigned to, at the row's time.
#[derive(Debug, Clone, Serialize)]
pub struct RmseSummary {
    pub all: Rmse,
    pub free_flight: Rmse,
    pub per_object: Vec<ObjectRmse>,
    /// Track rows not assigned to any truth object (not in the RMSE).
    pub unassigned_rows: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct NeesSummary {
    /// Position NEES (3 dof) over assigned rows.
    pub position: Option<ConsistencySummary>,
    pub position_free_flight: Option<ConsistencySummary>,
    /// Assigned rows whose position covariance is not positive-definite (left out of NEES).
    pub non_positive_definite_rows: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectPcrlb {
    pub object_id: u64,
    /// Position RMSE over free-flight assigned rows where the bound exists (m).
    pub rmse_m: Option<f64>,
    /// √(mean trace of the position bound) over the same rows (m).
    pub bound_m: Option<f64>,
    pub ratio: Option<f64>,
    pub samples: usize,
    /// √trace of the position bound after the object's last detection (m).
    pub final_bound_m: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PcrlbSummary {
    /// Free flight, all objects: RMSE / √(mean trace bound) over the same rows.
    pub free_flight_rmse_m: Option<f64>,
    pub free_flight_bound_m: Option<f64>,
    pub free_flight_ratio: Option<f64>,
    pub samples: usize,
    /// The same over every assigned row where the bound exists, boost and re-entry included
    /// (there the bound is optimistic: it knows the thrust; docs/decisions/0501). For
    /// missiles that never leave the atmosphere this is the only ratio there is.
    pub all_rows_rmse_m: Option<f64>,
    pub all_rows_bound_m: Option<f64>,
    pub all_rows_ratio: Option<f64>,
    pub all_rows_samples: usize,
    pub per_object: Vec<ObjectPcrlb>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectTimeliness {
    pub object_id: u64,
    /// First truth sample (s).
    pub launch_time_s: f64,
    pub first_detection_s: Option<f64>,
    /// First track row assigned to this object (s).
    pub first_track_s: Option<f64>,
    pub launch_to_track_s: Option<f64>,
    pub detection_to_track_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelinessSummary {
    pub mean_launch_to_track_s: Option<f64>,
    pub max_launch_to_track_s: Option<f64>,
    pub mean_detection_to_track_s: Option<f64>,
    pub objects_never_tracked: usize,
    pub per_object: Vec<ObjectTimeliness>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectContinuity {
    pub object_id: u64,
    pub track_ids: Vec<u64>,
    pub breaks: usize,
    pub id_switches: usize,
    /// Fraction of grid times while the object exists at which a track is assigned to it.
    pub completeness: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContinuitySummary {
    /// An object's assigned track id changes after a gap (grid times with no track assigned).
    pub track_breaks: usize,
    /// Every change of an object's assigned track id, with or without a gap.
    pub id_switches: usize,
    /// Pairs of objects that exchange track ids (o1: A→B and o2: B→A within the swap window).
    pub id_swaps: usize,
    /// SIAP-like: assigned (object, grid time) pairs / existing (object, grid time) pairs.
    pub completeness: Option<f64>,
    /// SIAP-like: unassigned live track states / live track states on the grid.
    pub spuriousness: Option<f64>,
    pub per_object: Vec<ObjectContinuity>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImpactBin {
    pub time_to_go_from_s: f64,
    pub time_to_go_to_s: Option<f64>,
    pub predictions: usize,
    pub mean_error_m: Option<f64>,
    pub median_error_m: Option<f64>,
    pub p95_error_m: Option<f64>,
    pub mean_abs_time_error_s: Option<f64>,
    /// Fraction of predictions whose 95 % ellipse contains the true impact point.
    pub containment_95: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImpactSummary {
    pub predictions: usize,
    /// Predictions whose track is assigned to an object that reaches the ground in truth.
    pub scored: usize,
    pub containment_95: Option<f64>,
    pub bins: Vec<ImpactBin>,
    /// Per object: error of the last prediction before impact (m) and its time to go (s).
    pub last_prediction: Vec<LastImpactPrediction>,
    /// Per object, its prediction nearest each of `impact_sample_time_to_go_s` (within
    /// [`sample_tolerance_s`]), then its last prediction; by object, then time to go falling.
    pub samples: Vec<ImpactSample>,
}

/// One impact prediction, scored: the unit a Monte Carlo coverage count is made of.
#[derive(Debug, Clone, Serialize)]
pub struct ImpactSample {
    pub object_id: u64,
    pub track_id: u64,
    /// The time to go this sample stands for (s); null for the last prediction before impact.
    pub target_time_to_go_s: Option<f64>,
    pub time_to_go_s: f64,
    /// Distance from the predicted to the true impact point (m).
    pub error_m: f64,
    /// Error (true − predicted) along the ellipse's major and minor axes (m): a bias shows as
    /// one sign dominating over many runs.
    pub error_major_m: f64,
    pub error_minor_m: f64,
    /// Predicted minus true impact time (s).
    pub time_error_s: f64,
    pub semi_major_m: f64,
    pub semi_minor_m: f64,
    /// Squared Mahalanobis distance of the true point under the covariance the ellipse stands
    /// for; χ²(2) if the ellipse tells the truth, and inside the ellipse when ≤ 5.991. Null for
    /// a degenerate (zero-width) ellipse.
    pub mahalanobis2: Option<f64>,
    pub inside_95: bool,
}

/// How far (s) a prediction's time to go may be from a sample time and still stand for it:
/// 10 % of it, and at least 10 s (the longest radar revisit of the built-in scenarios), so
/// that a track begun late is not counted at a time to go it never had.
pub fn sample_tolerance_s(target_time_to_go_s: f64) -> f64 {
    (0.1 * target_time_to_go_s).max(10.0)
}

#[derive(Debug, Clone, Serialize)]
pub struct LastImpactPrediction {
    pub object_id: u64,
    pub track_id: u64,
    pub time_to_go_s: f64,
    pub error_m: f64,
    pub inside_95: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LaunchEstimate {
    pub track_id: u64,
    pub object_id: Option<u64>,
    pub error_m: Option<f64>,
    pub time_error_s: Option<f64>,
    pub inside_95: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LaunchSummary {
    pub estimates: usize,
    pub scored: usize,
    pub mean_error_m: Option<f64>,
    pub containment_95: Option<f64>,
    pub per_track: Vec<LaunchEstimate>,
}

/// Time series behind the plots of the report (not printed as JSON).
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub grid: Vec<GridPoint>,
    /// Per object (same order as the inputs' objects).
    pub objects: Vec<ObjectSeries>,
    pub impacts: Vec<ImpactPoint>,
    pub nis: Vec<(f64, f64, f64)>,
}

#[derive(Debug, Clone)]
pub struct GridPoint {
    pub t_s: f64,
    pub gospa_m: f64,
    pub localisation: f64,
    pub missed: f64,
    pub false_: f64,
    pub n_truth: usize,
    pub n_tracks: usize,
}

#[derive(Debug, Clone, Default)]
pub struct ObjectSeries {
    pub object_id: u64,
    /// (t, position error m, velocity error m/s, NEES if defined, track id)
    pub errors: Vec<(f64, f64, f64, Option<f64>, u64)>,
    /// (t, √trace position bound m) after each detection time.
    pub bound: Vec<(f64, f64)>,
    /// (grid t, assigned track id) while the object exists.
    pub ids: Vec<(f64, Option<u64>)>,
}

#[derive(Debug, Clone)]
pub struct ImpactPoint {
    pub time_to_go_s: f64,
    pub error_m: f64,
    pub inside_95: bool,
    pub object_id: u64,
    pub track_id: u64,
    pub time_error_s: f64,
    pub semi_major_m: f64,
    pub semi_minor_m: f64,
    pub fit: EllipseFit,
}

/// The evaluation of one run.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub summary: Summary,
    pub series: Series,
}

/// Free-flight propagation of a track state over `dt_s` (RK4, steps of at most 1 s).
fn propagate(s: &State6, dt_s: f64) -> State6 {
    if dt_s == 0.0 {
        return *s;
    }
    let steps = dt_s.abs().ceil().max(1.0) as usize;
    let h = dt_s / steps as f64;
    let mut x = *s;
    for k in 0..steps {
        x = rk4_step(k as f64 * h, &x, h, |_, r, v| {
            trilink_physics::free_flight_acceleration(r, v)
        });
    }
    x
}

struct Grid {
    t0_s: f64,
    step_s: f64,
    times: Vec<f64>,
    /// Per grid time: (track index, object index), sorted by track index.
    assigned: Vec<Vec<(usize, usize)>>,
}

impl Grid {
    /// The object a track is assigned to at the first grid time at or after `t_s`.
    fn object_of(&self, track: usize, t_s: f64) -> Option<usize> {
        let n = self.times.len();
        if n == 0 {
            return None;
        }
        let k = ((t_s - self.t0_s) / self.step_s - 1e-9).ceil();
        let k = if k < 0.0 { 0 } else { k as usize };
        if k >= n {
            return None;
        }
        let row = &self.assigned[k];
        row.binary_search_by_key(&track, |&(tr, _)| tr)
            .ok()
            .map(|i| row[i].1)
    }
}

/// Whether an object was detected by any sensor of the run in `[t − max_age_s, t]`: only then
/// can a tracker be expected to hold it (a track row is live for the same `max_age_s`).
fn observed_within(dets: &[ObjectDetection], t_s: f64, cfg: &EvalConfig) -> bool {
    let after = dets.partition_point(|d| d.time_s < t_s - cfg.max_age_s);
    dets.get(after).is_some_and(|d| d.time_s <= t_s)
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    let f = pos - i as f64;
    Some(sorted[i] * (1.0 - f) + sorted[j] * f)
}

/// Is `target` inside the ellipse centred at `centre` (semi-axes in metres, major axis
/// `orientation_deg` clockwise from north)? Offsets are taken along the geodesic, which is exact
/// to far better than an ellipse of a few kilometres needs.
fn inside_ellipse(
    centre: &Geodetic,
    target: &Geodetic,
    semi_major_m: f64,
    semi_minor_m: f64,
    orientation_deg: f64,
) -> (f64, bool) {
    let fit = ellipse_fit(centre, target, semi_major_m, semi_minor_m, orientation_deg);
    (fit.distance_m, fit.inside_95)
}

/// Where a point lies relative to a 95 % ellipse.
#[derive(Debug, Clone, Copy)]
pub struct EllipseFit {
    pub distance_m: f64,
    /// Offset of the point along the major and the minor axis (m).
    pub major_m: f64,
    pub minor_m: f64,
    /// Squared Mahalanobis distance (the ellipse boundary is χ²(2, 0.95)); None if degenerate.
    pub mahalanobis2: Option<f64>,
    pub inside_95: bool,
}

/// χ² quantile with 2 degrees of freedom at 0.95 (`−2 ln 0.05`): the squared Mahalanobis
/// distance of a 95 % ellipse's boundary, as the tracker scales it.
const CHI2_2DOF_95: f64 = 5.991_464_547_107_979;

fn ellipse_fit(
    centre: &Geodetic,
    target: &Geodetic,
    semi_major_m: f64,
    semi_minor_m: f64,
    orientation_deg: f64,
) -> EllipseFit {
    let g = geodesic_inverse(centre, target);
    let north = g.distance_m * g.azimuth1_rad.cos();
    let east = g.distance_m * g.azimuth1_rad.sin();
    let (s, c) = orientation_deg.to_radians().sin_cos();
    let along = north * c + east * s;
    let across = -north * s + east * c;
    let (mahalanobis2, inside_95) = if semi_major_m > 0.0 && semi_minor_m > 0.0 {
        let q = (along / semi_major_m).powi(2) + (across / semi_minor_m).powi(2);
        (Some(q * CHI2_2DOF_95), q <= 1.0)
    } else {
        (None, g.distance_m == 0.0)
    };
    EllipseFit {
        distance_m: g.distance_m,
        major_m: along,
        minor_m: across,
        mahalanobis2,
        inside_95,
    }
}

/// Per object: the prediction nearest each sample time to go (within tolerance; the earlier
/// prediction on a tie), then the last one.
fn impact_samples(points: &[ImpactPoint], targets_s: &[f64]) -> Vec<ImpactSample> {
    let sample = |p: &ImpactPoint, target: Option<f64>| ImpactSample {
        object_id: p.object_id,
        track_id: p.track_id,
        target_time_to_go_s: target,
        time_to_go_s: p.time_to_go_s,
        error_m: p.error_m,
        error_major_m: p.fit.major_m,
        error_minor_m: p.fit.minor_m,
        time_error_s: p.time_error_s,
        semi_major_m: p.semi_major_m,
        semi_minor_m: p.semi_minor_m,
        mahalanobis2: p.fit.mahalanobis2,
        inside_95: p.inside_95,
    };
    let mut ids: Vec<u64> = points.iter().map(|p| p.object_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        let mine: Vec<&ImpactPoint> = points.iter().filter(|p| p.object_id == id).collect();
        let mut targets: Vec<f64> = targets_s.to_vec();
        targets.sort_by(|a, b| b.total_cmp(a));
        for target in targets {
            let best = mine
                .iter()
                .filter(|p| (p.time_to_go_s - target).abs() <= sample_tolerance_s(target))
                .min_by(|a, b| {
                    (a.time_to_go_s - target)
                        .abs()
                        .total_cmp(&(b.time_to_go_s - target).abs())
                        .then(b.time_to_go_s.total_cmp(&a.time_to_go_s))
                });
            if let Some(p) = best {
                out.push(sample(p, Some(target)));
            }
        }
        if let Some(p) = mine
            .iter()
            .min_by(|a, b| a.time_to_go_s.total_cmp(&b.time_to_go_s))
        {
            out.push(sample(p, None));
        }
    }
    out
}

/// Where and when an object's flight began: its first truth sample, or, for an object that
/// appears in flight (a spent stage), the start of the object it separated from.
fn origin_of(objects: &[ObjectTruth], k: usize) -> (f64, Geodetic) {
    let mut k = k;
    for _ in 0..8 {
        let o = &objects[k];
        let t0 = o.t_first_s();
        let p0 = position(&o.states[0]);
        let geo = Ecef(p0).to_geodetic();
        if geo.alt_m < 1_000.0 {
            return (t0, geo);
        }
        let parent = objects.iter().enumerate().find(|(j, p)| {
            *j != k
                && p.t_first_s() < t0
                && p.position_at(t0).is_some_and(|q| (q - p0).norm() < 100.0)
        });
        match parent {
            Some((j, _)) => k = j,
            None => return (t0, geo),
        }
    }
    let o = &objects[k];
    (o.t_first_s(), Ecef(position(&o.states[0])).to_geodetic())
}

/// Scores one run.
pub fn evaluate(run: &RunInputs, cfg: &EvalConfig) -> Result<Evaluation, EvalError> {
    cfg.validate()?;
    let objects = &run.objects;
    let tracks = &run.tracks;

    // --- Grid and GOSPA -------------------------------------------------------------------
    let mut t_min = objects
        .iter()
        .map(|o| o.t_first_s())
        .fold(f64::INFINITY, f64::min);
    let mut t_max = objects
        .iter()
        .map(|o| o.t_last_s())
        .fold(f64::NEG_INFINITY, f64::max);
    for (_, rows) in tracks {
        if let (Some(a), Some(b)) = (rows.first(), rows.last()) {
            t_min = t_min.min(a.time_s);
            t_max = t_max.max(b.time_s);
        }
    }
    let k0 = (t_min / cfg.grid_s).ceil() as i64;
    let k1 = (t_max / cfg.grid_s).floor() as i64;
    let times: Vec<f64> = (k0..=k1).map(|k| k as f64 * cfg.grid_s).collect();
    let mut grid = Grid {
        t0_s: k0 as f64 * cfg.grid_s,
        step_s: cfg.grid_s,
        times: times.clone(),
        assigned: Vec::with_capacity(times.len()),
    };
    let mut cursors = vec![0usize; tracks.len()];
    let mut series = Series::default();
    let mut gospa_points = Vec::new();
    let mut truth_idx = Vec::new();
    let mut truth_pos = Vec::new();
    let mut track_idx = Vec::new();
    let mut track_pos = Vec::new();
    let mut track_row = Vec::new();
    let (mut existing, mut covered, mut live, mut spurious) = (0usize, 0usize, 0usize, 0usize);
    let mut ids_per_object: Vec<Vec<(f64, Option<u64>)>> = vec![Vec::new(); objects.len()];
    for &t in &times {
        truth_idx.clear();
        truth_pos.clear();
        for (k, o) in objects.iter().enumerate() {
            if !cfg.score_unobserved && !observed_within(&run.detections_by_object[k], t, cfg) {
                continue;
            }
            if let Some(p) = o.position_at(t) {
                truth_idx.push(k);
                truth_pos.push(p);
            }
        }
        track_idx.clear();
        track_pos.clear();
        track_row.clear();
        for (k, (_, rows)) in tracks.iter().enumerate() {
            let c = &mut cursors[k];
            while *c + 1 < rows.len() && rows[*c + 1].time_s <= t {
                *c += 1;
            }
            let row = &rows[*c];
            let age = t - row.time_s;
            if age < 0.0 || age > cfg.max_age_s {
                continue;
            }
            let state = if cfg.propagate {
                propagate(&row.state(), age)
            } else {
                row.state()
            };
            track_idx.push(k);
            track_pos.push(position(&state));
            track_row.push(row);
        }
        let g = gospa(&truth_pos, &track_pos, cfg.gospa);
        // A row's NEES against an object, both at the row's own time (as RMSE and NEES are).
        let row_nees = |j: usize, ob: usize| -> Option<f64> {
            let row = track_row[j];
            let truth = objects[ob].position_at(row.time_s)?;
            nees3(&(position(&row.state()) - truth), &row.position_cov())
        };
        let pairs = sticky_pairs(
            grid.assigned.last().map(Vec::as_slice).unwrap_or(&[]),
            &truth_idx,
            &truth_pos,
            &track_idx,
            &track_pos,
            cfg.gospa,
            row_nees,
        );
        let mut id_of_object: HashMap<usize, u64> = HashMap::with_capacity(pairs.len());
        for &(tr, ob) in &pairs {
            id_of_object.insert(ob, tracks[tr].0);
        }
        for &k in &truth_idx {
            ids_per_object[k].push((t, id_of_object.get(&k).copied()));
        }
        existing += truth_idx.len();
        covered += pairs.len();
        live += track_idx.len();
        spurious += track_idx.len() - pairs.len();
        if !truth_idx.is_empty() || !track_idx.is_empty() {
            gospa_points.push(GridPoint {
                t_s: t,
                gospa_m: g.gospa_m,
                localisation: g.localisation,
                missed: g.missed,
                false_: g.false_,
                n_truth: truth_idx.len(),
                n_tracks: track_idx.len(),
            });
        }
        grid.assigned.push(pairs);
    }
    let p = cfg.gospa.p;
    let gospa_summary = GospaSummary {
        mean_m: mean(gospa_points.iter().map(|g| g.gospa_m)).unwrap_or(0.0),
        mean_localisation_m: mean(gospa_points.iter().map(|g| g.localisation)).unwrap_or(0.0),
        mean_missed_m: mean(gospa_points.iter().map(|g| g.missed)).unwrap_or(0.0),
        mean_false_m: mean(gospa_points.iter().map(|g| g.false_)).unwrap_or(0.0),
        mean_missed_targets: mean(
            gospa_points
                .iter()
                .map(|g| g.missed / (0.5 * cfg.gospa.c_m.powf(p))),
        )
        .unwrap_or(0.0),
        mean_false_tracks: mean(
            gospa_points
                .iter()
                .map(|g| g.false_ / (0.5 * cfg.gospa.c_m.powf(p))),
        )
        .unwrap_or(0.0),
        max_m: gospa_points.iter().map(|g| g.gospa_m).fold(0.0, f64::max),
        grid_points: gospa_points.len(),
        split_is_of_power_p: p != 1.0,
    };
    series.grid = gospa_points;

    // --- Per-row errors, NEES, NIS ----------------------------------------------------------
    let mut all = RmseAcc::default();
    let mut free = RmseAcc::default();
    let mut per_obj_all = vec![RmseAcc::default(); objects.len()];
    let mut per_obj_free = vec![RmseAcc::default(); objects.len()];
    let mut nees_all = ChiSquareAverage::default();
    let mut nees_free = ChiSquareAverage::default();
    let mut nis = ChiSquareAverage::default();
    let mut non_pd = 0usize;
    let mut unassigned_rows = 0usize;
    let mut first_track: Vec<Option<f64>> = vec![None; objects.len()];
    // Assigned rows per object for the PCRLB: (t, squared position error, in free flight).
    let mut pc_rows: Vec<Vec<(f64, f64, bool)>> = vec![Vec::new(); objects.len()];
    let mut object_series: Vec<ObjectSeries> = objects
        .iter()
        .map(|o| ObjectSeries {
            object_id: o.object_id,
            ..Default::default()
        })
        .collect();
    for (k, (track_id, rows)) in tracks.iter().enumerate() {
        for row in rows {
            if let Some((v, d)) = row.nis_sample() {
                nis.push(v, d);
                series.nis.push((row.time_s, v, d));
            }
            let Some(ob) = grid.object_of(k, row.time_s) else {
                unassigned_rows += 1;
                continue;
            };
            let o = &objects[ob];
            let Some(truth) = o.state_at(row.time_s) else {
                unassigned_rows += 1;
                continue;
            };
            let est = row.state();
            let dp = position(&est) - position(&truth);
            let dv = velocity(&est) - velocity(&truth);
            let is_free = o.free_flight_at(row.time_s);
            all.push(&dp, &dv);
            per_obj_all[ob].push(&dp, &dv);
            if is_free {
                free.push(&dp, &dv);
                per_obj_free[ob].push(&dp, &dv);
            }
            pc_rows[ob].push((row.time_s, dp.norm_squared(), is_free));
            let nees = nees3(&dp, &row.position_cov());
            match nees {
                Some(v) => {
                    nees_all.push(v, 3.0);
                    if is_free {
                        nees_free.push(v, 3.0);
                    }
                }
                None => non_pd += 1,
            }
            let ft = &mut first_track[ob];
            if ft.is_none_or(|f| row.time_s < f) {
                *ft = Some(row.time_s);
            }
            object_series[ob]
                .errors
                .push((row.time_s, dp.norm(), dv.norm(), nees, *track_id));
        }
    }
    for s in &mut object_series {
        s.errors.sort_by(|a, b| a.0.total_cmp(&b.0));
    }

    // --- PCRLB --------------------------------------------------------------------------------
    let mut pcrlb_objects = Vec::with_capacity(objects.len());
    let (mut ff_err2, mut ff_bound2, mut ff_n) = (0.0, 0.0, 0usize);
    let (mut all_err2, mut all_bound2, mut all_n) = (0.0, 0.0, 0usize);
    for (ob, o) in objects.iter().enumerate() {
        let mut rows = std::mem::take(&mut pc_rows[ob]);
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (bound_series, at_rows, final_bound) =
            pcrlb_along(run, ob, &rows.iter().map(|r| r.0).collect::<Vec<_>>());
        object_series[ob].bound = bound_series;
        let (mut e2, mut b2, mut n) = (0.0, 0.0, 0usize);
        for ((_, err2, is_free), bound) in rows.iter().zip(at_rows) {
            if let Some(tr) = bound {
                all_err2 += err2;
                all_bound2 += tr;
                all_n += 1;
                if *is_free {
                    e2 += err2;
                    b2 += tr;
                    n += 1;
                }
            }
        }
        ff_err2 += e2;
        ff_bound2 += b2;
        ff_n += n;
        let rmse = (n > 0).then(|| (e2 / n as f64).sqrt());
        let bound = (n > 0).then(|| (b2 / n as f64).sqrt());
        pcrlb_objects.push(ObjectPcrlb {
            object_id: o.object_id,
            rmse_m: rmse,
            bound_m: bound,
            ratio: rmse.zip(bound).map(|(r, b)| r / b),
            samples: n,
            final_bound_m: final_bound,
        });
    }
    let ff_rmse = (ff_n > 0).then(|| (ff_err2 / ff_n as f64).sqrt());
    let ff_bound = (ff_n > 0).then(|| (ff_bound2 / ff_n as f64).sqrt());
    let all_rmse = (all_n > 0).then(|| (all_err2 / all_n as f64).sqrt());
    let all_bound = (all_n > 0).then(|| (all_bound2 / all_n as f64).sqrt());
    let pcrlb = PcrlbSummary {
        all_rows_rmse_m: all_rmse,
        all_rows_bound_m: all_bound,
        all_rows_ratio: all_rmse.zip(all_bound).map(|(r, b)| r / b),
        all_rows_samples: all_n,
        free_flight_rmse_m: ff_rmse,
        free_flight_bound_m: ff_bound,
        free_flight_ratio: ff_rmse.zip(ff_bound).map(|(r, b)| r / b),
        samples: ff_n,
        per_object: pcrlb_objects,
    };

    // --- Timeliness -----------------------------------------------------------------------
    let per_object_time: Vec<ObjectTimeliness> = objects
        .iter()
        .enumerate()
        .map(|(ob, o)| {
            let first_detection_s = run.detections_by_object[ob].first().map(|d| d.time_s);
            let first_track_s = first_track[ob];
            ObjectTimeliness {
                object_id: o.object_id,
                launch_time_s: o.t_first_s(),
                first_detection_s,
                first_track_s,
                launch_to_track_s: first_track_s.map(|t| t - o.t_first_s()),
                detection_to_track_s: first_track_s.zip(first_detection_s).map(|(t, d)| t - d),
            }
        })
        .collect();
    let timeliness = TimelinessSummary {
        mean_launch_to_track_s: mean(per_object_time.iter().filter_map(|o| o.launch_to_track_s)),
        max_launch_to_track_s: per_object_time
            .iter()
            .filter_map(|o| o.launch_to_track_s)
            .reduce(f64::max),
        mean_detection_to_track_s: mean(
            per_object_time
                .iter()
                .filter_map(|o| o.detection_to_track_s),
        ),
        objects_never_tracked: per_object_time
            .iter()
            .filter(|o| o.first_track_s.is_none())
            .count(),
        per_object: per_object_time,
    };

    // --- Continuity ---------------------------------------------------------------------------
    let continuity = continuity(
        objects,
        &ids_per_object,
        cfg,
        existing,
        covered,
        live,
        spurious,
    );
    for (ob, ids) in ids_per_object.into_iter().enumerate() {
        object_series[ob].ids = ids;
    }

    // --- Impact points ------------------------------------------------------------------------
    let track_index = |id: u64| tracks.binary_search_by_key(&id, |(t, _)| *t).ok();
    let impact = run.impacts.as_ref().map(|rows| {
        let mut points = Vec::new();
        let mut time_errors = Vec::new();
        let mut last: HashMap<usize, LastImpactPrediction> = HashMap::new();
        for r in rows {
            let Some(k) = track_index(r.track_id) else {
                continue;
            };
            let Some(ob) = grid.object_of(k, r.time_s) else {
                continue;
            };
            let o = &objects[ob];
            let end = Ecef(position(&o.last_state())).to_geodetic();
            if end.alt_m.abs() > 1_000.0 {
                continue; // still flying when truth ends: no impact to score against
            }
            let ttg = o.t_last_s() - r.time_s;
            if ttg < 0.0 {
                continue;
            }
            let Ok(pred) = Geodetic::from_degrees(r.impact_lat_deg, r.impact_lon_deg, 0.0) else {
                continue;
            };
            let fit = ellipse_fit(
                &pred,
                &end,
                r.semi_major_m,
                r.semi_minor_m,
                r.orientation_deg,
            );
            let (err, inside) = (fit.distance_m, fit.inside_95);
            points.push(ImpactPoint {
                time_to_go_s: ttg,
                error_m: err,
                inside_95: inside,
                object_id: o.object_id,
                track_id: r.track_id,
                time_error_s: r.impact_time_s - o.t_last_s(),
                semi_major_m: r.semi_major_m,
                semi_minor_m: r.semi_minor_m,
                fit,
            });
            time_errors.push((r.impact_time_s - o.t_last_s()).abs());
            let replace = last.get(&ob).is_none_or(|l| ttg <= l.time_to_go_s);
            if replace {
                last.insert(
                    ob,
                    LastImpactPrediction {
                        object_id: o.object_id,
                        track_id: r.track_id,
                        time_to_go_s: ttg,
                        error_m: err,
                        inside_95: inside,
                    },
                );
            }
        }
        let edges = &cfg.impact_bin_edges_s;
        let mut bins = Vec::new();
        for (b, &from) in edges.iter().enumerate() {
            let to = edges.get(b + 1).copied();
            let sel: Vec<usize> = (0..points.len())
                .filter(|&i| {
                    points[i].time_to_go_s >= from && to.is_none_or(|t| points[i].time_to_go_s < t)
                })
                .collect();
            let mut errs: Vec<f64> = sel.iter().map(|&i| points[i].error_m).collect();
            errs.sort_by(f64::total_cmp);
            bins.push(ImpactBin {
                time_to_go_from_s: from,
                time_to_go_to_s: to,
                predictions: sel.len(),
                mean_error_m: mean(errs.iter().copied()),
                median_error_m: percentile(&errs, 0.5),
                p95_error_m: percentile(&errs, 0.95),
                mean_abs_time_error_s: mean(sel.iter().map(|&i| time_errors[i])),
                containment_95: mean(
                    sel.iter()
                        .map(|&i| if points[i].inside_95 { 1.0 } else { 0.0 }),
                ),
            });
        }
        let mut last: Vec<LastImpactPrediction> = last.into_values().collect();
        last.sort_by_key(|l| l.object_id);
        let samples = impact_samples(&points, &cfg.impact_sample_time_to_go_s);
        let summary = ImpactSummary {
            predictions: rows.len(),
            scored: points.len(),
            containment_95: mean(points.iter().map(|p| if p.inside_95 { 1.0 } else { 0.0 })),
            bins,
            last_prediction: last,
            samples,
        };
        series.impacts = points;
        summary
    });

    // --- Launch points ------------------------------------------------------------------------
    let launch = run.launches.as_ref().map(|rows| {
        let mut per_track = Vec::new();
        for r in rows {
            // The object this track spent most grid time assigned to.
            let object = track_index(r.track_id).and_then(|k| {
                let mut count: HashMap<usize, usize> = HashMap::new();
                for pairs in &grid.assigned {
                    if let Ok(i) = pairs.binary_search_by_key(&k, |&(tr, _)| tr) {
                        *count.entry(pairs[i].1).or_default() += 1;
                    }
                }
                count
                    .into_iter()
                    .max_by_key(|&(ob, n)| (n, usize::MAX - ob))
                    .map(|(ob, _)| ob)
            });
            let scored = object.and_then(|ob| {
                let (t0, origin) = origin_of(objects, ob);
                let pred = Geodetic::from_degrees(r.launch_lat_deg, r.launch_lon_deg, 0.0).ok()?;
                let (err, inside) = inside_ellipse(
                    &pred,
                    &origin,
                    r.semi_major_m,
                    r.semi_minor_m,
                    r.orientation_deg,
                );
                Some((err, r.launch_time_s - t0, inside))
            });
            per_track.push(LaunchEstimate {
                track_id: r.track_id,
                object_id: object.map(|ob| objects[ob].object_id),
                error_m: scored.map(|s| s.0),
                time_error_s: scored.map(|s| s.1),
                inside_95: scored.map(|s| s.2),
            });
        }
        LaunchSummary {
            estimates: rows.len(),
            scored: per_track.iter().filter(|e| e.error_m.is_some()).count(),
            mean_error_m: mean(per_track.iter().filter_map(|e| e.error_m)),
            containment_95: mean(
                per_track
                    .iter()
                    .filter_map(|e| e.inside_95.map(|b| if b { 1.0 } else { 0.0 })),
            ),
            per_track,
        }
    });

    let per_object = objects
        .iter()
        .enumerate()
        .map(|(ob, o)| ObjectRmse {
            object_id: o.object_id,
            all: per_obj_all[ob].finish(),
            free_flight: per_obj_free[ob].finish(),
        })
        .collect();
    series.objects = object_series;
    let summary = Summary {
        parameters: cfg.clone(),
        inputs: InputCounts {
            objects: objects.len(),
            sensors: run.sensors.len(),
            detections: run.n_detections,
            false_alarms: run.n_false_alarms,
            tracks: tracks.len(),
            track_rows: run.n_track_rows,
            impact_rows: run.impacts.as_ref().map(Vec::len),
            launch_rows: run.launches.as_ref().map(Vec::len),
        },
        gospa: gospa_summary,
        rmse: RmseSummary {
            all: all.finish(),
            free_flight: free.finish(),
            per_object,
            unassigned_rows,
        },
        nees: NeesSummary {
            position: nees_all.summary(),
            position_free_flight: nees_free.summary(),
            non_positive_definite_rows: non_pd,
        },
        nis: nis.summary(),
        pcrlb,
        timeliness,
        continuity,
        impact,
        launch,
    };
    Ok(Evaluation { summary, series })
}

/// A kept pair is let go when its track's latest row is this far from its object in the row's
/// own covariance: χ²(3) at 1 − 10⁻⁶ (scipy.stats.chi2.ppf), so a consistent track lets go of its own object about
/// once in a million rows.
const DIVERGED_NEES: f64 = 30.664_849_706;
/// … and this close to another object: χ²(3) at 0.999.
const ADOPTED_NEES: f64 = 16.266_236_196;

/// The association used for everything but the GOSPA value: a (track, object) pair of the
/// previous grid time is kept while they are still closer than c, unless the track's latest
/// row has statistically left its object for another (`row_nees` above [`DIVERGED_NEES`] for
/// its own, at most [`ADOPTED_NEES`] for the other); the tracks and objects left over are
/// assigned optimally (GOSPA's assignment among them). Without the distance hysteresis two
/// objects closer together than the track errors (a stage and its payload just after
/// separation) would be re-paired at random from one grid time to the next and every flip
/// would count as an id swap; without the statistical test a track that really moved to the
/// other body is charged against the one it left, row after row, until the two are c apart
/// (docs/decisions/0500, item 4). `row_nees(j, ob)` is the NEES of live track `j`'s latest row
/// against object `ob` (None when the object does not exist at the row's time or the
/// covariance is not positive-definite). Returns (track index, object index) sorted by track
/// index.
fn sticky_pairs(
    previous: &[(usize, usize)],
    truth_idx: &[usize],
    truth_pos: &[Vector3<f64>],
    track_idx: &[usize],
    track_pos: &[Vector3<f64>],
    params: GospaParams,
    row_nees: impl Fn(usize, usize) -> Option<f64>,
) -> Vec<(usize, usize)> {
    let truth_at: HashMap<usize, usize> =
        truth_idx.iter().enumerate().map(|(i, &o)| (o, i)).collect();
    let track_at: HashMap<usize, usize> =
        track_idx.iter().enumerate().map(|(j, &k)| (k, j)).collect();
    // Kept pairs as (live track j, present object i); holder[i] is the j keeping object i.
    let mut kept: Vec<(usize, usize)> = Vec::new();
    let mut holder: Vec<Option<usize>> = vec![None; truth_idx.len()];
    for &(k, o) in previous {
        if let (Some(&j), Some(&i)) = (track_at.get(&k), truth_at.get(&o)) {
            if (track_pos[j] - truth_pos[i]).norm() < params.c_m {
                holder[i] = Some(kept.len());
                kept.push((j, i));
            }
        }
    }
    let diverged =
        |j: usize, i: usize| row_nees(j, truth_idx[i]).is_some_and(|d| d > DIVERGED_NEES);
    for n in 0..kept.len() {
        let (j, i) = kept[n];
        if !diverged(j, i) {
            continue;
        }
        // The other object within c that the row sits closest to, statistically.
        let adopted = (0..truth_idx.len())
            .filter(|&i2| i2 != i && (track_pos[j] - truth_pos[i2]).norm() < params.c_m)
            .filter_map(|i2| row_nees(j, truth_idx[i2]).map(|d| (d, i2)))
            .filter(|&(d, _)| d <= ADOPTED_NEES)
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let Some((_, i2)) = adopted else { continue };
        match holder[i2] {
            None => {
                kept[n].1 = i2;
                holder[i] = None;
                holder[i2] = Some(n);
            }
            // Two tracks that have exchanged bodies exchange objects; a holder still on its
            // object keeps it.
            Some(m) if diverged(kept[m].0, i2) => {
                kept[n].1 = i2;
                kept[m].1 = i;
                holder[i] = Some(m);
                holder[i2] = Some(n);
            }
            Some(_) => {}
        }
    }
    let mut track_used = vec![false; track_idx.len()];
    let mut pairs = Vec::with_capacity(kept.len());
    for &(j, i) in &kept {
        track_used[j] = true;
        pairs.push((track_idx[j], truth_idx[i]));
    }
    let free_truth: Vec<usize> = (0..truth_idx.len())
        .filter(|&i| holder[i].is_none())
        .collect();
    let free_track: Vec<usize> = (0..track_idx.len()).filter(|&j| !track_used[j]).collect();
    let x: Vec<Vector3<f64>> = free_truth.iter().map(|&i| truth_pos[i]).collect();
    let y: Vec<Vector3<f64>> = free_track.iter().map(|&j| track_pos[j]).collect();
    for (a, b) in crate::gospa::optimal_pairs(&x, &y, params) {
        pairs.push((track_idx[free_track[b]], truth_idx[free_truth[a]]));
    }
    pairs.sort_unstable();
    pairs
}

/// Runs the information recursion along object `ob`'s truth through its labelled detections.
/// Returns the √trace position bound after each detection time (for plots), the trace of the
/// position bound at each of `query_s` (sorted), and the final √trace.
#[allow(clippy::type_complexity)]
fn pcrlb_along(
    run: &RunInputs,
    ob: usize,
    query_s: &[f64],
) -> (Vec<(f64, f64)>, Vec<Option<f64>>, Option<f64>) {
    let o = &run.objects[ob];
    let dets = &run.detections_by_object[ob];
    let pos = |t: f64| {
        o.position_at(t.clamp(o.t_first_s(), o.t_last_s()))
            .unwrap_or_else(|| position(&o.states[0]))
    };
    let mut info = Information::<6>::diffuse();
    let mut t_info: Option<f64> = None;
    let mut bound: Option<Matrix6<f64>> = None;
    let mut series = Vec::new();
    let mut at_query = vec![None; query_s.len()];
    let mut q = 0usize;
    let mut i = 0usize;
    let trace_pos = |b: &Matrix6<f64>| b[(0, 0)] + b[(1, 1)] + b[(2, 2)];
    while i < dets.len() || q < query_s.len() {
        let next_det = dets.get(i).map(|d| d.time_s);
        let next_q = query_s.get(q).copied();
        // Queries at the same time as a detection see the bound after it.
        let take_det = match (next_det, next_q) {
            (Some(d), Some(tq)) => d <= tq,
            (Some(_), None) => true,
            _ => false,
        };
        if take_det {
            let t = dets[i].time_s;
            if let Some(t_prev) = t_info {
                if t > t_prev {
                    let phi = transition_matrix(t_prev, t, 1.0, pos);
                    info.predict(&phi);
                }
            }
            t_info = Some(t);
            let r = pos(t);
            while i < dets.len() && dets[i].time_s == t {
                let d = &dets[i];
                i += 1;
                let Some(h3) = aer_jacobian(&run.frames[d.sensor], &r) else {
                    continue;
                };
                let mut h = Matrix3x6::zeros();
                h.fixed_view_mut::<3, 3>(0, 0).copy_from(&h3);
                let r_inv = Matrix3::from_diagonal(&Vector3::new(
                    1.0 / (d.sigma_azimuth_rad * d.sigma_azimuth_rad),
                    1.0 / (d.sigma_elevation_rad * d.sigma_elevation_rad),
                    1.0 / (d.sigma_range_m * d.sigma_range_m),
                ));
                info.update(&h, &r_inv);
            }
            bound = info.bound();
            if let Some(b) = &bound {
                series.push((t, trace_pos(b).max(0.0).sqrt()));
            }
        } else {
            let tq = query_s[q];
            at_query[q] = match (&bound, t_info) {
                (Some(b), Some(tb)) => {
                    let phi = transition_matrix(tb, tq, 1.0, pos);
                    Some(trace_pos(&(phi * b * phi.transpose())))
                }
                _ => None,
            };
            q += 1;
        }
    }
    let final_bound = bound.as_ref().map(|b| trace_pos(b).max(0.0).sqrt());
    (series, at_query, final_bound)
}

fn continuity(
    objects: &[ObjectTruth],
    ids_per_object: &[Vec<(f64, Option<u64>)>],
    cfg: &EvalConfig,
    existing: usize,
    covered: usize,
    live: usize,
    spurious: usize,
) -> ContinuitySummary {
    // (time, object, from, to)
    let mut changes: Vec<(f64, usize, u64, u64)> = Vec::new();
    let mut per_object = Vec::with_capacity(objects.len());
    let (mut breaks, mut switches) = (0usize, 0usize);
    for (ob, ids) in ids_per_object.iter().enumerate() {
        let mut last: Option<u64> = None;
        let mut gap = false;
        let (mut b, mut s) = (0usize, 0usize);
        let mut seen: Vec<u64> = Vec::new();
        for &(t, id) in ids {
            match id {
                None => {
                    if last.is_some() {
                        gap = true;
                    }
                }
                Some(id) => {
                    if !seen.contains(&id) {
                        seen.push(id);
                    }
                    if let Some(prev) = last {
                        if prev != id {
                            s += 1;
                            if gap {
                                b += 1;
                            }
                            changes.push((t, ob, prev, id));
                        }
                    }
                    last = Some(id);
                    gap = false;
                }
            }
        }
        breaks += b;
        switches += s;
        let n_assigned = ids.iter().filter(|x| x.1.is_some()).count();
        per_object.push(ObjectContinuity {
            object_id: objects[ob].object_id,
            track_ids: seen,
            breaks: b,
            id_switches: s,
            completeness: (!ids.is_empty()).then(|| n_assigned as f64 / ids.len() as f64),
        });
    }
    changes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut used = vec![false; changes.len()];
    let mut swaps = 0usize;
    for i in 0..changes.len() {
        if used[i] {
            continue;
        }
        let (ti, oi, from, to) = changes[i];
        for j in i + 1..changes.len() {
            let (tj, oj, f2, t2) = changes[j];
            if tj - ti > cfg.swap_window_s {
                break;
            }
            if !used[j] && oj != oi && f2 == to && t2 == from {
                used[i] = true;
                used[j] = true;
                swaps += 1;
                break;
            }
        }
    }
    ContinuitySummary {
        track_breaks: breaks,
        id_switches: switches,
        id_swaps: swaps,
        completeness: (existing > 0).then(|| covered as f64 / existing as f64),
        spuriousness: (live > 0).then(|| spurious as f64 / live as f64),
        per_object,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::load_run;
    use crate::synthetic::known_answer;

    fn run_known() -> Evaluation {
        let dir = tempfile::tempdir().unwrap();
        known_answer().write(dir.path()).unwrap();
        let run = load_run(dir.path(), FreeFlightRule::default()).unwrap();
        evaluate(&run, &EvalConfig::default()).unwrap()
    }

    #[test]
    fn known_answer_run_scores_as_worked_out_by_hand() {
        let e = run_known();
        let s = &e.summary;
        // Every assigned row is 300 m and 4 m/s off.
        assert!(
            (s.rmse.all.position_m.unwrap() - 300.0).abs() < 1e-6,
            "{:?}",
            s.rmse.all
        );
        assert!((s.rmse.all.velocity_mps.unwrap() - 4.0).abs() < 1e-9);
        // NEES = 300²/30000 = 3 on every row.
        let nees = s.nees.position.as_ref().unwrap();
        assert!((nees.average - 3.0).abs() < 1e-6 && nees.inside_95);
        let nis = s.nis.as_ref().unwrap();
        assert!((nis.average - 3.0).abs() < 1e-12 && nis.inside_95);
        // The false track's 30 rows are unassigned.
        assert_eq!(s.rmse.unassigned_rows, 30);
        // At t = 160 s both objects are tracked and the false track is live: 300 + 300 + 2500.
        let at = |t: f64| e.series.grid.iter().find(|g| g.t_s == t).unwrap().gospa_m;
        assert!((at(160.0) - 3_100.0).abs() < 0.01, "{}", at(160.0));
        // At t = 215 s track 20 is too old (last row at 200 s) and 21 has not started: missed.
        assert!((at(215.0) - 2_800.0).abs() < 0.01, "{}", at(215.0));
        // At t = 102 s object 1 exists but has no track yet.
        assert!((at(102.0) - 2_500.0).abs() < 1e-9);
        assert_eq!(s.continuity.track_breaks, 1);
        assert_eq!(s.continuity.id_switches, 1);
        assert_eq!(s.continuity.id_swaps, 0);
        let t1 = &s.timeliness.per_object[0];
        assert_eq!(t1.launch_to_track_s, Some(5.0));
        assert_eq!(t1.detection_to_track_s, Some(5.0));
        let imp = s.impact.as_ref().unwrap();
        assert_eq!(imp.last_prediction.len(), 2);
        assert!((imp.last_prediction[0].error_m - 1000.0).abs() < 1e-3);
        assert!(imp.last_prediction[0].inside_95);
        assert!((imp.last_prediction[1].error_m - 3000.0).abs() < 1e-3);
        assert!(!imp.last_prediction[1].inside_95);
        let launch = s.launch.as_ref().unwrap();
        assert!((launch.per_track[0].error_m.unwrap() - 500.0).abs() < 1e-3);
        assert_eq!(launch.per_track[0].inside_95, Some(true));
        // The bound exists in free flight and the 300 m error sits well above it.
        let ratio = s.pcrlb.free_flight_ratio.unwrap();
        assert!(ratio > 1.0, "{:?}", s.pcrlb);
    }

    #[test]
    fn an_object_no_sensor_sees_is_not_charged_as_missed_unless_asked() {
        // Object 2 goes unseen from 201 s to 216 s (both its tracks are silent then too).
        let mut synth = known_answer();
        let keep: Vec<bool> = synth
            .labels
            .iter()
            .map(|l| !(l.object_id == 2 && l.time_s > 200.5 && l.time_s < 216.5))
            .collect();
        let mut k = keep.iter();
        synth.detections.retain(|_| *k.next().unwrap());
        let mut k = keep.iter();
        synth.labels.retain(|_| *k.next().unwrap());
        let dir = tempfile::tempdir().unwrap();
        synth.write(dir.path()).unwrap();
        let run = load_run(dir.path(), FreeFlightRule::default()).unwrap();
        let at = |e: &Evaluation, t: f64| {
            e.series
                .grid
                .iter()
                .find(|g| g.t_s == t)
                .map_or(f64::NAN, |g| g.gospa_m)
        };
        // At 212 s and 215 s object 2's last detection (200 s) is older than max_age_s = 10 s:
        // only object 1 and its 300 m error count. At 210 s it was seen 10 s ago and its track
        // row of 200 s is still live: 300 m + 302.65 m (the 4 m/s velocity error over 10 s).
        let observed = evaluate(&run, &EvalConfig::default()).unwrap();
        assert!(
            (at(&observed, 212.0) - 300.0).abs() < 0.01,
            "{}",
            at(&observed, 212.0)
        );
        assert!(
            (at(&observed, 215.0) - 300.0).abs() < 0.01,
            "{}",
            at(&observed, 215.0)
        );
        let expect_210 = 300.0 + (300.0f64.powi(2) + 40.0f64.powi(2)).sqrt();
        assert!(
            (at(&observed, 210.0) - expect_210).abs() < 0.1,
            "{}",
            at(&observed, 210.0)
        );
        let whole = EvalConfig {
            score_unobserved: true,
            ..EvalConfig::default()
        };
        let whole = evaluate(&run, &whole).unwrap();
        assert!(
            (at(&whole, 212.0) - 2_800.0).abs() < 0.01,
            "{}",
            at(&whole, 212.0)
        );
        assert!(
            (at(&whole, 215.0) - 2_800.0).abs() < 0.01,
            "{}",
            at(&whole, 215.0)
        );
    }

    #[test]
    fn impact_samples_pick_the_nearest_prediction_and_place_the_truth_in_the_ellipse() {
        // known_answer(): track 10 predicts 1 km north of object 1's impact inside a 2 km (north)
        // × 1.5 km ellipse, so truth sits −1 km along the major axis, at squared Mahalanobis
        // distance (1/2)² χ²₂(0.95); objects 2's predictions are 3 km east with the major axis
        // east: −3 km along it, (3/2)² χ²₂(0.95), outside.
        let dir = tempfile::tempdir().unwrap();
        known_answer().write(dir.path()).unwrap();
        let run = load_run(dir.path(), FreeFlightRule::default()).unwrap();
        let cfg = EvalConfig {
            impact_sample_time_to_go_s: vec![20.0, 100.0, 1.0e5],
            ..EvalConfig::default()
        };
        let e = evaluate(&run, &cfg).unwrap();
        let imp = e.summary.impact.as_ref().unwrap();
        let chi2 = 5.991_464_547_107_979;
        for (object, major_m, q, inside) in [(1, -1000.0, 0.25, true), (2, -3000.0, 2.25, false)] {
            let mine: Vec<_> = imp
                .samples
                .iter()
                .filter(|s| s.object_id == object)
                .collect();
            // 20 s and 100 s to go are inside every flight; 1e5 s is not, and gets no sample.
            let targets: Vec<_> = mine.iter().map(|s| s.target_time_to_go_s).collect();
            assert_eq!(
                targets,
                vec![Some(100.0), Some(20.0), None],
                "object {object}"
            );
            for s in &mine {
                assert!((s.error_major_m - major_m).abs() < 1.0, "{s:?}");
                // The geodesic offset and the ellipse axes agree to a few metres over 3 km.
                assert!(s.error_minor_m.abs() < 2.0, "{s:?}");
                let m2 = s.mahalanobis2.unwrap();
                assert!((m2 - q * chi2).abs() < 0.01, "{s:?}");
                assert_eq!(s.inside_95, inside);
                if let Some(target) = s.target_time_to_go_s {
                    // No prediction of this object is nearer the target.
                    let nearest = e
                        .series
                        .impacts
                        .iter()
                        .filter(|p| p.object_id == object)
                        .map(|p| (p.time_to_go_s - target).abs())
                        .fold(f64::INFINITY, f64::min);
                    assert_eq!((s.time_to_go_s - target).abs(), nearest);
                    assert!(nearest <= sample_tolerance_s(target));
                }
            }
            let last = imp
                .last_prediction
                .iter()
                .find(|l| l.object_id == object)
                .unwrap();
            assert_eq!(mine[2].time_to_go_s, last.time_to_go_s);
            assert_eq!(mine[2].track_id, last.track_id);
        }
        let bad = EvalConfig {
            impact_sample_time_to_go_s: vec![f64::NAN],
            ..EvalConfig::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn pcrlb_matches_the_fisher_information_of_the_initial_state_by_finite_differences() {
        // Independent route to the same bound: with deterministic dynamics, the information
        // about the state at the first detection is Σ Gᵢᵀ R⁻¹ Gᵢ with Gᵢ = ∂h(flow(x₀, tᵢ))/∂x₀,
        // here by central differences through the RK4 propagator and trilink_geo's own AER
        // conversion (no STM, no analytic Jacobian). Carried to the last detection by the
        // finite-difference flow Jacobian, it must match the recursion.
        let dir = tempfile::tempdir().unwrap();
        known_answer().write(dir.path()).unwrap();
        let run = load_run(dir.path(), FreeFlightRule::default()).unwrap();
        let dets = &run.detections_by_object[0];
        let o = &run.objects[0];
        let t_a = dets[0].time_s;
        let t_z = dets[dets.len() - 1].time_s;
        let (_, at, _) = pcrlb_along(&run, 0, &[t_z]);
        let recursion = at[0].unwrap().sqrt();

        let x0 = o.state_at(t_a).unwrap();
        let dt = 0.1;
        // Measurements at whole-second detection times along a perturbed start state.
        let measure = |x: &State6| -> Vec<Vector3<f64>> {
            let mut out = Vec::new();
            let mut s = *x;
            let mut t = t_a;
            let mut k = 0;
            while k < dets.len() {
                if (t - dets[k].time_s).abs() < 1e-6 {
                    let a = run.frames[0].aer_of(&Ecef(position(&s)));
                    out.push(Vector3::new(a.az_rad, a.el_rad, a.range_m));
                    k += 1;
                    continue;
                }
                s = rk4_step(t, &s, dt, |_, r, v| {
                    trilink_physics::free_flight_acceleration(r, v)
                });
                t = ((t + dt) * 10.0).round() / 10.0;
            }
            out
        };
        let final_state = |x: &State6| -> State6 {
            let mut s = *x;
            let steps = ((t_z - t_a) / dt).round() as usize;
            for k in 0..steps {
                s = rk4_step(t_a + k as f64 * dt, &s, dt, |_, r, v| {
                    trilink_physics::free_flight_acceleration(r, v)
                });
            }
            s
        };
        let steps = [1.0, 1.0, 1.0, 1e-3, 1e-3, 1e-3];
        let mut g_cols: Vec<Vec<Vector3<f64>>> = Vec::new();
        let mut phi = Matrix6::zeros();
        for (j, &h) in steps.iter().enumerate() {
            let mut d = State6::zeros();
            d[j] = h;
            let (plus, minus) = (measure(&(x0 + d)), measure(&(x0 - d)));
            g_cols.push(
                plus.iter()
                    .zip(&minus)
                    .map(|(p, m)| {
                        let mut diff = p - m;
                        diff.x = trilink_geo::wrap_pi(diff.x);
                        diff / (2.0 * h)
                    })
                    .collect(),
            );
            phi.set_column(
                j,
                &((final_state(&(x0 + d)) - final_state(&(x0 - d))) / (2.0 * h)),
            );
        }
        let mut info = Information::<6>::diffuse();
        for (i, det) in dets.iter().enumerate() {
            let mut g = Matrix3x6::zeros();
            for (j, col) in g_cols.iter().enumerate() {
                g.set_column(j, &col[i]);
            }
            let r_inv = Matrix3::from_diagonal(&Vector3::new(
                det.sigma_azimuth_rad.powi(-2),
                det.sigma_elevation_rad.powi(-2),
                det.sigma_range_m.powi(-2),
            ));
            info.update(&g, &r_inv);
        }
        let p_z = phi * info.bound().unwrap() * phi.transpose();
        let independent = (p_z[(0, 0)] + p_z[(1, 1)] + p_z[(2, 2)]).sqrt();
        eprintln!("PCRLB √trace at last detection: recursion {recursion} m, finite differences {independent} m");
        assert!(
            (recursion - independent).abs() < 1e-5 * independent,
            "recursion {recursion} m vs finite differences {independent} m"
        );
    }

    #[test]
    fn swaps_are_pairs_of_objects_exchanging_ids() {
        let objects: Vec<ObjectTruth> = (1..=2)
            .map(|id| ObjectTruth {
                object_id: id,
                t_s: vec![0.0, 10.0],
                states: vec![State6::zeros(); 2],
                free_flight: vec![false; 2],
            })
            .collect();
        let a = |id: u64| Some(id);
        let ids = vec![
            vec![(0.0, a(5)), (1.0, a(5)), (2.0, a(6)), (3.0, a(6))],
            vec![
                (0.0, a(6)),
                (1.0, a(6)),
                (2.0, a(5)),
                (3.0, None),
                (4.0, a(7)),
            ],
        ];
        let c = continuity(&objects, &ids, &EvalConfig::default(), 9, 8, 8, 0);
        assert_eq!(c.id_swaps, 1);
        assert_eq!(c.id_switches, 3);
        assert_eq!(c.track_breaks, 1);
    }

    /// Two objects 300 m apart (well inside c) and, in one case, a third; tracks 10 and 11 were
    /// paired with objects 0 and 1. `nees[j][ob]` is what each live track's latest row scores
    /// against each object.
    fn repaired(nees: [[f64; 3]; 2], with_third: bool) -> Vec<(usize, usize)> {
        let mut truth_idx = vec![0, 1];
        let mut truth_pos = vec![Vector3::zeros(), Vector3::new(300.0, 0.0, 0.0)];
        if with_third {
            truth_idx.push(2);
            truth_pos.push(Vector3::new(0.0, 300.0, 0.0));
        }
        let track_idx = [10, 11];
        let track_pos = [Vector3::new(100.0, 0.0, 0.0), Vector3::new(200.0, 0.0, 0.0)];
        sticky_pairs(
            &[(10, 0), (11, 1)],
            &truth_idx,
            &truth_pos,
            &track_idx,
            &track_pos,
            GospaParams::new(5_000.0, 1.0).unwrap(),
            |j, ob| Some(nees[j][ob]),
        )
    }

    #[test]
    fn a_kept_pair_follows_its_track_only_when_the_row_has_statistically_left_for_another_body() {
        // Both rows consistent with their own objects: kept, however close the other body.
        assert_eq!(
            repaired([[2.0, 4.0, 9.0], [3.0, 1.0, 9.0]], false),
            [(10, 0), (11, 1)]
        );
        // The tracks have exchanged bodies: the objects are exchanged (one swap, not NEES in
        // the thousands until the bodies are c apart).
        assert_eq!(
            repaired([[900.0, 2.0, 9e9], [3.0, 700.0, 9e9]], false),
            [(10, 1), (11, 0)]
        );
        // Track 10 sits on object 1, but track 11 is still on it too: a holder that has not
        // left its object keeps it, and track 10 keeps object 0.
        assert_eq!(
            repaired([[900.0, 2.0, 9e9], [400.0, 1.0, 9e9]], false),
            [(10, 0), (11, 1)]
        );
        // An overconfident row far from every object is not re-paired: the distance rule
        // holds it until c.
        assert_eq!(
            repaired([[900.0, 800.0, 9e9], [3.0, 1.0, 9e9]], false),
            [(10, 0), (11, 1)]
        );
        // Between two candidates the row goes to the one it fits best; a free object is taken
        // and the one left behind is free for the optimal assignment (no track left for it).
        assert_eq!(
            repaired([[900.0, 9e9, 4.0], [3.0, 1.0, 9e9]], true),
            [(10, 2), (11, 1)]
        );
        // Just inside and just outside the thresholds (χ² 3 dof at 1 − 1e-6 and at 0.999).
        assert_eq!(
            repaired([[30.6, 9e9, 4.0], [3.0, 1.0, 9e9]], true),
            [(10, 0), (11, 1)]
        );
        assert_eq!(
            repaired([[30.7, 9e9, 16.2], [3.0, 1.0, 9e9]], true),
            [(10, 2), (11, 1)]
        );
        assert_eq!(
            repaired([[30.7, 9e9, 16.3], [3.0, 1.0, 9e9]], true),
            [(10, 0), (11, 1)]
        );
    }
}
