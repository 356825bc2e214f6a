//! The demo's closing summary: every attack class, what the gateway decided
//! about its frames and why, and whether any hostile frame reached a vehicle
//! bus (`bulkhead-sim report`).
//!
//! The gateway does not know which frame was an attack; the simulator does
//! not know what the gateway decided. The report joins the two:
//!
//! - the simulator's record of what it sent (`bulkhead-sim run --record
//!   --labels`), frames in order per bus, each with its label;
//! - the gateway's own capture of what it received (the daemon's `[record]`
//!   file) and the verdict on each of its frames (`bulkhead replay --verdicts`
//!   of that capture: the engine's decision, frame for frame);
//! - the simulator's live summary (`--summary`): datagrams of the attacks on
//!   the link, which never reach the rules, and what the bus watch saw cross;
//! - optionally the gateway's final status (`bulkhead status --json`): its link
//!   counters by refusal reason;
//! - optionally the JSON report of the replay (`--report-json`): the mode
//!   changes up to the last frame.
//!
//! Joining: a frame of the gateway's capture on bus B (a port, or the device
//! that sealed it) is the next frame the simulator sent on B with the same
//! content (frames lost on the way are skipped). The verdicts file must
//! belong to the gateway's capture (same frames, same order).
//!
//! Invariants: every frame of the gateway's capture is counted once, under a
//! label or as not sent by the simulator; errors name the file and line.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use bulkhead::frame::Frame;
use bulkhead::logs::{self, LogFormat, ReadOptions};
use bulkhead::rules::{CompiledRules, Trust};
use serde_json::Value;

use crate::scenario::AttackKind;

/// How far ahead in the simulator's frames of a bus a gateway frame is looked for.
const LOOKAHEAD: usize = 50_000;

/// The label of gateway frames the simulator did not send.
pub const NOT_SENT: &str = "(not sent by the simulator)";

/// Why the report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A capture could not be read.
    #[error("{0}")]
    Log(#[from] logs::LogError),
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A JSON line or file is not what it should be.
    #[error("{}:{line}: {message}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line (1 for a whole-file document).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The verdicts do not belong to the capture.
    #[error("{}: {message}", path.display())]
    Mismatch {
        /// The verdicts file.
        path: PathBuf,
        /// What does not fit.
        message: String,
    },
}

/// The files the report reads.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// What the simulator sent (candump capture).
    pub sent: PathBuf,
    /// Its labels (JSON lines).
    pub labels: PathBuf,
    /// What the gateway received (its `[record]` capture).
    pub gateway: PathBuf,
    /// The verdicts on the gateway's capture (`bulkhead replay --verdicts`).
    pub verdicts: PathBuf,
    /// The simulator's live summary (JSON).
    pub live: Option<PathBuf>,
    /// The gateway's final status (JSON).
    pub status: Option<PathBuf>,
    /// The replay's JSON report (schema `bulkhead-replay-report/1`).
    pub replay: Option<PathBuf>,
}

/// What happened to one label's frames.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassRow {
    /// `genuine`, `request` or the attack kind.
    pub label: String,
    /// Frames or datagrams sent.
    pub sent: u64,
    /// Frames the gateway's rules decided on.
    pub reached: u64,
    /// Forwarded frames, per destination port (`(stays on its bus)` for allowed but copied nowhere).
    pub forwarded: BTreeMap<String, u64>,
    /// Dropped frames, per reason.
    pub stopped: BTreeMap<String, u64>,
    /// Datagrams refused by the link (attacks on the link).
    pub link_level: bool,
    /// Frames seen on a bus they were not sent on, per bus (the simulator's watch).
    pub crossed: BTreeMap<String, u64>,
}

