//! The map: regions, ground tracks, launch sites, landings and predicted impact ellipses on an
//! equirectangular projection fitted to the data.
//!
//! No coastline is drawn: none is available offline, and the regions the scenario defines are
//! the land reference the warnings are about anyway.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::markup::{coord, esc, nice_step, quantity, shorten, text_width_px};
use crate::{MapData, MapEllipse};

/// Of the SVG, in its own units.
pub const WIDTH: f64 = 1000.0;
/// Room outside the plot for graticule labels.
const PAD: f64 = 34.0;
const MIN_PLOT_H: f64 = 360.0;
const MAX_PLOT_H: f64 = 860.0;
/// Metres per degree of latitude, and of longitude at the equator, on the local sphere the
/// ellipses are drawn with: plenty for a picture.
const M_PER_DEG: f64 = 111_320.0;
const LEGEND_COLUMNS: u32 = 3;
const LEGEND_ROW_PX: f64 = 20.0;
/// From the plot's bottom edge past the longitude labels.
const LEGEND_GAP: f64 = 30.0;
const NATION_COLOURS: &[&str] = &[
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#8C564B",
];

/// A latitude/longitude box, in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BBox {
    pub lat_min: f64,
    pub lat_max: f64,
    pub lon_min: f64,
    pub lon_max: f64,
}

impl BBox {
    /// The box around the finite points; `None` when there are none.
    pub fn around(points: impl IntoIterator<Item = (f64, f64)>) -> Option<BBox> {
        let mut b: Option<BBox> = None;
        for (lat, lon) in points {
            if !lat.is_finite() || !lon.is_finite() {
                continue;
            }
            let lat = lat.clamp(-89.0, 89.0);
            b = Some(match b {
                None => BBox {
                    lat_min: lat,
                    lat_max: lat,
                    lon_min: lon,
                    lon_max: lon,
                },
                Some(b) => BBox {
                    lat_min: b.lat_min.min(lat),
                    lat_max: b.lat_max.max(lat),
                    lon_min: b.lon_min.min(lon),
                    lon_max: b.lon_max.max(lon),
                },
            });
        }
        b
    }
}

/// Equirectangular projection, isotropic at the centre latitude, onto a plot area of the SVG.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Projection {
    pub lat0: f64,
    pub lon0: f64,
    cos0: f64,
    /// Pixels per degree of latitude.
    pub px_per_deg: f64,
    /// The plot area: x, y, width, height in SVG units.
    pub plot: (f64, f64, f64, f64),
    /// Whether longitudes are taken in [0, 360) so that data across the antimeridian stays
    /// together.
    wrap: bool,
}

impl Projection {
    /// Fits `bbox` with a margin into a plot `WIDTH` wide, choosing the height from the box's
    /// shape within sensible limits.
    pub fn fit(bbox: BBox) -> Projection {
        let wrap = bbox.lon_max - bbox.lon_min > 180.0;
        let (lon_min, lon_max) = if wrap {
            (0.0, 360.0)
        } else {
            (bbox.lon_min, bbox.lon_max)
        };
        let lat_span = (bbox.lat_max - bbox.lat_min).max(1.0);
        let lon_span = (lon_max - lon_min).max(1.0);
        let margin_lat = (lat_span * 0.08).max(0.4);
        let margin_lon = (lon_span * 0.08).max(0.4);
        let lat0 = (bbox.lat_min + bbox.lat_max) / 2.0;
        let lon0 = (lon_min + lon_max) / 2.0;
        let cos0 = lat0.to_radians().cos().max(0.05);
        let need_lat = lat_span + 2.0 * margin_lat;
        let need_x = (lon_span + 2.0 * margin_lon) * cos0;
        let plot_w = WIDTH - 2.0 * PAD;
        let plot_h = (plot_w * need_lat / need_x).clamp(MIN_PLOT_H, MAX_PLOT_H);
        let px_per_deg = (plot_w / need_x).min(plot_h / need_lat);
        Projection {
            lat0,
            lon0,
            cos0,
            px_per_deg,
            plot: (PAD, PAD, plot_w, plot_h),
            wrap,
        }
    }

    fn lon(&self, lon: f64) -> f64 {
        if self.wrap {
            lon.rem_euclid(360.0)
        } else {
            lon
        }
    }

