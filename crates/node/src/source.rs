//! Where a node's national tracks come from.
//!
//! [`TrackSource`] is the seam to the tracker. [`SyntheticSource`] stands in for it: it derives
//! each nation's tracks from synthetic launch-to-impact arcs, reports a track only while one of
//! that nation's sensors has it in range and above its horizon, and adds noise consistent with
//! the covariance it reports. The arcs are geometric (great-circle ground track, parabolic
//! height), not a physics simulation: they exercise the fabric, they do not validate tracking.
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use trilink_geo::{geodesic_direct, geodesic_inverse, Ecef, Geodetic, LocalFrame};
use trilink_wire::report::{FlightPhase, PointEstimate, Provenance, TrackEstimate, TrackReport};

use crate::scenario::{FabricScenario, LaunchSpec, SensorSite};

/// A national track as the nation's tracker holds it, including what must stay at home.
#[derive(Clone, Debug, PartialEq)]
pub struct NationalTrack {
    pub estimate: TrackEstimate,
    /// Which of the nation's sensors contributed. Never shared.
    pub contributing_sensors: Vec<String>,
}

impl NationalTrack {
    /// The shareable view. This is the sanitisation step: neither the estimate nor the report
    /// type has a field that could carry `contributing_sensors` or anything about them.
    pub fn to_report(&self) -> TrackReport {
        TrackReport::from_estimate(&self.estimate, Provenance::default())
    }
}

/// Yields a nation's confirmed tracks, update by update, in time order.
pub trait TrackSource: Send {
    /// The next update time and the tracks confirmed at it; `None` when the source is done.
    fn next_update(&mut self) -> Option<(f64, Vec<NationalTrack>)>;
}

struct Arc {
    launch: LaunchSpec,
    start: Geodetic,
    azimuth_rad: f64,
    distance_m: f64,
}

impl Arc {
    fn new(l: &LaunchSpec) -> Option<Self> {
        let start = Geodetic::from_degrees(l.launch_lat_deg, l.launch_lon_deg, 0.0).ok()?;
        let end = Geodetic::from_degrees(l.impact_lat_deg, l.impact_lon_deg, 0.0).ok()?;
        let inv = geodesic_inverse(&start, &end);
        Some(Arc {
            launch: l.clone(),
            start,
            azimuth_rad: inv.azimuth1_rad,
            distance_m: inv.distance_m,
        })
    }

    fn position(&self, t_s: f64) -> Option<Ecef> {
        let s = (t_s - self.launch.launch_time_s) / self.launch.flight_time_s;
        if !(0.0..=1.0).contains(&s) {
            return None;
        }
        let g = geodesic_direct(&self.start, self.azimuth_rad, s * self.distance_m);
        let h = 4.0 * self.launch.apogee_m * s * (1.0 - s);
        Some(Geodetic { alt_m: h, ..g }.to_ecef())
    }

    fn state(&self, t_s: f64) -> Option<[f64; 6]> {
        let p = self.position(t_s)?;
        let dt = 0.25;
        let (a, b) = (self.position(t_s - dt), self.position(t_s + dt));
        let v = match (a, b) {
            (Some(a), Some(b)) => (b.0 - a.0) / (2.0 * dt),
            (None, Some(b)) => (b.0 - p.0) / dt,
            (Some(a), None) => (p.0 - a.0) / dt,
            (None, None) => return None,
        };
        Some([p.0.x, p.0.y, p.0.z, v.x, v.y, v.z])
    }
}

/// Synthetic stand-in for one nation's tracker.
pub struct SyntheticSource {
    arcs: Vec<Arc>,
    sensors: Vec<(SensorSite, LocalFrame)>,
    t_s: f64,
    end_s: f64,
    period_s: f64,
    rng: ChaCha8Rng,
}

