//! Named missile classes fitted to openly reported launches (`shared/reference/public-facts.md`
//! §2). Warning only: these are coarse kinematic stand-ins that reproduce the published apogee,
//! ground range and flight time, nothing more.
//!
//! Each class is a base vehicle whose stage masses, thrusts and burn times are plausible
//! public-order-of-magnitude figures (open estimates of launch mass and engine class; they are
//! NOT claimed to be the real vehicle's), plus the free parameters found by [`crate::fit`]: the
//! pitch programme's final elevation and one propellant scale (and, for the satellite launcher,
//! the vertical-rise time). The fitted numbers below are what `trilink fit --all` prints; the test
//! `fit_reproduces_committed_parameters` re-runs the fit and fails if they drift.

use trilink_geo::{geodesic_direct, geodesic_inverse, Geodetic};

use crate::flight::{Launch, PitchProgram, StageSpec, VehicleSpec};

/// Every class name [`class`] knows, in the order `trilink fit --all` reports them.
pub fn class_names() -> &'static [&'static str] {
    &[
        "kn-23",
        "hwasong-12",
        "hwasong-15",
        "hwasong-18",
        "chollima-1",
    ]
}

/// Where a template's launch heads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Aim {
    /// Toward a reported impact (or overflight) point; the azimuth is the geodesic's.
    Point { lat_deg: f64, lon_deg: f64 },
    /// A reported point plus a distance along a bearing from it ("3,200 km E of Kamaishi").
    Offset {
        lat_deg: f64,
        lon_deg: f64,
        bearing_deg: f64,
        distance_m: f64,
    },
    /// A bearing from the launch site, when no impact point was published.
    Azimuth { deg: f64 },
}

/// What the fit must reproduce.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// A ballistic flight: apogee and ground range are fitted, flight time is checked (if public).
    Ballistic {
        apogee_m: f64,
        range_m: f64,
        flight_time_s: Option<f64>,
    },
    /// Orbit insertion at the end of the last burn: height, circular speed, level flight.
    Orbit {
        insertion_time_s: f64,
        insertion_alt_m: f64,
    },
}

/// One openly reported launch that a class imitates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Template {
    pub class: &'static str,
    pub event: &'static str,
    pub site_lat_deg: f64,
    pub site_lon_deg: f64,
    pub site_text: &'static str,
    pub aim: Aim,
    pub aim_text: &'static str,
    pub goal: Goal,
    /// Where the public figures come from.
    pub source: &'static str,
}

impl Template {
    pub fn site(&self) -> Geodetic {
        Geodetic {
            lat_rad: self.site_lat_deg.to_radians(),
            lon_rad: self.site_lon_deg.to_radians(),
            alt_m: 0.0,
        }
    }

    /// The reported point the launch heads for, when there is one.
    pub fn aim_point(&self) -> Option<Geodetic> {
        let point = |lat: f64, lon: f64| Geodetic {
            lat_rad: lat.to_radians(),
            lon_rad: lon.to_radians(),
            alt_m: 0.0,
        };
        match self.aim {
            Aim::Point { lat_deg, lon_deg } => Some(point(lat_deg, lon_deg)),
            Aim::Offset {
                lat_deg,
                lon_deg,
                bearing_deg,
                distance_m,
            } => Some(geodesic_direct(
                &point(lat_deg, lon_deg),
                bearing_deg.to_radians(),
                distance_m,
            )),
            Aim::Azimuth { .. } => None,
        }
    }

    /// Launch azimuth, clockwise from north (rad).
    pub fn azimuth_rad(&self) -> f64 {
        match (self.aim, self.aim_point()) {
            (Aim::Azimuth { deg }, _) => deg.to_radians(),
            (_, Some(p)) => geodesic_inverse(&self.site(), &p).azimuth1_rad,
            (_, None) => 0.0,
        }
    }

    /// The launch of `vehicle` from this template's site at `t0_s`.
    pub fn launch(&self, vehicle: VehicleSpec, t0_s: f64) -> Launch {
        Launch {
            site: self.site(),
            azimuth_rad: self.azimuth_rad(),
            t0_s,
            vehicle,
        }
    }
}

