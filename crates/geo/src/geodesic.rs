//! Distance and azimuth on the ellipsoid. Karney's algorithm, through `geographiclib-rs`: a solved
//! problem with a maintained port, so we do not write our own (docs/decisions/0002).

use geographiclib_rs::{DirectGeodesic, Geodesic, InverseGeodesic};

use crate::{wrap_two_pi, Geodetic};

/// The shortest path between two points on the WGS-84 ellipsoid (heights ignored).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeodesicInverse {
    pub distance_m: f64,
    /// Azimuth at the first point, clockwise from north, in `[0, 2π)`.
    pub azimuth1_rad: f64,
    /// Forward azimuth at the second point, clockwise from north, in `[0, 2π)`.
    pub azimuth2_rad: f64,
}

fn wgs84() -> Geodesic {
    Geodesic::new(crate::wgs84::A_M, crate::wgs84::F)
}

pub fn geodesic_inverse(from: &Geodetic, to: &Geodetic) -> GeodesicInverse {
    let (distance_m, azi1_deg, azi2_deg, _a12): (f64, f64, f64, f64) =
        wgs84().inverse(from.lat_deg(), from.lon_deg(), to.lat_deg(), to.lon_deg());
    GeodesicInverse {
        distance_m,
        azimuth1_rad: wrap_two_pi(azi1_deg.to_radians()),
        azimuth2_rad: wrap_two_pi(azi2_deg.to_radians()),
    }
}

/// The point reached by travelling `distance_m` along the ellipsoid from `from` at the given
/// azimuth (clockwise from north). The result has zero height.
pub fn geodesic_direct(from: &Geodetic, azimuth_rad: f64, distance_m: f64) -> Geodetic {
    let (lat_deg, lon_deg): (f64, f64) = wgs84().direct(
        from.lat_deg(),
        from.lon_deg(),
        azimuth_rad.to_degrees(),
        distance_m,
    );
    Geodetic {
        lat_rad: lat_deg.to_radians(),
        lon_rad: lon_deg.to_radians(),
        alt_m: 0.0,
    }
}
