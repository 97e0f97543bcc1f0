//! `trilink run`: every nation's node in one process: track, share, fuse, warn, and say what
//! sharing bought.
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use trilink_bus::nats::Credentials;
use trilink_interchange::{CsvWriter, TrackRow};
use trilink_journal::{Journal, RejectedRow, SyncPolicy, WarningRecord};
use trilink_node::mission::{run_mission, MissionResult};
use trilink_node::orchestrate::{run_all, BusChoice, Loaded, RunOptions, RunReport};
use trilink_node::outcome::{NationOutcome, Scores, Spread};
use trilink_node::picture::{Mode, Picture, PictureConfig};
use trilink_node::{FabricScenario, NationalTrack};
use trilink_warn::{CapContext, Warner};

use crate::exit::{CliError, CliResult};

/// Run every nation's node and answer the question the system exists for: who is warned,
/// when, and how much earlier because allies share.
///
/// The simulator flies the scenario's launches and scans every radar. Each nation's tracker
/// sees only its own radars' detections; each node signs its confirmed tracks and releases them
/// per the scenario's policy over the bus (embedded by default), where a hub may also forward
/// fused tracks to nations its sources released them to. Each node then fuses its own and its
/// allies' verified tracks into system tracks with common track numbers and warns its own
/// regions (launch, impact, overflight, landed, all clear). The same is done again with each
/// nation's own radars only ("alone"), on the same detections, and both are scored against the
/// simulator's truth.
///
/// It prints, per nation: first detection, first track, first launch warning, first warning
/// per region, lead time before the event, and the seconds sharing gained; and writes under
/// --out: sim/ (the simulator's CSV files), <NATION>/tracks.csv (national tracks),
/// <NATION>/fused.csv (system tracks), <NATION>/warnings.csv and <NATION>/cap/*.xml (CAP 1.2),
/// <NATION>.journal.sqlite (everything sent, received, rejected and warned), summary.json and
/// report.html.
///
/// With --runs N it repeats over seeds S..S+N-1 (in parallel) and reports the distributions of
/// lead time and gain, and counts of wrong-area, missed and false warnings.
///
/// The scenario `synthetic` skips simulator, tracker and warnings: geometric arcs exercise the
/// fabric alone.
#[derive(clap::Args, Debug)]
#[command(after_long_help = "Examples:
  trilink run                                  # the default built-in (hwasong-12), embedded bus
  trilink run hwasong-15 --out out/h15         # another built-in, elsewhere
  trilink run kn-23 --runs 20 --seed 1         # 20 Monte Carlo seeds, distributions in summary.json
  trilink run my-scenario.toml --speed 10      # a scenario file, paced at 10x real time
  trilink run --bus nats://127.0.0.1:4222 --nats-dir nats   # over a NATS server (see nats-config)")]
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

    /// Output directory. Earlier journals and outputs there are replaced: a run starts afresh.
    #[arg(long, default_value = "out/run")]
    pub out: PathBuf,

    /// Scenario seconds per wall-clock second for feeding the bus; 0 feeds as fast as it can.
    /// Warning times are scenario times either way: each input counts from its validity time
    /// plus its path's modelled link delay.
    #[arg(long, default_value_t = 0.0)]
    pub speed: f64,

    /// Seed of the simulation (radar noise, detection draws, clutter) and the link model.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Monte Carlo: repeat over this many seeds (seed, seed+1, ...); the first run's files are
    /// written, every run is scored.
    #[arg(long, default_value_t = 1)]
    pub runs: u32,

    /// Runs in parallel with --runs (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,

    /// Sync the journal on every commit (`full`, survives power loss) or leave it to the OS
    /// (`normal`, survives a killed process).
    #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
    pub sync: String,

    /// Override a threshold of the warning rule, e.g. `--warn p_issue=0.2` (repeatable):
    /// p_issue, p_cancel, hold_s, eval_interval_s, update_min_interval_s, min_semi_axis_m,
    /// boost_accel_mps2, boost_speed_gain, boost_max_speed_mps, boost_corridor_after_s,
    /// boost_heading_sigma_deg, beta_kg_m2, landed_max_alt_m (docs/decisions/0801).
    #[arg(long = "warn", value_name = "KEY=VALUE")]
    pub warn: Vec<String>,

    /// Override a setting of fusion, e.g. `--fuse error_floor_position_m=150` (repeatable):
    /// error_floor_position_m, error_floor_velocity_mps, gate_probability, max_age_s
    /// (docs/decisions/0701).
    #[arg(long = "fuse", value_name = "KEY=VALUE")]
    pub fuse: Vec<String>,
}

