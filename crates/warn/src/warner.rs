//! The decision rule and the lifecycle of each warning (docs/decisions/0801).
use std::collections::{BTreeMap, BTreeSet};

use nalgebra::Vector3;
use trilink_domain::{FlightPhase, RegionSpec, TrackEstimate};
use trilink_geo::Ecef;
use trilink_physics::free_flight_acceleration;

use crate::ellipse::Ellipse;
use crate::geometry::{Plane, Region};
use crate::path::{
    cumulative_ground_m, predict, straight_line_ellipse, warp_to, GroundPath, PathSettings,
};
use crate::prob::{impact_probability, normal_pairs, normal_quantiles, overflight_probability};
use crate::row::{Kind, State, WarningRow};
use crate::sea::landing_place;
use crate::WarnError;

/// Every threshold of the rule. The defaults are first choices with reasons (0801), to be
/// tuned over Monte Carlo seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct WarnConfig {
    /// Issue when a probability exceeds this (0.2, tuned over Monte Carlo seeds of every
    /// built-in, docs/benchmarks/warnings.md: at 0.05 the tracker's over-covering impact
    /// ellipses warned prefectures next to the path).
    pub p_issue: f64,
    /// ... on this many assessments in a row (3, about 6 s: one assessment's spike, such as a
    /// track just born at a staging with a covariance of hundreds of kilometres, alarms no
    /// one) ...
    pub issue_after: u32,
    /// Cancel only after the probability stays below this (0.01) ...
    pub p_cancel: f64,
    /// ... for this long (30 s: several track updates, so one bad update cannot cancel).
    pub hold_s: f64,
    /// A track is re-assessed at most this often (s of scenario time).
    pub eval_interval_s: f64,
    /// An issued warning is updated at most this often (s) ...
    pub update_min_interval_s: f64,
    /// ... and only when the predicted impact time moved by more than this (s) ...
    pub update_time_shift_s: f64,
    /// ... or its centre by more than this fraction of the published semi-minor axis.
    pub update_centre_fraction: f64,
    /// Quasi-random samples of the impact Gaussian per region.
    pub impact_samples: usize,
    /// Lateral quantiles of the path's sideways spread.
    pub lateral_samples: usize,
    /// Nominal ballistic coefficient of the path below `drag_top_m` (kg/m², as the tracker's).
    pub beta_kg_m2: f64,
    pub drag_top_m: f64,
    /// A path still airborne after this long is not followed further (s).
    pub max_flight_s: f64,
    /// Smallest semi-axis of an impact ellipse used in the rule (m).
    pub min_semi_axis_m: f64,
    /// A track whose thrust acceleration (observed minus free-flight, along the velocity)
    /// exceeds this is boosting even if its phase is unspecified (m/s²).
    pub boost_accel_mps2: f64,
    /// While boosting, the reach corridor flies the present state with its speed multiplied by
    /// 1 + this (0.5; measured with the wait below, docs/benchmarks/warnings.md) ...
    pub boost_speed_gain: f64,
    /// ... but not above this speed (m/s) ...
    pub boost_max_speed_mps: f64,
    /// ... and only for a track still boosting this long after its estimated launch (60 s): the
    /// burn itself says the missile is longer-ranged than an SRBM. Without the wait the
    /// corridor warned Japan about SRBMs that KR saw boosting early (0 turns the wait off).
    pub boost_corridor_after_s: f64,
    /// One-sigma heading error of the corridor (degrees).
    pub boost_heading_sigma_deg: f64,
    /// A track that ends at or below this height has landed (m).
    pub landed_max_alt_m: f64,
}

impl Default for WarnConfig {
    fn default() -> Self {
        Self {
            p_issue: 0.2,
            issue_after: 3,
            p_cancel: 0.01,
            hold_s: 30.0,
            eval_interval_s: 2.0,
            update_min_interval_s: 10.0,
            update_time_shift_s: 10.0,
            update_centre_fraction: 0.5,
            impact_samples: 512,
            lateral_samples: 41,
            beta_kg_m2: 3000.0,
            drag_top_m: 100_000.0,
            max_flight_s: 4000.0,
            min_semi_axis_m: 2000.0,
            boost_accel_mps2: 5.0,
            boost_speed_gain: 0.5,
            boost_max_speed_mps: 7500.0,
            boost_corridor_after_s: 60.0,
            boost_heading_sigma_deg: 3.0,
            landed_max_alt_m: 20_000.0,
        }
    }
}

