//! The timeline: per nation a lane for its picture with sharing, one alone, one for truth and
//! one for the public record, on a common time axis.
use std::fmt::Write as _;

use crate::markup::{coord, esc, nice_step, quantity, shorten, text_width_px};
use crate::{NationTimeline, TimelineEvent};

const WIDTH: f64 = 1100.0;
const LEFT: f64 = 120.0;
const RIGHT: f64 = 24.0;
const FONT_PX: f64 = 11.0;
const LABEL_ROW_PX: f64 = 13.0;
/// Beyond this many rows labels may overlap: a lane taller than the page helps no one.
const MAX_LABEL_ROWS: usize = 8;
const LABEL_MAX_CHARS: usize = 38;

/// Kinds in legend order: (kind, legend text, colour).
pub const KINDS: &[(&str, &str, &str)] = &[
    ("first_detection", "first detection", "#56B4E9"),
    ("first_track", "first track", "#0072B2"),
    ("launch", "launch warning", "#D55E00"),
    ("overflight", "overflight warning", "#E69F00"),
    ("impact", "impact warning", "#A50F15"),
    ("landed", "landed", "#6B3D00"),
    ("all_clear", "all clear", "#009E73"),
    ("cancelled", "cancelled", "#777777"),
    ("truth", "truth event", "#1A1A1A"),
    ("public", "public record", "#CC79A7"),
];

fn colour(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|k| k.0 == kind)
        .map_or("#999999", |k| k.2)
}

