//! How a failed subcommand becomes an exit status.
//!
//! Bad input (a file, a key, a value the user can fix) exits with status 2, like clap's own
//! usage errors; anything else (an I/O failure, a bug) exits with 1.

use std::process::ExitCode;

#[derive(Debug)]
pub enum CliError {
    /// The user's input is wrong; the message says where and what was expected.
    Input(anyhow::Error),
    /// Something else went wrong.
    Other(anyhow::Error),
}

impl CliError {
    pub fn input(e: impl Into<anyhow::Error>) -> Self {
        CliError::Input(e.into())
    }

    pub fn report(self) -> ExitCode {
        let (err, code) = match self {
            CliError::Input(e) => (e, 2),
            CliError::Other(e) => (e, 1),
        };
        eprintln!("error: {err}");
        for cause in err.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        ExitCode::from(code)
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::Other(e)
    }
}

pub type CliResult = Result<(), CliError>;
