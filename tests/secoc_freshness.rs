//! Freshness through the public API: reconstruction across wraps of the
//! truncated counter, the edges of the acceptance window, replays, old frames,
//! frames from far in the future, and profile 3's trip/reset synchronisation.

mod secoc_support;

use bulkhead::frame::Frame;
use bulkhead::secoc::{
    Acceptance, FreshnessFailure, FreshnessScheme, LayoutParams, ManagerConfig, MemoryStore, Rejection, STALE_PROBES,
    SecOcKey, SecOcManager, SecOcProfile, SecuredLayout, SyncConfig, SyncMaster, TripReset, authenticate,
};
use secoc_support::{frame, fresh, id, key, persist, receiving};

const ID: u32 = 0x123;

/// A frame of `profile` sent with the full freshness value `freshness`.
fn sent(profile: &SecOcProfile, freshness: u64, payload: &[u8]) -> Frame {
    let pdu = authenticate(profile.layout(), &(&key()).into(), freshness, payload).unwrap();
    frame(ID, pdu.as_bytes())
}

fn freshness_failure(why: FreshnessFailure) -> Result<u64, Rejection> {
    Err(Rejection::FreshnessFailure(why))
}

struct Rx {
    manager: SecOcManager,
    store: MemoryStore,
    profile: SecOcProfile,
}

impl Rx {
    fn new(profile: SecOcProfile) -> Rx {
        let (manager, store) = fresh(receiving(ID, profile));
        Rx { manager, store, profile }
    }

    /// Verifies the frame sent with `freshness`; persists like a shell.
    fn offer(&mut self, freshness: u64) -> Result<u64, Rejection> {
        let payload = vec![freshness as u8; self.profile.layout().payload().len()];
        let result = self.manager.verify(&sent(&self.profile, freshness, &payload)).map(|proof| proof.freshness());
        persist(&mut self.manager, &mut self.store);
        result
    }
}

#[test]
fn reconstruction_across_many_wraps_of_an_8_bit_counter() {
    let mut rx = Rx::new(SecOcProfile::profile1(0x0123, 4).unwrap());
    for counter in 1..=3000 {
        assert_eq!(rx.offer(counter), Ok(counter));
    }
}

#[test]
fn reconstruction_across_wraps_of_a_2_bit_counter_with_gaps() {
    let layout = SecuredLayout::new(LayoutParams::packed(0x0123, 2, 2, 32, 24)).unwrap();
    let profile = SecOcProfile::counter(layout).unwrap().with_acceptance(Acceptance { max_increment: 16, attempts: 3 });
    let mut rx = Rx::new(profile);
    let mut counter = 0;
    // Gaps of 1 to 16: the first candidate plus three more wraps cover them.
    for gap in (1..=16).cycle().take(200) {
        counter += gap;
        assert_eq!(rx.offer(counter), Ok(counter), "gap {gap}");
    }
}

#[test]
fn window_edges_with_the_full_value_in_the_frame() {
    let layout = SecuredLayout::new(LayoutParams::packed(0x0123, 4, 32, 32, 32)).unwrap();
    let profile = SecOcProfile::counter(layout).unwrap().with_acceptance(Acceptance { max_increment: 10, attempts: 0 });
    let mut rx = Rx::new(profile);
    assert_eq!(rx.offer(10), Ok(10), "exactly the window from 0");
    assert_eq!(rx.offer(21), freshness_failure(FreshnessFailure::OutOfWindow), "one past the window");
    assert_eq!(rx.offer(20), Ok(20), "the edge");
    assert_eq!(rx.offer(20), freshness_failure(FreshnessFailure::Replay));
    assert_eq!(rx.offer(19), freshness_failure(FreshnessFailure::TooOld));
    assert_eq!(rx.offer(1_000_000), freshness_failure(FreshnessFailure::OutOfWindow), "far in the future");
    assert_eq!(rx.offer(u32::MAX as u64), freshness_failure(FreshnessFailure::OutOfWindow));
    assert_eq!(rx.offer(21), Ok(21), "rejections never move the latest value");
}