/// The public launch each class imitates.
pub fn template(name: &str) -> Option<Template> {
    TEMPLATES.iter().find(|t| t.class == name).copied()
}

pub fn templates() -> &'static [Template] {
    &TEMPLATES
}

const TEMPLATES: [Template; 5] = [
    Template {
        class: "kn-23",
        event: "25 Jul 2019, first of two KN-23 from near Wonsan",
        site_lat_deg: 39.18,
        site_lon_deg: 127.48,
        site_text: "near Wonsan (public-geography level)",
        aim: Aim::Azimuth { deg: 60.0 },
        aim_text: "north-east into the Sea of Japan, as reported",
        // The 430 km figure (the first missile) rather than 690 km: this model flies a plain
        // ballistic arc, and 690 km at a 50 km apogee needs the pull-up manoeuvre reported for
        // the second missile, which a warning-level model does not imitate.
        goal: Goal::Ballistic {
            apogee_m: 50_000.0,
            range_m: 430_000.0,
            flight_time_s: None,
        },
        source: "CSIS Missile Threat (missilethreat.csis.org): 25 Jul 2019, 430 km and 690 km, apogee about 50 km",
    },
    Template {
        class: "hwasong-12",
        event: "4 Oct 2022, Hwasong-12 over Aomori",
        site_lat_deg: 40.6,
        site_lon_deg: 126.4,
        site_text: "Mupyong-ri, Chagang Province",
        aim: Aim::Offset {
            lat_deg: 39.27,
            lon_deg: 141.89,
            bearing_deg: 90.0,
            distance_m: 3_200_000.0,
        },
        aim_text: "about 3,200 km east of Kamaishi",
        goal: Goal::Ballistic {
            apogee_m: 970_000.0,
            range_m: 4_600_000.0,
            flight_time_s: Some(22.0 * 60.0),
        },
        source: "Japan MOD via nippon.com yjj2022100400208: apogee about 970 km, about 4,600 km, about 22 min",
    },
    Template {
        class: "hwasong-15",
        event: "29 Nov 2017, Hwasong-15 from Pyongsong, lofted",
        site_lat_deg: 39.25,
        site_lon_deg: 125.87,
        site_text: "Pyongsong",
        aim: Aim::Offset {
            lat_deg: 41.51,
            lon_deg: 139.37,
            bearing_deg: 270.0,
            distance_m: 250_000.0,
        },
        aim_text: "inside Japan's EEZ, about 250 km west of Oshima-Oshima (notional point)",
        goal: Goal::Ballistic {
            apogee_m: 4_475_000.0,
            range_m: 950_000.0,
            flight_time_s: Some(53.0 * 60.0),
        },
        source: "KCNA 4,475 km apogee, 950 km; Japan MOD 53 min (defence-industries.com; dailynk.jp/archives/100588)",
    },
    Template {
        class: "hwasong-18",
        event: "12 Jul 2023, Hwasong-18, lofted",
        site_lat_deg: 39.2,
        site_lon_deg: 125.67,
        site_text: "Pyongyang area (Sunan airport)",
        aim: Aim::Offset {
            lat_deg: 42.15,
            lon_deg: 139.47,
            bearing_deg: 270.0,
            distance_m: 250_000.0,
        },
        aim_text: "outside Japan's EEZ, about 250 km west of Okushiri",
        goal: Goal::Ballistic {
            apogee_m: 6_648_400.0,
            range_m: 1_001_200.0,
            flight_time_s: Some(4_491.0),
        },
        source: "KCNA 6,648.4 km apogee, 1,001.2 km, 4,491 s (Janes; nippon.com)",
    },
    Template {
        class: "chollima-1",
        event: "21 Nov 2023, Chollima-1 from Sohae, southbound",
        site_lat_deg: 39.66,
        site_lon_deg: 124.7,
        site_text: "Sohae (Tongchang-ri)",
        aim: Aim::Point {
            lat_deg: 25.6,
            lon_deg: 126.6,
            // Midway between Okinawa Island (26.5N 127.9E) and Miyako (24.8N 125.3E).
        },
        aim_text: "between Okinawa Island and Miyako",
        // KCNA: orbit at 705 s; the reported orbit of Malligyong-1 is roughly 500 km high.
        goal: Goal::Orbit {
            insertion_time_s: 705.0,
            insertion_alt_m: 500_000.0,
        },
        source: "KCNA insertion 705 s after launch; Japan: passed between Okinawa and Miyako about 12-13 min after launch (japannews.yomiuri 20231122-151153); orbit height about 500 km from public satellite-catalogue reporting on Malligyong-1 (not in public-facts.md)",
    },
];

