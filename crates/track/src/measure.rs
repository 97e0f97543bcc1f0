//! Measurement models: what a sensor would see of a state.
//!
//! Radars report azimuth (clockwise from geodetic north), elevation (above the local geodetic
//! horizontal) and slant range in their own frame. The filter updates in exactly those
//! coordinates (no converted measurements), so the noise stays the diagonal the sensor reports.

use nalgebra::{Matrix3, SMatrix, SVector, Vector3};
use trilink_geo::{Geodetic, LocalFrame};

/// Measurement vector order: azimuth (rad), elevation (rad), range (m).
pub type MeasVec = Vector3<f64>;

/// What a sensor would see of a state, with the Jacobian of that with respect to the state.
/// The state is any vector whose first three elements are the ECEF position (the kinematic
/// 6-state, the filter's augmented state).
#[derive(Debug, Clone, Copy)]
pub struct Expected<const D: usize> {
    pub z: MeasVec,
    pub h: SMatrix<f64, 3, D>,
}

/// What a sensor would see of a state.
pub trait MeasurementModel {
    fn expect<const D: usize>(&self, x: &SVector<f64, D>) -> Expected<D>;
    /// What the sensor would see, without the Jacobian (a sigma-point filter needs no
    /// linearisation and calls this once per sigma point).
    fn measure<const D: usize>(&self, x: &SVector<f64, D>) -> MeasVec {
        self.expect(x).z
    }
    /// Weighted mean of measurement vectors (weights sum to one, may be negative). Angular
    /// components must be averaged on the circle, not as numbers: the mean of 0.01 and
    /// 2π − 0.01 is 0, not π.
    fn weighted_mean(&self, z: &[MeasVec], w: &[f64]) -> MeasVec {
        let mut m = MeasVec::zeros();
        for (zi, wi) in z.iter().zip(w) {
            m += *wi * zi;
        }
        m
    }
    /// Measured minus expected, with angles wrapped so that the difference is the short way
    /// round.
    fn innovation(&self, measured: &MeasVec, expected: &MeasVec) -> MeasVec;
}

/// A radar at a fixed site measuring azimuth, elevation and range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AerSensor {
    origin: Vector3<f64>,
    /// Rows are east, north, up in ECEF.
    rot: Matrix3<f64>,
}

impl AerSensor {
    pub fn new(site: Geodetic) -> Self {
        let frame = LocalFrame::new(site);
        Self {
            origin: frame.origin().0,
            rot: *frame.ecef_to_enu_rotation(),
        }
    }

    pub fn origin(&self) -> &Vector3<f64> {
        &self.origin
    }

    /// ECEF position of a measurement and its covariance (first-order), for initiation and for
    /// coarse spatial gating.
    pub fn to_ecef(&self, z: &MeasVec, sigma: &MeasVec) -> (Vector3<f64>, Matrix3<f64>) {
        let (az, el, rg) = (z[0], z[1], z[2]);
        let (sa, ca) = az.sin_cos();
        let (se, ce) = el.sin_cos();
        let enu = Vector3::new(rg * ce * sa, rg * ce * ca, rg * se);
        #[rustfmt::skip]
        let j = Matrix3::new(
            rg * ce * ca, -rg * se * sa, ce * sa,
            -rg * ce * sa, -rg * se * ca, ce * ca,
            0.0,           rg * ce,       se,
        );
        let d = Matrix3::from_diagonal(&sigma.component_mul(sigma));
        let cov_enu = j * d * j.transpose();
        let rt = self.rot.transpose();
        (self.origin + rt * enu, rt * cov_enu * self.rot)
    }
}

impl MeasurementModel for AerSensor {
    #[inline]
    fn expect<const D: usize>(&self, x: &SVector<f64, D>) -> Expected<D> {
        let d = Vector3::new(x[0], x[1], x[2]) - self.origin;
        let enu = self.rot * d;
        let (e, n, u) = (enu.x, enu.y, enu.z);
        let rh2 = e * e + n * n;
        // A target exactly overhead has no azimuth; keep the Jacobian finite there.
        let rh2 = rh2.max(1e-6);
        let rh = rh2.sqrt();
        let r2 = rh2 + u * u;
        let r = r2.sqrt();
        let az = trilink_geo::wrap_two_pi(e.atan2(n));
        let el = u.atan2(rh);
        #[rustfmt::skip]
        let j_enu = Matrix3::new(
            n / rh2,              -e / rh2,             0.0,
            -e * u / (r2 * rh),   -n * u / (r2 * rh),   rh / r2,
            e / r,                n / r,                u / r,
        );
        let hr = j_enu * self.rot;
        let mut h = SMatrix::<f64, 3, D>::zeros();
        h.fixed_view_mut::<3, 3>(0, 0).copy_from(&hr);
        Expected {
            z: MeasVec::new(az, el, r),
            h,
        }
    }

    #[inline]
    fn measure<const D: usize>(&self, x: &SVector<f64, D>) -> MeasVec {
        let d = Vector3::new(x[0], x[1], x[2]) - self.origin;
        let enu = self.rot * d;
        let (e, n, u) = (enu.x, enu.y, enu.z);
        // The same floor as `expect`, so both filters see the same function.
        let rh2 = (e * e + n * n).max(1e-6);
        MeasVec::new(
            trilink_geo::wrap_two_pi(e.atan2(n)),
            u.atan2(rh2.sqrt()),
            (rh2 + u * u).sqrt(),
        )
    }

