//! The warner's behaviour on simulated flights and on hand-made estimates.
mod common;

use common::*;
use trilink_domain::{FlightPhase, PointEstimate, TrackEstimate};
use trilink_warn::{
    read_csv, write_csv, Kind, State, TrackPicture, WarnConfig, Warner, WarningRow, CSV_HEADER,
};

/// Runs a whole flight through a nation's warner, one estimate a second from `first_s`, and
/// ends the track at its last estimate.
fn run(nation: &str, class: &str, first_s: f64, with_impact: bool) -> Vec<WarningRow> {
    run_with(nation, class, first_s, with_impact, corridor())
}

/// The rule with the boost corridor on (gain 0.5) and a low threshold: what these tests were
/// written against, and what `--warn boost_speed_gain=0.5 --warn p_issue=0.05` gives.
fn corridor() -> WarnConfig {
    WarnConfig {
        p_issue: 0.05,
        issue_after: 2,
        boost_speed_gain: 0.5,
        boost_corridor_after_s: 0.0,
        ..WarnConfig::default()
    }
}

fn run_with(
    nation: &str,
    class: &str,
    first_s: f64,
    with_impact: bool,
    cfg: WarnConfig,
) -> Vec<WarningRow> {
    let t = truth(class);
    let mut w = Warner::new(nation, &scenario_regions(), cfg).expect("warner");
    let mut rows = Vec::new();
    let end = t.traj.t_end_s() - 0.5;
    let mut now = first_s;
    while now <= end {
        let e = estimate(&t, now, with_impact);
        let tp = TrackPicture {
            ctn: 7,
            estimate: &e,
            evidence: vec![101, 202],
            first_detection_s: first_s,
        };
        rows.extend(w.update(now, &[tp]));
        now += 1.0;
    }
    let last = estimate(&t, end, with_impact);
    rows.extend(w.track_ended(end + 1.0, 7, &last, first_s));
    rows
}

fn kinds(rows: &[WarningRow], kind: Kind, state: State) -> Vec<&WarningRow> {
    rows.iter()
        .filter(|r| r.kind == kind && r.state == state)
        .collect()
}

#[test]
fn an_irbm_over_northern_japan_warns_japan_early_and_not_korea() {
    // Seen from 80 s, in boost (burnout at 140 s); the corridor reaches Japan from 105 s.
    let first = 80.0;
    let jp = run("JP", "hwasong-12", first, true);
    let launch = kinds(&jp, Kind::Launch, State::Issued);
    assert_eq!(launch.len(), 1, "{jp:#?}");
    assert!(
        launch[0].latency_s <= 30.0,
        "launch warning {} s after detection",
        launch[0].latency_s
    );
    assert!(
        launch[0].time_s < 140.0,
        "the launch warning comes during boost"
    );
    let over: Vec<_> = kinds(&jp, Kind::Overflight, State::Issued)
        .iter()
        .filter_map(|r| r.region.clone())
        .collect();
    assert!(
        over.iter().any(|r| r == "Aomori" || r == "Hokkaido"),
        "overflights {over:?}"
    );
    assert!(
        kinds(&jp, Kind::Impact, State::Issued).is_empty(),
        "no Japanese region is hit"
    );
    let landed = kinds(&jp, Kind::Landed, State::Issued);
    assert_eq!(landed.len(), 1);
    assert_eq!(
        landed[0].region.as_deref(),
        Some("Pacific Ocean (outside JP EEZ)")
    );
    assert_eq!(jp.last().map(|r| r.kind), Some(Kind::AllClear));
    // Every row names the system track first, then its evidence.
    assert!(jp.iter().all(|r| r.track_ids == vec![7, 101, 202]));
    assert!(
        run("KR", "hwasong-12", first, true).is_empty(),
        "Korea's regions are never under it"
    );
}

#[test]
fn an_srbm_landing_in_the_sea_of_japan_warns_no_one() {
    for first in [10.0, 15.0, 20.0, 25.0] {
        let jp = run("JP", "kn-23", first, true);
        assert!(jp.is_empty(), "first detection {first} s: {jp:#?}");
        assert!(run("KR", "kn-23", first, true).is_empty());
    }
}