#[test]
fn window_edges_with_a_truncated_counter() {
    let profile =
        SecOcProfile::profile1(0x0123, 4).unwrap().with_acceptance(Acceptance { max_increment: 300, attempts: 2 });
    let mut rx = Rx::new(profile);
    assert_eq!(rx.offer(100), Ok(100));
    assert_eq!(rx.offer(401), freshness_failure(FreshnessFailure::OutOfWindow), "authentic, 301 ahead");
    assert_eq!(rx.offer(400), Ok(400), "authentic, 300 ahead");
    // Three wraps ahead is past the attempts: indistinguishable from a forgery.
    assert_eq!(rx.offer(400 + 3 * 256 + 1), Err(Rejection::MacFailure));
    assert_eq!(rx.offer(401), Ok(401));
}

#[test]
fn replays_and_old_frames_of_a_truncated_counter() {
    let mut rx = Rx::new(SecOcProfile::profile1(0x0123, 4).unwrap());
    for counter in 1..=5000 {
        rx.offer(counter).unwrap();
    }
    assert_eq!(rx.offer(5000), freshness_failure(FreshnessFailure::Replay));
    assert_eq!(rx.offer(4999), freshness_failure(FreshnessFailure::TooOld));
    assert_eq!(rx.offer(5000 - 256), freshness_failure(FreshnessFailure::TooOld), "same low bits, one wrap back");
    let oldest_probed = 5000 - 256 * STALE_PROBES;
    assert_eq!(rx.offer(oldest_probed + 1), freshness_failure(FreshnessFailure::TooOld));
    // Older than the probes reach: rejected all the same, as a MAC failure.
    assert_eq!(rx.offer(100), Err(Rejection::MacFailure));
    assert_eq!(rx.offer(5001), Ok(5001));
}

#[test]
fn profile_2_has_no_freshness() {
    let profile = SecOcProfile::profile2(0x0123, 5).unwrap();
    let mut rx = Rx::new(profile);
    assert_eq!(rx.offer(0), Ok(0));
    assert_eq!(rx.offer(0), Ok(0), "a replay is accepted: profile 2 only proves origin");
    assert!(rx.manager.persist_request().is_none(), "and keeps no counter");
}

/// A profile 3 receiver and the FV master it follows.
struct Profile3 {
    manager: SecOcManager,
    store: MemoryStore,
    profile: SecOcProfile,
    master: SyncMaster,
}

const SYNC: u32 = 0x010;

impl Profile3 {
    fn new() -> Profile3 {
        let profile = SecOcProfile::profile3(0x0123, 4, 0x0010).unwrap();
        let FreshnessScheme::TripReset(counters) = *profile.scheme() else { unreachable!() };
        let config = ManagerConfig {
            syncs: vec![SyncConfig { id: id(SYNC), counters, mac_bits: 28, key: Some(key()) }],
            ..receiving(ID, profile)
        };
        let (manager, store) = fresh(config);
        let master = SyncMaster::new(id(SYNC), counters, 28, &key(), TripReset { trip: 7, reset: 1 }).unwrap();
        Profile3 { manager, store, profile, master }
    }

    fn value(&self, trip: u64, reset: u64, message: u64) -> u64 {
        let FreshnessScheme::TripReset(counters) = self.profile.scheme() else { unreachable!() };
        counters.compose(TripReset { trip, reset }, message)
    }

    fn offer(&mut self, trip: u64, reset: u64, message: u64) -> Result<u64, Rejection> {
        let result = self.manager.verify(&sent(&self.profile, self.value(trip, reset, message), &[1, 2, 3, 4]));
        persist(&mut self.manager, &mut self.store);
        result.map(|proof| proof.freshness())
    }

    fn sync(&mut self, frame: Frame) -> Result<u64, Rejection> {
        let result = self.manager.verify(&frame).map(|proof| proof.freshness());
        persist(&mut self.manager, &mut self.store);
        result
    }
}