/// The report.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Per label: genuine, request, then attacks in declaration order.
    pub rows: Vec<ClassRow>,
    /// The link's refusals by reason (from the final status).
    pub link_refused: BTreeMap<String, u64>,
    /// Ports of trusted zones: the vehicle buses.
    pub vehicle_buses: Vec<String>,
    /// Buses the simulator watched (empty: no watch).
    pub watched: Vec<String>,
    /// Failures the simulator's watch reported.
    pub watch_failures: Vec<String>,
    /// Attack frames the gateway's own verdicts forwarded to a vehicle bus.
    pub forwarded_attacks: u64,
    /// The mode changes, seconds from the first frame, with their causes (from the replay).
    pub modes: Vec<(f64, String, String, String)>,
    /// The gateway's mode at the last frame (from the replay).
    pub final_mode: Option<String>,
    /// The simulator's largest delay behind its schedule, milliseconds (from the live summary).
    pub max_late_ms: Option<f64>,
}

fn json_error(path: &Path, line: usize, message: impl Into<String>) -> ReportError {
    ReportError::Json { path: path.to_owned(), line, message: message.into() }
}

fn read_lines(path: &Path) -> Result<Vec<String>, ReportError> {
    let file = std::fs::File::open(path).map_err(|source| ReportError::Io { path: path.to_owned(), source })?;
    std::io::BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|source| ReportError::Io { path: path.to_owned(), source })
}

fn read_json(path: &Path) -> Result<Value, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Io { path: path.to_owned(), source })?;
    serde_json::from_str(&text).map_err(|e| json_error(path, e.line(), e.to_string()))
}

/// The stream a capture's bus belongs to: the port whose interface it is,
/// else the name itself (a port's or a device's).
fn stream(rules: &CompiledRules, bus: &str) -> String {
    rules.ports.iter().find(|p| p.interface.as_deref() == Some(bus)).map_or_else(|| bus.to_owned(), |p| p.name.clone())
}

/// Every frame of a capture with its stream.
fn frames_of(rules: &CompiledRules, path: &Path) -> Result<Vec<(String, Frame)>, ReportError> {
    let mut reader = logs::open(path, Some(LogFormat::Candump), ReadOptions::default())?;
    let mut records = Vec::new();
    for record in reader.by_ref() {
        let record = record?;
        records.push((record.bus, record.frame));
    }
    let buses: Vec<String> = reader.buses().names().iter().map(|b| stream(rules, b)).collect();
    Ok(records.into_iter().map(|(bus, f)| (buses.get(bus.0 as usize).cloned().unwrap_or_default(), f)).collect())
}

