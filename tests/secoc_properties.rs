//! Properties over random layouts, keys, payloads and freshness values:
//! - generating and verifying round-trip for every valid layout (through a
//!   sender and a receiver manager, and statelessly);
//! - a frame that differs from a validly authenticated one in any bit of its
//!   authentic payload, freshness or MAC field is never verified (MACs of at
//!   least 32 bits, so that a chance collision is negligible), and the
//!   original is still accepted afterwards;
//! - profile 3 counter structures split and rebuild any counters they accept;
//! - the layout constructor and the verifier never panic on anything.

mod secoc_support;

use bulkhead::frame::{FD_MAX_LEN, Frame};
use bulkhead::secoc::{
    Acceptance, CounterKey, LayoutParams, MacKey, ManagerConfig, ReceiverConfig, SecOcKey, SecOcManager, SecOcProfile,
    SecuredLayout, SenderConfig, Snapshot, TripReset, TripResetLayout, authenticate, check_authenticator,
};
use proptest::prelude::*;

const FD_LENGTHS: [usize; 15] = [1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

/// A random valid layout: fields in any order, with gaps, in any frame length.
fn layouts(min_mac_bits: u32) -> impl Strategy<Value = SecuredLayout> {
    (
        0..FD_LENGTHS.len(),
        any::<u32>(),
        0u32..=64,
        any::<u32>(),
        any::<usize>(),
        0usize..6,
        [0usize..12, 0usize..12, 0usize..12],
        any::<u16>(),
    )
        .prop_filter_map(
            "fields must fit",
            move |(len_at, mac_raw, value_bits, trunc_raw, payload_raw, order, gaps, data_id)| {
                let frame_len = FD_LENGTHS[len_at];
                let frame_bits = frame_len * 8;
                let max_mac = frame_bits.min(128) as u32;
                if max_mac < min_mac_bits {
                    return None;
                }
                let mac_bits = min_mac_bits.max(1) + mac_raw % (max_mac - min_mac_bits.max(1) + 1);
                let room = frame_bits as u32 - mac_bits;
                let freshness_bits = (trunc_raw % (value_bits + 1)).min(room);
                let room = (room - freshness_bits) as usize;
                let payload_len = payload_raw % (room / 8 + 1);
                let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
                let mut starts = [0usize; 3];
                let mut cursor = 0usize;
                for (slot, &field) in orders[order].iter().enumerate() {
                    cursor += gaps[slot];
                    if field == 0 {
                        cursor = cursor.div_ceil(8) * 8;
                    }
                    starts[field] = cursor;
                    cursor += [payload_len * 8, freshness_bits as usize, mac_bits as usize][field];
                }
                SecuredLayout::new(LayoutParams {
                    data_id,
                    frame_len,
                    payload_offset: starts[0] / 8,
                    payload_len,
                    freshness_bits,
                    freshness_at: starts[1],
                    freshness_value_bits: value_bits,
                    mac_bits,
                    mac_at: starts[2],
                })
                .ok()
            },
        )
}

fn profile_for(layout: SecuredLayout) -> SecOcProfile {
    let profile = if layout.freshness_value_bits() == 0 {
        SecOcProfile::without_freshness(layout)
    } else {
        SecOcProfile::counter(layout)
    };
    profile
        .expect("a counter for a layout with a freshness value")
        .with_acceptance(Acceptance { max_increment: 16, attempts: 0 })
}

fn the_id() -> bulkhead::frame::CanId {
    bulkhead::frame::CanId::standard(0x300).unwrap()
}

/// A manager whose counter for the layout stands at `freshness - 1`, its reservation persisted.
fn manager_before(layout: &SecuredLayout, key: &SecOcKey, freshness: u64, send: bool) -> SecOcManager {
    let profile = profile_for(*layout);
    let mut snapshot = Snapshot::new();
    let fd = layout.needs_fd().then(Default::default);
    let config = if send {
        snapshot.set(CounterKey::send(layout.data_id()), freshness.saturating_sub(1));
        ManagerConfig {
            senders: vec![SenderConfig { id: the_id(), profile, key: Some(key.clone()), fd }],
            ..ManagerConfig::default()
        }
    } else {
        snapshot.set(CounterKey::receive(layout.data_id()), freshness.saturating_sub(1));
        ManagerConfig {
            receivers: vec![ReceiverConfig { id: the_id(), profile, key: Some(key.clone()) }],
            ..ManagerConfig::default()
        }
    };
    let mut manager = SecOcManager::new(config, &snapshot).expect("valid configuration");
    if let Some(request) = manager.persist_request() {
        manager.confirm_persisted(&request);
    }
    manager
}

/// A freshness value valid for the layout (0 without freshness).
fn freshness_for(layout: &SecuredLayout, raw: u64) -> u64 {
    let bits = layout.freshness_value_bits();
    if bits == 0 {
        return 0;
    }
    let max = if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
    1 + raw % max
}

fn as_frame(layout: &SecuredLayout, bytes: &[u8]) -> Frame {
    if layout.needs_fd() {
        Frame::fd(the_id(), bytes, Default::default()).unwrap()
    } else {
        Frame::classic(the_id(), bytes).unwrap()
    }
}

/// The bit positions of the payload, freshness and MAC fields.
fn field_bits(layout: &SecuredLayout) -> Vec<usize> {
    let payload = layout.payload();
    let mut bits: Vec<usize> = (payload.offset() * 8..payload.end() * 8).collect();
    bits.extend(layout.freshness().position()..layout.freshness().end());
    bits.extend(layout.mac().position()..layout.mac().end());
    bits
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_valid_layout_round_trips(
        layout in layouts(1),
        key in any::<[u8; 16]>(),
        payload_seed in any::<u64>(),
        raw_freshness in any::<u64>(),
    ) {
        let key = SecOcKey::new(key);
        let payload: Vec<u8> = (0..layout.payload().len()).map(|i| (payload_seed >> (i % 8 * 8)) as u8 ^ i as u8).collect();
        let freshness = freshness_for(&layout, raw_freshness);
        let pdu = authenticate(&layout, &MacKey::new(&key), freshness, &payload).unwrap();
        prop_assert_eq!(pdu.as_bytes().len(), layout.frame_len());
        prop_assert!(check_authenticator(&layout, &MacKey::new(&key), pdu.as_bytes(), freshness));

        let mut sender = manager_before(&layout, &key, freshness, true);
        let sent = sender.authenticate_next(the_id(), &payload).unwrap();
        prop_assert_eq!(sent.data(), pdu.as_bytes(), "the manager's sender builds the same frame");

        let mut receiver = manager_before(&layout, &key, freshness, false);
        let proof = receiver.verify(&sent).unwrap();
        prop_assert_eq!(proof.freshness(), freshness);
        prop_assert_eq!(proof.authentic_payload(), &payload[..]);
    }

    #[test]
    fn tampered_fields_are_never_verified(
        layout in layouts(32),
        key in any::<[u8; 16]>(),
        raw_freshness in any::<u64>(),
        flips in prop::collection::vec(any::<prop::sample::Index>(), 1..6),
    ) {
        let key = SecOcKey::new(key);
        let payload = vec![0xA5; layout.payload().len()];
        let freshness = freshness_for(&layout, raw_freshness);
        let pdu = authenticate(&layout, &MacKey::new(&key), freshness, &payload).unwrap();
        let bits = field_bits(&layout);
        let mut tampered = pdu.as_bytes().to_vec();
        for flip in &flips {
            let bit = bits[flip.index(bits.len())];
            tampered[bit / 8] ^= 0x80 >> (bit % 8);
        }
        prop_assume!(tampered != pdu.as_bytes());
        let mut receiver = manager_before(&layout, &key, freshness, false);
        prop_assert!(receiver.verify(&as_frame(&layout, &tampered)).is_err());
        prop_assert!(!check_authenticator(&layout, &MacKey::new(&key), &tampered, freshness));
        let original = receiver.verify(&as_frame(&layout, pdu.as_bytes()));
        prop_assert_eq!(original.map(|p| p.freshness()), Ok(freshness), "the original still verifies");
    }

    #[test]
    fn the_layout_constructor_never_panics(
        data_id in any::<u16>(),
        frame_len in 0usize..80,
        payload_offset in 0usize..80,
        payload_len in 0usize..80,
        freshness_bits in 0u32..80,
        freshness_at in 0usize..700,
        freshness_value_bits in 0u32..80,
        mac_bits in 0u32..140,
        mac_at in 0usize..700,
    ) {
        let params = LayoutParams {
            data_id, frame_len, payload_offset, payload_len, freshness_bits, freshness_at,
            freshness_value_bits, mac_bits, mac_at,
        };
        if let Ok(layout) = SecuredLayout::new(params) {
            let frame_bits = layout.frame_len() * 8;
            prop_assert!(layout.frame_len() <= FD_MAX_LEN);
            prop_assert!(layout.payload().end() * 8 <= frame_bits);
            prop_assert!(layout.mac().end() <= frame_bits && layout.mac().bits() >= 1);
            prop_assert!(layout.freshness().end() <= frame_bits || layout.freshness().bits() == 0);
            let mut used = vec![false; frame_bits];
            for bit in field_bits(&layout) {
                prop_assert!(!used[bit], "bit {} belongs to two fields", bit);
                used[bit] = true;
            }
        }
    }

    #[test]
    fn verifying_arbitrary_frames_never_panics(
        layout in layouts(1),
        bytes in prop::collection::vec(any::<u8>(), 0..=64),
        fd in any::<bool>(),
        mark in any::<u64>(),
    ) {
        let key = SecOcKey::new([1; 16]);
        let freshness = freshness_for(&layout, mark);
        let mut receiver = manager_before(&layout, &key, freshness, false);
        let frame = if fd {
            Frame::fd(the_id(), &bytes, Default::default())
        } else {
            Frame::classic(the_id(), &bytes)
        };
        if let Ok(frame) = frame {
            let _ = receiver.verify(&frame);
        }
    }

    #[test]
    fn profile_3_structures_round_trip_their_counters(
        layout in layouts(1),
        trip_bits in 0u32..70,
        reset_bits in 0u32..70,
        flag_bits in 0u32..8,
        trip in any::<u64>(),
        reset in any::<u64>(),
        message in any::<u64>(),
        any_value in any::<u64>(),
    ) {
        if let Ok(counters) = TripResetLayout::new(0x10, trip_bits, reset_bits, flag_bits, &layout) {
            let mask = |bits: u32| if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
            prop_assert!(counters.message_lower_bits() <= counters.message_bits());
            let period = TripReset { trip: trip & mask(counters.trip_bits()), reset: reset & mask(counters.reset_bits()) };
            let message = message & counters.max_message();
            let value = counters.compose(period, message);
            prop_assert_eq!(counters.decompose(value), (period, message));
            prop_assert_eq!(value & mask(counters.reset_flag_bits()), period.reset & mask(counters.reset_flag_bits()),
                "the reset flag is the lowest bits");
            prop_assert_eq!((value >> counters.reset_flag_bits()) & mask(counters.message_lower_bits()),
                message & mask(counters.message_lower_bits()), "the lower message bits sit right above it");
            prop_assert_eq!(counters.sync_counters(counters.sync_value(period)), period);
            let _ = counters.decompose(any_value);
        }
    }
}
