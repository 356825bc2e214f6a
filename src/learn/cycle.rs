//! Cycle times: whether an id is cyclic, the period and tolerance to propose,
//! and the smallest token-bucket burst with which the capture never trips the
//! engine's behaviour layer.
//!
//! The engine (`src/engine/behaviour.rs`) gives every watched id a token
//! bucket that refills at `1 / (period * (1 - tolerance))` tokens per second,
//! holds `burst` tokens and is full at the start; a frame that finds less than
//! one token makes the id suspect. Writing `W` for the tokens missing from the
//! bucket just after a frame took its token, `W_n = max(0, W_{n-1} - rate *
//! dt_n) + 1` (Lindley's recursion), and a bucket of capacity `B` lets every
//! frame through exactly when `W_n <= B` for all `n`. So [`BurstMeter`] replays
//! the id's arrival times once at the proposed rate and its peak is the
//! minimal burst; the proposal adds a margin on top (see [`CycleMargins`]).
//!
//! Invariants: the rate is computed from the period as it will be written in
//! the rule file and compiled (milliseconds through `Duration`), so the
//! simulation and the engine see the same number; time is the engine's
//! (never going backwards: the caller passes the running maximum).

use std::time::Duration;

use super::intervals::Intervals;
use crate::time::Timestamp;

/// Tolerance proposed for ids whose intervals stay within a quarter of the period.
pub const TOLERANCE_REGULAR: f64 = 0.25;

/// Tolerance proposed for jittery ids (the engine's default).
pub const TOLERANCE_JITTERY: f64 = 0.5;

/// How cyclic ids are told from the others, and the margins added to what
/// the capture showed. The defaults are documented in `docs/learn.md`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CycleMargins {
    /// Fewest frames for an id to be called cyclic.
    pub min_frames: u64,
    /// Least share of intervals within half a period of the median.
    pub min_regular_share: f64,
    /// Share of intervals within a quarter period above which the tolerance is
    /// [`TOLERANCE_REGULAR`] rather than [`TOLERANCE_JITTERY`].
    pub regular_share_for_tight_tolerance: f64,
    /// The proposed burst is `burst_factor * minimal burst + burst_extra`, rounded up...
    pub burst_factor: f64,
    /// ... plus this many frames ...
    pub burst_extra: f64,
    /// ... and at least this many.
    pub burst_min: f64,
    /// `mia_ms` is at least this many times the longest silence seen ...
    pub mia_factor: f64,
    /// ... and at least this many periods.
    pub mia_min_periods: f64,
}

impl Default for CycleMargins {
    fn default() -> Self {
        CycleMargins {
            min_frames: 10,
            min_regular_share: 0.6,
            regular_share_for_tight_tolerance: 0.95,
            burst_factor: 1.5,
            burst_extra: 1.0,
            burst_min: 3.0,
            mia_factor: 1.5,
            mia_min_periods: 5.0,
        }
    }
}

/// What the intervals of an id say about its timing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// Intervals recorded.
    pub intervals: u64,
    /// Shortest interval, ms.
    pub min_ms: f64,
    /// 5th percentile, ms.
    pub p5_ms: f64,
    /// Median, ms.
    pub median_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// Longest interval (silence), ms.
    pub max_ms: f64,
    /// Mean of the intervals up to 2.5 medians (long silences left out), ms.
    pub mean_ms: f64,
    /// Share of intervals within half a median of the median.
    pub regular_share: f64,
    /// Share of intervals within a quarter median of the median.
    pub tight_share: f64,
}

impl Timing {
    /// The timing of `intervals`, `None` without any interval.
    pub fn of(intervals: &Intervals) -> Option<Timing> {
        let median = intervals.median_ms()?;
        Some(Timing {
            intervals: intervals.count(),
            min_ms: intervals.min().map_or(0.0, |d| d.as_secs_f64() * 1e3),
            p5_ms: intervals.quantile_ms(0.05)?,
            median_ms: median,
            p95_ms: intervals.quantile_ms(0.95)?,
            max_ms: intervals.max().as_secs_f64() * 1e3,
            mean_ms: intervals.mean_below_ms(median * 2.5).unwrap_or(median),
            regular_share: intervals.fraction_within_ms(median * 0.5, median * 1.5),
            tight_share: intervals.fraction_within_ms(median * 0.75, median * 1.25),
        })
    }
}