#[test]
fn the_boost_corridor_warns_a_nation_the_missile_heads_for_and_not_one_it_heads_away_from() {
    let t = truth("hwasong-12");
    let jp = Warner::new("JP", &scenario_regions(), corridor()).expect("warner");
    let kr = Warner::new("KR", &scenario_regions(), corridor()).expect("warner");
    let e = estimate(&t, 110.0, false);
    let a = jp.assess(&e, None);
    assert!(a.boosting);
    let best = a.per_region.iter().map(|r| r.3).fold(0.0, f64::max);
    assert!(best > 0.5, "{a:#?}");
    let a = kr.assess(&e, None);
    assert!(
        a.per_region
            .iter()
            .all(|r| r.1 == 0.0 && r.2 == 0.0 && r.3 == 0.0),
        "{a:#?}"
    );
}

#[test]
fn the_warner_falls_back_on_its_own_path_when_the_track_has_no_impact_estimate() {
    let jp = run("JP", "hwasong-12", 60.0, false);
    assert_eq!(kinds(&jp, Kind::Launch, State::Issued).len(), 1);
    assert!(
        !kinds(&jp, Kind::Overflight, State::Issued).is_empty(),
        "{jp:#?}"
    );
    assert!(kinds(&jp, Kind::Impact, State::Issued).is_empty());
}

/// A ballistic estimate of the hwasong-12 payload at 650 s (east of Japan, high up) whose
/// impact estimate is moved to `(lat, lon)` (the warner bends the path onto it).
fn aimed(t_s: f64, lat: f64, lon: f64, impact_t_s: f64, semi_m: f64) -> TrackEstimate {
    let t = truth("hwasong-12");
    let mut e = estimate(&t, 650.0, true);
    e.time_s = t_s;
    e.impact = Some(PointEstimate {
        time_s: impact_t_s,
        lat_deg: lat,
        lon_deg: lon,
        semi_major_m: semi_m,
        semi_minor_m: semi_m,
        orientation_deg: 0.0,
    });
    e
}

fn step(w: &mut Warner, now: f64, e: &TrackEstimate) -> Vec<WarningRow> {
    let tp = TrackPicture {
        ctn: 3,
        estimate: e,
        evidence: vec![11],
        first_detection_s: 100.0,
    };
    w.update(now, &[tp])
}

fn cfg() -> WarnConfig {
    WarnConfig {
        eval_interval_s: 0.0,
        issue_after: 1,
        p_issue: 0.05,
        ..WarnConfig::default()
    }
}

#[test]
fn with_the_default_rule_an_irbm_over_aomori_warns_japan_before_the_overflight_and_no_one_else() {
    let jp = run_with("JP", "hwasong-12", 80.0, true, WarnConfig::default());
    let over: Vec<&WarningRow> = kinds(&jp, Kind::Overflight, State::Issued);
    assert!(
        over.iter()
            .any(|r| r.region.as_deref() == Some("Aomori") && r.time_s < 390.0),
        "{jp:#?}"
    );
    assert_eq!(kinds(&jp, Kind::Launch, State::Issued).len(), 1, "{jp:#?}");
    assert!(run_with("KR", "hwasong-12", 80.0, true, WarnConfig::default()).is_empty());
    for first in [10.0, 25.0] {
        assert!(run_with("JP", "kn-23", first, true, WarnConfig::default()).is_empty());
    }
}

#[test]
fn an_impact_well_inside_a_region_is_warned_and_one_far_away_is_not() {
    let mut w = Warner::new("JP", &scenario_regions(), cfg()).expect("warner");
    let rows = step(&mut w, 400.0, &aimed(400.0, 40.85, 140.75, 700.0, 10_000.0));
    let impact = kinds(&rows, Kind::Impact, State::Issued);
    assert_eq!(impact.len(), 1, "{rows:#?}");
    assert_eq!(impact[0].region.as_deref(), Some("Aomori"));
    assert_eq!(impact[0].impact_time_s, Some(700.0));
    assert_eq!(impact[0].latency_s, 300.0);
    assert_eq!(rows[0].kind, Kind::Launch);

    let mut far = Warner::new("JP", &scenario_regions(), cfg()).expect("warner");
    assert!(step(&mut far, 400.0, &aimed(400.0, 33.0, 170.0, 900.0, 10_000.0)).is_empty());
}

