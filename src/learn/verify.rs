//! Checking a proposal the way a reviewer would: compile the rule file as
//! `bulkhead check` does, replay the captures through the engine as
//! `bulkhead replay` does, and count what was dropped and which behaviour
//! events (missing messages, suspected injection) fired.
//!
//! A proposal learned from a capture must give zero drops and no such event
//! on that capture; anything else is a bug of `learn` and [`Verification`]
//! says where.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::LearnError;
use super::scan::ScanOptions;
use crate::replay::{self, NoSink, ReplayOptions, ReplayReport};
use crate::rules::{self, CompileOptions};

/// The outcome of replaying the captures with the proposed rules.
#[derive(Clone, Debug)]
pub struct Verification {
    /// Warnings of the compilation (DBC warnings included).
    pub warnings: usize,
    /// Frames replayed.
    pub frames: u64,
    /// Frames dropped.
    pub dropped: u64,
    /// Drops by (port, id, reason, count), most frequent first.
    pub drops: Vec<(String, u32, String, u64)>,
    /// `missing` events.
    pub missing: u64,
    /// `injection-suspected` events.
    pub injection_suspected: u64,
    /// The full replay report.
    pub report: ReplayReport,
}

impl Verification {
    /// True when the captures went through untouched.
    pub fn is_clean(&self) -> bool {
        self.dropped == 0 && self.missing == 0 && self.injection_suspected == 0
    }
}

/// Compiles `rules_file` and replays `logs` through it.
pub fn verify(rules_file: &Path, logs: &[PathBuf], scan: ScanOptions) -> Result<Verification, LearnError> {
    let (compiled, warnings) = rules::load(&[rules_file.to_path_buf()], CompileOptions::default())?;
    let options = ReplayOptions { ports: Vec::new(), devices: Vec::new(), lenient: scan.lenient, format: scan.format };
    let report = replay::replay(Arc::new(compiled), logs, &options, None, &mut NoSink, &mut |_| {})?;
    let mut drops: Vec<(String, u32, String, u64)> = report
        .ids
        .iter()
        .flat_map(|id| id.reasons.iter().map(|(reason, n)| (id.port.clone(), id.id, (*reason).to_owned(), *n)))
        .filter(|d| d.3 > 0)
        .collect();
    drops.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2))));
    let event = |kind: &str| report.events.by_kind.get(kind).copied().unwrap_or(0);
    Ok(Verification {
        warnings: warnings.len(),
        frames: report.frames,
        dropped: report.dropped,
        drops,
        missing: event("missing"),
        injection_suspected: event("injection-suspected"),
        report,
    })
}
