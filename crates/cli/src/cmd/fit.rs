//! `trilink fit`: re-derive the built-in missile classes from their public launch templates.
use anyhow::anyhow;
use trilink_physics::fit::{self, FitOutcome};
use trilink_physics::missiles::{self, Goal};

use crate::exit::{CliError, CliResult};

/// Fit missile classes to the openly reported launches they imitate, and show how close they
/// come.
///
/// Each built-in class (kn-23, hwasong-12, hwasong-15, hwasong-18, chollima-1) is a base vehicle
/// with public-order-of-magnitude stage masses and engines, plus free parameters that this
/// command solves for by Newton iteration on full flights at the production 0.1 s step:
/// the pitch programme's final elevation, a propellant scale and an azimuth offset, against the
/// template's apogee, ground range and the bearing of the reported impact area (for the
/// satellite launcher: final elevation, propellant scale and the stage-2/3 burn split against
/// insertion height, circular speed and level flight at the reported insertion time).
/// `az_deg` is the launch azimuth a scenario should use to fly the class along its template.
/// The table shows the fitted parameters and what the fitted vehicle achieves against the public figures; flight time is not fitted, only checked.
///
/// The numbers built into trilink are exactly what this prints; a test re-runs the fit and fails
/// if they drift.
#[derive(clap::Args, Debug)]
#[command(after_long_help = "Examples:\n  trilink fit hwasong-18\n  trilink fit --all")]
#[command(group(clap::ArgGroup::new("which").required(true).args(["class", "all"])))]
pub struct Args {
    /// The class to fit (kn-23, hwasong-12, hwasong-15, hwasong-18, chollima-1).
    pub class: Option<String>,
    /// Fit every built-in class.
    #[arg(long)]
    pub all: bool,
}

pub fn run(args: Args) -> CliResult {
    let names: Vec<String> = if args.all {
        missiles::class_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        let name = args.class.unwrap_or_default();
        if missiles::template(&name).is_none() {
            return Err(CliError::input(anyhow!(
                "unknown class {name:?}: expected one of {}",
                missiles::class_names().join(", ")
            )));
        }
        vec![name]
    };
    println!(
        "{:<11} {:>12} {:>11} {:>10} {:>11} {:>9} {:>5} {:>12} {:>12} {:>8} {:>12} {:>12} {:>8} {:>9} {:>9} {:>8}",
        "class",
        "final_el_deg",
        "prop_scale",
        "pen_burn_s",
        "az_off_deg",
        "az_deg",
        "iters",
        "apogee_km",
        "public_km",
        "err_%",
        "range_km",
        "public_km",
        "err_%",
        "time_s",
        "public_s",
        "err_%"
    );
    for name in &names {
        let out = fit::fit_class(name).map_err(|e| CliError::Other(anyhow!(e)))?;
        print_row(name, &out);
    }
    for name in &names {
        if let Some(t) = missiles::template(name) {
            println!("# {name}: {} — {}", t.event, t.source);
        }
    }
    Ok(())
}

fn print_row(name: &str, out: &FitOutcome) {
    let err = |got: f64, want: f64| 100.0 * (got - want) / want;
    let Some(t) = missiles::template(name) else {
        return;
    };
    let p = out.params;
    let a = &out.achieved;
    let head = format!(
        "{:<11} {:>12.7} {:>11.8} {:>10.4} {:>11.7} {:>9.4} {:>5}",
        name,
        p.final_elevation_rad.to_degrees(),
        p.propellant_scale,
        p.penultimate_burn_s,
        p.azimuth_offset_rad.to_degrees(),
        (t.azimuth_rad() + p.azimuth_offset_rad).to_degrees(),
        out.iterations
    );
    match t.goal {
        Goal::Ballistic {
            apogee_m,
            range_m,
            flight_time_s,
        } => {
            let range = a.range_m.unwrap_or(f64::NAN);
            let time = a.flight_time_s.unwrap_or(f64::NAN);
            let (pub_t, err_t) = match flight_time_s {
                Some(p) => (format!("{p:.0}"), format!("{:+.2}", err(time, p))),
                None => ("-".into(), "-".into()),
            };
            println!(
                "{head} {:>12.3} {:>12.3} {:>+8.4} {:>12.3} {:>12.3} {:>+8.4} {:>9.1} {:>9} {:>8}",
                a.apogee_m / 1e3,
                apogee_m / 1e3,
                err(a.apogee_m, apogee_m),
                range / 1e3,
                range_m / 1e3,
                err(range, range_m),
                time,
                pub_t,
                err_t
            );
        }
        Goal::Orbit {
            insertion_time_s,
            insertion_alt_m,
        } => {
            if let Some(i) = a.insertion {
                println!(
                    "{head} {:>12.3} {:>12.3} {:>+8.4}   (height at insertion) at {insertion_time_s:.0} s: {:.1} m/s inertial (circular {:.1}), flight-path angle {:.2e} deg, orbit {:.0} x {:.0} km",
                    i.alt_m / 1e3,
                    insertion_alt_m / 1e3,
                    err(i.alt_m, insertion_alt_m),
                    i.inertial_speed_mps,
                    i.circular_speed_mps,
                    i.flight_path_angle_rad.to_degrees(),
                    i.perigee_alt_m / 1e3,
                    i.apogee_alt_m / 1e3
                );
            }
        }
    }
}
