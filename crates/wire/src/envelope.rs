//! Sealing (sign) and opening (verify and check) envelopes.
//!
//! The signature covers the exact bytes of the encoded `EnvelopeBody`, which travel unchanged
//! inside `SignedEnvelope.body`. A receiver decodes the body only to learn which key to use,
//! verifies the signature over the bytes it received, and never re-encodes anything to verify.
use std::collections::HashMap;

use ed25519_dalek::{Signature, Signer};
use prost::Message;

use crate::keys::{Identity, KeyId, KeyLookup, TrustStore};
use crate::nation::{Nation, RelTo};
use crate::pb;
use crate::report::{Heartbeat, ReportError, TrackReport};

/// A sender cuts a frame at this many reports at most (see docs/decisions/0201).
pub const MAX_REPORTS_PER_FRAME: usize = 64;

/// What an envelope carries.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    Tracks(Vec<TrackReport>),
    Heartbeat(Heartbeat),
}

impl Payload {
    pub fn report_count(&self) -> usize {
        match self {
            Payload::Tracks(r) => r.len(),
            Payload::Heartbeat(_) => 0,
        }
    }
}

/// One sealed envelope, ready for the bus.
#[derive(Clone, Debug)]
pub struct Sealed {
    pub sequence: u64,
    pub bytes: Vec<u8>,
}

/// Signs envelopes for one node, numbering them.
pub struct Sealer {
    identity: Identity,
    next_sequence: u64,
}

impl Sealer {
    /// `next_sequence` must exceed every sequence number this node has used before; a node that
    /// restarts takes it from its journal.
    pub fn new(identity: Identity, next_sequence: u64) -> Self {
        Sealer {
            identity,
            next_sequence: next_sequence.max(1),
        }
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    pub fn seal(&mut self, payload: &Payload, rel_to: &RelTo, send_time_unix_us: i64) -> Sealed {
        let (kind, payload_bytes) = match payload {
            Payload::Tracks(reports) => (
                pb::PayloadKind::TrackFrame,
                pb::TrackFrame {
                    reports: reports.iter().map(TrackReport::to_pb).collect(),
                }
                .encode_to_vec(),
            ),
            Payload::Heartbeat(h) => (
                pb::PayloadKind::Heartbeat,
                pb::Heartbeat {
                    last_sequence: h.last_sequence,
                    confirmed_tracks: h.confirmed_tracks,
                }
                .encode_to_vec(),
            ),
        };
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.seal_raw(sequence, kind, payload_bytes, rel_to, send_time_unix_us)
    }

    /// Seals an arbitrary payload byte string. Public so that tests and tools can produce
    /// envelopes a correct sender never would (garbage payloads, bad covariances).
    pub fn seal_raw(
        &mut self,
        sequence: u64,
        kind: pb::PayloadKind,
        payload: Vec<u8>,
        rel_to: &RelTo,
        send_time_unix_us: i64,
    ) -> Sealed {
        let body = pb::EnvelopeBody {
            schema_version: 1,
            origin: self.identity.nation.to_string(),
            node_id: self.identity.node_id.clone(),
            key_id: self.identity.key_id.to_string(),
            sequence,
            send_time_unix_us,
            rel_to: rel_to.iter().map(|n| n.to_string()).collect(),
            kind: kind as i32,
            payload,
        }
        .encode_to_vec();
        let signature = self.identity.key.sign(&body);
        let bytes = pb::SignedEnvelope {
            body,
            signature: signature.to_bytes().to_vec(),
        }
        .encode_to_vec();
        Sealed { sequence, bytes }
    }
}

/// Why a receiver refused an envelope. [`Rejection::code`] is the stable name used in the
/// journal and in summaries.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Rejection {
    #[error("envelope is {len} bytes, more than the {max} allowed")]
    Oversize { len: usize, max: usize },
    #[error("does not decode: {0}")]
    Undecodable(String),
    #[error("signed with unknown key {0:?}")]
    UnknownKey(String),
    #[error("signed with revoked key {0:?}")]
    RevokedKey(String),
    #[error("key {key_id:?} belongs to {key_nation}, but the envelope claims origin {origin}")]
    KeyNationMismatch {
        key_id: String,
        key_nation: Nation,
        origin: String,
    },
    #[error("signature does not verify")]
    BadSignature,
    #[error("not releasable to {me}: REL TO {rel_to}")]
    NotReleasable { me: Nation, rel_to: String },
    #[error(
        "sequence {sequence} from {origin}/{node_id} already seen or behind the replay window"
    )]
    Replay {
        origin: Nation,
        node_id: String,
        sequence: u64,
    },
    #[error("sent {age_ms} ms ago, more than the {max_ms} ms allowed")]
    TooOld { age_ms: i64, max_ms: i64 },
    #[error(
        "send time is {ahead_ms} ms in the future, more than the {max_ms} ms clock skew allowed"
    )]
    FromFuture { ahead_ms: i64, max_ms: i64 },
    #[error("{0}")]
    NonFinite(ReportError),
    #[error("{0}")]
    NotSpd(ReportError),
    #[error("{0}")]
    BadReport(ReportError),
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Oversize { .. } => "oversize",
            Rejection::Undecodable(_) => "undecodable",
            Rejection::UnknownKey(_) => "unknown_key",
            Rejection::RevokedKey(_) => "revoked_key",
            Rejection::KeyNationMismatch { .. } => "key_nation_mismatch",
            Rejection::BadSignature => "bad_signature",
            Rejection::NotReleasable { .. } => "not_releasable",
            Rejection::Replay { .. } => "replay",
            Rejection::TooOld { .. } => "too_old",
            Rejection::FromFuture { .. } => "from_future",
            Rejection::NonFinite(_) => "non_finite",
            Rejection::NotSpd(_) => "not_spd",
            Rejection::BadReport(_) => "bad_report",
        }
    }
}

