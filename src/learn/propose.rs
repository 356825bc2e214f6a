//! From what the capture showed to a proposed rule file: one port per bus,
//! one route per (bus, id), each value with the observation it comes from.
//!
//! Every decision here keeps one promise: replaying the capture the rules
//! were learned from drops nothing. A check is proposed only where every
//! frame of the capture passes it (lengths, DBC ranges and value
//! descriptions, counters, checksums, cycle times with their bursts), and
//! where a DBC disagrees with the capture the route relaxes exactly that
//! check and says so in a comment. Everything is sorted (buses by name, ids
//! by kind and value, signals in DBC order), so the same capture always gives
//! the same proposal.

use std::collections::BTreeMap;

use super::Margins;
use super::checksum::{self, ChecksumMatch};
use super::counter::CounterRule;
use super::cycle::{self, CycleRule, Timing, round3};
use super::dbcs::BusCodecs;
use super::observe::{IdStats, MessageStats};
use super::scan::FileSummary;
use super::signals::{self, RangeMargins};
use crate::codec::{MessageCodec, SignalIndex};
use crate::e2e::ChecksumAlgorithm;
use crate::frame::CanId;
use crate::rules::Trust;

/// The whole proposal.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    /// The gateway's name.
    pub name: String,
    /// The captures learned from.
    pub files: Vec<FileSummary>,
    /// One port per bus, sorted by name.
    pub ports: Vec<PortProposal>,
    /// One route per (bus, id), sorted by bus then id.
    pub routes: Vec<RouteProposal>,
}

/// A port (and its zone, named after it).
#[derive(Clone, Debug, PartialEq)]
pub struct PortProposal {
    /// The bus name: the port's name and interface.
    pub name: String,
    /// `can` or `can-fd`.
    pub medium: &'static str,
    /// Its zone's trust.
    pub trust: Trust,
    /// DBC paths relative to the rule file.
    pub dbc: Vec<String>,
    /// True when remote frames were seen (the port must route them).
    pub remote_frames: bool,
    /// Frames seen on the bus (error frames included).
    pub frames: u64,
    /// Error frames seen (the gateway always drops them).
    pub error_frames: u64,
    /// Distinct ids seen.
    pub ids: usize,
    /// Ids a DBC of the bus defines.
    pub ids_in_dbc: usize,
    /// Frames of those ids.
    pub frames_in_dbc: u64,
}

/// How a route names its frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteMatch {
    /// `message = "NAME"`.
    Message(String),
    /// `id = 0x...` (content checks apply if a DBC defines it).
    Id(CanId),
    /// `id = 0x..., mask = <all bits>`: the one id, without the DBC message
    /// (for frames too short to decode).
    IdWithoutDbc(CanId),
}

/// A route's length check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LengthRule {
    /// The DBC length (the default; nothing written).
    Exact,
    /// `lengths = [...]`.
    Lengths(Vec<u8>),
}

/// An entry of `allow`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowEntry {
    /// A value-description label.
    Label(String),
    /// A raw number.
    Raw(i64),
}

/// `[route.signals.NAME]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalRule {
    /// The signal.
    pub name: String,
    /// What was observed.
    pub note: String,
    /// Proposed minimum.
    pub min: Option<f64>,
    /// Proposed maximum.
    pub max: Option<f64>,
    /// Proposed allowed values.
    pub allow: Option<Vec<AllowEntry>>,
}

/// A counter to check.
#[derive(Clone, Debug, PartialEq)]
pub struct CounterProposal {
    /// The signal.
    pub signal: String,
    /// What the detector found.
    pub rule: CounterRule,
}

