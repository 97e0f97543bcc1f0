//! What really happened, from the simulator's truth: when each object was first detected (by
//! whose radars), and which regions each object fell on or flew over, and when. `trilink run`
//! scores warnings against this; nothing here feeds a decision.
use std::collections::{BTreeMap, HashSet};

use trilink_geo::Ecef;
use trilink_physics::flight::Ending;
use trilink_sim::SimOutput;
use trilink_warn::geometry::Region;

/// How an object affected a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventKind {
    /// It came down inside the region.
    Impact,
    /// Its sub-point crossed the region while it flew.
    Overflight,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Impact => "impact",
            EventKind::Overflight => "overflight",
        }
    }
}

/// The first time an object affected a region.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionEvent {
    pub region: String,
    pub nation: String,
    pub object_id: u64,
    pub kind: EventKind,
    /// Impact time, or the first instant the sub-point was inside the region.
    pub time_s: f64,
}

/// Where and when an object came down, if it did within the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Landing {
    pub object_id: u64,
    pub time_s: f64,
    pub lat_deg: f64,
    pub lon_deg: f64,
}

/// Truth seen from the warning side.
pub struct Truth<'a> {
    out: &'a SimOutput,
}

/// Step at which a trajectory's sub-point is tested against regions: an object at 7 km/s
/// moves 7 km, less than any region's width.
const SCAN_STEP_S: f64 = 1.0;

/// Below this height a trajectory's end counts as a landing.
const GROUND_M: f64 = 1_000.0;

impl<'a> Truth<'a> {
    pub fn new(out: &'a SimOutput) -> Self {
        Truth { out }
    }

    /// The first detection of each object by any of `sensors` (ids), by object id.
    pub fn first_detections(&self, sensors: &HashSet<&str>) -> BTreeMap<u64, f64> {
        let mut first = BTreeMap::new();
        for l in &self.out.labels {
            if l.object_id != 0 && sensors.contains(l.sensor_id.as_str()) {
                first.entry(l.object_id).or_insert(l.time_s);
            }
        }
        first
    }

    /// Objects that came down within the run.
    pub fn landings(&self) -> Vec<Landing> {
        self.out
            .objects
            .iter()
            .zip(&self.out.trajectories)
            .filter(|(_, tr)| tr.ending == Ending::Impact)
            .filter_map(|(o, tr)| {
                let s = tr.samples.last()?;
                let g = Ecef::new(s[0], s[1], s[2]).to_geodetic();
                (g.alt_m < GROUND_M).then(|| Landing {
                    object_id: o.object_id,
                    time_s: tr.t_end_s(),
                    lat_deg: g.lat_deg(),
                    lon_deg: g.lon_deg(),
                })
            })
            .collect()
    }

    /// Every (object, region) pair in which the object fell on or flew over the region, with
    /// the first time it did; an impact inside a region counts as an impact even if the object
    /// flew over it first.
    pub fn region_events(&self, regions: &[Region]) -> Vec<RegionEvent> {
        let landings: BTreeMap<u64, Landing> = self
            .landings()
            .into_iter()
            .map(|l| (l.object_id, l))
            .collect();
        let mut events = Vec::new();
        for (o, tr) in self.out.objects.iter().zip(&self.out.trajectories) {
            let (t0, t1) = (tr.t_start_s(), tr.t_end_s());
            if !(t0.is_finite() && t1.is_finite()) {
                continue;
            }
            let mut first_over: Vec<Option<f64>> = vec![None; regions.len()];
            let mut t = t0;
            while t <= t1 {
                if let Some(s) = tr.state_at(t) {
                    let g = Ecef::new(s[0], s[1], s[2]).to_geodetic();
                    for (i, r) in regions.iter().enumerate() {
                        if first_over[i].is_none() && r.contains(g.lat_deg(), g.lon_deg()) {
                            first_over[i] = Some(t);
                        }
                    }
                }
                t += SCAN_STEP_S;
            }
            let landing = landings.get(&o.object_id);
            for (i, r) in regions.iter().enumerate() {
                let impact = landing.filter(|l| r.contains(l.lat_deg, l.lon_deg));
                let (kind, time_s) = match (impact, first_over[i]) {
                    (Some(l), _) => (EventKind::Impact, l.time_s),
                    (None, Some(t)) => (EventKind::Overflight, t),
                    (None, None) => continue,
                };
                events.push(RegionEvent {
                    region: r.name().to_string(),
                    nation: r.nation().to_string(),
                    object_id: o.object_id,
                    kind,
                    time_s,
                });
            }
        }
        events.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        events
    }

