//! Three national nodes on the embedded bus: policy, sanitisation, attacks and restarts.
use std::collections::BTreeMap;
use std::time::Duration;

use trilink_bus::embedded::EmbeddedBus;
use trilink_bus::{Permissions, Transport};
use trilink_journal::{Journal, SyncPolicy};
use trilink_node::{
    run_node, FabricScenario, NodeConfig, NodeHandle, SyntheticSource, TrackSource,
};
use trilink_wire::report::example_report;
use trilink_wire::{Identity, Nation, Payload, Policy, RelTo, Sealer, TrustStore};

fn n(s: &str) -> Nation {
    s.parse().unwrap()
}

fn seed_of(nation: Nation) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[..2].copy_from_slice(nation.as_str().as_bytes());
    s
}

fn trust_all(sc: &FabricScenario) -> TrustStore {
    let mut t = TrustStore::new();
    for nat in sc.nation_codes() {
        t.trust(
            nat,
            Identity::from_seed(nat, format!("{nat}-1"), seed_of(nat)).verifying_key(),
        );
    }
    t
}

async fn start(
    bus: &EmbeddedBus,
    sc: &FabricScenario,
    nat: Nation,
    journal: Option<Journal>,
) -> NodeHandle {
    let mut cfg = NodeConfig::new(nat, format!("{nat}-1"), sc.policy.rel_to(nat));
    cfg.links = sc
        .nation_codes()
        .into_iter()
        .map(|d| (d, sc.link(nat, d)))
        .collect();
    let client = bus.client(Permissions::for_nation(nat, &sc.policy));
    let id = Identity::from_seed(nat, format!("{nat}-1"), seed_of(nat));
    run_node(cfg, id, trust_all(sc), journal, client)
        .await
        .unwrap()
}

