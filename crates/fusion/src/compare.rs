//! The fusion rules CI was chosen over, kept for the measurement in
//! docs/decisions/0701-track-fusion.md (`cargo run -p trilink-fusion --example nees_table`).
//!
//! Every rule here fuses two estimates linearly, `x = K xa + L xb` with `K + L = I`, with
//! gains that depend on the covariances alone. So the fused error covariance for any
//! cross-covariance `Pab` is exact, `K Pa Kᵀ + L Pb Lᵀ + K Pab Lᵀ + L Pabᵀ Kᵀ`, and the
//! cross-covariance that makes a rule look worst can be found in closed form
//! ([`worst_cross`]). Not used by the fuser.
use nalgebra::{Matrix6, SymmetricEigen, Vector6};

use crate::ci::{ci_pair, golden_section_min, spd_inverse, symmetrise, Criterion};
use crate::FusionError;

pub type M6 = Matrix6<f64>;

/// A linear two-input fusion: gains and the covariance the rule claims.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearFusion {
    pub k: M6,
    pub l: M6,
    pub p: M6,
}

impl LinearFusion {
    pub fn fuse(&self, xa: &Vector6<f64>, xb: &Vector6<f64>) -> Vector6<f64> {
        self.k * xa + self.l * xb
    }
}

/// The rules compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The Kalman combination that assumes the inputs independent.
    Naive,
    /// Covariance intersection (determinant).
    Ci,
    /// Inverse covariance intersection (Noack, Sijs, Reinhardt & Hanebeck 2017).
    Ici,
    /// Ellipsoidal intersection (Sijs & Lazar 2012).
    Ei,
}

impl Rule {
    pub const ALL: [Rule; 4] = [Rule::Naive, Rule::Ci, Rule::Ici, Rule::Ei];

    pub fn name(self) -> &'static str {
        match self {
            Rule::Naive => "naive KF",
            Rule::Ci => "CI",
            Rule::Ici => "ICI",
            Rule::Ei => "EI",
        }
    }

    pub fn gains(self, pa: &M6, pb: &M6) -> Result<LinearFusion, FusionError> {
        match self {
            Rule::Naive => naive(pa, pb),
            Rule::Ci => ci(pa, pb),
            Rule::Ici => ici(pa, pb),
            Rule::Ei => ei(pa, pb),
        }
    }
}

fn naive(pa: &M6, pb: &M6) -> Result<LinearFusion, FusionError> {
    let (ia, ib) = (spd_inverse(pa, "a")?, spd_inverse(pb, "b")?);
    let p = spd_inverse(&(ia + ib), "naive information")?;
    Ok(LinearFusion {
        k: p * ia,
        l: p * ib,
        p,
    })
}

fn ci(pa: &M6, pb: &M6) -> Result<LinearFusion, FusionError> {
    let z = Vector6::zeros();
    let (_, p, w) = ci_pair(&z, pa, &z, pb, Criterion::Determinant)?;
    let (ia, ib) = (spd_inverse(pa, "a")?, spd_inverse(pb, "b")?);
    Ok(LinearFusion {
        k: p * ia * w,
        l: p * ib * (1.0 - w),
        p,
    })
}

/// `P⁻¹ = Pa⁻¹ + Pb⁻¹ − (ω Pa + (1−ω) Pb)⁻¹`, ω minimising det P.
fn ici(pa: &M6, pb: &M6) -> Result<LinearFusion, FusionError> {
    let (ia, ib) = (spd_inverse(pa, "a")?, spd_inverse(pb, "b")?);
    let info = |w: f64| -> Option<M6> {
        let g = spd_inverse(&(pa * w + pb * (1.0 - w)), "ICI mix").ok()?;
        Some(ia + ib - g)
    };
    let w = golden_section_min(
        |w| match info(w).and_then(nalgebra::Cholesky::new) {
            Some(c) => -2.0 * c.l_dirty().diagonal().iter().map(|d| d.ln()).sum::<f64>(),
            None => f64::INFINITY,
        },
        1e-6,
    );
    let g = spd_inverse(&(pa * w + pb * (1.0 - w)), "ICI mix")?;
    let p = spd_inverse(&(ia + ib - g), "ICI information")?;
    Ok(LinearFusion {
        k: p * (ia - g * w),
        l: p * (ib - g * (1.0 - w)),
        p,
    })
}