/// One route.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteProposal {
    /// Unique name.
    pub name: String,
    /// Ingress port.
    pub from: String,
    /// Egress ports.
    pub to: Vec<String>,
    /// What it matches.
    pub matches: RouteMatch,
    /// `kinds`, when remote frames were seen.
    pub kinds: Option<Vec<&'static str>>,
    /// Length check.
    pub lengths: LengthRule,
    /// False when the capture breaks a DBC range.
    pub dbc_ranges: bool,
    /// False when the capture holds undescribed values.
    pub enums: bool,
    /// Alive counter.
    pub counter: Option<CounterProposal>,
    /// Checksum signal and algorithm.
    pub checksum: Option<(String, ChecksumAlgorithm)>,
    /// Cycle.
    pub cycle: Option<CycleRule>,
    /// Per-signal constraints.
    pub signals: Vec<SignalRule>,
    /// Comment lines: what was observed and why each value is what it is.
    pub notes: Vec<String>,
    /// True when a DBC of the bus disagrees with the capture (length, range,
    /// values) and the route relaxes that check.
    pub dbc_disagrees: bool,
}

/// Counts for a summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Ports.
    pub ports: usize,
    /// Routes.
    pub routes: usize,
    /// Routes naming a DBC message.
    pub dbc_routes: usize,
    /// Routes with a cycle.
    pub cycles: usize,
    /// Routes with a counter.
    pub counters: usize,
    /// Routes with a checksum.
    pub checksums: usize,
    /// Signal constraints.
    pub signal_rules: usize,
    /// Routes where the DBC disagrees with the capture (length, range, values).
    pub dbc_disagreements: usize,
}

impl Proposal {
    /// Counts of what was proposed.
    pub fn summary(&self) -> Summary {
        let routes = &self.routes;
        Summary {
            ports: self.ports.len(),
            routes: routes.len(),
            dbc_routes: routes.iter().filter(|r| matches!(r.matches, RouteMatch::Message(_))).count(),
            cycles: routes.iter().filter(|r| r.cycle.is_some()).count(),
            counters: routes.iter().filter(|r| r.counter.is_some()).count(),
            checksums: routes.iter().filter(|r| r.checksum.is_some()).count(),
            signal_rules: routes.iter().map(|r| r.signals.len()).sum(),
            dbc_disagreements: routes.iter().filter(|r| r.dbc_disagrees).count(),
        }
    }
}

/// Signal statistics pooled over the messages of one bus that share a
/// layout (see [`MessageStats::layout_key`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Pool {
    /// The messages' names, in id order.
    pub members: Vec<String>,
    /// Per signal, over all of them.
    pub signals: Vec<signals::SignalStats>,
}

/// What the proposal of one route needs besides the id's statistics.
pub struct RouteContext<'a> {
    /// The bus name.
    pub bus: &'a str,
    /// The bus's DBC codecs.
    pub codecs: &'a BusCodecs,
    /// Destinations of every route from this bus.
    pub to: &'a [String],
    /// The minimal burst of the id at its candidate cycle, from the second pass.
    pub minimal_burst: Option<f64>,
    /// Margins.
    pub margins: &'a Margins,
    /// Signal statistics pooled with messages of the same layout, if any.
    pub pool: Option<&'a Pool>,
    /// The engine's time at the end of the capture (an id silent from its
    /// last frame to here must not be reported missing either).
    pub capture_end: crate::time::Timestamp,
}

