//! Tracks made from the simulator's own trajectories (the physics crate's fitted classes), and
//! the regions the built-in scenarios carry.
#![allow(dead_code)]
use trilink_domain::{FlightPhase, PointEstimate, RegionShape, RegionSpec, TrackEstimate};
use trilink_geo::{Ecef, Geodetic};
use trilink_physics::{fly_payload, missiles::template_launch, FlightConfig, Trajectory};

pub fn scenario_regions() -> Vec<RegionSpec> {
    let poly = |name: &str, v: &[(f64, f64)]| RegionSpec {
        name: name.into(),
        nation: "JP".into(),
        shape: RegionShape::Polygon(v.to_vec()),
    };
    let circle = |name: &str, lat: f64, lon: f64, r: f64| RegionSpec {
        name: name.into(),
        nation: "KR".into(),
        shape: RegionShape::Circle {
            center: Geodetic::from_degrees(lat, lon, 0.0).expect("finite"),
            radius_m: r,
        },
    };
    vec![
        poly(
            "Hokkaido",
            &[
                (45.60, 141.50),
                (44.00, 145.50),
                (42.90, 145.80),
                (41.40, 141.00),
                (42.20, 139.70),
                (43.40, 140.30),
            ],
        ),
        poly(
            "Aomori",
            &[
                (41.55, 139.95),
                (41.55, 141.70),
                (40.20, 141.70),
                (40.20, 139.85),
            ],
        ),
        poly(
            "Niigata",
            &[
                (38.55, 139.40),
                (37.80, 139.90),
                (36.90, 138.50),
                (37.10, 137.70),
                (38.30, 138.20),
            ],
        ),
        poly(
            "Okinawa",
            &[
                (27.90, 127.70),
                (26.10, 127.90),
                (24.00, 124.00),
                (24.50, 123.00),
                (26.00, 126.50),
            ],
        ),
        circle("Seoul", 37.57, 126.98, 60_000.0),
        circle("Jeju", 33.40, 126.55, 50_000.0),
    ]
}

pub fn diag_cov(sp_m: f64, sv_mps: f64) -> [[f64; 6]; 6] {
    let mut c = [[0.0; 6]; 6];
    for (i, row) in c.iter_mut().enumerate() {
        row[i] = if i < 3 { sp_m * sp_m } else { sv_mps * sv_mps };
    }
    c
}

pub struct Truth {
    pub traj: Trajectory,
    pub burnout_s: f64,
}

pub fn truth(class: &str) -> Truth {
    let launch = template_launch(class, 0.0).expect("template");
    let traj = fly_payload(&launch, &FlightConfig::default()).expect("flies");
    let burnout_s = traj.t_s[traj.powered_until.min(traj.t_s.len() - 1)];
    Truth { traj, burnout_s }
}

pub fn ground(s: &[f64]) -> Geodetic {
    Ecef::new(s[0], s[1], s[2]).to_geodetic()
}

/// A track estimate at `t_s` on the truth, with the phase a tracker would give and, after
/// burnout, an impact estimate at the truth's landing with a 20 × 8 km ellipse.
pub fn estimate(t: &Truth, t_s: f64, with_impact: bool) -> TrackEstimate {
    let s = t.traj.state_at(t_s).expect("inside the flight");
    let last = t.traj.samples.last().expect("samples");
    let g = ground(last.as_slice());
    let boosting = t_s < t.burnout_s;
    TrackEstimate {
        track_number: 7,
        time_s: t_s,
        state: [s[0], s[1], s[2], s[3], s[4], s[5]],
        covariance: diag_cov(200.0, 20.0),
        quality: 1.0,
        phase: if boosting {
            FlightPhase::Boost
        } else {
            FlightPhase::Midcourse
        },
        launch: None,
        impact: (with_impact && !boosting).then_some(PointEstimate {
            time_s: t.traj.t_end_s(),
            lat_deg: g.lat_deg(),
            lon_deg: g.lon_deg(),
            semi_major_m: 20_000.0,
            semi_minor_m: 8_000.0,
            orientation_deg: 80.0,
        }),
    }
}