fn picture_config(args: &Args) -> Result<PictureConfig, CliError> {
    let mut cfg = PictureConfig::default();
    for kv in &args.warn {
        let (k, v) = kv.split_once('=').ok_or_else(|| {
            CliError::input(anyhow!(
                "--warn {kv:?}: expected KEY=VALUE, e.g. p_issue=0.2"
            ))
        })?;
        let value: f64 = v
            .trim()
            .parse()
            .map_err(|_| CliError::input(anyhow!("--warn {kv:?}: {v:?} is not a number")))?;
        cfg.warn
            .set(k.trim(), value)
            .map_err(|e| CliError::input(anyhow!("--warn {kv:?}: {e}")))?;
    }
    for kv in &args.fuse {
        let bad = |why: &str| CliError::input(anyhow!("--fuse {kv:?}: {why}"));
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| bad("expected KEY=VALUE, e.g. error_floor_position_m=150"))?;
        let value: f64 = v.trim().parse().map_err(|_| bad("not a number"))?;
        let f = &mut cfg.fusion;
        let (slot, ok) = match k.trim() {
            "error_floor_position_m" => (&mut f.error_floor_position_m, (0.0..=1e6).contains(&value)),
            "error_floor_velocity_mps" => (&mut f.error_floor_velocity_mps, (0.0..=1e4).contains(&value)),
            "gate_probability" => (&mut f.gate_probability, value > 0.5 && value < 1.0),
            "max_age_s" => (&mut f.max_age_s, value > 0.0 && value <= 3600.0),
            _ => return Err(bad("unknown key; expected error_floor_position_m, error_floor_velocity_mps, gate_probability or max_age_s")),
        };
        if !ok {
            return Err(bad(
                "out of range (floors >= 0, gate_probability in (0.5, 1), max_age_s in (0, 3600])",
            ));
        }
        *slot = value;
    }
    Ok(cfg)
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

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting tokio")
}

/// A progress bar on a terminal; elsewhere a line every few seconds so a pipe is never silent.
struct Progress {
    bar: ProgressBar,
    piped: bool,
    last_line: Mutex<std::time::Instant>,
}

