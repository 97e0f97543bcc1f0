//! Cost of whole flights (payload and every spent stage) at the production 0.1 s step, and of
//! the atmosphere lookup that runs four times per step below the drag ceiling.
//! Figures and machine: docs/benchmarks/physics.md.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use trilink_physics::{atmosphere, fit, fly, missiles, FlightConfig};

fn flights(c: &mut Criterion) {
    let mut g = c.benchmark_group("fly");
    g.sample_size(10);
    for name in missiles::class_names() {
        let launch = missiles::template_launch(name, 0.0).expect("built-in class");
        g.bench_function(*name, |b| {
            b.iter(|| fly(black_box(&launch), &FlightConfig::default()))
        });
    }
    g.finish();
}

fn density(c: &mut Criterion) {
    c.bench_function("atmosphere::density_kg_m3 (0-1000 km sweep of 1000)", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for i in 0..1000 {
                sum += atmosphere::density_kg_m3(black_box(i as f64 * 1000.0));
            }
            sum
        })
    });
}

fn fits(c: &mut Criterion) {
    let mut g = c.benchmark_group("fit");
    g.sample_size(10);
    g.bench_function("hwasong-18", |b| {
        b.iter(|| fit::fit_class(black_box("hwasong-18")))
    });
    g.finish();
}

criterion_group!(benches, flights, density, fits);
criterion_main!(benches);
