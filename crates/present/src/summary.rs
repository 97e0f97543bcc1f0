//! The answer and the tables, read from `summary.json`.
//!
//! The summary is read as untyped JSON on purpose: the run's output grows keys over time and a
//! report of an older or newer run must still render. A missing or mistyped key is shown as
//! "–" or left out, never a panic.
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::markup::{coord, esc, nice_step, quantity};

/// Keys of a nation's summary that have their own rows; any other key is listed after them.
const NATION_PAIRS: &[(&str, &str)] = &[
    ("first_track_s", "first confirmed track (s)"),
    ("first_launch_warning_s", "first launch warning (s)"),
    ("first_warning_s", "first warning of any kind (s)"),
    (
        "launch_latency_s",
        "launch warning − first detection reaching it (s)",
    ),
    ("lead_time_s", "lead time before the first event (s)"),
];
const NATION_HANDLED: &[&str] = &[
    "nation",
    "affected",
    "regions",
    "first_detection_s",
    "first_track_s",
    "first_launch_warning_s",
    "first_warning_s",
    "launch_latency_s",
    "lead_time_s",
    "gain_s",
    "scores_shared",
    "scores_alone",
    "warnings_shared",
    "warnings_alone",
];

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key)?.as_f64().filter(|x| x.is_finite())
}

/// A `{"shared": .., "alone": ..}` figure as (shared, alone).
fn pair(v: &Value, key: &str) -> (Option<f64>, Option<f64>) {
    match v.get(key) {
        Some(p) => (num(p, "shared"), num(p, "alone")),
        None => (None, None),
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)?.as_str()
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
}

fn nation_name(n: &Value) -> &str {
    text(n, "nation").unwrap_or("?")
}

/// Whether truth touched the nation: the `affected` flag, or failing that any region with a
/// truth event.
fn affected(n: &Value) -> bool {
    n.get("affected")
        .and_then(Value::as_bool)
        .unwrap_or_else(|| {
            list(n, "regions")
                .iter()
                .any(|r| r.get("truth_event").is_some_and(|e| !e.is_null()))
        })
}

