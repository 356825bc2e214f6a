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
//! How far ahead a counter reserves ([`Ahead`]):
//! - a single counter reserves `block` values past the one used, asking again
//!   when fewer than half a block is left, so with a shell that writes promptly
//!   no frame waits for storage in steady state. A sender's block is also
//!   capped below one wrap of its truncated counter (`2^bits - 1`): after an
//!   unclean restart it skips at most that many values, which receivers bridge
//!   by the plain AUTOSAR reconstruction;
//! - a profile 3 counter reserves its whole reset cycle when the
//!   synchronisation message starts it (one write per cycle, none in between);
//!   after an unclean restart the cycle is over for it and it resumes with the
//!   next synchronisation message, as an AUTOSAR slave that waits for its first one.

use super::bits::low_mask_u64;
use super::profile::{FreshnessScheme, SecOcProfile};
use super::trip_reset::{TripReset, TripResetLayout};

/// How far ahead of the value in use a counter reserves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ahead {
    /// No freshness value: nothing to reserve.
    Nothing,
    /// `block` values past the one used, up to `max`.
    Block {
        /// Values reserved ahead.
        block: u64,
        /// The largest value of the counter.
        max: u64,
    },
    /// To the end of the reset cycle of the value used.
    Period(TripResetLayout),
}

impl Ahead {
    /// The policy of a receiver (`block` as configured).
    pub(crate) fn receiver(profile: &SecOcProfile, block: u64) -> Ahead {
        Ahead::for_profile(profile, block)
    }

    /// The policy of a sender: `block` capped below one wrap of the truncated counter.
    pub(crate) fn sender(profile: &SecOcProfile, block: u64) -> Ahead {
        let layout = profile.layout();
        let bits = layout.freshness().bits();
        let block = if layout.carries_full_freshness() { block } else { block.min(low_mask_u64(bits)).max(1) };
        Ahead::for_profile(profile, block)
    }

    fn for_profile(profile: &SecOcProfile, block: u64) -> Ahead {
        match profile.scheme() {
            FreshnessScheme::None => Ahead::Nothing,
            FreshnessScheme::Counter => {
                Ahead::Block { block: block.max(1), max: low_mask_u64(profile.layout().freshness_value_bits()) }
            }
            FreshnessScheme::TripReset(counters) => Ahead::Period(*counters),
        }
    }

    /// The mark to ask for when starting from the stored `mark`.
    pub(crate) fn initial(&self, mark: u64) -> Option<u64> {
        match *self {
            Ahead::Block { block, max } => Some(mark.saturating_add(block).min(max)),
            Ahead::Nothing | Ahead::Period(_) => None,
        }
    }

    /// The mark that lets `value` be used.
    pub(crate) fn covering(&self, value: u64) -> u64 {
        match *self {
            Ahead::Nothing => value,
            Ahead::Block { block, max } => value.saturating_add(block).min(max),
            Ahead::Period(counters) => {
                let (period, _) = counters.decompose(value);
                counters.compose(period, counters.max_message())
            }
        }
    }

    /// The mark covering a whole new reset cycle (profile 3 only).
    pub(crate) fn period(&self, started: TripReset) -> Option<u64> {
        match *self {
            Ahead::Period(counters) if counters.fits(started) => {
                Some(counters.compose(started, counters.max_message()))
            }
            _ => None,
        }
    }

    /// After `value` was used: asks for more when a block runs low.
    pub(crate) fn after_use(&self, reservation: &mut Reservation, value: u64) {
        if let Ahead::Block { block, max } = *self {
            reservation.after_use(value, block, max);
        }
    }
}

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
    use crate::secoc::{Profile, SecuredLayout};

    #[test]
    fn policies_per_profile() {
        let one = SecOcProfile::profile1(1, 4).unwrap();
        assert_eq!(Ahead::receiver(&one, 4096), Ahead::Block { block: 4096, max: u64::MAX });
        assert_eq!(Ahead::sender(&one, 4096), Ahead::Block { block: 255, max: u64::MAX }, "below one 8-bit wrap");
        assert_eq!(Ahead::sender(&one, 100), Ahead::Block { block: 100, max: u64::MAX });
        let full =
            SecOcProfile::counter(SecuredLayout::new(crate::secoc::LayoutParams::packed(1, 4, 32, 32, 24)).unwrap())
                .unwrap();
        assert_eq!(Ahead::sender(&full, 4096), Ahead::Block { block: 4096, max: u64::from(u32::MAX) });
        let two = SecOcProfile::profile2(1, 4).unwrap();
        assert_eq!(Ahead::sender(&two, 4096), Ahead::Nothing);
        assert_eq!(Ahead::Nothing.initial(5), None);
        let three = SecOcProfile::profile3(1, 4, 2).unwrap();
        let ahead = Ahead::receiver(&three, 4096);
        let FreshnessScheme::TripReset(counters) = *three.scheme() else { unreachable!() };
        let period = TripReset { trip: 2, reset: 3 };
        let end = counters.compose(period, counters.max_message());
        assert_eq!(ahead.period(period), Some(end));
        assert_eq!(ahead.covering(counters.compose(period, 17)), end);
        assert_eq!(ahead.initial(end), None);
        let _ = SecuredLayout::for_profile(Profile::One, 1, 1).unwrap();
    }

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
