//! The run's HTML report (placeholder until the presentation crate lands).
use std::path::Path;

use trilink_node::mission::MissionResult;
use trilink_node::FabricScenario;

use crate::exit::CliError;

pub fn write(
    _path: &Path,
    _sc: &FabricScenario,
    _out: &trilink_sim::SimOutput,
    _r: &MissionResult,
    _summary: &serde_json::Value,
) -> Result<(), CliError> {
    Ok(())
}
