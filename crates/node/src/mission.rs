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
        picture::build(
            &sc_relay,
            &cfg_relay,
            hub,
            Mode::Shared,
            own,
            allied,
            &|_| None,
        )
        .map(|p| p.relay)
        .unwrap_or_default()
    }));
    let sources = loaded.sources(opts.seed)?;
    let report = run_all(sc, bus, opts, sources).await?;

    let regions: Vec<Region> = sc
        .regions
        .iter()
        .filter_map(|r| Region::new(r).ok())
        .collect();
    let truth_events = truth.region_events(&regions);
    let landings = truth.landings();
    let mut pictures = BTreeMap::new();
    let mut outcomes = Vec::new();
    let empty = Vec::new();
    for &n in &nations {
        let own = report.national.get(&n).unwrap_or(&empty);
        let allied = report.allied.get(&n).map(Vec::as_slice).unwrap_or(&[]);
        // Which object a track is about, and so when that object was first seen.
        let first_of = |table: &BTreeMap<u64, f64>, e: &trilink_domain::TrackEstimate| {
            let (obj, _) = truth.nearest_object(e.time_s, &[e.state[0], e.state[1], e.state[2]])?;
            table.get(&obj).copied()
        };
        let reach_table = &first_reach[&n];
        let own_table = &first_own[&n];
        let shared = picture::build(sc, cfg, n, Mode::Shared, own, allied, &|e| {
            first_of(reach_table, e)
        })?;
        let alone = picture::build(sc, cfg, n, Mode::Alone, own, &[], &|e| {
            first_of(own_table, e)
        })?;
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
