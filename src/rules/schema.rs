//! The rule file as written: serde structures mirroring the TOML, every value
//! that a diagnostic may need to point at wrapped in [`Spanned`].
//!
//! This layer only describes syntax and types; names are not resolved and
//! nothing is cross-checked here (that is [`super::compile`]'s job). Unknown keys
//! are refused (`deny_unknown_fields`) so that a typo is an error with its
//! position rather than a silently ignored setting. `docs/rules.md` documents
//! every key; keep the two in step.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A whole rule file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Format version; only 1 exists.
    pub version: Spanned<u32>,
    /// Gateway-wide settings.
    #[serde(default)]
    pub gateway: Option<GatewaySection>,
    /// Zones by name.
    #[serde(default)]
    pub zones: BTreeMap<Spanned<String>, ZoneSection>,
    /// Ports by name.
    #[serde(default)]
    pub ports: BTreeMap<Spanned<String>, PortSection>,
    /// Vehicle state variables by name.
    #[serde(default)]
    pub state: BTreeMap<Spanned<String>, StateSection>,
    /// Devices on the Ethernet link, by the name their link keys carry.
    #[serde(default)]
    pub devices: BTreeMap<Spanned<String>, DeviceSection>,
    /// Ids authenticated with AUTOSAR SecOC.
    #[serde(default)]
    pub secured: Vec<SecuredSection>,
    /// Routes, in file order.
    #[serde(default)]
    pub route: Vec<RouteSection>,
    /// Mode machine settings.
    #[serde(default)]
    pub modes: Option<ModesSection>,
    /// Mode triggers, in file order.
    #[serde(default)]
    pub trigger: Vec<TriggerSection>,
}

/// `[gateway]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    /// A name for reports.
    pub name: Option<Spanned<String>>,
    /// Security events per second allowed per (port, event class) before they are
    /// suppressed and counted.
    pub event_rate: Option<Spanned<f64>>,
    /// Burst of security events per (port, event class).
    pub event_burst: Option<Spanned<f64>>,
}

/// `[zones.NAME]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSection {
    /// `trusted` or `hostile`.
    pub trust: Spanned<String>,
}

/// `[ports.NAME]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSection {
    /// `can`, `can-fd` or `ethernet`.
    pub medium: Spanned<String>,
    /// The zone it belongs to.
    pub zone: Spanned<String>,
    /// DBC files describing its traffic, relative to the rule file.
    #[serde(default)]
    pub dbc: Vec<Spanned<String>>,
    /// The interface it is bound to by default (`can0`); also the log bus name
    /// replay maps to it when no `--port` is given.
    pub interface: Option<Spanned<String>>,
    /// Ingress budget (bus load) for the port.
    pub ingress: Option<RateSection>,
    /// `drop` (default) or `route`: whether remote frames may be routed at all.
    pub remote_frames: Option<Spanned<String>>,
    /// `event` (default for trusted ports) or `ignore`: what an id that no DBC
    /// of the port knows and no route names does besides being dropped.
    pub unknown_ids: Option<Spanned<String>>,
    /// Watch the cycle time of every DBC message of the port that has one
    /// (`GenMsgCycleTime`), with this tolerance and MIA factor.
    pub monitor: Option<MonitorSection>,
}

/// `[ports.NAME.monitor]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorSection {
    /// Allowed relative deviation of the cycle time (0.5 = 50 %).
    pub tolerance: Option<Spanned<f64>>,
    /// A message is missing after this many cycle times without a frame.
    pub mia_cycles: Option<Spanned<f64>>,
}

/// A token bucket: `{ per_second = 100, burst = 10 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSection {
    /// Sustained frames per second.
    pub per_second: Spanned<f64>,
    /// How many frames may come at once.
    pub burst: Spanned<f64>,
}

/// `[devices.NAME]`: a device on the Ethernet link.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSection {
    /// The Ethernet port it talks through.
    pub port: Spanned<String>,
}

