//! The incremental fuser a node drives: contributions in, system tracks with common track
//! numbers out.
//!
//! Per batch (one source's tracker update or one received frame): members already paired are
//! gated against their system track and kept (memory) unless they fail the gate K times in a
//! row; new source tracks are assigned to system tracks by GNN or start their own; every
//! system track touched is re-fused (align members to its newest time, inflate members shown
//! inconsistent, covariance intersection, launch and impact points); system tracks that are
//! one object are merged into the smaller common track number.
use std::collections::{BTreeMap, BTreeSet};

use nalgebra::{Cholesky, Matrix6, Vector6};
use statrs::distribution::{ChiSquared, ContinuousCDF};
use trilink_domain::{Nation, PointEstimate, Provenance, TrackEstimate};

use crate::align::{Aligner, ModelAligner};
use crate::assoc::{Associator, Gnn};
use crate::ci::{spd_inverse, CovarianceIntersection, Criterion, FusionRule};
use crate::consistency::{Consistency, ConsistencyConfig};
use crate::ctn::{proposed_ctn, CtnProblem};
use crate::points::fuse_points;
use crate::FusionError;

/// Degrees of freedom of the track-to-track residual: position and velocity.
pub const DOF: usize = 6;

/// Settings of the fuser. `Default` gives the documented values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FusionConfig {
    /// Probability of the χ²(6) gate on `Δᵀ (P_a + P_b)⁻¹ Δ`: 0.9999 (d² ≤ 27.86). Wide,
    /// because the sum ignores the positive correlation of two tracks of one missile and so
    /// already overstates the residual's spread; what fails it is a different object or a
    /// broken report.
    pub gate_probability: f64,
    /// Consecutive gate failures after which a pairing is released and the source track
    /// re-associated: 3.
    pub release_after_failures: u32,
    /// What covariance intersection minimises: the determinant.
    pub criterion: Criterion,
    /// Scenario seconds without an update after which a member is dropped: 15 s (the
    /// trackers update every 1–5 s; an ally silent for 15 s is no longer in the picture).
    pub max_age_s: f64,
    /// Probability of the tight χ²(6) gate on two system tracks' fused estimates that says
    /// they are one object: 0.5 (d² ≤ 5.35, the median of a consistent pair).
    pub merge_gate_probability: f64,
    /// Consecutive updates two system tracks must pass the tight gate before they merge: 3.
    pub merge_after_updates: u32,
    pub consistency: ConsistencyConfig,
    pub aligner: ModelAligner,
    /// An error no national covariance carries, added to every input's position variance
    /// (σ, m): registration between nations' radars and the trackers' own overconfidence
    /// (national position ANEES up to 357 on hwasong-12, issue 14). 30 m and 0.6 m/s
    /// (docs/decisions/0701, measured: fused ANEES 3–11 against 30–790 without, and a
    /// larger floor merges a payload with its spent stage). 0 turns it off.
    pub error_floor_position_m: f64,
    /// The same for velocity (σ, m/s).
    pub error_floor_velocity_mps: f64,
}

impl Default for FusionConfig {
    fn default() -> Self {
        Self {
            gate_probability: 0.9999,
            release_after_failures: 3,
            criterion: Criterion::Determinant,
            max_age_s: 15.0,
            merge_gate_probability: 0.5,
            merge_after_updates: 3,
            consistency: ConsistencyConfig::default(),
            aligner: ModelAligner::default(),
            error_floor_position_m: 30.0,
            error_floor_velocity_mps: 0.6,
        }
    }
}

/// One estimate offered to fusion: a national track (own or an ally's verified report) or a
/// hub's relayed fused product.
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution {
    /// The nation that sent it (for our own tracker, our nation).
    pub source: Nation,
    pub estimate: TrackEstimate,
    pub provenance: Provenance,
}

/// A source track: the nation that sent it and its number there.
pub type MemberKey = (Nation, u64);

/// A source track held by a system track.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub source: Nation,
    /// The latest accepted estimate, as received (not aligned, not inflated).
    pub estimate: TrackEstimate,
    pub provenance: Provenance,
    /// The common track number this source track proposes.
    pub proposal: u64,
    /// Availability time (scenario s) of the latest accepted estimate; what ageing reads.
    pub last_seen_s: f64,
    /// Factor its covariance was multiplied by in the latest fusion
    /// ([`crate::consistency`]).
    pub inflation: f64,
    /// Consecutive gate failures.
    pub gate_failures: u32,
}

/// One object in the fused picture.
#[derive(Clone, Debug, PartialEq)]
pub struct SystemTrack {
    pub ctn: u64,
    /// The fused estimate; its `track_number` is `ctn`.
    pub fused: TrackEstimate,
    /// Nations whose information is in `fused` (what `trilink_domain::product_release`
    /// needs).
    pub contributors: BTreeSet<Nation>,
    pub members: BTreeMap<MemberKey, Member>,
    /// Availability time at which the system track began.
    pub first_time_s: f64,
    /// Availability time of its latest update.
    pub updated_s: f64,
    /// Every proposal a held source track made, with the source tracks that made it; the
    /// number is the smallest key. Members that age out leave their proposal (the number
    /// stays stable); a member released for failing the gate withdraws it (it was never
    /// this object).
    proposals: BTreeMap<u64, BTreeSet<MemberKey>>,
    /// Consistency of each member (first) against each partner (second).
    watch: BTreeMap<(MemberKey, MemberKey), Consistency>,
}

