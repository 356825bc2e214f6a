//! The receiving end: a datagram in, the sending device and its frames out, or
//! a silent drop with a counted reason.
//!
//! [`LinkReceiver::open`] checks, in this order and stopping at the first
//! failure: the size, the magic, the version, the suite byte, the key (known,
//! not revoked), that the header's suite is the key's, that the packet number
//! is fresh in the key's replay window (*without* updating it), the AEAD tag
//! (constant time; decryption into the receiver's fixed buffer happens only
//! when it verifies), *then* records the packet number, and finally decodes
//! the frame records. Everything before the tag check is a function of public
//! header bytes and public state; see `docs/link.md`, "Timing".
//!
//! Invariants: nothing a forged datagram carries changes any state but a drop
//! counter; an authentic datagram's packet number is consumed even when its
//! body turns out malformed; opening allocates only the first time a key is
//! seen (its window); an [`Opened`] can only come out of a successful open,
//! so frames from the link cannot be forwarded unauthenticated by mistake.

use std::collections::HashMap;

use super::body::{MAX_FRAMES_PER_DATAGRAM, decode_body};
use super::drop::{DropReason, LinkCounters};
use super::keys::{KeyId, KeyLookup, LinkKeys};
use super::window::ReplayWindow;
use super::wire::{HEADER_LEN, Header, MAX_BODY_LEN, TAG_LEN};
use crate::frame::Frame;

/// An authenticated, decrypted datagram: who sent it and the frames it carries.
#[derive(Clone, Copy, Debug)]
pub struct Opened<'a> {
    key_id: KeyId,
    device: &'a str,
    packet_number: u64,
    frames: &'a [Frame],
}

impl<'a> Opened<'a> {
    /// The key the datagram was sealed with.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The device the key belongs to: the sender's authenticated identity.
    pub fn device(&self) -> &'a str {
        self.device
    }

    /// The datagram's packet number (now consumed).
    pub fn packet_number(&self) -> u64 {
        self.packet_number
    }

    /// The frames, in the order they were sealed (at least one).
    pub fn frames(&self) -> &'a [Frame] {
        self.frames
    }
}

/// Opens datagrams from any number of keys, with one replay window per key.
#[derive(Debug)]
pub struct LinkReceiver {
    windows: HashMap<KeyId, ReplayWindow>,
    plaintext: Box<[u8]>,
    frames: Vec<Frame>,
    counters: LinkCounters,
}

impl Default for LinkReceiver {
    fn default() -> Self {
        Self::new()
    }
}

impl LinkReceiver {
    /// A receiver that has seen nothing (every key starts with an empty window;
    /// see [`restore_high_water`](Self::restore_high_water) after a restart).
    pub fn new() -> Self {
        LinkReceiver {
            windows: HashMap::new(),
            plaintext: vec![0; MAX_BODY_LEN].into_boxed_slice(),
            frames: Vec::with_capacity(MAX_FRAMES_PER_DATAGRAM),
            counters: LinkCounters::default(),
        }
    }