/// A period and tolerance proposed for a cyclic id, before the burst is known.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CycleCandidate {
    /// The period as it will be written, ms.
    pub period_ms: f64,
    /// The tolerance as it will be written.
    pub tolerance: f64,
}

/// Decides whether an id with `frames` frames and `timing` is cyclic; the
/// error says why not, for the rule file's comment.
pub fn candidate(frames: u64, timing: Option<&Timing>, m: &CycleMargins) -> Result<CycleCandidate, String> {
    let Some(t) = timing else { return Err("a single frame".to_owned()) };
    if frames < m.min_frames {
        return Err(format!("only {frames} frames (a cycle needs {} or more)", m.min_frames));
    }
    if t.median_ms < 0.5 {
        return Err(format!("median interval {} ms: frames come in bursts", round3(t.median_ms)));
    }
    if t.regular_share < m.min_regular_share {
        return Err(format!(
            "irregular: only {:.0}% of the intervals are within half a period of the median {} ms (event-driven?)",
            t.regular_share * 100.0,
            round3(t.median_ms)
        ));
    }
    let ratio = t.mean_ms / t.median_ms;
    if !(0.67..=1.5).contains(&ratio) {
        return Err(format!(
            "irregular: mean interval {} ms against a median of {} ms",
            round3(t.mean_ms),
            round3(t.median_ms)
        ));
    }
    let period_ms = if t.mean_ms >= 2.0 { t.mean_ms.round() } else { (t.mean_ms * 100.0).round() / 100.0 };
    let tolerance =
        if t.tight_share >= m.regular_share_for_tight_tolerance { TOLERANCE_REGULAR } else { TOLERANCE_JITTERY };
    Ok(CycleCandidate { period_ms, tolerance })
}

/// The refill rate of the engine's cycle bucket for a period written as
/// `period_ms` milliseconds (the same conversions as the rule compiler and
/// the behaviour layer).
pub fn rate_per_second(period_ms: f64, tolerance: f64) -> f64 {
    let period = Duration::from_secs_f64(period_ms / 1000.0);
    let fastest = period.as_secs_f64() * (1.0 - tolerance);
    1.0 / fastest.max(1e-6)
}

/// Replays arrival times against a bucket of unlimited capacity and keeps the
/// deepest it was ever drawn: the minimal burst.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BurstMeter {
    rate: f64,
    level: f64,
    peak: f64,
    last: Option<Timestamp>,
}

impl BurstMeter {
    /// A meter for a bucket refilling at `rate` tokens per second.
    pub fn new(rate: f64) -> Self {
        BurstMeter { rate, level: 0.0, peak: 0.0, last: None }
    }

    /// One frame at `now` (the engine's time: never earlier than the last call).
    pub fn observe(&mut self, now: Timestamp) {
        if let Some(last) = self.last
            && now > last
        {
            let refill = now.saturating_since(last).as_secs_f64() * self.rate;
            self.level = (self.level - refill).max(0.0);
        }
        if self.last.is_none_or(|last| now > last) {
            self.last = Some(now);
        }
        self.level += 1.0;
        self.peak = self.peak.max(self.level);
    }

    /// The smallest burst that let every frame so far through.
    pub fn minimal_burst(&self) -> f64 {
        self.peak
    }
}

/// The `cycle = {...}` of a route.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CycleRule {
    /// Period, ms.
    pub period_ms: f64,
    /// Tolerance.
    pub tolerance: f64,
    /// Missing after this long, ms.
    pub mia_ms: f64,
    /// Burst, frames.
    pub burst: f64,
    /// The minimal burst the capture needed.
    pub minimal_burst: f64,
}

