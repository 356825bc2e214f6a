//! The replay report as one self-contained HTML page.
//!
//! [`render`] turns a [`ReplayReport`] (and nothing else) into a page a person
//! can read at a glance: the totals, the gateway mode, all frames and the
//! busiest ids over time coloured by verdict, the drops by reason and over
//! time, and sortable tables per id, route and port and of the security
//! events. Charts are inline SVG drawn here; a few lines of inline script
//! only sort the tables.
//!
//! Invariants:
//! - self-contained: no URL in the page, no fonts, images, styles or scripts
//!   from anywhere else, and a Content-Security-Policy that forbids loading
//!   any (so the page works offline and leaks nothing when opened);
//! - every text from the report (names from captures, DBC and rule files,
//!   event details) is HTML-escaped;
//! - deterministic: the same report gives the same bytes (no clock, no random
//!   ids, no hash-order iteration);
//! - bounded: the report already caps its series; the page caps its table
//!   rows and merges runs of equal cells, so a long capture stays a page of a
//!   few megabytes at most;
//! - total: empty or degenerate reports (no frames, one bin, no drops, no
//!   mode change, non-finite numbers) render, never panic.

mod escape;
mod format;
mod modes;
mod reasons;
mod svg;
mod tables;
mod timeline;

use std::fmt::Write;

use self::escape::Esc;
use self::svg::TimeAxis;
use super::report::ReplayReport;

/// The page's stylesheet, inlined.
const STYLE: &str = include_str!("html/style.css");
/// The table-sorting script, inlined.
const SCRIPT: &str = include_str!("html/sort.js");
/// Nothing may be loaded from anywhere: only the inline style and script run.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// Renders `report` as a self-contained HTML page.
pub fn render(report: &ReplayReport) -> String {
    let axis = TimeAxis::new(&report.timeline);
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bulkhead {version}">
<title>Replay report: {rules}</title>
<style>
{STYLE}</style>
</head>
<body>
<main>
"#,
        version = env!("CARGO_PKG_VERSION"),
        rules = Esc(&report.rules),
    );
    header(&mut out, report);
    out.push_str(
        r##"<nav><a href="#over-time">over time</a><a href="#drops">drops by reason</a><a href="#modes">mode changes</a><a href="#ids">per id</a><a href="#routes">per route</a><a href="#ports">per port</a><a href="#events">security events</a></nav>
"##,
    );
    over_time(&mut out, report, axis.as_ref());
    drops(&mut out, report, axis.as_ref());
    section(&mut out, "modes", "Mode changes", &modes::list(report));
    section(&mut out, "ids", "Per id", &tables::ids(report));
    section(&mut out, "routes", "Per route", &tables::routes(report));
    section(&mut out, "ports", "Per port", &tables::ports(report));
    section(&mut out, "events", "Security events", &tables::events(report));
    let _ = write!(
        out,
        "<footer>bulkhead {} replay report, schema <code>{}</code>. All times are capture times; \
         \"+\" times count from the first frame.</footer>\n</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        Esc(report.schema),
    );
    out
}

/// A section with its heading.
fn section(out: &mut String, id: &str, title: &str, body: &str) {
    let _ = write!(out, "<section id=\"{id}\"><h2>{title}</h2>\n{body}\n</section>\n");
}

/// A chart in a figure with its caption.
fn figure(out: &mut String, caption: &str, chart: &str) {
    let _ = writeln!(out, "<figure><figcaption>{caption}</figcaption>{chart}</figure>");
}

