//! The traffic of the simulated vehicle, frame by frame, in virtual time.
//!
//! [`Traffic`] is an iterator of [`SimFrame`]s in time order: every cyclic
//! message of the trusted buses' DBCs at its `GenMsgCycleTime` (with jitter),
//! sent by the ECU the DBC names; the head unit's legitimate requests; and the
//! scenario's attacks. Frames carry the alive counters and checksums the rules
//! expect (the same [`Slot::protect`](bulkhead::rules::Slot::protect) the
//! gateway verifies with), so a frame is only refused when the scenario makes
//! it so. The same scenario and seed always give the same frames.
//!
//! Every frame has a [`Label`] saying where it came from, so a test can check
//! the gateway's verdict on each attack frame and each genuine one.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use bulkhead::codec::MessageCodec;
use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::keys::KeyStore;
use bulkhead::rules::{CompiledRules, DeviceId, Medium, PortId, Trust};
use bulkhead::secoc::{ManagerConfig, SecOcKey, SecOcManager, SenderConfig, Snapshot};
use bulkhead::time::Timestamp;

use crate::rng::Rng;
use crate::scenario::{Attack, AttackKind, Scenario};
use crate::vehicle::Model;

/// Where a frame came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    /// A cyclic message of a vehicle ECU.
    Genuine,
    /// A legitimate request of the head unit.
    Request,
    /// An attack of the given kind.
    Attack(AttackKind),
}

impl Label {
    /// `genuine`, `request`, or the attack kind's name.
    pub fn name(self) -> &'static str {
        match self {
            Label::Genuine => "genuine",
            Label::Request => "request",
            Label::Attack(kind) => kind.name(),
        }
    }
}

/// One frame of the simulation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimFrame {
    /// When it is sent.
    pub time: Timestamp,
    /// The gateway port it arrives on.
    pub port: PortId,
    /// The frame.
    pub frame: Frame,
    /// Where it came from.
    pub label: Label,
    /// For frames of the Ethernet link, the device that sends them.
    pub device: Option<DeviceId>,
}

/// Why a scenario cannot run on these rules.
#[derive(Debug, thiserror::Error)]
pub enum TrafficError {
    /// A port the scenario needs is missing from the rules.
    #[error("the rules have no port `{0}` (the scenario needs it)")]
    NoPort(String),
    /// A message the scenario names is not in the port's DBCs.
    #[error("{what}: port `{port}` has no message `{message}` in its DBC files")]
    NoMessage {
        /// Which scenario entry.
        what: String,
        /// The port.
        port: String,
        /// The message.
        message: String,
    },
    /// A device the scenario names is not a device of the link port in the rules.
    #[error("{what}: the rules have no device `{device}` on the link port")]
    NoDevice {
        /// Which scenario entry.
        what: String,
        /// The device.
        device: String,
    },
    /// The key store lacks a SecOC key an ECU needs.
    #[error("the key store has no SecOC key `{0}` (an ECU signs with it)")]
    NoKey(String),
    /// The SecOC configuration of the ECUs is invalid.
    #[error("SecOC senders: {0}")]
    SecOc(String),
    /// A signal value cannot be encoded.
    #[error("{what}: {message}.{signal} = {value}: {error}")]
    BadValue {
        /// Which scenario entry.
        what: String,
        /// The message.
        message: String,
        /// The signal.
        signal: String,
        /// The value.
        value: f64,
        /// Why.
        error: String,
    },
}

#[derive(Clone, Debug)]
enum Source {
    /// A cyclic ECU message: its nominal next time and period, in ns from the start.
    Cyclic { port: PortId, codec: Arc<MessageCodec>, fd: bool, nominal: u64, period: u64 },
    /// A legitimate request (index into the scenario).
    Request(usize),
    /// An attack (index into the scenario) and how many frames it sent.
    Attack { index: usize, sent: u64 },
}

/// The generator.
pub struct Traffic {
    rules: Arc<CompiledRules>,
    scenario: Scenario,
    model: Model,
    rng: Rng,
    start: Timestamp,
    end: u64,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    sources: Vec<Source>,
    seq: u64,
    counters: HashMap<(PortId, CanId), u64>,
    last_request: Option<(PortId, Frame)>,
    ivi: PortId,
    head_unit: Option<DeviceId>,
    /// The ECUs' SecOC senders, one per id secured on a trusted port.
    secoc: SecOcManager,
}

const NANOS: f64 = 1e9;

