//! `trilink run`: every nation's node in one process, sharing signed track reports.
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use trilink_bus::nats::Credentials;
use trilink_journal::SyncPolicy;
use trilink_node::orchestrate::{run_all, BusChoice, Loaded, RunOptions, RunReport};
use trilink_node::FabricScenario;

use crate::exit::{CliError, CliResult};

/// Run every nation's node: each tracks what its own sensors see, signs its track reports,
/// releases them to the nations its policy names, and verifies and journals what allies send.
///
/// The simulator flies the scenario's launches and scans every radar; each nation's tracker
/// sees only its own radars' detections; each node shares its confirmed tracks per the policy.
/// With no arguments this runs the default built-in scenario (KR, JP and US; hub-and-spoke
/// through the U.S.: KR → US, JP → US, US → KR and JP) on the embedded bus, writes one journal
/// per nation under `out/run/`, and prints per nation the reports sent, received, rejected by
/// reason, and the end-to-end latency (sealed by the sender to journaled by the receiver).
///
/// The scenario `synthetic` skips simulator and tracker: geometric launch-to-impact arcs, seen
/// only by each nation's own sensors, exercise the fabric alone.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scenario: a built-in name (see `trilink simulate --help`), a scenario file (.toml), or
    /// `synthetic`. Default: the simulator's default built-in.
    pub scenario: Option<String>,

    /// `embedded` (in-process, nothing to start) or a NATS server URL such as
    /// `nats://127.0.0.1:4222`, started from `trilink nats-config` output (see --nats-dir).
    #[arg(long, default_value = "embedded")]
    pub bus: String,

    /// Directory written by `trilink nats-config` (needed with a NATS --bus: each nation
    /// connects with its own credentials; the admin user creates the streams).
    #[arg(long)]
    pub nats_dir: Option<PathBuf>,

    /// Where to write each nation's journal (`<NATION>.journal.sqlite`), `trust.txt` and
    /// `summary.json`. Earlier journals there are replaced: a run starts afresh.
    #[arg(long, default_value = "out/run")]
    pub out: PathBuf,

    /// Scenario seconds per wall-clock second; 0 sends everything as fast as it can.
    #[arg(long, default_value_t = 100.0)]
    pub speed: f64,

    /// Seed for link jitter and loss and for the synthetic tracks.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Sync the journal on every commit (`full`, survives power loss) or leave it to the OS
    /// (`normal`, survives a killed process).
    #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
    pub sync: String,
}

/// Resolves a scenario argument (None: the simulator's default built-in) and simulates it.
pub fn load_scenario(name: Option<&str>, seed: u64) -> Result<Loaded, CliError> {
    let name = name.unwrap_or(trilink_sim::DEFAULT_BUILTIN);
    trilink_node::orchestrate::load(name, seed).map_err(CliError::input)
}

pub fn bus_choice(
    bus: &str,
    nats_dir: Option<&PathBuf>,
    sc: &FabricScenario,
) -> Result<BusChoice, CliError> {
    if bus == "embedded" {
        return Ok(BusChoice::Embedded);
    }
    if !bus.starts_with("nats://") {
        return Err(CliError::input(anyhow!(
            "--bus {bus:?}: expected `embedded` or `nats://HOST:PORT`"
        )));
    }
    let dir = nats_dir.ok_or_else(|| {
        CliError::input(anyhow!(
            "--bus {bus}: also give --nats-dir, the directory `trilink nats-config` wrote"
        ))
    })?;
    let mut creds = BTreeMap::new();
    for n in sc.nation_codes() {
        let p = dir.join(format!("{n}.credentials"));
        creds.insert(n, Credentials::read(&p).map_err(CliError::input)?);
    }
    let admin = Credentials::read(&dir.join("admin.credentials")).map_err(CliError::input)?;
    Ok(BusChoice::Nats {
        url: bus.to_string(),
        creds,
        admin,
    })
}

pub fn sync_policy(s: &str) -> SyncPolicy {
    if s == "normal" {
        SyncPolicy::Normal
    } else {
        SyncPolicy::Full
    }
}

