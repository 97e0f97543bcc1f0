//! What a node counts while it runs.
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct NodeStats {
    pub frames_sent: u64,
    pub reports_sent: u64,
    pub heartbeats_sent: u64,
    /// Envelope copies dropped by a simulated link (one per destination).
    pub lost_on_link: u64,
    pub publish_errors: u64,
    /// Pending envelopes from an earlier run, published again after a restart.
    pub republished: u64,
    pub frames_received: u64,
    pub reports_received: u64,
    pub heartbeats_received: u64,
    /// Deliveries already in the journal (a redelivery after a crash): acknowledged, not
    /// processed again.
    pub duplicates: u64,
    pub rejected: BTreeMap<&'static str, u64>,
    /// Seal-to-journaled latency of each accepted frame, microseconds.
    pub latency_us: Vec<u64>,
    /// Received report counts by origin.
    pub received_from: BTreeMap<String, u64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl NodeStats {
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// Nearest-rank percentiles of the latencies, or `None` if nothing was received.
    pub fn latency(&self) -> Option<Percentiles> {
        percentiles(&self.latency_us)
    }
}

pub fn percentiles(samples_us: &[u64]) -> Option<Percentiles> {
    if samples_us.is_empty() {
        return None;
    }
    let mut v = samples_us.to_vec();
    v.sort_unstable();
    let rank = |p: f64| {
        let k = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[k - 1] as f64 / 1000.0
    };
    Some(Percentiles {
        p50_ms: rank(0.50),
        p99_ms: rank(0.99),
        max_ms: v[v.len() - 1] as f64 / 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        let p = percentiles(&v).unwrap();
        assert_eq!((p.p50_ms, p.p99_ms, p.max_ms), (50.0, 99.0, 100.0));
        assert!(percentiles(&[]).is_none());
    }
}
