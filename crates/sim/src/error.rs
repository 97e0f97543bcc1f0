use std::fmt;

use thiserror::Error;

/// Where in a scenario something is: the file (or `builtin:NAME`), the key path
/// (`sensors[2].sigma_range_m`) and the 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub key: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, ": `{}`", self.key)?;
        }
        Ok(())
    }
}

/// What can be wrong with a scenario. Every variant that comes from the text names the file, the
/// key and the line, so a user can go straight to it.
#[derive(Debug, Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read the scenario: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("unknown built-in scenario `{name}`; the built-ins are: {known}")]
    UnknownBuiltin { name: String, known: String },
    #[error("{at}: not valid TOML: {message}")]
    Syntax { at: Location, message: String },
    /// The TOML is well formed but does not fit the schema: an unknown key, a wrong type, a
    /// missing key.
    #[error("{at}: {message}")]
    Schema { at: Location, message: String },
    /// A value of the right type that is not acceptable.
    #[error("{at} = {value}: expected {expected}")]
    Invalid {
        at: Location,
        value: String,
        expected: String,
    },
    /// The flight physics refused a launch (for instance, it never leaves the ground).
    #[error("{at}: this launch cannot fly: {source}")]
    Launch {
        at: Location,
        source: trilink_physics::PhysicsError,
    },
}

impl ScenarioError {
    /// Where in the scenario file the problem is, when it is in the file.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ScenarioError::Syntax { at, .. }
            | ScenarioError::Schema { at, .. }
            | ScenarioError::Invalid { at, .. }
            | ScenarioError::Launch { at, .. } => Some(at),
            ScenarioError::Read { .. } | ScenarioError::UnknownBuiltin { .. } => None,
        }
    }
}

/// What can go wrong while simulating a valid scenario.
#[derive(Debug, Error)]
pub enum SimError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Write(#[from] trilink_interchange::InterchangeError),
    #[error("{path}: cannot create the output directory: {source}")]
    OutputDir {
        path: String,
        source: std::io::Error,
    },
}
