//! Each warning row as an OASIS CAP 1.2 alert (docs/decisions/0801 has the mapping).
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::ellipse::Ellipse;
use crate::geometry::{Outline, Plane, Region};
use crate::row::{Kind, State, WarningRow};
use crate::WarnError;

pub const CAP_NAMESPACE: &str = "urn:oasis:names:tc:emergency:cap:1.2";

/// What every alert of one nation's run shares.
#[derive(Debug, Clone)]
pub struct CapContext {
    /// CAP `sender`, e.g. "trilink-JP@example.invalid" (no spaces, commas or '<&').
    pub sender: String,
    /// The scenario epoch as Unix seconds (UTC).
    pub epoch_unix_s: f64,
    /// The nation's regions (`Warner::regions()`), for the areas.
    pub regions: Vec<Region>,
}

/// Days since 1970-01-01 to a civil (year, month, day), proleptic Gregorian: counting in
/// 400-year eras of 146 097 days with March-first years, so leap days fall at a year's end.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// An RFC 3339 timestamp with a "+00:00" offset, whole seconds (CAP's `sent` pattern has no
/// fraction), truncated toward the past.
pub fn rfc3339(unix_s: f64) -> String {
    let secs = unix_s.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The CAP identifier of a row: unique per message, without CAP's forbidden characters.
pub fn cap_identifier(row: &WarningRow) -> String {
    format!(
        "{}.{}.{}",
        row.warning_id.replace([' ', ',', '<', '&'], "_"),
        row.state.as_str(),
        (row.time_s * 1000.0).round() as i64
    )
}

fn ring(points: &[(f64, f64)]) -> String {
    let mut s = String::new();
    for (i, (la, lo)) in points.iter().chain(points.first()).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{:.5},{:.5}", la, lo);
    }
    s
}

fn ellipse_ring(lat: f64, lon: f64, e: &Ellipse) -> Vec<(f64, f64)> {
    let plane = Plane::new(lat, lon);
    let th = e.orientation_deg.to_radians();
    (0..36)
        .map(|k| {
            let a = (k as f64) * 10.0_f64.to_radians();
            let (u, v) = (e.semi_major_m * a.cos(), e.semi_minor_m * a.sin());
            let east = u * th.sin() + v * th.cos();
            let north = u * th.cos() - v * th.sin();
            plane.to_lat_lon(east, north)
        })
        .collect()
}

struct Area {
    desc: String,
    polygon: Option<String>,
    circle: Option<String>,
}

fn region_area(r: &Region) -> Area {
    match r.outline() {
        Outline::Polygon(v) => Area {
            desc: r.name().to_string(),
            polygon: Some(ring(&v)),
            circle: None,
        },
        Outline::Circle {
            lat_deg,
            lon_deg,
            radius_m,
        } => Area {
            desc: r.name().to_string(),
            polygon: None,
            circle: Some(format!(
                "{:.5},{:.5} {}",
                lat_deg,
                lon_deg,
                radius_m / 1000.0
            )),
        },
    }
}

fn row_ellipse(row: &WarningRow) -> Option<(f64, f64, Ellipse)> {
    Some((
        row.impact_lat_deg?,
        row.impact_lon_deg?,
        Ellipse {
            semi_major_m: row.semi_major_m?,
            semi_minor_m: row.semi_minor_m?,
            orientation_deg: row.orientation_deg?,
        },
    ))
}

