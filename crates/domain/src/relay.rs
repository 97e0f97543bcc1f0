//! Relay through a hub, and how releasability propagates through it.
//!
//! The public mechanism joins KR and JP through the U.S.: each releases to the U.S. only, and
//! the hub fuses and forwards. A [`RelayRule`] is a source's grant: "my information may reach
//! these nations through that hub". A fused product is releasable to a nation only where every
//! contributing source's information may go there ([`product_release`]).
use std::collections::BTreeSet;

use crate::nation::{Nation, Policy, RelTo};

/// `from`'s information may reach `to` through `via`, in the hub's fused products.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayRule {
    pub from: Nation,
    pub via: Nation,
    pub to: BTreeSet<Nation>,
}

/// Why a set of relay rules cannot be honoured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    #[error("relay {from} via {via}: {from} does not release to {via}, so {via} would hold information {from} never gave it; add {via} to release.{from} or remove the rule")]
    SourceDoesNotReleaseToHub { from: Nation, via: Nation },
    #[error("relay {from} via {via} to {to}: {via} does not release to {to}, so the relay would send {to} a product it may not receive; add {to} to release.{via} or remove {to}")]
    HubDoesNotReleaseTo {
        from: Nation,
        via: Nation,
        to: Nation,
    },
    #[error("relay {from} via {via}: a nation cannot be its own hub or its own relay destination")]
    SelfRelay { from: Nation, via: Nation },
}

/// Checks that every rule can be carried out without any nation receiving what its source did
/// not release to it.
pub fn check_relays(policy: &Policy, rules: &[RelayRule]) -> Result<(), RelayError> {
    for r in rules {
        if r.from == r.via || r.to.contains(&r.from) || r.to.contains(&r.via) {
            return Err(RelayError::SelfRelay {
                from: r.from,
                via: r.via,
            });
        }
        if !policy.rel_to(r.from).contains(r.via) {
            return Err(RelayError::SourceDoesNotReleaseToHub {
                from: r.from,
                via: r.via,
            });
        }
        for &to in &r.to {
            if !policy.rel_to(r.via).contains(to) {
                return Err(RelayError::HubDoesNotReleaseTo {
                    from: r.from,
                    via: r.via,
                    to,
                });
            }
        }
    }
    Ok(())
}

/// Where a source's information may go when `hub` forwards it: back to the source itself, and
/// wherever the source's relay rules through this hub name.
fn relayable(rules: &[RelayRule], source: Nation, hub: Nation) -> BTreeSet<Nation> {
    let mut out = BTreeSet::from([source]);
    for r in rules.iter().filter(|r| r.from == source && r.via == hub) {
        out.extend(r.to.iter().copied());
    }
    out
}

/// The nations a product fused at `hub` from `contributors` may be sent to: the hub's own
/// release, narrowed by every other contributor's grant through this hub. A destination is
/// left out when the product would tell it nothing it does not already have (every
/// contributor is the destination itself or the hub, whose own reports it receives directly).
pub fn product_release(
    policy: &Policy,
    rules: &[RelayRule],
    hub: Nation,
    contributors: &BTreeSet<Nation>,
) -> RelTo {
    let mut dests: BTreeSet<Nation> = policy.rel_to(hub).iter().collect();
    for &c in contributors.iter().filter(|&&c| c != hub) {
        let ok = relayable(rules, c, hub);
        dests.retain(|d| ok.contains(d));
    }
    dests.retain(|d| contributors.iter().any(|c| c != d && *c != hub));
    RelTo::new(dests)
}

/// Whether `hub` forwards anything at all.
pub fn is_hub(rules: &[RelayRule], hub: Nation) -> bool {
    rules.iter().any(|r| r.via == hub)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Nation {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn hub_and_spoke() -> Policy {
        let mut p = Policy::new();
        p.release(n("KR"), [n("US")]);
        p.release(n("JP"), [n("US")]);
        p.release(n("US"), [n("KR"), n("JP")]);
        p
    }

    fn rule(from: &str, via: &str, to: &[&str]) -> RelayRule {
        RelayRule {
            from: n(from),
            via: n(via),
            to: to.iter().map(|s| n(s)).collect(),
        }
    }

    #[test]
    fn a_product_goes_only_where_every_contributor_released_it() {
        let p = hub_and_spoke();
        let kr_only = vec![rule("KR", "US", &["JP"])];
        let all = BTreeSet::from([n("KR"), n("JP"), n("US")]);
        // JP did not grant relay to KR: a product holding JP's information may not reach KR;
        // KR granted JP, but the product also holds JP's own information, so JP may have it.
        assert_eq!(product_release(&p, &kr_only, n("US"), &all).joined(), "JP");
        let both = vec![rule("KR", "US", &["JP"]), rule("JP", "US", &["KR"])];
        assert_eq!(product_release(&p, &both, n("US"), &all).joined(), "JP,KR");
        // Without any rule, the hub forwards nothing of KR's or JP's.
        assert_eq!(product_release(&p, &[], n("US"), &all).joined(), "");
        // KR's information alone goes to JP, and not back to KR (it has it).
        let kr = BTreeSet::from([n("KR"), n("US")]);
        assert_eq!(product_release(&p, &both, n("US"), &kr).joined(), "JP");
    }

    #[test]
    fn relay_rules_that_would_leak_are_refused() {
        let p = hub_and_spoke();
        assert_eq!(check_relays(&p, &[rule("KR", "US", &["JP"])]), Ok(()));
        assert_eq!(
            check_relays(&p, &[rule("KR", "JP", &["US"])]),
            Err(RelayError::SourceDoesNotReleaseToHub {
                from: n("KR"),
                via: n("JP")
            })
        );
        assert_eq!(
            check_relays(&p, &[rule("KR", "US", &["CN"])]),
            Err(RelayError::HubDoesNotReleaseTo {
                from: n("KR"),
                via: n("US"),
                to: n("CN")
            })
        );
        assert!(matches!(
            check_relays(&p, &[rule("KR", "US", &["KR"])]),
            Err(RelayError::SelfRelay { .. })
        ));
    }
}