fn nanos(seconds: f64) -> u64 {
    (seconds * NANOS).round().max(0.0) as u64
}

impl Traffic {
    /// The traffic of `scenario` on the ports of `rules`, starting at `start`.
    pub fn new(
        rules: Arc<CompiledRules>,
        scenario: Scenario,
        start: Timestamp,
        keys: &dyn KeyStore,
    ) -> Result<Self, TrafficError> {
        let ivi = find_port(&rules, "infotainment")?;
        let head_unit = rules.device_by_name("head-unit");
        let secoc = ecu_senders(&rules, keys)?;
        let mut rng = Rng::new(scenario.seed);
        let mut sources = Vec::new();
        let mut queue = BinaryHeap::new();
        let mut seq = 0;
        // Cyclic messages of every trusted port, sent by the ECU the DBC names
        // (not by the gateway, the head unit or a tester).
        for (pi, port) in rules.ports.iter().enumerate() {
            if port.trust != Trust::Trusted {
                continue;
            }
            for (key, codec) in port.codecs.codecs() {
                let Some(message) =
                    port.dbcs.get(key.dbc).and_then(|&d| rules.dbcs.get(d)).and_then(|d| d.messages.get(key.message))
                else {
                    continue;
                };
                let Some(cycle) = message.cycle_time_ms else { continue };
                if matches!(message.transmitter.as_str(), "GW" | "IVI" | "TESTER") {
                    continue;
                }
                let period = u64::from(cycle) * 1_000_000;
                let first = (rng.unit() * period as f64) as u64;
                sources.push(Source::Cyclic {
                    port: PortId(pi as u8),
                    codec: Arc::new(codec.clone()),
                    fd: message.format.is_fd(),
                    nominal: first,
                    period,
                });
                queue.push(Reverse((first, seq, sources.len() - 1)));
                seq += 1;
            }
        }
        let mut traffic = Traffic {
            rules,
            scenario,
            model: Model::default(),
            rng,
            start,
            end: 0,
            queue,
            sources,
            seq,
            counters: HashMap::new(),
            last_request: None,
            ivi,
            head_unit,
            secoc,
        };
        traffic.end = nanos(traffic.scenario.duration_s);
        for i in 0..traffic.scenario.request.len() {
            let r = &traffic.scenario.request[i];
            let what = format!("[[request]] number {}", i + 1);
            traffic.check_message(&what, ivi, &r.message.clone(), &r.signals.clone())?;
            let at = nanos(r.at_s);
            traffic.push(at, Source::Request(i));
        }
        for i in 0..traffic.scenario.attack.len() {
            let a = traffic.scenario.attack[i].clone();
            let what = format!("[[attack]] number {} ({})", i + 1, a.kind.name());
            let port = traffic.attack_port(&a)?;
            let device = match a.kind {
                AttackKind::UnauthorizedDevice => Some(a.device.as_deref().unwrap_or("media-player")),
                AttackKind::RevokedKey => a.device.as_deref(),
                _ => None,
            };
            if let Some(device) = device {
                traffic.check_device(&what, port, device)?;
            }
            if let Some(m) = &a.message {
                traffic.check_message(&what, port, m, &a.signals)?;
            }
            traffic.push(nanos(a.at_s), Source::Attack { index: i, sent: 0 });
        }
        Ok(traffic)
    }

    fn push(&mut self, at: u64, source: Source) {
        self.sources.push(source);
        self.queue.push(Reverse((at, self.seq, self.sources.len() - 1)));
        self.seq += 1;
    }

    fn attack_port(&self, a: &Attack) -> Result<PortId, TrafficError> {
        match (&a.port, a.kind) {
            (_, kind) if kind.is_link_level() => Ok(self.ivi),
            (Some(p), _) => find_port(&self.rules, p),
            (None, AttackKind::RogueEcu) => find_port(&self.rules, "diag"),
            (None, AttackKind::Injection) => find_port(&self.rules, "drive"),
            (None, _) => Ok(self.ivi),
        }
    }

    fn codec(&self, port: PortId, message: &str) -> Option<Arc<MessageCodec>> {
        let p = self.rules.port(port)?;
        p.codecs.codecs().find(|(_, c)| c.name() == message).map(|(_, c)| Arc::new(c.clone()))
    }

    fn check_device(&self, what: &str, port: PortId, device: &str) -> Result<(), TrafficError> {
        let found = self.rules.device_by_name(device).and_then(|d| self.rules.devices.get(d.0 as usize));
        match found {
            Some(d) if d.port == port => Ok(()),
            _ => Err(TrafficError::NoDevice { what: what.to_owned(), device: device.to_owned() }),
        }
    }

