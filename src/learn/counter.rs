//! Alive counters: signals that advance by a constant step, modulo their
//! range, from one frame of an id to the next.
//!
//! Each candidate signal (unsigned, always present, 2 to 16 bits: the caller
//! chooses) gets a [`CounterDetector`] that counts the steps between
//! consecutive frames: steps 0 to [`MAX_COUNTED_STEP`] one by one, larger ones
//! together. The engine checks a counter only between frames less than
//! `resync_ms` apart, so steps are counted twice: over every pair of
//! consecutive frames, and over the pairs at most the default resync time
//! (1000 ms) apart. A signal is proposed as a counter when one step (almost
//! always 1) accounts for at least `min_share` of the pairs and *every* pair
//! the engine would check advanced by 1 to `max_step`: a repeated value or a
//! jump in the capture would be a drop, and the proposal must let its own
//! capture through. Names like `COUNTER` are recorded as a hint: they break
//! ties and are mentioned in comments, they never make a signal a counter.
//!
//! Invariant: memory per detector is fixed (two arrays of
//! `MAX_COUNTED_STEP + 1` counts), whatever the capture's length.

use std::time::Duration;

use crate::codec::SignalIndex;
use crate::time::Timestamp;

/// Steps up to this are counted one by one; larger ones only as "larger".
pub const MAX_COUNTED_STEP: u64 = 16;

/// The engine's default `resync_ms`.
pub const DEFAULT_RESYNC: Duration = Duration::from_millis(1000);

/// Thresholds of counter detection (defaults in `docs/learn.md`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CounterMargins {
    /// Least share of pairs that advance by the dominant step.
    pub min_share: f64,
    /// Fewest checked pairs of frames to decide anything.
    pub min_pairs: u64,
}

impl Default for CounterMargins {
    fn default() -> Self {
        CounterMargins { min_share: 0.995, min_pairs: 16 }
    }
}

/// Steps between consecutive values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Steps {
    counts: [u64; MAX_COUNTED_STEP as usize + 1],
    larger: u64,
    pairs: u64,
}

impl Steps {
    fn record(&mut self, step: u64) {
        self.pairs += 1;
        match self.counts.get_mut(step as usize) {
            Some(c) => *c += 1,
            None => self.larger += 1,
        }
    }

    fn repeated(&self) -> u64 {
        self.counts[0]
    }

    /// The most frequent non-zero step and its count (the smallest step on a tie).
    fn dominant(&self) -> Option<(u64, u64)> {
        (1..=MAX_COUNTED_STEP).map(|s| (s, self.counts[s as usize])).filter(|(_, c)| *c > 0).fold(
            None,
            |best: Option<(u64, u64)>, (s, c)| match best {
                Some((_, bc)) if bc >= c => best,
                _ => Some((s, c)),
            },
        )
    }

    /// The largest step seen (`None` if some step was larger than [`MAX_COUNTED_STEP`]).
    fn largest(&self) -> Option<u64> {
        if self.larger > 0 {
            return None;
        }
        (0..=MAX_COUNTED_STEP).rev().find(|&s| self.counts[s as usize] > 0)
    }
}

/// What the capture says about one candidate signal.
#[derive(Clone, Debug, PartialEq)]
pub struct CounterDetector {
    /// The signal.
    pub signal: SignalIndex,
    /// Its width.
    pub bits: u32,
    /// True when its name suggests a counter.
    pub hinted: bool,
    previous: Option<(u64, Timestamp)>,
    all: Steps,
    checked: Steps,
    longest_gap: Duration,
}

/// A counter to propose.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CounterRule {
    /// The signal.
    pub signal: SignalIndex,
    /// The usual step.
    pub step: u64,
    /// The share of pairs that advanced by `step`.
    pub share: f64,
    /// The pairs the decision rests on.
    pub pairs: u64,
    /// The largest advance to allow (the largest seen).
    pub max_step: u64,
    /// `resync_ms` when the default would leave the counter unchecked.
    pub resync_ms: Option<f64>,
}

/// True when `name` suggests an alive counter.
pub fn name_suggests_counter(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["COUNTER", "CNT", "CTR", "ALIVE", "ROLLING", "SEQ"].iter().any(|h| upper.contains(h))
}

impl CounterDetector {
    /// A detector for `signal` of `bits` bits called `name`.
    pub fn new(signal: SignalIndex, bits: u32, name: &str) -> Self {
        CounterDetector {
            signal,
            bits,
            hinted: name_suggests_counter(name),
            previous: None,
            all: Steps::default(),
            checked: Steps::default(),
            longest_gap: Duration::ZERO,
        }
    }

