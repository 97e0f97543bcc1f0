//! The in-process bus: tokio channels, subject routing, and the same per-nation permissions a
//! NATS server would enforce.
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::{BusError, Delivery, Permissions, Transport};

/// Capacity of each subscriber's queue; a full queue makes publishers wait (back-pressure)
/// rather than drop.
const QUEUE: usize = 8192;

#[derive(Default)]
struct Router {
    subs: Vec<(String, mpsc::Sender<Delivery>)>,
}

/// The shared bus. Each node gets its own [`EmbeddedClient`] with its nation's permissions.
#[derive(Clone, Default)]
pub struct EmbeddedBus {
    router: Arc<Mutex<Router>>,
}

impl EmbeddedBus {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn client(&self, permissions: Permissions) -> EmbeddedClient {
        EmbeddedClient {
            bus: self.clone(),
            permissions,
        }
    }
}

/// One nation's connection to the embedded bus.
#[derive(Clone)]
pub struct EmbeddedClient {
    bus: EmbeddedBus,
    permissions: Permissions,
}

impl Transport for EmbeddedClient {
    async fn publish(
        &self,
        subject: String,
        _msg_id: String,
        payload: bytes::Bytes,
    ) -> Result<(), BusError> {
        if !self.permissions.may_publish(&subject) {
            return Err(BusError::PublishDenied {
                nation: self.permissions.nation,
                subject,
            });
        }
        let targets: Vec<mpsc::Sender<Delivery>> = {
            let mut r = self.bus.router.lock().map_err(|_| BusError::Closed)?;
            r.subs.retain(|(_, tx)| !tx.is_closed());
            r.subs
                .iter()
                .filter(|(f, _)| crate::subject_matches(f, &subject))
                .map(|(_, tx)| tx.clone())
                .collect()
        };
        for tx in targets {
            // A subscriber that went away is not the publisher's failure.
            let _ = tx
                .send(Delivery::new_unacked(subject.clone(), payload.clone()))
                .await;
        }
        Ok(())
    }

    async fn subscribe(&self, filter: String) -> Result<mpsc::Receiver<Delivery>, BusError> {
        if !self.permissions.may_subscribe(&filter) {
            return Err(BusError::SubscribeDenied {
                nation: self.permissions.nation,
                filter,
            });
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        self.bus
            .router
            .lock()
            .map_err(|_| BusError::Closed)?
            .subs
            .push((filter, tx));
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trilink_wire::{Nation, Policy};

    fn n(s: &str) -> Nation {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn routes_by_subject_and_refuses_what_is_not_released() {
        let mut p = Policy::new();
        p.release(n("KR"), [n("US")]);
        p.release(n("US"), [n("KR"), n("JP")]);
        let bus = EmbeddedBus::new();
        let kr = bus.client(Permissions::for_nation(n("KR"), &p));
        let us = bus.client(Permissions::for_nation(n("US"), &p));
        let jp = bus.client(Permissions::for_nation(n("JP"), &p));
        let mut us_in = us.subscribe("trilink.v1.US.>".into()).await.unwrap();
        let mut jp_in = jp.subscribe("trilink.v1.JP.>".into()).await.unwrap();
        assert!(matches!(
            jp.subscribe("trilink.v1.US.>".into()).await,
            Err(BusError::SubscribeDenied { .. })
        ));
        assert!(matches!(
            kr.publish("trilink.v1.JP.KR.track".into(), "1".into(), "x".into())
                .await,
            Err(BusError::PublishDenied { .. })
        ));
        kr.publish("trilink.v1.US.KR.track".into(), "1".into(), "hello".into())
            .await
            .unwrap();
        let d = us_in.recv().await.unwrap();
        assert_eq!(
            (d.subject.as_str(), &d.payload[..]),
            ("trilink.v1.US.KR.track", &b"hello"[..])
        );
        assert!(jp_in.try_recv().is_err());
    }
}