/// A refused envelope, with whatever the receiver could learn of its sender (nothing is
/// trusted unless the signature verified).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub reason: Rejection,
    pub origin: Option<String>,
    pub node_id: Option<String>,
    pub sequence: Option<u64>,
}

/// Receiver limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_envelope_bytes: usize,
    pub max_reports_per_frame: usize,
    /// Envelopes sealed longer ago than this are refused.
    pub max_age_us: i64,
    /// Tolerated clock skew for send times ahead of the receiver's clock.
    pub max_future_us: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_envelope_bytes: 256 * 1024,
            max_reports_per_frame: 4 * MAX_REPORTS_PER_FRAME,
            max_age_us: 120_000_000,
            max_future_us: 5_000_000,
        }
    }
}

/// Sliding window of seen sequence numbers (as in IPsec's anti-replay window).
#[derive(Clone, Debug)]
pub struct ReplayWindow {
    highest: u64,
    bits: Box<[u64; Self::WORDS]>,
}

impl Default for ReplayWindow {
    fn default() -> Self {
        ReplayWindow {
            highest: 0,
            bits: Box::new([0; Self::WORDS]),
        }
    }
}

impl ReplayWindow {
    const WORDS: usize = 64;
    /// Sequence numbers this far behind the highest seen are refused outright.
    pub const SIZE: u64 = (Self::WORDS as u64) * 64;

    fn bit(seq: u64) -> (usize, u64) {
        let i = seq % Self::SIZE;
        ((i / 64) as usize, 1u64 << (i % 64))
    }

    /// True if `seq` is new (and records it); false if seen or too far behind.
    pub fn check_and_mark(&mut self, seq: u64) -> bool {
        if seq == 0 {
            return false;
        }
        if seq > self.highest {
            let advance = seq - self.highest;
            if advance >= Self::SIZE {
                self.bits.fill(0);
            } else {
                for s in (self.highest + 1)..=seq {
                    let (w, m) = Self::bit(s);
                    self.bits[w] &= !m;
                }
            }
            self.highest = seq;
        } else if self.highest - seq >= Self::SIZE {
            return false;
        }
        let (w, m) = Self::bit(seq);
        if self.bits[w] & m != 0 {
            return false;
        }
        self.bits[w] |= m;
        true
    }

