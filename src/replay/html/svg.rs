//! The pieces every chart is built from: linear scales, "nice" tick steps,
//! colours, and the shared time axis that lines the time charts up.
//!
//! Invariants: every function is total (empty series, zero or non-finite
//! widths give a usable scale, never a panic or a NaN in the markup);
//! coordinates are written with at most one decimal, so equal inputs give
//! equal bytes.

use std::fmt::{self, Write};

use super::format;
use crate::replay::report::Timeline;

/// Width of every chart's view box.
pub(crate) const WIDTH: f64 = 1000.0;
/// Left margin of the time charts (row labels, y axis).
pub(crate) const LEFT: f64 = 240.0;
/// Right margin of the time charts (row totals).
pub(crate) const RIGHT: f64 = 110.0;
/// Height of the time axis labels under a time chart.
pub(crate) const AXIS_HEIGHT: f64 = 22.0;

/// A coordinate or length, written with at most one decimal (`12`, `12.5`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Px(pub f64);

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = if self.0.is_finite() { round_px(self.0) } else { 0.0 };
        // Also turns -0.0 into 0.
        let v = if v == 0.0 { 0.0 } else { v };
        if v.fract() == 0.0 { write!(f, "{v:.0}") } else { write!(f, "{v:.1}") }
    }
}

/// `v` rounded to the precision [`Px`] writes.
pub(crate) fn round_px(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Maps a domain interval linearly onto a range interval.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scale {
    domain: (f64, f64),
    range: (f64, f64),
}

impl Scale {
    /// A scale from `domain` to `range`; an empty or non-finite domain maps
    /// everything to the range's start.
    pub(crate) fn new(domain: (f64, f64), range: (f64, f64)) -> Self {
        Scale { domain, range }
    }

    /// The image of `v`, clamped to the range.
    pub(crate) fn map(&self, v: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        let width = d1 - d0;
        if !(width.is_finite() && width != 0.0 && v.is_finite()) {
            return r0;
        }
        let t = ((v - d0) / width).clamp(0.0, 1.0);
        r0 + t * (r1 - r0)
    }
}

/// The smallest of 1, 2, 5 times a power of ten that is at least `raw`
/// (1 for zero, negative or non-finite input).
pub(crate) fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|&s| s >= raw * (1.0 - 1e-12)).unwrap_or(raw)
}

/// Ticks for a count axis from 0 to at least `max` with about `target`
/// intervals: (top of the axis, tick values). Steps are whole numbers.
pub(crate) fn count_ticks(max: u64, target: usize) -> (u64, Vec<u64>) {
    let step = (nice_step(max as f64 / target.max(1) as f64).ceil() as u64).max(1);
    let top = max.div_ceil(step).max(1) * step;
    let ticks = (0..=top / step).map(|k| k * step).collect();
    (top, ticks)
}

/// The tick step for a time axis `span` seconds long with about `target`
/// intervals: 1-2-5 below a second, then whole seconds, minutes and hours.
pub(crate) fn time_step(span: f64, target: usize) -> f64 {
    const HUMAN_STEPS: [f64; 15] =
        [1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 21_600.0];
    let raw = span / target.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    if raw <= 1.0 {
        return nice_step(raw);
    }
    HUMAN_STEPS.into_iter().find(|&s| s >= raw).unwrap_or_else(|| 86_400.0 * nice_step(raw / 86_400.0))
}

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `self` moved a fraction `t` (clamped to 0..=1) of the way to `other`.
    pub(crate) fn mix(self, other: Rgb, t: f64) -> Rgb {
        let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
        let lerp = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        Rgb(lerp(self.0, other.0), lerp(self.1, other.1), lerp(self.2, other.2))
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// Forwarded frames.
pub(crate) const FORWARDED: Rgb = Rgb(0x2e, 0x9e, 0x5b);
/// Dropped frames.
pub(crate) const DROPPED: Rgb = Rgb(0xd6, 0x33, 0x2a);
/// Grid lines and axes.
pub(crate) const GRID: Rgb = Rgb(0xdd, 0xdd, 0xdd);

/// The x axis shared by the time charts: bins of the report's timeline laid
/// out between [`LEFT`] and `WIDTH - RIGHT`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimeAxis {
    /// Absolute time of the left edge, seconds.
    start: f64,
    /// Number of bins.
    bins: usize,
    /// Width of a bin, seconds (positive and finite).
    bin_seconds: f64,
}

impl TimeAxis {
    /// The axis of `timeline`, or `None` when it has no bins (no frames).
    pub(crate) fn new(timeline: &Timeline) -> Option<Self> {
        let bins = timeline.forwarded.len().max(timeline.dropped.len());
        if bins == 0 {
            return None;
        }
        let bin_seconds =
            if timeline.bin_seconds.is_finite() && timeline.bin_seconds > 0.0 { timeline.bin_seconds } else { 1.0 };
        let start = if timeline.start.is_finite() { timeline.start } else { 0.0 };
        Some(TimeAxis { start, bins, bin_seconds })
    }

