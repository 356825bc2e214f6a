//! From rule files and DBC files to [`CompiledRules`].
//!
//! The compiler reads every rule file, resolves every name against the
//! zones, ports, DBC messages and signals, checks what can be checked before
//! any frame flows (impossible ranges, overlapping routes, unreachable
//! conditions, hostile routes marked essential...) and builds the lookup
//! tables. It never stops at the first problem: every error and warning is
//! collected with its file, line and column, and compilation fails if there is
//! at least one error.
//!
//! The steps, one file each: [`ports`] (zones, ports, DBC files), [`state`]
//! (vehicle state variables), [`routes`] (routes and their checks, with
//! [`condition`] for `when`), [`tables`] (per-id slots, lookup tables,
//! overlaps), [`modes`] (triggers, mode settings, status frame).

mod auth;
mod condition;
mod modes;
mod ports;
mod routes;
mod state;
mod tables;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;

use super::compiled::CompiledRules;
use super::schema::RuleFile;
use super::source::{Diagnostics, RuleSource};
use crate::dbc::Dbc;
use crate::diagnostic::Diagnostic;

/// Largest `frames`/`count` of a trigger (the sliding window holds that many timestamps).
pub const MAX_TRIGGER_THRESHOLD: u32 = 100_000;

/// The longest time a rule file may give, in milliseconds (10^12 ms, about 31
/// years): anything longer means "never" for a vehicle, and every deadline the
/// engine computes from it stays far inside its timestamps' 584-year range.
pub const MAX_MILLIS: f64 = 1e12;

/// Everything a compilation needs besides the rule files themselves.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// DBC files for ports whose rule file names none (`--dbc`).
    pub extra_dbcs: Vec<PathBuf>,
    /// Files that exist in memory only (the embedded reference DBCs), by their
    /// lexically normalized path; consulted before the file system.
    pub virtual_files: Vec<(PathBuf, Arc<[u8]>)>,
}

/// The outcome of a compilation: the rules (if there was no error) and every
/// diagnostic, sorted by position.
pub struct Compilation {
    /// The compiled rules, `None` when there were errors.
    pub rules: Option<CompiledRules>,
    /// Errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

/// A parsed rule file with its source.
pub(crate) struct ParsedFile {
    pub source: RuleSource,
    pub file: RuleFile,
}

/// The state of one compilation.
pub(crate) struct Compiler {
    pub diags: Diagnostics,
    /// DBC files loaded so far, by canonical path, with the index into `dbcs`.
    pub dbc_index: BTreeMap<PathBuf, usize>,
    pub dbcs: Vec<Arc<Dbc>>,
    pub options: CompileOptions,
}

/// Compiles rule files given as sources.
pub fn compile_sources(sources: Vec<RuleSource>, options: CompileOptions) -> Compilation {
    let mut compiler =
        Compiler { diags: Diagnostics::default(), dbc_index: BTreeMap::new(), dbcs: Vec::new(), options };
    let mut files = Vec::new();
    for source in sources {
        match toml::from_str::<RuleFile>(&source.text) {
            Ok(file) => files.push(ParsedFile { source, file }),
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let message = e.message().trim_end_matches('\n').to_owned();
                compiler.diags.error(&source, &span, message);
            }
        }
    }
    let rules = compiler.compile(&files);
    let rules = if compiler.diags.has_errors() { None } else { rules };
    Compilation { rules, diagnostics: compiler.diags.into_sorted() }
}

/// Reads and compiles rule files from disk.
pub fn compile_files(paths: &[PathBuf], options: CompileOptions) -> Result<Compilation, (PathBuf, std::io::Error)> {
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read(path).map_err(|e| (path.clone(), e))?;
        let text = crate::diagnostic::decode_lossy(&text);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        sources.push(RuleSource::new(&path.display().to_string(), &dir, text));
    }
    Ok(compile_sources(sources, options))
}

