//! Replay: captures through the engine, with the captures' own timestamps,
//! so the verdicts are exactly those the live gateway would have given.
//!
//! [`Replayer`] maps each log's bus names to the rule file's ports, feeds
//! every frame to [`Engine::on_frame`] at its timestamp, runs
//! [`Engine::on_timer`] on a fixed grid of [`TIMER_TICK`] in log time (as the
//! daemon's timer does in real time), hands each verdict to a [`VerdictSink`]
//! and aggregates a [`ReplayReport`].
//!
//! Invariants: the same captures and rules give the same verdicts and the same
//! report, byte for byte (no wall clock, no hash-order iteration in outputs);
//! a capture's frames are processed in file order; a malformed line stops the
//! replay with its location unless the reader is lenient.

pub mod html;
pub mod report;
pub mod text;
pub mod verdicts;

use std::path::PathBuf;
use std::sync::Arc;

pub use report::{ReplayReport, ReportBuilder};

use crate::engine::verdict::Verdict;
use crate::engine::{Engine, TIMER_TICK};
use crate::frame::Frame;
use crate::logs::{self, FrameReader, LogError, LogFormat, ReadOptions};
use crate::rules::{CompiledRules, DeviceId, PortId};
use crate::time::Timestamp;

/// Gaps in log time longer than this many ticks are jumped over with a
/// single timer call instead of one per tick.
const MAX_TICKS_PER_GAP: u64 = 1000;

/// What can stop a replay.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A capture could not be read (or has a malformed line in strict mode).
    #[error(transparent)]
    Log(#[from] LogError),
    /// A capture has a frame without a timestamp; replay needs the log's time.
    #[error("{file}: frame {index} has no timestamp; replay needs captures with timestamps (candump -t a, -l or -L)")]
    NoTimestamp {
        /// The capture.
        file: String,
        /// The frame's index in the capture.
        index: u64,
    },
    /// A `--port` mapping names a port the rules do not have.
    #[error("--port {bus}={port}: the rules have no port `{port}` (ports: {known})")]
    UnknownPort {
        /// The log bus name.
        bus: String,
        /// The port name given.
        port: String,
        /// The ports the rules have.
        known: String,
    },
    /// A `--device` mapping names a device the rules do not declare.
    #[error("--device {bus}={device}: the rules declare no device `{device}` (devices: {known})")]
    UnknownDevice {
        /// The log bus name.
        bus: String,
        /// The device name given.
        device: String,
        /// The devices the rules declare.
        known: String,
    },
    /// A `--port` argument is not `BUS=PORT`.
    #[error("{0}: expected BUS=NAME, for example --port can0=drive or --device ivi=head-unit")]
    BadMapping(String),
    /// Writing the verdicts failed.
    #[error("writing verdicts: {0}")]
    Output(#[from] std::io::Error),
}

/// One frame's outcome, handed to a [`VerdictSink`].
#[derive(Clone, Copy, Debug)]
pub struct FrameOutcome<'a> {
    /// Index of the frame over all captures, from 0.
    pub index: u64,
    /// Its timestamp.
    pub time: Timestamp,
    /// The capture's bus name.
    pub bus: &'a str,
    /// The port it was mapped to (`None`: unmapped bus, not given to the engine).
    pub port: Option<PortId>,
    /// The frame.
    pub frame: &'a Frame,
    /// The engine's verdict (`None` for an unmapped bus).
    pub verdict: Option<Verdict>,
}

/// Receives every frame's outcome, in input order.
pub trait VerdictSink {
    /// Called once per frame.
    fn frame(&mut self, outcome: &FrameOutcome<'_>) -> std::io::Result<()>;
}

/// A sink that ignores everything.
pub struct NoSink;

impl VerdictSink for NoSink {
    fn frame(&mut self, _: &FrameOutcome<'_>) -> std::io::Result<()> {
        Ok(())
    }
}

/// How to replay.
#[derive(Clone, Debug, Default)]
pub struct ReplayOptions {
    /// `BUS=PORT` mappings; buses not listed map to the port whose `interface`
    /// or name equals the bus name, or to the port of the device named like
    /// the bus.
    pub ports: Vec<String>,
    /// `BUS=DEVICE` mappings: frames of BUS come from DEVICE over the link
    /// (a bus named like a declared device needs none).
    pub devices: Vec<String>,
    /// Skip malformed lines instead of stopping.
    pub lenient: bool,
    /// Force a capture format instead of detecting it.
    pub format: Option<LogFormat>,
}

/// Drives an engine with captures.
pub struct Replayer {
    engine: Engine,
    mappings: Vec<(String, PortId)>,
    device_mappings: Vec<(String, DeviceId)>,
    next_tick: Option<Timestamp>,
    index: u64,
    report: ReportBuilder,
}

impl Replayer {
    /// A replayer over fresh engine state for `rules`.
    pub fn new(rules: Arc<CompiledRules>, options: &ReplayOptions) -> Result<Self, ReplayError> {
        let mut mappings = Vec::new();
        for m in &options.ports {
            let Some((bus, port)) = m.split_once('=') else { return Err(ReplayError::BadMapping(m.clone())) };
            let Some(pid) = rules.port_by_name(port) else {
                let known: Vec<&str> = rules.ports.iter().map(|p| p.name.as_str()).collect();
                return Err(ReplayError::UnknownPort {
                    bus: bus.to_owned(),
                    port: port.to_owned(),
                    known: known.join(", "),
                });
            };
            mappings.push((bus.to_owned(), pid));
        }
        let mut device_mappings = Vec::new();
        for m in &options.devices {
            let Some((bus, device)) = m.split_once('=') else { return Err(ReplayError::BadMapping(m.clone())) };
            let Some(did) = rules.device_by_name(device) else {
                let known: Vec<&str> = rules.devices.iter().map(|d| d.name.as_str()).collect();
                return Err(ReplayError::UnknownDevice {
                    bus: bus.to_owned(),
                    device: device.to_owned(),
                    known: known.join(", "),
                });
            };
            device_mappings.push((bus.to_owned(), did));
        }
        let report = ReportBuilder::new(Arc::clone(&rules));
        Ok(Replayer { engine: Engine::new(rules), mappings, device_mappings, next_tick: None, index: 0, report })
    }

