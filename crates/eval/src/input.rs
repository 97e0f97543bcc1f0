//! Reading and cross-checking the files of one run directory.
//!
//! The interchange readers already reject missing columns, non-finite values and malformed rows
//! with file and line. Here the files are checked against each other: every detection has its
//! label on the same line, labels name objects that exist in truth, detections name sensors that
//! exist, truth of each object moves forward in time.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use nalgebra::{Matrix3, Vector3};
use serde::Deserialize;
use trilink_geo::{Geodetic, LocalFrame};
use trilink_interchange::{
    files, CsvReader, DetectionRow, ImpactRow, LabelRow, LaunchRow, Record, SensorRow, TrackRow,
    TruthRow,
};
use trilink_physics::integrate::{position, stack, velocity, State6};

use crate::EvalError;

/// A `tracks.csv` row with the optional columns a tracker may add after the contract ones:
/// `nis` and `nis_dof` (normalised innovation squared of the update and its degrees of
/// freedom). An empty cell means "not available" for that row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TrackRowExt {
    pub time_s: f64,
    pub track_id: u64,
    pub x_m: f64,
    pub y_m: f64,
    pub z_m: f64,
    pub vx_mps: f64,
    pub vy_mps: f64,
    pub vz_mps: f64,
    pub cov_xx: f64,
    pub cov_xy: f64,
    pub cov_xz: f64,
    pub cov_yy: f64,
    pub cov_yz: f64,
    pub cov_zz: f64,
    #[serde(default)]
    pub nis: Option<f64>,
    #[serde(default)]
    pub nis_dof: Option<f64>,
}

impl Record for TrackRowExt {
    const COLUMNS: &'static [&'static str] = TrackRow::COLUMNS;

    fn check(&self) -> Result<(), (&'static str, String, &'static str)> {
        self.core().check()?;
        if let Some(nis) = self.nis {
            if !(nis.is_finite() && nis >= 0.0) {
                return Err((
                    "nis",
                    nis.to_string(),
                    "a finite number not below zero, or empty",
                ));
            }
        }
        if let Some(dof) = self.nis_dof {
            if !(dof.is_finite() && dof >= 0.0) {
                return Err((
                    "nis_dof",
                    dof.to_string(),
                    "a finite number not below zero, or empty",
                ));
            }
        }
        Ok(())
    }

    fn write_row(&self, w: &mut dyn Write) -> io::Result<()> {
        self.core().write_row(w)?;
        let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        write!(w, ",{},{}", opt(self.nis), opt(self.nis_dof))
    }
}

impl TrackRowExt {
    pub fn core(&self) -> TrackRow {
        TrackRow {
            time_s: self.time_s,
            track_id: self.track_id,
            x_m: self.x_m,
            y_m: self.y_m,
            z_m: self.z_m,
            vx_mps: self.vx_mps,
            vy_mps: self.vy_mps,
            vz_mps: self.vz_mps,
            cov_xx: self.cov_xx,
            cov_xy: self.cov_xy,
            cov_xz: self.cov_xz,
            cov_yy: self.cov_yy,
            cov_yz: self.cov_yz,
            cov_zz: self.cov_zz,
        }
    }

    pub fn state(&self) -> State6 {
        State6::new(
            self.x_m,
            self.y_m,
            self.z_m,
            self.vx_mps,
            self.vy_mps,
            self.vz_mps,
        )
    }

    pub fn position_cov(&self) -> Matrix3<f64> {
        Matrix3::new(
            self.cov_xx,
            self.cov_xy,
            self.cov_xz,
            self.cov_xy,
            self.cov_yy,
            self.cov_yz,
            self.cov_xz,
            self.cov_yz,
            self.cov_zz,
        )
    }

    /// The NIS sample of this row, when the tracker wrote one with positive dof.
    pub fn nis_sample(&self) -> Option<(f64, f64)> {
        match (self.nis, self.nis_dof) {
            (Some(v), Some(d)) if d > 0.0 => Some((v, d)),
            _ => None,
        }
    }
}