#[test]
fn an_impact_straddling_a_region_edge_has_a_probability_between() {
    let w = Warner::new("JP", &scenario_regions(), cfg()).expect("warner");
    let a = w.assess(&aimed(400.0, 40.875, 141.70, 700.0, 30_000.0), None);
    let (_, p, _, _) = a
        .per_region
        .iter()
        .find(|r| r.0 == "Aomori")
        .expect("Aomori");
    assert!(*p > 0.3 && *p < 0.7, "P_impact = {p}");
}

/// Finds an impact centre east of Aomori whose P_impact is near `target`.
fn centre_for(w: &Warner, target: f64) -> (f64, f64) {
    let mut best = (f64::INFINITY, 0.0, 0.0);
    for k in 0..200 {
        let lon = 141.70 + k as f64 * 0.005;
        let a = w.assess(&aimed(400.0, 40.875, lon, 700.0, 30_000.0), None);
        let p = a
            .per_region
            .iter()
            .find(|r| r.0 == "Aomori")
            .map(|r| r.1)
            .unwrap_or(0.0);
        if (p - target).abs() < best.0 {
            best = ((p - target).abs(), 40.875, lon);
        }
    }
    (best.1, best.2)
}

#[test]
fn a_probability_oscillating_around_p_issue_does_not_flap() {
    let mut w = Warner::new("JP", &scenario_regions(), cfg()).expect("warner");
    let above = centre_for(&w, 0.09);
    let below = centre_for(&w, 0.025);
    let mut rows = Vec::new();
    for k in 0..40 {
        let c = if k % 2 == 0 { above } else { below };
        rows.extend(step(
            &mut w,
            400.0 + 2.0 * k as f64,
            &aimed(400.0 + 2.0 * k as f64, c.0, c.1, 700.0, 30_000.0),
        ));
    }
    let aomori: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == Kind::Impact && r.region.as_deref() == Some("Aomori"))
        .collect();
    assert_eq!(
        aomori.iter().filter(|r| r.state == State::Issued).count(),
        1,
        "{aomori:#?}"
    );
    assert_eq!(
        aomori
            .iter()
            .filter(|r| r.state == State::Cancelled)
            .count(),
        0
    );
}

#[test]
fn a_warning_is_issued_updated_on_a_real_change_and_cancelled_after_the_hold() {
    let mut w = Warner::new("JP", &scenario_regions(), cfg()).expect("warner");
    let mut rows = step(&mut w, 400.0, &aimed(400.0, 40.85, 140.75, 700.0, 10_000.0));
    // A 2 s shift of time: not significant.
    rows.extend(step(
        &mut w,
        420.0,
        &aimed(420.0, 40.85, 140.75, 702.0, 10_000.0),
    ));
    // 30 s later than predicted: an update.
    rows.extend(step(
        &mut w,
        430.0,
        &aimed(430.0, 40.85, 140.75, 730.0, 10_000.0),
    ));
    // The prediction leaves Japan: cancelled only after hold_s below p_cancel.
    for k in 0..=20 {
        let now = 440.0 + 2.0 * k as f64;
        rows.extend(step(&mut w, now, &aimed(now, 33.0, 170.0, 900.0, 10_000.0)));
    }
    let aomori: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == Kind::Impact && r.region.as_deref() == Some("Aomori"))
        .map(|r| (r.state, r.time_s))
        .collect();
    assert_eq!(
        aomori,
        vec![
            (State::Issued, 400.0),
            (State::Updated, 430.0),
            (State::Cancelled, 470.0)
        ]
    );
    let ids: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == Kind::Impact)
        .map(|r| r.warning_id.clone())
        .collect();
    assert!(ids.iter().all(|i| i == "JP-3-impact-Aomori-1"), "{ids:?}");
    let launch: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == Kind::Launch)
        .map(|r| r.state)
        .collect();
    assert_eq!(
        launch,
        vec![State::Issued, State::Cancelled],
        "the launch warning ends with the last region warning"
    );
}

