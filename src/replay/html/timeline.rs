//! Frames over time: all frames as stacked forwarded/dropped bars per bin, and
//! the busiest ids one row each, as strips of cells whose colour is the
//! bin's dropped share (green all forwarded, red all dropped) and whose
//! strength is its volume (one step per doubling of the frames per bin).
//!
//! Invariants: drawn on the shared [`TimeAxis`]; a run of bins with the same
//! counts is one cell (cyclic traffic makes long runs, which keeps the page
//! small); empty bins draw nothing; every cell says its numbers in a tooltip.

use std::collections::HashMap;
use std::fmt::Write;

use super::escape::{Esc, truncate};
use super::format;
use super::svg::{AXIS_HEIGHT, DROPPED, FORWARDED, GRID, LEFT, Px, RIGHT, Scale, TimeAxis, WIDTH, count_ticks};
use crate::replay::report::{IdSeries, ReplayReport};

/// Height of the traffic chart's plot.
const TRAFFIC_HEIGHT: f64 = 140.0;
/// Top margin of a chart.
pub(crate) const TOP: f64 = 10.0;
/// Height of an id row.
const ROW_HEIGHT: f64 = 16.0;
/// Space between id rows.
const ROW_GAP: f64 = 3.0;
/// Characters of a message name shown in a row label.
const MESSAGE_CHARS: usize = 22;
/// Faintest cell opacity (a bin with a single frame).
const MIN_OPACITY: f64 = 0.18;

/// Element `i` of `v`, 0 past its end.
pub(crate) fn at(v: &[u64], i: usize) -> u64 {
    v.get(i).copied().unwrap_or(0)
}

/// Opens the SVG of a chart of counts per bin over the time axis: a count
/// axis from 0 to `max` (rounded up to a tick), its title ("`unit` per
/// bin"), the time axis. Returns the open SVG, the count scale and the
/// plot's bottom edge; [`TOP`] is its top edge.
pub(crate) fn count_chart(
    id: &str,
    aria_label: &str,
    unit: &str,
    plot_height: f64,
    max: u64,
    axis: &TimeAxis,
) -> (String, Scale, f64) {
    let (top, ticks) = count_ticks(max, 4);
    let bottom = TOP + plot_height;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" id="{id}" viewBox="0 0 {w} {h}" role="img" aria-label="{aria_label}">"#,
        w = Px(WIDTH),
        h = Px(bottom + AXIS_HEIGHT)
    );
    draw_count_axis(&mut out, &ticks, top, TOP, bottom);
    draw_y_title(&mut out, &format!("{unit} per {}", format::duration(axis.bin_seconds())), TOP, bottom);
    axis.draw(&mut out, TOP, bottom);
    (out, Scale::new((0.0, top as f64), (bottom, TOP)), bottom)
}

/// Horizontal grid lines and labels of a count axis from 0 to `top`,
/// drawn between `y_top` and `y_bottom`.
fn draw_count_axis(out: &mut String, ticks: &[u64], top: u64, y_top: f64, y_bottom: f64) {
    let y = Scale::new((0.0, top as f64), (y_bottom, y_top));
    for &tick in ticks {
        let _ = write!(
            out,
            r#"<line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="{GRID}"/><text x="{lx}" y="{ty}" text-anchor="end" class="tick">{label}</text>"#,
            l = Px(LEFT),
            r = Px(WIDTH - RIGHT),
            y = Px(y.map(tick as f64)),
            lx = Px(LEFT - 6.0),
            ty = Px(y.map(tick as f64) + 4.0),
            label = format::count(tick),
        );
    }
}

/// The title of a y axis, written vertically in the left margin.
fn draw_y_title(out: &mut String, text: &str, y_top: f64, y_bottom: f64) {
    let _ = write!(
        out,
        r#"<text transform="translate({x} {y}) rotate(-90)" text-anchor="middle" class="label">{t}</text>"#,
        x = Px(LEFT - 60.0),
        y = Px((y_top + y_bottom) / 2.0),
        t = Esc(text)
    );
}

