//! The end of a live run: what was sent per label, what the buses showed
//! (which frames crossed the gateway, from where), what telemetry came back,
//! and the verdict: an attack frame on a bus it was not sent on is a failure
//! of the gateway, and so is a frame nobody sent.
//!
//! [`Summary`] is both printed for people ([`Summary::render`]) and written as
//! JSON (schema `bulkhead-sim-live/1`) for scripts such as `scripts/demo`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// The schema name of the JSON summary.
pub const SCHEMA: &str = "bulkhead-sim-live/1";

/// Everything a run did and saw.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The scenario's name.
    pub scenario: String,
    /// Virtual seconds per wall-clock second.
    pub speed: f64,
    /// How long the run took.
    pub wall_seconds: f64,
    /// How well the frames kept to their times.
    pub pacing: Pacing,
    /// Per label, in a fixed order: genuine, request, then the attack kinds.
    pub labels: Vec<LabelSummary>,
    /// Frames of ports that were not connected (no `--can`/`--link` for them), per port.
    pub not_connected: BTreeMap<String, u64>,
    /// Errors while sending (first one per port or device), with counts.
    pub send_errors: Vec<String>,
    /// What the buses showed (with `--observe`).
    pub observed: Option<Observed>,
    /// What the gateway sent back over the link.
    pub telemetry: Option<Telemetry>,
    /// Failures of the gateway, loudly: empty when none.
    pub failures: Vec<String>,
}

/// Pacing figures.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Pacing {
    /// Frames sent.
    pub frames: u64,
    /// Frames more than 10 ms behind their time.
    pub late: u64,
    /// The largest delay, milliseconds.
    pub max_late_ms: f64,
    /// The mean delay, milliseconds.
    pub mean_late_ms: f64,
    /// Times the schedule slipped after a stall (see `pacing`).
    pub slips: u64,
    /// By how much in all, milliseconds.
    pub slipped_ms: f64,
}

/// One label's frames.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LabelSummary {
    /// `genuine`, `request` or the attack kind.
    pub label: String,
    /// True for attacks.
    pub attack: bool,
    /// True for attacks on the link (datagrams that never carry a frame past the link).
    pub link_level: bool,
    /// Frames (or datagrams) sent, per port.
    pub sent: BTreeMap<String, u64>,
    /// Of those, the ones that could not be sent.
    pub failed: u64,
    /// Frames seen on another bus than the one they were sent on, per bus (with `--observe`).
    pub crossed: BTreeMap<String, u64>,
}

impl LabelSummary {
    /// Frames sent, over every port.
    pub fn total_sent(&self) -> u64 {
        self.sent.values().sum()
    }

    /// Crossings seen, over every bus.
    pub fn total_crossed(&self) -> u64 {
        self.crossed.values().sum()
    }
}

/// What the buses showed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Observed {
    /// Per bus.
    pub buses: Vec<Bus>,
    /// The simulator's own frames that the observers never saw (they missed
    /// frames: crossings may have been missed too).
    pub own_unseen: u64,
}

/// One bus.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Bus {
    /// The port.
    pub port: String,
    /// The interface.
    pub interface: String,
    /// Frames read.
    pub frames: u64,
    /// The simulator's own.
    pub own: u64,
    /// Frames that crossed the gateway to this bus.
    pub crossed: u64,
    /// The gateway's status frames.
    pub gateway_status: u64,
    /// Frames nobody sent as such.
    pub unattributed: u64,
    /// A few of them, candump notation.
    pub unattributed_examples: Vec<String>,
    /// The error that ended the watch of this bus.
    pub error: Option<String>,
}

/// What the gateway sent back.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Telemetry {
    /// Datagrams received.
    pub datagrams: u64,
    /// Datagrams opened, per device.
    pub opened: BTreeMap<String, u64>,
    /// Frames per device and CAN id.
    pub frames: BTreeMap<String, BTreeMap<String, u64>>,
    /// Datagrams that did not open, per reason.
    pub refused: BTreeMap<String, u64>,
    /// The error that ended the reception.
    pub error: Option<String>,
}

impl Summary {
    /// Fills [`Summary::failures`] from the observations: attack frames seen
    /// crossing, unattributed frames, buses whose watch failed.
    pub fn judge(&mut self) {
        let mut failures = Vec::new();
        for l in self.labels.iter().filter(|l| l.attack) {
            for (bus, n) in &l.crossed {
                failures.push(format!("{n} `{}` attack frame(s) crossed the gateway onto the {bus} bus", l.label));
            }
        }
        if let Some(observed) = &self.observed {
            for b in &observed.buses {
                if b.unattributed > 0 {
                    failures.push(format!(
                        "{} frame(s) on the {} bus ({}) that the simulator did not send as such, e.g. {}",
                        b.unattributed,
                        b.port,
                        b.interface,
                        b.unattributed_examples.join(", ")
                    ));
                }
                if let Some(e) = &b.error {
                    failures.push(format!("the watch of the {} bus ({}) failed: {e}", b.port, b.interface));
                }
            }
        }
        self.failures = failures;
    }

