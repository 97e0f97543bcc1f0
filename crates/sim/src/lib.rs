//! trilink-sim: scenarios (TOML) and the radar simulator that turns them into the interchange
//! files of BRIEF §3.2.
//!
//! [`Scenario`] is the validated description every other part reads: nations and releasability,
//! launches, sensors, links and warning regions. [`simulate`] flies the launches, scans every
//! sensor at its own times and returns truth, detections and labels; [`SimOutput::write`]
//! writes them atomically. Nothing here knows about terminals: progress goes to a callback.

mod builtin;
mod error;
pub mod radar;
mod raw;
mod scenario;
mod simulate;
mod spans;
mod vehicles;

pub use builtin::{builtin_text, DEFAULT as DEFAULT_BUILTIN};
pub use error::{Location, ScenarioError, SimError};
pub use scenario::{
    AzimuthSector, LaunchSpec, LinkSpec, Nation, Policy, PublicRecord, RegionShape, RegionSpec,
    Scenario, SensorKind, SensorSpec, MIN_SITE_ALT_M,
};
pub use simulate::{simulate, ObjectInfo, Progress, SimOptions, SimOutput, SimSummary};
pub use vehicles::{class_names, vehicle_class};

/// The names of the built-in scenarios, the default first.
pub fn builtin_names() -> &'static [&'static str] {
    &builtin::NAMES
}
