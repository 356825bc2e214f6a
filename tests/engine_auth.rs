//! Attacks on the authenticate layer of the engine, in virtual time, on the
//! reference vehicle: forged and misplaced SecOC MACs, replays, freshness
//! rollback after a restart, datagrams replayed, old, truncated, flipped,
//! with a wrong suite, an unknown or revoked key, and authorized devices
//! sending what they may not. Every attack is dropped with its reason; the
//! legitimate traffic interleaved with them is forwarded.

mod common;

use std::sync::Arc;

use bulkhead::engine::verdict::{DropReason, Verdict};
use bulkhead::engine::{DatagramOutcome, Engine};
use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::keys::{Direction, KeyId, KeyName, LinkKey as StoredLinkKey, LinkSecret, MemoryKeyStore, SecretBytes};
use bulkhead::link::{self, LinkSender, LinkSuite};
use bulkhead::rules::PortId;
use bulkhead::secoc::{ManagerConfig, MemoryStore, SecOcKey, SecOcManager, SecOcProfile, SenderConfig, Snapshot};
use bulkhead::time::Timestamp;
use common::{Car, reason, test_keys, to_names};

const DAS: u32 = 0x140;

fn secoc_key(name: &str) -> SecOcKey {
    let store = test_keys();
    let key = bulkhead::keys::KeyStore::secoc_key(&store, name).expect("test key");
    SecOcKey::new(*key.secret().expose())
}

/// The DAS ECU: signs DAS_SteeringCmd with SecOC profile 1.
fn das_ecu(key: Option<&str>) -> SecOcManager {
    let config = ManagerConfig {
        senders: vec![SenderConfig {
            id: CanId::standard(DAS).unwrap(),
            profile: SecOcProfile::profile1(0x140, 8).unwrap(),
            key: key.map(secoc_key),
            fd: Some(FdFlags { brs: true, esi: false }),
        }],
        ..ManagerConfig::default()
    };
    let mut m = SecOcManager::new(config, &Snapshot::default()).unwrap();
    while let Some(s) = m.persist_request() {
        m.confirm_persisted(&s);
    }
    m
}

fn das_frame(car: &mut Car, ecu: &mut SecOcManager) -> Frame {
    let payload =
        car.payload("drive", "DAS_SteeringCmd", &[("SteeringAngleRequest", 2.5), ("SteeringControlActive", 1.0)]);
    let f = ecu.authenticate_next(CanId::standard(DAS).unwrap(), &payload[..8]).unwrap();
    while let Some(s) = ecu.persist_request() {
        ecu.confirm_persisted(&s);
    }
    f
}

fn parked() -> Car {
    let mut car = Car::new();
    car.drive(200, 0.0, 0.0);
    car
}

