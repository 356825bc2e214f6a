//! Rule files: what may cross the gateway, written by people in TOML and
//! compiled once into the tables the engine runs on.
//!
//! - [`schema`]: the file as written (serde, with positions);
//! - [`expr`]: the condition language of `when`;
//! - [`source`]: rule text and diagnostics with file, line and column;
//! - [`compiled`]: the compiled tables;
//! - `compile`: from schema and DBC files to compiled tables, with every
//!   problem reported.
//!
//! [`reference`] compiles the reference vehicle's rules and DBC files that are
//! embedded in the binary (`rules/vehicle.toml`, `dbc/*.dbc`), so bulkhead runs
//! without any file at hand.

mod compile;
pub mod compiled;
pub mod expr;
pub mod schema;
pub mod source;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use compile::{Compilation, CompileOptions, compile_files, compile_sources};
pub use compiled::*;
pub use expr::CompareOp;

use crate::diagnostic::Diagnostic;

/// Why rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// A rule file could not be read.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The rules have errors (the diagnostics include the warnings found too).
    #[error("{}", Rendered(diagnostics))]
    Invalid {
        /// Every diagnostic, sorted by position.
        diagnostics: Vec<Diagnostic>,
    },
}

/// Renders diagnostics one after the other, then a summary line.
struct Rendered<'a>(&'a [Diagnostic]);

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.0 {
            writeln!(f, "{d}\n")?;
        }
        let errors = self.0.iter().filter(|d| d.is_error()).count();
        let warnings = self.0.len() - errors;
        write!(f, "{errors} error{}, {warnings} warning{}", plural(errors), plural(warnings))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Loads and compiles rule files; fails with every diagnostic if there is an error.
pub fn load(paths: &[PathBuf], options: CompileOptions) -> Result<(CompiledRules, Vec<Diagnostic>), RulesError> {
    let compilation = compile_files(paths, options).map_err(|(file, source)| RulesError::Io { file, source })?;
    finish(compilation)
}

fn finish(compilation: Compilation) -> Result<(CompiledRules, Vec<Diagnostic>), RulesError> {
    match compilation.rules {
        Some(rules) => Ok((rules, compilation.diagnostics)),
        None => Err(RulesError::Invalid { diagnostics: compilation.diagnostics }),
    }
}

/// The embedded reference rule file.
pub const REFERENCE_RULES: &str = include_str!("../../rules/vehicle.toml");

/// The embedded reference DBC files, by the path the rule file names them with.
pub const REFERENCE_DBCS: [(&str, &[u8]); 3] = [
    ("dbc/drive.dbc", include_bytes!("../../dbc/drive.dbc")),
    ("dbc/body.dbc", include_bytes!("../../dbc/body.dbc")),
    ("dbc/uds.dbc", include_bytes!("../../dbc/uds.dbc")),
];

/// Compiles the embedded reference rules (`rules/vehicle.toml` with `dbc/*.dbc`).
pub fn reference() -> Result<(CompiledRules, Vec<Diagnostic>), RulesError> {
    let source = source::RuleSource::new("rules/vehicle.toml", Path::new("rules"), REFERENCE_RULES.to_owned());
    let options = CompileOptions {
        virtual_files: REFERENCE_DBCS.iter().map(|(p, b)| (PathBuf::from(p), Arc::from(*b))).collect(),
        ..CompileOptions::default()
    };
    finish(compile_sources(vec![source], options))
}

/// Compiles the rules of a verified bundle: its rule files, with the DBC
/// files they name served from the bundle (never from the disk).
pub fn from_bundle(
    bundle: &crate::bundle::VerifiedBundle,
    options: CompileOptions,
) -> Result<(CompiledRules, Vec<Diagnostic>), RulesError> {
    let mut options = options;
    for file in bundle.files() {
        options.virtual_files.push((normalize(Path::new(file.path().as_str())), Arc::from(file.bytes())));
    }
    let sources = bundle
        .rule_files()
        .map(|f| {
            let path = Path::new(f.path().as_str());
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            source::RuleSource::new(f.path().as_str(), &dir, crate::diagnostic::decode_lossy(f.bytes()))
        })
        .collect();
    finish(compile_sources(sources, options))
}

/// `a/b/../c` to `a/c`, without touching the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir if out.components().next_back().is_some_and(|l| matches!(l, Component::Normal(_))) => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_normalization() {
        assert_eq!(normalize(Path::new("rules/../dbc/drive.dbc")), PathBuf::from("dbc/drive.dbc"));
        assert_eq!(normalize(Path::new("./a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
    }
}
