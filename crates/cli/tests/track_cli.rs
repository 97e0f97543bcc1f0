//! `trilink track` driven as a user would: real files in, files and exit codes out.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use trilink_geo::{Ecef, Geodetic, LocalFrame};
use trilink_physics::{free_flight_acceleration, rk4_step, State6};

const DET_HEADER: &str = "time_s,sensor_id,range_m,azimuth_rad,elevation_rad,sigma_range_m,sigma_azimuth_rad,sigma_elevation_rad";

fn write_sensors(dir: &Path) {
    fs::write(
        dir.join("sensors.csv"),
        "sensor_id,nation,lat_deg,lon_deg,alt_m,note\nKR-1,KR,36.5,129.0,300,east coast\n",
    )
    .unwrap();
}

/// A free-flight body seen by KR-1 once a second, with small deterministic noise: a file in the
/// contract form, as any tool would write it (with an extra column the tracker must ignore).
fn flight_detections() -> String {
    let site = Geodetic::from_degrees(40.0, 125.0, 0.0).unwrap();
    let launch = LocalFrame::new(site);
    let radar = LocalFrame::new(Geodetic::from_degrees(36.5, 129.0, 300.0).unwrap());
    let (sa, ca) = 1.9f64.sin_cos();
    let (sg, cg) = 0.73f64.sin_cos();
    let v = launch.rotate_to_ecef(&trilink_geo::Vector3::new(
        3100.0 * cg * sa,
        3100.0 * cg * ca,
        3100.0 * sg,
    ));
    let r = launch.origin().0;
    let mut s = State6::new(r.x, r.y, r.z, v.x, v.y, v.z);
    let mut text = format!("{DET_HEADER},extra\n");
    let mut k: u64 = 12345;
    let mut noise = || {
        k = k
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((k >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0
    };
    for step in 1..=6000 {
        s = rk4_step(0.0, &s, 0.1, |_, r, v| free_flight_acceleration(r, v));
        let t = step as f64 * 0.1;
        if Ecef::new(s[0], s[1], s[2]).to_geodetic().alt_m < 0.0 {
            break;
        }
        if step % 10 != 0 {
            continue;
        }
        let aer = radar.aer_of(&Ecef::new(s[0], s[1], s[2]));
        if aer.el_rad < 0.0 {
            continue;
        }
        writeln!(
            text,
            "{t},KR-1,{},{},{},30,0.0005,0.0005,x",
            aer.range_m + 30.0 * noise(),
            aer.az_rad + 0.0005 * noise(),
            aer.el_rad + 0.0005 * noise()
        )
        .unwrap();
    }
    text
}

fn trilink() -> Command {
    Command::cargo_bin("trilink").unwrap()
}

#[test]
fn tracks_a_flight_and_writes_the_three_files() {
    let dir = tempfile::tempdir().unwrap();
    write_sensors(dir.path());
    fs::write(dir.path().join("detections.csv"), flight_detections()).unwrap();
    let out = dir.path().join("out");
    trilink()
        .args([
            "track",
            dir.path().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let tracks = fs::read_to_string(out.join("tracks.csv")).unwrap();
    let mut lines = tracks.lines();
    assert_eq!(
        lines.next().unwrap(),
        "time_s,track_id,x_m,y_m,z_m,vx_mps,vy_mps,vz_mps,cov_xx,cov_xy,cov_xz,cov_yy,cov_yz,cov_zz,nis,nis_dof,phase"
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 100, "{} track rows", rows.len());
    assert!(
        rows.iter().all(|r| r.split(',').nth(1) == Some("1")),
        "one track, id 1"
    );
    let impacts = fs::read_to_string(out.join("impacts.csv")).unwrap();
    assert!(impacts.lines().count() > 100);
    let launches = fs::read_to_string(out.join("launches.csv")).unwrap();
    assert_eq!(launches.lines().count(), 2, "{launches}");
    // The launch estimate lands near the real site (40°N 125°E), within a few km.
    let f: Vec<f64> = launches
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(
        (f[2] - 40.0).abs() < 0.1 && (f[3] - 125.0).abs() < 0.1,
        "{launches}"
    );
}

fn expect_input_error(det_text: &str, needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    write_sensors(dir.path());
    fs::write(dir.path().join("detections.csv"), det_text).unwrap();
    trilink()
        .args(["track", dir.path().to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(needle));
    assert!(
        !dir.path().join("tracks.csv").exists(),
        "no partial output on failure"
    );
}

#[test]
fn unknown_sensor_is_an_input_error_with_its_line() {
    expect_input_error(
        &format!(
            "{DET_HEADER}\n1,KR-1,1e6,1,0.2,30,0.001,0.001\n2,XX-9,1e6,1,0.2,30,0.001,0.001\n"
        ),
        "detections.csv:3",
    );
}

#[test]
fn nan_is_an_input_error_with_its_line() {
    expect_input_error(
        &format!("{DET_HEADER}\n1,KR-1,NaN,1,0.2,30,0.001,0.001\n"),
        "detections.csv:2",
    );
}

#[test]
fn negative_sigma_is_an_input_error_with_its_line() {
    expect_input_error(
        &format!("{DET_HEADER}\n1,KR-1,1e6,1,0.2,-30,0.001,0.001\n"),
        "sigma_range_m",
    );
}

#[test]
fn rows_out_of_time_order_are_an_input_error_with_their_line() {
    expect_input_error(
        &format!(
            "{DET_HEADER}\n5,KR-1,1e6,1,0.2,30,0.001,0.001\n4,KR-1,1e6,1,0.2,30,0.001,0.001\n"
        ),
        "detections.csv:3",
    );
}

#[test]
fn late_rows_can_be_dropped_and_counted_instead() {
    let dir = tempfile::tempdir().unwrap();
    write_sensors(dir.path());
    fs::write(
        dir.path().join("detections.csv"),
        format!("{DET_HEADER}\n5,KR-1,1e6,1,0.2,30,0.001,0.001\n4,KR-1,1e6,1,0.2,30,0.001,0.001\n"),
    )
    .unwrap();
    trilink()
        .args(["track", dir.path().to_str().unwrap(), "--drop-late"])
        .assert()
        .success()
        .stderr(predicate::str::contains("1 late rows dropped"));
}

#[test]
fn missing_column_is_an_input_error() {
    expect_input_error("time_s,sensor_id,range_m\n1,KR-1,5\n", "missing column");
}

#[test]
fn truncated_last_line_is_an_input_error_with_its_line() {
    expect_input_error(
        &format!("{DET_HEADER}\n1,KR-1,1e6,1,0.2,30,0.001,0.001\n2,KR-1,1e6,1"),
        "detections.csv:3",
    );
}

#[test]
fn missing_directory_is_an_input_error() {
    trilink()
        .args(["track", "/nonexistent/trilink-run"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sensors.csv"));
}

#[test]
fn help_explains_inputs_and_outputs() {
    trilink()
        .args(["track", "--help"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("impacts.csv").and(predicate::str::contains("--drop-late")),
        );
}
