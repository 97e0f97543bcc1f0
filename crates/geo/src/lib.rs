//! WGS-84 geodesy for trilink: the Earth model, coordinate frames as types, and the conversions
//! between them.
//!
//! Frames that can be confused are distinct types: [`Geodetic`] (latitude, longitude, height),
//! [`Ecef`] (Earth-centred, Earth-fixed position), [`Enu`] (east-north-up offset from a site) and
//! [`Aer`] (azimuth clockwise from geodetic north, elevation above the local geodetic horizontal,
//! slant range). Going between ECEF and a site's local frames needs the site, held by
//! [`LocalFrame`]. Inside hot filter loops, plain `nalgebra` vectors are used; these types guard the
//! edges.

mod error;
mod frames;
mod geodesic;
pub mod wgs84;

pub use error::GeoError;
pub use frames::{Aer, Ecef, Enu, Geodetic, LocalFrame};
pub use geodesic::{geodesic_direct, geodesic_inverse, GeodesicInverse};
pub use nalgebra::{Matrix3, Vector3};

/// Wraps an angle into `[0, 2π)`.
pub fn wrap_two_pi(angle_rad: f64) -> f64 {
    let w = angle_rad.rem_euclid(std::f64::consts::TAU);
    // rem_euclid can return exactly TAU for tiny negative inputs because of rounding.
    if w >= std::f64::consts::TAU {
        0.0
    } else {
        w
    }
}

/// Wraps an angle into `(-π, π]`.
pub fn wrap_pi(angle_rad: f64) -> f64 {
    let w = wrap_two_pi(angle_rad);
    if w > std::f64::consts::PI {
        w - std::f64::consts::TAU
    } else {
        w
    }
}
