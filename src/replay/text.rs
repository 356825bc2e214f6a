//! The replay summary for people: totals, drops by reason, the ids with the
//! most drops, the mode timeline and the most frequent events.

use std::fmt::Write;

use super::report::ReplayReport;

/// How many ids and events the summary lists.
const LISTED: usize = 15;

/// Renders `r` as plain text (one trailing newline).
pub fn summary(r: &ReplayReport) -> String {
    let mut s = String::new();
    let pct = |n: u64| if r.frames == 0 { 0.0 } else { 100.0 * n as f64 / r.frames as f64 };
    let _ = writeln!(
        s,
        "replay with rules \"{}\": {:.3} s of capture, from {:.6} to {:.6}",
        r.rules,
        (r.end - r.start).max(0.0),
        r.start,
        r.end
    );
    let _ = writeln!(
        s,
        "frames: {}   forwarded: {} ({:.2}%)   dropped: {} ({:.2}%)   unmapped: {}   final mode: {}",
        r.frames,
        r.forwarded,
        pct(r.forwarded),
        r.dropped,
        pct(r.dropped),
        r.unmapped,
        r.final_mode
    );
    if r.skipped_lines > 0 {
        let _ = writeln!(s, "skipped malformed lines: {}", r.skipped_lines);
    }
    for b in &r.unmapped_buses {
        let _ = writeln!(s, "  bus {} ({} frames) matches no port: map it with --port {}=PORT", b.bus, b.frames, b.bus);
    }
    if !r.reasons.is_empty() {
        let _ = writeln!(s, "\ndrops by reason:");
        for reason in &r.reasons {
            let _ = writeln!(
                s,
                "  {:<22} {:<13} {:>10}  {:>6.2}%",
                reason.reason,
                reason.layer,
                reason.count,
                pct(reason.count)
            );
        }
    }
    let mut dropped_ids: Vec<_> = r.ids.iter().filter(|i| i.dropped > 0).collect();
    dropped_ids.sort_by(|a, b| b.dropped.cmp(&a.dropped).then((&a.port, a.id).cmp(&(&b.port, b.id))));
    if !dropped_ids.is_empty() {
        let _ = writeln!(s, "\nids with the most drops:");
        for i in dropped_ids.iter().take(LISTED) {
            let id = if i.ext { format!("{:08X}x", i.id) } else { format!("{:03X}", i.id) };
            let reasons: Vec<String> = i.reasons.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let _ = writeln!(
                s,
                "  {:<13} {:>9}  {:<28} {:>8} of {:>8}  {}",
                i.port,
                id,
                i.message.as_deref().unwrap_or("-"),
                i.dropped,
                i.frames,
                reasons.join(", ")
            );
        }
        if dropped_ids.len() > LISTED {
            let _ = writeln!(s, "  ... and {} more ids (see --report-json)", dropped_ids.len() - LISTED);
        }
    }
    let _ = writeln!(s, "\nmode timeline:");
    if r.modes.is_empty() {
        let _ = writeln!(s, "  normal throughout");
    }
    for m in &r.modes {
        let _ = writeln!(s, "  {:>17.6}  {} -> {}  ({})", m.t, m.from, m.to, m.cause);
    }
    let _ = writeln!(
        s,
        "\nsecurity events: {} (held back by the event rate limit: {}, lost: {})",
        r.events.total, r.events.suppressed, r.events.lost
    );
    for g in r.events.top.iter().take(LISTED) {
        let id = g.id.map(|i| format!(" id {i:#X}")).unwrap_or_default();
        let port = g.port.as_deref().map(|p| format!(" on {p}")).unwrap_or_default();
        let detail = if g.detail.is_empty() { String::new() } else { format!(" {}", g.detail) };
        let _ = writeln!(s, "  {:>8}  {}{detail}{port}{id}", g.count, g.kind);
    }
    s
}
