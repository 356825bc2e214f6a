//! The proposal: what `learn` decided, before it is written as TOML. One
//! port per bus, one route per (bus, id), each with the comment lines that
//! say what its values come from.
//!
//! [`super::route`] and [`super::content`] make the decisions and
//! [`super::assemble`] puts them in order; [`super::render`] writes them.
//! Invariant: every check a proposal holds is one that every frame of the
//! capture it was learned from passes.

use super::counter::CounterRule;
use super::cycle::CycleRule;
use super::scan::FileSummary;
use crate::e2e::ChecksumAlgorithm;
use crate::frame::CanId;
use crate::rules::Trust;

/// The whole proposal.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    /// The gateway's name.
    pub name: String,
    /// The captures learned from.
    pub files: Vec<FileSummary>,
    /// One port per bus, sorted by name.
    pub ports: Vec<PortProposal>,
    /// One route per (bus, id), sorted by bus then id.
    pub routes: Vec<RouteProposal>,
}

/// A port (and its zone, named after it).
#[derive(Clone, Debug, PartialEq)]
pub struct PortProposal {
    /// The bus name: the port's name and interface.
    pub name: String,
    /// `can` or `can-fd`.
    pub medium: &'static str,
    /// Its zone's trust.
    pub trust: Trust,
    /// DBC paths relative to the rule file.
    pub dbc: Vec<String>,
    /// True when remote frames were seen (the port must route them).
    pub remote_frames: bool,
    /// Frames seen on the bus (error frames included).
    pub frames: u64,
    /// Error frames seen (the gateway always drops them).
    pub error_frames: u64,
    /// Distinct ids seen.
    pub ids: usize,
    /// Ids a DBC of the bus defines.
    pub ids_in_dbc: usize,
    /// Frames of those ids.
    pub frames_in_dbc: u64,
}

/// How a route names its frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteMatch {
    /// `message = "NAME"`.
    Message(String),
    /// `id = 0x...` (content checks apply if a DBC defines it).
    Id(CanId),
    /// `id = 0x..., mask = <all bits>`: the one id, without the DBC message
    /// (for frames too short to decode).
    IdWithoutDbc(CanId),
}

/// A route's length check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LengthRule {
    /// The DBC length (the default; nothing written).
    Exact,
    /// `lengths = [...]`.
    Lengths(Vec<u8>),
}

/// An entry of `allow`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowEntry {
    /// A value-description label.
    Label(String),
    /// A raw number.
    Raw(i64),
}

/// `[route.signals.NAME]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalRule {
    /// The signal.
    pub name: String,
    /// What was observed.
    pub note: String,
    /// Proposed minimum.
    pub min: Option<f64>,
    /// Proposed maximum.
    pub max: Option<f64>,
    /// Proposed allowed values.
    pub allow: Option<Vec<AllowEntry>>,
}

/// A counter to check.
#[derive(Clone, Debug, PartialEq)]
pub struct CounterProposal {
    /// The signal.
    pub signal: String,
    /// What the detector found.
    pub rule: CounterRule,
}

/// One route.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteProposal {
    /// Unique name.
    pub name: String,
    /// Ingress port.
    pub from: String,
    /// Egress ports.
    pub to: Vec<String>,
    /// What it matches.
    pub matches: RouteMatch,
    /// `kinds`, when remote frames were seen.
    pub kinds: Option<Vec<&'static str>>,
    /// Length check.
    pub lengths: LengthRule,
    /// False when the capture breaks a DBC range.
    pub dbc_ranges: bool,
    /// False when the capture holds undescribed values.
    pub enums: bool,
    /// Alive counter.
    pub counter: Option<CounterProposal>,
    /// Checksum signal and algorithm.
    pub checksum: Option<(String, ChecksumAlgorithm)>,
    /// Cycle.
    pub cycle: Option<CycleRule>,
    /// Per-signal constraints.
    pub signals: Vec<SignalRule>,
    /// Comment lines: what was observed and why each value is what it is.
    pub notes: Vec<String>,
    /// True when a DBC of the bus disagrees with the capture (length, range,
    /// values) and the route relaxes that check.
    pub dbc_disagrees: bool,
}

/// Counts for a summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Ports.
    pub ports: usize,
    /// Routes.
    pub routes: usize,
    /// Routes naming a DBC message.
    pub dbc_routes: usize,
    /// Routes with a cycle.
    pub cycles: usize,
    /// Routes with a counter.
    pub counters: usize,
    /// Routes with a checksum.
    pub checksums: usize,
    /// Signal constraints.
    pub signal_rules: usize,
    /// Routes where the DBC disagrees with the capture (length, range, values).
    pub dbc_disagreements: usize,
}

impl Proposal {
    /// Counts of what was proposed.
    pub fn summary(&self) -> Summary {
        let routes = &self.routes;
        Summary {
            ports: self.ports.len(),
            routes: routes.len(),
            dbc_routes: routes.iter().filter(|r| matches!(r.matches, RouteMatch::Message(_))).count(),
            cycles: routes.iter().filter(|r| r.cycle.is_some()).count(),
            counters: routes.iter().filter(|r| r.counter.is_some()).count(),
            checksums: routes.iter().filter(|r| r.checksum.is_some()).count(),
            signal_rules: routes.iter().map(|r| r.signals.len()).sum(),
            dbc_disagreements: routes.iter().filter(|r| r.dbc_disagrees).count(),
        }
    }
}

/// `0x123` or `0x18DAF110`.
pub fn hex_id(id: CanId) -> String {
    if id.is_extended() { format!("0x{:08X}", id.raw()) } else { format!("0x{:03X}", id.raw()) }
}
