//! Validation (c): the missile classes reproduce the public figures of their template launches,
//! and the committed class parameters are exactly what the fit derives.

use trilink_geo::{geodesic_inverse, Ecef, Geodetic};
use trilink_physics::integrate::{position, velocity};
use trilink_physics::missiles::{self, Goal};
use trilink_physics::{dynamics, fit, fly, Ending, FlightConfig, ObjectKind};

fn geodetic_of(s: &trilink_physics::State6) -> Geodetic {
    Ecef(position(s)).to_geodetic()
}

#[test]
fn ballistic_classes_reproduce_public_apogee_range_and_time_within_5_percent() {
    for t in missiles::templates() {
        let Goal::Ballistic {
            apogee_m,
            range_m,
            flight_time_s,
        } = t.goal
        else {
            continue;
        };
        let launch = missiles::template_launch(t.class, 0.0).unwrap();
        let flight = fly(&launch, &FlightConfig::default()).unwrap();
        let payload = flight.payload().unwrap();
        assert_eq!(payload.ending, Ending::Impact, "{}", t.class);
        // Apogee straight from the samples (no refinement): independent of the fit's measure.
        let apogee = payload
            .samples
            .iter()
            .map(|s| geodetic_of(s).alt_m)
            .fold(f64::MIN, f64::max);
        let impact = geodetic_of(payload.samples.last().unwrap());
        let range = geodesic_inverse(&launch.site, &impact).distance_m;
        let time = payload.t_end_s() - launch.t0_s;
        let err = |got: f64, want: f64| (got - want) / want;
        eprintln!(
            "{}: apogee {:.1} km ({:+.3} %), range {:.1} km ({:+.3} %), time {:.0} s{}",
            t.class,
            apogee / 1e3,
            100.0 * err(apogee, apogee_m),
            range / 1e3,
            100.0 * err(range, range_m),
            time,
            flight_time_s
                .map(|p| format!(" ({:+.2} %)", 100.0 * err(time, p)))
                .unwrap_or_default()
        );
        assert!(
            err(apogee, apogee_m).abs() < 0.05,
            "{} apogee {apogee}",
            t.class
        );
        assert!(
            err(range, range_m).abs() < 0.05,
            "{} range {range}",
            t.class
        );
        if let Some(p) = flight_time_s {
            assert!(err(time, p).abs() < 0.05, "{} time {time}", t.class);
        }
        // It lands on the bearing of the reported area (the fitted azimuth offset takes out the
        // Earth's turning under the flight), and near the reported point itself where one was
        // published; along the bearing the public range, not the point, decides.
        let bearing = geodesic_inverse(&launch.site, &impact).azimuth1_rad;
        let off_bearing = trilink_geo::wrap_pi(bearing - t.azimuth_rad()).abs();
        assert!(
            off_bearing < 1e-6,
            "{} lands {off_bearing} rad off its bearing",
            t.class
        );
        if let Some(aim) = t.aim_point() {
            let miss = geodesic_inverse(&aim, &impact).distance_m;
            eprintln!(
                "{}: impact {:.1} km from the reported point",
                t.class,
                miss / 1e3
            );
            assert!(
                miss < 0.05 * range_m,
                "{} lands {miss} m from its aim",
                t.class
            );
        }
    }
}

