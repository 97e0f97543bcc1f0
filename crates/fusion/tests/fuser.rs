//! The fuser as a node drives it: association with memory, rejection, ageing, common track
//! numbers and merges, and an overconfident input.
use std::collections::BTreeSet;

use nalgebra::{Matrix6, Vector6};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use trilink_domain::{FlightPhase, Nation, Provenance, TrackEstimate};
use trilink_fusion::{
    ranks_from_order, Aligner, Contribution, Fuser, FusionConfig, ModelAligner, RejectReason,
    RenumberCause,
};
use trilink_geo::Geodetic;

fn n(s: &str) -> Nation {
    s.parse().unwrap()
}

fn fuser(own: &str, cfg: FusionConfig) -> Fuser {
    Fuser::new(n(own), ranks_from_order(&[n("KR"), n("JP"), n("US")]), cfg)
}

/// A midcourse missile over the Sea of Japan, and where it is `t_s` later.
fn truth(t_s: f64) -> Vector6<f64> {
    let r = Geodetic::from_degrees(39.0, 131.0, 400_000.0)
        .unwrap()
        .to_ecef()
        .0;
    let x0 = Vector6::new(r.x, r.y, r.z, 1200.0, -1800.0, 900.0);
    let exact = ModelAligner {
        q_psd_m2_s3: 0.0,
        boost_accel_sigma_mps2: 0.0,
    };
    exact
        .align(&x0, &Matrix6::zeros(), FlightPhase::Midcourse, t_s)
        .0
}

fn cov(pos_sigma_m: f64, vel_sigma_mps: f64) -> Matrix6<f64> {
    let (p, v) = (pos_sigma_m * pos_sigma_m, vel_sigma_mps * vel_sigma_mps);
    Matrix6::from_diagonal(&Vector6::new(p, p, p, v, v, v))
}

fn report(source: &str, number: u64, t_s: f64, x: Vector6<f64>, p: Matrix6<f64>) -> Contribution {
    let mut covariance = [[0.0; 6]; 6];
    for (i, row) in covariance.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = p[(i, j)];
        }
    }
    Contribution {
        source: n(source),
        estimate: TrackEstimate {
            track_number: number,
            time_s: t_s,
            state: [x[0], x[1], x[2], x[3], x[4], x[5]],
            covariance,
            quality: 0.9,
            phase: FlightPhase::Midcourse,
            launch: None,
            impact: None,
        },
        provenance: Provenance {
            nations: BTreeSet::from([n(source)]),
            common_track: None,
        },
    }
}

/// `truth(t)` moved `dx_m` along ECEF x.
fn at(t_s: f64, dx_m: f64) -> Vector6<f64> {
    let mut x = truth(t_s);
    x[0] += dx_m;
    x
}