#[test]
fn secoc_frames_verify_and_forgeries_do_not() {
    let mut car = parked();
    let mut ecu = das_ecu(Some("drive-das"));
    // Legitimate.
    let good = das_frame(&mut car, &mut ecu);
    assert!(car.send("drive", &good).is_forward());
    car.drive(20, 0.0, 0.0);
    // Replayed exactly: freshness.
    assert_eq!(reason(&car.send("drive", &good)), Some(DropReason::SecocFreshness));
    // Forged MAC (a bit flip in the MAC bytes).
    let mut data = das_frame(&mut car, &mut ecu).data().to_vec();
    data[10] ^= 0x04;
    let forged = Frame::fd(CanId::standard(DAS).unwrap(), &data, FdFlags { brs: true, esi: false }).unwrap();
    assert_eq!(reason(&car.send("drive", &forged)), Some(DropReason::SecocMac));
    // A bit flip in the authentic payload, checksum recomputed by the attacker.
    let mut data = das_frame(&mut car, &mut ecu).data().to_vec();
    data[0] ^= 0x01;
    let slot = car.rules.slots.iter().find(|s| s.id.raw() == DAS && s.port == car.port("drive")).unwrap();
    if let Some(cs) = slot.checksum {
        data[cs.byte] = cs.compute(slot.id, &data).unwrap();
    }
    let tampered = Frame::fd(CanId::standard(DAS).unwrap(), &data, FdFlags { brs: true, esi: false }).unwrap();
    assert_eq!(reason(&car.send("drive", &tampered)), Some(DropReason::SecocMac));
    // A MAC made with another id's key (the torque command's).
    let mut wrong = das_ecu(Some("drive-di"));
    let other = das_frame(&mut car, &mut wrong);
    assert_eq!(reason(&car.send("drive", &other)), Some(DropReason::SecocMac));
    // An unsigned frame.
    let payload = car.payload("drive", "DAS_SteeringCmd", &[]);
    let unsigned = Frame::fd(CanId::standard(DAS).unwrap(), &payload, FdFlags { brs: true, esi: false }).unwrap();
    assert_eq!(reason(&car.send("drive", &unsigned)), Some(DropReason::SecocMac));
    // A truncated one.
    let short = Frame::fd(CanId::standard(DAS).unwrap(), &payload[..8], FdFlags { brs: true, esi: false }).unwrap();
    assert!(!car.send("drive", &short).is_forward());
    // And the ECU's next genuine frame still verifies (after the alive
    // counter's resync time: the attack frames used up counter values).
    car.drive(1100, 0.0, 0.0);
    let next = das_frame(&mut car, &mut ecu);
    assert!(car.send("drive", &next).is_forward(), "legitimate traffic after the attacks");
}

#[test]
fn without_a_key_nothing_verifies() {
    let rules = common::reference_rules();
    let mut engine = Engine::new(Arc::clone(&rules));
    let mut car = Car::new();
    let mut ecu = das_ecu(Some("drive-das"));
    let f = das_frame(&mut car, &mut ecu);
    let drive = rules.port_by_name("drive").unwrap();
    let v = engine.on_frame(Timestamp::from_millis(1000), drive, &f);
    assert_eq!(reason(&v), Some(DropReason::SecocNoKey));
}

#[test]
fn freshness_survives_a_restart_and_is_never_rolled_back() {
    let rules = common::reference_rules();
    let drive = rules.port_by_name("drive").unwrap();
    let mut store = MemoryStore::default();
    let mut engine = Engine::new(Arc::clone(&rules));
    engine.install_keys(&test_keys());
    let persist = |engine: &mut Engine, store: &mut MemoryStore| {
        while let Some(s) = engine.persist_request() {
            bulkhead::secoc::FreshnessStore::save(store, &s).unwrap();
            engine.confirm_persisted(&s);
        }
    };
    persist(&mut engine, &mut store);
    let mut car = Car::new();
    let mut ecu = das_ecu(Some("drive-das"));
    let mut sent = Vec::new();
    let mut t = Timestamp::from_millis(1000);
    for _ in 0..50 {
        let f = das_frame(&mut car, &mut ecu);
        assert!(engine.on_frame(t, drive, &f).is_forward());
        persist(&mut engine, &mut store);
        sent.push(f);
        t = t.saturating_add(std::time::Duration::from_millis(20));
    }
    // A crash: no clean shutdown. The gateway restarts from what was persisted.
    drop(engine);
    let snapshot = bulkhead::secoc::FreshnessStore::load(&store).unwrap();
    let mut engine = Engine::with_freshness(Arc::clone(&rules), &snapshot).unwrap();
    engine.install_keys(&test_keys());
    persist(&mut engine, &mut store);
    // Every frame seen before the crash is refused: no replay window reopened.
    for f in &sent {
        let v = engine.on_frame(t, drive, f);
        assert_eq!(reason(&v), Some(DropReason::SecocFreshness), "{f}");
        t = t.saturating_add(std::time::Duration::from_millis(20));
    }
}

