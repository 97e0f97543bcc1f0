//! Covariance intersection against correlated estimates, and fused launch/impact points.
use nalgebra::{Matrix6, Vector6};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use trilink_domain::PointEstimate;
use trilink_fusion::compare::{crossing_pair, directional_ratio, monte_carlo, Rule};
use trilink_fusion::{fuse_points, CovarianceIntersection};

#[test]
fn ci_stays_consistent_where_naive_fusion_is_overconfident_on_correlated_estimates() {
    let (pa, pb) = crossing_pair();
    for rho in [0.0, 0.5, 0.9, 1.0] {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let ci = monte_carlo(Rule::Ci, &pa, &pb, rho, &Matrix6::identity(), 4000, || {
            StandardNormal.sample(&mut rng)
        })
        .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let naive = monte_carlo(
            Rule::Naive,
            &pa,
            &pb,
            rho,
            &Matrix6::identity(),
            4000,
            || StandardNormal.sample(&mut rng),
        )
        .unwrap();
        assert!(ci.anees_per_dof < 1.05, "ρ {rho}: CI {ci:?}");
        assert!(ci.within_95 > 0.94, "ρ {rho}: CI {ci:?}");
        if rho >= 0.5 {
            assert!(naive.anees_per_dof > 1.25, "ρ {rho}: naive {naive:?}");
        }
    }
}

fn spd(seed: u64) -> Matrix6<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let g: Matrix6<f64> = Matrix6::from_fn(|_, _| StandardNormal.sample(&mut rng));
    let p = g * g.transpose() + Matrix6::identity() * 0.1;
    (p + p.transpose()) * 0.5
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// The CI property: for every valid cross-correlation and every direction the fused
    /// covariance is at least the true error's.
    #[test]
    fn ci_is_never_smaller_than_the_true_error_in_any_direction(a in 0u64..10_000, b in 0u64..10_000, w in prop::array::uniform6(-1.0f64..1.0)) {
        let (pa, pb) = (spd(a), spd(b.wrapping_add(1_000_000)));
        let f = Rule::Ci.gains(&pa, &pb).unwrap();
        let w = Vector6::from_column_slice(&w);
        prop_assume!(w.norm() > 1e-3);
        let r = directional_ratio(&f, &pa, &pb, &w).unwrap();
        prop_assert!(r <= 1.0 + 1e-6, "ratio {}", r);
    }
}

fn point(lat: f64, lon: f64, a: f64, b: f64, o: f64, t: f64) -> PointEstimate {
    PointEstimate {
        time_s: t,
        lat_deg: lat,
        lon_deg: lon,
        semi_major_m: a,
        semi_minor_m: b,
        orientation_deg: o,
    }
}

#[test]
fn two_identical_ellipses_fuse_to_the_same_ellipse() {
    let p = point(40.0, 135.0, 8000.0, 3000.0, 60.0, 600.0);
    let f = fuse_points(&[p, p], &CovarianceIntersection::default())
        .unwrap()
        .unwrap();
    assert!((f.lat_deg - 40.0).abs() < 1e-6 && (f.lon_deg - 135.0).abs() < 1e-6);
    assert!((f.semi_major_m - 8000.0).abs() < 1.0, "{f:?}");
    assert!((f.semi_minor_m - 3000.0).abs() < 1.0, "{f:?}");
    assert!((f.orientation_deg - 60.0).abs() < 0.01, "{f:?}");
    assert!((f.time_s - 600.0).abs() < 1e-9);
}

#[test]
fn an_ellipse_with_a_much_smaller_partner_fuses_close_to_the_smaller() {
    let big = point(40.0, 135.0, 50_000.0, 20_000.0, 10.0, 610.0);
    // 3 km east of it, 1 km across.
    let small = point(40.0, 135.0 + 3000.0 / 85_000.0, 1000.0, 600.0, 100.0, 600.0);
    let f = fuse_points(&[big, small], &CovarianceIntersection::default())
        .unwrap()
        .unwrap();
    assert!((f.lon_deg - small.lon_deg).abs() * 85_000.0 < 50.0, "{f:?}");
    assert!((f.semi_major_m - 1000.0).abs() < 50.0, "{f:?}");
    assert!((f.orientation_deg - 100.0).abs() < 2.0, "{f:?}");
    assert!((f.time_s - 600.0).abs() < 0.5, "{f:?}");
    // Crossing ellipses: the fused one is inside the smaller semi-major of the two.
    let a = point(40.0, 135.0, 5000.0, 1000.0, 0.0, 600.0);
    let b = point(40.0, 135.0, 5000.0, 1000.0, 90.0, 600.0);
    let f = fuse_points(&[a, b], &CovarianceIntersection::default())
        .unwrap()
        .unwrap();
    assert!(f.semi_major_m < 5000.0 && f.semi_minor_m >= 1000.0, "{f:?}");
    assert!(fuse_points(&[], &CovarianceIntersection::default())
        .unwrap()
        .is_none());
}
