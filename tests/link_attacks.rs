//! Attacks on the receiver, one by one and interleaved with legitimate traffic:
//! replays, stale packet numbers, truncation, bit flips, suite and key-id games,
//! revocation, oversized datagrams, and authentic but malformed bodies.

mod link_support;

use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::link::{
    DropReason, KeyId, LinkKey, LinkReceiver, LinkSender, LinkSuite, MAX_BODY_LEN, MAX_DATAGRAM_LEN, MIN_DATAGRAM_LEN,
    MemoryKeys, SealError, seal_raw_body,
};
use link_support::{frame, key, seal};

const HEAD_UNIT: u32 = 1;
const PHONE: u32 = 2;
const REAR_SCREEN: u32 = 3;
const DONGLE: u32 = 4;

/// Four devices: the head unit (AES), a phone (ChaCha), a rear screen (AES) and a
/// diagnostic dongle (AES), with one sender each.
struct Car {
    keys: MemoryKeys,
    receiver: LinkReceiver,
    head_unit: LinkSender,
    phone: LinkSender,
    rear_screen: LinkSender,
    dongle: LinkSender,
}

fn car() -> Car {
    let (keys, mut senders) = link_support::store(&[
        (HEAD_UNIT, key(LinkSuite::Aes128Gcm, 0x11, "head-unit")),
        (PHONE, key(LinkSuite::ChaCha20Poly1305, 0x22, "phone")),
        (REAR_SCREEN, key(LinkSuite::Aes128Gcm, 0x33, "rear-screen")),
        (DONGLE, key(LinkSuite::Aes128Gcm, 0x44, "dongle")),
    ]);
    let dongle = senders.pop().unwrap();
    let rear_screen = senders.pop().unwrap();
    let phone = senders.pop().unwrap();
    let head_unit = senders.pop().unwrap();
    Car { keys, receiver: LinkReceiver::new(), head_unit, phone, rear_screen, dongle }
}

impl Car {
    fn open(&mut self, datagram: &[u8]) -> Result<(String, Vec<String>), DropReason> {
        self.receiver
            .open(&self.keys, datagram)
            .map(|opened| (opened.device().to_owned(), opened.frames().iter().map(|f| f.to_string()).collect()))
    }

    fn accepts(&mut self, datagram: &[u8], device: &str, frames: &[&str]) {
        match self.open(datagram) {
            Ok((from, shown)) => {
                assert_eq!(from, device);
                assert_eq!(shown, frames);
            }
            Err(reason) => panic!("legitimate datagram from {device} dropped: {reason}"),
        }
    }
}

fn unlock() -> Frame {
    frame("2A0#0102")
}

fn fd64() -> Frame {
    Frame::fd(CanId::extended(0x18DA_F110).unwrap(), &[0x5A; 64], FdFlags { brs: true, esi: false }).unwrap()
}

#[test]
fn an_exact_copy_is_replayed() {
    let mut car = car();
    let datagram = seal(&mut car.head_unit, &[unlock()]);
    car.accepts(&datagram, "head-unit", &["2A0#0102"]);
    for _ in 0..3 {
        assert_eq!(car.open(&datagram), Err(DropReason::Replayed));
    }
    assert_eq!(car.receiver.counters().dropped(DropReason::Replayed), 3);
    assert_eq!(car.receiver.counters().accepted_datagrams, 1);
}

#[test]
fn a_packet_number_below_the_window_is_too_old() {
    let mut car = car();
    let early: Vec<_> = (0..5).map(|_| seal(&mut car.head_unit, &[unlock()])).collect();
    car.accepts(&early[0], "head-unit", &["2A0#0102"]);
    // The head unit moves on 1024 packet numbers; early[1..] were never delivered.
    let mut later = LinkSender::new(KeyId::new(HEAD_UNIT), key(LinkSuite::Aes128Gcm, 0x11, "head-unit"), 1030).unwrap();
    car.accepts(&seal(&mut later, &[unlock()]), "head-unit", &["2A0#0102"]);
    for datagram in &early[1..] {
        // Packets 2..=5 were never seen, but are 1025 or more below 1030.
        assert_eq!(car.open(datagram), Err(DropReason::TooOld));
    }
    assert_eq!(car.open(&early[0]), Err(DropReason::TooOld), "seen and too old: too old");
}

