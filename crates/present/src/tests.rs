use serde_json::json;

use crate::map::{ellipse_outline, BBox, Projection};
use crate::markup::esc;
use crate::summary::headline;
use crate::timeline::{stagger, LabelSlot};
use crate::*;

/// Every `<svg>…</svg>` element of a page, as standalone documents.
fn svgs(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let Some(len) = rest[start..].find("</svg>") else {
            panic!("an <svg> is not closed");
        };
        let end = start + len + "</svg>".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

fn parse_xml(doc: &str) {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    if let Err(e) = roxmltree::Document::parse_with_options(doc, opts) {
        panic!("not well-formed XML: {e}\n{}", &doc[..doc.len().min(2000)]);
    }
}

fn check_page(html: &str, at_least_svgs: usize) {
    parse_xml(html);
    let all = svgs(html);
    assert!(all.len() >= at_least_svgs, "{} svgs", all.len());
    for s in all {
        parse_xml(s);
        assert!(
            !s.contains("NaN") && !s.contains("inf"),
            "non-finite number in {s}"
        );
    }
}

#[test]
fn the_sample_page_and_each_of_its_svgs_are_well_formed_xml() {
    let html = render(&sample::hwasong12());
    // Monte Carlo plot, timeline, map, impact area.
    check_page(&html, 4);
}

#[test]
fn the_page_loads_nothing_from_elsewhere() {
    let html = render(&sample::hwasong12());
    assert!(!html.contains("<script"));
    assert!(!html.contains("<link"));
    assert!(!html.contains("src="));
    assert!(!html.contains("https://"));
    let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!without_ns.contains("http://"));
}

fn hostile() -> ReportInput {
    let bad = "<b>&\"";
    let ev = |kind: &str| TimelineEvent {
        t_s: 10.0,
        label: format!("{bad} label"),
        kind: kind.to_owned(),
    };
    ReportInput {
        title: format!("{bad} title"),
        subtitle: format!("{bad}'\u{1}"),
        summary: json!({
            "scenario": bad,
            "nations": [{"nation": bad, "affected": true,
                         "first_warning_s": {"shared": 1.0, "alone": 2.0},
                         "regions": [{"region": bad, "truth_event": bad, "truth_time_s": 5.0}],
                         bad: {"shared": 1.0}}],
            "public_record": [{"nation": bad, "region": bad, "event": bad, "time_s": 3.0}],
            "monte_carlo": {"nations": [{"nation": bad, bad: {"x": bad}}]}
        }),
        nations: vec![NationTimeline {
            nation: bad.to_owned(),
            shared: vec![ev(bad)],
            alone: vec![ev("launch")],
            truth: vec![ev("truth")],
            public_record: vec![ev("public")],
        }],
        map: MapData {
            regions: vec![MapRegion {
                name: bad.to_owned(),
                nation: bad.to_owned(),
                polygon: vec![(40.0, 140.0), (41.0, 140.0), (41.0, 141.0)],
                warned: true,
                affected: true,
            }],
            impact_ellipses: vec![MapEllipse {
                lat_deg: 40.0,
                lon_deg: 141.0,
                semi_major_m: 1e4,
                semi_minor_m: 5e3,
                orientation_deg: 30.0,
                nation: bad.to_owned(),
                time_s: 3.0,
                label: bad.to_owned(),
            }],
            ..MapData::default()
        },
    }
}

#[test]
fn names_from_user_files_are_escaped_everywhere() {
    let html = render(&hostile());
    assert!(!html.contains("<b>"), "raw markup leaked");
    assert!(html.contains("&lt;b&gt;&amp;&quot;"));
    assert!(
        !html.contains('\u{1}'),
        "a control character reached the page"
    );
    check_page(&html, 3);
}

