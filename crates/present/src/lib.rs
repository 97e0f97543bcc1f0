//! trilink-present: the report of a `trilink run` as one self-contained HTML file.
//!
//! The page answers "how much earlier, and how correctly, is each nation warned when allies
//! share radar tracks?": a plain-words answer per nation, the figures of `summary.json` as
//! tables, a timeline and a map. Plots are inline SVG and the page has no script and loads
//! nothing, so it opens from disk anywhere and can be mailed as one file.
//!
//! The crate knows nothing of the simulator, the tracker or the bus: the caller fills the plain
//! types below. Every string that reaches the page is escaped, since region names come from
//! user files.
//!
//! - [`summary`]: reading `summary.json` without trusting its shape, the headline, the tables;
//! - [`timeline`]: the lanes of events per nation;
//! - [`map`]: the projection and the map;
//! - [`markup`]: escaping and number formatting shared by the above;
//! - [`sample`]: a realistic hand-made input, to try the page without a run.

pub mod map;
pub mod markup;
pub mod sample;
pub mod summary;
pub mod timeline;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use markup::esc;

/// Everything the report shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    /// For example "hwasong-12 — Hwasong-12 IRBM over northern Japan (2022-10-04)".
    pub title: String,
    /// Seed, bus, wall time, epoch (UTC).
    pub subtitle: String,
    /// The run's `summary.json`; keys that are missing or of another type are skipped.
    pub summary: serde_json::Value,
    pub nations: Vec<NationTimeline>,
    pub map: MapData,
}

/// The events of one nation, in seconds after the scenario epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NationTimeline {
    pub nation: String,
    /// With allies' tracks.
    pub shared: Vec<TimelineEvent>,
    /// With its own radars only.
    pub alone: Vec<TimelineEvent>,
    /// Truth events in its regions ("overflight Aomori", "impact ...").
    pub truth: Vec<TimelineEvent>,
    /// Publicly reported times (J-Alert issued for Aomori); may be empty.
    pub public_record: Vec<TimelineEvent>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub t_s: f64,
    pub label: String,
    /// `first_detection`, `first_track`, `launch`, `impact`, `overflight`, `landed`,
    /// `all_clear`, `cancelled`, `truth` or `public`; any other kind is drawn plainly.
    pub kind: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MapData {
    pub regions: Vec<MapRegion>,
    /// Truth sub-points (lat_deg, lon_deg), one line per object.
    pub ground_tracks: Vec<Vec<(f64, f64)>>,
    /// Predicted impact ellipses from warnings.
    pub impact_ellipses: Vec<MapEllipse>,
    /// Truth impact points (lat_deg, lon_deg).
    pub landings: Vec<(f64, f64)>,
    /// (lat_deg, lon_deg).
    pub launch_sites: Vec<(f64, f64)>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MapRegion {
    pub name: String,
    pub nation: String,
    /// Outline as (lat_deg, lon_deg), not closed.
    pub polygon: Vec<(f64, f64)>,
    /// Warned with sharing.
    pub warned: bool,
    /// Affected according to truth.
    pub affected: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MapEllipse {
    pub lat_deg: f64,
    pub lon_deg: f64,
    pub semi_major_m: f64,
    pub semi_minor_m: f64,
    /// Of the major axis, clockwise from north.
    pub orientation_deg: f64,
    pub nation: String,
    pub time_s: f64,
    pub label: String,
}

#[derive(Debug, Error)]
pub enum PresentError {
    #[error("{path}: the report needs a file name")]
    NoFileName { path: PathBuf },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot move {from} to {to}: {source}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        source: std::io::Error,
    },
}

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1a1a1a; background: #ffffff; margin: 0 auto; max-width: 1180px; padding: 1.2rem 1.5rem 3rem;
  line-height: 1.45; }