#[test]
fn a_track_that_vanishes_high_up_is_cancelled_without_a_landed_or_passed_claim() {
    let mut w = Warner::new("JP", &scenario_regions(), cfg()).expect("warner");
    let e = aimed(400.0, 40.85, 140.75, 700.0, 10_000.0);
    assert!(!step(&mut w, 400.0, &e).is_empty());
    // Lost at 400 s, hundreds of kilometres up, long before its predicted impact.
    let rows = w.track_ended(410.0, 3, &e, 100.0);
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.state == State::Cancelled),
        "{rows:#?}"
    );
    assert!(rows
        .iter()
        .all(|r| r.kind != Kind::Landed && r.kind != Kind::AllClear));
    assert!(w.active().is_empty());
}

#[test]
fn a_landing_is_named_by_region_or_by_sea_inside_or_outside_the_eez() {
    let landed_at = |lat: f64, lon: f64| {
        let mut w = Warner::new("JP", &scenario_regions(), cfg()).expect("warner");
        // Warned first (only a warned nation hears of the landing).
        assert!(!step(&mut w, 400.0, &aimed(400.0, 40.85, 140.75, 700.0, 10_000.0)).is_empty());
        let mut last = aimed(690.0, lat, lon, 700.0, 10_000.0);
        last.phase = FlightPhase::Terminal;
        let rows = w.track_ended(705.0, 3, &last, 100.0);
        let landed = kinds(&rows, Kind::Landed, State::Issued);
        assert_eq!(landed.len(), 1, "{rows:#?}");
        assert_eq!(rows.last().map(|r| r.kind), Some(Kind::AllClear));
        landed[0].region.clone().unwrap_or_default()
    };
    assert_eq!(landed_at(40.85, 140.75), "Aomori");
    // 100 km off Aomori's west coast.
    assert_eq!(
        landed_at(40.9, 138.6),
        "Sea of Japan (East Sea) (inside JP EEZ)"
    );
    // The kn-23 template's landing, 650 km away.
    assert_eq!(
        landed_at(41.03, 131.91),
        "Sea of Japan (East Sea) (outside JP EEZ)"
    );
}

#[test]
fn a_nation_that_was_never_warned_hears_nothing_of_a_landing() {
    let mut w = Warner::new("KR", &scenario_regions(), cfg()).expect("warner");
    let e = aimed(400.0, 40.85, 140.75, 700.0, 10_000.0);
    assert!(step(&mut w, 400.0, &e).is_empty());
    assert!(w.track_ended(705.0, 3, &e, 100.0).is_empty());
}

#[test]
fn a_restarted_warner_replaying_the_same_input_issues_nothing_twice_and_loses_nothing() {
    let t = truth("hwasong-12");
    let first = 60.0;
    let end = t.traj.t_end_s() - 0.5;
    let times: Vec<f64> = (0..)
        .map(|k| first + k as f64)
        .take_while(|x| *x <= end)
        .collect();
    let feed = |w: &mut Warner, from: f64, until: f64| {
        let mut rows = Vec::new();
        for &now in times.iter().filter(|x| **x >= from && **x <= until) {
            let e = estimate(&t, now, true);
            let tp = TrackPicture {
                ctn: 7,
                estimate: &e,
                evidence: vec![101],
                first_detection_s: first,
            };
            rows.extend(w.update(now, &[tp]));
        }
        if until >= end {
            rows.extend(w.track_ended(end + 1.0, 7, &estimate(&t, end, true), first));
        }
        rows
    };
    let mut once = Warner::new("JP", &scenario_regions(), WarnConfig::default()).expect("warner");
    let all = feed(&mut once, 0.0, f64::INFINITY);
    assert!(all.len() >= 4, "{all:#?}");
    // Stop just after the second row; restart from the file; replay everything from the start.
    let stop = all[1].time_s + 3.0;
    let mut before = Warner::new("JP", &scenario_regions(), WarnConfig::default()).expect("warner");
    let rows_before = feed(&mut before, 0.0, stop);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("warnings.csv");
    write_csv(&file, &rows_before).expect("write");
    let mut after = Warner::new("JP", &scenario_regions(), WarnConfig::default()).expect("warner");
    after.resume(&read_csv(&file).expect("read"));
    let rows_after = feed(&mut after, 0.0, f64::INFINITY);
    let mut joined = rows_before.clone();
    joined.extend(rows_after);
    assert_eq!(joined, all);
}

