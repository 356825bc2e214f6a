//! Profile 3 synchronisation messages (`TripResetSyncMsg`): receiving them
//! (every profile 3 receiver and sender follows the counters of its group) and
//! sending them (the FV management master, e.g. a simulated ECU).
//!
//! A synchronisation message is itself a secured frame: no authentic payload,
//! the whole `trip | reset` value as its freshness value, and a MAC over
//! `DataId | trip | reset`. A receiver accepts it only when the MAC matches and
//! the counters are strictly newer than the last accepted ones.

use super::authenticate::{GenerateError, authenticate, authenticator_matches, received_freshness};
use super::key::{MacKey, SecOcKey};
use super::layout::{LayoutError, SecuredLayout};
use super::outcome::{FreshnessFailure, Rejection, Verified};
use super::receiver::secured_bytes;
use super::trip_reset::{TripReset, TripResetLayout};
use crate::frame::{CanId, FdFlags, Frame};

/// The receiving side of one synchronisation message: the counters of its group.
#[derive(Debug)]
pub(crate) struct SyncGroup {
    layout: SecuredLayout,
    counters: TripResetLayout,
    key: Option<MacKey>,
    current: Option<TripReset>,
}

impl SyncGroup {
    /// A group whose counters are `current` (from storage) or not known yet.
    pub(crate) fn new(
        counters: TripResetLayout,
        mac_bits: u32,
        key: Option<MacKey>,
        current: Option<TripReset>,
    ) -> Result<SyncGroup, LayoutError> {
        Ok(SyncGroup { layout: counters.sync_layout(mac_bits)?, counters, key, current })
    }

    pub(crate) fn counters(&self) -> &TripResetLayout {
        &self.counters
    }

    pub(crate) fn current(&self) -> Option<TripReset> {
        self.current
    }

    pub(crate) fn set_key(&mut self, key: Option<MacKey>) {
        self.key = key;
    }

    /// Verifies a synchronisation frame and, when it is authentic and newer, adopts its counters.
    pub(crate) fn verify(&mut self, frame: &Frame) -> Result<(Verified, TripReset), Rejection> {
        let layout = self.layout;
        let data = secured_bytes(&layout, frame)?;
        let Some(key) = self.key.as_mut() else { return Err(Rejection::NoKey) };
        let value = received_freshness(&layout, data);
        if !authenticator_matches(&layout, key, data, value) {
            return Err(Rejection::MacFailure);
        }
        let counters = self.counters.sync_counters(value);
        if let Some(current) = self.current {
            if counters == current {
                return Err(Rejection::FreshnessFailure(FreshnessFailure::Replay));
            }
            if counters < current {
                return Err(Rejection::FreshnessFailure(FreshnessFailure::TooOld));
            }
        }
        self.current = Some(counters);
        Ok((Verified::new(*frame, layout.data_id(), value, layout.payload()), counters))
    }
}

/// The FV management master: sends authenticated synchronisation messages.
///
/// It keeps its counters in memory only; a master that must survive restarts
/// stores its trip counter itself and starts the next trip above it (AUTOSAR:
/// the trip counter grows at every start, the reset counter restarts at 1).
#[derive(Debug)]
pub struct SyncMaster {
    id: CanId,
    fd: Option<FdFlags>,
    layout: SecuredLayout,
    counters: TripResetLayout,
    key: MacKey,
    current: TripReset,
}

impl SyncMaster {
    /// A master sending on `id` with a `mac_bits` MAC, starting at `start`.
    pub fn new(
        id: CanId,
        counters: TripResetLayout,
        mac_bits: u32,
        key: &SecOcKey,
        start: TripReset,
    ) -> Result<SyncMaster, LayoutError> {
        let layout = counters.sync_layout(mac_bits)?;
        Ok(SyncMaster { id, fd: None, layout, counters, key: MacKey::new(key), current: start })
    }

    /// Sends CAN FD frames with `flags` instead of classic CAN frames.
    pub fn with_fd(mut self, flags: FdFlags) -> SyncMaster {
        self.fd = Some(flags);
        self
    }

    /// The counters of the next synchronisation frame.
    pub fn current(&self) -> TripReset {
        self.current
    }