/// The sampled true trajectory of one object.
#[derive(Debug, Clone)]
pub struct ObjectTruth {
    pub object_id: u64,
    pub t_s: Vec<f64>,
    pub states: Vec<State6>,
    /// Per sample: above the free-flight altitude and accelerating as gravity alone would.
    pub free_flight: Vec<bool>,
}

impl ObjectTruth {
    pub fn t_first_s(&self) -> f64 {
        self.t_s[0]
    }

    pub fn t_last_s(&self) -> f64 {
        self.t_s[self.t_s.len() - 1]
    }

    pub fn exists_at(&self, t_s: f64) -> bool {
        t_s >= self.t_first_s() && t_s <= self.t_last_s()
    }

    /// Index `i` with `t_s[i] ≤ t < t_s[i+1]` (or the last sample for `t` at the end).
    fn bracket(&self, t_s: f64) -> Option<usize> {
        if !self.exists_at(t_s) {
            return None;
        }
        let i = self.t_s.partition_point(|&x| x <= t_s);
        Some(i.saturating_sub(1).min(self.t_s.len() - 1))
    }

    /// True state at `t_s` by cubic Hermite interpolation of position and velocity between the
    /// bracketing samples (the interpolant trilink_physics uses for its own trajectories).
    pub fn state_at(&self, t_s: f64) -> Option<State6> {
        let i = self.bracket(t_s)?;
        if i + 1 >= self.t_s.len() || self.t_s[i] == t_s {
            return Some(self.states[i]);
        }
        let (t0, t1) = (self.t_s[i], self.t_s[i + 1]);
        let h = t1 - t0;
        let s = (t_s - t0) / h;
        let (a, b) = (&self.states[i], &self.states[i + 1]);
        let (p0, v0, p1, v1) = (position(a), velocity(a), position(b), velocity(b));
        let s2 = s * s;
        let s3 = s2 * s;
        let p = (2.0 * s3 - 3.0 * s2 + 1.0) * p0
            + (s3 - 2.0 * s2 + s) * h * v0
            + (-2.0 * s3 + 3.0 * s2) * p1
            + (s3 - s2) * h * v1;
        let v = ((6.0 * s2 - 6.0 * s) / h) * p0
            + (3.0 * s2 - 4.0 * s + 1.0) * v0
            + ((-6.0 * s2 + 6.0 * s) / h) * p1
            + (3.0 * s2 - 2.0 * s) * v1;
        Some(stack(&p, &v))
    }

    pub fn position_at(&self, t_s: f64) -> Option<Vector3<f64>> {
        self.state_at(t_s).map(|s| position(&s))
    }

    /// In free flight at `t_s`: both bracketing samples are.
    pub fn free_flight_at(&self, t_s: f64) -> bool {
        match self.bracket(t_s) {
            Some(i) => {
                let j = (i + 1).min(self.t_s.len() - 1);
                self.free_flight[i] && (self.t_s[i] == t_s || self.free_flight[j])
            }
            None => false,
        }
    }

    pub fn last_state(&self) -> State6 {
        self.states[self.states.len() - 1]
    }
}

/// How free flight is told from truth, which has no phase column.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FreeFlightRule {
    /// Free flight starts above this height over the ellipsoid (m): above ~100 km drag is
    /// negligible for ballistic objects.
    pub min_alt_m: f64,
    /// And the acceleration seen in truth (central differences of velocity) must match gravity
    /// plus the rotating-frame terms within this (m/s²): thrust of a boosting stage is metres
    /// per second squared or more.
    pub accel_tol_mps2: f64,
}

impl Default for FreeFlightRule {
    fn default() -> Self {
        Self {
            min_alt_m: 100e3,
            accel_tol_mps2: 0.5,
        }
    }
}

