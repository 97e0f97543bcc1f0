//! Covariance intersection: fusing estimates whose cross-correlation is unknown.
//!
//! Two national trackers watching one missile share the missile's own process noise, and a
//! hub's relayed product may already hold our own information: the correlation between the
//! inputs is never known, so the Kalman combination (which assumes none) double counts.
//! Covariance intersection (Julier & Uhlmann) fuses in information form with a convex weight,
//! `P⁻¹ = ω Pa⁻¹ + (1−ω) Pb⁻¹`, `P⁻¹x = ω Pa⁻¹ xa + (1−ω) Pb⁻¹ xb`, and is consistent for every
//! cross-correlation. Why CI and not EI or ICI: docs/decisions/0701-track-fusion.md.
use nalgebra::{Cholesky, SMatrix, SVector};

use crate::FusionError;

/// What ω makes small.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Criterion {
    /// The volume of the fused uncertainty ellipsoid: invariant to the units of the axes, so
    /// metres and metres per second can share one matrix.
    #[default]
    Determinant,
    /// The sum of the variances: in a mixed position/velocity state it is all position, which
    /// is what a warning needs most; offered for that use.
    Trace,
}

/// A fused estimate with the weight each input received (the weights sum to 1).
#[derive(Clone, Debug, PartialEq)]
pub struct Fused<const D: usize> {
    pub x: SVector<f64, D>,
    pub p: SMatrix<f64, D, D>,
    /// Effective ω of each input, in input order. For two inputs `[ω, 1 − ω]`.
    pub weights: Vec<f64>,
}

/// The inverse of a symmetric positive-definite matrix, or the error naming `what`.
pub(crate) fn spd_inverse<const D: usize>(
    p: &SMatrix<f64, D, D>,
    what: &'static str,
) -> Result<SMatrix<f64, D, D>, FusionError> {
    if p.iter().any(|v| !v.is_finite()) {
        return Err(FusionError::NotFinite { what });
    }
    let c = Cholesky::new(*p).ok_or(FusionError::NotPositiveDefinite { what })?;
    Ok(symmetrise(&c.inverse()))
}

pub(crate) fn symmetrise<const D: usize>(m: &SMatrix<f64, D, D>) -> SMatrix<f64, D, D> {
    (m + m.transpose()) * 0.5
}

/// The fused covariance's size under `criterion` for the information matrix `info`; infinite
/// where `info` is not positive-definite, so the search steers away.
fn size<const D: usize>(info: &SMatrix<f64, D, D>, criterion: Criterion) -> f64 {
    let Some(c) = Cholesky::new(*info) else {
        return f64::INFINITY;
    };
    match criterion {
        // log det P = −log det P⁻¹ = −2 Σ ln Lᵢᵢ; the log keeps 6×6 determinants of mixed
        // units (1e30 and more) away from overflow.
        Criterion::Determinant => -2.0 * c.l_dirty().diagonal().iter().map(|d| d.ln()).sum::<f64>(),
        Criterion::Trace => c.inverse().trace(),
    }
}

/// Golden-section search for the minimum of `f` on [0, 1], the ends included. Both CI
/// criteria are convex in ω (log det of an affine matrix pencil, trace of its inverse), so the
/// section search finds the global minimum; the ends are tried as well because the minimum
/// often sits on one (one input far better than the other).
pub fn golden_section_min(f: impl Fn(f64) -> f64, tol: f64) -> f64 {
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let (mut a, mut b) = (0.0_f64, 1.0_f64);
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    while b - a > tol {
        if (fc - fd).abs() <= 1e-14 * fc.abs().max(fd.abs()) {
            // Equal inside: a convex function's minimum lies between c and d. A flat
            // objective (equal covariances) so ends at ω = ½, not at an end by rounding.
            a = c;
            b = d;
            c = b - g * (b - a);
            d = a + g * (b - a);
            fc = f(c);
            fd = f(d);
        } else if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    let mid = 0.5 * (a + b);
    let mut best = (mid, f(mid));
    for w in [0.0, 1.0] {
        let v = f(w);
        if v < best.1 - 1e-12 * best.1.abs() {
            best = (w, v);
        }
    }
    best.0
}

/// Tolerance of the ω search: the fused covariance changes by far less than its own
/// uncertainty for a change of ω this small.
const OMEGA_TOL: f64 = 1e-6;

/// Two-input covariance intersection. Returns the fused estimate and ω, the weight of `a`.
pub fn ci_pair<const D: usize>(
    xa: &SVector<f64, D>,
    pa: &SMatrix<f64, D, D>,
    xb: &SVector<f64, D>,
    pb: &SMatrix<f64, D, D>,
    criterion: Criterion,
) -> Result<(SVector<f64, D>, SMatrix<f64, D, D>, f64), FusionError> {
    if xa.iter().chain(xb.iter()).any(|v| !v.is_finite()) {
        return Err(FusionError::NotFinite {
            what: "CI input state",
        });
    }
    let ia = spd_inverse(pa, "CI input a")?;
    let ib = spd_inverse(pb, "CI input b")?;
    let omega = golden_section_min(|w| size(&(ia * w + ib * (1.0 - w)), criterion), OMEGA_TOL);
    let info = ia * omega + ib * (1.0 - omega);
    let p = spd_inverse(&info, "CI fused information")?;
    let x = p * (ia * xa * omega + ib * xb * (1.0 - omega));
    Ok((x, p, omega))
}

/// A rule that fuses several estimates of one object into one.
pub trait FusionRule<const D: usize> {
    fn fuse(
        &self,
        inputs: &[(SVector<f64, D>, SMatrix<f64, D, D>)],
    ) -> Result<Fused<D>, FusionError>;
}

/// Covariance intersection over any number of inputs by sequential pairwise CI.
///
/// Sequential and not Niehsen's fast CI (ω ∝ 1/tr Pᵢ): the pairwise search optimises the
/// criterion at each step, while the fast rule's trace weights are blind to shape, and two
/// trackers looking from different sides have ellipsoids of similar trace and crossing
/// shapes, exactly where the optimised ω helps. Inputs are taken in ascending order of trace
/// (ties in input order), so the result does not depend on the order members arrived in.
/// Each step is a CI of two consistent estimates, hence consistent whatever the correlations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CovarianceIntersection {
    pub criterion: Criterion,
}

