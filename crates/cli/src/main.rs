//! The `trilink` binary: parses arguments, wires the library crates together and prints.
//! All logic lives in the library crates; each subcommand is a module under `cmd/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod exit;

const EXAMPLES: &str = "\
Examples:
  trilink run                                   # who is warned, when, and what sharing gains
  trilink run hwasong-15 --runs 20 --seed 1     # the same over 20 Monte Carlo seeds
  trilink simulate hwasong-12 --out out/h12     # sensors, detections, truth and labels as CSV
  trilink track out/h12                         # tracks, impact and launch points from detections
  trilink eval out/h12                          # GOSPA, RMSE, NEES/NIS against truth; report.html
  trilink fit --all                             # missile classes fitted to public figures
  trilink keys init --nation KR --dir keys/     # a nation's signing key
  trilink nats-config --out nats                # nats-server config with per-nation permissions

Each command has its own --help with more examples.";

/// trilink: allied missile-warning data sharing, for warning only.
///
/// A scenario (TOML) describes launches, the radars of several nations and the links between
/// them. `simulate` turns it into detections; `track` turns detections into tracks with launch
/// and impact points; `eval` scores tracks against truth; `run` runs every nation's node and
/// shares signed track reports between them.
///
/// Built-in scenarios can be named instead of a path (see `trilink simulate --help`).
#[derive(Parser, Debug)]
#[command(name = "trilink", version, about, long_about, propagate_version = true)]
#[command(after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Simulate(cmd::simulate::Args),
    Fit(cmd::fit::Args),
    Track(cmd::track::Args),
    Eval(cmd::eval::Args),
    Run(cmd::run::Args),
    Node(cmd::node::Args),
    Keys(cmd::keys::Args),
    NatsConfig(cmd::nats_config::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Fit(a) => cmd::fit::run(a),
        Command::Track(a) => cmd::track::run(a),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Node(a) => cmd::node::run(a),
        Command::Keys(a) => cmd::keys::run(a),
        Command::NatsConfig(a) => cmd::nats_config::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}
