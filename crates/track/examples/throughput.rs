//! Times the tracker alone on a generated raid and prints detections per second and how many
//! objects ended up with a confirmed track:
//!
//!     cargo run --release -p trilink-track --example throughput -- [OBJECTS] [CLUTTER_PER_SCAN] [DURATION_S] [GROUND_POINT_INTERVAL_S]
#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use trilink_track::{Tracker, TrackerConfig};

/// CPU time of this thread (s) from /proc (Linux), so that a loaded shared machine does not
/// distort the figure the way wall-clock time does.
fn thread_cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return f64::NAN;
    };
    // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        f.get(i)
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let get = |i: usize, d: f64| a.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let n = get(0, 1000.0) as usize;
    let clutter = get(1, 50.0);
    let duration = get(2, 300.0);
    let interval = get(3, 0.0);
    let s = common::raid(n, clutter, 60.0, duration, 7);
    let cfg = TrackerConfig {
        ground_point_interval_s: interval,
        ..TrackerConfig::default()
    };
    let mut t = Tracker::new(&s.sensors, cfg)?;
    let start = Instant::now();
    let cpu0 = thread_cpu_s();
    let mut updates = Vec::new();
    for d in &s.detections {
        t.process(d)?;
        updates.extend(t.drain_updates());
    }
    t.close();
    updates.extend(t.drain_updates());
    let secs = start.elapsed().as_secs_f64();
    let cpu = thread_cpu_s() - cpu0;
    // Which object each confirmed track follows (majority of its updates within 2 km).
    let mut owner: HashMap<u64, HashMap<usize, usize>> = HashMap::new();
    let mut err2 = 0.0;
    let mut nerr = 0usize;
    // Scoring is O(updates × objects): done on small runs only.
    let scored: &[trilink_track::TrackUpdate] = if n <= 300 { &updates } else { &[] };
    for u in scored {
        let p = nalgebra::Vector3::new(u.x[0], u.x[1], u.x[2]);
        let best = s
            .objects
            .iter()
            .enumerate()
            .filter_map(|(k, o)| {
                o.state_at(u.time_s)
                    .map(|x| (k, (common::pos(&x) - p).norm()))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((k, e)) = best {
            if e < 2_000.0 {
                *owner.entry(u.track_id).or_default().entry(k).or_default() += 1;
                err2 += e * e;
                nerr += 1;
            }
        }
    }
    let followed: HashSet<usize> = owner
        .values()
        .filter_map(|m| m.iter().max_by_key(|e| e.1).map(|e| *e.0))
        .collect();
    let st = t.stats();
    println!(
        "{} detections in {:.3} s wall, {:.2} s CPU: {:.0} detections/s wall, {:.0} per CPU-second; {} confirmed tracks for {} objects ({} objects followed), {} tracks with no object within 2 km; position RMSE {:.1} m over {} updates; {} updates",
        s.detections.len(),
        secs,
        cpu,
        s.detections.len() as f64 / secs,
        s.detections.len() as f64 / cpu,
        st.tracks_confirmed,
        n,
        followed.len(),
        (st.tracks_confirmed as usize).saturating_sub(owner.len()),
        (err2 / nerr.max(1) as f64).sqrt(),
        nerr,
        updates.len()
    );
    Ok(())
}