fn mark_free_flight(t: &[f64], s: &[State6], rule: FreeFlightRule) -> Vec<bool> {
    let n = t.len();
    (0..n)
        .map(|i| {
            let r = position(&s[i]);
            let alt = trilink_geo::Ecef(r).to_geodetic().alt_m;
            if alt < rule.min_alt_m || n < 2 {
                return false;
            }
            let (a, b) = if i == 0 {
                (0, 1)
            } else if i == n - 1 {
                (n - 2, n - 1)
            } else {
                (i - 1, i + 1)
            };
            let dt = t[b] - t[a];
            let accel = (velocity(&s[b]) - velocity(&s[a])) / dt;
            let model = trilink_physics::free_flight_acceleration(&r, &velocity(&s[i]));
            (accel - model).norm() <= rule.accel_tol_mps2
        })
        .collect()
}

/// A labelled detection of one object, with what the PCRLB needs.
#[derive(Debug, Clone)]
pub struct ObjectDetection {
    pub time_s: f64,
    pub sensor: usize,
    pub sigma_range_m: f64,
    pub sigma_azimuth_rad: f64,
    pub sigma_elevation_rad: f64,
}

/// Everything read from one run directory.
#[derive(Debug, Clone)]
pub struct RunInputs {
    pub dir: PathBuf,
    pub sensors: Vec<SensorRow>,
    pub frames: Vec<LocalFrame>,
    /// Sorted by object id.
    pub objects: Vec<ObjectTruth>,
    /// Labelled detections per object (same order as `objects`), in time order.
    pub detections_by_object: Vec<Vec<ObjectDetection>>,
    pub n_detections: usize,
    pub n_false_alarms: usize,
    /// Rows of each track in time order, keyed by track id (sorted).
    pub tracks: Vec<(u64, Vec<TrackRowExt>)>,
    pub n_track_rows: usize,
    pub impacts: Option<Vec<ImpactRow>>,
    pub launches: Option<Vec<LaunchRow>>,
}

impl RunInputs {
    pub fn object_index(&self, object_id: u64) -> Option<usize> {
        self.objects
            .binary_search_by_key(&object_id, |o| o.object_id)
            .ok()
    }
}

fn read_with_lines<T: Record>(path: &Path) -> Result<Vec<(u64, T)>, EvalError> {
    let mut reader = CsvReader::<T>::open(path)?;
    let mut out = Vec::new();
    while let Some(row) = reader.next() {
        let row = row?;
        out.push((reader.line(), row));
    }
    Ok(out)
}

fn optional<T: Record>(path: &Path) -> Result<Option<Vec<T>>, EvalError> {
    if path.exists() {
        Ok(Some(
            read_with_lines::<T>(path)?
                .into_iter()
                .map(|(_, r)| r)
                .collect(),
        ))
    } else {
        Ok(None)
    }
}

