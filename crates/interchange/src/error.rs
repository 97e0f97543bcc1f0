use std::path::PathBuf;

use thiserror::Error;

/// What can be wrong with an interchange file. Every variant names the file; row-level ones name
/// the line (1-based, the header is line 1).
#[derive(Debug, Error)]
pub enum InterchangeError {
    #[error("{file}: cannot open: {source}")]
    Open {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: cannot write: {source}")]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: missing column `{column}` in the header (expected columns: {expected})")]
    MissingColumn {
        file: PathBuf,
        column: &'static str,
        expected: String,
    },
    #[error("{file}: the file is empty; expected a header row with columns: {expected}")]
    Empty { file: PathBuf, expected: String },
    #[error("{file}:{line}: {message}")]
    Malformed {
        file: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{file}:{line}: column `{column}` = {value}: expected {expected}")]
    BadValue {
        file: PathBuf,
        line: u64,
        column: &'static str,
        value: String,
        expected: &'static str,
    },
}
