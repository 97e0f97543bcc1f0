//! Known-answer runs: truth from free flight, noise-free detections, and tracks built from truth
//! with errors chosen by hand, so every metric has a value that can be worked out on paper.
//! Used by the tests of this crate and of `trilink eval`, and handy for checking a harness.

use std::fs;
use std::io::Write;
use std::path::Path;

use nalgebra::Vector3;
use trilink_geo::{geodesic_direct, Ecef, Geodetic, LocalFrame};
use trilink_interchange::{
    files, write_all, DetectionRow, ImpactRow, LabelRow, LaunchRow, Record, SensorRow, TruthRow,
};
use trilink_physics::integrate::{position, rk4_step, stack, velocity, State6};

use crate::input::TrackRowExt;
use crate::EvalError;

/// The contents of one run directory.
#[derive(Debug, Clone, Default)]
pub struct SyntheticRun {
    pub sensors: Vec<SensorRow>,
    pub detections: Vec<DetectionRow>,
    pub labels: Vec<LabelRow>,
    pub truth: Vec<TruthRow>,
    pub tracks: Vec<TrackRowExt>,
    pub impacts: Vec<ImpactRow>,
    pub launches: Vec<LaunchRow>,
}

impl SyntheticRun {
    /// Writes the seven files (tracks.csv with the `nis`, `nis_dof` columns).
    pub fn write(&self, dir: &Path) -> Result<(), EvalError> {
        write_all(&dir.join(files::SENSORS), &self.sensors)?;
        write_all(&dir.join(files::DETECTIONS), &self.detections)?;
        write_all(&dir.join(files::LABELS), &self.labels)?;
        write_all(&dir.join(files::TRUTH), &self.truth)?;
        write_all(&dir.join(files::IMPACTS), &self.impacts)?;
        write_all(&dir.join(files::LAUNCHES), &self.launches)?;
        let path = dir.join(files::TRACKS);
        let err = |source| EvalError::Write {
            file: path.clone(),
            source,
        };
        let mut out = Vec::new();
        writeln!(out, "{},nis,nis_dof", TrackRowExt::COLUMNS.join(",")).map_err(err)?;
        for r in &self.tracks {
            r.write_row(&mut out).map_err(err)?;
            out.push(b'\n');
        }
        fs::write(&path, out).map_err(err)
    }
}

/// Free flight (gravity with J2, rotating frame, no drag) from `start` with an east-north-up
/// velocity, sampled every `dt_s` until the ground. The last sample is the last one at or above
/// the ellipsoid.
pub fn free_flight_truth(
    object_id: u64,
    t0_s: f64,
    start: Geodetic,
    velocity_enu_mps: Vector3<f64>,
    dt_s: f64,
) -> Vec<TruthRow> {
    let frame = LocalFrame::new(start);
    let mut s: State6 = stack(&start.to_ecef().0, &frame.rotate_to_ecef(&velocity_enu_mps));
    let mut out = Vec::new();
    let mut k = 0u32;
    loop {
        let t = t0_s + f64::from(k) * dt_s;
        let p = position(&s);
        let v = velocity(&s);
        out.push(TruthRow {
            time_s: t,
            object_id,
            x_m: p.x,
            y_m: p.y,
            z_m: p.z,
            vx_mps: v.x,
            vy_mps: v.y,
            vz_mps: v.z,
        });
        let next = rk4_step(t, &s, dt_s, |_, r, v| {
            trilink_physics::free_flight_acceleration(r, v)
        });
        if Ecef(position(&next)).to_geodetic().alt_m < 0.0 || k > 200_000 {
            break;
        }
        s = next;
        k += 1;
    }
    out
}

fn state_of(r: &TruthRow) -> State6 {
    State6::new(r.x_m, r.y_m, r.z_m, r.vx_mps, r.vy_mps, r.vz_mps)
}

