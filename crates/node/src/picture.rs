//! A nation's picture in scenario time: its own national tracks and the allied frames it
//! verified, fused into system tracks, and the warnings its regions get from them.
//!
//! Why scenario time and not arrival order (docs/decisions/0702): a run paces the trackers at
//! any speed, but a warning's time must be the time at which its evidence would have been in
//! hand in a real-time system. Each input is therefore *available* at its validity time plus
//! the modelled delay of the path it travelled (the scenario's link latency per hop, plus the
//! framing wait), and the picture processes inputs in that order. The same function serves
//! the shared picture, the picture alone (no allied input), and a hub's relay.
use std::collections::{BTreeMap, BTreeSet};

use trilink_domain::{product_release, Provenance, TrackEstimate};
use trilink_fusion::{Contribution, Fuser, FusionConfig, RenumberCause};
use trilink_warn::{TrackPicture, WarnConfig, Warner, WarningRow};
use trilink_wire::{Nation, RelTo, TrackReport};

use crate::runtime::AlliedFrame;
use crate::scenario::FabricScenario;
use crate::source::NationalTrack;
use crate::NodeError;

/// With allies' information, or with the nation's own radars only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    Shared,
    Alone,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Shared => "shared",
            Mode::Alone => "alone",
        }
    }
}

/// Settings of fusion, warnings and relay.
#[derive(Clone, Debug, Default)]
pub struct PictureConfig {
    pub fusion: FusionConfig,
    pub warn: WarnConfig,
}

/// How long a frame waits to be sealed at most (the node's `frame_max_age`), counted in every
/// hop's delay.
const FRAME_WAIT_S: f64 = 0.005;
/// A hub forwards each system track at most this often (scenario seconds): the trackers
/// report once a second.
const RELAY_PERIOD_S: f64 = 1.0;
/// How often members are aged out when nothing else happens.
const AGE_PERIOD_S: f64 = 1.0;

/// A fused system track at one update.
#[derive(Clone, Debug, PartialEq)]
pub struct FusedRow {
    pub estimate: TrackEstimate,
    pub contributors: BTreeSet<Nation>,
}

/// A contribution fusion left out, for the journal.
#[derive(Clone, Debug, PartialEq)]
pub struct GatedOut {
    pub available_s: f64,
    pub source: Nation,
    pub track_number: u64,
    pub detail: String,
}

/// What one nation's picture produced.
#[derive(Clone, Debug, Default)]
pub struct Picture {
    pub fused: Vec<FusedRow>,
    pub warnings: Vec<WarningRow>,
    pub gated_out: Vec<GatedOut>,
    /// (old, new) common track numbers.
    pub renumbered: Vec<(u64, u64)>,
    /// When the first system track appeared.
    pub first_track_s: Option<f64>,
    /// What this nation, as a hub, forwards: batches of fused products with their REL TO.
    pub relay: Vec<(Vec<TrackReport>, RelTo)>,
}

/// One input, with the time it is in hand.
struct Input {
    available_s: f64,
    source: Nation,
    /// A hub's fused products, kept apart from the same origin's national tracks.
    relayed: bool,
    batch: Vec<Contribution>,
}

/// Modelled delay from `from` to `to` for a frame carrying `provenance`.
fn path_delay_s(sc: &FabricScenario, from: Nation, to: Nation, provenance: &Provenance) -> f64 {
    let hop = |a: Nation, b: Nation| sc.link(a, b).latency_s + FRAME_WAIT_S;
    let first_leg = provenance
        .nations
        .iter()
        .filter(|&&c| c != from)
        .map(|&c| hop(c, from))
        .fold(0.0, f64::max);
    first_leg + hop(from, to)
}

/// Whether every nation in a relayed product's provenance released its information to `me`,
/// directly or through the sender: the receiver's own check, behind the hub's and the bus's.
fn relay_allowed(sc: &FabricScenario, me: Nation, via: Nation, p: &Provenance) -> bool {
    p.nations.iter().all(|&s| {
        s == me
            || s == via
            || sc.policy.rel_to(s).contains(me)
            || sc
                .relays
                .iter()
                .any(|r| r.from == s && r.via == via && r.to.contains(&me))
    })
}

