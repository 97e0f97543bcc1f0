//! `trilink track`: detections in, confirmed tracks with launch and impact points out.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, Context};
use trilink_interchange::{
    files, read_all, CsvReader, CsvWriter, DetectionRow, ImpactRow, LaunchRow, SensorRow,
};
use trilink_track::output::{impact_row, launch_row, TrackOutRow};
use trilink_track::{FilterKind, LatePolicy, TrackError, Tracker, TrackerConfig};

use crate::exit::{CliError, CliResult};

/// Track ballistic objects from radar detections (warning only).
///
/// Reads DIR/sensors.csv (`sensor_id,nation,lat_deg,lon_deg,alt_m`) and DIR/detections.csv
/// (`time_s,sensor_id,range_m,azimuth_rad,elevation_rad,sigma_range_m,sigma_azimuth_rad,
/// sigma_elevation_rad`, rows in time order), in the form of BRIEF §3.2 from any tool; extra
/// columns are ignored. Detections are streamed, so memory grows with the live tracks only.
///
/// Writes, atomically, into OUT (default DIR):
///
///   tracks.csv    one row per confirmed track per update: ECEF state, position covariance
///                 (upper triangle), then `nis`, `nis_dof` (normalised innovation squared of the
///                 update and its degrees of freedom) and `phase` (boost, midcourse, terminal);
///
///   impacts.csv   every impact-point prediction with its predicted time and 95 % ellipse
///                 (semi-axes in metres, major-axis orientation clockwise from north);
///
///   launches.csv  the last launch-point estimate of every confirmed track, with its 95 % ellipse.
///
/// Each sensor's azimuth/elevation/range is used directly in an extended (or, with
/// `--filter ukf`, unscented) Kalman filter with an IMM over ballistic, boost and re-entry
/// motion in the rotating Earth frame (WGS-84, J2); detections are
/// associated by χ²-gated global nearest neighbour; tracks start from two detections of one
/// sensor and are confirmed on 4 hits in 6 scans.
///
/// Bad input (a missing column, a value that is not a finite number, a negative σ, an unknown
/// sensor, a truncated line, a row earlier than the one before it) stops with the file and
/// line and exit status 2.
///
/// Example: trilink simulate salvo --out run/ && trilink track run/ && trilink eval run/
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory holding sensors.csv and detections.csv.
    pub dir: PathBuf,
    /// Where to write tracks.csv, impacts.csv and launches.csv (default: DIR).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Drop detections older than the scan being processed (out-of-sequence rows), count them
    /// and go on, instead of stopping with an error. Tracks are never updated backwards.
    #[arg(long)]
    pub drop_late: bool,
    /// Shortest interval between two launch/impact predictions of one track (s of data time);
    /// 0 predicts at every update. The default predicts at every update of a track seen by one
    /// radar at 1 Hz or slower, and once a second when several radars update it.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub ground_point_interval: f64,
    /// Probability that a true detection falls inside a track's gate.
    #[arg(long, default_value_t = 0.9997, value_name = "P")]
    pub gate_probability: f64,
    /// The filter run in each motion model of each track.
    #[arg(long, value_enum, default_value_t = Filter::Ekf, value_name = "FILTER")]
    pub filter: Filter,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The filter each track runs (docs/decisions/0405-ukf.md).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Extended Kalman filter: linearises dynamics and measurement at the estimate. Fastest;
    /// prefer it for large raids and real-time use, and whenever tracks are well settled.
    Ekf,
    /// Unscented Kalman filter: 13 sigma points through the exact dynamics and AER function.
    /// Several times slower per update; prefer it when uncertainty is large against range
    /// (sparse or distant sensors, long revisit gaps, tracks just started).
    Ukf,
}

impl From<Filter> for FilterKind {
    fn from(f: Filter) -> Self {
        match f {
            Filter::Ekf => FilterKind::Ekf,
            Filter::Ukf => FilterKind::Ukf,
        }
    }
}

