//! Tests of the whole page on hand-made reports (the end-to-end test with the
//! engine and Chromium is `tests/replay_html_chromium.rs`).

use std::collections::BTreeMap;

use super::render;
use crate::replay::report::{
    BusCount, EventEntry, EventGroup, EventsReport, IdReport, IdSeries, ModeTransition, PortReport, ReasonCount,
    ReplayReport, RouteReport, SCHEMA, Timeline,
};

const EVIL: &str = "<script>alert(1)</script>";

/// The page without its script.
fn markup(page: &str) -> &str {
    page.split("<script>").next().unwrap_or(page)
}

/// True if the markup shows a non-finite number (`NaN`, `inf`, `-inf`).
fn has_non_finite(page: &str) -> bool {
    let m = markup(page);
    m.contains("NaN")
        || m.match_indices("inf").any(|(at, _)| {
            let before = m[..at].chars().next_back().is_some_and(char::is_alphabetic);
            let after = m[at + 3..].chars().next().is_some_and(char::is_alphabetic);
            !before && !after
        })
}

/// The rows of the table with HTML id `id`.
fn table_rows(page: &str, id: &str) -> usize {
    let Some(start) = page.find(&format!(r#"<table class="sortable" id="{id}">"#)) else { return 0 };
    let end = page[start..].find("</table>").map_or(page.len(), |e| start + e);
    page[start..end].matches("<tr>").count() - 1
}

/// A report with nothing in it (also for the section modules' tests).
pub(super) fn empty() -> ReplayReport {
    ReplayReport {
        schema: SCHEMA,
        rules: "empty".to_owned(),
        frames: 0,
        forwarded: 0,
        dropped: 0,
        unmapped: 0,
        skipped_lines: 0,
        start: 0.0,
        end: 0.0,
        final_mode: "normal",
        reasons: Vec::new(),
        ids: Vec::new(),
        routes: Vec::new(),
        ports: vec![PortReport { name: "drive".to_owned(), received: 0, dropped: 0, sent: 0 }],
        unmapped_buses: Vec::new(),
        modes: Vec::new(),
        events: EventsReport {
            total: 0,
            suppressed: 0,
            lost: 0,
            by_kind: BTreeMap::new(),
            top: Vec::new(),
            first: Vec::new(),
        },
        transmitted: 0,
        timeline: Timeline {
            start: 0.0,
            bin_seconds: 0.01,
            forwarded: Vec::new(),
            dropped: Vec::new(),
            by_reason: BTreeMap::new(),
            ids: Vec::new(),
        },
    }
}

/// A report with every kind of content, every name set to `name`.
fn full(name: &str, bins: usize) -> ReplayReport {
    let mut r = empty();
    let owned = name.to_owned();
    r.rules = owned.clone();
    r.frames = 1000;
    r.forwarded = 700;
    r.dropped = 250;
    r.unmapped = 50;
    r.skipped_lines = 3;
    r.start = 100.0;
    r.end = 100.0 + bins as f64 * 0.01;
    r.final_mode = "degraded";
    r.reasons = vec![
        ReasonCount { reason: "no-route", layer: "route", count: 200 },
        ReasonCount { reason: "too-fast", layer: "behaviour", count: 50 },
    ];
    let mut reasons = BTreeMap::new();
    reasons.insert("no-route", 200);
    reasons.insert("too-fast", 50);
    r.ids = vec![IdReport {
        port: owned.clone(),
        id: 0x123,
        ext: false,
        message: Some(owned.clone()),
        frames: 950,
        forwarded: 700,
        dropped: 250,
        reasons,
    }];
    r.routes = vec![RouteReport { name: owned.clone(), forwarded: 700, dropped: 12 }];
    r.ports = vec![PortReport { name: owned.clone(), received: 950, dropped: 250, sent: 700 }];
    r.unmapped_buses = vec![BusCount { bus: owned.clone(), frames: 50 }];
    r.modes =
        vec![ModeTransition { t: 100.0 + bins as f64 * 0.005, from: "normal", to: "degraded", cause: owned.clone() }];
    let mut by_kind = BTreeMap::new();
    by_kind.insert("dropped", 250);
    r.events = EventsReport {
        total: 251,
        suppressed: 10,
        lost: 1,
        by_kind,
        top: vec![EventGroup {
            kind: "dropped",
            detail: owned.clone(),
            port: Some(owned.clone()),
            id: Some(0x123),
            count: 250,
        }],
        first: vec![EventEntry {
            t: 100.5,
            kind: "dropped",
            detail: owned.clone(),
            port: Some(owned.clone()),
            id: Some(0x18FE_F100),
            ext: true,
            route: Some(owned.clone()),
        }],
    };
    r.transmitted = 5;
    let spread =
        |total: u64| (0..bins).map(|i| total / bins as u64 + u64::from((i as u64) < total % bins as u64)).collect();
    let mut by_reason = BTreeMap::new();
    by_reason.insert("no-route", spread(200));
    by_reason.insert("too-fast", spread(50));
    r.timeline = Timeline {
        start: 100.0,
        bin_seconds: 0.01,
        forwarded: spread(700),
        dropped: spread(250),
        by_reason,
        ids: vec![IdSeries { port: owned, id: 0x123, ext: false, forwarded: spread(700), dropped: spread(250) }],
    };
    r
}

#[test]
fn untrusted_names_come_out_escaped_everywhere() {
    let page = render(&full(EVIL, 50));
    assert!(!page.contains("<script>alert"), "raw injected markup in the page");
    let escaped = page.matches("&lt;script&gt;alert(1)&lt;/script&gt;").count();
    // Title, heading, row label, id table (port and message), route, port,
    // unmapped bus (text and hint), mode cause (band and table), events.
    assert!(escaped >= 12, "only {escaped} escaped copies");
    assert_eq!(page.matches("<script>").count(), 1, "only the page's own script");
}

#[test]
fn escaping_covers_attribute_breakouts() {
    let page = render(&full("\" onmouseover=\"alert(1)", 10));
    assert!(!page.contains("\" onmouseover"), "a name broke out of an attribute");
    assert!(page.contains("&quot; onmouseover=&quot;alert(1)"));
}

#[test]
fn an_empty_report_renders() {
    let page = render(&empty());
    assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
    assert!(page.contains("No frames, so no time axis"));
    assert!(page.contains("No frame was dropped."));
    assert!(page.contains("No mode change"));
    assert!(!has_non_finite(&page), "non-finite number in the page");
}

#[test]
fn a_single_bin_renders_every_chart() {
    let page = render(&full("drive", 1));
    for id in ["mode-band", "traffic", "id-rows", "reason-bars", "reasons-over-time"] {
        assert!(page.contains(&format!(r#"id="{id}""#)), "missing chart {id}");
    }
    assert!(!has_non_finite(&page));
}

#[test]
fn no_drops_and_no_mode_changes_say_so() {
    let mut r = full("drive", 20);
    r.dropped = 0;
    r.reasons.clear();
    r.modes.clear();
    r.final_mode = "normal";
    r.timeline.by_reason.clear();
    r.timeline.dropped = vec![0; 20];
    let page = render(&r);
    assert!(page.contains("No frame was dropped."));
    assert!(!page.contains(r#"id="reasons-over-time""#));
    assert!(page.contains("No mode change"));
    assert!(page.contains(r#"id="mode-band""#), "the band still shows the mode");
}

#[test]
fn the_page_is_self_contained() {
    let page = render(&full("drive", 256));
    assert!(!page.contains("http://") && !page.contains("https://"), "a URL in the page");
    assert!(!page.contains(" src="), "an external resource");
    assert!(!page.contains("@import") && !page.contains("url(http"), "an external style");
    for href in page.match_indices("href=\"").map(|(at, _)| &page[at + 6..at + 7]) {
        assert_eq!(href, "#", "a link out of the page");
    }
    assert!(page.contains("Content-Security-Policy") && page.contains("default-src 'none'"));
}

#[test]
fn rendering_is_deterministic() {
    let r = full("drive", 256);
    assert_eq!(render(&r), render(&r.clone()));
}

#[test]
fn headline_numbers_are_shown() {
    let page = render(&full("drive", 100));
    for text in ["1,000", "700", "70.00%", "250", "25.00%", "0x123", "0x18FEF100x", "degraded", "3 malformed"] {
        assert!(page.contains(text), "missing {text}");
    }
}

#[test]
fn non_finite_times_do_not_leak_into_the_markup() {
    let mut r = full("drive", 10);
    r.start = f64::NAN;
    r.end = f64::INFINITY;
    r.timeline.bin_seconds = f64::NAN;
    r.timeline.start = f64::NEG_INFINITY;
    r.modes[0].t = f64::NAN;
    r.events.first[0].t = f64::NAN;
    let page = render(&r);
    assert!(!has_non_finite(&page), "non-finite number in the page");
}

#[test]
fn a_big_report_stays_a_reasonable_size() {
    // 40 id series of 256 bins with counts that never repeat (no run merges),
    // 20,000 ids, 500+ routes and mode changes, the full event lists.
    let bins = 256;
    let mut r = full("drive", bins);
    r.timeline.ids = (0..40)
        .map(|k| IdSeries {
            port: "drive".to_owned(),
            id: k,
            ext: false,
            forwarded: (0..bins as u64).map(|i| (i * 7 + u64::from(k)) % 97 + 1).collect(),
            dropped: (0..bins as u64).map(|i| (i * 13 + u64::from(k)) % 89).collect(),
        })
        .collect();
    r.ids = (0..20_000)
        .map(|k| IdReport {
            port: "drive".to_owned(),
            id: k,
            ext: true,
            message: Some(format!("MESSAGE_{k}")),
            frames: u64::from(k % 1000),
            forwarded: 0,
            dropped: u64::from(k % 1000),
            reasons: BTreeMap::from([("no-route", u64::from(k % 1000))]),
        })
        .collect();
    r.routes = (0..600).map(|k| RouteReport { name: format!("route-{k}"), forwarded: k, dropped: 0 }).collect();
    r.modes = (0..2000)
        .map(|k| ModeTransition {
            t: 100.0 + f64::from(k) * 0.001,
            from: if k % 2 == 0 { "normal" } else { "degraded" },
            to: if k % 2 == 0 { "degraded" } else { "normal" },
            cause: "trigger flood".to_owned(),
        })
        .collect();
    r.events.first = vec![r.events.first[0].clone(); 200];
    r.events.top = vec![r.events.top[0].clone(); 20];
    let page = render(&r);
    assert!(page.len() < 3_000_000, "{} bytes", page.len());
    assert!(page.contains("Showing 500 of 20,000 ids"));
    assert!(page.contains("1,500 more transitions"));
    assert_eq!(table_rows(&page, "id-table"), 500, "id rows capped");
    assert_eq!(table_rows(&page, "mode-table"), 500, "transitions capped");
}

#[test]
fn the_builders_report_of_no_frames_renders() {
    let rules = std::sync::Arc::new(crate::rules::reference().expect("reference rules").0);
    let engine = crate::engine::Engine::new(std::sync::Arc::clone(&rules));
    let r = crate::replay::ReportBuilder::new(rules).finish(engine.counters(), engine.mode(), 0, 0);
    assert!(r.timeline.forwarded.is_empty());
    let page = render(&r);
    assert!(page.contains("No frames, so no time axis") && page.contains("bulkhead reference vehicle"));
    assert!(page.contains(r#"id="route-table""#) && page.contains("speed-to-body"), "routes are listed even unused");
    assert!(!has_non_finite(&page));
}