impl Progress {
    fn new(len: u64, what: &str) -> Arc<Self> {
        let piped = !std::io::stderr().is_terminal();
        let bar = ProgressBar::new(len);
        if piped {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {what} {{pos}}/{{len}} [{{bar:40}}] {{elapsed}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Arc::new(Progress {
            bar,
            piped,
            last_line: Mutex::new(std::time::Instant::now()),
        })
    }

    fn set(&self, pos: u64, what: &str) {
        self.bar.set_position(pos);
        if self.piped {
            let mut last = self.last_line.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed().as_secs_f64() >= 3.0 {
                *last = std::time::Instant::now();
                eprintln!("{what} {pos}/{}", self.bar.length().unwrap_or(0));
            }
        }
    }

    fn done(&self) {
        self.bar.finish_and_clear();
    }
}

pub fn run(args: Args) -> CliResult {
    if !(args.speed >= 0.0 && args.speed.is_finite()) {
        return Err(CliError::input(anyhow!(
            "--speed {}: expected a finite number ≥ 0",
            args.speed
        )));
    }
    let cfg = picture_config(&args)?;
    if args.runs == 0 {
        return Err(CliError::input(anyhow!("--runs 0: expected at least 1")));
    }
    if !args.out.as_os_str().is_empty() && args.out.is_file() {
        return Err(CliError::input(anyhow!(
            "--out {}: is a file; expected a directory",
            args.out.display()
        )));
    }
    eprintln!(
        "simulating {} (seed {})...",
        args.scenario
            .as_deref()
            .unwrap_or(trilink_sim::DEFAULT_BUILTIN),
        args.seed
    );
    let loaded = load_scenario(args.scenario.as_deref(), args.seed)?;
    let sc = loaded.fabric().clone();
    let bus = bus_choice(&args.bus, args.nats_dir.as_ref(), &sc)?;
    prepare_out(&args.out, &sc)?;
    if matches!(loaded, Loaded::Synthetic(_)) {
        return run_fabric_only(&args, &loaded, &sc, bus);
    }
    let (progress, opts) = paced_options(&args, &sc);
    let rt = runtime()?;
    let Loaded::Simulated { out, .. } = &loaded else {
        return Err(CliError::Other(anyhow!("simulated scenario expected")));
    };
    let started = std::time::Instant::now();
    // The simulator's files depend on the simulation alone (truth.csv is 350 MB on a raid):
    // they are written on another thread while the mission runs, which leaves a core idle
    // at times (a hub's relay pass runs alone).
    let (result, sim_written) = std::thread::scope(|s| {
        let writer = s.spawn(|| out.write(&args.out.join("sim"), &mut |_| {}));
        let result = rt.block_on(run_mission(&loaded, bus, opts, &cfg));
        (result, writer.join())
    });
    let result = result.context("running the nodes")?;
    progress.done();
    eprintln!(
        "fabric {:.1} s, fusion and warnings {:.1} s; writing files...",
        result.report.wall_s,
        started.elapsed().as_secs_f64() - result.report.wall_s
    );
    match sim_written {
        Ok(written) => {
            written.map_err(|e| CliError::Other(e.into()))?;
        }
        Err(panic) => std::panic::resume_unwind(panic),
    }
    write_outputs(&args, &sc, &result)?;
    let mc = if args.runs > 1 {
        Some(monte_carlo(&args, &result.outcomes, &cfg)?)
    } else {
        None
    };
    print_answer(&sc, &args, &result, mc.as_ref());
    let json = summary_json(&sc, &args, &result, mc.as_ref());
    write_json(&args.out.join("summary.json"), &json)?;
    crate::cmd::run_report::write(&args.out.join("report.html"), &sc, out, &result, &json)?;
    println!(
        "\nfiles: {0}/summary.json, {0}/report.html, {0}/<NATION>/{{tracks,fused,warnings}}.csv, {0}/<NATION>/cap/, {0}/sim/, journals {0}/<NATION>.journal.sqlite",
        args.out.display()
    );
    Ok(())
}

/// Makes the output directory and removes what an earlier run left, so nothing stale mixes in.
fn prepare_out(out: &Path, sc: &FabricScenario) -> Result<(), CliError> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for n in sc.nation_codes() {
        for suffix in ["", "-wal", "-shm"] {
            let p = out.join(format!("{n}.journal.sqlite{suffix}"));
            if p.exists() {
                std::fs::remove_file(&p)
                    .with_context(|| format!("removing old journal {}", p.display()))?;
            }
        }
        let dir = out.join(n.as_str());
        if dir.is_dir() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("removing old outputs {}", dir.display()))?;
        }
    }
    for f in ["summary.json", "report.html"] {
        let p = out.join(f);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    Ok(())
}

fn write_json(path: &Path, v: &serde_json::Value) -> Result<(), CliError> {
    std::fs::write(
        path,
        serde_json::to_string_pretty(v).context("encoding summary")? + "\n",
    )
    .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn track_row(e: &trilink_domain::TrackEstimate) -> TrackRow {
    let (s, p) = (&e.state, &e.covariance);
    TrackRow {
        time_s: e.time_s,
        track_id: e.track_number,
        x_m: s[0],
        y_m: s[1],
        z_m: s[2],
        vx_mps: s[3],
        vy_mps: s[4],
        vz_mps: s[5],
        cov_xx: p[0][0],
        cov_xy: p[0][1],
        cov_xz: p[0][2],
        cov_yy: p[1][1],
        cov_yz: p[1][2],
        cov_zz: p[2][2],
    }
}

fn write_tracks<'a>(
    path: &Path,
    rows: impl Iterator<Item = &'a trilink_domain::TrackEstimate>,
) -> Result<(), CliError> {
    let mut w = CsvWriter::<TrackRow>::create(path).map_err(|e| CliError::Other(e.into()))?;
    for e in rows {
        w.write(&track_row(e))
            .map_err(|e| CliError::Other(e.into()))?;
    }
    w.finish().map_err(|e| CliError::Other(e.into()))?;
    Ok(())
}

