//! The unscented Kalman filter: the alternative to the EKF of [`crate::filter`], chosen with
//! [`crate::filter::FilterKind`].
//!
//! Instead of linearising the dynamics and the AER measurement at the mean, the UKF pushes a
//! small deterministic set of *sigma points* (the mean and the mean ± scaled columns of a square
//! root of the covariance) through the exact non-linear functions and re-assembles mean and
//! covariance from the results. It captures the mean to second order where the EKF's is first
//! order, which matters when the covariance is large against the curvature of the functions:
//! a track just started from two detections (kilometres of cross-range uncertainty at 1,000 km),
//! or a track coasting through a long gap. See docs/decisions/0405-ukf.md.
//!
//! The dynamics are the motion model's own ([`MotionModel::propagate_state`]), so the UKF, the
//! EKF and the simulator share one gravity model.

use nalgebra::{Matrix3, SMatrix, SVector};

use crate::filter::symmetrize;
use crate::measure::{MeasVec, MeasurementModel};
use crate::motion::{AugCov, AugVec, MotionModel, NX};
use crate::TrackError;

/// Scaling of the sigma points (Julier's scaled unscented transform): spread `α`, prior
/// knowledge of the distribution `β` (2 is optimal for a Gaussian), secondary scaling `κ`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SigmaParams {
    pub alpha: f64,
    pub beta: f64,
    pub kappa: f64,
}

/// The tracker's choice for its 6-element state: `α = 1, β = 2, κ = 0`, i.e. `λ = 0`.
///
/// Why not the textbook `α = 10⁻³`: it makes `λ ≈ −n` and the central weights about `−10⁶`,
/// so the mean is a difference of huge weighted ECEF positions (6·10⁶ m) and the covariance a
/// sum with a large negative term that can leave it indefinite. With `λ = 0` the central mean
/// weight is 0, the other twelve are 1/12, the central covariance weight is `β = 2`: every
/// weight is non-negative, so the covariance is a sum of positive outer products and positive
/// semi-definite by construction. The points sit at `±√6 σ` (`√(n + λ)`), a little wider
/// than the `±√3 σ` that would also match the Gaussian's fourth moment (`κ = 3 − n`), which
/// needs a negative central weight; for the smooth gravity and AER functions here that
/// fourth-order difference is far below the measurement noise.
pub const DEFAULT_SIGMA: SigmaParams = SigmaParams {
    alpha: 1.0,
    beta: 2.0,
    kappa: 0.0,
};

/// Sigma-point weights for a state of dimension `n`: the central point has mean weight `wm0`
/// and covariance weight `wc0`, each of the `2n` others `wi` for both; points are at
/// `x ± gamma · (column of √P)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub gamma: f64,
    pub wm0: f64,
    pub wc0: f64,
    pub wi: f64,
}

impl SigmaParams {
    /// The weights for dimension `n`; an error if `n + λ` is not positive (the points would
    /// not be real) or a parameter is not finite.
    pub fn weights(&self, n: usize) -> Result<Weights, TrackError> {
        let nf = n as f64;
        for (key, v) in [
            ("ukf.alpha", self.alpha),
            ("ukf.beta", self.beta),
            ("ukf.kappa", self.kappa),
        ] {
            if !v.is_finite() {
                return Err(TrackError::BadConfig {
                    key,
                    value: v,
                    expected: "a finite number",
                });
            }
        }
        if self.alpha <= 0.0 {
            return Err(TrackError::BadConfig {
                key: "ukf.alpha",
                value: self.alpha,
                expected: "a number greater than zero",
            });
        }
        let lambda = self.alpha * self.alpha * (nf + self.kappa) - nf;
        let c = nf + lambda;
        // Parameters are finite here, so c is not NaN.
        if c <= 0.0 {
            return Err(TrackError::BadConfig {
                key: "ukf.kappa",
                value: self.kappa,
                expected: "a value with n + κ > 0 (n = state dimension)",
            });
        }
        let wm0 = lambda / c;
        Ok(Weights {
            gamma: c.sqrt(),
            wm0,
            wc0: wm0 + 1.0 - self.alpha * self.alpha + self.beta,
            wi: 0.5 / c,
        })
    }
}

