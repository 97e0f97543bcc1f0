//! `trilink fit` (not yet implemented).
use crate::exit::CliResult;

/// Not yet implemented.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> CliResult {
    Err(anyhow::anyhow!("`fit` is not implemented yet").into())
}