/// The nations' files (the simulator's are written alongside the mission).
fn write_outputs(args: &Args, sc: &FabricScenario, r: &MissionResult) -> Result<(), CliError> {
    let empty: Vec<NationalTrack> = Vec::new();
    for (n, (shared, alone)) in &r.pictures {
        let dir = args.out.join(n.as_str());
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let national = r.report.national.get(n).unwrap_or(&empty);
        write_tracks(
            &dir.join("tracks.csv"),
            national.iter().map(|t| &t.estimate),
        )?;
        write_tracks(
            &dir.join("fused.csv"),
            shared.fused.iter().map(|f| &f.estimate),
        )?;
        let warner =
            Warner::new(n.as_str(), &sc.regions, Default::default()).map_err(CliError::input)?;
        if warner.has_regions() {
            trilink_warn::write_csv(&dir.join("warnings.csv"), &shared.warnings)
                .map_err(|e| CliError::Other(e.into()))?;
            trilink_warn::write_csv(&dir.join("warnings-alone.csv"), &alone.warnings)
                .map_err(|e| CliError::Other(e.into()))?;
            let ctx = CapContext {
                sender: format!("trilink-{n}@example.invalid"),
                epoch_unix_s: sc.epoch_unix_s,
                regions: warner.regions().to_vec(),
            };
            trilink_warn::write_cap_dir(&dir.join("cap"), &shared.warnings, &ctx)
                .map_err(|e| CliError::Other(e.into()))?;
        }
        journal_picture(
            &args.out.join(format!("{n}.journal.sqlite")),
            sync_policy(&args.sync),
            &[(Mode::Shared, shared), (Mode::Alone, alone)],
        )?;
    }
    Ok(())
}

/// Records each picture's warnings and the contributions fusion refused in the node's journal.
fn journal_picture(
    path: &Path,
    sync: SyncPolicy,
    pics: &[(Mode, &Picture)],
) -> Result<(), CliError> {
    let mut j = Journal::open(path, sync).map_err(|e| CliError::Other(e.into()))?;
    let now = trilink_journal::now_unix_us();
    j.batch(|b| {
        for (mode, p) in pics {
            for w in &p.warnings {
                let line = trilink_warn::csv_line(w);
                b.warning(&WarningRecord {
                    warning_id: &w.warning_id,
                    state: w.state.as_str(),
                    time_s: w.time_s,
                    kind: w.kind.as_str(),
                    region: w.region.as_deref().unwrap_or(""),
                    mode: mode.as_str(),
                    row: &line,
                })?;
            }
            if *mode == Mode::Shared {
                for g in &p.gated_out {
                    let detail = format!(
                        "track {} available at t={:.3} s: {}",
                        g.track_number, g.available_s, g.detail
                    );
                    b.rejected(&RejectedRow {
                        t_unix_us: now,
                        origin: Some(g.source.as_str()),
                        node_id: None,
                        sequence: None,
                        reason: "fusion_gate",
                        detail: &detail,
                        bytes: &[],
                    })?;
                }
            }
        }
        Ok(())
    })
    .map_err(|e| CliError::Other(e.into()))?;
    Ok(())
}

/// The run's options with a progress bar over the scenario's duration.
fn paced_options(args: &Args, sc: &FabricScenario) -> (Arc<Progress>, RunOptions) {
    let progress = Progress::new(sc.duration_s.ceil() as u64, "scenario t (s)");
    let p2 = progress.clone();
    let opts = RunOptions {
        speed: args.speed,
        out_dir: Some(args.out.clone()),
        sync: sync_policy(&args.sync),
        seed: args.seed,
        progress: Some(Box::new(move |t_s| {
            p2.set(t_s.max(0.0) as u64, "scenario t (s)")
        })),
        relay: None,
    };
    (progress, opts)
}

/// The fabric demonstration without simulator or tracker (`trilink run synthetic`).
fn run_fabric_only(args: &Args, loaded: &Loaded, sc: &FabricScenario, bus: BusChoice) -> CliResult {
    let (progress, opts) = paced_options(args, sc);
    let rt = runtime()?;
    let sources = loaded.sources(args.seed).map_err(CliError::input)?;
    let report = rt
        .block_on(run_all(sc, bus, opts, sources))
        .context("running the nodes")?;
    progress.done();
    println!(
        "trilink run: scenario {} ({}), fabric only, {:.1} s wall clock",
        report.scenario,
        loaded.track_source(),
        report.wall_s
    );
    print_policy(sc);
    print_fabric(&report);
    let json = serde_json::json!({
        "scenario": report.scenario,
        "wall_s": report.wall_s,
        "track_source": loaded.track_source(),
        "nations": report.per_nation.iter().map(|(n, s)| fabric_json(n.as_str(), s)
            .as_object().cloned().map(|mut o| {
                o.insert("nation".into(), n.as_str().into());
                o.insert("first_warning_s".into(), serde_json::json!({"shared": null, "alone": null}));
                serde_json::Value::Object(o)
            }).unwrap_or_default()).collect::<Vec<_>>(),
    });
    write_json(&args.out.join("summary.json"), &json)?;
    println!(
        "journals, trust.txt and summary.json in {}",
        args.out.display()
    );
    Ok(())
}