impl Compiler {
    fn compile(&mut self, files: &[ParsedFile]) -> Option<CompiledRules> {
        for f in files {
            if *f.file.version.get_ref() != 1 {
                self.diags
                    .error(
                        &f.source,
                        &f.file.version.span(),
                        format!("unsupported rule format version {}", f.file.version.get_ref()),
                    )
                    .help = Some("this bulkhead reads version 1".to_owned());
            }
        }
        let name = files
            .iter()
            .find_map(|f| f.file.gateway.as_ref().and_then(|g| g.name.as_ref()))
            .map_or_else(|| "bulkhead".to_owned(), |n| n.get_ref().clone());
        let event_rate = modes::event_rate(self, files);
        let zones = ports::zones(self, files);
        let mut ports = ports::ports(self, files, &zones);
        let state = state::state_vars(self, files, &ports);
        let devices = auth::devices(self, files, &ports);
        let secured = auth::secured(self, files, &ports);
        let routes = routes::routes(self, files, &ports, &state, &devices);
        let triggers = modes::triggers(self, files, &ports);
        let (mode_settings, status) = modes::settings(self, files, &ports);
        let tables = tables::build(self, files, &mut ports, &routes, &state, &triggers, &secured);
        let tables = tables?;
        Some(CompiledRules {
            name,
            dbcs: self.dbcs.clone(),
            zones,
            ports: ports.into_iter().map(|p| p.port).collect(),
            routes: routes.into_iter().map(|r| r.route).collect(),
            slots: tables.slots,
            state: tables.state,
            devices,
            secured,
            triggers: triggers.into_iter().map(|t| t.trigger).collect(),
            modes: mode_settings,
            status,
            event_rate,
            step_cells: tables.step_cells,
            warnings: Vec::new(),
        })
    }

    /// `ms` milliseconds (a number the caller checked is zero or more) as a
    /// duration, or an error at `span` naming `what` when it is above
    /// [`MAX_MILLIS`] (or not a number at all).
    pub(crate) fn millis(&mut self, source: &RuleSource, span: &Range<usize>, ms: f64, what: &str) -> Option<Duration> {
        let duration = if ms <= MAX_MILLIS { Duration::try_from_secs_f64(ms / 1000.0).ok() } else { None };
        if duration.is_none() {
            self.diags
                .error(source, span, format!("`{what}` is {ms:e} ms, longer than any time a rule may give"))
                .help = Some(format!("the longest is {MAX_MILLIS:e} ms (about 31 years)"));
        }
        duration
    }

    /// Reports a name that must be unique, keeping the first.
    pub(crate) fn check_unique<'a>(
        &mut self,
        seen: &mut BTreeMap<String, (Arc<str>, u32)>,
        what: &str,
        source: &'a RuleSource,
        name: &'a Spanned<String>,
    ) -> bool {
        let loc = source.span_location(&name.span());
        if let Some((file, line)) = seen.get(name.get_ref()) {
            self.diags.push(
                Diagnostic::error(loc, format!("{what} `{}` is defined twice", name.get_ref()))
                    .with_help(format!("the first definition is at {file}:{line}")),
            );
            return false;
        }
        seen.insert(name.get_ref().clone(), (Arc::clone(&loc.file), loc.line));
        true
    }
}

/// The `did you mean` hint for `name` among `candidates` (edit distance at most 2, or a
/// case-insensitive match).
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = if c.to_ascii_lowercase() == lower { 0 } else { edit_distance(&lower, &c.to_ascii_lowercase()) };
        if d <= 2.max(name.len() / 4) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("VCU_Sped", ["VCU_Speed", "VCU_Gear"]).as_deref(), Some("did you mean `VCU_Speed`?"));
        assert_eq!(did_you_mean("vcu_speed", ["VCU_Speed"]).as_deref(), Some("did you mean `VCU_Speed`?"));
        assert_eq!(did_you_mean("Brake", ["VCU_Speed"]), None);
    }
}
