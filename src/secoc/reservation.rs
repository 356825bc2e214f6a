//! Write-ahead high-water marks: a counter may use a value only once a mark at
//! least that high is in durable storage.
//!
//! Each counter keeps the mark known to be durable and, when it runs low, asks
//! for a higher one (`value + block`). The manager collects these requests into
//! one snapshot for the shell to write; when the shell confirms the write, the
//! durable mark rises. A value above the durable mark is refused (senders stop,
//! receivers drop the frame), so whatever happens to the process, every value
//! ever used is at or below the mark found in storage on the next start:
//! receivers treat everything up to it as seen, senders continue above it.
//!
//! Requests are made when fewer than half a block is left, so with a shell
//! that writes promptly no frame waits for storage in steady state.

/// The durable and the requested mark of one counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reservation {
    /// The highest mark known to be in durable storage.
    durable: u64,
    /// A higher mark asked for and not yet confirmed.
    pending: Option<u64>,
}

impl Reservation {
    /// A counter whose storage holds `mark`.
    pub(crate) const fn new(mark: u64) -> Reservation {
        Reservation { durable: mark, pending: None }
    }

    /// True when `value` may be used now.
    pub(crate) const fn covers(&self, value: u64) -> bool {
        value <= self.durable
    }

    /// The durable mark.
    #[cfg(test)]
    pub(crate) const fn durable(&self) -> u64 {
        self.durable
    }

    /// True while a request waits to be persisted.
    pub(crate) const fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Asks for a durable mark of at least `mark` (no-op when already covered).
    pub(crate) fn request(&mut self, mark: u64) {
        if mark > self.durable {
            self.pending = Some(self.pending.map_or(mark, |pending| pending.max(mark)));
        }
    }

    /// After `value` was used: when fewer than `block / 2` values remain,
    /// asks for `value + block` (capped at `max`).
    pub(crate) fn after_use(&mut self, value: u64, block: u64, max: u64) {
        let remaining = self.durable.saturating_sub(value);
        if remaining < block / 2 {
            self.request(value.saturating_add(block).min(max));
        }
    }

    /// The mark to write now: the pending one, else the durable one.
    pub(crate) fn mark_to_persist(&self) -> u64 {
        self.pending.map_or(self.durable, |pending| pending.max(self.durable))
    }

    /// `mark` is now in durable storage.
    pub(crate) fn confirm(&mut self, mark: u64) {
        if mark > self.durable {
            self.durable = mark;
        }
        if self.pending.is_some_and(|pending| pending <= self.durable) {
            self.pending = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_for_a_block_when_half_is_used() {
        let mut r = Reservation::new(100);
        assert!(r.covers(100) && !r.covers(101));
        r.after_use(50, 100, u64::MAX);
        assert!(!r.is_pending(), "50 values left: half a block, no request yet");
        r.after_use(51, 100, u64::MAX);
        assert_eq!(r.mark_to_persist(), 151, "49 values left: ask for the next block");
    }

    #[test]
    fn request_confirm_cycle() {
        let mut r = Reservation::new(100);
        r.after_use(51, 100, u64::MAX);
        assert!(r.is_pending());
        assert_eq!(r.mark_to_persist(), 151);
        r.after_use(52, 100, u64::MAX);
        assert_eq!(r.mark_to_persist(), 152, "requests only grow");
        r.confirm(151);
        assert!(r.is_pending(), "152 is still wanted");
        assert!(r.covers(151) && !r.covers(152));
        r.confirm(152);
        assert!(!r.is_pending());
        assert_eq!(r.durable(), 152);
        r.confirm(10);
        assert_eq!(r.durable(), 152, "a lower confirmation never lowers the mark");
    }

    #[test]
    fn requests_are_capped_and_ignored_when_covered() {
        let mut r = Reservation::new(0);
        r.after_use(0, 1000, 255);
        assert_eq!(r.mark_to_persist(), 255);
        let mut covered = Reservation::new(500);
        covered.request(400);
        assert!(!covered.is_pending());
        assert_eq!(covered.mark_to_persist(), 500);
    }
}
