//! Inter-arrival times of one id, summarized in bounded memory.
//!
//! A capture of hours holds millions of intervals per id, so they are not
//! kept: each goes into a logarithmic histogram whose bins are 1 % wide
//! (bin `b >= 1` holds `[1 µs * 1.01^(b-1), 1 µs * 1.01^b)`, bin 0 everything
//! under 1 µs). Quantiles read from it are within 0.5 % of the exact value,
//! which is far below the jitter of any real bus; each bin also keeps the exact
//! sum of its intervals, so means over bins are exact. The histogram is sparse (a
//! sorted map of the bins actually hit), so a periodic message with a few
//! percent of jitter costs a few dozen entries, and no id can cost more than
//! [`MAX_BIN`] entries whatever the capture's length.
//!
//! Invariants: `count` is the number of intervals recorded and equals the sum
//! of the bins; `min <= max` once anything was recorded.

use std::collections::BTreeMap;
use std::time::Duration;

/// Ratio between the bounds of one bin.
const BIN_RATIO: f64 = 1.01;

/// Lower bound of bin 1, in nanoseconds (1 µs).
const BIN_BASE_NS: f64 = 1_000.0;

/// The last bin: intervals of about 27 hours and more all land here.
pub const MAX_BIN: u16 = 4_000;

/// Summary of the intervals between consecutive frames of one id.
#[derive(Clone, Debug, Default)]
pub struct Intervals {
    count: u64,
    min: Option<Duration>,
    max: Duration,
    /// Per bin: how many intervals, and their exact sum in nanoseconds.
    bins: BTreeMap<u16, (u64, u128)>,
}

impl Intervals {
    /// Records one interval.
    pub fn record(&mut self, interval: Duration) {
        self.count += 1;
        self.min = Some(self.min.map_or(interval, |m| m.min(interval)));
        self.max = self.max.max(interval);
        let bin = self.bins.entry(bin_of(interval)).or_insert((0, 0));
        bin.0 += 1;
        bin.1 += interval.as_nanos();
    }

    /// Number of intervals recorded (frames of the id minus one).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The shortest interval.
    pub fn min(&self) -> Option<Duration> {
        self.min
    }

    /// The longest interval (the longest silence of the id).
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The `q`-quantile (0 to 1) in milliseconds, within half a bin; `None`
    /// when nothing was recorded.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0u64;
        for (&bin, &(n, _)) in &self.bins {
            seen += n;
            if seen >= rank {
                return Some(self.clamped(bin_value_ms(bin)));
            }
        }
        Some(self.clamped(bin_value_ms(MAX_BIN)))
    }

    /// The median interval in milliseconds.
    pub fn median_ms(&self) -> Option<f64> {
        self.quantile_ms(0.5)
    }

    /// The fraction of intervals between `low` and `high` milliseconds
    /// (bins are counted by their representative value).
    pub fn fraction_within_ms(&self, low: f64, high: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let inside: u64 =
            self.bins.iter().filter(|(b, _)| (low..=high).contains(&bin_value_ms(**b))).map(|(_, (n, _))| *n).sum();
        inside as f64 / self.count as f64
    }

    /// The exact mean of the intervals in the bins up to `limit`
    /// milliseconds (the long silences left out); `None` when there is none.
    pub fn mean_below_ms(&self, limit: f64) -> Option<f64> {
        let (sum, n) = self
            .bins
            .iter()
            .filter(|(b, _)| bin_value_ms(**b) <= limit)
            .fold((0u128, 0u64), |(s, c), (_, (n, sum))| (s + sum, c + n));
        (n > 0).then(|| sum as f64 / n as f64 / 1e6)
    }

    /// A bin's value never claims more than what was seen.
    fn clamped(&self, ms: f64) -> f64 {
        let lo = self.min.map_or(0.0, |m| m.as_secs_f64() * 1e3);
        ms.clamp(lo, self.max.as_secs_f64() * 1e3)
    }
}

fn bin_of(interval: Duration) -> u16 {
    let ns = interval.as_nanos() as f64;
    if ns < BIN_BASE_NS {
        return 0;
    }
    let b = 1.0 + (ns / BIN_BASE_NS).ln() / BIN_RATIO.ln();
    if b >= f64::from(MAX_BIN) { MAX_BIN } else { b as u16 }
}

/// The geometric middle of a bin, in milliseconds.
fn bin_value_ms(bin: u16) -> f64 {
    if bin == 0 {
        return 0.0005;
    }
    BIN_BASE_NS * BIN_RATIO.powf(f64::from(bin) - 0.5) / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: f64) -> Duration {
        Duration::from_secs_f64(v / 1000.0)
    }

    #[test]
    fn median_of_a_jittery_period_is_within_half_a_percent() {
        let mut iv = Intervals::default();
        for i in 0..10_000 {
            // 10 ms +- 2 ms, evenly spread.
            iv.record(ms(8.0 + 4.0 * (i % 101) as f64 / 100.0));
        }
        let median = iv.median_ms().unwrap();
        assert!((median - 10.0).abs() < 0.05, "{median}");
        assert_eq!(iv.count(), 10_000);
        assert_eq!(iv.min(), Some(ms(8.0)));
        assert!((iv.max().as_secs_f64() * 1e3 - 12.0).abs() < 1e-9);
        assert!((iv.fraction_within_ms(9.0, 11.0) - 0.5).abs() < 0.03);
        let mean = iv.mean_below_ms(100.0).unwrap();
        let exact = (0..10_000).map(|i| 8.0 + 4.0 * (i % 101) as f64 / 100.0).sum::<f64>() / 10_000.0;
        assert!((mean - exact).abs() < 1e-6, "{mean} against {exact}");
    }

    #[test]
    fn long_silences_do_not_move_the_median_or_the_trimmed_mean() {
        let mut iv = Intervals::default();
        for _ in 0..99 {
            iv.record(ms(20.0));
        }
        iv.record(Duration::from_secs(30));
        assert!((iv.median_ms().unwrap() - 20.0).abs() < 0.1);
        assert!((iv.mean_below_ms(50.0).unwrap() - 20.0).abs() < 1e-9);
        assert_eq!(iv.max(), Duration::from_secs(30));
    }

    #[test]
    fn memory_is_bounded_by_the_bin_count() {
        let mut iv = Intervals::default();
        for i in 0..200_000u64 {
            iv.record(Duration::from_nanos(i.wrapping_mul(2_654_435_761) % 10_000_000_000_000));
        }
        assert!(iv.bins.len() <= MAX_BIN as usize + 1);
        iv.record(Duration::MAX);
        assert!(iv.bins.contains_key(&MAX_BIN));
    }

    #[test]
    fn empty_and_zero_intervals() {
        let mut iv = Intervals::default();
        assert_eq!(iv.median_ms(), None);
        assert_eq!(iv.fraction_within_ms(0.0, 1.0), 0.0);
        iv.record(Duration::ZERO);
        assert_eq!(iv.median_ms(), Some(0.0));
    }
}
