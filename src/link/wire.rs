//! The fixed part of a link datagram: sizes, the 18-byte header and the nonce.
//!
//! A datagram is `header (18 bytes) || ciphertext (same length as the body) ||
//! tag (16 bytes)`. The header travels in clear and is the AEAD's associated
//! data; its last 12 bytes (key id and packet number) are the nonce. All
//! integers are big-endian. `docs/link.md` is the normative description.
//!
//! Invariants: [`Header::parse`] looks at nothing but the first
//! [`HEADER_LEN`] bytes and the total length, never panics, and checks in the
//! documented order (size, magic, version, suite); a [`Header`] it returns has
//! a known suite.

use thiserror::Error;

use super::keys::KeyId;
use super::suite::LinkSuite;

/// The four bytes every datagram starts with: `BHLK`.
pub const MAGIC: [u8; 4] = *b"BHLK";
/// The protocol version this module speaks.
pub const VERSION: u8 = 1;
/// Size of the clear header: magic (4), version (1), suite (1), key id (4), packet number (8).
pub const HEADER_LEN: usize = 18;
/// Size of the AEAD tag that ends every datagram (both suites).
pub const TAG_LEN: usize = 16;
/// Size of the AEAD nonce: key id (4) then packet number (8).
pub const NONCE_LEN: usize = 12;
/// The largest datagram a peer may send or accept, header and tag included.
///
/// 1400 bytes fit in a 1500-byte Ethernet MTU under IPv6 (40) and UDP (8)
/// headers with room left for a VLAN tag or a tunnel.
pub const MAX_DATAGRAM_LEN: usize = 1400;
/// The largest body (plaintext) a datagram can hold.
pub const MAX_BODY_LEN: usize = MAX_DATAGRAM_LEN - HEADER_LEN - TAG_LEN;
/// The smallest body: one frame record with no data bytes.
pub const MIN_BODY_LEN: usize = super::body::RECORD_HEADER_LEN;
/// The smallest datagram that can be valid: header, one empty frame record, tag.
pub const MIN_DATAGRAM_LEN: usize = HEADER_LEN + MIN_BODY_LEN + TAG_LEN;
/// The highest packet number a sender may use (2^62 - 1).
///
/// A sender whose next packet number would exceed it refuses to send: the
/// number is never wrapped or reused. The headroom below `u64::MAX` lets a
/// daemon persist "high-water mark plus a reserved block" without overflow.
pub const MAX_PACKET_NUMBER: u64 = (1 << 62) - 1;

/// Why the clear part of a datagram is not acceptable (checked in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum HeaderError {
    /// The datagram is longer than [`MAX_DATAGRAM_LEN`].
    #[error("datagram of {len} bytes is larger than the {MAX_DATAGRAM_LEN}-byte maximum")]
    TooLarge {
        /// The datagram's length.
        len: usize,
    },
    /// The datagram is shorter than [`MIN_DATAGRAM_LEN`].
    #[error("datagram of {len} bytes is shorter than the {MIN_DATAGRAM_LEN}-byte minimum")]
    TooShort {
        /// The datagram's length.
        len: usize,
    },
    /// The first four bytes are not [`MAGIC`].
    #[error("datagram does not start with the magic `BHLK`")]
    BadMagic,
    /// The version byte is not [`VERSION`].
    #[error("protocol version {version} is not supported (only {VERSION})")]
    UnsupportedVersion {
        /// The version byte as received.
        version: u8,
    },
    /// The suite byte names no cipher suite we know.
    #[error("cipher suite {suite} is unknown")]
    UnknownSuite {
        /// The suite byte as received.
        suite: u8,
    },
}

/// The clear header of a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The cipher suite the body is sealed with.
    pub suite: LinkSuite,
    /// The key the body is sealed with.
    pub key_id: KeyId,
    /// The sender's packet number for this key.
    pub packet_number: u64,
}