/// A link key for `device`, stored as the key store would have it.
fn link_key(id: u32, device: &str, suite: LinkSuite) -> (StoredLinkKey, Vec<u8>) {
    let bytes: Vec<u8> = (0..suite.key_len()).map(|i| (i as u8).wrapping_mul(31).wrapping_add(id as u8)).collect();
    let secret = match suite {
        LinkSuite::Aes128Gcm => LinkSecret::Aes128Gcm(SecretBytes::new(bytes.clone().try_into().unwrap())),
        LinkSuite::ChaCha20Poly1305 => {
            LinkSecret::ChaCha20Poly1305(SecretBytes::new(bytes.clone().try_into().unwrap()))
        }
    };
    (StoredLinkKey::new(KeyId::from_u32(id), KeyName::new(device).unwrap(), Direction::DeviceToGateway, secret), bytes)
}

struct Link {
    car: Car,
    ivi: PortId,
    head_unit: LinkSender,
    media: LinkSender,
    store: MemoryKeyStore,
}

fn link() -> Link {
    let mut car = parked();
    let mut store = test_keys();
    let (hu, hu_bytes) = link_key(0x11, "head-unit", LinkSuite::Aes128Gcm);
    let (mp, mp_bytes) = link_key(0x22, "media-player", LinkSuite::ChaCha20Poly1305);
    store.insert_link(hu).unwrap();
    store.insert_link(mp).unwrap();
    let report = car.engine.install_keys(&store);
    assert_eq!(report.link_keys, 2, "{report:?}");
    let head_unit = LinkSender::new(
        KeyId::from_u32(0x11),
        link::LinkKey::new(LinkSuite::Aes128Gcm, &hu_bytes, "head-unit").unwrap(),
        1,
    )
    .unwrap();
    let media = LinkSender::new(
        KeyId::from_u32(0x22),
        link::LinkKey::new(LinkSuite::ChaCha20Poly1305, &mp_bytes, "media-player").unwrap(),
        1,
    )
    .unwrap();
    let ivi = car.port("infotainment");
    Link { car, ivi, head_unit, media, store }
}

impl Link {
    fn seal(sender: &mut LinkSender, frames: &[Frame]) -> Vec<u8> {
        let mut out = vec![0u8; 1400];
        let sealed = sender.seal(frames, &mut out).unwrap();
        out.truncate(sealed.len);
        out
    }

    fn deliver(&mut self, datagram: &[u8]) -> (DatagramOutcome, Vec<Verdict>) {
        let mut verdicts = Vec::new();
        let now = self.car.now;
        let outcome = self.car.engine.on_datagram(now, self.ivi, datagram, &mut |_, v| verdicts.push(v));
        (outcome, verdicts)
    }
}