    /// The object nearest to an ECEF position at a time, with the distance (m): which object
    /// a track is about.
    pub fn nearest_object(&self, t_s: f64, pos: &[f64; 3]) -> Option<(u64, f64)> {
        // First a cheap pass (positions found from the step, without the binary search or the
        // velocity), then the exact distance only for objects within a kilometre of the cheap
        // pass's nearest: over a thousand objects the exact interpolation of every trajectory
        // was the cost. The two agree far below a metre, so the nearest and its ties are kept.
        const MARGIN_M: f64 = 1_000.0;
        let cheap: Vec<Option<f64>> = self
            .out
            .trajectories
            .iter()
            .map(|tr| {
                let n = tr.t_s.len();
                let step = (tr.t_end_s() - tr.t_start_s()) / n.saturating_sub(1).max(1) as f64;
                let step = if step > 0.0 && step.is_finite() {
                    step
                } else {
                    0.1
                };
                let p = tr.position_at(t_s, step)?;
                Some(
                    ((p[0] - pos[0]).powi(2) + (p[1] - pos[1]).powi(2) + (p[2] - pos[2]).powi(2))
                        .sqrt(),
                )
            })
            .collect();
        let best = cheap
            .iter()
            .flatten()
            .copied()
            .fold(f64::INFINITY, f64::min);
        // Without a finite nearest (NaN states), every object is judged exactly, as before.
        let exact = |d: &Option<f64>| !best.is_finite() || d.is_some_and(|d| d <= best + MARGIN_M);
        self.out
            .objects
            .iter()
            .zip(&self.out.trajectories)
            .zip(&cheap)
            .filter(|(_, d)| exact(d))
            .map(|(ot, _)| ot)
            .filter_map(|(o, tr)| {
                let s = tr.state_at(t_s)?;
                let d =
                    ((s[0] - pos[0]).powi(2) + (s[1] - pos[1]).powi(2) + (s[2] - pos[2]).powi(2))
                        .sqrt();
                Some((o.object_id, d))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Where an object was (lat, lon, alt) at a time, if it was flying then.
    pub fn position_geodetic(&self, object_id: u64, t_s: f64) -> Option<(f64, f64, f64)> {
        let i = self
            .out
            .objects
            .iter()
            .position(|o| o.object_id == object_id)?;
        let s = self.out.trajectories.get(i)?.state_at(t_s)?;
        let g = Ecef::new(s[0], s[1], s[2]).to_geodetic();
        Some((g.lat_deg(), g.lon_deg(), g.alt_m))
    }

    /// Sub-points of every object, one per `step_s`, for maps.
    pub fn ground_tracks(&self, step_s: f64) -> Vec<(u64, Vec<(f64, f64)>)> {
        self.out
            .objects
            .iter()
            .zip(&self.out.trajectories)
            .map(|(o, tr)| {
                let mut pts = Vec::new();
                let mut t = tr.t_start_s();
                while t <= tr.t_end_s() {
                    if let Some(s) = tr.state_at(t) {
                        let g = Ecef::new(s[0], s[1], s[2]).to_geodetic();
                        pts.push((g.lat_deg(), g.lon_deg()));
                    }
                    t += step_s.max(0.1);
                }
                if let Some(s) = tr.samples.last() {
                    let g = Ecef::new(s[0], s[1], s[2]).to_geodetic();
                    pts.push((g.lat_deg(), g.lon_deg()));
                }
                (o.object_id, pts)
            })
            .collect()
    }
}