/// Ellipsoidal intersection: the "mutual covariance" Γ is taken as the part of both
/// ellipsoids that is common, and removed once.
fn ei(pa: &M6, pb: &M6) -> Result<LinearFusion, FusionError> {
    let (ia, ib) = (spd_inverse(pa, "a")?, spd_inverse(pb, "b")?);
    let ea = SymmetricEigen::new(*pa);
    let sa = ea.eigenvectors;
    let da_half = M6::from_diagonal(&ea.eigenvalues.map(|v| v.max(0.0).sqrt()));
    let da_mhalf = M6::from_diagonal(&ea.eigenvalues.map(|v| 1.0 / v.max(1e-300).sqrt()));
    let t = da_mhalf * sa.transpose();
    let eb = SymmetricEigen::new(symmetrise(&(t * pb * t.transpose())));
    let sb = eb.eigenvectors;
    let db = eb.eigenvalues;
    let dg = M6::from_diagonal(&db.map(|v| v.max(1.0)));
    let back = sa * da_half * sb;
    let gamma = symmetrise(&(back * dg * back.transpose()));
    let ig = spd_inverse(&gamma, "EI mutual covariance")?;
    // η keeps the mutual mean defined where an eigenvalue of the normalised Pb is 1 (the
    // ellipsoids touch along that axis).
    let touching = db.iter().any(|v| (1.0 - v).abs() < 1e-9);
    let eta = if touching {
        1e-6 * ia.trace().min(ib.trace())
    } else {
        0.0
    };
    let i6 = M6::identity();
    let m =
        spd_inverse(&(ia + ib - ig * 2.0 + i6 * (2.0 * eta)), "EI mutual mean").or_else(|_| {
            (ia + ib - ig * 2.0 + i6 * (2.0 * eta)).try_inverse().ok_or(
                FusionError::NotPositiveDefinite {
                    what: "EI mutual mean",
                },
            )
        })?;
    let ga = m * (ib - ig + i6 * eta);
    let gb = m * (ia - ig + i6 * eta);
    let p = spd_inverse(&(ia + ib - ig), "EI information")?;
    Ok(LinearFusion {
        k: p * (ia - ig * ga),
        l: p * (ib - ig * gb),
        p,
    })
}

/// Lower Cholesky factor.
pub fn chol(p: &M6) -> Result<M6, FusionError> {
    nalgebra::Cholesky::new(*p)
        .map(|c| c.l())
        .ok_or(FusionError::NotPositiveDefinite { what: "factor" })
}

/// The fused error covariance of `f` when the inputs' cross-covariance is `pab`.
pub fn error_covariance(f: &LinearFusion, pa: &M6, pb: &M6, pab: &M6) -> M6 {
    let c = f.k * pa * f.k.transpose()
        + f.l * pb * f.l.transpose()
        + f.k * pab * f.l.transpose()
        + f.l * pab.transpose() * f.k.transpose();
    symmetrise(&c)
}

/// Expected NEES `tr(P⁻¹ C)` of `f` for cross-covariance `pab`.
pub fn expected_nees(f: &LinearFusion, pa: &M6, pb: &M6, pab: &M6) -> Result<f64, FusionError> {
    let ip = spd_inverse(&f.p, "fused")?;
    Ok((ip * error_covariance(f, pa, pb, pab)).trace())
}

/// The correlation factor `R` (`Pab = La R Lbᵀ`, `‖R‖₂ ≤ 1`, which is exactly the set of
/// valid joint covariances) that maximises `f`'s expected NEES. The NEES is affine in `R`
/// through `2 tr(R M)` with `M = Lbᵀ Lᵀ P⁻¹ K La`, maximised over the unit spectral ball by
/// `R = V Uᵀ` from the SVD `M = U Σ Vᵀ`.
pub fn worst_cross(f: &LinearFusion, pa: &M6, pb: &M6) -> Result<M6, FusionError> {
    let (la, lb) = (chol(pa)?, chol(pb)?);
    let ip = spd_inverse(&f.p, "fused")?;
    let m = lb.transpose() * f.l.transpose() * ip * f.k * la;
    let svd = m.svd(true, true);
    match (svd.u, svd.v_t) {
        (Some(u), Some(v_t)) => Ok(v_t.transpose() * u.transpose()),
        _ => Err(FusionError::NotFinite { what: "SVD" }),
    }
}