    /// Number of bins.
    pub(crate) fn bins(&self) -> usize {
        self.bins
    }

    /// Seconds covered by the axis.
    pub(crate) fn span(&self) -> f64 {
        self.bins as f64 * self.bin_seconds
    }

    /// Width of a bin, seconds.
    pub(crate) fn bin_seconds(&self) -> f64 {
        self.bin_seconds
    }

    /// Width of a bin on the page.
    pub(crate) fn bin_width(&self) -> f64 {
        (WIDTH - LEFT - RIGHT) / self.bins as f64
    }

    /// Left edge of bin `i`.
    pub(crate) fn x_of_bin(&self, i: usize) -> f64 {
        LEFT + i as f64 * self.bin_width()
    }

    /// Left edge and width of bins `from..to`, rounded as [`Px`] writes them,
    /// so that neighbouring cells share their edge exactly (no hairline gaps).
    pub(crate) fn bins_extent(&self, from: usize, to: usize) -> (f64, f64) {
        let (left, right) = (round_px(self.x_of_bin(from)), round_px(self.x_of_bin(to)));
        (left, right - left)
    }

    /// The x of absolute time `t`, clamped to the plot.
    pub(crate) fn x_of_time(&self, t: f64) -> f64 {
        Scale::new((self.start, self.start + self.span()), (LEFT, WIDTH - RIGHT)).map(t)
    }

    /// Seconds from the axis start to `t`.
    pub(crate) fn offset_of(&self, t: f64) -> f64 {
        t - self.start
    }

    /// Seconds from the axis start to the start of bin `i`.
    pub(crate) fn offset_of_bin(&self, i: usize) -> f64 {
        i as f64 * self.bin_seconds
    }

    /// Ticks as (x, label), about eight over the plot.
    pub(crate) fn ticks(&self) -> Vec<(f64, String)> {
        let span = self.span();
        let step = time_step(span, 8);
        let count = (span / step + 1e-9).floor() as usize;
        (0..=count)
            .map(|k| {
                let t = k as f64 * step;
                (self.x_of_time(self.start + t), format::tick(t, step, span))
            })
            .collect()
    }

