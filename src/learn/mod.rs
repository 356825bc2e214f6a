//! `bulkhead learn`: a rule file proposed from a capture taken as clean, for a
//! person to review.
//!
//! Two streaming passes over the captures ([`scan`]). The first gathers, per
//! (bus, id) ([`table`], [`observe`]), everything a route can check: lengths
//! and frame kinds, inter-arrival times ([`intervals`]), and for ids a DBC
//! ([`dbcs`]) defines every signal's range and values ([`signals`]), the
//! alive-counter candidates ([`counter`]) and the checksum candidates
//! ([`checksum`]). From those the cyclic ids and their periods are chosen; the
//! second pass replays each cyclic id's arrivals against the engine's token
//! bucket at that rate to find the smallest burst that lets the capture
//! through ([`cycle`]). Then [`assemble`] builds the [`propose`]d ports and
//! routes ([`route`], [`content`]), each value with the observation it comes
//! from, and [`render`] writes the TOML ([`toml_text`], [`paths`]).
//!
//! Invariants:
//! - the proposal lets its own capture through: every check it contains is
//!   one that every frame of the capture passes (error frames excepted: the
//!   engine always drops them), which [`verify()`] confirms by compiling the file
//!   and replaying the capture through the engine;
//! - memory is bounded per id, whatever the capture's length;
//! - the output depends only on the inputs (same capture, same file, byte for byte).

pub mod assemble;
pub mod checksum;
pub mod content;
pub mod counter;
pub mod cycle;
pub mod dbcs;
pub mod intervals;
pub mod observe;
pub mod paths;
pub mod propose;
pub mod render;
pub mod route;
pub mod scan;
pub mod signals;
pub mod table;
pub mod toml_text;
pub mod verify;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use self::counter::CounterMargins;
use self::cycle::{BurstMeter, CycleCandidate, CycleMargins};
use self::dbcs::DbcSet;
use self::propose::Proposal;
use self::scan::{BusNames, ScanOptions};
use self::signals::RangeMargins;
use self::table::IdTable;
use crate::frame::CanId;
use crate::logs::LogError;

pub use self::propose::Summary;
pub use self::verify::{Verification, verify};

/// Everything that can stop learning.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// A capture could not be read, or has a malformed line (strict mode).
    #[error(transparent)]
    Log(#[from] LogError),
    /// A DBC file could not be read or parsed.
    #[error(transparent)]
    Dbc(#[from] crate::dbc::DbcError),
    /// Standard input was given as a capture; learning reads the captures twice.
    #[error("learning reads the captures twice, so it needs files, not standard input (`-`)")]
    Stdin,
    /// A frame has no timestamp; cycle times need them.
    #[error("{}: frame {index} has no timestamp; learning needs captures with timestamps", file.display())]
    NoTimestamp {
        /// The capture.
        file: PathBuf,
        /// The frame's index in it.
        index: u64,
    },
    /// The captures hold no frame.
    #[error("the captures hold no frame to learn from")]
    Empty,
    /// A capture changed between the two passes.
    #[error("{}: the capture changed while it was being read (first pass {first} frames, second {second})", file.display())]
    Changed {
        /// The capture.
        file: PathBuf,
        /// Frames in the first pass.
        first: u64,
        /// Frames in the second pass.
        second: u64,
    },
    /// An option names a bus that the captures do not have.
    #[error("{option} {bus}: the captures have no bus `{bus}` (buses: {known})")]
    UnknownBus {
        /// The option (`--hostile`, `--bus-dbc`, `--forward`).
        option: &'static str,
        /// The bus given.
        bus: String,
        /// The buses seen.
        known: String,
    },
    /// An option value is not of the form it needs.
    #[error("{option} {value}: expected {expected}")]
    BadOption {
        /// The option.
        option: &'static str,
        /// The value given.
        value: String,
        /// What it should look like.
        expected: &'static str,
    },
    /// A path cannot be made relative to the output file or written into TOML.
    #[error("{}: {reason}", path.display())]
    Path {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The proposed rules do not compile (a bug of `learn`: please report it).
    #[error("the proposed rules do not compile:\n{0}")]
    Rules(#[from] crate::rules::RulesError),
    /// Replaying the capture for verification failed.
    #[error(transparent)]
    Replay(#[from] crate::replay::ReplayError),
}

/// All the margins and thresholds of learning (defaults in `docs/learn.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Margins {
    /// Cycle detection and bucket margins.
    pub cycle: CycleMargins,
    /// Counter detection.
    pub counter: CounterMargins,
    /// Signal ranges and `allow` lists.
    pub range: RangeMargins,
}

/// What to learn from and how.
#[derive(Clone, Debug, Default)]
pub struct LearnOptions {
    /// The captures, read in order as one stream (as `replay` reads them).
    pub logs: Vec<PathBuf>,
    /// DBC files for every bus.
    pub dbcs: Vec<PathBuf>,
    /// DBC files for one bus: `(bus, file)`.
    pub bus_dbcs: Vec<(String, PathBuf)>,
    /// Buses whose zone is hostile (the others are trusted).
    pub hostile: Vec<String>,
    /// `(from, to)`: every route from bus `from` forwards to port `to`.
    pub forward: Vec<(String, String)>,
    /// Where the rule file will be written (DBC paths are made relative to its directory).
    pub output: PathBuf,
    /// How to read the captures.
    pub scan: ScanOptions,
    /// Margins and thresholds.
    pub margins: Margins,
}

/// Splits `BUS=VALUE` for option `option`.
pub fn split_pair(option: &'static str, value: &str) -> Result<(String, String), LearnError> {
    match value.split_once('=') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_owned(), b.to_owned())),
        _ => Err(LearnError::BadOption {
            option,
            value: value.to_owned(),
            expected: "BUS=VALUE, for example can1=radar.dbc",
        }),
    }
}