impl SystemTrack {
    /// The consistency of `member` against `partner`, if both have been fused together.
    pub fn consistency(&self, member: MemberKey, partner: MemberKey) -> Option<&Consistency> {
        self.watch.get(&(member, partner))
    }

    fn forget(&mut self, key: &MemberKey) {
        self.members.remove(key);
        self.watch.retain(|(a, b), _| a != key && b != key);
    }
}

/// Why a contribution was not fused.
#[derive(Clone, Debug, PartialEq)]
pub enum RejectReason {
    /// Not finite, or a covariance that is not symmetric positive-definite.
    Invalid(FusionError),
    /// The source is not in the scenario's nation order, so it cannot propose a number.
    UnknownNation,
    /// A national track number ≥ 1,000,000.
    TrackNumberOutOfRange,
    /// Older than the estimate already held for this source track.
    OutOfOrder { held_time_s: f64 },
    /// The same source track twice in one batch; the first was used.
    DuplicateInBatch,
    /// Failed the gate of the system track it is paired with (`failures` in a row).
    GateFailed { ctn: u64, failures: u32 },
}

/// A contribution left out, for the node's journal.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    pub source: Nation,
    pub track_number: u64,
    pub time_s: f64,
    /// The gate statistic where one was computed.
    pub d2: Option<f64>,
    pub reason: RejectReason,
}

/// Why a system track's number changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenumberCause {
    /// A contribution proposed a smaller number.
    SmallerProposal,
    /// Two system tracks were one object; the one numbered `old` was merged into `new`.
    Merged,
    /// A member released for failing the gate withdrew the proposal the number came from.
    Withdrawn,
}

/// A change of common track number: the caller records `old` as an alias of `new`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Renumber {
    pub old: u64,
    pub new: u64,
    pub cause: RenumberCause,
}

/// What one call changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ingested {
    /// Common track numbers of the system tracks updated (or begun), as they are now.
    pub updated: Vec<u64>,
    pub rejected: Vec<Rejection>,
    pub renumbered: Vec<Renumber>,
    /// Common track numbers of system tracks that ended (no members left).
    pub ended: Vec<u64>,
}

/// Fuses one node's own national tracks and its allies' reports into system tracks.
pub struct Fuser<A: Associator = Gnn> {
    own: Nation,
    ranks: BTreeMap<Nation, u64>,
    cfg: FusionConfig,
    associator: A,
    rule: CovarianceIntersection,
    gate: f64,
    merge_gate: f64,
    /// System tracks by an internal id that never changes (the number may).
    tracks: BTreeMap<u64, SystemTrack>,
    next_id: u64,
    pairing: BTreeMap<MemberKey, u64>,
    /// Consecutive tight-gate passes of two system tracks (ids, smaller first).
    merge_streak: BTreeMap<(u64, u64), u32>,
}

/// The χ²(dof) quantile at `p`, or the 0.9999 one if `p` is not a probability.
fn chi2_quantile(dof: usize, p: f64) -> f64 {
    let p = if p > 0.0 && p < 1.0 { p } else { 0.9999 };
    ChiSquared::new(dof as f64)
        .map(|c| c.inverse_cdf(p))
        .unwrap_or(27.86)
}

fn state_of(e: &TrackEstimate) -> (Vector6<f64>, Matrix6<f64>) {
    let x = Vector6::from_column_slice(&e.state);
    let p = Matrix6::from_fn(|i, j| e.covariance[i][j]);
    (x, p)
}

/// `Δᵀ S⁻¹ Δ`, infinite where `S` is not positive-definite.
fn mahalanobis2(delta: &Vector6<f64>, s: &Matrix6<f64>) -> f64 {
    Cholesky::new(*s)
        .map(|c| {
            let y = c.solve(delta);
            delta.dot(&y)
        })
        .unwrap_or(f64::INFINITY)
}

/// A grid over the system tracks' fused positions so that the duplicate check looks only at
/// tracks that could pass its gate: with a thousand objects, checking every pair on every
/// update was half of a raid's run time. Each track gets a radius that bounds what
/// [`surely_apart`] allows it (its gate ellipsoid's reach plus what its speed covers over the
/// spread of the tracks' times); two tracks whose radii sum below their distance are surely
/// apart, so with cells as wide as twice the largest ordinary radius a pair that matters sits
/// in neighbouring cells. Tracks with an unusually wide radius are checked against all.
struct Neighbourhood {
    cell_m: f64,
    cells: std::collections::HashMap<(i64, i64, i64), Vec<Placed>>,
    wide: Vec<Placed>,
    all: Vec<Placed>,
    wide_radius_m: f64,
    /// What the radii were computed with, so that an estimate outside the grid gets a radius
    /// of the same kind.
    gate: f64,
    t_ref: f64,
    v_max: f64,
}

/// A track in the grid: its number, fused position and radius.
#[derive(Clone, Copy)]
struct Placed {
    id: u64,
    pos: [f64; 3],
    radius_m: f64,
}

impl Neighbourhood {
    /// Radius above which a track goes to the always-checked list (m): small enough that a
    /// raid's thousand tracks spread over several cells, large enough that few are wide.
    const WIDE_M: f64 = 25_000.0;

    fn speed(e: &TrackEstimate) -> f64 {
        (3..6).map(|i| e.state[i] * e.state[i]).sum::<f64>().sqrt()
    }

