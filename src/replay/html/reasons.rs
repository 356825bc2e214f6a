//! Drops by reason: a bar per reason (coloured by its defense layer) and the
//! drops over time stacked by reason.
//!
//! Invariants: a reason keeps one colour in every chart and legend (its
//! layer's hue, a shade per reason within the layer); names the engine does
//! not know (a report from another version) are drawn grey, never refused.

use std::fmt::Write;

use super::escape::Esc;
use super::format;
use super::svg::{LEFT, Px, RIGHT, Scale, TimeAxis, WIDTH};
use super::timeline::{at, count_chart};
use crate::engine::verdict::{DropReason, Layer};
use crate::replay::report::ReplayReport;

/// Height of a reason bar row.
const BAR_ROW: f64 = 24.0;
/// Height of the over-time plot.
const OVER_TIME_HEIGHT: f64 = 140.0;
/// Top margin of a chart.
const TOP: f64 = 10.0;

/// The hue of a layer (HSL degrees).
fn layer_hue(layer: Layer) -> u16 {
    match layer {
        Layer::Sanitize => 30,
        Layer::Route => 212,
        Layer::Authenticate => 275,
        Layer::Content => 350,
        Layer::Context => 175,
        Layer::Rate => 48,
        Layer::Behaviour => 318,
    }
}

/// The colour of a layer, by name.
pub(crate) fn layer_colour(layer: &str) -> String {
    match Layer::from_name(layer) {
        Some(l) => format!("hsl({}, 62%, 46%)", layer_hue(l)),
        None => "hsl(0, 0%, 60%)".to_owned(),
    }
}

/// The colour of a reason, by name: its layer's hue, lighter for later
/// reasons of the same layer.
pub(crate) fn reason_colour(reason: &str) -> String {
    let Some(r) = DropReason::from_name(reason) else { return "hsl(0, 0%, 60%)".to_owned() };
    let same_layer: Vec<DropReason> = DropReason::ALL.iter().copied().filter(|o| o.layer() == r.layer()).collect();
    let position = same_layer.iter().position(|&o| o == r).unwrap_or(0);
    let lightness = if same_layer.len() <= 1 { 46 } else { 34 + 32 * position / (same_layer.len() - 1) };
    format!("hsl({}, 62%, {lightness}%)", layer_hue(r.layer()))
}

/// A bar per reason, most frequent first, with its count and share of drops.
pub(crate) fn bars(r: &ReplayReport) -> String {
    if r.reasons.is_empty() {
        return r#"<p class="note">No frame was dropped.</p>"#.to_owned();
    }
    let max = r.reasons.iter().map(|c| c.count).max().unwrap_or(0);
    let total: u64 = r.reasons.iter().map(|c| c.count).sum();
    // Room for the count after the longest bar.
    let x = Scale::new((0.0, max as f64), (0.0, WIDTH - LEFT - RIGHT - 60.0));
    let height = TOP + r.reasons.len() as f64 * BAR_ROW + 4.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" id="reason-bars" viewBox="0 0 {w} {h}" role="img" aria-label="drops by reason">"#,
        w = Px(WIDTH),
        h = Px(height)
    );
    for (row, c) in r.reasons.iter().enumerate() {
        let y = TOP + row as f64 * BAR_ROW;
        let width = x.map(c.count as f64).max(1.0);
        let _ = write!(
            out,
            r#"<g class="reason" data-reason="{reason}"><title>{reason} ({layer} layer): {n} frames, {share} of drops</title><text x="{lx}" y="{ty}" text-anchor="end" class="row-label">{reason} <tspan class="muted">{layer}</tspan></text><rect x="{bx}" y="{by}" width="{bw}" height="{bh}" fill="{fill}"/><text x="{vx}" y="{ty}" class="value">{n} · {share}</text></g>"#,
            reason = Esc(c.reason),
            layer = Esc(c.layer),
            n = format::count(c.count),
            share = format::percent(c.count, total),
            lx = Px(LEFT - 8.0),
            ty = Px(y + BAR_ROW / 2.0 + 4.0),
            bx = Px(LEFT),
            by = Px(y + 3.0),
            bw = Px(width),
            bh = Px(BAR_ROW - 6.0),
            fill = reason_colour(c.reason),
            vx = Px(LEFT + width + 6.0),
        );
    }
    out.push_str("</svg>");
    out.push_str(&layer_legend(r));
    out
}