/// The rule for a candidate once its minimal burst is known.
pub fn finish(candidate: CycleCandidate, minimal_burst: f64, longest_silence_ms: f64, m: &CycleMargins) -> CycleRule {
    let burst = (minimal_burst * m.burst_factor + m.burst_extra).ceil().max(m.burst_min);
    let mia = (longest_silence_ms * m.mia_factor).max(candidate.period_ms * m.mia_min_periods);
    CycleRule {
        period_ms: candidate.period_ms,
        tolerance: candidate.tolerance,
        mia_ms: (mia / 10.0).ceil() * 10.0,
        burst,
        minimal_burst,
    }
}

/// `v` with at most three decimals, for comments.
pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing_of(intervals_ms: impl IntoIterator<Item = f64>) -> (u64, Timing) {
        let mut iv = Intervals::default();
        let mut n = 1;
        for ms in intervals_ms {
            iv.record(Duration::from_secs_f64(ms / 1000.0));
            n += 1;
        }
        (n, Timing::of(&iv).unwrap())
    }

    #[test]
    fn a_steady_period_is_cyclic_with_the_tight_tolerance() {
        let (n, t) = timing_of((0..500).map(|i| 50.0 + if i % 2 == 0 { 1.0 } else { -1.0 }));
        let c = candidate(n, Some(&t), &CycleMargins::default()).unwrap();
        assert_eq!(c, CycleCandidate { period_ms: 50.0, tolerance: TOLERANCE_REGULAR });
    }

    #[test]
    fn batched_timestamps_get_the_loose_tolerance() {
        // A 12 ms message whose timestamps come in batches: 12 +- 4 ms.
        let (n, t) = timing_of((0..1000).map(|i| [8.0, 16.0, 12.0, 12.0][i % 4]));
        let c = candidate(n, Some(&t), &CycleMargins::default()).unwrap();
        assert_eq!(c.tolerance, TOLERANCE_JITTERY);
        assert_eq!(c.period_ms, 12.0);
    }

    #[test]
    fn few_frames_bursts_and_events_are_not_cyclic() {
        let m = CycleMargins::default();
        let (n, t) = timing_of([100.0; 5]);
        assert!(candidate(n, Some(&t), &m).unwrap_err().contains("only 6 frames"));
        assert!(candidate(1, None, &m).is_err());
        let (n, t) = timing_of((0..100).map(|i| if i % 2 == 0 { 0.1 } else { 0.2 }));
        assert!(candidate(n, Some(&t), &m).unwrap_err().contains("bursts"));
        // Event-driven: intervals spread over two orders of magnitude.
        let (n, t) = timing_of((0..200).map(|i| 10.0 * 1.03f64.powi(i % 150)));
        assert!(candidate(n, Some(&t), &m).unwrap_err().contains("irregular"), "{:?}", candidate(n, Some(&t), &m));
    }

    #[test]
    fn the_meter_finds_the_exact_minimal_burst() {
        // Rate 100/s (one token per 10 ms); frames every 10 ms except a clump of
        // four at the same instant: the bucket must hold 4 tokens then.
        let mut meter = BurstMeter::new(100.0);
        let mut t = 0u64;
        for i in 0..100u64 {
            if i != 50 {
                t += 10;
            }
            for _ in 0..if i == 50 { 3 } else { 1 } {
                meter.observe(Timestamp::from_millis(t));
            }
        }
        assert_eq!(meter.minimal_burst(), 4.0);
        // Time going backwards refills nothing, as in the engine.
        let mut meter = BurstMeter::new(100.0);
        meter.observe(Timestamp::from_millis(1000));
        meter.observe(Timestamp::from_millis(500));
        assert_eq!(meter.minimal_burst(), 2.0);
    }

    #[test]
    fn margins_on_top_of_the_capture() {
        let m = CycleMargins::default();
        let c = CycleCandidate { period_ms: 20.0, tolerance: 0.5 };
        let r = finish(c, 1.0, 31.0, &m);
        assert_eq!((r.burst, r.mia_ms), (3.0, 100.0), "minimum burst and five periods");
        let r = finish(c, 4.2, 400.0, &m);
        assert_eq!((r.burst, r.mia_ms), (8.0, 600.0));
        assert!((rate_per_second(20.0, 0.5) - 100.0).abs() < 1e-9);
    }
}
