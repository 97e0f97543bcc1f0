use trilink_sim::{builtin_names, Scenario};

#[test]
fn default_builtin_loads_with_its_nations_sensors_and_links() {
    let s = Scenario::builtin(trilink_sim::DEFAULT_BUILTIN).unwrap();
    assert_eq!(s.nations.len(), 3);
    assert!(s.policy.releasable("KR", "US"));
    assert!(!s.policy.releasable("KR", "JP"));
    assert_eq!(s.route("KR", "JP").unwrap(), vec!["KR", "US", "JP"]);
    assert!(s.sensors_of("JP").count() >= 2);
    // 2022-10-03T22:22:00Z
    assert_eq!(s.epoch_unix_s, 1_664_835_720.0);
    assert!(builtin_names().contains(&"raid-1000"));
}

#[test]
fn every_builtin_loads() {
    for name in builtin_names() {
        let s = Scenario::builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&s.name, name);
    }
}

/// The default built-in's text with one substitution, which must be there.
fn edited(from: &str, to: &str) -> String {
    let text = trilink_sim::builtin_text("hwasong-12").unwrap();
    assert!(text.contains(from), "fixture: {from:?} not in hwasong-12");
    text.replacen(from, to, 1)
}

fn error_of(text: &str) -> String {
    match Scenario::from_str(text, "edited.toml") {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_built_ins_carry_the_hub_relay_and_the_public_record() {
    let s = Scenario::builtin("hwasong-12").unwrap();
    assert_eq!(s.policy.relay.len(), 2);
    assert!(s
        .public_record
        .iter()
        .any(|r| r.region.as_deref() == Some("Aomori") && r.time_s == 420.0));
}

#[test]
fn a_self_intersecting_degenerate_or_short_region_is_refused_with_its_key() {
    let aomori =
        "polygon_deg = [[41.55, 139.95], [41.55, 141.70], [40.20, 141.70], [40.20, 139.85]]";
    let bow_tie = edited(
        aomori,
        "polygon_deg = [[41.55, 139.95], [40.20, 141.70], [41.55, 141.70], [40.20, 139.85]]",
    );
    let e = error_of(&bow_tie);
    assert!(
        e.contains("regions[1].polygon_deg") && e.contains("crosses"),
        "{e}"
    );
    let flat = edited(
        aomori,
        "polygon_deg = [[40.0, 140.0], [40.5, 140.5], [41.0, 141.0]]",
    );
    let e = error_of(&flat);
    assert!(e.contains("no area"), "{e}");
    let short = edited(aomori, "polygon_deg = [[40.0, 140.0], [40.5, 140.5]]");
    let e = error_of(&short);
    assert!(e.contains("at least 3"), "{e}");
    let empty = edited(aomori, "polygon_deg = []");
    assert!(error_of(&empty).contains("regions[1].polygon_deg"));
}

#[test]
fn a_region_of_an_unknown_nation_is_refused() {
    let text = edited(
        "name = \"Seoul\"\nnation = \"KR\"",
        "name = \"Seoul\"\nnation = \"CN\"",
    );
    let e = error_of(&text);
    assert!(e.contains("regions[") && e.contains("CN"), "{e}");
}

#[test]
fn a_relay_rule_that_would_leak_a_source_is_refused() {
    // JP does not release to KR directly, so a hub in KR would hold what JP never gave it.
    let via_kr = edited(
        "from = \"KR\"\nvia = \"US\"\nto = [\"JP\"]",
        "from = \"JP\"\nvia = \"KR\"\nto = [\"US\"]",
    );
    let e = error_of(&via_kr);
    assert!(
        e.contains("policy.relay[0]") && e.contains("does not release to KR"),
        "{e}"
    );
    // The hub releases nothing to CN, so the relay could only leak.
    let to_cn = edited(
        "[[nations]]\ncode = \"US\"",
        "[[nations]]\ncode = \"CN\"\nname = \"Elsewhere\"\n\n[[nations]]\ncode = \"US\"",
    )
    .replacen("to = [\"JP\"]", "to = [\"JP\", \"CN\"]", 1);
    let e = error_of(&to_cn);
    assert!(e.contains("US does not release to CN"), "{e}");
}
