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
