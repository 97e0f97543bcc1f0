//! trilink-eval: scoring tracks against truth.
//!
//! Reads the interchange files of BRIEF §3.2 (any tracker's, not only trilink's) and computes
//! GOSPA on a time grid, position and velocity RMSE, NEES/NIS with chi-square bounds, the
//! posterior Cramér–Rao bound from truth and the sensor models, track continuity, timeliness and
//! impact-point error, and renders a self-contained HTML report. The pieces are usable alone:
//! [`gospa::gospa`], [`consistency`], [`pcrlb::Information`].
//!
//! ```no_run
//! # fn main() -> Result<(), trilink_eval::EvalError> {
//! let cfg = trilink_eval::EvalConfig::default();
//! let run = trilink_eval::load_run(std::path::Path::new("out"), cfg.free_flight)?;
//! let eval = trilink_eval::evaluate(&run, &cfg)?;
//! println!("{}", serde_json::to_string_pretty(&eval.summary).unwrap_or_default());
//! # Ok(()) }
//! ```

pub mod consistency;
mod error;
pub mod evaluate;
pub mod gospa;
pub mod input;
pub mod pcrlb;
pub mod report;
pub mod svg;
pub mod synthetic;

pub use error::EvalError;
pub use evaluate::{evaluate, EvalConfig, Evaluation, Summary};
pub use input::{load_run, FreeFlightRule, RunInputs};
pub use report::{render_html, write_html};
