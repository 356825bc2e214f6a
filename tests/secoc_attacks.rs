//! Attacks on a secured id, each rejected with the right outcome while the
//! legitimate frames around them are still accepted: forged MACs, MACs of
//! another DataId or key, bit flips anywhere, spliced frames, truncated and
//! padded frames, remote frames, replays.

mod secoc_support;

use bulkhead::frame::{Frame, FrameKind};
use bulkhead::secoc::{FreshnessFailure, MacKey, MemoryStore, Rejection, SecOcManager, SecOcProfile, authenticate};
use secoc_support::{frame, fresh, id, key, other_key, persist, receiving, sending};

const ID: u32 = 0x140;
const DATA_ID: u16 = 0x0140;

/// A legitimate sender and the gateway's receiver for the same id.
struct Bus {
    sender: SecOcManager,
    sender_store: MemoryStore,
    gateway: SecOcManager,
    gateway_store: MemoryStore,
    sent: u64,
}

impl Bus {
    fn new() -> Bus {
        let profile = SecOcProfile::profile1(DATA_ID, 4).unwrap();
        let (sender, sender_store) = fresh(sending(ID, profile));
        let (gateway, gateway_store) = fresh(receiving(ID, profile));
        Bus { sender, sender_store, gateway, gateway_store, sent: 0 }
    }

    fn next_legitimate(&mut self) -> Frame {
        persist(&mut self.sender, &mut self.sender_store);
        self.sent += 1;
        let payload = (self.sent as u32).to_be_bytes();
        self.sender.authenticate_next(id(ID), &payload).unwrap()
    }

    fn offer(&mut self, f: &Frame) -> Result<u64, Rejection> {
        let result = self.gateway.verify(f).map(|proof| proof.freshness());
        persist(&mut self.gateway, &mut self.gateway_store);
        result
    }

    /// The next legitimate frame is accepted with the next counter.
    fn still_works(&mut self) {
        let f = self.next_legitimate();
        assert_eq!(self.offer(&f), Ok(self.sent), "legitimate frame {} after an attack", self.sent);
    }
}

fn with_bytes(f: &Frame, change: impl FnOnce(&mut Vec<u8>)) -> Frame {
    let mut bytes = f.data().to_vec();
    change(&mut bytes);
    frame(ID, &bytes)
}

#[test]
fn forged_macs_are_mac_failures() {
    let mut bus = Bus::new();
    bus.still_works();
    let template = bus.next_legitimate();
    for forged_mac in [[0u8; 3], [0xFF; 3], [0x12, 0x34, 0x56]] {
        let forged = with_bytes(&template, |b| b[5..8].copy_from_slice(&forged_mac));
        if forged.data() != template.data() {
            assert_eq!(bus.offer(&forged), Err(Rejection::MacFailure));
        }
    }
    assert_eq!(bus.offer(&template), Ok(bus.sent), "the real frame is still accepted after the forgeries");
    bus.still_works();
}

#[test]
fn a_mac_computed_for_another_data_id_or_key_fails() {
    let mut bus = Bus::new();
    bus.still_works();
    let next = bus.sent + 1;
    let other_id = SecOcProfile::profile1(0x0141, 4).unwrap();
    let mac_key = MacKey::new(&key());
    let pdu = authenticate(other_id.layout(), &mac_key, next, &[1, 2, 3, 4]).unwrap();
    assert_eq!(bus.offer(&frame(ID, pdu.as_bytes())), Err(Rejection::MacFailure), "MAC of DataId 0x141");
    let ours = SecOcProfile::profile1(DATA_ID, 4).unwrap();
    let pdu = authenticate(ours.layout(), &MacKey::new(&other_key()), next, &[1, 2, 3, 4]).unwrap();
    assert_eq!(bus.offer(&frame(ID, pdu.as_bytes())), Err(Rejection::MacFailure), "another key");
    bus.still_works();
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let mut bus = Bus::new();
    for bit in 0..64 {
        let f = bus.next_legitimate();
        let flipped = with_bytes(&f, |b| b[bit / 8] ^= 0x80 >> (bit % 8));
        assert_eq!(bus.offer(&flipped), Err(Rejection::MacFailure), "bit {bit} flipped");
        assert_eq!(bus.offer(&f), Ok(bus.sent), "the original after bit {bit}");
    }
}