fn fabric_json(_n: &str, s: &trilink_node::NodeStats) -> serde_json::Value {
    let lat = s.latency();
    serde_json::json!({
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
}

fn print_fabric(r: &RunReport) {
    println!("\nThe fabric (reports are track updates; a frame is one signed envelope carrying up to 256 of them):");
    println!(
        "  {:<6} {:>12} {:>8} {:>14} {:<22} {:>9} {:>14} {:>9} {:>9}",
        "nation",
        "reports sent",
        "frames",
        "reports recvd",
        "received from",
        "rejected",
        "lost on link",
        "p50 ms",
        "p99 ms"
    );
    for (n, s) in &r.per_nation {
        let from = s
            .received_from
            .iter()
            .map(|(o, c)| format!("{o}:{c}"))
            .collect::<Vec<_>>()
            .join(" ");
        let (p50, p99) = match s.latency() {
            Some(p) => (format!("{:.1}", p.p50_ms), format!("{:.1}", p.p99_ms)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "  {:<6} {:>12} {:>8} {:>14} {:<22} {:>9} {:>14} {:>9} {:>9}",
            n.as_str(),
            s.reports_sent,
            s.frames_sent,
            s.reports_received,
            if from.is_empty() { "-".into() } else { from },
            s.rejected_total(),
            s.lost_on_link,
            p50,
            p99
        );
    }
    println!("  lost on link: frame copies this node sent that its link model dropped (per destination).");
    println!(
        "  latency: sender seal to receiver journal commit, including the link's simulated delay."
    );
}

fn t(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |x| format!("{x:.0}"))
}

fn print_answer(
    sc: &FabricScenario,
    args: &Args,
    r: &MissionResult,
    mc: Option<&serde_json::Value>,
) {
    println!(
        "\ntrilink run: {} — {}\nseed {}, bus {}, the fabric ran {:.1} s of wall clock. Times are seconds after the scenario epoch.",
        sc.name, sc.description, args.seed, args.bus, r.report.wall_s
    );
    print_policy(sc);
    println!(
        "tracks: simulator detections -> each nation's own tracker; fusion and warnings per nation"
    );
    if r.truth_events.is_empty() {
        println!("Truth: no region of any nation was overflown or hit.");
    } else {
        // The first event per region; a payload and its spent stage often cross the same one.
        let mut first: BTreeMap<(&str, &str), &trilink_node::assess::RegionEvent> = BTreeMap::new();
        for e in &r.truth_events {
            first
                .entry((e.nation.as_str(), e.region.as_str()))
                .or_insert(e);
        }
        let ev: Vec<String> = first
            .values()
            .map(|e| {
                format!(
                    "{} {} {} at {:.0} s",
                    e.nation,
                    e.kind.as_str(),
                    e.region,
                    e.time_s
                )
            })
            .collect();
        println!("Truth: {}.", ev.join("; "));
    }
    println!("\nWho was warned, and when: \"alone\" uses the nation's own radars only, \"shared\" adds what allies' tracks bring.");
    println!(
        "  {:<6} {:>16} {:>16} {:>18} {:>18} {:>14} {:>10}",
        "nation",
        "1st detection",
        "1st track",
        "launch warning",
        "1st warning",
        "lead time",
        "gain"
    );
    println!(
        "  {:<6} {:>16} {:>16} {:>18} {:>18} {:>14} {:>10}",
        "",
        "own / reachable",
        "alone / shared",
        "alone / shared",
        "alone / shared",
        "alone / shared",
        "s"
    );
    for o in &r.outcomes {
        let pair = |p: &trilink_node::outcome::Pair| format!("{} / {}", t(p.alone), t(p.shared));
        println!(
            "  {:<6} {:>16} {:>16} {:>18} {:>18} {:>14} {:>10}",
            o.nation,
            format!(
                "{} / {}",
                t(o.first_detection_s.own),
                t(o.first_detection_s.reachable)
            ),
            pair(&o.first_track_s),
            pair(&o.first_launch_warning_s),
            pair(&o.first_warning_s),
            pair(&o.lead_time_s),
            o.gain_s.map_or("-".into(), |g| format!("{g:+.0}")),
        );
    }
    for o in &r.outcomes {
        println!("\n{}: {}", o.nation, headline(o));
        for reg in &o.regions {
            let Some(ev) = reg.truth_event else {
                if reg.first_warning_s.shared.is_some() || reg.first_warning_s.alone.is_some() {
                    println!(
                        "  {:<12} not affected; warned anyway at {} alone / {} shared (wrong area)",
                        reg.region,
                        t(reg.first_warning_s.alone),
                        t(reg.first_warning_s.shared)
                    );
                }
                continue;
            };
            let err = match (reg.impact_error_m.alone, reg.impact_error_m.shared) {
                (None, None) => String::new(),
                (a, s) => format!(
                    "; impact-point error at warning {} / {} km",
                    a.map_or("-".into(), |v| format!("{:.1}", v / 1e3)),
                    s.map_or("-".into(), |v| format!("{:.1}", v / 1e3))
                ),
            };
            println!(
                "  {:<12} {} at {:.0} s; warned at {} alone / {} shared; lead {} / {} s{err}",
                reg.region,
                ev,
                reg.truth_time_s.unwrap_or(f64::NAN),
                t(reg.first_warning_s.alone),
                t(reg.first_warning_s.shared),
                t(reg.lead_time_s.alone),
                t(reg.lead_time_s.shared),
            );
        }
        for p in sc.public_record.iter().filter(|p| p.nation == o.nation) {
            println!(
                "  public record: {}{} at {:.0} s",
                p.event,
                p.region
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default(),
                p.time_s
            );
        }
        let s = &o.scores_shared;
        let a = &o.scores_alone;
        println!(
            "  scored against truth: wrong-area {}/{}, missed {}/{}, false {}/{} (alone/shared); warning messages {}/{}",
            a.wrong_area, s.wrong_area, a.missed, s.missed, a.false_warnings, s.false_warnings,
            o.warnings_alone, o.warnings_shared
        );
    }
    print_fabric(&r.report);
    if let Some(mc) = mc {
        print_monte_carlo(mc);
    }
}

fn print_policy(sc: &FabricScenario) {
    println!(
        "policy: {}",
        sc.policy
            .iter()
            .map(|(o, rel)| format!("{o}→{}", rel.joined()))
            .collect::<Vec<_>>()
            .join("  ")
    );
    let mut relays: Vec<String> = sc
        .relays
        .iter()
        .flat_map(|r| {
            r.to.iter()
                .map(move |to| format!("{}→{to} via {}", r.from, r.via))
        })
        .collect();
    relays.sort();
    if !relays.is_empty() {
        println!("relay: {}", relays.join("  "));
    }
}

/// One sentence per nation, in words.
fn headline(o: &NationOutcome) -> String {
    let fw = &o.first_warning_s;
    if !o.affected {
        return match (fw.alone, fw.shared) {
            (None, None) => {
                "none of its regions was affected, and it warned no one (correct).".into()
            }
            _ => "none of its regions was affected, yet it warned (false warning).".into(),
        };
    }
    match (fw.alone, fw.shared) {
        (Some(a), Some(s)) if a - s >= 0.5 => format!(
            "warned {:.0} s earlier with sharing ({s:.0} s against {a:.0} s alone).",
            a - s
        ),
        (Some(a), Some(s)) if s - a >= 0.5 => format!(
            "warned {:.0} s later with sharing ({s:.0} s against {a:.0} s alone).",
            s - a
        ),
        (Some(a), Some(_)) => {
            format!("warned at the same time with or without sharing ({a:.0} s).")
        }
        (None, Some(s)) => format!("warned only with sharing, at {s:.0} s; alone it never warned."),
        (Some(a), None) => format!("warned alone at {a:.0} s but not with sharing."),
        (None, None) => "affected, but never warned (missed).".into(),
    }
}

fn summary_json(
    sc: &FabricScenario,
    args: &Args,
    r: &MissionResult,
    mc: Option<&serde_json::Value>,
) -> serde_json::Value {
    let nations: Vec<serde_json::Value> = r
        .outcomes
        .iter()
        .map(|o| {
            let mut v = serde_json::to_value(o).unwrap_or_default();
            if let (Some(obj), Some((_, s))) = (
                v.as_object_mut(),
                r.report
                    .per_nation
                    .iter()
                    .find(|(n, _)| n.as_str() == o.nation),
            ) {
                obj.insert("fabric".into(), fabric_json(&o.nation, s));
            }
            v
        })
        .collect();
    let mut v = serde_json::json!({
        "scenario": sc.name,
        "description": sc.description,
        "seed": args.seed,
        "bus": args.bus,
        "epoch_unix_s": sc.epoch_unix_s,
        "wall_s": r.report.wall_s,
        "runs": args.runs,
        "nations": nations,
        "truth": {
            "region_events": r.truth_events.iter().map(|e| serde_json::json!({
                "nation": e.nation, "region": e.region, "object_id": e.object_id,
                "kind": e.kind.as_str(), "time_s": e.time_s,
            })).collect::<Vec<_>>(),
            "landings": r.landings.iter().map(|l| serde_json::json!({
                "object_id": l.object_id, "time_s": l.time_s, "lat_deg": l.lat_deg, "lon_deg": l.lon_deg,
            })).collect::<Vec<_>>(),
        },
        "public_record": sc.public_record.iter().map(|p| serde_json::json!({
            "nation": p.nation, "region": p.region, "event": p.event, "time_s": p.time_s,
        })).collect::<Vec<_>>(),
        "definitions": {
            "times": "seconds after the scenario epoch",
            "first_warning_s": "first warning of any kind (launch included) issued to the nation",
            "lead_time_s": "first truth event in any of the nation's regions minus the first warning",
            "gain_s": "first warning alone minus first warning shared",
            "latency_s": "in warnings.csv: warning time minus the object's first detection by any radar whose data reaches the nation",
        },
    });
    if let (Some(obj), Some(mc)) = (v.as_object_mut(), mc) {
        obj.insert("monte_carlo".into(), mc.clone());
    }
    v
}

/// The per-seed figures Monte Carlo aggregates.
#[derive(Clone, Debug, Default)]
struct Sample {
    lead_shared: Option<f64>,
    lead_alone: Option<f64>,
    gain: Option<f64>,
    first_shared: Option<f64>,
    first_alone: Option<f64>,
    launch_latency_shared: Option<f64>,
    scores_shared: Scores,
    scores_alone: Scores,
    late_area_warnings: u32,
}

fn sample(o: &NationOutcome) -> Sample {
    Sample {
        lead_shared: o.lead_time_s.shared,
        lead_alone: o.lead_time_s.alone,
        gain: o.gain_s,
        first_shared: o.first_warning_s.shared,
        first_alone: o.first_warning_s.alone,
        launch_latency_shared: o.launch_latency_s.shared,
        scores_shared: o.scores_shared,
        scores_alone: o.scores_alone,
        late_area_warnings: o
            .regions
            .iter()
            .filter(|r| r.lead_time_s.shared.is_some_and(|l| l < 0.0))
            .count() as u32,
    }
}

/// Runs seeds seed+1 .. seed+runs-1 in memory (the first run is `first`) and aggregates.
fn monte_carlo(
    args: &Args,
    first: &[NationOutcome],
    cfg: &PictureConfig,
) -> Result<serde_json::Value, CliError> {
    let mut samples: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    for o in first {
        samples.entry(o.nation.clone()).or_default().push(sample(o));
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let next = AtomicU64::new(1);
    let collected: Mutex<Vec<(u64, Vec<NationOutcome>)>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<String>> = Mutex::new(None);
    let progress = Progress::new(u64::from(args.runs), "Monte Carlo runs");
    progress.set(1, "Monte Carlo runs");
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= u64::from(args.runs) {
                        break;
                    }
                    let seed = args.seed.wrapping_add(i);
                    let outcome = (|| -> anyhow::Result<Vec<NationOutcome>> {
                        let loaded = trilink_node::orchestrate::load(
                            args.scenario
                                .as_deref()
                                .unwrap_or(trilink_sim::DEFAULT_BUILTIN),
                            seed,
                        )?;
                        let opts = RunOptions {
                            speed: 0.0,
                            out_dir: None,
                            sync: SyncPolicy::Normal,
                            seed,
                            progress: None,
                            relay: None,
                        };
                        let r =
                            rt.block_on(run_mission(&loaded, BusChoice::Embedded, opts, cfg))?;
                        Ok(r.outcomes)
                    })();
                    match outcome {
                        Ok(o) => {
                            let mut c = collected.lock().unwrap_or_else(|p| p.into_inner());
                            c.push((seed, o));
                            progress.set(c.len() as u64 + 1, "Monte Carlo runs");
                        }
                        Err(e) => {
                            *failure.lock().unwrap_or_else(|p| p.into_inner()) =
                                Some(format!("seed {seed}: {e:#}"));
                            break;
                        }
                    }
                }
            });
        }
    });
    progress.done();
    if let Some(f) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(CliError::Other(anyhow!("Monte Carlo run failed: {f}")));
    }
    let mut runs = collected.into_inner().unwrap_or_else(|p| p.into_inner());
    runs.sort_by_key(|(seed, _)| *seed);
    for (_, outcomes) in &runs {
        for o in outcomes {
            samples.entry(o.nation.clone()).or_default().push(sample(o));
        }
    }
    let spread = |v: Vec<Option<f64>>| {
        let xs: Vec<f64> = v.into_iter().flatten().collect();
        serde_json::to_value(Spread::of(&xs)).unwrap_or_default()
    };
    let nations: Vec<serde_json::Value> = samples
        .iter()
        .map(|(n, ss)| {
            let mut shared = Scores::default();
            let mut alone = Scores::default();
            for s in ss {
                shared.add(&s.scores_shared);
                alone.add(&s.scores_alone);
            }
            let within_30 = ss
                .iter()
                .filter(|s| s.launch_latency_shared.is_some_and(|l| l <= 30.0))
                .count();
            let launches = ss.iter().filter(|s| s.launch_latency_shared.is_some()).count();
            serde_json::json!({
                "nation": n,
                "runs": ss.len(),
                "lead_time_s": {"shared": spread(ss.iter().map(|s| s.lead_shared).collect()),
                                "alone": spread(ss.iter().map(|s| s.lead_alone).collect())},
                "gain_s": spread(ss.iter().map(|s| s.gain).collect()),
                "first_warning_s": {"shared": spread(ss.iter().map(|s| s.first_shared).collect()),
                                    "alone": spread(ss.iter().map(|s| s.first_alone).collect())},
                "launch_latency_s": spread(ss.iter().map(|s| s.launch_latency_shared).collect()),
                "launch_warnings_within_30_s": within_30,
                "launch_warnings": launches,
                "area_warnings_after_the_event": ss.iter().map(|s| s.late_area_warnings).sum::<u32>(),
                "scores_shared": shared,
                "scores_alone": alone,
            })
        })
        .collect();
    Ok(serde_json::json!({
        "runs": args.runs,
        "seeds": [args.seed, args.seed.wrapping_add(u64::from(args.runs) - 1)],
        "nations": nations,
    }))
}

