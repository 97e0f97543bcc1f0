//! Tracker throughput on a 1,000-object raid with clutter (detections per second, one thread).
#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use trilink_track::{Tracker, TrackerConfig};

fn raid_1000(c: &mut Criterion) {
    // 1,000 bodies, 2 radars at 2 s revisit, 50 false alarms per scan, 300 s of data.
    let s = common::raid(1000, 50.0, 60.0, 300.0, 7);
    let mut g = c.benchmark_group("tracker");
    g.sample_size(10);
    g.throughput(Throughput::Elements(s.detections.len() as u64));
    for (name, interval) in [
        ("raid_1000_ipp_every_update", 0.0),
        ("raid_1000_ipp_every_10s", 10.0),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let cfg = TrackerConfig {
                    ground_point_interval_s: interval,
                    ..TrackerConfig::default()
                };
                let mut t = Tracker::new(&s.sensors, cfg).unwrap();
                let mut n = 0usize;
                for d in &s.detections {
                    t.process(d).unwrap();
                    n += t.drain_updates().count();
                }
                t.close();
                n + t.drain_updates().count()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, raid_1000);
criterion_main!(benches);
