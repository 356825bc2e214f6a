//! Single-counter freshness values: rebuilding the full value from the bits a
//! frame carries, and classifying an authentic value against the latest one.
//!
//! The AUTOSAR rule (SWS SecureOnboardCommunication, freshness value based on
//! a single counter): when the received truncated value is greater than the
//! low bits of the latest accepted value, the full value keeps the latest's
//! upper part; otherwise the upper part grows by one. So the first candidate is
//! always strictly greater than the latest value, at most one wrap ahead.

use super::bits::low_mask_u64;
use super::outcome::FreshnessFailure;

/// The most wraps of the truncated counter a receiver looks back to tell an
/// authentic old frame ([`FreshnessFailure::TooOld`]) from a forgery. Bounds
/// the AES-CMACs spent per rejected frame (see [`SecOcManager::verify`](super::SecOcManager::verify)).
pub const STALE_PROBES: u64 = 16;

/// The first candidate full freshness value for a frame carrying the low
/// `truncated_bits` bits `truncated`, given the latest accepted value; `None`
/// when it would not fit in 64 bits.
pub fn reconstruct(latest: u64, truncated: u64, truncated_bits: u32) -> Option<u64> {
    if truncated_bits >= 64 {
        return Some(truncated);
    }
    let mask = low_mask_u64(truncated_bits);
    let truncated = truncated & mask;
    let upper = latest & !mask;
    if truncated > latest & mask { Some(upper | truncated) } else { upper.checked_add(mask + 1).map(|u| u | truncated) }
}

/// How an authentic freshness value `value` compares with the latest accepted
/// one: fine, or why not. `increment` is what the acceptance window limits
/// (`value - latest` for a single counter; the message counter's growth for profile 3).
pub(crate) fn classify(value: u64, latest: u64, increment: u64, max_increment: u64) -> Result<(), FreshnessFailure> {
    if value == latest {
        Err(FreshnessFailure::Replay)
    } else if value < latest {
        Err(FreshnessFailure::TooOld)
    } else if increment > max_increment {
        Err(FreshnessFailure::OutOfWindow)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_upper_part_when_the_low_bits_grow() {
        assert_eq!(reconstruct(0x1_05, 0x06, 8), Some(0x1_06));
        assert_eq!(reconstruct(0x1_05, 0xFF, 8), Some(0x1_FF));
    }

    #[test]
    fn upper_part_plus_one_when_the_low_bits_wrap_or_repeat() {
        assert_eq!(reconstruct(0x1_FF, 0x00, 8), Some(0x2_00));
        assert_eq!(reconstruct(0x1_05, 0x05, 8), Some(0x2_05));
        assert_eq!(reconstruct(0x1_05, 0x04, 8), Some(0x2_04));
        assert_eq!(reconstruct(0, 0, 8), Some(0x1_00));
        assert_eq!(reconstruct(0, 1, 8), Some(1));
    }

    #[test]
    fn the_candidate_is_always_ahead_by_at_most_one_wrap() {
        for latest in [0u64, 1, 0xFE, 0xFF, 0x100, 0x1234_5678] {
            for truncated in 0..=0xFF {
                let value = reconstruct(latest, truncated, 8).unwrap();
                assert!(value > latest && value - latest <= 0x100, "{latest:#x} {truncated:#x}");
                assert_eq!(value & 0xFF, truncated);
            }
        }
    }

    #[test]
    fn full_and_empty_truncation() {
        assert_eq!(reconstruct(5, 3, 64), Some(3));
        assert_eq!(reconstruct(5, 0, 0), Some(6), "no bits in the frame: the next value");
        assert_eq!(reconstruct(u64::MAX, 0, 8), None);
        assert_eq!(reconstruct(u64::MAX - 1, 0xFF, 8), Some(u64::MAX));
    }

    #[test]
    fn classification() {
        assert_eq!(classify(10, 10, 0, 5), Err(FreshnessFailure::Replay));
        assert_eq!(classify(9, 10, 0, 5), Err(FreshnessFailure::TooOld));
        assert_eq!(classify(16, 10, 6, 5), Err(FreshnessFailure::OutOfWindow));
        assert_eq!(classify(15, 10, 5, 5), Ok(()));
    }
}