#[test]
fn splicing_payload_and_mac_of_two_frames_fails() {
    let mut bus = Bus::new();
    let a = bus.next_legitimate();
    let b = bus.next_legitimate();
    let spliced = with_bytes(&b, |bytes| bytes[..4].copy_from_slice(&a.data()[..4]));
    assert_eq!(bus.offer(&a), Ok(1));
    assert_eq!(bus.offer(&spliced), Err(Rejection::MacFailure));
    assert_eq!(bus.offer(&b), Ok(2));
}

#[test]
fn truncated_padded_and_remote_frames_are_refused_before_any_mac() {
    let mut bus = Bus::new();
    let f = bus.next_legitimate();
    for len in 0..8 {
        let short = frame(ID, &f.data()[..len]);
        assert_eq!(bus.offer(&short), Err(Rejection::FrameTooShort { expected: 8, got: len }));
    }
    let mut padded = f.data().to_vec();
    padded.extend_from_slice(&[0; 4]);
    assert_eq!(bus.offer(&frame(ID, &padded)), Err(Rejection::FrameTooLong { expected: 8, got: 12 }));
    let remote = Frame::remote(id(ID), 8).unwrap();
    assert_eq!(bus.offer(&remote), Err(Rejection::NotDataFrame { kind: FrameKind::Remote }));
    let error = Frame::error(0x4, &[0; 8]).unwrap();
    assert_eq!(bus.gateway.verify(&error), Err(Rejection::UnknownId { id: error.id() }));
    assert_eq!(bus.offer(&f), Ok(1));
}

#[test]
fn a_frame_moved_to_another_secured_id_fails() {
    let profile = SecOcProfile::profile1(DATA_ID, 4).unwrap();
    let other = SecOcProfile::profile1(0x0141, 4).unwrap();
    let mut config = receiving(ID, profile);
    config.receivers.extend(receiving(0x141, other).receivers);
    let (mut gateway, _store) = fresh(config);
    let mut bus = Bus::new();
    let f = bus.next_legitimate();
    let moved = Frame::classic(id(0x141), f.data()).unwrap();
    assert_eq!(gateway.verify(&moved), Err(Rejection::MacFailure));
    assert_eq!(gateway.verify(&f).map(|p| p.freshness()), Ok(1));
}

#[test]
fn replays_interleaved_with_traffic() {
    let mut bus = Bus::new();
    let mut history = Vec::new();
    for round in 0..300 {
        let f = bus.next_legitimate();
        assert_eq!(bus.offer(&f), Ok(bus.sent));
        history.push(f);
        if round % 7 == 0 {
            assert_eq!(bus.offer(&f), Err(Rejection::FreshnessFailure(FreshnessFailure::Replay)));
        }
        if round > 10 && round % 5 == 0 {
            let old = history[round - 10];
            assert_eq!(bus.offer(&old), Err(Rejection::FreshnessFailure(FreshnessFailure::TooOld)));
        }
    }
}

#[test]
fn a_flood_of_forgeries_does_not_move_the_counter() {
    let mut bus = Bus::new();
    bus.still_works();
    let template = bus.next_legitimate();
    let mut state = 0x1234_5678_u32;
    for _ in 0..2000 {
        // A cheap generator: an attacker's guesses at payload, freshness and MAC.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let forged = with_bytes(&template, |b| {
            b[..4].copy_from_slice(&state.to_le_bytes());
            b[4] = (state >> 3) as u8;
            b[5..8].copy_from_slice(&state.to_be_bytes()[1..]);
        });
        assert!(bus.offer(&forged).is_err());
    }
    assert_eq!(bus.offer(&template), Ok(bus.sent), "the counter did not move");
    bus.still_works();
}

#[test]
fn a_missing_key_rejects_everything_until_installed() {
    let mut bus = Bus::new();
    bus.gateway.set_key(bulkhead::secoc::KeySlot::Receive(id(ID)), None).unwrap();
    let f = bus.next_legitimate();
    assert_eq!(bus.offer(&f), Err(Rejection::NoKey));
    bus.gateway.set_key(bulkhead::secoc::KeySlot::Receive(id(ID)), Some(&other_key())).unwrap();
    assert_eq!(bus.offer(&f), Err(Rejection::MacFailure), "a wrong key");
    bus.gateway.set_key(bulkhead::secoc::KeySlot::Receive(id(ID)), Some(&key())).unwrap();
    assert_eq!(bus.offer(&f), Ok(1));
}