/// The route for one (bus, id).
pub fn route(stats: &IdStats, cx: &RouteContext<'_>) -> RouteProposal {
    let mut notes = Vec::new();
    let mut dbc_disagrees = false;
    let message = stats.message.as_ref();
    let usable = message.filter(|m| m.too_short == 0);
    let name = message.map(|m| m.codec.name().to_owned());
    let span_s = stats.last.saturating_since(stats.first).as_secs_f64();
    let mut head = format!(
        "{} ({}): {} frames over {} s",
        name.as_deref().unwrap_or("no DBC message"),
        stats.id,
        stats.frames,
        round3(span_s)
    );
    if stats.fd_frames > 0 {
        head.push_str(&format!(", {} of them CAN FD", stats.fd_frames));
    }
    if stats.remote_frames > 0 {
        head.push_str(&format!(", {} remote frames", stats.remote_frames));
    }
    head.push('.');
    notes.push(head);

    let matches = match (message, usable) {
        (Some(m), None) => {
            notes.push(format!(
                "The DBC says {} bytes but {} frames are shorter and cannot be decoded: the route matches the id \
                 with a full mask so that the DBC message is left out, and checks only the lengths seen.",
                m.codec.size(),
                m.too_short
            ));
            dbc_disagrees = true;
            RouteMatch::IdWithoutDbc(stats.id)
        }
        (Some(m), Some(_)) if first_with_name(cx.codecs, m.codec.name()) == Some(stats.id) => {
            RouteMatch::Message(m.codec.name().to_owned())
        }
        (Some(m), Some(_)) => {
            notes.push(format!(
                "Another message of the bus's DBC files is also called {}: matched by id.",
                m.codec.name()
            ));
            RouteMatch::Id(stats.id)
        }
        (None, _) => RouteMatch::Id(stats.id),
    };

    let seen = stats.lengths();
    let lengths = match usable {
        Some(m) if seen == [m.codec.size() as u8] => LengthRule::Exact,
        Some(m) => {
            notes.push(format!(
                "Lengths: the DBC says {} bytes, the capture has {}: the lengths seen are allowed.",
                m.codec.size(),
                list(&seen)
            ));
            dbc_disagrees = true;
            LengthRule::Lengths(seen)
        }
        None => LengthRule::Lengths(seen),
    };
    let kinds = match (stats.remote_frames, stats.frames - stats.remote_frames) {
        (0, _) => None,
        (_, 0) => Some(vec!["remote"]),
        _ => Some(vec!["data", "remote"]),
    };

    let timing = Timing::of(&stats.intervals);
    let cycle = cycle_of(stats, timing.as_ref(), cx, &mut notes);

    let mut route = RouteProposal {
        name: String::new(),
        from: cx.bus.to_owned(),
        to: cx.to.to_vec(),
        matches,
        kinds,
        lengths,
        dbc_ranges: true,
        enums: true,
        counter: None,
        checksum: None,
        cycle,
        signals: Vec::new(),
        notes,
        dbc_disagrees,
    };
    match usable {
        Some(m) => content(stats, m, cx.margins, cx.pool, &mut route),
        None => {
            for found in stats.checksum.matches() {
                route.notes.push(format!(
                    "Byte {} holds a {} checksum in all {} frames; a DBC signal for it would let the gateway check it.",
                    found.byte, found.algorithm, found.frames
                ));
            }
        }
    }
    route
}

/// The first message of the bus's DBCs called `name` (the one `message = ` finds).
fn first_with_name(codecs: &BusCodecs, name: &str) -> Option<CanId> {
    codecs.table.codecs().find(|(_, c)| c.name() == name).map(|(_, c)| c.id())
}

fn cycle_of(
    stats: &IdStats,
    timing: Option<&Timing>,
    cx: &RouteContext<'_>,
    notes: &mut Vec<String>,
) -> Option<CycleRule> {
    if let Some(t) = timing {
        notes.push(format!(
            "Timing: {} intervals, median {} ms (5% {}, 95% {}, min {}, max {}), mean {} ms.",
            t.intervals,
            round3(t.median_ms),
            round3(t.p5_ms),
            round3(t.p95_ms),
            round3(t.min_ms),
            round3(t.max_ms),
            round3(t.mean_ms)
        ));
    }
    match cycle::candidate(stats.frames, timing, &cx.margins.cycle) {
        Ok(candidate) => {
            let minimal = cx.minimal_burst?;
            let between = timing.map_or(0.0, |t| t.max_ms);
            let trailing = cx.capture_end.saturating_since(stats.last).as_secs_f64() * 1e3;
            let longest = between.max(trailing);
            let rule = cycle::finish(candidate, minimal, longest, &cx.margins.cycle);
            notes.push(format!(
                "Cycle: at tolerance {} the capture needed a burst of {} frames; proposed {}. Missing after {} ms \
                 (longest silence {} ms{}).",
                rule.tolerance,
                round3(minimal),
                rule.burst,
                rule.mia_ms,
                round3(longest),
                if trailing > between { ": from its last frame to the end of the capture" } else { "" }
            ));
            Some(rule)
        }
        Err(why) => {
            notes.push(format!("No cycle: {why}."));
            None
        }
    }
}

