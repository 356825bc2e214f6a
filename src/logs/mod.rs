//! Readers for CAN captures behind one streaming interface: Linux candump,
//! Vector ASC and BLF, PEAK TRC (1.0 to 2.1), SavvyCAN's GVRET CSV, and the
//! other exports of SavvyCAN (CRTD, BUSMASTER, Microchip, generic ID/data CSV,
//! CARBUS Analyzer).
//!
//! Every reader is an iterator of [`LogRecord`]s that reads its input
//! incrementally (never the whole file at once) and owns a [`Buses`] table that
//! maps the log's interface or channel names to small [`BusId`]s, so a record
//! is a `Copy` value and the per-frame path allocates nothing. [`open`] picks
//! the reader from the content ([`LogFormat::detect`]) and gunzips on the fly.
//!
//! Invariants:
//! - records come out in file order, each with the frame exactly as the file
//!   states it (a frame that is invalid for its kind is an error, never
//!   silently fixed);
//! - a malformed record is an `Err` naming file, line and column (or byte
//!   offset for binary formats) and what was expected; with
//!   [`ReadOptions::lenient`] it is skipped and counted in
//!   [`FrameReader::skipped`] instead, and reading goes on;
//! - records the format defines that are not frames (statistics, status
//!   changes, events) are counted in [`FrameReader::non_frames`];
//! - after an I/O error the reader yields `None`;
//! - gzip-compressed input (magic `1f 8b`) is decompressed transparently by
//!   [`open`].
//!
//! Timestamps are given as the file states them, in nanoseconds, parsed
//! exactly (never through floating point): Unix time for candump `-l` and
//! absolute ascii output, time since the logger started for GVRET, CRTD and
//! Microchip, time since the start of measurement for ASC, BLF and TRC (the
//! header's start time is not added). Error frames of formats that do not
//! record SocketCAN error classes (ASC, BLF, TRC) are `Frame::error(0, [])`.
//! Each reader's module documents its exact conventions and decisions.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use thiserror::Error;

use crate::diagnostic::Location;
use crate::frame::{Frame, FrameError};
use crate::time::Timestamp;

pub mod asc;
pub mod blf;
pub mod busmaster;
pub mod candump;
pub mod carbus;
pub mod crtd;
pub mod generic_csv;
pub mod gvret;
pub mod line_reader;
pub mod microchip;
pub mod number;
pub mod outcome;
pub mod text;
pub mod text_reader;
pub mod trc;

/// A small handle for one interface or channel name of a log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BusId(pub u16);

/// The interface names a reader has seen, in order of first appearance.
///
/// Lookup is a linear scan: logs have a handful of buses, and the scan of a
/// few short strings beats hashing.
#[derive(Clone, Debug, Default)]
pub struct Buses {
    names: Vec<String>,
}

impl Buses {
    /// The id of `name`, adding it on first sight. Past `u16::MAX` distinct
    /// names the last id is reused (a log with 65535 interfaces is not a CAN log).
    pub fn intern(&mut self, name: &[u8]) -> BusId {
        if let Some(i) = self.names.iter().position(|n| n.as_bytes() == name) {
            return BusId(i as u16);
        }
        if self.names.len() > u16::MAX as usize {
            return BusId(u16::MAX);
        }
        self.names.push(String::from_utf8_lossy(name).into_owned());
        BusId((self.names.len() - 1) as u16)
    }

    /// The name of `id` (`"?"` for an id this table never gave out).
    pub fn name(&self, id: BusId) -> &str {
        self.names.get(id.0 as usize).map_or("?", String::as_str)
    }

    /// All names, indexed by `BusId`.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// Direction of a frame when the log records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received by the logger.
    Rx,
    /// Sent by the logger.
    Tx,
}

/// One frame of a capture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogRecord {
    /// When it was seen, if the log says.
    pub time: Option<Timestamp>,
    /// The interface or channel, see [`FrameReader::buses`].
    pub bus: BusId,
    /// The frame.
    pub frame: Frame,
    /// Rx or Tx, if the log says.
    pub direction: Option<Direction>,
}

/// How to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Skip malformed records (counting them) instead of failing on the first.
    pub lenient: bool,
}

