//! `trilink eval` driven as a user drives it: a run directory with known errors in, the JSON
//! and the HTML report out; bad input exits 2 naming the file and line.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;
use trilink_eval::synthetic::known_answer;

fn known_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    known_answer().write(dir.path()).unwrap();
    dir
}

fn eval(dir: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("trilink")
        .unwrap()
        .arg("eval")
        .arg(dir)
        .args(extra)
        .assert()
}

fn num(v: &Value, path: &str) -> f64 {
    let mut cur = v;
    for key in path.split('.') {
        cur = match key.parse::<usize>() {
            Ok(i) => &cur[i],
            Err(_) => &cur[key],
        };
    }
    cur.as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number: {cur}"))
}

#[test]
fn known_run_prints_the_worked_out_scores_and_writes_an_svg_report() {
    let dir = known_dir();
    let out = eval(dir.path(), &[]).success().get_output().stdout.clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    for key in [
        "parameters",
        "inputs",
        "gospa",
        "rmse",
        "nees",
        "nis",
        "pcrlb",
        "timeliness",
        "continuity",
        "impact",
        "launch",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    // Tracks are truth + 300 m and + 4 m/s; covariance makes every NEES exactly 3.
    assert!((num(&v, "rmse.all.position_m") - 300.0).abs() < 1e-6);
    assert!((num(&v, "rmse.free_flight.velocity_mps") - 4.0).abs() < 1e-9);
    assert!((num(&v, "nees.position.average") - 3.0).abs() < 1e-6);
    assert_eq!(v["nees"]["position"]["inside_95"], Value::Bool(true));
    assert!((num(&v, "nis.average") - 3.0).abs() < 1e-12);
    assert_eq!(num(&v, "gospa.max_m"), 3100.0);
    assert_eq!(num(&v, "rmse.unassigned_rows"), 30.0);
    // The split adds up to the total for p = 1.
    let parts = num(&v, "gospa.mean_localisation_m")
        + num(&v, "gospa.mean_missed_m")
        + num(&v, "gospa.mean_false_m");
    assert!((parts - num(&v, "gospa.mean_m")).abs() < 1e-6);
    assert_eq!(num(&v, "continuity.track_breaks"), 1.0);
    assert_eq!(num(&v, "continuity.id_swaps"), 0.0);
    assert_eq!(num(&v, "timeliness.mean_launch_to_track_s"), 5.0);
    assert!((num(&v, "impact.last_prediction.0.error_m") - 1000.0).abs() < 1e-3);
    assert!((num(&v, "launch.per_track.0.error_m") - 500.0).abs() < 1e-3);
    assert!(num(&v, "pcrlb.free_flight_ratio") > 1.0);

    let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("</html>"));
    // Self-contained: no script, nothing fetched (the only URL is the SVG namespace).
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("<link"));
}

#[test]
fn json_only_writes_no_report_and_grid_changes_the_grid() {
    let dir = known_dir();
    let out = eval(dir.path(), &["--json-only", "--grid-s", "2"])
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(!dir.path().join("report.html").exists());
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(num(&v, "parameters.grid_s"), 2.0);
}

#[test]
fn tracks_without_nis_columns_give_null_nis_and_no_impacts_file_gives_null_impact() {
    let dir = known_dir();
    let path = dir.path().join("tracks.csv");
    let text = fs::read_to_string(&path).unwrap();
    let trimmed: Vec<String> = text
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            cols[..cols.len() - 2].join(",")
        })
        .collect();
    fs::write(&path, trimmed.join("\n") + "\n").unwrap();
    fs::remove_file(dir.path().join("impacts.csv")).unwrap();
    let out = eval(dir.path(), &["--json-only"])
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["nis"], Value::Null);
    assert_eq!(v["impact"], Value::Null);
    assert!((num(&v, "nees.position.average") - 3.0).abs() < 1e-6);
}

#[test]
fn a_missing_file_exits_2_and_names_it() {
    let dir = known_dir();
    fs::remove_file(dir.path().join("tracks.csv")).unwrap();
    let err = eval(dir.path(), &[]).code(2).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("tracks.csv"), "{err}");
}

#[test]
fn a_nan_in_truth_exits_2_naming_file_line_and_column() {
    let dir = known_dir();
    let path = dir.path().join("truth.csv");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut cols: Vec<String> = lines[3].split(',').map(String::from).collect();
    cols[2] = "NaN".into();
    lines[3] = cols.join(",");
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = eval(dir.path(), &[]).code(2).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("truth.csv:4") && err.contains("x_m"), "{err}");
}

#[test]
fn a_missing_column_exits_2_naming_it() {
    let dir = known_dir();
    let path = dir.path().join("tracks.csv");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replacen("cov_zz", "cov_zzz", 1)).unwrap();
    let err = eval(dir.path(), &[]).code(2).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains("tracks.csv") && err.contains("cov_zz"),
        "{err}"
    );
}

#[test]
fn a_label_that_does_not_match_its_detection_exits_2() {
    let dir = known_dir();
    let path = dir.path().join("labels.csv");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[5] = lines[5].replace("K1", "J9");
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = eval(dir.path(), &[]).code(2).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("labels.csv:6"), "{err}");
}

#[test]
fn a_bad_parameter_or_directory_exits_2() {
    let dir = known_dir();
    eval(dir.path(), &["--grid-s", "0"]).code(2);
    eval(dir.path(), &["--gospa-c-m", "-1"]).code(2);
    eval(&dir.path().join("nope"), &[]).code(2);
}