    /// With `t_ref` the newest track time and `v_max` the fastest track's speed,
    /// `(v_a + v_b)|t_a − t_b| ≤ 2 v_max (|t_a − t_ref| + |t_b − t_ref|)` and
    /// `sqrt(gate (tr_a + tr_b)) ≤ sqrt(gate tr_a) + sqrt(gate tr_b)`, so two radii add up to
    /// at least surely_apart's reach (its 1 km constant split in two), while a track updated
    /// just now keeps a small radius however stale the others are.
    fn radius(e: &TrackEstimate, gate: f64, t_ref: f64, v_max: f64) -> f64 {
        let tr: f64 = (0..3).map(|i| e.covariance[i][i]).sum();
        1.5 * (gate * tr).sqrt() + 2.0 * v_max * (t_ref - e.time_s).abs() + 500.0
    }

    fn of(tracks: &BTreeMap<u64, SystemTrack>, gate: f64) -> Self {
        Self::with_queries(tracks, gate, &[])
    }

    /// The grid over `tracks`, with `queries` (estimates that are not system tracks, later
    /// passed to [`Neighbourhood::near`]) counted in the newest time and the fastest speed:
    /// the radius bound holds only for speeds up to `v_max`.
    fn with_queries(
        tracks: &BTreeMap<u64, SystemTrack>,
        gate: f64,
        queries: &[&TrackEstimate],
    ) -> Self {
        let t_ref = tracks
            .values()
            .map(|t| t.fused.time_s)
            .chain(queries.iter().map(|e| e.time_s))
            .fold(f64::NEG_INFINITY, f64::max);
        let v_max = tracks
            .values()
            .map(|t| Self::speed(&t.fused))
            .chain(queries.iter().map(|e| Self::speed(e)))
            .fold(0.0, f64::max);
        let all: Vec<Placed> = tracks
            .iter()
            .map(|(&id, t)| Placed {
                id,
                pos: [t.fused.state[0], t.fused.state[1], t.fused.state[2]],
                radius_m: Self::radius(&t.fused, gate, t_ref, v_max),
            })
            .collect();
        let ordinary = all
            .iter()
            .map(|p| p.radius_m)
            .filter(|r| r.is_finite() && *r <= Self::WIDE_M)
            .fold(1_000.0, f64::max);
        let cell_m = 2.0 * ordinary;
        let mut cells: std::collections::HashMap<(i64, i64, i64), Vec<Placed>> =
            std::collections::HashMap::new();
        let mut wide = Vec::new();
        for p in &all {
            match Self::cell(&p.pos, cell_m) {
                Some(c) if p.radius_m <= Self::WIDE_M => cells.entry(c).or_default().push(*p),
                _ => wide.push(*p),
            }
        }
        Neighbourhood {
            cell_m,
            cells,
            wide,
            all,
            wide_radius_m: Self::WIDE_M,
            gate,
            t_ref,
            v_max,
        }
    }

    fn cell(pos: &[f64; 3], cell_m: f64) -> Option<(i64, i64, i64)> {
        let c = |v: f64| {
            let k = (v / cell_m).floor();
            (k.is_finite() && k.abs() < 1e12).then_some(k as i64)
        };
        Some((c(pos[0])?, c(pos[1])?, c(pos[2])?))
    }

    /// Every track that could pass the gate with an estimate `e`, a track of the grid or one
    /// of the `queries` it was built with (a superset). Beyond the cells, a track whose
    /// distance exceeds the two radii is left out: it is surely apart, and with a thousand
    /// tracks in a few cells most candidates are.
    fn near(&self, e: &TrackEstimate) -> Vec<u64> {
        let pos = [e.state[0], e.state[1], e.state[2]];
        // A metre of slack: the radii bound surely_apart's reach up to rounding.
        let r = Self::radius(e, self.gate, self.t_ref, self.v_max) + 1.0;
        let mut out = Vec::new();
        let mut keep = |ps: &[Placed]| {
            for p in ps {
                let d2: f64 = (0..3).map(|i| (p.pos[i] - pos[i]).powi(2)).sum();
                let reach = r + p.radius_m;
                // Only a distance surely beyond the reach is left out: a NaN is kept, for the
                // gate to judge.
                if d2.partial_cmp(&(reach * reach)) != Some(std::cmp::Ordering::Greater) {
                    out.push(p.id);
                }
            }
        };
        // An ordinary estimate meets the other ordinary tracks within one cell; a wide one
        // may meet any.
        let ordinary = r <= 0.5 * self.cell_m && self.cell_m <= 2.0 * self.wide_radius_m;
        let Some((x, y, z)) = Self::cell(&pos, self.cell_m).filter(|_| ordinary) else {
            keep(&self.all);
            return out;
        };
        keep(&self.wide);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    if let Some(ps) = self.cells.get(&(x + dx, y + dy, z + dz)) {
                        keep(ps);
                    }
                }
            }
        }
        out
    }
}

