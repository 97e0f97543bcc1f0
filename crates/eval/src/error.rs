use std::path::PathBuf;

use thiserror::Error;
use trilink_interchange::InterchangeError;

/// What can stop an evaluation. Everything but [`EvalError::Write`] is a problem with the
/// user's input (files or parameters) that the message locates.
#[derive(Debug, Error)]
pub enum EvalError {
    #[error(transparent)]
    Interchange(#[from] InterchangeError),
    /// A row is well-formed on its own but contradicts another row or file.
    #[error("{file}:{line}: {message}")]
    Inconsistent {
        file: PathBuf,
        line: u64,
        message: String,
    },
    /// A whole file is unusable (for example it has no rows).
    #[error("{file}: {message}")]
    Content { file: PathBuf, message: String },
    #[error("parameter `{name}` = {value}: expected {expected}")]
    Parameter {
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error("{file}: cannot write: {source}")]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
}

impl EvalError {
    /// True when the user can fix the problem by changing the input (the CLI exits 2).
    pub fn is_input(&self) -> bool {
        match self {
            EvalError::Interchange(InterchangeError::Write { .. }) | EvalError::Write { .. } => {
                false
            }
            EvalError::Interchange(InterchangeError::Open { source, .. }) => {
                // A file that is not there is the user's to fix; a failing disk is not.
                matches!(
                    source.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
                )
            }
            _ => true,
        }
    }
}
