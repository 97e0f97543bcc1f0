//! Cost of sealing (encode + sign) and opening (decode + verify + check) one report and one
//! full frame. Run: `cargo bench -p trilink-wire --bench sign_verify`.
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use trilink_wire::report::example_report;
use trilink_wire::{
    Identity, Limits, Nation, Opener, Payload, RelTo, Sealer, TrustStore, MAX_REPORTS_PER_FRAME,
};

fn nation(s: &str) -> Nation {
    s.parse().expect("valid nation code")
}

fn bench(c: &mut Criterion) {
    let id = Identity::from_seed(nation("KR"), "KR-1", [1; 32]);
    let mut trust = TrustStore::new();
    trust.trust(nation("KR"), id.verifying_key());
    let rel = RelTo::new([nation("US")]);
    let mut sealer = Sealer::new(id, 1);
    let now = 1_700_000_000_000_000i64;
    for n in [1usize, MAX_REPORTS_PER_FRAME] {
        let payload = Payload::Tracks((0..n as u64).map(|i| example_report(i, 100.0)).collect());
        let mut g = c.benchmark_group(format!("frame_of_{n}"));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function("seal", |b| b.iter(|| sealer.seal(&payload, &rel, now)));
        g.bench_function("open", |b| {
            b.iter_batched(
                || {
                    (
                        sealer.seal(&payload, &rel, now),
                        Opener::new(nation("US"), trust.clone(), Limits::default()),
                    )
                },
                |(s, mut o)| o.open(&s.bytes, now).is_ok(),
                BatchSize::SmallInput,
            )
        });
        g.bench_function("seal_and_open", |b| {
            let mut o = Opener::new(nation("US"), trust.clone(), Limits::default());
            b.iter(|| {
                let s = sealer.seal(&payload, &rel, now);
                o.open(&s.bytes, now).is_ok()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
