//! The receiving side of one secured id: checks a frame, finds the freshness
//! value it was sent with, verifies the MAC and keeps the latest accepted value.
//!
//! Order of the checks (each failure is a [`Rejection`]):
//! 1. the frame is a data frame exactly as long as the layout;
//! 2. a key is installed;
//! 3. freshness candidates are built from the truncated value (and, for
//!    profile 3, the synchronised trip/reset counters);
//! 4. the MAC is checked against each candidate, forward ones first (the
//!    AUTOSAR reconstruction, then up to `attempts` more wraps), then up to
//!    [`STALE_PROBES`] wraps back, which are at or below the latest value;
//! 5. the first candidate whose MAC matches is classified: replay, too old,
//!    out of window, beyond the durable reservation, or accepted.
//!
//! So an authentic frame that is not fresh is reported as a freshness failure
//! and anything else as a MAC failure. A frame costs at most
//! `1 + attempts + STALE_PROBES` AES-CMACs (18 with the defaults), spent only
//! on frames that are rejected; an accepted frame in steady state costs one.

use super::authenticate::{authenticator_matches, received_freshness};
use super::bits::low_mask_u64;
use super::freshness::{STALE_PROBES, classify, reconstruct};
use super::key::MacKey;
use super::layout::SecuredLayout;
use super::outcome::{FreshnessFailure, Rejection, Verified};
use super::profile::{FreshnessScheme, SecOcProfile};
use super::reservation::{Ahead, Reservation};
use super::trip_reset::{ReconstructError, TripReset, TripResetLayout};
use crate::frame::{Frame, FrameKind};

/// Checks that `frame` is a data frame of exactly the layout's length and returns its bytes.
pub(crate) fn secured_bytes<'f>(layout: &SecuredLayout, frame: &'f Frame) -> Result<&'f [u8], Rejection> {
    let kind = frame.kind();
    if !matches!(kind, FrameKind::Classic | FrameKind::Fd) {
        return Err(Rejection::NotDataFrame { kind });
    }
    let (expected, got) = (layout.frame_len(), frame.len());
    if got < expected {
        return Err(Rejection::FrameTooShort { expected, got });
    }
    if got > expected {
        return Err(Rejection::FrameTooLong { expected, got });
    }
    Ok(frame.data())
}

/// The state of one received secured id.
#[derive(Debug)]
pub(crate) struct Receiver {
    profile: SecOcProfile,
    key: Option<MacKey>,
    /// The latest accepted full freshness value (after a restart: the stored mark).
    latest: u64,
    reservation: Reservation,
    ahead: Ahead,
}

impl Receiver {
    /// A receiver whose storage holds `mark`; a single counter asks for a new
    /// reservation at once, a profile 3 counter waits for the next reset cycle.
    pub(crate) fn new(profile: SecOcProfile, key: Option<MacKey>, mark: u64, block: u64) -> Receiver {
        let ahead = Ahead::receiver(&profile, block);
        let mut reservation = Reservation::new(mark);
        if let Some(wanted) = ahead.initial(mark) {
            reservation.request(wanted);
        }
        Receiver { profile, key, latest: mark, reservation, ahead }
    }

    pub(crate) fn ahead(&self) -> Ahead {
        self.ahead
    }

    pub(crate) fn profile(&self) -> &SecOcProfile {
        &self.profile
    }

    pub(crate) fn set_key(&mut self, key: Option<MacKey>) {
        self.key = key;
    }

    pub(crate) fn latest(&self) -> u64 {
        self.latest
    }

    pub(crate) fn reservation(&self) -> &Reservation {
        &self.reservation
    }

    pub(crate) fn reservation_mut(&mut self) -> &mut Reservation {
        &mut self.reservation
    }

    /// Verifies `frame`; `sync` is the synchronised counters of its group (profile 3 only).
    pub(crate) fn verify(&mut self, frame: &Frame, sync: Option<TripReset>) -> Result<Verified, Rejection> {
        let layout = *self.profile.layout();
        let data = secured_bytes(&layout, frame)?;
        let Some(key) = self.key.as_mut() else { return Err(Rejection::NoKey) };
        let received = received_freshness(&layout, data);
        let mut check = Check {
            layout: &layout,
            max_increment: self.profile.acceptance().max_increment,
            latest: self.latest,
            key,
            data,
        };
        let attempts = self.profile.acceptance().attempts;
        let freshness = match *self.profile.scheme() {
            FreshnessScheme::None => {
                if !check.matches(0) {
                    return Err(Rejection::MacFailure);
                }
                return Ok(Verified::new(*frame, layout.data_id(), 0, layout.payload()));
            }
            FreshnessScheme::Counter => check.counter(received, attempts)?,
            FreshnessScheme::TripReset(counters) => {
                let Some(sync) = sync else { return Err(Rejection::SyncMissing) };
                check.trip_reset(received, attempts, &counters, sync)?
            }
        };
        self.commit(freshness)?;
        Ok(Verified::new(*frame, layout.data_id(), freshness, layout.payload()))
    }