#[test]
fn a_pairing_is_kept_while_it_gates_and_released_after_k_gate_failures() {
    let cfg = FusionConfig {
        consistency: trilink_fusion::ConsistencyConfig {
            threshold: f64::INFINITY,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut f = fuser("US", cfg);
    let p = cov(500.0, 10.0);
    // KR holds two objects 3.6 km apart (d² = 26 against each other: inside the wide gate,
    // outside the tight merge gate). JP's track 7 starts on the first.
    let kr = |t: f64| {
        vec![
            report("KR", 1, t, at(t, 0.0), p),
            report("KR", 2, t, at(t, 3600.0), p),
        ]
    };
    f.ingest(0.0, &kr(0.0));
    f.ingest(0.0, &[report("JP", 7, 0.0, at(0.0, 0.0), p)]);
    assert_eq!(f.ctn_of(n("JP"), 7), Some(1_000_001));
    // JP 7 drifts to 2 km: nearer KR 2 (1.6 km) than KR 1, but still inside KR 1's gate.
    // Memory: the pairing is not re-decided.
    for k in 1..=4 {
        let t = k as f64;
        f.ingest(t, &kr(t));
        let out = f.ingest(t, &[report("JP", 7, t, at(t, 2000.0), p)]);
        assert!(out.rejected.is_empty(), "{out:?}");
        assert_eq!(f.ctn_of(n("JP"), 7), Some(1_000_001), "update {k}");
    }
    // Now JP 7 is at 4.8 km: outside KR 1's gate. Twice rejected with its d², the third
    // time released and re-associated, to KR 2's system track.
    for k in 5..=7 {
        let t = k as f64;
        f.ingest(t, &kr(t));
        let out = f.ingest(t, &[report("JP", 7, t, at(t, 4800.0), p)]);
        if k < 7 {
            assert_eq!(out.rejected.len(), 1, "{out:?}");
            let r = &out.rejected[0];
            assert!(r.d2.is_some_and(|d| d > f.gate()));
            assert!(
                matches!(r.reason, RejectReason::GateFailed { ctn: 1_000_001, failures } if failures == k - 4)
            );
            assert_eq!(f.ctn_of(n("JP"), 7), Some(1_000_001));
        } else {
            assert!(out.rejected.is_empty(), "{out:?}");
            assert_eq!(f.ctn_of(n("JP"), 7), Some(1_000_002));
        }
    }
    let one = f.system_track(1_000_001).unwrap();
    assert_eq!(one.contributors, BTreeSet::from([n("KR")]));
    let two = f.system_track(1_000_002).unwrap();
    assert_eq!(two.contributors, BTreeSet::from([n("KR"), n("JP")]));
}

#[test]
fn a_wildly_inconsistent_report_is_gated_out_reported_and_not_fused() {
    let mut f = fuser("JP", FusionConfig::default());
    let p = cov(300.0, 5.0);
    for k in 0..5 {
        let t = k as f64;
        f.ingest(t, &[report("KR", 4, t, at(t, 0.0), p)]);
        f.ingest(t, &[report("JP", 2, t, at(t, 100.0), p)]);
    }
    let before = f.system_track(1_000_004).unwrap().fused.clone();
    // 500 km off with a 300 m σ.
    let out = f.ingest(5.0, &[report("KR", 4, 5.0, at(5.0, 500_000.0), p)]);
    assert_eq!(out.rejected.len(), 1);
    let r = &out.rejected[0];
    assert_eq!((r.source, r.track_number, r.time_s), (n("KR"), 4, 5.0));
    assert!(r.d2.is_some_and(|d| d > 1e5), "{r:?}");
    let after = f.system_track(1_000_004).unwrap();
    assert_eq!(after.fused, before, "a rejected report changes nothing");
    // A covariance that is not positive-definite is rejected before any gate.
    let mut bad = report("KR", 4, 6.0, at(6.0, 0.0), p);
    bad.estimate.covariance[0][1] = 1e9;
    bad.estimate.covariance[1][0] = 1e9;
    let out = f.ingest(6.0, &[bad]);
    assert!(matches!(out.rejected[0].reason, RejectReason::Invalid(_)));
}

#[test]
fn a_silent_ally_ages_out_and_the_picture_goes_on_with_the_others() {
    let mut f = fuser("KR", FusionConfig::default());
    let p = cov(300.0, 5.0);
    for k in 0..=10 {
        let t = k as f64;
        f.ingest(t, &[report("KR", 1, t, at(t, 0.0), p)]);
        if k <= 3 {
            f.ingest(t, &[report("JP", 9, t, at(t, 50.0), p)]);
        }
    }
    let st = f.system_track(1_000_001).unwrap();
    assert_eq!(st.contributors, BTreeSet::from([n("KR"), n("JP")]));
    // JP silent since t = 3; at t = 19 it has been 16 s.
    let mut ended = Vec::new();
    for k in 11..=19 {
        let t = k as f64;
        ended.extend(f.ingest(t, &[report("KR", 1, t, at(t, 0.0), p)]).ended);
    }
    assert!(ended.is_empty());
    let st = f.system_track(1_000_001).unwrap();
    assert_eq!(st.members.len(), 1);
    assert_eq!(st.contributors, BTreeSet::from([n("KR")]));
    assert_eq!(f.ctn_of(n("JP"), 9), None);
    assert_eq!(st.fused.time_s, 19.0);
    // Then KR too: the system track ends.
    assert!(f.age_out(30.0).is_empty());
    assert_eq!(f.age_out(34.5), vec![1_000_001]);
    assert_eq!(f.system_tracks().count(), 0);
}

#[test]
fn every_node_converges_on_the_lowest_ranked_nations_number() {
    let p = cov(300.0, 5.0);
    // JP's node hears its own track first, then KR's report.
    let mut jp = fuser("JP", FusionConfig::default());
    let out = jp.ingest(0.0, &[report("JP", 5, 0.0, at(0.0, 0.0), p)]);
    assert_eq!(out.updated, vec![2_000_005]);
    let out = jp.ingest(0.5, &[report("KR", 9, 0.0, at(0.0, 80.0), p)]);
    assert_eq!(out.updated, vec![1_000_009]);
    assert_eq!(out.renumbered.len(), 1);
    let r = out.renumbered[0];
    assert_eq!(
        (r.old, r.new, r.cause),
        (2_000_005, 1_000_009, RenumberCause::SmallerProposal)
    );
    // KR's node the other way round, and the US hub's relayed product carrying the number.
    let mut kr = fuser("KR", FusionConfig::default());
    kr.ingest(0.0, &[report("KR", 9, 0.0, at(0.0, 80.0), p)]);
    kr.ingest(0.5, &[report("JP", 5, 0.0, at(0.0, 0.0), p)]);
    let mut relayed = report("US", 77, 1.0, at(1.0, 30.0), p);
    relayed.provenance = Provenance {
        nations: BTreeSet::from([n("US"), n("JP")]),
        common_track: Some(1_000_009),
    };
    let out = kr.ingest(1.2, &[relayed]);
    assert_eq!(out.updated, vec![1_000_009]);
    assert!(out.renumbered.is_empty());
    assert_eq!(kr.system_tracks().count(), 1);
    let st = kr.system_track(1_000_009).unwrap();
    assert_eq!(st.contributors, BTreeSet::from([n("KR"), n("JP"), n("US")]));
    // Stable: more updates do not change it.
    for k in 1..5 {
        let t = k as f64;
        kr.ingest(t, &[report("JP", 5, t, at(t, 0.0), p)]);
        let out = kr.ingest(t, &[report("KR", 9, t, at(t, 80.0), p)]);
        assert_eq!(out.updated, vec![1_000_009]);
        assert!(out.renumbered.is_empty());
    }
}

#[test]
fn two_system_tracks_of_one_object_merge_into_the_smaller_number() {
    let mut f = fuser("US", FusionConfig::default());
    let p = cov(500.0, 10.0);
    // JP's early estimate is 12 km off with a small covariance: it gates with nothing and
    // starts its own system track; it then converges on the object 2 km a second.
    let mut merges = Vec::new();
    for k in 0..12 {
        let t = k as f64;
        let off = (12_000.0 - 2000.0 * k as f64).max(0.0);
        merges.extend(f.ingest(t, &[report("KR", 3, t, at(t, 0.0), p)]).renumbered);
        let out = f.ingest(t, &[report("JP", 8, t, at(t, off), p)]);
        assert!(out.rejected.is_empty(), "{out:?}");
        merges.extend(out.renumbered);
    }
    assert_eq!(f.system_tracks().count(), 1);
    assert_eq!(f.ctn_of(n("JP"), 8), Some(1_000_003));
    let merged: Vec<_> = merges
        .iter()
        .filter(|r| r.cause == RenumberCause::Merged)
        .collect();
    assert_eq!(merged.len(), 1, "{merges:?}");
    assert_eq!((merged[0].old, merged[0].new), (2_000_008, 1_000_003));
}

/// Fused NEES over updates 10–59 of `seeds` runs: KR consistent (1 km, 10 m/s), JP
/// claiming 100 m and 1 m/s with errors ten times that.
fn overconfident_anees(cfg: FusionConfig, seeds: u64) -> f64 {
    let (mut sum, mut count) = (0.0, 0);
    for seed in 0..seeds {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut f = fuser("US", cfg);
        let honest = cov(1000.0, 10.0);
        let claimed = cov(100.0, 1.0);
        let mut draw = |p: &Matrix6<f64>, scale: f64| -> Vector6<f64> {
            let l = p.cholesky().unwrap().l();
            l * Vector6::from_fn(|_, _| StandardNormal.sample(&mut rng)) * scale
        };
        for k in 0..60 {
            let t = k as f64;
            let x = truth(t);
            f.ingest(t, &[report("KR", 1, t, x + draw(&honest, 1.0), honest)]);
            f.ingest(t, &[report("JP", 1, t, x + draw(&claimed, 10.0), claimed)]);
            if k >= 10 {
                for st in f.system_tracks().filter(|s| s.members.len() == 2) {
                    let e = Vector6::from_column_slice(&st.fused.state) - x;
                    let p = Matrix6::from_fn(|i, j| st.fused.covariance[i][j]);
                    let nees = e.dot(&(p.try_inverse().unwrap() * e));
                    sum += nees;
                    count += 1;
                }
            }
        }
    }
    assert!(count > 0);
    sum / count as f64 / 6.0
}

#[test]
fn an_overconfident_input_does_not_make_the_fused_track_overconfident() {
    let with = overconfident_anees(FusionConfig::default(), 10);
    let without = overconfident_anees(
        FusionConfig {
            consistency: trilink_fusion::ConsistencyConfig {
                threshold: f64::INFINITY,
                ..Default::default()
            },
            ..Default::default()
        },
        10,
    );
    eprintln!("fused ANEES/dof with an input 10× overconfident: {with:.2} with inflation, {without:.2} without");
    assert!(with < 1.2, "with inflation {with}");
    assert!(without > 10.0, "without inflation {without}");
}
