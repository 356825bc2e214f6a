//! The content checks of a decodable DBC message: the checksum and alive
//! counter found in the capture, the DBC's own range and value checks kept
//! only where the capture respects them, and the per-signal ranges and
//! `allow` lists, all from statistics pooled over messages of the same layout
//! when there are such.

use std::collections::BTreeMap;

use super::Margins;
use super::checksum::{self, ChecksumMatch};
use super::counter::CounterRule;
use super::observe::{IdStats, MessageStats};
use super::propose::{AllowEntry, CounterProposal, RouteProposal, SignalRule};
use super::route::Pool;
use super::signals::{self, RangeMargins};
use crate::codec::{MessageCodec, SignalIndex};

/// Counter, checksum, DBC checks and signal constraints of a decodable message.
pub fn content(stats: &IdStats, m: &MessageStats, margins: &Margins, pool: Option<&Pool>, route: &mut RouteProposal) {
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
