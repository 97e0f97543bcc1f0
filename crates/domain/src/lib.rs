//! trilink-domain: the types every stage after the simulator shares, with no dependency on the
//! simulator, the tracker, the wire format or the bus.
//!
//! - [`nation`]: ISO 3166-1 alpha-2 nations, REL TO sets and the release policy;
//! - [`relay`]: relay rules through a hub and how releasability propagates through fusion;
//! - [`region`]: the warning regions a scenario draws, and the checks on their outlines;
//! - [`track`]: the one track estimate the tracker's output, the shared report and fusion use.

pub mod nation;
pub mod region;
pub mod relay;
pub mod track;

pub use nation::{Nation, NationError, Policy, RelTo};
pub use region::{check_polygon, PolygonProblem, RegionShape, RegionSpec};
pub use relay::{check_relays, product_release, RelayError, RelayRule};
pub use track::{FlightPhase, PointEstimate, Provenance, TrackEstimate};
