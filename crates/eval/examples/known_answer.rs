//! Writes the known-answer run of `trilink_eval::synthetic::known_answer` into a directory, so
//! `trilink eval DIR` can be tried on input whose scores are worked out in docs/validation/eval.md.
//!
//! cargo run -p trilink-eval --example known_answer -- /tmp/known

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: known_answer DIR");
        return std::process::ExitCode::from(2);
    };
    let dir = std::path::PathBuf::from(dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: {}: {e}", dir.display());
        return std::process::ExitCode::from(1);
    }
    match trilink_eval::synthetic::known_answer().write(&dir) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
