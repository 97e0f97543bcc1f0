//! The self-contained HTML report: the summary numbers, tables per object and inline SVG
//! charts. No script, no stylesheet or font from outside the file: it opens offline and can be
//! mailed as one attachment.

use std::fmt::Write;
use std::path::Path;

use crate::evaluate::Evaluation;
use crate::svg::{colour, escape, Chart, Style};
use crate::EvalError;

/// Charts show at most this many objects (the first by id); a raid of a thousand would make an
/// unreadable chart and a page of tens of megabytes. Tables list every object.
const MAX_CHART_OBJECTS: usize = 8;

fn opt(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) => format!("{x:.digits$}"),
        None => "–".into(),
    }
}

fn pct(v: Option<f64>) -> String {
    match v {
        Some(x) => format!("{:.1} %", 100.0 * x),
        None => "–".into(),
    }
}

/// Renders the report for the run in `dir`.
pub fn render_html(eval: &Evaluation, dir: &Path) -> String {
    let s = &eval.summary;
    let ser = &eval.series;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>trilink eval: {d}</title><style>\
         body{{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;\
         padding:3px 8px;text-align:right}}th{{background:#f4f4f4}}td:first-child,th:first-child\
         {{text-align:left}}.bad{{color:#b00}}.ok{{color:#070}}svg{{display:block;margin:1em 0}}\
         .empty{{color:#777}}table.notes td:nth-child(3){{text-align:left}}</style></head><body>\
         <h1>trilink eval</h1><p>Run directory: <code>{d}</code></p>",
        d = escape(&dir.display().to_string())
    );
    let i = &s.inputs;
    let _ = write!(
        h,
        "<p>{} truth objects, {} sensors, {} detections ({} false alarms), {} confirmed tracks \
         ({} rows).</p>",
        i.objects, i.sensors, i.detections, i.false_alarms, i.tracks, i.track_rows
    );

    // Headline table.
    let verdict = |inside: bool| {
        if inside {
            "<span class=\"ok\">inside</span>"
        } else {
            "<span class=\"bad\">outside</span>"
        }
    };
    h.push_str("<h2>Summary</h2><table class=\"notes\"><tr><th>metric</th><th>value</th><th>note</th></tr>");
    let g = &s.gospa;
    let p = &s.parameters;
    let _ = write!(
        h,
        "<tr><td>GOSPA mean (p = {}, c = {} m, α = 2)</td><td>{:.1} m</td>\
         <td>localisation {:.1} + missed {:.1} + false {:.1}; {} grid points every {} s</td></tr>",
        p.gospa.p,
        p.gospa.c_m,
        g.mean_m,
        g.mean_localisation_m,
        g.mean_missed_m,
        g.mean_false_m,
        g.grid_points,
        p.grid_s
    );
    let r = &s.rmse;
    let _ = write!(
        h,
        "<tr><td>Position RMSE, all / free flight</td><td>{} / {} m</td><td>{} / {} rows</td></tr>\
         <tr><td>Velocity RMSE, all / free flight</td><td>{} / {} m/s</td><td></td></tr>",
        opt(r.all.position_m, 1),
        opt(r.free_flight.position_m, 1),
        r.all.samples,
        r.free_flight.samples,
        opt(r.all.velocity_mps, 2),
        opt(r.free_flight.velocity_mps, 2),
    );
    for (name, c) in [
        ("ANEES (position, 3 dof)", &s.nees.position),
        ("ANEES in free flight", &s.nees.position_free_flight),
        ("ANIS", &s.nis),
    ] {
        match c {
            Some(c) => {
                let _ = write!(
                    h,
                    "<tr><td>{name}</td><td>{:.2}</td><td>95 % bounds [{:.2}, {:.2}] over {} \
                     samples (mean dof {:.1}): {}</td></tr>",
                    c.average,
                    c.lower_95,
                    c.upper_95,
                    c.samples,
                    c.mean_dof,
                    verdict(c.inside_95)
                );
            }
            None => {
                let _ = write!(h, "<tr><td>{name}</td><td>–</td><td>no samples</td></tr>");
            }
        }
    }
    let pc = &s.pcrlb;
    let _ = write!(
        h,
        "<tr><td>RMSE / PCRLB in free flight</td><td>{}</td><td>RMSE {} m, bound {} m over {} \
         rows</td></tr>",
        opt(pc.free_flight_ratio, 2),
        opt(pc.free_flight_rmse_m, 1),
        opt(pc.free_flight_bound_m, 1),
        pc.samples
    );
    let _ = write!(
        h,
        "<tr><td>RMSE / PCRLB, all rows</td><td>{}</td><td>RMSE {} m, bound {} m over {} rows \
         (the bound knows the thrust: optimistic in boost)</td></tr>",
        opt(pc.all_rows_ratio, 2),
        opt(pc.all_rows_rmse_m, 1),
        opt(pc.all_rows_bound_m, 1),
        pc.all_rows_samples
    );
    let t = &s.timeliness;
    let _ = write!(
        h,
        "<tr><td>Launch to first track, mean / max</td><td>{} / {} s</td><td>{} objects never \
         tracked</td></tr>",
        opt(t.mean_launch_to_track_s, 1),
        opt(t.max_launch_to_track_s, 1),
        t.objects_never_tracked
    );
    let c = &s.continuity;
    let _ = write!(
        h,
        "<tr><td>Breaks / id switches / swaps</td><td>{} / {} / {}</td><td>completeness {}, \
         spuriousness {}</td></tr>",
        c.track_breaks,
        c.id_switches,
        c.id_swaps,
        pct(c.completeness),
        pct(c.spuriousness)
    );
    if let Some(imp) = &s.impact {
        let _ = write!(
            h,
            "<tr><td>Impact 95 % ellipse containment</td><td>{}</td><td>{} of {} predictions \
             scored</td></tr>",
            pct(imp.containment_95),
            imp.scored,
            imp.predictions
        );
    }
    if let Some(l) = &s.launch {
        let _ = write!(
            h,
            "<tr><td>Launch point error, mean</td><td>{} m</td><td>containment {}, {} of {} \
             scored</td></tr>",
            opt(l.mean_error_m, 0),
            pct(l.containment_95),
            l.scored,
            l.estimates
        );
    }
    h.push_str("</table>");

    // GOSPA over time.
    h.push_str("<h2>GOSPA over time</h2>");
    let mut chart = Chart::new("GOSPA and its split", "time (s)", "GOSPA (m)");
    let pts = |f: &dyn Fn(&crate::evaluate::GridPoint) -> f64| {
        ser.grid.iter().map(|g| (g.t_s, f(g))).collect::<Vec<_>>()
    };
    chart.add("GOSPA", colour(6), Style::Line, pts(&|g| g.gospa_m));
    chart.add(
        "localisation",
        colour(0),
        Style::Line,
        pts(&|g| g.localisation),
    );
    chart.add("missed", colour(1), Style::Line, pts(&|g| g.missed));
    chart.add("false", colour(3), Style::Line, pts(&|g| g.false_));
    h.push_str(&chart.render());

    // Errors and bound per object.
    h.push_str("<h2>Errors against truth</h2>");
    let shown = ser.objects.len().min(MAX_CHART_OBJECTS);
    if shown < ser.objects.len() {
        let _ = write!(
            h,
            "<p>Charts show the first {shown} of {} objects; the tables list all.</p>",
            ser.objects.len()
        );
    }
    let mut pos = Chart::new(
        "Position error (dots) and √trace PCRLB (dashed)",
        "time (s)",
        "m",
    )
    .log_y();
    let mut vel = Chart::new("Velocity error", "time (s)", "m/s").log_y();
    let mut nees = Chart::new("Position NEES per row", "time (s)", "NEES").log_y();
    nees.hlines.push((0.216, "χ²₃ 2.5 %".into()));
    nees.hlines.push((9.348, "χ²₃ 97.5 %".into()));
    for (k, o) in ser.objects.iter().take(shown).enumerate() {
        let col = colour(k);
        let name = format!("object {}", o.object_id);
        pos.add(
            &name,
            col,
            Style::Dots,
            o.errors.iter().map(|e| (e.0, e.1)).collect(),
        );
        pos.add(
            &format!("{name} PCRLB"),
            col,
            Style::Dashed,
            o.bound.clone(),
        );
        vel.add(
            &name,
            col,
            Style::Dots,
            o.errors.iter().map(|e| (e.0, e.2)).collect(),
        );
        nees.add(
            &name,
            col,
            Style::Dots,
            o.errors
                .iter()
                .filter_map(|e| e.3.map(|v| (e.0, v)))
                .collect(),
        );
    }
    h.push_str(&pos.render());
    h.push_str(&vel.render());
    h.push_str(&nees.render());
    if !ser.nis.is_empty() {
        let mut nis = Chart::new("NIS per update (from tracks.csv)", "time (s)", "NIS").log_y();
        nis.add(
            "NIS",
            colour(0),
            Style::Dots,
            ser.nis.iter().map(|n| (n.0, n.1)).collect(),
        );
        h.push_str(&nis.render());
    }

    // Per-object table.
    h.push_str(
        "<table><tr><th>object</th><th>RMSE pos (m)</th><th>free-flight RMSE (m)</th>\
         <th>PCRLB (m)</th><th>RMSE/PCRLB</th><th>launch→track (s)</th><th>tracks</th>\
         <th>breaks</th><th>completeness</th></tr>",
    );
    for (k, o) in s.rmse.per_object.iter().enumerate() {
        let pc = &s.pcrlb.per_object[k];
        let tl = &s.timeliness.per_object[k];
        let co = &s.continuity.per_object[k];
        let ids: Vec<String> = co.track_ids.iter().map(u64::to_string).collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            o.object_id,
            opt(o.all.position_m, 1),
            opt(o.free_flight.position_m, 1),
            opt(pc.bound_m, 1),
            opt(pc.ratio, 2),
            opt(tl.launch_to_track_s, 1),
            escape(&ids.join(" ")),
            co.breaks,
            pct(co.completeness)
        );
    }
    h.push_str("</table>");

    // Track ids.
    h.push_str("<h2>Track continuity</h2>");
    let mut idc = Chart::new("Track id assigned to each object", "time (s)", "track id");
    for (k, o) in ser.objects.iter().take(shown).enumerate() {
        idc.add(
            &format!("object {}", o.object_id),
            colour(k),
            Style::Dots,
            o.ids
                .iter()
                .filter_map(|(t, id)| id.map(|v| (*t, v as f64)))
                .collect(),
        );
    }
    h.push_str(&idc.render());

    // Impact points.
    if let Some(imp) = &s.impact {
        h.push_str("<h2>Impact-point prediction</h2>");
        let mut ic = Chart::new(
            "Impact-point error against time to go",
            "time to go (s)",
            "error (m)",
        )
        .log_y();
        let (inside, outside): (Vec<_>, Vec<_>) = ser.impacts.iter().partition(|p| p.inside_95);
        ic.add(
            "inside 95 % ellipse",
            colour(2),
            Style::Dots,
            inside.iter().map(|p| (p.time_to_go_s, p.error_m)).collect(),
        );
        ic.add(
            "outside",
            colour(1),
            Style::Dots,
            outside
                .iter()
                .map(|p| (p.time_to_go_s, p.error_m))
                .collect(),
        );
        h.push_str(&ic.render());
        h.push_str(
            "<table><tr><th>time to go (s)</th><th>predictions</th><th>mean (m)</th>\
             <th>median (m)</th><th>95th pct (m)</th><th>|Δt| mean (s)</th>\
             <th>containment</th></tr>",
        );
        for b in &imp.bins {
            let to = b
                .time_to_go_to_s
                .map_or("∞".to_string(), |t| format!("{t:.0}"));
            let _ = write!(
                h,
                "<tr><td>{:.0}–{to}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td></tr>",
                b.time_to_go_from_s,
                b.predictions,
                opt(b.mean_error_m, 0),
                opt(b.median_error_m, 0),
                opt(b.p95_error_m, 0),
                opt(b.mean_abs_time_error_s, 1),
                pct(b.containment_95)
            );
        }
        h.push_str("</table>");
    }

    let _ = write!(
        h,
        "<h2>How this was scored</h2><p>At every grid time (every {grid} s) the truth is \
         interpolated (cubic Hermite) and each confirmed track's most recent row no older than \
         {age} s is {prop}; the two sets are assigned optimally by GOSPA. A track row belongs to \
         the object its track is assigned to at the first grid time at or after the row, and its \
         error is taken at the row's own time. Free flight: truth above {alt} km whose \
         acceleration matches gravity and the rotating-frame terms within {tol} m/s². The PCRLB \
         runs along each true trajectory through that object's labelled detections, from a \
         diffuse prior at its first detection, with no process noise. Chi-square bounds assume \
         independent samples; successive updates of one track are not.</p>",
        grid = p.grid_s,
        age = p.max_age_s,
        prop = if p.propagate {
            "propagated to the grid time by free flight"
        } else {
            "taken as it is"
        },
        alt = p.free_flight.min_alt_m / 1000.0,
        tol = p.free_flight.accel_tol_mps2
    );
    let json = serde_json::to_string_pretty(s).unwrap_or_default();
    let _ = writeln!(
        h,
        "<details><summary>All numbers (JSON, as printed by <code>trilink eval</code>)</summary>\
         <pre>{}</pre></details></body></html>",
        escape(&json)
    );
    h
}

/// Writes `dir/report.html`.
pub fn write_html(eval: &Evaluation, dir: &Path) -> Result<std::path::PathBuf, EvalError> {
    let path = dir.join("report.html");
    std::fs::write(&path, render_html(eval, dir)).map_err(|source| EvalError::Write {
        file: path.clone(),
        source,
    })?;
    Ok(path)
}