impl Header {
    /// Reads and checks the header of a whole datagram (the length checks need
    /// the whole datagram; only the first [`HEADER_LEN`] bytes are read).
    pub fn parse(datagram: &[u8]) -> Result<Self, HeaderError> {
        let len = datagram.len();
        if len > MAX_DATAGRAM_LEN {
            return Err(HeaderError::TooLarge { len });
        }
        let Some((header, _)) = datagram.split_first_chunk::<HEADER_LEN>() else {
            return Err(HeaderError::TooShort { len });
        };
        if len < MIN_DATAGRAM_LEN {
            return Err(HeaderError::TooShort { len });
        }
        let [m0, m1, m2, m3, version, suite, k0, k1, k2, k3, p0, p1, p2, p3, p4, p5, p6, p7] = *header;
        if [m0, m1, m2, m3] != MAGIC {
            return Err(HeaderError::BadMagic);
        }
        if version != VERSION {
            return Err(HeaderError::UnsupportedVersion { version });
        }
        let suite = LinkSuite::from_byte(suite).ok_or(HeaderError::UnknownSuite { suite })?;
        Ok(Header {
            suite,
            key_id: KeyId::new(u32::from_be_bytes([k0, k1, k2, k3])),
            packet_number: u64::from_be_bytes([p0, p1, p2, p3, p4, p5, p6, p7]),
        })
    }

    /// The 18 header bytes as they go on the wire (and into the AEAD as associated data).
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let (magic, rest) = out.split_at_mut(MAGIC.len());
        magic.copy_from_slice(&MAGIC);
        let (fixed, nonce) = rest.split_at_mut(2);
        fixed.copy_from_slice(&[VERSION, self.suite.byte()]);
        nonce.copy_from_slice(&self.nonce());
        out
    }

    /// The AEAD nonce: the key id then the packet number (the header's last 12 bytes).
    pub fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut nonce = [0u8; NONCE_LEN];
        let (key_id, packet_number) = nonce.split_at_mut(4);
        key_id.copy_from_slice(&self.key_id.get().to_be_bytes());
        packet_number.copy_from_slice(&self.packet_number.to_be_bytes());
        nonce
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Vec<u8> {
        let header = Header { suite: LinkSuite::Aes128Gcm, key_id: KeyId::new(0x0102_0304), packet_number: 0x1122 };
        let mut datagram = header.to_bytes().to_vec();
        datagram.resize(MIN_DATAGRAM_LEN, 0);
        datagram
    }

    #[test]
    fn header_round_trips_and_is_big_endian() {
        let datagram = valid();
        assert_eq!(&datagram[..HEADER_LEN], b"BHLK\x01\x01\x01\x02\x03\x04\x00\x00\x00\x00\x00\x00\x11\x22");
        let header = Header::parse(&datagram).unwrap();
        assert_eq!(header.key_id, KeyId::new(0x0102_0304));
        assert_eq!(header.packet_number, 0x1122);
        assert_eq!(&header.nonce()[..], &datagram[6..HEADER_LEN]);
    }

    #[test]
    fn checks_come_in_order() {
        assert_eq!(Header::parse(&[0; MAX_DATAGRAM_LEN + 1]), Err(HeaderError::TooLarge { len: 1401 }));
        for len in 0..MIN_DATAGRAM_LEN {
            assert_eq!(Header::parse(&valid()[..len]), Err(HeaderError::TooShort { len }));
        }
        let mut bad = valid();
        bad[0] = b'X';
        bad[4] = 9;
        assert_eq!(Header::parse(&bad), Err(HeaderError::BadMagic));
        let mut bad = valid();
        bad[4] = 2;
        bad[5] = 0;
        assert_eq!(Header::parse(&bad), Err(HeaderError::UnsupportedVersion { version: 2 }));
        for suite in [0u8, 3, 255] {
            let mut bad = valid();
            bad[5] = suite;
            assert_eq!(Header::parse(&bad), Err(HeaderError::UnknownSuite { suite }));
        }
    }
}