/// A cheap test that two estimates cannot pass a χ² gate `gate` at any alignment: the
/// position part of a 6-dof Mahalanobis distance is at least `|Δp|² / tr(S_pp)`; the speeds
/// over the time difference bound what alignment can close.
fn surely_apart(a: &TrackEstimate, b: &TrackEstimate, gate: f64) -> bool {
    let dp = (0..3)
        .map(|i| (a.state[i] - b.state[i]).powi(2))
        .sum::<f64>()
        .sqrt();
    let tr: f64 = (0..3)
        .map(|i| a.covariance[i][i] + b.covariance[i][i])
        .sum();
    let speed = |e: &TrackEstimate| (3..6).map(|i| e.state[i] * e.state[i]).sum::<f64>().sqrt();
    let reach =
        (gate * tr).sqrt() * 1.5 + (speed(a) + speed(b)) * (a.time_s - b.time_s).abs() + 1_000.0;
    // A NaN distance is not "near": it must not pass on to the gate.
    !matches!(
        dp.partial_cmp(&reach),
        Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
    )
}

fn validate(e: &TrackEstimate) -> Result<(), FusionError> {
    if !e.time_s.is_finite() || e.state.iter().any(|v| !v.is_finite()) {
        return Err(FusionError::NotFinite {
            what: "contribution state",
        });
    }
    let (_, p) = state_of(e);
    if (p - p.transpose()).amax() > 1e-9 * p.amax().max(1.0) {
        return Err(FusionError::NotPositiveDefinite {
            what: "contribution covariance (not symmetric)",
        });
    }
    spd_inverse(&p, "contribution covariance").map(|_| ())
}

impl Fuser<Gnn> {
    /// A fuser for the node of `own`, with the scenario's nation ranks (1-based, see
    /// [`crate::ctn`]).
    pub fn new(own: Nation, ranks: BTreeMap<Nation, u64>, cfg: FusionConfig) -> Self {
        Self::with_associator(own, ranks, cfg, Gnn)
    }
}

impl<A: Associator> Fuser<A> {
    pub fn with_associator(
        own: Nation,
        ranks: BTreeMap<Nation, u64>,
        cfg: FusionConfig,
        associator: A,
    ) -> Self {
        Self {
            own,
            ranks,
            gate: chi2_quantile(DOF, cfg.gate_probability),
            merge_gate: chi2_quantile(DOF, cfg.merge_gate_probability),
            rule: CovarianceIntersection {
                criterion: cfg.criterion,
            },
            cfg,
            associator,
            tracks: BTreeMap::new(),
            next_id: 1,
            pairing: BTreeMap::new(),
            merge_streak: BTreeMap::new(),
        }
    }

    pub fn own(&self) -> Nation {
        self.own
    }

    pub fn config(&self) -> &FusionConfig {
        &self.cfg
    }

    /// The association gate (d²).
    pub fn gate(&self) -> f64 {
        self.gate
    }

    pub fn system_tracks(&self) -> impl Iterator<Item = &SystemTrack> {
        self.tracks.values()
    }

    pub fn system_track(&self, ctn: u64) -> Option<&SystemTrack> {
        self.tracks.values().find(|t| t.ctn == ctn)
    }

    /// The common track number of the system track holding a source track.
    pub fn ctn_of(&self, source: Nation, track_number: u64) -> Option<u64> {
        let id = self.pairing.get(&(source, track_number))?;
        self.tracks.get(id).map(|t| t.ctn)
    }

    /// Ingests a batch of contributions from one source, all valid at about one time, made
    /// available to this node at `now_s` (scenario seconds). Members not updated for
    /// `max_age_s` are aged out first.
    pub fn ingest(&mut self, now_s: f64, batch: &[Contribution]) -> Ingested {
        let floored: Vec<Contribution>;
        let batch =
            if self.cfg.error_floor_position_m > 0.0 || self.cfg.error_floor_velocity_mps > 0.0 {
                floored = batch
                    .iter()
                    .map(|c| {
                        let mut c = c.clone();
                        let (p, v) = (
                            self.cfg.error_floor_position_m.powi(2),
                            self.cfg.error_floor_velocity_mps.powi(2),
                        );
                        for i in 0..3 {
                            c.estimate.covariance[i][i] += p;
                            c.estimate.covariance[i + 3][i + 3] += v;
                        }
                        c
                    })
                    .collect();
                &floored[..]
            } else {
                batch
            };
        let mut out = Ingested {
            ended: self.age_out(now_s),
            ..Default::default()
        };
        let mut fresh: BTreeSet<MemberKey> = BTreeSet::new();
        let mut touched: BTreeSet<u64> = BTreeSet::new();
        let mut unpaired: Vec<(&Contribution, u64)> = Vec::new();
        let mut seen: BTreeSet<MemberKey> = BTreeSet::new();

        for c in batch {
            let key = (c.source, c.estimate.track_number);
            let reject = |d2, reason| Rejection {
                source: c.source,
                track_number: c.estimate.track_number,
                time_s: c.estimate.time_s,
                d2,
                reason,
            };
            if !seen.insert(key) {
                out.rejected
                    .push(reject(None, RejectReason::DuplicateInBatch));
                continue;
            }
            if let Err(e) = validate(&c.estimate) {
                out.rejected.push(reject(None, RejectReason::Invalid(e)));
                continue;
            }
            let proposal = match proposed_ctn(&self.ranks, c.source, key.1, &c.provenance) {
                Ok(p) => p,
                Err(CtnProblem::UnknownNation) => {
                    out.rejected.push(reject(None, RejectReason::UnknownNation));
                    continue;
                }
                Err(CtnProblem::TrackNumberOutOfRange) => {
                    out.rejected
                        .push(reject(None, RejectReason::TrackNumberOutOfRange));
                    continue;
                }
            };
            let Some(&id) = self.pairing.get(&key) else {
                unpaired.push((c, proposal));
                continue;
            };
            let Some((held_time_s, inflation)) = self
                .tracks
                .get(&id)
                .and_then(|t| t.members.get(&key))
                .map(|m| (m.estimate.time_s, m.inflation))
            else {
                unpaired.push((c, proposal));
                continue;
            };
            if c.estimate.time_s < held_time_s {
                out.rejected
                    .push(reject(None, RejectReason::OutOfOrder { held_time_s }));
                continue;
            }
            let d2 = self.gate_d2(id, &c.estimate, inflation, Some(key));
            if d2 <= self.gate {
                self.accept(id, key, c, proposal, now_s);
                fresh.insert(key);
                touched.insert(id);
                continue;
            }
            let (ctn, failures) = match self.tracks.get_mut(&id) {
                Some(t) => {
                    let f = t.members.get_mut(&key).map_or(1, |m| {
                        m.gate_failures += 1;
                        m.gate_failures
                    });
                    (t.ctn, f)
                }
                None => (0, 1),
            };
            if failures >= self.cfg.release_after_failures {
                // Memory runs out: the source track is no longer this object.
                self.release(id, key, &mut out);
                touched.insert(id);
                unpaired.push((c, proposal));
            } else {
                out.rejected
                    .push(reject(Some(d2), RejectReason::GateFailed { ctn, failures }));
            }
        }

        self.associate(&unpaired, &fresh, now_s, &mut touched);
        fresh.extend(
            unpaired
                .iter()
                .map(|(c, _)| (c.source, c.estimate.track_number)),
        );

        for &id in &touched {
            self.refuse(id, &fresh, &mut out);
        }
        self.merge_duplicates(&touched, &mut out);
        self.resolve_collisions(&mut out);
        out.updated = touched
            .iter()
            .filter_map(|id| self.tracks.get(id).map(|t| t.ctn))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        out
    }

