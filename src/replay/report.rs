//! The replay report: what happened, per id, per reason, per route and port,
//! over time, with the mode timeline and the security events.
//!
//! [`ReportBuilder`] aggregates while frames flow (one table lookup and a few
//! additions per frame); [`ReplayReport`] is the finished, serializable
//! result. Its JSON form is a stable, documented schema (`docs/replay.md`,
//! `"schema": "bulkhead-replay-report/1"`); the text summary and the HTML page
//! are rendered from it alone.
//!
//! Time series use bins that start at 10 ms and double (merging neighbours)
//! whenever the capture outgrows [`MAX_BINS`] bins, so memory stays bounded
//! whatever the capture's length and the result does not depend on knowing the
//! length in advance.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;

use super::FrameOutcome;
use crate::engine::Counters;
use crate::engine::events::{EventKind, SecurityEvent};
use crate::engine::modes::{Mode, ModeCause};
use crate::engine::verdict::{DropReason, Verdict};
use crate::frame::{CanId, Frame, MAX_STANDARD_ID};
use crate::rules::{CompiledRules, PortId};
use crate::time::Timestamp;

/// The schema identifier of the JSON report.
pub const SCHEMA: &str = "bulkhead-replay-report/1";
/// Most bins in a time series.
pub const MAX_BINS: usize = 256;
/// Width of the first bins.
const FIRST_BIN_NANOS: u64 = 10_000_000;
/// Ids with their own series in the timeline (the busiest).
const TIMELINE_IDS: usize = 40;
/// Events listed one by one.
const LISTED_EVENTS: usize = 200;
/// Event groups listed in `top`.
const TOP_EVENT_GROUPS: usize = 20;

/// The finished report. Field order is the JSON order.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReplayReport {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The rules' gateway name.
    pub rules: String,
    /// Frames read from the captures.
    pub frames: u64,
    /// Frames the engine allowed.
    pub forwarded: u64,
    /// Frames the engine dropped.
    pub dropped: u64,
    /// Frames on buses mapped to no port (not given to the engine).
    pub unmapped: u64,
    /// Malformed lines skipped (lenient mode).
    pub skipped_lines: u64,
    /// Time of the first frame, seconds.
    pub start: f64,
    /// Time of the last frame, seconds.
    pub end: f64,
    /// The mode at the end.
    pub final_mode: &'static str,
    /// Drops per reason, most frequent first.
    pub reasons: Vec<ReasonCount>,
    /// Per (port, id), sorted by port then id.
    pub ids: Vec<IdReport>,
    /// Per route, in rule order.
    pub routes: Vec<RouteReport>,
    /// Per port, in rule order.
    pub ports: Vec<PortReport>,
    /// Buses that matched no port.
    pub unmapped_buses: Vec<BusCount>,
    /// Mode transitions in time order.
    pub modes: Vec<ModeTransition>,
    /// Security events.
    pub events: EventsReport,
    /// Frames the gateway sent itself (status frames).
    pub transmitted: u64,
    /// Time series.
    pub timeline: Timeline,
}

/// Drops for one reason.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReasonCount {
    /// The reason's name.
    pub reason: &'static str,
    /// Its layer.
    pub layer: &'static str,
    /// How many frames.
    pub count: u64,
}

/// One id on one port.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IdReport {
    /// The port.
    pub port: String,
    /// The id without flags.
    pub id: u32,
    /// True for a 29-bit id.
    pub ext: bool,
    /// The DBC message name, if the port's DBCs know the id.
    pub message: Option<String>,
    /// Frames.
    pub frames: u64,
    /// Forwarded frames.
    pub forwarded: u64,
    /// Dropped frames.
    pub dropped: u64,
    /// Drops per reason.
    pub reasons: BTreeMap<&'static str, u64>,
}

/// One route.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RouteReport {
    /// Its name.
    pub name: String,
    /// Frames it allowed.
    pub forwarded: u64,
    /// Frames it refused.
    pub dropped: u64,
}