    /// Vertical grid lines from `top` to `bottom` and the tick labels under
    /// `bottom`.
    pub(crate) fn draw(&self, out: &mut String, top: f64, bottom: f64) {
        let _ = write!(
            out,
            r##"<g class="axis"><line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#999"/>"##,
            l = Px(LEFT),
            r = Px(WIDTH - RIGHT),
            b = Px(bottom)
        );
        for (x, label) in self.ticks() {
            let _ = write!(
                out,
                r##"<line x1="{x}" y1="{t}" x2="{x}" y2="{b}" stroke="{GRID}"/><line x1="{x}" y1="{b}" x2="{x}" y2="{b4}" stroke="#999"/><text x="{x}" y="{ly}" text-anchor="middle">{label}</text>"##,
                x = Px(x),
                t = Px(top),
                b = Px(bottom),
                b4 = Px(bottom + 4.0),
                ly = Px(bottom + 16.0),
            );
        }
        out.push_str("</g>");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn timeline(bins: usize, bin_seconds: f64) -> Timeline {
        Timeline {
            start: 100.0,
            bin_seconds,
            forwarded: vec![0; bins],
            dropped: vec![0; bins],
            by_reason: BTreeMap::new(),
            ids: Vec::new(),
        }
    }

    #[test]
    fn pixels_have_at_most_one_decimal_and_no_negative_zero() {
        assert_eq!(Px(12.0).to_string(), "12");
        assert_eq!(Px(12.34).to_string(), "12.3");
        assert_eq!(Px(-0.01).to_string(), "0");
        assert_eq!(Px(f64::NAN).to_string(), "0");
        assert_eq!(Px(-3.25).to_string(), "-3.3");
    }

    #[test]
    fn scales_map_ends_and_clamp() {
        let s = Scale::new((0.0, 10.0), (100.0, 200.0));
        assert_eq!(s.map(0.0), 100.0);
        assert_eq!(s.map(5.0), 150.0);
        assert_eq!(s.map(10.0), 200.0);
        assert_eq!(s.map(-5.0), 100.0);
        assert_eq!(s.map(50.0), 200.0);
        let inverted = Scale::new((0.0, 4.0), (80.0, 0.0));
        assert_eq!(inverted.map(1.0), 60.0);
    }

    #[test]
    fn degenerate_scales_map_to_the_range_start() {
        assert_eq!(Scale::new((3.0, 3.0), (10.0, 20.0)).map(3.0), 10.0);
        assert_eq!(Scale::new((0.0, f64::NAN), (10.0, 20.0)).map(1.0), 10.0);
        assert_eq!(Scale::new((0.0, 1.0), (10.0, 20.0)).map(f64::INFINITY), 10.0);
    }

    #[test]
    fn nice_steps_are_one_two_five() {
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(nice_step(-3.0), 1.0);
        assert_eq!(nice_step(1.0), 1.0);
        assert_eq!(nice_step(1.2), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(0.003), 0.005);
        assert_eq!(nice_step(250.0), 500.0);
    }

    #[test]
    fn count_ticks_cover_the_maximum() {
        assert_eq!(count_ticks(0, 4), (1, vec![0, 1]));
        assert_eq!(count_ticks(3, 4), (3, vec![0, 1, 2, 3]));
        assert_eq!(count_ticks(10, 4), (10, vec![0, 5, 10]));
        assert_eq!(count_ticks(1234, 4), (1500, vec![0, 500, 1000, 1500]));
        for max in [1, 7, 99, 101, 65_537, u32::MAX as u64] {
            let (top, ticks) = count_ticks(max, 4);
            assert!(top >= max && ticks.last() == Some(&top) && ticks.len() <= 12, "{max}: {top} {ticks:?}");
        }
    }

    #[test]
    fn time_steps_are_human() {
        assert_eq!(time_step(0.01, 8), 0.002);
        assert_eq!(time_step(2.56, 8), 0.5);
        assert_eq!(time_step(60.0, 8), 10.0);
        assert_eq!(time_step(600.0, 8), 120.0);
        assert_eq!(time_step(86_400.0 * 30.0, 8), 86_400.0 * 5.0);
        assert_eq!(time_step(0.0, 8), 1.0);
        assert_eq!(time_step(f64::NAN, 8), 1.0);
    }

    #[test]
    fn colours_mix_and_print() {
        assert_eq!(Rgb(0, 0, 0).mix(Rgb(255, 255, 255), 0.5), Rgb(128, 128, 128));
        assert_eq!(FORWARDED.mix(DROPPED, 0.0), FORWARDED);
        assert_eq!(FORWARDED.mix(DROPPED, 7.0), DROPPED);
        assert_eq!(FORWARDED.mix(DROPPED, f64::NAN), FORWARDED);
        assert_eq!(Rgb(0x2e, 0x9e, 0x5b).to_string(), "#2e9e5b");
    }

    #[test]
    fn neighbouring_bins_share_their_edges() {
        let axis = TimeAxis::new(&timeline(157, 2.56)).expect("axis");
        for i in 0..156 {
            let (x, w) = axis.bins_extent(i, i + 1);
            let (next, _) = axis.bins_extent(i + 1, i + 2);
            assert_eq!(Px(x + w).to_string(), Px(next).to_string(), "gap after bin {i}");
        }
        let (x, w) = axis.bins_extent(0, 157);
        assert_eq!((x, Px(w).to_string()), (LEFT, Px(WIDTH - LEFT - RIGHT).to_string()));
    }

    #[test]
    fn an_empty_timeline_has_no_axis() {
        assert!(TimeAxis::new(&timeline(0, 0.01)).is_none());
    }

    #[test]
    fn the_axis_places_bins_and_times_on_the_plot() {
        let axis = TimeAxis::new(&timeline(100, 0.01)).expect("axis");
        assert_eq!(axis.x_of_bin(0), LEFT);
        assert!((axis.x_of_bin(100) - (WIDTH - RIGHT)).abs() < 1e-9);
        assert_eq!(axis.x_of_time(100.5), (LEFT + WIDTH - RIGHT) / 2.0);
        assert_eq!(axis.x_of_time(0.0), LEFT, "clamped");
        let ticks = axis.ticks();
        assert_eq!(ticks.first().map(|t| t.1.as_str()), Some("0.0 s"));
        assert_eq!(ticks.last().map(|t| t.1.as_str()), Some("1.0 s"));
        assert!(ticks.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn a_single_bin_or_a_broken_width_still_gives_an_axis() {
        let one = TimeAxis::new(&timeline(1, 0.01)).expect("axis");
        assert_eq!(one.bin_width(), WIDTH - LEFT - RIGHT);
        assert!(one.ticks().len() >= 2);
        let broken = TimeAxis::new(&timeline(3, f64::NAN)).expect("axis");
        assert_eq!(broken.span(), 3.0);
        let mut out = String::new();
        broken.draw(&mut out, 0.0, 50.0);
        assert!(!out.contains("NaN") && out.contains("<text"), "{out}");
    }
}
