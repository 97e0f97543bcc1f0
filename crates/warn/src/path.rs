//! The ground path a track will fly: its mean state flown ballistically to the ground, sampled as
//! sub-points with height and time.
//!
//! Cheap by construction (it runs every few seconds per track): RK4 with steps of 20 s above
//! 300 km, 10 s down to the drag ceiling, 2 s below it and 1 s in the last 20 km; the ground
//! crossing is interpolated in height on the last step. Drag (US76) at a nominal ballistic
//! coefficient only below `drag_top_m`, where it starts to matter for the ground point.
use nalgebra::{Matrix3, Vector3};
use trilink_geo::{Ecef, Geodetic, LocalFrame};
use trilink_physics::atmosphere::drag_acceleration;
use trilink_physics::{free_flight_acceleration, rk4_step, State6};

use crate::ellipse::Ellipse;
use crate::geometry::{normalize_lon, unwrap_lon, Plane};

/// One sub-point of a predicted path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathPoint {
    pub t_s: f64,
    pub lat_deg: f64,
    pub lon_deg: f64,
    pub alt_m: f64,
}

/// A predicted ground path; `lands` when its last point is on the ellipsoid.
#[derive(Debug, Clone, PartialEq)]
pub struct GroundPath {
    pub points: Vec<PathPoint>,
    pub lands: bool,
}

/// How a path is flown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathSettings {
    pub beta_kg_m2: f64,
    pub drag_top_m: f64,
    pub max_flight_s: f64,
}

fn point(t_s: f64, s: &State6) -> PathPoint {
    let g = Ecef::new(s[0], s[1], s[2]).to_geodetic();
    PathPoint {
        t_s,
        lat_deg: g.lat_deg(),
        lon_deg: g.lon_deg(),
        alt_m: g.alt_m,
    }
}

/// Flies `state` (rotating ECEF, at `t0_s`) forward to the ground or for `max_flight_s`.
pub fn predict(t0_s: f64, state: &[f64; 6], cfg: &PathSettings) -> GroundPath {
    let mut s = State6::from_row_slice(state);
    let mut t = t0_s;
    let mut here = point(t, &s);
    let mut points = vec![here];
    if !here.alt_m.is_finite() {
        return GroundPath {
            points,
            lands: false,
        };
    }
    if here.alt_m <= 0.0 {
        return GroundPath {
            points,
            lands: true,
        };
    }
    while t - t0_s < cfg.max_flight_s {
        let dt = if here.alt_m > 300_000.0 {
            20.0
        } else if here.alt_m > cfg.drag_top_m {
            10.0
        } else if here.alt_m > 20_000.0 {
            2.0
        } else {
            1.0
        };
        let drag = here.alt_m < cfg.drag_top_m;
        let beta = cfg.beta_kg_m2;
        let next = rk4_step(t, &s, dt, |_, r: &Vector3<f64>, v: &Vector3<f64>| {
            let a = free_flight_acceleration(r, v);
            if drag {
                a + drag_acceleration(r, v, beta)
            } else {
                a
            }
        });
        let there = point(t + dt, &next);
        if !there.alt_m.is_finite() {
            break;
        }
        if there.alt_m <= 0.0 {
            let f = here.alt_m / (here.alt_m - there.alt_m);
            let lon1 = unwrap_lon(there.lon_deg, here.lon_deg);
            points.push(PathPoint {
                t_s: t + f * dt,
                lat_deg: here.lat_deg + f * (there.lat_deg - here.lat_deg),
                lon_deg: normalize_lon(here.lon_deg + f * (lon1 - here.lon_deg)),
                alt_m: 0.0,
            });
            return GroundPath {
                points,
                lands: true,
            };
        }
        points.push(there);
        s = next;
        t += dt;
        here = there;
    }
    GroundPath {
        points,
        lands: false,
    }
}

/// Ground distance (m) along the path from its first point to each point, on local planes.
pub fn cumulative_ground_m(points: &[PathPoint]) -> Vec<f64> {
    let mut out = Vec::with_capacity(points.len());
    let mut acc = 0.0;
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            let q = &points[i - 1];
            let (x, y) = Plane::new(q.lat_deg, q.lon_deg).to_xy(p.lat_deg, p.lon_deg);
            acc += x.hypot(y);
        }
        out.push(acc);
    }
    out
}

