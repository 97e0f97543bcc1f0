//! A link between two nations: latency, jitter and loss.
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Link parameters as a scenario states them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkSpec {
    /// One-way latency.
    pub latency_s: f64,
    /// Each message's delay is `latency_s + U(-jitter_s, +jitter_s)`, never below zero.
    pub jitter_s: f64,
    /// Probability in [0, 1] that a message is lost.
    pub loss: f64,
}

impl LinkSpec {
    pub const IDEAL: LinkSpec = LinkSpec {
        latency_s: 0.0,
        jitter_s: 0.0,
        loss: 0.0,
    };
}

/// Samples each message's fate on one link, reproducibly from a seed.
pub struct LinkModel {
    spec: LinkSpec,
    rng: ChaCha8Rng,
}

impl LinkModel {
    pub fn new(spec: LinkSpec, seed: u64) -> Self {
        LinkModel {
            spec,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    pub fn spec(&self) -> LinkSpec {
        self.spec
    }

    /// `None` if the message is lost, otherwise how long it takes.
    pub fn sample(&mut self) -> Option<Duration> {
        if self.spec.loss > 0.0 && self.rng.random::<f64>() < self.spec.loss {
            return None;
        }
        let jitter = if self.spec.jitter_s > 0.0 {
            self.rng
                .random_range(-self.spec.jitter_s..=self.spec.jitter_s)
        } else {
            0.0
        };
        Some(Duration::from_secs_f64(
            (self.spec.latency_s + jitter).max(0.0),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_within_latency_plus_minus_jitter_and_loss_rate_is_close() {
        let mut m = LinkModel::new(
            LinkSpec {
                latency_s: 0.030,
                jitter_s: 0.005,
                loss: 0.1,
            },
            7,
        );
        let n = 20_000;
        let mut lost = 0;
        for _ in 0..n {
            match m.sample() {
                None => lost += 1,
                Some(d) => assert!((0.025..=0.035).contains(&d.as_secs_f64()), "{d:?}"),
            }
        }
        // Binomial(20000, 0.1): sd = 42; 5 sd either side.
        assert!((1790..=2210).contains(&lost), "{lost}");
    }
}