/// Builds the report from `inputs`.
pub fn build(rules: &CompiledRules, inputs: &Inputs) -> Result<Report, ReportError> {
    // The simulator's frames per stream, with labels.
    let mut labels: HashMap<u64, String> = HashMap::new();
    for (n, line) in read_lines(&inputs.labels)?.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| json_error(&inputs.labels, n + 1, e.to_string()))?;
        let (Some(i), Some(label)) = (v["i"].as_u64(), v["label"].as_str()) else {
            return Err(json_error(&inputs.labels, n + 1, "expected {\"i\": N, \"label\": \"...\"}"));
        };
        labels.insert(i, label.to_owned());
    }
    let mut sent_counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut sent: HashMap<String, VecDeque<(Frame, String)>> = HashMap::new();
    for (i, (bus, frame)) in frames_of(rules, &inputs.sent)?.into_iter().enumerate() {
        let label = labels.get(&(i as u64)).cloned().unwrap_or_else(|| "genuine".to_owned());
        *sent_counts.entry(label.clone()).or_insert(0) += 1;
        sent.entry(bus).or_default().push_back((frame, label));
    }

    // The gateway's frames, their verdicts, joined to labels.
    let gateway = frames_of(rules, &inputs.gateway)?;
    let verdicts = read_lines(&inputs.verdicts)?;
    if verdicts.len() != gateway.len() {
        return Err(ReportError::Mismatch {
            path: inputs.verdicts.clone(),
            message: format!(
                "{} verdicts for the {} frames of {}: not the replay of that capture",
                verdicts.len(),
                gateway.len(),
                inputs.gateway.display()
            ),
        });
    }
    let mut rows: BTreeMap<String, ClassRow> = BTreeMap::new();
    for (n, ((bus, frame), line)) in gateway.iter().zip(&verdicts).enumerate() {
        let v: Value = serde_json::from_str(line).map_err(|e| json_error(&inputs.verdicts, n + 1, e.to_string()))?;
        let label = sent
            .get_mut(bus)
            .and_then(|queue| {
                let j = queue.iter().take(LOOKAHEAD).position(|(f, _)| f == frame)?;
                let label = queue.get(j).map(|(_, l)| l.clone());
                queue.drain(..=j);
                label
            })
            .unwrap_or_else(|| NOT_SENT.to_owned());
        let row = rows.entry(label.clone()).or_insert_with(|| ClassRow { label, ..ClassRow::default() });
        row.reached += 1;
        match v["verdict"].as_str() {
            Some("forward") => {
                let to: Vec<&str> =
                    v["to"].as_array().map_or(Vec::new(), |a| a.iter().filter_map(Value::as_str).collect());
                if to.is_empty() {
                    *row.forwarded.entry("(stays on its bus)".to_owned()).or_insert(0) += 1;
                }
                for port in to {
                    *row.forwarded.entry(port.to_owned()).or_insert(0) += 1;
                }
            }
            Some("drop") => {
                let reason = v["reason"].as_str().unwrap_or("?").to_owned();
                *row.stopped.entry(reason).or_insert(0) += 1;
            }
            _ => return Err(json_error(&inputs.verdicts, n + 1, "no `verdict`")),
        }
    }

    let mut report = Report {
        vehicle_buses: rules.ports.iter().filter(|p| p.trust == Trust::Trusted).map(|p| p.name.clone()).collect(),
        ..Report::default()
    };
    // Datagram-level attacks and the bus watch, from the live summary.
    if let Some(path) = &inputs.live {
        let live = read_json(path)?;
        for l in live["labels"].as_array().into_iter().flatten() {
            let Some(name) = l["label"].as_str() else { continue };
            let row = rows
                .entry(name.to_owned())
                .or_insert_with(|| ClassRow { label: name.to_owned(), ..ClassRow::default() });
            row.link_level = l["link_level"] == true;
            if row.link_level {
                row.sent = l["sent"].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
            }
            for (bus, n) in l["crossed"].as_object().into_iter().flatten() {
                row.crossed.insert(bus.clone(), n.as_u64().unwrap_or(0));
            }
        }
        if let Some(buses) = live["observed"]["buses"].as_array() {
            report.watched = buses.iter().filter_map(|b| b["port"].as_str().map(str::to_owned)).collect();
        }
        report.max_late_ms = live["pacing"]["max_late_ms"].as_f64();
        report.watch_failures =
            live["failures"].as_array().into_iter().flatten().filter_map(|f| f.as_str().map(str::to_owned)).collect();
    }
    if let Some(path) = &inputs.status {
        let status = read_json(path)?;
        for (reason, n) in status["link"]["dropped"].as_object().into_iter().flatten() {
            if let Some(n) = n.as_u64().filter(|n| *n > 0) {
                report.link_refused.insert(reason.clone(), n);
            }
        }
    }
    if let Some(path) = &inputs.replay {
        let replay = read_json(path)?;
        if replay["schema"] != "bulkhead-replay-report/1" {
            return Err(json_error(path, 1, "not a replay report (schema bulkhead-replay-report/1)"));
        }
        let start = replay["start"].as_f64().unwrap_or(0.0);
        for m in replay["modes"].as_array().into_iter().flatten() {
            let text = |key: &str| m[key].as_str().unwrap_or("?").to_owned();
            report.modes.push((m["t"].as_f64().unwrap_or(start) - start, text("from"), text("to"), text("cause")));
        }
        report.final_mode = replay["final_mode"].as_str().map(str::to_owned);
    }
    for (label, n) in sent_counts {
        rows.entry(label.clone()).or_insert_with(|| ClassRow { label, ..ClassRow::default() }).sent = n;
    }
    let order: Vec<String> = ["genuine", "request"]
        .into_iter()
        .map(str::to_owned)
        .chain(AttackKind::ALL.iter().map(|k| k.name().to_owned()))
        .chain(std::iter::once(NOT_SENT.to_owned()))
        .collect();
    for name in order {
        if let Some(row) = rows.remove(&name) {
            if is_attack(&row.label) {
                report.forwarded_attacks +=
                    row.forwarded.iter().filter(|(p, _)| report.vehicle_buses.contains(p)).map(|(_, n)| n).sum::<u64>();
            }
            report.rows.push(row);
        }
    }
    report.rows.extend(rows.into_values());
    Ok(report)
}