impl WarnConfig {
    /// The names [`WarnConfig::set`] accepts.
    pub const KEYS: [&'static str; 14] = [
        "p_issue",
        "issue_after",
        "p_cancel",
        "hold_s",
        "eval_interval_s",
        "update_min_interval_s",
        "min_semi_axis_m",
        "boost_accel_mps2",
        "boost_speed_gain",
        "boost_max_speed_mps",
        "boost_corridor_after_s",
        "boost_heading_sigma_deg",
        "beta_kg_m2",
        "landed_max_alt_m",
    ];

    /// Sets one threshold by name (`p_issue=0.1`), for tuning from the command line, and checks
    /// the whole configuration again.
    pub fn set(&mut self, key: &str, value: f64) -> Result<(), WarnError> {
        let slot = match key {
            "p_issue" => &mut self.p_issue,
            "issue_after" => {
                if !(value.is_finite() && (1.0..=100.0).contains(&value) && value.fract() == 0.0) {
                    return Err(WarnError::BadConfig {
                        key: "issue_after",
                        value,
                        expected: "a whole number from 1 to 100",
                    });
                }
                self.issue_after = value as u32;
                return self.check();
            }
            "p_cancel" => &mut self.p_cancel,
            "hold_s" => &mut self.hold_s,
            "eval_interval_s" => &mut self.eval_interval_s,
            "update_min_interval_s" => &mut self.update_min_interval_s,
            "min_semi_axis_m" => &mut self.min_semi_axis_m,
            "boost_accel_mps2" => &mut self.boost_accel_mps2,
            "boost_speed_gain" => &mut self.boost_speed_gain,
            "boost_max_speed_mps" => &mut self.boost_max_speed_mps,
            "boost_corridor_after_s" => &mut self.boost_corridor_after_s,
            "boost_heading_sigma_deg" => &mut self.boost_heading_sigma_deg,
            "beta_kg_m2" => &mut self.beta_kg_m2,
            "landed_max_alt_m" => &mut self.landed_max_alt_m,
            _ => {
                return Err(WarnError::BadConfig {
                    key: "(name)",
                    value,
                    expected: "one of p_issue, issue_after, p_cancel, hold_s, eval_interval_s, update_min_interval_s, min_semi_axis_m, boost_accel_mps2, boost_speed_gain, boost_max_speed_mps, boost_corridor_after_s, boost_heading_sigma_deg, beta_kg_m2, landed_max_alt_m",
                })
            }
        };
        *slot = value;
        self.check()
    }

    fn check(&self) -> Result<(), WarnError> {
        let bad = |key, value, expected| {
            Err(WarnError::BadConfig {
                key,
                value,
                expected,
            })
        };
        if !(self.p_issue > 0.0 && self.p_issue < 1.0) {
            return bad("p_issue", self.p_issue, "in (0, 1)");
        }
        if !(self.p_cancel >= 0.0 && self.p_cancel < self.p_issue) {
            return bad("p_cancel", self.p_cancel, "in [0, p_issue)");
        }
        for (key, value) in [
            ("hold_s", self.hold_s),
            ("eval_interval_s", self.eval_interval_s),
            ("update_min_interval_s", self.update_min_interval_s),
            ("update_time_shift_s", self.update_time_shift_s),
            ("update_centre_fraction", self.update_centre_fraction),
            ("min_semi_axis_m", self.min_semi_axis_m),
            ("boost_speed_gain", self.boost_speed_gain),
            ("boost_corridor_after_s", self.boost_corridor_after_s),
            ("boost_heading_sigma_deg", self.boost_heading_sigma_deg),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return bad(key, value, "a finite number >= 0");
            }
        }
        for (key, value) in [
            ("beta_kg_m2", self.beta_kg_m2),
            ("max_flight_s", self.max_flight_s),
            ("boost_max_speed_mps", self.boost_max_speed_mps),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return bad(key, value, "a finite number > 0");
            }
        }
        Ok(())
    }
}

