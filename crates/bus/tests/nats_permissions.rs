//! Against a real nats-server started from the generated configuration: what is released flows
//! through JetStream; what is not released, the server itself refuses.
use std::time::Duration;

use async_nats::jetstream;
use futures_util::StreamExt;
use trilink_bus::nats::{ensure_streams, Credentials, NatsTransport};
use trilink_bus::natsconf::{self, ConfigRequest};
use trilink_bus::server::{free_port, require_binary, NatsServer};
use trilink_bus::Transport;
use trilink_wire::{Nation, Policy};

fn n(s: &str) -> Nation {
    s.parse().unwrap()
}

fn hub_and_spoke() -> Policy {
    let mut p = Policy::new();
    p.release(n("KR"), [n("US")]);
    p.release(n("JP"), [n("US")]);
    p.release(n("US"), [n("KR"), n("JP")]);
    p
}

struct Setup {
    _dir: tempfile::TempDir,
    server: NatsServer,
    creds: std::collections::HashMap<String, Credentials>,
}

fn setup(test: &str) -> Option<Setup> {
    let bin = require_binary(test)?;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let nations = [n("JP"), n("KR"), n("US")];
    let policy = hub_and_spoke();
    let g = natsconf::generate(&ConfigRequest {
        nations: &nations,
        policy: &policy,
        host: "127.0.0.1",
        port,
        store_dir: &dir.path().join("js"),
        sync_always: trilink_bus::server::supports_sync_interval(&bin),
    });
    natsconf::write(dir.path(), &g).unwrap();
    let server = NatsServer::start(
        &bin,
        &dir.path().join("nats-server.conf"),
        port,
        &dir.path().join("log"),
    )
    .unwrap();
    let creds = g.users.into_iter().collect();
    Some(Setup {
        _dir: dir,
        server,
        creds,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_messages_flow_and_duplicates_are_dropped_by_msg_id() {
    let Some(s) = setup("released_messages_flow_and_duplicates_are_dropped_by_msg_id") else {
        return;
    };
    let url = &s.server.url;
    ensure_streams(url, &s.creds["admin"], &[n("JP"), n("KR"), n("US")])
        .await
        .unwrap();
    let kr = NatsTransport::connect(url, &s.creds["KR"], n("KR"), "KR-node")
        .await
        .unwrap();
    let us = NatsTransport::connect(url, &s.creds["US"], n("US"), "US-node")
        .await
        .unwrap();
    let mut inbox = us.subscribe("trilink.v1.US.>".into()).await.unwrap();
    kr.publish("trilink.v1.US.KR.track".into(), "KR-1".into(), "one".into())
        .await
        .unwrap();
    kr.publish(
        "trilink.v1.US.KR.track".into(),
        "KR-1".into(),
        "one again".into(),
    )
    .await
    .unwrap();
    kr.publish("trilink.v1.US.KR.track".into(), "KR-2".into(), "two".into())
        .await
        .unwrap();
    let mut got = Vec::new();
    for _ in 0..2 {
        let d = tokio::time::timeout(Duration::from_secs(10), inbox.recv())
            .await
            .unwrap()
            .unwrap();
        got.push(d.payload.clone());
        d.ack().await.unwrap();
    }
    assert_eq!(
        got,
        vec![bytes::Bytes::from("one"), bytes::Bytes::from("two")]
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), inbox.recv())
            .await
            .is_err(),
        "duplicate delivered"
    );
    // KR may not publish to JP (nothing of KR's is released to JP).
    assert!(kr
        .publish("trilink.v1.JP.KR.track".into(), "KR-3".into(), "x".into())
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nation_cannot_subscribe_to_or_consume_what_is_not_released_to_it() {
    let Some(s) = setup("a_nation_cannot_subscribe_to_or_consume_what_is_not_released_to_it")
    else {
        return;
    };
    let url = &s.server.url;
    ensure_streams(url, &s.creds["admin"], &[n("JP"), n("KR"), n("US")])
        .await
        .unwrap();
    let (err_tx, mut err_rx) = tokio::sync::mpsc::unbounded_channel();
    let jp_creds = &s.creds["JP"];
    let jp = async_nats::ConnectOptions::with_user_and_password(
        jp_creds.user.clone(),
        jp_creds.password.clone(),
    )
    .custom_inbox_prefix("_INBOX_JP")
    // Refused requests get no reply; do not wait the default 10 s for each.
    .request_timeout(Some(Duration::from_secs(1)))
    .event_callback(move |e| {
        let tx = err_tx.clone();
        async move {
            let _ = tx.send(e.to_string());
        }
    })
    .connect(url)
    .await
    .unwrap();
    // Core subscription to KR's reports for the US: the server refuses it.
    let mut sub = jp.subscribe("trilink.v1.US.KR.track").await.unwrap();
    let violation = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match err_rx.recv().await {
                Some(e) if e.to_lowercase().contains("permissions violation") => return e,
                Some(_) => continue,
                None => return String::new(),
            }
        }
    })
    .await
    .unwrap();
    assert!(violation.contains("trilink.v1.US.KR.track"), "{violation}");
    // And nothing published there reaches JP.
    let kr = NatsTransport::connect(url, &s.creds["KR"], n("KR"), "KR-node")
        .await
        .unwrap();
    kr.publish(
        "trilink.v1.US.KR.track".into(),
        "KR-1".into(),
        "secret".into(),
    )
    .await
    .unwrap();
    assert!(tokio::time::timeout(Duration::from_millis(500), sub.next())
        .await
        .map(|m| m.is_none())
        .unwrap_or(true));
    // Nor can JP read the US stream through JetStream.
    let js = jetstream::new(jp.clone());
    assert!(
        js.get_stream("TRILINK_US").await.is_err(),
        "JP read the US stream's info"
    );
    // Nor create a stream of its own that would capture others' subjects.
    let r = js
        .create_stream(jetstream::stream::Config {
            name: "SNOOP".into(),
            subjects: vec!["trilink.v1.>".into()],
            ..Default::default()
        })
        .await;
    assert!(r.is_err(), "JP created a capturing stream");
    // JP can still consume its own.
    let jpt = NatsTransport::connect(url, jp_creds, n("JP"), "JP-node")
        .await
        .unwrap();
    assert!(jpt.subscribe("trilink.v1.JP.>".into()).await.is_ok());
}