/// The adjustable part of a class: what [`crate::fit`] solves for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreeParams {
    /// Thrust elevation at the end of the last burn (rad).
    pub final_elevation_rad: f64,
    /// Multiplies every stage's propellant mass and thrust (burn times fixed, so specific
    /// impulse and staging instants stay as the base vehicle has them).
    pub propellant_scale: f64,
    /// Vertical rise (s).
    pub vertical_s: f64,
    /// Burn time of the second-to-last stage (s), the last stage taking up the difference so
    /// the total burn (and so the time of orbit insertion) stays fixed; thrusts change with it at
    /// constant specific impulse. It splits the energy between climbing and going sideways, and
    /// only the orbital fit moves it. Zero leaves the base vehicle's split.
    pub penultimate_burn_s: f64,
    /// Added to the template's geodesic azimuth (rad): the Earth turns under a long flight, so a
    /// launch aimed straight down the geodesic lands to the side of it. Only ballistic fits move
    /// it; it belongs to the launch, not the vehicle, and [`FreeParams::apply`] ignores it.
    pub azimuth_offset_rad: f64,
}

impl FreeParams {
    /// The base vehicle with these parameters applied.
    pub fn apply(&self, base: &VehicleSpec) -> VehicleSpec {
        let mut v = base.clone();
        for s in &mut v.stages {
            s.propellant_mass_kg *= self.propellant_scale;
            s.thrust_n *= self.propellant_scale;
        }
        let n = v.stages.len();
        if self.penultimate_burn_s > 0.0 && n >= 2 {
            let total_s = v.stages[n - 2].burn_time_s + v.stages[n - 1].burn_time_s;
            for (k, burn_s) in [
                (n - 2, self.penultimate_burn_s),
                (n - 1, total_s - self.penultimate_burn_s),
            ] {
                let s = &mut v.stages[k];
                s.thrust_n *= s.burn_time_s / burn_s;
                s.burn_time_s = burn_s;
            }
        }
        v.pitch = PitchProgram {
            vertical_s: self.vertical_s,
            final_elevation_rad: self.final_elevation_rad,
        };
        v
    }
}

fn stage(dry_kg: f64, prop_kg: f64, burn_s: f64, isp_s: f64, beta: f64) -> StageSpec {
    StageSpec {
        dry_mass_kg: dry_kg,
        propellant_mass_kg: prop_kg,
        // Constant specific impulse: thrust = ṁ·Isp·g0.
        thrust_n: prop_kg / burn_s * isp_s * 9.806_65,
        burn_time_s: burn_s,
        ballistic_coefficient_kg_m2: beta,
    }
}

