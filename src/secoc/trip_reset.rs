//! Profile 3 (JASPAR) freshness values built from several counters, and the
//! trip/reset synchronisation message that keeps them in step.
//!
//! The full freshness value is, from its most significant bit down:
//!
//! ```text
//! trip counter | reset counter | message counter (upper | lower) | reset flag
//! ```
//!
//! The frame carries the low bits, `message counter (lower) | reset flag` (4
//! bits in profile 3: 2 + 2). The reset flag is the low bits of the reset
//! counter. A "FV management master" ECU broadcasts the trip and reset counters
//! in an authenticated synchronisation message (`TripResetSyncMsg`) whose
//! freshness value is `trip | reset`, sent whole; the trip counter grows per
//! trip (ignition cycle), the reset counter per reset cycle, and the message
//! counter restarts at every new reset counter.
//!
//! The order of the low fields is the one of Toyota's production SecOC frames
//! as reverse-engineered in opendbc (`toyota_secoc_pt.dbc`: `MSG_CNT_LOWER`
//! above `RESET_FLAG`, then the 28-bit `AUTHENTICATOR`; the synchronisation
//! message `TRIP_CNT` 16 bits, `RESET_CNT` 20 bits, `AUTHENTICATOR` 28 bits), and
//! of open FVM implementations; `tests/secoc_real_data.rs` checks our frames
//! against that DBC with cantools.
//!
//! A receiver rebuilds the full value from the last synchronised counters, the
//! reset flag (which tells whether the sender is one reset cycle ahead of or
//! behind the receiver) and the message counter of the previously accepted
//! frame, following the AUTOSAR construction table:
//! - same trip/reset counters as the previously accepted frame: the message
//!   counter's upper part stays if the received lower part is greater than the
//!   previous one, otherwise it grows by one;
//! - newer counters: the upper part starts again at 0;
//! - older counters, or a reset flag more than one cycle off: a counter mismatch.
//!
//! Defaults ([`TripResetLayout::jaspar`]): trip 16 bits, reset 20 bits, reset
//! flag 2 bits, message counter 26 bits (24 upper + 2 lower), 64 bits in all;
//! the synchronisation message then carries 36 bits of counters and a 28-bit MAC
//! in 8 bytes, exactly Toyota's. All lengths are configurable within AUTOSAR's
//! limits (trip <= 24, reset <= 24, message <= 48, flag <= 2 bits).
//!
//! Deviations from AUTOSAR, chosen for a firewall: counters never wrap (a counter
//! at its maximum is exhausted instead of being held or reset), and a
//! synchronisation message must be strictly newer than the last one.

use super::bits::low_mask_u64;
use super::layout::{LayoutError, LayoutParams, SecuredLayout};

/// The trip and reset counters of one synchronisation message.
///
/// Ordered as the freshness value is: by trip counter, then reset counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TripReset {
    /// The trip counter.
    pub trip: u64,
    /// The reset counter.
    pub reset: u64,
}

/// How the counters of profile 3 share the full freshness value. Built only by
/// [`TripResetLayout::new`], which checks that they fill it exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TripResetLayout {
    sync_data_id: u16,
    trip_bits: u8,
    reset_bits: u8,
    reset_flag_bits: u8,
    message_bits: u8,
    message_lower_bits: u8,
}

/// Trip counter bits of [`TripResetLayout::jaspar`].
pub const JASPAR_TRIP_BITS: u32 = 16;
/// Reset counter bits of [`TripResetLayout::jaspar`].
pub const JASPAR_RESET_BITS: u32 = 20;
/// Reset flag bits of [`TripResetLayout::jaspar`].
pub const JASPAR_RESET_FLAG_BITS: u32 = 2;

impl TripResetLayout {
    /// Splits the full freshness value of `layout` into a `trip_bits` trip
    /// counter, a `reset_bits` reset counter, a `reset_flag_bits` reset flag and
    /// a message counter with the remaining bits; the frame's truncated freshness
    /// value must hold the reset flag and at least one bit of message counter.
    /// `sync_data_id` is the DataId of the synchronisation message that drives these counters.
    pub fn new(
        sync_data_id: u16,
        trip_bits: u32,
        reset_bits: u32,
        reset_flag_bits: u32,
        layout: &SecuredLayout,
    ) -> Result<TripResetLayout, LayoutError> {
        let full = layout.freshness_value_bits();
        let truncated = layout.freshness().bits();
        if trip_bits == 0 || reset_bits == 0 {
            return Err(LayoutError::CounterEmpty { trip: trip_bits, reset: reset_bits });
        }
        let used = trip_bits.saturating_add(reset_bits).saturating_add(reset_flag_bits);
        if used >= full {
            return Err(LayoutError::CountersTooLong {
                trip: trip_bits,
                reset: reset_bits,
                reset_flag: reset_flag_bits,
                full,
            });
        }
        if reset_flag_bits > reset_bits || reset_flag_bits >= truncated {
            return Err(LayoutError::ResetFlagDoesNotFit { reset_flag: reset_flag_bits, reset: reset_bits, truncated });
        }
        if truncated - reset_flag_bits > full - used {
            return Err(LayoutError::MessageCounterTooShort {
                message: full - used,
                lower: truncated - reset_flag_bits,
            });
        }
        // All below 64 by the checks above.
        let narrow = |v: u32| u8::try_from(v).unwrap_or(u8::MAX);
        Ok(TripResetLayout {
            sync_data_id,
            trip_bits: narrow(trip_bits),
            reset_bits: narrow(reset_bits),
            reset_flag_bits: narrow(reset_flag_bits),
            message_bits: narrow(full - used),
            message_lower_bits: narrow(truncated - reset_flag_bits),
        })
    }

