//! Motion models: what a state does between two times.
//!
//! The state is `[x, y, z, vx, vy, vz]` in the rotating ECEF frame of WGS-84 (m, m/s). The
//! deterministic part uses exactly the simulator's equations of motion
//! (`trilink_physics::free_flight_acceleration`: point mass + J2 + Coriolis + centrifugal), so
//! truth and prediction never disagree about the Earth. Process noise is documented in
//! docs/decisions/0401-ballistic-motion-and-process-noise.md.

use nalgebra::{Matrix3, Matrix6, Vector3, Vector6};
use trilink_geo::wgs84::{GM_M3_PER_S2, OMEGA_RAD_PER_S};
use trilink_physics::free_flight_acceleration;

/// State vector: ECEF position (m) and velocity (m/s).
pub type StateVec = Vector6<f64>;
/// State covariance.
pub type StateCov = Matrix6<f64>;

/// The outcome of propagating a state: the new state, the state-transition matrix (Jacobian of
/// the new state with respect to the old) and the process noise accumulated over the interval.
#[derive(Debug, Clone, Copy)]
pub struct Prediction {
    pub x: StateVec,
    pub stm: StateCov,
    pub q: StateCov,
}

/// What a state does between two times.
pub trait MotionModel {
    /// Propagates `x` by `dt_s` (which may be negative, for back-propagation; process noise is
    /// then still added, as uncertainty grows in both directions).
    fn predict(&self, x: &StateVec, dt_s: f64) -> Prediction;
    /// The state alone propagated by `dt_s`, by the same deterministic dynamics as
    /// [`MotionModel::predict`] (so a sigma-point filter and the EKF share one gravity model).
    /// Models that can skip the state-transition matrix should: the unscented filter calls this
    /// once per sigma point.
    fn propagate_state(&self, x: &StateVec, dt_s: f64) -> StateVec {
        self.predict(x, dt_s).x
    }
    /// A short name for reports ("ballistic", "boost").
    fn name(&self) -> &'static str;
    /// Process noise alone over `dt_s`.
    fn noise(&self, dt_s: f64) -> StateCov;
    /// `true` if `other` has the same deterministic dynamics and differs only in its noise, so
    /// that an IMM can propagate one state-transition matrix for both.
    fn same_dynamics(&self, _other: &Self) -> bool {
        false
    }
}

/// Unpowered flight in the rotating frame with white-noise acceleration of power spectral
/// density `q_psd_m2_s3` on each axis for whatever the model leaves out (drag residue, thrust).
///
/// The state is integrated with classical RK4 together with the variational equations
/// `Φ' = A(x(t)) Φ`, where `A` is the Jacobian of the dynamics; the gravity gradient in `A` is the
/// point-mass one (the J2 part is 1e-3 of it and changes the covariance by far less than the
/// process noise does; the state itself uses full J2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ballistic {
    pub q_psd_m2_s3: f64,
    /// Ballistic coefficient m/(Cd·A) of the drag term (kg/m²); 0 for no drag. With drag, the
    /// US76 atmosphere of the physics crate (the simulator's) is used; the drag derivatives are
    /// left out of the state-transition matrix and covered by the process noise.
    pub drag_beta_kg_m2: f64,
    /// Longest RK4 step (s); RK4 at 10 s keeps the state error at the millimetre level.
    pub max_step_s: f64,
    pub name: &'static str,
}

impl Ballistic {
    pub fn free_flight(q_psd_m2_s3: f64) -> Self {
        Self {
            q_psd_m2_s3,
            drag_beta_kg_m2: 0.0,
            max_step_s: 10.0,
            name: "ballistic",
        }
    }

    /// A thrusting body seen as unpowered flight plus strong white-noise acceleration: the
    /// "boost" model of the IMM.
    pub fn boost(q_psd_m2_s3: f64) -> Self {
        Self {
            q_psd_m2_s3,
            drag_beta_kg_m2: 0.0,
            max_step_s: 10.0,
            name: "boost",
        }
    }