    /// The port a bus name maps to, and the device its frames come from.
    fn port_of(&self, bus: &str) -> (Option<PortId>, Option<DeviceId>) {
        let rules = self.engine.rules();
        let device =
            self.device_mappings.iter().find(|(b, _)| b == bus).map(|(_, d)| *d).or_else(|| rules.device_by_name(bus));
        let port = self
            .mappings
            .iter()
            .find(|(b, _)| b == bus)
            .map(|(_, p)| *p)
            .or_else(|| rules.port_for_interface(bus))
            .or_else(|| device.and_then(|d| rules.devices.get(d.0 as usize)).map(|d| d.port));
        (port, device)
    }

    /// The engine, to install keys or restore state before replaying.
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// Replays one capture file, calling `progress` now and then with the
    /// number of frames done so far.
    pub fn replay_file(
        &mut self,
        path: &std::path::Path,
        options: &ReplayOptions,
        sink: &mut dyn VerdictSink,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), ReplayError> {
        let reader = logs::open(path, options.format, ReadOptions { lenient: options.lenient })?;
        self.replay_reader(reader, &path.display().to_string(), sink, progress)
    }

    /// Replays frames from an open reader.
    pub fn replay_reader(
        &mut self,
        mut reader: Box<dyn FrameReader>,
        name: &str,
        sink: &mut dyn VerdictSink,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), ReplayError> {
        // Bus ids of this reader to ports (and devices), filled as new buses appear.
        let mut bus_ports: Vec<Option<(Option<PortId>, Option<DeviceId>)>> = Vec::new();
        let mut in_file = 0u64;
        while let Some(record) = reader.next() {
            let record = record?;
            let Some(time) = record.time else {
                return Err(ReplayError::NoTimestamp { file: name.to_owned(), index: in_file });
            };
            let slot = record.bus.0 as usize;
            if bus_ports.len() <= slot {
                bus_ports.resize(slot + 1, None);
            }
            let (port, device) = match bus_ports[slot] {
                Some(p) => p,
                None => {
                    let p = self.port_of(reader.buses().name(record.bus));
                    bus_ports[slot] = Some(p);
                    p
                }
            };
            self.run_timers(time);
            let verdict = port.map(|p| self.engine.on_frame_from(time, p, device, &record.frame));
            self.drain();
            let bus = reader.buses().name(record.bus);
            let outcome = FrameOutcome { index: self.index, time, bus, port, frame: &record.frame, verdict };
            self.report.frame(&outcome);
            sink.frame(&outcome)?;
            self.index += 1;
            in_file += 1;
            if in_file.is_multiple_of(65_536) {
                progress(self.index);
            }
        }
        self.report.skipped_lines(reader.skipped());
        progress(self.index);
        Ok(())
    }

    fn run_timers(&mut self, until: Timestamp) {
        let tick = TIMER_TICK;
        let mut next = match self.next_tick {
            Some(t) => t,
            None => {
                self.next_tick = Some(until.saturating_add(tick));
                self.engine.on_timer(until);
                self.drain();
                return;
            }
        };
        let ticks = until.saturating_since(next).as_nanos() / tick.as_nanos().max(1);
        if ticks > u128::from(MAX_TICKS_PER_GAP) {
            // A long silence: what can change over it (missing messages, recovery)
            // is seen by one timer at its start and one at its end.
            self.engine.on_timer(next);
            self.drain();
            next = until;
            self.engine.on_timer(next);
            self.drain();
            self.next_tick = Some(next.saturating_add(tick));
            return;
        }
        while next <= until {
            self.engine.on_timer(next);
            self.drain();
            next = next.saturating_add(tick);
        }
        self.next_tick = Some(next);
    }

    fn drain(&mut self) {
        // Replay keeps SecOC freshness in memory: every reservation is "durable".
        while let Some(snapshot) = self.engine.persist_request() {
            self.engine.confirm_persisted(&snapshot);
        }
        while let Some(event) = self.engine.poll_event() {
            self.report.event(&event);
        }
        while let Some((port, frame)) = self.engine.poll_transmit() {
            self.report.transmitted(port, &frame);
        }
    }

    /// The engine (for its counters).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Finishes and returns the report.
    pub fn finish(mut self) -> ReplayReport {
        self.drain();
        let (lost, suppressed) = self.engine.events_lost_and_suppressed();
        self.report.finish(self.engine.counters(), self.engine.mode(), lost, suppressed)
    }
}

/// Replays `logs` through fresh engine state for `rules`, with the keys of
/// `keys` installed (without keys, SecOC-secured ids fail with `secoc-no-key`).
pub fn replay(
    rules: Arc<CompiledRules>,
    logs: &[PathBuf],
    options: &ReplayOptions,
    keys: Option<&dyn crate::keys::KeyStore>,
    sink: &mut dyn VerdictSink,
    progress: &mut dyn FnMut(u64),
) -> Result<ReplayReport, ReplayError> {
    let mut replayer = Replayer::new(rules, options)?;
    if let Some(keys) = keys {
        replayer.engine.install_keys(keys);
    }
    for path in logs {
        replayer.replay_file(path, options, sink, progress)?;
    }
    Ok(replayer.finish())
}
