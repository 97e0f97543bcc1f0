//! Whether a member's covariance tells the truth, measured against the other members.
//!
//! National tracks are not always consistent (one nation's position ANEES was 357 against an
//! expected 3), and CI trusts a small covariance: an overconfident input would make the
//! fused track overconfident. Each member keeps two exponentially weighted means over its
//! updates, both against its nearest partner (the other member it agrees with best):
//! - `pair`: `Δᵀ (Pₘ + Pₙ)⁻¹ Δ / dof`, about 1 or less (less where the two share process
//!   noise) when both are consistent: the detector;
//! - `own`: `Δᵀ Pₘ⁻¹ Δ / dof`: how much larger Pₘ must be to explain the residual alone.
//!
//! Once `pair` passes `threshold` the member's covariance is multiplied by `own` before
//! fusing; it stays so until `pair` falls under `release` (hysteresis, so a member near the
//! threshold does not flicker). With two members a residual cannot say which one is wrong,
//! so both are inflated, each to explain the residual alone: conservative, never
//! overconfident. With three or more, a consistent member agrees with another consistent one
//! and is left alone.

/// Settings of the consistency watch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConsistencyConfig {
    /// Weight of a new sample in the running means once warmed up; the first `1/alpha`
    /// samples are averaged equally so the mean starts from evidence, not from a prior.
    pub alpha: f64,
    /// `pair` above which the member is judged inconsistent.
    pub threshold: f64,
    /// `pair` under which an inconsistent member is trusted again.
    pub release: f64,
    /// Largest factor applied to a covariance.
    pub max_inflation: f64,
}

impl Default for ConsistencyConfig {
    fn default() -> Self {
        Self {
            alpha: 0.1,
            // A consistent pair's mean of χ²₆/6 at α = 0.1 has σ ≈ 0.13: 1.5 is ~4σ.
            threshold: 1.5,
            release: 1.0,
            max_inflation: 1e6,
        }
    }
}

/// The running statistics of one member.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Consistency {
    pair: f64,
    own: f64,
    samples: u32,
    flagged: bool,
}

impl Consistency {
    /// Records one update's normalised residuals (already divided by the dof).
    pub fn observe(&mut self, pair_per_dof: f64, own_per_dof: f64, cfg: &ConsistencyConfig) {
        if !(pair_per_dof.is_finite() && own_per_dof.is_finite()) {
            return;
        }
        self.samples = self.samples.saturating_add(1);
        let w = cfg.alpha.max(1.0 / self.samples as f64);
        self.pair += w * (pair_per_dof - self.pair);
        self.own += w * (own_per_dof - self.own);
        if self.pair > cfg.threshold {
            self.flagged = true;
        } else if self.pair < cfg.release {
            self.flagged = false;
        }
    }

    /// The factor to multiply the member's covariance by before fusing.
    pub fn inflation(&self, cfg: &ConsistencyConfig) -> f64 {
        if self.flagged {
            self.own.clamp(1.0, cfg.max_inflation)
        } else {
            1.0
        }
    }

    /// Running mean of the pair statistic (per dof); 0 before any sample.
    pub fn pair_mean(&self) -> f64 {
        self.pair
    }

    pub fn samples(&self) -> u32 {
        self.samples
    }

    pub fn is_flagged(&self) -> bool {
        self.flagged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consistent_member_is_not_inflated_and_a_persistent_misfit_is() {
        let cfg = ConsistencyConfig::default();
        let mut good = Consistency::default();
        let mut bad = Consistency::default();
        for i in 0..50 {
            let wobble = if i % 2 == 0 { 0.7 } else { 1.2 };
            good.observe(wobble, 30.0 * wobble, &cfg);
            bad.observe(2.0 * wobble, 200.0 * wobble, &cfg);
        }
        assert_eq!(good.inflation(&cfg), 1.0);
        assert!(bad.inflation(&cfg) > 150.0, "{}", bad.inflation(&cfg));
    }

    #[test]
    fn the_flag_has_hysteresis() {
        let cfg = ConsistencyConfig::default();
        let mut c = Consistency::default();
        c.observe(3.0, 10.0, &cfg);
        assert!(c.is_flagged());
        for _ in 0..3 {
            c.observe(1.3, 5.0, &cfg);
        }
        // Between release and threshold: still flagged.
        assert!(c.pair_mean() > cfg.release && c.pair_mean() < cfg.threshold + 0.5);
        assert!(c.is_flagged());
        for _ in 0..60 {
            c.observe(0.9, 1.0, &cfg);
        }
        assert!(!c.is_flagged());
    }
}