/// The unfitted vehicle of a class, with public-order-of-magnitude masses and engines, and the
/// starting point for the fit.
pub fn base(name: &str) -> Option<(VehicleSpec, FreeParams)> {
    let deg = f64::to_radians;
    let vehicle = |stages: Vec<StageSpec>, payload_kg: f64, payload_beta: f64| VehicleSpec {
        stages,
        payload_mass_kg: payload_kg,
        payload_ballistic_coefficient_kg_m2: payload_beta,
        pitch: PitchProgram {
            vertical_s: 0.0,
            final_elevation_rad: 0.0,
        },
    };
    let start = |el_deg: f64, vertical_s: f64| FreeParams {
        final_elevation_rad: deg(el_deg),
        propellant_scale: 1.0,
        vertical_s,
        penultimate_burn_s: 0.0,
        azimuth_offset_rad: 0.0,
    };
    Some(match name {
        // Single-stage solid, ~4 t at launch (open estimates say about 3.4 t; a plain ballistic arc
        // without the reported pull-up needs a little more energy), ~500 kg front section.
        "kn-23" => (
            vehicle(
                vec![stage(500.0, 3_000.0, 30.0, 250.0, 150.0)],
                500.0,
                3_000.0,
            ),
            start(20.0, 4.0),
        ),
        // Single-stage liquid, ~33 t, one high-energy engine of the ~600 kN class.
        "hwasong-12" => (
            vehicle(
                vec![stage(2_200.0, 30_000.0, 140.0, 290.0, 400.0)],
                650.0,
                6_000.0,
            ),
            start(25.0, 8.0),
        ),
        // Two-stage liquid, ~86 t, a twin-chamber first stage (~120 tf).
        "hwasong-15" => (
            vehicle(
                vec![
                    stage(5_500.0, 66_000.0, 150.0, 275.0, 600.0),
                    stage(1_400.0, 13_500.0, 200.0, 300.0, 300.0),
                ],
                1_000.0,
                8_000.0,
            ),
            start(60.0, 8.0),
        ),
        // Three-stage solid, ~77 t.
        "hwasong-18" => (
            vehicle(
                vec![
                    stage(4_500.0, 50_000.0, 85.0, 255.0, 800.0),
                    stage(1_600.0, 15_500.0, 75.0, 275.0, 500.0),
                    stage(600.0, 5_000.0, 65.0, 285.0, 300.0),
                ],
                1_000.0,
                8_000.0,
            ),
            start(60.0, 8.0),
        ),
        // Three-stage liquid satellite launcher; burn times add up to KCNA's 705 s to orbit.
        "chollima-1" => (
            vehicle(
                vec![
                    stage(6_000.0, 50_000.0, 150.0, 270.0, 500.0),
                    stage(1_500.0, 10_000.0, 330.0, 300.0, 300.0),
                    stage(350.0, 2_000.0, 225.0, 310.0, 150.0),
                ],
                300.0,
                200.0,
            ),
            FreeParams {
                penultimate_burn_s: 330.0,
                ..start(-25.0, 10.0)
            },
        ),
        _ => return None,
    })
}

/// The fitted free parameters, as printed by `trilink fit --all`: class, final elevation (deg),
/// propellant scale, vertical rise (s, not fitted), penultimate burn (s, 0 = base split),
/// azimuth offset (deg). `fit_reproduces_committed_parameters` re-derives them.
pub const FITTED: [(&str, f64, f64, f64, f64, f64); 5] = [
    ("kn-23", -22.0706672, 1.56399810, 4.0, 0.0, -0.4412943),
    ("hwasong-12", 18.5443005, 0.89043373, 8.0, 0.0, -3.3491145),
    ("hwasong-15", 79.2725936, 0.99560985, 8.0, 0.0, -0.2909157),
    ("hwasong-18", 78.1616474, 1.00741831, 8.0, 0.0, 1.4750491),
    ("chollima-1", -14.8377644, 0.98108212, 10.0, 390.9895, 0.0),
];

/// The committed fitted parameters of a class.
pub fn fitted(name: &str) -> Option<FreeParams> {
    FITTED.iter().find(|f| f.0 == name).map(
        |&(_, el_deg, scale, vertical_s, penultimate_burn_s, az_offset_deg)| FreeParams {
            final_elevation_rad: el_deg.to_radians(),
            propellant_scale: scale,
            vertical_s,
            penultimate_burn_s,
            azimuth_offset_rad: az_offset_deg.to_radians(),
        },
    )
}

/// The fitted vehicle of a named class.
pub fn class(name: &str) -> Option<VehicleSpec> {
    let (base, _) = base(name)?;
    Some(fitted(name)?.apply(&base))
}

/// The launch azimuth (rad, clockwise from north) that makes the fitted class land where its
/// template's launch did: the geodesic azimuth plus the fitted offset. Scenario files that fly a
/// class along its template should use this.
pub fn launch_azimuth_rad(name: &str) -> Option<f64> {
    Some(template(name)?.azimuth_rad() + fitted(name)?.azimuth_offset_rad)
}

/// The fitted class flown from its template's site toward its template's aim at `t0_s`.
pub fn template_launch(name: &str, t0_s: f64) -> Option<Launch> {
    let t = template(name)?;
    let mut launch = t.launch(class(name)?, t0_s);
    launch.azimuth_rad = launch_azimuth_rad(name)?;
    Some(launch)
}