#[test]
fn datagram_attacks_are_dropped_and_legitimate_ones_pass() {
    let mut l = link();
    let lock = l.car.frame("infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)]);
    let good = Link::seal(&mut l.head_unit, &[lock]);
    let (outcome, verdicts) = l.deliver(&good);
    assert!(matches!(outcome, DatagramOutcome::Opened { device: Some(_), frames: 1 }), "{outcome:?}");
    assert_eq!(to_names(&l.car.rules, &verdicts[0]), ["body"]);
    // Replayed datagram (exact copy).
    assert_eq!(l.deliver(&good).0, DatagramOutcome::Dropped(link::DropReason::Replayed));
    // Truncated at every length.
    for len in 0..good.len() {
        assert!(matches!(l.deliver(&good[..len]).0, DatagramOutcome::Dropped(_)), "truncated to {len}");
    }
    // Bit flips anywhere.
    l.car.drive(600, 0.0, 0.0);
    let hvac = l.car.frame("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 21.0), ("TargetTempPassenger", 21.0)]);
    let fresh = Link::seal(&mut l.head_unit, &[hvac]);
    for bit in 0..fresh.len() * 8 {
        let mut flipped = fresh.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        assert!(matches!(l.deliver(&flipped).0, DatagramOutcome::Dropped(_)), "flip of bit {bit}");
    }
    // The untouched datagram still opens (flips never consumed its packet number).
    let (outcome, verdicts) = l.deliver(&fresh);
    assert!(matches!(outcome, DatagramOutcome::Opened { .. }));
    assert!(verdicts[0].is_forward(), "{verdicts:?}");
    // Wrong suite byte, unknown key id.
    let mut wrong_suite = Link::seal(&mut l.head_unit, &[hvac]);
    wrong_suite[5] = 2;
    assert_eq!(l.deliver(&wrong_suite).0, DatagramOutcome::Dropped(link::DropReason::SuiteMismatch));
    let mut unknown = Link::seal(&mut l.head_unit, &[hvac]);
    unknown[6..10].copy_from_slice(&0x33u32.to_be_bytes());
    assert_eq!(l.deliver(&unknown).0, DatagramOutcome::Dropped(link::DropReason::UnknownKeyId));
}

#[test]
fn old_packet_numbers_fall_outside_the_window() {
    let mut l = link();
    let frame = l.car.frame("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 21.0), ("TargetTempPassenger", 21.0)]);
    let old = Link::seal(&mut l.head_unit, &[frame]);
    // 2000 later datagrams move the window on (sealed, delivered at the link layer only).
    let mut last = Vec::new();
    for _ in 0..2000 {
        last = Link::seal(&mut l.head_unit, &[frame]);
    }
    let _ = l.deliver(&last);
    assert_eq!(l.deliver(&old).0, DatagramOutcome::Dropped(link::DropReason::TooOld));
}

#[test]
fn devices_get_only_what_their_keys_allow_and_revocation_is_immediate() {
    let mut l = link();
    // The media player's key is valid, but no route lets it send climate or lock requests.
    let hvac = l.car.frame("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 21.0), ("TargetTempPassenger", 21.0)]);
    let d = Link::seal(&mut l.media, &[hvac]);
    let (outcome, verdicts) = l.deliver(&d);
    assert!(matches!(outcome, DatagramOutcome::Opened { device: Some(_), .. }));
    assert_eq!(reason(&verdicts[0]), Some(DropReason::DeviceNotAuthorized));
    // The head unit's is fine...
    l.car.drive(300, 0.0, 0.0);
    let hvac = l.car.frame("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 21.0), ("TargetTempPassenger", 21.0)]);
    let ok = Link::seal(&mut l.head_unit, &[hvac]);
    assert!(l.deliver(&ok).1[0].is_forward());
    // ...until its key is revoked: the next datagram is refused at once.
    l.store.revoke(KeyId::from_u32(0x11));
    l.car.engine.install_keys(&l.store);
    l.car.drive(300, 0.0, 0.0);
    let hvac = l.car.frame("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 21.0), ("TargetTempPassenger", 21.0)]);
    let after = Link::seal(&mut l.head_unit, &[hvac]);
    assert_eq!(l.deliver(&after).0, DatagramOutcome::Dropped(link::DropReason::RevokedKey));
    // A frame on the Ethernet port outside any datagram has no sender: not authenticated.
    let v = l.car.send_as(None, "infotainment", &hvac);
    assert_eq!(reason(&v), Some(DropReason::NotAuthenticated));
}

#[test]
fn lock_requests_are_signed_by_the_gateway_for_the_body_bus() {
    let mut car = parked();
    let lock = car.frame("infotainment", "BCM_LockCmd", &[("LockRequest", 2.0)]);
    let v = car.send("infotainment", &lock);
    let Verdict::Forward { to, resigned: Some((signed_to, signed)), .. } = v else { panic!("{v:?}") };
    assert_eq!(to, signed_to);
    assert_eq!(&signed.data()[..4], &lock.data()[..4], "the authentic payload is kept");
    // The BCM verifies it with the body key.
    let config = ManagerConfig {
        receivers: vec![bulkhead::secoc::ReceiverConfig {
            id: CanId::standard(0x310).unwrap(),
            profile: SecOcProfile::profile1(0x310, 4).unwrap(),
            key: Some(secoc_key("body-gateway")),
        }],
        ..ManagerConfig::default()
    };
    let mut bcm = SecOcManager::new(config, &Snapshot::default()).unwrap();
    while let Some(s) = bcm.persist_request() {
        bcm.confirm_persisted(&s);
    }
    assert!(bcm.verify(&signed).is_ok(), "the BCM accepts the gateway's signature");
    assert!(bcm.verify(&lock).is_err(), "and refuses the head unit's unsigned frame");
}
