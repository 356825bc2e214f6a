//! The mode band: the gateway's mode (normal, degraded, isolated) over the
//! shared time axis, with each transition marked, and the list of transitions
//! with their causes.
//!
//! Invariants: the band covers the whole axis with one segment per mode
//! period (the first in the mode the first transition left, or the final mode
//! when nothing changed); markers and list rows are capped so a flapping
//! gateway cannot blow up the page.

use std::fmt::Write;

use super::escape::Esc;
use super::format;
use super::svg::{AXIS_HEIGHT, LEFT, Px, RIGHT, Rgb, TimeAxis, WIDTH};
use crate::replay::report::ReplayReport;

/// Transitions marked on the band and listed in the table.
const LISTED_TRANSITIONS: usize = 500;
/// Transitions whose marker carries its number.
const NUMBERED_MARKERS: usize = 60;
/// Top of the band.
const BAND_TOP: f64 = 14.0;
/// Height of the band.
const BAND_HEIGHT: f64 = 24.0;

/// The colour of a mode on the band.
pub(crate) fn colour(mode: &str) -> Rgb {
    match mode {
        "normal" => Rgb(0xb9, 0xe0, 0xc3),
        "degraded" => Rgb(0xf2, 0xb8, 0x4b),
        "isolated" => Rgb(0xc0, 0x39, 0x2b),
        _ => Rgb(0xbb, 0xbb, 0xbb),
    }
}

/// The text colour readable on [`colour`]`(mode)`.
fn ink(mode: &str) -> &'static str {
    if mode == "isolated" { "#fff" } else { "#222" }
}

/// The mode band as an SVG, or a note when the capture has no frames.
pub(crate) fn band(r: &ReplayReport, axis: Option<&TimeAxis>) -> String {
    let Some(axis) = axis else {
        return format!(
            r#"<p class="note">No frames, so no time axis: the gateway stayed <span class="mode mode-{m}">{m}</span>.</p>"#,
            m = Esc(r.final_mode)
        );
    };
    let bottom = BAND_TOP + BAND_HEIGHT + 4.0;
    let height = bottom + AXIS_HEIGHT;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" id="mode-band" viewBox="0 0 {w} {h}" role="img" aria-label="gateway mode over time">"#,
        w = Px(WIDTH),
        h = Px(height)
    );
    let _ = write!(
        out,
        r#"<text x="{x}" y="{y}" text-anchor="end" class="label">mode</text>"#,
        x = Px(LEFT - 8.0),
        y = Px(BAND_TOP + BAND_HEIGHT / 2.0 + 4.0)
    );
    axis.draw(&mut out, BAND_TOP, bottom);
    let listed = &r.modes[..r.modes.len().min(LISTED_TRANSITIONS)];
    let initial = r.modes.first().map_or(r.final_mode, |m| m.from);
    let mut periods: Vec<(f64, f64, &str)> = vec![(LEFT, 0.0, initial)];
    for m in listed {
        periods.push((axis.x_of_time(m.t), axis.offset_of(m.t), m.to));
    }
    for (k, &(x, since, mode)) in periods.iter().enumerate() {
        let (x_end, until) = periods.get(k + 1).map_or((WIDTH - RIGHT, axis.span()), |next| (next.0, next.1));
        let width = (x_end - x).max(0.0);
        let _ = write!(
            out,
            r#"<rect class="mode-period" data-mode="{m}" x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"><title>{m} from {from} to {to}</title></rect>"#,
            m = Esc(mode),
            x = Px(x),
            y = Px(BAND_TOP),
            w = Px(width),
            h = Px(BAND_HEIGHT),
            c = colour(mode),
            from = format::offset(since),
            to = format::offset(until),
        );
        if width >= 70.0 {
            let _ = write!(
                out,
                r#"<text x="{x}" y="{y}" text-anchor="middle" fill="{ink}" class="label">{m}</text>"#,
                x = Px(x + width / 2.0),
                y = Px(BAND_TOP + BAND_HEIGHT / 2.0 + 4.0),
                ink = ink(mode),
                m = Esc(mode),
            );
        }
    }
    for (k, m) in listed.iter().enumerate() {
        let x = axis.x_of_time(m.t);
        let _ = write!(
            out,
            r##"<g class="transition"><title>#{n} at {t}: {from} → {to} ({cause})</title><line x1="{x}" y1="{y0}" x2="{x}" y2="{y1}" stroke="#222" stroke-width="1.5"/>"##,
            n = k + 1,
            t = format::offset(axis.offset_of(m.t)),
            from = Esc(m.from),
            to = Esc(m.to),
            cause = Esc(&m.cause),
            x = Px(x),
            y0 = Px(BAND_TOP - 4.0),
            y1 = Px(BAND_TOP + BAND_HEIGHT),
        );
        if k < NUMBERED_MARKERS {
            let _ = write!(
                out,
                r##"<circle cx="{x}" cy="{cy}" r="6.5" fill="#222"/><text x="{x}" y="{ty}" text-anchor="middle" class="marker">{n}</text>"##,
                x = Px(x),
                cy = Px(BAND_TOP - 6.0),
                ty = Px(BAND_TOP - 3.0),
                n = k + 1,
            );
        }
        out.push_str("</g>");
    }
    let _ = write!(
        out,
        r#"<text x="{x}" y="{y}" class="label">final: {m}</text>"#,
        x = Px(WIDTH - RIGHT + 8.0),
        y = Px(BAND_TOP + BAND_HEIGHT / 2.0 + 4.0),
        m = Esc(r.final_mode)
    );
    out.push_str("</svg>");
    out
}

