//! DBC files: the vehicle's description of its messages and signals.
//!
//! [`model`] is the in-memory form every other layer reads; [`parse`] and
//! [`load`] build it from the bytes of a file with bulkhead's own parser
//! (nom 8, over raw bytes, any encoding), which reads the real-world files
//! (CANdb++ exports, opendbc, hand-written files with their quirks) and
//! reports every problem rustc-style, with file, line and column:
//! - what is wrong but unambiguous is accepted with a warning, kept in
//!   [`Dbc::warnings`];
//! - what is ambiguous or unusable is an error: [`DbcError::Invalid`] carries
//!   all the errors found (parsing resumes at the next statement after an
//!   error) and the warnings found so far.
//!
//! Layout: `parser/` reads statements (one module per statement family),
//! `resolve/` builds the model from them, `notes` turns byte offsets into
//! diagnostics. Nothing here panics on any input, and the work is linear in
//! the size of the file (diagnostics are capped, lookups are hashed).

mod error;
pub mod model;
mod notes;
pub(crate) mod parser;
pub(crate) mod resolve;

use std::path::Path;
use std::sync::Arc;

pub use error::DbcError;
pub use model::*;

use notes::NoteSink;
use parser::context::Ctx;

/// Parses the DBC file `bytes`; `name` is what diagnostics show as the file.
///
/// Never rejects a file for its encoding: names are ASCII and free text is
/// decoded as UTF-8 when valid, else Windows-1252.
pub fn parse(name: &str, bytes: &[u8]) -> Result<Dbc, DbcError> {
    let file: Arc<str> = Arc::from(name);
    let sink = NoteSink::default();
    let cx = Ctx::new(bytes, &sink);
    let collected = parser::parse_statements(&cx);
    // Resolving a file with syntax errors would only add follow-up noise
    // (references to the statements that failed), so it is skipped.
    let dbc = (!sink.has_errors()).then(|| resolve::resolve(&cx, Arc::clone(&file), collected));
    let (errors, warnings) = sink.into_inner().into_diagnostics(&file, bytes);
    match dbc {
        Some(mut dbc) if errors.is_empty() => {
            dbc.warnings = warnings;
            Ok(dbc)
        }
        _ => Err(DbcError::Invalid { file, errors, warnings }),
    }
}

/// Reads the file at `path` and parses it (see [`parse`]); diagnostics name
/// the file as `path` displays.
pub fn load(path: &Path) -> Result<Dbc, DbcError> {
    let bytes = std::fs::read(path).map_err(|source| DbcError::Io { file: path.to_path_buf(), source })?;
    parse(&path.display().to_string(), &bytes)
}

#[cfg(test)]
mod tests;
