use nalgebra::{Matrix3, Vector3};

use crate::{wgs84, wrap_two_pi, GeoError};

/// A point given by geodetic latitude, longitude and height above the WGS-84 ellipsoid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geodetic {
    pub lat_rad: f64,
    pub lon_rad: f64,
    pub alt_m: f64,
}

/// A position in the Earth-centred, Earth-fixed frame (m).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ecef(pub Vector3<f64>);

/// An east-north-up offset from a site (m). Only meaningful together with its [`LocalFrame`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Enu(pub Vector3<f64>);

/// What a radar at a site sees of a point: azimuth clockwise from geodetic north in `[0, 2π)`,
/// elevation above the local geodetic horizontal in `[-π/2, π/2]`, slant range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aer {
    pub az_rad: f64,
    pub el_rad: f64,
    pub range_m: f64,
}

impl Geodetic {
    /// Validates and builds a geodetic point from degrees and metres.
    pub fn from_degrees(lat_deg: f64, lon_deg: f64, alt_m: f64) -> Result<Self, GeoError> {
        for (what, value) in [
            ("latitude", lat_deg),
            ("longitude", lon_deg),
            ("altitude", alt_m),
        ] {
            if !value.is_finite() {
                return Err(GeoError::NotFinite { what, value });
            }
        }
        if !(-90.0..=90.0).contains(&lat_deg) {
            return Err(GeoError::LatitudeOutOfRange { lat_deg });
        }
        Ok(Self {
            lat_rad: lat_deg.to_radians(),
            lon_rad: lon_deg.to_radians(),
            alt_m,
        })
    }

    pub fn lat_deg(&self) -> f64 {
        self.lat_rad.to_degrees()
    }

    pub fn lon_deg(&self) -> f64 {
        self.lon_rad.to_degrees()
    }

    /// Radius of curvature in the prime vertical at this latitude (m).
    pub fn prime_vertical_radius_m(&self) -> f64 {
        let s = self.lat_rad.sin();
        wgs84::A_M / (1.0 - wgs84::E2 * s * s).sqrt()
    }

    pub fn to_ecef(&self) -> Ecef {
        let n = self.prime_vertical_radius_m();
        let (sin_lat, cos_lat) = self.lat_rad.sin_cos();
        let (sin_lon, cos_lon) = self.lon_rad.sin_cos();
        Ecef(Vector3::new(
            (n + self.alt_m) * cos_lat * cos_lon,
            (n + self.alt_m) * cos_lat * sin_lon,
            (n * (1.0 - wgs84::E2) + self.alt_m) * sin_lat,
        ))
    }

    /// The unit vector normal to the ellipsoid (local "up") in ECEF.
    pub fn up(&self) -> Vector3<f64> {
        let (sin_lat, cos_lat) = self.lat_rad.sin_cos();
        let (sin_lon, cos_lon) = self.lon_rad.sin_cos();
        Vector3::new(cos_lat * cos_lon, cos_lat * sin_lon, sin_lat)
    }
}

impl Ecef {
    pub fn new(x_m: f64, y_m: f64, z_m: f64) -> Self {
        Ecef(Vector3::new(x_m, y_m, z_m))
    }

    /// Geodetic coordinates of this point, valid from deep below the surface to far beyond
    /// geostationary altitude.
    ///
    /// Bowring's parametric-latitude iteration: each pass roughly cubes the error, so it reaches
    /// the limit of f64 in two or three passes at any height; it is iterated to a fixed point
    /// rather than truncated after one pass, which is only accurate near the surface. The height
    /// formula avoids dividing by cos(lat), so it stays exact at the poles.
    pub fn to_geodetic(&self) -> Geodetic {
        let (x, y, z) = (self.0.x, self.0.y, self.0.z);
        let p = x.hypot(y);
        let lon_rad = y.atan2(x);
        let a = wgs84::A_M;
        let b = wgs84::B_M;
        let mut beta = z.atan2((1.0 - wgs84::F) * p);
        let mut lat_rad = 0.0;
        for _ in 0..8 {
            let (sb, cb) = beta.sin_cos();
            lat_rad = (z + wgs84::EP2 * b * sb * sb * sb).atan2(p - wgs84::E2 * a * cb * cb * cb);
            let next = ((1.0 - wgs84::F) * lat_rad.sin()).atan2(lat_rad.cos());
            let converged = (next - beta).abs() < 1e-15;
            beta = next;
            if converged {
                break;
            }
        }
        let (sin_lat, cos_lat) = lat_rad.sin_cos();
        let n = wgs84::A_M / (1.0 - wgs84::E2 * sin_lat * sin_lat).sqrt();
        let alt_m = p * cos_lat + (z + wgs84::E2 * n * sin_lat) * sin_lat - n;
        Geodetic {
            lat_rad,
            lon_rad,
            alt_m,
        }
    }