/// The known-answer run documented in docs/validation/eval.md:
///
/// - sensor `K1` at 36.0° N 128.0° E; truth at 10 Hz;
/// - object 1 from 39.0° N 125.5° E, 150 km up, at t = 100 s; object 2 from 40.0° N 124.0° E,
///   150 km up, at t = 130 s; both detected every whole second by K1 (σ 50 m, 1 mrad, 1 mrad);
/// - tracks: every whole second from 5 s after each object's start, state = truth + (300, 0, 0) m
///   and + (0, 4, 0) m/s, position covariance diag(30000, 10000, 10000) m² (so NEES = 3 exactly),
///   `nis` = 3 with `nis_dof` = 3. Object 1 is track 10 throughout. Object 2 is track 20 until
///   t = 200 s, then nothing until track 21 from t = 220 s (a break). Track 99 is a false track
///   2000 km east of object 1, rows from 150 s to 179 s;
/// - impacts: every 10 s, track 10 predicts 1 km north of the true impact point with a
///   2 km × 1.5 km ellipse along north (contains it); track 20/21 predicts 3 km east with a
///   2 km × 1.5 km ellipse along east (does not);
/// - launches: track 10 puts its start 500 m south of the truth's first sample.
pub fn known_answer() -> SyntheticRun {
    let sensor = SensorRow {
        sensor_id: "K1".into(),
        nation: "KR".into(),
        lat_deg: 36.0,
        lon_deg: 128.0,
        alt_m: 100.0,
    };
    let frame = LocalFrame::new(Geodetic {
        lat_rad: 36.0f64.to_radians(),
        lon_rad: 128.0f64.to_radians(),
        alt_m: 100.0,
    });
    let start1 = Geodetic {
        lat_rad: 39.0f64.to_radians(),
        lon_rad: 125.5f64.to_radians(),
        alt_m: 150e3,
    };
    let start2 = Geodetic {
        lat_rad: 40.0f64.to_radians(),
        lon_rad: 124.0f64.to_radians(),
        alt_m: 150e3,
    };
    let truth1 = free_flight_truth(1, 100.0, start1, Vector3::new(1500.0, -800.0, 2000.0), 0.1);
    let truth2 = free_flight_truth(2, 130.0, start2, Vector3::new(1800.0, -600.0, 1800.0), 0.1);

    let mut run = SyntheticRun {
        sensors: vec![sensor],
        ..Default::default()
    };
    run.truth = truth1.iter().chain(truth2.iter()).cloned().collect();
    run.truth.sort_by(|a, b| {
        a.time_s
            .total_cmp(&b.time_s)
            .then(a.object_id.cmp(&b.object_id))
    });
    // Detections and track rows on whole seconds (every tenth truth sample).
    let mut events: Vec<(f64, u64, State6)> = Vec::new();
    for truth in [&truth1, &truth2] {
        for r in truth.iter().step_by(10) {
            events.push((r.time_s, r.object_id, state_of(r)));
        }
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (t, id, s) in &events {
        let aer = frame.aer_of(&Ecef(position(s)));
        run.detections.push(DetectionRow {
            time_s: *t,
            sensor_id: "K1".into(),
            range_m: aer.range_m,
            azimuth_rad: aer.az_rad,
            elevation_rad: aer.el_rad,
            sigma_range_m: 50.0,
            sigma_azimuth_rad: 1e-3,
            sigma_elevation_rad: 1e-3,
        });
        run.labels.push(LabelRow {
            time_s: *t,
            sensor_id: "K1".into(),
            object_id: *id,
        });
    }
    let track_row = |t: f64, track_id: u64, s: &State6, offset: Vector3<f64>| TrackRowExt {
        time_s: t,
        track_id,
        x_m: s[0] + offset.x,
        y_m: s[1] + offset.y,
        z_m: s[2] + offset.z,
        vx_mps: s[3],
        vy_mps: s[4] + 4.0,
        vz_mps: s[5],
        cov_xx: 30_000.0,
        cov_xy: 0.0,
        cov_xz: 0.0,
        cov_yy: 10_000.0,
        cov_yz: 0.0,
        cov_zz: 10_000.0,
        nis: Some(3.0),
        nis_dof: Some(3.0),
    };
    let err = Vector3::new(300.0, 0.0, 0.0);
    let t1_start = truth1[0].time_s;
    let t2_start = truth2[0].time_s;
    for (t, id, s) in &events {
        match id {
            1 if *t >= t1_start + 5.0 => run.tracks.push(track_row(*t, 10, s, err)),
            2 if *t >= t2_start + 5.0 && *t <= 200.0 => run.tracks.push(track_row(*t, 20, s, err)),
            2 if *t >= 220.0 => run.tracks.push(track_row(*t, 21, s, err)),
            _ => {}
        }
        if *id == 1 && (150.0..=179.0).contains(t) {
            let far = LocalFrame::new(Ecef(position(s)).to_geodetic())
                .rotate_to_ecef(&Vector3::new(2.0e6, 0.0, 0.0));
            run.tracks.push(track_row(*t, 99, s, far));
        }
    }
    run.tracks.sort_by(|a, b| {
        a.time_s
            .total_cmp(&b.time_s)
            .then(a.track_id.cmp(&b.track_id))
    });

    for (truth, track_of, north_m, east_m, orientation_deg) in [
        (
            &truth1,
            &(|_: f64| 10u64) as &dyn Fn(f64) -> u64,
            1000.0,
            0.0,
            0.0,
        ),
        (
            &truth2,
            &(|t: f64| if t <= 200.0 { 20u64 } else { 21 }) as &dyn Fn(f64) -> u64,
            0.0,
            3000.0,
            90.0,
        ),
    ] {
        let end = truth[truth.len() - 1].clone();
        let end_geo = Ecef::new(end.x_m, end.y_m, end.z_m).to_geodetic();
        let offset = f64::hypot(north_m, east_m);
        let az = f64::atan2(east_m, north_m);
        let pred = geodesic_direct(&end_geo, az, offset);
        let t0 = truth[0].time_s;
        let mut t = t0 + 10.0;
        while t < end.time_s {
            let covered = match track_of(t) {
                20 => t <= 200.0,
                21 => t >= 220.0,
                _ => t >= t0 + 5.0,
            };
            if covered {
                run.impacts.push(ImpactRow {
                    time_s: t,
                    track_id: track_of(t),
                    impact_time_s: end.time_s,
                    impact_lat_deg: pred.lat_deg(),
                    impact_lon_deg: pred.lon_deg(),
                    semi_major_m: 2000.0,
                    semi_minor_m: 1500.0,
                    orientation_deg,
                });
            }
            t += 10.0;
        }
    }
    run.impacts.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    let launch_pred = geodesic_direct(&start1, std::f64::consts::PI, 500.0);
    run.launches.push(LaunchRow {
        track_id: 10,
        launch_time_s: t1_start,
        launch_lat_deg: launch_pred.lat_deg(),
        launch_lon_deg: launch_pred.lon_deg(),
        semi_major_m: 1000.0,
        semi_minor_m: 800.0,
        orientation_deg: 0.0,
    });
    run
}