/// Reads and cross-checks `dir/{sensors,detections,labels,truth,tracks}.csv` and, when present,
/// `impacts.csv` and `launches.csv`.
pub fn load_run(dir: &Path, rule: FreeFlightRule) -> Result<RunInputs, EvalError> {
    let path = |name: &str| dir.join(name);

    let sensors_path = path(files::SENSORS);
    let sensor_rows = read_with_lines::<SensorRow>(&sensors_path)?;
    let mut sensor_index: HashMap<String, usize> = HashMap::new();
    let mut frames = Vec::new();
    let mut sensors = Vec::new();
    for (line, s) in sensor_rows {
        if sensor_index
            .insert(s.sensor_id.clone(), sensors.len())
            .is_some()
        {
            return Err(EvalError::Inconsistent {
                file: sensors_path,
                line,
                message: format!("sensor_id `{}` appears twice", s.sensor_id),
            });
        }
        let site = Geodetic::from_degrees(s.lat_deg, s.lon_deg, s.alt_m).map_err(|e| {
            EvalError::Inconsistent {
                file: sensors_path.clone(),
                line,
                message: e.to_string(),
            }
        })?;
        frames.push(LocalFrame::new(site));
        sensors.push(s);
    }

    let truth_path = path(files::TRUTH);
    let mut by_object: HashMap<u64, (Vec<f64>, Vec<State6>)> = HashMap::new();
    for (line, r) in read_with_lines::<TruthRow>(&truth_path)? {
        let entry = by_object.entry(r.object_id).or_default();
        if let Some(&last) = entry.0.last() {
            if r.time_s <= last {
                return Err(EvalError::Inconsistent {
                    file: truth_path,
                    line,
                    message: format!(
                        "object {} at time_s = {} does not come after its previous row at {}; \
                         each object's rows must be in increasing time",
                        r.object_id, r.time_s, last
                    ),
                });
            }
        }
        entry.0.push(r.time_s);
        entry.1.push(State6::new(
            r.x_m, r.y_m, r.z_m, r.vx_mps, r.vy_mps, r.vz_mps,
        ));
    }
    if by_object.is_empty() {
        return Err(EvalError::Content {
            file: truth_path,
            message: "no rows: there is nothing to score against".into(),
        });
    }
    let mut objects: Vec<ObjectTruth> = by_object
        .into_iter()
        .map(|(object_id, (t_s, states))| {
            let free_flight = mark_free_flight(&t_s, &states, rule);
            ObjectTruth {
                object_id,
                t_s,
                states,
                free_flight,
            }
        })
        .collect();
    objects.sort_by_key(|o| o.object_id);

    let det_path = path(files::DETECTIONS);
    let label_path = path(files::LABELS);
    let detections = read_with_lines::<DetectionRow>(&det_path)?;
    let labels = read_with_lines::<LabelRow>(&label_path)?;
    if detections.len() != labels.len() {
        return Err(EvalError::Content {
            file: label_path,
            message: format!(
                "{} label rows for {} detection rows; labels.csv must have one row per \
                 detection, in the same order",
                labels.len(),
                detections.len()
            ),
        });
    }
    let mut detections_by_object = vec![Vec::new(); objects.len()];
    let mut n_false_alarms = 0;
    for ((det_line, d), (label_line, l)) in detections.iter().zip(labels.iter()) {
        let Some(&sensor) = sensor_index.get(&d.sensor_id) else {
            return Err(EvalError::Inconsistent {
                file: det_path,
                line: *det_line,
                message: format!("sensor_id `{}` is not in sensors.csv", d.sensor_id),
            });
        };
        if l.time_s != d.time_s || l.sensor_id != d.sensor_id {
            return Err(EvalError::Inconsistent {
                file: label_path,
                line: *label_line,
                message: format!(
                    "label ({}, {}) does not match detections.csv line {} ({}, {})",
                    l.time_s, l.sensor_id, det_line, d.time_s, d.sensor_id
                ),
            });
        }
        if l.object_id == 0 {
            n_false_alarms += 1;
            continue;
        }
        let Ok(k) = objects.binary_search_by_key(&l.object_id, |o| o.object_id) else {
            return Err(EvalError::Inconsistent {
                file: label_path,
                line: *label_line,
                message: format!("object_id {} is not in truth.csv", l.object_id),
            });
        };
        detections_by_object[k].push(ObjectDetection {
            time_s: d.time_s,
            sensor,
            sigma_range_m: d.sigma_range_m,
            sigma_azimuth_rad: d.sigma_azimuth_rad,
            sigma_elevation_rad: d.sigma_elevation_rad,
        });
    }
    for dets in &mut detections_by_object {
        dets.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    }

    let tracks_path = path(files::TRACKS);
    let mut tracks_map: HashMap<u64, Vec<TrackRowExt>> = HashMap::new();
    let mut n_track_rows = 0;
    for (_, r) in read_with_lines::<TrackRowExt>(&tracks_path)? {
        n_track_rows += 1;
        tracks_map.entry(r.track_id).or_default().push(r);
    }
    let mut tracks: Vec<(u64, Vec<TrackRowExt>)> = tracks_map.into_iter().collect();
    tracks.sort_by_key(|(id, _)| *id);
    for (_, rows) in &mut tracks {
        rows.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    }

    Ok(RunInputs {
        dir: dir.to_path_buf(),
        sensors,
        frames,
        objects,
        detections_by_object,
        n_detections: detections.len(),
        n_false_alarms,
        tracks,
        n_track_rows,
        impacts: optional::<ImpactRow>(&path(files::IMPACTS))?,
        launches: optional::<LaunchRow>(&path(files::LAUNCHES))?,
    })
}
