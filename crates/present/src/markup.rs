//! Escaping and number formatting for HTML and SVG.

/// Escapes text for an element body or a quoted attribute, in HTML and in XML alike.
///
/// Characters XML forbids (most C0 controls) become U+FFFD: a region name with a stray control
/// byte must not make the SVG unreadable.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate for an SVG attribute: two decimals at most, no trailing zeros, and 0 for a
/// value that is not finite (callers skip such points; this only keeps the markup valid).
pub fn coord(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_owned();
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// A quantity for a reader: whole numbers when large, one decimal when small, "–" when absent.
pub fn quantity(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => {
            if v.abs() >= 100.0 || v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        }
        _ => "–".to_owned(),
    }
}

/// Shortens a label to `max` characters, with an ellipsis when cut.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A step of 1, 2 or 5 times a power of ten close to `raw`, for axis ticks and scale bars.
pub fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    let n = if m < 1.5 {
        1.0
    } else if m < 3.5 {
        2.0
    } else if m < 7.5 {
        5.0
    } else {
        10.0
    };
    n * p
}

/// Rough width of a label in the report's sans-serif at `font_px`: enough to keep labels from
/// overlapping without measuring glyphs.
pub fn text_width_px(s: &str, font_px: f64) -> f64 {
    s.chars().count() as f64 * font_px * 0.58
}