impl SyntheticSource {
    pub fn new(scenario: &FabricScenario, nation: trilink_wire::Nation, seed: u64) -> Self {
        let sensors = scenario
            .nation(nation)
            .map(|n| {
                n.sensors
                    .iter()
                    .filter_map(|s| {
                        let g = Geodetic::from_degrees(s.lat_deg, s.lon_deg, s.alt_m).ok()?;
                        Some((s.clone(), LocalFrame::new(g)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        SyntheticSource {
            arcs: scenario.launches.iter().filter_map(Arc::new).collect(),
            sensors,
            t_s: 0.0,
            end_s: scenario.duration_s,
            period_s: scenario.report_period_s.max(1e-3),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn track_at(&mut self, i: usize, t_s: f64) -> Option<NationalTrack> {
        let arc = &self.arcs[i];
        let truth = arc.state(t_s)?;
        let p = Ecef::new(truth[0], truth[1], truth[2]);
        let mut seen_by = Vec::new();
        let mut best_range_m = f64::INFINITY;
        for (s, frame) in &self.sensors {
            let aer = frame.aer_of(&p);
            if aer.range_m <= s.max_range_m && aer.el_rad.to_degrees() >= s.min_elevation_deg {
                seen_by.push(s.id.clone());
                best_range_m = best_range_m.min(aer.range_m);
            }
        }
        if seen_by.is_empty() {
            return None;
        }
        // Cross-range error grows with range; a few hundred metres at 1000 km.
        let sigma_p = 30.0 + 2.0e-4 * best_range_m;
        let sigma_v = sigma_p / 20.0;
        let mut cov = [[0.0; 6]; 6];
        for k in 0..3 {
            cov[k][k] = sigma_p * sigma_p;
            cov[k + 3][k + 3] = sigma_v * sigma_v;
            cov[k][k + 3] = 0.3 * sigma_p * sigma_v;
            cov[k + 3][k] = cov[k][k + 3];
        }
        let mut state = truth;
        for (k, x) in state.iter_mut().enumerate() {
            let z: f64 = StandardNormal.sample(&mut self.rng);
            *x += z * if k < 3 { sigma_p } else { sigma_v };
        }
        let l = &arc.launch;
        let s = (t_s - l.launch_time_s) / l.flight_time_s;
        let phase = if s < 0.1 {
            FlightPhase::Boost
        } else if s > 0.85 {
            FlightPhase::Terminal
        } else {
            FlightPhase::Midcourse
        };
        let time_to_go_s = l.launch_time_s + l.flight_time_s - t_s;
        Some(NationalTrack {
            estimate: TrackEstimate {
                track_number: i as u64 + 1,
                time_s: t_s,
                state,
                covariance: cov,
                quality: (1.0 - sigma_p / 2000.0).clamp(0.05, 1.0),
                phase,
                launch: Some(PointEstimate {
                    time_s: l.launch_time_s,
                    lat_deg: l.launch_lat_deg,
                    lon_deg: l.launch_lon_deg,
                    semi_major_m: 5_000.0,
                    semi_minor_m: 2_000.0,
                    orientation_deg: arc.azimuth_rad.to_degrees(),
                }),
                impact: Some(PointEstimate {
                    time_s: l.launch_time_s + l.flight_time_s,
                    lat_deg: l.impact_lat_deg,
                    lon_deg: l.impact_lon_deg,
                    semi_major_m: 1_000.0 + 60.0 * time_to_go_s,
                    semi_minor_m: 500.0 + 20.0 * time_to_go_s,
                    orientation_deg: arc.azimuth_rad.to_degrees(),
                }),
            },
            contributing_sensors: seen_by,
        })
    }
}

impl TrackSource for SyntheticSource {
    fn next_update(&mut self) -> Option<(f64, Vec<NationalTrack>)> {
        if self.t_s > self.end_s {
            return None;
        }
        let t = self.t_s;
        self.t_s += self.period_s;
        let tracks = (0..self.arcs.len())
            .filter_map(|i| self.track_at(i, t))
            .collect();
        Some((t, tracks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nation_sees_something_of_the_default_scenario_and_reports_are_valid() {
        let sc = FabricScenario::builtin_default();
        for n in sc.nation_codes() {
            let mut src = SyntheticSource::new(&sc, n, 1);
            let mut count = 0;
            while let Some((_, tracks)) = src.next_update() {
                for t in tracks {
                    t.to_report().validate().unwrap();
                    count += 1;
                }
            }
            assert!(count > 50, "{n} saw only {count} track updates");
        }
    }
}
