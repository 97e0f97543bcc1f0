//! Fits a class's free parameters to its public template (what `trilink fit` runs).
//!
//! A damped Newton iteration with a forward-difference Jacobian: three unknowns (final pitch
//! elevation, propellant scale, azimuth offset) against three targets (apogee, ground range,
//! bearing of the impact point) for a ballistic template; for the satellite launcher the third
//! unknown is the stage-2/3 burn split and the targets are insertion height, circular speed and
//! level flight. Every evaluation is a full [`crate::fly`] at the production
//! step, so the fitted vehicle reproduces its figures under exactly the physics the simulator runs.

use nalgebra::{DMatrix, DVector};
use trilink_geo::{geodesic_inverse, wgs84, wrap_pi, Ecef, Geodetic};

use crate::flight::{fly_payload, FlightConfig, Launch, VehicleSpec};
use crate::integrate::{position, velocity};
use crate::missiles::{self, FreeParams, Goal, Template};
use crate::{dynamics, Ending, PhysicsError};

/// What a flight of a class achieved, in the template's terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Achieved {
    /// Highest height above the ellipsoid (m), refined between samples by a parabola.
    pub apogee_m: f64,
    /// Geodesic distance from the launch site to the impact point (m); `None` if no impact.
    pub range_m: Option<f64>,
    /// Launch to impact (s).
    pub flight_time_s: Option<f64>,
    pub impact: Option<Geodetic>,
    /// State at the template's insertion time (satellite launchers only).
    pub insertion: Option<Insertion>,
}

/// Osculating state at orbit insertion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Insertion {
    pub alt_m: f64,
    /// Speed in the inertial frame (m/s).
    pub inertial_speed_mps: f64,
    /// Circular speed at that radius, point-mass gravity (m/s).
    pub circular_speed_mps: f64,
    /// Inertial flight-path angle above the local horizontal (rad).
    pub flight_path_angle_rad: f64,
    /// Perigee and apogee heights of the osculating Kepler orbit above a sphere of radius a (m).
    pub perigee_alt_m: f64,
    pub apogee_alt_m: f64,
}

/// A fit's result.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOutcome {
    pub params: FreeParams,
    pub achieved: Achieved,
    pub iterations: usize,
    /// Largest remaining normalised residual.
    pub residual: f64,
}

fn height_m(p: &nalgebra::Vector3<f64>) -> f64 {
    Ecef(*p).to_geodetic().alt_m
}

/// Flies `launch` (payload only) and measures what the template cares about.
pub fn measure(template: &Template, launch: &Launch) -> Result<Achieved, PhysicsError> {
    let mut cfg = FlightConfig::default();
    if let Goal::Orbit {
        insertion_time_s, ..
    } = template.goal
    {
        cfg.max_duration_s = insertion_time_s + 1.0;
    }
    let payload = fly_payload(launch, &cfg)?;
    let heights: Vec<f64> = payload
        .samples
        .iter()
        .map(|s| height_m(&position(s)))
        .collect();
    let mut i_max = 0;
    for (i, h) in heights.iter().enumerate() {
        if *h > heights[i_max] {
            i_max = i;
        }
    }
    let mut apogee_m = heights[i_max];
    if i_max > 0 && i_max + 2 < heights.len() {
        // Three samples on the grid (the last one may be off it, hence `+ 2`).
        let (a, b, c) = (heights[i_max - 1], heights[i_max], heights[i_max + 1]);
        let curvature = a - 2.0 * b + c;
        if curvature < 0.0 {
            apogee_m = b - (a - c) * (a - c) / (8.0 * curvature);
        }
    }
    let (range_m, flight_time_s, impact) = if payload.ending == Ending::Impact {
        let end = position(payload.samples.last().unwrap_or(&payload.samples[0]));
        let g = Ecef(end).to_geodetic();
        (
            Some(geodesic_inverse(&launch.site, &g).distance_m),
            Some(payload.t_end_s() - launch.t0_s),
            Some(g),
        )
    } else {
        (None, None, None)
    };
    let insertion = match template.goal {
        Goal::Orbit {
            insertion_time_s, ..
        } => payload
            .state_at(launch.t0_s + insertion_time_s)
            .map(|s| insertion_of(&position(&s), &velocity(&s))),
        Goal::Ballistic { .. } => None,
    };
    Ok(Achieved {
        apogee_m,
        range_m,
        flight_time_s,
        impact,
        insertion,
    })
}

fn insertion_of(r: &nalgebra::Vector3<f64>, v_ecef: &nalgebra::Vector3<f64>) -> Insertion {
    let v = v_ecef + dynamics::earth_rotation().cross(r);
    let mu = wgs84::GM_M3_PER_S2;
    let rn = r.norm();
    let speed = v.norm();
    let energy = 0.5 * speed * speed - mu / rn;
    let sma = -mu / (2.0 * energy);
    let h = r.cross(&v).norm();
    let ecc = (1.0 - h * h / (mu * sma)).max(0.0).sqrt();
    Insertion {
        alt_m: height_m(r),
        inertial_speed_mps: speed,
        circular_speed_mps: (mu / rn).sqrt(),
        flight_path_angle_rad: (r.dot(&v) / (rn * speed)).asin(),
        perigee_alt_m: sma * (1.0 - ecc) - wgs84::A_M,
        apogee_alt_m: sma * (1.0 + ecc) - wgs84::A_M,
    }
}

