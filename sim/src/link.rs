//! The simulation's frames of the Ethernet link as datagrams: what the head
//! unit, the phone and the media player put on the wire, and what an attacker
//! on that wire does with it.
//!
//! [`Datagrams`] seals each [`SimFrame`] of a link port into one datagram
//! (protocol v1, `docs/link.md`) with the device-to-gateway key of the frame's
//! device, taken from the key store, so the gateway opens it with the same
//! key. Attacks on the link itself change what goes on the wire:
//!
//! | label | datagram |
//! | --- | --- |
//! | `link-replay` | the exact bytes of the device's datagram of its latest legitimate request |
//! | `forged-mac` | sealed, then one bit of the ciphertext or tag flipped |
//! | `revoked-key` | sealed with the named device's key, which the gateway has revoked |
//! | `link-fuzz` | random bytes: noise, the magic and noise, a valid header and noise, or a sealed datagram with a byte changed, cut or added |
//! | `link-flood` | sealed under fresh packet numbers, then the last tag byte changed |
//!
//! Packet numbers: a sender must never reuse one, across runs too (the
//! gateway remembers the highest it accepted per key, and persists a mark
//! ahead of it). The simulator keeps no state between runs, so it starts each
//! key's numbers at the current Unix time in microseconds
//! ([`packet_number_from_clock`]): every earlier run started at an earlier
//! time and sent fewer datagrams than microseconds have passed since it
//! started (a datagram takes longer than a microsecond to send), so the new
//! numbers are above every number an earlier run used; and above the mark a
//! gateway persisted ahead of them as soon as the time since the previous run,
//! minus its datagrams, exceeds the gateway's reservation block (`bulkhead
//! run` reserves 256 numbers per key: a quarter of a millisecond of clock). A
//! clock set back by more than that would make the gateway drop the run's
//! datagrams as `too_old` or `replayed`: no request would cross (the bus watch
//! shows it) and the gateway's link counters would say why.
//!
//! Invariants: a sealed datagram's packet number is never used again by this
//! value; tampered datagrams never authenticate (every tampering changes a
//! byte covered by the tag, or the header the tag binds); the same frames and
//! seed give the same tampering.

use bulkhead::frame::Frame;
use bulkhead::keys::{Direction, KeyStore};
use bulkhead::link::{self, HEADER_LEN, KeyId, LinkSender, MAGIC, MAX_DATAGRAM_LEN, SealError, VERSION};
use bulkhead::rules::{CompiledRules, DeviceId};

use crate::rng::Rng;
use crate::scenario::AttackKind;
use crate::traffic::{Label, SimFrame};

/// The largest datagram the fuzzer writes: a little over the protocol's limit,
/// so that `too_large` is exercised too.
pub const MAX_FUZZ_LEN: usize = 1500;

/// Why a frame cannot become a datagram.
#[derive(Debug, thiserror::Error)]
pub enum DatagramError {
    /// A frame of a link port without a device (a scenario bug).
    #[error("a frame of the link has no sending device")]
    NoDevice,
    /// The key directory has no usable device-to-gateway key for the device.
    #[error("the key store has no device-to-gateway link key for device `{0}` (bulkhead-sim keys makes one)")]
    NoKey(String),
    /// Sealing failed (exhausted packet numbers; never for one frame otherwise).
    #[error("sealing a datagram of `{device}`: {source}")]
    Seal {
        /// The device.
        device: String,
        /// Why.
        #[source]
        source: SealError,
    },
    /// A `link-replay` before the device sent any legitimate request.
    #[error("`link-replay`: device `{0}` has sent no request yet, there is nothing to replay")]
    NothingToReplay(String),
}

/// One device's sending side.
struct DeviceLink {
    name: String,
    sender: LinkSender,
    key_id: KeyId,
    suite: link::LinkSuite,
    /// The datagram of the device's latest legitimate request.
    last_request: Option<Vec<u8>>,
}

/// Seals the simulation's link frames into datagrams, and tampers with them
/// as the attacks say. See the module docs.
pub struct Datagrams {
    devices: Vec<Option<DeviceLink>>,
    names: Vec<String>,
    rng: Rng,
    buf: Vec<u8>,
    frames: Vec<Frame>,
}

/// The current Unix time in microseconds: the first packet number of a run
/// (see the module docs for why).
pub fn packet_number_from_clock() -> u64 {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    micros.min(link::MAX_PACKET_NUMBER / 2)
}

