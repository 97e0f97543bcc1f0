//! GOSPA against independent vectors computed with scipy's linear_sum_assignment on the
//! textbook formulation (tests/data/gospa_scipy.py says how they were made).

use nalgebra::Vector3;
use serde::Deserialize;
use trilink_eval::gospa::{gospa, GospaParams};

#[derive(Deserialize)]
struct Doc {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    c: f64,
    p: f64,
    truth: Vec<[f64; 3]>,
    estimates: Vec<[f64; 3]>,
    gospa: f64,
    localisation: f64,
    missed: f64,
    #[serde(rename = "false")]
    false_: f64,
    n_missed: usize,
    n_false: usize,
}

fn points(v: &[[f64; 3]]) -> Vec<Vector3<f64>> {
    v.iter().map(|p| Vector3::new(p[0], p[1], p[2])).collect()
}

#[test]
fn gospa_matches_scipy_reference_vectors() {
    let text = include_str!("data/gospa_scipy_vectors.json");
    let doc: Doc = serde_json::from_str(text).unwrap();
    assert!(doc.cases.len() >= 200);
    let mut worst = 0.0f64;
    for (k, case) in doc.cases.iter().enumerate() {
        let params = GospaParams::new(case.c, case.p).unwrap();
        let g = gospa(&points(&case.truth), &points(&case.estimates), params);
        // Integer costs resolve c^p·1e-9 per pair; 1e-6 relative of GOSPA^p covers that.
        let cp = case.c.powf(case.p);
        let tol = 1e-6 * cp.max(1.0) * (case.truth.len() + case.estimates.len()).max(1) as f64;
        let total_p = g.localisation + g.missed + g.false_;
        let err = (total_p - case.gospa.powf(case.p)).abs();
        worst = worst.max(err / cp);
        assert!(
            err <= tol,
            "case {k}: {} vs scipy {}",
            g.gospa_m,
            case.gospa
        );
        assert!(
            (g.gospa_m - case.gospa).abs() <= 1e-6 * case.gospa.max(1.0),
            "case {k}"
        );
        // The split is unique whenever the optimum is: check it where no tie is plausible.
        assert_eq!(
            (g.n_missed, g.n_false),
            (case.n_missed, case.n_false),
            "case {k}"
        );
        assert!(
            (g.localisation - case.localisation).abs() <= tol,
            "case {k}"
        );
        assert!((g.missed - case.missed).abs() <= tol && (g.false_ - case.false_).abs() <= tol);
    }
    eprintln!("worst |GOSPA^p − scipy| / c^p = {worst:e}");
}
