//! Counters across restarts: crashes in the middle of a reservation block
//! (the manager dropped without a clean shutdown, before or after a pending
//! write), clean shutdowns, and the file store's refusal of missing, corrupt,
//! truncated or unknown files.

mod secoc_support;

use std::collections::HashSet;
use std::fs;

use bulkhead::frame::Frame;
use bulkhead::secoc::{
    Acceptance, ConfigError, CounterKey, FileStore, FreshnessScheme, FreshnessStore, GenerateError, MacKey,
    ManagerConfig, MemoryStore, ReceiverConfig, Rejection, SecOcManager, SecOcProfile, SenderConfig, Snapshot,
    StoreError, SyncConfig, SyncMaster, TripReset, authenticate, store_format,
};
use secoc_support::{frame, id, key, persist, receiving, sending, start};

const ID: u32 = 0x2A0;
/// The receivers' reservation block.
const BLOCK: u64 = 256;
/// The senders' reservation block: what a sender may skip after a crash.
const TX_BLOCK: u64 = 64;

/// Profile 1 with a window that half a receiver block covers and that is
/// wider than a sender's skip after a crash (a system-wide rule: every
/// receiver's window must bridge its senders' reservation blocks).
fn profile() -> SecOcProfile {
    SecOcProfile::profile1(0x02A0, 4).unwrap().with_acceptance(Acceptance { max_increment: BLOCK / 2, attempts: 1 })
}

fn with_block(mut config: ManagerConfig, block: u64) -> ManagerConfig {
    config.reserve_block = block;
    config
}

fn rx_config() -> ManagerConfig {
    with_block(receiving(ID, profile()), BLOCK)
}

fn tx_config() -> ManagerConfig {
    with_block(sending(ID, profile()), TX_BLOCK)
}

/// Frames of a sender that never restarts, freshness 1, 2, 3, ...
fn legitimate_frames(count: usize) -> Vec<Frame> {
    let mut store = MemoryStore::with(Snapshot::new());
    let mut sender = start(tx_config(), &mut store);
    (0..count)
        .map(|i| {
            persist(&mut sender, &mut store);
            sender.authenticate_next(id(ID), &[i as u8, 1, 2, 3]).unwrap()
        })
        .collect()
}

#[test]
fn a_receiver_crash_mid_block_never_re_accepts() {
    let frames = legitimate_frames(400);
    let mut store = MemoryStore::with(Snapshot::new());
    let mut receiver = start(rx_config(), &mut store);
    for f in &frames[..100] {
        receiver.verify(f).unwrap();
        persist(&mut receiver, &mut store);
    }
    let mark = store.load().unwrap().get(CounterKey::receive(0x02A0)).unwrap();
    assert!(mark > 100 && mark <= 100 + BLOCK, "the mark is ahead of use by at most a block: {mark}");
    drop(receiver); // crash: no checkpoint

    let mut receiver = start(rx_config(), &mut store);
    for (i, f) in frames[..100].iter().enumerate() {
        assert!(receiver.verify(f).is_err(), "frame {} accepted again after the crash", i + 1);
    }
    // Frames up to the mark were possibly seen: refused; the first above it is accepted.
    let mut first_accepted = None;
    for (i, f) in frames[100..].iter().enumerate() {
        persist(&mut receiver, &mut store);
        if receiver.verify(f).is_ok() {
            first_accepted.get_or_insert(101 + i as u64);
        }
    }
    assert_eq!(first_accepted, Some(mark + 1));
}

#[test]
fn a_sender_crash_mid_block_never_reuses() {
    let mut store = MemoryStore::with(Snapshot::new());
    let mut used = HashSet::new();
    let mut receiver_store = MemoryStore::with(Snapshot::new());
    let mut receiver = start(rx_config(), &mut receiver_store);
    for run in 0..5 {
        let mut sender = start(tx_config(), &mut store);
        for i in 0..(37 + run * 11) {
            persist(&mut sender, &mut store);
            let f = sender.authenticate_next(id(ID), &[i as u8; 4]).unwrap();
            persist(&mut receiver, &mut receiver_store);
            let proof = receiver.verify(&f).unwrap_or_else(|e| panic!("run {run} frame {i}: {e}"));
            assert!(used.insert(proof.freshness()), "freshness {} used twice", proof.freshness());
        }
        drop(sender); // crash
    }
}

#[test]
fn a_crash_before_the_pending_write_loses_nothing_that_was_used() {
    let mut store = MemoryStore::with(Snapshot::new());
    let mut sender = start(tx_config(), &mut store);
    let durable = store.load().unwrap().get(CounterKey::send(0x02A0)).unwrap();
    let mut last = 0;
    // Use every reserved value without ever writing the next request.
    loop {
        match sender.authenticate_next(id(ID), &[0; 4]) {
            Ok(_) => last += 1,
            Err(e) => {
                assert_eq!(
                    e.to_string(),
                    format!("the next freshness value of id {} is not yet reserved in durable storage", id(ID))
                );
                break;
            }
        }
    }
    assert_eq!(last, durable, "the sender stops exactly at the durable mark");
    assert!(sender.persist_request().is_some());
    drop(sender); // crash with the request unwritten
    let sender = start(tx_config(), &mut store);
    let mut receiver_store = MemoryStore::with(Snapshot::new());
    let mut receiver = start(rx_config(), &mut receiver_store);
    let mut sender = sender;
    persist(&mut sender, &mut store);
    let f = sender.authenticate_next(id(ID), &[0; 4]).unwrap();
    assert_eq!(receiver.verify(&f).unwrap().freshness(), durable + 1);
}

