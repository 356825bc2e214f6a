//! Compiled rules: the fixed lookup tables the engine runs on.
//!
//! Built once by [`super::compile`] from rule files and DBC files; immutable
//! afterwards (a reload builds a new set). Everything the per-frame path needs
//! is an index into a `Vec` or a direct table: no string is compared, no map
//! is hashed, nothing is allocated while frames flow.
//!
//! Invariants established by the compiler:
//! - at most [`MAX_PORTS`] ports, so a [`PortSet`] is one `u64`;
//! - every [`RouteId`], [`SlotId`], [`StateId`] and [`TriggerId`] stored in a
//!   table is a valid index of the matching `Vec`;
//! - a route's `to` never contains its own `from` port;
//! - no route from a hostile zone is `essential` or kept in degraded mode;
//! - two routes for the same (port, id) have disjoint destinations;
//! - every signal index refers to the slot's message codec.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::codec::{CodecTable, MessageCodec, SignalIndex};
use crate::dbc::Dbc;
use crate::diagnostic::Diagnostic;
use crate::e2e::ChecksumAlgorithm;
use crate::engine::bucket::RateSpec;
use crate::engine::modes::{Mode, ModeSettings};
use crate::engine::verdict::{DropReason, Layer};
use crate::frame::CanId;

/// The largest number of ports a gateway can have.
pub const MAX_PORTS: usize = 64;

/// Index of a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortId(pub u8);

/// Index of a route, in rule-file order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteId(pub u32);

/// Index of a per-(port, id) message slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId(pub u32);

/// Index of a vehicle state variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateId(pub u32);

/// Index of a device of the Ethernet link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub u8);

/// The largest number of devices.
pub const MAX_DEVICES: usize = 64;

/// A set of devices as a bit mask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DeviceSet(pub u64);

impl DeviceSet {
    /// True when `device` is in the set.
    pub const fn contains(self, device: DeviceId) -> bool {
        self.0 & (1 << device.0) != 0
    }

    /// Adds `device`.
    pub fn insert(&mut self, device: DeviceId) {
        self.0 |= 1 << device.0;
    }
}

/// A device on the Ethernet link, known by the name its link keys carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// Its name (the `device` of its key files).
    pub name: String,
    /// The Ethernet port it talks through.
    pub port: PortId,
}

/// An id authenticated with SecOC on one port.
#[derive(Clone, Debug)]
pub struct Secured {
    /// The port.
    pub port: PortId,
    /// The id.
    pub id: CanId,
    /// The message's name (for reports).
    pub message: String,
    /// The SecOC key's name in the key store.
    pub key: String,
    /// True when the gateway authenticates frames it sends to the port;
    /// false when it verifies frames arriving on it.
    pub send: bool,
    /// Layout, freshness scheme and acceptance window.
    pub profile: crate::secoc::SecOcProfile,
}

/// Index of a mode trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TriggerId(pub u32);

/// A set of ports as a bit mask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortSet(pub u64);

impl PortSet {
    /// No port.
    pub const EMPTY: PortSet = PortSet(0);

    /// The set holding only `port`.
    pub const fn single(port: PortId) -> Self {
        PortSet(1 << port.0)
    }

    /// True when `port` is in the set.
    pub const fn contains(self, port: PortId) -> bool {
        self.0 & (1 << port.0) != 0
    }

    /// Adds `port`.
    pub fn insert(&mut self, port: PortId) {
        self.0 |= 1 << port.0;
    }

    /// True for the empty set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Ports in both sets.
    pub const fn intersection(self, other: PortSet) -> PortSet {
        PortSet(self.0 & other.0)
    }

    /// Ports in either set.
    pub const fn union(self, other: PortSet) -> PortSet {
        PortSet(self.0 | other.0)
    }

    /// The ports, in index order (one step per port in the set).
    pub fn iter(self) -> impl Iterator<Item = PortId> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros();
            bits &= bits - 1;
            Some(PortId(i as u8))
        })
    }

    /// The number of ports.
    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }
}

/// Whether a zone is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Trust {
    /// Vehicle-internal, verified.
    Trusted,
    /// Anything it sends may be an attack.
    Hostile,
}

impl Trust {
    /// The name used in rule files.
    pub const fn name(self) -> &'static str {
        match self {
            Trust::Trusted => "trusted",
            Trust::Hostile => "hostile",
        }
    }
}

/// The physical medium of a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Medium {
    /// Classic CAN.
    Can,
    /// CAN FD (classic frames are accepted too).
    CanFd,
    /// The authenticated Ethernet link (carries classic and FD frames).
    Ethernet,
}