/// One port.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PortReport {
    /// Its name.
    pub name: String,
    /// Frames received.
    pub received: u64,
    /// Of those, dropped.
    pub dropped: u64,
    /// Frames forwarded to it.
    pub sent: u64,
}

/// Frames of an unmapped bus.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BusCount {
    /// The bus name in the capture.
    pub bus: String,
    /// Frames on it.
    pub frames: u64,
}

/// A mode transition.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ModeTransition {
    /// When, seconds.
    pub t: f64,
    /// Mode left.
    pub from: &'static str,
    /// Mode entered.
    pub to: &'static str,
    /// Why, readable (`trigger infotainment-flood`, `recovered`, ...).
    pub cause: String,
}

/// The security events.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EventsReport {
    /// Events the engine emitted.
    pub total: u64,
    /// Events held back by the event rate limit.
    pub suppressed: u64,
    /// Events lost because the queue was full.
    pub lost: u64,
    /// Per kind.
    pub by_kind: BTreeMap<&'static str, u64>,
    /// The most frequent (kind, reason, port, id) groups.
    pub top: Vec<EventGroup>,
    /// The first events, one by one.
    pub first: Vec<EventEntry>,
}

/// A group of similar events.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventGroup {
    /// Event kind.
    pub kind: &'static str,
    /// Detail (drop reason, fault...).
    pub detail: String,
    /// Port name.
    pub port: Option<String>,
    /// Id.
    pub id: Option<u32>,
    /// How many.
    pub count: u64,
}

/// One event.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EventEntry {
    /// When, seconds.
    pub t: f64,
    /// Kind.
    pub kind: &'static str,
    /// Detail.
    pub detail: String,
    /// Port name.
    pub port: Option<String>,
    /// Id.
    pub id: Option<u32>,
    /// True for a 29-bit id.
    pub ext: bool,
    /// Route name.
    pub route: Option<String>,
}

/// Counts over time.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Timeline {
    /// Start of the first bin, seconds.
    pub start: f64,
    /// Width of a bin, seconds.
    pub bin_seconds: f64,
    /// Forwarded frames per bin.
    pub forwarded: Vec<u64>,
    /// Dropped frames per bin.
    pub dropped: Vec<u64>,
    /// Dropped frames per bin, per reason (only reasons that occurred).
    pub by_reason: BTreeMap<&'static str, Vec<u64>>,
    /// Per-id series of the busiest ids.
    pub ids: Vec<IdSeries>,
}

/// The series of one id.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct IdSeries {
    /// The port.
    pub port: String,
    /// The id.
    pub id: u32,
    /// True for a 29-bit id.
    pub ext: bool,
    /// Forwarded per bin.
    pub forwarded: Vec<u64>,
    /// Dropped per bin.
    pub dropped: Vec<u64>,
}

