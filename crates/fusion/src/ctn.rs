//! Common track numbers: one number per object, the same at every nation.
//!
//! Each nation has a rank from the scenario's nation order (1-based). A national track `n`
//! of the nation of rank `r` proposes `r · 1 000 000 + n`; a hub's relayed fused product
//! proposes the common track number it already carries. A system track is numbered by the
//! smallest proposal any contribution it has held ever made, so every node that has heard
//! of the same tracks agrees, without negotiating, on the number of the lowest-ranked
//! nation's track (docs/decisions/0701-track-fusion.md).
use std::collections::BTreeMap;

use trilink_domain::{Nation, Provenance};

/// The span of national track numbers each rank owns.
pub const RANK_SPAN: u64 = 1_000_000;

/// Why a contribution cannot propose a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtnProblem {
    /// The source is not in the scenario's nation order.
    UnknownNation,
    /// A national track number of a million or more would collide with the next rank's.
    TrackNumberOutOfRange,
}

/// The common track number a contribution from `source` with national number `track_number`
/// proposes.
pub fn proposed_ctn(
    ranks: &BTreeMap<Nation, u64>,
    source: Nation,
    track_number: u64,
    provenance: &Provenance,
) -> Result<u64, CtnProblem> {
    if let Some(c) = provenance.common_track {
        return Ok(c);
    }
    let rank = *ranks.get(&source).ok_or(CtnProblem::UnknownNation)?;
    if track_number >= RANK_SPAN {
        return Err(CtnProblem::TrackNumberOutOfRange);
    }
    rank.checked_mul(RANK_SPAN)
        .and_then(|b| b.checked_add(track_number))
        .ok_or(CtnProblem::TrackNumberOutOfRange)
}

/// Ranks from the scenario's nation order: the first nation is rank 1.
pub fn ranks_from_order(order: &[Nation]) -> BTreeMap<Nation, u64> {
    order.iter().zip(1u64..).map(|(&n, r)| (n, r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Nation {
        s.parse().unwrap()
    }

    #[test]
    fn a_national_track_proposes_its_rank_block_and_a_relay_its_own_number() {
        let ranks = ranks_from_order(&[n("KR"), n("JP"), n("US")]);
        let national = Provenance::default();
        assert_eq!(proposed_ctn(&ranks, n("KR"), 7, &national), Ok(1_000_007));
        assert_eq!(proposed_ctn(&ranks, n("US"), 12, &national), Ok(3_000_012));
        let relayed = Provenance {
            common_track: Some(1_000_007),
            ..Default::default()
        };
        assert_eq!(proposed_ctn(&ranks, n("US"), 99, &relayed), Ok(1_000_007));
        assert_eq!(
            proposed_ctn(&ranks, n("FR"), 1, &national),
            Err(CtnProblem::UnknownNation)
        );
        assert_eq!(
            proposed_ctn(&ranks, n("KR"), RANK_SPAN, &national),
            Err(CtnProblem::TrackNumberOutOfRange)
        );
    }
}
