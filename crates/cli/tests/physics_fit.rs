//! `trilink fit` end to end: the table it prints and its handling of bad input.

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn fit_one_class_prints_a_row_that_hits_the_public_figures() {
    let out = Command::cargo_bin("trilink")
        .unwrap()
        .args(["fit", "kn-23"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let row = text
        .lines()
        .find(|l| l.starts_with("kn-23 "))
        .expect("a kn-23 row");
    let cols: Vec<&str> = row.split_whitespace().collect();
    // class, final_el, scale, pen_burn, az_off, az, iters, apogee, public, err, range, public, err
    let apogee_err: f64 = cols[9].parse().unwrap();
    let range_err: f64 = cols[12].parse().unwrap();
    assert!(apogee_err.abs() < 0.01 && range_err.abs() < 0.01, "{row}");
    assert!(
        text.contains("missilethreat.csis.org"),
        "the source is shown"
    );
}

#[test]
fn an_unknown_class_is_a_usage_error_naming_the_known_ones() {
    Command::cargo_bin("trilink")
        .unwrap()
        .args(["fit", "nodong-9"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nodong-9").and(predicate::str::contains("hwasong-18")));
}

#[test]
fn fit_without_a_class_or_all_is_a_usage_error() {
    Command::cargo_bin("trilink")
        .unwrap()
        .arg("fit")
        .assert()
        .code(2);
}