/// How far `f` understates the error along the direction `w` (any scale) at the worst
/// cross-correlation for that direction: `max_R wᵀ C(R) w / wᵀ P w`. Above 1, some valid
/// joint covariance makes the fused ellipse too small along `w` (an impact ellipse that is
/// too short along track, say), whatever the mean NEES says. For one direction the
/// cross term is `2 wᵀ K La R Lbᵀ Lᵀ w`, largest at `2 |Laᵀ Kᵀ w| |Lbᵀ Lᵀ w|`.
pub fn directional_ratio(
    f: &LinearFusion,
    pa: &M6,
    pb: &M6,
    w: &Vector6<f64>,
) -> Result<f64, FusionError> {
    let (la, lb) = (chol(pa)?, chol(pb)?);
    let kw = f.k.transpose() * w;
    let lw = f.l.transpose() * w;
    let own = kw.dot(&(pa * kw)) + lw.dot(&(pb * lw));
    let cross = 2.0 * (la.transpose() * kw).norm() * (lb.transpose() * lw).norm();
    Ok((own + cross) / w.dot(&(f.p * w)))
}

/// What a Monte Carlo of one rule measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    /// Mean NEES divided by the dimension: 1 when consistent, below when conservative.
    pub anees_per_dof: f64,
    /// Fraction of draws whose NEES is within the χ²₆ 95 % bound (≥ 0.95 when consistent).
    pub within_95: f64,
    /// √ of the trace of the fused position covariance (m): what the rule claims to know.
    pub claimed_position_sigma_m: f64,
}

/// χ²₆ at 0.95.
pub const CHI2_6DOF_95: f64 = 12.591_587_243_743_977;

/// Draws `draws` pairs of errors with `Pab = La (ρ Q) Lbᵀ` (`Q` orthogonal) and fuses them by
/// `rule`. `normal` yields independent standard normal numbers.
pub fn monte_carlo(
    rule: Rule,
    pa: &M6,
    pb: &M6,
    rho: f64,
    q: &M6,
    draws: usize,
    mut normal: impl FnMut() -> f64,
) -> Result<Measured, FusionError> {
    let f = rule.gains(pa, pb)?;
    let (la, lb) = (chol(pa)?, chol(pb)?);
    let ip = spd_inverse(&f.p, "fused")?;
    let rest = (1.0 - rho * rho).max(0.0).sqrt();
    let r_t = q.transpose() * rho;
    let (mut sum, mut inside) = (0.0, 0usize);
    for _ in 0..draws {
        let z1 = Vector6::from_fn(|_, _| normal());
        let z2 = Vector6::from_fn(|_, _| normal());
        let ea = la * z1;
        let eb = lb * (r_t * z1 + z2 * rest);
        let e = f.fuse(&ea, &eb);
        let nees = e.dot(&(ip * e));
        sum += nees;
        if nees <= CHI2_6DOF_95 {
            inside += 1;
        }
    }
    let n = draws.max(1) as f64;
    Ok(Measured {
        anees_per_dof: sum / n / 6.0,
        within_95: inside as f64 / n,
        claimed_position_sigma_m: f.p.fixed_view::<3, 3>(0, 0).trace().sqrt(),
    })
}

/// The two covariances of the measurement: two trackers that see one missile from different
/// sides (each 100 m across its line of sight, 400 m along it; velocity alike in m/s).
pub fn crossing_pair() -> (M6, M6) {
    let pa = M6::from_diagonal(&Vector6::new(1e4, 16e4, 4e4, 25.0, 400.0, 100.0));
    let pb = M6::from_diagonal(&Vector6::new(16e4, 1e4, 4e4, 400.0, 25.0, 100.0));
    (pa, pb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (M6, M6) {
        crossing_pair()
    }

    #[test]
    fn every_rule_is_unbiased_and_ci_survives_its_worst_case() {
        let (pa, pb) = pair();
        for rule in Rule::ALL {
            let f = rule.gains(&pa, &pb).unwrap();
            assert!((f.k + f.l - M6::identity()).amax() < 1e-6, "{rule:?}");
        }
        let f = Rule::Ci.gains(&pa, &pb).unwrap();
        let (la, lb) = (chol(&pa).unwrap(), chol(&pb).unwrap());
        let r = worst_cross(&f, &pa, &pb).unwrap();
        let nees = expected_nees(&f, &pa, &pb, &(la * r * lb.transpose())).unwrap();
        assert!(nees <= 6.0 + 1e-6, "CI worst-case NEES {nees}");
        let naive = Rule::Naive.gains(&pa, &pb).unwrap();
        let r = worst_cross(&naive, &pa, &pb).unwrap();
        let nees = expected_nees(&naive, &pa, &pb, &(la * r * lb.transpose())).unwrap();
        assert!(nees > 9.0, "naive worst-case NEES {nees}");
    }
}
