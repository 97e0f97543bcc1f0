//! Staging: which of two tracks born of one thrusting stack is the stage that keeps thrusting.
//!
//! When a stack drops a spent stage, a new track starts beside the track that followed the
//! boost (its *parent*). For the seconds until the two bodies are further apart than the
//! radars' errors, detections of both reach both tracks, and the two can end up on each
//! other's body. The identity that matters (the launch, the boost history, the id the allies
//! have been warned about) belongs on the body that keeps thrusting. The test here decides it
//! from the one thing that separates the two bodies from the first second: the upper stage
//! accelerates along the thrust axis relative to the spent stage, so it *leads* along that axis
//! (by ½·Δa·t², with the separation impulse and the spent stage's drag pushing the same way).
//! When the child track leads the parent along the parent's boost thrust axis, beyond both
//! tracks' errors, and its velocity along the axis is not behind, for half a second, the two
//! tracks exchange identities, once. See docs/decisions/0410-staging-identity.md.

use nalgebra::{Matrix3, Vector3};

/// How long after the child's birth the pair is watched (s). With the weakest upper-stage
/// thrust of the built-in classes (12.5 m/s²) the bodies are 20 km apart after 60 s, far beyond
/// any confusion.
pub const WINDOW_S: f64 = 60.0;
/// A parent must have been in boost this recently when the child was born (s).
pub const BOOST_RECENT_S: f64 = 10.0;
/// A child must be born inside its parent's gate (the tracker's χ² gate on the position
/// difference, over both covariances) and no further than this (m), and this close in velocity
/// (m/s).
pub const BIRTH_DISTANCE_M: f64 = 3_000.0;
pub const BIRTH_SPEED_MPS: f64 = 500.0;
/// Identities move only while the two tracks are this close (m): eval's and a consumer's
/// pairing of track to body holds up to about the GOSPA cut-off (5 km, decision 0500), and
/// evidence that first appears beyond it is more likely two unrelated bodies than a staging.
pub const MAX_EXCHANGE_DISTANCE_M: f64 = 5_000.0;
/// The parent must have been tracked this long before the child was born (s): two missiles of
/// a salvo seen at once are not a staging.
pub const PARENT_MIN_AGE_S: f64 = 10.0;
/// Lead along the axis, in standard deviations of the difference, that counts as evidence.
pub const LEAD_Z: f64 = 3.0;
/// The evidence must hold this long (s of data time: a few updates from several radars)
/// before the identities move.
pub const HOLD_S: f64 = 0.5;

/// A track's kinematic estimate at its last update.
#[derive(Debug, Clone, Copy)]
pub struct Side {
    pub t_s: f64,
    pub r: Vector3<f64>,
    pub v: Vector3<f64>,
    pub p_rr: Matrix3<f64>,
    pub p_rv: Matrix3<f64>,
    pub p_vv: Matrix3<f64>,
}

impl Side {
    /// Position, velocity and their variances along `axis` at `t_s`, flown by gravity.
    fn along(&self, axis: &Vector3<f64>, t_s: f64) -> (f64, f64, f64, f64) {
        let dt = t_s - self.t_s;
        let g = trilink_physics::free_flight_acceleration(&self.r, &self.v);
        let r = self.r + self.v * dt + 0.5 * g * dt * dt;
        let v = self.v + g * dt;
        let var_r = axis.dot(
            &((self.p_rr + (self.p_rv + self.p_rv.transpose()) * dt + self.p_vv * dt * dt) * axis),
        );
        let var_v = axis.dot(&(self.p_vv * axis));
        (axis.dot(&r), axis.dot(&v), var_r.max(0.0), var_v.max(0.0))
    }
}

