//! `trilink simulate` driven as a user drives it: files, headers, determinism, bad input.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

/// A small valid scenario: one explicit single-stage vehicle flying about five minutes, two
/// sensors, 200 s simulated.
const BASE: &str = r#"
name = "tiny"
epoch = 2023-07-12T01:00:00Z
duration_s = 200

[[nations]]
code = "KR"
name = "Republic of Korea"

[[nations]]
code = "JP"
name = "Japan"

[policy]
release = { KR = ["JP"], JP = ["KR"] }

[[links]]
from = "KR"
to = "JP"
latency_ms = 50

[[launches]]
lat_deg = 39.0
lon_deg = 125.7
alt_m = 30
azimuth_deg = 90
time_s = 5

[launches.vehicle]
payload_mass_kg = 500
payload_ballistic_coefficient_kg_m2 = 5000
pitch_vertical_s = 4
pitch_final_elevation_deg = 35

[[launches.vehicle.stages]]
dry_mass_kg = 900
propellant_mass_kg = 2600
thrust_n = 160000
burn_time_s = 40
ballistic_coefficient_kg_m2 = 2000

[[sensors]]
id = "KR-EW-1"
nation = "KR"
type = "early-warning"
lat_deg = 36.4
lon_deg = 127.4
alt_m = 400
max_range_m = 800000
min_elevation_deg = 1
azimuth_min_deg = 300
azimuth_max_deg = 60
revisit_s = 5
sigma_range_m = 40
sigma_azimuth_mrad = 2
sigma_elevation_mrad = 2
p_detection = 0.9
false_alarms_per_scan = 2

[[sensors]]
id = "JP-EW-1"
nation = "JP"
type = "early-warning"
lat_deg = 38.1
lon_deg = 138.4
alt_m = 900
max_range_m = 1500000
min_elevation_deg = 0.5
revisit_s = 4
sigma_range_m = 30
sigma_azimuth_mrad = 1.5
sigma_elevation_mrad = 1.5
p_detection = 0.95
false_alarms_per_scan = 3

[[regions]]
name = "Sea"
nation = "JP"
circle = { lat_deg = 39.5, lon_deg = 133.0, radius_m = 100000 }
"#;

const FILES: [&str; 4] = ["sensors.csv", "detections.csv", "truth.csv", "labels.csv"];

fn trilink() -> Command {
    Command::cargo_bin("trilink").unwrap()
}

fn simulate(scenario: &Path, out: &Path, seed: u64) -> assert_cmd::assert::Assert {
    trilink()
        .args(["simulate", "--quiet", "--seed", &seed.to_string(), "--out"])
        .arg(out)
        .arg(scenario)
        .assert()
}

