//! Token buckets on engine time: `rate` tokens per second, at most `burst`.
//!
//! Invariants: `0 <= tokens <= burst`; time going backwards (a log whose
//! timestamps are not monotonic) refills nothing and never panics; a fresh
//! bucket is full.

use crate::time::Timestamp;

/// Rate and burst of a token bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateSpec {
    /// Tokens added per second.
    pub per_second: f64,
    /// Capacity.
    pub burst: f64,
}

/// A token bucket's state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    tokens: f64,
    last: Option<Timestamp>,
}

impl Bucket {
    /// A full bucket for `spec`.
    pub fn full(spec: RateSpec) -> Self {
        Bucket { tokens: spec.burst, last: None }
    }

    fn refill(&mut self, spec: RateSpec, now: Timestamp) {
        if let Some(last) = self.last
            && now > last
        {
            let elapsed = now.saturating_since(last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * spec.per_second).min(spec.burst);
        }
        if self.last.is_none_or(|last| now > last) {
            self.last = Some(now);
        }
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, spec: RateSpec, now: Timestamp) -> bool {
        self.refill(spec, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// The tokens left after refilling to `now` (for reports and tests).
    pub fn available(&mut self, spec: RateSpec, now: Timestamp) -> f64 {
        self.refill(spec, now);
        self.tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: RateSpec = RateSpec { per_second: 10.0, burst: 3.0 };

    #[test]
    fn burst_then_rate() {
        let mut b = Bucket::full(SPEC);
        let t0 = Timestamp::from_millis(1000);
        assert!((0..3).all(|_| b.try_take(SPEC, t0)));
        assert!(!b.try_take(SPEC, t0));
        assert!(!b.try_take(SPEC, Timestamp::from_millis(1050)));
        assert!(b.try_take(SPEC, Timestamp::from_millis(1100)));
        assert!(!b.try_take(SPEC, Timestamp::from_millis(1100)));
        // A long pause refills to the burst, not beyond.
        assert_eq!(b.available(SPEC, Timestamp::from_millis(60_000)), 3.0);
    }

    #[test]
    fn time_going_backwards_refills_nothing() {
        let mut b = Bucket::full(SPEC);
        let t = Timestamp::from_millis(5000);
        assert!((0..3).all(|_| b.try_take(SPEC, t)));
        assert!(!b.try_take(SPEC, Timestamp::from_millis(1000)));
        assert!(!b.try_take(SPEC, Timestamp::from_millis(5050)));
        assert!(b.try_take(SPEC, Timestamp::from_millis(5100)));
    }
}
