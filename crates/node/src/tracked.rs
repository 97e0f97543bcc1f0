//! The real pipeline: the simulator's detections, each nation's own sensors only, through that
//! nation's tracker ([`trilink_track::Tracker`]) into national tracks.
use trilink_bus::link::LinkSpec;
use trilink_interchange::{DetectionRow, SensorRow};
use trilink_sim::{Scenario, SimOptions, SimOutput};
use trilink_track::{Phase, TrackUpdate, Tracker, TrackerConfig};
use trilink_wire::report::{FlightPhase, PointEstimate, TrackEstimate};
use trilink_wire::{Nation, Policy};

use crate::scenario::{FabricScenario, NationSpec, SensorSite};
use crate::source::{NationalTrack, TrackSource};
use crate::NodeError;

fn scen_err(s: &Scenario, detail: String) -> NodeError {
    NodeError::Scenario {
        path: s.source.clone(),
        detail,
    }
}

/// What the fabric needs from a simulator scenario. `end_s` is where the simulation ended
/// (used when the scenario gives no duration).
pub fn fabric_scenario(s: &Scenario, end_s: f64) -> Result<FabricScenario, NodeError> {
    let code = |c: &str| {
        c.parse::<Nation>()
            .map_err(|e| scen_err(s, format!("nation {c:?}: {e}")))
    };
    let mut nations = Vec::new();
    for n in &s.nations {
        let nation = code(&n.code)?;
        let sensors = s
            .sensors_of(&n.code)
            .map(|x| SensorSite {
                id: x.id.clone(),
                kind: x.kind.as_str().to_string(),
                lat_deg: x.lat_deg,
                lon_deg: x.lon_deg,
                alt_m: x.site.alt_m,
                max_range_m: x.max_range_m,
                min_elevation_deg: x.min_elevation_rad.to_degrees(),
            })
            .collect();
        nations.push(NationSpec { nation, sensors });
    }
    let mut policy = Policy::new();
    for (from, tos) in &s.policy.release {
        let to: Result<Vec<Nation>, NodeError> = tos.iter().map(|t| code(t)).collect();
        policy.release(code(from)?, to?);
    }
    let mut links = std::collections::BTreeMap::new();
    for l in &s.links {
        let spec = LinkSpec {
            latency_s: l.latency_ms / 1000.0,
            jitter_s: l.jitter_ms / 1000.0,
            loss: l.loss,
        };
        links.insert((code(&l.from)?, code(&l.to)?), spec);
        if l.both_ways {
            links.insert((code(&l.to)?, code(&l.from)?), spec);
        }
    }
    Ok(FabricScenario {
        name: s.name.clone(),
        nations,
        policy,
        links,
        launches: Vec::new(),
        relays: s.policy.relay.clone(),
        regions: s.regions.clone(),
        description: s.description.clone(),
        epoch_unix_s: s.epoch_unix_s,
        public_record: s.public_record.clone(),
        duration_s: s.duration_s.unwrap_or(end_s),
        report_period_s: 1.0,
    })
}

/// Runs the simulator once for every nation.
pub fn simulate(s: &Scenario, seed: u64) -> Result<SimOutput, NodeError> {
    trilink_sim::simulate(
        s,
        &SimOptions {
            seed,
            ..SimOptions::default()
        },
        &mut |_| {},
    )
    .map_err(|e| scen_err(s, format!("simulation failed: {e}")))
}

/// One nation's tracker fed with its own sensors' detections, reporting once per period.
pub struct TrackerSource {
    detections: Vec<DetectionRow>,
    next: usize,
    tracker: Tracker,
    period_s: f64,
    t_s: f64,
    end_s: f64,
    closed: bool,
}

impl TrackerSource {
    pub fn new(
        out: &SimOutput,
        nation: Nation,
        period_s: f64,
        end_s: f64,
    ) -> Result<Self, NodeError> {
        let sensors: Vec<SensorRow> = out
            .sensors
            .iter()
            .filter(|r| r.nation == nation.as_str())
            .cloned()
            .collect();
        let ids: std::collections::HashSet<&str> =
            sensors.iter().map(|r| r.sensor_id.as_str()).collect();
        let detections: Vec<DetectionRow> = out
            .detections
            .iter()
            .filter(|d| ids.contains(d.sensor_id.as_str()))
            .cloned()
            .collect();
        let tracker =
            Tracker::new(&sensors, TrackerConfig::default()).map_err(|e| NodeError::Scenario {
                path: format!("{nation} tracker"),
                detail: e.to_string(),
            })?;
        Ok(TrackerSource {
            detections,
            next: 0,
            tracker,
            period_s: period_s.max(1e-3),
            t_s: out.start_s,
            end_s,
            closed: false,
        })
    }

    /// How many detections this nation's sensors made.
    pub fn detection_count(&self) -> usize {
        self.detections.len()
    }
}

fn national(u: &TrackUpdate) -> NationalTrack {
    let mut cov = [[0.0; 6]; 6];
    for (r, row) in cov.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            // Symmetrise: the filter's covariance is symmetric up to rounding.
            *v = 0.5 * (u.p[(r, c)] + u.p[(c, r)]);
        }
    }
    let point = |g: &trilink_track::GroundPoint| PointEstimate {
        time_s: g.t_s,
        lat_deg: g.site.lat_deg(),
        lon_deg: g.site.lon_deg(),
        semi_major_m: g.semi_major_m,
        semi_minor_m: g.semi_minor_m,
        orientation_deg: g.orientation_deg,
    };
    NationalTrack {
        estimate: TrackEstimate {
            track_number: u.track_id,
            time_s: u.time_s,
            state: [u.x[0], u.x[1], u.x[2], u.x[3], u.x[4], u.x[5]],
            covariance: cov,
            // Confidence grows with the detections behind the track; 20 or more count as full.
            quality: (u.hits as f64 / 20.0).clamp(0.05, 1.0),
            phase: match u.phase {
                Phase::Boost => FlightPhase::Boost,
                Phase::Midcourse => FlightPhase::Midcourse,
                Phase::Terminal => FlightPhase::Terminal,
            },
            launch: u.launch.as_ref().map(point),
            impact: u.impact.as_ref().map(point),
        },
        contributing_sensors: Vec::new(),
    }
}

impl TrackSource for TrackerSource {
    fn next_update(&mut self) -> Option<(f64, Vec<NationalTrack>)> {
        if self.closed {
            return None;
        }
        self.t_s += self.period_s;
        while self.next < self.detections.len() && self.detections[self.next].time_s < self.t_s {
            // A detection the tracker refuses (out of order beyond its tolerance) is skipped;
            // the simulator writes them in order, so this does not happen with its output.
            let _ = self.tracker.process(&self.detections[self.next]);
            self.next += 1;
        }
        if self.next >= self.detections.len() && self.t_s >= self.end_s {
            self.tracker.close();
            self.closed = true;
        }
        let tracks = self.tracker.drain_updates().map(|u| national(&u)).collect();
        let _ = self.tracker.drain_ended().count();
        Some((self.t_s, tracks))
    }
}
