//! One warning message as a row of `warnings.csv`, and the file itself.
use std::path::Path;

use crate::WarnError;

/// The header tools outside the repository read; it must not change.
pub const CSV_HEADER: &str = "time_s,warning_id,nation,kind,state,region,impact_time_s,impact_lat_deg,impact_lon_deg,semi_major_m,semi_minor_m,orientation_deg,track_ids,latency_s";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Launch,
    Impact,
    Overflight,
    Landed,
    AllClear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    Issued,
    Updated,
    Cancelled,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Launch => "launch",
            Kind::Impact => "impact",
            Kind::Overflight => "overflight",
            Kind::Landed => "landed",
            Kind::AllClear => "all_clear",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Kind::Launch,
            Kind::Impact,
            Kind::Overflight,
            Kind::Landed,
            Kind::AllClear,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Issued => "issued",
            State::Updated => "updated",
            State::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [State::Issued, State::Updated, State::Cancelled]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One message of a warning's lifecycle.
#[derive(Debug, Clone, PartialEq)]
pub struct WarningRow {
    pub time_s: f64,
    pub warning_id: String,
    pub nation: String,
    pub kind: Kind,
    pub state: State,
    /// The region (impact, overflight) or the place (landed); `None` for launch and all_clear.
    pub region: Option<String>,
    pub impact_time_s: Option<f64>,
    pub impact_lat_deg: Option<f64>,
    pub impact_lon_deg: Option<f64>,
    pub semi_major_m: Option<f64>,
    pub semi_minor_m: Option<f64>,
    pub orientation_deg: Option<f64>,
    /// The system track the warning is about first, then the tracks that are its evidence.
    pub track_ids: Vec<u64>,
    /// `time_s` minus the time the object was first detected.
    pub latency_s: f64,
}

impl WarningRow {
    /// The common track number the warning is about.
    pub fn ctn(&self) -> Option<u64> {
        self.track_ids.first().copied()
    }

    fn fields(&self) -> [String; 14] {
        let opt = |x: Option<f64>| x.map(|v| format!("{v}")).unwrap_or_default();
        [
            format!("{}", self.time_s),
            self.warning_id.clone(),
            self.nation.clone(),
            self.kind.as_str().to_string(),
            self.state.as_str().to_string(),
            self.region.clone().unwrap_or_default(),
            opt(self.impact_time_s),
            opt(self.impact_lat_deg),
            opt(self.impact_lon_deg),
            opt(self.semi_major_m),
            opt(self.semi_minor_m),
            opt(self.orientation_deg),
            self.track_ids
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(";"),
            format!("{}", self.latency_s),
        ]
    }
}

/// Writes `rows` with the fixed header; floats in shortest round-trip form.
pub fn write_csv(path: &Path, rows: &[WarningRow]) -> Result<(), WarnError> {
    let csv_err = |source| WarnError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::Writer::from_path(path).map_err(csv_err)?;
    w.write_record(CSV_HEADER.split(',')).map_err(csv_err)?;
    for r in rows {
        w.write_record(r.fields()).map_err(csv_err)?;
    }
    w.flush().map_err(|source| WarnError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a `warnings.csv` (its named columns; extra columns after them are ignored).
pub fn read_csv(path: &Path) -> Result<Vec<WarningRow>, WarnError> {
    let file = std::fs::File::open(path).map_err(|source| WarnError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_csv_from(path, file)
}

/// One row as a line of `warnings.csv` (no newline), as the journal keeps it.
pub fn csv_line(row: &WarningRow) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to memory cannot fail for I/O; a failure would be a bug in the fields.
    let _ = w.write_record(row.fields());
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}

/// Rows back from journal lines written by [`csv_line`]; `name` stands in for the file in
/// errors.
pub fn parse_csv_lines(name: &Path, lines: &[String]) -> Result<Vec<WarningRow>, WarnError> {
    let mut text = String::from(CSV_HEADER);
    text.push('\n');
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    read_csv_from(name, text.as_bytes())
}

fn read_csv_from(path: &Path, reader: impl std::io::Read) -> Result<Vec<WarningRow>, WarnError> {
    let csv_err = |source| WarnError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let header = r.headers().map_err(csv_err)?.clone();
    let names: Vec<&str> = CSV_HEADER.split(',').collect();
    if header.len() < names.len() || header.iter().zip(&names).any(|(a, b)| a != *b) {
        return Err(WarnError::BadHeader {
            path: path.to_path_buf(),
            found: header.iter().collect::<Vec<_>>().join(","),
            expected: CSV_HEADER,
        });
    }
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(csv_err)?;
        let row = i + 2;
        let field = |k: usize| rec.get(k).unwrap_or("");
        let bad = |k: usize, expected: &'static str| WarnError::BadField {
            path: path.to_path_buf(),
            row,
            column: match k {
                0 => "time_s",
                3 => "kind",
                4 => "state",
                12 => "track_ids",
                13 => "latency_s",
                _ => "a float column",
            },
            value: field(k).to_string(),
            expected,
        };
        let num = |k: usize| field(k).parse::<f64>().map_err(|_| bad(k, "a number"));
        let opt = |k: usize| -> Result<Option<f64>, WarnError> {
            if field(k).is_empty() {
                Ok(None)
            } else {
                num(k).map(Some)
            }
        };
        let track_ids = if field(12).is_empty() {
            Vec::new()
        } else {
            field(12)
                .split(';')
                .map(|t| {
                    t.parse::<u64>()
                        .map_err(|_| bad(12, "track numbers joined by ';'"))
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        out.push(WarningRow {
            time_s: num(0)?,
            warning_id: field(1).to_string(),
            nation: field(2).to_string(),
            kind: Kind::parse(field(3))
                .ok_or_else(|| bad(3, "launch|impact|overflight|landed|all_clear"))?,
            state: State::parse(field(4)).ok_or_else(|| bad(4, "issued|updated|cancelled"))?,
            region: Some(field(5).to_string()).filter(|s| !s.is_empty()),
            impact_time_s: opt(6)?,
            impact_lat_deg: opt(7)?,
            impact_lon_deg: opt(8)?,
            semi_major_m: opt(9)?,
            semi_minor_m: opt(10)?,
            orientation_deg: opt(11)?,
            track_ids,
            latency_s: num(13)?,
        });
    }
    Ok(out)
}