/// The marker of an event kind centred on (x, y); shapes differ as well as colours so the
/// timeline reads in grey print and for colour-blind readers.
pub fn marker(kind: &str, x: f64, y: f64) -> String {
    let c = colour(kind);
    let (xs, ys) = (coord(x), coord(y));
    let r = 5.5;
    let pts = |p: &[(f64, f64)]| {
        p.iter()
            .map(|(dx, dy)| format!("{},{}", coord(x + dx), coord(y + dy)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match kind {
        "first_detection" => format!(
            "<circle cx=\"{xs}\" cy=\"{ys}\" r=\"{r}\" fill=\"{c}\" stroke=\"#1a1a1a\" stroke-width=\"0.8\"/>"
        ),
        "first_track" => format!(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{c}\" stroke=\"#1a1a1a\" stroke-width=\"0.8\"/>",
            coord(x - r * 0.9),
            coord(y - r * 0.9),
            coord(r * 1.8),
            coord(r * 1.8)
        ),
        "launch" => format!(
            "<polygon points=\"{}\" fill=\"{c}\" stroke=\"#1a1a1a\" stroke-width=\"0.8\"/>",
            pts(&[(0.0, -r * 1.2), (r * 1.1, r * 0.8), (-r * 1.1, r * 0.8)])
        ),
        "overflight" => format!(
            "<polygon points=\"{}\" fill=\"{c}\" stroke=\"#1a1a1a\" stroke-width=\"0.8\"/>",
            pts(&[(0.0, -r * 1.3), (r * 1.1, 0.0), (0.0, r * 1.3), (-r * 1.1, 0.0)])
        ),
        "impact" => format!(
            "<polygon points=\"{}\" fill=\"{c}\" stroke=\"#1a1a1a\" stroke-width=\"0.8\"/>",
            pts(&[(0.0, r * 1.2), (r * 1.1, -r * 0.8), (-r * 1.1, -r * 0.8)])
        ),
        "landed" => format!(
            "<path d=\"M{} {ys}H{}M{xs} {}V{}\" stroke=\"{c}\" stroke-width=\"3.2\"/>",
            coord(x - r),
            coord(x + r),
            coord(y - r),
            coord(y + r)
        ),
        "all_clear" => format!(
            "<circle cx=\"{xs}\" cy=\"{ys}\" r=\"{r}\" fill=\"#ffffff\" stroke=\"{c}\" stroke-width=\"3\"/>"
        ),
        "cancelled" => format!(
            "<path d=\"M{0} {1}L{2} {3}M{0} {3}L{2} {1}\" stroke=\"{c}\" stroke-width=\"2.6\"/>",
            coord(x - r),
            coord(y - r),
            coord(x + r),
            coord(y + r)
        ),
        "truth" => format!(
            "<rect x=\"{}\" y=\"{}\" width=\"3\" height=\"{}\" fill=\"{c}\"/>",
            coord(x - 1.5),
            coord(y - r * 1.4),
            coord(r * 2.8)
        ),
        "public" => {
            let star: Vec<(f64, f64)> = (0..10)
                .map(|i| {
                    let a = std::f64::consts::PI * f64::from(i) / 5.0;
                    let rr = if i % 2 == 0 { r * 1.35 } else { r * 0.6 };
                    (rr * a.sin(), -rr * a.cos())
                })
                .collect();
            format!(
                "<polygon points=\"{}\" fill=\"{c}\" stroke=\"#1a1a1a\" stroke-width=\"0.8\"/>",
                pts(&star)
            )
        }
        _ => format!(
            "<circle cx=\"{xs}\" cy=\"{ys}\" r=\"{}\" fill=\"#ffffff\" stroke=\"{c}\" stroke-width=\"1.5\"/>",
            coord(r * 0.8)
        ),
    }
}

/// Where one label goes: its row under the lane and whether it reads leftwards from its
/// marker (near the right edge).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelSlot {
    pub row: usize,
    pub anchor_end: bool,
}

/// Gives each label (by marker x, in the order given) the first row where it does not overlap
/// the previous label, so crowded events stay legible.
pub fn stagger(xs_and_widths: &[(f64, f64)], right_edge: f64) -> Vec<LabelSlot> {
    let mut order: Vec<usize> = (0..xs_and_widths.len()).collect();
    order.sort_by(|&a, &b| xs_and_widths[a].0.total_cmp(&xs_and_widths[b].0));
    let mut row_end: Vec<f64> = Vec::new();
    let mut slots = vec![
        LabelSlot {
            row: 0,
            anchor_end: false
        };
        xs_and_widths.len()
    ];
    for i in order {
        let (x, w) = xs_and_widths[i];
        let anchor_end = x + w > right_edge;
        let (start, end) = if anchor_end { (x - w, x) } else { (x, x + w) };
        let row = match row_end.iter().position(|&e| e + 6.0 <= start) {
            Some(r) => r,
            None if row_end.len() < MAX_LABEL_ROWS => {
                row_end.push(f64::NEG_INFINITY);
                row_end.len() - 1
            }
            None => row_end
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(r, _)| r),
        };
        row_end[row] = row_end[row].max(end);
        slots[i] = LabelSlot { row, anchor_end };
    }
    slots
}

struct Axis {
    lo: f64,
    hi: f64,
}

impl Axis {
    fn x(&self, t: f64) -> f64 {
        LEFT + (t - self.lo) / (self.hi - self.lo) * (WIDTH - LEFT - RIGHT)
    }
}

fn finite_events(events: &[TimelineEvent]) -> impl Iterator<Item = &TimelineEvent> {
    events.iter().filter(|e| e.t_s.is_finite())
}

fn time_range(nations: &[NationTimeline]) -> Option<(f64, f64)> {
    let times = nations.iter().flat_map(|n| {
        [&n.shared, &n.alone, &n.truth, &n.public_record]
            .into_iter()
            .flat_map(|l| finite_events(l).map(|e| e.t_s))
    });
    let (lo, hi) = times.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    if lo > hi {
        return None;
    }
    let span = (hi - lo).max(10.0);
    let pad = span * 0.03;
    Some((lo - pad, lo + span + pad))
}

fn axis_svg(out: &mut String, axis: &Axis, y: f64, labels_above: bool, grid_to: Option<f64>) {
    let step = nice_step((axis.hi - axis.lo) / 10.0);
    let _ = writeln!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#333\"/>",
        coord(y),
        coord(WIDTH - RIGHT)
    );
    let mut t = (axis.lo / step).ceil() * step;
    while t <= axis.hi {
        let x = coord(axis.x(t));
        if let Some(g) = grid_to {
            let _ = writeln!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#ececec\"/>",
                coord(y),
                coord(g)
            );
        }
        let (tick_end, text_y) = if labels_above {
            (y - 5.0, y - 8.0)
        } else {
            (y + 5.0, y + 17.0)
        };
        let _ = writeln!(
            out,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#333\"/>\
             <text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text>",
            coord(y),
            coord(tick_end),
            coord(text_y),
            quantity(Some(t))
        );
        t += step;
    }
}

fn legend_svg(out: &mut String) {
    let mut x = 12.0;
    let y = 16.0;
    for (kind, text, _) in KINDS {
        out.push_str(&marker(kind, x + 6.0, y));
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" fill=\"#1a1a1a\">{text}</text>",
            coord(x + 16.0),
            coord(y + 4.0)
        );
        x += 22.0 + text_width_px(text, FONT_PX);
    }
}

