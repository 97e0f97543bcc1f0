//! A small scenario generator for the tracker's tests and benches: free-flight bodies
//! integrated with the physics crate's own RK4 at 0.1 s (as the simulator does), radars that
//! report azimuth, elevation and range with Gaussian noise, and uniform clutter.
#![allow(dead_code)]

use nalgebra::Vector3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use trilink_geo::{Ecef, Geodetic, LocalFrame};
use trilink_interchange::{DetectionRow, SensorRow};
use trilink_physics::{free_flight_acceleration, rk4_step, Ending, ObjectKind, State6, Trajectory};

pub fn geo(lat: f64, lon: f64, alt: f64) -> Geodetic {
    Geodetic::from_degrees(lat, lon, alt).unwrap()
}

/// A body thrown from `site` at `t0_s` with speed `speed_mps`, flight-path angle `gamma_rad`
/// above the horizontal, heading `az_rad`; flies until it reaches the ellipsoid.
pub fn throw(site: Geodetic, az_rad: f64, gamma_rad: f64, speed_mps: f64, t0_s: f64) -> Trajectory {
    let frame = LocalFrame::new(site);
    let (sa, ca) = az_rad.sin_cos();
    let (sg, cg) = gamma_rad.sin_cos();
    let v = frame.rotate_to_ecef(&Vector3::new(
        speed_mps * cg * sa,
        speed_mps * cg * ca,
        speed_mps * sg,
    ));
    let r = frame.origin().0;
    let s0 = State6::new(r.x, r.y, r.z, v.x, v.y, v.z);
    fly_free(s0, t0_s, 4.0 * 3600.0)
}

/// Free flight from `s0` at `t0_s` until the ground or `max_s`.
pub fn fly_free(s0: State6, t0_s: f64, max_s: f64) -> Trajectory {
    let mut t = t0_s;
    let mut s = s0;
    let mut ts = vec![t];
    let mut xs = vec![s];
    let h = |s: &State6| Ecef::new(s[0], s[1], s[2]).to_geodetic().alt_m;
    let mut ending = Ending::StillFlying;
    while t - t0_s < max_s {
        let n = rk4_step(t, &s, 0.1, |_, r, v| free_flight_acceleration(r, v));
        if h(&n) <= 0.0 && t > t0_s + 1.0 {
            ending = Ending::Impact;
            break;
        }
        t += 0.1;
        s = n;
        ts.push(t);
        xs.push(s);
    }
    Trajectory {
        kind: ObjectKind::Payload,
        t_s: ts,
        samples: xs,
        ending,
        powered_until: 0,
    }
}

/// The truth impact point of a trajectory (its last sample, within 0.1 s of flight).
pub fn impact_of(t: &Trajectory) -> (f64, Geodetic) {
    let s = t.samples.last().unwrap();
    (t.t_end_s(), Ecef::new(s[0], s[1], s[2]).to_geodetic())
}

#[derive(Clone)]
pub struct Radar {
    pub id: String,
    pub site: Geodetic,
    pub period_s: f64,
    pub sigma_range_m: f64,
    pub sigma_angle_rad: f64,
    pub max_range_m: f64,
    pub min_el_rad: f64,
    pub pd: f64,
    /// False alarms per scan, uniform over azimuth, elevation 0–0.6 rad, range 0–max.
    pub clutter_per_scan: f64,
}

impl Radar {
    pub fn new(id: &str, site: Geodetic, period_s: f64) -> Self {
        Self {
            id: id.into(),
            site,
            period_s,
            sigma_range_m: 30.0,
            sigma_angle_rad: 0.5e-3,
            max_range_m: 3.0e6,
            min_el_rad: 0.0,
            pd: 1.0,
            clutter_per_scan: 0.0,
        }
    }

    pub fn row(&self) -> SensorRow {
        SensorRow {
            sensor_id: self.id.clone(),
            nation: "KR".into(),
            lat_deg: self.site.lat_deg(),
            lon_deg: self.site.lon_deg(),
            alt_m: self.site.alt_m,
        }
    }
}

pub struct Scenario {
    pub sensors: Vec<SensorRow>,
    pub detections: Vec<DetectionRow>,
    /// Object index of each detection; `None` for clutter.
    pub labels: Vec<Option<usize>>,
    pub objects: Vec<Trajectory>,
}

