//! trilink-bus: how envelopes move between national nodes.
//!
//! - [`Transport`]: publish bytes on a subject, subscribe to a subject filter; two
//!   implementations, [`embedded::EmbeddedBus`] (in-process, nothing to start) and
//!   [`nats::NatsTransport`] (NATS JetStream: durable streams and consumers, `Nats-Msg-Id`
//!   de-duplication).
//! - [`Permissions`]: which subjects a nation may publish and subscribe to, derived from the
//!   releasability policy. The embedded bus enforces them itself; for NATS, [`natsconf`] writes
//!   them into the server's configuration, so the server enforces them.
//! - [`link::LinkModel`]: latency, jitter and loss of a link between two nations, applied by the
//!   sender's edge on either transport.
//!
//! Architecture invariant: the bus moves opaque bytes. It never decodes or verifies an envelope;
//! that is the receiving node's job.
use std::future::Future;

use trilink_wire::{Nation, Policy};

pub mod embedded;
pub mod link;
pub mod nats;
pub mod natsconf;
pub mod server;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("{nation} may not publish on {subject:?}")]
    PublishDenied { nation: Nation, subject: String },
    #[error("{nation} may not subscribe to {filter:?}")]
    SubscribeDenied { nation: Nation, filter: String },
    #[error("the bus is closed")]
    Closed,
    #[error("NATS {action}: {detail}")]
    Nats {
        action: &'static str,
        detail: String,
    },
    #[error("{path}: {detail}")]
    Config { path: String, detail: String },
}

/// One message handed to a subscriber. Call [`Delivery::ack`] once it is durably journaled; an
/// unacknowledged JetStream message is delivered again.
pub struct Delivery {
    pub subject: String,
    pub payload: bytes::Bytes,
    acker: Acker,
}

enum Acker {
    None,
    Jet(Box<async_nats::jetstream::Message>),
}

impl Delivery {
    pub fn new_unacked(subject: String, payload: bytes::Bytes) -> Self {
        Delivery {
            subject,
            payload,
            acker: Acker::None,
        }
    }

    pub async fn ack(self) -> Result<(), BusError> {
        match self.acker {
            Acker::None => Ok(()),
            Acker::Jet(m) => m.ack().await.map_err(|e| BusError::Nats {
                action: "ack",
                detail: e.to_string(),
            }),
        }
    }
}

/// What a node needs from a bus.
pub trait Transport: Send + Sync + 'static {
    /// Publishes `payload` on `subject`; resolves once the bus has accepted it (for JetStream,
    /// once the server's PubAck arrives). `msg_id` lets the bus drop a republished duplicate.
    fn publish(
        &self,
        subject: String,
        msg_id: String,
        payload: bytes::Bytes,
    ) -> impl Future<Output = Result<(), BusError>> + Send;

    /// Starts delivering every message whose subject matches `filter`.
    fn subscribe(
        &self,
        filter: String,
    ) -> impl Future<Output = Result<tokio::sync::mpsc::Receiver<Delivery>, BusError>> + Send;
}

/// NATS subject matching: tokens separated by `.`, `*` matches one token, a final `>` matches
/// one or more.
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut p = pattern.split('.');
    let mut s = subject.split('.');
    loop {
        match (p.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Subjects one nation may use. Deny by default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permissions {
    pub nation: Nation,
    pub publish: Vec<String>,
    pub subscribe: Vec<String>,
}

impl Permissions {
    /// From the releasability policy: a nation publishes only as itself and only to the nations
    /// its reports are released to, and subscribes only to its own inbox.
    pub fn for_nation(nation: Nation, policy: &Policy) -> Self {
        Permissions {
            nation,
            publish: policy
                .rel_to(nation)
                .iter()
                .map(|d| format!("trilink.v1.{d}.{nation}.>"))
                .collect(),
            subscribe: vec![trilink_wire::inbox_filter(nation)],
        }
    }

    pub fn may_publish(&self, subject: &str) -> bool {
        self.publish.iter().any(|p| subject_matches(p, subject))
    }

    /// A subscription filter is allowed only if every subject it could match is allowed, which
    /// for our patterns means it is matched by (is at least as narrow as) an allowed pattern.
    pub fn may_subscribe(&self, filter: &str) -> bool {
        self.subscribe.iter().any(|p| pattern_covers(p, filter))
    }
}

/// True if every subject matched by `narrow` is matched by `wide`.
pub fn pattern_covers(wide: &str, narrow: &str) -> bool {
    let w: Vec<&str> = wide.split('.').collect();
    let n: Vec<&str> = narrow.split('.').collect();
    for (i, wt) in w.iter().enumerate() {
        if *wt == ">" {
            return n.len() > i;
        }
        match n.get(i) {
            None => return false,
            Some(&">") => return false,
            Some(&"*") if *wt != "*" => return false,
            Some(nt) if *wt != "*" && wt != nt => return false,
            _ => {}
        }
    }
    w.len() == n.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Nation {
        s.parse().unwrap()
    }

    #[test]
    fn subject_matching_follows_nats_wildcards() {
        assert!(subject_matches("trilink.v1.US.>", "trilink.v1.US.KR.track"));
        assert!(!subject_matches("trilink.v1.US.>", "trilink.v1.US"));
        assert!(subject_matches(
            "trilink.v1.*.KR.track",
            "trilink.v1.JP.KR.track"
        ));
        assert!(!subject_matches(
            "trilink.v1.*.KR.track",
            "trilink.v1.JP.KR.track.x"
        ));
        assert!(!subject_matches(
            "trilink.v1.JP.>",
            "trilink.v1.US.KR.track"
        ));
    }

    #[test]
    fn hub_and_spoke_permissions_keep_spokes_apart() {
        let mut p = Policy::new();
        p.release(n("KR"), [n("US")]);
        p.release(n("JP"), [n("US")]);
        p.release(n("US"), [n("KR"), n("JP")]);
        let kr = Permissions::for_nation(n("KR"), &p);
        assert!(kr.may_publish("trilink.v1.US.KR.track"));
        assert!(
            !kr.may_publish("trilink.v1.JP.KR.track"),
            "KR releases nothing to JP"
        );
        assert!(
            !kr.may_publish("trilink.v1.US.JP.track"),
            "KR cannot speak as JP"
        );
        let jp = Permissions::for_nation(n("JP"), &p);
        assert!(jp.may_subscribe("trilink.v1.JP.>"));
        assert!(jp.may_subscribe("trilink.v1.JP.US.track"));
        assert!(!jp.may_subscribe("trilink.v1.US.>"));
        assert!(!jp.may_subscribe("trilink.v1.>"));
        assert!(!jp.may_subscribe("trilink.v1.*.KR.track"));
        assert!(!jp.may_subscribe(">"));
    }
}
