//! Verification of arbitrary frames against arbitrary layouts.
//!
//! Input: a 22-byte header describing a layout, a freshness scheme and a
//! stored mark, then frames as `[length, flags, bytes...]` records (flags bit 0:
//! CAN FD, bit 1: sent on the synchronisation id). No input may panic, and
//! every verified frame must be authentic under the freshness value it was
//! accepted with, strictly fresher than the one before.
//!
//! Header: data id (2, big-endian), frame length selector, payload offset,
//! payload length, truncated freshness bits, freshness position (2), full
//! freshness bits, MAC bits, MAC position (2), scheme (bit 0: profile 3
//! counters), attempts, stored mark (8, big-endian).
#![no_main]

use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::secoc::{
    Acceptance, CounterKey, FreshnessScheme, LayoutParams, MacKey, ManagerConfig, ReceiverConfig, SecOcKey,
    SecOcManager, SecOcProfile, SecuredLayout, Snapshot, SyncConfig, SyncMaster, TripReset, TripResetLayout,
    check_authenticator,
};
use libfuzzer_sys::fuzz_target;

const FRAME_LENGTHS: [usize; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];
const KEY: [u8; 16] = [0x42; 16];

fuzz_target!(|data: &[u8]| {
    let Some((header, mut frames)) = data.split_first_chunk::<22>() else { return };
    let u16_at = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
    let params = LayoutParams {
        data_id: u16_at(0),
        frame_len: FRAME_LENGTHS[usize::from(header[2] % 16)],
        payload_offset: usize::from(header[3] % 65),
        payload_len: usize::from(header[4] % 65),
        freshness_bits: u32::from(header[5] % 65),
        freshness_at: usize::from(u16_at(6) % 512),
        freshness_value_bits: u32::from(header[8] % 65),
        mac_bits: u32::from(header[9] % 129),
        mac_at: usize::from(u16_at(10) % 512),
    };
    let Ok(layout) = SecuredLayout::new(params) else { return };
    let profile3 = header[12] & 1 == 1;
    let acceptance = Acceptance { max_increment: 512, attempts: header[13] % 17 };
    let key = SecOcKey::new(KEY);
    let data_id = CanId::standard(0x300).expect("standard id");
    let sync_id = CanId::standard(0x010).expect("standard id");
    let mut snapshot = Snapshot::new();
    snapshot.set(CounterKey::receive(layout.data_id()), u64::from_be_bytes(header[14..22].try_into().expect("8 bytes")));

    let mut config = ManagerConfig::default();
    let mut master = None;
    let profile = if profile3 {
        let Ok(counters) = TripResetLayout::jaspar(0x0010, &layout) else { return };
        let Ok(profile) = SecOcProfile::trip_reset(layout, counters) else { return };
        config.syncs.push(SyncConfig { id: sync_id, counters, mac_bits: 28, key: Some(key.clone()) });
        master = SyncMaster::new(sync_id, counters, 28, &key, TripReset { trip: 1, reset: 1 }).ok();
        profile
    } else if layout.freshness_value_bits() == 0 {
        let Ok(profile) = SecOcProfile::without_freshness(layout) else { return };
        profile
    } else {
        let Ok(profile) = SecOcProfile::counter(layout) else { return };
        profile
    };
    config.receivers.push(ReceiverConfig { id: data_id, profile: profile.with_acceptance(acceptance), key: Some(key.clone()) });
    let Ok(mut manager) = SecOcManager::new(config, &snapshot) else { return };
    let persist = |manager: &mut SecOcManager| {
        if let Some(request) = manager.persist_request() {
            manager.confirm_persisted(&request);
        }
    };
    persist(&mut manager);
    if let Some(master) = &master
        && let Ok(sync) = master.frame()
    {
        assert!(manager.verify(&sync).is_ok(), "the master's first synchronisation message verifies");
        persist(&mut manager);
    }

    let mac_key = MacKey::new(&key);
    let mut last_accepted: Option<u64> = None;
    while let Some((&[len, flags], rest)) = frames.split_first_chunk::<2>() {
        let len = usize::from(len % 65).min(rest.len());
        let (bytes, next) = rest.split_at(len);
        frames = next;
        let id = if flags & 2 != 0 { sync_id } else { data_id };
        let frame = if flags & 1 != 0 {
            Frame::fd(id, bytes, FdFlags { brs: flags & 4 != 0, esi: false })
        } else {
            Frame::classic(id, bytes)
        };
        let Ok(frame) = frame else { continue };
        let result = manager.verify(&frame);
        persist(&mut manager);
        let Ok(proof) = result else { continue };
        if id == sync_id {
            continue;
        }
        assert!(check_authenticator(profile.layout(), &mac_key, proof.frame().data(), proof.freshness()));
        if !matches!(profile.scheme(), FreshnessScheme::None) {
            assert!(last_accepted.is_none_or(|last| proof.freshness() > last), "freshness went backwards");
            last_accepted = Some(proof.freshness());
        }
    }
});