/// Counter, checksum, DBC checks and signal constraints of a decodable message.
fn content(stats: &IdStats, m: &MessageStats, margins: &Margins, pool: Option<&Pool>, route: &mut RouteProposal) {
    let codec = &m.codec;
    let signal_stats: &[signals::SignalStats] = pool.map_or(&m.signals, |p| &p.signals);
    if let Some(p) = pool {
        let names = match p.members.as_slice() {
            [first, .., last] if p.members.len() > 4 => format!("{first} .. {last}"),
            all => all.join(", "),
        };
        route.notes.push(format!(
            "Signals pooled over the {} messages of this bus with the same layout ({names}): they carry the same \
             quantities in different slots, so each may take any value the others took.",
            p.members.len()
        ));
    }
    let resolves = |i: SignalIndex| codec.signal(i).is_some_and(|s| codec.signal_index(s.name()) == Some(i));

    // Checksum: a whole-byte, always-present signal over a byte that matched
    // every frame; one named like a checksum first, then the last byte.
    let mut matches: Vec<(ChecksumMatch, Option<SignalIndex>)> = stats
        .checksum
        .matches()
        .into_iter()
        .map(|found| (found, checksum_signal_at(codec, found.byte).filter(|i| resolves(*i))))
        .collect();
    let named = |i: &Option<SignalIndex>| {
        i.and_then(|i| codec.signal(i)).is_some_and(|s| checksum::name_suggests_checksum(s.name()))
    };
    matches.sort_by(|a, b| named(&b.1).cmp(&named(&a.1)).then(b.0.byte.cmp(&a.0.byte)));
    let mut checksum_signal = None;
    for (found, signal) in &matches {
        match signal {
            Some(i) if checksum_signal.is_none() => {
                let name = codec.signal(*i).map(|s| s.name().to_owned()).unwrap_or_default();
                route.notes.push(checksum_note(&name, found));
                route.checksum = Some((name, found.algorithm));
                checksum_signal = Some(*i);
            }
            Some(i) => route.notes.push(format!(
                "Signal {} also matches a {} checksum in every frame (only one checksum per message can be checked).",
                codec.signal(*i).map_or("?", |s| s.name()),
                found.algorithm
            )),
            None => route.notes.push(format!(
                "Byte {} matches a {} checksum in all {} frames, but no whole-byte DBC signal covers it.",
                found.byte, found.algorithm, found.frames
            )),
        }
    }

    // Counter: the best candidate that every checked pair of frames agrees with.
    let mut found: Vec<(bool, u32, CounterRule)> = Vec::new();
    for detector in &m.counters {
        if Some(detector.signal) == checksum_signal || !resolves(detector.signal) {
            continue;
        }
        match detector.decide(&margins.counter) {
            Ok(rule) => found.push((detector.hinted, detector.bits, rule)),
            Err(why) if detector.hinted => route.notes.push(format!(
                "{} is named like a counter but is not checked as one: it {why}.",
                codec.signal(detector.signal).map_or("?", |s| s.name())
            )),
            Err(_) => {}
        }
    }
    // Named like a counter first, then the widest, then DBC order.
    found.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.signal.cmp(&b.2.signal)));
    if let Some((_, _, rule)) = found.first() {
        let name = codec.signal(rule.signal).map(|s| s.name().to_owned()).unwrap_or_default();
        route.notes.push(format!(
            "Counter: {name} advanced by {} in {:.2}% of {} pairs of frames, by at most {}{}.",
            rule.step,
            rule.share * 100.0,
            rule.pairs,
            rule.max_step,
            match rule.resync_ms {
                Some(ms) => format!("; frames come more than 1 s apart, so resync_ms is {ms}"),
                None => String::new(),
            }
        ));
        route.counter = Some(CounterProposal { signal: name, rule: *rule });
    }
    for (_, _, other) in found.iter().skip(1) {
        route.notes.push(format!(
            "{} behaves like a counter too (only one counter per message can be checked).",
            codec.signal(other.signal).map_or("?", |s| s.name())
        ));
    }
    let counter_signal = found.first().map(|(_, _, r)| r.signal);

    // The DBC's own checks, kept only where the capture respects them.
    let mut range_breaks = Vec::new();
    let mut value_breaks = Vec::new();
    for (i, st) in signal_stats.iter().enumerate() {
        let Some(signal) = codec.signals().get(i) else { continue };
        let dbc = m.constraints.get(i);
        if let (Some(example), Some((lo, hi))) = (st.out_of_dbc_range.1, dbc.and_then(|d| d.range)) {
            range_breaks.push(format!(
                "{} in {} frames outside the DBC range [{lo}, {hi}] (first: {})",
                signal.name(),
                st.out_of_dbc_range.0,
                show(example)
            ));
        }
        if st.undescribed.0 > 0 {
            value_breaks.push(format!(
                "{} holds a value no description names in {} frames (first: {})",
                signal.name(),
                st.undescribed.0,
                st.undescribed.1.map_or_else(|| "not an integer".to_owned(), |v| v.to_string())
            ));
        }
    }
    for sw in &m.switches {
        if let Some(example) = sw.invalid.1 {
            value_breaks.push(format!(
                "multiplexer {} holds {example}, which selects nothing, in {} frames",
                codec.signal(sw.signal).map_or("?", |s| s.name()),
                sw.invalid.0
            ));
        }
    }
    route.dbc_disagrees |= !range_breaks.is_empty() || !value_breaks.is_empty();
    if !range_breaks.is_empty() {
        route.dbc_ranges = false;
        route.notes.push(format!("dbc_ranges = false: the capture breaks the DBC: {}.", range_breaks.join("; ")));
    }
    if !value_breaks.is_empty() {
        route.enums = false;
        route.notes.push(format!("enums = false: the capture breaks the DBC: {}.", value_breaks.join("; ")));
    }

    // Per-signal constraints.
    let switches: Vec<SignalIndex> = m.switches.iter().map(|s| s.signal).collect();
    let mut never = Vec::new();
    for (i, st) in signal_stats.iter().enumerate() {
        let index = SignalIndex::new(i);
        let Some(signal) = codec.signal(index) else { continue };
        if st.present == 0 {
            never.push(signal.name().to_owned());
            continue;
        }
        if Some(index) == counter_signal || Some(index) == checksum_signal || !resolves(index) {
            continue;
        }
        let dbc = m.constraints.get(i);
        let described = dbc.and_then(|d| d.described.as_ref());
        let allow_ok = described.is_some()
            && !switches.contains(&index)
            && !st.many_values
            && !st.distinct.is_empty()
            && st.distinct.len() <= margins.range.allow_max_values;
        if allow_ok {
            let whole = described.is_some_and(|d| d.iter().all(|v| st.distinct.binary_search(v).is_ok()));
            if whole && route.enums {
                continue;
            }
            route.signals.push(SignalRule {
                name: signal.name().to_owned(),
                note: format!(
                    "took {} of its {} described values in {} frames",
                    st.distinct.len(),
                    described.map_or(0, Vec::len),
                    st.present
                ),
                min: None,
                max: None,
                allow: Some(allow_entries(codec, index, &st.distinct)),
            });
            continue;
        }
        if st.nan > 0 || signal.factor() == 0.0 {
            continue;
        }
        let (Some(lo), Some(hi)) = (st.min, st.max) else { continue };
        let (rep_lo, rep_hi) = signals::representable(signal);
        let bounds = match dbc.and_then(|d| d.range).filter(|_| route.dbc_ranges) {
            Some((dlo, dhi)) => (rep_lo.max(dlo), rep_hi.min(dhi)),
            None => (rep_lo, rep_hi),
        };
        let proposed = signals::widen(signal, lo, hi, bounds, &margins.range);
        if proposed.min.is_none() && proposed.max.is_none() {
            continue;
        }
        route.signals.push(SignalRule {
            name: signal.name().to_owned(),
            note: observed_note(lo, hi, st, &margins.range),
            min: proposed.min,
            max: proposed.max,
            allow: None,
        });
    }
    if !never.is_empty() {
        route.notes.push(format!("Never present (multiplexed out in every frame): {}.", never.join(", ")));
    }
}