/// The transitions as a table, or a sentence when there were none.
pub(crate) fn list(r: &ReplayReport) -> String {
    if r.modes.is_empty() {
        return format!(
            r#"<p class="note">No mode change: <span class="mode mode-{m}">{m}</span> throughout.</p>"#,
            m = Esc(r.final_mode)
        );
    }
    let mut out = String::from(
        r#"<table class="sortable" id="mode-table"><thead><tr><th class="num">#</th><th class="num">time</th><th class="num">capture time (s)</th><th>from</th><th>to</th><th>cause</th></tr></thead><tbody>"#,
    );
    for (k, m) in r.modes.iter().take(LISTED_TRANSITIONS).enumerate() {
        let _ = write!(
            out,
            r#"<tr><td class="num" data-v="{n}">{n}</td><td class="num" data-v="{rel}">{rel_text}</td><td class="num" data-v="{abs}">{abs}</td><td><span class="mode mode-{from}">{from}</span></td><td><span class="mode mode-{to}">{to}</span></td><td>{cause}</td></tr>"#,
            n = k + 1,
            rel = format::attr_number(m.t - r.start),
            rel_text = format::offset(m.t - r.start),
            abs = format::seconds(m.t),
            from = Esc(m.from),
            to = Esc(m.to),
            cause = Esc(&m.cause),
        );
    }
    out.push_str("</tbody></table>");
    if r.modes.len() > LISTED_TRANSITIONS {
        let _ = write!(
            out,
            r#"<p class="note">… and {} more transitions in the JSON report.</p>"#,
            format::count((r.modes.len() - LISTED_TRANSITIONS) as u64)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::report::ModeTransition;

    /// Ten frames over one second from t = 10 s, with these transitions.
    fn report(modes: Vec<ModeTransition>, final_mode: &'static str) -> ReplayReport {
        let mut r = crate::replay::html::tests::empty();
        r.frames = 10;
        r.forwarded = 10;
        r.start = 10.0;
        r.end = 11.0;
        r.final_mode = final_mode;
        r.modes = modes;
        r.timeline.start = 10.0;
        r.timeline.forwarded = vec![1; 100];
        r.timeline.dropped = vec![0; 100];
        r
    }

    fn transition(t: f64, from: &'static str, to: &'static str, cause: &str) -> ModeTransition {
        ModeTransition { t, from, to, cause: cause.to_owned() }
    }

    /// (mode, x, width) of every period rectangle.
    fn periods(svg: &str) -> Vec<(String, f64, f64)> {
        svg.split(r#"<rect class="mode-period" data-mode=""#)
            .skip(1)
            .map(|rest| {
                let attr = |name: &str| -> f64 {
                    let start = rest.find(&format!(" {name}=\"")).expect("attribute") + name.len() + 3;
                    rest[start..].split('"').next().and_then(|v| v.parse().ok()).expect("number")
                };
                (rest.split('"').next().unwrap_or_default().to_owned(), attr("x"), attr("width"))
            })
            .collect()
    }

    #[test]
    fn the_band_covers_the_axis_with_one_period_per_mode() {
        let r = report(
            vec![
                transition(10.25, "normal", "degraded", "trigger flood"),
                transition(10.5, "degraded", "isolated", "escalation: repeated degradation"),
            ],
            "isolated",
        );
        let axis = TimeAxis::new(&r.timeline).expect("axis");
        let svg = band(&r, Some(&axis));
        let got = periods(&svg);
        let modes: Vec<&str> = got.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(modes, ["normal", "degraded", "isolated"]);
        assert_eq!(got[0].1, LEFT);
        for pair in got.windows(2) {
            assert!((pair[0].1 + pair[0].2 - pair[1].1).abs() < 0.11, "{pair:?}");
        }
        let last = got.last().expect("a period");
        assert!((last.1 + last.2 - (WIDTH - RIGHT)).abs() < 0.11);
        assert!((got[1].1 - axis.x_of_time(10.25)).abs() < 0.11, "the transition is placed at its time");
        assert_eq!(svg.matches(r#"<g class="transition">"#).count(), 2);
    }

    #[test]
    fn without_transitions_the_band_shows_the_final_mode() {
        let r = report(Vec::new(), "normal");
        let axis = TimeAxis::new(&r.timeline).expect("axis");
        let got = periods(&band(&r, Some(&axis)));
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].0.as_str(), got[0].1, got[0].2), ("normal", LEFT, WIDTH - LEFT - RIGHT));
        assert!(list(&r).contains("No mode change"));
    }

    #[test]
    fn without_frames_there_is_a_note_instead_of_a_band() {
        let mut r = report(Vec::new(), "normal");
        r.timeline.forwarded.clear();
        r.timeline.dropped.clear();
        assert!(band(&r, None).contains("No frames"));
    }

    #[test]
    fn transitions_outside_the_axis_are_clamped_and_causes_escaped() {
        let r = report(vec![transition(99.0, "normal", "degraded", "trigger <b>x</b>")], "degraded");
        let axis = TimeAxis::new(&r.timeline).expect("axis");
        let svg = band(&r, Some(&axis));
        assert!(svg.contains("trigger &lt;b&gt;x&lt;/b&gt;") && !svg.contains("<b>"));
        let got = periods(&svg);
        assert!(got.iter().all(|p| p.1 >= LEFT && p.1 + p.2 <= WIDTH - RIGHT + 0.11), "{got:?}");
        let table = list(&r);
        assert!(table.contains("trigger &lt;b&gt;x&lt;/b&gt;") && table.contains("+89.000 s"));
    }
}
