//! Launch point and impact point: where and when a ballistic state meets the ground, with the
//! first-order (linearised) uncertainty of that point.
//!
//! The state and its state-transition matrix are integrated in free flight (the same dynamics
//! as the tracker and the simulator) until the geodetic height changes sign; the crossing is
//! then refined by Newton steps on the last step length. A position error `δr` at the crossing
//! moves the ground point along the trajectory by `−v (n·δr)/(n·v)` (n: local vertical), so the
//! ground-point covariance is `G P_rr Gᵀ` with `G = I − v nᵀ/(n·v)`. The 95 % ellipse is the
//! horizontal (east, north) 2×2 block scaled by χ²(2, 0.95) = 5.991.
//!
//! Forward, drag acts at a nominal β, but the tracker does not know an object's β, and a spent
//! stage lands far short of a re-entry vehicle flown from the same state. The same state is
//! therefore also flown at both ends of a documented β range, and their offsets from the
//! nominal point are added to the ground covariance so that both lie on or inside its 95 %
//! ellipse
//! (docs/decisions/0406-impact-covariance.md).

use nalgebra::{Matrix2, Matrix3, Vector3};
use trilink_geo::{Ecef, Geodetic, LocalFrame};

use trilink_physics::atmosphere::drag_acceleration;

use crate::motion::{rk4_state_drag, rk4_with_stm, rk4_with_stm_drag, StateCov, StateVec};

/// χ² quantile with 2 degrees of freedom at 0.95: `−2 ln 0.05`.
pub const CHI2_2DOF_95: f64 = 5.991_464_547_107_979;

/// A point where a trajectory meets the ellipsoid, with its 95 % uncertainty ellipse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroundPoint {
    pub t_s: f64,
    pub site: Geodetic,
    /// East-north covariance of the point (m²).
    pub cov_en_m2: Matrix2<f64>,
    pub semi_major_m: f64,
    pub semi_minor_m: f64,
    /// Direction of the major axis, clockwise from north, in [0°, 180°).
    pub orientation_deg: f64,
}

/// Settings of the ground-crossing search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrossingConfig {
    /// RK4 step (s). Free flight at 20 s steps stays within metres of a 0.1 s integration.
    pub step_s: f64,
    /// Give up looking forward (an orbit, or a state too far from the ground) after this long (s).
    pub max_duration_s: f64,
    /// Give up looking backward for a launch point after this long (s): no ballistic missile
    /// flies longer, and a longer search only costs time on tracks of something else.
    pub max_back_s: f64,
    /// Ballistic coefficient (kg/m²) of the drag applied on the way down (US76, the
    /// simulator's atmosphere); 0 for none. Drag is zero above 400 km, so it only matters for
    /// the endo-atmospheric part, where leaving it out puts the impact tens of km downrange.
    /// Not applied backwards (a launch point is found from the ballistic arc).
    pub drag_beta_kg_m2: f64,
    /// Range of ballistic coefficients (kg/m²) the object may have, [low, high]; `None` to
    /// trust `drag_beta_kg_m2`. The tracker does not estimate β, and a spent stage (β of a few
    /// hundred) lands tens to hundreds of km short of where a re-entry vehicle would; the
    /// impact points at both ends of the range are made to lie on or inside the 95 % ellipse
    /// (docs/decisions/0406-impact-covariance.md).
    pub drag_beta_range_kg_m2: Option<(f64, f64)>,
    /// What the two ends of `drag_beta_range_kg_m2` are: a bound every body lies within, or
    /// the ±2σ points of an estimated k = 1/β.
    pub drag_beta_spread: BetaSpread,
}

/// How the impact ellipse accounts for the β range of [`CrossingConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BetaSpread {
    /// The ends bound every β the body may have (no estimate of it): the ellipse reaches past
    /// each end's impact point by the state term's own 95 % reach.
    Bound,
    /// The ends are the β at k ± 2σ of an estimated k = 1/β: the spread enters as the
    /// variance of the impact point over a Gaussian k, from those two sigma points.
    TwoSigma,
}

impl Default for CrossingConfig {
    fn default() -> Self {
        Self {
            step_s: 20.0,
            max_duration_s: 7200.0,
            max_back_s: 2400.0,
            drag_beta_kg_m2: 3000.0,
            drag_beta_range_kg_m2: Some((BETA_LOW_KG_M2, BETA_HIGH_KG_M2)),
            drag_beta_spread: BetaSpread::Bound,
        }
    }
}

