//! A nation's picture: relay releasability end to end over the bus, an inconsistent allied
//! report gated out, an ally that falls silent.
use std::collections::BTreeSet;

use trilink_domain::{RelayRule, TrackEstimate};
use trilink_journal::SyncPolicy;
use trilink_node::orchestrate::{run_all, synthetic_sources, BusChoice, RunOptions};
use trilink_node::picture::{build, Mode, PictureConfig};
use trilink_node::{AlliedFrame, FabricScenario, NationalTrack};
use trilink_wire::report::{example_report, Provenance};
use trilink_wire::{Nation, RelTo, TrackReport};

fn n(s: &str) -> Nation {
    s.parse().unwrap()
}

fn relay_only_jp_to_kr() -> FabricScenario {
    let mut sc = FabricScenario::builtin_default();
    sc.relays = vec![RelayRule {
        from: n("JP"),
        via: n("US"),
        to: [n("KR")].into(),
    }];
    sc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_never_relays_a_source_to_a_nation_it_did_not_release_to() {
    // KR grants the hub nothing: nothing holding KR's information may reach JP, directly or
    // through the US; JP's may reach KR.
    let sc = relay_only_jp_to_kr();
    let sc_relay = sc.clone();
    let cfg = PictureConfig::default();
    let opts = RunOptions {
        speed: 0.0,
        out_dir: None,
        sync: SyncPolicy::Normal,
        seed: 7,
        progress: None,
        relay: Some(Box::new(move |hub, own, allied| {
            build(&sc_relay, &cfg, hub, Mode::Shared, own, allied, &|_| None)
                .map(|p| p.relay)
                .unwrap_or_default()
        })),
    };
    let report = run_all(&sc, BusChoice::Embedded, opts, synthetic_sources(&sc, 7))
        .await
        .unwrap();
    let carries = |frames: &[AlliedFrame], source: Nation| {
        frames
            .iter()
            .flat_map(|f| &f.reports)
            .filter(|r| r.provenance.nations.contains(&source))
            .count()
    };
    let jp = &report.allied[&n("JP")];
    let kr = &report.allied[&n("KR")];
    assert_eq!(carries(jp, n("KR")), 0, "KR's information reached JP");
    assert!(
        jp.iter().all(|f| f.origin == n("US")),
        "JP heard someone other than the hub"
    );
    assert!(
        carries(kr, n("JP")) > 0,
        "JP's grant should have let its information reach KR through the US"
    );
    // Every relayed frame is labelled with a REL TO its sources allow.
    for f in kr
        .iter()
        .filter(|f| f.reports.iter().any(|r| !r.provenance.nations.is_empty()))
    {
        assert_eq!(f.rel_to, RelTo::new([n("KR")]));
    }
}

/// A motionless point 300 km up (gravity moves it metres in a second, far inside its σ).
fn estimate(track_number: u64, time_s: f64, offset_m: f64) -> TrackEstimate {
    let mut r = example_report(track_number, time_s);
    r.state[3..].copy_from_slice(&[0.0, 0.0, 0.0]);
    r.state[0] += offset_m;
    r.launch = None;
    r.impact = None;
    r.to_estimate()
}

fn own(times: impl Iterator<Item = f64>) -> Vec<NationalTrack> {
    times
        .map(|t| NationalTrack {
            estimate: estimate(5, t, 0.0),
            contributing_sensors: Vec::new(),
        })
        .collect()
}

fn frame(origin: Nation, seq: u64, reports: Vec<TrackReport>) -> AlliedFrame {
    AlliedFrame {
        origin,
        node_id: format!("{origin}-1"),
        sequence: seq,
        rel_to: RelTo::new([n("JP")]),
        send_time_unix_us: 0,
        journaled_unix_us: 0,
        reports,
    }
}

fn us_report(t: f64, offset_m: f64) -> TrackReport {
    TrackReport::from_estimate(&estimate(9, t, offset_m), Provenance::default())
}

/// Japan's shared picture, without truth.
fn japan_shared(
    sc: &FabricScenario,
    mine: &[NationalTrack],
    frames: &[AlliedFrame],
) -> trilink_node::picture::Picture {
    build(
        sc,
        &PictureConfig::default(),
        n("JP"),
        Mode::Shared,
        mine,
        frames,
        &|_| None,
    )
    .unwrap()
}

#[test]
fn an_allied_report_far_from_the_fused_track_is_gated_out_and_kept_for_the_journal() {
    let sc = FabricScenario::builtin_default();
    let mine = own((0..30).map(f64::from));
    // The US track agrees for 20 s, then jumps 500 km.
    let frames: Vec<AlliedFrame> = (0..30)
        .map(|i| {
            let t = f64::from(i);
            let off = if i < 20 { 0.0 } else { 500_000.0 };
            frame(n("US"), i as u64 + 1, vec![us_report(t, off)])
        })
        .collect();
    let p = japan_shared(&sc, &mine, &frames);
    let gated: Vec<_> = p.gated_out.iter().filter(|g| g.source == n("US")).collect();
    assert!(!gated.is_empty(), "the jump was fused");
    assert!(gated.iter().all(|g| g.available_s >= 20.0), "{gated:?}");
    assert!(
        gated[0].detail.contains("GateFailed"),
        "{}",
        gated[0].detail
    );
    // Before the jump both nations were in the picture; JP's system track never followed the
    // jump (once released, the US track may stand as an object of its own, elsewhere).
    assert!(p
        .fused
        .iter()
        .any(|f| f.contributors == BTreeSet::from([n("JP"), n("US")])));
    let x0 = estimate(5, 0.0, 0.0).state[0];
    assert!(p
        .fused
        .iter()
        .filter(|f| f.contributors.contains(&n("JP")))
        .all(|f| (f.estimate.state[0] - x0).abs() < 50_000.0));
}

#[test]
fn an_ally_that_falls_silent_ages_out_and_the_picture_goes_on() {
    let sc = FabricScenario::builtin_default();
    let mine = own((0..60).map(f64::from));
    let frames: Vec<AlliedFrame> = (0..10)
        .map(|i| frame(n("US"), i + 1, vec![us_report(i as f64, 0.0)]))
        .collect();
    let p = japan_shared(&sc, &mine, &frames);
    let early = p
        .fused
        .iter()
        .find(|f| f.estimate.time_s < 10.0 && f.contributors.len() == 2);
    assert!(early.is_some(), "the ally was never fused");
    let late: Vec<_> = p
        .fused
        .iter()
        .filter(|f| f.estimate.time_s > 40.0)
        .collect();
    assert!(!late.is_empty(), "the picture stopped with the ally");
    assert!(late
        .iter()
        .all(|f| f.contributors == BTreeSet::from([n("JP")])));
    // One system track throughout: the number did not change when the ally left.
    let ctns: BTreeSet<u64> = p.fused.iter().map(|f| f.estimate.track_number).collect();
    assert_eq!(ctns.len(), 1, "{ctns:?}");
}