    /// Drops members not updated for `max_age_s` before `now_s`; returns the common track
    /// numbers of the system tracks left with none, which end.
    pub fn age_out(&mut self, now_s: f64) -> Vec<u64> {
        let max_age = self.cfg.max_age_s;
        let mut ended = Vec::new();
        let mut thinned = Vec::new();
        for (&id, t) in self.tracks.iter_mut() {
            let old: Vec<MemberKey> = t
                .members
                .iter()
                .filter(|(_, m)| now_s - m.last_seen_s > max_age)
                .map(|(&k, _)| k)
                .collect();
            for k in &old {
                t.forget(k);
                self.pairing.remove(k);
            }
            if t.members.is_empty() {
                ended.push(id);
            } else if !old.is_empty() {
                thinned.push(id);
            }
        }
        let mut scratch = Ingested::default();
        for id in thinned {
            self.refuse(id, &BTreeSet::new(), &mut scratch);
        }
        let mut ctns = Vec::new();
        for id in ended {
            if let Some(t) = self.tracks.remove(&id) {
                ctns.push(t.ctn);
            }
            self.merge_streak.retain(|&(a, b), _| a != id && b != id);
        }
        ctns
    }

    /// `Δᵀ (P_c·inflation + P_f)⁻¹ Δ` of a contribution against system track `id`, aligned to
    /// the contribution's time. `P_f` is the fusion of the *other* members when the
    /// contribution's own source track (`own_key`) is one and others exist: a member is judged
    /// by whether it agrees with the rest of the picture, not with its own last report (an
    /// overconfident track whose estimates jump by more than its covariance would otherwise
    /// fail against itself and never be measured). Alone, it is judged against its own past.
    fn gate_d2(
        &self,
        id: u64,
        e: &TrackEstimate,
        inflation: f64,
        own_key: Option<MemberKey>,
    ) -> f64 {
        let Some(t) = self.tracks.get(&id) else {
            return f64::INFINITY;
        };
        if surely_apart(&t.fused, e, self.gate) {
            return f64::INFINITY;
        }
        let others: Vec<(Vector6<f64>, Matrix6<f64>)> = match own_key {
            Some(k) if t.members.len() > 1 => t
                .members
                .iter()
                .filter(|(mk, _)| **mk != k)
                .map(|(_, m)| {
                    let (x, p) = state_of(&m.estimate);
                    let (x, p) = self.cfg.aligner.align(
                        &x,
                        &p,
                        m.estimate.phase,
                        e.time_s - m.estimate.time_s,
                    );
                    (x, p * m.inflation)
                })
                .collect(),
            _ => Vec::new(),
        };
        let (xf, pf) = match self.rule.fuse(&others) {
            Ok(f) => (f.x, f.p),
            Err(_) => {
                let (x, p) = state_of(&t.fused);
                self.cfg
                    .aligner
                    .align(&x, &p, t.fused.phase, e.time_s - t.fused.time_s)
            }
        };
        let (xc, pc) = state_of(e);
        mahalanobis2(&(xc - xf), &(pc * inflation + pf))
    }

    fn accept(&mut self, id: u64, key: MemberKey, c: &Contribution, proposal: u64, now_s: f64) {
        let Some(t) = self.tracks.get_mut(&id) else {
            return;
        };
        t.proposals.entry(proposal).or_default().insert(key);
        t.updated_s = now_s;
        match t.members.get_mut(&key) {
            Some(m) => {
                m.estimate = c.estimate.clone();
                m.provenance = c.provenance.clone();
                m.proposal = proposal;
                m.last_seen_s = now_s;
                m.gate_failures = 0;
            }
            None => {
                t.members.insert(
                    key,
                    Member {
                        source: c.source,
                        estimate: c.estimate.clone(),
                        provenance: c.provenance.clone(),
                        proposal,
                        last_seen_s: now_s,
                        inflation: 1.0,
                        gate_failures: 0,
                    },
                );
                self.pairing.insert(key, id);
            }
        }
    }

