//! GOSPA at one grid time for a raid-sized picture: 1,000 truths spread over a theatre, 1,000
//! estimates each a few hundred metres off, plus a dense cluster where assignment really works.

use criterion::{criterion_group, criterion_main, Criterion};
use nalgebra::Vector3;
use trilink_eval::gospa::{gospa, GospaParams};

/// A fixed, dependency-free pseudo-random sequence (64-bit LCG, Knuth's MMIX constants).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn picture(n: usize, spread_m: f64, seed: u64) -> (Vec<Vector3<f64>>, Vec<Vector3<f64>>) {
    let mut rng = Lcg(seed);
    let centre = Vector3::new(-3.0e6, 4.0e6, 3.9e6);
    let truth: Vec<Vector3<f64>> = (0..n)
        .map(|_| centre + Vector3::new(rng.next(), rng.next(), rng.next()) * spread_m)
        .collect();
    let est = truth
        .iter()
        .map(|p| p + Vector3::new(rng.next() - 0.5, rng.next() - 0.5, rng.next() - 0.5) * 600.0)
        .collect();
    (truth, est)
}

fn bench(c: &mut Criterion) {
    let params = GospaParams::trilink();
    let (x, y) = picture(1000, 1.5e6, 1);
    c.bench_function("gospa 1000 spread over 1500 km", |b| {
        b.iter(|| gospa(&x, &y, params))
    });
    let (x, y) = picture(100, 10e3, 2);
    c.bench_function("gospa 100 in a 10 km cluster", |b| {
        b.iter(|| gospa(&x, &y, params))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