#[test]
fn the_window_edge_is_exact() {
    let mut car = car();
    let early: Vec<_> = (0..8).map(|_| seal(&mut car.head_unit, &[unlock()])).collect(); // packets 1..=8
    let key = key(LinkSuite::Aes128Gcm, 0x11, "head-unit");
    let mut later = LinkSender::new(KeyId::new(HEAD_UNIT), key, 1030).unwrap();
    car.accepts(&seal(&mut later, &[unlock()]), "head-unit", &["2A0#0102"]); // highest is now 1030
    // 1030 - 1024 = 6 is the first number below the window; 7 is the last inside it.
    assert_eq!(car.open(&early[5]), Err(DropReason::TooOld), "packet 6");
    assert_eq!(car.open(&early[0]), Err(DropReason::TooOld), "packet 1");
    car.accepts(&early[6], "head-unit", &["2A0#0102"]); // packet 7, late but fresh
    car.accepts(&early[7], "head-unit", &["2A0#0102"]); // packet 8
    assert_eq!(car.open(&early[6]), Err(DropReason::Replayed));
}

#[test]
fn a_number_seen_inside_the_window_is_replayed() {
    let mut car = car();
    let datagrams: Vec<_> = (0..20).map(|_| seal(&mut car.phone, &[unlock()])).collect();
    for datagram in &datagrams {
        car.accepts(datagram, "phone", &["2A0#0102"]);
    }
    for datagram in datagrams.iter().step_by(3) {
        assert_eq!(car.open(datagram), Err(DropReason::Replayed));
    }
}

#[test]
fn reordered_fresh_datagrams_are_accepted_once_each() {
    let mut car = car();
    let datagrams: Vec<_> =
        (0..300u32).map(|i| seal(&mut car.head_unit, &[frame(&format!("100#{:04X}", i))])).collect();
    // A fixed shuffle: stride 7 through 300 (coprime), so every datagram comes once, out of order.
    let order: Vec<usize> = (0..300).map(|i| (i * 7 + 13) % 300).collect();
    for &i in &order {
        car.accepts(&datagrams[i], "head-unit", &[&format!("100#{:04X}", i)]);
    }
    for &i in order.iter().rev() {
        assert_eq!(car.open(&datagrams[i]), Err(DropReason::Replayed));
    }
    assert_eq!(car.receiver.highest_packet_number(KeyId::new(HEAD_UNIT)), Some(300));
}

#[test]
fn every_truncation_is_dropped_and_consumes_nothing() {
    for sender in [0, 1] {
        let mut car = car();
        let sender = if sender == 0 { &mut car.head_unit } else { &mut car.phone };
        let datagram = seal(sender, &[unlock(), fd64(), frame("7FF#R8")]);
        for len in 0..datagram.len() {
            let expected = if len < MIN_DATAGRAM_LEN { DropReason::TooShort } else { DropReason::AuthenticationFailed };
            assert_eq!(car.open(&datagram[..len]), Err(expected), "truncated to {len}");
        }
        assert!(car.open(&datagram).is_ok(), "the whole datagram still opens");
    }
}

#[test]
fn suite_byte_games_are_refused() {
    let mut car = car();
    let datagram = seal(&mut car.head_unit, &[unlock()]);
    for (suite, expected) in [
        (2, DropReason::SuiteMismatch),
        (0, DropReason::UnknownSuite),
        (3, DropReason::UnknownSuite),
        (0xFF, DropReason::UnknownSuite),
    ] {
        let mut changed = datagram.clone();
        changed[5] = suite;
        assert_eq!(car.open(&changed), Err(expected), "suite byte {suite}");
    }
    car.accepts(&datagram, "head-unit", &["2A0#0102"]);
}

#[test]
fn header_games_are_refused() {
    let mut car = car();
    let datagram = seal(&mut car.head_unit, &[unlock()]);
    let mut magic = datagram.clone();
    magic[..4].copy_from_slice(b"CANL");
    assert_eq!(car.open(&magic), Err(DropReason::BadMagic));
    let mut version = datagram.clone();
    version[4] = 2;
    assert_eq!(car.open(&version), Err(DropReason::UnsupportedVersion));
    let mut unknown = datagram.clone();
    unknown[6..10].copy_from_slice(&0xDEAD_BEEFu32.to_be_bytes());
    assert_eq!(car.open(&unknown), Err(DropReason::UnknownKeyId));
    let mut oversized = datagram.clone();
    oversized.resize(MAX_DATAGRAM_LEN + 1, 0);
    assert_eq!(car.open(&oversized), Err(DropReason::TooLarge));
    assert_eq!(car.open(&vec![0; 65_507]), Err(DropReason::TooLarge));
    car.accepts(&datagram, "head-unit", &["2A0#0102"]);
}

