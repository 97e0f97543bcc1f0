//! trilink-eval: scoring tracks against truth.
//!
//! Reads the interchange files of BRIEF §3.2 (any tracker's, not only trilink's) and computes
//! GOSPA on a time grid, position and velocity RMSE, NEES/NIS with chi-square bounds, the
//! posterior Cramér–Rao bound from truth and the sensor models, track continuity, timeliness and
//! impact-point error, and renders a self-contained HTML report. The pieces are usable alone:
//! [`gospa::gospa`], [`consistency`], [`pcrlb::Information`].

pub mod consistency;
mod error;
pub mod gospa;
pub mod pcrlb;

pub use error::EvalError;
