//! The sending end: frames in, a sealed datagram out, with the next packet number.
//!
//! [`LinkSender`] owns one key (one key id, one suite, one direction) and the
//! packet-number counter that goes with it. It starts at a number the caller
//! gives (the daemon persists a high-water mark and resumes above it, see
//! [`LinkSender::resume_after`]) and refuses to send once the next number would
//! pass [`MAX_PACKET_NUMBER`]: a packet number, hence a nonce, is never used twice.
//! [`seal_raw_body`] seals arbitrary body bytes under an explicit packet
//! number; it is the building block for tests, fuzzing and interop checks
//! and keeps no counter, so it must never be used for real traffic.
//!
//! Invariants: sealing writes only into the caller's buffer (no allocation);
//! a failed seal consumes no packet number; a successful one consumes exactly one.

use thiserror::Error;

use super::body::{MAX_FRAMES_PER_DATAGRAM, encode_body};
use super::keys::KeyId;
use super::suite::{LinkKey, LinkSuite};
use super::wire::{HEADER_LEN, Header, MAX_BODY_LEN, MAX_PACKET_NUMBER, TAG_LEN};
use crate::frame::Frame;

/// Why frames cannot be sealed into a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum SealError {
    /// A datagram carries at least one frame.
    #[error("no frames to seal; a datagram carries at least one")]
    NoFrames,
    /// More frames than one datagram may carry.
    #[error("{count} frames do not fit in one datagram (at most {MAX_FRAMES_PER_DATAGRAM})")]
    TooManyFrames {
        /// The number of frames given.
        count: usize,
    },
    /// Error frames do not travel on the link.
    #[error("frame {index} is an error frame; the link carries data, remote and CAN FD frames only")]
    ErrorFrame {
        /// Its position among the frames given.
        index: usize,
    },
    /// The datagram would be larger than [`MAX_DATAGRAM_LEN`](super::wire::MAX_DATAGRAM_LEN).
    #[error("the datagram would be {len} bytes, more than the 1400-byte maximum")]
    TooLarge {
        /// The size it would have.
        len: usize,
    },
    /// The output buffer is too small for the datagram.
    #[error("the datagram needs {needed} bytes but the buffer has {available}")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes in the buffer.
        available: usize,
    },
    /// The key's packet numbers are used up; switch to a new key id.
    #[error("key {key_id} has used its last packet number ({MAX_PACKET_NUMBER}); switch to a new key id")]
    PacketNumbersExhausted {
        /// The exhausted key.
        key_id: KeyId,
    },
    /// A sender cannot start beyond the last usable packet number.
    #[error("packet number {packet_number} is beyond the last usable one ({MAX_PACKET_NUMBER})")]
    PacketNumberOutOfRange {
        /// The packet number asked for.
        packet_number: u64,
    },
    /// The AEAD refused to seal (it only does for inputs far larger than a datagram).
    #[error("the AEAD refused to seal the body")]
    Aead,
}

/// What a successful seal produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// The packet number the datagram carries.
    pub packet_number: u64,
    /// The datagram's length: it is the first `len` bytes of the output buffer.
    pub len: usize,
}

/// Seals frames under one key with consecutive packet numbers. See the module docs.
#[derive(Clone, Debug)]
pub struct LinkSender {
    key_id: KeyId,
    key: LinkKey,
    /// The next packet number; `MAX_PACKET_NUMBER + 1` once exhausted.
    next: u64,
}

impl LinkSender {
    /// A sender whose first datagram carries `first_packet_number`.
    pub fn new(key_id: KeyId, key: LinkKey, first_packet_number: u64) -> Result<Self, SealError> {
        if first_packet_number > MAX_PACKET_NUMBER {
            return Err(SealError::PacketNumberOutOfRange { packet_number: first_packet_number });
        }
        Ok(LinkSender { key_id, key, next: first_packet_number })
    }

    /// A sender resuming after a restart: its first packet number is one above
    /// `high_water`, the highest packet number the daemon persisted as possibly used.
    pub fn resume_after(key_id: KeyId, key: LinkKey, high_water: u64) -> Result<Self, SealError> {
        let first = high_water.checked_add(1).ok_or(SealError::PacketNumberOutOfRange { packet_number: u64::MAX })?;
        Self::new(key_id, key, first)
    }

    /// The key id every datagram of this sender carries.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The suite of the sender's key.
    pub fn suite(&self) -> LinkSuite {
        self.key.suite()
    }

    /// The packet number the next datagram will carry; `None` once exhausted.
    /// Persist a value at or above it before sending, to resume above it.
    pub fn next_packet_number(&self) -> Option<u64> {
        (self.next <= MAX_PACKET_NUMBER).then_some(self.next)
    }

    /// Seals `frames` into the start of `out` with the next packet number.
    pub fn seal(&mut self, frames: &[Frame], out: &mut [u8]) -> Result<Sealed, SealError> {
        let packet_number =
            self.next_packet_number().ok_or(SealError::PacketNumbersExhausted { key_id: self.key_id })?;
        let available = out.len();
        let Some(body_out) = out.get_mut(HEADER_LEN..) else {
            return Err(SealError::BufferTooSmall { needed: HEADER_LEN + TAG_LEN, available });
        };
        let body_len = encode_body(frames, body_out).map_err(|error| match error {
            SealError::BufferTooSmall { needed, .. } => {
                SealError::BufferTooSmall { needed: HEADER_LEN + needed + TAG_LEN, available }
            }
            other => other,
        })?;
        let header = Header { suite: self.key.suite(), key_id: self.key_id, packet_number };
        let len = seal_in_place(&self.key, &header, out, body_len)?;
        self.next = packet_number + 1;
        Ok(Sealed { packet_number, len })
    }
}