/// Everything that can go wrong while reading a capture.
#[derive(Debug, Error)]
pub enum LogError {
    /// The file could not be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// The file name.
        file: Arc<str>,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A line of a text log does not have the expected form.
    #[error("{location}: {message}\n    {}", location.line_text)]
    Malformed {
        /// Where (file, line, column) with the offending line.
        location: Location,
        /// What was expected.
        message: String,
    },
    /// A line is well formed but the frame it describes is not valid.
    #[error("{location}: invalid frame: {source}\n    {}", location.line_text)]
    InvalidFrame {
        /// Where (file, line, column) with the offending line.
        location: Location,
        /// Why the frame is invalid.
        #[source]
        source: FrameError,
    },
    /// A record of a binary log is malformed.
    #[error("{file}: at byte {offset}: {message}")]
    MalformedBinary {
        /// The file name.
        file: Arc<str>,
        /// Byte offset of the record (in the decompressed stream).
        offset: u64,
        /// What was expected.
        message: String,
    },
    /// The format of the file could not be recognised.
    #[error("{file}: not a capture format bulkhead reads ({detail})")]
    UnknownFormat {
        /// The file name.
        file: Arc<str>,
        /// What the first bytes looked like.
        detail: String,
    },
}

impl LogError {
    /// A `Malformed` error for byte `offset` of `line` (line number `line_no`).
    pub fn malformed(file: &Arc<str>, line_no: u64, line: &[u8], offset: usize, message: impl Into<String>) -> Self {
        LogError::Malformed { location: line_location(file, line_no, line, offset), message: message.into() }
    }

    /// An `InvalidFrame` error for byte `offset` of `line` (line number `line_no`).
    pub fn invalid_frame(file: &Arc<str>, line_no: u64, line: &[u8], offset: usize, source: FrameError) -> Self {
        LogError::InvalidFrame { location: line_location(file, line_no, line, offset), source }
    }
}

fn line_location(file: &Arc<str>, line_no: u64, line: &[u8], offset: usize) -> Location {
    let mut loc = Location::from_offset(file, line, offset);
    loc.line = u32::try_from(line_no).unwrap_or(u32::MAX);
    loc
}

/// A streaming reader of one capture.
pub trait FrameReader: Iterator<Item = Result<LogRecord, LogError>> + Send {
    /// The bus names seen so far.
    fn buses(&self) -> &Buses;
    /// How many malformed records were skipped (lenient mode only).
    fn skipped(&self) -> u64;
    /// How many records were read that the format defines but that are not
    /// frames (bus statistics, status changes, events, unknown binary objects).
    /// Headers, comments and blank lines are not counted.
    fn non_frames(&self) -> u64;
    /// The format being read.
    fn format(&self) -> LogFormat;
}

/// The capture formats bulkhead reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// Linux can-utils `candump` (`-l`/`-L` and the ascii forms).
    Candump,
    /// Vector ASCII logging (`.asc`).
    Asc,
    /// PEAK-System trace (`.trc`, file versions 1.0 to 2.1).
    Trc,
    /// SavvyCAN GVRET CSV.
    GvretCsv,
    /// Vector binary logging (`.blf`).
    Blf,
    /// CRTD (OVMS) as SavvyCAN exports it.
    Crtd,
    /// BUSMASTER log.
    BusMaster,
    /// Microchip CAN BUS Analyzer log.
    Microchip,
    /// SavvyCAN's generic ID/data CSV (no time).
    GenericCsv,
    /// CARBUS Analyzer trace (`@ TEXT @`, not PEAK's `.trc`).
    CarBus,
}