/// The earliest truth event in the nation's regions: (time, event name).
fn first_event(n: &Value) -> Option<(f64, String)> {
    list(n, "regions")
        .iter()
        .filter_map(|r| {
            let t = num(r, "truth_time_s")?;
            Some((t, text(r, "truth_event").unwrap_or("event").to_owned()))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

fn scores_phrase(scores: Option<&Value>) -> Option<String> {
    let s = scores?;
    let count = |k| quantity(num(s, k));
    Some(format!(
        "{} wrong-area, {} missed, {} false",
        count("wrong_area"),
        count("missed"),
        count("false")
    ))
}

/// When the time of a warning was: after launch when the launch is known, else after the
/// epoch.
struct Clock {
    launch_s: Option<f64>,
}

impl Clock {
    fn one(&self, t: f64) -> String {
        match self.launch_s {
            Some(l) => format!("{} s after launch", quantity(Some(t - l))),
            None => format!("at t = {} s", quantity(Some(t))),
        }
    }
    fn two(&self, a: f64, b: f64) -> String {
        match self.launch_s {
            Some(l) => format!(
                "{} s vs {} s after launch",
                quantity(Some(a - l)),
                quantity(Some(b - l))
            ),
            None => format!("at t = {} s vs {} s", quantity(Some(a)), quantity(Some(b))),
        }
    }
}

/// The plain-words answer for one nation's summary, without the nation's name.
///
/// `launch_s` is the launch time on the scenario clock, when known: warning times are then
/// said as seconds after launch, as public alerting reports them.
pub fn headline(n: &Value, launch_s: Option<f64>) -> String {
    let clock = Clock { launch_s };
    let (shared, alone) = pair(n, "first_warning_s");
    if !affected(n) {
        return match (shared, alone) {
            (None, None) => "not affected; no warning (correct)".to_owned(),
            (Some(s), _) => format!(
                "not affected, yet warned with sharing {} (false warning)",
                clock.one(s)
            ),
            (None, Some(a)) => format!(
                "not affected; no warning with sharing (correct), though alone it warned {}",
                clock.one(a)
            ),
        };
    }
    let mut parts = Vec::new();
    parts.push(match (shared, alone) {
        (Some(s), Some(a)) => {
            let gain = num(n, "gain_s").unwrap_or(a - s);
            if gain > 0.05 {
                format!(
                    "warned {} s earlier with sharing ({})",
                    quantity(Some(gain)),
                    clock.two(s, a)
                )
            } else if gain < -0.05 {
                format!(
                    "warned {} s later with sharing ({})",
                    quantity(Some(-gain)),
                    clock.two(s, a)
                )
            } else {
                format!(
                    "warned at the same time with and without sharing ({})",
                    clock.one(s)
                )
            }
        }
        (Some(s), None) => format!(
            "warned only with sharing ({}); no warning alone",
            clock.one(s)
        ),
        (None, Some(a)) => format!(
            "no warning with sharing, later than alone ({})",
            clock.one(a)
        ),
        (None, None) => "affected but not warned, with or without sharing".to_owned(),
    });
    if let Some(lead) = pair(n, "lead_time_s").0 {
        let event = first_event(n).map_or_else(|| "event".to_owned(), |(_, e)| e);
        if lead >= 0.0 {
            parts.push(format!(
                "{} s before the first {event}",
                quantity(Some(lead))
            ));
        } else {
            parts.push(format!(
                "{} s after the first {event} (late)",
                quantity(Some(-lead))
            ));
        }
    }
    if let Some(s) = scores_phrase(n.get("scores_shared")) {
        parts.push(s);
    }
    parts.join("; ")
}

/// One list item per nation of the summary.
pub fn headlines_html(summary: &Value, launch_s: Option<f64>) -> String {
    let nations = list(summary, "nations");
    if nations.is_empty() {
        return "<p>The summary lists no nations.</p>\n".to_owned();
    }
    let mut out = String::from("<ul class=\"answer\">\n");
    for n in nations {
        let h = headline(n, launch_s);
        // The verdict gets a colour for the quick reader (the words carry the meaning on their
        // own): for an affected nation the first clause, for one not affected the whole line.
        let (first, rest) = match h.split_once("; ") {
            Some((a, b)) if !h.starts_with("not affected") => (a, b),
            _ => (h.as_str(), ""),
        };
        let class = if first.contains("earlier") || first.contains("(correct)") {
            "good"
        } else if ["later", "not warned", "false warning"]
            .iter()
            .any(|w| first.contains(w))
        {
            "bad"
        } else {
            "plain"
        };
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!("; {}", esc(rest))
        };
        let _ = writeln!(
            out,
            "<li><strong>{}</strong>: <span class=\"{class}\">{}</span>{rest}</li>",
            esc(nation_name(n)),
            esc(first)
        );
    }
    out.push_str("</ul>\n");
    out
}

fn cell(v: Option<f64>) -> String {
    match v {
        Some(_) => format!("<td class=\"num\">{}</td>", quantity(v)),
        None => "<td class=\"none\">–</td>".to_owned(),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("–".to_owned()),
        Value::Bool(b) => Some(if *b { "yes" } else { "no" }.to_owned()),
        Value::Number(x) => Some(quantity(x.as_f64())),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// A compact text for a value that has no row layout: scalars as they are, flat objects as
/// `key = value` pairs.
fn loose(v: &Value) -> String {
    if let Some(s) = scalar(v) {
        return s;
    }
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| format!("{k} = {}", scalar(x).unwrap_or_else(|| "…".to_owned())))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(a) => format!("{} items", a.len()),
        _ => String::new(),
    }
}

/// What one nation shows in one row of the figures table.
enum Cells {
    Pair(Option<f64>, Option<f64>),
    Span(String),
}

fn cells_html(c: &Cells) -> String {
    match c {
        Cells::Pair(s, a) => format!("{}{}", cell(*s), cell(*a)),
        Cells::Span(t) => format!("<td colspan=\"2\" class=\"num\">{}</td>", esc(t)),
    }
}

/// A row: its label and, per nation, its cells, or `None` when the nation lacks the key.
type Row<'a> = (String, Box<dyn Fn(&Value) -> Option<Cells> + 'a>);

fn rows<'a>(nations: &'a [Value]) -> Vec<Row<'a>> {
    let mut rows: Vec<Row<'a>> = vec![(
        "first detection (s)¹".to_owned(),
        Box::new(|n: &Value| {
            let d = n.get("first_detection_s")?;
            Some(Cells::Pair(num(d, "reachable"), num(d, "own")))
        }),
    )];
    for (key, label) in NATION_PAIRS {
        rows.push((
            (*label).to_owned(),
            Box::new(move |n: &Value| {
                n.get(*key)?;
                let (s, a) = pair(n, key);
                Some(Cells::Pair(s, a))
            }),
        ));
    }
    rows.push((
        "warnings issued".to_owned(),
        Box::new(|n: &Value| {
            let (s, a) = (num(n, "warnings_shared"), num(n, "warnings_alone"));
            (n.get("warnings_shared").is_some() || n.get("warnings_alone").is_some())
                .then_some(Cells::Pair(s, a))
        }),
    ));
    for (key, label) in [
        ("wrong_area", "wrong-area warnings"),
        ("missed", "missed regions"),
        ("false", "false warnings"),
    ] {
        rows.push((
            label.to_owned(),
            Box::new(move |n: &Value| {
                let (s, a) = (n.get("scores_shared"), n.get("scores_alone"));
                (s.is_some() || a.is_some())
                    .then(|| Cells::Pair(s.and_then(|s| num(s, key)), a.and_then(|a| num(a, key))))
            }),
        ));
    }
    rows.push((
        "gain: first warning alone − shared (s)".to_owned(),
        Box::new(|n: &Value| {
            n.get("gain_s")?;
            Some(Cells::Span(quantity(num(n, "gain_s"))))
        }),
    ));
    // Keys this report does not know yet, so that a newer summary loses nothing.
    let mut extra: Vec<&'a str> = Vec::new();
    for n in nations {
        for k in n.as_object().into_iter().flat_map(Map::keys) {
            if !NATION_HANDLED.contains(&k.as_str()) && !extra.contains(&k.as_str()) {
                extra.push(k);
            }
        }
    }
    for key in extra {
        rows.push((
            key.to_owned(),
            Box::new(move |n: &Value| {
                let v = n.get(key)?;
                Some(if v.get("shared").is_some() || v.get("alone").is_some() {
                    Cells::Pair(num(v, "shared"), num(v, "alone"))
                } else {
                    Cells::Span(loose(v))
                })
            }),
        ));
    }
    rows
}