    /// Takes a source track out of system track `id` and withdraws its proposals there.
    fn release(&mut self, id: u64, key: MemberKey, out: &mut Ingested) {
        self.pairing.remove(&key);
        let Some(t) = self.tracks.get_mut(&id) else {
            return;
        };
        t.forget(&key);
        for holders in t.proposals.values_mut() {
            holders.remove(&key);
        }
        t.proposals.retain(|_, h| !h.is_empty());
        if t.members.is_empty() {
            if let Some(t) = self.tracks.remove(&id) {
                out.ended.push(t.ctn);
            }
        }
    }

    /// Assigns the batch's unpaired source tracks to system tracks, or starts new ones.
    fn associate(
        &mut self,
        unpaired: &[(&Contribution, u64)],
        fresh: &BTreeSet<MemberKey>,
        now_s: f64,
        touched: &mut BTreeSet<u64>,
    ) {
        if unpaired.is_empty() {
            return;
        }
        let ids: Vec<u64> = self.tracks.keys().copied().collect();
        let column: std::collections::HashMap<u64, usize> =
            ids.iter().enumerate().map(|(j, &id)| (id, j)).collect();
        // Only the tracks the grid puts near a contribution can pass its gate (the rest are
        // surely apart, which gate_d2 answers with ∞): with a thousand tracks, gating every
        // pair was a fifth of a raid's fusion time.
        let queries: Vec<&TrackEstimate> = unpaired.iter().map(|(c, _)| &c.estimate).collect();
        let near = Neighbourhood::with_queries(&self.tracks, self.gate, &queries);
        let costs: Vec<Vec<Option<f64>>> = unpaired
            .iter()
            .map(|(c, _)| {
                let mut row = vec![None; ids.len()];
                for id in near.near(&c.estimate) {
                    let Some(&j) = column.get(&id) else {
                        continue;
                    };
                    // A tracker that updates two of its tracks at once sees two objects:
                    // a new track of a source may not join a system track that the same
                    // source is updating in this batch.
                    let busy = self.tracks.get(&id).is_some_and(|t| {
                        t.members
                            .keys()
                            .any(|k| k.0 == c.source && fresh.contains(k))
                    });
                    if busy {
                        continue;
                    }
                    let d2 = self.gate_d2(id, &c.estimate, 1.0, None);
                    row[j] = (d2 <= self.gate).then_some(d2);
                }
                row
            })
            .collect();
        let chosen = self.associator.assign(&costs, ids.len(), self.gate);
        for ((c, proposal), choice) in unpaired.iter().zip(chosen) {
            let key = (c.source, c.estimate.track_number);
            let id = match choice.and_then(|j| ids.get(j).copied()) {
                Some(id) => id,
                None => {
                    let id = self.next_id;
                    self.next_id += 1;
                    self.tracks.insert(
                        id,
                        SystemTrack {
                            ctn: *proposal,
                            fused: TrackEstimate {
                                track_number: *proposal,
                                ..c.estimate.clone()
                            },
                            contributors: BTreeSet::new(),
                            members: BTreeMap::new(),
                            first_time_s: now_s,
                            updated_s: now_s,
                            proposals: BTreeMap::new(),
                            watch: BTreeMap::new(),
                        },
                    );
                    id
                }
            };
            self.accept(id, key, c, *proposal, now_s);
            touched.insert(id);
        }
    }