h1 { font-size: 1.55rem; margin: 0.2rem 0; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 2px solid #d0d0d0; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 0.4rem; }
p.sub { color: #444; margin: 0.2rem 0 1rem; }
ul.answer { padding-left: 1.2rem; }
ul.answer li { margin: 0.35rem 0; font-size: 1.05rem; }
.good { color: #00603f; font-weight: 600; }
.bad { color: #a13a00; font-weight: 600; }
table { border-collapse: collapse; margin: 0.4rem 0 1rem; font-size: 0.93rem; }
caption { text-align: left; font-weight: 600; padding: 0.2rem 0; }
th, td { border: 1px solid #c8c8c8; padding: 0.25rem 0.6rem; vertical-align: top; }
th { background: #f1f1f1; text-align: left; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.none { color: #767676; text-align: center; }
.nations { display: flex; flex-wrap: wrap; column-gap: 2.5rem; align-items: flex-start; }
.nation h3 { margin-top: 1rem; }
figure { margin: 0.6rem 0 1.2rem; }
figure svg { width: 100%; height: auto; border: 1px solid #d0d0d0; background: #ffffff; }
figcaption { color: #444; font-size: 0.9rem; margin-top: 0.3rem; }
.note { color: #555; font-size: 0.9rem; }
footer { margin-top: 3rem; color: #666; font-size: 0.85rem; }
"#;

/// The whole report page. Never panics, whatever the input holds.
pub fn render(input: &ReportInput) -> String {
    let mut out = String::with_capacity(64 * 1024);
    // XHTML-compatible markup (self-closed void elements, no bare `&` or `<` in CSS) so the
    // whole page parses as XML too, which is how the tests check it.
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    out.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>",
    );
    out.push_str(&esc(&input.title));
    out.push_str("</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<header>\n<h1>");
    out.push_str(&esc(&input.title));
    out.push_str("</h1>\n<p class=\"sub\">");
    out.push_str(&esc(&input.subtitle));
    out.push_str("</p>\n</header>\n");

    let launch_s = first_launch_s(input);
    out.push_str("<section id=\"answer\">\n<h2>Answer</h2>\n");
    out.push_str(
        "<p class=\"note\">How much earlier, and how correctly, is each nation warned when allies \
         share radar tracks? Each nation's picture ran twice on the same detections: \
         <em>shared</em> (own and allies' tracks) and <em>alone</em> (own radars only).</p>\n",
    );
    out.push_str(&summary::headlines_html(&input.summary, launch_s));
    out.push_str("</section>\n");

    out.push_str("<section id=\"figures\">\n<h2>Figures per nation</h2>\n");
    out.push_str(
        "<p class=\"note\">Times are seconds after the scenario epoch; lead time is the truth \
         event's time minus the first warning (negative: late).</p>\n",
    );
    out.push_str(&summary::nation_tables_html(&input.summary));
    out.push_str(&summary::public_record_html(&input.summary));
    out.push_str("</section>\n");

    if let Some(mc) = summary::monte_carlo_html(&input.summary) {
        out.push_str("<section id=\"monte-carlo\">\n<h2>Monte Carlo</h2>\n");
        out.push_str(&mc);
        out.push_str("</section>\n");
    }

    out.push_str("<section id=\"timeline\">\n<h2>Timeline</h2>\n<figure>\n");
    out.push_str(&timeline::svg(&input.nations));
    out.push_str(
        "<figcaption>Per nation: the warnings of its picture with sharing and alone, the truth \
         events in its regions and the publicly reported times. Dotted verticals mark truth \
         events; hover a marker for its full label.</figcaption>\n</figure>\n</section>\n",
    );

    out.push_str("<section id=\"map\">\n<h2>Map</h2>\n<figure>\n");
    out.push_str(&map::svg(&input.map));
    out.push_str(
        "<figcaption>No coastline data is available offline: the warning regions are the only \
         land reference. Equirectangular projection, north up, scaled for the centre \
         latitude.</figcaption>\n</figure>\n",
    );
    if let Some(inset) = map::impact_area_svg(&input.map) {
        out.push_str("<h3>Impact area</h3>\n<figure>\n");
        out.push_str(&inset);
        out.push_str(
            "<figcaption>The predicted impact ellipses (95 %) of every nation's warnings, the \
             latest of each nation bold, and where the objects fell.</figcaption>\n</figure>\n",
        );
    }
    out.push_str("</section>\n");

    out.push_str("<section id=\"run\">\n<h2>Run</h2>\n");
    out.push_str(&summary::run_table_html(&input.summary));
    out.push_str("</section>\n");

    out.push_str(
        "<footer>trilink report: for warning analysis only. Simulated sensors, notional \
         sites.</footer>\n</body>\n</html>\n",
    );
    out
}

/// The earliest launch on any truth lane: the headline counts warning times from it, as the
/// public record does.
fn first_launch_s(input: &ReportInput) -> Option<f64> {
    if let Some(t) = input
        .summary
        .get("launch_time_s")
        .and_then(serde_json::Value::as_f64)
    {
        return Some(t);
    }
    input
        .nations
        .iter()
        .flat_map(|n| n.truth.iter())
        .filter(|e| e.kind == "launch" && e.t_s.is_finite())
        .map(|e| e.t_s)
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.min(t))))
}

/// Renders and writes the report so that a reader never sees half a file: the page goes to a
/// temporary file beside `path`, which is then renamed over it.
pub fn write(path: &Path, input: &ReportInput) -> Result<(), PresentError> {
    let html = render(input);
    let name = path.file_name().ok_or_else(|| PresentError::NoFileName {
        path: path.to_path_buf(),
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let write_err = |source| PresentError::Write {
        path: tmp.clone(),
        source,
    };
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(write_err)?;
        f.write_all(html.as_bytes()).map_err(write_err)?;
        f.sync_all().map_err(write_err)?;
        std::fs::rename(&tmp, path).map_err(|source| PresentError::Rename {
            from: tmp.clone(),
            to: path.to_path_buf(),
            source,
        })
    })();
    if result.is_err() {
        // Best effort: a stale temporary file is only litter, the error is what matters.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests;