/// The weights of [`DEFAULT_SIGMA`] for the 6-element state (`λ = 0`), written out so the hot
/// path does not recompute them.
pub const DEFAULT_WEIGHTS_6: Weights = Weights {
    // √6
    gamma: 2.449_489_742_783_178,
    wm0: 0.0,
    wc0: 2.0,
    wi: 1.0 / 12.0,
};

/// The weights of [`DEFAULT_SIGMA`] for the filter's 10-element augmented state (`λ = 0`).
pub const DEFAULT_WEIGHTS_AUG: Weights = Weights {
    // √10
    gamma: 3.162_277_660_168_379_5,
    wm0: 0.0,
    wc0: 2.0,
    wi: 1.0 / 20.0,
};

/// A square root `L` of a covariance (`L Lᵀ = P`) for placing sigma points.
///
/// Cholesky first. If it fails (a covariance that round-off has left with a tiny negative
/// pivot, or one that is exactly singular, such as a fully known component), the fallback is an
/// `L D Lᵀ` factorisation that sets every pivot at or below `10⁻¹²` of the largest diagonal
/// entry to zero, with its column: for a positive semi-definite `P` the dropped column is zero
/// anyway, so `L √D` is an exact square root; for a slightly indefinite one it is the square
/// root of the nearby PSD matrix. Any `L` with `L Lᵀ = P` gives the same transform. `None` only
/// for a matrix with a non-finite entry.
pub fn sqrt_cov<const N: usize>(p: &SMatrix<f64, N, N>) -> Option<SMatrix<f64, N, N>> {
    if !p.iter().all(|v| v.is_finite()) {
        return None;
    }
    if let Some(c) = p.cholesky() {
        return Some(c.l());
    }
    let scale = (0..N).map(|i| p[(i, i)].abs()).fold(0.0, f64::max);
    let tol = 1e-12 * scale;
    let mut l = SMatrix::<f64, N, N>::identity();
    let mut dg = [0.0f64; N];
    for j in 0..N {
        let mut dj = p[(j, j)];
        for k in 0..j {
            dj -= l[(j, k)] * l[(j, k)] * dg[k];
        }
        if dj <= tol {
            // Not positive: this direction carries no (or negative, by round-off) variance.
            dg[j] = 0.0;
            continue;
        }
        dg[j] = dj;
        for i in (j + 1)..N {
            let mut a = 0.5 * (p[(i, j)] + p[(j, i)]);
            for k in 0..j {
                a -= l[(i, k)] * l[(j, k)] * dg[k];
            }
            l[(i, j)] = a / dj;
        }
    }
    for (j, d) in dg.iter().enumerate() {
        let s = d.sqrt();
        for i in 0..N {
            l[(i, j)] *= s;
        }
    }
    l.iter().all(|v| v.is_finite()).then_some(l)
}

/// Mean and covariance of `f(x)` for `x ~ N(mean, cov)`, and the cross-covariance of `x` with
/// `f(x)`.
#[derive(Debug, Clone, Copy)]
pub struct Transformed<const N: usize, const M: usize> {
    pub mean: SVector<f64, M>,
    pub cov: SMatrix<f64, M, M>,
    pub cross: SMatrix<f64, N, M>,
}

