//! One route per (bus, id): what it matches, the lengths and frame kinds it
//! allows, its cycle, and (through [`super::content`]) its content checks,
//! each with the comment saying what it was learned from.
//!
//! Every decision keeps one promise: replaying the capture the rules were
//! learned from drops nothing. A check is proposed only where every frame of
//! the capture passes it, and where a DBC disagrees with the capture the route
//! relaxes exactly that check and says so.

use super::Margins;
use super::content::content;
use super::cycle::{self, CycleRule, Timing, round3};
use super::dbcs::BusCodecs;
use super::observe::IdStats;
use super::propose::{LengthRule, RouteMatch, RouteProposal, hex_id};
use super::signals;
use crate::frame::CanId;

/// Signal statistics pooled over the messages of one bus that share a
/// layout (see [`super::observe::MessageStats::layout_key`]).
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
