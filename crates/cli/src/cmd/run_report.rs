//! The run's self-contained HTML report: the answer per nation, a timeline of warnings shared
//! and alone beside truth and the public record, and a map (trilink-present draws it).
use std::path::Path;

use trilink_geo::Ecef;
use trilink_node::assess::Truth;
use trilink_node::mission::MissionResult;
use trilink_node::FabricScenario;
use trilink_present::{MapData, MapEllipse, MapRegion, NationTimeline, ReportInput, TimelineEvent};
use trilink_warn::{Kind, State, Warner, WarningRow};

use crate::exit::CliError;

fn ev(t_s: f64, label: impl Into<String>, kind: &str) -> TimelineEvent {
    TimelineEvent {
        t_s,
        label: label.into(),
        kind: kind.into(),
    }
}

/// A warning row on a timeline: issued and cancelled rows, not every update.
fn warning_event(w: &WarningRow) -> Option<TimelineEvent> {
    let region = w
        .region
        .as_deref()
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    match w.state {
        State::Issued => Some(ev(
            w.time_s,
            format!("{}{region}", w.kind.as_str()),
            w.kind.as_str(),
        )),
        State::Cancelled if w.kind != Kind::Launch => Some(ev(
            w.time_s,
            format!("cancel {}{region}", w.kind.as_str()),
            "cancelled",
        )),
        _ => None,
    }
}

fn lane(
    first_detection: Option<f64>,
    first_track: Option<f64>,
    rows: &[WarningRow],
) -> Vec<TimelineEvent> {
    let mut out = Vec::new();
    if let Some(t) = first_detection {
        out.push(ev(t, "first detection", "first_detection"));
    }
    if let Some(t) = first_track {
        out.push(ev(t, "first track", "first_track"));
    }
    out.extend(rows.iter().filter_map(warning_event));
    out
}

pub fn write(
    path: &Path,
    sc: &FabricScenario,
    out: &trilink_sim::SimOutput,
    r: &MissionResult,
    summary: &serde_json::Value,
) -> Result<(), CliError> {
    let truth = Truth::new(out);
    let launches: Vec<(f64, (f64, f64))> = out
        .trajectories
        .iter()
        .filter(|t| t.kind == trilink_physics::flight::ObjectKind::Payload)
        .filter_map(|t| {
            let s = t.samples.first()?;
            let g = Ecef::new(s[0], s[1], s[2]).to_geodetic();
            Some((t.t_start_s(), (g.lat_deg(), g.lon_deg())))
        })
        .collect();
    let mut nations = Vec::new();
    let mut regions = Vec::new();
    let mut ellipses = Vec::new();
    for o in &r.outcomes {
        let Some((n, (shared, alone))) = r.pictures.iter().find(|(n, _)| n.as_str() == o.nation)
        else {
            continue;
        };
        let mut truth_lane: Vec<TimelineEvent> = launches
            .iter()
            .map(|(t, _)| ev(*t, "launch", "truth"))
            .collect();
        for e in r.truth_events.iter().filter(|e| e.nation == o.nation) {
            truth_lane.push(ev(
                e.time_s,
                format!("{} {}", e.kind.as_str(), e.region),
                "truth",
            ));
        }
        nations.push(NationTimeline {
            nation: o.nation.clone(),
            shared: lane(
                o.first_detection_s.reachable,
                o.first_track_s.shared,
                &shared.warnings,
            ),
            alone: lane(
                o.first_detection_s.own,
                o.first_track_s.alone,
                &alone.warnings,
            ),
            truth: truth_lane,
            public_record: sc
                .public_record
                .iter()
                .filter(|p| p.nation == o.nation)
                .map(|p| {
                    let region = p
                        .region
                        .as_deref()
                        .map(|r| format!(" {r}"))
                        .unwrap_or_default();
                    ev(p.time_s, format!("{}{region}", p.event), "public")
                })
                .collect(),
        });
        if let Ok(w) = Warner::new(n.as_str(), &sc.regions, Default::default()) {
            for reg in w.regions() {
                let name = reg.name().to_string();
                regions.push(MapRegion {
                    polygon: w.region_polygon(&name).unwrap_or_default(),
                    warned: shared.warnings.iter().any(|x| {
                        matches!(x.kind, Kind::Impact | Kind::Overflight)
                            && x.region.as_deref() == Some(name.as_str())
                    }),
                    affected: r
                        .truth_events
                        .iter()
                        .any(|e| e.region == name && e.nation == o.nation),
                    nation: o.nation.clone(),
                    name,
                });
            }
        }
        for x in shared
            .warnings
            .iter()
            .filter(|x| x.kind == Kind::Impact && x.state != State::Cancelled)
        {
            if let (Some(lat), Some(lon), Some(a), Some(b), Some(th)) = (
                x.impact_lat_deg,
                x.impact_lon_deg,
                x.semi_major_m,
                x.semi_minor_m,
                x.orientation_deg,
            ) {
                ellipses.push(MapEllipse {
                    lat_deg: lat,
                    lon_deg: lon,
                    semi_major_m: a,
                    semi_minor_m: b,
                    orientation_deg: th,
                    nation: o.nation.clone(),
                    time_s: x.time_s,
                    label: format!(
                        "{} impact {} at {:.0} s",
                        o.nation,
                        x.region.as_deref().unwrap_or(""),
                        x.time_s
                    ),
                });
            }
        }
    }
    let input = ReportInput {
        title: format!("{} — {}", sc.name, sc.description),
        subtitle: format!(
            "seed {}, bus {}, the fabric ran {:.1} s of wall clock; times in seconds after the epoch ({})",
            summary["seed"],
            summary["bus"].as_str().unwrap_or("?"),
            r.report.wall_s,
            trilink_warn::cap::rfc3339(sc.epoch_unix_s)
        ),
        summary: summary.clone(),
        nations,
        map: MapData {
            regions,
            ground_tracks: truth
                .ground_tracks(5.0)
                .into_iter()
                .map(|(_, p)| p)
                .collect(),
            impact_ellipses: ellipses,
            landings: r.landings.iter().map(|l| (l.lat_deg, l.lon_deg)).collect(),
            launch_sites: launches.iter().map(|(_, p)| *p).collect(),
        },
    };
    trilink_present::write(path, &input).map_err(|e| CliError::Other(e.into()))
}