impl Medium {
    /// The name used in rule files.
    pub const fn name(self) -> &'static str {
        match self {
            Medium::Can => "can",
            Medium::CanFd => "can-fd",
            Medium::Ethernet => "ethernet",
        }
    }

    /// True when CAN FD frames may arrive on it.
    pub const fn carries_fd(self) -> bool {
        !matches!(self, Medium::Can)
    }
}

/// A zone.
#[derive(Clone, Debug, PartialEq)]
pub struct Zone {
    /// Its name.
    pub name: String,
    /// Its trust level.
    pub trust: Trust,
}

/// A port, with everything needed to look up frames arriving on it.
#[derive(Clone, Debug)]
pub struct Port {
    /// Its name.
    pub name: String,
    /// Its medium.
    pub medium: Medium,
    /// Index into [`CompiledRules::zones`].
    pub zone: usize,
    /// The zone's trust, copied for the hot path.
    pub trust: Trust,
    /// The interface it is bound to by default.
    pub interface: Option<String>,
    /// Ingress budget.
    pub ingress: Option<RateSpec>,
    /// Whether remote frames may be routed.
    pub route_remote_frames: bool,
    /// Whether unknown ids raise an event.
    pub report_unknown_ids: bool,
    /// True for Ethernet ports: a frame counts only when it came in an
    /// authenticated datagram, with the device that sealed it.
    pub authenticated: bool,
    /// The port's DBC files (indices into [`CompiledRules::dbcs`]).
    pub dbcs: Vec<usize>,
    /// The codecs of the port's DBC messages.
    pub codecs: CodecTable,
    /// Frame lookup.
    pub lookup: PortLookup,
}

/// What is known about one id on one port: its slot and its routes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LookupEntry {
    /// The per-id slot, if the id has one (a DBC message or an exact-id route).
    pub slot: Option<SlotId>,
    /// The routes, as a range of [`PortLookup::route_lists`].
    pub routes_start: u32,
    /// Number of routes.
    pub routes_len: u32,
}

/// A pattern route on extended ids, tested when no exact entry exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdPattern {
    /// Inclusive range of raw ids.
    Range(u32, u32),
    /// `id & mask == value & mask`.
    Mask {
        /// The id bits to match.
        value: u32,
        /// Which bits matter.
        mask: u32,
    },
}

impl IdPattern {
    /// True when `raw` matches.
    pub const fn matches(self, raw: u32) -> bool {
        match self {
            IdPattern::Range(lo, hi) => raw >= lo && raw <= hi,
            IdPattern::Mask { value, mask } => raw & mask == value & mask,
        }
    }
}

/// The id index of one port.
#[derive(Clone, Debug, Default)]
pub struct PortLookup {
    /// Direct index for the 2048 standard ids (empty entries have no slot, no routes).
    pub standard: Vec<LookupEntry>,
    /// Exact extended ids, sorted by raw id.
    pub extended: Vec<(u32, LookupEntry)>,
    /// Extended-id pattern routes, for ids without an exact entry.
    pub extended_patterns: Vec<(IdPattern, RouteId)>,
    /// Concatenated route lists referenced by entries.
    pub route_lists: Vec<RouteId>,
}

impl PortLookup {
    /// The entry for `id` (the default, empty entry when nothing is known).
    /// Extended ids without an exact entry have their pattern routes listed
    /// by [`PortLookup::pattern_routes`].
    #[inline]
    pub fn entry(&self, id: CanId) -> LookupEntry {
        if id.is_extended() {
            match self.extended.binary_search_by_key(&id.raw(), |(raw, _)| *raw) {
                Ok(i) => self.extended.get(i).map(|(_, e)| *e).unwrap_or_default(),
                Err(_) => LookupEntry::default(),
            }
        } else {
            self.standard.get(id.raw() as usize).copied().unwrap_or_default()
        }
    }

    /// The routes of an entry.
    #[inline]
    pub fn routes(&self, entry: LookupEntry) -> &[RouteId] {
        let start = entry.routes_start as usize;
        self.route_lists.get(start..start + entry.routes_len as usize).unwrap_or(&[])
    }

    /// Pattern routes matching an extended id that has no exact entry.
    pub fn pattern_routes(&self, raw: u32) -> impl Iterator<Item = RouteId> + '_ {
        self.extended_patterns.iter().filter(move |(p, _)| p.matches(raw)).map(|(_, r)| *r)
    }
}