/// One system track of the nation's fused picture, as the warner sees it.
#[derive(Debug, Clone)]
pub struct TrackPicture<'a> {
    pub ctn: u64,
    pub estimate: &'a TrackEstimate,
    /// The tracks behind it (national or allied track numbers).
    pub evidence: Vec<u64>,
    /// When the object was first detected (s from the epoch), for `latency_s`.
    pub first_detection_s: f64,
}

/// What one assessment of a track found.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub boosting: bool,
    /// Predicted impact: time, lat, lon and its 95 % ellipse.
    pub impact: Option<(f64, f64, f64, Ellipse)>,
    /// Per region of the nation, in order: (P_impact, P_over, P_reach).
    pub per_region: Vec<(String, f64, f64, f64)>,
}

impl Assessment {
    fn p_any(&self) -> f64 {
        self.per_region
            .iter()
            .map(|(_, a, b, c)| a.max(*b).max(*c))
            .fold(0.0, f64::max)
    }
}

type Key = (u64, Kind, String);

#[derive(Debug, Clone)]
struct Active {
    last: WarningRow,
    below_since_s: Option<f64>,
}

#[derive(Debug, Clone, Default)]
struct TrackMemory {
    last: Option<(f64, [f64; 6])>,
    thrust_accel_mps2: Option<f64>,
    last_eval_s: Option<f64>,
    /// Regions the track's own estimates have flown over (not a prediction).
    passed: BTreeSet<String>,
}

/// A nation's warner: its regions, the warnings it has issued and the state of each.
#[derive(Debug, Clone)]
pub struct Warner {
    nation: String,
    regions: Vec<Region>,
    cfg: WarnConfig,
    pairs: Vec<(f64, f64)>,
    quantiles: Vec<f64>,
    tracks: BTreeMap<u64, TrackMemory>,
    active: BTreeMap<Key, Active>,
    serials: BTreeMap<Key, u32>,
    /// Assessments in a row above `p_issue` of warnings not yet issued.
    above: BTreeMap<Key, u32>,
    warned: BTreeSet<u64>,
    ended: BTreeSet<u64>,
    resumed_until_s: Option<f64>,
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn sub_point(state: &[f64; 6]) -> (f64, f64, f64) {
    let g = Ecef::new(state[0], state[1], state[2]).to_geodetic();
    (g.lat_deg(), g.lon_deg(), g.alt_m)
}

impl Warner {
    /// A warner for `nation`, keeping the regions of `regions` that belong to it.
    pub fn new(nation: &str, regions: &[RegionSpec], cfg: WarnConfig) -> Result<Self, WarnError> {
        cfg.check()?;
        let regions = regions
            .iter()
            .filter(|r| r.nation == nation)
            .map(Region::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            nation: nation.to_string(),
            pairs: normal_pairs(cfg.impact_samples),
            quantiles: normal_quantiles(cfg.lateral_samples.max(1)),
            regions,
            cfg,
            tracks: BTreeMap::new(),
            active: BTreeMap::new(),
            serials: BTreeMap::new(),
            above: BTreeMap::new(),
            warned: BTreeSet::new(),
            ended: BTreeSet::new(),
            resumed_until_s: None,
        })
    }

    pub fn nation(&self) -> &str {
        &self.nation
    }

