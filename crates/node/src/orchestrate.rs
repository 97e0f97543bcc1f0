//! Running every nation of a scenario at once: what `trilink run` does.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use tokio::time::Instant;
use trilink_bus::embedded::EmbeddedBus;
use trilink_bus::nats::{ensure_streams, Credentials, NatsTransport};
use trilink_bus::Permissions;
use trilink_journal::{Journal, SyncPolicy};
use trilink_wire::{Identity, Nation, RelTo, TrackReport, TrustStore};

use crate::runtime::{run_node, AlliedFrame, NodeConfig, NodeHandle};
use crate::scenario::FabricScenario;
use crate::source::NationalTrack;
use crate::source::{SyntheticSource, TrackSource};
use crate::stats::NodeStats;
use crate::NodeError;

/// Which bus carries the run.
pub enum BusChoice {
    Embedded,
    Nats {
        url: String,
        creds: BTreeMap<Nation, Credentials>,
        admin: Credentials,
    },
}

pub struct RunOptions {
    /// Scenario seconds per wall-clock second; 0 sends as fast as possible.
    pub speed: f64,
    /// Where each nation's journal goes (`<NATION>.journal.sqlite`); `None` keeps them in memory.
    pub out_dir: Option<PathBuf>,
    pub sync: SyncPolicy,
    pub seed: u64,
    /// Called with the scenario time reached, now and then.
    pub progress: Option<Box<dyn Fn(f64) + Send + Sync>>,
    /// The hubs' fusion, called once every national report has been delivered; `None`: no
    /// relay.
    pub relay: Option<Box<RelayFn>>,
}

pub struct RunReport {
    pub scenario: String,
    pub per_nation: Vec<(Nation, NodeStats)>,
    pub wall_s: f64,
    /// Every nation's own confirmed-track updates, in time order.
    pub national: BTreeMap<Nation, Vec<NationalTrack>>,
    /// Every verified allied track frame each nation journaled, national and relayed.
    pub allied: BTreeMap<Nation, Vec<AlliedFrame>>,
}

/// What a hub forwards: given the hub, its own national tracks and the allied frames it
/// received, the fused products to relay, each batch with the REL TO it may carry.
pub type RelayFn = dyn Fn(Nation, &[NationalTrack], &[AlliedFrame]) -> Vec<(Vec<TrackReport>, RelTo)>
    + Send
    + Sync;

