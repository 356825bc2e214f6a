//! What one line (or one binary object) of a capture turned out to be, and
//! the bookkeeping every reader does with it: frames are yielded, non-frame
//! records and malformed records are counted, errors are yielded unless the
//! reader is lenient.
//!
//! Invariant: an I/O error is always yielded, lenient or not (it is not a
//! malformed record that could be skipped).

use crate::logs::{LogError, LogRecord};

/// The result of reading one record of a capture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Parsed {
    /// A CAN frame.
    Frame(LogRecord),
    /// A record the format defines that is not a frame (a bus statistic, a
    /// status change, an event); counted in `FrameReader::non_frames`.
    NonFrame,
    /// Nothing to report: a blank line, a comment, a header line.
    Nothing,
}

/// The counters of a reader and the lenient/strict decision.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Skip malformed records instead of yielding their errors.
    pub lenient: bool,
    /// Malformed records skipped.
    pub skipped: u64,
    /// Records that are not frames.
    pub non_frames: u64,
}

impl Tally {
    /// A tally for `lenient` reading.
    pub fn new(lenient: bool) -> Self {
        Tally { lenient, skipped: 0, non_frames: 0 }
    }

    /// What the iterator yields for `result`; `None` means "read on".
    pub fn settle(&mut self, result: Result<Parsed, LogError>) -> Option<Result<LogRecord, LogError>> {
        match result {
            Ok(Parsed::Frame(record)) => Some(Ok(record)),
            Ok(Parsed::NonFrame) => {
                self.non_frames += 1;
                None
            }
            Ok(Parsed::Nothing) => None,
            Err(e @ LogError::Io { .. }) => Some(Err(e)),
            Err(e) if !self.lenient => Some(Err(e)),
            Err(_) => {
                self.skipped += 1;
                None
            }
        }
    }
}