    /// Checks, authenticates and decrypts one datagram (see the module docs for
    /// the order). On success the frames live in the receiver until the next call.
    pub fn open<'a, K: LinkKeys + ?Sized>(
        &'a mut self,
        keys: &'a K,
        datagram: &[u8],
    ) -> Result<Opened<'a>, DropReason> {
        match self.authenticate_and_decode(keys, datagram) {
            Ok((header, device)) => {
                self.counters.count_accept(self.frames.len());
                Ok(Opened { key_id: header.key_id, device, packet_number: header.packet_number, frames: &self.frames })
            }
            Err(reason) => {
                self.counters.count_drop(reason);
                Err(reason)
            }
        }
    }

    fn authenticate_and_decode<'k, K: LinkKeys + ?Sized>(
        &mut self,
        keys: &'k K,
        datagram: &[u8],
    ) -> Result<(Header, &'k str), DropReason> {
        let header = Header::parse(datagram)?;
        let key = match keys.lookup(header.key_id) {
            KeyLookup::Unknown => return Err(DropReason::UnknownKeyId),
            KeyLookup::Revoked => return Err(DropReason::RevokedKey),
            KeyLookup::Active(key) => key,
        };
        if key.suite() != header.suite {
            return Err(DropReason::SuiteMismatch);
        }
        if let Some(window) = self.windows.get(&header.key_id) {
            window.check(header.packet_number)?;
        }
        // `Header::parse` guarantees HEADER_LEN + MIN_BODY_LEN + TAG_LEN <= len <= MAX_DATAGRAM_LEN.
        let (aad, sealed) = datagram.split_at_checked(HEADER_LEN).ok_or(DropReason::TooShort)?;
        let (ciphertext, tag) = sealed.split_last_chunk::<TAG_LEN>().ok_or(DropReason::TooShort)?;
        let plaintext = self.plaintext.get_mut(..ciphertext.len()).ok_or(DropReason::TooLarge)?;
        key.open_into(&header.nonce(), aad, ciphertext, tag, plaintext)
            .map_err(|_| DropReason::AuthenticationFailed)?;
        self.windows.entry(header.key_id).or_default().record(header.packet_number);
        decode_body(plaintext, &mut self.frames).map_err(|_| DropReason::MalformedBody)?;
        Ok((header, key.device()))
    }

    /// The counters of accepted and dropped datagrams.
    pub fn counters(&self) -> &LinkCounters {
        &self.counters
    }

    /// The highest packet number accepted under `key_id`, for the daemon to persist.
    pub fn highest_packet_number(&self, key_id: KeyId) -> Option<u64> {
        self.windows.get(&key_id).and_then(ReplayWindow::highest)
    }

    /// Every key seen with its highest accepted packet number (in no particular order).
    pub fn high_water_marks(&self) -> impl Iterator<Item = (KeyId, u64)> + '_ {
        self.windows.iter().filter_map(|(&key_id, window)| Some((key_id, window.highest()?)))
    }

    /// After a restart: refuses every packet number of `key_id` at or below
    /// `high_water` (the persisted mark). A window that already reaches higher
    /// is kept as it is.
    pub fn restore_high_water(&mut self, key_id: KeyId, high_water: u64) {
        let window = self.windows.entry(key_id).or_default();
        if window.highest().is_none_or(|highest| highest < high_water) {
            *window = ReplayWindow::after_restart(high_water);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::CanId;
    use crate::link::{LinkKey, LinkSender, LinkSuite, MemoryKeys};

    fn setup() -> (MemoryKeys, LinkSender) {
        let key = LinkKey::new(LinkSuite::Aes128Gcm, &[3; 16], "head-unit").unwrap();
        let mut keys = MemoryKeys::new();
        keys.insert(KeyId::new(1), key.clone()).unwrap();
        (keys, LinkSender::new(KeyId::new(1), key, 1).unwrap())
    }

    fn seal(sender: &mut LinkSender) -> Vec<u8> {
        let frame = Frame::classic(CanId::standard(0x100).unwrap(), &[sender.next_packet_number().unwrap() as u8]);
        let mut out = [0u8; 64];
        let sealed = sender.seal(&[frame.unwrap()], &mut out).unwrap();
        out[..sealed.len].to_vec()
    }

    #[test]
    fn opens_once_and_counts() {
        let (keys, mut sender) = setup();
        let mut receiver = LinkReceiver::new();
        let datagram = seal(&mut sender);
        let opened = receiver.open(&keys, &datagram).unwrap();
        assert_eq!((opened.device(), opened.key_id(), opened.packet_number()), ("head-unit", KeyId::new(1), 1));
        assert_eq!(opened.frames()[0].data(), &[1]);
        assert_eq!(receiver.open(&keys, &datagram).unwrap_err(), DropReason::Replayed);
        assert_eq!(receiver.counters().accepted_datagrams, 1);
        assert_eq!(receiver.counters().dropped(DropReason::Replayed), 1);
        assert_eq!(receiver.highest_packet_number(KeyId::new(1)), Some(1));
        assert_eq!(receiver.high_water_marks().collect::<Vec<_>>(), vec![(KeyId::new(1), 1)]);
    }

    #[test]
    fn forged_datagrams_do_not_move_the_window() {
        let (keys, mut sender) = setup();
        let mut receiver = LinkReceiver::new();
        let first = seal(&mut sender);
        receiver.open(&keys, &first).unwrap();
        let mut forged = seal(&mut sender);
        forged[17] = 0xFF; // packet number 255: fresh, but the tag no longer verifies
        assert_eq!(receiver.open(&keys, &forged).unwrap_err(), DropReason::AuthenticationFailed);
        assert_eq!(receiver.highest_packet_number(KeyId::new(1)), Some(1));
    }

    #[test]
    fn restored_mark_refuses_older_numbers() {
        let (keys, mut sender) = setup();
        let old: Vec<Vec<u8>> = (0..3).map(|_| seal(&mut sender)).collect();
        let mut receiver = LinkReceiver::new();
        receiver.restore_high_water(KeyId::new(1), 2);
        assert_eq!(receiver.open(&keys, &old[0]).unwrap_err(), DropReason::Replayed);
        assert_eq!(receiver.open(&keys, &old[1]).unwrap_err(), DropReason::Replayed);
        assert!(receiver.open(&keys, &old[2]).is_ok());
        receiver.restore_high_water(KeyId::new(1), 1);
        assert_eq!(receiver.highest_packet_number(KeyId::new(1)), Some(3));
    }
}