impl Datagrams {
    /// Senders for every device of `rules` that has a device-to-gateway key in
    /// `keys` (the highest key id when it has several), starting at packet
    /// number `first_packet_number`; `seed` drives the tampering.
    pub fn new(rules: &CompiledRules, keys: &dyn KeyStore, first_packet_number: u64, seed: u64) -> Self {
        let mut devices = Vec::with_capacity(rules.devices.len());
        for device in &rules.devices {
            let key = keys
                .link_keys()
                .into_iter()
                .filter(|k| k.device.as_str() == device.name && k.direction == Direction::DeviceToGateway)
                .filter_map(|k| keys.link_key(k.id).ok())
                .max_by_key(|k| k.id());
            let link = key.and_then(|k| {
                let prepared = link::LinkKey::new(k.suite(), k.secret().expose(), &device.name).ok()?;
                let sender = LinkSender::new(k.id(), prepared, first_packet_number).ok()?;
                Some(DeviceLink {
                    name: device.name.clone(),
                    sender,
                    key_id: k.id(),
                    suite: k.suite(),
                    last_request: None,
                })
            });
            devices.push(link);
        }
        let names = rules.devices.iter().map(|d| d.name.clone()).collect();
        Datagrams {
            devices,
            names,
            rng: Rng::new(seed ^ 0x6c69_6e6b),
            buf: vec![0; MAX_FUZZ_LEN],
            frames: Vec::with_capacity(link::MAX_FRAMES_PER_DATAGRAM),
        }
    }

    /// True when `device` has a key to seal with.
    pub fn has_key(&self, device: DeviceId) -> bool {
        self.devices.get(device.0 as usize).is_some_and(Option::is_some)
    }

    /// The key id `device` seals with.
    pub fn key_id(&self, device: DeviceId) -> Option<KeyId> {
        self.devices.get(device.0 as usize)?.as_ref().map(|d| d.key_id)
    }

    /// The datagram carrying `f` (a frame of a link port), tampered with as
    /// its label says. The bytes are valid until the next call.
    pub fn datagram(&mut self, f: &SimFrame) -> Result<&[u8], DatagramError> {
        self.datagram_of(std::slice::from_ref(f))
    }

    /// One datagram carrying `frames` (at least one, of one device and one
    /// label, fitting in a datagram: see [`link::frames_that_fit`]), tampered
    /// with as their label says. The bytes are valid until the next call.
    pub fn datagram_of(&mut self, frames: &[SimFrame]) -> Result<&[u8], DatagramError> {
        let f = frames.first().ok_or(DatagramError::Seal { device: String::new(), source: SealError::NoFrames })?;
        let device = f.device.ok_or(DatagramError::NoDevice)?;
        let Some(Some(link)) = self.devices.get_mut(device.0 as usize) else {
            return Err(DatagramError::NoKey(self.names.get(device.0 as usize).cloned().unwrap_or_default()));
        };
        self.frames.clear();
        self.frames.extend(frames.iter().map(|f| f.frame));
        let batch = &self.frames;
        let seal = |link: &mut DeviceLink, buf: &mut [u8]| {
            link.sender
                .seal(batch, buf)
                .map(|s| s.len)
                .map_err(|source| DatagramError::Seal { device: link.name.clone(), source })
        };
        let len = match f.label {
            Label::Attack(AttackKind::LinkReplay) => {
                let Some(bytes) = &link.last_request else {
                    return Err(DatagramError::NothingToReplay(link.name.clone()));
                };
                self.buf[..bytes.len()].copy_from_slice(bytes);
                bytes.len()
            }
            Label::Attack(AttackKind::ForgedMac) => {
                let len = seal(link, &mut self.buf)?;
                // Any bit after the header: the ciphertext or the tag.
                let bit = self.rng.below(((len - HEADER_LEN) * 8) as u64) as usize;
                self.buf[HEADER_LEN + bit / 8] ^= 1 << (bit % 8);
                len
            }
            Label::Attack(AttackKind::LinkFlood) => {
                let len = seal(link, &mut self.buf)?;
                self.buf[len - 1] ^= 0xA5;
                len
            }
            Label::Attack(AttackKind::LinkFuzz) => fuzz(&mut self.rng, link, batch, &mut self.buf)?,
            _ => {
                let len = seal(link, &mut self.buf)?;
                if f.label == Label::Request {
                    link.last_request = Some(self.buf[..len].to_vec());
                }
                len
            }
        };
        Ok(&self.buf[..len])
    }
}