/// The unscented transform of `f` (for outputs that are plain vectors; angles that wrap need
/// the measurement path, [`innovation`]). Deviations are taken from the image of the central
/// point before weighting, so that averaging large ECEF coordinates loses no precision.
/// `None` if the covariance has a non-finite entry.
pub fn unscented_transform<const N: usize, const M: usize>(
    x: &SVector<f64, N>,
    p: &SMatrix<f64, N, N>,
    w: &Weights,
    mut f: impl FnMut(&SVector<f64, N>) -> SVector<f64, M>,
) -> Option<Transformed<N, M>> {
    let d = sqrt_cov(p)? * w.gamma;
    let y0 = f(x);
    let mut plus = SMatrix::<f64, M, N>::zeros();
    let mut minus = SMatrix::<f64, M, N>::zeros();
    for i in 0..N {
        let di = d.column(i);
        plus.set_column(i, &(f(&(x + di)) - y0));
        minus.set_column(i, &(f(&(x - di)) - y0));
    }
    // Mean of the deviations from y0 (the central deviation is zero).
    let mut dm = SVector::<f64, M>::zeros();
    for i in 0..N {
        dm += plus.column(i) + minus.column(i);
    }
    dm *= w.wi;
    let mut cov = w.wc0 * dm * dm.transpose();
    let mut cross = SMatrix::<f64, N, M>::zeros();
    for i in 0..N {
        let a = plus.column(i) - dm;
        let b = minus.column(i) - dm;
        cov += w.wi * (a * a.transpose() + b * b.transpose());
        // The central point's state deviation is zero; ± points deviate by ±dᵢ.
        cross += w.wi * d.column(i) * (a - b).transpose();
    }
    Some(Transformed {
        mean: y0 + dm,
        cov,
        cross,
    })
}

/// UKF prediction through `model` over `dt_s`: sigma points through the model's deterministic
/// state propagation, plus its additive process noise. `None` if the covariance has a
/// non-finite entry.
pub fn predict<M: MotionModel>(
    model: &M,
    x: &AugVec,
    p: &AugCov,
    dt_s: f64,
    w: &Weights,
) -> Option<(AugVec, AugCov)> {
    let t = unscented_transform(x, p, w, |s| model.propagate_state(s, dt_s))?;
    let mut pn = t.cov + model.noise(dt_s);
    symmetrize(&mut pn);
    Some((t.mean, pn))
}

/// Innovation statistics of a state against one measurement, by sigma points.
#[derive(Debug, Clone, Copy)]
pub struct UnscentedInnovation<const D: usize> {
    /// Measured minus predicted (azimuth wrapped).
    pub y: MeasVec,
    /// Predicted measurement (azimuth as a circular mean).
    pub z_pred: MeasVec,
    pub s: Matrix3<f64>,
    pub s_inv: Matrix3<f64>,
    /// Cross-covariance of state and measurement.
    pub pxz: SMatrix<f64, D, 3>,
    /// Normalised innovation squared `yᵀ S⁻¹ y`.
    pub d2: f64,
    pub ln_det_s: f64,
}

/// Room for the sigma points of the largest state (2n + 1).
const MAX_SIGMA: usize = 2 * NX + 1;

/// The unscented innovation of `z` (noise variances `r_diag`) against `x`, `p`.
///
/// Each sigma point's predicted measurement is compared with the predicted mean through the
/// sensor's own wrapped difference (the azimuth residual the short way round), and the mean
/// azimuth is the circular mean; so a target due north with sigma points on both sides of
/// 0/2π gives a residual of the size of its spread, not of 2π. `None` if the innovation
/// covariance is not positive definite or `p` has a non-finite entry.
pub fn innovation<S: MeasurementModel, const D: usize>(
    sensor: &S,
    x: &SVector<f64, D>,
    p: &SMatrix<f64, D, D>,
    z: &MeasVec,
    r_diag: &MeasVec,
    w: &Weights,
) -> Option<UnscentedInnovation<D>> {
    if D > NX {
        return None;
    }
    let n_sigma = 2 * D + 1;
    let d = sqrt_cov(p)? * w.gamma;
    let mut zs = [MeasVec::zeros(); MAX_SIGMA];
    let mut wm = [w.wi; MAX_SIGMA];
    wm[0] = w.wm0;
    zs[0] = sensor.measure(x);
    for i in 0..D {
        let di = d.column(i);
        zs[1 + 2 * i] = sensor.measure(&(x + di));
        zs[2 + 2 * i] = sensor.measure(&(x - di));
    }
    let z_pred = sensor.weighted_mean(&zs[..n_sigma], &wm[..n_sigma]);
    let dev0 = sensor.innovation(&zs[0], &z_pred);
    let mut s = w.wc0 * dev0 * dev0.transpose();
    let mut pxz = SMatrix::<f64, D, 3>::zeros();
    for i in 0..D {
        let a = sensor.innovation(&zs[1 + 2 * i], &z_pred);
        let b = sensor.innovation(&zs[2 + 2 * i], &z_pred);
        s += w.wi * (a * a.transpose() + b * b.transpose());
        pxz += w.wi * d.column(i) * (a - b).transpose();
    }
    for i in 0..3 {
        s[(i, i)] += r_diag[i];
    }
    // Exact symmetry before the factorisation; the sums above are symmetric only to round-off.
    let s = 0.5 * (s + s.transpose());
    let chol = s.cholesky()?;
    let s_inv = chol.inverse();
    let y = sensor.innovation(z, &z_pred);
    let d2 = (y.transpose() * s_inv * y)[(0, 0)];
    let l = chol.l();
    let ln_det_s = 2.0 * (l[(0, 0)].ln() + l[(1, 1)].ln() + l[(2, 2)].ln());
    Some(UnscentedInnovation {
        y,
        z_pred,
        s,
        s_inv,
        pxz,
        d2,
        ln_det_s,
    })
}