    /// Azimuth as a circular mean (the direction of the weighted sum of unit vectors);
    /// elevation never wraps inside [-π/2, π/2] and range is linear, so their means are
    /// arithmetic.
    fn weighted_mean(&self, z: &[MeasVec], w: &[f64]) -> MeasVec {
        let (mut s, mut c, mut el, mut rg) = (0.0, 0.0, 0.0, 0.0);
        for (zi, wi) in z.iter().zip(w) {
            let (sa, ca) = zi[0].sin_cos();
            s += wi * sa;
            c += wi * ca;
            el += wi * zi[1];
            rg += wi * zi[2];
        }
        MeasVec::new(trilink_geo::wrap_two_pi(s.atan2(c)), el, rg)
    }

    #[inline]
    fn innovation(&self, measured: &MeasVec, expected: &MeasVec) -> MeasVec {
        let mut y = measured - expected;
        y[0] = trilink_geo::wrap_pi(y[0]);
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::motion::StateVec;
    use trilink_geo::Ecef;

    fn site() -> Geodetic {
        Geodetic::from_degrees(37.5, 127.0, 120.0).unwrap()
    }

    #[test]
    fn expected_aer_matches_the_geo_crate() {
        let s = AerSensor::new(site());
        let frame = LocalFrame::new(site());
        let target = Geodetic::from_degrees(40.0, 131.0, 400_000.0)
            .unwrap()
            .to_ecef();
        let x = StateVec::new(target.0.x, target.0.y, target.0.z, 0.0, 0.0, 0.0);
        let e = s.expect(&x);
        let aer = frame.aer_of(&Ecef(target.0));
        assert!((e.z[0] - aer.az_rad).abs() < 1e-12);
        assert!((e.z[1] - aer.el_rad).abs() < 1e-12);
        assert!((e.z[2] - aer.range_m).abs() < 1e-6);
    }

    #[test]
    fn jacobian_matches_finite_differences() {
        let s = AerSensor::new(site());
        let t = Geodetic::from_degrees(39.0, 125.0, 200_000.0)
            .unwrap()
            .to_ecef();
        let x = StateVec::new(t.0.x, t.0.y, t.0.z, 1.0, 2.0, 3.0);
        let e = s.expect(&x);
        for j in 0..3 {
            let mut xp = x;
            xp[j] += 1.0;
            let mut xm = x;
            xm[j] -= 1.0;
            let d = s.innovation(&s.expect(&xp).z, &s.expect(&xm).z) / 2.0;
            for i in 0..3 {
                assert!(
                    (e.h[(i, j)] - d[i]).abs() < 1e-6 * d[i].abs().max(1e-9) + 1e-12,
                    "H[{i},{j}]"
                );
            }
        }
    }

    #[test]
    fn measure_agrees_with_expect() {
        let s = AerSensor::new(site());
        let t = Geodetic::from_degrees(41.0, 126.0, 300_000.0)
            .unwrap()
            .to_ecef();
        let x = StateVec::new(t.0.x, t.0.y, t.0.z, 0.0, 0.0, 0.0);
        let (a, b) = (s.expect(&x).z, s.measure(&x));
        assert!((a - b).abs().max() < 1e-9, "{a} vs {b}");
    }

    #[test]
    fn azimuth_mean_is_circular() {
        let s = AerSensor::new(site());
        let tau = std::f64::consts::TAU;
        let z = [
            MeasVec::new(0.01, 0.2, 1e5),
            MeasVec::new(tau - 0.03, 0.4, 3e5),
        ];
        let m = s.weighted_mean(&z, &[0.5, 0.5]);
        // Two unit vectors at +0.01 and −0.03 rad: their bisector is at −0.01 rad.
        assert!((m[0] - (tau - 0.01)).abs() < 1e-12, "{}", m[0]);
        assert!((m[1] - 0.3).abs() < 1e-12 && (m[2] - 2e5).abs() < 1e-6);
    }

    #[test]
    fn azimuth_innovation_is_wrapped_across_north() {
        let s = AerSensor::new(site());
        let y = s.innovation(
            &MeasVec::new(0.001, 0.1, 1e5),
            &MeasVec::new(std::f64::consts::TAU - 0.001, 0.1, 1e5),
        );
        assert!((y[0] - 0.002).abs() < 1e-12);
    }

    #[test]
    fn converted_measurement_round_trips() {
        let s = AerSensor::new(site());
        let frame = LocalFrame::new(site());
        let z = MeasVec::new(1.2, 0.3, 900_000.0);
        let (p, c) = s.to_ecef(&z, &MeasVec::new(1e-3, 1e-3, 30.0));
        let aer = frame.aer_of(&Ecef(p));
        assert!((aer.az_rad - 1.2).abs() < 1e-12 && (aer.range_m - 9e5).abs() < 1e-6);
        // Cross-range spread: range × σ_el vertically, range × cos(el) × σ_az horizontally.
        let expected = 900.0f64.powi(2) * (1.0 + 0.3f64.cos().powi(2)) + 900.0;
        assert!(
            (c.trace() - expected).abs() < 1.0,
            "{} vs {expected}",
            c.trace()
        );
    }
}
