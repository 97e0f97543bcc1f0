//! Small hand-written SVG charts: line, dashed and dot series on linear or log axes. Enough for
//! the report, with no dependency and nothing loaded from outside the page.

use std::fmt::Write;

/// Colours that stay apart for the usual colour-vision deficiencies (Okabe–Ito).
pub const PALETTE: &[&str] = &[
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];

pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    Line,
    Dashed,
    Dots,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub colour: &'static str,
    pub style: Style,
    pub points: Vec<(f64, f64)>,
}

#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_y: bool,
    pub series: Vec<Series>,
    /// Horizontal reference lines: (y, label).
    pub hlines: Vec<(f64, String)>,
}

const W: f64 = 820.0;
const H: f64 = 320.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 45.0;
/// Past this many points a series is thinned by a stride: the page stays small and the eye
/// cannot tell the difference.
const MAX_POINTS: usize = 2500;

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn nice_step(range: f64) -> f64 {
    let raw = range / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f < 1.5 {
        1.0
    } else if f < 3.5 {
        2.0
    } else if f < 7.5 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A tick label with as many decimals as the tick spacing needs (so 101.0, 101.5, 102.0 do not
/// all print as "101").
fn fmt_tick(v: f64, step: f64) -> String {
    let a = v.abs();
    if a < 1e-12 * step.abs().max(1e-300) || a == 0.0 {
        "0".into()
    } else if !(1e-3..1e7).contains(&a) {
        format!("{v:.1e}")
    } else {
        let decimals = (-step.abs().log10().floor()).clamp(0.0, 6.0) as usize;
        format!("{v:.decimals$}")
    }
}

impl Chart {
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_y: false,
            series: Vec::new(),
            hlines: Vec::new(),
        }
    }

    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    pub fn add(&mut self, name: &str, colour: &'static str, style: Style, points: Vec<(f64, f64)>) {
        let points: Vec<(f64, f64)> = points
            .into_iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && (!self.log_y || *y > 0.0))
            .collect();
        let stride = points.len().div_ceil(MAX_POINTS).max(1);
        let points = points.into_iter().step_by(stride).collect();
        self.series.push(Series {
            name: name.into(),
            colour,
            style,
            points,
        });
    }

    /// The chart as an `<svg>` element, or a short note when there is nothing to draw.
    pub fn render(&self) -> String {
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(
                self.hlines
                    .iter()
                    .map(|h| h.0)
                    .filter(|y| !self.log_y || *y > 0.0),
            );
        let (mut x0, mut x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let (mut y0, mut y1) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
            (a.min(y), b.max(y))
        });
        if !x0.is_finite() || !y0.is_finite() {
            return format!("<p class=\"empty\">{}: no data.</p>", escape(&self.title));
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
            x0 -= 1.0;
        }
        let ty = |y: f64| if self.log_y { y.log10() } else { y };
        let (mut ly0, mut ly1) = (ty(y0), ty(y1));
        if self.log_y {
            ly0 = ly0.floor();
            ly1 = ly1.ceil().max(ly0 + 1.0);
        } else {
            if y0 > 0.0 && y0 < 0.5 * y1 {
                y0 = 0.0;
            }
            if y1 <= y0 {
                y1 = y0 + 1.0;
            }
            let step = nice_step(y1 - y0);
            ly0 = (y0 / step).floor() * step;
            ly1 = (y1 / step).ceil() * step;
        }
        let pw = W - LEFT - RIGHT;
        let ph = H - TOP - BOTTOM;
        let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
        let py = |y: f64| TOP + ph - (ty(y) - ly0) / (ly1 - ly0) * ph;

        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" \
             height=\"{H}\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">\
             <title>{t}</title>\
             <text x=\"{cx}\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" \
             font-weight=\"bold\">{t}</text>",
            t = escape(&self.title),
            cx = LEFT + pw / 2.0
        );
        let _ = write!(
            s,
            "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" \
             stroke=\"#999\"/>"
        );
        // Y ticks.
        let yticks: Vec<f64> = if self.log_y {
            (ly0 as i32..=ly1 as i32).map(|e| 10f64.powi(e)).collect()
        } else {
            let step = nice_step(ly1 - ly0);
            let n = ((ly1 - ly0) / step).round() as i64;
            (0..=n).map(|k| ly0 + k as f64 * step).collect()
        };
        for y in yticks {
            let yy = py(y);
            let label_step = if self.log_y { y } else { nice_step(ly1 - ly0) };
            let _ = write!(
                s,
                "<line x1=\"{LEFT}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#eee\"/>\
                 <text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}</text>",
                x2 = LEFT + pw,
                tx = LEFT - 5.0,
                ty = yy + 4.0,
                label = fmt_tick(y, label_step)
            );
        }
        // X ticks.
        let step = nice_step(x1 - x0);
        let mut x = (x0 / step).ceil() * step;
        while x <= x1 + 1e-9 * step {
            let xx = px(x);
            let _ = write!(
                s,
                "<line x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{TOP}\" y2=\"{y2}\" stroke=\"#eee\"/>\
                 <text x=\"{xx:.1}\" y=\"{ty}\" text-anchor=\"middle\">{label}</text>",
                y2 = TOP + ph,
                ty = TOP + ph + 15.0,
                label = fmt_tick(x, step)
            );
            x += step;
        }
        let _ = write!(
            s,
            "<text x=\"{cx}\" y=\"{by}\" text-anchor=\"middle\">{xl}</text>\
             <text x=\"14\" y=\"{cy}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {cy})\">\
             {yl}</text>",
            cx = LEFT + pw / 2.0,
            by = H - 8.0,
            cy = TOP + ph / 2.0,
            xl = escape(&self.x_label),
            yl = escape(&self.y_label)
        );
        for (y, label) in &self.hlines {
            if self.log_y && *y <= 0.0 {
                continue;
            }
            let yy = py(*y);
            let _ = write!(
                s,
                "<line x1=\"{LEFT}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#555\" \
                 stroke-dasharray=\"2 3\"/><text x=\"{tx}\" y=\"{ty:.1}\" fill=\"#555\">{l}</text>",
                x2 = LEFT + pw,
                tx = LEFT + pw + 4.0,
                ty = yy + 4.0,
                l = escape(label)
            );
        }
        for (k, ser) in self.series.iter().enumerate() {
            match ser.style {
                Style::Line | Style::Dashed => {
                    let mut d = String::new();
                    for (i, &(x, y)) in ser.points.iter().enumerate() {
                        let _ = write!(
                            d,
                            "{}{:.1},{:.1}",
                            if i == 0 { "M" } else { " L" },
                            px(x),
                            py(y)
                        );
                    }
                    let dash = if ser.style == Style::Dashed {
                        " stroke-dasharray=\"6 4\""
                    } else {
                        ""
                    };
                    let _ = write!(
                        s,
                        "<path d=\"{d}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"1.5\"{dash}/>",
                        c = ser.colour
                    );
                }
                Style::Dots => {
                    let _ = write!(s, "<g fill=\"{}\" fill-opacity=\"0.7\">", ser.colour);
                    for &(x, y) in &ser.points {
                        let _ = write!(
                            s,
                            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\"/>",
                            px(x),
                            py(y)
                        );
                    }
                    s.push_str("</g>");
                }
            }
            // Legend.
            let ly = TOP + 12.0 + 16.0 * k as f64;
            let lx = LEFT + pw + 10.0;
            let _ = write!(
                s,
                "<line x1=\"{lx}\" x2=\"{lx2}\" y1=\"{ly}\" y2=\"{ly}\" stroke=\"{c}\" \
                 stroke-width=\"3\"{dash}/><text x=\"{tx}\" y=\"{ty}\">{n}</text>",
                lx2 = lx + 18.0,
                c = ser.colour,
                dash = if ser.style == Style::Dashed {
                    " stroke-dasharray=\"4 2\""
                } else {
                    ""
                },
                tx = lx + 22.0,
                ty = ly + 4.0,
                n = escape(&ser.name)
            );
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_renders_paths_and_escapes_text() {
        let mut c = Chart::new("a < b", "t (s)", "m");
        c.add("s1", colour(0), Style::Line, vec![(0.0, 1.0), (1.0, 2.0)]);
        let svg = c.render();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("a &lt; b") && svg.contains("<path d=\"M"));
    }

    #[test]
    fn tick_labels_carry_the_decimals_their_spacing_needs() {
        assert_eq!(fmt_tick(101.5, 0.5), "101.5");
        assert_eq!(fmt_tick(200.0, 50.0), "200");
        assert_eq!(fmt_tick(0.01, 0.01), "0.01");
        assert_eq!(fmt_tick(0.0, 0.5), "0");
    }

    #[test]
    fn empty_chart_says_so() {
        let c = Chart::new("nothing", "x", "y").log_y();
        assert!(c.render().contains("no data"));
    }

    #[test]
    fn log_chart_drops_non_positive_points() {
        let mut c = Chart::new("t", "x", "y").log_y();
        c.add(
            "s",
            colour(1),
            Style::Dots,
            vec![(0.0, 0.0), (1.0, 10.0), (2.0, 1000.0)],
        );
        assert_eq!(c.series[0].points.len(), 2);
        assert!(c.render().contains("<circle"));
    }
}
