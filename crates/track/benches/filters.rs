//! Cost of the unscented filter against the EKF: one IMM cycle (predict + update, three motion
//! models) on one track, and the whole tracker on the simulator's Hwasong-12 scenario.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use trilink_geo::Geodetic;
use trilink_track::filter::{FilterKind, ImmPrediction, ImmState};
use trilink_track::ipp::{ground_crossing, impact_point, CrossingConfig, InvBetaEstimate};
use trilink_track::measure::{AerSensor, MeasVec, MeasurementModel};
use trilink_track::motion::{augment, StateCov, StateVec};
use trilink_track::{Tracker, TrackerConfig};

fn imm_cycle(c: &mut Criterion) {
    // The tracker's default IMM: ballistic, boost and re-entry (drag) models.
    let cfg = TrackerConfig::default();
    let imm = cfg.imm();
    let site = Geodetic::from_degrees(36.5, 129.0, 300.0).unwrap();
    let sensor = AerSensor::new(site);
    // 400 km up, 700 km from the radar, settled covariance.
    let x = StateVec::new(-3.3e6, 3.9e6, 4.3e6, 2_000.0, 2_500.0, -800.0);
    let p = StateCov::from_diagonal(&StateVec::new(1e4, 1e4, 1e4, 25.0, 25.0, 25.0));
    let (x, p) = augment(&x, &p, 5.0, 1e-3, 2e-3);
    let s = ImmState::new(x, p, [0.6, 0.3, 0.1]);
    let r_diag = MeasVec::new(4e-6, 4e-6, 1600.0);
    let z = sensor.measure(&x);
    let mut g = c.benchmark_group("imm_cycle");
    for (name, kind) in [("ekf", FilterKind::Ekf), ("ukf", FilterKind::Ukf)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let pred = imm.predict_with(kind, black_box(&s), black_box(1.0));
                imm.update_with(kind, &pred, &sensor, black_box(&z), &r_diag)
            })
        });
    }
    // The tracker's way (decision 0416): the prediction into a reused buffer, the update over
    // the track's own state.
    let mut pred = ImmPrediction::zeros();
    g.bench_function("ekf_in_place", |b| {
        b.iter(|| {
            let mut state = s;
            imm.predict_into(FilterKind::Ekf, black_box(&s), black_box(1.0), &mut pred);
            imm.update_into(
                FilterKind::Ekf,
                &pred,
                &sensor,
                black_box(&z),
                &r_diag,
                &mut state,
            );
            state
        })
    });
    g.finish();
}

fn hwasong_12(c: &mut Criterion) {
    // A built-in scenario: constant input, so a failure here is a bug worth a panic.
    let sc = trilink_sim::Scenario::builtin("hwasong-12").unwrap();
    let out = trilink_sim::simulate(&sc, &trilink_sim::SimOptions::default(), &mut |_| {}).unwrap();
    let mut g = c.benchmark_group("tracker_hwasong_12");
    g.sample_size(20);
    g.throughput(Throughput::Elements(out.detections.len() as u64));
    for (name, kind) in [("ekf", FilterKind::Ekf), ("ukf", FilterKind::Ukf)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let cfg = TrackerConfig {
                    filter: kind,
                    ..TrackerConfig::default()
                };
                let mut t = Tracker::new(&out.sensors, cfg).unwrap();
                let mut n = 0usize;
                for d in &out.detections {
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

fn impact_prediction(c: &mut Criterion) {
    // One launch/impact prediction of a KN-23-like body 40 km up and descending, as raid-1000's
    // tracks are for most of their flight (decision 0418): with β unseen (the bound over the
    // prior's central 95 %), with β seen to 3 % (the three-node rule), and the launch point's
    // back-search. Each flies the state to the ground in RK4 steps sized by drag.
    let site = Geodetic::from_degrees(39.0, 131.0, 40_000.0).unwrap();
    let r = site.to_ecef().0;
    let v = trilink_geo::LocalFrame::new(site)
        .rotate_to_ecef(&nalgebra::Vector3::new(1_500.0, 900.0, -300.0));
    let x = StateVec::new(r.x, r.y, r.z, v.x, v.y, v.z);
    let p = StateCov::from_diagonal(&StateVec::new(400.0, 400.0, 400.0, 4.0, 4.0, 4.0));
    let cfg = CrossingConfig::default();
    let k_prior = 1.0 / 3000.0;
    let unseen = InvBetaEstimate {
        k_m2_kg: k_prior,
        var: 4e-6,
        cov_state_k: nalgebra::Vector6::zeros(),
        prior_k_m2_kg: k_prior,
        prior_var: 4e-6,
    };
    let seen = InvBetaEstimate {
        var: (0.03 * k_prior) * (0.03 * k_prior),
        ..unseen
    };
    let mut g = c.benchmark_group("impact_prediction");
    for (name, k) in [("beta_unseen", unseen), ("beta_seen", seen)] {
        g.bench_function(name, |b| {
            b.iter(|| impact_point(0.0, black_box(&x), black_box(&p), Some(&k), &cfg))
        });
    }
    g.bench_function("launch_back_search", |b| {
        b.iter(|| ground_crossing(0.0, black_box(&x), black_box(&p), false, &cfg))
    });
    g.finish();
}

criterion_group!(benches, imm_cycle, hwasong_12, impact_prediction);
criterion_main!(benches);