    pub fn distance_m(&self, other: &Ecef) -> f64 {
        (self.0 - other.0).norm()
    }
}

impl Aer {
    /// The ENU offset this azimuth, elevation and range point to.
    pub fn to_enu(&self) -> Enu {
        let (sin_el, cos_el) = self.el_rad.sin_cos();
        let (sin_az, cos_az) = self.az_rad.sin_cos();
        Enu(Vector3::new(
            self.range_m * cos_el * sin_az,
            self.range_m * cos_el * cos_az,
            self.range_m * sin_el,
        ))
    }
}

impl Enu {
    pub fn east_m(&self) -> f64 {
        self.0.x
    }
    pub fn north_m(&self) -> f64 {
        self.0.y
    }
    pub fn up_m(&self) -> f64 {
        self.0.z
    }

    pub fn to_aer(&self) -> Aer {
        let (e, n, u) = (self.0.x, self.0.y, self.0.z);
        let horizontal = e.hypot(n);
        Aer {
            az_rad: wrap_two_pi(e.atan2(n)),
            el_rad: u.atan2(horizontal),
            range_m: self.0.norm(),
        }
    }
}

/// A site's local east-north-up frame: the bridge between ECEF and what a sensor there measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalFrame {
    site: Geodetic,
    origin: Ecef,
    /// Rows are the east, north and up unit vectors in ECEF, so `rot * ecef_vector` is ENU.
    ecef_to_enu: Matrix3<f64>,
}

impl LocalFrame {
    pub fn new(site: Geodetic) -> Self {
        let (sin_lat, cos_lat) = site.lat_rad.sin_cos();
        let (sin_lon, cos_lon) = site.lon_rad.sin_cos();
        #[rustfmt::skip]
        let ecef_to_enu = Matrix3::new(
            -sin_lon,            cos_lon,           0.0,
            -sin_lat * cos_lon, -sin_lat * sin_lon, cos_lat,
             cos_lat * cos_lon,  cos_lat * sin_lon, sin_lat,
        );
        Self {
            site,
            origin: site.to_ecef(),
            ecef_to_enu,
        }
    }

    pub fn site(&self) -> &Geodetic {
        &self.site
    }

    pub fn origin(&self) -> &Ecef {
        &self.origin
    }

    /// The rotation taking an ECEF vector into this site's ENU axes.
    pub fn ecef_to_enu_rotation(&self) -> &Matrix3<f64> {
        &self.ecef_to_enu
    }

    pub fn to_enu(&self, p: &Ecef) -> Enu {
        Enu(self.ecef_to_enu * (p.0 - self.origin.0))
    }

    pub fn to_ecef(&self, e: &Enu) -> Ecef {
        Ecef(self.origin.0 + self.ecef_to_enu.transpose() * e.0)
    }

    /// Rotates a free vector (a velocity, say) from ECEF axes into ENU axes.
    pub fn rotate_to_enu(&self, v_ecef: &Vector3<f64>) -> Vector3<f64> {
        self.ecef_to_enu * v_ecef
    }

    /// Rotates a free vector from ENU axes into ECEF axes.
    pub fn rotate_to_ecef(&self, v_enu: &Vector3<f64>) -> Vector3<f64> {
        self.ecef_to_enu.transpose() * v_enu
    }

    pub fn aer_of(&self, p: &Ecef) -> Aer {
        self.to_enu(p).to_aer()
    }

    pub fn ecef_of(&self, aer: &Aer) -> Ecef {
        self.to_ecef(&aer.to_enu())
    }
}