    /// SVG coordinates of a point.
    pub fn project(&self, lat_deg: f64, lon_deg: f64) -> (f64, f64) {
        let (px, py, pw, ph) = self.plot;
        let x = px + pw / 2.0 + (self.lon(lon_deg) - self.lon0) * self.cos0 * self.px_per_deg;
        let y = py + ph / 2.0 - (lat_deg - self.lat0) * self.px_per_deg;
        (x, y)
    }

    /// The latitude and longitude of an SVG point (for the graticule's extent).
    pub fn unproject(&self, x: f64, y: f64) -> (f64, f64) {
        let (px, py, pw, ph) = self.plot;
        let lon = self.lon0 + (x - px - pw / 2.0) / (self.cos0 * self.px_per_deg);
        let lat = self.lat0 - (y - py - ph / 2.0) / self.px_per_deg;
        (lat, lon)
    }
}

/// The outline of an impact ellipse as (lat, lon), on a sphere local to its centre.
pub fn ellipse_outline(e: &MapEllipse, n: usize) -> Vec<(f64, f64)> {
    if ![
        e.lat_deg,
        e.lon_deg,
        e.semi_major_m,
        e.semi_minor_m,
        e.orientation_deg,
    ]
    .iter()
    .all(|v| v.is_finite())
    {
        return Vec::new();
    }
    let phi = e.orientation_deg.to_radians();
    // Major axis along azimuth phi (clockwise from north): east = sin, north = cos.
    let (major_e, major_n) = (phi.sin(), phi.cos());
    let (minor_e, minor_n) = (phi.cos(), -phi.sin());
    let cos_lat = e.lat_deg.to_radians().cos().abs().max(0.01);
    let (a, b) = (e.semi_major_m.abs(), e.semi_minor_m.abs());
    (0..n)
        .map(|i| {
            let t = std::f64::consts::TAU * i as f64 / n as f64;
            let east = a * t.cos() * major_e + b * t.sin() * minor_e;
            let north = a * t.cos() * major_n + b * t.sin() * minor_n;
            (
                e.lat_deg + north / M_PER_DEG,
                e.lon_deg + east / (M_PER_DEG * cos_lat),
            )
        })
        .collect()
}

fn all_points(map: &MapData) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = Vec::new();
    pts.extend(map.regions.iter().flat_map(|r| r.polygon.iter().copied()));
    pts.extend(map.ground_tracks.iter().flatten().copied());
    pts.extend(map.landings.iter().copied());
    pts.extend(map.launch_sites.iter().copied());
    pts.extend(
        map.impact_ellipses
            .iter()
            .flat_map(|e| ellipse_outline(e, 16)),
    );
    pts
}