/// Groups events by (kind, detail, port, id).
type EventKey = (&'static str, String, Option<PortId>, Option<CanId>);

#[derive(Clone, Debug)]
struct IdStats {
    port: PortId,
    id: CanId,
    frames: u64,
    forwarded: u64,
    dropped: u64,
    reasons: [u64; DropReason::COUNT],
    bins_forwarded: Vec<u64>,
    bins_dropped: Vec<u64>,
}

/// Aggregates a report while frames flow.
pub struct ReportBuilder {
    rules: Arc<CompiledRules>,
    /// Per port: index into `ids` for each standard id (`u32::MAX`: none yet).
    standard: Vec<Vec<u32>>,
    extended: HashMap<(PortId, u32), u32>,
    ids: Vec<IdStats>,
    frames: u64,
    forwarded: u64,
    dropped: u64,
    unmapped: BTreeMap<String, u64>,
    skipped_lines: u64,
    start: Option<Timestamp>,
    end: Timestamp,
    bin_nanos: u64,
    bins_forwarded: Vec<u64>,
    bins_dropped: Vec<u64>,
    bins_reason: Vec<Vec<u64>>,
    modes: Vec<ModeTransition>,
    events_total: u64,
    events_by_kind: BTreeMap<&'static str, u64>,
    event_groups: BTreeMap<EventKey, u64>,
    events_first: Vec<EventEntry>,
    transmitted: u64,
}

impl ReportBuilder {
    /// An empty report for `rules`.
    pub fn new(rules: Arc<CompiledRules>) -> Self {
        let ports = rules.ports.len();
        ReportBuilder {
            standard: vec![vec![u32::MAX; MAX_STANDARD_ID as usize + 1]; ports],
            extended: HashMap::new(),
            ids: Vec::new(),
            frames: 0,
            forwarded: 0,
            dropped: 0,
            unmapped: BTreeMap::new(),
            skipped_lines: 0,
            start: None,
            end: Timestamp::ZERO,
            bin_nanos: FIRST_BIN_NANOS,
            bins_forwarded: Vec::new(),
            bins_dropped: Vec::new(),
            bins_reason: vec![Vec::new(); DropReason::COUNT],
            modes: Vec::new(),
            events_total: 0,
            events_by_kind: BTreeMap::new(),
            event_groups: BTreeMap::new(),
            events_first: Vec::new(),
            transmitted: 0,
            rules,
        }
    }

    fn stats_index(&mut self, port: PortId, id: CanId) -> usize {
        let existing = if id.is_extended() {
            self.extended.get(&(port, id.raw())).copied()
        } else {
            self.standard
                .get(port.0 as usize)
                .and_then(|t| t.get(id.raw() as usize))
                .copied()
                .filter(|&i| i != u32::MAX)
        };
        if let Some(i) = existing {
            return i as usize;
        }
        let i = self.ids.len() as u32;
        let bins = self.bins_forwarded.len();
        self.ids.push(IdStats {
            port,
            id,
            frames: 0,
            forwarded: 0,
            dropped: 0,
            reasons: [0; DropReason::COUNT],
            bins_forwarded: vec![0; bins],
            bins_dropped: vec![0; bins],
        });
        if id.is_extended() {
            self.extended.insert((port, id.raw()), i);
        } else if let Some(cell) = self.standard.get_mut(port.0 as usize).and_then(|t| t.get_mut(id.raw() as usize)) {
            *cell = i;
        }
        i as usize
    }

    /// The bin of time `t`, widening the bins as needed.
    fn bin(&mut self, t: Timestamp) -> usize {
        let start = *self.start.get_or_insert(t);
        let offset = t.saturating_since(start).as_nanos() as u64;
        let mut bin = (offset / self.bin_nanos) as usize;
        while bin >= MAX_BINS {
            self.widen();
            bin = (offset / self.bin_nanos) as usize;
        }
        if bin >= self.bins_forwarded.len() {
            let n = bin + 1;
            self.bins_forwarded.resize(n, 0);
            self.bins_dropped.resize(n, 0);
            for s in &mut self.ids {
                s.bins_forwarded.resize(n, 0);
                s.bins_dropped.resize(n, 0);
            }
        }
        bin
    }

    fn widen(&mut self) {
        self.bin_nanos = self.bin_nanos.saturating_mul(2);
        fn merge(v: &mut Vec<u64>) {
            let merged: Vec<u64> = v.chunks(2).map(|c| c.iter().sum()).collect();
            *v = merged;
        }
        merge(&mut self.bins_forwarded);
        merge(&mut self.bins_dropped);
        for r in &mut self.bins_reason {
            merge(r);
        }
        for s in &mut self.ids {
            merge(&mut s.bins_forwarded);
            merge(&mut s.bins_dropped);
        }
    }

    /// Records one frame's outcome.
    pub fn frame(&mut self, o: &FrameOutcome<'_>) {
        self.frames += 1;
        self.end = self.end.max(o.time);
        let bin = self.bin(o.time);
        let (Some(port), Some(verdict)) = (o.port, o.verdict) else {
            *self.unmapped.entry(o.bus.to_owned()).or_insert(0) += 1;
            return;
        };
        let i = self.stats_index(port, o.frame.id());
        let stats = &mut self.ids[i];
        stats.frames += 1;
        match verdict {
            Verdict::Forward { .. } => {
                self.forwarded += 1;
                stats.forwarded += 1;
                stats.bins_forwarded[bin] += 1;
                self.bins_forwarded[bin] += 1;
            }
            Verdict::Drop { reason, .. } => {
                self.dropped += 1;
                stats.dropped += 1;
                stats.reasons[reason.index()] += 1;
                stats.bins_dropped[bin] += 1;
                self.bins_dropped[bin] += 1;
                let series = &mut self.bins_reason[reason.index()];
                if series.len() <= bin {
                    series.resize(bin + 1, 0);
                }
                series[bin] += 1;
            }
        }
    }

    /// Records malformed lines a lenient reader skipped.
    pub fn skipped_lines(&mut self, n: u64) {
        self.skipped_lines += n;
    }

    /// Records a frame the gateway sent itself.
    pub fn transmitted(&mut self, _port: PortId, _frame: &Frame) {
        self.transmitted += 1;
    }

    fn port_name(&self, p: PortId) -> String {
        self.rules.port(p).map_or_else(|| format!("#{}", p.0), |p| p.name.clone())
    }

    fn detail(&self, kind: &EventKind) -> String {
        match kind {
            EventKind::Dropped(reason) => reason.name().to_owned(),
            EventKind::Fault(f) => f.name().to_owned(),
            EventKind::ModeChanged(c) => format!("{} -> {}", c.from, c.to),
            EventKind::Suppressed { class, count } => format!("{count} {} events", class.name()),
            _ => String::new(),
        }
    }

    fn cause(&self, cause: ModeCause) -> String {
        match cause {
            ModeCause::Trigger(t) => {
                format!("trigger {}", self.rules.triggers.get(t.0 as usize).map_or("?", |t| t.name.as_str()))
            }
            ModeCause::Escalation => "escalation: repeated degradation".to_owned(),
            ModeCause::Recovered => "recovered: quiet period over".to_owned(),
            ModeCause::Command => "authenticated command".to_owned(),
        }
    }

    /// Records a security event.
    pub fn event(&mut self, e: &SecurityEvent) {
        self.events_total += 1;
        *self.events_by_kind.entry(e.kind.name()).or_insert(0) += 1;
        if let EventKind::ModeChanged(c) = e.kind {
            self.modes.push(ModeTransition {
                t: c.time.as_secs_f64(),
                from: c.from.name(),
                to: c.to.name(),
                cause: self.cause(c.cause),
            });
        }
        let detail = self.detail(&e.kind);
        if !matches!(e.kind, EventKind::Suppressed { .. }) {
            *self.event_groups.entry((e.kind.name(), detail.clone(), e.port, e.id)).or_insert(0) += 1;
        }
        if self.events_first.len() < LISTED_EVENTS {
            let entry = EventEntry {
                t: e.time.as_secs_f64(),
                kind: e.kind.name(),
                detail,
                port: e.port.map(|p| self.port_name(p)),
                id: e.id.map(CanId::raw),
                ext: e.id.is_some_and(CanId::is_extended),
                route: e.route.and_then(|r| self.rules.route(r)).map(|r| r.name.clone()),
            };
            self.events_first.push(entry);
        }
    }

    fn message_name(&self, port: PortId, id: CanId) -> Option<String> {
        self.rules.port(port)?.codecs.get(id).map(|(_, c)| c.name().to_owned())
    }

    /// The finished report.
    pub fn finish(self, counters: &Counters, final_mode: Mode, lost: u64, suppressed: u64) -> ReplayReport {
        let mut reasons: Vec<ReasonCount> = DropReason::ALL
            .iter()
            .map(|r| ReasonCount { reason: r.name(), layer: r.layer().name(), count: counters.reason(*r) })
            .filter(|r| r.count > 0)
            .collect();
        reasons.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(b.reason)));
        let mut ids: Vec<&IdStats> = self.ids.iter().collect();
        ids.sort_by_key(|s| (s.port, s.id));
        let id_reports = ids
            .iter()
            .map(|s| IdReport {
                port: self.port_name(s.port),
                id: s.id.raw(),
                ext: s.id.is_extended(),
                message: self.message_name(s.port, s.id),
                frames: s.frames,
                forwarded: s.forwarded,
                dropped: s.dropped,
                reasons: DropReason::ALL
                    .iter()
                    .filter(|r| s.reasons[r.index()] > 0)
                    .map(|r| (r.name(), s.reasons[r.index()]))
                    .collect(),
            })
            .collect();
        let mut busiest: Vec<&IdStats> = self.ids.iter().collect();
        busiest.sort_by(|a, b| b.frames.cmp(&a.frames).then((a.port, a.id).cmp(&(b.port, b.id))));
        let bins = self.bins_forwarded.len();
        let pad = |v: &[u64]| {
            let mut v = v.to_vec();
            v.resize(bins, 0);
            v
        };
        let timeline = Timeline {
            start: self.start.unwrap_or_default().as_secs_f64(),
            bin_seconds: self.bin_nanos as f64 / 1e9,
            forwarded: self.bins_forwarded.clone(),
            dropped: self.bins_dropped.clone(),
            by_reason: DropReason::ALL
                .iter()
                .filter(|r| self.bins_reason[r.index()].iter().any(|&c| c > 0))
                .map(|r| (r.name(), pad(&self.bins_reason[r.index()])))
                .collect(),
            ids: busiest
                .iter()
                .take(TIMELINE_IDS)
                .map(|s| IdSeries {
                    port: self.port_name(s.port),
                    id: s.id.raw(),
                    ext: s.id.is_extended(),
                    forwarded: pad(&s.bins_forwarded),
                    dropped: pad(&s.bins_dropped),
                })
                .collect(),
        };
        let mut top: Vec<EventGroup> = self
            .event_groups
            .iter()
            .map(|((kind, detail, port, id), count)| EventGroup {
                kind,
                detail: detail.clone(),
                port: port.map(|p| self.port_name(p)),
                id: id.map(CanId::raw),
                count: *count,
            })
            .collect();
        top.sort_by(|a, b| b.count.cmp(&a.count).then(a.cmp(b)));
        top.truncate(TOP_EVENT_GROUPS);
        ReplayReport {
            schema: SCHEMA,
            rules: self.rules.name.clone(),
            frames: self.frames,
            forwarded: self.forwarded,
            dropped: self.dropped,
            unmapped: self.unmapped.values().sum(),
            skipped_lines: self.skipped_lines,
            start: self.start.unwrap_or_default().as_secs_f64(),
            end: self.end.as_secs_f64(),
            final_mode: final_mode.name(),
            reasons,
            ids: id_reports,
            routes: self
                .rules
                .routes
                .iter()
                .zip(&counters.routes)
                .map(|(r, c)| RouteReport { name: r.name.clone(), forwarded: c.forwarded, dropped: c.dropped })
                .collect(),
            ports: self
                .rules
                .ports
                .iter()
                .zip(&counters.ports)
                .map(|(p, c)| PortReport {
                    name: p.name.clone(),
                    received: c.received,
                    dropped: c.dropped,
                    sent: c.sent,
                })
                .collect(),
            unmapped_buses: self
                .unmapped
                .iter()
                .map(|(bus, frames)| BusCount { bus: bus.clone(), frames: *frames })
                .collect(),
            modes: self.modes,
            events: EventsReport {
                total: self.events_total,
                suppressed,
                lost,
                by_kind: self.events_by_kind,
                top,
                first: self.events_first,
            },
            transmitted: self.transmitted,
            timeline,
        }
    }
}
