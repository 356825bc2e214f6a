//! `bulkhead learn`: a rule file proposed from a capture taken as clean, for a
//! person to review.
//!
//! Two streaming passes over the captures ([`scan`]). The first gathers, per
//! (bus, id), everything a route can check ([`observe`]): lengths and frame
//! kinds, inter-arrival times ([`intervals`]), and for ids a DBC defines every
//! signal's range and values ([`signals`]), the alive-counter candidates
//! ([`counter`]) and the checksum candidates ([`checksum`]). From those the
//! cyclic ids and their periods are chosen; the second pass replays each
//! cyclic id's arrivals against the engine's token bucket at that rate to find
//! the smallest burst that lets the capture through ([`cycle`]). Then
//! [`propose`] turns it all into ports and routes, each value with the
//! observation it comes from, and [`render`] writes the TOML.
//!
//! Invariants:
//! - the proposal lets its own capture through: every check it contains is
//!   one that every frame of the capture passes (error frames excepted: the
//!   engine always drops them), which [`verify`] confirms by compiling the file
//!   and replaying the capture through the engine;
//! - memory is bounded per id, whatever the capture's length;
//! - the output depends only on the inputs (same capture, same file, byte for byte).

pub mod checksum;
pub mod counter;
pub mod cycle;
pub mod dbcs;
pub mod intervals;
pub mod observe;
pub mod paths;
pub mod propose;
pub mod render;
pub mod scan;
pub mod signals;
pub mod toml_text;
pub mod verify;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use self::counter::CounterMargins;
use self::cycle::{BurstMeter, CycleCandidate, CycleMargins};
use self::dbcs::{BusCodecs, DbcSet};
use self::observe::IdStats;
use self::propose::{PortProposal, Proposal, RouteContext};
use self::scan::{BusNames, ScanOptions};
use self::signals::RangeMargins;
use crate::codec::Lookup;
use crate::frame::{CanId, Frame};
use crate::logs::LogError;
use crate::rules::Trust;
use crate::time::Timestamp;

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

/// Per-(bus, id) statistics of the first pass.
#[derive(Default)]
struct IdTable {
    index: HashMap<(usize, CanId), usize>,
    stats: Vec<IdStats>,
    /// Per bus: frames, error frames.
    buses: Vec<(u64, u64)>,
    codecs: Vec<Option<Arc<BusCodecs>>>,
}

impl IdTable {
    fn observe(&mut self, dbcs: &DbcSet, names: &BusNames, bus: usize, now: Timestamp, frame: &Frame) {
        if self.buses.len() <= bus {
            self.buses.resize(bus + 1, (0, 0));
            self.codecs.resize(bus + 1, None);
        }
        if let Some(counts) = self.buses.get_mut(bus) {
            counts.0 += 1;
            if frame.is_error() {
                counts.1 += 1;
                return;
            }
        }
        let key = (bus, frame.id());
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                let codecs = self
                    .codecs
                    .get_mut(bus)
                    .map(|c| Arc::clone(c.get_or_insert_with(|| Arc::new(dbcs.for_bus(names.name(bus))))));
                let message = codecs.as_ref().and_then(|c| match c.table.lookup(frame.id()) {
                    Lookup::Message(key, codec) => Some((Arc::new(codec.clone()), c.model(key).to_vec())),
                    _ => None,
                });
                let stats =
                    IdStats::new(bus, frame.id(), now, message.as_ref().map(|(c, m)| (Arc::clone(c), m.as_slice())));
                self.stats.push(stats);
                self.index.insert(key, self.stats.len() - 1);
                self.stats.len() - 1
            }
        };
        if let Some(s) = self.stats.get_mut(i) {
            s.observe(now, frame);
        }
    }
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

    let proposal = propose_all(options, &names, &table, &meters, files)?;
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