    pub fn highest(&self) -> u64 {
        self.highest
    }
}

/// An envelope that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    pub origin: Nation,
    pub node_id: String,
    pub key_id: KeyId,
    pub sequence: u64,
    pub send_time_unix_us: i64,
    pub rel_to: RelTo,
    pub payload: Payload,
}

/// Verifies and checks envelopes for one receiving nation.
pub struct Opener {
    me: Nation,
    trust: TrustStore,
    limits: Limits,
    windows: HashMap<(Nation, String), ReplayWindow>,
}

impl Opener {
    pub fn new(me: Nation, trust: TrustStore, limits: Limits) -> Self {
        Opener {
            me,
            trust,
            limits,
            windows: HashMap::new(),
        }
    }

    pub fn trust_mut(&mut self) -> &mut TrustStore {
        &mut self.trust
    }

    /// Marks a sequence number as already seen, e.g. when a restarted node reloads its journal.
    pub fn mark_seen(&mut self, origin: Nation, node_id: &str, sequence: u64) {
        self.windows
            .entry((origin, node_id.to_string()))
            .or_default()
            .check_and_mark(sequence);
    }

    /// Runs every check, cheapest first; the replay window is only touched once the signature
    /// has verified, so forged envelopes cannot burn sequence numbers.
    pub fn open(&mut self, bytes: &[u8], now_unix_us: i64) -> Result<Opened, Rejected> {
        let mut rej = Rejected {
            reason: Rejection::BadSignature,
            origin: None,
            node_id: None,
            sequence: None,
        };
        let fail = |mut r: Rejected, reason| {
            r.reason = reason;
            Err(r)
        };
        if bytes.len() > self.limits.max_envelope_bytes {
            return fail(
                rej,
                Rejection::Oversize {
                    len: bytes.len(),
                    max: self.limits.max_envelope_bytes,
                },
            );
        }
        let env = match pb::SignedEnvelope::decode(bytes) {
            Ok(e) => e,
            Err(e) => return fail(rej, Rejection::Undecodable(format!("envelope: {e}"))),
        };
        let body = match pb::EnvelopeBody::decode(env.body.as_slice()) {
            Ok(b) => b,
            Err(e) => return fail(rej, Rejection::Undecodable(format!("envelope body: {e}"))),
        };
        rej.origin = Some(body.origin.clone());
        rej.node_id = Some(body.node_id.clone());
        rej.sequence = Some(body.sequence);
        if body.schema_version != 1 {
            return fail(
                rej,
                Rejection::Undecodable(format!(
                    "schema_version {} (expected 1)",
                    body.schema_version
                )),
            );
        }
        let (key_nation, key) = match self.trust.lookup(&body.key_id) {
            KeyLookup::Trusted(n, k) => (n, k),
            KeyLookup::Revoked => return fail(rej, Rejection::RevokedKey(body.key_id)),
            KeyLookup::Unknown => return fail(rej, Rejection::UnknownKey(body.key_id)),
        };
        let sig = match <[u8; 64]>::try_from(env.signature.as_slice()) {
            Ok(s) => Signature::from_bytes(&s),
            Err(_) => return fail(rej, Rejection::BadSignature),
        };
        if key.verify_strict(&env.body, &sig).is_err() {
            return fail(rej, Rejection::BadSignature);
        }
        if key_nation.as_str() != body.origin {
            return fail(
                rej,
                Rejection::KeyNationMismatch {
                    key_id: body.key_id,
                    key_nation,
                    origin: body.origin,
                },
            );
        }
        let origin = key_nation;
        let mut rel = Vec::with_capacity(body.rel_to.len());
        for s in &body.rel_to {
            match s.parse::<Nation>() {
                Ok(n) => rel.push(n),
                Err(e) => return fail(rej, Rejection::Undecodable(format!("rel_to: {e}"))),
            }
        }
        let rel_to = RelTo::new(rel);
        if !rel_to.contains(self.me) {
            return fail(
                rej,
                Rejection::NotReleasable {
                    me: self.me,
                    rel_to: rel_to.joined(),
                },
            );
        }
        let age_us = now_unix_us.saturating_sub(body.send_time_unix_us);
        if age_us > self.limits.max_age_us {
            return fail(
                rej,
                Rejection::TooOld {
                    age_ms: age_us / 1000,
                    max_ms: self.limits.max_age_us / 1000,
                },
            );
        }
        if -age_us > self.limits.max_future_us {
            return fail(
                rej,
                Rejection::FromFuture {
                    ahead_ms: -age_us / 1000,
                    max_ms: self.limits.max_future_us / 1000,
                },
            );
        }
        let window = self
            .windows
            .entry((origin, body.node_id.clone()))
            .or_default();
        if !window.check_and_mark(body.sequence) {
            return fail(
                rej,
                Rejection::Replay {
                    origin,
                    node_id: body.node_id,
                    sequence: body.sequence,
                },
            );
        }
        let payload = match pb::PayloadKind::try_from(body.kind) {
            Ok(pb::PayloadKind::TrackFrame) => {
                let frame = match pb::TrackFrame::decode(body.payload.as_slice()) {
                    Ok(f) => f,
                    Err(e) => {
                        return fail(rej, Rejection::Undecodable(format!("track frame: {e}")))
                    }
                };
                if frame.reports.len() > self.limits.max_reports_per_frame {
                    return fail(
                        rej,
                        Rejection::Undecodable(format!(
                            "{} reports in one frame, more than {}",
                            frame.reports.len(),
                            self.limits.max_reports_per_frame
                        )),
                    );
                }
                let mut reports = Vec::with_capacity(frame.reports.len());
                for p in &frame.reports {
                    let r = match TrackReport::from_pb(p) {
                        Ok(r) => r,
                        Err(e) => return fail(rej, Rejection::BadReport(e)),
                    };
                    if let Err(e) = r.validate() {
                        let reason = match e {
                            ReportError::NonFinite { .. } => Rejection::NonFinite(e),
                            ReportError::NotSpd { .. } => Rejection::NotSpd(e),
                            _ => Rejection::BadReport(e),
                        };
                        return fail(rej, reason);
                    }
                    reports.push(r);
                }
                Payload::Tracks(reports)
            }
            Ok(pb::PayloadKind::Heartbeat) => {
                match pb::Heartbeat::decode(body.payload.as_slice()) {
                    Ok(h) => Payload::Heartbeat(Heartbeat {
                        last_sequence: h.last_sequence,
                        confirmed_tracks: h.confirmed_tracks,
                    }),
                    Err(e) => return fail(rej, Rejection::Undecodable(format!("heartbeat: {e}"))),
                }
            }
            other => {
                return fail(
                    rej,
                    Rejection::Undecodable(format!(
                        "payload kind {other:?} is not supported by this node"
                    )),
                )
            }
        };
        Ok(Opened {
            origin,
            node_id: body.node_id,
            key_id: KeyId::from_string(body.key_id),
            sequence: body.sequence,
            send_time_unix_us: body.send_time_unix_us,
            rel_to,
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_window_accepts_out_of_order_once_and_refuses_far_behind() {
        let mut w = ReplayWindow::default();
        assert!(w.check_and_mark(5));
        assert!(w.check_and_mark(3));
        assert!(!w.check_and_mark(3));
        assert!(!w.check_and_mark(5));
        assert!(w.check_and_mark(4));
        assert!(!w.check_and_mark(0));
        let far = 5 + ReplayWindow::SIZE;
        assert!(w.check_and_mark(far));
        assert!(!w.check_and_mark(5), "behind the window");
        assert!(w.check_and_mark(far - 1));
        // A jump larger than the window clears it.
        assert!(w.check_and_mark(far + 10 * ReplayWindow::SIZE));
        assert!(!w.check_and_mark(far + 10 * ReplayWindow::SIZE));
    }
}