    /// The signal's raw value in a frame at `now` (the engine's time).
    pub fn observe(&mut self, value: u64, now: Timestamp) {
        if let Some((previous, at)) = self.previous {
            let modulus = 1u64 << self.bits.min(63);
            let step = value.wrapping_sub(previous) % modulus;
            let gap = now.saturating_since(at);
            self.longest_gap = self.longest_gap.max(gap);
            self.all.record(step);
            if gap <= DEFAULT_RESYNC {
                self.checked.record(step);
            }
        }
        self.previous = Some((value, now));
    }

    /// The counter rule, or why the signal is not one.
    pub fn decide(&self, m: &CounterMargins) -> Result<CounterRule, String> {
        if self.bits < 2 {
            return Err("is a single bit".to_owned());
        }
        let limit = (1u64 << (self.bits.min(63) - 1)).min((1u64 << self.bits.min(63)) - 2).max(1);
        let judge = |steps: &Steps, resync_ms: Option<f64>| -> Result<CounterRule, String> {
            if steps.pairs < m.min_pairs {
                return Err(format!("only {} pairs of consecutive frames", steps.pairs));
            }
            let Some((step, count)) = steps.dominant() else {
                return Err("never changes".to_owned());
            };
            let share = count as f64 / steps.pairs as f64;
            if share < m.min_share {
                return Err(format!("advances by {step} in only {:.1}% of the frames", share * 100.0));
            }
            if steps.repeated() > 0 {
                return Err(format!("repeats its value {} times", steps.repeated()));
            }
            match steps.largest() {
                Some(max_step) if max_step <= limit => {
                    Ok(CounterRule { signal: self.signal, step, share, pairs: steps.pairs, max_step, resync_ms })
                }
                _ => Err(format!("jumps by more than {limit} at least once")),
            }
        };
        // Prefer the engine's default resync when it leaves enough pairs checked.
        let default = judge(&self.checked, None);
        if default.is_ok() || self.checked.pairs >= m.min_pairs {
            return default;
        }
        // Slow messages: every gap is beyond the default resync, so check across them.
        let longest_ms = self.longest_gap.as_secs_f64() * 1e3;
        judge(&self.all, Some(((longest_ms * 1.5) / 10.0).ceil() * 10.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bits: u32, values: impl IntoIterator<Item = u64>, every_ms: u64) -> CounterDetector {
        let mut d = CounterDetector::new(SignalIndex::new(0), bits, "X");
        for (i, v) in values.into_iter().enumerate() {
            d.observe(v, Timestamp::from_millis(i as u64 * every_ms));
        }
        d
    }

    #[test]
    fn a_wrapping_counter_with_one_lost_frame() {
        let values = (0..1000u64).filter(|&i| i != 500).map(|i| i % 16);
        let rule = run(4, values, 10).decide(&CounterMargins::default()).unwrap();
        assert_eq!((rule.step, rule.max_step, rule.resync_ms), (1, 2, None));
        assert!(rule.share > 0.998);
    }

    #[test]
    fn a_repeat_or_a_big_jump_is_refused() {
        let mut values: Vec<u64> = (0..1000u64).map(|i| i % 16).collect();
        values[300] = values[299];
        let err = run(4, values, 10).decide(&CounterMargins::default()).unwrap_err();
        assert!(err.contains("repeats"), "{err}");
        let values = (0..1000u64).map(|i| if i == 400 { 9 } else { i % 4 });
        assert!(run(2, values, 10).decide(&CounterMargins::default()).is_err());
    }

    #[test]
    fn noise_and_constants_are_not_counters() {
        let noise = (0..1000u64).map(|i| i.wrapping_mul(2_654_435_761) >> 7 & 0xF);
        assert!(run(4, noise, 10).decide(&CounterMargins::default()).is_err());
        assert!(run(4, [3u64; 100], 10).decide(&CounterMargins::default()).unwrap_err().contains("never"));
        assert!(run(4, 0..10u64, 10).decide(&CounterMargins::default()).unwrap_err().contains("only 9"));
    }

    #[test]
    fn slow_messages_get_a_longer_resync() {
        // One frame every 2 s: the default resync would check nothing.
        let rule = run(8, (0..40u64).map(|i| i % 256), 2000).decide(&CounterMargins::default()).unwrap();
        assert_eq!(rule.resync_ms, Some(3000.0));
    }

    #[test]
    fn a_restart_after_a_long_silence_is_exempt() {
        // The ECU sleeps 5 s and restarts its counter at 0: the engine resyncs.
        let mut d = CounterDetector::new(SignalIndex::new(0), 4, "MSG_COUNTER");
        assert!(d.hinted);
        for i in 0..100u64 {
            d.observe(i % 16, Timestamp::from_millis(i * 10));
        }
        for i in 0..100u64 {
            d.observe(i % 16, Timestamp::from_millis(6000 + i * 10));
        }
        assert_eq!(d.decide(&CounterMargins::default()).unwrap().resync_ms, None);
    }
}
