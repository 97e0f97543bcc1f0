//! Property tests: every conversion inverts, over the whole range trilink uses.

use proptest::prelude::*;
use trilink_geo::{geodesic_direct, geodesic_inverse, Aer, Ecef, Enu, Geodetic, LocalFrame};

fn any_geodetic() -> impl Strategy<Value = Geodetic> {
    (-90.0f64..=90.0, -180.0f64..180.0, -10e3f64..45_000e3)
        .prop_map(|(la, lo, h)| Geodetic::from_degrees(la, lo, h).expect("in range"))
}

fn any_site() -> impl Strategy<Value = Geodetic> {
    (-89.0f64..=89.0, -180.0f64..180.0, -500.0f64..5_000.0)
        .prop_map(|(la, lo, h)| Geodetic::from_degrees(la, lo, h).expect("in range"))
}

proptest! {
    #[test]
    fn geodetic_ecef_geodetic_round_trip(p in any_geodetic()) {
        let back = p.to_ecef().to_geodetic();
        prop_assert!((back.lat_rad - p.lat_rad).abs() < 1e-12);
        let horizontal_m = p.to_ecef().0.xy().norm();
        prop_assert!(trilink_geo::wrap_pi(back.lon_rad - p.lon_rad).abs() * horizontal_m < 1e-6);
        prop_assert!((back.alt_m - p.alt_m).abs() < 1e-6);
    }

    #[test]
    fn ecef_enu_ecef_round_trip(site in any_site(), x in -5e7f64..5e7, y in -5e7f64..5e7, z in -5e7f64..5e7) {
        let frame = LocalFrame::new(site);
        let p = Ecef::new(x, y, z);
        let back = frame.to_ecef(&frame.to_enu(&p));
        prop_assert!(back.distance_m(&p) < 1e-6 * (1.0 + p.0.norm() / 1e7));
    }

    #[test]
    fn enu_aer_enu_round_trip(e in -4e7f64..4e7, n in -4e7f64..4e7, u in -4e7f64..4e7) {
        prop_assume!(e.hypot(n).hypot(u) > 1.0);
        let enu = Enu(nalgebra::Vector3::new(e, n, u));
        let aer = enu.to_aer();
        prop_assert!((0.0..std::f64::consts::TAU).contains(&aer.az_rad));
        prop_assert!(aer.el_rad.abs() <= std::f64::consts::FRAC_PI_2);
        let back = aer.to_enu();
        prop_assert!((back.0 - enu.0).norm() < 1e-8 * (1.0 + enu.0.norm()));
    }

    #[test]
    fn azimuth_is_clockwise_from_north(site in any_site(), d_m in 1_000.0f64..500_000.0) {
        let frame = LocalFrame::new(site);
        // A point due east along the local horizontal has azimuth 90°.
        let east = frame.to_ecef(&Enu(nalgebra::Vector3::new(d_m, 0.0, 0.0)));
        let aer: Aer = frame.aer_of(&east);
        prop_assert!((aer.az_rad - std::f64::consts::FRAC_PI_2).abs() < 1e-9);
        prop_assert!(aer.el_rad.abs() < 1e-9);
    }

    #[test]
    fn geodesic_direct_inverts_inverse(a in any_site(), az in 0.0f64..std::f64::consts::TAU, s in 1_000.0f64..5_000_000.0) {
        let b = geodesic_direct(&a, az, s);
        let g = geodesic_inverse(&a, &b);
        prop_assert!((g.distance_m - s).abs() < 1e-6);
    }
}

#[test]
fn bad_geodetic_input_is_rejected_with_the_value() {
    let err = Geodetic::from_degrees(91.0, 0.0, 0.0).unwrap_err();
    assert!(err.to_string().contains("91"), "{err}");
    assert!(Geodetic::from_degrees(f64::NAN, 0.0, 0.0).is_err());
    assert!(Geodetic::from_degrees(0.0, 0.0, f64::INFINITY).is_err());
}
