//! `trilink node`: one nation's node as its own process, over NATS.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context};
use trilink_bus::nats::{Credentials, NatsTransport};
use trilink_journal::Journal;
use trilink_node::{run_node, NodeConfig};
use trilink_wire::{Identity, Nation, TrustStore};

use crate::cmd::run::{load_scenario, sync_policy};
use crate::exit::{CliError, CliResult};

/// Run one nation's node: share its tracks with the nations its policy releases them to, and
/// verify, journal and acknowledge what allies send it.
///
/// The node resumes from its journal: it continues its sequence numbers, republishes envelopes
/// the bus never acknowledged, and recognises redelivered envelopes instead of processing them
/// twice. It exits once it has sent its tracks and nothing has arrived for --idle-exit-s, or on
/// Ctrl-C / SIGTERM.
///
/// Example (after `trilink keys init` for each nation into keys/ and `trilink nats-config`):
///
///   trilink node --nation KR --bus nats://127.0.0.1:4222 --nats-dir nats --keys keys
#[derive(clap::Args, Debug)]
pub struct Args {
    /// ISO 3166-1 alpha-2 code of this node's nation.
    #[arg(long)]
    pub nation: String,

    /// Scenario: a built-in name, a file, or `synthetic` (default: the simulator's default
    /// built-in). Every node simulates the same world from the same seed and tracks its own
    /// sensors' detections.
    #[arg(long)]
    pub scenario: Option<String>,

    /// NATS server URL.
    #[arg(long)]
    pub bus: String,

    /// Directory written by `trilink nats-config`; this node reads only <NATION>.credentials.
    #[arg(long)]
    pub nats_dir: PathBuf,

    /// Key directory: <NATION>.key.pem, trust.txt and optionally revoked.txt.
    #[arg(long)]
    pub keys: PathBuf,

    /// Journal file (default: out/node/<NATION>.journal.sqlite).
    #[arg(long)]
    pub journal: Option<PathBuf>,

    /// Scenario seconds per wall-clock second for this node's own tracks; 0 = as fast as possible.
    #[arg(long, default_value_t = 100.0)]
    pub speed: f64,

    /// Send at most this many track reports of the node's own (0 sends none: receive only).
    #[arg(long)]
    pub max_reports: Option<u64>,

    /// Exit after this many seconds with nothing received, once sending is done.
    #[arg(long, default_value_t = 3.0)]
    pub idle_exit_s: f64,

    /// Accept envelopes sealed up to this long ago (a node restarting after a long outage
    /// needs more).
    #[arg(long, default_value_t = 120.0)]
    pub max_age_s: f64,

    /// Journal sync policy: `full` or `normal`.
    #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
    pub sync: String,
}

pub fn run(args: Args) -> CliResult {
    let nation: Nation = args
        .nation
        .parse()
        .map_err(|e| CliError::input(anyhow!("--nation: {e}")))?;
    let loaded = load_scenario(args.scenario.as_deref(), 1)?;
    let sc = loaded.fabric().clone();
    if sc.nation(nation).is_none() {
        return Err(CliError::input(anyhow!(
            "--nation {nation}: not a nation of scenario {}",
            sc.name
        )));
    }
    if !args.bus.starts_with("nats://") {
        return Err(CliError::input(anyhow!(
            "--bus {:?}: a lone node needs a NATS server URL (nats://HOST:PORT); `trilink run` runs all nations on the embedded bus",
            args.bus
        )));
    }
    let creds = Credentials::read(&args.nats_dir.join(format!("{nation}.credentials")))
        .map_err(CliError::input)?;
    let node_id = format!("{nation}-node");
    let identity = Identity::read_private_key(
        nation,
        node_id.clone(),
        &args.keys.join(format!("{nation}.key.pem")),
    )
    .map_err(CliError::input)?;
    let trust = TrustStore::load_dir(&args.keys).map_err(CliError::input)?;
    let journal_path = args
        .journal
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("out/node/{nation}.journal.sqlite")));
    if let Some(parent) = journal_path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let journal = Journal::open(&journal_path, sync_policy(&args.sync))
        .map_err(|e| CliError::Other(e.into()))?;
    let mut cfg = NodeConfig::new(nation, node_id.clone(), sc.policy.rel_to(nation));
    cfg.links = sc
        .nation_codes()
        .into_iter()
        .map(|d| (d, sc.link(nation, d)))
        .collect();
    cfg.limits.max_age_us = (args.max_age_s * 1e6) as i64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting tokio")?;
    let max_reports = args.max_reports.unwrap_or(u64::MAX);
    let stats = rt.block_on(async {
        let t = NatsTransport::connect(&args.bus, &creds, nation, &node_id).await?;
        let mut h = run_node(cfg, identity, trust, Some(journal), t).await?;
        let mut src = loaded.source(nation, 1)?;
        let tx = h.outbound.clone();
        let start = tokio::time::Instant::now();
        let mut sent = 0u64;
        let mut interrupted = false;
        'feed: while sent < max_reports {
            let Some((t_s, tracks)) = src.next_update() else { break };
            if args.speed > 0.0 {
                tokio::select! {
                    _ = tokio::time::sleep_until(start + Duration::from_secs_f64(t_s / args.speed)) => {}
                    _ = tokio::signal::ctrl_c() => { interrupted = true; break 'feed; }
                }
            }
            for tr in tracks {
                if sent >= max_reports {
                    break;
                }
                if let Some(tx) = &tx {
                    if tx.send(tr.to_report()).await.is_err() {
                        break 'feed;
                    }
                }
                sent += 1;
            }
        }
        drop(tx);
        h.finish_sending().await?;
        println!("{nation}: sent {sent} reports; receiving until idle for {} s", args.idle_exit_s);
        let mut last = -1i64;
        let mut idle_since = tokio::time::Instant::now();
        // A Ctrl-C during sending skips the wait for the allies' last reports.
        if !interrupted {
            loop {
                let s = h.stats();
                let seen = (s.frames_received + s.heartbeats_received + s.duplicates + s.rejected_total()) as i64;
                if seen != last {
                    last = seen;
                    idle_since = tokio::time::Instant::now();
                } else if idle_since.elapsed().as_secs_f64() >= args.idle_exit_s {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = tokio::signal::ctrl_c() => break,
                }
            }
        }
        h.stop().await
    });
    let stats = stats.context("running the node")?;
    let lat = stats.latency();
    println!(
        "{nation}: sent {} reports in {} frames; received {} reports in {} frames {:?}; duplicates {}; rejected {:?}; republished {}; latency p50 {} ms p99 {} ms",
        stats.reports_sent,
        stats.frames_sent,
        stats.reports_received,
        stats.frames_received,
        stats.received_from,
        stats.duplicates,
        stats.rejected,
        stats.republished,
        lat.map_or("-".into(), |p| format!("{:.2}", p.p50_ms)),
        lat.map_or("-".into(), |p| format!("{:.2}", p.p99_ms)),
    );
    println!("journal {}", journal_path.display());
    Ok(())
}
