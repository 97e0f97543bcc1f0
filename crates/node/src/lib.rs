//! trilink-node: one nation's node in the sharing fabric.
//!
//! Outbound: national tracks (from a [`source::TrackSource`]) become sanitised
//! [`trilink_wire::TrackReport`]s, are cut into frames (at most [`NodeConfig::frame_max_reports`]
//! reports, or [`NodeConfig::frame_max_age`] after the first report waited, whichever first),
//! sealed, journaled, and published to each nation the policy releases them to, through that
//! link's latency, jitter and loss.
//!
//! Inbound: every envelope from the bus is opened (signature, releasability, replay, age,
//! content checks), journaled as received or rejected with the reason, and only then
//! acknowledged to the bus.
//!
//! Architecture invariant: the node sees tracks only through [`source::TrackSource`]; it knows
//! nothing of radars except the sensor sites it must never reveal.

pub mod assess;
pub mod mission;
pub mod orchestrate;
pub mod outcome;
pub mod picture;
pub mod runtime;
pub mod scenario;
pub mod source;
pub mod stats;
pub mod tracked;

pub use runtime::{run_node, AlliedFrame, NodeConfig, NodeHandle};
pub use scenario::{FabricScenario, LaunchSpec, NationSpec, SensorSite};
pub use source::{NationalTrack, SyntheticSource, TrackSource};
pub use stats::{NodeStats, Percentiles};

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Journal(#[from] trilink_journal::JournalError),
    #[error(transparent)]
    Bus(#[from] trilink_bus::BusError),
    #[error("node task failed: {0}")]
    Task(String),
    #[error("scenario {path}: {detail}")]
    Scenario { path: String, detail: String },
}