/// The squared Mahalanobis distance between the child's position and the parent's flown to
/// the child's time (gravity only), over both position covariances, if the child was born
/// beside the parent: inside `gate`, within [`BIRTH_DISTANCE_M`] and [`BIRTH_SPEED_MPS`].
pub fn born_beside(parent: &Side, child: &Side, gate: f64) -> Option<f64> {
    let dt = child.t_s - parent.t_s;
    let g = trilink_physics::free_flight_acceleration(&parent.r, &parent.v);
    let dr = child.r - (parent.r + parent.v * dt + 0.5 * g * dt * dt);
    let dv = child.v - (parent.v + g * dt);
    if dr.norm() > BIRTH_DISTANCE_M || dv.norm() > BIRTH_SPEED_MPS {
        return None;
    }
    let s = parent.p_rr
        + (parent.p_rv + parent.p_rv.transpose()) * dt
        + parent.p_vv * dt * dt
        + child.p_rr;
    let d2 = dr.dot(&s.cholesky()?.solve(&dr));
    (d2 <= gate).then_some(d2)
}

/// How far the child leads the parent along `axis` (unit), in standard deviations of the
/// difference: (position, velocity), both at the later of the two update times.
pub fn lead_z(parent: &Side, child: &Side, axis: &Vector3<f64>) -> (f64, f64) {
    let t = parent.t_s.max(child.t_s);
    let (rp, vp, var_rp, var_vp) = parent.along(axis, t);
    let (rc, vc, var_rc, var_vc) = child.along(axis, t);
    let z = |d: f64, var: f64| if var > 0.0 { d / var.sqrt() } else { 0.0 };
    (z(rc - rp, var_rp + var_rc), z(vc - vp, var_vp + var_vc))
}

/// A parent track and the child born beside it, identified by the tracks' internal serials.
#[derive(Debug, Clone, Copy)]
pub struct Split {
    pub parent: u64,
    pub child: u64,
    pub t_birth_s: f64,
    /// The parent's thrust direction in its last boost (unit, ECEF).
    pub axis: Vector3<f64>,
    /// Since when the evidence for an exchange has held, if it holds.
    pub since_s: Option<f64>,
}

/// What to do with a pair after looking at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    Exchange,
}

impl Split {
    pub fn new(parent: u64, child: u64, t_birth_s: f64, axis: Vector3<f64>) -> Self {
        Self {
            parent,
            child,
            t_birth_s,
            axis,
            since_s: None,
        }
    }

    /// Weighs the evidence at `now_s`. On [`Verdict::Exchange`] the caller swaps the two tracks'
    /// identities (serials included) and stops watching the pair: one exchange per pair.
    pub fn judge(&mut self, parent: &Side, child: &Side, now_s: f64) -> Verdict {
        let (z_r, z_v) = lead_z(parent, child, &self.axis);
        let near = (parent.r - child.r).norm() < MAX_EXCHANGE_DISTANCE_M;
        if !(z_r > LEAD_Z && z_v > 0.0 && near) {
            self.since_s = None;
            return Verdict::Keep;
        }
        let since = *self.since_s.get_or_insert(now_s);
        if now_s - since < HOLD_S {
            return Verdict::Keep;
        }
        self.since_s = None;
        Verdict::Exchange
    }