/// One fuzzed datagram into `buf` (at least [`MAX_FUZZ_LEN`] bytes); returns its length.
fn fuzz(rng: &mut Rng, link: &mut DeviceLink, frames: &[Frame], buf: &mut [u8]) -> Result<usize, DatagramError> {
    let short_len = |rng: &mut Rng| 40 + rng.below(160) as usize;
    Ok(match rng.below(4) {
        // Noise of any length, a little beyond the largest datagram.
        0 => {
            let len = rng.below(MAX_FUZZ_LEN as u64 + 1) as usize;
            rng.fill(&mut buf[..len]);
            len
        }
        // The magic, then noise.
        1 => {
            let len = short_len(rng);
            rng.fill(&mut buf[..len]);
            buf[..4].copy_from_slice(&MAGIC);
            len
        }
        // A header the gateway accepts up to the tag check, then noise.
        2 => {
            let len = short_len(rng);
            rng.fill(&mut buf[..len]);
            let packet_number = link.sender.next_packet_number().unwrap_or(0);
            buf[..4].copy_from_slice(&MAGIC);
            buf[4] = VERSION;
            buf[5] = link.suite.byte();
            buf[6..10].copy_from_slice(&link.key_id.get().to_be_bytes());
            buf[10..18].copy_from_slice(&packet_number.to_be_bytes());
            len
        }
        // A sealed datagram with one byte changed, cut short or lengthened.
        _ => {
            let len = link
                .sender
                .seal(frames, buf)
                .map(|s| s.len)
                .map_err(|source| DatagramError::Seal { device: link.name.clone(), source })?;
            match rng.below(3) {
                0 => {
                    let at = rng.below(len as u64) as usize;
                    buf[at] ^= 1 + rng.below(255) as u8;
                    len
                }
                1 => rng.below(len as u64) as usize,
                _ => {
                    let extra = 1 + rng.below(32) as usize;
                    rng.fill(&mut buf[len..len + extra]);
                    len + extra
                }
            }
        }
    })
}

