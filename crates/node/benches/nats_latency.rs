//! End-to-end latency over a loopback nats-server with JetStream: KR's node sends track reports
//! at a fixed rate to the US node; each report carries its enqueue wall-clock time, so the
//! latency measured is per report, from entering KR's outbound queue (including framing) to
//! being committed in the US journal (`synchronous=NORMAL`; `--full` for FULL).
//!
//! Run: `cargo bench -p trilink-node --bench nats_latency -- [--rate 5000] [--seconds 10] [--full]`
//! (needs nats-server: `bash scripts/install-nats.sh`).
use std::time::Duration;

use prost::Message;
use trilink_bus::nats::{ensure_streams, NatsTransport};
use trilink_bus::natsconf::{self, ConfigRequest};
use trilink_bus::server::{free_port, require_binary, supports_sync_interval, NatsServer};
use trilink_journal::{now_unix_us, Journal, SyncPolicy};
use trilink_node::{run_node, NodeConfig};
use trilink_wire::report::example_report;
use trilink_wire::{pb, Identity, Nation, Policy, RelTo, TrustStore};

fn n(s: &str) -> Nation {
    s.parse().expect("nation")
}

fn arg(name: &str, default: f64) -> f64 {
    let a: Vec<String> = std::env::args().collect();
    a.iter()
        .position(|x| x == name)
        .and_then(|i| a.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` smoke mode: nothing to list or run
    }
    let Some(bin) = require_binary("nats_latency") else {
        return;
    };
    let rate = arg("--rate", 5000.0);
    let seconds = arg("--seconds", 10.0);
    let sync = if std::env::args().any(|a| a == "--full") {
        SyncPolicy::Full
    } else {
        SyncPolicy::Normal
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port().expect("port");
    let nations = [n("KR"), n("US")];
    let mut policy = Policy::new();
    policy.release(n("KR"), [n("US")]);
    let g = natsconf::generate(&ConfigRequest {
        nations: &nations,
        policy: &policy,
        host: "127.0.0.1",
        port,
        store_dir: &dir.path().join("js"),
        sync_always: supports_sync_interval(&bin),
    });
    natsconf::write(dir.path(), &g).expect("config");
    let server = NatsServer::start(
        &bin,
        &dir.path().join("nats-server.conf"),
        port,
        &dir.path().join("log"),
    )
    .expect("server");
    let creds: std::collections::HashMap<_, _> = g.users.into_iter().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    let us_journal = dir.path().join("us.sqlite");
    let (sent, wall_s) = rt.block_on(async {
        ensure_streams(&server.url, &creds["admin"], &nations)
            .await
            .expect("streams");
        let kr_id = Identity::from_seed(n("KR"), "KR-1", [1; 32]);
        let mut trust = TrustStore::new();
        trust.trust(n("KR"), kr_id.verifying_key());
        let us_t = NatsTransport::connect(&server.url, &creds["US"], n("US"), "US-bench")
            .await
            .expect("US");
        let kr_t = NatsTransport::connect(&server.url, &creds["KR"], n("KR"), "KR-bench")
            .await
            .expect("KR");
        let us = run_node(
            NodeConfig::new(n("US"), "US-1", RelTo::default()),
            Identity::from_seed(n("US"), "US-1", [2; 32]),
            trust.clone(),
            Some(Journal::open(&us_journal, sync).expect("journal")),
            us_t,
        )
        .await
        .expect("US node");
        let mut kr = run_node(
            NodeConfig::new(n("KR"), "KR-1", RelTo::new([n("US")])),
            kr_id,
            trust,
            Some(Journal::open(&dir.path().join("kr.sqlite"), sync).expect("journal")),
            kr_t,
        )
        .await
        .expect("KR node");
        let total = (rate * seconds) as u64;
        let tx = kr.outbound.clone().expect("tx");
        let t0 = tokio::time::Instant::now();
        // Send in 1 ms ticks, as a tracker emitting at a steady rate would.
        let per_tick = rate / 1000.0;
        let mut sent = 0u64;
        let mut tick = 0u64;
        while sent < total {
            tick += 1;
            tokio::time::sleep_until(t0 + Duration::from_millis(tick)).await;
            let due = ((tick as f64 * per_tick) as u64).min(total);
            while sent < due {
                let mut r = example_report(sent, 0.0);
                r.time_s = now_unix_us() as f64 / 1e6;
                tx.send(r).await.expect("send");
                sent += 1;
            }
        }
        drop(tx);
        kr.finish_sending().await.expect("finish");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while us.stats().reports_received < total && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let wall = t0.elapsed().as_secs_f64();
        us.stop().await.expect("stop");
        (sent, wall)
    });
    let j = Journal::open_read_only(&us_journal).expect("journal");
    let mut st = j
        .connection()
        .prepare("SELECT t_unix_us, bytes FROM received WHERE kind = 'tracks'")
        .expect("sql");
    let rows = st
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .expect("query")
        .filter_map(Result::ok);
    let mut lat_us: Vec<u64> = Vec::new();
    for (t_rx, bytes) in rows {
        let Ok(env) = pb::SignedEnvelope::decode(bytes.as_slice()) else {
            continue;
        };
        let Ok(body) = pb::EnvelopeBody::decode(env.body.as_slice()) else {
            continue;
        };
        let Ok(frame) = pb::TrackFrame::decode(body.payload.as_slice()) else {
            continue;
        };
        for r in frame.reports {
            lat_us.push((t_rx - (r.time_s * 1e6) as i64).max(0) as u64);
        }
    }
    lat_us.sort_unstable();
    let q = |p: f64| {
        lat_us[((p * lat_us.len() as f64).ceil() as usize).clamp(1, lat_us.len()) - 1] as f64
            / 1000.0
    };
    if lat_us.is_empty() {
        println!("nothing received");
        return;
    }
    println!(
        "nats_latency: rate {rate}/s for {seconds} s, sent {sent}, received {} reports, journal {:?}; \
         per-report enqueue->journaled latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; wall {:.1} s",
        lat_us.len(),
        sync,
        q(0.5),
        q(0.99),
        q(1.0),
        wall_s
    );
}