    /// The summary for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let sent: u64 = self.labels.iter().map(LabelSummary::total_sent).sum();
        let _ = writeln!(
            out,
            "{}: {sent} frames and datagrams in {:.1} s at {}x; pacing: mean delay {:.2} ms, {} frames more than 10 ms late (at most {:.1} ms), {} slips ({:.0} ms)",
            self.scenario,
            self.wall_seconds,
            self.speed,
            self.pacing.mean_late_ms,
            self.pacing.late,
            self.pacing.max_late_ms,
            self.pacing.slips,
            self.pacing.slipped_ms
        );
        let observing = self.observed.is_some();
        let header = format!(
            "  {:<20} {:>8}  {:<34} {}",
            "label",
            "sent",
            "sent on",
            if observing { "crossed the gateway onto" } else { "" }
        );
        let _ = writeln!(out, "{}", header.trim_end());
        for l in &self.labels {
            let on = join(&l.sent);
            let mut crossed = if observing { join(&l.crossed) } else { String::new() };
            if observing && crossed.is_empty() {
                crossed = "-".into();
            }
            let failed = if l.failed > 0 { format!(" ({} failed)", l.failed) } else { String::new() };
            let kind = if l.link_level { " [datagrams]" } else { "" };
            let line = format!("  {:<20} {:>8}  {:<34} {crossed}{failed}{kind}", l.label, l.total_sent(), on);
            let _ = writeln!(out, "{}", line.trim_end());
        }
        if !self.not_connected.is_empty() {
            let _ = writeln!(out, "  not sent (port not connected): {}", join(&self.not_connected));
        }
        for e in &self.send_errors {
            let _ = writeln!(out, "  send error: {e}");
        }
        if let Some(o) = &self.observed {
            for b in &o.buses {
                let _ = writeln!(
                    out,
                    "  {} ({}): {} frames read: {} own, {} crossed the gateway, {} gateway status, {} unattributed",
                    b.port, b.interface, b.frames, b.own, b.crossed, b.gateway_status, b.unattributed
                );
            }
            if o.own_unseen > 0 {
                let _ = writeln!(
                    out,
                    "  warning: {} of the simulator's own frames were never read back: the watch missed frames",
                    o.own_unseen
                );
            }
        }
        if let Some(t) = &self.telemetry {
            let opened: u64 = t.opened.values().sum();
            let _ = write!(out, "  telemetry from the gateway: {} datagrams, {opened} opened", t.datagrams);
            for (device, ids) in &t.frames {
                let _ = write!(out, "; {device}: {} frames ({})", ids.values().sum::<u64>(), join(ids));
            }
            if !t.refused.is_empty() {
                let _ = write!(out, "; refused: {}", join(&t.refused));
            }
            let _ = writeln!(out);
        }
        if observing {
            if self.failures.is_empty() {
                let _ = writeln!(
                    out,
                    "OK: no attack frame crossed the gateway, and every frame on the buses is accounted for"
                );
            } else {
                let _ = writeln!(out, "FAILURE of the gateway:");
                for f in &self.failures {
                    let _ = writeln!(out, "  !!! {f}");
                }
            }
        }
        out
    }
}

fn join<K: std::fmt::Display>(map: &BTreeMap<K, u64>) -> String {
    map.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(name: &str, attack: bool, crossed: &[(&str, u64)]) -> LabelSummary {
        LabelSummary {
            label: name.into(),
            attack,
            link_level: false,
            sent: BTreeMap::from([("infotainment".to_owned(), 10)]),
            failed: 0,
            crossed: crossed.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        }
    }

    #[test]
    fn attack_frames_crossing_and_strangers_are_failures() {
        let mut s = Summary {
            scenario: "t".into(),
            labels: vec![label("request", false, &[("body", 5)]), label("flood", true, &[])],
            observed: Some(Observed { buses: vec![Bus { port: "body".into(), ..Bus::default() }], own_unseen: 0 }),
            ..Summary::default()
        };
        s.judge();
        assert!(s.failures.is_empty(), "{:?}", s.failures);
        assert!(s.render().contains("OK: no attack frame crossed the gateway"));
        s.labels[1].crossed.insert("body".into(), 4);
        if let Some(o) = &mut s.observed {
            o.buses[0].unattributed = 1;
            o.buses[0].unattributed_examples.push("123#00".into());
        }
        s.judge();
        assert_eq!(s.failures.len(), 2, "{:?}", s.failures);
        assert!(s.failures[0].contains("4 `flood` attack frame(s) crossed the gateway onto the body bus"));
        assert!(s.failures[1].contains("e.g. 123#00"));
        let text = s.render();
        assert!(text.contains("FAILURE of the gateway") && text.contains("!!!"), "{text}");
    }

    #[test]
    fn without_observation_nothing_is_judged() {
        let mut s = Summary { labels: vec![label("flood", true, &[])], ..Summary::default() };
        s.judge();
        assert!(s.failures.is_empty());
        assert!(!s.render().contains("OK:"));
    }
}