    /// The layout of the synchronisation frames.
    pub fn layout(&self) -> &SecuredLayout {
        &self.layout
    }

    /// The synchronisation frame for the current counters.
    pub fn frame(&self) -> Result<Frame, GenerateError> {
        if !self.counters.fits(self.current) {
            return Err(GenerateError::CounterExhausted { id: self.id });
        }
        let pdu = authenticate(&self.layout, &self.key, self.counters.sync_value(self.current), &[])?;
        Ok(pdu.to_frame(self.id, self.fd)?)
    }

    /// A new reset cycle: the reset counter grows by one.
    pub fn next_reset(&mut self) -> Result<Frame, GenerateError> {
        self.advance(TripReset { trip: self.current.trip, reset: self.current.reset.saturating_add(1) })
    }

    /// A new trip: the trip counter grows by one and the reset counter starts again at 1.
    pub fn next_trip(&mut self) -> Result<Frame, GenerateError> {
        self.advance(TripReset { trip: self.current.trip.saturating_add(1), reset: 1 })
    }

    fn advance(&mut self, next: TripReset) -> Result<Frame, GenerateError> {
        if !self.counters.fits(next) {
            return Err(GenerateError::CounterExhausted { id: self.id });
        }
        self.current = next;
        self.frame()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secoc::Profile;

    fn counters() -> TripResetLayout {
        TripResetLayout::jaspar(0x10, &SecuredLayout::for_profile(Profile::Three, 0x100, 4).unwrap()).unwrap()
    }

    fn key() -> SecOcKey {
        SecOcKey::new([9; 16])
    }

    #[test]
    fn master_frames_are_accepted_once_and_in_order() {
        let id = CanId::standard(0x010).unwrap();
        let mut master = SyncMaster::new(id, counters(), 28, &key(), TripReset { trip: 5, reset: 1 }).unwrap();
        let mut group = SyncGroup::new(counters(), 28, Some(MacKey::new(&key())), None).unwrap();
        let first = master.frame().unwrap();
        assert_eq!(first.len(), 8);
        let (proof, adopted) = group.verify(&first).unwrap();
        assert_eq!(adopted, TripReset { trip: 5, reset: 1 });
        assert_eq!(proof.freshness(), counters().sync_value(adopted));
        assert_eq!(group.verify(&first), Err(Rejection::FreshnessFailure(FreshnessFailure::Replay)));
        let second = master.next_reset().unwrap();
        let third = master.next_trip().unwrap();
        assert_eq!(master.current(), TripReset { trip: 6, reset: 1 });
        assert!(group.verify(&third).is_ok());
        assert_eq!(group.verify(&second), Err(Rejection::FreshnessFailure(FreshnessFailure::TooOld)));
        assert_eq!(group.current(), Some(TripReset { trip: 6, reset: 1 }));
    }

    #[test]
    fn forged_or_foreign_sync_frames_are_mac_failures() {
        let id = CanId::standard(0x010).unwrap();
        let master = SyncMaster::new(id, counters(), 28, &SecOcKey::new([1; 16]), TripReset { trip: 1, reset: 1 })
            .unwrap()
            .with_fd(FdFlags::default());
        let mut group = SyncGroup::new(counters(), 28, Some(MacKey::new(&key())), None).unwrap();
        let frame = master.frame().unwrap();
        assert!(frame.is_fd());
        assert_eq!(group.verify(&frame), Err(Rejection::MacFailure));
        assert_eq!(group.current(), None);
        group.set_key(None);
        assert_eq!(group.verify(&frame), Err(Rejection::NoKey));
    }

    #[test]
    fn exhausted_counters() {
        let id = CanId::standard(0x010).unwrap();
        let mut master =
            SyncMaster::new(id, counters(), 28, &key(), TripReset { trip: 0xFFFF, reset: 0xF_FFFF }).unwrap();
        assert_eq!(master.next_reset(), Err(GenerateError::CounterExhausted { id }));
        assert_eq!(master.next_trip(), Err(GenerateError::CounterExhausted { id }));
        assert_eq!(master.current(), TripReset { trip: 0xFFFF, reset: 0xF_FFFF });
        assert!(master.frame().is_ok());
        assert_eq!(master.layout().frame_len(), 8);
    }
}