/// The layers the report's reasons belong to, in the order frames meet them.
fn layer_legend(r: &ReplayReport) -> String {
    let mut out = String::from(r#"<p class="legend-line">layers: "#);
    for layer in Layer::ALL {
        if r.reasons.iter().any(|c| c.layer == layer.name()) {
            let _ = write!(
                out,
                r#"<span class="swatch" style="background:{c}"></span>{n} "#,
                c = layer_colour(layer.name()),
                n = layer.name()
            );
        }
    }
    for c in &r.reasons {
        if Layer::from_name(c.layer).is_none() {
            let _ = write!(
                out,
                r#"<span class="swatch" style="background:{}"></span>{} "#,
                layer_colour(c.layer),
                Esc(c.layer)
            );
        }
    }
    out.push_str("</p>");
    out
}

/// The reasons of the timeline in chart order: the report's order (most
/// frequent first), then any other reason with a series.
fn series_order(r: &ReplayReport) -> Vec<(&str, &[u64])> {
    let mut order: Vec<(&str, &[u64])> =
        r.reasons.iter().filter_map(|c| r.timeline.by_reason.get(c.reason).map(|s| (c.reason, s.as_slice()))).collect();
    for (name, s) in &r.timeline.by_reason {
        if !order.iter().any(|(n, _)| n == name) {
            order.push((name, s.as_slice()));
        }
    }
    order
}

/// Drops per bin, stacked by reason (the most frequent at the bottom).
pub(crate) fn over_time(r: &ReplayReport, axis: &TimeAxis) -> String {
    let order = series_order(r);
    if order.is_empty() {
        return String::new();
    }
    let bins = axis.bins();
    let max = (0..bins).map(|i| order.iter().map(|(_, s)| at(s, i)).sum::<u64>()).max().unwrap_or(0);
    let (mut out, y, _) =
        count_chart("reasons-over-time", "drops per bin by reason", "drops", OVER_TIME_HEIGHT, max, axis);
    for i in 0..bins {
        if order.iter().all(|(_, s)| at(s, i) == 0) {
            continue;
        }
        let parts: Vec<String> = order
            .iter()
            .filter(|(_, s)| at(s, i) > 0)
            .map(|(name, s)| format!("{} {}", Esc(name), format::count(at(s, i))))
            .collect();
        let _ = write!(out, "<g><title>{}: {}</title>", format::offset(axis.offset_of_bin(i)), parts.join(", "));
        let mut below = 0u64;
        let (x, width) = axis.bins_extent(i, i + 1);
        for (name, s) in &order {
            let n = at(s, i);
            if n == 0 {
                continue;
            }
            let (y0, y1) = (y.map(below as f64), y.map((below + n) as f64));
            let _ = write!(
                out,
                r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}"/>"#,
                x = Px(x),
                y = Px(y1),
                w = Px(width),
                h = Px(y0 - y1),
                fill = reason_colour(name),
            );
            below += n;
        }
        out.push_str("</g>");
    }
    out.push_str("</svg><p class=\"legend-line\">");
    for (name, _) in &order {
        let _ = write!(out, r#"<span class="swatch" style="background:{}"></span>{} "#, reason_colour(name), Esc(name));
    }
    out.push_str("</p>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::report::ReasonCount;

    #[test]
    fn every_reason_has_its_own_colour() {
        let colours: Vec<String> = DropReason::ALL.iter().map(|r| reason_colour(r.name())).collect();
        let mut unique = colours.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), colours.len(), "{colours:?}");
    }

    fn report(reasons: Vec<ReasonCount>) -> ReplayReport {
        let rules = std::sync::Arc::new(crate::rules::reference().expect("reference rules").0);
        let engine = crate::engine::Engine::new(std::sync::Arc::clone(&rules));
        let mut r = crate::replay::report::ReportBuilder::new(rules).finish(
            engine.counters(),
            crate::engine::modes::Mode::Normal,
            0,
            0,
        );
        r.reasons = reasons;
        r
    }

    /// The bar widths, in order.
    fn widths(svg: &str) -> Vec<f64> {
        svg.split(r#"<rect x=""#)
            .skip(1)
            .filter_map(|r| r.split(r#"width=""#).nth(1)?.split('"').next()?.parse().ok())
            .collect()
    }

    #[test]
    fn bars_are_proportional_and_labelled() {
        let r = report(vec![
            ReasonCount { reason: "no-route", layer: "route", count: 300 },
            ReasonCount { reason: "too-fast", layer: "behaviour", count: 100 },
        ]);
        let svg = bars(&r);
        let w = widths(&svg);
        assert_eq!(w.len(), 2);
        assert!((w[0] / w[1] - 3.0).abs() < 0.01, "{w:?}");
        assert!(svg.contains("300 · 75.00%") && svg.contains("100 · 25.00%"));
        assert!(svg.contains(&format!(r#"fill="{}""#, reason_colour("too-fast"))));
        assert!(svg.contains("route </p>") || svg.contains("behaviour </p>"), "layer legend: {svg}");
    }

    #[test]
    fn no_drops_is_a_sentence() {
        assert!(bars(&report(Vec::new())).contains("No frame was dropped"));
    }

    #[test]
    fn unknown_names_are_grey() {
        assert_eq!(reason_colour("<script>"), "hsl(0, 0%, 60%)");
        assert_eq!(layer_colour("nope"), "hsl(0, 0%, 60%)");
        assert_eq!(layer_colour("route"), "hsl(212, 62%, 46%)");
    }
}