fn print_monte_carlo(mc: &serde_json::Value) {
    println!(
        "\nMonte Carlo over {} seeds (median [p10, p90]):",
        mc["runs"].as_u64().unwrap_or(0)
    );
    let sp = |v: &serde_json::Value| match (
        v["median"].as_f64(),
        v["p10"].as_f64(),
        v["p90"].as_f64(),
    ) {
        (Some(m), Some(a), Some(b)) => format!("{m:.0} [{a:.0}, {b:.0}]"),
        _ => "-".into(),
    };
    println!(
        "  {:<6} {:>22} {:>22} {:>20} {:>26} {:>26}",
        "nation",
        "lead shared s",
        "lead alone s",
        "gain s",
        "wrong/missed/false shared",
        "wrong/missed/false alone"
    );
    for n in mc["nations"].as_array().into_iter().flatten() {
        let sc = |k: &str| {
            format!(
                "{}/{}/{}",
                n[k]["wrong_area"], n[k]["missed"], n[k]["false"]
            )
        };
        println!(
            "  {:<6} {:>22} {:>22} {:>20} {:>26} {:>26}",
            n["nation"].as_str().unwrap_or("?"),
            sp(&n["lead_time_s"]["shared"]),
            sp(&n["lead_time_s"]["alone"]),
            sp(&n["gain_s"]),
            sc("scores_shared"),
            sc("scores_alone"),
        );
    }
}