fn areas(row: &WarningRow, ctx: &CapContext) -> Vec<Area> {
    let named = |name: &str| {
        ctx.regions
            .iter()
            .find(|r| r.name() == name)
            .map(region_area)
    };
    let region = row.region.as_deref().unwrap_or("");
    let mut out = Vec::new();
    match row.kind {
        Kind::Launch | Kind::AllClear => out.extend(ctx.regions.iter().map(region_area)),
        Kind::Overflight => out.extend(named(region)),
        Kind::Impact | Kind::Landed => {
            if let Some((la, lo, e)) = row_ellipse(row) {
                out.push(Area {
                    desc: format!(
                        "{} (predicted area)",
                        if region.is_empty() { "impact" } else { region }
                    ),
                    polygon: Some(ring(&ellipse_ring(la, lo, &e))),
                    circle: None,
                });
            } else {
                out.extend(named(region));
            }
        }
    }
    if out.is_empty() {
        out.push(Area {
            desc: if region.is_empty() {
                "unspecified".into()
            } else {
                region.to_string()
            },
            polygon: None,
            circle: None,
        });
    }
    out
}

/// Headline, description, instruction: J-Alert's templates in English.
fn texts(row: &WarningRow, ctx: &CapContext) -> (String, String, String) {
    let region = row.region.clone().unwrap_or_default();
    let at = |t: Option<f64>| {
        t.map(|t| rfc3339(ctx.epoch_unix_s + t))
            .unwrap_or_else(|| "unknown time".into())
    };
    let tracks = row
        .track_ids
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let evidence = format!("Evidence: system track(s) {tracks}. Simulated exercise.");
    let (headline, what, instruction) = match row.kind {
        Kind::Launch => (
            "Missile launched".to_string(),
            "A missile has been launched that may reach this area.".to_string(),
            "Missile launched. Take shelter in a building or underground.",
        ),
        Kind::Impact => (
            format!("Missile expected to fall near {region}"),
            format!(
                "The missile is expected to fall in or near {region} at about {}.",
                at(row.impact_time_s)
            ),
            "Take shelter immediately in a building or underground.",
        ),
        Kind::Overflight => (
            format!("Missile expected to pass over {region}"),
            format!("The missile is expected to pass over {region}."),
            "Take shelter in a building or underground.",
        ),
        Kind::Landed => (
            format!("Missile fell: {region}"),
            format!(
                "The missile appears to have fallen: {region}, at about {}.",
                at(row.impact_time_s)
            ),
            "Do not approach suspicious objects; report them to the police or fire department.",
        ),
        Kind::AllClear => (
            "All clear".to_string(),
            "The missile threat has passed.".to_string(),
            "Evacuation is no longer needed.",
        ),
    };
    match row.state {
        State::Issued => (
            headline,
            format!("{what} {evidence}"),
            instruction.to_string(),
        ),
        State::Updated => (
            format!("Update: {headline}"),
            format!("{what} {evidence}"),
            instruction.to_string(),
        ),
        State::Cancelled => (
            format!("Cancelled: {headline}"),
            format!("The earlier warning ({headline}) is withdrawn. {evidence}"),
            "This warning is cancelled.".to_string(),
        ),
    }
}

