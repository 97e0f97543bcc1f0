//! Whatever bytes arrive, the receiver's decoder returns a verdict and never panics, loops or
//! allocates without bound. The trust store holds the key that signs the seed corpus, so
//! mutations of valid envelopes reach the checks after signature verification too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trilink_wire::{Identity, Limits, Nation, Opener, TrustStore};

fuzz_target!(|data: &[u8]| {
    let (Ok(kr), Ok(us)) = ("KR".parse::<Nation>(), "US".parse::<Nation>()) else { return };
    let id = Identity::from_seed(kr, "KR-1", [1; 32]);
    let mut trust = TrustStore::new();
    trust.trust(kr, id.verifying_key());
    let mut opener = Opener::new(us, trust, Limits::default());
    let _ = opener.open(data, 1_764_000_000_000_000);
});