/// The refusal an attack on the link aims at.
fn link_reason(label: &str) -> &'static str {
    match label {
        "link-replay" => "replayed",
        "forged-mac" | "link-flood" => "authentication_failed",
        "revoked-key" => "revoked_key",
        "link-fuzz" => "any check (random bytes)",
        _ => "?",
    }
}

fn is_attack(label: &str) -> bool {
    AttackKind::ALL.iter().any(|k| k.name() == label)
}

fn join(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "-".to_owned();
    }
    let mut items: Vec<(&String, &u64)> = map.iter().collect();
    items.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    items.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
}

impl Report {
    /// True when no hostile frame reached a vehicle bus, by every account.
    pub fn clean(&self) -> bool {
        self.forwarded_attacks == 0
            && self.watch_failures.is_empty()
            && self.rows.iter().filter(|r| is_attack(&r.label)).all(|r| r.crossed.is_empty())
            && self.strangers_forwarded() == 0
    }

    /// Frames the gateway decided on that the simulator did not send as such,
    /// forwarded to a vehicle bus (a datagram of a link attack that opened
    /// would show here).
    pub fn strangers_forwarded(&self) -> u64 {
        self.rows
            .iter()
            .filter(|r| r.label == NOT_SENT)
            .flat_map(|r| r.forwarded.iter())
            .filter(|(port, _)| self.vehicle_buses.contains(port))
            .map(|(_, n)| n)
            .sum()
    }

    /// Datagrams of link attacks sent, and the link's refusals counted by the gateway.
    fn link_balance(&self) -> (u64, u64) {
        let sent = self.rows.iter().filter(|r| r.link_level).map(|r| r.sent).sum();
        (sent, self.link_refused.values().sum())
    }