    /// Flight through the atmosphere with a nominal ballistic coefficient: the "re-entry"
    /// model of the IMM (endo-atmospheric flight of short-range missiles included).
    pub fn reentry(q_psd_m2_s3: f64, beta_kg_m2: f64) -> Self {
        Self {
            q_psd_m2_s3,
            drag_beta_kg_m2: beta_kg_m2,
            max_step_s: 2.0,
            name: "reentry",
        }
    }
}

#[inline]
fn split(x: &StateVec) -> (Vector3<f64>, Vector3<f64>) {
    (
        Vector3::new(x[0], x[1], x[2]),
        Vector3::new(x[3], x[4], x[5]),
    )
}

#[inline]
fn deriv(x: &StateVec) -> StateVec {
    let (r, v) = split(x);
    let a = free_flight_acceleration(&r, &v);
    StateVec::new(v.x, v.y, v.z, a.x, a.y, a.z)
}

#[inline]
fn deriv_drag(x: &StateVec, beta: f64) -> StateVec {
    let (r, v) = split(x);
    let a = free_flight_acceleration(&r, &v)
        + trilink_physics::atmosphere::drag_acceleration(&r, &v, beta);
    StateVec::new(v.x, v.y, v.z, a.x, a.y, a.z)
}

/// One RK4 step of state and state-transition matrix with drag in the state only.
pub fn rk4_with_stm_drag(x: &StateVec, phi: &StateCov, h: f64, beta: f64) -> (StateVec, StateCov) {
    let jac = |x: &StateVec| accel_position_jacobian(&Vector3::new(x[0], x[1], x[2]));
    let k1 = deriv_drag(x, beta);
    let m1 = a_times(phi, &jac(x));
    let x2 = x + 0.5 * h * k1;
    let p2 = phi + 0.5 * h * m1;
    let k2 = deriv_drag(&x2, beta);
    let m2 = a_times(&p2, &jac(&x2));
    let x3 = x + 0.5 * h * k2;
    let p3 = phi + 0.5 * h * m2;
    let k3 = deriv_drag(&x3, beta);
    let m3 = a_times(&p3, &jac(&x3));
    let x4 = x + h * k3;
    let p4 = phi + h * m3;
    let k4 = deriv_drag(&x4, beta);
    let m4 = a_times(&p4, &jac(&x4));
    (
        x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4),
        phi + (h / 6.0) * (m1 + 2.0 * m2 + 2.0 * m3 + m4),
    )
}

/// ∂(acceleration)/∂r for the point-mass gravity plus the centrifugal term.
#[inline]
fn accel_position_jacobian(r: &Vector3<f64>) -> Matrix3<f64> {
    let r2 = r.norm_squared();
    let rn = r2.sqrt();
    let mu_r3 = GM_M3_PER_S2 / (r2 * rn);
    let u = r / rn;
    let mut g = mu_r3 * (3.0 * u * u.transpose() - Matrix3::identity());
    let w2 = OMEGA_RAD_PER_S * OMEGA_RAD_PER_S;
    g[(0, 0)] += w2;
    g[(1, 1)] += w2;
    g
}

/// `A Φ` for the block structure `A = [[0, I], [G, C]]` with the constant Coriolis block `C`,
/// computed by blocks to avoid a full 6×6 product.
#[inline]
fn a_times(phi: &StateCov, g: &Matrix3<f64>) -> StateCov {
    let w2 = 2.0 * OMEGA_RAD_PER_S;
    let mut out = StateCov::zeros();
    // Top rows: the velocity rows of Φ.
    out.fixed_view_mut::<3, 6>(0, 0)
        .copy_from(&phi.fixed_view::<3, 6>(3, 0));
    let top = phi.fixed_view::<3, 6>(0, 0);
    let bottom = phi.fixed_view::<3, 6>(3, 0);
    let mut lower = g * top;
    // C = [[0, 2w, 0], [-2w, 0, 0], [0, 0, 0]]
    for c in 0..6 {
        lower[(0, c)] += w2 * bottom[(1, c)];
        lower[(1, c)] -= w2 * bottom[(0, c)];
    }
    out.fixed_view_mut::<3, 6>(3, 0).copy_from(&lower);
    out
}