fn points_attr(p: &Projection, pts: &[(f64, f64)]) -> String {
    pts.iter()
        .filter(|(la, lo)| la.is_finite() && lo.is_finite())
        .map(|&(la, lo)| {
            let (x, y) = p.project(la, lo);
            format!("{},{}", coord(x), coord(y))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One step for parallels and meridians: at least three lines across the narrow side, at
/// most a dozen across the wide one (the wide side wins when both cannot hold).
fn graticule_step(narrow_deg: f64, wide_deg: f64) -> f64 {
    const STEPS: [f64; 6] = [1.0, 2.0, 5.0, 10.0, 20.0, 30.0];
    STEPS
        .into_iter()
        .rev()
        .find(|s| narrow_deg / s >= 3.0 && wide_deg / s <= 12.0)
        .or_else(|| STEPS.into_iter().find(|s| wide_deg / s <= 12.0))
        .unwrap_or(30.0)
}

fn deg_label(v: f64, pos: char, neg: char) -> String {
    let v = if v.abs() < 1e-9 { 0.0 } else { v };
    let hemi = if v < 0.0 { neg } else { pos };
    format!("{}°{hemi}", quantity(Some(v.abs())))
}

fn lon_label(lon: f64) -> String {
    let l = (lon + 180.0).rem_euclid(360.0) - 180.0;
    if (l.abs() - 180.0).abs() < 1e-9 {
        "180°".to_owned()
    } else {
        deg_label(l, 'E', 'W')
    }
}

fn graticule(out: &mut String, p: &Projection) {
    let (px, py, pw, ph) = p.plot;
    let (lat_top, lon_left) = p.unproject(px, py);
    let (lat_bottom, lon_right) = p.unproject(px + pw, py + ph);
    let (lat_span, lon_span) = (lat_top - lat_bottom, lon_right - lon_left);
    let step = graticule_step(lat_span.min(lon_span), lat_span.max(lon_span));
    let mut lat = (lat_bottom / step).ceil() * step;
    while lat <= lat_top {
        let (_, y) = p.project(lat, p.lon0);
        let _ = writeln!(
            out,
            "<line x1=\"{px}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#c9d3dd\" stroke-width=\"0.8\"/>\
             <text x=\"{2}\" y=\"{3}\" text-anchor=\"end\" fill=\"#445\">{4}</text>",
            coord(y),
            coord(px + pw),
            coord(px - 4.0),
            coord(y + 4.0),
            deg_label(lat, 'N', 'S')
        );
        lat += step;
    }
    let mut lon = (lon_left / step).ceil() * step;
    while lon <= lon_right {
        let (x, _) = p.project(p.lat0, lon);
        let _ = writeln!(
            out,
            "<line x1=\"{0}\" y1=\"{py}\" x2=\"{0}\" y2=\"{1}\" stroke=\"#c9d3dd\" stroke-width=\"0.8\"/>\
             <text x=\"{0}\" y=\"{2}\" text-anchor=\"middle\" fill=\"#445\">{3}</text>",
            coord(x),
            coord(py + ph),
            coord(py + ph + 16.0),
            lon_label(lon)
        );
        lon += step;
    }
}

fn scale_bar(out: &mut String, p: &Projection) {
    let (px, py, pw, ph) = p.plot;
    let px_per_km = p.px_per_deg / (M_PER_DEG / 1000.0);
    let km = nice_step(pw / 5.0 / px_per_km);
    let len = km * px_per_km;
    let (x0, y0) = (px + 14.0, py + ph - 18.0);
    let _ = writeln!(
        out,
        "<g><rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"30\" fill=\"#ffffff\" opacity=\"0.85\"/>\
         <path d=\"M{3} {4}V{5}H{6}V{4}\" fill=\"none\" stroke=\"#1a1a1a\" stroke-width=\"2\"/>\
         <text x=\"{7}\" y=\"{8}\" text-anchor=\"middle\" fill=\"#1a1a1a\">{9} km</text></g>",
        coord(x0 - 8.0),
        coord(y0 - 20.0),
        coord(len + 16.0),
        coord(x0),
        coord(y0 - 5.0),
        coord(y0),
        coord(x0 + len),
        coord(x0 + len / 2.0),
        coord(y0 - 8.0),
        quantity(Some(km))
    );
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn svg(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// A placed label's box: left, top, right, bottom.
type LabelBox = (f64, f64, f64, f64);

/// Puts a label at the first of a few vertical offsets where it overlaps no label already
/// placed, or where asked when none is free; records its box.
fn place_label(
    placed: &mut Vec<LabelBox>,
    text: &str,
    x: f64,
    y: f64,
    anchor: Anchor,
) -> (f64, f64, Anchor) {
    let w = text_width_px(text, 11.0);
    let left = match anchor {
        Anchor::Start => x,
        Anchor::Middle => x - w / 2.0,
        Anchor::End => x - w,
    };
    let boxed = |y: f64| (left, y - 10.0, left + w, y + 3.0);
    let overlaps = |b: &LabelBox| {
        placed
            .iter()
            .any(|o| b.0 < o.2 && o.0 < b.2 && b.1 < o.3 && o.1 < b.3)
    };
    let y = [0.0, 13.0, -13.0, 26.0, -26.0, 39.0, -39.0]
        .into_iter()
        .map(|dy| y + dy)
        .find(|&y| !overlaps(&boxed(y)))
        .unwrap_or(y);
    placed.push(boxed(y));
    (x, y, anchor)
}

fn triangle(x: f64, y: f64, r: f64) -> String {
    format!(
        "{},{} {},{} {},{}",
        coord(x),
        coord(y - r * 1.2),
        coord(x + r),
        coord(y + r * 0.8),
        coord(x - r),
        coord(y + r * 0.8)
    )
}

fn cross(x: f64, y: f64, r: f64) -> String {
    format!(
        "M{0} {1}L{2} {3}M{0} {3}L{2} {1}",
        coord(x - r),
        coord(y - r),
        coord(x + r),
        coord(y + r)
    )
}

fn legend(out: &mut String, p: &Projection, nation_colours: &BTreeMap<&str, &str>) {
    let (px, py, pw, ph) = p.plot;
    let mut entries: Vec<(String, String)> = vec![
        (
            "<rect x=\"0\" y=\"-8\" width=\"22\" height=\"12\" fill=\"#EE7733\" fill-opacity=\"0.6\" stroke=\"#7a7a7a\"/>".to_owned(),
            "region warned (shared)".to_owned(),
        ),
        (
            "<rect x=\"1\" y=\"-7\" width=\"20\" height=\"10\" fill=\"#d9d9d9\" stroke=\"#1a1a1a\" stroke-width=\"3\"/>".to_owned(),
            "region affected (truth)".to_owned(),
        ),
        (
            "<rect x=\"0\" y=\"-8\" width=\"22\" height=\"12\" fill=\"#d9d9d9\" stroke=\"#7a7a7a\"/>".to_owned(),
            "other region".to_owned(),
        ),
        (
            "<line x1=\"0\" y1=\"-2\" x2=\"22\" y2=\"-2\" stroke=\"#1f3b73\" stroke-width=\"2.2\"/>".to_owned(),
            "ground track (truth)".to_owned(),
        ),
        (
            format!("<polygon points=\"{}\" fill=\"#D55E00\" stroke=\"#1a1a1a\" stroke-width=\"0.8\"/>", triangle(11.0, -2.0, 6.0)),
            "launch site".to_owned(),
        ),
        (
            format!("<path d=\"{}\" stroke=\"#1a1a1a\" stroke-width=\"2.6\"/>", cross(11.0, -2.0, 5.0)),
            "landing (truth)".to_owned(),
        ),
    ];
    for (nation, c) in nation_colours {
        entries.push((
            format!(
                "<ellipse cx=\"11\" cy=\"-2\" rx=\"10\" ry=\"6\" fill=\"{c}\" fill-opacity=\"0.28\" stroke=\"{c}\" stroke-width=\"2.5\"/>"
            ),
            format!("{} predicted impact (latest bold)", esc(nation)),
        ));
    }
    // Below the plot, not on it: inside, it would hide whatever lies in that corner, and the
    // impact area often does.
    let col_w = pw / f64::from(LEGEND_COLUMNS);
    let _ = writeln!(
        out,
        "<g transform=\"translate({},{})\">",
        coord(px),
        coord(py + ph + LEGEND_GAP)
    );
    for (i, (swatch, text)) in entries.iter().enumerate() {
        let col = (i % LEGEND_COLUMNS as usize) as f64;
        let row = (i / LEGEND_COLUMNS as usize) as f64;
        let _ = writeln!(
            out,
            "<g transform=\"translate({},{})\">{swatch}<text x=\"30\" y=\"2\" fill=\"#1a1a1a\">{text}</text></g>",
            coord(col * col_w),
            coord(LEGEND_ROW_PX * (row + 0.5))
        );
    }
    out.push_str("</g>\n");
}

fn legend_height(nations: usize) -> f64 {
    let rows = (6 + nations).div_ceil(LEGEND_COLUMNS as usize);
    LEGEND_GAP + LEGEND_ROW_PX * rows as f64 + 6.0
}

/// The map of everything, as one SVG element.
pub fn svg(map: &MapData) -> String {
    match BBox::around(all_points(map)) {
        Some(bbox) => draw(map, bbox, "trilink-map-all", "Map of regions, ground tracks, launch sites, landings and predicted impact ellipses"),
        None => format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} 80\" width=\"{WIDTH}\" height=\"80\" role=\"img\" aria-label=\"Map\" font-family=\"system-ui, sans-serif\">\n\
             <text x=\"{}\" y=\"45\" text-anchor=\"middle\" fill=\"#555\" font-size=\"14\">no map data</text>\n</svg>\n",
            WIDTH / 2.0
        ),
    }
}

/// The impact area up close: the predicted ellipses, often tens of kilometres across, are
/// specks on a map that spans the whole flight. `None` without ellipses.
pub fn impact_area_svg(map: &MapData) -> Option<String> {
    let ellipses = BBox::around(
        map.impact_ellipses
            .iter()
            .flat_map(|e| ellipse_outline(e, 16)),
    )?;
    // Landings near the predictions belong in the picture; a stage that fell far away does not.
    let reach_lat = (ellipses.lat_max - ellipses.lat_min).max(1.0);
    let reach_lon = (ellipses.lon_max - ellipses.lon_min).max(1.0);
    let near = map.landings.iter().copied().filter(|(la, lo)| {
        *la > ellipses.lat_min - reach_lat
            && *la < ellipses.lat_max + reach_lat
            && *lo > ellipses.lon_min - reach_lon
            && *lo < ellipses.lon_max + reach_lon
    });
    let bbox = BBox::around(
        [
            (ellipses.lat_min, ellipses.lon_min),
            (ellipses.lat_max, ellipses.lon_max),
        ]
        .into_iter()
        .chain(near),
    )?;
    Some(draw(
        map,
        bbox,
        "trilink-map-impact",
        "Impact area: predicted impact ellipses and landings up close",
    ))
}

fn draw(map: &MapData, bbox: BBox, clip_id: &str, aria_label: &str) -> String {
    let p = Projection::fit(bbox);
    let (px, py, pw, ph) = p.plot;
    // Colours by nation in name order, so the same nation keeps its colour from run to run.
    let nation_colours: BTreeMap<&str, &str> = {
        let mut names: Vec<&str> = map
            .impact_ellipses
            .iter()
            .map(|e| e.nation.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, NATION_COLOURS[i % NATION_COLOURS.len()]))
            .collect()
    };
    let height = py + ph + legend_height(nation_colours.len());
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {0}\" width=\"{WIDTH}\" height=\"{0}\" role=\"img\" \
         aria-label=\"{aria}\" \
         font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\" font-size=\"11\">\n\
         <defs><clipPath id=\"{clip_id}\"><rect x=\"{px}\" y=\"{py}\" width=\"{1}\" height=\"{2}\"/></clipPath></defs>\n\
         <rect x=\"{px}\" y=\"{py}\" width=\"{1}\" height=\"{2}\" fill=\"#f4f8fb\" stroke=\"#8a99a8\"/>\n",
        coord(height),
        coord(pw),
        coord(ph),
        aria = esc(aria_label)
    );
    graticule(&mut out, &p);
    let _ = writeln!(out, "<g clip-path=\"url(#{clip_id})\">");

    for r in &map.regions {
        if r.polygon.len() < 3 {
            continue;
        }
        let fill = if r.warned {
            "fill=\"#EE7733\" fill-opacity=\"0.6\""
        } else {
            "fill=\"#d9d9d9\" fill-opacity=\"0.85\""
        };
        let stroke = if r.affected {
            "stroke=\"#1a1a1a\" stroke-width=\"3\""
        } else {
            "stroke=\"#7a7a7a\" stroke-width=\"1\""
        };
        let state = match (r.warned, r.affected) {
            (true, true) => "warned, affected",
            (true, false) => "warned, not affected",
            (false, true) => "affected, not warned",
            (false, false) => "neither warned nor affected",
        };
        let _ = writeln!(
            out,
            "<polygon points=\"{}\" {fill} {stroke} stroke-linejoin=\"round\"><title>{} ({}): {state}</title></polygon>",
            points_attr(&p, &r.polygon),
            esc(&r.name),
            esc(&r.nation)
        );
    }

    for track in &map.ground_tracks {
        // Split where the track leaves the finite or jumps across the antimeridian.
        let mut segs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        let mut last_x: Option<f64> = None;
        for &(la, lo) in track {
            if !la.is_finite() || !lo.is_finite() {
                segs.push(Vec::new());
                last_x = None;
                continue;
            }
            let (x, _) = p.project(la, lo);
            if last_x.is_some_and(|lx| (x - lx).abs() > pw / 2.0) {
                segs.push(Vec::new());
            }
            last_x = Some(x);
            if let Some(s) = segs.last_mut() {
                s.push((la, lo));
            }
        }
        for s in segs.iter().filter(|s| s.len() >= 2) {
            let _ = writeln!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"#ffffff\" stroke-width=\"4.5\" stroke-linejoin=\"round\"/>\
                 <polyline points=\"{0}\" fill=\"none\" stroke=\"#1f3b73\" stroke-width=\"2.2\" stroke-linejoin=\"round\"/>",
                points_attr(&p, s)
            );
        }
    }

    let mut latest: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, e) in map.impact_ellipses.iter().enumerate() {
        let newer = latest
            .get(e.nation.as_str())
            .is_none_or(|&j| e.time_s.total_cmp(&map.impact_ellipses[j].time_s).is_ge());
        if newer {
            latest.insert(&e.nation, i);
        }
    }
    let is_latest = |i: usize| latest.values().any(|&j| j == i);
    // Older predictions first so the latest are drawn on top.
    for pass_latest in [false, true] {
        for (i, e) in map.impact_ellipses.iter().enumerate() {
            if is_latest(i) != pass_latest {
                continue;
            }
            let outline = ellipse_outline(e, 72);
            if outline.is_empty() {
                continue;
            }
            let c = nation_colours.get(e.nation.as_str()).unwrap_or(&"#777777");
            let style = if pass_latest {
                "fill-opacity=\"0.28\" stroke-width=\"2.5\""
            } else {
                "fill-opacity=\"0.07\" stroke-width=\"1\" stroke-dasharray=\"4 3\""
            };
            let _ = writeln!(
                out,
                "<polygon points=\"{}\" fill=\"{c}\" stroke=\"{c}\" {style}><title>{}: {} at {} s ({} × {} km)</title></polygon>",
                points_attr(&p, &outline),
                esc(&e.nation),
                esc(&e.label),
                quantity(Some(e.time_s)),
                quantity(Some(e.semi_major_m / 1000.0)),
                quantity(Some(e.semi_minor_m / 1000.0))
            );
        }
    }

    for &(la, lo) in &map.launch_sites {
        if la.is_finite() && lo.is_finite() {
            let (x, y) = p.project(la, lo);
            let _ = writeln!(
                out,
                "<polygon points=\"{}\" fill=\"#D55E00\" stroke=\"#1a1a1a\" stroke-width=\"1\"><title>launch site {}, {}</title></polygon>",
                triangle(x, y, 7.0),
                coord(la),
                coord(lo)
            );
        }
    }
    for &(la, lo) in &map.landings {
        if la.is_finite() && lo.is_finite() {
            let (x, y) = p.project(la, lo);
            let d = cross(x, y, 6.0);
            let _ = writeln!(
                out,
                "<g><title>landing {}, {}</title><path d=\"{d}\" stroke=\"#ffffff\" stroke-width=\"5\"/><path d=\"{d}\" stroke=\"#1a1a1a\" stroke-width=\"2.6\"/></g>",
                coord(la),
                coord(lo)
            );
        }
    }

    // Labels last, haloed, so no fill hides them; each moves off the ones already placed.
    let mut placed: Vec<LabelBox> = Vec::new();
    for r in &map.regions {
        let pts: Vec<(f64, f64)> = r
            .polygon
            .iter()
            .copied()
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .collect();
        if pts.len() < 3 {
            continue;
        }
        let n = pts.len() as f64;
        let (la, lo) = pts
            .iter()
            .fold((0.0, 0.0), |(a, b), (la, lo)| (a + la, b + lo));
        let (x, y) = p.project(la / n, lo / n);
        let text = shorten(&r.name, 24);
        let (x, y, anchor) = place_label(&mut placed, &text, x, y + 4.0, Anchor::Middle);
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{}\" fill=\"#1a1a1a\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\" stroke-linejoin=\"round\">{}</text>",
            coord(x),
            coord(y),
            anchor.svg(),
            esc(&text)
        );
    }
    for &i in latest.values() {
        let e = &map.impact_ellipses[i];
        if !(e.lat_deg.is_finite() && e.lon_deg.is_finite()) {
            continue;
        }
        let (x, y) = p.project(e.lat_deg, e.lon_deg);
        let c = nation_colours.get(e.nation.as_str()).unwrap_or(&"#777777");
        let text = format!(
            "{}: {} · {} s",
            e.nation,
            shorten(&e.label, 30),
            quantity(Some(e.time_s))
        );
        // Toward the middle of the plot, where there is room for the text.
        let anchor = if x > px + pw / 2.0 {
            Anchor::End
        } else {
            Anchor::Start
        };
        let dx = if anchor == Anchor::End { -8.0 } else { 8.0 };
        let (tx, ty, anchor) = place_label(&mut placed, &text, x + dx, y - 8.0, anchor);
        let _ = writeln!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{c}\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"{}\" fill=\"{c}\" font-weight=\"bold\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>",
            coord(x),
            coord(y),
            coord(tx),
            coord(ty),
            anchor.svg(),
            esc(&text)
        );
    }
    out.push_str("</g>\n");

    scale_bar(&mut out, &p);
    legend(&mut out, &p, &nation_colours);
    out.push_str("</svg>\n");
    out
}