#[test]
fn the_largest_datagram_opens_and_one_byte_more_is_refused() {
    let mut car = car();
    // 19 FD frames of 64 bytes (70 bytes each) and 6 remote frames (6 bytes each): 1366 bytes of body.
    let mut frames = vec![fd64(); 19];
    frames.extend(std::iter::repeat_n(frame("7FF#R8"), 6));
    let datagram = seal(&mut car.head_unit, &frames);
    assert_eq!(datagram.len(), MAX_DATAGRAM_LEN);
    assert_eq!(car.open(&datagram).map(|(_, f)| f.len()), Ok(25));
    frames.push(frame("7FF#R0"));
    let mut out = [0u8; 2000];
    assert_eq!(car.head_unit.seal(&frames, &mut out), Err(SealError::TooLarge { len: MAX_DATAGRAM_LEN + 6 }));
}

#[test]
fn every_bit_flip_is_refused() {
    for suite in LinkSuite::ALL {
        let mut car = car();
        let sender = if suite == LinkSuite::Aes128Gcm { &mut car.head_unit } else { &mut car.phone };
        let datagram = seal(sender, &[unlock(), fd64()]);
        let mut reasons = std::collections::BTreeMap::new();
        for bit in 0..datagram.len() * 8 {
            let mut flipped = datagram.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let reason = car.open(&flipped).expect_err("a flipped bit must not open");
            *reasons.entry(reason.name()).or_insert(0) += 1;
        }
        // Header bits are refused by the clear checks or the tag; every body or tag bit by the tag.
        let body_and_tag_bits = (datagram.len() - 18) * 8;
        assert!(reasons["authentication_failed"] >= body_and_tag_bits, "{suite}: {reasons:?}");
        assert_eq!(reasons["bad_magic"], 32, "{suite}");
        assert_eq!(reasons["unsupported_version"], 8, "{suite}");
        assert_eq!(car.receiver.counters().accepted_datagrams, 0);
        car.open(&datagram).expect("the original still opens after every forgery");
    }
}

#[test]
fn another_device_s_key_under_a_borrowed_key_id_fails_authentication() {
    let mut car = car();
    // The rear screen (a real, keyed device) seals with its own key but claims the head unit's key id.
    let rear_key = key(LinkSuite::Aes128Gcm, 0x33, "rear-screen");
    let body = [0x00, 0x00, 0x02, 0xA0, 0x00, 0x02, 0x01, 0x02];
    let mut out = [0u8; 100];
    let len = seal_raw_body(&rear_key, KeyId::new(HEAD_UNIT), 1, &body, &mut out).unwrap();
    assert_eq!(car.open(&out[..len]), Err(DropReason::AuthenticationFailed));
    // And the head unit's genuine datagram with the key id rewritten to the rear screen's.
    let genuine = seal(&mut car.head_unit, &[unlock()]);
    let mut relabelled = genuine.clone();
    relabelled[6..10].copy_from_slice(&REAR_SCREEN.to_be_bytes());
    assert_eq!(car.open(&relabelled), Err(DropReason::AuthenticationFailed));
    // To the phone's key id: refused before any cryptography (the phone's key is ChaCha).
    relabelled[6..10].copy_from_slice(&PHONE.to_be_bytes());
    assert_eq!(car.open(&relabelled), Err(DropReason::SuiteMismatch));
    // The rear screen's own genuine datagram, relabelled as the head unit's.
    let mut from_rear = seal(&mut car.rear_screen, &[unlock()]);
    from_rear[6..10].copy_from_slice(&HEAD_UNIT.to_be_bytes());
    assert_eq!(car.open(&from_rear), Err(DropReason::AuthenticationFailed));
    car.accepts(&genuine, "head-unit", &["2A0#0102"]);
    assert_eq!(car.receiver.highest_packet_number(KeyId::new(REAR_SCREEN)), None);
}

#[test]
fn a_key_revoked_between_two_datagrams_is_refused_at_once() {
    let mut car = car();
    let first = seal(&mut car.dongle, &[unlock()]);
    let second = seal(&mut car.dongle, &[unlock()]);
    car.accepts(&first, "dongle", &["2A0#0102"]);
    assert!(car.keys.revoke(KeyId::new(DONGLE)));
    assert_eq!(car.open(&second), Err(DropReason::RevokedKey));
    assert_eq!(car.open(&first), Err(DropReason::RevokedKey), "revocation is checked before the window");
    let other = seal(&mut car.head_unit, &[unlock()]);
    car.accepts(&other, "head-unit", &["2A0#0102"]);
}