/// One RK4 step of state and state-transition matrix.
pub fn rk4_with_stm(x: &StateVec, phi: &StateCov, h: f64) -> (StateVec, StateCov) {
    let jac = |x: &StateVec| accel_position_jacobian(&Vector3::new(x[0], x[1], x[2]));
    let k1 = deriv(x);
    let m1 = a_times(phi, &jac(x));
    let x2 = x + 0.5 * h * k1;
    let p2 = phi + 0.5 * h * m1;
    let k2 = deriv(&x2);
    let m2 = a_times(&p2, &jac(&x2));
    let x3 = x + 0.5 * h * k2;
    let p3 = phi + 0.5 * h * m2;
    let k3 = deriv(&x3);
    let m3 = a_times(&p3, &jac(&x3));
    let x4 = x + h * k3;
    let p4 = phi + h * m3;
    let k4 = deriv(&x4);
    let m4 = a_times(&p4, &jac(&x4));
    (
        x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4),
        phi + (h / 6.0) * (m1 + 2.0 * m2 + 2.0 * m3 + m4),
    )
}

/// One RK4 step of the state alone, with drag at ballistic coefficient `beta` (kg/m²; 0 = none).
pub fn rk4_state_drag(x: &StateVec, h: f64, beta: f64) -> StateVec {
    if beta <= 0.0 {
        return rk4_state(x, h);
    }
    let k1 = deriv_drag(x, beta);
    let k2 = deriv_drag(&(x + 0.5 * h * k1), beta);
    let k3 = deriv_drag(&(x + 0.5 * h * k2), beta);
    let k4 = deriv_drag(&(x + h * k3), beta);
    x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
}

/// One RK4 step of the state alone.
pub fn rk4_state(x: &StateVec, h: f64) -> StateVec {
    let k1 = deriv(x);
    let k2 = deriv(&(x + 0.5 * h * k1));
    let k3 = deriv(&(x + 0.5 * h * k2));
    let k4 = deriv(&(x + h * k3));
    x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
}

/// Continuous white-noise acceleration integrated over `dt`: `q [[dt³/3 I, dt²/2 I], [dt²/2 I, dt I]]`.
pub fn white_accel_noise(q_psd: f64, dt_s: f64) -> StateCov {
    let dt = dt_s.abs();
    let a = q_psd * dt * dt * dt / 3.0;
    let b = q_psd * dt * dt / 2.0;
    let c = q_psd * dt;
    let mut q = StateCov::zeros();
    for i in 0..3 {
        q[(i, i)] = a;
        q[(i, i + 3)] = b;
        q[(i + 3, i)] = b;
        q[(i + 3, i + 3)] = c;
    }
    q
}

impl MotionModel for Ballistic {
    fn predict(&self, x: &StateVec, dt_s: f64) -> Prediction {
        let mut xs = *x;
        let mut phi = StateCov::identity();
        if dt_s != 0.0 {
            let steps = (dt_s.abs() / self.max_step_s).ceil().max(1.0);
            let h = dt_s / steps;
            for _ in 0..steps as usize {
                let (nx, np) = if self.drag_beta_kg_m2 > 0.0 {
                    rk4_with_stm_drag(&xs, &phi, h, self.drag_beta_kg_m2)
                } else {
                    rk4_with_stm(&xs, &phi, h)
                };
                xs = nx;
                phi = np;
            }
        }
        Prediction {
            x: xs,
            stm: phi,
            q: white_accel_noise(self.q_psd_m2_s3, dt_s),
        }
    }

    fn propagate_state(&self, x: &StateVec, dt_s: f64) -> StateVec {
        let mut xs = *x;
        if dt_s != 0.0 {
            // The same step schedule as `predict`, so both give the same state to round-off.
            let steps = (dt_s.abs() / self.max_step_s).ceil().max(1.0);
            let h = dt_s / steps;
            for _ in 0..steps as usize {
                xs = rk4_state_drag(&xs, h, self.drag_beta_kg_m2);
            }
        }
        xs
    }