fn write_scenario(dir: &Path, text: &str) -> std::path::PathBuf {
    let p = dir.join("scenario.toml");
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn writes_the_four_files_with_the_contract_headers() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write_scenario(dir.path(), BASE);
    let out = dir.path().join("out");
    simulate(&sc, &out, 1).success();
    let first_line = |f: &str| {
        fs::read_to_string(out.join(f))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        first_line("sensors.csv"),
        "sensor_id,nation,lat_deg,lon_deg,alt_m"
    );
    assert_eq!(
        first_line("detections.csv"),
        "time_s,sensor_id,range_m,azimuth_rad,elevation_rad,sigma_range_m,sigma_azimuth_rad,sigma_elevation_rad"
    );
    assert_eq!(
        first_line("truth.csv"),
        "time_s,object_id,x_m,y_m,z_m,vx_mps,vy_mps,vz_mps"
    );
    assert_eq!(first_line("labels.csv"), "time_s,sensor_id,object_id");

    let dets: Vec<trilink_interchange::DetectionRow> =
        trilink_interchange::read_all(&out.join("detections.csv")).unwrap();
    let labels: Vec<trilink_interchange::LabelRow> =
        trilink_interchange::read_all(&out.join("labels.csv")).unwrap();
    let truth: Vec<trilink_interchange::TruthRow> =
        trilink_interchange::read_all(&out.join("truth.csv")).unwrap();
    assert_eq!(dets.len(), labels.len());
    assert!(
        dets.windows(2).all(|w| w[0].time_s <= w[1].time_s),
        "time order"
    );
    for (d, l) in dets.iter().zip(&labels) {
        assert_eq!((d.time_s, &d.sensor_id), (l.time_s, &l.sensor_id));
        assert!((0.0..std::f64::consts::TAU).contains(&d.azimuth_rad));
    }
    // Both the real object and false alarms appear; object ids are 1 (payload) and 2 (stage).
    assert!(labels.iter().any(|l| l.object_id == 0));
    assert!(labels.iter().any(|l| l.object_id == 1));
    assert!(labels.iter().all(|l| l.object_id <= 2));
    // Truth every 0.1 s from the launch at t = 5 s to the end at 200 s.
    let payload: Vec<_> = truth.iter().filter(|r| r.object_id == 1).collect();
    assert_eq!(payload[0].time_s, 5.0);
    assert!(payload
        .windows(2)
        .all(|w| w[1].time_s - w[0].time_s <= 0.1 + 1e-9));
    assert!(payload.last().unwrap().time_s <= 200.0);
    assert!(
        truth.windows(2).all(|w| w[0].time_s <= w[1].time_s),
        "truth in time order"
    );
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write_scenario(dir.path(), BASE);
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    simulate(&sc, &a, 7).success();
    simulate(&sc, &b, 7).success();
    simulate(&sc, &c, 8).success();
    for f in FILES {
        assert_eq!(
            fs::read(a.join(f)).unwrap(),
            fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_ne!(
        fs::read(a.join("detections.csv")).unwrap(),
        fs::read(c.join("detections.csv")).unwrap()
    );
    // Truth does not depend on the seed.
    assert_eq!(
        fs::read(a.join("truth.csv")).unwrap(),
        fs::read(c.join("truth.csv")).unwrap()
    );
}

/// Replaces `from` (which must occur exactly once) and returns the text and the 1-based line
/// where the replacement sits.
fn mutate(from: &str, to: &str) -> (String, usize) {
    assert_eq!(BASE.matches(from).count(), 1, "{from}");
    let text = BASE.replacen(from, to, 1);
    let at = BASE.find(from).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    (text, line)
}

/// Runs a bad scenario and checks exit status 2, a message with file:line and key, and that
/// nothing was written.
fn rejects(text: &str, line: usize, key: &str, also: &str) {
    let dir = tempfile::tempdir().unwrap();
    let sc = write_scenario(dir.path(), text);
    let out = dir.path().join("out");
    let assert = simulate(&sc, &out, 1).code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    let place = format!("{}:{line}:", sc.display());
    assert!(stderr.contains(&place), "want {place} in: {stderr}");
    assert!(stderr.contains(key), "want key {key} in: {stderr}");
    assert!(stderr.contains(also), "want {also:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "scenario.toml")
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[test]
fn rejects_an_unknown_key() {
    let (t, line) = mutate("revisit_s = 4\n", "revisit_s = 4\ncolour = \"red\"\n");
    rejects(&t, line + 1, "sensors[1].colour", "unknown field");
}

#[test]
fn rejects_a_wrong_type() {
    let (t, line) = mutate("max_range_m = 800000", "max_range_m = \"far\"");
    rejects(&t, line, "sensors[0].max_range_m", "invalid type");
}

#[test]
fn rejects_a_negative_sigma() {
    let (t, line) = mutate("sigma_range_m = 30", "sigma_range_m = -30");
    rejects(&t, line, "sensors[1].sigma_range_m", "greater than zero");
}

#[test]
fn rejects_nan() {
    let (t, line) = mutate("sigma_azimuth_mrad = 2\n", "sigma_azimuth_mrad = nan\n");
    rejects(&t, line, "sensors[0].sigma_azimuth_mrad", "NaN");
}

#[test]
fn rejects_a_probability_outside_zero_one() {
    let (t, line) = mutate("p_detection = 0.95", "p_detection = 1.5");
    rejects(&t, line, "sensors[1].p_detection", "[0, 1]");
}

#[test]
fn rejects_a_site_below_minus_500_m() {
    let (t, line) = mutate("alt_m = 900", "alt_m = -600");
    rejects(&t, line, "sensors[1].alt_m", "-500");
}

#[test]
fn rejects_an_empty_azimuth_sector() {
    let (t, line) = mutate("azimuth_max_deg = 60", "azimuth_max_deg = 300");
    rejects(
        &t,
        line,
        "sensors[0].azimuth_max_deg",
        "different from azimuth_min_deg",
    );
}

#[test]
fn rejects_a_launch_that_never_leaves_the_ground() {
    let (t, _) = mutate("thrust_n = 160000", "thrust_n = 20000");
    // Reported at the launch's table header.
    let line = t[..t.find("[[launches]]").unwrap()].matches('\n').count() + 1;
    rejects(&t, line, "launches[0]", "never leaves the ground");
}

#[test]
fn rejects_an_unknown_nation() {
    let (t, line) = mutate("nation = \"JP\"\ntype", "nation = \"XX\"\ntype");
    rejects(&t, line, "sensors[1].nation", "\"XX\"");
}

#[test]
fn rejects_a_duplicate_sensor_id() {
    let (t, line) = mutate("id = \"JP-EW-1\"", "id = \"KR-EW-1\"");
    rejects(&t, line, "sensors[1].id", "not used by another sensor");
}

#[test]
fn rejects_an_unknown_nation_in_the_policy() {
    let (t, line) = mutate("JP = [\"KR\"]", "JP = [\"KP\"]");
    rejects(&t, line, "policy.release.JP[0]", "\"KP\"");
}

#[test]
fn unknown_builtin_exits_2_and_lists_the_builtins() {
    let dir = tempfile::tempdir().unwrap();
    let assert = trilink()
        .args(["simulate", "no-such-thing", "--out"])
        .arg(dir.path().join("out"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("hwasong-12") && stderr.contains("raid-1000"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn help_lists_every_builtin_and_every_output() {
    let assert = trilink().args(["simulate", "--help"]).assert().success();
    let help = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    for name in trilink_sim::builtin_names() {
        assert!(help.contains(name), "{name} missing from --help");
    }
    for f in FILES {
        assert!(help.contains(f), "{f} missing from --help");
    }
}