/// Runs every nation's node on one bus, each fed by its own source, and returns what each
/// counted.
pub async fn run_all(
    sc: &FabricScenario,
    bus: BusChoice,
    opts: RunOptions,
    sources: BTreeMap<Nation, Box<dyn TrackSource>>,
) -> Result<RunReport, NodeError> {
    let t0 = Instant::now();
    let nations = sc.nation_codes();
    let ids: BTreeMap<Nation, Identity> = nations
        .iter()
        .map(|&n| (n, Identity::generate(n, format!("{n}-node"))))
        .collect();
    let mut trust = TrustStore::new();
    for (n, id) in &ids {
        trust.trust(*n, id.verifying_key());
    }
    if let Some(dir) = &opts.out_dir {
        let lines: Vec<String> = ids.values().map(|i| i.trust_line()).collect();
        std::fs::write(dir.join("trust.txt"), lines.join("\n") + "\n").map_err(|e| {
            NodeError::Scenario {
                path: dir.display().to_string(),
                detail: e.to_string(),
            }
        })?;
    }
    let mut handles: BTreeMap<Nation, NodeHandle> = BTreeMap::new();
    let embedded = EmbeddedBus::new();
    let run_tag = trilink_journal::now_unix_us();
    if let BusChoice::Nats { url, admin, .. } = &bus {
        ensure_streams(url, admin, &nations).await?;
    }
    for (i, (n, id)) in ids.into_iter().enumerate() {
        let mut cfg = NodeConfig::new(n, format!("{n}-node"), sc.policy.rel_to(n));
        cfg.links = nations.iter().map(|&d| (d, sc.link(n, d))).collect();
        cfg.link_seed = opts.seed.wrapping_add(i as u64);
        let journal = match &opts.out_dir {
            Some(d) => Some(Journal::open(
                &d.join(format!("{n}.journal.sqlite")),
                opts.sync,
            )?),
            None => None,
        };
        let h = match &bus {
            BusChoice::Embedded => {
                run_node(
                    cfg,
                    id,
                    trust.clone(),
                    journal,
                    embedded.client(Permissions::for_nation(n, &sc.policy)),
                )
                .await?
            }
            BusChoice::Nats { url, creds, .. } => {
                let c = creds.get(&n).ok_or_else(|| NodeError::Scenario {
                    path: "nats credentials".into(),
                    detail: format!("no credentials for {n}"),
                })?;
                let t = NatsTransport::connect(url, c, n, &format!("{n}-run-{run_tag}"))
                    .await?
                    .only_new_messages();
                run_node(cfg, id, trust.clone(), journal, t).await?
            }
        };
        handles.insert(n, h);
    }
    // Each node's verified allied frames, gathered as the node accepts them.
    type Gathered = std::sync::Arc<std::sync::Mutex<Vec<AlliedFrame>>>;
    let mut gathered: BTreeMap<Nation, Gathered> = BTreeMap::new();
    let mut collectors = tokio::task::JoinSet::new();
    for (n, h) in handles.iter_mut() {
        if let Some(mut rx) = h.allied.take() {
            let store = Gathered::default();
            gathered.insert(*n, store.clone());
            collectors.spawn(async move {
                while let Some(f) = rx.recv().await {
                    store.lock().unwrap_or_else(|p| p.into_inner()).push(f);
                }
            });
        }
    }
    let progress: Option<std::sync::Arc<dyn Fn(f64) + Send + Sync>> =
        opts.progress.map(std::sync::Arc::from);
    // Trackers are CPU work: each runs on its own blocking thread so that the nodes' async
    // tasks (and so the latency they measure) never wait behind a tracker update.
    let mut drivers = tokio::task::JoinSet::new();
    for (n, mut src) in sources {
        let tx = handles.get(&n).and_then(|h| h.outbound.clone());
        let speed = opts.speed;
        let progress = progress.clone();
        drivers.spawn_blocking(move || {
            let start = std::time::Instant::now();
            let mut kept = Vec::new();
            while let Some((t_s, tracks)) = src.next_update() {
                if speed > 0.0 {
                    let due = Duration::from_secs_f64(t_s.max(0.0) / speed);
                    if let Some(wait) = due.checked_sub(start.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                for t in &tracks {
                    if let Some(tx) = &tx {
                        // A closed queue means the node stopped: keep tracking for the record.
                        let _ = tx.blocking_send(t.to_report());
                    }
                }
                kept.extend(tracks);
                if let Some(p) = &progress {
                    p(t_s);
                }
            }
            (n, kept)
        });
    }
    let mut national = BTreeMap::new();
    while let Some(done) = drivers.join_next().await {
        let (n, kept) = done.map_err(|e| NodeError::Task(e.to_string()))?;
        national.insert(n, kept);
    }
    // Let the slowest link deliver its last frames.
    let max_delay_s = sc
        .links
        .values()
        .map(|l| l.latency_s + l.jitter_s)
        .fold(0.0, f64::max);
    let settle = Duration::from_secs_f64(max_delay_s + 0.3);
    tokio::time::sleep(settle).await;
    if let Some(relay) = &opts.relay {
        // The hubs fuse what reached them and forward what the relay rules allow.
        let hubs: Vec<Nation> = nations
            .iter()
            .copied()
            .filter(|&n| trilink_domain::relay::is_hub(&sc.relays, n))
            .collect();
        if !hubs.is_empty() {
            for hub in hubs {
                let received: Vec<AlliedFrame> = gathered
                    .get(&hub)
                    .map(|g| g.lock().unwrap_or_else(|p| p.into_inner()).clone())
                    .unwrap_or_default();
                let own = national.get(&hub).map(Vec::as_slice).unwrap_or(&[]);
                let products = relay(hub, own, &received);
                if let Some(tx) = handles.get(&hub).and_then(|h| h.relay.clone()) {
                    for p in products {
                        if tx.send(p).await.is_err() {
                            break;
                        }
                    }
                }
            }
            for h in handles.values_mut() {
                h.finish_sending().await?;
            }
            tokio::time::sleep(settle).await;
        }
    }
    for h in handles.values_mut() {
        h.finish_sending().await?;
    }
    let mut per_nation = Vec::new();
    for (n, h) in handles {
        per_nation.push((n, h.stop().await?));
    }
    while let Some(done) = collectors.join_next().await {
        done.map_err(|e| NodeError::Task(e.to_string()))?;
    }
    let allied = gathered
        .into_iter()
        .map(|(n, g)| {
            let frames = std::mem::take(&mut *g.lock().unwrap_or_else(|p| p.into_inner()));
            (n, frames)
        })
        .collect();
    Ok(RunReport {
        scenario: sc.name.clone(),
        per_nation,
        wall_s: t0.elapsed().as_secs_f64(),
        national,
        allied,
    })
}

/// One synthetic source per nation (until the tracker is wired in).
pub fn synthetic_sources(sc: &FabricScenario, seed: u64) -> BTreeMap<Nation, Box<dyn TrackSource>> {
    sc.nation_codes()
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            (
                n,
                Box::new(SyntheticSource::new(sc, n, seed.wrapping_add(i as u64)))
                    as Box<dyn TrackSource>,
            )
        })
        .collect()
}