    /// The defaults of this project for profile 3 (see the module docs).
    pub fn jaspar(sync_data_id: u16, layout: &SecuredLayout) -> Result<TripResetLayout, LayoutError> {
        TripResetLayout::new(sync_data_id, JASPAR_TRIP_BITS, JASPAR_RESET_BITS, JASPAR_RESET_FLAG_BITS, layout)
    }

    /// The DataId of the synchronisation message driving these counters.
    pub const fn sync_data_id(&self) -> u16 {
        self.sync_data_id
    }

    /// Trip counter bits.
    pub const fn trip_bits(&self) -> u32 {
        self.trip_bits as u32
    }

    /// Reset counter bits.
    pub const fn reset_bits(&self) -> u32 {
        self.reset_bits as u32
    }

    /// Reset flag bits.
    pub const fn reset_flag_bits(&self) -> u32 {
        self.reset_flag_bits as u32
    }

    /// Message counter bits (upper and lower part together).
    pub const fn message_bits(&self) -> u32 {
        self.message_bits as u32
    }

    /// Message counter bits carried in the frame.
    pub const fn message_lower_bits(&self) -> u32 {
        self.message_lower_bits as u32
    }

    /// The largest message counter.
    pub const fn max_message(&self) -> u64 {
        low_mask_u64(self.message_bits as u32)
    }

    /// True when both counters fit their lengths.
    pub const fn fits(&self, counters: TripReset) -> bool {
        counters.trip <= low_mask_u64(self.trip_bits as u32) && counters.reset <= low_mask_u64(self.reset_bits as u32)
    }

    /// The full freshness value of message `message` under `counters` (bits
    /// beyond each counter's length are dropped; callers check with [`fits`](Self::fits)).
    pub const fn compose(&self, counters: TripReset, message: u64) -> u64 {
        let flag = self.reset_flag_bits as u32;
        let below_reset = self.message_bits as u32 + flag;
        let below_trip = below_reset + self.reset_bits as u32;
        let trip = (counters.trip & low_mask_u64(self.trip_bits as u32)) << below_trip;
        let reset = (counters.reset & low_mask_u64(self.reset_bits as u32)) << below_reset;
        let message = (message & low_mask_u64(self.message_bits as u32)) << flag;
        trip | reset | message | (counters.reset & low_mask_u64(flag))
    }

    /// The counters and the message counter of a full freshness value (the reset flag is implied).
    pub const fn decompose(&self, freshness: u64) -> (TripReset, u64) {
        let flag = self.reset_flag_bits as u32;
        let below_reset = self.message_bits as u32 + flag;
        let below_trip = below_reset + self.reset_bits as u32;
        let trip = (freshness >> below_trip) & low_mask_u64(self.trip_bits as u32);
        let reset = (freshness >> below_reset) & low_mask_u64(self.reset_bits as u32);
        let message = (freshness >> flag) & low_mask_u64(self.message_bits as u32);
        (TripReset { trip, reset }, message)
    }

    /// The freshness value of the synchronisation message: `trip | reset`.
    pub const fn sync_value(&self, counters: TripReset) -> u64 {
        ((counters.trip & low_mask_u64(self.trip_bits as u32)) << self.reset_bits)
            | (counters.reset & low_mask_u64(self.reset_bits as u32))
    }

    /// The counters of a synchronisation message's freshness value.
    pub const fn sync_counters(&self, value: u64) -> TripReset {
        TripReset {
            trip: (value >> self.reset_bits) & low_mask_u64(self.trip_bits as u32),
            reset: value & low_mask_u64(self.reset_bits as u32),
        }
    }

    /// Bits of the synchronisation message's freshness value (trip + reset).
    pub const fn sync_value_bits(&self) -> u32 {
        self.trip_bits as u32 + self.reset_bits as u32
    }