fn observed_note(lo: f64, hi: f64, st: &signals::SignalStats, m: &RangeMargins) -> String {
    let values =
        if st.many_values { "many values".to_owned() } else { format!("{} distinct values", st.distinct.len()) };
    format!(
        "observed {} .. {} ({values}) in {} frames; widened by {}% of the span, at least {} raw steps",
        show(lo),
        show(hi),
        st.present,
        m.span_share * 100.0,
        m.raw_steps
    )
}

fn checksum_note(name: &str, found: &ChecksumMatch) -> String {
    let also = checksum::names(found.also);
    format!(
        "Checksum: {name} (byte {}) is the {} checksum of the payload in all {} frames{}.",
        found.byte,
        found.algorithm,
        found.frames,
        if also.is_empty() { String::new() } else { format!(" ({} match too)", also.join(", ")) }
    )
}

/// The always-present 8-bit signal that is exactly byte `byte`.
fn checksum_signal_at(codec: &MessageCodec, byte: usize) -> Option<SignalIndex> {
    codec
        .signals()
        .iter()
        .enumerate()
        .find(|(i, s)| s.size() == 8 && s.byte_span() == (byte, byte) && codec.selector(SignalIndex::new(*i)).is_none())
        .map(|(i, _)| SignalIndex::new(i))
}