/// Per-(port, id) checks and state bindings that do not depend on the route.
#[derive(Clone, Debug)]
pub struct Slot {
    /// The port.
    pub port: PortId,
    /// The id.
    pub id: CanId,
    /// The DBC message, when the port's DBCs define the id.
    pub codec: Option<Arc<MessageCodec>>,
    /// Alive counter check.
    pub counter: Option<CounterCheck>,
    /// Checksum check.
    pub checksum: Option<ChecksumCheck>,
    /// Cycle-time watch.
    pub cycle: Option<CycleWatch>,
    /// Vehicle state variables this message updates.
    pub state_updates: Vec<(SignalIndex, StateId)>,
    /// True when an essential route carries this message (its MIA fires `mia` triggers).
    pub essential: bool,
    /// The SecOC entry verifying this id on this port (index into [`CompiledRules::secured`]).
    pub secured: Option<usize>,
    /// Destinations that get the frame re-authenticated by the gateway (ports
    /// where the id is secured for sending).
    pub resign_to: PortSet,
}

impl Slot {
    /// Writes alive counter `counter` (modulo its range) and then the checksum
    /// into `payload`, the way a sending ECU protects the message. Does
    /// nothing for checks the slot does not have.
    pub fn protect(&self, payload: &mut [u8], counter: u64) {
        let Some(codec) = &self.codec else { return };
        if let Some(c) = self.counter
            && let Some(signal) = codec.signal(c.signal)
        {
            let value = if c.bits >= 64 { counter } else { counter % (1u64 << c.bits) };
            let _ = signal.encode_raw(crate::codec::RawValue::Unsigned(value), payload);
        }
        if let Some(cs) = self.checksum
            && let Some(value) = cs.compute(self.id, payload)
            && let Some(b) = payload.get_mut(cs.byte)
        {
            *b = value;
        }
    }
}

/// An alive counter check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CounterCheck {
    /// The counter signal.
    pub signal: SignalIndex,
    /// Its width in bits.
    pub bits: u32,
    /// Largest allowed advance.
    pub max_step: u64,
    /// After this long without a frame, any value is accepted.
    pub resync: Duration,
}

/// A checksum check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChecksumCheck {
    /// The byte holding the checksum (from the start of the frame).
    pub byte: usize,
    /// The algorithm.
    pub algorithm: ChecksumAlgorithm,
    /// The bytes it covers, `start..end` (the checksum byte left out).
    pub start: usize,
    /// See `start`.
    pub end: usize,
}

impl ChecksumCheck {
    /// The checksum `payload` should carry.
    pub fn compute(&self, id: CanId, payload: &[u8]) -> Option<u8> {
        let covered = payload.get(self.start..self.end)?;
        Some(self.algorithm.compute(id, covered, self.byte.wrapping_sub(self.start)))
    }

    /// True when `payload` carries the right checksum.
    pub fn verify(&self, id: CanId, payload: &[u8]) -> bool {
        self.compute(id, payload).is_some_and(|c| payload.get(self.byte) == Some(&c))
    }
}

/// The expected timing of a cyclic message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CycleWatch {
    /// Expected period.
    pub period: Duration,
    /// Allowed relative deviation.
    pub tolerance: f64,
    /// Missing after this long (`None`: not watched for MIA).
    pub mia: Option<Duration>,
    /// Early frames tolerated in a row before the id counts as injected.
    pub burst: f64,
}

/// How far a physical value may lie beyond a range bound and still count as
/// on it. Physical values are computed in floating point (`-7 * 0.1` is
/// `-0.7000000000000001`), so a bound written in decimal, in a DBC or a rule
/// file, is met with a millionth of a raw step to spare (plus a few ulps of the
/// bound itself). No raw value lies that close beyond a bound, so nothing a
/// signal can really hold slips through: a value one raw step out is still out.
pub fn bound_slack(factor: f64, bound: f64) -> f64 {
    factor.abs() * 1e-6 + bound.abs() * 1e-15
}

/// A constraint on one signal of a route's message.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalCheck {
    /// The signal.
    pub signal: SignalIndex,
    /// The signal's name (for reports).
    pub name: String,
    /// Smallest allowed physical value, less its [`bound_slack`].
    pub min: Option<f64>,
    /// Largest allowed physical value, plus its [`bound_slack`].
    pub max: Option<f64>,
    /// Allowed raw values, sorted (`None`: any).
    pub allowed: Option<Vec<i64>>,
    /// Largest change between consecutive accepted frames, with the index of
    /// its state cell in the engine.
    pub max_step: Option<(f64, usize)>,
}

