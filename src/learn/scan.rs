//! One streaming pass over the captures, in the order replay reads them.
//!
//! Bus names are unified across files (the `can0` of two files is one bus),
//! and time is the engine's: the running maximum of the timestamps over all
//! files, since the engine treats time going backwards as no time passing.
//! Learning reads the captures twice (statistics first, then the token-bucket
//! simulation at the rates the statistics chose), so standard input, which
//! cannot be read twice, is refused.
//!
//! Invariant: frames are visited in file order, each exactly once per pass,
//! with the same bus index and time in every pass.

use std::path::{Path, PathBuf};

use super::LearnError;
use crate::frame::Frame;
use crate::logs::{self, LogFormat, ReadOptions};
use crate::time::Timestamp;

/// The buses seen so far, by name, in order of first appearance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BusNames {
    names: Vec<String>,
}

impl BusNames {
    /// The index of `name`, added on first sight.
    pub fn index(&mut self, name: &str) -> usize {
        match self.names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_owned());
                self.names.len() - 1
            }
        }
    }

    /// The name of bus `index`.
    pub fn name(&self, index: usize) -> &str {
        self.names.get(index).map_or("?", String::as_str)
    }

    /// All names, by index.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// What one pass saw of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSummary {
    /// The file, as given.
    pub path: PathBuf,
    /// Frames read (error frames included).
    pub frames: u64,
    /// The first and last timestamps of the file, as written.
    pub span: Option<(Timestamp, Timestamp)>,
    /// Malformed lines skipped (lenient mode).
    pub skipped: u64,
}

/// How to read the captures.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScanOptions {
    /// Force a format instead of detecting it.
    pub format: Option<LogFormat>,
    /// Skip malformed lines.
    pub lenient: bool,
}

/// Reads every file in order, calling `visit(buses, bus, now, frame)` per
/// frame (`buses` names every bus index seen so far).
pub fn scan(
    logs: &[PathBuf],
    options: ScanOptions,
    buses: &mut BusNames,
    mut visit: impl FnMut(&BusNames, usize, Timestamp, &Frame),
) -> Result<Vec<FileSummary>, LearnError> {
    let mut now = Timestamp::ZERO;
    let mut summaries = Vec::with_capacity(logs.len());
    for path in logs {
        if path == Path::new("-") {
            return Err(LearnError::Stdin);
        }
        let mut reader = logs::open(path, options.format, ReadOptions { lenient: options.lenient })?;
        // Reader bus ids to our bus indices, filled as new buses appear.
        let mut map: Vec<Option<usize>> = Vec::new();
        let mut summary = FileSummary { path: path.clone(), frames: 0, span: None, skipped: 0 };
        while let Some(record) = reader.next() {
            let record = record?;
            let Some(time) = record.time else {
                return Err(LearnError::NoTimestamp { file: path.clone(), index: summary.frames });
            };
            let slot = usize::from(record.bus.0);
            if map.len() <= slot {
                map.resize(slot + 1, None);
            }
            let bus = match map.get(slot).copied().flatten() {
                Some(b) => b,
                None => {
                    let b = buses.index(reader.buses().name(record.bus));
                    if let Some(cell) = map.get_mut(slot) {
                        *cell = Some(b);
                    }
                    b
                }
            };
            now = now.max(time);
            summary.span = Some(summary.span.map_or((time, time), |(a, b)| (a.min(time), b.max(time))));
            summary.frames += 1;
            visit(buses, bus, now, &record.frame);
        }
        summary.skipped = reader.skipped();
        summaries.push(summary);
    }
    Ok(summaries)
}