    /// Accepts `value` if storage covers it (else asks for it and refuses the frame).
    fn commit(&mut self, value: u64) -> Result<(), Rejection> {
        if !self.reservation.covers(value) {
            self.reservation.request(self.ahead.covering(value));
            return Err(Rejection::FreshnessFailure(FreshnessFailure::NotYetPersisted));
        }
        self.latest = value;
        self.ahead.after_use(&mut self.reservation, value);
        Ok(())
    }
}

/// One frame's bytes and what its freshness candidates are checked against.
struct Check<'a> {
    layout: &'a SecuredLayout,
    max_increment: u64,
    latest: u64,
    key: &'a mut MacKey,
    data: &'a [u8],
}

impl Check<'_> {
    /// True when the frame is authentic under the full freshness value `value`.
    fn matches(&mut self, value: u64) -> bool {
        authenticator_matches(self.layout, self.key, self.data, value)
    }

    /// The freshness value of a single-counter frame, checked against the window.
    fn counter(&mut self, received: u64, attempts: u8) -> Result<u64, Rejection> {
        let layout = self.layout;
        let max = low_mask_u64(layout.freshness_value_bits());
        let (latest, max_increment) = (self.latest, self.max_increment);
        let fresh = move |value: u64| {
            classify(value, latest, value.saturating_sub(latest), max_increment)
                .map(|()| value)
                .map_err(Rejection::FreshnessFailure)
        };
        if layout.carries_full_freshness() {
            if !self.matches(received) {
                return Err(Rejection::MacFailure);
            }
            return fresh(received);
        }
        let bits = layout.freshness().bits();
        let Some(first) = reconstruct(latest, received, bits).filter(|&v| v <= max) else {
            return Err(Rejection::FreshnessFailure(FreshnessFailure::CounterExhausted));
        };
        let step = 1u64 << bits;
        for attempt in 0..=u64::from(attempts) {
            let Some(value) = attempt.checked_mul(step).and_then(|ahead| first.checked_add(ahead)) else { break };
            if value > max {
                break;
            }
            if self.matches(value) {
                return fresh(value);
            }
        }
        for back in 1..=STALE_PROBES {
            let Some(value) = back.checked_mul(step).and_then(|behind| first.checked_sub(behind)) else { break };
            if self.matches(value) {
                return fresh(value);
            }
        }
        Err(Rejection::MacFailure)
    }

    /// The freshness value of a profile 3 frame under the synchronised counters `sync`.
    fn trip_reset(
        &mut self,
        received: u64,
        attempts: u8,
        counters: &TripResetLayout,
        sync: TripReset,
    ) -> Result<u64, Rejection> {
        let (latest, max_increment) = (self.latest, self.max_increment);
        let first = counters.reconstruct(sync, latest, received).map_err(|e| {
            Rejection::FreshnessFailure(match e {
                ReconstructError::CounterMismatch => FreshnessFailure::CounterMismatch,
                ReconstructError::Exhausted => FreshnessFailure::CounterExhausted,
            })
        })?;
        let (_, previous_message) = counters.decompose(latest);
        let step = 1u64 << counters.message_lower_bits();
        let fresh = move |message: u64| {
            let value = counters.compose(first.counters, message);
            let increment = if first.same_counters { message.saturating_sub(previous_message) } else { message };
            classify(value, latest, increment, max_increment).map(|()| value).map_err(Rejection::FreshnessFailure)
        };
        for attempt in 0..=u64::from(attempts) {
            let Some(message) = attempt.checked_mul(step).and_then(|ahead| first.message.checked_add(ahead)) else {
                break;
            };
            if message > counters.max_message() {
                break;
            }
            if self.matches(counters.compose(first.counters, message)) {
                return fresh(message);
            }
        }
        if first.same_counters {
            for back in 1..=STALE_PROBES {
                let Some(message) = back.checked_mul(step).and_then(|behind| first.message.checked_sub(behind)) else {
                    break;
                };
                if self.matches(counters.compose(first.counters, message)) {
                    return fresh(message);
                }
            }
        }
        Err(Rejection::MacFailure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::CanId;
    use crate::secoc::{Acceptance, SecOcKey, authenticate};

    const BLOCK: u64 = 1 << 20;

    fn key() -> MacKey {
        MacKey::new(&SecOcKey::new([7; 16]))
    }

    fn frame(profile: &SecOcProfile, freshness: u64, payload: &[u8]) -> Frame {
        let pdu = authenticate(profile.layout(), &key(), freshness, payload).unwrap();
        pdu.to_frame(CanId::standard(0x140).unwrap(), None).unwrap()
    }

    fn receiver(profile: SecOcProfile) -> Receiver {
        let mut r = Receiver::new(profile, Some(key()), 0, BLOCK);
        let mark = r.reservation().mark_to_persist();
        r.reservation_mut().confirm(mark);
        r
    }

    #[test]
    fn accepts_in_order_and_rejects_the_replay() {
        let profile = SecOcProfile::profile1(0x140, 4).unwrap();
        let mut rx = receiver(profile);
        for counter in 1..=600 {
            let f = frame(&profile, counter, &[1, 2, 3, 4]);
            let proof = rx.verify(&f, None).unwrap();
            assert_eq!(proof.freshness(), counter);
            assert_eq!(
                rx.verify(&f, None),
                Err(Rejection::FreshnessFailure(FreshnessFailure::Replay)),
                "counter {counter}"
            );
        }
        let old = frame(&profile, 590, &[1, 2, 3, 4]);
        assert_eq!(rx.verify(&old, None), Err(Rejection::FreshnessFailure(FreshnessFailure::TooOld)));
    }

    #[test]
    fn bridges_lost_frames_with_attempts() {
        let profile = SecOcProfile::profile1(0x140, 4)
            .unwrap()
            .with_acceptance(Acceptance { max_increment: 10_000, attempts: 2 });
        let mut rx = receiver(profile);
        assert!(rx.verify(&frame(&profile, 5, &[0; 4]), None).is_ok());
        // 700 frames lost: two wraps of the 8-bit counter ahead of the first candidate.
        assert_eq!(rx.verify(&frame(&profile, 705, &[0; 4]), None).unwrap().freshness(), 705);
        // 800 more: three wraps ahead, beyond the attempts.
        assert_eq!(rx.verify(&frame(&profile, 1505, &[0; 4]), None), Err(Rejection::MacFailure));
    }

    #[test]
    fn wrong_frames_are_rejected_before_any_mac() {
        let profile = SecOcProfile::profile1(0x140, 4).unwrap();
        let mut rx = receiver(profile);
        let id = CanId::standard(0x140).unwrap();
        let short = Frame::classic(id, &[0; 7]).unwrap();
        assert_eq!(rx.verify(&short, None), Err(Rejection::FrameTooShort { expected: 8, got: 7 }));
        let long = Frame::fd(id, &[0; 12], Default::default()).unwrap();
        assert_eq!(rx.verify(&long, None), Err(Rejection::FrameTooLong { expected: 8, got: 12 }));
        let remote = Frame::remote(id, 8).unwrap();
        assert_eq!(rx.verify(&remote, None), Err(Rejection::NotDataFrame { kind: FrameKind::Remote }));
        rx.set_key(None);
        assert_eq!(rx.verify(&frame(&profile, 1, &[0; 4]), None), Err(Rejection::NoKey));
    }

    #[test]
    fn profile_two_checks_the_mac_only() {
        let profile = SecOcProfile::profile2(0x140, 5).unwrap();
        let mut rx = receiver(profile);
        let f = frame(&profile, 0, &[1, 2, 3, 4, 5]);
        assert_eq!(rx.verify(&f, None).unwrap().freshness(), 0);
        assert!(rx.verify(&f, None).is_ok(), "profile 2 has no replay protection");
        let mut bytes = f.data().to_vec();
        bytes[0] ^= 1;
        let forged = Frame::classic(f.id(), &bytes).unwrap();
        assert_eq!(rx.verify(&forged, None), Err(Rejection::MacFailure));
    }

    #[test]
    fn refuses_values_beyond_the_durable_mark_and_asks_for_them() {
        let profile = SecOcProfile::profile1(0x140, 4).unwrap();
        let mut rx = Receiver::new(profile, Some(key()), 0, 100);
        assert_eq!(rx.reservation().mark_to_persist(), 100);
        let f = frame(&profile, 1, &[0; 4]);
        assert_eq!(rx.verify(&f, None), Err(Rejection::FreshnessFailure(FreshnessFailure::NotYetPersisted)));
        rx.reservation_mut().confirm(100);
        assert!(rx.verify(&f, None).is_ok());
        assert_eq!(rx.latest(), 1);
    }
}