#[test]
fn profile_3_needs_a_sync_then_follows_the_counters() {
    let mut p = Profile3::new();
    assert_eq!(p.offer(7, 1, 1), Err(Rejection::SyncMissing));
    let first_sync = p.master.frame().unwrap();
    p.sync(first_sync).unwrap();
    assert_eq!(p.manager.sync_counters(id(SYNC)), Some(TripReset { trip: 7, reset: 1 }));
    for message in 1..=50 {
        assert_eq!(p.offer(7, 1, message), Ok(p.value(7, 1, message)), "message {message}");
    }
    assert_eq!(p.offer(7, 1, 50), freshness_failure(FreshnessFailure::Replay));
    assert_eq!(p.offer(7, 1, 49), freshness_failure(FreshnessFailure::TooOld));
    assert_eq!(p.sync(first_sync), freshness_failure(FreshnessFailure::Replay), "a replayed sync message");
    // A new reset cycle: the message counter starts again.
    let next = p.master.next_reset().unwrap();
    p.sync(next).unwrap();
    assert_eq!(p.offer(7, 2, 1), Ok(p.value(7, 2, 1)));
    assert_eq!(p.offer(7, 1, 51), freshness_failure(FreshnessFailure::CounterMismatch), "the old cycle is over");
    assert_eq!(p.offer(7, 4, 1), freshness_failure(FreshnessFailure::CounterMismatch), "two cycles ahead");
    assert_eq!(p.sync(first_sync), freshness_failure(FreshnessFailure::TooOld), "an older sync message");
    // A new trip (a new ignition cycle of the master).
    let trip = p.master.next_trip().unwrap();
    p.sync(trip).unwrap();
    // The reset flag cannot tell trips apart: a frame of the old trip whose flag
    // fits the new counters is read as trip 8 and fails its MAC; one whose flag
    // fits none is a counter mismatch.
    assert_eq!(p.offer(7, 2, 2), Err(Rejection::MacFailure));
    assert_eq!(p.offer(7, 3, 1), freshness_failure(FreshnessFailure::CounterMismatch));
    assert_eq!(p.offer(8, 1, 1), Ok(p.value(8, 1, 1)));
}

#[test]
fn profile_3_sender_one_cycle_ahead_or_behind() {
    let mut p = Profile3::new();
    p.sync(p.master.frame().unwrap()).unwrap();
    p.offer(7, 1, 1).unwrap();
    // The sender saw reset 2 before us: its reset flag is one ahead.
    assert_eq!(p.offer(7, 2, 1), freshness_failure(FreshnessFailure::NotYetPersisted), "refused until reserved");
    assert_eq!(p.offer(7, 2, 2), Ok(p.value(7, 2, 2)));
    // Our sync arrives late; the frames go on.
    let late = p.master.next_reset().unwrap();
    p.sync(late).unwrap();
    assert_eq!(p.offer(7, 2, 3), Ok(p.value(7, 2, 3)));
}

#[test]
fn profile_3_lost_frames_wrap_the_two_bit_lower_counter() {
    let mut p = Profile3::new();
    p.sync(p.master.frame().unwrap()).unwrap();
    let mut message = 0;
    for gap in [1, 2, 3, 4, 5, 7, 1, 1, 6] {
        message += gap;
        assert_eq!(p.offer(7, 1, message), Ok(p.value(7, 1, message)), "gap {gap}");
    }
    // With one attempt, 4 lower values per wrap: a gap of 9 is beyond reach.
    message += 9;
    assert_eq!(p.offer(7, 1, message), Err(Rejection::MacFailure));
}

#[test]
fn a_sync_message_under_another_key_changes_nothing() {
    let mut p = Profile3::new();
    p.sync(p.master.frame().unwrap()).unwrap();
    let FreshnessScheme::TripReset(counters) = *p.profile.scheme() else { unreachable!() };
    let rogue =
        SyncMaster::new(id(SYNC), counters, 28, &SecOcKey::new([0x66; 16]), TripReset { trip: 9, reset: 9 }).unwrap();
    assert_eq!(p.sync(rogue.frame().unwrap()), Err(Rejection::MacFailure));
    assert_eq!(p.manager.sync_counters(id(SYNC)), Some(TripReset { trip: 7, reset: 1 }));
    assert_eq!(p.offer(7, 1, 1), Ok(p.value(7, 1, 1)));
}
