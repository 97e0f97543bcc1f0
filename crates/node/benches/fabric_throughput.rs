//! Track reports per second through the embedded bus, each sealed (signed) by KR's node and
//! opened (verified, checked) by the US node, on one core (a current-thread runtime).
//! Variants: without a journal, and with both journals on disk (`synchronous=NORMAL`).
//!
//! Run: `cargo bench -p trilink-node --bench fabric_throughput`.
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use trilink_bus::embedded::EmbeddedBus;
use trilink_bus::Permissions;
use trilink_journal::{Journal, SyncPolicy};
use trilink_node::{run_node, NodeConfig};
use trilink_wire::report::example_report;
use trilink_wire::{Identity, Nation, Policy, RelTo, TrustStore};

const REPORTS: u64 = 64_000;

fn n(s: &str) -> Nation {
    s.parse().expect("nation")
}

async fn once(journal_dir: Option<&std::path::Path>) -> Duration {
    let mut policy = Policy::new();
    policy.release(n("KR"), [n("US")]);
    let bus = EmbeddedBus::new();
    let kr_id = Identity::from_seed(n("KR"), "KR-1", [1; 32]);
    let mut trust = TrustStore::new();
    trust.trust(n("KR"), kr_id.verifying_key());
    let j = |name: &str| {
        journal_dir.map(|d| Journal::open(&d.join(name), SyncPolicy::Normal).expect("journal"))
    };
    let us = run_node(
        NodeConfig::new(n("US"), "US-1", RelTo::default()),
        Identity::from_seed(n("US"), "US-1", [2; 32]),
        trust.clone(),
        j(&format!("us-{}.sqlite", trilink_journal::now_unix_us())),
        bus.client(Permissions::for_nation(n("US"), &policy)),
    )
    .await
    .expect("US node");
    let mut kr = run_node(
        NodeConfig::new(n("KR"), "KR-1", RelTo::new([n("US")])),
        kr_id,
        trust,
        j(&format!("kr-{}.sqlite", trilink_journal::now_unix_us())),
        bus.client(Permissions::for_nation(n("KR"), &policy)),
    )
    .await
    .expect("KR node");
    let reports: Vec<_> = (0..REPORTS).map(|i| example_report(i, 1.0)).collect();
    let t0 = Instant::now();
    let tx = kr.outbound.clone().expect("outbound");
    for r in reports {
        tx.send(r).await.expect("send");
    }
    drop(tx);
    kr.finish_sending().await.expect("finish");
    while us.stats().reports_received < REPORTS {
        tokio::task::yield_now().await;
    }
    let dt = t0.elapsed();
    us.stop().await.expect("stop");
    dt
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("embedded_bus_one_core");
    g.sample_size(10);
    g.throughput(Throughput::Elements(REPORTS));
    g.bench_function("seal_publish_open_no_journal", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| rt.block_on(once(None))).sum())
    });
    let dir = tempfile::tempdir().expect("tempdir");
    g.bench_function("seal_publish_open_journaled_normal", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| rt.block_on(once(Some(dir.path()))))
                .sum()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
