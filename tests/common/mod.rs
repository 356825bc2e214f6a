//! Test harness for the engine on the reference vehicle: builds frames by
//! message and signal names, with alive counters and checksums filled in the
//! way the sending ECU would, and drives the engine in virtual time.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use bulkhead::engine::events::{EventKind, SecurityEvent};
use bulkhead::engine::modes::Mode;
use bulkhead::engine::verdict::{DropReason, Verdict};
use bulkhead::engine::{Engine, TIMER_TICK};
use bulkhead::frame::{FdFlags, Frame};
use bulkhead::rules::{CompiledRules, PortId};
use bulkhead::time::Timestamp;

/// Fixed keys for tests: the SecOC keys the reference rules name (their bytes
/// derived from the name, so every test and the simulator agree).
pub fn test_keys() -> bulkhead::keys::MemoryKeyStore {
    use bulkhead::keys::{KeyName, MemoryKeyStore, SecocKey, SecretBytes};
    let mut store = MemoryKeyStore::new();
    for name in ["drive-das", "drive-di", "body-gateway"] {
        let mut bytes = [0u8; 16];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = name.as_bytes()[i % name.len()].wrapping_mul(i as u8 + 1);
        }
        store.insert_secoc(SecocKey::new(KeyName::new(name).expect("name"), SecretBytes::new(bytes))).expect("key");
    }
    store
}

/// The reference rules, compiled once per test.
pub fn reference_rules() -> Arc<CompiledRules> {
    let (rules, diagnostics) = bulkhead::rules::reference().unwrap_or_else(|e| panic!("reference rules: {e}"));
    assert!(diagnostics.is_empty(), "reference rules have diagnostics: {diagnostics:#?}");
    Arc::new(rules)
}

/// An engine on the reference vehicle in virtual time.
pub struct Car {
    pub engine: Engine,
    pub rules: Arc<CompiledRules>,
    pub now: Timestamp,
    next_tick: Timestamp,
    counters: HashMap<(PortId, String), u64>,
    pub events: Vec<SecurityEvent>,
    pub sent: Vec<(PortId, Frame)>,
}

impl Car {
    pub fn new() -> Self {
        let rules = reference_rules();
        let mut engine = Engine::new(Arc::clone(&rules));
        let report = engine.install_keys(&test_keys());
        assert!(report.missing_secoc.is_empty(), "{report:?}");
        Car {
            engine,
            rules,
            now: Timestamp::from_millis(1_000),
            next_tick: Timestamp::ZERO,
            counters: HashMap::new(),
            events: Vec::new(),
            sent: Vec::new(),
        }
    }

    pub fn port(&self, name: &str) -> PortId {
        self.rules.port_by_name(name).unwrap_or_else(|| panic!("no port {name}"))
    }

    /// Moves virtual time forward by `ms`, running the timer every tick.
    pub fn advance_ms(&mut self, ms: u64) {
        let target = self.now.saturating_add(std::time::Duration::from_millis(ms));
        self.run_timers(target);
        self.now = target;
    }

    fn run_timers(&mut self, until: Timestamp) {
        while self.next_tick <= until {
            self.engine.on_timer(self.next_tick);
            self.next_tick = self.next_tick.saturating_add(TIMER_TICK);
        }
        self.drain();
    }

    fn drain(&mut self) {
        // A durable store that writes at once.
        while let Some(snapshot) = self.engine.persist_request() {
            self.engine.confirm_persisted(&snapshot);
        }
        while let Some(e) = self.engine.poll_event() {
            self.events.push(e);
        }
        while let Some(t) = self.engine.poll_transmit() {
            self.sent.push(t);
        }
    }

    /// The payload of `message` as `port`'s DBC defines it, with the given
    /// physical values, the next alive counter and the checksum.
    pub fn payload(&mut self, port: &str, message: &str, values: &[(&str, f64)]) -> Vec<u8> {
        let pid = self.port(port);
        let p = self.rules.port(pid).unwrap();
        let (_, codec) =
            p.codecs.codecs().find(|(_, c)| c.name() == message).unwrap_or_else(|| panic!("no message {message}"));
        let mut data = vec![0u8; codec.size()];
        for (name, value) in values {
            let signal = codec.signal(codec.signal_index(name).unwrap_or_else(|| panic!("no signal {name}"))).unwrap();
            signal.encode_physical(*value, &mut data).unwrap_or_else(|e| panic!("{name} = {value}: {e}"));
        }
        let counter = self.counters.entry((pid, message.to_owned())).or_insert(0);
        let slot = p.lookup.entry(codec.id()).slot.map(|s| &self.rules.slots[s.0 as usize]);
        if let Some(slot) = slot {
            slot.protect(&mut data, *counter);
        }
        *counter += 1;
        data
    }

