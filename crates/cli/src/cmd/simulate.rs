//! `trilink simulate`: a scenario in, the interchange files out.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};
use trilink_sim::{simulate, Progress, Scenario, SimError, SimOptions};

use crate::exit::{CliError, CliResult};

/// Simulate a scenario: fly its launches on the WGS-84 Earth, scan every radar at its own
/// times, and write what they saw.
///
/// SCENARIO is the name of a built-in or a path to a scenario file (TOML). Built-ins:
///   hwasong-12   IRBM over Aomori, 2022-10-04 (the default)
///   kn-23        SRBM, low apogee (2019-07-25 template)
///   hwasong-15   lofted ICBM, 2017-11-29
///   hwasong-18   lofted solid ICBM, 2023-07-12
///   chollima-1   southbound satellite launcher with stage drops, 2023-11-21
///   salvo        three SRBMs seconds apart
///   raid-1000    1,000 objects with clutter, for speed
///
/// The scenario is validated completely before anything is written; an error names the file,
/// the key, the line, the value and what was expected, and exits with status 2.
///
/// Outputs in --out (each written to a temporary file and renamed into place):
///   sensors.csv      sensor_id,nation,lat_deg,lon_deg,alt_m
///   detections.csv   time_s,sensor_id,range_m,azimuth_rad,elevation_rad,
///                    sigma_range_m,sigma_azimuth_rad,sigma_elevation_rad
///                    (time order; false alarms are ordinary rows)
///   truth.csv        time_s,object_id,x_m,y_m,z_m,vx_mps,vy_mps,vz_mps
///                    (ECEF, every object every 0.1 s; ids 1..N by launch, payload, stages)
///   labels.csv       time_s,sensor_id,object_id — one row per detection row, same order;
///                    object 0 is a false alarm. The answer key, for evaluation only.
///
/// Times are seconds from the scenario's epoch; angles are radians, azimuth clockwise from
/// geodetic north, elevation above the local horizontal. The same seed gives byte-identical
/// files.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Built-in scenario name or path to a .toml file [default: hwasong-12]
    pub scenario: Option<String>,
    /// Directory to write the four CSV files into (created if missing)
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// Seed of all random draws (detection, noise, false alarms)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print nothing but errors
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn bar(quiet: bool) -> ProgressBar {
    // Only the binary knows about the terminal: no bar when stderr is a pipe or a file.
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({eta})") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}

pub fn run(args: Args) -> CliResult {
    let started = Instant::now();
    let name = args
        .scenario
        .as_deref()
        .unwrap_or(trilink_sim::DEFAULT_BUILTIN);
    let scenario = Scenario::resolve(name).map_err(CliError::input)?;
    let opts = SimOptions {
        seed: args.seed,
        ..SimOptions::default()
    };
    let pb = bar(args.quiet);
    let mut on_progress = |p: Progress| {
        let (msg, done, total) = match p {
            Progress::Flying { done, total } => ("flying", done as u64, total as u64),
            Progress::Scanning { done, total } => ("scanning", done as u64, total as u64),
            Progress::Writing { done, total } => ("writing", done, total),
        };
        pb.set_message(msg);
        pb.set_length(total);
        pb.set_position(done);
    };
    let output = simulate(&scenario, &opts, &mut on_progress).map_err(|e| match e {
        SimError::Scenario(e) => CliError::input(e),
        other => CliError::Other(other.into()),
    })?;
    let summary = output
        .write(&args.out, &mut on_progress)
        .map_err(|e| CliError::Other(anyhow!(e)))?;
    pb.finish_and_clear();
    if !args.quiet {
        println!(
            "{}: {} launches, {} objects, {:.1} s simulated ({:.1} to {:.1} s from {}), seed {}",
            scenario.name,
            scenario.launches.len(),
            summary.objects,
            summary.end_s - summary.start_s,
            summary.start_s,
            summary.end_s,
            scenario.epoch_rfc3339,
            args.seed
        );
        println!(
            "  {:<16} {:>10} {:>12}",
            "sensor", "detections", "false alarms"
        );
        for (id, hits, fas) in &summary.per_sensor {
            println!("  {id:<16} {hits:>10} {fas:>12}");
        }
        println!(
            "  {:<16} {:>10} {:>12}",
            "total",
            summary.detections - summary.false_alarms,
            summary.false_alarms
        );
        println!(
            "wrote {} truth rows and {} detections to {} in {:.2} s",
            summary.truth_rows,
            summary.detections,
            args.out.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