    /// The layout of the synchronisation message: the whole `trip | reset`
    /// value from bit 0, then a `mac_bits` MAC, no authentic payload, in the
    /// smallest frame that holds them (8 bytes with the defaults and a 28-bit MAC).
    pub fn sync_layout(&self, mac_bits: u32) -> Result<SecuredLayout, LayoutError> {
        let bits = self.sync_value_bits();
        SecuredLayout::new(LayoutParams::packed(self.sync_data_id, 0, bits, bits, mac_bits))
    }

    /// The message counter to verify with, from the synchronised `counters`, the
    /// previously accepted freshness value and the frame's truncated freshness
    /// value (AUTOSAR's construction table, see the module docs). Returns the
    /// counters the frame was sent under, its message counter, and whether they
    /// are the counters of the previously accepted frame.
    pub(crate) fn reconstruct(
        &self,
        counters: TripReset,
        previous: u64,
        truncated: u64,
    ) -> Result<Reconstructed, ReconstructError> {
        let lower_bits = self.message_lower_bits as u32;
        let flag_bits = self.reset_flag_bits as u32;
        let received_flag = truncated & low_mask_u64(flag_bits);
        let received_lower = (truncated >> flag_bits) & low_mask_u64(lower_bits);
        let flag_mask = low_mask_u64(flag_bits);
        // The sender may be on the synchronised reset counter, one cycle ahead
        // (it saw the next synchronisation message first) or one behind.
        let mut sent_reset = None;
        for candidate in [Some(counters.reset), counters.reset.checked_add(1), counters.reset.checked_sub(1)] {
            if let Some(reset) = candidate
                && reset & flag_mask == received_flag
                && reset <= low_mask_u64(self.reset_bits as u32)
            {
                sent_reset = Some(reset);
                break;
            }
        }
        let Some(reset) = sent_reset else { return Err(ReconstructError::CounterMismatch) };
        let sent = TripReset { trip: counters.trip, reset };
        let (previous_counters, previous_message) = self.decompose(previous);
        if sent < previous_counters {
            return Err(ReconstructError::CounterMismatch);
        }
        if sent > previous_counters {
            return Ok(Reconstructed { counters: sent, message: received_lower, same_counters: false });
        }
        let lower_mask = low_mask_u64(lower_bits);
        let upper = previous_message & !lower_mask;
        let message = if received_lower > previous_message & lower_mask {
            upper | received_lower
        } else {
            match upper.checked_add(lower_mask + 1) {
                Some(next) => next | received_lower,
                None => return Err(ReconstructError::Exhausted),
            }
        };
        if message > self.max_message() {
            return Err(ReconstructError::Exhausted);
        }
        Ok(Reconstructed { counters: sent, message, same_counters: true })
    }
}

/// The first candidate of a profile 3 reconstruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reconstructed {
    /// The trip and reset counters the frame was sent under.
    pub counters: TripReset,
    /// Its message counter (first candidate).
    pub message: u64,
    /// True when `counters` are those of the previously accepted frame.
    pub same_counters: bool,
}