/// A compiled condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// Always this value.
    Constant(bool),
    /// `operand op number` on the physical value.
    Compare(Operand, crate::rules::expr::CompareOp, f64),
    /// `operand op label` on the raw value.
    CompareRaw(Operand, crate::rules::expr::CompareOp, i64),
    /// `operand in [...]`: raw values (labels) and physical values (numbers).
    In(Operand, Vec<i64>, Vec<f64>),
    /// Not zero.
    Truthy(Operand),
    /// Negation (unknown stays unknown).
    Not(Box<Condition>),
    /// Kleene conjunction.
    And(Box<Condition>, Box<Condition>),
    /// Kleene disjunction.
    Or(Box<Condition>, Box<Condition>),
}

impl Condition {
    /// True when some operand is a signal of the frame being checked.
    pub fn reads_signals(&self) -> bool {
        match self {
            Condition::Constant(_) => false,
            Condition::Compare(o, ..) | Condition::CompareRaw(o, ..) | Condition::In(o, ..) | Condition::Truthy(o) => {
                matches!(o, Operand::Signal(_))
            }
            Condition::Not(a) => a.reads_signals(),
            Condition::And(a, b) | Condition::Or(a, b) => a.reads_signals() || b.reads_signals(),
        }
    }
}

/// What a condition reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// A vehicle state variable.
    State(StateId),
    /// A signal of the frame being checked.
    Signal(SignalIndex),
}

/// A route, compiled.
#[derive(Clone, Debug)]
pub struct Route {
    /// Its name.
    pub name: String,
    /// Ingress port.
    pub from: PortId,
    /// Egress ports.
    pub to: PortSet,
    /// Never cut by a mode.
    pub essential: bool,
    /// The destinations kept in degraded mode (empty for hostile sources).
    pub degraded_to: PortSet,
    /// The destinations kept in isolated mode: all for essential routes, the
    /// same-zone ones otherwise, none for hostile sources.
    pub isolated_to: PortSet,
    /// True when `from` is hostile.
    pub from_hostile: bool,
    /// The devices allowed to use the route (`None`: any device of the port).
    pub devices: Option<DeviceSet>,
    /// Remote frames allowed.
    pub allow_remote: bool,
    /// Data frames allowed.
    pub allow_data: bool,
    /// The message, if the route names one (or its id is in the port's DBC).
    pub codec: Option<Arc<MessageCodec>>,
    /// Allowed payload lengths as a bit mask (bit n: length n allowed).
    pub lengths: u128,
    /// Signal checks (the rule's constraints merged with the DBC ranges and
    /// value descriptions when those checks are on), evaluated on every
    /// present signal.
    pub signal_checks: Vec<SignalCheck>,
    /// Routes with equal `check_group` have equal `signal_checks` and
    /// `multiplexers` (and no `max_step`, whose state is per route), so the
    /// engine checks a frame once for all of them.
    pub check_group: u32,
    /// Multiplexer switches and the raw values that select at least one
    /// signal (inclusive ranges); a present switch holding another value is
    /// `invalid-multiplexer`. Empty when `enums` is off.
    pub multiplexers: Vec<(SignalIndex, Vec<(u64, u64)>)>,
    /// The condition.
    pub condition: Option<Condition>,
    /// True when the condition reads signals of the frame itself.
    pub condition_reads_signals: bool,
    /// Token bucket.
    pub rate: Option<RateSpec>,
    /// Minimum interval between forwarded frames (per id).
    pub min_interval: Option<Duration>,
    /// A readable description of what it matches (`message VCU_Speed (0x110)`).
    pub matches: String,
}

/// A vehicle state variable.
#[derive(Clone, Debug, PartialEq)]
pub struct StateVar {
    /// Its name.
    pub name: String,
    /// The slot carrying it.
    pub slot: SlotId,
    /// The signal.
    pub signal: SignalIndex,
    /// How long a value stays valid.
    pub max_age: Duration,
}

/// What a trigger watches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TriggerKind {
    /// At least `frames` frames on `port` within `window`.
    Flood {
        /// The port.
        port: PortId,
        /// Frame count.
        frames: u32,
        /// Window.
        window: Duration,
    },
    /// At least `count` drops matching the filter within `window`.
    Drops {
        /// Only drops of frames from this port.
        port: Option<PortId>,
        /// Only drops of this layer.
        layer: Option<Layer>,
        /// Only drops for this reason.
        reason: Option<DropReason>,
        /// Drop count.
        count: u32,
        /// Window.
        window: Duration,
    },
    /// An essential message is missing.
    Mia,
    /// A fault reported by the shell (or read from an error frame).
    Fault {
        /// Only faults of this kind (`None`: any).
        fault: Option<FaultKind>,
        /// Only faults on this port.
        port: Option<PortId>,
    },
}

