//! The sending side of one secured id: the next freshness value, never one used
//! before, and the secured frame built with it.
//!
//! A single counter grows by one per frame. A profile 3 sender uses the
//! synchronised trip/reset counters and a message counter that starts again at 1
//! under every newer pair. Either way the value must be covered by the durable
//! reservation ([`Reservation`]); a value is consumed only when its frame is built.

use super::authenticate::{GenerateError, authenticate_with};
use super::bits::low_mask_u64;
use super::key::MacKey;
use super::profile::{FreshnessScheme, SecOcProfile};
use super::reservation::{Ahead, Reservation};
use super::trip_reset::TripReset;
use crate::frame::{CanId, FdFlags, Frame};

/// The state of one sent secured id.
#[derive(Debug)]
pub(crate) struct Sender {
    id: CanId,
    profile: SecOcProfile,
    key: Option<MacKey>,
    fd: Option<FdFlags>,
    /// The last freshness value used (after a restart: the stored mark).
    last: u64,
    reservation: Reservation,
    ahead: Ahead,
}

impl Sender {
    /// A sender whose storage holds `mark`; a single counter asks for a new
    /// reservation at once, a profile 3 counter waits for the next reset cycle.
    pub(crate) fn new(
        id: CanId,
        profile: SecOcProfile,
        key: Option<MacKey>,
        fd: Option<FdFlags>,
        mark: u64,
        block: u64,
    ) -> Sender {
        let ahead = Ahead::sender(&profile, block);
        let mut reservation = Reservation::new(mark);
        if let Some(wanted) = ahead.initial(mark) {
            reservation.request(wanted);
        }
        Sender { id, profile, key, fd, last: mark, reservation, ahead }
    }

    pub(crate) fn ahead(&self) -> Ahead {
        self.ahead
    }

    #[cfg(test)]
    pub(crate) fn id(&self) -> CanId {
        self.id
    }

    pub(crate) fn profile(&self) -> &SecOcProfile {
        &self.profile
    }

    pub(crate) fn set_key(&mut self, key: Option<MacKey>) {
        self.key = key;
    }

    pub(crate) fn last(&self) -> u64 {
        self.last
    }

    pub(crate) fn reservation(&self) -> &Reservation {
        &self.reservation
    }

    pub(crate) fn reservation_mut(&mut self) -> &mut Reservation {
        &mut self.reservation
    }

    /// The next freshness value, not yet consumed.
    fn next_value(&self, sync: Option<TripReset>) -> Result<u64, GenerateError> {
        let id = self.id;
        let max = low_mask_u64(self.profile.layout().freshness_value_bits());
        match *self.profile.scheme() {
            FreshnessScheme::None => Ok(0),
            FreshnessScheme::Counter => {
                self.last.checked_add(1).filter(|&v| v <= max).ok_or(GenerateError::CounterExhausted { id })
            }
            FreshnessScheme::TripReset(counters) => {
                let Some(sync) = sync else { return Err(GenerateError::SyncMissing { id }) };
                let (last_counters, last_message) = counters.decompose(self.last);
                // Under the same counters the message counter goes on; at its end (or
                // after an unclean restart, whose reservation ends the cycle) the
                // sender waits for the next synchronisation message.
                let message = if sync == last_counters && last_message < counters.max_message() {
                    last_message + 1
                } else if sync > last_counters {
                    1
                } else {
                    return Err(GenerateError::SyncMissing { id });
                };
                if !counters.fits(sync) {
                    return Err(GenerateError::CounterExhausted { id });
                }
                Ok(counters.compose(sync, message))
            }
        }
    }