/// The proposal and its text.
#[derive(Clone, Debug)]
pub struct Learned {
    /// What was decided.
    pub proposal: Proposal,
    /// The rule file.
    pub text: String,
}

/// Learns a rule file from `options.logs`.
pub fn learn(options: &LearnOptions) -> Result<Learned, LearnError> {
    let dbcs = DbcSet::load(&options.dbcs, &options.bus_dbcs)?;

    // Pass 1: statistics.
    let mut names = BusNames::default();
    let mut table = IdTable::default();
    let files = scan::scan(&options.logs, options.scan, &mut names, |names, bus, now, frame| {
        table.observe(&dbcs, names, bus, now, frame);
    })?;
    if table.stats.is_empty() {
        return Err(LearnError::Empty);
    }
    check_bus_options(options, &dbcs, &names)?;

    // Cycle candidates, then pass 2: the minimal bursts at their rates.
    let mut meters: HashMap<(usize, CanId), (CycleCandidate, BurstMeter)> = HashMap::new();
    for s in &table.stats {
        let timing = cycle::Timing::of(&s.intervals);
        if let Ok(c) = cycle::candidate(s.frames, timing.as_ref(), &options.margins.cycle) {
            meters.insert((s.bus, s.id), (c, BurstMeter::new(cycle::rate_per_second(c.period_ms, c.tolerance))));
        }
    }
    let mut names_again = BusNames::default();
    let again = scan::scan(&options.logs, options.scan, &mut names_again, |_, bus, now, frame| {
        if !frame.is_error()
            && let Some((_, meter)) = meters.get_mut(&(bus, frame.id()))
        {
            meter.observe(now);
        }
    })?;
    for (first, second) in files.iter().zip(&again) {
        if first.frames != second.frames || names_again != names {
            return Err(LearnError::Changed { file: first.path.clone(), first: first.frames, second: second.frames });
        }
    }

    let proposal = assemble::propose_all(options, &names, &table, &meters, files)?;
    let text = render::render(&proposal, &options.margins);
    Ok(Learned { proposal, text })
}

/// Every bus an option names must be in the capture (a typo would silently do nothing).
fn check_bus_options(options: &LearnOptions, dbcs: &DbcSet, names: &BusNames) -> Result<(), LearnError> {
    let known = || names.names().join(", ");
    let check = |option: &'static str, bus: &str| {
        if names.names().iter().any(|n| n == bus) {
            Ok(())
        } else {
            Err(LearnError::UnknownBus { option, bus: bus.to_owned(), known: known() })
        }
    };
    for bus in dbcs.named_buses() {
        check("--bus-dbc", bus)?;
    }
    for bus in &options.hostile {
        check("--hostile", bus)?;
    }
    for (from, to) in &options.forward {
        check("--forward", from)?;
        check("--forward", to)?;
        if from == to {
            return Err(LearnError::BadOption {
                option: "--forward",
                value: format!("{from}={to}"),
                expected: "two different buses: frames are never sent back to their own bus",
            });
        }
    }
    Ok(())
}

/// The directory `path` would be written in.
pub fn output_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