/// Title, capture span, totals, and what needs attention.
fn header(out: &mut String, r: &ReplayReport) {
    let span = r.end - r.start;
    let _ = write!(
        out,
        r#"<header><h1>Replay report: {rules}</h1><p class="subtitle">{dur} of capture, from {from} to {to} (capture time, seconds){dates}</p>"#,
        rules = Esc(&r.rules),
        dur = format::duration(span.max(0.0)),
        from = format::seconds(r.start),
        to = format::seconds(r.end),
        dates = match (format::utc_date(r.start), format::utc_date(r.end)) {
            (Some(a), Some(b)) => format!(": {a} to {b}"),
            _ => String::new(),
        },
    );
    out.push_str(r#"<div class="cards">"#);
    card(out, "", "frames", &format::count(r.frames), "read from the captures");
    card(out, "good", "forwarded", &format::count(r.forwarded), &format::percent(r.forwarded, r.frames));
    card(
        out,
        if r.dropped > 0 { "bad" } else { "" },
        "dropped",
        &format::count(r.dropped),
        &format::percent(r.dropped, r.frames),
    );
    let _ = write!(
        out,
        r#"<div class="card" id="final-mode"><div class="k">final mode</div><div class="v"><span class="mode mode-{m}">{m}</span></div><div class="s">{n} mode change{plural}</div></div>"#,
        m = Esc(r.final_mode),
        n = format::count(r.modes.len() as u64),
        plural = if r.modes.len() == 1 { "" } else { "s" },
    );
    card(
        out,
        "",
        "security events",
        &format::count(r.events.total),
        &format!("{} held back", format::count(r.events.suppressed)),
    );
    if r.unmapped > 0 {
        card(
            out,
            "",
            "unmapped",
            &format::count(r.unmapped),
            &format!("{} not judged", format::percent(r.unmapped, r.frames)),
        );
    }
    card(out, "", "status frames", &format::count(r.transmitted), "sent by the gateway");
    out.push_str("</div>");
    for b in &r.unmapped_buses {
        let _ = write!(
            out,
            r#"<p class="warn">Bus <code>{bus}</code> ({n} frames) matches no port: map it with <code>--port {bus}=PORT</code>.</p>"#,
            bus = Esc(&b.bus),
            n = format::count(b.frames),
        );
    }
    if r.skipped_lines > 0 {
        let _ = write!(
            out,
            r#"<p class="warn">{} malformed capture lines were skipped (lenient mode).</p>"#,
            format::count(r.skipped_lines)
        );
    }
    if r.events.lost > 0 {
        let _ = write!(
            out,
            r#"<p class="warn">{} security events were lost to a full event queue.</p>"#,
            format::count(r.events.lost)
        );
    }
    out.push_str("</header>\n");
}

/// One headline number.
fn card(out: &mut String, class: &str, key: &str, value: &str, small: &str) {
    let _ = write!(
        out,
        r#"<div class="card {class}"><div class="k">{key}</div><div class="v">{value}</div><div class="s">{small}</div></div>"#,
        small = Esc(small),
    );
}

/// The mode band, all frames and the busiest ids on one time axis.
fn over_time(out: &mut String, r: &ReplayReport, axis: Option<&TimeAxis>) {
    out.push_str("<section id=\"over-time\"><h2>Over time</h2>\n");
    figure(
        out,
        "Gateway mode: green normal, amber degraded, red isolated; numbered marks are the transitions listed under <a href=\"#modes\">mode changes</a>.",
        &modes::band(r, axis),
    );
    if let Some(axis) = axis {
        figure(
            out,
            &format!(
                "All frames per {} bin: forwarded (green) and dropped (red) stacked.",
                format::duration(axis.bin_seconds())
            ),
            &timeline::traffic(r, axis),
        );
        figure(
            out,
            &format!(
                "The {} busiest ids, one row each: colour is the share dropped in each bin, strength its volume; \
                 right: frames and share dropped. Hover a cell for its numbers.",
                r.timeline.ids.len()
            ),
            &timeline::id_rows(r, axis),
        );
    }
    out.push_str("</section>\n");
}

/// Drops per reason and over time.
fn drops(out: &mut String, r: &ReplayReport, axis: Option<&TimeAxis>) {
    out.push_str("<section id=\"drops\"><h2>Drops by reason</h2>\n");
    figure(out, "Frames dropped per reason, coloured by the defense layer that dropped them.", &reasons::bars(r));
    if let Some(axis) = axis {
        let chart = reasons::over_time(r, axis);
        if !chart.is_empty() {
            figure(out, "Drops over time, stacked by reason (the most frequent at the bottom).", &chart);
        }
    }
    out.push_str("</section>\n");
}

#[cfg(test)]
mod tests;