    /// A frame of `message` as the ECU would send it.
    pub fn frame(&mut self, port: &str, message: &str, values: &[(&str, f64)]) -> Frame {
        let pid = self.port(port);
        let data = self.payload(port, message, values);
        let p = self.rules.port(pid).unwrap();
        let (_, codec) = p.codecs.codecs().find(|(_, c)| c.name() == message).unwrap();
        if p.medium.carries_fd() && p.medium != bulkhead::rules::Medium::Ethernet || data.len() > 8 {
            Frame::fd(codec.id(), &data, FdFlags { brs: true, esi: false }).unwrap()
        } else {
            Frame::classic(codec.id(), &data).unwrap()
        }
    }

    /// Sends a frame on `port` at the current time (from the head unit on
    /// the Ethernet port).
    pub fn send(&mut self, port: &str, frame: &Frame) -> Verdict {
        let device = if port == "infotainment" { Some("head-unit") } else { None };
        self.send_as(device, port, frame)
    }

    /// Sends a frame on `port` from `device` (`None`: no authenticated sender).
    pub fn send_as(&mut self, device: Option<&str>, port: &str, frame: &Frame) -> Verdict {
        let pid = self.port(port);
        let device = device.map(|d| self.rules.device_by_name(d).unwrap_or_else(|| panic!("no device {d}")));
        self.run_timers(self.now);
        let v = self.engine.on_frame_from(self.now, pid, device, frame);
        self.drain();
        v
    }

    /// Builds and sends `message` on `port`.
    pub fn send_message(&mut self, port: &str, message: &str, values: &[(&str, f64)]) -> Verdict {
        let frame = self.frame(port, message, values);
        self.send(port, &frame)
    }

    /// The drive and body ECUs' cyclic traffic for `ms` milliseconds at
    /// `speed` km/h in `gear` (0 P, 3 D), with ignition ON.
    pub fn drive(&mut self, ms: u64, speed: f64, gear: f64) {
        for step in 0..ms / 10 {
            self.send_message("drive", "VCU_Speed", &[("VehicleSpeed", speed), ("SpeedValid", 1.0)]);
            self.send_message("drive", "VCU_Pedals", &[("AccelPedal", 10.0)]);
            self.send_message("drive", "EPS_Steering", &[("SteeringAngle", 1.5)]);
            self.send_message("drive", "DI_Status", &[("MotorTorque", 20.0), ("InverterTemp", 40.0)]);
            if step % 2 == 0 {
                self.send_message("drive", "VCU_Gear", &[("Gear", gear), ("GearValid", 1.0)]);
            }
            if step % 10 == 0 {
                self.send_message("drive", "VCU_Ignition", &[("IgnitionState", 2.0), ("ReadyToDrive", 1.0)]);
                self.send_message(
                    "drive",
                    "BMS_Status",
                    &[
                        ("PackVoltage", 400.0),
                        ("StateOfCharge", 80.0),
                        ("ChargeLimit", 90.0),
                        ("CellTempMax", 30.0),
                        ("CellTempMin", 25.0),
                        ("CellVoltageMax", 4.0),
                        ("CellVoltageMin", 3.9),
                    ],
                );
                self.send_message("body", "BCM_DoorStatus", &[("LockState", 1.0)]);
            }
            if step % 50 == 0 {
                self.send_message("body", "HVAC_Status", &[("CabinTemp", 21.0), ("OutsideTemp", 10.0)]);
            }
            self.advance_ms(10);
        }
    }

    pub fn mode(&self) -> Mode {
        self.engine.mode()
    }

    /// The mode changes seen so far, as (from, to).
    pub fn mode_changes(&self) -> Vec<(Mode, Mode)> {
        self.events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::ModeChanged(c) => Some((c.from, c.to)),
                _ => None,
            })
            .collect()
    }
}

/// The drop reason of a verdict, or `None` for a forward.
pub fn reason(v: &Verdict) -> Option<DropReason> {
    v.drop_reason()
}

/// The names of the ports a verdict forwards to.
pub fn to_names(rules: &CompiledRules, v: &Verdict) -> Vec<String> {
    match v {
        Verdict::Forward { to, .. } => rules.port_names(*to).map(str::to_owned).collect(),
        Verdict::Drop { .. } => Vec::new(),
    }
}
