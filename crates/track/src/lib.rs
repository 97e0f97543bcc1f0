//! trilink-track: a ballistic multi-target tracker in the rotating ECEF frame of WGS-84.
//!
//! Built from small parts with static dispatch, in the shape of Stone Soup:
//! - [`motion::MotionModel`]: free flight with the simulator's own gravity (J2) and rotating-frame
//!   terms, integrated with its state-transition matrix ([`motion::Ballistic`]);
//! - [`measure::MeasurementModel`]: azimuth, elevation and range in each sensor's own frame
//!   ([`measure::AerSensor`]);
//! - [`filter`]: the EKF update in Joseph form and an IMM over ballistic, boost and re-entry
//!   (drag) models, running either the EKF or the unscented filter of [`ukf`]
//!   ([`FilterKind`], chosen in [`TrackerConfig::filter`]);
//! - [`assoc::Associator`]: χ² gating, clustering of the gate graph, GNN by Kuhn–Munkres;
//! - [`manage::Initiator`] and [`manage::Deleter`]: two-point initiation, M-of-N confirmation,
//!   deletion on missed updates or covariance growth;
//! - [`ipp`]: launch and impact points with 95 % ellipses;
//! - [`staging`]: which of a parent track and the child born beside it at a staging keeps the
//!   parent's identity (the body that goes on thrusting).
//!
//! [`Tracker`] wires them: feed it [`trilink_interchange::DetectionRow`]s in time order, take
//! [`TrackUpdate`]s of confirmed tracks and [`EndedTrack`]s out. It knows nothing of files,
//! buses or terminals.

pub mod assoc;
mod error;
pub mod filter;
pub mod grid;
pub mod ipp;
pub mod manage;
pub mod measure;
pub mod motion;
pub mod output;
pub mod staging;
mod tracker;
pub mod ukf;

pub use error::TrackError;
pub use filter::FilterKind;
pub use ipp::GroundPoint;
pub use tracker::{
    EndedTrack, LatePolicy, Phase, TrackUpdate, Tracker, TrackerConfig, TrackerStats,
    MODEL_BALLISTIC, MODEL_BOOST, MODEL_REENTRY,
};
