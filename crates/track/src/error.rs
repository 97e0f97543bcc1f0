use thiserror::Error;

/// What can go wrong when building or feeding a [`crate::Tracker`]. Every variant carries what a
/// caller needs to find the offending input.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TrackError {
    #[error("sensor `{sensor_id}`: {what} = {value}: expected {expected}")]
    BadSensor {
        sensor_id: String,
        what: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("sensor `{sensor_id}` is listed twice in the sensor table")]
    DuplicateSensor { sensor_id: String },
    #[error("detection names unknown sensor `{sensor_id}` (known sensors: {known})")]
    UnknownSensor { sensor_id: String, known: String },
    #[error(
        "detection at t = {time_s} s from `{sensor_id}`: {what} = {value}: expected {expected}"
    )]
    BadDetection {
        time_s: f64,
        sensor_id: String,
        what: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error(
        "detection at t = {time_s} s from `{sensor_id}` is older than the scan already being \
         processed (t = {current_s} s); detections must come in time order"
    )]
    OutOfOrder {
        time_s: f64,
        sensor_id: String,
        current_s: f64,
    },
    #[error("configuration `{key}` = {value}: expected {expected}")]
    BadConfig {
        key: &'static str,
        value: f64,
        expected: &'static str,
    },
}
