//! The error of the DBC layer.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use thiserror::Error;

use crate::diagnostic::Diagnostic;

/// Why a DBC file could not be loaded.
#[derive(Debug, Error)]
pub enum DbcError {
    /// The file could not be read from disk.
    #[error("cannot read DBC file `{}`: {source}", file.display())]
    Io {
        /// The path as given.
        file: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a DBC file this gateway can use: `errors`
    /// says where and why (file, line, column, what was expected), `warnings`
    /// holds the quirks found before or besides them. `Display` renders all of
    /// them the way rustc does.
    #[error("{}", render(file, errors, warnings))]
    Invalid {
        /// The name the file was parsed under.
        file: Arc<str>,
        /// At least one error, in file order.
        errors: Vec<Diagnostic>,
        /// The warnings found as well, in file order.
        warnings: Vec<Diagnostic>,
    },
}

impl DbcError {
    /// The errors (empty for an I/O error).
    pub fn errors(&self) -> &[Diagnostic] {
        match self {
            DbcError::Io { .. } => &[],
            DbcError::Invalid { errors, .. } => errors,
        }
    }

    /// The warnings found besides the errors (empty for an I/O error).
    pub fn warnings(&self) -> &[Diagnostic] {
        match self {
            DbcError::Io { .. } => &[],
            DbcError::Invalid { warnings, .. } => warnings,
        }
    }
}

/// Errors, then warnings, then a one-line summary.
fn render(file: &str, errors: &[Diagnostic], warnings: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in errors.iter().chain(warnings) {
        let _ = write!(out, "{diagnostic}\n\n");
    }
    let plural = |n: usize, what: &str| if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") };
    let _ = write!(
        out,
        "error: could not load DBC file `{file}` ({}, {})",
        plural(errors.len(), "error"),
        plural(warnings.len(), "warning")
    );
    out
}