    fn check_message(
        &self,
        what: &str,
        port: PortId,
        message: &str,
        signals: &std::collections::BTreeMap<String, f64>,
    ) -> Result<(), TrafficError> {
        let port_name = self.rules.port(port).map_or(String::new(), |p| p.name.clone());
        let codec = self.codec(port, message).ok_or_else(|| TrafficError::NoMessage {
            what: what.to_owned(),
            port: port_name,
            message: message.to_owned(),
        })?;
        let mut data = vec![0u8; codec.size()];
        for (name, value) in signals {
            let bad = |error: String| TrafficError::BadValue {
                what: what.to_owned(),
                message: message.to_owned(),
                signal: name.clone(),
                value: *value,
                error,
            };
            let index = codec.signal_index(name).ok_or_else(|| bad("no such signal".to_owned()))?;
            let signal = codec.signal(index).ok_or_else(|| bad("no such signal".to_owned()))?;
            signal.encode_physical(*value, &mut data).map_err(|e| bad(e.to_string()))?;
        }
        Ok(())
    }

    /// The payload of `codec` with `values` (unencodable values are left at
    /// zero), then its counter and checksum as the rules expect.
    fn build(&mut self, port: PortId, codec: &MessageCodec, values: &[(&str, f64)], fd: bool) -> Option<Frame> {
        self.build_with(port, codec, values, fd, true)
    }

    /// [`Self::build`], taking the next alive-counter value without consuming
    /// it when `consume` is false: for frames the gateway never gets to see
    /// (refused by the link), so that the next real frame's counter follows
    /// the last one the gateway did see.
    fn build_with(
        &mut self,
        port: PortId,
        codec: &MessageCodec,
        values: &[(&str, f64)],
        fd: bool,
        consume: bool,
    ) -> Option<Frame> {
        let mut data = vec![0u8; codec.size()];
        for (name, value) in values {
            if let Some(signal) = codec.signal_index(name).and_then(|i| codec.signal(i)) {
                let _ = signal.encode_physical(*value, &mut data);
            }
        }
        let counter = self.counters.entry((port, codec.id())).or_insert(0);
        let n = *counter;
        if consume {
            *counter += 1;
        }
        let secured = match self.slot(port, codec.id()) {
            Some(slot) => {
                slot.protect(&mut data, n);
                slot.secured
            }
            None => None,
        };
        // An ECU of a secured id signs its frames (the gateway verifies them).
        if let Some(entry) = secured.and_then(|i| self.rules.secured.get(i)) {
            let range = entry.profile.layout().payload();
            let signed =
                data.get(range.offset()..range.end()).and_then(|p| self.secoc.authenticate_next(codec.id(), p).ok());
            while let Some(snapshot) = self.secoc.persist_request() {
                self.secoc.confirm_persisted(&snapshot);
            }
            return signed;
        }
        make_frame(codec.id(), &data, fd)
    }

    fn slot(&self, port: PortId, id: CanId) -> Option<&bulkhead::rules::Slot> {
        let p = self.rules.port(port)?;
        let s = p.lookup.entry(id).slot?;
        self.rules.slots.get(s.0 as usize)
    }

    fn fd_of(&self, port: PortId, codec: &MessageCodec) -> bool {
        codec.size() > 8 || self.rules.port(port).is_some_and(|p| p.medium == Medium::CanFd)
    }

    fn request(&mut self, i: usize, t: f64) -> Option<SimFrame> {
        let r = self.scenario.request.get(i)?.clone();
        let codec = self.codec(self.ivi, &r.message)?;
        let values: Vec<(&str, f64)> = r.signals.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let frame = self.build(self.ivi, &codec, &values, false)?;
        if r.message == "BCM_LockCmd" {
            let request = r.signals.get("LockRequest").copied().unwrap_or(0.0);
            if request == 1.0 {
                self.model.set_locked(true);
            } else if request == 2.0 || request == 3.0 {
                self.model.set_locked(false);
            }
        }
        self.last_request = Some((self.ivi, frame));
        Some(SimFrame { time: self.at(t), port: self.ivi, frame, label: Label::Request, device: self.head_unit })
    }

    fn at(&self, t: f64) -> Timestamp {
        self.start.saturating_add(std::time::Duration::from_nanos(nanos(t)))
    }

