//! Writes a generated raid scenario (sensors.csv, detections.csv) for whole-process timing of
//! `trilink track`:
//!
//!     cargo run --release -p trilink-track --example raid -- OUT_DIR [OBJECTS] [CLUTTER_PER_SCAN] [DURATION_S]
#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: raid OUT_DIR [OBJECTS] [CLUTTER] [DURATION_S]")?,
    );
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let clutter: f64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(50.0);
    let duration: f64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(600.0);
    std::fs::create_dir_all(&out)?;
    let s = common::raid(n, clutter, 60.0, duration, 7);
    trilink_interchange::write_all(&out.join("sensors.csv"), &s.sensors)?;
    trilink_interchange::write_all(&out.join("detections.csv"), &s.detections)?;
    eprintln!(
        "{} detections of {} objects written to {}",
        s.detections.len(),
        n,
        out.display()
    );
    Ok(())
}
