//! Every way a receiver must refuse an envelope, one test each, plus the accepted path.
use prost::Message;
use trilink_wire::pb;
use trilink_wire::report::{example_report, upper_index};
use trilink_wire::{Identity, Limits, Nation, Opener, Payload, RelTo, Sealer, TrustStore};

const NOW: i64 = 1_764_000_000_000_000;

fn n(s: &str) -> Nation {
    s.parse().unwrap()
}

struct Fixture {
    kr: Sealer,
    us: Opener,
    jp: Opener,
    rel_us: RelTo,
}

fn fixture() -> Fixture {
    let kr_id = Identity::from_seed(n("KR"), "KR-1", [1; 32]);
    let mut trust = TrustStore::new();
    trust.trust(n("KR"), kr_id.verifying_key());
    Fixture {
        kr: Sealer::new(kr_id, 1),
        us: Opener::new(n("US"), trust.clone(), Limits::default()),
        jp: Opener::new(n("JP"), trust, Limits::default()),
        rel_us: RelTo::new([n("US")]),
    }
}

fn tracks(k: usize) -> Payload {
    Payload::Tracks((0..k as u64).map(|i| example_report(i + 1, 10.0)).collect())
}

fn reason(r: Result<trilink_wire::Opened, trilink_wire::envelope::Rejected>) -> &'static str {
    match r {
        Ok(_) => "accepted",
        Err(e) => e.reason.code(),
    }
}

#[test]
fn a_good_frame_is_accepted_with_every_report_intact() {
    let mut f = fixture();
    let payload = tracks(3);
    let s = f.kr.seal(&payload, &f.rel_us, NOW);
    let o = f.us.open(&s.bytes, NOW + 1_000).unwrap();
    assert_eq!(o.origin, n("KR"));
    assert_eq!(o.sequence, 1);
    assert_eq!(o.payload, payload);
}

#[test]
fn every_single_flipped_byte_is_rejected() {
    let mut f = fixture();
    let s = f.kr.seal(&tracks(1), &f.rel_us, NOW);
    for i in 0..s.bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut b = s.bytes.clone();
            b[i] ^= bit;
            let mut us = fixture().us;
            let r = us.open(&b, NOW);
            assert!(r.is_err(), "byte {i} bit {bit:#x} flipped was accepted");
        }
    }
    // The untouched envelope still opens, so nothing above was rejected for another reason.
    assert_eq!(reason(f.us.open(&s.bytes, NOW)), "accepted");
}

#[test]
fn flipped_payload_byte_is_a_bad_signature() {
    let mut f = fixture();
    let s = f.kr.seal(&tracks(1), &f.rel_us, NOW);
    let mut env = pb::SignedEnvelope::decode(s.bytes.as_slice()).unwrap();
    let last = env.body.len() - 1;
    env.body[last] ^= 0x01;
    assert_eq!(
        reason(f.us.open(&env.encode_to_vec(), NOW)),
        "bad_signature"
    );
}

#[test]
fn unknown_key_is_rejected() {
    let mut f = fixture();
    let mut stranger = Sealer::new(Identity::from_seed(n("KR"), "KR-9", [9; 32]), 1);
    let s = stranger.seal(&tracks(1), &f.rel_us, NOW);
    assert_eq!(reason(f.us.open(&s.bytes, NOW)), "unknown_key");
}

#[test]
fn revoked_key_is_rejected() {
    let mut f = fixture();
    let id = f.kr.identity().key_id.clone();
    f.us.trust_mut().revoke(id);
    let s = f.kr.seal(&tracks(1), &f.rel_us, NOW);
    assert_eq!(reason(f.us.open(&s.bytes, NOW)), "revoked_key");
}

#[test]
fn a_key_cannot_speak_for_another_nation() {
    // A key trusted for JP signs an envelope that claims origin KR: the signature verifies,
    // the claim does not.
    let jp_id = Identity::from_seed(n("JP"), "JP-1", [2; 32]);
    let mut trust = TrustStore::new();
    trust.trust(n("JP"), jp_id.verifying_key());
    let mut forged_id = Identity::from_seed(n("KR"), "KR-1", [2; 32]);
    forged_id.key_id = jp_id.key_id.clone();
    let mut forger = Sealer::new(forged_id, 1);
    let s = forger.seal(&tracks(1), &RelTo::new([n("US")]), NOW);
    let mut us = Opener::new(n("US"), trust, Limits::default());
    assert_eq!(reason(us.open(&s.bytes, NOW)), "key_nation_mismatch");
}