    /// The next attack frame and when the attack sends again.
    fn attack(&mut self, index: usize, sent: u64, now: u64) -> (Option<SimFrame>, Option<u64>) {
        let Some(a) = self.scenario.attack.get(index).cloned() else { return (None, None) };
        let Ok(port) = self.attack_port(&a) else { return (None, None) };
        let t = now as f64 / NANOS;
        let label = Label::Attack(a.kind);
        let values: Vec<(&str, f64)> = a.signals.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let codec = a.message.as_deref().and_then(|m| self.codec(port, m));
        let frame = match a.kind {
            AttackKind::Spoof | AttackKind::Dangerous | AttackKind::UnauthorizedDevice => codec.and_then(|c| {
                let fd = self.fd_of(port, &c);
                self.build(port, &c, &values, fd)
            }),
            AttackKind::ForgedChecksum => codec.and_then(|c| {
                let fd = self.fd_of(port, &c);
                let frame = self.build(port, &c, &values, fd)?;
                let byte = self
                    .slot(port, c.id())
                    .and_then(|s| s.checksum)
                    .map_or(frame.len().saturating_sub(1), |cs| cs.byte);
                let mut data = frame.data().to_vec();
                if let Some(b) = data.get_mut(byte) {
                    *b ^= 0x5A;
                }
                make_frame(frame.id(), &data, frame.is_fd())
            }),
            AttackKind::OutOfRange => codec.and_then(|c| self.build(port, &c, &values, false)),
            AttackKind::Flood => {
                let c = codec.or_else(|| self.codec(port, "BCM_LightCmd"));
                c.and_then(|c| self.build(port, &c, &values, false))
            }
            AttackKind::Fuzz | AttackKind::LinkFuzz => self.random_frame(),
            AttackKind::Replay | AttackKind::LinkReplay => self.last_request.map(|(_, f)| f),
            AttackKind::ForgedMac | AttackKind::RevokedKey => codec.and_then(|c| {
                // Refused by the link: the gateway never sees the frame, so it takes no counter value.
                let fd = self.fd_of(port, &c);
                self.build_with(port, &c, &values, fd, false)
            }),
            AttackKind::LinkFlood => {
                let c = codec.or_else(|| self.codec(port, "BCM_LightCmd"));
                c.and_then(|c| self.build_with(port, &c, &values, false, false))
            }
            AttackKind::RogueEcu => self.codec(port, "UDS_VCU_Req").and_then(|c| {
                // Security access, ECU reset, programming session, write by identifier - in turn.
                let requests: [&[(&str, f64)]; 4] = [
                    &[("PciLength", 2.0), ("ServiceId", 39.0), ("SecurityAccessType", 1.0)],
                    &[("PciLength", 2.0), ("ServiceId", 17.0), ("ResetType", 1.0)],
                    &[("PciLength", 2.0), ("ServiceId", 16.0), ("SessionType", 2.0)],
                    &[("PciLength", 4.0), ("ServiceId", 46.0), ("WriteDataIdentifier", 61840.0)],
                ];
                let values = requests[(sent % 4) as usize];
                self.build(port, &c, values, false)
            }),
            AttackKind::Injection => codec.and_then(|c| {
                // An implant that knows the message: the real values, with its own overrides.
                let name = c.name().to_owned();
                let mut values: Vec<(&str, f64)> = self.model.values(&self.scenario, &name, t);
                for (k, v) in &a.signals {
                    match values.iter_mut().find(|(n, _)| *n == k.as_str()) {
                        Some(slot) => slot.1 = *v,
                        None => values.push((k.as_str(), *v)),
                    }
                }
                let fd = self.fd_of(port, &c);
                self.build(port, &c, &values, fd)
            }),
        };
        let next = match a.kind {
            kind if kind.is_sustained() => {
                let step = (NANOS / a.rate.max(1e-3)) as u64;
                let next = now + step.max(1);
                (next <= nanos(a.at_s + a.duration_s)).then_some(next)
            }
            AttackKind::RogueEcu if sent < 3 => Some(now + 100_000_000),
            _ if a.rate > 0.0 && a.duration_s > 0.0 => {
                let next = now + (NANOS / a.rate) as u64;
                (next <= nanos(a.at_s + a.duration_s)).then_some(next)
            }
            _ => None,
        };
        let device = match a.kind {
            AttackKind::UnauthorizedDevice => self.rules.device_by_name(a.device.as_deref().unwrap_or("media-player")),
            AttackKind::RevokedKey => a.device.as_deref().and_then(|d| self.rules.device_by_name(d)),
            _ if port == self.ivi => self.head_unit,
            _ => None,
        };
        (frame.map(|frame| SimFrame { time: self.at(t), port, frame, label, device }), next)
    }

