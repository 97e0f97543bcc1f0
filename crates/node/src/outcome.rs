//! How each nation was warned, scored against truth: the answer `trilink run` exists to give.
//!
//! Definitions (docs/decisions/0702):
//! - a region is *affected* when an object fell in it or its sub-point crossed it (truth);
//! - *missed*: an affected region with no impact or overflight warning issued before the event;
//! - *wrong-area*: an impact or overflight warning issued for a region that was not affected;
//! - *false*: a warning of any kind issued to a nation none of whose regions was affected;
//! - *lead time*: event time minus the first warning of that region (negative: late);
//! - *gain*: the first warning alone minus the first warning shared, for one seed.
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use trilink_warn::{Kind, State, WarningRow};

use crate::assess::{EventKind, Landing, RegionEvent};

/// One figure with sharing and without.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Pair {
    pub shared: Option<f64>,
    pub alone: Option<f64>,
}

/// Counts of warnings that truth shows wrong.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Scores {
    pub wrong_area: u32,
    pub missed: u32,
    #[serde(rename = "false")]
    pub false_warnings: u32,
}

impl Scores {
    pub fn add(&mut self, o: &Scores) {
        self.wrong_area += o.wrong_area;
        self.missed += o.missed;
        self.false_warnings += o.false_warnings;
    }
}

/// One region of a nation: what truth says and what each mode warned.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegionOutcome {
    pub region: String,
    /// `impact` or `overflight`, when truth shows the region affected.
    pub truth_event: Option<&'static str>,
    pub truth_time_s: Option<f64>,
    /// First impact or overflight warning issued for the region.
    pub first_warning_s: Pair,
    /// Truth event time minus first warning (positive: warned before).
    pub lead_time_s: Pair,
    /// Distance from the warned impact point to where the object fell, at the first impact
    /// warning (m).
    pub impact_error_m: Pair,
}

/// Everything the table, the JSON and the report say about one nation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NationOutcome {
    pub nation: String,
    /// Whether any of its regions was affected (truth).
    pub affected: bool,
    /// First detection of any object by its own radars, and by any radar whose data reaches it.
    pub first_detection_s: FirstDetection,
    pub first_track_s: Pair,
    pub first_launch_warning_s: Pair,
    /// The first warning of any kind: the contract's `first_warning_s`.
    pub first_warning_s: Pair,
    /// Launch warning minus the first detection by radars whose data reaches it in that mode.
    pub launch_latency_s: Pair,
    /// Lead time before the first event in any of its regions.
    pub lead_time_s: Pair,
    /// Alone minus shared first warning (s); `None` when either has none.
    pub gain_s: Option<f64>,
    pub regions: Vec<RegionOutcome>,
    pub scores_shared: Scores,
    pub scores_alone: Scores,
    pub warnings_shared: usize,
    pub warnings_alone: usize,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct FirstDetection {
    pub own: Option<f64>,
    pub reachable: Option<f64>,
}

/// What one mode (shared or alone) produced for a nation.
pub struct ModeResult<'a> {
    pub warnings: &'a [WarningRow],
    pub first_track_s: Option<f64>,
    /// First detection of any object by the radars whose data reached the nation in this mode.
    pub first_detection_s: Option<f64>,
}

fn min_opt(a: Option<f64>, b: f64) -> Option<f64> {
    Some(a.map_or(b, |a| a.min(b)))
}

fn first_issued(rows: &[WarningRow], pred: impl Fn(&WarningRow) -> bool) -> Option<f64> {
    rows.iter()
        .filter(|r| r.state == State::Issued && pred(r))
        .map(|r| r.time_s)
        .fold(None, min_opt)
}

fn is_area(k: Kind) -> bool {
    matches!(k, Kind::Impact | Kind::Overflight)
}

/// Scores one mode's warnings of one nation against truth.
pub fn score(
    rows: &[WarningRow],
    regions: &[String],
    events: &BTreeMap<String, &RegionEvent>,
) -> Scores {
    let mut s = Scores::default();
    let affected = regions.iter().any(|r| events.contains_key(r));
    if !affected {
        let ids: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r.state == State::Issued)
            .map(|r| r.warning_id.as_str())
            .collect();
        s.false_warnings = ids.len() as u32;
    }
    for region in regions {
        let warned = first_issued(rows, |r| {
            is_area(r.kind) && r.region.as_deref() == Some(region.as_str())
        });
        match (events.get(region), warned) {
            (Some(e), Some(t)) if t <= e.time_s => {}
            (Some(_), _) => s.missed += 1,
            (None, Some(_)) => s.wrong_area += 1,
            (None, None) => {}
        }
    }
    s
}