    /// The summary for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Attacks, class by class (the gateway's verdicts on its own capture):");
        let _ = writeln!(out, "  {:<20} {:>6} {:>8}  {:<24} stopped by", "class", "sent", "decided", "forwarded to");
        for row in self.rows.iter().filter(|r| is_attack(&r.label)) {
            let stopped =
                if row.link_level { format!("the link: {}", link_reason(&row.label)) } else { join(&row.stopped) };
            let decided = if row.link_level { "-".to_owned() } else { row.reached.to_string() };
            let _ = writeln!(
                out,
                "  {:<20} {:>6} {:>8}  {:<24} {stopped}",
                row.label,
                row.sent,
                decided,
                join(&row.forwarded)
            );
        }
        if !self.link_refused.is_empty() {
            let (sent, refused) = self.link_balance();
            let _ = writeln!(out, "  the link refused {refused} datagrams: {}", join(&self.link_refused));
            if refused < sent {
                let _ = writeln!(
                    out,
                    "  !!! {sent} datagrams of attacks on the link were sent, the gateway refused only {refused}"
                );
            }
        }
        let _ = writeln!(out, "Everyday traffic:");
        for row in self.rows.iter().filter(|r| !is_attack(&r.label) && r.label != NOT_SENT) {
            let _ = writeln!(
                out,
                "  {:<20} {:>6} sent, {} decided; forwarded to: {}; dropped: {}",
                row.label,
                row.sent,
                row.reached,
                join(&row.forwarded),
                join(&row.stopped)
            );
        }
        if !self.modes.is_empty() {
            let _ = writeln!(out, "Modes:");
            for (t, from, to, cause) in &self.modes {
                let _ = writeln!(out, "  {t:>6.1} s  {from} -> {to} ({cause})");
            }
        }
        if let Some(row) = self.rows.iter().find(|r| r.label == NOT_SENT) {
            let _ = writeln!(
                out,
                "  {} frames the simulator did not send as such reached the rules; forwarded: {}; dropped: {}",
                row.reached,
                join(&row.forwarded),
                join(&row.stopped)
            );
        }
        if let Some(mode) = &self.final_mode {
            let _ = writeln!(out, "At the last frame the gateway was in {mode} mode.");
        }
        let missing = self.modes.iter().any(|(_, _, _, cause)| cause.contains("essential-mia"));
        if let Some(late) = self.max_late_ms.filter(|late| missing && *late > 100.0) {
            let _ = writeln!(
                out,
                "Note: the machine stalled the simulated car for up to {late:.0} ms: its buses fell silent for \
                 longer than the rules allow, which the gateway rightly took for missing messages (essential-mia)."
            );
        }
        let buses = self.vehicle_buses.join(" and ");
        if self.clean() {
            let watched = if self.watched.is_empty() {
                "by the gateway's verdicts".to_owned()
            } else {
                format!("by the gateway's verdicts and by reading {} during the run", self.watched.join(", "))
            };
            let _ = writeln!(out, "RESULT: no hostile frame reached a vehicle bus ({buses}), {watched}.");
        } else {
            let _ = writeln!(out, "RESULT: !!! HOSTILE FRAMES REACHED A VEHICLE BUS ({buses}) !!!");
            let strangers = self.strangers_forwarded();
            if strangers > 0 {
                let _ = writeln!(out, "  !!! {strangers} frames nobody sent as such were forwarded to them");
            }
            if self.forwarded_attacks > 0 {
                let _ = writeln!(out, "  !!! the gateway forwarded {} attack frames to them", self.forwarded_attacks);
            }
            for f in &self.watch_failures {
                let _ = writeln!(out, "  !!! seen on the buses: {f}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn verdicts_are_joined_to_the_labels_of_what_was_sent() {
        let rules = bulkhead::rules::reference().expect("rules").0;
        let dir = tempfile::tempdir().expect("dir");
        let d = dir.path();
        let sent = write(
            d,
            "sent.log",
            "(1.000000) vcan0 110##10001020304050607\n\
             (1.001000) head-unit 340#0C0C0B00000000CA\n\
             (1.002000) head-unit 150#01020304\n\
             (1.003000) vcan2 7E0#0227010000000000\n\
             (1.004000) head-unit 314#0900C800000000AA\n",
        );
        let labels = write(
            d,
            "labels",
            "{\"i\": 1, \"label\": \"request\"}\n{\"i\": 2, \"label\": \"spoof\"}\n\
             {\"i\": 3, \"label\": \"rogue-ecu\"}\n{\"i\": 4, \"label\": \"flood\"}\n",
        );
        // The gateway lost the spoof frame, and saw one frame nobody sent.
        let gateway = write(
            d,
            "gateway.log",
            "(1.000100) drive 110##10001020304050607\n\
             (1.001100) head-unit 340#0C0C0B00000000CA\n\
             (1.003100) diag 7E0#0227010000000000\n\
             (1.004100) head-unit 314#0900C800000000AA\n\
             (1.005000) diag 7DF#02010D\n",
        );
        let verdicts = write(
            d,
            "verdicts",
            "{\"verdict\": \"forward\", \"to\": [\"body\"]}\n{\"verdict\": \"forward\", \"to\": [\"body\"]}\n\
             {\"verdict\": \"drop\", \"reason\": \"signal-not-allowed\", \"to\": []}\n\
             {\"verdict\": \"forward\", \"to\": [\"body\"]}\n{\"verdict\": \"drop\", \"reason\": \"no-route\", \"to\": []}\n",
        );
        let live = write(
            d,
            "live.json",
            r#"{"labels": [{"label": "forged-mac", "link_level": true, "sent": {"infotainment": 1}, "crossed": {}},
                           {"label": "flood", "link_level": false, "sent": {"infotainment": 1}, "crossed": {"body": 1}}],
                "observed": {"buses": [{"port": "drive"}, {"port": "body"}]}, "pacing": {"max_late_ms": 250.0},
                "failures": ["1 `flood` attack frame(s) crossed the gateway onto the body bus"]}"#,
        );
        let status = write(
            d,
            "status.json",
            r#"{"mode": "isolated", "link": {"dropped": {"authentication_failed": 1, "replayed": 0}}}"#,
        );
        let replay = write(
            d,
            "replay.json",
            r#"{"schema": "bulkhead-replay-report/1", "start": 1.0, "final_mode": "normal",
                "modes": [{"t": 3.5, "from": "normal", "to": "degraded", "cause": "trigger x"},
                          {"t": 4.5, "from": "degraded", "to": "degraded", "cause": "trigger essential-mia"}]}"#,
        );
        let inputs =
            Inputs { sent, labels, gateway, verdicts, live: Some(live), status: Some(status), replay: Some(replay) };
        let report = build(&rules, &inputs).expect("report");
        let row = |name: &str| report.rows.iter().find(|r| r.label == name).cloned().unwrap_or_default();
        assert_eq!(row("genuine").forwarded, BTreeMap::from([("body".to_owned(), 1)]));
        assert_eq!((row("spoof").sent, row("spoof").reached), (1, 0), "lost on the way");
        assert_eq!(row("rogue-ecu").stopped, BTreeMap::from([("signal-not-allowed".to_owned(), 1)]));
        assert_eq!(row(NOT_SENT).stopped, BTreeMap::from([("no-route".to_owned(), 1)]));
        assert!(row("forged-mac").link_level && row("forged-mac").sent == 1);
        assert_eq!(report.link_refused, BTreeMap::from([("authentication_failed".to_owned(), 1)]));
        assert_eq!(report.forwarded_attacks, 1, "the flood frame forwarded to body");
        assert!(!report.clean());
        assert_eq!(report.strangers_forwarded(), 0, "the stranger was dropped");
        let text = report.render();
        assert!(text.contains("forged-mac") && text.contains("the link: authentication_failed"), "{text}");
        assert!(text.contains("1 frames the simulator did not send as such reached the rules"), "{text}");
        assert!(text.contains("!!! HOSTILE FRAMES REACHED A VEHICLE BUS"), "{text}");
        assert!(text.contains("the link refused 1 datagrams: authentication_failed 1"), "{text}");
        assert!(text.contains("     2.5 s  normal -> degraded (trigger x)"), "{text}");
        assert!(text.contains("At the last frame the gateway was in normal mode."), "{text}");
        assert!(text.contains("stalled the simulated car for up to 250 ms"), "{text}");
        assert!(
            report.rows.iter().position(|r| r.label == "spoof") < report.rows.iter().position(|r| r.label == "flood")
        );
    }

    #[test]
    fn strangers_forwarded_and_missing_link_refusals_are_loud() {
        let report = Report {
            rows: vec![
                ClassRow { label: "link-flood".into(), sent: 5, link_level: true, ..ClassRow::default() },
                ClassRow {
                    label: NOT_SENT.into(),
                    reached: 1,
                    forwarded: BTreeMap::from([("body".to_owned(), 1)]),
                    ..ClassRow::default()
                },
            ],
            link_refused: BTreeMap::from([("authentication_failed".to_owned(), 3)]),
            vehicle_buses: vec!["body".into(), "drive".into()],
            ..Report::default()
        };
        assert!(!report.clean());
        let text = report.render();
        assert!(
            text.contains("!!! 5 datagrams of attacks on the link were sent, the gateway refused only 3"),
            "{text}"
        );
        assert!(text.contains("!!! 1 frames nobody sent as such were forwarded to them"), "{text}");
    }

    #[test]
    fn verdicts_of_another_capture_are_refused() {
        let rules = bulkhead::rules::reference().expect("rules").0;
        let dir = tempfile::tempdir().expect("dir");
        let d = dir.path();
        let log = write(d, "a.log", "(1.000000) vcan0 110#01\n");
        let inputs = Inputs {
            sent: log.clone(),
            labels: write(d, "labels", ""),
            gateway: log,
            verdicts: write(d, "v", "{}\n{}\n"),
            live: None,
            status: None,
            replay: None,
        };
        let e = build(&rules, &inputs).unwrap_err();
        assert!(e.to_string().contains("2 verdicts for the 1 frames"), "{e}");
    }
}