impl LogFormat {
    /// All formats, for help texts.
    pub const ALL: [LogFormat; 10] = [
        LogFormat::Candump,
        LogFormat::Asc,
        LogFormat::Trc,
        LogFormat::GvretCsv,
        LogFormat::Blf,
        LogFormat::Crtd,
        LogFormat::BusMaster,
        LogFormat::Microchip,
        LogFormat::GenericCsv,
        LogFormat::CarBus,
    ];

    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            LogFormat::Candump => "candump",
            LogFormat::Asc => "asc",
            LogFormat::Trc => "trc",
            LogFormat::GvretCsv => "gvret",
            LogFormat::Blf => "blf",
            LogFormat::Crtd => "crtd",
            LogFormat::BusMaster => "busmaster",
            LogFormat::Microchip => "microchip",
            LogFormat::GenericCsv => "generic-csv",
            LogFormat::CarBus => "carbus",
        }
    }

    /// The format called `name` on the command line.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Guesses the format from the first bytes of the (decompressed) content,
    /// falling back to the file extension when the content says nothing.
    pub fn detect(head: &[u8], path: &Path) -> Option<Self> {
        if head.starts_with(b"LOGG") {
            return Some(LogFormat::Blf);
        }
        let text = String::from_utf8_lossy(head.get(..head.len().min(4096)).unwrap_or(head));
        let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
        if first.starts_with("@ TEXT @") {
            return Some(LogFormat::CarBus);
        }
        if first.starts_with(';') || text.contains("\n;$FILEVERSION") {
            return Some(LogFormat::Trc);
        }
        if first.starts_with("date ") || text.contains("\nbase hex") || text.contains("\nbase dec") {
            return Some(LogFormat::Asc);
        }
        if first.starts_with("***BUSMASTER") {
            return Some(LogFormat::BusMaster);
        }
        if first.starts_with("Time Stamp,ID,Extended,") {
            return Some(LogFormat::GvretCsv);
        }
        if first.eq_ignore_ascii_case("ID,Data Bytes") {
            return Some(LogFormat::GenericCsv);
        }
        if first.starts_with("//") && text.contains("Microchip") {
            return Some(LogFormat::Microchip);
        }
        let mut words = first.split_whitespace();
        let (time, kind) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        if time.bytes().all(|b| b.is_ascii_digit() || b == b'.') && crtd::is_crtd_type(kind) {
            return Some(LogFormat::Crtd);
        }
        if first.starts_with('(') || candump::looks_like_candump(first) {
            return Some(LogFormat::Candump);
        }
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let ext = match ext.as_deref() {
            Some("gz") => path
                .file_stem()
                .map(Path::new)
                .and_then(|p| p.extension())
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase),
            _ => ext,
        };
        match ext.as_deref() {
            Some("asc") => Some(LogFormat::Asc),
            Some("trc") => Some(LogFormat::Trc),
            Some("blf") => Some(LogFormat::Blf),
            Some("crtd" | "crt") => Some(LogFormat::Crtd),
            _ => None,
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Size of the read buffer used for files.
const READ_BUFFER: usize = 256 * 1024;

/// Opens `path` (or standard input for `-`), decompresses gzip, detects the
/// format unless `format` is given, and returns the matching reader.
pub fn open(path: &Path, format: Option<LogFormat>, options: ReadOptions) -> Result<Box<dyn FrameReader>, LogError> {
    let name: Arc<str> = Arc::from(path.display().to_string());
    let io_err = |source| LogError::Io { file: Arc::clone(&name), source };
    let raw: Box<dyn Read + Send> =
        if path == Path::new("-") { Box::new(io::stdin()) } else { Box::new(File::open(path).map_err(io_err)?) };
    let mut input: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(READ_BUFFER, raw));
    if input.fill_buf().map_err(io_err)?.starts_with(&[0x1f, 0x8b]) {
        let decoder = flate2::bufread::MultiGzDecoder::new(input);
        input = Box::new(BufReader::with_capacity(READ_BUFFER, decoder));
    }
    let format = match format {
        Some(f) => f,
        None => {
            let head = peek(&mut input).map_err(io_err)?;
            LogFormat::detect(&head, path)
                .ok_or_else(|| LogError::UnknownFormat { file: Arc::clone(&name), detail: describe_head(&head) })?
        }
    };
    from_reader(input, name, format, options)
}

/// A reader of `format` over an already opened input named `name`.
pub fn from_reader(
    input: Box<dyn BufRead + Send>,
    name: Arc<str>,
    format: LogFormat,
    options: ReadOptions,
) -> Result<Box<dyn FrameReader>, LogError> {
    Ok(match format {
        LogFormat::Candump => Box::new(candump::CandumpReader::new(input, name, options)),
        LogFormat::Asc => Box::new(asc::AscReader::new(input, name, options)),
        LogFormat::Trc => Box::new(trc::TrcReader::new(input, name, options)),
        LogFormat::GvretCsv => Box::new(gvret::GvretReader::new(input, name, options)),
        LogFormat::Blf => Box::new(blf::BlfReader::new(input, name, options)?),
        LogFormat::Crtd => Box::new(crtd::CrtdReader::new(input, name, options)),
        LogFormat::BusMaster => Box::new(busmaster::BusMasterReader::new(input, name, options)),
        LogFormat::Microchip => Box::new(microchip::MicrochipReader::new(input, name, options)),
        LogFormat::GenericCsv => Box::new(generic_csv::GenericCsvReader::new(input, name, options)),
        LogFormat::CarBus => Box::new(carbus::CarBusReader::new(input, name, options)),
    })
}

/// Up to 4 KiB of the input without consuming it (fewer only at end of input).
fn peek(input: &mut Box<dyn BufRead + Send>) -> io::Result<Vec<u8>> {
    // `fill_buf` may return less than is available (a gzip block boundary);
    // for detection the first buffer is enough, since every format announces
    // itself on its first line or by its magic.
    Ok(input.fill_buf()?.iter().take(4096).copied().collect())
}

fn describe_head(head: &[u8]) -> String {
    if head.is_empty() {
        return "the file is empty".to_owned();
    }
    let first = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let shown: String = String::from_utf8_lossy(&first[..first.len().min(60)]).escape_debug().collect();
    format!("it starts with \"{shown}\"; give the format with --format ({})", {
        let names: Vec<&str> = LogFormat::ALL.iter().map(|f| f.name()).collect();
        names.join(", ")
    })
}