fn propose_all(
    options: &LearnOptions,
    names: &BusNames,
    table: &IdTable,
    meters: &HashMap<(usize, CanId), (CycleCandidate, BurstMeter)>,
    files: Vec<scan::FileSummary>,
) -> Result<Proposal, LearnError> {
    let out_dir = output_dir(&options.output);
    // Buses by name; ids by kind then value.
    let mut by_bus: BTreeMap<&str, Vec<&IdStats>> = BTreeMap::new();
    for s in &table.stats {
        by_bus.entry(names.name(s.bus)).or_default().push(s);
    }
    let capture_end = table.stats.iter().map(|s| s.last).max().unwrap_or_default();
    let mut ports = Vec::new();
    let mut routes = Vec::new();
    let mut taken = BTreeSet::new();
    for (bus, mut ids) in by_bus {
        ids.sort_by_key(|s| (s.id.is_extended(), s.id.raw()));
        let bus_index = ids.first().map_or(0, |s| s.bus);
        let codecs = table.codecs.get(bus_index).cloned().flatten().unwrap_or_else(|| Arc::new(BusCodecs::empty()));
        let (frames, error_frames) = table.buses.get(bus_index).copied().unwrap_or((0, 0));
        let dbc = codecs.files.iter().map(|f| paths::relative(&out_dir, f)).collect::<Result<Vec<_>, _>>()?;
        let in_dbc: Vec<&&IdStats> = ids.iter().filter(|s| s.message.is_some()).collect();
        ports.push(PortProposal {
            name: bus.to_owned(),
            medium: if ids.iter().any(|s| s.fd_frames > 0) { "can-fd" } else { "can" },
            trust: if options.hostile.iter().any(|h| h == bus) { Trust::Hostile } else { Trust::Trusted },
            dbc,
            remote_frames: ids.iter().any(|s| s.remote_frames > 0),
            frames,
            error_frames,
            ids: ids.len(),
            ids_in_dbc: in_dbc.len(),
            frames_in_dbc: in_dbc.iter().map(|s| s.frames).sum(),
        });
        let to: Vec<String> = options.forward.iter().filter(|(f, _)| f == bus).map(|(_, t)| t.clone()).collect();
        let (pool_list, pools) = pools(&ids);
        for s in ids {
            let cx = RouteContext {
                bus,
                codecs: &codecs,
                to: &to,
                minimal_burst: meters.get(&(s.bus, s.id)).map(|(_, m)| m.minimal_burst()),
                margins: &options.margins,
                pool: pools.get(&s.id).and_then(|i| pool_list.get(*i)),
                capture_end,
            };
            let mut route = propose::route(s, &cx);
            route.name = propose::unique_name(bus, &route, s.id, &mut taken);
            routes.push(route);
        }
    }
    let name = match files.first() {
        Some(f) => format!(
            "learned from {}",
            f.path.file_name().map_or_else(|| f.path.display().to_string(), |n| n.to_string_lossy().into_owned())
        ),
        None => "learned".to_owned(),
    };
    Ok(Proposal { name, files, ports, routes })
}

/// Signal statistics pooled per layout over the decodable messages of one
/// bus (groups of two or more), and each member's pool.
fn pools(ids: &[&IdStats]) -> (Vec<propose::Pool>, HashMap<CanId, usize>) {
    let mut groups: BTreeMap<String, Vec<&IdStats>> = BTreeMap::new();
    for s in ids {
        if let Some(m) = s.message.as_ref().filter(|m| m.too_short == 0) {
            groups.entry(m.layout_key()).or_default().push(s);
        }
    }
    let mut list = Vec::new();
    let mut by_id = HashMap::new();
    for members in groups.into_values().filter(|g| g.len() > 1) {
        let mut signals: Vec<signals::SignalStats> = Vec::new();
        for m in members.iter().filter_map(|s| s.message.as_ref()) {
            if signals.is_empty() {
                signals = m.signals.clone();
            } else {
                for (into, from) in signals.iter_mut().zip(&m.signals) {
                    into.merge(from);
                }
            }
        }
        for s in &members {
            by_id.insert(s.id, list.len());
        }
        list.push(propose::Pool {
            members: members.iter().filter_map(|s| s.message.as_ref()).map(|m| m.codec.name().to_owned()).collect(),
            signals,
        });
    }
    (list, by_id)
}

/// The directory `path` would be written in.
pub fn output_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
