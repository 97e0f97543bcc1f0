//! Every kind and state of warning as CAP 1.2, validated against the OASIS schema.
mod common;

use std::process::Command;

use common::*;
use trilink_warn::{
    cap_xml, write_cap_dir, CapContext, Kind, State, TrackPicture, WarnConfig, Warner, WarningRow,
};

/// The hwasong-12 scenario's epoch, 2022-10-03T22:22:00Z.
const EPOCH_UNIX_S: f64 = 1_664_835_720.0;

/// Rows of every kind and state: a full hwasong-12 flight for Japan, plus an impact warning
/// issued, updated and cancelled, and a vanished track's cancellation.
fn every_kind_and_state() -> (Warner, Vec<WarningRow>) {
    let t = truth("hwasong-12");
    let mut w = Warner::new(
        "JP",
        &scenario_regions(),
        WarnConfig {
            eval_interval_s: 0.0,
            issue_after: 1,
            ..WarnConfig::default()
        },
    )
    .expect("warner");
    let mut rows = Vec::new();
    let end = t.traj.t_end_s() - 0.5;
    let mut now = 80.0;
    while now <= end {
        let e = estimate(&t, now, true);
        rows.extend(w.update(
            now,
            &[TrackPicture {
                ctn: 7,
                estimate: &e,
                evidence: vec![101],
                first_detection_s: 80.0,
            }],
        ));
        now += 2.0;
    }
    rows.extend(w.track_ended(end + 1.0, 7, &estimate(&t, end, true), 80.0));
    // A second track aimed at Aomori, moved, then lost high up.
    let mut e = estimate(&t, 650.0, true);
    let mut aim = |now: f64, lat: f64, t_imp: f64, w: &mut Warner| {
        e.time_s = now;
        if let Some(i) = e.impact.as_mut() {
            i.lat_deg = lat;
            i.lon_deg = 140.75;
            i.time_s = t_imp;
        }
        let r = w.update(
            now,
            &[TrackPicture {
                ctn: 8,
                estimate: &e,
                evidence: vec![102],
                first_detection_s: 600.0,
            }],
        );
        (r, e.clone())
    };
    let (r, _) = aim(700.0, 40.85, 900.0, &mut w);
    rows.extend(r);
    let (r, last) = aim(720.0, 40.85, 940.0, &mut w);
    rows.extend(r);
    rows.extend(w.track_ended(730.0, 8, &last, 600.0));
    (w, rows)
}

#[test]
fn the_rows_cover_every_kind_and_state() {
    let (_, rows) = every_kind_and_state();
    for (k, s) in [
        (Kind::Launch, State::Issued),
        (Kind::Launch, State::Cancelled),
        (Kind::Impact, State::Issued),
        (Kind::Impact, State::Updated),
        (Kind::Impact, State::Cancelled),
        (Kind::Overflight, State::Issued),
        (Kind::Overflight, State::Cancelled),
        (Kind::Landed, State::Issued),
        (Kind::AllClear, State::Issued),
    ] {
        assert!(
            rows.iter().any(|r| r.kind == k && r.state == s),
            "no {k:?} {s:?} in {rows:#?}"
        );
    }
}

#[test]
fn an_update_refers_to_the_message_before_it_and_an_impact_draws_its_ellipse() {
    let (w, rows) = every_kind_and_state();
    let ctx = CapContext {
        sender: "trilink-JP@example.invalid".into(),
        epoch_unix_s: EPOCH_UNIX_S,
        regions: w.regions().to_vec(),
    };
    let upd = rows
        .iter()
        .position(|r| r.kind == Kind::Impact && r.state == State::Updated)
        .expect("an update");
    let issued = rows[..upd]
        .iter()
        .rev()
        .find(|r| r.warning_id == rows[upd].warning_id)
        .expect("its issue");
    let xml = cap_xml(&rows[upd], Some(issued), &ctx);
    assert!(xml.contains("<msgType>Update</msgType>"));
    assert!(xml.contains(&format!(
        "<references>trilink-JP@example.invalid,{}.issued.",
        issued.warning_id
    )));
    assert!(xml.contains("<status>Exercise</status>"));
    assert!(xml.contains("<polygon>"));
    assert!(xml.contains("<sent>2022-10-03T22:3"), "{xml}");
}

#[test]
fn every_alert_validates_against_the_cap_1_2_schema() {
    let (w, rows) = every_kind_and_state();
    let ctx = CapContext {
        sender: "trilink-JP@example.invalid".into(),
        epoch_unix_s: EPOCH_UNIX_S,
        regions: w.regions().to_vec(),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_cap_dir(dir.path(), &rows, &ctx).expect("write");
    assert_eq!(files.len(), rows.len());
    // Korea's circles too.
    let kr = Warner::new("KR", &scenario_regions(), WarnConfig::default()).expect("warner");
    let mut launch = rows[0].clone();
    launch.nation = "KR".into();
    let kr_ctx = CapContext {
        sender: "trilink-KR@example.invalid".into(),
        epoch_unix_s: EPOCH_UNIX_S,
        regions: kr.regions().to_vec(),
    };
    let circle = cap_xml(&launch, None, &kr_ctx);
    assert!(
        circle.contains("<circle>37.57000,126.98000 60</circle>"),
        "{circle}"
    );
    std::fs::write(dir.path().join("kr.xml"), circle).expect("write");

    if std::env::var("TRILINK_SKIP_PYTHON").as_deref() == Ok("1") {
        eprintln!("TRILINK_SKIP_PYTHON=1: CAP schema validation skipped");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/validate_cap.py");
    let out = match Command::new("python3").arg(script).arg(dir.path()).output() {
        Ok(o) => o,
        Err(e) => panic!("python3 is needed to validate CAP alerts ({e}); run `bash scripts/test.sh`, or set TRILINK_SKIP_PYTHON=1"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() != Some(2),
        "the CAP validator's Python packages are missing ({stderr}); run `bash scripts/test.sh`, or set TRILINK_SKIP_PYTHON=1"
    );
    assert!(
        out.status.success(),
        "CAP 1.2 validation failed:\n{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
