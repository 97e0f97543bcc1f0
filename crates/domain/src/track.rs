//! The one track estimate every stage after the tracker speaks: the tracker's output (through
//! the node), the shared report (through the wire conversion) and fusion's input and output.
use std::collections::BTreeSet;

use crate::nation::Nation;

/// Where a ballistic object is in its flight, as the estimating nation judges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlightPhase {
    Unspecified,
    Boost,
    Midcourse,
    Terminal,
    Landed,
}

/// A geodetic point with a time and a 95 % error ellipse (orientation clockwise from north).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointEstimate {
    pub time_s: f64,
    pub lat_deg: f64,
    pub lon_deg: f64,
    pub semi_major_m: f64,
    pub semi_minor_m: f64,
    pub orientation_deg: f64,
}

/// A track's kinematic estimate at one time: ECEF position and velocity on WGS-84 with its
/// covariance, plus the launch and impact points its estimator derived.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackEstimate {
    /// The estimator's own number for the track (a national track number, or a common track
    /// number for a fused system track).
    pub track_number: u64,
    /// Time of validity, seconds from the scenario epoch.
    pub time_s: f64,
    /// `[x_m, y_m, z_m, vx_mps, vy_mps, vz_mps]`, rotating ECEF.
    pub state: [f64; 6],
    /// Full symmetric covariance of `state` (m², m²/s, m²/s²).
    pub covariance: [[f64; 6]; 6],
    /// The estimator's confidence in [0, 1].
    pub quality: f64,
    pub phase: FlightPhase,
    pub launch: Option<PointEstimate>,
    pub impact: Option<PointEstimate>,
}

/// Where an estimate came from, as far as fusion and releasability need to know: the nations
/// whose information is in it. A national track has one; a fused product relayed by a hub lists
/// every contributor. Never a sensor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    pub nations: BTreeSet<Nation>,
    /// The common track number the sender gave it, when it is a fused product.
    pub common_track: Option<u64>,
}