/// The outcome for one nation.
pub fn nation_outcome(
    nation: &str,
    regions: &[String],
    truth_events: &[RegionEvent],
    landings: &[Landing],
    own_first_detection_s: Option<f64>,
    shared: &ModeResult<'_>,
    alone: &ModeResult<'_>,
) -> NationOutcome {
    // The first event per region (of this nation).
    let mut first_event: BTreeMap<String, &RegionEvent> = BTreeMap::new();
    for e in truth_events.iter().filter(|e| e.nation == nation) {
        first_event
            .entry(e.region.clone())
            .and_modify(|x| {
                if e.time_s < x.time_s {
                    *x = e;
                }
            })
            .or_insert(e);
    }
    let affected = !first_event.is_empty();
    let pair = |f: &dyn Fn(&ModeResult<'_>) -> Option<f64>| Pair {
        shared: f(shared),
        alone: f(alone),
    };
    let first_warning = pair(&|m| first_issued(m.warnings, |_| true));
    let first_launch = pair(&|m| first_issued(m.warnings, |r| r.kind == Kind::Launch));
    let launch_latency = pair(&|m| {
        Some(first_issued(m.warnings, |r| r.kind == Kind::Launch)? - m.first_detection_s?)
    });
    let first_event_s = first_event.values().map(|e| e.time_s).fold(None, min_opt);
    let lead = pair(&|m| Some(first_event_s? - first_issued(m.warnings, |_| true)?));
    let region_outcomes = regions
        .iter()
        .map(|region| {
            let ev = first_event.get(region);
            let first_area = |m: &ModeResult<'_>| {
                first_issued(m.warnings, |r| {
                    is_area(r.kind) && r.region.as_deref() == Some(region.as_str())
                })
            };
            let impact_error = |m: &ModeResult<'_>| {
                let e = ev.filter(|e| e.kind == EventKind::Impact)?;
                let landing = landings.iter().find(|l| l.object_id == e.object_id)?;
                let w = m
                    .warnings
                    .iter()
                    .filter(|r| {
                        r.kind == Kind::Impact
                            && r.state == State::Issued
                            && r.region.as_deref() == Some(region.as_str())
                    })
                    .min_by(|a, b| a.time_s.total_cmp(&b.time_s))?;
                let (lat, lon) = (w.impact_lat_deg?, w.impact_lon_deg?);
                Some(ground_distance_m(
                    lat,
                    lon,
                    landing.lat_deg,
                    landing.lon_deg,
                ))
            };
            RegionOutcome {
                region: region.clone(),
                truth_event: ev.map(|e| e.kind.as_str()),
                truth_time_s: ev.map(|e| e.time_s),
                first_warning_s: pair(&first_area),
                lead_time_s: pair(&|m| Some(ev?.time_s - first_area(m)?)),
                impact_error_m: pair(&impact_error),
            }
        })
        .collect();
    NationOutcome {
        nation: nation.to_string(),
        affected,
        first_detection_s: FirstDetection {
            own: own_first_detection_s,
            reachable: shared.first_detection_s,
        },
        first_track_s: pair(&|m| m.first_track_s),
        first_launch_warning_s: first_launch,
        first_warning_s: first_warning,
        launch_latency_s: launch_latency,
        lead_time_s: lead,
        gain_s: match (first_warning.alone, first_warning.shared) {
            (Some(a), Some(s)) => Some(a - s),
            _ => None,
        },
        regions: region_outcomes,
        scores_shared: score(shared.warnings, regions, &first_event),
        scores_alone: score(alone.warnings, regions, &first_event),
        warnings_shared: shared.warnings.len(),
        warnings_alone: alone.warnings.len(),
    }
}

/// Geodesic distance on WGS-84 (m).
pub fn ground_distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    match (
        trilink_geo::Geodetic::from_degrees(lat1, lon1, 0.0),
        trilink_geo::Geodetic::from_degrees(lat2, lon2, 0.0),
    ) {
        (Ok(a), Ok(b)) => trilink_geo::geodesic_inverse(&a, &b).distance_m,
        _ => f64::NAN,
    }
}

/// Median, 10th and 90th percentiles of a sample (nearest rank), `None` when empty.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spread {
    pub median: f64,
    pub p10: f64,
    pub p90: f64,
    pub n: usize,
}

impl Spread {
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((p * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
        Some(Spread {
            median: q(0.5),
            p10: q(0.1),
            p90: q(0.9),
            n: v.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: f64, id: &str, kind: Kind, region: Option<&str>) -> WarningRow {
        WarningRow {
            time_s: t,
            warning_id: id.into(),
            nation: "JP".into(),
            kind,
            state: State::Issued,
            region: region.map(String::from),
            impact_time_s: None,
            impact_lat_deg: None,
            impact_lon_deg: None,
            semi_major_m: None,
            semi_minor_m: None,
            orientation_deg: None,
            track_ids: vec![1],
            latency_s: 0.0,
        }
    }

    fn event(region: &str, t: f64) -> RegionEvent {
        RegionEvent {
            region: region.into(),
            nation: "JP".into(),
            object_id: 1,
            kind: EventKind::Overflight,
            time_s: t,
        }
    }

    #[test]
    fn a_late_warning_is_missed_an_unaffected_region_is_wrong_and_an_unaffected_nation_false() {
        let regions = vec!["Aomori".to_string(), "Okinawa".to_string()];
        let aomori = event("Aomori", 400.0);
        let events = BTreeMap::from([("Aomori".to_string(), &aomori)]);
        let on_time = [
            row(50.0, "a", Kind::Launch, None),
            row(300.0, "b", Kind::Overflight, Some("Aomori")),
        ];
        assert_eq!(score(&on_time, &regions, &events), Scores::default());
        let late = [row(401.0, "b", Kind::Overflight, Some("Aomori"))];
        assert_eq!(score(&late, &regions, &events).missed, 1);
        let wrong = [
            row(300.0, "b", Kind::Overflight, Some("Aomori")),
            row(310.0, "c", Kind::Impact, Some("Okinawa")),
        ];
        assert_eq!(score(&wrong, &regions, &events).wrong_area, 1);
        let none = BTreeMap::new();
        let launch_only = [row(50.0, "a", Kind::Launch, None)];
        assert_eq!(score(&launch_only, &regions, &none).false_warnings, 1);
    }

    #[test]
    fn spread_takes_nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=11).map(f64::from).collect();
        let s = Spread::of(&v).unwrap();
        assert_eq!((s.p10, s.median, s.p90, s.n), (2.0, 6.0, 10.0, 11));
        assert!(Spread::of(&[]).is_none());
    }
}
