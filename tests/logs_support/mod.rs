//! Helpers shared by the `logs_*` integration tests: where the shared data
//! and the Python oracles are, reading a capture into comparable strings.
#![allow(dead_code)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bulkhead::logs::{Buses, Direction, FrameReader, LogError, LogFormat, LogRecord, ReadOptions, from_reader, open};

/// `../shared/data/logs`, or `None` (with a message) when it is absent.
pub fn logs_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/logs");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: the shared test data {} is absent (tests read real captures from there)", dir.display());
        None
    }
}

/// The project's Python with python-can; panics with the fix when missing.
pub fn python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python3");
    assert!(python.exists(), "{} is missing: run scripts/setup-oracles first", python.display());
    python
}

/// A record as one comparable line: `time bus kind frame direction`.
pub fn show(record: &LogRecord, buses: &Buses) -> String {
    let time = record.time.map_or_else(|| "-".to_owned(), |t| t.to_string());
    let direction = match record.direction {
        Some(Direction::Rx) => "rx",
        Some(Direction::Tx) => "tx",
        None => "-",
    };
    format!("{time} {} {} {} {direction}", buses.name(record.bus), record.frame.kind().name(), record.frame)
}

/// What reading a capture gave.
pub struct Outcome {
    /// Records, shown with [`show`].
    pub shown: Vec<String>,
    /// The records themselves with the bus names.
    pub records: Vec<(LogRecord, String)>,
    /// Errors yielded (strict mode).
    pub errors: Vec<LogError>,
    /// Malformed records skipped (lenient mode).
    pub skipped: u64,
    /// Records that are not frames.
    pub non_frames: u64,
}

/// Reads everything from `reader`, collecting errors instead of stopping.
pub fn drain(mut reader: Box<dyn FrameReader>) -> Outcome {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(r) => records.push(r),
            Err(e) => errors.push(e),
        }
    }
    let buses = reader.buses();
    Outcome {
        shown: records.iter().map(|r| show(r, buses)).collect(),
        records: records.iter().map(|r| (*r, buses.name(r.bus).to_owned())).collect(),
        errors,
        skipped: reader.skipped(),
        non_frames: reader.non_frames(),
    }
}

/// Reads `text` as `format`.
pub fn read_text(format: LogFormat, text: &str, lenient: bool) -> Outcome {
    let input = Box::new(Cursor::new(text.as_bytes().to_vec()));
    let reader = from_reader(input, Arc::from("test"), format, ReadOptions { lenient }).expect("reader");
    drain(reader)
}

/// Reads the file at `path` (format detected, gzip handled).
pub fn read_file(path: &Path, lenient: bool) -> Outcome {
    let reader = open(path, None, ReadOptions { lenient }).unwrap_or_else(|e| panic!("{e}"));
    drain(reader)
}