    pub fn expired(&self, now_s: f64) -> bool {
        now_s - self.t_birth_s > WINDOW_S
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(t_s: f64, r: Vector3<f64>, v: Vector3<f64>, sigma_m: f64) -> Side {
        Side {
            t_s,
            r,
            v,
            p_rr: Matrix3::identity() * sigma_m * sigma_m,
            p_rv: Matrix3::zeros(),
            p_vv: Matrix3::identity() * 100.0,
        }
    }

    #[test]
    fn a_child_ahead_along_the_axis_takes_the_identity_after_the_hold() {
        let axis = Vector3::z();
        let r0 = Vector3::new(0.0, 0.0, 6_500_000.0);
        let v0 = Vector3::new(0.0, 0.0, 2_000.0);
        let parent = side(10.0, r0, v0, 50.0);
        // 500 m ahead, 40 m/s faster along the axis: z ≈ 7 in position.
        let child = side(10.0, r0 + axis * 500.0, v0 + axis * 40.0, 50.0);
        let mut s = Split::new(1, 2, 0.0, axis);
        assert_eq!(s.judge(&parent, &child, 10.0), Verdict::Keep);
        assert_eq!(s.judge(&parent, &child, 10.3), Verdict::Keep);
        assert_eq!(s.judge(&parent, &child, 10.5), Verdict::Exchange);
    }

    #[test]
    fn a_child_behind_or_within_the_errors_changes_nothing() {
        let axis = Vector3::z();
        let r0 = Vector3::new(0.0, 0.0, 6_500_000.0);
        let v0 = Vector3::new(0.0, 0.0, 2_000.0);
        let parent = side(10.0, r0, v0, 50.0);
        let behind = side(10.0, r0 - axis * 500.0, v0 - axis * 40.0, 50.0);
        // 100 m ahead with 50 m σ each: z ≈ 1.4.
        let close = side(10.0, r0 + axis * 100.0, v0, 50.0);
        // Ahead across the axis only (beside, not in front).
        let beside = side(10.0, r0 + Vector3::x() * 2_000.0, v0, 50.0);
        let mut s = Split::new(1, 2, 0.0, axis);
        for t in [10.0, 11.0, 12.0, 13.0] {
            for c in [&behind, &close, &beside] {
                assert_eq!(s.judge(&parent, c, t), Verdict::Keep);
            }
        }
        // Ahead in position but falling back in velocity: the two are crossing, not parting.
        let crossing = side(10.0, r0 + axis * 500.0, v0 - axis * 40.0, 50.0);
        for t in [10.0, 11.0, 12.0] {
            assert_eq!(s.judge(&parent, &crossing, t), Verdict::Keep);
        }
    }

    #[test]
    fn a_child_is_born_beside_its_parent_only_inside_the_gate() {
        let r0 = Vector3::new(0.0, 0.0, 6_500_000.0);
        let v0 = Vector3::new(0.0, 0.0, 2_000.0);
        let parent = side(10.0, r0, v0, 100.0);
        let gate = 18.9;
        // 300 m off with 100 m σ (3D trace) on each: well inside.
        let near = side(10.0, r0 + Vector3::x() * 300.0, v0, 100.0);
        assert!(born_beside(&parent, &near, gate).is_some());
        // 2 km off with the same σ: outside the gate, though under BIRTH_DISTANCE_M.
        let out = side(10.0, r0 + Vector3::x() * 2_000.0, v0, 100.0);
        assert!(born_beside(&parent, &out, gate).is_none());
        // Inside any gate of a wide track, but further than BIRTH_DISTANCE_M or too fast.
        let far = side(10.0, r0 + Vector3::x() * 4_000.0, v0, 5_000.0);
        assert!(born_beside(&parent, &far, gate).is_none());
        let fast = side(10.0, r0, v0 + Vector3::x() * 600.0, 100.0);
        assert!(born_beside(&parent, &fast, gate).is_none());
    }

    #[test]
    fn identities_do_not_move_between_tracks_far_apart() {
        let axis = Vector3::z();
        let r0 = Vector3::new(0.0, 0.0, 6_500_000.0);
        let v0 = Vector3::new(0.0, 0.0, 2_000.0);
        let parent = side(10.0, r0, v0, 50.0);
        let ahead = side(10.0, r0 + axis * 6_000.0, v0 + axis * 40.0, 50.0);
        let mut s = Split::new(1, 2, 0.0, axis);
        for t in [10.0, 11.0, 12.0] {
            assert_eq!(s.judge(&parent, &ahead, t), Verdict::Keep);
        }
    }

    #[test]
    fn the_states_are_compared_at_one_time() {
        // The child's last update is 1 s older: flown forward by gravity alone it is level with
        // the parent, not 2 km behind.
        let axis = Vector3::z();
        let r0 = Vector3::new(0.0, 0.0, 6_500_000.0);
        let v0 = Vector3::new(0.0, 0.0, 2_000.0);
        let child = side(9.0, r0, v0, 50.0);
        let g = trilink_physics::free_flight_acceleration(&r0, &v0);
        let parent = side(10.0, r0 + v0 + 0.5 * g, v0 + g, 50.0);
        let (z_r, z_v) = lead_z(&parent, &child, &axis);
        assert!(z_r.abs() < 1e-6 && z_v.abs() < 1e-6, "{z_r} {z_v}");
    }
}
