//! A classical fourth-order Runge–Kutta step.
//!
//! Fixed step, not adaptive: trilink needs states on a regular grid anyway (truth is written at
//! 10 Hz or faster; radars scan on fixed periods), ballistic accelerations are smooth between
//! staging events, and the events themselves are placed on step boundaries by the caller. The
//! step-size choice is justified by measurement in docs/decisions/0102.

use nalgebra::{Vector3, Vector6};

/// Position (m) and velocity (m/s) stacked: `[x, y, z, vx, vy, vz]`.
pub type State6 = Vector6<f64>;

pub fn position(s: &State6) -> Vector3<f64> {
    Vector3::new(s[0], s[1], s[2])
}

pub fn velocity(s: &State6) -> Vector3<f64> {
    Vector3::new(s[3], s[4], s[5])
}

pub fn stack(r: &Vector3<f64>, v: &Vector3<f64>) -> State6 {
    State6::new(r.x, r.y, r.z, v.x, v.y, v.z)
}

/// Advances `s` by `dt_s` under the acceleration `accel(t, r, v)`.
pub fn rk4_step<F>(t_s: f64, s: &State6, dt_s: f64, accel: F) -> State6
where
    F: Fn(f64, &Vector3<f64>, &Vector3<f64>) -> Vector3<f64>,
{
    let deriv = |t: f64, x: &State6| -> State6 {
        let r = position(x);
        let v = velocity(x);
        stack(&v, &accel(t, &r, &v))
    };
    let h = dt_s;
    let k1 = deriv(t_s, s);
    let k2 = deriv(t_s + 0.5 * h, &(s + 0.5 * h * k1));
    let k3 = deriv(t_s + 0.5 * h, &(s + 0.5 * h * k2));
    let k4 = deriv(t_s + h, &(s + h * k3));
    s + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
}