/// A fault of the gateway or a bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// A CAN controller went bus-off.
    BusOff,
    /// An internal queue overflowed.
    QueueOverflow,
    /// An interface or link went down.
    LinkDown,
    /// An integrity failure (bad rule bundle, key store tampering...).
    Integrity,
}

impl FaultKind {
    /// Every fault kind.
    pub const ALL: [FaultKind; 4] =
        [FaultKind::BusOff, FaultKind::QueueOverflow, FaultKind::LinkDown, FaultKind::Integrity];

    /// The name used in rule files.
    pub const fn name(self) -> &'static str {
        match self {
            FaultKind::BusOff => "bus-off",
            FaultKind::QueueOverflow => "queue-overflow",
            FaultKind::LinkDown => "link-down",
            FaultKind::Integrity => "integrity",
        }
    }

    /// The fault called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A mode trigger.
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    /// Its name.
    pub name: String,
    /// What it watches.
    pub kind: TriggerKind,
    /// The mode it enters.
    pub enter: Mode,
    /// Whether the mode may be left automatically.
    pub automatic_recovery: bool,
}

/// The gateway status frame.
#[derive(Clone, Debug)]
pub struct StatusFrame {
    /// Where it goes.
    pub port: PortId,
    /// Its message.
    pub codec: Arc<MessageCodec>,
    /// The mode signal.
    pub mode_signal: SignalIndex,
    /// The cause signal (trigger index + 1, 0 when normal).
    pub cause_signal: Option<SignalIndex>,
    /// The dropped-frames signal.
    pub drops_signal: Option<SignalIndex>,
    /// The alive counter.
    pub counter_signal: Option<SignalIndex>,
    /// The checksum.
    pub checksum: Option<ChecksumCheck>,
    /// Period.
    pub period: Duration,
}

/// Everything the engine needs, compiled.
#[derive(Clone, Debug)]
pub struct CompiledRules {
    /// The gateway's name.
    pub name: String,
    /// The DBC files, in load order.
    pub dbcs: Vec<Arc<Dbc>>,
    /// Zones.
    pub zones: Vec<Zone>,
    /// Ports (index = [`PortId`]).
    pub ports: Vec<Port>,
    /// Routes in file order (index = [`RouteId`]).
    pub routes: Vec<Route>,
    /// Per-(port, id) slots (index = [`SlotId`]).
    pub slots: Vec<Slot>,
    /// State variables (index = [`StateId`]).
    pub state: Vec<StateVar>,
    /// Devices of the Ethernet link (index = [`DeviceId`]).
    pub devices: Vec<Device>,
    /// SecOC-secured ids.
    pub secured: Vec<Secured>,
    /// Triggers in file order (index = [`TriggerId`]).
    pub triggers: Vec<Trigger>,
    /// Mode machine settings.
    pub modes: ModeSettings,
    /// The status frame, if configured.
    pub status: Option<StatusFrame>,
    /// Security events allowed per (port, class).
    pub event_rate: RateSpec,
    /// Number of `max_step` state cells the engine must allocate.
    pub step_cells: usize,
    /// Warnings of the compilation.
    pub warnings: Vec<Diagnostic>,
}

impl CompiledRules {
    /// The port called `name`.
    pub fn port_by_name(&self, name: &str) -> Option<PortId> {
        self.ports.iter().position(|p| p.name == name).map(|i| PortId(i as u8))
    }

    /// The port bound to interface `iface`, or named `iface`.
    pub fn port_for_interface(&self, iface: &str) -> Option<PortId> {
        self.ports
            .iter()
            .position(|p| p.interface.as_deref() == Some(iface))
            .or_else(|| self.ports.iter().position(|p| p.name == iface))
            .map(|i| PortId(i as u8))
    }

    /// The device called `name`.
    pub fn device_by_name(&self, name: &str) -> Option<DeviceId> {
        self.devices.iter().position(|d| d.name == name).map(|i| DeviceId(i as u8))
    }

    /// The port with id `id`.
    pub fn port(&self, id: PortId) -> Option<&Port> {
        self.ports.get(id.0 as usize)
    }

    /// The route with id `id`.
    pub fn route(&self, id: RouteId) -> Option<&Route> {
        self.routes.get(id.0 as usize)
    }

    /// The names of the ports in `set`.
    pub fn port_names(&self, set: PortSet) -> impl Iterator<Item = &str> {
        set.iter().filter_map(|p| self.port(p)).map(|p| p.name.as_str())
    }
}