fn row_error(file: &Path, line: u64, e: TrackError) -> CliError {
    CliError::Input(anyhow!("{}:{line}: {e}", file.display()))
}

pub fn run(args: Args) -> CliResult {
    let started = Instant::now();
    let out_dir = args.out.clone().unwrap_or_else(|| args.dir.clone());
    if !out_dir.is_dir() {
        std::fs::create_dir_all(&out_dir)
            .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;
    }
    let sensors_path = args.dir.join(files::SENSORS);
    let det_path = args.dir.join(files::DETECTIONS);
    let sensors: Vec<SensorRow> = read_all(&sensors_path).map_err(CliError::input)?;
    if sensors.is_empty() {
        return Err(CliError::Input(anyhow!(
            "{}: no sensors listed; expected at least one row",
            sensors_path.display()
        )));
    }
    let cfg = TrackerConfig {
        late: if args.drop_late {
            LatePolicy::Drop
        } else {
            LatePolicy::Reject
        },
        ground_point_interval_s: args.ground_point_interval,
        gate_probability: args.gate_probability,
        filter: args.filter.into(),
        ..TrackerConfig::default()
    };
    let mut tracker = Tracker::new(&sensors, cfg)
        .map_err(|e| CliError::Input(anyhow!("{}: {e}", sensors_path.display())))?;
    let reader = CsvReader::<DetectionRow>::open(&det_path).map_err(CliError::input)?;

    let err = |e: trilink_interchange::InterchangeError| CliError::Other(e.into());
    let mut tracks_w =
        CsvWriter::<TrackOutRow>::create(&out_dir.join(files::TRACKS)).map_err(err)?;
    let mut impacts_w =
        CsvWriter::<ImpactRow>::create(&out_dir.join(files::IMPACTS)).map_err(err)?;
    let mut launches_w =
        CsvWriter::<LaunchRow>::create(&out_dir.join(files::LAUNCHES)).map_err(err)?;
    // Latest launch estimate of each live confirmed track, written when the track ends.
    let mut launches: HashMap<u64, LaunchRow> = HashMap::new();

    let mut reader = reader;
    let mut drain =
        |tracker: &mut Tracker, launches: &mut HashMap<u64, LaunchRow>| -> Result<(), CliError> {
            for u in tracker.drain_updates() {
                tracks_w.write(&TrackOutRow::from_update(&u)).map_err(err)?;
                if let Some(r) = impact_row(&u) {
                    impacts_w.write(&r).map_err(err)?;
                }
                if let Some(g) = &u.launch {
                    launches.insert(u.track_id, launch_row(u.track_id, g));
                }
            }
            for e in tracker.drain_ended() {
                let row = launches
                    .remove(&e.track_id)
                    .or_else(|| e.launch.as_ref().map(|g| launch_row(e.track_id, g)));
                if let Some(row) = row {
                    launches_w.write(&row).map_err(err)?;
                }
            }
            Ok(())
        };
    while let Some(row) = reader.next() {
        let row = row.map_err(CliError::input)?;
        let line = reader.line();
        tracker
            .process(&row)
            .map_err(|e| row_error(&det_path, line, e))?;
        drain(&mut tracker, &mut launches)?;
    }
    tracker.close();
    drain(&mut tracker, &mut launches)?;
    let n_tracks = tracks_w.finish().map_err(err)?;
    let n_impacts = impacts_w.finish().map_err(err)?;
    let n_launches = launches_w.finish().map_err(err)?;
    if !args.quiet {
        let st = tracker.stats();
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "trilink track: {} detections in {:.3} s ({:.0}/s, {}); {} confirmed tracks ({} merged into another), {} late rows dropped; wrote {} track rows, {} impact rows, {} launch rows to {}",
            st.detections,
            secs,
            st.detections as f64 / secs.max(1e-9),
            tracker.config().filter.as_str(),
            st.tracks_confirmed,
            st.tracks_merged,
            st.late_dropped,
            n_tracks,
            n_impacts,
            n_launches,
            out_dir.display()
        );
    }
    Ok(())
}
