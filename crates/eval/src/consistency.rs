//! Filter consistency: NEES and NIS, averaged, with two-sided chi-square bounds
//! (Bar-Shalom, Li, Kirubarajan 2001, §5.4).
//!
//! If N samples of a k-dimensional error are each normalised by a covariance that tells the
//! truth, their sum is χ² with N·k degrees of freedom, so the average lies inside
//! `[χ²_{Nk}(0.025), χ²_{Nk}(0.975)] / N` with 95 % probability. The test assumes independent
//! samples; successive updates of one track are correlated, so an average just outside the
//! bounds over thousands of updates is weaker evidence than the interval suggests.

use nalgebra::{Matrix3, Vector3};
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// `[lower, upper]` such that the mean of N independent χ²-distributed samples whose degrees of
/// freedom add up to `total_dof` lies inside with probability `prob`. `None` for no samples.
pub fn mean_chi_square_bounds(total_dof: f64, n: usize, prob: f64) -> Option<(f64, f64)> {
    if n == 0
        || total_dof.is_nan()
        || total_dof <= 0.0
        || prob.is_nan()
        || prob <= 0.0
        || prob >= 1.0
    {
        return None;
    }
    let dist = ChiSquared::new(total_dof).ok()?;
    let tail = 0.5 * (1.0 - prob);
    let n = n as f64;
    Some((dist.inverse_cdf(tail) / n, dist.inverse_cdf(1.0 - tail) / n))
}

/// Normalised estimation error squared `eᵀ P⁻¹ e`; `None` when P is not positive-definite.
pub fn nees3(error: &Vector3<f64>, cov: &Matrix3<f64>) -> Option<f64> {
    let chol = cov.cholesky()?;
    let w = chol.solve(error);
    let v = error.dot(&w);
    v.is_finite().then_some(v)
}

/// An accumulating average of χ² samples with its 95 % bounds.
#[derive(Debug, Clone, Default)]
pub struct ChiSquareAverage {
    sum: f64,
    dof_sum: f64,
    n: usize,
}

impl ChiSquareAverage {
    pub fn push(&mut self, value: f64, dof: f64) {
        self.sum += value;
        self.dof_sum += dof;
        self.n += 1;
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn summary(&self) -> Option<ConsistencySummary> {
        let (lower_95, upper_95) = mean_chi_square_bounds(self.dof_sum, self.n, 0.95)?;
        let n = self.n as f64;
        let average = self.sum / n;
        Some(ConsistencySummary {
            average,
            samples: self.n,
            mean_dof: self.dof_sum / n,
            lower_95,
            upper_95,
            inside_95: (lower_95..=upper_95).contains(&average),
        })
    }
}

/// ANEES or ANIS with its bounds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsistencySummary {
    /// Mean of the normalised squares (expected value: `mean_dof`).
    pub average: f64,
    pub samples: usize,
    pub mean_dof: f64,
    pub lower_95: f64,
    pub upper_95: f64,
    pub inside_95: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chi-square quantiles from the NIST/SEMATECH e-Handbook of Statistical Methods,
    /// table 1.3.6.7.4 ("Critical values of the chi-square distribution"), which lists upper-tail
    /// critical values to three decimals: (ν, χ² with 0.975 below it, χ² with 0.025 below it).
    const NIST: &[(f64, f64, f64)] = &[
        (3.0, 9.348, 0.216),
        (10.0, 20.483, 3.247),
        (30.0, 46.979, 16.791),
        (90.0, 118.136, 65.647),
        (100.0, 129.561, 74.222),
    ];

    #[test]
    fn bounds_match_published_chi_square_quantiles() {
        for &(dof, upper, lower) in NIST {
            let (lo, hi) = mean_chi_square_bounds(dof, 1, 0.95).unwrap();
            assert!((lo - lower).abs() < 6e-4, "ν={dof}: lower {lo} vs {lower}");
            assert!((hi - upper).abs() < 6e-4, "ν={dof}: upper {hi} vs {upper}");
        }
    }

    #[test]
    fn anees_bounds_for_ten_three_dimensional_samples() {
        // 10 samples of 3-dof NEES: bounds are χ²₃₀ quantiles / 10 = [1.6791, 4.6979].
        let (lo, hi) = mean_chi_square_bounds(30.0, 10, 0.95).unwrap();
        assert!(
            (lo - 1.6791).abs() < 1e-4 && (hi - 4.6979).abs() < 1e-4,
            "{lo} {hi}"
        );
    }

    #[test]
    fn nees_of_a_one_sigma_error_on_each_axis_is_three() {
        let cov = Matrix3::from_diagonal(&Vector3::new(4.0, 9.0, 16.0));
        let e = Vector3::new(2.0, -3.0, 4.0);
        assert!((nees3(&e, &cov).unwrap() - 3.0).abs() < 1e-12);
        let not_pd = Matrix3::from_diagonal(&Vector3::new(4.0, -1.0, 16.0));
        assert!(nees3(&e, &not_pd).is_none());
    }

    #[test]
    fn average_reports_inside_when_it_should() {
        let mut avg = ChiSquareAverage::default();
        for _ in 0..100 {
            avg.push(3.0, 3.0);
        }
        let s = avg.summary().unwrap();
        assert!(s.inside_95 && (s.average - 3.0).abs() < 1e-12 && s.mean_dof == 3.0);
        avg.push(1e4, 3.0);
        assert!(!avg.summary().unwrap().inside_95);
    }
}