/// `[[secured]]`: an id authenticated with SecOC on one port.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuredSection {
    /// The port.
    pub port: Spanned<String>,
    /// The message, by DBC name.
    pub message: Spanned<String>,
    /// The SecOC key's name in the key store.
    pub key: Spanned<String>,
    /// `receive` (default): frames arriving on the port are verified;
    /// `send`: frames the gateway forwards to the port are authenticated by it.
    pub direction: Option<Spanned<String>>,
    /// Profile, DataId, payload, freshness and MAC layout (see `docs/rules.md`).
    pub layout: Spanned<crate::secoc::LayoutSpec>,
}

/// `[state.NAME]`: a vehicle state variable decoded from trusted traffic.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSection {
    /// The port whose traffic carries it (must be trusted).
    pub port: Spanned<String>,
    /// The message, by DBC name.
    pub message: Spanned<String>,
    /// The signal, by DBC name.
    pub signal: Spanned<String>,
    /// After this long without an update the value is unknown.
    pub max_age_ms: Spanned<f64>,
}

/// What a route matches: exactly one of `message`, `id`, `ids`, or `id` with `mask`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    /// A unique name for reports and events.
    pub name: Spanned<String>,
    /// The ingress port.
    pub from: Spanned<String>,
    /// Egress ports (may be empty: the frame is allowed on its bus and checked,
    /// but not copied anywhere).
    #[serde(default)]
    pub to: Vec<Spanned<String>>,
    /// A message by its DBC name (in the DBCs of `from`).
    pub message: Option<Spanned<String>>,
    /// A numeric id (`0x123`).
    pub id: Option<Spanned<i64>>,
    /// With `id`: only the bits set in `mask` must match.
    pub mask: Option<Spanned<i64>>,
    /// An inclusive id range `"0x700-0x7FF"`.
    pub ids: Option<Spanned<String>>,
    /// For `id`/`ids`/`mask`: match extended (29-bit) ids instead of standard ones.
    pub extended: Option<Spanned<bool>>,
    /// Frame kinds allowed: `data` (default), `remote`.
    pub kinds: Option<Vec<Spanned<String>>>,
    /// For routes from an Ethernet port: the devices allowed to use the route
    /// (default: every device of the port).
    pub devices: Option<Vec<Spanned<String>>>,
    /// Never cut by a mode change.
    pub essential: Option<Spanned<bool>>,
    /// `keep` or `cut`: what degraded mode does with this route.
    pub degraded: Option<Spanned<String>>,
    /// A condition on vehicle state and the frame's own signals.
    pub when: Option<Spanned<String>>,
    /// A token bucket for the route.
    pub rate: Option<RateSection>,
    /// Minimum time between two forwarded frames of one id.
    pub min_interval_ms: Option<Spanned<f64>>,
    /// `exact` (default) or `any`: must the length equal the DBC length.
    pub length: Option<Spanned<String>>,
    /// Allowed payload lengths (for routes without a DBC message, or to allow
    /// several lengths); replaces `length`.
    pub lengths: Option<Vec<Spanned<u8>>>,
    /// Check every signal against its DBC range (default true).
    pub dbc_ranges: Option<Spanned<bool>>,
    /// Require enumerated signals to hold a described value (default true).
    pub enums: Option<Spanned<bool>>,
    /// Alive counter check.
    pub counter: Option<CounterSection>,
    /// Checksum check.
    pub checksum: Option<ChecksumSection>,
    /// Expected cycle time of the matched message on `from`.
    pub cycle: Option<CycleSection>,
    /// Per-signal constraints.
    #[serde(default)]
    pub signals: BTreeMap<Spanned<String>, SignalSection>,
}

/// `counter = { signal = "X", max_step = 1 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterSection {
    /// The counter signal.
    pub signal: Spanned<String>,
    /// Largest allowed advance per frame (default 1; 2 tolerates one lost frame).
    pub max_step: Option<Spanned<u64>>,
    /// After this long without a frame the counter may restart anywhere (default 1000 ms).
    pub resync_ms: Option<Spanned<f64>>,
}

