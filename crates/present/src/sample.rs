//! A hand-made input shaped like a `trilink run` of the October 2022 Hwasong-12 overflight of
//! northern Japan: for the tests, for the documentation and to look at the page without a
//! run. Its numbers are illustrative, not the output of the simulator.
use serde_json::json;

use crate::{MapData, MapEllipse, MapRegion, NationTimeline, ReportInput, TimelineEvent};

fn ev(t_s: f64, label: &str, kind: &str) -> TimelineEvent {
    TimelineEvent {
        t_s,
        label: label.to_owned(),
        kind: kind.to_owned(),
    }
}

fn region(
    name: &str,
    nation: &str,
    polygon: &[(f64, f64)],
    warned: bool,
    affected: bool,
) -> MapRegion {
    MapRegion {
        name: name.to_owned(),
        nation: nation.to_owned(),
        polygon: polygon.to_vec(),
        warned,
        affected,
    }
}

fn ellipse(
    nation: &str,
    time_s: f64,
    lat: f64,
    lon: f64,
    a_km: f64,
    b_km: f64,
    orient: f64,
) -> MapEllipse {
    MapEllipse {
        lat_deg: lat,
        lon_deg: lon,
        semi_major_m: a_km * 1000.0,
        semi_minor_m: b_km * 1000.0,
        orientation_deg: orient,
        nation: nation.to_owned(),
        time_s,
        label: "impact predicted, Pacific outside EEZ".to_owned(),
    }
}