/// Bodies that authenticate but are not valid record lists.
fn malformed_bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("truncated record", vec![0x00, 0x00, 0x01, 0x23, 0x00, 0x04, 0xDE, 0xAD]),
        ("trailing byte", vec![0x00, 0x00, 0x01, 0x23, 0x00, 0x00, 0xFF]),
        ("reserved id bit", vec![0x40, 0x00, 0x01, 0x23, 0x00, 0x00]),
        ("standard id 0x800", vec![0x00, 0x00, 0x08, 0x00, 0x00, 0x00]),
        ("reserved flag", vec![0x00, 0x00, 0x01, 0x23, 0x80, 0x00]),
        ("error frame flag", vec![0x00, 0x00, 0x01, 0x23, 0x10, 0x00]),
        ("BRS without FD", vec![0x00, 0x00, 0x01, 0x23, 0x02, 0x00]),
        ("remote FD", vec![0x00, 0x00, 0x01, 0x23, 0x09, 0x00]),
        ("remote DLC 9", vec![0x00, 0x00, 0x01, 0x23, 0x08, 0x09]),
        ("classic 9 bytes", [vec![0x00, 0x00, 0x01, 0x23, 0x00, 0x09], vec![0; 9]].concat()),
        ("FD 13 bytes", [vec![0x00, 0x00, 0x01, 0x23, 0x01, 0x0D], vec![0; 13]].concat()),
        ("129 records", [0u8; 6].repeat(129)),
    ]
}

#[test]
fn an_authentic_malformed_body_is_dropped_and_its_packet_number_consumed() {
    let mut car = car();
    let head_key = key(LinkSuite::Aes128Gcm, 0x11, "head-unit");
    let mut out = [0u8; 1400];
    for (number, (what, body)) in (100u64..).zip(malformed_bodies()) {
        let len = seal_raw_body(&head_key, KeyId::new(HEAD_UNIT), number, &body, &mut out).unwrap();
        let datagram = out[..len].to_vec();
        assert_eq!(car.open(&datagram), Err(DropReason::MalformedBody), "{what}");
        assert_eq!(car.receiver.highest_packet_number(KeyId::new(HEAD_UNIT)), Some(number), "{what}");
        assert_eq!(car.open(&datagram), Err(DropReason::Replayed), "{what}: consumed");
    }
    // An empty body is refused by size before any cryptography.
    let len = seal_raw_body(&head_key, KeyId::new(HEAD_UNIT), 500, &[], &mut out).unwrap();
    assert_eq!(car.open(&out[..len]), Err(DropReason::TooShort));
    assert_eq!(car.receiver.counters().dropped(DropReason::MalformedBody), 12);
}