/// Labels where the description names exactly one value, raw numbers otherwise.
fn allow_entries(codec: &MessageCodec, index: SignalIndex, values: &[i64]) -> Vec<AllowEntry> {
    let Some(signal) = codec.signal(index) else { return values.iter().map(|v| AllowEntry::Raw(*v)).collect() };
    let mut label_uses: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, text) in signal.descriptions() {
        *label_uses.entry(text).or_insert(0) += 1;
    }
    values
        .iter()
        .map(|&v| {
            let label = signal.descriptions().find(|(raw, _)| *raw == v).map(|(_, t)| t);
            match label {
                Some(text) if label_uses.get(text) == Some(&1) && !text.is_empty() => {
                    AllowEntry::Label(text.to_owned())
                }
                _ => AllowEntry::Raw(v),
            }
        })
        .collect()
}

/// A physical value for a comment, without floating-point noise
/// (`28.650000000000006` shows as `28.65`).
fn show(v: f64) -> String {
    if !v.is_finite() || v.abs() >= 1e9 {
        return format!("{v}");
    }
    let rounded = (v * 1e6).round() / 1e6;
    format!("{}", if rounded == 0.0 { 0.0 } else { rounded })
}

fn list(values: &[u8]) -> String {
    values.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
}

/// A route name for (bus, message or id), unique among `taken`.
pub fn unique_name(
    bus: &str,
    route: &RouteProposal,
    id: CanId,
    taken: &mut std::collections::BTreeSet<String>,
) -> String {
    let base = match &route.matches {
        RouteMatch::Message(name) => format!("{bus}-{name}"),
        RouteMatch::Id(_) | RouteMatch::IdWithoutDbc(_) => format!("{bus}-{}", hex_id(id)),
    };
    let mut name = base.clone();
    if taken.contains(&name) {
        name = format!("{base}-{}", hex_id(id));
    }
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

/// `0x123` or `0x18DAF110`.
pub fn hex_id(id: CanId) -> String {
    if id.is_extended() { format!("0x{:08X}", id.raw()) } else { format!("0x{:03X}", id.raw()) }
}
