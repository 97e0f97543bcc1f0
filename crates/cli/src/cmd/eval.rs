//! `trilink eval`: score a run's tracks against its truth.

use std::io::Write;
use std::path::PathBuf;

use anyhow::anyhow;
use trilink_eval::gospa::GospaParams;
use trilink_eval::{evaluate, load_run, write_html, EvalConfig, EvalError, FreeFlightRule};

use crate::exit::{CliError, CliResult};

/// Score tracks against truth: GOSPA, RMSE, NEES/NIS, the Cramér–Rao bound, continuity,
/// timeliness and impact-point error.
///
/// DIR holds the files of one run (BRIEF §3.2), from trilink or any other tool:
///   sensors.csv, detections.csv, truth.csv, labels.csv   (from `trilink simulate`)
///   tracks.csv                                           (from `trilink track` or another
///                                                         tracker; optional extra columns
///                                                         `nis`,`nis_dof` give ANIS)
///   impacts.csv, launches.csv                            (optional)
///
/// Prints one JSON object on stdout and writes DIR/report.html, a self-contained page with
/// SVG charts (no script, nothing loaded from elsewhere).
///
/// How tracks meet truth: on a grid of times every --grid-s seconds, truth is interpolated and
/// each track's most recent row (no older than --max-age-s) is propagated by free flight to the
/// grid time; GOSPA (p = 1, c = 5 km, α = 2 by default) assigns them optimally. A track row
/// belongs to the object its track is assigned to at the first grid time at or after the row;
/// RMSE and NEES are measured at the row's own time. Free flight is truth above 100 km moving
/// under gravity alone. The PCRLB follows each true trajectory through the detections labelled
/// with that object, from no prior information at its first detection.
///
/// Bad input (a missing file or column, a NaN, a label that does not match its detection)
/// is reported with file and line, and exits with status 2.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Run directory with the CSV files
    pub dir: PathBuf,
    /// Print the JSON only; do not write report.html
    #[arg(long)]
    pub json_only: bool,
    /// Spacing of the GOSPA time grid (s)
    #[arg(long, default_value_t = 1.0, value_name = "S")]
    pub grid_s: f64,
    /// A track whose latest row is older than this is not live at a grid time (s)
    #[arg(long, default_value_t = 10.0, value_name = "S")]
    pub max_age_s: f64,
    /// Use each track's latest row as it is at grid times, without propagating it
    #[arg(long)]
    pub no_propagate: bool,
    /// GOSPA cut-off distance c (m)
    #[arg(long, default_value_t = 5000.0, value_name = "M")]
    pub gospa_c_m: f64,
    /// GOSPA order p (α is always 2)
    #[arg(long, default_value_t = 1.0, value_name = "P")]
    pub gospa_p: f64,
    /// Height above which truth can count as free flight (m)
    #[arg(long, default_value_t = 100e3, value_name = "M")]
    pub free_flight_alt_m: f64,
    /// Score every truth object over its whole flight. By default an object counts at a grid
    /// time only if some sensor detected it within the last --max-age-s: no tracker can hold
    /// what nothing sees (before the first detection, beyond every radar's reach)
    #[arg(long)]
    pub score_unobserved: bool,
}

fn classify(e: EvalError) -> CliError {
    if e.is_input() {
        CliError::Input(e.into())
    } else {
        CliError::Other(e.into())
    }
}

pub fn run(args: Args) -> CliResult {
    if !args.dir.is_dir() {
        return Err(CliError::Input(anyhow!(
            "{}: not a directory (expected a run directory with sensors.csv, detections.csv, \
             truth.csv, labels.csv and tracks.csv)",
            args.dir.display()
        )));
    }
    let cfg = EvalConfig {
        gospa: GospaParams::new(args.gospa_c_m, args.gospa_p).map_err(classify)?,
        grid_s: args.grid_s,
        max_age_s: args.max_age_s,
        propagate: !args.no_propagate,
        free_flight: FreeFlightRule {
            min_alt_m: args.free_flight_alt_m,
            ..FreeFlightRule::default()
        },
        score_unobserved: args.score_unobserved,
        ..EvalConfig::default()
    };
    cfg.validate().map_err(classify)?;
    let run = load_run(&args.dir, cfg.free_flight).map_err(classify)?;
    let eval = evaluate(&run, &cfg).map_err(classify)?;
    if !args.json_only {
        write_html(&eval, &args.dir).map_err(classify)?;
    }
    let json =
        serde_json::to_string_pretty(&eval.summary).map_err(|e| CliError::Other(e.into()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{json}").map_err(|e| CliError::Other(e.into()))?;
    Ok(())
}