#[test]
fn legitimate_traffic_interleaved_with_every_attack_is_accepted() {
    let mut car = car();
    let mut accepted = 0;
    let legit = |car: &mut Car, accepted: &mut u64, n: u32| {
        let text = format!("2A0#{:04X}", n);
        let from_head = seal(&mut car.head_unit, &[frame(&text)]);
        car.accepts(&from_head, "head-unit", &[&text]);
        let from_phone = seal(&mut car.phone, &[frame(&text), fd64()]);
        assert_eq!(car.open(&from_phone).map(|(d, f)| (d, f.len())), Ok(("phone".to_owned(), 2)));
        *accepted += 2;
    };
    let head_key = key(LinkSuite::Aes128Gcm, 0x11, "head-unit");
    let rear_key = key(LinkSuite::Aes128Gcm, 0x33, "rear-screen");
    let mut expected = std::collections::BTreeMap::new();
    let mut expect = |reason: DropReason| *expected.entry(reason.name()).or_insert(0u64) += 1;

    legit(&mut car, &mut accepted, 0);
    let captured = seal(&mut car.head_unit, &[unlock()]);
    car.accepts(&captured, "head-unit", &["2A0#0102"]);
    accepted += 1;
    legit(&mut car, &mut accepted, 1);
    // Replay of a captured datagram.
    assert_eq!(car.open(&captured), Err(DropReason::Replayed));
    expect(DropReason::Replayed);
    legit(&mut car, &mut accepted, 2);
    // Truncations.
    for len in [0, 17, 39, 40, captured.len() - 1] {
        let reason = car.open(&captured[..len]).unwrap_err();
        expect(reason);
    }
    legit(&mut car, &mut accepted, 3);
    // Bit flips in header, body and tag of a fresh datagram that is then delivered intact.
    let fresh = seal(&mut car.head_unit, &[unlock()]);
    for byte in [0, 4, 5, 9, 17, 18, 30, fresh.len() - 1] {
        let mut flipped = fresh.clone();
        flipped[byte] ^= 0x10;
        expect(car.open(&flipped).unwrap_err());
    }
    legit(&mut car, &mut accepted, 4);
    car.accepts(&fresh, "head-unit", &["2A0#0102"]);
    accepted += 1;
    // Unknown key id, suite mismatch, oversized.
    let mut unknown = fresh.clone();
    unknown[6..10].copy_from_slice(&99u32.to_be_bytes());
    assert_eq!(car.open(&unknown), Err(DropReason::UnknownKeyId));
    expect(DropReason::UnknownKeyId);
    let mut wrong_suite = seal(&mut car.head_unit, &[unlock()]);
    wrong_suite[5] = 2;
    assert_eq!(car.open(&wrong_suite), Err(DropReason::SuiteMismatch));
    expect(DropReason::SuiteMismatch);
    let mut oversized = fresh.clone();
    oversized.resize(1500, 0xAA);
    assert_eq!(car.open(&oversized), Err(DropReason::TooLarge));
    expect(DropReason::TooLarge);
    legit(&mut car, &mut accepted, 5);
    // Another device's key under the head unit's key id.
    let mut out = [0u8; 100];
    let len = seal_raw_body(&rear_key, KeyId::new(HEAD_UNIT), 10_000, &[0, 0, 1, 0, 0, 0], &mut out).unwrap();
    assert_eq!(car.open(&out[..len]), Err(DropReason::AuthenticationFailed));
    expect(DropReason::AuthenticationFailed);
    legit(&mut car, &mut accepted, 6);
    // An authentic malformed body far ahead: it moves the window (packet 5000).
    let len = seal_raw_body(&head_key, KeyId::new(HEAD_UNIT), 5000, &[0, 0, 8, 0, 0, 0], &mut out).unwrap();
    assert_eq!(car.open(&out[..len]), Err(DropReason::MalformedBody));
    expect(DropReason::MalformedBody);
    // The head unit's own next packets (around 20) are now more than 1024 below 5000.
    let stale = seal(&mut car.head_unit, &[unlock()]);
    assert_eq!(car.open(&stale), Err(DropReason::TooOld));
    expect(DropReason::TooOld);
    let mut ahead = LinkSender::new(KeyId::new(HEAD_UNIT), head_key.clone(), 5001).unwrap();
    car.accepts(&seal(&mut ahead, &[unlock()]), "head-unit", &["2A0#0102"]);
    accepted += 1;
    // Revocation of the dongle mid-stream.
    let dongle_first = seal(&mut car.dongle, &[unlock()]);
    car.accepts(&dongle_first, "dongle", &["2A0#0102"]);
    accepted += 1;
    car.keys.revoke(KeyId::new(DONGLE));
    let dongle_second = seal(&mut car.dongle, &[unlock()]);
    assert_eq!(car.open(&dongle_second), Err(DropReason::RevokedKey));
    expect(DropReason::RevokedKey);
    let phone_frame = seal(&mut car.phone, &[fd64()]);
    assert!(car.open(&phone_frame).is_ok());
    accepted += 1;

    let counters = car.receiver.counters();
    assert_eq!(counters.accepted_datagrams, accepted);
    let dropped: std::collections::BTreeMap<_, _> =
        counters.iter().filter(|&(_, n)| n > 0).map(|(reason, n)| (reason.name(), n)).collect();
    assert_eq!(dropped, expected);
    assert!(counters.total_dropped() >= 20, "{counters}");
}

#[test]
fn a_key_of_the_wrong_length_is_refused() {
    assert!(LinkKey::new(LinkSuite::Aes128Gcm, &[0; 15], "x").is_err());
    assert!(LinkKey::new(LinkSuite::ChaCha20Poly1305, &[0; 16], "x").is_err());
    assert!(
        seal_raw_body(&key(LinkSuite::Aes128Gcm, 1, "x"), KeyId::new(1), 1, &[0; MAX_BODY_LEN + 1], &mut [0; 2000])
            .is_err()
    );
}