/// Moves the path's end onto a better impact estimate, spreading the shift along the path in
/// proportion to ground distance (the start, where the track is, stays put).
pub fn warp_to(path: &mut GroundPath, impact_lat_deg: f64, impact_lon_deg: f64, impact_t_s: f64) {
    let Some(end) = path.points.last().copied() else {
        return;
    };
    let s = cumulative_ground_m(&path.points);
    let total = s.last().copied().unwrap_or(0.0);
    let d_lat = impact_lat_deg - end.lat_deg;
    let d_lon = unwrap_lon(impact_lon_deg, end.lon_deg) - end.lon_deg;
    let start_t = path.points[0].t_s;
    let t_scale = if end.t_s > start_t {
        (impact_t_s - start_t) / (end.t_s - start_t)
    } else {
        1.0
    };
    for (p, sk) in path.points.iter_mut().zip(&s) {
        let f = if total > 0.0 { sk / total } else { 1.0 };
        p.lat_deg += f * d_lat;
        p.lon_deg = normalize_lon(p.lon_deg + f * d_lon);
        if t_scale.is_finite() && t_scale > 0.0 {
            p.t_s = start_t + (p.t_s - start_t) * t_scale;
        }
    }
}

/// A linear stand-in for the impact ellipse when the track has none: the horizontal part, at
/// the impact point, of P_rr + τ(P_rv + P_vr) + τ² P_vv (τ the time to go), i.e. the state's
/// uncertainty carried forward in a straight line. It ignores gravity's gradient (which
/// shrinks or stretches the spread by tens of per cent over a long flight): the track's own
/// impact estimate, when it has one, is always used instead.
pub fn straight_line_ellipse(
    covariance: &[[f64; 6]; 6],
    time_to_go_s: f64,
    at: &PathPoint,
    floor_m: f64,
) -> Ellipse {
    let block = |r0: usize, c0: usize| Matrix3::from_fn(|i, j| covariance[r0 + i][c0 + j]);
    let tau = time_to_go_s.max(0.0);
    let p = block(0, 0) + (block(0, 3) + block(3, 0)) * tau + block(3, 3) * tau * tau;
    let frame = LocalFrame::new(Geodetic {
        lat_rad: at.lat_deg.to_radians(),
        lon_rad: at.lon_deg.to_radians(),
        alt_m: 0.0,
    });
    let r = frame.ecef_to_enu_rotation();
    let enu = r * p * r.transpose();
    let floor = floor_m * floor_m / crate::ellipse::CHI2_2_95;
    let en = nalgebra::Matrix2::new(
        enu[(0, 0)] + floor,
        enu[(0, 1)],
        enu[(1, 0)],
        enu[(1, 1)] + floor,
    );
    Ellipse::from_covariance_en(&en)
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilink_physics::{fly_payload, missiles::template_launch, FlightConfig};

    #[test]
    fn the_path_of_a_ballistic_state_lands_where_the_simulator_lands_it() {
        let launch = template_launch("hwasong-12", 0.0).expect("template");
        let truth = fly_payload(&launch, &FlightConfig::default()).expect("flies");
        // Well after burnout, high up.
        let s = truth.state_at(400.0).expect("in flight");
        let state = [s[0], s[1], s[2], s[3], s[4], s[5]];
        let cfg = PathSettings {
            beta_kg_m2: 6000.0,
            drag_top_m: 100_000.0,
            max_flight_s: 4000.0,
        };
        let path = predict(400.0, &state, &cfg);
        assert!(path.lands);
        let end = path.points.last().expect("points");
        let last = truth.samples.last().expect("samples");
        let g = Ecef::new(last[0], last[1], last[2]).to_geodetic();
        let (x, y) = Plane::new(g.lat_deg(), g.lon_deg()).to_xy(end.lat_deg, end.lon_deg);
        assert!(x.hypot(y) < 5_000.0, "miss {} m", x.hypot(y));
        assert!((end.t_s - truth.t_end_s()).abs() < 5.0);
        assert!(path.points.len() < 300, "{} points", path.points.len());
    }
}