#[test]
fn a_clean_shutdown_skips_nothing() {
    let frames = legitimate_frames(50);
    let mut store = MemoryStore::with(Snapshot::new());
    let mut receiver = start(rx_config(), &mut store);
    for f in &frames[..20] {
        receiver.verify(f).unwrap();
        persist(&mut receiver, &mut store);
    }
    store.save(&receiver.checkpoint()).unwrap();
    let mut receiver = start(rx_config(), &mut store);
    assert!(receiver.verify(&frames[19]).is_err(), "the last accepted frame stays refused");
    assert_eq!(receiver.verify(&frames[20]).unwrap().freshness(), 21, "the next one is accepted at once");

    let mut tx_store = MemoryStore::with(Snapshot::new());
    let mut sender = start(tx_config(), &mut tx_store);
    for _ in 0..7 {
        sender.authenticate_next(id(ID), &[0; 4]).unwrap();
    }
    tx_store.save(&sender.checkpoint()).unwrap();
    let mut sender = start(tx_config(), &mut tx_store);
    let f = sender.authenticate_next(id(ID), &[0; 4]).unwrap();
    let (mut check, _) = secoc_support::fresh(rx_config());
    assert_eq!(check.verify(&f).unwrap().freshness(), 8);
}

#[test]
fn persistence_happens_at_block_boundaries_only() {
    let frames = legitimate_frames(1000);
    let mut store = MemoryStore::with(Snapshot::new());
    let mut receiver = start(rx_config(), &mut store);
    let before = store.saves();
    for f in &frames {
        receiver.verify(f).unwrap();
        persist(&mut receiver, &mut store);
    }
    let writes = store.saves() - before;
    // One write per half block of values.
    assert!((1000 / (BLOCK as usize / 2) - 1..=1000 / (BLOCK as usize / 2) + 1).contains(&writes), "{writes} writes");
}

#[test]
fn the_file_store_survives_a_crash_between_write_and_rename() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("freshness");
    let mut store = FileStore::create(&path).unwrap();
    let frames = legitimate_frames(400);
    let mut receiver = start(rx_config(), &mut store);
    for f in &frames[..30] {
        receiver.verify(f).unwrap();
        persist(&mut receiver, &mut store);
    }
    drop(receiver);
    // A crash in the middle of the next save leaves a torn temporary file beside the real one.
    fs::write(dir.path().join("freshness.tmp"), b"bulkhead-freshness 1\nreceive 0x02A0 1").unwrap();
    let mut store = FileStore::new(&path);
    let mark = store.load().unwrap().get(CounterKey::receive(0x02A0)).unwrap();
    let mut receiver = start(rx_config(), &mut store);
    for f in &frames[..30] {
        assert!(receiver.verify(f).is_err());
    }
    let accepted: Vec<u64> = frames[30..]
        .iter()
        .filter_map(|f| {
            let result = receiver.verify(f).ok().map(|proof| proof.freshness());
            persist(&mut receiver, &mut store);
            result
        })
        .collect();
    assert_eq!(accepted.first(), Some(&(mark + 1)), "resumes right above the mark in the file");
    assert_eq!(accepted.len() as u64, 400 - mark);
}

#[test]
fn missing_corrupt_truncated_and_foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("freshness");
    let store = FileStore::new(&path);
    assert!(matches!(store.load(), Err(StoreError::Missing { .. })));

    let mut store = FileStore::create(&path).unwrap();
    assert!(matches!(FileStore::create(&path), Err(StoreError::AlreadyExists { .. })));
    let mut snapshot = Snapshot::new();
    snapshot.set(CounterKey::receive(0x02A0), 4242);
    store.save(&snapshot).unwrap();
    assert_eq!(store.load().unwrap(), snapshot);

    let good = fs::read(&path).unwrap();
    let mut flipped = good.clone();
    let at = flipped.iter().position(|&b| b == b'4').unwrap();
    flipped[at] = b'5';
    fs::write(&path, &flipped).unwrap();
    assert!(matches!(store.load(), Err(StoreError::ChecksumMismatch { .. })), "an edited mark");

    fs::write(&path, &good[..good.len() - 10]).unwrap();
    assert!(matches!(store.load(), Err(StoreError::Corrupt { .. })), "a torn write");

    fs::write(&path, b"").unwrap();
    assert!(matches!(store.load(), Err(StoreError::UnsupportedVersion { .. })), "an empty file");

    fs::write(&path, store_format::render(&snapshot).replace("freshness 1", "freshness 9")).unwrap();
    let error = store.load().unwrap_err();
    assert!(matches!(error, StoreError::UnsupportedVersion { .. }));
    assert!(error.to_string().contains("freshness 9"), "{error}");

    fs::write(&path, [0xFF, 0xFE, 0x00]).unwrap();
    assert!(store.load().is_err(), "binary garbage");

    fs::write(&path, &good).unwrap();
    assert_eq!(store.load().unwrap(), snapshot, "the good file loads again");
}