    /// Re-fuses system track `id` from its members: align to the newest member's time,
    /// update the consistency of members fresh in this batch, inflate, fuse.
    fn refuse(&mut self, id: u64, fresh: &BTreeSet<MemberKey>, out: &mut Ingested) {
        let cfg = self.cfg;
        let rule = self.rule;
        let Some(t) = self.tracks.get_mut(&id) else {
            return;
        };
        let Some(time_s) = t
            .members
            .values()
            .map(|m| m.estimate.time_s)
            .max_by(f64::total_cmp)
        else {
            return;
        };
        let keys: Vec<MemberKey> = t.members.keys().copied().collect();
        let aligned: Vec<(Vector6<f64>, Matrix6<f64>)> = t
            .members
            .values()
            .map(|m| {
                let (x, p) = state_of(&m.estimate);
                cfg.aligner
                    .align(&x, &p, m.estimate.phase, time_s - m.estimate.time_s)
            })
            .collect();
        let dof = DOF as f64;
        // Every ordered pair with a fresh end gets a sample; both directions share the pair
        // statistic, so two members that disagree are flagged together (with two, the
        // residual cannot say which is wrong).
        for (i, ki) in keys.iter().enumerate() {
            for (j, kj) in keys.iter().enumerate() {
                if i == j || !(fresh.contains(ki) || fresh.contains(kj)) {
                    continue;
                }
                let (xi, pi) = &aligned[i];
                let (xj, pj) = &aligned[j];
                let d = xi - xj;
                let pair = mahalanobis2(&d, &(pi + pj)) / dof;
                let own = mahalanobis2(&d, pi) / dof;
                t.watch
                    .entry((*ki, *kj))
                    .or_default()
                    .observe(pair, own, &cfg.consistency);
            }
        }
        let mut inputs = Vec::with_capacity(keys.len());
        for (k, (x, p)) in keys.iter().zip(&aligned) {
            // Judged against the partner it agrees with best: a consistent member among
            // three is not blamed for the third's misfit.
            let f = t
                .watch
                .iter()
                .filter(|((a, b), c)| a == k && t.members.contains_key(b) && c.samples() > 0)
                .min_by(|x, y| x.1.pair_mean().total_cmp(&y.1.pair_mean()))
                .map_or(1.0, |(_, c)| c.inflation(&cfg.consistency));
            if let Some(m) = t.members.get_mut(k) {
                m.inflation = f;
            }
            inputs.push((*x, p * f));
        }
        let Ok(fused) = rule.fuse(&inputs) else {
            return;
        };
        let members: Vec<&Member> = t.members.values().collect();
        let best = fused
            .weights
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        let points = |pick: fn(&TrackEstimate) -> Option<PointEstimate>| -> Option<PointEstimate> {
            let ps: Vec<PointEstimate> = members.iter().filter_map(|m| pick(&m.estimate)).collect();
            fuse_points(&ps, &rule).ok().flatten()
        };
        let launch = points(|e| e.launch);
        let impact = points(|e| e.impact);
        let contributors: BTreeSet<Nation> = members
            .iter()
            .flat_map(|m| {
                if m.provenance.nations.is_empty() {
                    BTreeSet::from([m.source])
                } else {
                    m.provenance.nations.clone()
                }
            })
            .collect();
        let quality = members
            .iter()
            .map(|m| m.estimate.quality)
            .fold(0.0, f64::max);
        let phase = members
            .get(best)
            .map_or(t.fused.phase, |m| m.estimate.phase);
        let old = t.ctn;
        let ctn = t.proposals.keys().next().copied().unwrap_or(old);
        let mut covariance = [[0.0; 6]; 6];
        for (i, row) in covariance.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = 0.5 * (fused.p[(i, j)] + fused.p[(j, i)]);
            }
        }
        t.fused = TrackEstimate {
            track_number: ctn,
            time_s,
            state: [
                fused.x[0], fused.x[1], fused.x[2], fused.x[3], fused.x[4], fused.x[5],
            ],
            covariance,
            quality,
            phase,
            launch,
            impact,
        };
        t.contributors = contributors;
        t.ctn = ctn;
        if ctn != old {
            out.renumbered.push(Renumber {
                old,
                new: ctn,
                cause: if ctn < old {
                    RenumberCause::SmallerProposal
                } else {
                    RenumberCause::Withdrawn
                },
            });
        }
    }

    /// Two system tracks whose fused estimates pass the tight gate for `merge_after_updates`
    /// consecutive updates are one object, unless one source holds a member in each (one
    /// tracker holding two tracks at once sees two objects).
    fn merge_duplicates(&mut self, touched: &BTreeSet<u64>, out: &mut Ingested) {
        let mut passes: BTreeSet<(u64, u64)> = BTreeSet::new();
        let mut checked: std::collections::HashSet<(u64, u64)> = std::collections::HashSet::new();
        let near = Neighbourhood::of(&self.tracks, self.merge_gate);
        for &a in touched {
            let Some(ta) = self.tracks.get(&a) else {
                continue;
            };
            for b in near.near(&ta.fused) {
                let Some(tb) = self.tracks.get(&b) else {
                    continue;
                };
                let pair = (a.min(b), a.max(b));
                // Surely-apart pairs stay out of `checked`: the retain below ends their
                // streaks all the same, and the set stays as small as the close pairs.
                if a == b
                    || surely_apart(&ta.fused, &tb.fused, self.merge_gate)
                    || !checked.insert(pair)
                {
                    continue;
                }
                // A source that holds a live track in each says they are two objects (a
                // payload and its spent stage, a few hundred metres apart): never merged while
                // it does. A source that re-initiated one object lets its old track age out.
                let sources = |t: &SystemTrack| -> BTreeSet<Nation> {
                    t.members.keys().map(|k| k.0).collect()
                };
                if !sources(ta).is_disjoint(&sources(tb)) {
                    continue;
                }
                let (xa, pa) = state_of(&ta.fused);
                let (xb, pb) = state_of(&tb.fused);
                let (xb, pb) = self.cfg.aligner.align(
                    &xb,
                    &pb,
                    tb.fused.phase,
                    ta.fused.time_s - tb.fused.time_s,
                );
                if mahalanobis2(&(xa - xb), &(pa + pb)) <= self.merge_gate {
                    passes.insert(pair);
                }
            }
        }
        for pair in &checked {
            if passes.contains(pair) {
                *self.merge_streak.entry(*pair).or_default() += 1;
            } else {
                self.merge_streak.remove(pair);
            }
        }
        // A pair the neighbourhood left out is surely apart: its streak ends as if checked.
        self.merge_streak.retain(|pair, _| {
            !(touched.contains(&pair.0) || touched.contains(&pair.1)) || checked.contains(pair)
        });
        let due: Vec<(u64, u64)> = self
            .merge_streak
            .iter()
            .filter(|(_, &n)| n >= self.cfg.merge_after_updates)
            .map(|(&p, _)| p)
            .collect();
        for (a, b) in due {
            self.merge(a, b, out);
        }
    }

    /// Two live system tracks can come to share a number (a source track that moved took its
    /// proposal along); one number is one object, so they merge.
    fn resolve_collisions(&mut self, out: &mut Ingested) {
        loop {
            let mut by_ctn: BTreeMap<u64, u64> = BTreeMap::new();
            let mut clash = None;
            for (&id, t) in &self.tracks {
                if let Some(&other) = by_ctn.get(&t.ctn) {
                    clash = Some((other, id));
                    break;
                }
                by_ctn.insert(t.ctn, id);
            }
            match clash {
                Some((a, b)) => self.merge(a, b, out),
                None => return,
            }
        }
    }

    /// Merges system tracks `a` and `b` into the one with the smaller number.
    fn merge(&mut self, a: u64, b: u64, out: &mut Ingested) {
        let (Some(ca), Some(cb)) = (
            self.tracks.get(&a).map(|t| t.ctn),
            self.tracks.get(&b).map(|t| t.ctn),
        ) else {
            return;
        };
        let (keep, gone) = if (ca, a) <= (cb, b) { (a, b) } else { (b, a) };
        let Some(g) = self.tracks.remove(&gone) else {
            return;
        };
        self.merge_streak
            .retain(|&(x, y), _| x != gone && y != gone);
        let Some(k) = self.tracks.get_mut(&keep) else {
            return;
        };
        for (key, m) in g.members {
            self.pairing.insert(key, keep);
            k.members.entry(key).or_insert(m);
        }
        k.watch.extend(g.watch);
        for (p, holders) in g.proposals {
            k.proposals.entry(p).or_default().extend(holders);
        }
        k.first_time_s = k.first_time_s.min(g.first_time_s);
        k.updated_s = k.updated_s.max(g.updated_s);
        let before = k.ctn;
        self.refuse(keep, &BTreeSet::new(), out);
        let after = self.tracks.get(&keep).map_or(before, |t| t.ctn);
        out.renumbered.push(Renumber {
            old: g.ctn,
            new: after,
            cause: RenumberCause::Merged,
        });
    }
}