    fn name(&self) -> &'static str {
        self.name
    }

    fn noise(&self, dt_s: f64) -> StateCov {
        white_accel_noise(self.q_psd_m2_s3, dt_s)
    }

    fn same_dynamics(&self, other: &Self) -> bool {
        self.max_step_s == other.max_step_s && self.drag_beta_kg_m2 == other.drag_beta_kg_m2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilink_physics::{jacobi_integral, rk4_step};

    fn leo_like() -> StateVec {
        // 300 km up over the equator, moving north-east at 6 km/s.
        StateVec::new(6_678_137.0, 0.0, 0.0, 0.0, 4_200.0, 4_200.0)
    }

    #[test]
    fn state_agrees_with_the_physics_crate_integrator() {
        // The simulator integrates at 0.1 s; our 10 s steps must land on the same point.
        let x0 = leo_like();
        let mut s = x0;
        for _ in 0..600 {
            s = rk4_step(0.0, &s, 0.1, |_, r, v| free_flight_acceleration(r, v));
        }
        let p = Ballistic::free_flight(0.0).predict(&x0, 60.0);
        let dr = (p.x.fixed_rows::<3>(0) - s.fixed_rows::<3>(0)).norm();
        let dv = (p.x.fixed_rows::<3>(3) - s.fixed_rows::<3>(3)).norm();
        assert!(dr < 0.01 && dv < 1e-4, "dr {dr} m, dv {dv} m/s");
    }

    #[test]
    fn jacobi_integral_is_conserved_over_an_hour() {
        let x0 = leo_like();
        let p = Ballistic::free_flight(0.0).predict(&x0, 3600.0);
        let (r0, v0) = split(&x0);
        let (r1, v1) = split(&p.x);
        let c0 = jacobi_integral(&r0, &v0);
        let c1 = jacobi_integral(&r1, &v1);
        // The brief's bar for truth is 1e-7 over a flight; 10 s steps keep well inside it.
        assert!(((c1 - c0) / c0).abs() < 1e-8, "{c0} -> {c1}");
    }

    #[test]
    fn stm_matches_finite_differences() {
        let x0 = leo_like();
        let m = Ballistic::free_flight(0.0);
        let dt = 120.0;
        let p = m.predict(&x0, dt);
        for j in 0..6 {
            let h = if j < 3 { 1.0 } else { 1e-3 };
            let mut xp = x0;
            xp[j] += h;
            let mut xm = x0;
            xm[j] -= h;
            let col = (m.predict(&xp, dt).x - m.predict(&xm, dt).x) / (2.0 * h);
            for i in 0..6 {
                let scale = col.norm().max(1e-9);
                // The point-mass-only gradient leaves a J2-sized (1e-3) relative difference.
                assert!(
                    (p.stm[(i, j)] - col[i]).abs() < 3e-3 * scale,
                    "Φ[{i},{j}] = {} vs {}",
                    p.stm[(i, j)],
                    col[i]
                );
            }
        }
    }

    #[test]
    fn state_only_propagation_matches_predict() {
        for m in [
            Ballistic::free_flight(0.0),
            Ballistic::reentry(20.0, 3000.0),
        ] {
            // 60 km up and falling, so the drag model has air to work with.
            let x0 = StateVec::new(6_438_137.0, 0.0, 0.0, -2_000.0, 1_500.0, 0.0);
            let a = m.predict(&x0, 37.0).x;
            let b = m.propagate_state(&x0, 37.0);
            assert!((a - b).abs().max() < 1e-9, "{}: {a} vs {b}", m.name);
        }
    }

    #[test]
    fn backward_prediction_undoes_forward() {
        let x0 = leo_like();
        let m = Ballistic::free_flight(0.0);
        let fwd = m.predict(&x0, 300.0);
        let back = m.predict(&fwd.x, -300.0);
        assert!((back.x - x0).fixed_rows::<3>(0).norm() < 1e-3);
        let ident = back.stm * fwd.stm;
        assert!((ident - StateCov::identity()).abs().max() < 1e-6);
    }
}