/// The UKF update: `K = Pxz S⁻¹`, `x⁺ = x + K y`, `P⁺ = P − K S Kᵀ`, symmetrised. `None` if
/// `P⁺` is not positive definite (round-off in the subtraction when the measurement is far more
/// precise than the state); the caller then rejects the update, as it does for an EKF update
/// whose innovation covariance fails.
pub fn update<const D: usize>(
    x: &SVector<f64, D>,
    p: &SMatrix<f64, D, D>,
    inn: &UnscentedInnovation<D>,
) -> Option<(SVector<f64, D>, SMatrix<f64, D, D>)> {
    let k: SMatrix<f64, D, 3> = inn.pxz * inn.s_inv;
    let x_new = x + k * inn.y;
    let mut p_new = p - k * inn.s * k.transpose();
    symmetrize(&mut p_new);
    if p_new.cholesky().is_none() {
        // The augmented state spans twelve orders of magnitude in variance (k in m²/kg against
        // positions in m): the subtraction can leave a direction a few ulps negative. A
        // relative nudge of 1e-9 on the diagonal is far below any physical uncertainty.
        for i in 0..D {
            p_new[(i, i)] += 1e-9 * p_new[(i, i)].abs();
        }
        p_new.cholesky()?;
    }
    Some((x_new, p_new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Matrix2x3, Matrix3x2, Vector2, Vector3};

    #[test]
    fn default_weights_match_the_parameters() {
        let w = DEFAULT_SIGMA.weights(6).unwrap();
        assert!((w.gamma - DEFAULT_WEIGHTS_6.gamma).abs() < 1e-15);
        assert_eq!(w.wm0, DEFAULT_WEIGHTS_6.wm0);
        assert_eq!(w.wc0, DEFAULT_WEIGHTS_6.wc0);
        assert!((w.wi - DEFAULT_WEIGHTS_6.wi).abs() < 1e-17);
        let w = DEFAULT_SIGMA.weights(NX).unwrap();
        assert!((w.gamma - DEFAULT_WEIGHTS_AUG.gamma).abs() < 1e-15);
        assert_eq!(w.wm0, DEFAULT_WEIGHTS_AUG.wm0);
        assert_eq!(w.wc0, DEFAULT_WEIGHTS_AUG.wc0);
        assert!((w.wi - DEFAULT_WEIGHTS_AUG.wi).abs() < 1e-17);
        // Mean weights sum to one for any parameters.
        for sp in [
            DEFAULT_SIGMA,
            SigmaParams {
                alpha: 1e-3,
                beta: 2.0,
                kappa: 0.0,
            },
            SigmaParams {
                alpha: 1.0,
                beta: 2.0,
                kappa: -3.0,
            },
        ] {
            let w = sp.weights(6).unwrap();
            assert!((w.wm0 + 12.0 * w.wi - 1.0).abs() < 1e-9, "{sp:?}");
        }
    }

    #[test]
    fn impossible_parameters_are_refused() {
        let bad = SigmaParams {
            alpha: 1.0,
            beta: 2.0,
            kappa: -6.0,
        };
        assert!(matches!(
            bad.weights(6),
            Err(TrackError::BadConfig {
                key: "ukf.kappa",
                ..
            })
        ));
        let nan = SigmaParams {
            alpha: f64::NAN,
            ..DEFAULT_SIGMA
        };
        assert!(nan.weights(6).is_err());
    }

    /// For `f(x) = A x + b` the transformed Gaussian is exactly `N(A m + b, A P Aᵀ)` with
    /// cross-covariance `P Aᵀ`; the unscented transform must reproduce it for any valid
    /// scaling, including one with a negative central weight.
    #[test]
    fn linear_function_is_transformed_exactly() {
        let m = Vector3::new(6.4e6, -1.2e6, 2.5e6);
        #[rustfmt::skip]
        let l = SMatrix::<f64, 3, 3>::new(
            300.0, 0.0, 0.0,
            -120.0, 80.0, 0.0,
            45.0, 10.0, 25.0,
        );
        let p = l * l.transpose();
        #[rustfmt::skip]
        let a = Matrix2x3::new(
            0.5, -2.0, 1.0,
            3.0, 0.25, -0.75,
        );
        let b = Vector2::new(1e3, -7.0);
        for sp in [
            DEFAULT_SIGMA,
            SigmaParams {
                alpha: 0.3,
                beta: 2.0,
                kappa: 0.0,
            },
            SigmaParams {
                alpha: 1.0,
                beta: 0.0,
                kappa: 0.0, // β only moves the central covariance weight
            },
        ] {
            let w = sp.weights(3).unwrap();
            let t = unscented_transform(&m, &p, &w, |x| a * x + b).unwrap();
            let mean = a * m + b;
            let cov = a * p * a.transpose();
            let cross: Matrix3x2<f64> = p * a.transpose();
            assert!(
                (t.mean - mean).abs().max() < 1e-9 * mean.abs().max(),
                "{sp:?}: mean {} vs {mean}",
                t.mean
            );
            assert!(
                (t.cov - cov).abs().max() < 1e-9 * cov.abs().max(),
                "{sp:?}: cov {} vs {cov}",
                t.cov
            );
            assert!(
                (t.cross - cross).abs().max() < 1e-9 * cross.abs().max(),
                "{sp:?}"
            );
        }
    }

    /// For `f(x) = xᵀx` with `x ~ N(0, I₃)` the exact mean is 3 (a χ² with 3 dof): the
    /// transform is exact in the mean for a quadratic, where linearisation would say 0.
    #[test]
    fn quadratic_mean_is_exact() {
        let w = DEFAULT_SIGMA.weights(3).unwrap();
        let t = unscented_transform(
            &Vector3::zeros(),
            &SMatrix::<f64, 3, 3>::identity(),
            &w,
            |x| nalgebra::Vector1::new(x.norm_squared()),
        )
        .unwrap();
        assert!((t.mean[0] - 3.0).abs() < 1e-12, "{}", t.mean[0]);
    }

    #[test]
    fn square_root_falls_back_for_a_singular_covariance() {
        // Rank 1 (every draw lies along v): Cholesky meets a zero pivot; the fallback still
        // gives L Lᵀ = P.
        let v = Vector3::new(2.0, 1.0, 1.0);
        let p: Matrix3<f64> = v * v.transpose();
        assert!(p.cholesky().is_none());
        let l = sqrt_cov(&p).unwrap();
        assert!((l * l.transpose() - p).abs().max() < 1e-12, "{l}");
        // Pivots a little below zero (round-off) is clamped, not propagated as NaN.
        let q = p - 1e-9 * SMatrix::<f64, 3, 3>::identity();
        let l = sqrt_cov(&q).unwrap();
        assert!(l.iter().all(|v| v.is_finite()));
        assert!((l * l.transpose() - q).abs().max() < 1e-6 * q.abs().max());
        let mut bad = p;
        bad[(1, 1)] = f64::NAN;
        assert!(sqrt_cov(&bad).is_none());
    }
}
