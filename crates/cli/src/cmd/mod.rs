//! One module per subcommand; each owns its `Args` and a `run` function.
pub mod eval;
pub mod fit;
pub mod keys;
pub mod nats_config;
pub mod node;
pub mod run;
pub mod run_report;
pub mod simulate;
pub mod track;