/// Scans every radar from `t0_s` to `t1_s` over `objects`.
pub fn observe(
    radars: &[Radar],
    objects: Vec<Trajectory>,
    t0_s: f64,
    t1_s: f64,
    seed: u64,
) -> Scenario {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n01 = Normal::new(0.0, 1.0).unwrap();
    let mut rows: Vec<(DetectionRow, Option<usize>)> = Vec::new();
    for r in radars {
        let frame = LocalFrame::new(r.site);
        let mut t = t0_s;
        while t <= t1_s {
            for (k, o) in objects.iter().enumerate() {
                let Some(s) = o.state_at(t) else { continue };
                let aer = frame.aer_of(&Ecef::new(s[0], s[1], s[2]));
                if aer.el_rad < r.min_el_rad || aer.range_m > r.max_range_m {
                    continue;
                }
                if rng.random::<f64>() > r.pd {
                    continue;
                }
                let az =
                    trilink_geo::wrap_two_pi(aer.az_rad + r.sigma_angle_rad * n01.sample(&mut rng));
                rows.push((
                    DetectionRow {
                        time_s: t,
                        sensor_id: r.id.clone(),
                        range_m: aer.range_m + r.sigma_range_m * n01.sample(&mut rng),
                        azimuth_rad: az,
                        elevation_rad: aer.el_rad + r.sigma_angle_rad * n01.sample(&mut rng),
                        sigma_range_m: r.sigma_range_m,
                        sigma_azimuth_rad: r.sigma_angle_rad,
                        sigma_elevation_rad: r.sigma_angle_rad,
                    },
                    Some(k),
                ));
            }
            // Poisson-ish clutter count: whole part plus a Bernoulli remainder.
            let mut n = r.clutter_per_scan.floor() as usize;
            if rng.random::<f64>() < r.clutter_per_scan.fract() {
                n += 1;
            }
            for _ in 0..n {
                rows.push((
                    DetectionRow {
                        time_s: t,
                        sensor_id: r.id.clone(),
                        range_m: rng.random_range(50_000.0..r.max_range_m),
                        azimuth_rad: rng.random_range(0.0..std::f64::consts::TAU),
                        elevation_rad: rng.random_range(0.0..0.6),
                        sigma_range_m: r.sigma_range_m,
                        sigma_azimuth_rad: r.sigma_angle_rad,
                        sigma_elevation_rad: r.sigma_angle_rad,
                    },
                    None,
                ));
            }
            t += r.period_s;
        }
    }
    rows.sort_by(|a, b| {
        a.0.time_s
            .total_cmp(&b.0.time_s)
            .then(a.0.sensor_id.cmp(&b.0.sensor_id))
    });
    Scenario {
        sensors: radars.iter().map(Radar::row).collect(),
        labels: rows.iter().map(|r| r.1).collect(),
        detections: rows.into_iter().map(|r| r.0).collect(),
        objects,
    }
}

pub fn pos(s: &State6) -> Vector3<f64> {
    Vector3::new(s[0], s[1], s[2])
}

/// A raid of `n` free-flight bodies from launch sites spread over a 2°×2° box, on headings
/// toward the east and south-east, released over `spread_s` seconds, seen by two radars (2 s
/// revisit) with `clutter_per_scan` false alarms per scan, observed for `duration_s`.
pub fn raid(
    n: usize,
    clutter_per_scan: f64,
    spread_s: f64,
    duration_s: f64,
    seed: u64,
) -> Scenario {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let objects: Vec<Trajectory> = (0..n)
        .map(|_| {
            let site = geo(
                rng.random_range(38.5..40.5),
                rng.random_range(124.5..126.5),
                0.0,
            );
            let az = rng.random_range(1.4..2.3);
            let gamma = rng.random_range(0.6..0.9);
            let speed = rng.random_range(2_600.0..3_600.0);
            let t0 = rng.random_range(0.0..spread_s);
            throw(site, az, gamma, speed, t0)
        })
        .collect();
    let mut a = Radar::new("KR-1", geo(36.5, 129.0, 300.0), 2.0);
    a.clutter_per_scan = clutter_per_scan;
    a.pd = 0.95;
    let mut b = Radar::new("JP-1", geo(35.5, 133.0, 200.0), 2.0);
    b.clutter_per_scan = clutter_per_scan;
    b.pd = 0.95;
    observe(&[a, b], objects, 0.0, duration_s, seed ^ 0xA5A5)
}

/// ANEES (6 dof) of the confirmed track at each of `check_times` over `runs` noise draws of
/// one free flight (`obj`, one radar at 1 Hz, observed from 0 to `end_s`), tracked with `cfg`.
///
/// # Panics
/// If a run has no confirmed-track update at one of the times.
pub fn free_flight_anees(
    obj: &Trajectory,
    cfg: &trilink_track::TrackerConfig,
    runs: u64,
    end_s: f64,
    check_times: &[f64],
) -> Vec<f64> {
    let mut sums = vec![0.0; check_times.len()];
    let mut counts = vec![0u64; check_times.len()];
    for run in 0..runs {
        let s = observe(
            &[Radar::new("KR-1", geo(36.5, 129.0, 300.0), 1.0)],
            vec![obj.clone()],
            0.0,
            end_s,
            100 + run,
        );
        let mut tr = trilink_track::Tracker::new(&s.sensors, cfg.clone()).unwrap();
        for d in &s.detections {
            tr.process(d).unwrap();
            for u in tr.drain_updates() {
                if let Some(k) = check_times
                    .iter()
                    .position(|&t| (u.time_s - t).abs() < 1e-9)
                {
                    let x = obj.state_at(u.time_s).unwrap();
                    let e = nalgebra::Vector6::from_iterator(x.iter().copied()) - u.x;
                    sums[k] += (e.transpose() * u.p.try_inverse().unwrap() * e)[(0, 0)];
                    counts[k] += 1;
                }
            }
        }
    }
    for (k, t) in check_times.iter().enumerate() {
        assert_eq!(
            counts[k], runs,
            "every run has a confirmed track at t = {t}"
        );
    }
    sums.iter().map(|s| s / runs as f64).collect()
}

