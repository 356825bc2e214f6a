//! The tables: per id, per route, per port, unmapped buses, and the security
//! events (per kind, the most frequent groups, the first ones).
//!
//! Invariants: every text cell is escaped; numeric cells carry their exact
//! value in `data-v` so the page's sorting script orders them as numbers;
//! rows are capped ([`LISTED_IDS`]) and the page says how many were left out.

use std::fmt::Write;

use super::escape::Esc;
use super::format;
use crate::replay::report::{IdReport, ReplayReport};

/// Ids listed in the per-id table (those with the most drops, then the most frames).
pub(crate) const LISTED_IDS: usize = 500;
/// Routes and ports listed (rule files rarely have more).
const LISTED_ROUTES: usize = 1000;

/// Column of a table header.
struct Column(&'static str, Kind);

/// How a column sorts and aligns.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Number,
}

/// Opens a sortable table with its header row and body.
fn open(out: &mut String, id: &str, columns: &[Column]) {
    let _ = write!(out, r#"<div class="table-wrap"><table class="sortable" id="{id}"><thead><tr>"#);
    for Column(name, kind) in columns {
        match kind {
            Kind::Number => {
                let _ = write!(out, r#"<th class="num">{name}</th>"#);
            }
            Kind::Text => {
                let _ = write!(out, "<th>{name}</th>");
            }
        }
    }
    out.push_str("</tr></thead><tbody>");
}

/// Closes what [`open`] opened.
fn close(out: &mut String) {
    out.push_str("</tbody></table></div>");
}

/// A numeric cell.
fn num(out: &mut String, n: u64) {
    let _ = write!(out, r#"<td class="num" data-v="{n}">{}</td>"#, format::count(n));
}

/// A text cell.
fn text(out: &mut String, s: &str) {
    let _ = write!(out, "<td>{}</td>", Esc(s));
}

/// A numeric cell showing `part` as a share of `whole`.
fn share(out: &mut String, part: u64, whole: u64) {
    let ratio = if whole == 0 { 0.0 } else { part as f64 / whole as f64 };
    let class = if part > 0 { "num bad" } else { "num" };
    let _ = write!(
        out,
        r#"<td class="{class}" data-v="{}">{}</td>"#,
        format::attr_number(ratio),
        format::percent(part, whole)
    );
}

/// A CAN id cell, sorted by its value.
fn id_cell(out: &mut String, id: Option<u32>, ext: bool) {
    match id {
        Some(id) => {
            let _ = write!(out, r#"<td class="num mono" data-v="{id}">{}</td>"#, format::can_id(id, ext));
        }
        None => out.push_str(r#"<td class="num" data-v="-1"></td>"#),
    }
}

/// The ids to list: the [`LISTED_IDS`] with the most drops then the most
/// frames, in the report's order (port, then id).
fn listed_ids(ids: &[IdReport]) -> Vec<&IdReport> {
    let mut ranked: Vec<(usize, &IdReport)> = ids.iter().enumerate().collect();
    ranked.sort_by(|(ka, a), (kb, b)| b.dropped.cmp(&a.dropped).then(b.frames.cmp(&a.frames)).then(ka.cmp(kb)));
    ranked.truncate(LISTED_IDS);
    ranked.sort_by_key(|(k, _)| *k);
    ranked.into_iter().map(|(_, i)| i).collect()
}

/// Per (port, id): frames, verdicts and drop reasons.
pub(crate) fn ids(r: &ReplayReport) -> String {
    if r.ids.is_empty() {
        return r#"<p class="note">No id reached the engine.</p>"#.to_owned();
    }
    let mut out = String::new();
    let listed = listed_ids(&r.ids);
    if listed.len() < r.ids.len() {
        let _ = write!(
            out,
            r#"<p class="note">Showing {} of {} ids: those with the most drops, then the most frames. The JSON report has them all.</p>"#,
            format::count(listed.len() as u64),
            format::count(r.ids.len() as u64)
        );
    }
    open(
        &mut out,
        "id-table",
        &[
            Column("port", Kind::Text),
            Column("id", Kind::Number),
            Column("message", Kind::Text),
            Column("frames", Kind::Number),
            Column("forwarded", Kind::Number),
            Column("dropped", Kind::Number),
            Column("dropped %", Kind::Number),
            Column("reasons", Kind::Text),
        ],
    );
    for i in listed {
        out.push_str("<tr>");
        text(&mut out, &i.port);
        id_cell(&mut out, Some(i.id), i.ext);
        text(&mut out, i.message.as_deref().unwrap_or(""));
        num(&mut out, i.frames);
        num(&mut out, i.forwarded);
        num(&mut out, i.dropped);
        share(&mut out, i.dropped, i.frames);
        let reasons: Vec<String> = i.reasons.iter().map(|(k, v)| format!("{k} {}", format::count(*v))).collect();
        text(&mut out, &reasons.join(", "));
        out.push_str("</tr>");
    }
    close(&mut out);
    out
}

/// Per route: frames it forwarded and refused.
pub(crate) fn routes(r: &ReplayReport) -> String {
    if r.routes.is_empty() {
        return r#"<p class="note">The rules have no route.</p>"#.to_owned();
    }
    let mut out = String::new();
    open(
        &mut out,
        "route-table",
        &[Column("route", Kind::Text), Column("forwarded", Kind::Number), Column("refused", Kind::Number)],
    );
    for route in r.routes.iter().take(LISTED_ROUTES) {
        out.push_str("<tr>");
        text(&mut out, &route.name);
        num(&mut out, route.forwarded);
        num(&mut out, route.dropped);
        out.push_str("</tr>");
    }
    close(&mut out);
    out
}

/// Per port: received, dropped, sent; then the buses that matched no port.
pub(crate) fn ports(r: &ReplayReport) -> String {
    let mut out = String::new();
    open(
        &mut out,
        "port-table",
        &[
            Column("port", Kind::Text),
            Column("received", Kind::Number),
            Column("dropped", Kind::Number),
            Column("dropped %", Kind::Number),
            Column("sent to it", Kind::Number),
        ],
    );
    for p in r.ports.iter().take(LISTED_ROUTES) {
        out.push_str("<tr>");
        text(&mut out, &p.name);
        num(&mut out, p.received);
        num(&mut out, p.dropped);
        share(&mut out, p.dropped, p.received);
        num(&mut out, p.sent);
        out.push_str("</tr>");
    }
    close(&mut out);
    if !r.unmapped_buses.is_empty() {
        out.push_str(r#"<h3>Buses mapped to no port</h3><p class="note">Their frames were counted but not judged; map them with <code>--port BUS=PORT</code>.</p>"#);
        open(&mut out, "unmapped-table", &[Column("bus", Kind::Text), Column("frames", Kind::Number)]);
        for b in r.unmapped_buses.iter().take(LISTED_ROUTES) {
            out.push_str("<tr>");
            text(&mut out, &b.bus);
            num(&mut out, b.frames);
            out.push_str("</tr>");
        }
        close(&mut out);
    }
    out
}

/// The security events: totals, per kind, the most frequent groups and the first events.
pub(crate) fn events(r: &ReplayReport) -> String {
    let e = &r.events;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<p>{} events; {} held back by the event rate limit; {} lost to a full queue.</p>"#,
        format::count(e.total),
        format::count(e.suppressed),
        format::count(e.lost)
    );
    if e.total == 0 {
        return out;
    }
    out.push_str(r#"<div class="columns"><div><h3>Per kind</h3>"#);
    open(&mut out, "event-kind-table", &[Column("kind", Kind::Text), Column("events", Kind::Number)]);
    for (kind, n) in &e.by_kind {
        out.push_str("<tr>");
        text(&mut out, kind);
        num(&mut out, *n);
        out.push_str("</tr>");
    }
    close(&mut out);
    out.push_str(r#"</div><div><h3>Most frequent</h3>"#);
    open(
        &mut out,
        "event-top-table",
        &[
            Column("events", Kind::Number),
            Column("kind", Kind::Text),
            Column("detail", Kind::Text),
            Column("port", Kind::Text),
            Column("id", Kind::Number),
        ],
    );
    for g in &e.top {
        out.push_str("<tr>");
        num(&mut out, g.count);
        text(&mut out, g.kind);
        text(&mut out, &g.detail);
        text(&mut out, g.port.as_deref().unwrap_or(""));
        // Groups do not record the id's width: an id above 0x7FF can only be 29-bit.
        id_cell(&mut out, g.id, g.id.is_some_and(|id| id > crate::frame::MAX_STANDARD_ID));
        out.push_str("</tr>");
    }
    close(&mut out);
    out.push_str("</div></div>");
    let _ = write!(out, "<h3>The first {} events</h3>", format::count(e.first.len() as u64));
    open(
        &mut out,
        "event-first-table",
        &[
            Column("time", Kind::Number),
            Column("kind", Kind::Text),
            Column("detail", Kind::Text),
            Column("port", Kind::Text),
            Column("id", Kind::Number),
            Column("route", Kind::Text),
        ],
    );
    for ev in &e.first {
        let _ = write!(
            out,
            r#"<tr><td class="num" data-v="{v}" title="{abs}">{rel}</td>"#,
            v = format::attr_number(ev.t - r.start),
            abs = format::seconds(ev.t),
            rel = format::offset(ev.t - r.start)
        );
        text(&mut out, ev.kind);
        text(&mut out, &ev.detail);
        text(&mut out, ev.port.as_deref().unwrap_or(""));
        id_cell(&mut out, ev.id, ev.ext);
        text(&mut out, ev.route.as_deref().unwrap_or(""));
        out.push_str("</tr>");
    }
    close(&mut out);
    out
}
