//! Shared by the `learn_*` tests: temporary directories, candump lines,
//! learning into a file, and replays that keep every verdict.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bulkhead::engine::verdict::Verdict;
use bulkhead::frame::{Frame, FrameKind};
use bulkhead::learn::{self, LearnOptions, Learned};
use bulkhead::replay::{self, FrameOutcome, ReplayOptions, ReplayReport, VerdictSink};
use bulkhead::rules::{self, CompileOptions};
use bulkhead::time::Timestamp;

/// The shared data directory (`../shared/data` beside the project).
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

/// `path` under the shared data, or `None` (with a message saying the test is skipped).
pub fn shared(path: &str) -> Option<PathBuf> {
    let p = data_dir().join(path);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: {} is missing (the real-data tests need ../shared/data beside the project)", p.display());
        None
    }
}

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bulkhead-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One `candump -l` line.
pub fn candump_line(time: Timestamp, bus: &str, frame: &Frame) -> String {
    let nanos = time.as_nanos();
    let mut line = format!("({}.{:06}) {bus} ", nanos / 1_000_000_000, nanos % 1_000_000_000 / 1000);
    let id = frame.id();
    if id.is_extended() {
        let _ = write!(line, "{:08X}", id.raw());
    } else {
        let _ = write!(line, "{:03X}", id.raw());
    }
    match frame.kind() {
        FrameKind::Fd => {
            let flags = u8::from(frame.fd_flags().brs) | (u8::from(frame.fd_flags().esi) << 1);
            let _ = write!(line, "##{flags:X}");
        }
        FrameKind::Remote => {
            let _ = write!(line, "#R{}", frame.len());
            return line;
        }
        FrameKind::Classic | FrameKind::Error => line.push('#'),
    }
    for b in frame.data() {
        let _ = write!(line, "{b:02X}");
    }
    line
}

/// Learns with `options` and writes the rule file to `options.output`.
pub fn learn_to_file(options: &LearnOptions) -> Learned {
    let learned = learn::learn(options).unwrap_or_else(|e| panic!("learn: {e}"));
    std::fs::write(&options.output, &learned.text).unwrap();
    learned
}

/// Every verdict of a replay, by frame index, with the bus and the id.
#[derive(Default)]
pub struct Collect {
    pub verdicts: Vec<(String, u32, Option<Verdict>)>,
}

impl VerdictSink for Collect {
    fn frame(&mut self, o: &FrameOutcome<'_>) -> std::io::Result<()> {
        self.verdicts.push((o.bus.to_owned(), o.frame.id().raw(), o.verdict));
        Ok(())
    }
}

/// Compiles `rules_file` (failing the test on any error) and replays `logs`.
pub fn replay_with(rules_file: &Path, logs: &[PathBuf]) -> (ReplayReport, Collect) {
    let (compiled, _warnings) = rules::load(&[rules_file.to_path_buf()], CompileOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", rules_file.display()));
    let mut sink = Collect::default();
    let report = replay::replay(Arc::new(compiled), logs, &ReplayOptions::default(), None, &mut sink, &mut |_| {})
        .unwrap_or_else(|e| panic!("replay: {e}"));
    (report, sink)
}