    /// A classic frame with a random standard id, length and payload.
    fn random_frame(&mut self) -> Option<Frame> {
        let id = CanId::standard((self.rng.next() % 0x800) as u32).ok();
        let len = (self.rng.next() % 9) as usize;
        let mut data = [0u8; 8];
        for b in data.iter_mut().take(len) {
            *b = self.rng.next() as u8;
        }
        id.and_then(|id| Frame::classic(id, &data[..len]).ok())
    }

    /// The scenario being played.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }
}

/// The frame for a payload: CAN FD when asked or longer than 8 bytes. `None`
/// only for a length no CAN frame has (a DBC declaring such a length).
fn make_frame(id: CanId, data: &[u8], fd: bool) -> Option<Frame> {
    if fd || data.len() > 8 { Frame::fd(id, data, FdFlags { brs: true, esi: false }) } else { Frame::classic(id, data) }
        .ok()
}

/// The SecOC senders of the vehicle's ECUs: every id the rules verify on a
/// trusted port, with the key the rules name.
fn ecu_senders(rules: &CompiledRules, keys: &dyn KeyStore) -> Result<SecOcManager, TrafficError> {
    let mut config = ManagerConfig::default();
    for s in rules.secured.iter().filter(|s| !s.send) {
        if rules.port(s.port).is_none_or(|p| p.trust != Trust::Trusted) {
            continue;
        }
        let key = keys.secoc_key(&s.key).map(|k| SecOcKey::new(*k.secret().expose()));
        if key.is_none() {
            return Err(TrafficError::NoKey(s.key.clone()));
        }
        let fd = (s.profile.layout().frame_len() > 8 || rules.port(s.port).is_some_and(|p| p.medium == Medium::CanFd))
            .then_some(FdFlags { brs: true, esi: false });
        config.senders.push(SenderConfig { id: s.id, profile: s.profile, key, fd });
    }
    let mut m = SecOcManager::new(config, &Snapshot::default()).map_err(|e| TrafficError::SecOc(e.to_string()))?;
    // The simulated ECUs keep their counters in memory: every reservation is "durable".
    while let Some(snapshot) = m.persist_request() {
        m.confirm_persisted(&snapshot);
    }
    Ok(m)
}

fn find_port(rules: &CompiledRules, name: &str) -> Result<PortId, TrafficError> {
    rules.port_by_name(name).ok_or_else(|| TrafficError::NoPort(name.to_owned()))
}

impl Iterator for Traffic {
    type Item = SimFrame;

    fn next(&mut self) -> Option<SimFrame> {
        loop {
            let Reverse((at, _, index)) = self.queue.pop()?;
            if at >= self.end {
                // Sources are popped in time order: everything left is past the end.
                self.queue.clear();
                return None;
            }
            let t = at as f64 / NANOS;
            self.model.advance(&self.scenario, t);
            let source = self.sources.get(index)?.clone();
            match source {
                Source::Cyclic { port, codec, fd, nominal, period } => {
                    let values = self.model.values(&self.scenario, codec.name(), t);
                    let frame = self.build(port, &codec, &values, fd);
                    let next_nominal = nominal + period;
                    let jitter = (self.rng.unit() * 2.0 - 1.0) * self.scenario.jitter * period as f64;
                    let next = (next_nominal as f64 + jitter).max(at as f64 + 1.0) as u64;
                    if let Some(Source::Cyclic { nominal, .. }) = self.sources.get_mut(index) {
                        *nominal = next_nominal;
                    }
                    self.queue.push(Reverse((next, self.seq, index)));
                    self.seq += 1;
                    if let Some(frame) = frame {
                        return Some(SimFrame { time: self.at(t), port, frame, label: Label::Genuine, device: None });
                    }
                }
                Source::Request(i) => {
                    if let Some(f) = self.request(i, t) {
                        return Some(f);
                    }
                }
                Source::Attack { index: a, sent } => {
                    let (frame, next) = self.attack(a, sent, at);
                    if let Some(next) = next {
                        if let Some(Source::Attack { sent, .. }) = self.sources.get_mut(index) {
                            *sent += 1;
                        }
                        self.queue.push(Reverse((next, self.seq, index)));
                        self.seq += 1;
                    }
                    if let Some(f) = frame {
                        return Some(f);
                    }
                }
            }
        }
    }
}
