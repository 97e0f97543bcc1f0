use thiserror::Error;

/// What can be wrong with a geodetic input.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum GeoError {
    #[error("{what} = {value} is not a finite number")]
    NotFinite { what: &'static str, value: f64 },
    #[error("latitude {lat_deg}° is outside [-90°, 90°]")]
    LatitudeOutOfRange { lat_deg: f64 },
}