/// One figures table with every nation side by side, then each nation's regions.
pub fn nation_tables_html(summary: &Value) -> String {
    let nations = list(summary, "nations");
    if nations.is_empty() {
        return String::new();
    }
    let mut out = String::from("<table>\n<thead>\n<tr><th rowspan=\"2\">figure</th>");
    for n in nations {
        let state = if affected(n) {
            "affected"
        } else {
            "not affected"
        };
        let _ = write!(
            out,
            "<th colspan=\"2\">{} ({state})</th>",
            esc(nation_name(n))
        );
    }
    out.push_str("</tr>\n<tr>");
    for _ in nations {
        out.push_str("<th>shared</th><th>alone</th>");
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for (label, cells) in rows(nations) {
        let per_nation: Vec<Option<Cells>> = nations.iter().map(cells).collect();
        if per_nation.iter().all(Option::is_none) {
            continue;
        }
        let _ = write!(out, "<tr><th>{}</th>", esc(&label));
        for c in &per_nation {
            out.push_str(&c.as_ref().map_or_else(
                || "<td class=\"none\">–</td><td class=\"none\">–</td>".to_owned(),
                cells_html,
            ));
        }
        out.push_str("</tr>\n");
    }
    out.push_str(
        "</tbody>\n</table>\n<p class=\"note\">¹ First detection: under <em>shared</em> by any \
         radar whose data reaches the nation, under <em>alone</em> by its own radars.</p>\n",
    );
    out.push_str("<div class=\"nations\">\n");
    for n in nations {
        let _ = writeln!(
            out,
            "<div class=\"nation\">\n<h3>{}: regions</h3>",
            esc(nation_name(n))
        );
        out.push_str(&regions_table(n));
        out.push_str("</div>\n");
    }
    out.push_str("</div>\n");
    out
}

fn regions_table(n: &Value) -> String {
    let regions = list(n, "regions");
    if regions.is_empty() {
        return "<p class=\"note\">No regions listed.</p>\n".to_owned();
    }
    let mut out = String::from(
        "<table>\n<thead>\n\
         <tr><th rowspan=\"2\">region</th><th colspan=\"2\">truth</th>\
         <th colspan=\"2\">first warning (s)</th><th colspan=\"2\">lead time (s)</th><th colspan=\"2\">impact error (km)</th></tr>\n\
         <tr><th>event</th><th>time (s)</th><th>shared</th><th>alone</th><th>shared</th><th>alone</th><th>shared</th><th>alone</th></tr>\n\
         </thead>\n<tbody>\n",
    );
    for r in regions {
        let event = text(r, "truth_event").unwrap_or("none");
        let (ws, wa) = pair(r, "first_warning_s");
        let (ls, la) = pair(r, "lead_time_s");
        let (es, ea) = pair(r, "impact_error_m");
        let km = |m: Option<f64>| m.map(|m| m / 1000.0);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td>{}{}{}{}{}{}{}</tr>",
            esc(text(r, "region").unwrap_or("?")),
            esc(event),
            cell(num(r, "truth_time_s")),
            cell(ws),
            cell(wa),
            cell(ls),
            cell(la),
            cell(km(es)),
            cell(km(ea)),
        );
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// The publicly reported times beside what trilink's shared picture warned for the region.
pub fn public_record_html(summary: &Value) -> String {
    let records = list(summary, "public_record");
    if records.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<h3>Public record</h3>\n<table>\n<thead><tr><th>nation</th><th>region</th><th>event</th>\
         <th>reported time (s)</th><th>trilink first warning, shared (s)</th>\
         <th>reported − trilink (s)</th></tr></thead>\n<tbody>\n",
    );
    for p in records {
        let nation = text(p, "nation").unwrap_or("?");
        let region = text(p, "region").unwrap_or("?");
        let t = num(p, "time_s");
        let ours = list(summary, "nations")
            .iter()
            .filter(|n| nation_name(n) == nation)
            .flat_map(|n| list(n, "regions"))
            .find(|r| text(r, "region") == Some(region))
            .and_then(|r| pair(r, "first_warning_s").0);
        let diff = match (t, ours) {
            (Some(t), Some(o)) => Some(t - o),
            _ => None,
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td>{}{}{}</tr>",
            esc(nation),
            esc(region),
            esc(text(p, "event").unwrap_or("?")),
            cell(t),
            cell(ours),
            cell(diff)
        );
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// The reader's name of a summary key; keys this report does not know keep their own name.
fn figure_name(key: &str) -> String {
    let known = NATION_PAIRS.iter().chain(&[
        ("gain_s", "gain: first warning alone − shared (s)"),
        ("scores_shared", "wrong-area / missed / false, shared"),
        ("scores_alone", "wrong-area / missed / false, alone"),
    ]);
    known
        .into_iter()
        .find(|(k, _)| *k == key)
        .map_or_else(|| key.to_owned(), |(_, name)| (*name).to_owned())
}

/// A distribution's percentiles, when the value is one.
fn dist(v: &Value) -> Option<[Option<f64>; 4]> {
    let d = [num(v, "p10"), num(v, "median"), num(v, "p90"), num(v, "n")];
    d.iter().any(Option::is_some).then_some(d)
}

/// Percentile tables per nation and a range plot of lead times; `None` without Monte Carlo.
pub fn monte_carlo_html(summary: &Value) -> Option<String> {
    let mc = summary.get("monte_carlo")?;
    if !mc.is_object() {
        return None;
    }
    let mut out = String::new();
    if let Some(runs) = num(mc, "runs") {
        let _ = writeln!(
            out,
            "<p>{} runs with different seeds. Bars span the 10th to 90th percentile; the dot is \
             the median.</p>",
            quantity(Some(runs))
        );
    }
    out.push_str("<figure>\n");
    out.push_str(&mc_svg(list(mc, "nations")));
    out.push_str("<figcaption>Lead time before the first event in the nation's regions, with sharing and alone.</figcaption>\n</figure>\n");
    for n in list(mc, "nations") {
        let Some(m) = n.as_object() else { continue };
        let _ = writeln!(out, "<h3>{}</h3>", esc(nation_name(n)));
        out.push_str(
            "<table>\n<thead><tr><th>figure</th><th>mode</th><th>p10</th><th>median</th>\
             <th>p90</th><th>n</th></tr></thead>\n<tbody>\n",
        );
        for (k, v) in m {
            if k == "nation" {
                continue;
            }
            let name = figure_name(k);
            let row = |mode: &str, d: [Option<f64>; 4]| {
                format!(
                    "<tr><th>{}</th><td>{mode}</td>{}{}{}{}</tr>\n",
                    esc(&name),
                    cell(d[0]),
                    cell(d[1]),
                    cell(d[2]),
                    cell(d[3])
                )
            };
            if let Some(d) = dist(v) {
                out.push_str(&row("–", d));
                continue;
            }
            let mut any = false;
            for mode in ["shared", "alone"] {
                if let Some(d) = v.get(mode).and_then(dist) {
                    out.push_str(&row(mode, d));
                    any = true;
                }
            }
            if !any {
                let _ = writeln!(
                    out,
                    "<tr><th>{}</th><td colspan=\"5\">{}</td></tr>",
                    esc(&name),
                    esc(&loose(v))
                );
            }
        }
        out.push_str("</tbody>\n</table>\n");
    }
    Some(out)
}

/// Horizontal p10–p90 bars with the median, one pair of rows (shared, alone) per nation.
fn mc_svg(nations: &[Value]) -> String {
    let rows: Vec<(String, &str, [Option<f64>; 4])> = nations
        .iter()
        .flat_map(|n| {
            ["shared", "alone"].into_iter().filter_map(move |mode| {
                let d = n.get("lead_time_s")?.get(mode).and_then(dist)?;
                Some((nation_name(n).to_owned(), mode, d))
            })
        })
        .collect();
    let (w, left, right, top, row_h) = (900.0, 130.0, 30.0, 16.0, 24.0);
    let h = top + row_h * rows.len().max(1) as f64 + 40.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {}\" width=\"{w}\" height=\"{}\" \
         role=\"img\" aria-label=\"Monte Carlo lead time distributions\" font-family=\"system-ui, sans-serif\" font-size=\"12\">\n",
        coord(h),
        coord(h)
    );
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|r| [r.2[0], r.2[1], r.2[2]])
        .flatten()
        .collect();
    if values.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">no lead-time distributions</text>",
            w / 2.0,
            coord(h / 2.0)
        );
        out.push_str("</svg>\n");
        return out;
    }
    let lo = values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .min(0.0);
    let hi = values
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        .max(lo + 1.0);
    let x = |v: f64| left + (v - lo) / (hi - lo) * (w - left - right);
    let axis_y = top + row_h * rows.len() as f64 + 4.0;
    let step = nice_step((hi - lo) / 8.0);
    let mut t = (lo / step).ceil() * step;
    while t <= hi + 1e-9 {
        let _ = writeln!(
            out,
            "<line x1=\"{0}\" y1=\"{top}\" x2=\"{0}\" y2=\"{1}\" stroke=\"#e3e3e3\"/>\
             <text x=\"{0}\" y=\"{2}\" text-anchor=\"middle\" fill=\"#333\">{3}</text>",
            coord(x(t)),
            coord(axis_y),
            coord(axis_y + 16.0),
            quantity(Some(t))
        );
        t += step;
    }
    if lo < 0.0 {
        let _ = writeln!(
            out,
            "<line x1=\"{0}\" y1=\"{top}\" x2=\"{0}\" y2=\"{1}\" stroke=\"#333\" stroke-dasharray=\"3 3\"/>",
            coord(x(0.0)),
            coord(axis_y)
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">lead time (s)</text>",
        coord((left + w - right) / 2.0),
        coord(axis_y + 32.0)
    );
    for (i, (nation, mode, d)) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        let colour = if *mode == "shared" {
            "#0072B2"
        } else {
            "#D55E00"
        };
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1a1a1a\">{} {mode}</text>",
            left - 8.0,
            coord(y + 4.0),
            esc(nation)
        );
        if let (Some(a), Some(b)) = (d[0], d[2]) {
            let _ = writeln!(
                out,
                "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{colour}\" stroke-width=\"6\" stroke-linecap=\"round\" opacity=\"0.55\"/>",
                coord(x(a)),
                coord(y),
                coord(x(b))
            );
        }
        if let Some(m) = d[1] {
            let _ = writeln!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{colour}\" stroke=\"#fff\"><title>median {} s</title></circle>",
                coord(x(m)),
                coord(y),
                quantity(Some(m))
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// The run's top-level scalar keys (scenario, seed, wall time, …), whatever they are.
pub fn run_table_html(summary: &Value) -> String {
    let Some(m) = summary.as_object() else {
        return "<p class=\"note\">No summary.</p>\n".to_owned();
    };
    let mut rows = String::new();
    for (k, v) in m {
        if let Some(s) = scalar(v) {
            let _ = writeln!(rows, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&s));
        }
    }
    if rows.is_empty() {
        return "<p class=\"note\">No run figures.</p>\n".to_owned();
    }
    format!("<table>\n<tbody>\n{rows}</tbody>\n</table>\n")
}