#[cfg(test)]
mod neighbourhood_tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn track(rng: &mut rand_chacha::ChaCha8Rng, id: u64) -> SystemTrack {
        let mut cov = [[0.0; 6]; 6];
        let sigma: f64 = 10f64.powf(rng.random_range(1.0..4.5));
        for (i, row) in cov.iter_mut().enumerate() {
            row[i] = if i < 3 { sigma * sigma } else { 25.0 };
        }
        let fused = TrackEstimate {
            track_number: id,
            time_s: rng.random_range(0.0..15.0),
            state: [
                rng.random_range(-3.5e6..-3.0e6),
                rng.random_range(3.5e6..4.0e6),
                rng.random_range(3.9e6..4.4e6),
                rng.random_range(-3e3..3e3),
                rng.random_range(-3e3..3e3),
                rng.random_range(-3e3..3e3),
            ],
            covariance: cov,
            quality: 1.0,
            phase: trilink_domain::FlightPhase::Midcourse,
            launch: None,
            impact: None,
        };
        SystemTrack {
            ctn: id,
            fused,
            contributors: BTreeSet::new(),
            members: BTreeMap::new(),
            first_time_s: 0.0,
            updated_s: 0.0,
            proposals: BTreeMap::new(),
            watch: BTreeMap::new(),
        }
    }

    #[test]
    fn the_grid_never_leaves_out_a_pair_the_gate_could_pass() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let gate = chi2_quantile(DOF, 0.5);
        let tracks: BTreeMap<u64, SystemTrack> =
            (1..=400).map(|id| (id, track(&mut rng, id))).collect();
        let near = Neighbourhood::of(&tracks, gate);
        let mut close = 0;
        for (a, ta) in &tracks {
            let around: BTreeSet<u64> = near.near(&ta.fused).into_iter().collect();
            for (b, tb) in &tracks {
                if a != b && !surely_apart(&ta.fused, &tb.fused, gate) {
                    close += 1;
                    assert!(around.contains(b), "{a} and {b} may pass but were left out");
                }
            }
        }
        assert!(
            close > 0,
            "the fixture has no close pairs: it tests nothing"
        );
    }

    #[test]
    fn the_grid_never_leaves_out_a_track_a_query_could_pass() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let gate = chi2_quantile(DOF, 0.9999);
        let tracks: BTreeMap<u64, SystemTrack> =
            (1..=400).map(|id| (id, track(&mut rng, id))).collect();
        let queries: Vec<TrackEstimate> = (1000..1200)
            .map(|id| {
                let mut e = track(&mut rng, id).fused;
                // Newer than every track and faster: the bound must count the queries.
                e.time_s += 5.0;
                e.state[3] *= 1.5;
                e
            })
            .collect();
        let refs: Vec<&TrackEstimate> = queries.iter().collect();
        let near = Neighbourhood::with_queries(&tracks, gate, &refs);
        let mut close = 0;
        for q in &queries {
            let around: BTreeSet<u64> = near.near(q).into_iter().collect();
            for (b, tb) in &tracks {
                if !surely_apart(&tb.fused, q, gate) {
                    close += 1;
                    assert!(around.contains(b), "{b} may pass but was left out");
                }
            }
        }
        assert!(
            close > 0,
            "the fixture has no close pairs: it tests nothing"
        );
    }
}
