//! Writing the simulation as a capture: a candump `-l` log (the format every
//! CAN tool reads) and a labels file saying which frames were attacks.
//!
//! Log lines are `(seconds.micros) IFACE ID#DATA` (or `ID##F` + data for CAN
//! FD), the interface being the port's `interface` in the rules; frames of the
//! Ethernet link are recorded on a bus named after the device that sent them
//! (`head-unit`), which `bulkhead replay` maps back to the device. The labels
//! file has one JSON line per frame that is not a genuine ECU frame:
//! `{"i": 1234, "label": "flood"}` (`i` counts every frame of the log from 0).

use std::io::{self, Write};

use bulkhead::frame::Frame;
use bulkhead::rules::CompiledRules;

use crate::traffic::{Label, SimFrame};

/// Writes one frame as a candump `-l` line.
pub fn write_candump(out: &mut impl Write, iface: &str, f: &SimFrame) -> io::Result<()> {
    let nanos = f.time.as_nanos();
    // candump prints microseconds; the simulation's times are rounded to them.
    let micros = (nanos + 500) / 1_000;
    write!(out, "({}.{:06}) {} {}", micros / 1_000_000, micros % 1_000_000, iface, frame_text(&f.frame))?;
    out.write_all(b"\n")
}

fn frame_text(frame: &Frame) -> String {
    frame.to_string()
}

/// Records frames to a candump log and a labels file.
pub struct Recorder<L: Write, T: Write> {
    log: L,
    labels: Option<T>,
    ifaces: Vec<String>,
    devices: Vec<String>,
    index: u64,
    /// Frames written per label.
    pub counts: std::collections::BTreeMap<Label, u64>,
}

impl<L: Write, T: Write> Recorder<L, T> {
    /// A recorder writing to `log` (and `labels` if given), naming each
    /// port by its interface in `rules` (or its name).
    pub fn new(rules: &CompiledRules, log: L, labels: Option<T>) -> Self {
        let ifaces = rules.ports.iter().map(|p| p.interface.clone().unwrap_or_else(|| p.name.clone())).collect();
        let devices = rules.devices.iter().map(|d| d.name.clone()).collect();
        Recorder { log, labels, ifaces, devices, index: 0, counts: Default::default() }
    }

    /// Writes one frame.
    pub fn record(&mut self, f: &SimFrame) -> io::Result<()> {
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
        *self.counts.entry(f.label).or_insert(0) += 1;
        self.index += 1;
        Ok(())
    }

    /// Flushes both outputs.
    pub fn finish(mut self) -> io::Result<std::collections::BTreeMap<Label, u64>> {
        self.log.flush()?;
        if let Some(l) = &mut self.labels {
            l.flush()?;
        }
        Ok(self.counts)
    }
}
