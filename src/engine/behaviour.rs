//! The behaviour layer's per-id state: when the id was last seen, whether it
//! arrives too fast (injection) or not at all (missing in action), and the
//! alive counter's last value.
//!
//! Too fast: a token bucket per watched id refills at the fastest rate the
//! cycle time allows (`1 / (period * (1 - tolerance))`) and holds `burst`
//! tokens. Genuine traffic never empties it; frames injected on top of the
//! genuine ones do. When it runs dry the id becomes *suspect* for a hold time
//! (ten periods, at least [`MIN_SUSPECT_HOLD`](super::MIN_SUSPECT_HOLD)),
//! renewed while the bucket stays dry: every frame of a suspect id is dropped
//! (`too-fast`), genuine or not, because the two cannot be told apart, and
//! none of them updates the vehicle state.

use std::time::Duration;

use super::bucket::{Bucket, RateSpec};
use crate::rules::{CycleWatch, Slot};
use crate::time::Timestamp;

/// State of one slot.
#[derive(Clone, Debug)]
pub struct SlotState {
    /// When a frame of the id was last seen.
    pub last_seen: Option<Timestamp>,
    /// The alive counter's last accepted value and when.
    pub counter: Option<(u64, Timestamp)>,
    /// True while reported missing.
    pub missing: bool,
    cycle_bucket: Option<Bucket>,
    suspect_until: Option<Timestamp>,
}

impl SlotState {
    /// Fresh state for `slot`.
    pub fn new(slot: &Slot) -> Self {
        SlotState {
            last_seen: None,
            counter: None,
            missing: false,
            cycle_bucket: slot.cycle.map(|c| Bucket::full(cycle_rate(&c))),
            suspect_until: None,
        }
    }

    /// Records a frame at `now`; true when the id has just become suspect.
    pub fn observe(&mut self, now: Timestamp, cycle: Option<&CycleWatch>, min_hold: Duration) -> bool {
        self.last_seen = Some(now);
        self.missing = false;
        let (Some(cycle), Some(bucket)) = (cycle, self.cycle_bucket.as_mut()) else { return false };
        if bucket.try_take(cycle_rate(cycle), now) {
            return false;
        }
        let was_suspect = self.is_suspect(now);
        let hold = (cycle.period * 10).max(min_hold);
        self.suspect_until = Some(now.saturating_add(hold));
        !was_suspect
    }

    /// True while the id is suspected of injection.
    pub fn is_suspect(&self, now: Timestamp) -> bool {
        self.suspect_until.is_some_and(|until| now < until)
    }

    /// Checks whether the id has gone missing; true when it just did.
    pub fn check_missing(&mut self, now: Timestamp, cycle: Option<&CycleWatch>) -> bool {
        let (Some(mia), Some(last)) = (cycle.and_then(|c| c.mia), self.last_seen) else { return false };
        if !self.missing && now.saturating_since(last) > mia {
            self.missing = true;
            return true;
        }
        false
    }
}

fn cycle_rate(c: &CycleWatch) -> RateSpec {
    let fastest = c.period.as_secs_f64() * (1.0 - c.tolerance);
    RateSpec { per_second: 1.0 / fastest.max(1e-6), burst: c.burst }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch() -> CycleWatch {
        CycleWatch {
            period: Duration::from_millis(10),
            tolerance: 0.5,
            mia: Some(Duration::from_millis(50)),
            burst: 3.0,
        }
    }

    fn state() -> SlotState {
        SlotState {
            last_seen: None,
            counter: None,
            missing: false,
            cycle_bucket: Some(Bucket::full(cycle_rate(&watch()))),
            suspect_until: None,
        }
    }

    #[test]
    fn genuine_jittery_traffic_is_never_suspect() {
        let mut s = state();
        let w = watch();
        // Frames every 10 ms with +-4 ms jitter, and bursts of two at the same instant.
        let mut t = 0u64;
        for i in 0..10_000u64 {
            t += if i % 2 == 0 { 6 } else { 14 };
            assert!(!s.observe(Timestamp::from_millis(t), Some(&w), Duration::from_millis(100)));
            assert!(!s.is_suspect(Timestamp::from_millis(t)));
        }
    }

    #[test]
    fn injection_at_ten_times_the_rate_is_caught_quickly() {
        let mut s = state();
        let w = watch();
        let mut became_suspect_at = None;
        for i in 0..200u64 {
            let now = Timestamp::from_micros(i * 1_000);
            if s.observe(now, Some(&w), Duration::from_millis(100)) {
                became_suspect_at.get_or_insert(i);
            }
        }
        assert!(became_suspect_at.unwrap() < 10);
        assert!(s.is_suspect(Timestamp::from_millis(200)));
        assert!(!s.is_suspect(Timestamp::from_millis(400)), "the hold expires when the flood stops");
    }

    #[test]
    fn missing_once_then_back() {
        let mut s = state();
        let w = watch();
        assert!(!s.check_missing(Timestamp::from_millis(1000), Some(&w)), "never seen: not missing");
        s.observe(Timestamp::from_millis(1000), Some(&w), Duration::ZERO);
        assert!(!s.check_missing(Timestamp::from_millis(1040), Some(&w)));
        assert!(s.check_missing(Timestamp::from_millis(1051), Some(&w)));
        assert!(!s.check_missing(Timestamp::from_millis(1100), Some(&w)), "reported once");
        s.observe(Timestamp::from_millis(1200), Some(&w), Duration::ZERO);
        assert!(!s.missing);
    }
}