    /// Builds the next secured frame carrying `payload`.
    pub(crate) fn next_frame(&mut self, payload: &[u8], sync: Option<TripReset>) -> Result<Frame, GenerateError> {
        let id = self.id;
        if self.key.is_none() {
            return Err(GenerateError::NoKey { id });
        }
        let value = self.next_value(sync)?;
        let counted = !matches!(self.profile.scheme(), FreshnessScheme::None);
        if counted && !self.reservation.covers(value) {
            self.reservation.request(self.ahead.covering(value));
            return Err(GenerateError::NotYetPersisted { id });
        }
        let Some(key) = self.key.as_mut() else { return Err(GenerateError::NoKey { id }) };
        let frame = authenticate_with(self.profile.layout(), key, value, payload)?.to_frame(id, self.fd)?;
        if counted {
            self.last = value;
            self.ahead.after_use(&mut self.reservation, value);
        }
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secoc::{SecOcKey, check_authenticator};

    fn key() -> MacKey {
        MacKey::new(&SecOcKey::new([3; 16]))
    }

    fn ready(profile: SecOcProfile, mark: u64) -> Sender {
        let mut s = Sender::new(CanId::standard(0x200).unwrap(), profile, Some(key()), None, mark, 1000);
        let m = s.reservation().mark_to_persist();
        s.reservation_mut().confirm(m);
        s
    }

    #[test]
    fn counts_up_from_the_mark() {
        let profile = SecOcProfile::profile1(0x200, 4).unwrap();
        let mut s = ready(profile, 41);
        let frame = s.next_frame(&[1, 2, 3, 4], None).unwrap();
        assert!(check_authenticator(profile.layout(), &key(), frame.data(), 42));
        assert_eq!(s.last(), 42);
        assert_eq!(frame.data()[4], 42);
    }

    #[test]
    fn stops_at_the_durable_mark_without_consuming() {
        let profile = SecOcProfile::profile1(0x200, 4).unwrap();
        let mut s = Sender::new(CanId::standard(0x200).unwrap(), profile, Some(key()), None, 0, 4);
        assert_eq!(s.next_frame(&[0; 4], None), Err(GenerateError::NotYetPersisted { id: s.id() }));
        assert_eq!(s.last(), 0);
        s.reservation_mut().confirm(4);
        for _ in 0..4 {
            s.next_frame(&[0; 4], None).unwrap();
        }
        assert_eq!(s.next_frame(&[0; 4], None), Err(GenerateError::NotYetPersisted { id: s.id() }));
        assert_eq!(s.reservation().mark_to_persist(), 9, "5 + a block");
    }

    #[test]
    fn errors_do_not_consume_values() {
        let profile = SecOcProfile::profile1(0x200, 4).unwrap();
        let mut s = ready(profile, 0);
        assert_eq!(s.next_frame(&[0; 3], None), Err(GenerateError::PayloadLength { expected: 4, got: 3 }));
        assert_eq!(s.last(), 0);
        s.set_key(None);
        assert_eq!(s.next_frame(&[0; 4], None), Err(GenerateError::NoKey { id: s.id() }));
    }

    #[test]
    fn profile_three_restarts_the_message_counter_per_sync() {
        let profile = SecOcProfile::profile3(0x200, 4, 0x10).unwrap();
        let FreshnessScheme::TripReset(counters) = *profile.scheme() else { unreachable!() };
        let mut s = ready(profile, 0);
        assert_eq!(s.next_frame(&[0; 4], None), Err(GenerateError::SyncMissing { id: s.id() }));
        let sync = TripReset { trip: 1, reset: 1 };
        s.reservation_mut().confirm(counters.compose(sync, 0) + 1000);
        s.next_frame(&[0; 4], Some(sync)).unwrap();
        s.next_frame(&[0; 4], Some(sync)).unwrap();
        assert_eq!(counters.decompose(s.last()), (sync, 2));
        let next = TripReset { trip: 1, reset: 2 };
        s.reservation_mut().confirm(counters.compose(next, 0) + 1000);
        s.next_frame(&[0; 4], Some(next)).unwrap();
        assert_eq!(counters.decompose(s.last()), (next, 1));
        assert_eq!(s.next_frame(&[0; 4], Some(sync)), Err(GenerateError::SyncMissing { id: s.id() }));
    }

    #[test]
    fn counter_exhaustion() {
        let layout = crate::secoc::SecuredLayout::new(crate::secoc::LayoutParams::packed(1, 1, 4, 4, 24)).unwrap();
        let profile = SecOcProfile::counter(layout).unwrap();
        let mut s = ready(profile, 15);
        assert_eq!(s.next_frame(&[0], None), Err(GenerateError::CounterExhausted { id: s.id() }));
    }
}