#[test]
fn chollima_reaches_orbit_at_705_s_and_drops_its_stages_to_the_south() {
    let t = missiles::template("chollima-1").unwrap();
    let launch = missiles::template_launch("chollima-1", 0.0).unwrap();
    let flight = fly(&launch, &FlightConfig::default()).unwrap();
    let payload = flight.payload().unwrap();
    let s = payload.state_at(705.0).unwrap();
    let r = position(&s);
    let v_inertial = velocity(&s) + dynamics::earth_rotation().cross(&r);
    let mu = trilink_geo::wgs84::GM_M3_PER_S2;
    let alt = geodetic_of(&s).alt_m;
    let circular = (mu / r.norm()).sqrt();
    eprintln!(
        "chollima-1 at 705 s: height {:.1} km, inertial speed {:.1} m/s (circular {:.1})",
        alt / 1e3,
        v_inertial.norm(),
        circular
    );
    assert!((alt - 500e3).abs() < 25e3, "height {alt}");
    assert!((v_inertial.norm() / circular - 1.0).abs() < 0.01);
    // Orbital, not ballistic: still up three hours later.
    assert_eq!(payload.ending, Ending::StillFlying);
    // Between Okinawa Island and Miyako: where the ground track crosses 25.6° N.
    let cross = payload
        .samples
        .iter()
        .zip(&payload.t_s)
        .find(|(s, _)| geodetic_of(s).lat_deg() < 25.6)
        .map(|(s, &t)| (t, geodetic_of(s).lon_deg()))
        .unwrap();
    eprintln!(
        "chollima-1 crosses 25.6N at {:.0} s, {:.2}E",
        cross.0, cross.1
    );
    assert!(
        (125.3..=127.9).contains(&cross.1),
        "passes outside the Okinawa–Miyako gap"
    );
    assert!(
        (600.0..=900.0).contains(&cross.0),
        "crossing at {} s",
        cross.0
    );
    let az = t.azimuth_rad();
    let mut stages = 0;
    for obj in &flight.objects {
        let ObjectKind::SpentStage(k) = obj.kind else {
            continue;
        };
        stages += 1;
        let last = geodetic_of(obj.samples.last().unwrap());
        if obj.ending == Ending::Impact {
            let g = geodesic_inverse(&launch.site, &last);
            eprintln!(
                "chollima-1 stage {k}: falls {:.0} km down-range at azimuth {:.1}° after {:.0} s",
                g.distance_m / 1e3,
                g.azimuth1_rad.to_degrees(),
                obj.t_end_s()
            );
            assert!(
                last.lat_deg() < launch.site.lat_deg(),
                "stage {k} falls north"
            );
            assert!(trilink_geo::wrap_pi(g.azimuth1_rad - az).abs() < 10f64.to_radians());
        } else {
            eprintln!("chollima-1 stage {k}: still flying after 3 h (in orbit with the payload)");
        }
    }
    assert_eq!(stages, 3);
    // The two lower stages must come down (the notified debris zones were at sea).
    for k in [1u8, 2] {
        let o = flight
            .objects
            .iter()
            .find(|o| o.kind == ObjectKind::SpentStage(k))
            .unwrap();
        assert_eq!(o.ending, Ending::Impact, "stage {k}");
    }
}

#[test]
fn fit_reproduces_committed_parameters() {
    for &(name, el_deg, scale, vertical_s, penultimate_s, az_offset_deg) in missiles::FITTED.iter()
    {
        let out = fit::fit_class(name).unwrap();
        let p = out.params;
        eprintln!(
            "{name}: fitted {:.7}° {:.8} {:.4} s {:+.7}° in {} iterations (residual {:.1e})",
            p.final_elevation_rad.to_degrees(),
            p.propellant_scale,
            p.penultimate_burn_s,
            p.azimuth_offset_rad.to_degrees(),
            out.iterations,
            out.residual
        );
        assert!(
            (p.final_elevation_rad.to_degrees() - el_deg).abs() < 1e-5,
            "{name}"
        );
        assert!((p.propellant_scale - scale).abs() < 1e-6, "{name}");
        assert_eq!(p.vertical_s, vertical_s, "{name}");
        assert!(
            (p.penultimate_burn_s - penultimate_s).abs() < 1e-3,
            "{name}"
        );
        assert!(
            (p.azimuth_offset_rad.to_degrees() - az_offset_deg).abs() < 1e-5,
            "{name}"
        );
    }
}

#[test]
fn every_class_name_resolves() {
    for name in missiles::class_names() {
        assert!(missiles::class(name).is_some(), "{name}");
        assert!(missiles::template(name).is_some(), "{name}");
    }
    assert!(missiles::class("nodong-9").is_none());
    assert!(matches!(
        fit::fit_class("nodong-9"),
        Err(trilink_physics::PhysicsError::UnknownClass { .. })
    ));
}