const _: () = assert!(MAX_FUZZ_LEN >= MAX_DATAGRAM_LEN + 32);

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use bulkhead::frame::{CanId, Frame};
    use bulkhead::keys::{KeyName, LinkSecret, MemoryKeyStore};
    use bulkhead::link::{DropReason, LinkReceiver, MemoryKeys};
    use bulkhead::rules::PortId;
    use bulkhead::time::Timestamp;

    use super::*;

    /// The reference rules, a key store with both directions of every device,
    /// and the gateway's view of the device-to-gateway keys.
    fn setup() -> (CompiledRules, MemoryKeyStore, MemoryKeys) {
        let rules = bulkhead::rules::reference().expect("reference rules").0;
        let mut store = MemoryKeyStore::new();
        let mut gateway = MemoryKeys::new();
        let mut id = 0x100;
        for device in &rules.devices {
            for direction in [Direction::DeviceToGateway, Direction::GatewayToDevice] {
                id += 1;
                let secret = LinkSecret::random(link::LinkSuite::Aes128Gcm).expect("random");
                let name = KeyName::new(&device.name).expect("name");
                let key = bulkhead::keys::LinkKey::new(KeyId::new(id), name, direction, secret);
                if direction == Direction::DeviceToGateway {
                    let prepared = link::LinkKey::new(key.suite(), key.secret().expose(), &device.name).expect("key");
                    gateway.insert(KeyId::new(id), prepared).expect("insert");
                }
                store.insert_link(key).expect("insert");
            }
        }
        (rules, store, gateway)
    }

    fn sim_frame(rules: &CompiledRules, device: &str, label: Label, byte: u8) -> SimFrame {
        SimFrame {
            time: Timestamp::from_secs_nanos(1, 0),
            port: rules.port_by_name("infotainment").unwrap_or(PortId(0)),
            frame: Frame::classic(CanId::standard(0x321).expect("id"), &[byte, 2, 3]).expect("frame"),
            label,
            device: rules.device_by_name(device),
        }
    }

    #[test]
    fn genuine_frames_open_at_the_gateway_with_the_sender_s_identity() {
        let (rules, store, gateway) = setup();
        let mut datagrams = Datagrams::new(&rules, &store, 1_000, 1);
        let mut receiver = LinkReceiver::new();
        for (i, device) in ["head-unit", "phone-app", "media-player"].into_iter().enumerate() {
            let f = sim_frame(&rules, device, Label::Genuine, i as u8);
            let bytes = datagrams.datagram(&f).expect("datagram").to_vec();
            let opened = receiver.open(&gateway, &bytes).expect("opens");
            assert_eq!(opened.device(), device);
            assert_eq!(opened.frames(), &[f.frame]);
            assert_eq!(opened.packet_number(), 1_000, "each key starts at the first packet number");
        }
    }

    #[test]
    fn a_replayed_datagram_is_the_latest_request_byte_for_byte() {
        let (rules, store, gateway) = setup();
        let mut datagrams = Datagrams::new(&rules, &store, 5, 1);
        let mut receiver = LinkReceiver::new();
        let replay = sim_frame(&rules, "head-unit", Label::Attack(AttackKind::LinkReplay), 0);
        assert!(matches!(datagrams.datagram(&replay), Err(DatagramError::NothingToReplay(d)) if d == "head-unit"));
        let request = datagrams.datagram(&sim_frame(&rules, "head-unit", Label::Request, 7)).expect("seal").to_vec();
        let later = datagrams.datagram(&sim_frame(&rules, "head-unit", Label::Genuine, 8)).expect("seal").to_vec();
        assert!(receiver.open(&gateway, &request).is_ok());
        assert!(receiver.open(&gateway, &later).is_ok());
        let replayed = datagrams.datagram(&replay).expect("replay").to_vec();
        assert_eq!(replayed, request, "the request's bytes, not the latest datagram's");
        assert_eq!(receiver.open(&gateway, &replayed).map(|o| o.packet_number()), Err(DropReason::Replayed));
    }

    #[test]
    fn forged_tags_and_floods_never_authenticate() {
        let (rules, store, gateway) = setup();
        let mut datagrams = Datagrams::new(&rules, &store, 1, 9);
        let mut receiver = LinkReceiver::new();
        let mut numbers = Vec::new();
        for i in 0..200u8 {
            let kind = if i % 2 == 0 { AttackKind::ForgedMac } else { AttackKind::LinkFlood };
            let bytes = datagrams.datagram(&sim_frame(&rules, "head-unit", Label::Attack(kind), i)).expect("seal");
            numbers.push(u64::from_be_bytes(bytes[10..18].try_into().expect("8 bytes")));
            assert_eq!(receiver.open(&gateway, bytes).err(), Some(DropReason::AuthenticationFailed), "{kind:?} {i}");
        }
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "fresh packet numbers: {numbers:?}");
        // The genuine sender goes on above them, and is accepted.
        let genuine = datagrams.datagram(&sim_frame(&rules, "head-unit", Label::Genuine, 0)).expect("seal");
        assert!(receiver.open(&gateway, genuine).is_ok());
    }

    #[test]
    fn a_revoked_key_is_refused_before_any_cryptography() {
        let (rules, store, mut gateway) = setup();
        let mut datagrams = Datagrams::new(&rules, &store, 1, 1);
        let phone = rules.device_by_name("phone-app").expect("phone");
        let key_id = datagrams.key_id(phone).expect("phone's key");
        assert!(gateway.revoke(key_id));
        let f = sim_frame(&rules, "phone-app", Label::Attack(AttackKind::RevokedKey), 1);
        let bytes = datagrams.datagram(&f).expect("sealed with the phone's key");
        assert_eq!(LinkReceiver::new().open(&gateway, bytes).err(), Some(DropReason::RevokedKey));
    }

    #[test]
    fn fuzzed_datagrams_reach_many_checks_and_pass_none() {
        let (rules, store, gateway) = setup();
        let mut datagrams = Datagrams::new(&rules, &store, 1, 3);
        let mut receiver = LinkReceiver::new();
        let mut reasons = BTreeSet::new();
        for i in 0..2000u32 {
            let f = sim_frame(&rules, "head-unit", Label::Attack(AttackKind::LinkFuzz), i as u8);
            let bytes = datagrams.datagram(&f).expect("fuzz");
            assert!(bytes.len() <= MAX_FUZZ_LEN);
            match receiver.open(&gateway, bytes) {
                Ok(o) => panic!("fuzzed datagram {i} accepted: {:?}", o.frames()),
                Err(reason) => reasons.insert(reason.name()),
            };
        }
        for reason in ["too_large", "too_short", "bad_magic", "unsupported_version", "authentication_failed"] {
            assert!(reasons.contains(reason), "{reason} never reached: {reasons:?}");
        }
    }

    #[test]
    fn a_device_without_a_key_is_an_error_naming_it() {
        let (rules, _, _) = setup();
        let mut datagrams = Datagrams::new(&rules, &MemoryKeyStore::new(), 1, 1);
        let head_unit = rules.device_by_name("head-unit").expect("device");
        assert!(!datagrams.has_key(head_unit));
        let err = datagrams.datagram(&sim_frame(&rules, "head-unit", Label::Genuine, 0)).unwrap_err();
        assert!(err.to_string().contains("`head-unit`"), "{err}");
    }

    #[test]
    fn the_clock_gives_packet_numbers_beyond_any_earlier_run() {
        let first = packet_number_from_clock();
        assert!(first > 1_700_000_000_000_000, "microseconds since 1970: {first}");
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(packet_number_from_clock() >= first + 1_000);
    }
}