#[test]
fn an_unwritable_store_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = FileStore::new(dir.path().join("no-such-dir").join("freshness"));
    let error = store.save(&Snapshot::new()).unwrap_err();
    assert!(matches!(error, StoreError::Io { .. }), "{error}");
    assert!(error.to_string().contains("cannot create"), "{error}");
}

#[test]
fn stored_marks_too_large_for_the_layout_stop_the_start() {
    let mut snapshot = Snapshot::new();
    let narrow =
        bulkhead::secoc::SecuredLayout::new(bulkhead::secoc::LayoutParams::packed(0x0300, 2, 4, 8, 24)).unwrap();
    snapshot.set(CounterKey::receive(0x0300), 300);
    let config = receiving(0x300, SecOcProfile::counter(narrow).unwrap());
    let error = SecOcManager::new(config, &snapshot).unwrap_err();
    assert_eq!(error, ConfigError::StoredMarkTooLarge { key: CounterKey::receive(0x0300), mark: 300, bits: 8 });
}

#[test]
fn nothing_is_accepted_before_the_first_reservation_is_written() {
    let frames = legitimate_frames(3);
    let mut receiver = SecOcManager::new(rx_config(), &Snapshot::new()).unwrap();
    assert_eq!(
        receiver.verify(&frames[0]),
        Err(Rejection::FreshnessFailure(bulkhead::secoc::FreshnessFailure::NotYetPersisted))
    );
    let request = receiver.persist_request().unwrap();
    receiver.confirm_persisted(&request);
    assert!(receiver.persist_request().is_none());
    assert!(receiver.verify(&frames[0]).is_ok());
}

/// A profile 3 gateway that receives id 0x0B0 and re-signs it as 0x0B1, and its FV master.
fn profile3_config() -> (ManagerConfig, SyncMaster) {
    let rx = SecOcProfile::profile3(0x00B0, 4, 0x0010).unwrap();
    let tx = SecOcProfile::profile3(0x00B1, 4, 0x0010).unwrap();
    let FreshnessScheme::TripReset(counters) = *rx.scheme() else { unreachable!() };
    let config = ManagerConfig {
        receivers: vec![ReceiverConfig { id: id(0x0B0), profile: rx, key: Some(key()) }],
        senders: vec![SenderConfig { id: id(0x0B1), profile: tx, key: Some(key()), fd: None }],
        syncs: vec![SyncConfig { id: id(0x010), counters, mac_bits: 28, key: Some(key()) }],
        ..ManagerConfig::default()
    };
    let master = SyncMaster::new(id(0x010), counters, 28, &key(), TripReset { trip: 1, reset: 1 }).unwrap();
    (config, master)
}

#[test]
fn profile_3_resumes_with_the_next_reset_cycle_after_a_crash() {
    let (config, mut master) = profile3_config();
    let rx_profile = config.receivers[0].profile;
    let FreshnessScheme::TripReset(counters) = *rx_profile.scheme() else { unreachable!() };
    let data = |period: TripReset, message: u64| {
        let value = counters.compose(period, message);
        frame(0x0B0, authenticate(rx_profile.layout(), &MacKey::new(&key()), value, &[1, 2, 3, 4]).unwrap().as_bytes())
    };
    let mut store = MemoryStore::with(Snapshot::new());
    let mut gateway = start(config.clone(), &mut store);
    let first = TripReset { trip: 1, reset: 1 };
    gateway.verify(&master.frame().unwrap()).unwrap();
    persist(&mut gateway, &mut store);
    let writes = store.saves();
    let mut sent = HashSet::new();
    for message in 1..=20 {
        let proof = gateway.verify(&data(first, message)).unwrap();
        let resigned = gateway.reauthenticate(&proof, id(0x0B1)).unwrap();
        assert!(sent.insert(resigned.data().to_vec()));
        persist(&mut gateway, &mut store);
    }
    assert_eq!(store.saves(), writes, "no write inside a reset cycle");
    drop(gateway); // crash

    let mut gateway = start(config, &mut store);
    assert_eq!(gateway.sync_counters(id(0x010)), Some(first), "the synchronised counters were stored");
    for message in 1..=25 {
        assert!(gateway.verify(&data(first, message)).is_err(), "message {message} of the crashed cycle");
    }
    assert!(matches!(gateway.authenticate_next(id(0x0B1), &[0; 4]), Err(GenerateError::SyncMissing { .. })));
    let second = TripReset { trip: 1, reset: 2 };
    gateway.verify(&master.next_reset().unwrap()).unwrap();
    persist(&mut gateway, &mut store);
    let proof = gateway.verify(&data(second, 1)).unwrap();
    let resigned = gateway.reauthenticate(&proof, id(0x0B1)).unwrap();
    assert!(!sent.contains(resigned.data()), "a re-signed frame is never repeated");
}