#[test]
fn the_csv_header_is_exactly_the_contract_and_rows_round_trip() {
    assert_eq!(
        CSV_HEADER,
        "time_s,warning_id,nation,kind,state,region,impact_time_s,impact_lat_deg,impact_lon_deg,semi_major_m,semi_minor_m,orientation_deg,track_ids,latency_s"
    );
    let rows = run("JP", "hwasong-12", 60.0, true);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("warnings.csv");
    write_csv(&file, &rows).expect("write");
    let text = std::fs::read_to_string(&file).expect("read");
    assert_eq!(text.lines().next(), Some(CSV_HEADER));
    let launch = text.lines().nth(1).expect("a row");
    assert!(
        launch.contains(",launch,issued,,,,,,,,7;101;202,"),
        "{launch}"
    );
    assert_eq!(read_csv(&file).expect("parse"), rows);
}

#[test]
fn a_single_assessment_above_the_threshold_alarms_no_one_when_two_are_required() {
    let two = WarnConfig {
        eval_interval_s: 0.0,
        issue_after: 2,
        ..WarnConfig::default()
    };
    let mut w = Warner::new("JP", &scenario_regions(), two).expect("warner");
    let inside = aimed(400.0, 40.85, 140.75, 700.0, 10_000.0);
    let far = aimed(402.0, 30.0, 160.0, 700.0, 10_000.0);
    // Above, then below: the spike is forgotten.
    assert!(step(&mut w, 400.0, &inside).is_empty());
    assert!(step(&mut w, 402.0, &far).is_empty());
    assert!(step(&mut w, 404.0, &inside).is_empty());
    // Twice in a row: issued.
    let rows = step(&mut w, 406.0, &inside);
    assert_eq!(
        kinds(&rows, Kind::Impact, State::Issued).len(),
        1,
        "{rows:?}"
    );
}

#[test]
fn journal_lines_read_back_as_the_rows_they_were() {
    let rows = run("JP", "hwasong-12", 60.0, true);
    assert!(!rows.is_empty());
    let lines: Vec<String> = rows.iter().map(trilink_warn::csv_line).collect();
    assert!(lines.iter().all(|l| !l.contains('\n')));
    let back =
        trilink_warn::parse_csv_lines(std::path::Path::new("journal"), &lines).expect("parse");
    assert_eq!(back, rows);
}

#[test]
fn the_corridor_waits_for_a_burn_longer_than_a_short_range_missiles() {
    let t = truth("hwasong-12");
    let cfg = WarnConfig {
        boost_corridor_after_s: 60.0,
        ..corridor()
    };
    assert_eq!(
        WarnConfig::default().boost_corridor_after_s,
        60.0,
        "the default waits as this test does"
    );
    let jp = Warner::new("JP", &scenario_regions(), cfg).expect("warner");
    let mut e = estimate(&t, 110.0, false);
    let reach = |w: &Warner, e: &TrackEstimate| {
        w.assess(e, None)
            .per_region
            .iter()
            .map(|r| r.3)
            .fold(0.0, f64::max)
    };
    // No launch estimate: the burn's length is unknown, so no corridor.
    assert_eq!(reach(&jp, &e), 0.0);
    let launched = |at_s: f64| trilink_domain::PointEstimate {
        time_s: at_s,
        lat_deg: 40.6,
        lon_deg: 126.4,
        semi_major_m: 5_000.0,
        semi_minor_m: 2_000.0,
        orientation_deg: 80.0,
    };
    // Launched 40 s ago: as short a burn as an SRBM's, still no corridor.
    e.launch = Some(launched(70.0));
    assert_eq!(reach(&jp, &e), 0.0);
    // Launched 110 s ago and still burning: the corridor reaches Japan.
    e.launch = Some(launched(0.0));
    assert!(reach(&jp, &e) > 0.5);
}