#[test]
fn escaping_covers_the_five_xml_specials() {
    assert_eq!(esc("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    assert_eq!(esc("Aomori\u{0}"), "Aomori\u{FFFD}");
    assert_eq!(esc("東京 — ok"), "東京 — ok");
}

#[test]
fn headline_says_earlier_when_sharing_warns_first() {
    let n = json!({"nation": "JP", "affected": true,
        "first_warning_s": {"shared": 45.0, "alone": 115.0},
        "lead_time_s": {"shared": 346.0, "alone": 276.0}, "gain_s": 70.0,
        "regions": [{"region": "Aomori", "truth_event": "overflight", "truth_time_s": 391.0}],
        "scores_shared": {"wrong_area": 0, "missed": 0, "false": 0}});
    assert_eq!(
        headline(&n, Some(0.0)),
        "warned 70 s earlier with sharing (45 s vs 115 s after launch); 346 s before the first \
         overflight; 0 wrong-area, 0 missed, 0 false"
    );
}

#[test]
fn headline_counts_from_the_launch_when_it_is_known() {
    let n = json!({"affected": true, "first_warning_s": {"shared": 165.0, "alone": 235.0}});
    let h = headline(&n, Some(120.0));
    assert!(
        h.contains("70 s earlier") && h.contains("45 s vs 115 s after launch"),
        "{h}"
    );
    let h = headline(&n, None);
    assert!(h.contains("at t = 165 s vs 235 s"), "{h}");
}

#[test]
fn headline_says_later_when_sharing_warns_after_alone() {
    let n = json!({"affected": true, "first_warning_s": {"shared": 130.0, "alone": 115.0},
                   "lead_time_s": {"shared": -20.0}});
    let h = headline(&n, Some(0.0));
    assert!(h.starts_with("warned 15 s later with sharing"), "{h}");
    assert!(h.contains("20 s after the first event (late)"), "{h}");
    assert!(!h.contains("earlier"), "{h}");
}

#[test]
fn headline_for_an_unaffected_nation_says_whether_silence_was_right() {
    let quiet = json!({"nation": "KR", "affected": false,
                       "first_warning_s": {"shared": null, "alone": null}});
    assert_eq!(headline(&quiet, None), "not affected; no warning (correct)");
    let noisy = json!({"affected": false, "first_warning_s": {"shared": 50.0}});
    let h = headline(&noisy, Some(0.0));
    assert!(
        h.starts_with("not affected") && h.contains("false warning"),
        "{h}"
    );
}

#[test]
fn headline_handles_one_sided_and_missing_warnings() {
    let only_shared = json!({"affected": true, "first_warning_s": {"shared": 50.0, "alone": null}});
    assert!(headline(&only_shared, None).starts_with("warned only with sharing"));
    let none = json!({"affected": true});
    assert_eq!(
        headline(&none, None),
        "affected but not warned, with or without sharing"
    );
    let same = json!({"affected": true, "first_warning_s": {"shared": 50.0, "alone": 50.0}});
    assert!(headline(&same, None).contains("same time"));
}

#[test]
fn empty_and_malformed_inputs_render_without_panicking() {
    check_page(&render(&ReportInput::default()), 2);

    let odd = ReportInput {
        summary: json!({"nations": "not a list", "monte_carlo": {"nations": [1, null, {"nation": 3,
                        "lead_time_s": {"shared": "x"}}]}, "public_record": {"a": 1}}),
        nations: vec![
            NationTimeline::default(),
            NationTimeline {
                nation: "JP".to_owned(),
                shared: vec![TimelineEvent {
                    t_s: f64::NAN,
                    label: String::new(),
                    kind: "mystery".to_owned(),
                }],
                ..NationTimeline::default()
            },
        ],
        map: MapData {
            regions: vec![MapRegion {
                polygon: vec![(f64::NAN, 1.0)],
                ..MapRegion::default()
            }],
            ground_tracks: vec![vec![], vec![(1.0, f64::INFINITY)]],
            impact_ellipses: vec![MapEllipse {
                lat_deg: f64::NAN,
                ..MapEllipse::default()
            }],
            ..MapData::default()
        },
        ..ReportInput::default()
    };
    check_page(&render(&odd), 2);

    let nations_wrong_types = ReportInput {
        summary: json!({"nations": [{"nation": 7, "affected": "yes",
            "first_warning_s": "soon", "regions": [1, "two", {"region": null}],
            "scores_shared": [], "gain_s": "big"}]}),
        ..ReportInput::default()
    };
    check_page(&render(&nations_wrong_types), 2);
}

#[test]
fn a_single_event_and_a_single_point_still_draw() {
    let input = ReportInput {
        nations: vec![NationTimeline {
            nation: "JP".to_owned(),
            truth: vec![TimelineEvent {
                t_s: 0.0,
                label: "impact".to_owned(),
                kind: "impact".to_owned(),
            }],
            ..NationTimeline::default()
        }],
        map: MapData {
            landings: vec![(40.0, 140.0)],
            ..MapData::default()
        },
        ..ReportInput::default()
    };
    let html = render(&input);
    check_page(&html, 2);
    assert!(!html.contains("no map data") && !html.contains("no events to show"));
}

fn inside(p: &Projection, (x, y): (f64, f64)) -> bool {
    let (px, py, pw, ph) = p.plot;
    x >= px && x <= px + pw && y >= py && y <= py + ph
}

#[test]
fn the_projection_puts_the_whole_bounding_box_inside_the_plot() {
    let boxes = [
        (30.0, 46.0, 124.0, 170.0),
        (13.0, 46.0, 124.0, 146.0),
        (40.0, 40.0, 140.0, 140.0),
        (-60.0, 70.0, -170.0, 170.0),
        (39.9, 40.1, 139.0, 150.0),
        (10.0, 60.0, 140.0, 141.0),
    ];
    for (lat_min, lat_max, lon_min, lon_max) in boxes {
        let b = BBox {
            lat_min,
            lat_max,
            lon_min,
            lon_max,
        };
        let p = Projection::fit(b);
        let (px, py, pw, ph) = p.plot;
        assert!(pw > 0.0 && ph > 0.0 && px >= 0.0 && py >= 0.0 && px + pw <= map::WIDTH);
        for corner in [
            (lat_min, lon_min),
            (lat_min, lon_max),
            (lat_max, lon_min),
            (lat_max, lon_max),
        ] {
            let xy = p.project(corner.0, corner.1);
            assert!(inside(&p, xy), "{corner:?} -> {xy:?} outside {:?}", p.plot);
        }
    }
}

#[test]
fn the_projection_puts_north_up_and_east_right_and_inverts() {
    let p = Projection::fit(BBox {
        lat_min: 30.0,
        lat_max: 45.0,
        lon_min: 125.0,
        lon_max: 145.0,
    });
    let (x0, y0) = p.project(35.0, 135.0);
    let (x1, y1) = p.project(36.0, 136.0);
    assert!(x1 > x0 && y1 < y0);
    let (lat, lon) = p.unproject(x1, y1);
    assert!((lat - 36.0).abs() < 1e-9 && (lon - 136.0).abs() < 1e-9);
    // Isotropic at the centre latitude: 1 km north and 1 km east are the same length.
    let lat0 = p.lat0;
    let (_, ya) = p.project(lat0, p.lon0);
    let (_, yb) = p.project(lat0 + 1.0, p.lon0);
    let (xa, _) = p.project(lat0, p.lon0);
    let (xb, _) = p.project(lat0, p.lon0 + 1.0 / lat0.to_radians().cos());
    assert!(((ya - yb) - (xb - xa)).abs() < 1e-6);
}

#[test]
fn ellipse_axes_follow_orientation_clockwise_from_north() {
    let e = |orientation_deg| MapEllipse {
        lat_deg: 60.0,
        lon_deg: 10.0,
        semi_major_m: 111_320.0,
        semi_minor_m: 55_660.0,
        orientation_deg,
        ..MapEllipse::default()
    };
    let extent = |pts: &[(f64, f64)]| {
        let lat = pts.iter().map(|p| p.0).fold(f64::MIN, f64::max) - 60.0;
        let lon = pts.iter().map(|p| p.1).fold(f64::MIN, f64::max) - 10.0;
        (lat, lon)
    };
    // Major axis north: 1° of latitude; minor east: 0.5 km-degree / cos 60° = 1° of longitude.
    let (lat, lon) = extent(&ellipse_outline(&e(0.0), 360));
    assert!(
        (lat - 1.0).abs() < 1e-9 && (lon - 1.0).abs() < 1e-3,
        "{lat} {lon}"
    );
    // Major axis east: 2° of longitude, 0.5° of latitude.
    let (lat, lon) = extent(&ellipse_outline(&e(90.0), 360));
    assert!(
        (lat - 0.5).abs() < 1e-3 && (lon - 2.0).abs() < 1e-3,
        "{lat} {lon}"
    );
    // At 45° the far end of the major axis is north-east.
    let pts = ellipse_outline(&e(45.0), 8);
    assert!(pts[0].0 > 60.0 && pts[0].1 > 10.0);
    assert!(ellipse_outline(
        &MapEllipse {
            semi_major_m: f64::NAN,
            ..e(0.0)
        },
        8
    )
    .is_empty());
}

#[test]
fn crowded_labels_are_staggered_and_sparse_ones_share_a_row() {
    let crowded = [(100.0, 80.0), (110.0, 80.0), (120.0, 80.0)];
    let rows: Vec<usize> = stagger(&crowded, 1000.0).iter().map(|s| s.row).collect();
    assert_eq!(rows, vec![0, 1, 2]);
    let sparse = [(100.0, 80.0), (300.0, 80.0), (500.0, 80.0)];
    assert!(stagger(&sparse, 1000.0).iter().all(|s| s.row == 0));
    let near_edge = stagger(&[(990.0, 80.0)], 1000.0);
    assert_eq!(
        near_edge,
        vec![LabelSlot {
            row: 0,
            anchor_end: true
        }]
    );
    let many: Vec<(f64, f64)> = (0..50).map(|i| (100.0 + f64::from(i), 80.0)).collect();
    assert!(stagger(&many, 1000.0).iter().all(|s| s.row < 8));
}

#[test]
fn the_timeline_shows_every_kind_in_its_legend_and_every_lane() {
    let html = timeline::svg(&sample::hwasong12().nations);
    for (_, text, _) in timeline::KINDS {
        assert!(html.contains(text), "legend lacks {text}");
    }
    for lane in ["shared", "alone", "truth", "public record"] {
        assert!(html.contains(&format!(">{lane}</text>")), "no lane {lane}");
    }
    assert!(html.contains("seconds after the scenario epoch"));
}

#[test]
fn the_map_has_graticule_labels_scale_bar_and_legend() {
    let html = map::svg(&sample::hwasong12().map);
    assert!(html.contains("°N") && html.contains("°E"));
    assert!(html.contains(" km</text>"));
    assert!(html.contains("region warned (shared)"));
    assert!(html.contains("JP predicted impact"));
    let inset = map::impact_area_svg(&sample::hwasong12().map).expect("the sample has ellipses");
    parse_xml(&inset);
    assert!(map::impact_area_svg(&MapData::default()).is_none());
}

#[test]
fn the_page_answers_for_each_nation_of_the_sample() {
    let html = render(&sample::hwasong12());
    assert!(html.contains("warned 70 s earlier with sharing (45 s vs 115 s after launch)"));
    assert!(html.contains("KR</strong>: <span class=\"good\">not affected; no warning (correct)"));
    assert!(html.contains("Monte Carlo"));
    assert!(html.contains("No coastline data"));
}

#[test]
fn write_replaces_the_file_whole_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("report.html");
    std::fs::write(&path, "old").expect("seed file");
    write(&path, &sample::hwasong12()).expect("write");
    let text = std::fs::read_to_string(&path).expect("read back");
    assert!(text.starts_with("<!DOCTYPE html>"));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn write_to_a_missing_directory_says_where() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("no/such/report.html");
    match write(&path, &ReportInput::default()) {
        Err(PresentError::Write { path: p, .. }) => assert!(p.starts_with(dir.path())),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        write(std::path::Path::new("/"), &ReportInput::default()),
        Err(PresentError::NoFileName { .. })
    ));
}
