//! docs/VALIDATION.md and docs/BENCHMARKS.md are assembled from the per-area pages; this fails
//! when someone edited a page and forgot `bash scripts/assemble-docs.sh`, so the tables a reader
//! sees are always the ones the areas wrote.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn validation_and_benchmark_pages_are_assembled_from_the_area_pages() {
    let root = root();
    let before: Vec<String> = ["docs/VALIDATION.md", "docs/BENCHMARKS.md"]
        .iter()
        .map(|f| std::fs::read_to_string(root.join(f)).unwrap_or_default())
        .collect();
    let scratch = tempfile::tempdir().unwrap();
    // Assemble into a scratch copy so the test never rewrites the working tree.
    let copy = scratch.path();
    std::fs::create_dir_all(copy.join("scripts")).unwrap();
    std::fs::copy(
        root.join("scripts/assemble-docs.sh"),
        copy.join("scripts/assemble-docs.sh"),
    )
    .unwrap();
    for dir in ["docs/validation", "docs/benchmarks"] {
        std::fs::create_dir_all(copy.join(dir)).unwrap();
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, copy.join(dir).join(path.file_name().unwrap())).unwrap();
        }
    }
    let status = Command::new("bash")
        .arg(copy.join("scripts/assemble-docs.sh"))
        .status()
        .unwrap();
    assert!(status.success());
    for (i, f) in ["docs/VALIDATION.md", "docs/BENCHMARKS.md"]
        .iter()
        .enumerate()
    {
        let fresh = std::fs::read_to_string(copy.join(f)).unwrap();
        assert!(
            fresh == before[i],
            "{f} is stale: run `bash scripts/assemble-docs.sh` and commit it"
        );
    }
}