/// Every update the tracker makes on `s` with `cfg`, to the end (tracks closed), and the
/// tracker itself for its statistics.
pub fn run(
    s: &Scenario,
    cfg: trilink_track::TrackerConfig,
) -> (Vec<trilink_track::TrackUpdate>, trilink_track::Tracker) {
    let mut tr = trilink_track::Tracker::new(&s.sensors, cfg).unwrap();
    let mut out = Vec::new();
    for d in &s.detections {
        tr.process(d).unwrap();
        out.extend(tr.drain_updates());
    }
    tr.close();
    out.extend(tr.drain_updates());
    (out, tr)
}

/// Radars like the built-in scenarios' Korean and Japanese sensors, without clutter.
pub fn builtin_like_radars() -> Vec<Radar> {
    // Like the built-in scenarios' sensors (public-geography sites, round-number performance):
    // early-warning radars with 1.5-2 mrad angles (1-2 km across at these ranges), an Aegis
    // ship, an X-band radar; revisits of 1-5 s, so scans of the pair arrive every fraction of
    // a second.
    [
        ("KR-EW-1", geo(36.4, 127.4, 400.0), 5.0, 40.0, 2.0e-3),
        ("KR-EW-2", geo(35.3, 128.9, 500.0), 5.0, 40.0, 2.0e-3),
        ("KR-AEGIS-1", geo(37.8, 130.0, 20.0), 2.0, 20.0, 1.0e-3),
        ("JP-EW-SADO", geo(38.1, 138.4, 900.0), 4.0, 30.0, 1.5e-3),
        ("JP-EW-KOSHIKI", geo(31.7, 129.8, 500.0), 4.0, 30.0, 1.5e-3),
        ("US-XB-WEST", geo(35.7, 135.2, 50.0), 1.0, 5.0, 0.3e-3),
    ]
    .into_iter()
    .map(
        |(id, site, period_s, sigma_range_m, sigma_angle_rad)| Radar {
            sigma_range_m,
            sigma_angle_rad,
            pd: 0.9,
            ..Radar::new(id, site, period_s)
        },
    )
    .collect()
}

/// How far an update is from where `o` was at its time (infinite outside `o`'s flight).
pub fn distance(o: &Trajectory, u: &trilink_track::TrackUpdate) -> f64 {
    let Some(x) = o.state_at(u.time_s) else {
        return f64::INFINITY;
    };
    (pos(&x) - Vector3::new(u.x[0], u.x[1], u.x[2])).norm()
}

/// A fitted missile class flown by the physics crate (the simulator's own flight) until
/// `end_s`: the stack (the payload's trajectory), the first body it drops (a spent stage,
/// released with the stack's state), and the time of that first separation.
pub fn fitted_first_split(class: &str, end_s: f64) -> (Trajectory, Trajectory, f64) {
    let Some(launch) = trilink_physics::missiles::template_launch(class, 0.0) else {
        panic!("no {class} class");
    };
    let cfg = trilink_physics::FlightConfig {
        dt_s: 0.1,
        max_duration_s: end_s,
        ..trilink_physics::FlightConfig::default()
    };
    let flight = trilink_physics::fly(&launch, &cfg).unwrap();
    let mut objects = flight.objects.into_iter();
    let (Some(stack), Some(dropped)) = (objects.next(), objects.next()) else {
        panic!("{class} drops no stage");
    };
    let split_s = dropped.t_start_s();
    (stack, dropped, split_s)
}

/// Two bodies seen by [`builtin_like_radars`] from 0 to `end_s` with noise seed `seed`, and
/// every update the default tracker makes on them.
pub fn track_pair(
    a: &Trajectory,
    b: &Trajectory,
    end_s: f64,
    seed: u64,
) -> (Scenario, Vec<trilink_track::TrackUpdate>) {
    let s = observe(
        &builtin_like_radars(),
        vec![a.clone(), b.clone()],
        0.0,
        end_s,
        seed,
    );
    let ups = run(&s, trilink_track::TrackerConfig::default()).0;
    (s, ups)
}