/// Normalised residuals of a measurement against the template (zero when fitted).
fn residuals(template: &Template, a: &Achieved) -> Vec<f64> {
    match template.goal {
        Goal::Ballistic {
            apogee_m, range_m, ..
        } => vec![
            (a.apogee_m - apogee_m) / apogee_m,
            // A flight that never lands is as wrong as one that lands at the pad.
            (a.range_m.unwrap_or(0.0) - range_m) / range_m,
            // Lands on the bearing of the reported impact area (rad).
            match a.impact {
                Some(p) => wrap_pi(
                    geodesic_inverse(&template.site(), &p).azimuth1_rad - template.azimuth_rad(),
                ),
                None => 1.0,
            },
        ],
        Goal::Orbit {
            insertion_alt_m, ..
        } => match a.insertion {
            Some(i) => vec![
                (i.alt_m - insertion_alt_m) / insertion_alt_m,
                (i.inertial_speed_mps - i.circular_speed_mps) / i.circular_speed_mps,
                i.flight_path_angle_rad,
            ],
            None => vec![1.0, 1.0, 1.0],
        },
    }
}

/// The unknowns as a vector: final elevation, propellant scale, then the azimuth offset for a
/// ballistic template or the penultimate burn for an orbital one.
fn params_of(template: &Template, x: &[f64], start: &FreeParams) -> FreeParams {
    let mut p = FreeParams {
        final_elevation_rad: x[0],
        propellant_scale: x[1],
        ..*start
    };
    match template.goal {
        Goal::Ballistic { .. } => p.azimuth_offset_rad = x[2],
        Goal::Orbit { .. } => p.penultimate_burn_s = x[2],
    }
    p
}

fn unknowns_of(template: &Template, p: &FreeParams) -> Vec<f64> {
    let third = match template.goal {
        Goal::Ballistic { .. } => p.azimuth_offset_rad,
        Goal::Orbit { .. } => p.penultimate_burn_s,
    };
    vec![p.final_elevation_rad, p.propellant_scale, third]
}

/// Fits `base` to `template` starting from `start`.
pub fn fit(
    template: &Template,
    base: &VehicleSpec,
    start: &FreeParams,
) -> Result<FitOutcome, PhysicsError> {
    let n = 3;
    let eval = |x: &[f64]| -> Result<(Achieved, Vec<f64>), PhysicsError> {
        let p = params_of(template, x, start);
        let mut launch = template.launch(p.apply(base), 0.0);
        launch.azimuth_rad += p.azimuth_offset_rad;
        let a = measure(template, &launch)?;
        let r = residuals(template, &a);
        Ok((a, r))
    };
    let norm = |r: &[f64]| r.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut x = unknowns_of(template, start);
    // Finite-difference steps and largest Newton steps per unknown.
    let (fd, max_step) = match template.goal {
        Goal::Ballistic { .. } => ([1e-6, 1e-6, 1e-7], [0.2, 0.2, 0.1]),
        Goal::Orbit { .. } => ([1e-6, 1e-6, 1e-3], [0.2, 0.2, 50.0]),
    };
    let (mut achieved, mut r) = eval(&x)?;
    const TOL: f64 = 1e-9;
    const MAX_ITER: usize = 40;
    let mut iterations = 0;
    while norm(&r) > TOL {
        if iterations == MAX_ITER {
            return Err(PhysicsError::FitDidNotConverge {
                class: template.class.to_string(),
                residual: norm(&r),
                iterations,
            });
        }
        iterations += 1;
        let mut jac = DMatrix::zeros(n, n);
        for j in 0..n {
            let mut xp = x.clone();
            xp[j] += fd[j];
            let (_, rp) = eval(&xp)?;
            for i in 0..n {
                jac[(i, j)] = (rp[i] - r[i]) / fd[j];
            }
        }
        let rhs = -DVector::from_column_slice(&r);
        let Some(mut dx) = jac.lu().solve(&rhs) else {
            return Err(PhysicsError::FitDidNotConverge {
                class: template.class.to_string(),
                residual: norm(&r),
                iterations,
            });
        };
        // Keep the step inside the region where the flight is still the same kind of flight.
        let mut shrink = 1.0f64;
        for j in 0..n {
            shrink = shrink.min(max_step[j] / dx[j].abs().max(1e-300));
        }
        dx *= shrink.min(1.0);
        let mut lambda = 1.0;
        loop {
            let trial: Vec<f64> = (0..n).map(|j| x[j] + lambda * dx[j]).collect();
            match eval(&trial) {
                Ok((a, rt)) if norm(&rt) < norm(&r) => {
                    x = trial;
                    achieved = a;
                    r = rt;
                    break;
                }
                _ if lambda > 1.0 / 256.0 => lambda *= 0.5,
                _ => {
                    return Err(PhysicsError::FitDidNotConverge {
                        class: template.class.to_string(),
                        residual: norm(&r),
                        iterations,
                    })
                }
            }
        }
    }
    Ok(FitOutcome {
        params: params_of(template, &x, start),
        achieved,
        iterations,
        residual: norm(&r),
    })
}

/// Fits a named class from its base vehicle and starting guess.
pub fn fit_class(name: &str) -> Result<FitOutcome, PhysicsError> {
    let unknown = || PhysicsError::UnknownClass {
        name: name.to_string(),
        known: missiles::class_names().join(", "),
    };
    let template = missiles::template(name).ok_or_else(unknown)?;
    let (base, start) = missiles::base(name).ok_or_else(unknown)?;
    fit(&template, &base, &start)
}
