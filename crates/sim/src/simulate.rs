//! From a scenario to truth, detections and labels.

use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use trilink_interchange::{files, CsvWriter, DetectionRow, LabelRow, SensorRow, TruthRow};
use trilink_physics::{fly, FlightConfig, ObjectKind, Trajectory};

use crate::radar::Radar;
use crate::{Scenario, ScenarioError, SimError};

/// How to run a simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimOptions {
    /// Seed of every random draw; the same seed gives byte-identical output.
    pub seed: u64,
    /// Integration and truth step (s); 0.1 s gives the 10 Hz truth the contract asks for.
    pub dt_s: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self { seed: 1, dt_s: 0.1 }
    }
}

/// Where a long run is, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress {
    /// Launches flown so far.
    Flying { done: usize, total: usize },
    /// Sensors scanned so far.
    Scanning { done: usize, total: usize },
    /// Truth rows written so far.
    Writing { done: u64, total: u64 },
}

/// One simulated object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInfo {
    /// 1-based, stable: by launch order, then the payload, then stages in drop order.
    pub object_id: u64,
    /// Index into `Scenario::launches`.
    pub launch: usize,
    pub kind: ObjectKind,
}

/// Everything a run produced, in memory, ready to write.
#[derive(Debug, Clone)]
pub struct SimOutput {
    pub objects: Vec<ObjectInfo>,
    /// The trajectory of each object, same order as `objects`, cut at `end_s`.
    pub trajectories: Vec<Trajectory>,
    pub sensors: Vec<SensorRow>,
    /// In time order; ties by sensor order, then object id (false alarms, id 0, first).
    pub detections: Vec<DetectionRow>,
    /// One per detection, same order.
    pub labels: Vec<LabelRow>,
    /// Simulated time span, from the epoch (s).
    pub start_s: f64,
    pub end_s: f64,
}

/// Counts for a human summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSummary {
    pub objects: usize,
    /// (sensor id, detections of real objects, false alarms) in sensor order.
    pub per_sensor: Vec<(String, u64, u64)>,
    pub detections: u64,
    pub false_alarms: u64,
    pub truth_rows: u64,
    pub start_s: f64,
    pub end_s: f64,
}

impl SimOutput {
    pub fn summary(&self) -> SimSummary {
        let mut per_sensor: Vec<(String, u64, u64)> = self
            .sensors
            .iter()
            .map(|s| (s.sensor_id.clone(), 0, 0))
            .collect();
        for l in &self.labels {
            if let Some(e) = per_sensor.iter_mut().find(|e| e.0 == l.sensor_id) {
                if l.object_id == 0 {
                    e.2 += 1;
                } else {
                    e.1 += 1;
                }
            }
        }
        let false_alarms = per_sensor.iter().map(|e| e.2).sum();
        SimSummary {
            objects: self.objects.len(),
            per_sensor,
            detections: self.detections.len() as u64,
            false_alarms,
            truth_rows: self.trajectories.iter().map(|t| t.t_s.len() as u64).sum(),
            start_s: self.start_s,
            end_s: self.end_s,
        }
    }