fn inputs(
    sc: &FabricScenario,
    me: Nation,
    own: &[NationalTrack],
    allied: &[AlliedFrame],
    gated: &mut Vec<GatedOut>,
) -> Vec<Input> {
    let mut out: Vec<Input> = Vec::new();
    for t in own {
        let c = Contribution {
            source: me,
            estimate: t.estimate.clone(),
            provenance: Provenance::default(),
        };
        match out.last_mut() {
            Some(last) if last.source == me && last.available_s == t.estimate.time_s => {
                last.batch.push(c)
            }
            _ => out.push(Input {
                available_s: t.estimate.time_s,
                source: me,
                relayed: false,
                batch: vec![c],
            }),
        }
    }
    for f in allied {
        // A frame carries whatever the sender queued within its framing wait: at a fast pace,
        // several tracker updates. Each update (one validity time) is its own batch.
        for r in &f.reports {
            if !r.provenance.nations.is_empty() && !relay_allowed(sc, me, f.origin, &r.provenance) {
                gated.push(GatedOut {
                    available_s: r.time_s,
                    source: f.origin,
                    track_number: r.track_number,
                    detail: format!(
                        "relayed product carries {:?}, not all released to {me} through {}",
                        r.provenance.nations, f.origin
                    ),
                });
                continue;
            }
            let available_s = r.time_s + path_delay_s(sc, f.origin, me, &r.provenance);
            let relayed = !r.provenance.nations.is_empty();
            let c = Contribution {
                source: f.origin,
                estimate: r.to_estimate(),
                provenance: r.provenance.clone(),
            };
            match out.last_mut() {
                Some(last)
                    if last.source == f.origin
                        && last.relayed == relayed
                        && last.available_s == available_s =>
                {
                    last.batch.push(c)
                }
                _ => out.push(Input {
                    available_s,
                    source: f.origin,
                    relayed,
                    batch: vec![c],
                }),
            }
        }
    }
    // Stable: ties keep own before allied, and each origin's frames in sequence order.
    out.sort_by(|a, b| a.available_s.total_cmp(&b.available_s));
    out
}

/// Builds a nation's picture. `first_detection` says when the object a new system track is
/// about was first detected by radars whose data reaches the nation in this mode (from truth
/// in a simulation); `None` falls back to the track's first contribution.
pub fn build(
    sc: &FabricScenario,
    cfg: &PictureConfig,
    me: Nation,
    mode: Mode,
    own: &[NationalTrack],
    allied: &[AlliedFrame],
    first_detection: &dyn Fn(&TrackEstimate) -> Option<f64>,
) -> Result<Picture, NodeError> {
    build_for(sc, cfg, me, mode, own, allied, first_detection, true)
}

/// What a hub forwards: its shared picture's relay batches. The same fusion as [`build`], but
/// nobody reads this pass's warnings or fused rows (they do not feed fusion), so it skips them:
/// the warner was most of the relay pass's time.
pub fn relay(
    sc: &FabricScenario,
    cfg: &PictureConfig,
    hub: Nation,
    own: &[NationalTrack],
    allied: &[AlliedFrame],
) -> Result<Vec<(Vec<TrackReport>, RelTo)>, NodeError> {
    build_for(sc, cfg, hub, Mode::Shared, own, allied, &|_| None, false).map(|p| p.relay)
}