/// All frames per bin, forwarded below and dropped stacked on top.
pub(crate) fn traffic(r: &ReplayReport, axis: &TimeAxis) -> String {
    let tl = &r.timeline;
    let bins = axis.bins();
    let max = (0..bins).map(|i| at(&tl.forwarded, i) + at(&tl.dropped, i)).max().unwrap_or(0);
    let (mut out, y, bottom) =
        count_chart("traffic", "frames per bin, forwarded and dropped", "frames", TRAFFIC_HEIGHT, max, axis);
    for i in 0..bins {
        let (f, d) = (at(&tl.forwarded, i), at(&tl.dropped, i));
        if f + d == 0 {
            continue;
        }
        let (x, width) = axis.bins_extent(i, i + 1);
        let _ = write!(
            out,
            "<g><title>{t}: {fc} forwarded, {dc} dropped</title>",
            t = format::offset(axis.offset_of_bin(i)),
            fc = format::count(f),
            dc = format::count(d)
        );
        let y_forwarded = y.map(f as f64);
        let y_total = y.map((f + d) as f64);
        if f > 0 {
            let _ = write!(
                out,
                r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{FORWARDED}"/>"#,
                x = Px(x),
                y = Px(y_forwarded),
                w = Px(width),
                h = Px(bottom - y_forwarded)
            );
        }
        if d > 0 {
            let _ = write!(
                out,
                r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{DROPPED}"/>"#,
                x = Px(x),
                y = Px(y_total),
                w = Px(width),
                h = Px(y_forwarded - y_total)
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// Key of an id in the report: (port, id, extended).
type IdKey<'a> = (&'a str, u32, bool);

/// One row per id of `timeline.ids`, busiest first.
pub(crate) fn id_rows(r: &ReplayReport, axis: &TimeAxis) -> String {
    let series = &r.timeline.ids;
    if series.is_empty() {
        return r#"<p class="note">No id reached the engine (every bus was unmapped).</p>"#.to_owned();
    }
    let messages: HashMap<IdKey<'_>, &str> =
        r.ids.iter().filter_map(|i| Some(((i.port.as_str(), i.id, i.ext), i.message.as_deref()?))).collect();
    let bins = axis.bins();
    let busiest =
        series.iter().flat_map(|s| (0..bins).map(|i| at(&s.forwarded, i) + at(&s.dropped, i))).max().unwrap_or(0);
    let bottom = TOP + series.len() as f64 * (ROW_HEIGHT + ROW_GAP);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" id="id-rows" viewBox="0 0 {w} {h}" role="img" aria-label="frames per id over time, coloured by verdict">"#,
        w = Px(WIDTH),
        h = Px(bottom + AXIS_HEIGHT)
    );
    axis.draw(&mut out, TOP, bottom);
    for (row, s) in series.iter().enumerate() {
        let y = TOP + row as f64 * (ROW_HEIGHT + ROW_GAP) + ROW_GAP / 2.0;
        let message = messages.get(&(s.port.as_str(), s.id, s.ext)).copied();
        draw_row(&mut out, s, message, axis, y, busiest);
    }
    out.push_str("</svg>");
    out.push_str(&legend(busiest, axis));
    out
}

/// One id's label, cells and total.
fn draw_row(out: &mut String, s: &IdSeries, message: Option<&str>, axis: &TimeAxis, y: f64, busiest: u64) {
    let id = format::can_id(s.id, s.ext);
    let name = message.unwrap_or("");
    let _ = write!(
        out,
        r##"<g class="id-row" data-port="{port}" data-id="{id}"><title>{port} {id} {full}</title><rect x="{l}" y="{y}" width="{pw}" height="{h}" fill="#f4f4f4"/>"##,
        port = Esc(&s.port),
        full = Esc(name),
        l = Px(LEFT),
        y = Px(y),
        pw = Px(WIDTH - LEFT - RIGHT),
        h = Px(ROW_HEIGHT),
    );
    let _ = write!(
        out,
        r#"<text x="{x}" y="{ty}" text-anchor="end" class="row-label"><tspan class="muted">{port}</tspan> {id} <tspan class="msg">{msg}</tspan></text>"#,
        x = Px(LEFT - 8.0),
        ty = Px(y + ROW_HEIGHT - 4.0),
        port = Esc(&truncate(&s.port, 14)),
        msg = Esc(&truncate(name, MESSAGE_CHARS)),
    );
    let bins = axis.bins();
    let counts = |i: usize| (at(&s.forwarded, i), at(&s.dropped, i));
    let mut i = 0;
    while i < bins {
        let look = cell_look(counts(i));
        let mut end = i + 1;
        while end < bins && cell_look(counts(end)) == look {
            end += 1;
        }
        if let Some((share_step, magnitude)) = look {
            let (x, width) = axis.bins_extent(i, end);
            let _ = write!(
                out,
                r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" fill-opacity="{o:.2}"><title>{tip}</title></rect>"#,
                x = Px(x),
                y = Px(y),
                w = Px(width),
                h = Px(ROW_HEIGHT),
                fill = FORWARDED.mix(DROPPED, f64::from(share_step) / f64::from(STEPS)),
                o = opacity(magnitude, busiest),
                tip = run_tooltip(axis, i, end, (i..end).map(counts)),
            );
        }
        i = end;
    }
    let (total, dropped) = (s.forwarded.iter().sum::<u64>() + s.dropped.iter().sum::<u64>(), s.dropped.iter().sum());
    let share = if dropped == 0 {
        String::new()
    } else {
        format!(r#" · <tspan class="bad">{} drop</tspan>"#, Esc(&short_percent(dropped, total)))
    };
    let _ = write!(
        out,
        r#"<text x="{x}" y="{ty}" class="row-total">{n}{share}</text></g>"#,
        x = Px(WIDTH - RIGHT + 6.0),
        ty = Px(y + ROW_HEIGHT - 4.0),
        n = format::count(total),
    );
}

/// Steps of a cell's colour from all forwarded to all dropped: bins that look
/// the same are drawn as one cell.
const STEPS: u8 = 20;

/// How a bin with (forwarded, dropped) frames looks: (dropped share in
/// [`STEPS`], [`magnitude`] of its frames), or `None` for an empty bin. A
/// single dropped frame never looks all forwarded, a single forwarded one
/// never all dropped.
fn cell_look((forwarded, dropped): (u64, u64)) -> Option<(u8, u32)> {
    let total = forwarded + dropped;
    if total == 0 {
        return None;
    }
    let steps = f64::from(STEPS);
    let mut share = (dropped as f64 / total as f64 * steps).round() as u8;
    if dropped > 0 {
        share = share.max(1);
    }
    if forwarded > 0 {
        share = share.min(STEPS - 1);
    }
    Some((share, magnitude(total)))
}

/// The tooltip of a cell over bins `from..to` with these (forwarded, dropped) counts.
fn run_tooltip(axis: &TimeAxis, from: usize, to: usize, counts: impl Iterator<Item = (u64, u64)>) -> String {
    let (mut forwarded, mut dropped) = ((u64::MAX, 0), (u64::MAX, 0));
    for (f, d) in counts {
        forwarded = (forwarded.0.min(f), forwarded.1.max(f));
        dropped = (dropped.0.min(d), dropped.1.max(d));
    }
    let range = |(low, high): (u64, u64)| {
        if low == high { format::count(low) } else { format!("{}–{}", format::count(low), format::count(high)) }
    };
    if to - from == 1 {
        format!(
            "{}: {} forwarded, {} dropped",
            format::offset(axis.offset_of_bin(from)),
            range(forwarded),
            range(dropped)
        )
    } else {
        format!(
            "{} to {}: {} forwarded, {} dropped per {}",
            format::offset(axis.offset_of_bin(from)),
            format::offset(axis.offset_of_bin(to)),
            range(forwarded),
            range(dropped),
            format::duration(axis.bin_seconds())
        )
    }
}

/// A percentage in at most four characters: `100%`, `42%`, `3.5%`, `0.1%`, `<0.1%`.
fn short_percent(part: u64, whole: u64) -> String {
    let p = if whole == 0 { 0.0 } else { 100.0 * part as f64 / whole as f64 };
    if p >= 10.0 {
        format!("{p:.0}%")
    } else if p >= 0.1 || p == 0.0 {
        format!("{p:.1}%")
    } else {
        "<0.1%".to_owned()
    }
}

/// The number of binary digits of `n`: 0 for 0, 1 for 1, 2 for 2-3, 3 for
/// 4-7... Cells one magnitude apart differ by about a doubling of frames.
pub(crate) fn magnitude(n: u64) -> u32 {
    u64::BITS - n.leading_zeros()
}

/// Opacity of a cell of magnitude `m` when the busiest cell has `busiest`
/// frames: one step per doubling, so one frame is still visible next to
/// thousands.
pub(crate) fn opacity(m: u32, busiest: u64) -> f64 {
    let top = magnitude(busiest);
    if m == 0 || top == 0 {
        return 0.0;
    }
    MIN_OPACITY + (1.0 - MIN_OPACITY) * (f64::from(m) / f64::from(top)).min(1.0)
}

/// How to read the cells: the colour ramp and what strength means.
fn legend(busiest: u64, axis: &TimeAxis) -> String {
    format!(
        r#"<svg class="legend" viewBox="0 0 {w} 30" role="img" aria-label="legend"><defs><linearGradient id="share-ramp"><stop offset="0" stop-color="{FORWARDED}"/><stop offset="1" stop-color="{DROPPED}"/></linearGradient></defs><text x="{l}" y="19" text-anchor="end" class="tick">all forwarded</text><rect x="{rx}" y="8" width="160" height="14" fill="url(#share-ramp)"/><text x="{after}" y="19" class="tick">all dropped</text><text x="{note}" y="19" class="tick">paler: fewer frames per {bin} (a step per doubling; strongest = {busiest})</text></svg>"#,
        w = Px(WIDTH),
        l = Px(LEFT - 6.0),
        rx = Px(LEFT),
        after = Px(LEFT + 166.0),
        note = Px(LEFT + 250.0),
        bin = format::duration(axis.bin_seconds()),
        busiest = format::count(busiest),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::replay::report::Timeline;

    fn axis(bins: usize) -> TimeAxis {
        let timeline = Timeline {
            start: 0.0,
            bin_seconds: 0.01,
            forwarded: vec![0; bins],
            dropped: vec![0; bins],
            by_reason: BTreeMap::new(),
            ids: Vec::new(),
        };
        TimeAxis::new(&timeline).expect("axis")
    }

    fn series(port: &str, forwarded: Vec<u64>, dropped: Vec<u64>) -> IdSeries {
        IdSeries { port: port.to_owned(), id: 0x110, ext: false, forwarded, dropped }
    }

    /// The cells drawn in a row: (fill, opacity) per rect with a tooltip.
    fn cells(svg: &str) -> Vec<&str> {
        svg.split("<rect ").filter(|r| r.contains("fill-opacity")).collect()
    }

    #[test]
    fn runs_of_equal_bins_are_one_cell_and_empty_bins_none() {
        let mut out = String::new();
        let s = series("drive", vec![5, 5, 5, 0, 0, 5, 2], vec![0, 0, 0, 0, 0, 0, 2]);
        draw_row(&mut out, &s, Some("VCU_Speed"), &axis(7), 0.0, 5);
        let drawn = cells(&out);
        assert_eq!(drawn.len(), 3, "{out}");
        assert!(drawn[0].contains(&format!(r#"fill="{FORWARDED}""#)) && drawn[0].contains("+0.000 s to +0.030 s"));
        assert!(drawn[0].contains(": 5 forwarded, 0 dropped per 10 ms"), "{}", drawn[0]);
        assert!(drawn[2].contains(&format!(r#"fill="{}""#, FORWARDED.mix(DROPPED, 0.5))), "half dropped");
        assert!(out.contains(r#"<tspan class="msg">VCU_Speed</tspan>"#));
        assert!(out.contains("24 · <tspan class=\"bad\">8.3% drop</tspan>"), "{out}");
    }

    #[test]
    fn bins_that_look_alike_merge_and_tell_their_range() {
        let mut out = String::new();
        let s = series("drive", vec![26, 27, 26, 17, 1], vec![0; 5]);
        draw_row(&mut out, &s, None, &axis(5), 0.0, 27);
        let drawn = cells(&out);
        assert_eq!(drawn.len(), 2, "{out}");
        assert!(drawn[0].contains("+0.000 s to +0.040 s: 17–27 forwarded, 0 dropped per 10 ms"), "{}", drawn[0]);
    }

    #[test]
    fn a_single_drop_or_forward_is_never_hidden() {
        assert_eq!(cell_look((0, 0)), None);
        assert_eq!(cell_look((999, 1)).map(|l| l.0), Some(1), "one drop in a thousand shows");
        assert_eq!(cell_look((1, 999)).map(|l| l.0), Some(STEPS - 1), "one forward in a thousand shows");
        assert_eq!(cell_look((0, 5)), Some((STEPS, 3)));
        assert_eq!(cell_look((6, 0)), cell_look((7, 0)), "jitter within a doubling looks the same");
    }

    #[test]
    fn row_labels_are_escaped_and_truncated() {
        let mut out = String::new();
        let s = series("<b>port</b>", vec![1], vec![0]);
        draw_row(&mut out, &s, Some("<i>A_VERY_LONG_MESSAGE_NAME_INDEED</i>"), &axis(1), 0.0, 1);
        assert!(!out.contains("<b>") && !out.contains("<i>"), "{out}");
        assert!(out.contains(">&lt;i&gt;A_VERY_LONG_MESSAG…</tspan>"), "{out}");
        assert!(out.contains(
            "<title>&lt;b&gt;port&lt;/b&gt; 0x110 &lt;i&gt;A_VERY_LONG_MESSAGE_NAME_INDEED&lt;/i&gt;</title>"
        ));
    }

    #[test]
    fn series_shorter_than_the_axis_are_padded_with_nothing() {
        let mut out = String::new();
        draw_row(&mut out, &series("drive", vec![3], Vec::new()), None, &axis(50), 0.0, 3);
        assert_eq!(cells(&out).len(), 1);
        draw_row(&mut out, &series("drive", Vec::new(), Vec::new()), None, &axis(50), 0.0, 0);
        assert_eq!(cells(&out).len(), 1, "an empty series draws no cell");
    }

    #[test]
    fn opacity_steps_by_doubling_and_is_bounded() {
        assert_eq!((magnitude(0), magnitude(1), magnitude(3), magnitude(4), magnitude(u64::MAX)), (0, 1, 2, 3, 64));
        assert_eq!(opacity(0, 100), 0.0);
        assert_eq!(opacity(3, 0), 0.0);
        assert_eq!(opacity(magnitude(100), 100), 1.0);
        assert!(opacity(magnitude(1), 1_000_000) > MIN_OPACITY);
        assert!(opacity(magnitude(10), 10_000) > opacity(magnitude(1), 10_000));
        assert_eq!(opacity(64, 10), 1.0, "clamped");
    }

    #[test]
    fn short_percentages() {
        assert_eq!(short_percent(1, 1), "100%");
        assert_eq!(short_percent(35, 1000), "3.5%");
        assert_eq!(short_percent(1, 100_000), "<0.1%");
        assert_eq!(short_percent(0, 0), "0.0%");
    }

    #[test]
    fn values_past_the_end_are_zero() {
        assert_eq!(at(&[1, 2], 1), 2);
        assert_eq!(at(&[1, 2], 2), 0);
        assert_eq!(at(&[], 0), 0);
    }
}
