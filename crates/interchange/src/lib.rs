//! The interchange files of BRIEF §3.2: the seams where any other tool (Stone Soup, pandas,
//! another tracker) can feed or judge trilink.
//!
//! Each file has a record type here with its exact column names. Readers take the columns by
//! name, ignore columns they do not know, and reject a missing column, a value that is not a
//! finite number, or a malformed row with the file and line. Writers write the header and rows
//! to a temporary file beside the target and rename it into place on [`CsvWriter::finish`], so a
//! failure never leaves a partial file behind.

mod error;
pub mod fastfmt;
mod read;
mod records;
mod write;

pub use error::InterchangeError;
pub use read::{read_all, CsvReader};
pub use records::{
    DetectionRow, ImpactRow, LabelRow, LaunchRow, Record, SensorRow, TrackRow, TruthRow,
};
pub use write::{write_all, CsvWriter};

/// The conventional file names inside a scenario output directory.
pub mod files {
    pub const SENSORS: &str = "sensors.csv";
    pub const DETECTIONS: &str = "detections.csv";
    pub const TRUTH: &str = "truth.csv";
    pub const LABELS: &str = "labels.csv";
    pub const TRACKS: &str = "tracks.csv";
    pub const IMPACTS: &str = "impacts.csv";
    pub const LAUNCHES: &str = "launches.csv";
}

/// Reads `bytes` as every kind of interchange file and drains each reader. It must never panic,
/// whatever the bytes: the fuzz target (`crates/interchange/fuzz`) and a property test call it.
#[doc(hidden)]
pub fn read_every_kind(bytes: &[u8]) -> usize {
    fn drain<T: Record>(bytes: &[u8]) -> usize {
        match CsvReader::<T, _>::from_reader(std::path::Path::new("fuzz.csv"), bytes) {
            Ok(reader) => reader.filter(|r| r.is_ok()).count(),
            Err(e) => e.to_string().len().min(1),
        }
    }
    drain::<SensorRow>(bytes)
        + drain::<DetectionRow>(bytes)
        + drain::<TruthRow>(bytes)
        + drain::<LabelRow>(bytes)
        + drain::<TrackRow>(bytes)
        + drain::<ImpactRow>(bytes)
        + drain::<LaunchRow>(bytes)
}
