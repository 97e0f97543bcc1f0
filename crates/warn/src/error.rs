use std::path::PathBuf;

/// Everything that can go wrong in the warnings crate, with the context a user needs.
#[derive(Debug, thiserror::Error)]
pub enum WarnError {
    #[error("region {name:?}: {problem}")]
    BadRegion { name: String, problem: String },
    #[error("nation {nation:?} has no warning region named {name:?}")]
    UnknownRegion { nation: String, name: String },
    #[error("configuration: {key} = {value} ({expected})")]
    BadConfig {
        key: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("{path}: header is {found:?}; expected {expected:?}")]
    BadHeader {
        path: PathBuf,
        found: String,
        expected: &'static str,
    },
    #[error("{path}, row {row}, column {column}: {value:?} is not {expected}")]
    BadField {
        path: PathBuf,
        row: usize,
        column: &'static str,
        value: String,
        expected: &'static str,
    },
}