/// Lowest ballistic coefficient of the range (kg/m²): a spent stage or a tumbling body. The
/// simulator's classes (trilink_physics::missiles) put their stages at 150–800 and a light
/// satellite at 200; the range reaches beyond them because a body whose β is an end of the
/// range lands on the ellipse's edge and is contained only about half the time (measured:
/// docs/validation/impact-coverage.md).
pub const BETA_LOW_KG_M2: f64 = 100.0;
/// Highest (kg/m²): a slender re-entry vehicle; the simulator's payloads reach 8000.
pub const BETA_HIGH_KG_M2: f64 = 10_000.0;

#[cfg(test)]
fn height_m(x: &StateVec) -> f64 {
    Ecef::new(x[0], x[1], x[2]).to_geodetic().alt_m
}

/// Semi-axes (scaled to 95 %) and orientation of a 2×2 east-north covariance.
pub fn ellipse_95(cov_en: &Matrix2<f64>) -> (f64, f64, f64) {
    let (a, b, c) = (cov_en[(0, 0)], cov_en[(0, 1)], cov_en[(1, 1)]);
    let mean = 0.5 * (a + c);
    let rad = (0.25 * (a - c) * (a - c) + b * b).sqrt();
    let l1 = (mean + rad).max(0.0);
    let l2 = (mean - rad).max(0.0);
    // Angle of the major axis from the east axis, counter-clockwise.
    let theta = 0.5 * (2.0 * b).atan2(a - c);
    // Clockwise from north: the east component is cos θ, the north component sin θ.
    let mut orient = theta.cos().atan2(theta.sin()).to_degrees();
    orient = orient.rem_euclid(180.0);
    if orient >= 180.0 {
        orient = 0.0;
    }
    (
        (l1 * CHI2_2DOF_95).sqrt(),
        (l2 * CHI2_2DOF_95).sqrt(),
        orient,
    )
}

/// Longest step of the state-transition integration (s): Φ varies on the orbital time scale
/// (~1 h), so 60 s steps change the ground ellipse by far less than a metre.
const STM_STEP_S: f64 = 60.0;
/// Below this height drag matters, and steps are kept short.
const AIR_TOP_M: f64 = 120_000.0;
/// Drag changes the speed on a time scale of tens of seconds even low down (|v|/|a| ≈ 20–60 s),
/// so 5 s RK4 steps follow it; Φ is smoother still.
const AIR_STEP_S: f64 = 5.0;
const AIR_STM_STEP_S: f64 = 10.0;
/// Steps of Φ in the air as a fraction of the drag time scale τ: RK4 damps an error by
/// 0.31 per 0.7 τ where the exact decay is 0.25, stable and on the safe side, at a quarter of
/// the cost of the state search's 0.3 τ.
const STM_DRAG_STEP_FRACTION: f64 = 0.7;
/// Longest descent of one step of Φ in the air (m).
const MAX_STM_DESCENT_M: f64 = 3_000.0;
/// Floor of the drag-limited steps of Φ (s), against a runaway in a pathological state.
const MIN_STM_DRAG_STEP_S: f64 = 0.05;

/// Height above the ellipsoid, cheap (no iteration); within a metre of the exact value below
/// 1000 km, which is all the crossing search needs.
fn approx_height_m(x: &StateVec) -> f64 {
    trilink_physics::atmosphere::approx_height_m(&Vector3::new(x[0], x[1], x[2]))
}

