//! Boost to burnout: a short-range missile is first seen deep in its burn, where its thrust
//! acceleration is several times what it was at lift-off and still growing, and its track must
//! survive burnout, when that acceleration drops to nothing in one step.

mod common;

use common::*;
use trilink_track::TrackUpdate;

/// The confirmed track on the stack in the last 6 s of the burn, and whether it is still
/// updated on one of the two bodies 20–40 s after burnout. `Err` says what went wrong.
fn kept_through_burnout(s: &Scenario, ups: &[TrackUpdate], burnout_s: f64) -> Result<(), String> {
    let near = |u: &TrackUpdate| {
        s.objects
            .iter()
            .map(|o| distance(o, u))
            .fold(f64::INFINITY, f64::min)
            < 2_000.0
    };
    let Some(parent) = ups
        .iter()
        .filter(|u| (burnout_s - 6.0..burnout_s).contains(&u.time_s) && near(u))
        .map(|u| u.track_id)
        .next_back()
    else {
        return Err("no confirmed track on the stack before burnout".into());
    };
    let after: Vec<&TrackUpdate> = ups
        .iter()
        .filter(|u| {
            u.track_id == parent && (burnout_s + 20.0..burnout_s + 40.0).contains(&u.time_s)
        })
        .collect();
    if after.is_empty() {
        let last = ups
            .iter()
            .filter(|u| u.track_id == parent)
            .map(|u| u.time_s)
            .next_back();
        return Err(format!("track {parent} last updated at {last:?} s"));
    }
    if !after.iter().all(|u| near(u)) {
        return Err(format!("track {parent} strayed from both bodies"));
    }
    Ok(())
}

#[test]
fn a_track_born_late_in_a_short_range_burn_is_kept_through_burnout() {
    // The kn-23 class burns 30 s, from 61 m/s² at lift-off to 310 m/s² at burnout; the radars
    // first see it at about 18 s, past 150 m/s². Seeds 1–40 of the radar noise.
    let (payload, stage, burnout_s) = fitted_first_split("kn-23", 80.0);
    let end_s = burnout_s + 40.0;
    let mut failures = Vec::new();
    for seed in 1..=40 {
        let (s, ups) = track_pair(&payload, &stage, end_s, seed);
        if let Err(e) = kept_through_burnout(&s, &ups, burnout_s) {
            failures.push(format!("seed {seed}: {e}"));
        }
    }
    // Measured: 5 of 40 seeds lose the track at burnout (its combined gate is still the boost
    // model's; docs/decisions/0401), against 11 of 40 with a constant-thrust boost model and a
    // new track's thrust σ of 30 m/s².
    assert!(
        failures.len() <= 8,
        "{} of 40: {failures:#?}",
        failures.len()
    );
}

#[test]
fn a_burnout_above_the_air_keeps_its_track() {
    // The hwasong-12 class burns 140 s and ends its burn about 150 km up at 214 m/s², eleven
    // times its lift-off acceleration. Seeds 1–20 of the radar noise.
    let (payload, stage, burnout_s) = fitted_first_split("hwasong-12", 220.0);
    let mut failures = Vec::new();
    for seed in 1..=20 {
        let (s, ups) = track_pair(&payload, &stage, burnout_s + 40.0, seed);
        if let Err(e) = kept_through_burnout(&s, &ups, burnout_s) {
            failures.push(format!("seed {seed}: {e}"));
        }
        let ids: std::collections::BTreeSet<u64> = ups
            .iter()
            .filter(|u| (burnout_s..burnout_s + 40.0).contains(&u.time_s))
            .map(|u| u.track_id)
            .collect();
        if ids.len() > 2 {
            failures.push(format!(
                "seed {seed}: {} tracks for 2 bodies: {ids:?}",
                ids.len()
            ));
        }
    }
    eprintln!("{} of 20 lost: {failures:#?}", failures.len());
    assert!(failures.is_empty(), "{failures:#?}");
}