pub fn run(args: Args) -> CliResult {
    let loaded = load_scenario(args.scenario.as_deref(), args.seed)?;
    let sc = loaded.fabric().clone();
    if !(args.speed >= 0.0 && args.speed.is_finite()) {
        return Err(CliError::input(anyhow!(
            "--speed {}: expected a finite number ≥ 0",
            args.speed
        )));
    }
    let bus = bus_choice(&args.bus, args.nats_dir.as_ref(), &sc)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    for n in sc.nation_codes() {
        for suffix in ["", "-wal", "-shm"] {
            let p = args.out.join(format!("{n}.journal.sqlite{suffix}"));
            if p.exists() {
                std::fs::remove_file(&p)
                    .with_context(|| format!("removing old journal {}", p.display()))?;
            }
        }
    }
    let bar = ProgressBar::new(sc.duration_s.ceil() as u64);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} scenario t={pos}/{len} s [{bar:40}] {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let b2 = bar.clone();
    let opts = RunOptions {
        speed: args.speed,
        out_dir: Some(args.out.clone()),
        sync: sync_policy(&args.sync),
        seed: args.seed,
        progress: Some(Box::new(move |t_s| b2.set_position(t_s.max(0.0) as u64))),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting tokio")?;
    let sources = loaded.sources(args.seed).map_err(CliError::input)?;
    let report = rt
        .block_on(run_all(&sc, bus, opts, sources))
        .context("running the nodes")?;
    bar.finish_and_clear();
    print_summary(&report, &sc, &args.bus, loaded.track_source());
    let json = summary_json(&report, loaded.track_source());
    let path = args.out.join("summary.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json).context("encoding summary")? + "\n",
    )
    .with_context(|| format!("writing {}", path.display()))?;
    println!(
        "journals, trust.txt and summary.json in {}",
        args.out.display()
    );
    Ok(())
}

fn print_summary(r: &RunReport, sc: &FabricScenario, bus: &str, source: &str) {
    println!(
        "trilink run: scenario {}, {} nations, bus {bus}, {:.1} s wall clock; tracks: {source}",
        r.scenario,
        r.per_nation.len(),
        r.wall_s
    );
    println!(
        "policy: {}",
        sc.policy
            .iter()
            .map(|(o, rel)| format!("{o}→{}", rel.joined()))
            .collect::<Vec<_>>()
            .join("  ")
    );
    println!(
        "{:<6} {:>9} {:>7} {:>9} {:<18} {:>9} {:>6} {:>8} {:>8}  rejected by reason",
        "nation", "sent", "frames", "received", "from", "rejected", "lost", "p50 ms", "p99 ms"
    );
    for (n, s) in &r.per_nation {
        let from = s
            .received_from
            .iter()
            .map(|(o, c)| format!("{o}:{c}"))
            .collect::<Vec<_>>()
            .join(",");
        let rej = if s.rejected.is_empty() {
            "-".to_string()
        } else {
            s.rejected
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let (p50, p99) = match s.latency() {
            Some(p) => (format!("{:.2}", p.p50_ms), format!("{:.2}", p.p99_ms)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<6} {:>9} {:>7} {:>9} {:<18} {:>9} {:>6} {:>8} {:>8}  {rej}",
            n.as_str(),
            s.reports_sent,
            s.frames_sent,
            s.reports_received,
            if from.is_empty() {
                "-".to_string()
            } else {
                from
            },
            s.rejected_total(),
            s.lost_on_link,
            p50,
            p99
        );
    }
    println!(
        "latency: sender seal to receiver journal commit, including the link's simulated delay"
    );
}

fn summary_json(r: &RunReport, source: &str) -> serde_json::Value {
    let nations: Vec<serde_json::Value> = r
        .per_nation
        .iter()
        .map(|(n, s)| {
            let lat = s.latency();
            serde_json::json!({
                "nation": n.as_str(),
                "reports_sent": s.reports_sent,
                "frames_sent": s.frames_sent,
                "heartbeats_sent": s.heartbeats_sent,
                "reports_received": s.reports_received,
                "frames_received": s.frames_received,
                "received_from": s.received_from,
                "rejected": s.rejected,
                "duplicates": s.duplicates,
                "lost_on_link": s.lost_on_link,
                "publish_errors": s.publish_errors,
                "latency_p50_ms": lat.map(|p| p.p50_ms),
                "latency_p99_ms": lat.map(|p| p.p99_ms),
                "latency_max_ms": lat.map(|p| p.max_ms),
            })
        })
        .collect();
    serde_json::json!({ "scenario": r.scenario, "wall_s": r.wall_s, "track_source": source, "nations": nations })
}