/// The launch is 120 s after the epoch (22:20:00 UTC), so "07:29 JST" is t = 540 s.
pub fn hwasong12() -> ReportInput {
    let summary = json!({
        "scenario": "hwasong-12",
        "seed": 1,
        "wall_s": 6.1,
        "runs": 1,
        "bus": "embedded",
        "nations": [
            {
                "nation": "JP", "affected": true,
                "first_detection_s": {"own": 215.0, "reachable": 142.0},
                "first_track_s": {"shared": 160.0, "alone": 230.0},
                "first_launch_warning_s": {"shared": 165.0, "alone": 235.0},
                "first_warning_s": {"shared": 165.0, "alone": 235.0},
                "launch_latency_s": {"shared": 23.0, "alone": 20.0},
                "lead_time_s": {"shared": 271.0, "alone": 191.0},
                "gain_s": 70.0,
                "regions": [
                    {"region": "Aomori", "truth_event": "overflight", "truth_time_s": 511.0,
                     "first_warning_s": {"shared": 240.0, "alone": 320.0},
                     "lead_time_s": {"shared": 271.0, "alone": 191.0},
                     "impact_error_m": {"shared": null, "alone": null}},
                    {"region": "Hokkaido", "truth_event": null, "truth_time_s": null,
                     "first_warning_s": {"shared": 250.0, "alone": 330.0},
                     "lead_time_s": {"shared": null, "alone": null},
                     "impact_error_m": {"shared": null, "alone": null}},
                    {"region": "Tokyo islands", "truth_event": null, "truth_time_s": null,
                     "first_warning_s": {"shared": null, "alone": null},
                     "lead_time_s": {"shared": null, "alone": null},
                     "impact_error_m": {"shared": null, "alone": null}}
                ],
                "scores_shared": {"wrong_area": 1, "missed": 0, "false": 0},
                "scores_alone": {"wrong_area": 1, "missed": 0, "false": 0},
                "warnings_shared": 6, "warnings_alone": 5
            },
            {
                "nation": "KR", "affected": false,
                "first_detection_s": {"own": 130.0, "reachable": 130.0},
                "first_track_s": {"shared": 140.0, "alone": 140.0},
                "first_launch_warning_s": {"shared": null, "alone": null},
                "first_warning_s": {"shared": null, "alone": null},
                "launch_latency_s": {"shared": null, "alone": null},
                "lead_time_s": {"shared": null, "alone": null},
                "gain_s": null,
                "regions": [
                    {"region": "Gyeonggi", "truth_event": null, "truth_time_s": null,
                     "first_warning_s": {"shared": null, "alone": null},
                     "lead_time_s": {"shared": null, "alone": null},
                     "impact_error_m": {"shared": null, "alone": null}}
                ],
                "scores_shared": {"wrong_area": 0, "missed": 0, "false": 0},
                "scores_alone": {"wrong_area": 0, "missed": 0, "false": 0},
                "warnings_shared": 0, "warnings_alone": 0
            },
            {
                "nation": "US", "affected": false,
                "first_detection_s": {"own": 150.0, "reachable": 130.0},
                "first_track_s": {"shared": 140.0, "alone": 170.0},
                "first_launch_warning_s": {"shared": null, "alone": null},
                "first_warning_s": {"shared": null, "alone": null},
                "launch_latency_s": {"shared": null, "alone": null},
                "lead_time_s": {"shared": null, "alone": null},
                "gain_s": null,
                "regions": [],
                "scores_shared": {"wrong_area": 0, "missed": 0, "false": 0},
                "scores_alone": {"wrong_area": 0, "missed": 0, "false": 0},
                "warnings_shared": 0, "warnings_alone": 0
            }
        ],
        "public_record": [
            {"nation": "JP", "region": "Aomori", "event": "J-Alert", "time_s": 540.0},
            {"nation": "JP", "region": "Tokyo islands", "event": "J-Alert (issued in error)", "time_s": 1320.0}
        ],
        "monte_carlo": {
            "runs": 100,
            "nations": [
                {"nation": "JP",
                 "lead_time_s": {"shared": {"median": 268.0, "p10": 240.0, "p90": 290.0, "n": 100},
                                 "alone": {"median": 190.0, "p10": 150.0, "p90": 215.0, "n": 100}},
                 "gain_s": {"median": 72.0, "p10": 55.0, "p90": 95.0, "n": 100},
                 "first_warning_s": {"shared": {"median": 166.0, "p10": 158.0, "p90": 180.0, "n": 100},
                                     "alone": {"median": 236.0, "p10": 225.0, "p90": 260.0, "n": 100}},
                 "scores_shared": {"wrong_area": 0.9, "missed": 0.0, "false": 0.0},
                 "scores_alone": {"wrong_area": 1.0, "missed": 0.02, "false": 0.0}}
            ]
        }
    });

    let jp = NationTimeline {
        nation: "JP".to_owned(),
        shared: vec![
            ev(142.0, "first detection (KR radar)", "first_detection"),
            ev(160.0, "first track", "first_track"),
            ev(165.0, "missile launched", "launch"),
            ev(240.0, "overflight predicted: Aomori", "overflight"),
            ev(250.0, "overflight predicted: Hokkaido", "overflight"),
            ev(600.0, "impact predicted: Pacific", "impact"),
            ev(1460.0, "landed: Pacific, outside EEZ", "landed"),
            ev(1500.0, "all clear", "all_clear"),
        ],
        alone: vec![
            ev(215.0, "first detection", "first_detection"),
            ev(230.0, "first track", "first_track"),
            ev(235.0, "missile launched", "launch"),
            ev(320.0, "overflight predicted: Aomori", "overflight"),
            ev(330.0, "overflight predicted: Hokkaido", "overflight"),
            ev(700.0, "Hokkaido warning withdrawn", "cancelled"),
            ev(1470.0, "landed: Pacific, outside EEZ", "landed"),
        ],
        truth: vec![
            ev(120.0, "launch", "launch"),
            ev(511.0, "overflight Aomori", "overflight"),
            ev(1440.0, "impact Pacific", "impact"),
        ],
        public_record: vec![
            ev(540.0, "J-Alert Aomori 07:29", "public"),
            ev(1320.0, "J-Alert Tokyo islands (error)", "public"),
        ],
    };
    let kr = NationTimeline {
        nation: "KR".to_owned(),
        shared: vec![
            ev(130.0, "first detection", "first_detection"),
            ev(140.0, "first track", "first_track"),
        ],
        alone: vec![
            ev(130.0, "first detection", "first_detection"),
            ev(140.0, "first track", "first_track"),
        ],
        truth: vec![ev(120.0, "launch", "launch")],
        public_record: vec![ev(600.0, "JCS announces launch", "public")],
    };
    let us = NationTimeline {
        nation: "US".to_owned(),
        shared: vec![
            ev(130.0, "first detection (KR radar)", "first_detection"),
            ev(140.0, "first track", "first_track"),
        ],
        alone: vec![
            ev(150.0, "first detection", "first_detection"),
            ev(170.0, "first track", "first_track"),
        ],
        truth: vec![ev(120.0, "launch", "launch")],
        public_record: Vec::new(),
    };

    let launch = (40.62, 126.43);
    let landing = (39.6, 166.2);
    let track: Vec<(f64, f64)> = (0..=60)
        .map(|i| {
            let f = f64::from(i) / 60.0;
            // A gentle northward bow, as a great circle eastwards from 40° N has.
            let lat =
                launch.0 + (landing.0 - launch.0) * f + 1.6 * (std::f64::consts::PI * f).sin();
            let lon = launch.1 + (landing.1 - launch.1) * f;
            (lat, lon)
        })
        .collect();
    let stage: Vec<(f64, f64)> = (0..=10)
        .map(|i| {
            let f = f64::from(i) / 10.0;
            (launch.0 + 0.6 * f, launch.1 + 5.2 * f)
        })
        .collect();

    let map = MapData {
        regions: vec![
            region(
                "Aomori",
                "JP",
                &[
                    (41.55, 140.0),
                    (41.5, 141.5),
                    (40.9, 141.7),
                    (40.2, 141.6),
                    (40.25, 140.9),
                    (40.45, 139.9),
                ],
                true,
                true,
            ),
            region(
                "Hokkaido",
                "JP",
                &[
                    (41.4, 140.0),
                    (42.6, 139.8),
                    (43.5, 141.3),
                    (45.5, 141.7),
                    (44.3, 143.5),
                    (43.4, 145.8),
                    (42.9, 144.0),
                    (42.0, 143.3),
                    (42.3, 141.0),
                ],
                true,
                false,
            ),
            region(
                "Iwate",
                "JP",
                &[
                    (40.25, 140.9),
                    (40.2, 141.6),
                    (39.6, 142.05),
                    (38.95, 141.7),
                    (38.95, 140.75),
                ],
                false,
                false,
            ),
            region(
                "Tokyo islands",
                "JP",
                &[(34.8, 139.2), (34.8, 139.8), (33.0, 139.9), (33.0, 139.5)],
                false,
                false,
            ),
            region(
                "Gyeonggi",
                "KR",
                &[
                    (38.2, 126.7),
                    (38.0, 127.6),
                    (37.0, 127.7),
                    (36.9, 126.8),
                    (37.5, 126.5),
                ],
                false,
                false,
            ),
            region(
                "Gangwon",
                "KR",
                &[(38.6, 127.6), (38.6, 128.4), (37.0, 129.4), (37.1, 127.7)],
                false,
                false,
            ),
        ],
        ground_tracks: vec![track, stage],
        impact_ellipses: vec![
            ellipse("JP", 600.0, 40.4, 168.5, 320.0, 70.0, 84.0),
            ellipse("JP", 900.0, 39.9, 166.9, 130.0, 40.0, 86.0),
            ellipse("JP", 1200.0, 39.65, 166.3, 45.0, 15.0, 88.0),
            ellipse("KR", 620.0, 40.1, 167.6, 360.0, 90.0, 82.0),
            ellipse("KR", 1100.0, 39.7, 166.6, 70.0, 22.0, 87.0),
            ellipse("US", 700.0, 39.9, 167.0, 200.0, 60.0, 85.0),
        ],
        landings: vec![landing, (41.22, 131.63)],
        launch_sites: vec![launch],
    };

    ReportInput {
        title: "hwasong-12 — Hwasong-12 IRBM over northern Japan (2022-10-04)".to_owned(),
        subtitle: "seed 1 · embedded bus · wall time 6.1 s · epoch 2022-10-03T22:20:00Z (UTC)"
            .to_owned(),
        summary,
        nations: vec![jp, kr, us],
        map,
    }
}