    /// Writes `sensors.csv`, `detections.csv`, `truth.csv` and `labels.csv` into `dir`
    /// (created if missing), each atomically.
    pub fn write(
        &self,
        dir: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<SimSummary, SimError> {
        std::fs::create_dir_all(dir).map_err(|source| SimError::OutputDir {
            path: dir.display().to_string(),
            source,
        })?;
        let mut sensors = CsvWriter::<SensorRow>::create(&dir.join(files::SENSORS))?;
        for s in &self.sensors {
            sensors.write(s)?;
        }
        let mut dets = CsvWriter::<DetectionRow>::create(&dir.join(files::DETECTIONS))?;
        for d in &self.detections {
            dets.write(d)?;
        }
        let mut labels = CsvWriter::<LabelRow>::create(&dir.join(files::LABELS))?;
        for l in &self.labels {
            labels.write(l)?;
        }
        let mut truth = CsvWriter::<TruthRow>::create(&dir.join(files::TRUTH))?;
        let total: u64 = self.trajectories.iter().map(|t| t.t_s.len() as u64).sum();
        let mut done = 0u64;
        let mut result = Ok(());
        self.for_each_truth(|row| {
            if result.is_ok() {
                result = truth.write(row);
                done += 1;
                if done % 200_000 == 0 {
                    progress(Progress::Writing { done, total });
                }
            }
        });
        result?;
        progress(Progress::Writing { done, total });
        // Rename into place only once everything is written, truth last since it is largest.
        sensors.finish()?;
        dets.finish()?;
        labels.finish()?;
        truth.finish()?;
        Ok(self.summary())
    }

    /// Calls `f` with every truth row in time order (ties by object id).
    pub fn for_each_truth(&self, mut f: impl FnMut(&TruthRow)) {
        // Merge in one-second windows: gather every object's samples that fall in the window
        // and sort that small batch. Same order as a heap merge, without a heap operation per
        // row (docs/decisions/0303).
        const WINDOW_S: f64 = 0.5;
        let mut cursor = vec![0usize; self.trajectories.len()];
        // (time, object index, slot in `states`); the states are copied while gathering, when
        // each trajectory is read sequentially, so that emitting in time order (which jumps
        // between trajectories) reads only this small, cache-resident buffer.
        let mut keys: Vec<(f64, u32, u32)> = Vec::new();
        let mut states: Vec<[f64; 6]> = Vec::new();
        let mut remaining: usize = self.trajectories.iter().map(|t| t.t_s.len()).sum();
        let t_first = self
            .trajectories
            .iter()
            .filter_map(|t| t.t_s.first().copied())
            .fold(f64::INFINITY, f64::min);
        let mut w = 1.0;
        while remaining > 0 {
            let hi = t_first + w * WINDOW_S;
            w += 1.0;
            keys.clear();
            states.clear();
            for (o, traj) in self.trajectories.iter().enumerate() {
                let c = &mut cursor[o];
                while *c < traj.t_s.len() && traj.t_s[*c] < hi {
                    let s = &traj.samples[*c];
                    keys.push((traj.t_s[*c], o as u32, states.len() as u32));
                    states.push([s[0], s[1], s[2], s[3], s[4], s[5]]);
                    *c += 1;
                }
            }
            remaining -= keys.len();
            keys.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for &(t_s, o, slot) in &keys {
                let s = &states[slot as usize];
                f(&TruthRow {
                    time_s: t_s,
                    object_id: self.objects[o as usize].object_id,
                    x_m: s[0],
                    y_m: s[1],
                    z_m: s[2],
                    vx_mps: s[3],
                    vy_mps: s[4],
                    vz_mps: s[5],
                });
            }
        }
    }
}

/// Flies every launch and scans every sensor. Deterministic in `opts.seed`: each sensor draws
/// from its own ChaCha8 stream (seed, sensor index), so adding a sensor does not change what
/// the others see.
pub fn simulate(
    scenario: &Scenario,
    opts: &SimOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<SimOutput, SimError> {
    let mut objects = Vec::new();
    let mut trajectories = Vec::new();
    let total = scenario.launches.len();
    for (i, l) in scenario.launches.iter().enumerate() {
        let cfg = FlightConfig {
            dt_s: opts.dt_s,
            max_duration_s: match scenario.duration_s {
                // One step past the end, so the last scan can still interpolate.
                Some(d) => (d - l.launch.t0_s + opts.dt_s).max(opts.dt_s),
                None => FlightConfig::default().max_duration_s,
            },
            ..FlightConfig::default()
        };
        let flight = fly(&l.launch, &cfg).map_err(|source| ScenarioError::Launch {
            at: l.at.clone(),
            source,
        })?;
        // The payload first, then stages in the order they drop.
        let mut objs = flight.objects;
        objs.sort_by_key(|o| match o.kind {
            ObjectKind::Payload => 0u16,
            ObjectKind::SpentStage(k) => 1 + u16::from(k),
        });
        for o in objs {
            objects.push(ObjectInfo {
                object_id: objects.len() as u64 + 1,
                launch: i,
                kind: o.kind,
            });
            trajectories.push(o);
        }
        progress(Progress::Flying { done: i + 1, total });
    }
    let start_s = trajectories
        .iter()
        .map(|t| t.t_start_s())
        .fold(f64::INFINITY, f64::min)
        .min(0.0);
    let end_s = match scenario.duration_s {
        Some(d) => d,
        None => trajectories.iter().map(|t| t.t_end_s()).fold(0.0, f64::max),
    };
    if scenario.duration_s.is_some() {
        for t in &mut trajectories {
            let keep = t.t_s.partition_point(|&x| x <= end_s);
            t.t_s.truncate(keep);
            t.samples.truncate(keep);
        }
    }

    let radars: Vec<Radar> = scenario.sensors.iter().map(Radar::new).collect();
    // A sphere around each whole trajectory: a sensor farther than its maximum range from
    // the sphere can never see the object, which saves interpolating it at every scan.
    let spheres: Vec<(nalgebra::Vector3<f64>, f64)> = trajectories
        .iter()
        .map(|t| {
            let n = t.samples.len().max(1) as f64;
            let c = t.samples.iter().fold(nalgebra::Vector3::zeros(), |acc, s| {
                acc + nalgebra::Vector3::new(s[0], s[1], s[2])
            }) / n;
            let r = t
                .samples
                .iter()
                .map(|s| (nalgebra::Vector3::new(s[0], s[1], s[2]) - c).norm())
                .fold(0.0, f64::max);
            (c, r)
        })
        .collect();
    // (time, sensor index, object id, row); each sensor's list is already in time order.
    let mut hits: Vec<(f64, usize, u64, DetectionRow)> = Vec::new();
    for (si, radar) in radars.iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        rng.set_stream(si as u64);
        let spec = &radar.spec;
        let row = |t: f64, aer: &trilink_geo::Aer| DetectionRow {
            time_s: t,
            sensor_id: spec.id.clone(),
            range_m: aer.range_m,
            azimuth_rad: aer.az_rad,
            elevation_rad: aer.el_rad,
            sigma_range_m: spec.sigma_range_m,
            sigma_azimuth_rad: spec.sigma_azimuth_rad,
            sigma_elevation_rad: spec.sigma_elevation_rad,
        };
        let origin = radar.frame().origin().0;
        let candidates: Vec<usize> = (0..trajectories.len())
            .filter(|&o| (spheres[o].0 - origin).norm() - spheres[o].1 <= spec.max_range_m)
            .collect();
        let first_k = ((start_s - spec.phase_s) / spec.revisit_s).ceil().max(0.0) as u64;
        let mut k = first_k;
        loop {
            let t = spec.phase_s + k as f64 * spec.revisit_s;
            if t > end_s {
                break;
            }
            k += 1;
            for _ in 0..radar.false_alarm_count(&mut rng) {
                let aer = radar.false_alarm(&mut rng);
                hits.push((t, si, 0, row(t, &aer)));
            }
            for &oi in &candidates {
                let (o, traj) = (&objects[oi], &trajectories[oi]);
                let Some(p) = traj.position_at(t, opts.dt_s) else {
                    continue;
                };
                let Some(truth) = radar.visible(&p) else {
                    continue;
                };
                if radar.detects(&mut rng) {
                    let m = radar.measure(&truth, &mut rng);
                    hits.push((t, si, o.object_id, row(t, &m)));
                }
            }
        }
        progress(Progress::Scanning {
            done: si + 1,
            total: radars.len(),
        });
    }
    // Stable: equal (time, sensor) keep generation order (false alarms, then objects by id).
    hits.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut detections = Vec::with_capacity(hits.len());
    let mut labels = Vec::with_capacity(hits.len());
    for (t, _, object_id, row) in hits {
        labels.push(LabelRow {
            time_s: t,
            sensor_id: row.sensor_id.clone(),
            object_id,
        });
        detections.push(row);
    }
    let sensors = scenario
        .sensors
        .iter()
        .map(|s| SensorRow {
            sensor_id: s.id.clone(),
            nation: s.nation.clone(),
            lat_deg: s.lat_deg,
            lon_deg: s.lon_deg,
            alt_m: s.site.alt_m,
        })
        .collect();
    Ok(SimOutput {
        objects,
        trajectories,
        sensors,
        detections,
        labels,
        start_s,
        end_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_at_agrees_with_the_physics_interpolation() {
        let s = Scenario::builtin("hwasong-18").unwrap();
        let f = fly(&s.launches[0].launch, &FlightConfig::default()).unwrap();
        for traj in &f.objects {
            let (t0, t1) = (traj.t_start_s(), traj.t_end_s());
            let mut t = t0;
            while t <= t1 {
                let a = traj.position_at(t, 0.1).unwrap();
                let b = traj.state_at(t).unwrap();
                let d = (a - nalgebra::Vector3::new(b[0], b[1], b[2])).norm();
                assert!(d < 1e-6, "{:?} at {t}: {d} m", traj.kind);
                t += 0.737;
            }
            assert!(traj.position_at(t1, 0.1).is_some());
            assert!(traj.position_at(t1 + 0.01, 0.1).is_none());
            assert!(traj.position_at(t0 - 0.01, 0.1).is_none());
        }
    }
}