/// Draws one lane at `y` (its marker line) and returns its height.
fn lane_svg(out: &mut String, axis: &Axis, name: &str, events: &[TimelineEvent], y: f64) -> f64 {
    let events: Vec<&TimelineEvent> = finite_events(events).collect();
    let labels: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{} · {} s",
                shorten(&e.label, LABEL_MAX_CHARS),
                quantity(Some(e.t_s))
            )
        })
        .collect();
    let geometry: Vec<(f64, f64)> = events
        .iter()
        .zip(&labels)
        .map(|(e, l)| (axis.x(e.t_s), text_width_px(l, FONT_PX)))
        .collect();
    let slots = stagger(&geometry, WIDTH - 4.0);
    let rows = slots.iter().map(|s| s.row + 1).max().unwrap_or(0);
    let height = 22.0 + rows as f64 * LABEL_ROW_PX;
    let _ = writeln!(
        out,
        "<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\" fill=\"#1a1a1a\">{name}</text>\
         <line x1=\"{LEFT}\" y1=\"{ly}\" x2=\"{lx2}\" y2=\"{ly}\" stroke=\"#b8b8b8\"/>",
        tx = LEFT - 10.0,
        ty = coord(y + 4.0),
        name = esc(name),
        ly = coord(y),
        lx2 = coord(WIDTH - RIGHT)
    );
    if events.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" fill=\"#767676\" font-style=\"italic\">no events</text>",
            LEFT + 6.0,
            coord(y + 14.0)
        );
        return height.max(34.0);
    }
    for ((e, label), (slot, (x, _))) in events.iter().zip(&labels).zip(slots.iter().zip(&geometry))
    {
        let ly = y + 20.0 + slot.row as f64 * LABEL_ROW_PX;
        if slot.row > 0 {
            let _ = writeln!(
                out,
                "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#c4c4c4\" stroke-width=\"0.8\"/>",
                coord(*x),
                coord(y + 7.0),
                coord(ly - 9.0)
            );
        }
        let _ = writeln!(
            out,
            "<g><title>{}: {} ({} s)</title>{}</g>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"{}\" fill=\"#1a1a1a\">{}</text>",
            esc(&e.kind),
            esc(&e.label),
            quantity(Some(e.t_s)),
            marker(&e.kind, *x, y),
            coord(*x),
            coord(ly),
            if slot.anchor_end { "end" } else { "start" },
            esc(label)
        );
    }
    height
}

/// The timeline of every nation as one SVG element.
pub fn svg(nations: &[NationTimeline]) -> String {
    let head = |h: f64| {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {0}\" width=\"{WIDTH}\" height=\"{0}\" \
             role=\"img\" aria-label=\"Timeline of warnings per nation, shared and alone, with truth and public record\" \
             font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\" font-size=\"{FONT_PX}\">\n",
            coord(h)
        )
    };
    let Some((lo, hi)) = time_range(nations) else {
        let mut out = head(70.0);
        out.push_str(
            "<text x=\"550\" y=\"40\" text-anchor=\"middle\" fill=\"#555\" font-size=\"14\">no events to show</text>\n</svg>\n",
        );
        return out;
    };
    let axis = Axis { lo, hi };
    let mut body = String::new();
    legend_svg(&mut body);
    let top_axis_y = 58.0;
    let mut y = top_axis_y + 16.0;
    for n in nations {
        let header_y = y + 14.0;
        let first_lane_y = header_y + 18.0;
        let mut lanes = String::new();
        let mut ly = first_lane_y;
        for (name, events) in [
            ("shared", &n.shared),
            ("alone", &n.alone),
            ("truth", &n.truth),
            ("public record", &n.public_record),
        ] {
            ly += lane_svg(&mut lanes, &axis, name, events, ly);
        }
        let bottom = ly - 10.0;
        let _ = writeln!(
            body,
            "<rect x=\"4\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f7f7f7\" stroke=\"#dddddd\"/>\
             <text x=\"10\" y=\"{}\" font-size=\"14\" font-weight=\"bold\" fill=\"#1a1a1a\">{}</text>",
            coord(y),
            coord(WIDTH - 8.0),
            coord(bottom - y),
            coord(header_y),
            esc(&n.nation)
        );
        // Truth guides behind the lanes: the moment every warning is measured against.
        for e in finite_events(&n.truth) {
            let _ = writeln!(
                body,
                "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#1a1a1a\" stroke-width=\"0.8\" stroke-dasharray=\"2 3\" opacity=\"0.6\"/>",
                coord(axis.x(e.t_s)),
                coord(first_lane_y - 8.0),
                coord(bottom - 4.0)
            );
        }
        body.push_str(&lanes);
        y = bottom + 12.0;
    }
    let bottom_axis_y = y + 4.0;
    let height = bottom_axis_y + 44.0;
    let mut out = head(height);
    axis_svg(&mut out, &axis, top_axis_y, true, Some(bottom_axis_y));
    axis_svg(&mut out, &axis, bottom_axis_y, false, None);
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">seconds after the scenario epoch</text>",
        coord((LEFT + WIDTH - RIGHT) / 2.0),
        coord(bottom_axis_y + 34.0)
    );
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}
