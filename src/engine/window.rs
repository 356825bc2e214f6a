//! Exact sliding-window counting with bounded memory: "at least `n` events
//! within `window`".
//!
//! The window keeps the times of the last `n` events in a ring allocated once;
//! the condition holds when the oldest of them is within `window` of the
//! newest. Memory is `n` timestamps whatever the event rate; recording is O(1)
//! and never allocates. The rule compiler bounds `n`.

use std::time::Duration;

use crate::time::Timestamp;

/// Times of the most recent events, up to the threshold.
#[derive(Clone, Debug)]
pub struct SlidingWindow {
    times: Box<[Timestamp]>,
    next: usize,
    filled: usize,
    window: Duration,
}

impl SlidingWindow {
    /// A window that fires at `threshold` events within `window` (a threshold
    /// of 0 is treated as 1).
    pub fn new(threshold: u32, window: Duration) -> Self {
        let n = threshold.max(1) as usize;
        SlidingWindow { times: vec![Timestamp::ZERO; n].into_boxed_slice(), next: 0, filled: 0, window }
    }

    /// Records an event at `now`; true when `threshold` events fall within the window.
    pub fn record(&mut self, now: Timestamp) -> bool {
        let n = self.times.len();
        self.times[self.next] = now;
        self.next = (self.next + 1) % n;
        self.filled = (self.filled + 1).min(n);
        if self.filled < n {
            return false;
        }
        // `next` now points at the oldest of the last n events.
        now.saturating_since(self.times[self.next]) <= self.window
    }

    /// Forgets every event.
    pub fn clear(&mut self) {
        self.filled = 0;
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_only_when_dense_enough() {
        let mut w = SlidingWindow::new(3, Duration::from_millis(100));
        assert!(!w.record(Timestamp::from_millis(0)));
        assert!(!w.record(Timestamp::from_millis(60)));
        assert!(!w.record(Timestamp::from_millis(120)), "3 events over 120 ms");
        assert!(w.record(Timestamp::from_millis(150)), "60, 120, 150 within 100 ms");
        assert!(!w.record(Timestamp::from_millis(400)));
        w.clear();
        assert!(!w.record(Timestamp::from_millis(401)));
        assert!(!w.record(Timestamp::from_millis(402)));
        assert!(w.record(Timestamp::from_millis(403)));
    }

    #[test]
    fn threshold_one_fires_every_time() {
        let mut w = SlidingWindow::new(0, Duration::ZERO);
        assert!(w.record(Timestamp::from_millis(7)));
    }
}