#[test]
fn replayed_envelope_is_rejected() {
    let mut f = fixture();
    let s = f.kr.seal(&tracks(1), &f.rel_us, NOW);
    assert_eq!(reason(f.us.open(&s.bytes, NOW)), "accepted");
    assert_eq!(reason(f.us.open(&s.bytes, NOW)), "replay");
}

#[test]
fn not_releasable_envelope_is_rejected_by_the_excluded_nation() {
    let mut f = fixture();
    let s = f.kr.seal(&tracks(1), &f.rel_us, NOW);
    assert_eq!(reason(f.jp.open(&s.bytes, NOW)), "not_releasable");
}

#[test]
fn garbage_bytes_are_undecodable() {
    let mut f = fixture();
    for g in [&b"\xff\xff\xff\xff"[..], b"hello, world", &[0x0a, 0x80][..]] {
        assert_eq!(reason(f.us.open(g, NOW)), "undecodable", "{g:?}");
    }
    // Well-formed envelope whose signed payload is garbage.
    let s = f.kr.seal_raw(
        7,
        pb::PayloadKind::TrackFrame,
        vec![0xff; 40],
        &f.rel_us,
        NOW,
    );
    assert_eq!(reason(f.us.open(&s.bytes, NOW)), "undecodable");
}

#[test]
fn oversize_envelope_is_rejected_before_decoding() {
    let mut f = fixture();
    let big = vec![0u8; Limits::default().max_envelope_bytes + 1];
    assert_eq!(reason(f.us.open(&big, NOW)), "oversize");
}

#[test]
fn nan_state_is_rejected() {
    let mut f = fixture();
    let mut r = example_report(1, 10.0);
    r.state[4] = f64::NAN;
    let s = f.kr.seal(&Payload::Tracks(vec![r]), &f.rel_us, NOW);
    assert_eq!(reason(f.us.open(&s.bytes, NOW)), "non_finite");
}

#[test]
fn infinite_covariance_is_rejected() {
    let mut f = fixture();
    let mut r = example_report(1, 10.0);
    r.covariance_upper[3] = f64::INFINITY;
    let s = f.kr.seal(&Payload::Tracks(vec![r]), &f.rel_us, NOW);
    assert_eq!(reason(f.us.open(&s.bytes, NOW)), "non_finite");
}

#[test]
fn covariance_that_is_not_positive_definite_is_rejected() {
    let mut f = fixture();
    let mut r = example_report(1, 10.0);
    // Correlation above 1 between x and y.
    let sxx = r.covariance_upper[upper_index(0, 0)];
    r.covariance_upper[upper_index(0, 1)] = 1.5 * sxx;
    let s = f.kr.seal(&Payload::Tracks(vec![r]), &f.rel_us, NOW);
    assert_eq!(reason(f.us.open(&s.bytes, NOW)), "not_spd");
    // Negative variance.
    let mut r = example_report(2, 10.0);
    r.covariance_upper[upper_index(5, 5)] = -1.0;
    let s = f.kr.seal(&Payload::Tracks(vec![r]), &f.rel_us, NOW);
    assert_eq!(reason(f.us.open(&s.bytes, NOW)), "not_spd");
}

#[test]
fn stale_and_future_envelopes_are_rejected() {
    let mut f = fixture();
    let max = Limits::default().max_age_us;
    let s = f.kr.seal(&tracks(1), &f.rel_us, NOW - max - 1);
    assert_eq!(reason(f.us.open(&s.bytes, NOW)), "too_old");
    let s = f.kr.seal(&tracks(1), &f.rel_us, NOW + 60_000_000);
    assert_eq!(reason(f.us.open(&s.bytes, NOW)), "from_future");
}

#[test]
fn a_rejection_does_not_disturb_the_next_good_envelope() {
    let mut f = fixture();
    assert_eq!(reason(f.us.open(b"junk", NOW)), "undecodable");
    let mut r = example_report(1, 10.0);
    r.state[0] = f64::NAN;
    let bad = f.kr.seal(&Payload::Tracks(vec![r]), &f.rel_us, NOW);
    assert_eq!(reason(f.us.open(&bad.bytes, NOW)), "non_finite");
    let good = f.kr.seal(&tracks(2), &f.rel_us, NOW);
    assert_eq!(reason(f.us.open(&good.bytes, NOW)), "accepted");
}

#[test]
fn heartbeat_round_trips() {
    let mut f = fixture();
    let hb = Payload::Heartbeat(trilink_wire::Heartbeat {
        last_sequence: 41,
        confirmed_tracks: 3,
    });
    let s = f.kr.seal(&hb, &f.rel_us, NOW);
    assert_eq!(f.us.open(&s.bytes, NOW).map(|o| o.payload), Ok(hb));
}