/// A scenario ready to run: either the fabric's own synthetic demonstration, or a simulator
/// scenario whose detections feed each nation's tracker.
pub enum Loaded {
    Synthetic(FabricScenario),
    Simulated {
        fabric: FabricScenario,
        out: Box<trilink_sim::SimOutput>,
    },
}

/// Name of the fabric's own synthetic scenario (no simulator, no tracker).
pub const SYNTHETIC: &str = "synthetic";

/// `synthetic`, or a simulator built-in name or scenario file (simulated here with `seed`).
pub fn load(name_or_path: &str, seed: u64) -> Result<Loaded, NodeError> {
    if name_or_path == SYNTHETIC {
        return Ok(Loaded::Synthetic(FabricScenario::builtin_default()));
    }
    let s = trilink_sim::Scenario::resolve(name_or_path).map_err(|e| NodeError::Scenario {
        path: name_or_path.to_string(),
        detail: e.to_string(),
    })?;
    let out = crate::tracked::simulate(&s, seed)?;
    let fabric = crate::tracked::fabric_scenario(&s, out.end_s)?;
    Ok(Loaded::Simulated {
        fabric,
        out: Box::new(out),
    })
}

impl Loaded {
    pub fn fabric(&self) -> &FabricScenario {
        match self {
            Loaded::Synthetic(f) => f,
            Loaded::Simulated { fabric, .. } => fabric,
        }
    }

    /// What feeds the nodes, for summaries.
    pub fn track_source(&self) -> &'static str {
        match self {
            Loaded::Synthetic(_) => "synthetic arcs (no simulator, no tracker)",
            Loaded::Simulated { .. } => "simulator detections -> each nation's own tracker",
        }
    }

    pub fn source(&self, nation: Nation, seed: u64) -> Result<Box<dyn TrackSource>, NodeError> {
        Ok(match self {
            Loaded::Synthetic(f) => Box::new(SyntheticSource::new(f, nation, seed)),
            Loaded::Simulated { fabric, out } => Box::new(crate::tracked::TrackerSource::new(
                out,
                nation,
                fabric.report_period_s,
                fabric.duration_s,
            )?),
        })
    }

    pub fn sources(&self, seed: u64) -> Result<BTreeMap<Nation, Box<dyn TrackSource>>, NodeError> {
        let mut m = BTreeMap::new();
        for (i, n) in self.fabric().nation_codes().into_iter().enumerate() {
            m.insert(n, self.source(n, seed.wrapping_add(i as u64))?);
        }
        Ok(m)
    }
}

/// The nations, policy and links of a scenario without simulating it (for configuration).
pub fn load_fabric_only(name_or_path: &str) -> Result<FabricScenario, NodeError> {
    if name_or_path == SYNTHETIC {
        return Ok(FabricScenario::builtin_default());
    }
    let s = trilink_sim::Scenario::resolve(name_or_path).map_err(|e| NodeError::Scenario {
        path: name_or_path.to_string(),
        detail: e.to_string(),
    })?;
    crate::tracked::fabric_scenario(&s, s.duration_s.unwrap_or(0.0))
}