/// Seals `body` (any bytes, valid records or not, at most
/// [`MAX_BODY_LEN`]) under `key`, `key_id` and `packet_number` into the start
/// of `out`, and returns the datagram's length.
///
/// For tests, fuzzing and interop only: it keeps no packet-number counter, so
/// calling it twice with one packet number reuses a nonce. Use [`LinkSender`]
/// for traffic.
pub fn seal_raw_body(
    key: &LinkKey,
    key_id: KeyId,
    packet_number: u64,
    body: &[u8],
    out: &mut [u8],
) -> Result<usize, SealError> {
    if body.len() > MAX_BODY_LEN {
        return Err(SealError::TooLarge { len: HEADER_LEN + body.len() + TAG_LEN });
    }
    let needed = HEADER_LEN + body.len() + TAG_LEN;
    let available = out.len();
    let Some(body_out) = out.get_mut(HEADER_LEN..HEADER_LEN + body.len()) else {
        return Err(SealError::BufferTooSmall { needed, available });
    };
    body_out.copy_from_slice(body);
    seal_in_place(key, &Header { suite: key.suite(), key_id, packet_number }, out, body.len())
}

/// Writes the header, encrypts the body already at `out[HEADER_LEN..][..body_len]`
/// and appends the tag; returns the datagram's length.
fn seal_in_place(key: &LinkKey, header: &Header, out: &mut [u8], body_len: usize) -> Result<usize, SealError> {
    let needed = HEADER_LEN + body_len + TAG_LEN;
    let available = out.len();
    let too_small = SealError::BufferTooSmall { needed, available };
    let datagram = out.get_mut(..needed).ok_or(too_small)?;
    let (head, rest) = datagram.split_at_mut(HEADER_LEN);
    head.copy_from_slice(&header.to_bytes());
    let (body, tag_out) = rest.split_at_mut(body_len);
    let tag = key.seal_in_place(&header.nonce(), head, body).map_err(|_| SealError::Aead)?;
    tag_out.copy_from_slice(&tag);
    Ok(needed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::CanId;

    fn sender(first: u64) -> LinkSender {
        let key = LinkKey::new(LinkSuite::ChaCha20Poly1305, &[9; 32], "gateway").unwrap();
        LinkSender::new(KeyId::new(3), key, first).unwrap()
    }

    fn frame() -> Frame {
        Frame::classic(CanId::standard(0x321).unwrap(), &[1, 2, 3]).unwrap()
    }

    #[test]
    fn packet_numbers_advance_only_on_success() {
        let mut sender = sender(7);
        let mut out = [0u8; 1400];
        assert_eq!(sender.seal(&[frame()], &mut out), Ok(Sealed { packet_number: 7, len: 18 + 9 + 16 }));
        assert_eq!(&out[..6], b"BHLK\x01\x02");
        assert_eq!(&out[6..18], &[0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 7]);
        assert_eq!(sender.seal(&[], &mut out), Err(SealError::NoFrames));
        assert_eq!(
            sender.seal(&[frame()], &mut out[..42]),
            Err(SealError::BufferTooSmall { needed: 43, available: 42 })
        );
        assert_eq!(
            sender.seal(&[frame()], &mut out[..10]),
            Err(SealError::BufferTooSmall { needed: 34, available: 10 })
        );
        assert_eq!(sender.next_packet_number(), Some(8));
        assert_eq!(sender.seal(&[frame()], &mut out).map(|s| s.packet_number), Ok(8));
    }

    #[test]
    fn refuses_to_wrap() {
        let mut sender = sender(MAX_PACKET_NUMBER - 1);
        let mut out = [0u8; 100];
        assert!(sender.seal(&[frame()], &mut out).is_ok());
        assert_eq!(sender.seal(&[frame()], &mut out).map(|s| s.packet_number), Ok(MAX_PACKET_NUMBER));
        assert_eq!(sender.next_packet_number(), None);
        assert_eq!(sender.seal(&[frame()], &mut out), Err(SealError::PacketNumbersExhausted { key_id: KeyId::new(3) }));
        let key = LinkKey::new(LinkSuite::Aes128Gcm, &[9; 16], "gateway").unwrap();
        assert!(LinkSender::new(KeyId::new(1), key.clone(), MAX_PACKET_NUMBER + 1).is_err());
        assert!(LinkSender::resume_after(KeyId::new(1), key.clone(), MAX_PACKET_NUMBER).is_err());
        assert!(LinkSender::resume_after(KeyId::new(1), key.clone(), u64::MAX).is_err());
        let resumed = LinkSender::resume_after(KeyId::new(1), key, 41).unwrap();
        assert_eq!(resumed.next_packet_number(), Some(42));
    }

    #[test]
    fn raw_seal_matches_sender() {
        let mut sender = sender(100);
        let mut from_sender = [0u8; 100];
        let sealed = sender.seal(&[frame()], &mut from_sender).unwrap();
        let key = LinkKey::new(LinkSuite::ChaCha20Poly1305, &[9; 32], "gateway").unwrap();
        let mut raw = [0u8; 100];
        let body = [0x00, 0x00, 0x03, 0x21, 0x00, 0x03, 1, 2, 3];
        assert_eq!(seal_raw_body(&key, KeyId::new(3), 100, &body, &mut raw), Ok(sealed.len));
        assert_eq!(raw[..sealed.len], from_sender[..sealed.len]);
        assert_eq!(
            seal_raw_body(&key, KeyId::new(3), 1, &[0; MAX_BODY_LEN + 1], &mut [0; 2000]),
            Err(SealError::TooLarge { len: 1401 })
        );
    }
}
