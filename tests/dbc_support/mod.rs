//! Shared by the DBC integration tests: where the real-world data lives and
//! how to list its DBC files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `../shared/data` relative to the project root.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

/// The data directory, or `None` (after saying why) when it is absent.
pub fn data_dir_or_skip(test: &str) -> Option<PathBuf> {
    let dir = data_dir();
    if dir.join("dbc").is_dir() {
        Some(dir)
    } else {
        eprintln!("{test}: skipped: the real-world data is not at {} (see DESIGN.md, section Data)", dir.display());
        None
    }
}

/// Every `.dbc` file (any letter case) under `dir`, recursively, sorted.
pub fn dbc_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("dbc")) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The name a file is shown under in test output (relative to the data directory).
pub fn short_name(data: &Path, file: &Path) -> String {
    file.strip_prefix(data).unwrap_or(file).display().to_string()
}
