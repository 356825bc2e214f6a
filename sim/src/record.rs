//! Writing the simulation as a capture: a candump `-l` log (the format every
//! CAN tool reads) and a labels file saying which frames were attacks.
//!
//! Log lines are `(seconds.micros) IFACE ID#DATA` (or `ID##F` + data for CAN
//! FD), the interface being the port's `interface` in the rules; frames of the
//! Ethernet link are recorded on a bus named after the device that sent them
//! (`head-unit`), which `bulkhead replay` maps back to the device. The labels
//! file has one JSON line per frame that is not a genuine ECU frame:
//! `{"i": 1234, "label": "flood"}` (`i` counts every frame of the log from 0).
//!
//! Attacks on the link itself (a replayed datagram, a forged tag, a revoked
//! key, random bytes, a flood of forged datagrams) never get past the link's
//! checks, so no frame of theirs ever reaches the rules: they are not written
//! to the capture, only counted ([`Tally::link_only`]).

use std::collections::BTreeMap;
use std::io::{self, Write};

use bulkhead::frame::Frame;
use bulkhead::rules::CompiledRules;
use bulkhead::time::Timestamp;

use crate::traffic::{Label, SimFrame};

/// Writes one frame as a candump `-l` line.
pub fn write_candump(out: &mut impl Write, iface: &str, f: &SimFrame) -> io::Result<()> {
    write_line(out, f.time, iface, &f.frame)
}

/// Writes `frame`, seen on `iface` at `time`, as a candump `-l` line.
pub fn write_line(out: &mut impl Write, time: Timestamp, iface: &str, frame: &Frame) -> io::Result<()> {
    // candump prints microseconds; times are rounded to them.
    let micros = (time.as_nanos() + 500) / 1_000;
    writeln!(out, "({}.{:06}) {} {}", micros / 1_000_000, micros % 1_000_000, iface, frame)
}

/// What a recording holds, per label.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Frames written to the capture.
    pub written: BTreeMap<Label, u64>,
    /// Datagram-level attacks, not in the capture (the link refuses them).
    pub link_only: BTreeMap<Label, u64>,
}

/// Records frames to a candump log and a labels file.
pub struct Recorder<L: Write, T: Write> {
    log: L,
    labels: Option<T>,
    ifaces: Vec<String>,
    devices: Vec<String>,
    index: u64,
    tally: Tally,
}

impl<L: Write, T: Write> Recorder<L, T> {
    /// A recorder writing to `log` (and `labels` if given), naming each
    /// port by its interface in `rules` (or its name).
    pub fn new(rules: &CompiledRules, log: L, labels: Option<T>) -> Self {
        let ifaces = rules.ports.iter().map(|p| p.interface.clone().unwrap_or_else(|| p.name.clone())).collect();
        let devices = rules.devices.iter().map(|d| d.name.clone()).collect();
        Recorder { log, labels, ifaces, devices, index: 0, tally: Tally::default() }
    }

    /// Writes one frame (or only counts it, for an attack on the link).
    pub fn record(&mut self, f: &SimFrame) -> io::Result<()> {
        if matches!(f.label, Label::Attack(kind) if kind.is_link_level()) {
            *self.tally.link_only.entry(f.label).or_insert(0) += 1;
            return Ok(());
        }
        let iface = match f.device {
            Some(d) => self.devices.get(d.0 as usize).map_or("?", String::as_str),
            None => self.ifaces.get(f.port.0 as usize).map_or("?", String::as_str),
        };
        write_candump(&mut self.log, iface, f)?;
        if f.label != Label::Genuine
            && let Some(labels) = &mut self.labels
        {
            writeln!(labels, "{{\"i\": {}, \"label\": \"{}\"}}", self.index, f.label.name())?;
        }
        *self.tally.written.entry(f.label).or_insert(0) += 1;
        self.index += 1;
        Ok(())
    }

    /// Flushes both outputs and says what they hold.
    pub fn finish(mut self) -> io::Result<Tally> {
        self.log.flush()?;
        if let Some(l) = &mut self.labels {
            l.flush()?;
        }
        Ok(self.tally)
    }
}
