//! The sliding replay window kept per key: which packet numbers were accepted.
//!
//! The window remembers the highest accepted packet number and, in a ring of
//! 17 64-bit words (RFC 6479's layout), which of the [`REPLAY_WINDOW`]
//! numbers at and below it were accepted. A packet number is fresh when it
//! is above the highest, or within the window and not yet accepted; anything
//! [`REPLAY_WINDOW`] or more below the highest is too old, whether or not it
//! was seen.
//!
//! Invariants: [`ReplayWindow::check`] never changes the window (the receiver
//! checks before decrypting and records only after the tag is verified, so a
//! forged datagram cannot move it); [`ReplayWindow::record`] of a number that
//! `check` accepted makes the next `check` of it fail; after
//! [`ReplayWindow::after_restart`] every number at or below the persisted
//! high-water mark is refused. Constant size, no allocation, no panics.

use thiserror::Error;

/// How many packet numbers, ending at the highest accepted one, the window tracks.
pub const REPLAY_WINDOW: u64 = 1024;

const WORD_BITS: u64 = 64;
/// One word more than the window needs, so advancing clears whole words only.
const RING_WORDS: usize = (REPLAY_WINDOW / WORD_BITS) as usize + 1;

/// Why a packet number is not fresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum ReplayError {
    /// The number is inside the window and was already accepted.
    #[error("packet number {packet_number} was already accepted")]
    Replayed {
        /// The packet number.
        packet_number: u64,
    },
    /// The number is [`REPLAY_WINDOW`] or more below the highest accepted one.
    #[error("packet number {packet_number} is too far below the highest accepted ({highest})")]
    TooOld {
        /// The packet number.
        packet_number: u64,
        /// The highest accepted packet number.
        highest: u64,
    },
}

/// The replay state of one key. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayWindow {
    highest: Option<u64>,
    ring: [u64; RING_WORDS],
}

impl Default for ReplayWindow {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplayWindow {
    /// A window that has accepted nothing yet: every packet number is fresh.
    pub const fn new() -> Self {
        ReplayWindow { highest: None, ring: [0; RING_WORDS] }
    }

    /// A window for a key whose highest accepted packet number before a
    /// restart was `highest` (persisted by the daemon): every number at or
    /// below it is refused, as replayed (inside the window) or too old.
    pub fn after_restart(highest: u64) -> Self {
        let mut ring = [u64::MAX; RING_WORDS];
        let bit = highest % WORD_BITS;
        if let Some(word) = ring.get_mut(word_index(highest)) {
            // Keep the bits up to `highest`; the numbers above it are fresh.
            *word = if bit == WORD_BITS - 1 { u64::MAX } else { (1u64 << (bit + 1)) - 1 };
        }
        ReplayWindow { highest: Some(highest), ring }
    }

    /// The highest accepted packet number, the value to persist.
    pub const fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// Whether `packet_number` is fresh; changes nothing.
    pub fn check(&self, packet_number: u64) -> Result<(), ReplayError> {
        let Some(highest) = self.highest else { return Ok(()) };
        if packet_number > highest {
            return Ok(());
        }
        if highest - packet_number >= REPLAY_WINDOW {
            return Err(ReplayError::TooOld { packet_number, highest });
        }
        if self.is_marked(packet_number) { Err(ReplayError::Replayed { packet_number }) } else { Ok(()) }
    }

    /// Marks `packet_number` as accepted, sliding the window when it is the
    /// new highest. Call it only after [`check`](Self::check) said fresh and the
    /// datagram authenticated; a number that is too old is ignored.
    pub fn record(&mut self, packet_number: u64) {
        match self.highest {
            None => {
                self.ring = [0; RING_WORDS];
                self.highest = Some(packet_number);
            }
            Some(highest) if packet_number > highest => {
                let current = highest / WORD_BITS;
                let steps = (packet_number / WORD_BITS - current).min(RING_WORDS as u64);
                for step in 1..=steps {
                    if let Some(word) = self.ring.get_mut(ring_slot(current + step)) {
                        *word = 0;
                    }
                }
                self.highest = Some(packet_number);
            }
            Some(highest) if highest - packet_number >= REPLAY_WINDOW => return,
            Some(_) => {}
        }
        if let Some(word) = self.ring.get_mut(word_index(packet_number)) {
            *word |= bit_mask(packet_number);
        }
    }

