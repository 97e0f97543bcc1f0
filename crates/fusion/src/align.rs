//! Time alignment: bringing an estimate to another time with the tracker's own motion model.
//!
//! One model of the Earth for the whole system: the tracker's `Ballistic` (the simulator's
//! gravity with J2 and the rotating frame), so that fusion never disagrees with the trackers
//! about where a missile will be one second later.
use nalgebra::{Matrix6, Vector6};
use trilink_domain::FlightPhase;
use trilink_track::motion::{augment, kinematic, Ballistic, MotionModel};

use crate::ci::symmetrise;

/// Brings a kinematic estimate `dt_s` forward (or backward, for `dt_s < 0`).
pub trait Aligner {
    fn align(
        &self,
        x: &Vector6<f64>,
        p: &Matrix6<f64>,
        phase: FlightPhase,
        dt_s: f64,
    ) -> (Vector6<f64>, Matrix6<f64>);
}

/// Alignment with `trilink_track::motion::Ballistic`: free flight, or in boost an unknown
/// thrust acceleration of σ `boost_accel_sigma_mps2` per axis whose uncertainty flows into
/// position and velocity through Φ. The thrust is taken as zero-mean because a shared report
/// carries no thrust estimate; over the second or two of alignment that is a bias of
/// `a dt²/2`, which the σ covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelAligner {
    /// White-acceleration PSD for what free flight leaves out (drag, manoeuvre), m²/s³.
    pub q_psd_m2_s3: f64,
    pub boost_accel_sigma_mps2: f64,
}

impl Default for ModelAligner {
    fn default() -> Self {
        Self {
            // The tracker's free-flight PSD is 0.001 for long coasts; alignment spans seconds
            // and must also cover drag in the terminal phase, hence larger.
            q_psd_m2_s3: 1.0,
            // About the thrust acceleration of a short-range missile halfway through its burn.
            boost_accel_sigma_mps2: 60.0,
        }
    }
}

impl Aligner for ModelAligner {
    fn align(
        &self,
        x: &Vector6<f64>,
        p: &Matrix6<f64>,
        phase: FlightPhase,
        dt_s: f64,
    ) -> (Vector6<f64>, Matrix6<f64>) {
        if dt_s == 0.0 {
            return (*x, *p);
        }
        let (model, accel_sigma) = if phase == FlightPhase::Boost {
            (
                Ballistic::boost(self.q_psd_m2_s3, 0.0, f64::INFINITY),
                self.boost_accel_sigma_mps2,
            )
        } else {
            (Ballistic::free_flight(self.q_psd_m2_s3), 0.0)
        };
        let (xa, pa) = augment(x, p, accel_sigma, 0.0, 0.0);
        let pr = model.predict(&xa, dt_s);
        let pp = pr.stm * pa * pr.stm.transpose() + pr.q;
        let (xk, pk) = kinematic(&pr.x, &pp);
        (xk, symmetrise(&pk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilink_geo::Geodetic;

    fn midcourse() -> (Vector6<f64>, Matrix6<f64>) {
        let r = Geodetic::from_degrees(39.0, 127.0, 300_000.0)
            .unwrap()
            .to_ecef()
            .0;
        let x = Vector6::new(r.x, r.y, r.z, 1500.0, -2000.0, 500.0);
        let p = Matrix6::from_diagonal(&Vector6::new(1e4, 1e4, 1e4, 100.0, 100.0, 100.0));
        (x, p)
    }

    #[test]
    fn forward_then_back_returns_to_the_start_with_grown_covariance() {
        let a = ModelAligner::default();
        let (x, p) = midcourse();
        let (x1, p1) = a.align(&x, &p, FlightPhase::Midcourse, 5.0);
        let (x0, p0) = a.align(&x1, &p1, FlightPhase::Midcourse, -5.0);
        assert!(
            (x0 - x).fixed_rows::<3>(0).norm() < 1e-3,
            "{}",
            (x0 - x).norm()
        );
        assert!(p1.trace() > p.trace());
        // Back through Φ(−5) undoes the growth that Φ(5) made; the process noise of both legs stays.
        assert!(p0.trace() > p.trace());
    }

    #[test]
    fn boost_alignment_is_less_certain_than_free_flight() {
        let a = ModelAligner::default();
        let (x, p) = midcourse();
        let (_, pf) = a.align(&x, &p, FlightPhase::Midcourse, 2.0);
        let (_, pb) = a.align(&x, &p, FlightPhase::Boost, 2.0);
        // 60 m/s² over 2 s is 120 m of position σ per axis on top.
        assert!(pb[(0, 0)] > pf[(0, 0)] + 100.0 * 100.0);
    }
}
