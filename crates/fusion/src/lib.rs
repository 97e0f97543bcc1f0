//! trilink-fusion: each node's fusion of its own national tracks and its allies' verified
//! reports into system tracks with common track numbers.
//!
//! - [`align`]: time alignment with the tracker's own motion model;
//! - [`assoc`]: assignment of new source tracks to system tracks (GNN, Kuhn–Munkres);
//! - [`ci`]: covariance intersection, two-input and sequential;
//! - [`consistency`]: the watch on each member's covariance, and its inflation;
//! - [`ctn`]: the common track number scheme;
//! - [`points`]: fused launch and impact points with 95 % ellipses;
//! - [`fuser`]: the incremental [`Fuser`] the node drives;
//! - [`compare`]: naive, ICI and EI fusion, kept for the measurement that chose CI.
//!
//! Decisions and measurements: docs/decisions/0701-track-fusion.md. Warning only: nothing
//! here guides anything.

pub mod align;
pub mod assoc;
pub mod ci;
pub mod compare;
pub mod consistency;
pub mod ctn;
mod error;
pub mod fuser;
pub mod points;

pub use align::{Aligner, ModelAligner};
pub use assoc::{Associator, Gnn};
pub use ci::{ci_pair, CovarianceIntersection, Criterion, Fused, FusionRule};
pub use consistency::{Consistency, ConsistencyConfig};
pub use ctn::{proposed_ctn, ranks_from_order, CtnProblem, RANK_SPAN};
pub use error::FusionError;
pub use fuser::{
    Contribution, Fuser, FusionConfig, Ingested, Member, MemberKey, RejectReason, Rejection,
    Renumber, RenumberCause, SystemTrack, DOF,
};
pub use points::{ellipse_covariance, fuse_points};
