//! One whole run of the system on a simulated scenario, answering its question: every nation
//! tracks its own radars, shares over the fabric, fuses, and warns, with sharing and without
//! (same seed, same detections), scored against truth.
use std::collections::{BTreeMap, HashSet};

use trilink_warn::geometry::Region;
use trilink_wire::Nation;

use crate::assess::{RegionEvent, Truth};
use crate::orchestrate::{run_all, BusChoice, Loaded, RunOptions, RunReport};
use crate::outcome::{nation_outcome, ModeResult, NationOutcome};
use crate::picture::{self, Mode, Picture, PictureConfig};
use crate::NodeError;

/// What a run produced, in memory.
pub struct MissionResult {
    pub report: RunReport,
    /// Per nation: (shared, alone).
    pub pictures: BTreeMap<Nation, (Picture, Picture)>,
    pub outcomes: Vec<NationOutcome>,
    pub truth_events: Vec<RegionEvent>,
    pub landings: Vec<crate::assess::Landing>,
}

/// The nations whose information reaches `n` directly or through a relay, `n` included.
pub fn reaching(sc: &crate::FabricScenario, n: Nation) -> Vec<Nation> {
    sc.nation_codes()
        .into_iter()
        .filter(|&s| {
            s == n
                || sc.policy.rel_to(s).contains(n)
                || sc.relays.iter().any(|r| {
                    r.from == s && r.to.contains(&n) && sc.policy.rel_to(r.via).contains(n)
                })
        })
        .collect()
}

/// Runs the fabric on `loaded` (which must be simulated), then each nation's picture with
/// sharing and alone, and scores both against truth.
pub async fn run_mission(
    loaded: &Loaded,
    bus: BusChoice,
    mut opts: RunOptions,
    cfg: &PictureConfig,
) -> Result<MissionResult, NodeError> {
    let Loaded::Simulated { fabric: sc, out } = loaded else {
        return Err(NodeError::Scenario {
            path: crate::orchestrate::SYNTHETIC.into(),
            detail: "warnings need a simulated scenario (a built-in name or a scenario file)"
                .into(),
        });
    };
    let truth = Truth::new(out);
    let sensors_of = |nations: &[Nation]| -> HashSet<&str> {
        out.sensors
            .iter()
            .filter(|s| nations.iter().any(|n| n.as_str() == s.nation))
            .map(|s| s.sensor_id.as_str())
            .collect()
    };
    let nations = sc.nation_codes();
    // First detection per object, per nation, by own radars and by every radar that reaches it.
    let mut first_own = BTreeMap::new();
    let mut first_reach = BTreeMap::new();
    for &n in &nations {
        first_own.insert(n, truth.first_detections(&sensors_of(&[n])));
        first_reach.insert(n, truth.first_detections(&sensors_of(&reaching(sc, n))));
    }
    let sc_relay = sc.clone();
    let cfg_relay = cfg.clone();
    opts.relay = Some(Box::new(move |hub, own, allied| {
        picture::relay(&sc_relay, &cfg_relay, hub, own, allied).unwrap_or_default()
    }));
    let sources = loaded.sources(opts.seed)?;
    let report = run_all(sc, bus, opts, sources).await?;

    let regions: Vec<Region> = sc
        .regions
        .iter()
        .filter_map(|r| Region::new(r).ok())
        .collect();
    let empty = Vec::new();
    // The pictures (nation × mode) and the truth scan are independent of one another and
    // deterministic: they run on every core, each job whole on one thread, and are put
    // together in the nations' order as before.
    let jobs: Vec<(Nation, Mode)> = [Mode::Shared, Mode::Alone]
        .into_iter()
        .flat_map(|m| nations.iter().map(move |&n| (n, m)))
        .collect();
    let build_one = |n: Nation, mode: Mode| -> Result<Picture, NodeError> {
        let own = report.national.get(&n).unwrap_or(&empty);
        // Which object a track is about, and so when that object was first seen.
        let first_of = |table: &BTreeMap<u64, f64>, e: &trilink_domain::TrackEstimate| {
            let (obj, _) = truth.nearest_object(e.time_s, &[e.state[0], e.state[1], e.state[2]])?;
            table.get(&obj).copied()
        };
        match mode {
            Mode::Shared => {
                let allied = report.allied.get(&n).map(Vec::as_slice).unwrap_or(&[]);
                let table = &first_reach[&n];
                picture::build(sc, cfg, n, mode, own, allied, &|e| first_of(table, e))
            }
            Mode::Alone => {
                let table = &first_own[&n];
                picture::build(sc, cfg, n, mode, own, &[], &|e| first_of(table, e))
            }
        }
    };
    let mut built: BTreeMap<(Nation, Mode), Result<Picture, NodeError>> = BTreeMap::new();
    let mut truth_events = Vec::new();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, jobs.len() + 1);
    // The pictures, the longest (shared) first, then the short truth scan: each worker takes
    // the next job not taken.
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        let work = || {
            let mut done = Vec::new();
            let mut events = None;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if let Some(&(n, mode)) = jobs.get(i) {
                    done.push(((n, mode), build_one(n, mode)));
                } else if i == jobs.len() {
                    events = Some(truth.region_events(&regions));
                } else {
                    return (done, events);
                }
            }
        };
        let handles: Vec<_> = (1..workers).map(|_| s.spawn(work)).collect();
        let mut results = vec![work()];
        for h in handles {
            match h.join() {
                Ok(r) => results.push(r),
                // A panic in a picture is a bug: it goes on as it would have without threads.
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        for (done, events) in results {
            built.extend(done);
            if let Some(e) = events {
                truth_events = e;
            }
        }
    });
    let landings = truth.landings();
    let mut pictures = BTreeMap::new();
    let mut outcomes = Vec::new();
    for &n in &nations {
        let (Some(shared), Some(alone)) = (
            built.remove(&(n, Mode::Shared)),
            built.remove(&(n, Mode::Alone)),
        ) else {
            continue;
        };
        let (shared, alone) = (shared?, alone?);
        let reach_table = &first_reach[&n];
        let own_table = &first_own[&n];
        let names: Vec<String> = regions
            .iter()
            .filter(|r| r.nation() == n.as_str())
            .map(|r| r.name().to_string())
            .collect();
        let earliest = |t: &BTreeMap<u64, f64>| t.values().copied().reduce(f64::min);
        outcomes.push(nation_outcome(
            n.as_str(),
            &names,
            &truth_events,
            &landings,
            earliest(own_table),
            &ModeResult {
                warnings: &shared.warnings,
                first_track_s: shared.first_track_s,
                first_detection_s: earliest(reach_table),
            },
            &ModeResult {
                warnings: &alone.warnings,
                first_track_s: alone.first_track_s,
                first_detection_s: earliest(own_table),
            },
        ));
        pictures.insert(n, (shared, alone));
    }
    Ok(MissionResult {
        report,
        pictures,
        outcomes,
        truth_events,
        landings,
    })
}