/// Why no profile 3 candidate exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReconstructError {
    /// The reset flag or the counters do not match the synchronised ones.
    CounterMismatch,
    /// The message counter would pass its maximum.
    Exhausted,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secoc::Profile;

    fn structure() -> TripResetLayout {
        let layout = SecuredLayout::for_profile(Profile::Three, 0x100, 4).unwrap();
        TripResetLayout::jaspar(0x10, &layout).unwrap()
    }

    #[test]
    fn jaspar_defaults_fill_64_bits() {
        let s = structure();
        assert_eq!((s.trip_bits(), s.reset_bits(), s.reset_flag_bits()), (16, 20, 2));
        assert_eq!((s.message_bits(), s.message_lower_bits()), (26, 2));
        let sync = s.sync_layout(28).unwrap();
        assert_eq!((sync.frame_len(), sync.freshness().bits(), sync.mac().position()), (8, 36, 36));
        assert!(sync.carries_full_freshness());
        assert_eq!(sync.data_id(), 0x10);
    }

    #[test]
    fn compose_places_every_counter() {
        let s = structure();
        let counters = TripReset { trip: 0xABCD, reset: 0x5_4321 };
        let message = (0x12_3456 << 2) | 0b10;
        let fv = s.compose(counters, message);
        assert_eq!(fv >> 48, 0xABCD);
        assert_eq!((fv >> 28) & 0xF_FFFF, 0x5_4321);
        assert_eq!((fv >> 4) & 0xFF_FFFF, 0x12_3456, "message counter, upper part");
        assert_eq!((fv >> 2) & 0b11, 0b10, "message counter, lower part");
        assert_eq!(fv & 0b11, 0b01, "reset flag = low 2 bits of the reset counter");
        assert_eq!(s.decompose(fv), (counters, message));
        assert_eq!(s.sync_counters(s.sync_value(counters)), counters);
        assert_eq!(s.sync_value(counters), (0xABCD << 20) | 0x5_4321);
        assert!(s.fits(counters));
        assert!(!s.fits(TripReset { trip: 0x1_0000, reset: 0 }));
    }

    #[test]
    fn freshness_grows_with_trip_then_reset_then_message() {
        let s = structure();
        let a = s.compose(TripReset { trip: 1, reset: 7 }, 1000);
        let b = s.compose(TripReset { trip: 1, reset: 7 }, 1001);
        let c = s.compose(TripReset { trip: 1, reset: 8 }, 0);
        let d = s.compose(TripReset { trip: 2, reset: 1 }, 0);
        assert!(a < b && b < c && c < d);
    }

    #[test]
    fn reconstruction_follows_the_construction_table() {
        let s = structure();
        let sync = TripReset { trip: 3, reset: 9 };
        let previous = s.compose(sync, (0b101 << 2) | 0b10);
        let truncated = |reset: u64, lower: u64| (lower << 2) | (reset & 0b11);
        // Format 1: same counters, lower part grows.
        let r = s.reconstruct(sync, previous, truncated(9, 0b11)).unwrap();
        assert_eq!((r.counters, r.message, r.same_counters), (sync, (0b101 << 2) | 0b11, true));
        // Format 2: lower part wrapped: upper part + 1.
        let r = s.reconstruct(sync, previous, truncated(9, 0b01)).unwrap();
        assert_eq!(r.message, (0b110 << 2) | 0b01);
        let r = s.reconstruct(sync, previous, truncated(9, 0b10)).unwrap();
        assert_eq!(r.message, (0b110 << 2) | 0b10, "the same lower part is a full wrap ahead");
        // Format 3: the sender is one reset cycle ahead: message counter restarts.
        let r = s.reconstruct(sync, previous, truncated(10, 0b01)).unwrap();
        assert_eq!((r.counters, r.message, r.same_counters), (TripReset { trip: 3, reset: 10 }, 0b01, false));
        // One cycle behind the previously accepted frame: mismatch.
        assert_eq!(s.reconstruct(sync, previous, truncated(8, 0b01)), Err(ReconstructError::CounterMismatch));
        // Two cycles off: the flag matches none of reset-1, reset, reset+1.
        assert_eq!(s.reconstruct(sync, previous, truncated(11, 0b01)), Err(ReconstructError::CounterMismatch));
        // A newer synchronisation than the previous frame: counters newer, message from 0.
        let newer = TripReset { trip: 4, reset: 1 };
        let r = s.reconstruct(newer, previous, truncated(1, 0b11)).unwrap();
        assert_eq!((r.counters, r.message, r.same_counters), (newer, 0b11, false));
    }

    #[test]
    fn message_counter_exhaustion_is_reported() {
        let s = structure();
        let sync = TripReset { trip: 1, reset: 1 };
        let previous = s.compose(sync, s.max_message());
        assert_eq!(s.reconstruct(sync, previous, 0b00_01), Err(ReconstructError::Exhausted));
    }

    #[test]
    fn structures_that_do_not_fit_are_errors() {
        let layout = SecuredLayout::for_profile(Profile::Three, 0x100, 4).unwrap();
        assert_eq!(TripResetLayout::new(1, 0, 20, 2, &layout), Err(LayoutError::CounterEmpty { trip: 0, reset: 20 }));
        assert_eq!(
            TripResetLayout::new(1, 30, 30, 4, &layout),
            Err(LayoutError::CountersTooLong { trip: 30, reset: 30, reset_flag: 4, full: 64 })
        );
        assert_eq!(
            TripResetLayout::new(1, 16, 20, 4, &layout),
            Err(LayoutError::ResetFlagDoesNotFit { reset_flag: 4, reset: 20, truncated: 4 })
        );
        assert_eq!(
            TripResetLayout::new(1, 16, 1, 2, &layout),
            Err(LayoutError::ResetFlagDoesNotFit { reset_flag: 2, reset: 1, truncated: 4 })
        );
        // The frame cannot carry more message counter bits than the counter has.
        let wide = SecuredLayout::new(LayoutParams::packed(0x100, 0, 30, 64, 28)).unwrap();
        assert_eq!(
            TripResetLayout::new(1, 16, 20, 2, &wide),
            Err(LayoutError::MessageCounterTooShort { message: 26, lower: 28 })
        );
        // No reset flag at all is allowed: the whole truncated value is message counter.
        let s = TripResetLayout::new(1, 16, 20, 0, &layout).unwrap();
        assert_eq!((s.message_bits(), s.message_lower_bits()), (28, 4));
    }
}