    pub fn has_regions(&self) -> bool {
        !self.regions.is_empty()
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    pub fn config(&self) -> &WarnConfig {
        &self.cfg
    }

    /// The outline of one of the nation's regions as `(lat_deg, lon_deg)` vertices (a circle
    /// as a 72-gon), for maps.
    pub fn region_polygon(&self, name: &str) -> Result<Vec<(f64, f64)>, WarnError> {
        self.regions
            .iter()
            .find(|r| r.name() == name)
            .map(Region::polygon)
            .ok_or_else(|| WarnError::UnknownRegion {
                nation: self.nation.clone(),
                name: name.to_string(),
            })
    }

    /// The warnings now in force (issued or updated, not cancelled), their latest rows.
    pub fn active(&self) -> Vec<&WarningRow> {
        self.active.values().map(|a| &a.last).collect()
    }

    /// Rebuilds the state from rows issued before a restart (this nation's; others are
    /// skipped). Calls with a time at or before the last of them change nothing and emit
    /// nothing: the rows are the record of what was decided up to then. A cancel that was
    /// pending (below `p_cancel`, not yet for `hold_s`) restarts its hold.
    pub fn resume(&mut self, earlier: &[WarningRow]) {
        for row in earlier.iter().filter(|r| r.nation == self.nation) {
            let Some(ctn) = row.ctn() else { continue };
            self.warned.insert(ctn);
            self.resumed_until_s = Some(
                self.resumed_until_s
                    .map_or(row.time_s, |t| t.max(row.time_s)),
            );
            let key = (
                ctn,
                row.kind,
                self.key_region(row.kind, row.region.as_deref()),
            );
            let serial = row
                .warning_id
                .rsplit('-')
                .next()
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(1);
            let s = self.serials.entry(key.clone()).or_insert(0);
            *s = (*s).max(serial);
            match (row.kind, row.state) {
                (Kind::Landed | Kind::AllClear, _) => {
                    self.ended.insert(ctn);
                }
                (_, State::Issued | State::Updated) => {
                    self.active.insert(
                        key,
                        Active {
                            last: row.clone(),
                            below_since_s: None,
                        },
                    );
                }
                (_, State::Cancelled) => {
                    self.active.remove(&key);
                }
            }
        }
    }

    fn key_region(&self, kind: Kind, region: Option<&str>) -> String {
        match kind {
            Kind::Impact | Kind::Overflight => region.unwrap_or("").to_string(),
            _ => String::new(),
        }
    }

    fn catching_up(&self, now_s: f64) -> bool {
        self.resumed_until_s.is_some_and(|t| now_s <= t)
    }

    /// Assesses the tracks of the fused picture at `now_s` and returns the warning rows this
    /// produces (empty for most calls). Each track is assessed at most every `eval_interval_s`.
    pub fn update(&mut self, now_s: f64, tracks: &[TrackPicture]) -> Vec<WarningRow> {
        let mut rows = Vec::new();
        if self.regions.is_empty() {
            return rows;
        }
        for tp in tracks {
            if self.ended.contains(&tp.ctn) || !tp.estimate.state.iter().all(|x| x.is_finite()) {
                continue;
            }
            let prev = self
                .tracks
                .get(&tp.ctn)
                .and_then(|m| m.last)
                .map(|(_, s)| sub_point(&s));
            let here = sub_point(&tp.estimate.state);
            remember_motion(self.tracks.entry(tp.ctn).or_default(), tp.estimate);
            if let Some(p) = prev {
                self.note_flown(tp.ctn, (p.0, p.1), (here.0, here.1));
            }
            let catching_up = self.catching_up(now_s);
            let Some(mem) = self.tracks.get_mut(&tp.ctn) else {
                continue;
            };
            if mem
                .last_eval_s
                .is_some_and(|t| now_s - t < self.cfg.eval_interval_s)
            {
                continue;
            }
            // The throttle is kept while catching up after a restart, so the replay assesses
            // at the same times as the run before it did.
            mem.last_eval_s = Some(now_s);
            if catching_up {
                continue;
            }
            let thrust = mem.thrust_accel_mps2;
            let a = self.assess(tp.estimate, thrust);
            rows.extend(self.decide(now_s, tp, &a));
        }
        rows
    }

    /// Assesses one estimate without changing any state: the probabilities the rule reads.
    pub fn assess(&self, est: &TrackEstimate, thrust_accel_mps2: Option<f64>) -> Assessment {
        let cfg = &self.cfg;
        let boosting = match est.phase {
            FlightPhase::Boost => true,
            FlightPhase::Unspecified => thrust_accel_mps2.is_some_and(|a| a > cfg.boost_accel_mps2),
            _ => false,
        };
        let settings = PathSettings {
            beta_kg_m2: cfg.beta_kg_m2,
            drag_top_m: cfg.drag_top_m,
            max_flight_s: cfg.max_flight_s,
        };
        let mut path = predict(est.time_s, &est.state, &settings);
        let c = &est.covariance;
        let sigma_start = ((c[0][0] + c[1][1] + c[2][2]) / 3.0).max(0.0).sqrt();
        let floor = |e: Ellipse| Ellipse {
            semi_major_m: e.semi_major_m.max(cfg.min_semi_axis_m),
            semi_minor_m: e.semi_minor_m.max(cfg.min_semi_axis_m),
            orientation_deg: e.orientation_deg,
        };
        let impact = match (&est.impact, path.points.last().copied()) {
            (Some(i), _)
                if !boosting
                    && [i.lat_deg, i.lon_deg, i.time_s]
                        .iter()
                        .all(|x| x.is_finite()) =>
            {
                warp_to(&mut path, i.lat_deg, i.lon_deg, i.time_s);
                let e = Ellipse {
                    semi_major_m: i.semi_major_m,
                    semi_minor_m: i.semi_minor_m,
                    orientation_deg: i.orientation_deg,
                };
                Some((i.time_s, i.lat_deg, i.lon_deg, floor(e)))
            }
            (_, Some(end)) if path.lands => {
                let e = straight_line_ellipse(c, end.t_s - est.time_s, &end, cfg.min_semi_axis_m);
                Some((end.t_s, end.lat_deg, end.lon_deg, floor(e)))
            }
            _ => None,
        };
        let sigma_end = match &impact {
            Some((_, _, _, e)) => e.sigma_along(cross_track(&path)).max(sigma_start),
            None => sigma_start.max(cfg.min_semi_axis_m),
        };
        // The corridor only for a burn already longer than a short-range missile's: an SRBM
        // is out of fuel by then, so its launch warnings wait for the ballistic prediction.
        let long_burn = cfg.boost_corridor_after_s <= 0.0
            || est
                .launch
                .is_some_and(|l| est.time_s - l.time_s >= cfg.boost_corridor_after_s);
        let reach = if boosting && long_burn {
            self.reach_path(est, &settings)
        } else {
            None
        };
        let per_region = self
            .regions
            .iter()
            .map(|r| {
                let p_impact = impact
                    .as_ref()
                    .map(|(_, la, lo, e)| impact_probability(r, *la, *lo, e, &self.pairs))
                    .unwrap_or(0.0);
                let p_over = overflight_probability(
                    r,
                    &path.points,
                    sigma_start,
                    sigma_end,
                    &self.quantiles,
                );
                let p_reach = reach
                    .as_ref()
                    .map(|(p, s_end)| {
                        overflight_probability(
                            r,
                            &p.points,
                            sigma_start,
                            s_end.max(sigma_end),
                            &self.quantiles,
                        )
                    })
                    .unwrap_or(0.0);
                (r.name().to_string(), p_impact, p_over, p_reach)
            })
            .collect();
        Assessment {
            boosting,
            impact,
            per_region,
        }
    }

    /// The boost corridor: the present state flown with its speed raised by the gain (capped),
    /// and the corridor's lateral σ at its end from the heading error.
    fn reach_path(
        &self,
        est: &TrackEstimate,
        settings: &PathSettings,
    ) -> Option<(GroundPath, f64)> {
        let cfg = &self.cfg;
        let v = Vector3::new(est.state[3], est.state[4], est.state[5]);
        let speed = v.norm();
        // Also refuses a NaN speed.
        if speed.is_nan() || speed <= 1.0 {
            return None;
        }
        let target = (speed * (1.0 + cfg.boost_speed_gain))
            .min(cfg.boost_max_speed_mps)
            .max(speed);
        let k = target / speed;
        let s = [
            est.state[0],
            est.state[1],
            est.state[2],
            v.x * k,
            v.y * k,
            v.z * k,
        ];
        let path = predict(est.time_s, &s, settings);
        let length = cumulative_ground_m(&path.points)
            .last()
            .copied()
            .unwrap_or(0.0);
        let c = &est.covariance;
        let sigma_v = ((c[3][3] + c[4][4] + c[5][5]) / 3.0).max(0.0).sqrt();
        let heading_sigma = cfg
            .boost_heading_sigma_deg
            .to_radians()
            .hypot(sigma_v / speed);
        Some((path, length * heading_sigma))
    }

    fn ids(tp: &TrackPicture) -> Vec<u64> {
        let mut ids = vec![tp.ctn];
        for e in &tp.evidence {
            if !ids.contains(e) {
                ids.push(*e);
            }
        }
        ids
    }

    fn new_id(&mut self, key: &Key) -> String {
        let s = self.serials.entry(key.clone()).or_insert(0);
        *s += 1;
        let region = if key.2.is_empty() {
            String::new()
        } else {
            format!("-{}", slug(&key.2))
        };
        format!(
            "{}-{}-{}{}-{}",
            self.nation,
            key.0,
            key.1.as_str(),
            region,
            s
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &self,
        now_s: f64,
        warning_id: String,
        kind: Kind,
        state: State,
        region: Option<String>,
        impact: Option<(f64, f64, f64, Ellipse)>,
        track_ids: Vec<u64>,
        first_detection_s: f64,
    ) -> WarningRow {
        WarningRow {
            time_s: now_s,
            warning_id,
            nation: self.nation.clone(),
            kind,
            state,
            region,
            impact_time_s: impact.map(|i| i.0),
            impact_lat_deg: impact.map(|i| i.1),
            impact_lon_deg: impact.map(|i| i.2),
            semi_major_m: impact.map(|i| i.3.semi_major_m),
            semi_minor_m: impact.map(|i| i.3.semi_minor_m),
            orientation_deg: impact.map(|i| i.3.orientation_deg),
            track_ids,
            latency_s: now_s - first_detection_s,
        }
    }

    fn decide(&mut self, now_s: f64, tp: &TrackPicture, a: &Assessment) -> Vec<WarningRow> {
        let mut rows = Vec::new();
        let ids = Self::ids(tp);
        let p_any = a.p_any();
        let launch_key: Key = (tp.ctn, Kind::Launch, String::new());
        // One launch warning per nation at a time: a second track (a spent stage, a track the
        // picture split) joins the one in force rather than alarming the public again.
        let launch_in_force = self.active.keys().any(|k| k.1 == Kind::Launch);
        if !launch_in_force && self.confirmed(&launch_key, p_any > self.cfg.p_issue) {
            let id = self.new_id(&launch_key);
            let row = self.row(
                now_s,
                id,
                Kind::Launch,
                State::Issued,
                None,
                None,
                ids.clone(),
                tp.first_detection_s,
            );
            self.open(launch_key.clone(), &row);
            rows.push(row);
        }
        // While boosting, the ballistic prediction falls short of where the missile will go:
        // only the launch warning is decided from it (through the reach corridor).
        if !a.boosting {
            let passed = self
                .tracks
                .get(&tp.ctn)
                .map(|m| m.passed.clone())
                .unwrap_or_default();
            let impact_passed = a.impact.is_some_and(|i| now_s >= i.0);
            for (name, p_impact, p_over, _) in &a.per_region {
                let impact_key: Key = (tp.ctn, Kind::Impact, name.clone());
                rows.extend(self.step(
                    now_s,
                    tp,
                    &ids,
                    &impact_key,
                    *p_impact,
                    impact_passed,
                    true,
                    a.impact,
                ));
                let over_key: Key = (tp.ctn, Kind::Overflight, name.clone());
                let impact_open = self.active.contains_key(&impact_key);
                let frozen = impact_passed || passed.contains(name);
                rows.extend(self.step(
                    now_s,
                    tp,
                    &ids,
                    &over_key,
                    *p_over,
                    frozen,
                    !impact_open,
                    a.impact,
                ));
            }
        }
        let others_open = self
            .active
            .keys()
            .any(|k| k.0 == tp.ctn && k.1 != Kind::Launch);
        if let Some(act) = self.active.get_mut(&launch_key) {
            if p_any < self.cfg.p_cancel && !a.boosting {
                let since = *act.below_since_s.get_or_insert(now_s);
                if now_s - since >= self.cfg.hold_s && !others_open {
                    let mut row = act.last.clone();
                    row.time_s = now_s;
                    row.state = State::Cancelled;
                    row.track_ids = ids.clone();
                    row.latency_s = now_s - tp.first_detection_s;
                    self.active.remove(&launch_key);
                    rows.push(row);
                }
            } else {
                act.below_since_s = None;
            }
        }
        rows
    }

    /// Counts an assessment above the issue threshold; true once `issue_after` in a row.
    fn confirmed(&mut self, key: &Key, above: bool) -> bool {
        if !above {
            self.above.remove(key);
            return false;
        }
        let n = self.above.entry(key.clone()).or_insert(0);
        *n += 1;
        if *n >= self.cfg.issue_after.max(1) {
            self.above.remove(key);
            true
        } else {
            false
        }
    }

    fn open(&mut self, key: Key, row: &WarningRow) {
        self.warned.insert(key.0);
        self.active.insert(
            key,
            Active {
                last: row.clone(),
                below_since_s: None,
            },
        );
    }

    /// One region warning's lifecycle step: issue above `p_issue`; cancel after `hold_s` below
    /// `p_cancel` unless frozen; update on a significant change, at most every
    /// `update_min_interval_s`.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        now_s: f64,
        tp: &TrackPicture,
        ids: &[u64],
        key: &Key,
        p: f64,
        frozen: bool,
        may_issue: bool,
        impact: Option<(f64, f64, f64, Ellipse)>,
    ) -> Option<WarningRow> {
        let cfg = self.cfg.clone();
        if let Some(act) = self.active.get_mut(key) {
            if p < cfg.p_cancel && !frozen {
                let since = *act.below_since_s.get_or_insert(now_s);
                if now_s - since >= cfg.hold_s {
                    let mut row = act.last.clone();
                    row.time_s = now_s;
                    row.state = State::Cancelled;
                    row.track_ids = ids.to_vec();
                    row.latency_s = now_s - tp.first_detection_s;
                    self.active.remove(key);
                    return Some(row);
                }
                return None;
            }
            act.below_since_s = None;
            let (Some(i), Some(t0), Some(la0), Some(lo0), Some(b0)) = (
                impact,
                act.last.impact_time_s,
                act.last.impact_lat_deg,
                act.last.impact_lon_deg,
                act.last.semi_minor_m,
            ) else {
                return None;
            };
            let (x, y) = Plane::new(la0, lo0).to_xy(i.1, i.2);
            let moved = (i.0 - t0).abs() > cfg.update_time_shift_s
                || x.hypot(y) > cfg.update_centre_fraction * b0;
            if moved && now_s - act.last.time_s >= cfg.update_min_interval_s {
                let mut row = act.last.clone();
                row.time_s = now_s;
                row.state = State::Updated;
                row.impact_time_s = Some(i.0);
                row.impact_lat_deg = Some(i.1);
                row.impact_lon_deg = Some(i.2);
                row.semi_major_m = Some(i.3.semi_major_m);
                row.semi_minor_m = Some(i.3.semi_minor_m);
                row.orientation_deg = Some(i.3.orientation_deg);
                row.track_ids = ids.to_vec();
                row.latency_s = now_s - tp.first_detection_s;
                act.last = row.clone();
                return Some(row);
            }
            return None;
        }
        // Likewise one warning per region and kind: another track's warning already says it.
        let covered = self.active.keys().any(|k| k.1 == key.1 && k.2 == key.2);
        if may_issue && !covered && self.confirmed(key, p > cfg.p_issue) {
            let id = self.new_id(key);
            let row = self.row(
                now_s,
                id,
                key.1,
                State::Issued,
                Some(key.2.clone()),
                impact,
                ids.to_vec(),
                tp.first_detection_s,
            );
            self.open(key.clone(), &row);
            return Some(row);
        }
        None
    }

    /// The caller's word that a track has ended (deleted by the tracker or fusion). Only a
    /// nation that was warned about it hears more:
    /// - ended at or below `landed_max_alt_m`, or at or after its predicted impact time:
    ///   `landed` (in a region, or a sea area inside/outside the EEZ), every warning of the
    ///   track cancelled, then `all_clear`;
    /// - vanished higher up and earlier (lost, not landed): its warnings are cancelled and
    ///   nothing is said about where it went (J-Alert's 3 Nov 2022 "passed over" error).
    pub fn track_ended(
        &mut self,
        now_s: f64,
        ctn: u64,
        last: &TrackEstimate,
        first_detection_s: f64,
    ) -> Vec<WarningRow> {
        let mut rows = Vec::new();
        if !self.ended.insert(ctn) || self.catching_up(now_s) || !self.warned.contains(&ctn) {
            return rows;
        }
        let ids: Vec<u64> = self
            .active
            .iter()
            .filter(|(k, _)| k.0 == ctn)
            .flat_map(|(_, a)| a.last.track_ids.clone())
            .fold(vec![ctn], |mut acc, id| {
                if !acc.contains(&id) {
                    acc.push(id);
                }
                acc
            });
        let (lat, lon, alt) = sub_point(&last.state);
        let impact_due = last.impact.is_some_and(|i| now_s >= i.time_s);
        // A track whose every warning was already cancelled (the threat passed, or it never
        // was one) gets no "landed" and no all-clear: the public was told already.
        let in_force = self.active.keys().any(|k| k.0 == ctn);
        let landed = in_force && (alt <= self.cfg.landed_max_alt_m || impact_due);
        if landed {
            let at = match last.impact {
                Some(i)
                    if [i.lat_deg, i.lon_deg, i.time_s]
                        .iter()
                        .all(|x| x.is_finite()) =>
                {
                    (
                        i.time_s.min(now_s),
                        i.lat_deg,
                        i.lon_deg,
                        Ellipse {
                            semi_major_m: i.semi_major_m.max(self.cfg.min_semi_axis_m),
                            semi_minor_m: i.semi_minor_m.max(self.cfg.min_semi_axis_m),
                            orientation_deg: i.orientation_deg,
                        },
                    )
                }
                _ => (
                    last.time_s,
                    lat,
                    lon,
                    Ellipse {
                        semi_major_m: self.cfg.min_semi_axis_m,
                        semi_minor_m: self.cfg.min_semi_axis_m,
                        orientation_deg: 0.0,
                    },
                ),
            };
            let place = landing_place(&self.nation, &self.regions, at.1, at.2);
            let key: Key = (ctn, Kind::Landed, String::new());
            let id = self.new_id(&key);
            rows.push(self.row(
                now_s,
                id,
                Kind::Landed,
                State::Issued,
                Some(place),
                Some(at),
                ids.clone(),
                first_detection_s,
            ));
        }
        let keys: Vec<Key> = self.active.keys().filter(|k| k.0 == ctn).cloned().collect();
        for k in keys {
            if let Some(act) = self.active.remove(&k) {
                let mut row = act.last;
                row.time_s = now_s;
                row.state = State::Cancelled;
                row.latency_s = now_s - first_detection_s;
                rows.push(row);
            }
        }
        if landed {
            let key: Key = (ctn, Kind::AllClear, String::new());
            let id = self.new_id(&key);
            rows.push(self.row(
                now_s,
                id,
                Kind::AllClear,
                State::Issued,
                None,
                None,
                ids,
                first_detection_s,
            ));
        }
        self.tracks.remove(&ctn);
        rows
    }

    /// Records the flown ground track between consecutive estimates (for "passed over").
    pub(crate) fn note_flown(&mut self, ctn: u64, from: (f64, f64), to: (f64, f64)) {
        let names: Vec<String> = self
            .regions
            .iter()
            .filter(|r| r.path_passes_over(&[from, to]))
            .map(|r| r.name().to_string())
            .collect();
        if let Some(m) = self.tracks.get_mut(&ctn) {
            m.passed.extend(names);
        }
    }
}

/// Thrust acceleration from two estimates: the observed change of velocity minus what free
/// flight would have done, along the velocity. Estimates less than half a second apart are
/// too noisy to difference.
fn remember_motion(mem: &mut TrackMemory, est: &TrackEstimate) {
    if let Some((t0, s0)) = mem.last {
        let dt = est.time_s - t0;
        if dt < 0.5 {
            return;
        }
        let v0 = Vector3::new(s0[3], s0[4], s0[5]);
        let v1 = Vector3::new(est.state[3], est.state[4], est.state[5]);
        let r = Vector3::new(
            0.5 * (s0[0] + est.state[0]),
            0.5 * (s0[1] + est.state[1]),
            0.5 * (s0[2] + est.state[2]),
        );
        let vm = 0.5 * (v0 + v1);
        let observed = (v1 - v0) / dt;
        let excess = observed - free_flight_acceleration(&r, &vm);
        if vm.norm() > 1.0 {
            mem.thrust_accel_mps2 = Some(excess.dot(&vm) / vm.norm());
        }
    }
    mem.last = Some((est.time_s, est.state));
}

/// The cross-track unit vector (east, north) at the end of a path.
fn cross_track(path: &GroundPath) -> (f64, f64) {
    let n = path.points.len();
    if n < 2 {
        return (1.0, 0.0);
    }
    let (a, b) = (path.points[n - 2], path.points[n - 1]);
    let (x, y) = Plane::new(b.lat_deg, b.lon_deg).to_xy(a.lat_deg, a.lon_deg);
    let len = x.hypot(y);
    if len > 0.0 {
        // a lies behind b: heading is (-x, -y); left normal of the heading.
        (y / len, -x / len)
    } else {
        (1.0, 0.0)
    }
}