    fn is_marked(&self, packet_number: u64) -> bool {
        self.ring.get(word_index(packet_number)).is_some_and(|word| word & bit_mask(packet_number) != 0)
    }
}

/// The ring word that holds `packet_number`'s bit.
const fn word_index(packet_number: u64) -> usize {
    ring_slot(packet_number / WORD_BITS)
}

/// Where word number `word` (packet numbers `64 * word ..= 64 * word + 63`) lives in the ring.
const fn ring_slot(word: u64) -> usize {
    (word % RING_WORDS as u64) as usize
}

const fn bit_mask(packet_number: u64) -> u64 {
    1 << (packet_number % WORD_BITS)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn accept(window: &mut ReplayWindow, packet_number: u64) -> Result<(), ReplayError> {
        window.check(packet_number)?;
        window.record(packet_number);
        Ok(())
    }

    #[test]
    fn each_number_once_and_nothing_below_the_window() {
        let mut window = ReplayWindow::new();
        assert_eq!(accept(&mut window, 5000), Ok(()));
        assert_eq!(accept(&mut window, 5000), Err(ReplayError::Replayed { packet_number: 5000 }));
        assert_eq!(accept(&mut window, 4999), Ok(()));
        assert_eq!(accept(&mut window, 5000 - 1023), Ok(()));
        assert_eq!(accept(&mut window, 5000 - 1024), Err(ReplayError::TooOld { packet_number: 3976, highest: 5000 }));
        assert_eq!(accept(&mut window, 7000), Ok(()));
        assert_eq!(accept(&mut window, 5000), Err(ReplayError::TooOld { packet_number: 5000, highest: 7000 }));
        assert_eq!(window.highest(), Some(7000));
    }

    #[test]
    fn check_does_not_record() {
        let mut window = ReplayWindow::new();
        window.record(10);
        assert!(window.check(11).is_ok());
        assert!(window.check(11).is_ok());
        assert_eq!(window.highest(), Some(10));
    }

    #[test]
    fn restart_refuses_everything_up_to_the_mark() {
        for highest in [0, 1, 63, 64, 65, 1023, 1024, 99_999, u64::MAX - 1, u64::MAX] {
            let mut window = ReplayWindow::after_restart(highest);
            assert_eq!(window.check(highest), Err(ReplayError::Replayed { packet_number: highest }));
            if highest >= 1024 {
                assert!(matches!(window.check(highest - 1024), Err(ReplayError::TooOld { .. })));
                assert!(matches!(window.check(highest - 1023), Err(ReplayError::Replayed { .. })));
            }
            if highest < u64::MAX {
                assert_eq!(accept(&mut window, highest + 1), Ok(()));
            }
        }
        let mut window = ReplayWindow::after_restart(100);
        assert_eq!(accept(&mut window, 120), Ok(()));
        assert_eq!(accept(&mut window, 101), Ok(()));
        assert!(window.check(100).is_err());
    }

    #[test]
    fn extremes_do_not_overflow() {
        let mut window = ReplayWindow::new();
        assert_eq!(accept(&mut window, 0), Ok(()));
        assert_eq!(accept(&mut window, u64::MAX), Ok(()));
        assert!(matches!(window.check(0), Err(ReplayError::TooOld { .. })));
        assert_eq!(accept(&mut window, u64::MAX - 1023), Ok(()));
        assert!(window.check(u64::MAX).is_err());
    }

    /// The obvious model: a set of everything accepted and the highest.
    fn model_accepts(seen: &BTreeSet<u64>, packet_number: u64) -> bool {
        match seen.last() {
            None => true,
            Some(&highest) => {
                packet_number > highest || (highest - packet_number < REPLAY_WINDOW && !seen.contains(&packet_number))
            }
        }
    }

    proptest! {
        #[test]
        fn window_matches_the_model(
            start in 0u64..(u64::MAX / 2),
            steps in proptest::collection::vec((-1500i64..3000, any::<bool>()), 1..400),
        ) {
            let mut window = ReplayWindow::new();
            let mut seen = BTreeSet::new();
            let mut cursor = start;
            for (delta, big_jump) in steps {
                let delta = if big_jump { delta * 7 } else { delta };
                cursor = cursor.saturating_add_signed(delta);
                let expected = model_accepts(&seen, cursor);
                prop_assert_eq!(window.check(cursor).is_ok(), expected, "packet number {}", cursor);
                if expected {
                    window.record(cursor);
                    seen.insert(cursor);
                }
            }
        }
    }
}