impl<const D: usize> FusionRule<D> for CovarianceIntersection {
    fn fuse(
        &self,
        inputs: &[(SVector<f64, D>, SMatrix<f64, D, D>)],
    ) -> Result<Fused<D>, FusionError> {
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by(|&i, &j| inputs[i].1.trace().total_cmp(&inputs[j].1.trace()));
        let Some((&first, rest)) = order.split_first() else {
            return Err(FusionError::Empty);
        };
        let mut weights = vec![0.0; inputs.len()];
        weights[first] = 1.0;
        let (mut x, mut p) = inputs[first];
        spd_inverse(&p, "fusion input")?;
        for &k in rest {
            let (xk, pk) = &inputs[k];
            let (xf, pf, omega) = ci_pair(&x, &p, xk, pk, self.criterion)?;
            for w in weights.iter_mut() {
                *w *= omega;
            }
            weights[k] = 1.0 - omega;
            x = xf;
            p = pf;
        }
        Ok(Fused { x, p, weights })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Matrix2, Vector2};

    #[test]
    fn equal_diagonal_covariances_split_the_weight_evenly() {
        let p = Matrix2::new(4.0, 0.0, 0.0, 9.0);
        for criterion in [Criterion::Determinant, Criterion::Trace] {
            let (x, pf, w) = ci_pair(
                &Vector2::new(0.0, 0.0),
                &p,
                &Vector2::new(2.0, 4.0),
                &p,
                criterion,
            )
            .unwrap();
            assert!((w - 0.5).abs() < 1e-4, "{criterion:?}: ω = {w}");
            // Equal covariances: the mean of the two, and CI gains nothing over either input.
            assert!((x - Vector2::new(1.0, 2.0)).norm() < 1e-4);
            assert!((pf - p).norm() < 1e-4);
        }
    }

    #[test]
    fn a_much_smaller_covariance_takes_nearly_all_the_weight() {
        let small = Matrix2::new(1.0, 0.0, 0.0, 1.0);
        let big = Matrix2::new(1e4, 0.0, 0.0, 1e4);
        let (x, p, w) = ci_pair(
            &Vector2::new(10.0, 0.0),
            &small,
            &Vector2::new(0.0, 0.0),
            &big,
            Criterion::Determinant,
        )
        .unwrap();
        assert!(w > 0.99, "ω = {w}");
        assert!((x[0] - 10.0).abs() < 0.1);
        assert!((p - small).norm() < 0.05);
    }

    #[test]
    fn crossing_ellipses_give_the_hand_computed_omega_and_information_identity() {
        // Pa = diag(1, 4), Pb = diag(4, 1): the determinant of ω diag(1, ¼) + (1−ω) diag(¼, 1)
        // is largest at ω = ½ by symmetry, with P = diag(1.6, 1.6).
        let pa = Matrix2::new(1.0, 0.0, 0.0, 4.0);
        let pb = Matrix2::new(4.0, 0.0, 0.0, 1.0);
        let (_, p, w) = ci_pair(
            &Vector2::zeros(),
            &pa,
            &Vector2::zeros(),
            &pb,
            Criterion::Determinant,
        )
        .unwrap();
        assert!((w - 0.5).abs() < 1e-4);
        assert!((p - Matrix2::new(1.6, 0.0, 0.0, 1.6)).norm() < 1e-4);
        // The defining identity, and the fused ellipse inside both inputs' union
        // but smaller than either in volume.
        let lhs = p.try_inverse().unwrap();
        let rhs = pa.try_inverse().unwrap() * w + pb.try_inverse().unwrap() * (1.0 - w);
        assert!((lhs - rhs).norm() < 1e-9);
        assert!(p.determinant() < pa.determinant());
    }

    #[test]
    fn sequential_ci_does_not_depend_on_input_order() {
        let a = (Vector2::new(0.0, 0.0), Matrix2::new(1.0, 0.2, 0.2, 3.0));
        let b = (Vector2::new(1.0, -1.0), Matrix2::new(2.5, -0.4, -0.4, 1.0));
        let c = (Vector2::new(0.5, 0.5), Matrix2::new(6.0, 0.0, 0.0, 6.0));
        let rule = CovarianceIntersection::default();
        let f1 = rule.fuse(&[a, b, c]).unwrap();
        let f2 = rule.fuse(&[c, a, b]).unwrap();
        assert!((f1.x - f2.x).norm() < 1e-9);
        assert!((f1.p - f2.p).norm() < 1e-9);
        assert!((f1.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_covariance_that_is_not_positive_definite_is_an_error() {
        let bad = Matrix2::new(1.0, 2.0, 2.0, 1.0);
        let good = Matrix2::identity();
        let r = ci_pair(
            &Vector2::zeros(),
            &bad,
            &Vector2::zeros(),
            &good,
            Criterion::Determinant,
        );
        assert!(matches!(r, Err(FusionError::NotPositiveDefinite { .. })));
    }
}
