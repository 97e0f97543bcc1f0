//! The simulator's own cost, without file output: flying and scanning the salvo built-in, and
//! scanning alone (the radar loop over every object at every scan) for raid-1000 sized work.
//! Whole-process figures for `trilink simulate raid-1000` are in docs/benchmarks/sim.md.

use criterion::{criterion_group, criterion_main, Criterion};
use trilink_sim::{simulate, Scenario, SimOptions};

fn bench(c: &mut Criterion) {
    let salvo = match Scenario::builtin("salvo") {
        Ok(s) => s,
        Err(e) => panic!("built-in salvo does not load: {e}"),
    };
    let opts = SimOptions::default();
    c.bench_function("simulate salvo (fly + scan, no output)", |b| {
        b.iter(|| simulate(&salvo, &opts, &mut |_| {}).map(|o| o.detections.len()))
    });
    c.bench_function("load raid-1000 scenario", |b| {
        b.iter(|| Scenario::builtin("raid-1000").map(|s| s.launches.len()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