/// One CAP 1.2 alert for `row`; `earlier` is the message an Update or Cancel refers to (the
/// warning's previous row). Elements in the schema's order.
pub fn cap_xml(row: &WarningRow, earlier: Option<&WarningRow>, ctx: &CapContext) -> String {
    let sent = rfc3339(ctx.epoch_unix_s + row.time_s);
    let msg_type = match row.state {
        State::Issued => "Alert",
        State::Updated => "Update",
        State::Cancelled => "Cancel",
    };
    let (urgency, severity, certainty, response) = match row.kind {
        Kind::Launch => ("Immediate", "Extreme", "Observed", "Shelter"),
        Kind::Impact => ("Immediate", "Extreme", "Likely", "Shelter"),
        Kind::Overflight => ("Immediate", "Severe", "Likely", "Shelter"),
        Kind::Landed => ("Immediate", "Severe", "Observed", "Avoid"),
        Kind::AllClear => ("Past", "Minor", "Observed", "AllClear"),
    };
    let (headline, description, instruction) = texts(row, ctx);
    let mut x = String::new();
    let _ = writeln!(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = writeln!(x, "<alert xmlns=\"{CAP_NAMESPACE}\">");
    let _ = writeln!(
        x,
        "  <identifier>{}</identifier>",
        esc(&cap_identifier(row))
    );
    let _ = writeln!(x, "  <sender>{}</sender>", esc(&ctx.sender));
    let _ = writeln!(x, "  <sent>{sent}</sent>");
    let _ = writeln!(x, "  <status>Exercise</status>");
    let _ = writeln!(x, "  <msgType>{msg_type}</msgType>");
    let _ = writeln!(x, "  <scope>Public</scope>");
    if let (Some(e), State::Updated | State::Cancelled) = (earlier, row.state) {
        let _ = writeln!(
            x,
            "  <references>{},{},{}</references>",
            esc(&ctx.sender),
            esc(&cap_identifier(e)),
            rfc3339(ctx.epoch_unix_s + e.time_s)
        );
    }
    let _ = writeln!(
        x,
        "  <incidents>{}</incidents>",
        esc(&row.warning_id.replace([' ', ','], "_"))
    );
    let _ = writeln!(x, "  <info>");
    let _ = writeln!(x, "    <language>en-US</language>");
    let _ = writeln!(x, "    <category>Security</category>");
    let _ = writeln!(
        x,
        "    <event>Ballistic missile {}</event>",
        row.kind.as_str().replace('_', " ")
    );
    let _ = writeln!(
        x,
        "    <responseType>{}</responseType>",
        if row.state == State::Cancelled {
            "None"
        } else {
            response
        }
    );
    let _ = writeln!(x, "    <urgency>{urgency}</urgency>");
    let _ = writeln!(x, "    <severity>{severity}</severity>");
    let _ = writeln!(x, "    <certainty>{certainty}</certainty>");
    let _ = writeln!(
        x,
        "    <senderName>trilink {} warning centre (simulation)</senderName>",
        esc(&row.nation)
    );
    let _ = writeln!(x, "    <headline>{}</headline>", esc(&headline));
    let _ = writeln!(x, "    <description>{}</description>", esc(&description));
    let _ = writeln!(x, "    <instruction>{}</instruction>", esc(&instruction));
    let _ = writeln!(
        x,
        "    <parameter><valueName>trilink_latency_s</valueName><value>{}</value></parameter>",
        row.latency_s
    );
    for a in areas(row, ctx) {
        let _ = writeln!(x, "    <area>");
        let _ = writeln!(x, "      <areaDesc>{}</areaDesc>", esc(&a.desc));
        if let Some(p) = a.polygon {
            let _ = writeln!(x, "      <polygon>{p}</polygon>");
        }
        if let Some(c) = a.circle {
            let _ = writeln!(x, "      <circle>{c}</circle>");
        }
        let _ = writeln!(x, "    </area>");
    }
    let _ = writeln!(x, "  </info>");
    let _ = writeln!(x, "</alert>");
    x
}

/// Writes one alert per row to `dir/<n>.xml` (n counting from 1 in row order), each Update or
/// Cancel referring to the previous row of its warning. Returns the files written.
pub fn write_cap_dir(
    dir: &Path,
    rows: &[WarningRow],
    ctx: &CapContext,
) -> Result<Vec<PathBuf>, WarnError> {
    std::fs::create_dir_all(dir).map_err(|source| WarnError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let earlier = rows[..i]
            .iter()
            .rev()
            .find(|r| r.warning_id == row.warning_id);
        let path = dir.join(format!("{:05}.xml", i + 1));
        std::fs::write(&path, cap_xml(row, earlier, ctx)).map_err(|source| WarnError::Io {
            path: path.clone(),
            source,
        })?;
        files.push(path);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_an_offset() {
        // The hwasong-12 scenario's epoch, 2022-10-03T22:22:00Z, plus 425 s.
        assert_eq!(
            rfc3339(1_664_835_720.0 + 425.0),
            "2022-10-03T22:29:05+00:00"
        );
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(951_782_400.0), "2000-02-29T00:00:00+00:00");
    }
}