/// Propagates `x`, `p` at `t_s` forward (`forward = true`, impact) or backward (launch) to the
/// ellipsoid. `None` if the state is not above the ground or no crossing is found in time.
pub fn ground_crossing(
    t_s: f64,
    x: &StateVec,
    p: &StateCov,
    forward: bool,
    cfg: &CrossingConfig,
) -> Option<GroundPoint> {
    let sign = if forward { 1.0 } else { -1.0 };
    let beta = if forward { cfg.drag_beta_kg_m2 } else { 0.0 };
    let nominal = find_crossing(x, forward, beta, cfg, false)?;
    let (xc, total_s) = (nominal.state, nominal.elapsed_s);
    // 3. State-transition matrix over the whole arc, in long steps.
    // Long steps in vacuum; short ones where drag acts (below 120 km).
    let mut xphi = *x;
    let mut phi = StateCov::identity();
    let mut done = 0.0;
    while done < total_s - 1e-9 {
        let in_air = beta > 0.0 && approx_height_m(&xphi) < AIR_TOP_M;
        let h = if in_air {
            // Drag damps a velocity error on the time scale τ = |v|/|a_drag|, and its
            // Jacobian along the velocity is −2/τ: RK4 steps longer than about 1.4 τ turn that
            // damping into growth. A slowed low-β body low down has τ of a few seconds, where
            // the fixed 10 s steps made its impact ellipse kilometres wide around misses of
            // tens of metres.
            // A fast re-entry also falls through several of the density's scale heights
            // (7 km) within a step of that length, and the drag it meets halfway down a 10 s
            // step at 3 km/s downwards is a thousand times what it was at the top: the descent
            // per step is held to 3 km as well.
            let r = Vector3::new(xphi[0], xphi[1], xphi[2]);
            let v = Vector3::new(xphi[3], xphi[4], xphi[5]);
            let a_drag = drag_acceleration(&r, &v, beta).norm();
            let mut step = AIR_STM_STEP_S;
            if a_drag > 0.0 {
                step = step.min(STM_DRAG_STEP_FRACTION * v.norm() / a_drag);
            }
            let sink_mps = -v.dot(&r) / r.norm();
            if sink_mps > 0.0 {
                step = step.min(MAX_STM_DESCENT_M / sink_mps);
            }
            step.max(MIN_STM_DRAG_STEP_S)
        } else {
            STM_STEP_S
        }
        .min(total_s - done);
        let (nx, np) = if in_air {
            rk4_with_stm_drag(&xphi, &phi, sign * h, beta)
        } else {
            rk4_with_stm(&xphi, &phi, sign * h)
        };
        xphi = nx;
        phi = np;
        done += h;
    }
    let p_end = phi * p * phi.transpose();
    if !p_end.iter().all(|v| v.is_finite()) {
        // Nothing worth reporting: an ellipse is either a number or not made.
        return None;
    }
    let r = Vector3::new(xc[0], xc[1], xc[2]);
    let v = Vector3::new(xc[3], xc[4], xc[5]);
    let site = Ecef(r).to_geodetic();
    let nrm = site.up();
    let nv = nrm.dot(&v);
    let g = if nv.abs() > 1e-3 {
        Matrix3::identity() - v * nrm.transpose() / nv
    } else {
        Matrix3::identity()
    };
    let p_rr = p_end.fixed_view::<3, 3>(0, 0).into_owned();
    let p_ground = g * p_rr * g.transpose();
    let frame = LocalFrame::new(Geodetic { alt_m: 0.0, ..site });
    let rot = frame.ecef_to_enu_rotation();
    let p_enu = rot * p_ground * rot.transpose();
    let mut cov_en = p_enu.fixed_view::<2, 2>(0, 0).into_owned();
    if forward && beta > 0.0 {
        if let Some(range) = cfg.drag_beta_range_kg_m2 {
            // Above the air the β ends fly the nominal arc: start them where it enters.
            let state_term = cov_en;
            cov_en += beta_spread_en(&nominal.air_entry, &r, rot, &state_term, range, cfg);
        }
    }
    cov_en[(0, 1)] = 0.5 * (cov_en[(0, 1)] + cov_en[(1, 0)]);
    cov_en[(1, 0)] = cov_en[(0, 1)];
    let (semi_major_m, semi_minor_m, orientation_deg) = ellipse_95(&cov_en);
    Some(GroundPoint {
        t_s: t_s + sign * total_s,
        site: Geodetic { alt_m: 0.0, ..site },
        cov_en_m2: cov_en,
        semi_major_m,
        semi_minor_m,
        orientation_deg,
    })
}

/// East-north covariance (m²) to add to the state term `state_en` so that the 95 % ellipse
/// reaches, in the direction uᵢ of each end point's offset dᵢ from the nominal impact `r_nom`
/// (the same state flown with the lowest and the highest β of `range`), |dᵢ| plus the state
/// term's own 95 % reach √χ²₂ σᵢ: a body at an end of the range is then contained as often
/// as the state term alone would contain it (with the end point on the edge, it would be
/// half the time). Per end: `uᵢ uᵢᵀ ((|dᵢ| + √χ²₂ σᵢ)²/χ²₂ − σᵢ²)`, σᵢ² = uᵢᵀ S uᵢ. The impact
/// point moves monotonically with β, so every β of the range lands inside. Not a probability
/// for β: the tracker has no β estimate to give one. An end point that finds no ground
/// crossing adds nothing.
fn beta_spread_en(
    x: &StateVec,
    r_nom: &Vector3<f64>,
    ecef_to_enu: &Matrix3<f64>,
    state_en: &Matrix2<f64>,
    range: (f64, f64),
    cfg: &CrossingConfig,
) -> Matrix2<f64> {
    let mut c = Matrix2::zeros();
    for beta in [range.0, range.1] {
        // A range end that is not a positive number (NaN included) names no body: skip it.
        let usable = beta > 0.0 && beta != cfg.drag_beta_kg_m2;
        if !usable {
            continue;
        }
        if let Some(end) = find_crossing(x, true, beta, cfg, true) {
            let xe = end.state;
            let d = ecef_to_enu * (Vector3::new(xe[0], xe[1], xe[2]) - r_nom);
            let d_en = nalgebra::Vector2::new(d.x, d.y);
            let dist_m = d_en.norm();
            let moved = dist_m > 0.0;
            if !moved {
                continue;
            }
            match cfg.drag_beta_spread {
                BetaSpread::Bound => {
                    let u = d_en / dist_m;
                    let sigma_m = (u.transpose() * state_en * u)[(0, 0)].max(0.0).sqrt();
                    let reach_m = dist_m + CHI2_2DOF_95.sqrt() * sigma_m;
                    c += u * u.transpose() * (reach_m * reach_m / CHI2_2DOF_95 - sigma_m * sigma_m);
                }
                // A scalar Gaussian's unscented points at ±2σ each weigh 1/(2·2²) in the
                // covariance: exact for an impact point linear in k, and the deviations are
                // taken from the nominal point, so a curved response adds its bias as well.
                BetaSpread::TwoSigma => c += d_en * d_en.transpose() / 8.0,
            }
        }
    }
    c
}