#[allow(clippy::too_many_arguments)] // build's arguments and whether the picture is wanted
fn build_for(
    sc: &FabricScenario,
    cfg: &PictureConfig,
    me: Nation,
    mode: Mode,
    own: &[NationalTrack],
    allied: &[AlliedFrame],
    first_detection: &dyn Fn(&TrackEstimate) -> Option<f64>,
    picture: bool,
) -> Result<Picture, NodeError> {
    let mut pic = Picture::default();
    let allied = if mode == Mode::Alone { &[] } else { allied };
    let events = inputs(sc, me, own, allied, &mut pic.gated_out);
    let mut fuser = Fuser::new(me, sc.ranks(), cfg.fusion);
    let mut warner = Warner::new(me.as_str(), &sc.regions, cfg.warn.clone()).map_err(|e| {
        NodeError::Scenario {
            path: sc.name.clone(),
            detail: e.to_string(),
        }
    })?;
    let warns = picture && warner.has_regions();
    let hub = mode == Mode::Shared && trilink_domain::relay::is_hub(&sc.relays, me);
    // The number the warner knows a track by never changes; fusion's may (renumbering).
    let mut key_of: BTreeMap<u64, u64> = BTreeMap::new();
    let mut first_seen: BTreeMap<u64, f64> = BTreeMap::new();
    let mut last_estimate: BTreeMap<u64, TrackEstimate> = BTreeMap::new();
    let mut last_relay: BTreeMap<u64, f64> = BTreeMap::new();
    let mut relay_batches: BTreeMap<Vec<Nation>, Vec<TrackReport>> = BTreeMap::new();
    let mut next_age_s = f64::NEG_INFINITY;

    let end_tracks = |now_s: f64,
                      ended: &[u64],
                      key_of: &mut BTreeMap<u64, u64>,
                      last_estimate: &mut BTreeMap<u64, TrackEstimate>,
                      first_seen: &BTreeMap<u64, f64>,
                      warner: &mut Warner,
                      out: &mut Vec<WarningRow>| {
        for ctn in ended {
            let key = key_of.remove(ctn).unwrap_or(*ctn);
            if let Some(last) = last_estimate.remove(ctn) {
                if warns {
                    let first = first_seen.get(&key).copied().unwrap_or(last.time_s);
                    out.extend(warner.track_ended(now_s, key, &last, first));
                }
            }
        }
    };

    for ev in events {
        let now_s = ev.available_s;
        if now_s >= next_age_s {
            let ended = fuser.age_out(now_s);
            end_tracks(
                now_s,
                &ended,
                &mut key_of,
                &mut last_estimate,
                &first_seen,
                &mut warner,
                &mut pic.warnings,
            );
            next_age_s = now_s + AGE_PERIOD_S;
        }
        let got = fuser.ingest(now_s, &ev.batch);
        for r in &got.rejected {
            pic.gated_out.push(GatedOut {
                available_s: now_s,
                source: r.source,
                track_number: r.track_number,
                detail: match r.d2 {
                    Some(d2) => format!("{:?} (d² = {d2:.1})", r.reason),
                    None => format!("{:?}", r.reason),
                },
            });
        }
        for rn in &got.renumbered {
            pic.renumbered.push((rn.old, rn.new));
            if rn.cause == RenumberCause::Merged {
                // The track merged away ends for the warner; the survivor keeps its own key.
                end_tracks(
                    now_s,
                    &[rn.old],
                    &mut key_of,
                    &mut last_estimate,
                    &first_seen,
                    &mut warner,
                    &mut pic.warnings,
                );
            } else if let Some(k) = key_of.remove(&rn.old) {
                key_of.insert(rn.new, k);
                if let Some(e) = last_estimate.remove(&rn.old) {
                    last_estimate.insert(rn.new, e);
                }
            }
        }
        end_tracks(
            now_s,
            &got.ended,
            &mut key_of,
            &mut last_estimate,
            &first_seen,
            &mut warner,
            &mut pic.warnings,
        );
        let mut pictures = Vec::new();
        // One look-up table per batch: a thousand updates must not each scan the picture.
        let by_ctn: std::collections::HashMap<u64, &trilink_fusion::SystemTrack> =
            fuser.system_tracks().map(|t| (t.ctn, t)).collect();
        for &ctn in &got.updated {
            let Some(st) = by_ctn.get(&ctn).copied() else {
                continue;
            };
            let key = *key_of.entry(ctn).or_insert(ctn);
            let first = *first_seen
                .entry(key)
                .or_insert_with(|| first_detection(&st.fused).unwrap_or(st.first_time_s));
            pic.first_track_s.get_or_insert(now_s);
            if picture {
                pic.fused.push(FusedRow {
                    estimate: st.fused.clone(),
                    contributors: st.contributors.clone(),
                });
            }
            last_estimate.insert(ctn, st.fused.clone());
            if warns {
                let mut evidence = vec![ctn];
                evidence.extend(st.members.values().map(|m| m.estimate.track_number));
                pictures.push((key, st.fused.clone(), evidence, first));
            }
            if hub
                && last_relay
                    .get(&ctn)
                    .is_none_or(|&t| now_s - t >= RELAY_PERIOD_S)
            {
                let rel = product_release(&sc.policy, &sc.relays, me, &st.contributors);
                if !rel.is_empty() {
                    last_relay.insert(ctn, now_s);
                    let provenance = Provenance {
                        nations: st.contributors.clone(),
                        common_track: Some(ctn),
                    };
                    relay_batches
                        .entry(rel.iter().collect())
                        .or_default()
                        .push(TrackReport::from_estimate(&st.fused, provenance));
                }
            }
        }
        if !pictures.is_empty() {
            let views: Vec<TrackPicture<'_>> = pictures
                .iter()
                .map(|(key, e, evidence, first)| TrackPicture {
                    ctn: *key,
                    estimate: e,
                    evidence: evidence.clone(),
                    first_detection_s: *first,
                })
                .collect();
            pic.warnings.extend(warner.update(now_s, &views));
        }
    }
    // The run is over: whatever is still held ends now.
    let end_s = last_estimate
        .values()
        .map(|e| e.time_s)
        .fold(f64::NEG_INFINITY, f64::max);
    let remaining: Vec<u64> = last_estimate.keys().copied().collect();
    if end_s.is_finite() {
        end_tracks(
            end_s,
            &remaining,
            &mut key_of,
            &mut last_estimate,
            &first_seen,
            &mut warner,
            &mut pic.warnings,
        );
    }
    pic.relay = relay_batches
        .into_iter()
        .map(|(dests, reports)| (reports, RelTo::new(dests)))
        .collect();
    Ok(pic)
}
