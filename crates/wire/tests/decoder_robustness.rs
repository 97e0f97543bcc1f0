//! The stable-toolchain companion of `fuzz/fuzz_targets/envelope_decoder.rs`: random bytes and
//! random mutations of valid envelopes are refused with a reason, never a panic.
use proptest::prelude::*;
use trilink_wire::report::example_report;
use trilink_wire::{Identity, Limits, Nation, Opener, Payload, RelTo, Sealer, TrustStore};

const NOW: i64 = 1_764_000_000_000_000;

fn setup() -> (Sealer, Opener) {
    let kr: Nation = "KR".parse().unwrap();
    let us: Nation = "US".parse().unwrap();
    let id = Identity::from_seed(kr, "KR-1", [1; 32]);
    let mut trust = TrustStore::new();
    trust.trust(kr, id.verifying_key());
    (
        Sealer::new(id, 1),
        Opener::new(us, trust, Limits::default()),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let (_, mut o) = setup();
        prop_assert!(o.open(&bytes, NOW).is_err());
    }

    #[test]
    fn mutated_envelopes_are_refused(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        truncate in any::<Option<prop::sample::Index>>(),
    ) {
        let (mut s, mut o) = setup();
        let payload = Payload::Tracks(vec![example_report(1, 1.0), example_report(2, 1.0)]);
        let good = s.seal(&payload, &RelTo::new(["US".parse().unwrap()]), NOW).bytes;
        let mut b = good.clone();
        for (i, v) in &edits {
            let k = i.index(b.len());
            b[k] = *v;
        }
        if let Some(t) = truncate {
            b.truncate(t.index(b.len()));
        }
        prop_assume!(b != good);
        prop_assert!(o.open(&b, NOW).is_err());
    }
}