/// A ground crossing found by [`find_crossing`].
#[derive(Debug, Clone, Copy)]
struct Crossing {
    /// The state at the ground.
    state: StateVec,
    /// Time of flight to it (s).
    elapsed_s: f64,
    /// The first state of the search below `AIR_TOP_M` (where drag starts to matter), or the
    /// start if it is already there.
    air_entry: StateVec,
}

/// A body falling within this fraction of its speed of the vertical (about 3°) has lost its
/// horizontal speed to drag; what it still drifts before it lands (its horizontal speed times
/// the drag time constant v/g, tens of seconds at the speeds of a low-β fall) is hundreds of
/// metres against a β spread of tens of kilometres.
const VERTICAL_STOP_FRACTION: f64 = 0.05;
/// Step of the β-end searches as a fraction of the drag time scale: RK4 on a decay with
/// h/τ = 0.3 errs by about 1e-4 of the change per step.
const DRAG_STEP_FRACTION: f64 = 0.3;
/// Floor of those steps (s), against a runaway; the drag time scale of the lowest β of the
/// range at sea level and 3 km/s is 0.06 s.
const MIN_DRAG_STEP_S: f64 = 1e-3;
/// A β-end search that has not landed in this many steps gives up (the term is then left out)
/// rather than stall the tracker; the built-in scenarios' ends land in a few dozen.
const MAX_DRAG_STEPS: u32 = 20_000;