async fn feed(h: &NodeHandle, src: &mut dyn TrackSource) -> u64 {
    let tx = h.outbound.clone().unwrap();
    let mut count = 0;
    while let Some((_, tracks)) = src.next_update() {
        for t in tracks {
            tx.send(t.to_report()).await.unwrap();
            count += 1;
        }
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_and_spoke_delivers_exactly_what_the_policy_releases() {
    let sc = FabricScenario::builtin_default();
    let bus = EmbeddedBus::new();
    let mut handles = BTreeMap::new();
    for nat in sc.nation_codes() {
        handles.insert(
            nat,
            start(&bus, &sc, nat, Some(Journal::open_in_memory().unwrap())).await,
        );
    }
    let mut produced = BTreeMap::new();
    for (&nat, h) in &handles {
        let mut src = SyntheticSource::new(&sc, nat, 7);
        produced.insert(nat, feed(h, &mut src).await);
    }
    for h in handles.values_mut() {
        h.finish_sending().await.unwrap();
    }
    // Links delay up to ~25 ms; let the last frames land.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut stats = BTreeMap::new();
    for (nat, h) in handles {
        stats.insert(nat, h.stop().await.unwrap());
    }
    let (kr, jp, us) = (&stats[&n("KR")], &stats[&n("JP")], &stats[&n("US")]);
    assert_eq!(kr.reports_sent, produced[&n("KR")]);
    assert_eq!(
        us.received_from.get("KR").copied(),
        Some(produced[&n("KR")])
    );
    assert_eq!(
        us.received_from.get("JP").copied(),
        Some(produced[&n("JP")])
    );
    assert_eq!(
        kr.received_from.keys().collect::<Vec<_>>(),
        vec!["US"],
        "KR hears only the US"
    );
    assert_eq!(
        jp.received_from.keys().collect::<Vec<_>>(),
        vec!["US"],
        "JP hears only the US"
    );
    assert_eq!(kr.received_from["US"], produced[&n("US")]);
    for (nat, s) in &stats {
        assert_eq!(s.rejected_total(), 0, "{nat}: {:?}", s.rejected);
        assert!(s.frames_sent > 0 && s.latency().is_some(), "{nat}");
    }
}

/// Every byte KR's node puts on the bus, scanned for its sensors' identities, types and sites.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_outbound_byte_reveals_a_sensor_id_type_or_site() {
    let sc = FabricScenario::builtin_default();
    let bus = EmbeddedBus::new();
    // A tap with every permission, standing for the whole wire.
    let tap_perms = Permissions {
        nation: n("ZZ"),
        publish: vec![],
        subscribe: vec![">".into()],
    };
    let mut tap = bus.client(tap_perms).subscribe(">".into()).await.unwrap();
    let kr = n("KR");
    let mut h = start(&bus, &sc, kr, None).await;
    let mut src = SyntheticSource::new(&sc, kr, 3);
    let sent = feed(&h, &mut src).await;
    h.finish_sending().await.unwrap();
    h.stop().await.unwrap();
    let mut wire = Vec::new();
    let mut envelopes = 0;
    while let Ok(d) = tap.try_recv() {
        wire.extend_from_slice(&d.payload);
        wire.push(0);
        envelopes += 1;
    }
    assert!(
        sent > 50 && envelopes > 5,
        "too little traffic to prove anything: {sent} reports"
    );
    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    for s in &sc.nation(kr).unwrap().sensors {
        needles.push((format!("id {}", s.id), s.id.as_bytes().to_vec()));
        needles.push((format!("kind {}", s.kind), s.kind.as_bytes().to_vec()));
        let site = trilink_geo::Geodetic::from_degrees(s.lat_deg, s.lon_deg, s.alt_m).unwrap();
        let ecef = site.to_ecef();
        let mut values = vec![
            ("lat_deg", s.lat_deg),
            ("lon_deg", s.lon_deg),
            ("alt_m", s.alt_m),
            ("lat_rad", site.lat_rad),
            ("lon_rad", site.lon_rad),
            ("ecef_x", ecef.0.x),
            ("ecef_y", ecef.0.y),
            ("ecef_z", ecef.0.z),
        ];
        values.push(("max_range_m", s.max_range_m));
        for (what, v) in values {
            needles.push((format!("{} {what} f64", s.id), v.to_le_bytes().to_vec()));
            needles.push((
                format!("{} {what} f32", s.id),
                (v as f32).to_le_bytes().to_vec(),
            ));
            for text in [format!("{v}"), format!("{v:.2}"), format!("{v:.4}")] {
                if text.len() >= 4 {
                    needles.push((format!("{} {what} text {text}", s.id), text.into_bytes()));
                }
            }
        }
    }
    for (what, needle) in &needles {
        let found = wire.windows(needle.len()).any(|w| w == needle.as_slice());
        assert!(!found, "outbound bytes reveal {what}");
    }
    // The scan is not vacuous: a value that is in the reports (the first launch's latitude,
    // which the public mechanism does share) is found the same way.
    let shared = sc.launches[0].launch_lat_deg.to_le_bytes();
    assert!(
        wire.windows(8).any(|w| w == shared),
        "scan failed to find a value that is sent"
    );
}

/// An attacker on the bus (or a faulty ally) sends everything a receiver must refuse; the node
/// journals each with its reason, keeps running, and loses none of the good traffic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attacks_are_rejected_journaled_and_good_traffic_still_flows() {
    let mut policy = Policy::new();
    policy.release(n("KR"), [n("US")]);
    let bus = EmbeddedBus::new();
    // The attacker can publish into the US inbox as if from KR (a compromised KR client).
    let attacker = bus.client(Permissions {
        nation: n("KR"),
        publish: vec![">".into()],
        subscribe: vec![],
    });
    let dir = tempfile::tempdir().unwrap();
    let jpath = dir.path().join("us.sqlite");
    let kr_id = Identity::from_seed(n("KR"), "KR-1", [1; 32]);
    let revoked_id = Identity::from_seed(n("KR"), "KR-old", [2; 32]);
    let mut trust = TrustStore::new();
    trust.trust(n("KR"), kr_id.verifying_key());
    trust.trust(n("KR"), revoked_id.verifying_key());
    trust.revoke(revoked_id.key_id.clone());
    let us_cfg = NodeConfig::new(n("US"), "US-1", RelTo::default());
    let us = run_node(
        us_cfg,
        Identity::from_seed(n("US"), "US-1", [3; 32]),
        trust,
        Some(Journal::open(&jpath, SyncPolicy::Normal).unwrap()),
        bus.client(Permissions::for_nation(n("US"), &policy)),
    )
    .await
    .unwrap();
    let now = trilink_journal::now_unix_us();
    let to_us = RelTo::new([n("US")]);
    let mut kr = Sealer::new(kr_id, 1);
    let mut stranger = Sealer::new(Identity::from_seed(n("KR"), "KR-x", [9; 32]), 1);
    let mut revoked = Sealer::new(revoked_id, 1);
    let good = |i: u64| Payload::Tracks(vec![example_report(i, 1.0)]);
    let mut msgs: Vec<Vec<u8>> = Vec::new();
    let g1 = kr.seal(&good(1), &to_us, now).bytes;
    msgs.push(g1.clone());
    let mut flipped = kr.seal(&good(2), &to_us, now).bytes;
    let k = flipped.len() - 70;
    flipped[k] ^= 0x10;
    msgs.push(flipped);
    msgs.push(stranger.seal(&good(3), &to_us, now).bytes);
    msgs.push(revoked.seal(&good(4), &to_us, now).bytes);
    msgs.push(g1.clone()); // replay
    msgs.push(kr.seal(&good(5), &RelTo::new([n("JP")]), now).bytes);
    msgs.push(b"\x00garbage\xff\xff".to_vec());
    msgs.push(vec![0x0a; 300 * 1024]);
    let mut nan = example_report(6, 1.0);
    nan.state[0] = f64::NAN;
    msgs.push(kr.seal(&Payload::Tracks(vec![nan]), &to_us, now).bytes);
    let mut bad_cov = example_report(7, 1.0);
    bad_cov.covariance_upper[0] = -5.0;
    msgs.push(kr.seal(&Payload::Tracks(vec![bad_cov]), &to_us, now).bytes);
    let g2 = kr.seal(&good(8), &to_us, now).bytes;
    msgs.push(g2);
    for m in msgs {
        attacker
            .publish("trilink.v1.US.KR.env".into(), String::new(), m.into())
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = us.stop().await.unwrap();
    assert_eq!(s.reports_received, 2, "both good frames arrive");
    let mut expect = [
        ("bad_signature", 1),
        ("not_releasable", 1),
        ("non_finite", 1),
        ("not_spd", 1),
        ("oversize", 1),
        ("revoked_key", 1),
        ("undecodable", 1),
        ("unknown_key", 1),
    ];
    let mut got: Vec<(&str, u64)> = s.rejected.iter().map(|(k, v)| (*k, *v)).collect();
    got.sort();
    expect.sort();
    // The replayed envelope was already journaled, so it is a recognised duplicate.
    assert_eq!(s.duplicates, 1);
    assert_eq!(got, expect.to_vec());
    let j = Journal::open(&jpath, SyncPolicy::Normal).unwrap();
    let c = j.counts().unwrap();
    assert_eq!(c.received, 2);
    let total_rejected: u64 = c.rejected.iter().map(|r| r.1).sum();
    assert_eq!(total_rejected, 9, "{:?}", c.rejected);
}

/// A node restarted on its journal continues its sequence numbers, so allies that kept running
/// do not mistake its new frames for replays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_sender_continues_its_sequence_from_the_journal() {
    let sc = FabricScenario::builtin_default();
    let bus = EmbeddedBus::new();
    let dir = tempfile::tempdir().unwrap();
    let kp = dir.path().join("kr.sqlite");
    let mut us = start(&bus, &sc, n("US"), None).await;
    let us_tx = us.outbound.take();
    drop(us_tx);
    for round in 0..2 {
        let kr = start(
            &bus,
            &sc,
            n("KR"),
            Some(Journal::open(&kp, SyncPolicy::Full).unwrap()),
        )
        .await;
        let tx = kr.outbound.clone().unwrap();
        for i in 0..100 {
            tx.send(example_report(i + round * 100, 1.0)).await.unwrap();
        }
        drop(tx);
        kr.stop().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let s = us.stop().await.unwrap();
    assert_eq!(s.reports_received, 200);
    assert_eq!(s.rejected_total(), 0, "{:?}", s.rejected);
    let j = Journal::open(&kp, SyncPolicy::Full).unwrap();
    assert_eq!(j.counts().unwrap().pending, 0);
    assert_eq!(j.counts().unwrap().sent_reports, 200);
}