/// `checksum = { signal = "X", algorithm = "crc8-j1850", bytes = "0..4" }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksumSection {
    /// The checksum signal (a whole byte).
    pub signal: Spanned<String>,
    /// The algorithm name.
    pub algorithm: Spanned<String>,
    /// The bytes it covers, `"start..end"` from 0 (default: the whole DBC
    /// length, or the authentic payload of a SecOC-secured message).
    pub bytes: Option<Spanned<String>>,
}

/// `cycle = { period_ms = 10, tolerance = 0.5, mia_ms = 100, burst = 4 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CycleSection {
    /// Expected period.
    pub period_ms: Spanned<f64>,
    /// Allowed relative deviation (default 0.5).
    pub tolerance: Option<Spanned<f64>>,
    /// Missing after this long without a frame (default 5 periods; 0 disables).
    pub mia_ms: Option<Spanned<f64>>,
    /// How many frames may arrive early in a row before the id counts as
    /// injected (default 4).
    pub burst: Option<Spanned<f64>>,
}

/// `[route.signals.NAME]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalSection {
    /// Smallest allowed physical value.
    pub min: Option<Spanned<f64>>,
    /// Largest allowed physical value.
    pub max: Option<Spanned<f64>>,
    /// Allowed values: value-description labels or raw numbers.
    pub allow: Option<Vec<Spanned<AllowedValue>>>,
    /// Largest allowed change of the physical value between consecutive
    /// accepted frames of the id.
    pub max_step: Option<Spanned<f64>>,
}

/// An entry of `allow`: a label or a raw number.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(untagged)]
pub enum AllowedValue {
    /// A raw value.
    Raw(i64),
    /// A value-description label.
    Label(String),
}

/// `[modes]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModesSection {
    /// Quiet time before degraded mode is left automatically (default 2000 ms).
    pub recovery_quiet_ms: Option<Spanned<f64>>,
    /// Enter isolated mode after this many degradations within `window_ms`.
    pub isolate_after: Option<EscalationSection>,
    /// The status frame announcing the mode.
    pub status: Option<StatusSection>,
}

/// `isolate_after = { degradations = 3, window_ms = 60000 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationSection {
    /// Number of entries into degraded mode.
    pub degradations: Spanned<u32>,
    /// Within this window.
    pub window_ms: Spanned<f64>,
}

/// `status = { port = "drive", message = "GW_Status", period_ms = 100, ... }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusSection {
    /// Where to send it.
    pub port: Spanned<String>,
    /// The DBC message.
    pub message: Spanned<String>,
    /// The signal holding the mode (0 normal, 1 degraded, 2 isolated).
    pub mode_signal: Spanned<String>,
    /// The signal holding the cause code (optional).
    pub cause_signal: Option<Spanned<String>>,
    /// The signal holding the dropped-frame count (optional, saturating).
    pub drops_signal: Option<Spanned<String>>,
    /// An alive counter signal to advance (optional).
    pub counter_signal: Option<Spanned<String>>,
    /// A checksum to fill in (optional).
    pub checksum: Option<ChecksumSection>,
    /// Period.
    pub period_ms: Spanned<f64>,
}

/// `[[trigger]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerSection {
    /// A unique name.
    pub name: Spanned<String>,
    /// `flood`, `drops`, `mia` or `fault`.
    pub kind: Spanned<String>,
    /// The port it watches (flood: required; drops and fault: optional filter).
    pub port: Option<Spanned<String>>,
    /// flood: frames within the window.
    pub frames: Option<Spanned<u32>>,
    /// drops: drops within the window.
    pub count: Option<Spanned<u32>>,
    /// flood and drops: the sliding window.
    pub window_ms: Option<Spanned<f64>>,
    /// drops: the layer whose drops count (`sanitize`, `route`, `authenticate`,
    /// `content`, `context`, `rate`, `behaviour`).
    pub layer: Option<Spanned<String>>,
    /// drops: one drop reason instead of a whole layer.
    pub reason: Option<Spanned<String>>,
    /// fault: `bus-off`, `queue-overflow`, `link-down`, `integrity` or `any`.
    pub fault: Option<Spanned<String>>,
    /// `degraded` or `isolated`.
    pub enter: Spanned<String>,
    /// `auto` (default for degraded) or `manual`.
    pub recovery: Option<Spanned<String>>,
}