/// Finds where `x` flown forward (or backward) with drag `beta` meets the ellipsoid. With
/// `vertical_stop`, a body that falls near-vertically in the air is taken to land right below
/// where it is (the state is then that ground point with the velocity it has, and the time is
/// not its landing time): a low-β body takes minutes to fall the last tens of km at 5 s steps,
/// which otherwise cost more than the rest of the prediction. `None` if `x` is not above the
/// ground or no crossing is found within the configured duration.
fn find_crossing(
    x: &StateVec,
    forward: bool,
    beta: f64,
    cfg: &CrossingConfig,
    vertical_stop: bool,
) -> Option<Crossing> {
    let sign = if forward { 1.0 } else { -1.0 };
    let mut h0 = approx_height_m(x);
    if !(h0 > 0.0) {
        return None;
    }
    let mut air_entry = None;
    // 1. Bracket the crossing with state-only steps.
    let mut xs = *x;
    let mut elapsed = 0.0;
    let mut step = cfg.step_s;
    let mut bracket = None;
    let limit_s = if forward {
        cfg.max_duration_s
    } else {
        cfg.max_back_s
    };
    let mut steps = 0u32;
    while elapsed < limit_s {
        steps += 1;
        if vertical_stop && steps > MAX_DRAG_STEPS {
            return None;
        }
        // Near the ground, shorter steps keep the crossing inside a single step.
        let speed = xs.fixed_rows::<3>(3).norm().max(1.0);
        if h0 < speed * step {
            step = (h0 / speed).clamp(0.5, cfg.step_s);
        }
        if h0 < AIR_TOP_M {
            air_entry.get_or_insert(xs);
            if beta > 0.0 && vertical_stop {
                // The β ends are needed to a per cent, not a metre: steps follow the drag
                // time scale |v|/|a_drag| instead of a fixed 5 s, long where a slowed body
                // coasts in thin air, short where a fast one meets dense air.
                let r = Vector3::new(xs[0], xs[1], xs[2]);
                let v = Vector3::new(xs[3], xs[4], xs[5]);
                let a_drag = drag_acceleration(&r, &v, beta).norm();
                if a_drag > 0.0 {
                    let scale_s = DRAG_STEP_FRACTION * v.norm() / a_drag;
                    // No floor of half a second here: a low-β body entering dense air fast has
                    // a time scale of a tenth of a second, and RK4 beyond ~2.8 τ diverges.
                    step = step.min(scale_s.clamp(MIN_DRAG_STEP_S, cfg.step_s));
                }
            } else if beta > 0.0 {
                step = step.min(AIR_STEP_S);
            }
        }
        let next = rk4_state_drag(&xs, sign * step, beta);
        let h1 = approx_height_m(&next);
        if h1 <= 0.0 {
            bracket = Some((xs, step, h0, h1));
            break;
        }
        if vertical_stop && h1 < AIR_TOP_M {
            let r = Vector3::new(next[0], next[1], next[2]);
            let v = Vector3::new(next[3], next[4], next[5]);
            let up = r / r.norm();
            let v_up = v.dot(&up);
            if v_up < 0.0 && (v - v_up * up).norm() < VERTICAL_STOP_FRACTION * v.norm() {
                let below = Geodetic {
                    alt_m: 0.0,
                    ..Ecef(r).to_geodetic()
                }
                .to_ecef()
                .0;
                let mut state = next;
                state.fixed_rows_mut::<3>(0).copy_from(&below);
                return Some(Crossing {
                    state,
                    elapsed_s: elapsed + step,
                    air_entry: air_entry.unwrap_or(*x),
                });
            }
        }
        xs = next;
        elapsed += step;
        h0 = h1;
    }
    let (xs, step, h0, h1) = bracket?;
    // 2. Newton on the last step length. The height function is the cheap one (exact to well
    // under a metre near the ground) and the vertical rate uses the geocentric direction; that
    // only changes how fast Newton converges, not where it converges to.
    let mut dt = step * h0 / (h0 - h1);
    let mut xc = rk4_state_drag(&xs, sign * dt, beta);
    for _ in 0..6 {
        let r = Vector3::new(xc[0], xc[1], xc[2]);
        let rate = sign * (r / r.norm()).dot(&xc.fixed_rows::<3>(3).into_owned());
        if rate.abs() < 1e-6 {
            break;
        }
        let ddt = -approx_height_m(&xc) / rate;
        dt = (dt + ddt).clamp(0.0, step);
        xc = rk4_state_drag(&xs, sign * dt, beta);
        if ddt.abs() < 1e-6 {
            break;
        }
    }
    Some(Crossing {
        state: xc,
        elapsed_s: elapsed + dt,
        air_entry: air_entry.unwrap_or(xs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilink_physics::{free_flight_acceleration, rk4_step};

    #[test]
    fn ellipse_of_a_north_elongated_covariance_points_north() {
        let (a, b, o) = ellipse_95(&Matrix2::new(1.0, 0.0, 0.0, 4.0));
        assert!((a - (4.0 * CHI2_2DOF_95).sqrt()).abs() < 1e-12);
        assert!((b - CHI2_2DOF_95.sqrt()).abs() < 1e-12);
        assert!(o.abs() < 1e-9 || (o - 180.0).abs() < 1e-9, "{o}");
        // Major axis along north-east (45° clockwise from north).
        let (_, _, o) = ellipse_95(&Matrix2::new(2.0, 1.5, 1.5, 2.0));
        assert!((o - 45.0).abs() < 1e-9, "{o}");
        // Major axis along north-west (135°).
        let (_, _, o) = ellipse_95(&Matrix2::new(2.0, -1.5, -1.5, 2.0));
        assert!((o - 135.0).abs() < 1e-9, "{o}");
    }

    #[test]
    fn impact_point_and_time_match_a_fine_integration() {
        // A lofted shot from 40°N 125°E: find its ground crossing with a 0.01 s integration.
        let site = Geodetic::from_degrees(40.0, 125.0, 0.0).unwrap();
        let frame = LocalFrame::new(site);
        let r0 = frame.ecef_of(&trilink_geo::Aer {
            az_rad: 1.4,
            el_rad: 1.0,
            range_m: 300_000.0,
        });
        let v0 = frame.rotate_to_ecef(&Vector3::new(2500.0, 800.0, 2000.0));
        let x0 = StateVec::new(r0.0.x, r0.0.y, r0.0.z, v0.x, v0.y, v0.z);
        let mut s = x0;
        let mut t = 0.0;
        loop {
            let n = rk4_step(t, &s, 0.01, |_, r, v| free_flight_acceleration(r, v));
            if height_m(&n) <= 0.0 {
                break;
            }
            s = n;
            t += 0.01;
        }
        let truth = Ecef::new(s[0], s[1], s[2]).to_geodetic();
        let gp = ground_crossing(
            0.0,
            &x0,
            &(StateCov::identity() * 100.0),
            true,
            &CrossingConfig {
                drag_beta_kg_m2: 0.0,
                ..CrossingConfig::default()
            },
        )
        .unwrap();
        let miss = Ecef(gp.site.to_ecef().0).distance_m(
            &Geodetic {
                alt_m: 0.0,
                ..truth
            }
            .to_ecef(),
        );
        assert!(miss < 100.0, "miss {miss} m");
        assert!((gp.t_s - t).abs() < 0.05, "{} vs {t}", gp.t_s);
        assert!(gp.semi_major_m > gp.semi_minor_m && gp.semi_minor_m > 0.0);
    }

    /// East-north offset (m) of `r` from the ground point `site`.
    fn en_offset(site: &Geodetic, r: &Vector3<f64>) -> nalgebra::Vector2<f64> {
        let frame = LocalFrame::new(*site);
        let d = frame.ecef_to_enu_rotation() * (r - site.to_ecef().0);
        nalgebra::Vector2::new(d.x, d.y)
    }

    /// The ellipse of a state flown through the air against the impact points of perturbed
    /// states: J P Jᵀ with J from central differences of `fine_impact`.
    fn check_endo_ellipse(x0: &StateVec, p: &StateCov, beta: f64, tol: f64) {
        let cfg = CrossingConfig {
            drag_beta_kg_m2: beta,
            drag_beta_range_kg_m2: None,
            ..CrossingConfig::default()
        };
        let gp = ground_crossing(0.0, x0, p, true, &cfg).expect("a crossing");
        let mut jac = nalgebra::SMatrix::<f64, 2, 6>::zeros();
        for j in 0..6 {
            let d = if j < 3 { 10.0 } else { 0.1 };
            let (mut up, mut down) = (*x0, *x0);
            up[j] += d;
            down[j] -= d;
            let col = (en_offset(&gp.site, &fine_impact(&up, beta))
                - en_offset(&gp.site, &fine_impact(&down, beta)))
                / (2.0 * d);
            jac.set_column(j, &col);
        }
        let want = jac * p * jac.transpose();
        let err = (gp.cov_en_m2 - want).norm() / want.norm();
        assert!(
            err < tol,
            "β {beta}: ellipse covariance {} vs finite differences {want} ({err})",
            gp.cov_en_m2
        );
    }

    #[test]
    fn impact_ellipse_through_the_air_matches_finite_differences() {
        let site = Geodetic::from_degrees(40.0, 125.0, 0.0).unwrap();
        let frame = LocalFrame::new(site);
        let p = StateCov::from_diagonal(&StateVec::new(400.0, 400.0, 400.0, 4.0, 4.0, 4.0));
        let state = |alt_m: f64, v_enu: Vector3<f64>| {
            let r = frame.ecef_of(&trilink_geo::Aer {
                az_rad: 0.0,
                el_rad: std::f64::consts::FRAC_PI_2,
                range_m: alt_m,
            });
            let v = frame.rotate_to_ecef(&v_enu);
            StateVec::new(r.0.x, r.0.y, r.0.z, v.x, v.y, v.z)
        };
        // A hwasong-18 re-entry vehicle 750 km up, 96 s from impact (a tracker state from a
        // seed-1 run), which Φ integrated along the search's own 20 s steps turned into
        // ellipses of 10⁹ m.
        let above = StateVec::new(
            -3_748_788.9,
            3_674_112.9,
            4_802_328.8,
            3_013.74,
            -4_333.57,
            -4_752.37,
        );
        check_endo_ellipse(&above, &p, 3000.0, 0.1);
        // A re-entry vehicle at 100 km, 7 km/s, 25° below the horizontal: it crosses the
        // density's scale height every second, where fixed 10 s steps of Φ diverged.
        let steep = state(
            100_000.0,
            Vector3::new(
                7_000.0 * 25f64.to_radians().cos(),
                0.0,
                -7_000.0 * 25f64.to_radians().sin(),
            ),
        );
        check_endo_ellipse(&steep, &p, 3000.0, 0.1);
        // A spent stage 10 km up, slowed to 150 m/s down and 100 m/s east: drag takes the
        // velocity errors away, and the ellipse is the position errors' (it was 10× wider).
        let slow = state(10_000.0, Vector3::new(100.0, 0.0, -150.0));
        check_endo_ellipse(&slow, &p, 160.0, 0.1);
    }

    /// A midcourse state of a 600-odd km shot from 40°N 125°E, and a tracker-like covariance
    /// with position-velocity correlation.
    fn midcourse() -> (StateVec, StateCov) {
        let site = Geodetic::from_degrees(40.0, 125.0, 0.0).unwrap();
        let frame = LocalFrame::new(site);
        let r0 = frame.ecef_of(&trilink_geo::Aer {
            az_rad: 1.2,
            el_rad: 0.5,
            range_m: 250_000.0,
        });
        let v0 = frame.rotate_to_ecef(&Vector3::new(2200.0, 900.0, 600.0));
        let x0 = StateVec::new(r0.0.x, r0.0.y, r0.0.z, v0.x, v0.y, v0.z);
        // P = L Lᵀ with a full lower triangle: σ of a few hundred metres and a few m/s.
        let mut l = StateCov::zeros();
        let diag = [300.0, 200.0, 250.0, 3.0, 2.0, 2.5];
        for i in 0..6 {
            l[(i, i)] = diag[i];
            for j in 0..i {
                l[(i, j)] =
                    0.3 * (diag[i] * diag[j]).sqrt() * if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
            }
        }
        (x0, l * l.transpose())
    }

    #[test]
    fn linearised_impact_covariance_of_a_drag_free_arc_matches_monte_carlo() {
        // Reference: states drawn from N(x, P) (fixed seed), each flown to the ground by its
        // own crossing search with the same physics; the sample covariance of their impact
        // points must match G Φ P Φᵀ Gᵀ. With n = 2000 draws a variance is known to ±3 %
        // (1σ, √(2/n)); the check allows 15 % on every direction (whitened eigenvalues).
        use rand::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        let (x0, p) = midcourse();
        let cfg = CrossingConfig {
            drag_beta_kg_m2: 0.0,
            drag_beta_range_kg_m2: None,
            ..CrossingConfig::default()
        };
        let gp = ground_crossing(0.0, &x0, &p, true, &cfg).unwrap();
        let l = p.cholesky().unwrap().l();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(406);
        let n = 2000;
        let mut offsets = Vec::with_capacity(n);
        for _ in 0..n {
            let z = StateVec::from_fn(|_, _| StandardNormal.sample(&mut rng));
            let xc = find_crossing(&(x0 + l * z), true, 0.0, &cfg, false)
                .unwrap()
                .state;
            offsets.push(en_offset(&gp.site, &Vector3::new(xc[0], xc[1], xc[2])));
        }
        let mean = offsets.iter().sum::<nalgebra::Vector2<f64>>() / n as f64;
        let mut sample = Matrix2::zeros();
        for d in &offsets {
            sample += (d - mean) * (d - mean).transpose();
        }
        sample /= (n - 1) as f64;
        // Whiten by the linearised covariance: identity if they agree.
        let lin = gp.cov_en_m2.cholesky().unwrap().l();
        let inv = lin.try_inverse().unwrap();
        let w = inv * sample * inv.transpose();
        let eig = w.symmetric_eigen().eigenvalues;
        for e in eig.iter() {
            assert!((0.85..1.15).contains(e), "whitened eigenvalues {eig:?}");
        }
        // The linearised point is the centre: the sample mean is within 3 standard errors.
        let m2 = (mean.transpose() * gp.cov_en_m2.try_inverse().unwrap() * mean)[(0, 0)];
        assert!(
            m2 * (n as f64) < 9.0 * 2.0,
            "mean offset {mean:?}, m² n = {}",
            m2 * n as f64
        );
        // And the ellipse is what the covariance says.
        assert!(gp.semi_major_m > 1_000.0, "{gp:?}");
    }

    /// Impact point of `x0` flown with drag `beta` by an independent fine integration
    /// (physics crate RK4 at 0.02 s, exact geodetic height, last step bisected).
    fn fine_impact(x0: &StateVec, beta: f64) -> Vector3<f64> {
        let accel = |_: f64, r: &Vector3<f64>, v: &Vector3<f64>| {
            free_flight_acceleration(r, v)
                + trilink_physics::atmosphere::drag_acceleration(r, v, beta)
        };
        let mut s = *x0;
        let mut t = 0.0;
        let h = 0.02;
        loop {
            let n = rk4_step(t, &s, h, accel);
            if height_m(&n) <= 0.0 {
                let (mut lo, mut hi) = (0.0, h);
                for _ in 0..40 {
                    let mid = 0.5 * (lo + hi);
                    if height_m(&rk4_step(t, &s, mid, accel)) > 0.0 {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                let e = rk4_step(t, &s, lo, accel);
                return Vector3::new(e[0], e[1], e[2]);
            }
            s = n;
            t += h;
        }
    }

    #[test]
    fn beta_range_puts_its_end_points_on_the_ellipse_and_the_nominal_inside() {
        // A body at 60 km descending at 2.5 km/s: its impact moves by kilometres with β.
        let site = Geodetic::from_degrees(39.0, 131.0, 60_000.0).unwrap();
        let frame = LocalFrame::new(site);
        let r0 = site.to_ecef().0;
        let v0 = frame.rotate_to_ecef(&Vector3::new(1700.0, 1000.0, -1500.0));
        let x0 = StateVec::new(r0.x, r0.y, r0.z, v0.x, v0.y, v0.z);
        // A small state covariance, so that the β term dominates the ellipse.
        let p = StateCov::from_diagonal(&StateVec::new(100.0, 100.0, 100.0, 1.0, 1.0, 1.0));
        let cfg = CrossingConfig::default();
        let gp = ground_crossing(0.0, &x0, &p, true, &cfg).unwrap();
        let cinv = gp.cov_en_m2.try_inverse().unwrap();
        let d2 = |beta: f64| {
            let d = en_offset(&gp.site, &fine_impact(&x0, beta));
            ((d.transpose() * cinv * d)[(0, 0)], d.norm())
        };
        let (lo, hi) = (BETA_LOW_KG_M2, BETA_HIGH_KG_M2);
        // The β ends' search (drag-scaled steps, early stop of a near-vertical fall) costs
        // under 2 % of the offset it measures, here and for a fast body low down, where a
        // low β stops it within a second or two (a stiff problem for fixed steps).
        let low = Geodetic::from_degrees(39.0, 131.0, 12_000.0).unwrap();
        let r_low = low.to_ecef().0;
        let v_low = LocalFrame::new(low).rotate_to_ecef(&Vector3::new(1200.0, 500.0, -1400.0));
        let x_low = StateVec::new(r_low.x, r_low.y, r_low.z, v_low.x, v_low.y, v_low.z);
        for (x, beta) in [(x0, lo), (x0, 300.0), (x_low, lo), (x_low, 1000.0)] {
            let nominal = fine_impact(&x, cfg.drag_beta_kg_m2);
            let fast = find_crossing(&x, true, beta, &cfg, true).unwrap().state;
            let fine = fine_impact(&x, beta);
            let err = (Vector3::new(fast[0], fast[1], fast[2]) - fine).norm();
            let offset = (fine - nominal).norm();
            assert!(
                err < 0.02 * offset.max(1000.0),
                "β {beta}: {err} m off, offset {offset} m"
            );
        }
        // The two end points lie nearly on one line through the nominal point, so the farther
        // sits on the boundary (χ²₂(0.95); a little inside for the state term added, and up to
        // 2 × 2 % either way for the end point's own error, bounded above) and the nearer
        // inside.
        let (m_lo, d_lo) = d2(lo);
        let (m_hi, d_hi) = d2(hi);
        let (far, near) = if d_lo > d_hi {
            (m_lo, m_hi)
        } else {
            (m_hi, m_lo)
        };
        assert!(
            (0.9 * CHI2_2DOF_95..=CHI2_2DOF_95 * 1.04).contains(&far),
            "d² {m_lo} at {d_lo} m (β {lo}), {m_hi} at {d_hi} m (β {hi})"
        );
        assert!(near < CHI2_2DOF_95, "{near}");
        // The end points are far apart (the test means something) and the nominal β and the
        // ones between land inside.
        assert!(d2(lo).1 > 5_000.0, "{}", d2(lo).1);
        for beta in [cfg.drag_beta_kg_m2, 300.0, 1000.0, 6000.0] {
            let (m2, dist) = d2(beta);
            assert!(m2 < CHI2_2DOF_95, "β {beta}: d² {m2} ({dist} m)");
        }
        // Without the range the ellipse is the state term alone: far smaller.
        let bare = ground_crossing(
            0.0,
            &x0,
            &p,
            true,
            &CrossingConfig {
                drag_beta_range_kg_m2: None,
                ..cfg
            },
        )
        .unwrap();
        assert!(
            bare.semi_major_m < 0.2 * gp.semi_major_m,
            "{bare:?} vs {gp:?}"
        );
        // With a state term of kilometres, the ellipse reaches past each end point by the
        // state term's own 95 % reach in that direction (so a body at the end of the range is
        // contained as often as one at the nominal β), and the nominal β point is inside.
        let p_big =
            StateCov::from_diagonal(&StateVec::new(4.0e6, 4.0e6, 4.0e6, 400.0, 400.0, 400.0));
        let no_range = CrossingConfig {
            drag_beta_range_kg_m2: None,
            ..cfg
        };
        let state_only = ground_crossing(0.0, &x0, &p_big, true, &no_range).unwrap();
        let full = ground_crossing(0.0, &x0, &p_big, true, &cfg).unwrap();
        let full_inv = full.cov_en_m2.try_inverse().unwrap();
        for beta in [lo, hi] {
            let d = en_offset(&full.site, &fine_impact(&x0, beta));
            let u = d / d.norm();
            let sigma_u = (u.transpose() * state_only.cov_en_m2 * u)[(0, 0)].sqrt();
            let extent = (CHI2_2DOF_95 / (u.transpose() * full_inv * u)[(0, 0)]).sqrt();
            let wanted = d.norm() + CHI2_2DOF_95.sqrt() * sigma_u;
            assert!(
                extent >= 0.98 * wanted,
                "β {beta}: ellipse reaches {extent} m along the end, wanted {wanted} m"
            );
        }
    }
}
