//! Cipher suites and the key material bound to one of them.
//!
//! A [`LinkKey`] is a prepared AEAD instance for exactly one [`LinkSuite`]
//! plus the name of the device it belongs to. It is built once, when a key is
//! loaded, so sealing and opening a datagram never runs a key schedule or
//! allocates. The raw key bytes are not kept: only the cipher state, which the
//! `aes-gcm` and `chacha20poly1305` crates wipe when it is dropped (their
//! `zeroize` feature). [`LinkKey`]'s `Debug` shows the suite and the device,
//! never key material.
//!
//! Invariant: a key is bound to one suite for its whole life (the suite is
//! part of the key, not of the datagram), and to one sending device and
//! direction (see `docs/link.md`, "Nonces").

use std::fmt;
use std::sync::Arc;

use aes_gcm::Aes128Gcm;
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use thiserror::Error;

use super::wire::{NONCE_LEN, TAG_LEN};

/// The AEAD algorithms of protocol v1, with their wire byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkSuite {
    /// Suite 1: AES-128-GCM (16-byte key, 12-byte nonce, 16-byte tag).
    Aes128Gcm,
    /// Suite 2: ChaCha20-Poly1305 as in RFC 8439 (32-byte key, 12-byte nonce, 16-byte tag).
    ChaCha20Poly1305,
}

impl LinkSuite {
    /// Every suite, in wire-byte order.
    pub const ALL: [LinkSuite; 2] = [LinkSuite::Aes128Gcm, LinkSuite::ChaCha20Poly1305];

    /// The suite byte in the header.
    pub const fn byte(self) -> u8 {
        match self {
            LinkSuite::Aes128Gcm => 1,
            LinkSuite::ChaCha20Poly1305 => 2,
        }
    }

    /// The suite with this header byte, if any.
    pub const fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(LinkSuite::Aes128Gcm),
            2 => Some(LinkSuite::ChaCha20Poly1305),
            _ => None,
        }
    }

    /// The key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            LinkSuite::Aes128Gcm => 16,
            LinkSuite::ChaCha20Poly1305 => 32,
        }
    }

    /// The suite's name as written in `docs/link.md`.
    pub const fn name(self) -> &'static str {
        match self {
            LinkSuite::Aes128Gcm => "AES-128-GCM",
            LinkSuite::ChaCha20Poly1305 => "ChaCha20-Poly1305",
        }
    }
}

impl fmt::Display for LinkSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (suite {})", self.name(), self.byte())
    }
}

/// Why key material cannot become a [`LinkKey`], or a key cannot be stored.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The key material is not the suite's key length.
    #[error("a {suite} key is {expected} bytes long, got {actual}")]
    WrongLength {
        /// The suite the key is for.
        suite: LinkSuite,
        /// The suite's key length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A key store already holds a key under this id; ids are never reused.
    #[error("key id {key_id} is already in use")]
    DuplicateKeyId {
        /// The id given twice.
        key_id: super::keys::KeyId,
    },
}

/// The AEAD refused to seal or open (a wrong tag when opening; sealing only
/// fails for inputs far beyond [`MAX_DATAGRAM_LEN`](super::wire::MAX_DATAGRAM_LEN)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AeadFailure;

#[derive(Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "keys are built once and stored; keeping the AES state inline saves an indirection per datagram"
)]
enum Cipher {
    Aes128Gcm(Aes128Gcm),
    ChaCha20Poly1305(ChaCha20Poly1305),
}

/// Key material for one suite, prepared for use, and the device it belongs to.
#[derive(Clone)]
pub struct LinkKey {
    cipher: Cipher,
    device: Arc<str>,
}

impl LinkKey {
    /// Prepares `material` (exactly [`LinkSuite::key_len`] bytes) for `suite`,
    /// for the device named `device`.
    pub fn new(suite: LinkSuite, material: &[u8], device: &str) -> Result<Self, KeyError> {
        let wrong_length = || KeyError::WrongLength { suite, expected: suite.key_len(), actual: material.len() };
        let cipher = match suite {
            LinkSuite::Aes128Gcm => Cipher::Aes128Gcm(Aes128Gcm::new_from_slice(material).map_err(|_| wrong_length())?),
            LinkSuite::ChaCha20Poly1305 => {
                Cipher::ChaCha20Poly1305(ChaCha20Poly1305::new_from_slice(material).map_err(|_| wrong_length())?)
            }
        };
        Ok(LinkKey { cipher, device: Arc::from(device) })
    }

    /// The suite this key is bound to.
    pub fn suite(&self) -> LinkSuite {
        match self.cipher {
            Cipher::Aes128Gcm(_) => LinkSuite::Aes128Gcm,
            Cipher::ChaCha20Poly1305(_) => LinkSuite::ChaCha20Poly1305,
        }
    }

    /// The name of the device this key belongs to.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Encrypts `body` in place and returns the tag.
    pub(crate) fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        body: &mut [u8],
    ) -> Result<[u8; TAG_LEN], AeadFailure> {
        let buffer = InOutBuf::from(body);
        let tag = match &self.cipher {
            Cipher::Aes128Gcm(cipher) => cipher.encrypt_inout_detached(&(*nonce).into(), aad, buffer),
            Cipher::ChaCha20Poly1305(cipher) => cipher.encrypt_inout_detached(&(*nonce).into(), aad, buffer),
        }
        .map_err(|_| AeadFailure)?;
        Ok(tag.into())
    }

    /// Checks the tag over `aad` and `ciphertext` in constant time and, only if
    /// it is right, writes the plaintext into `plaintext` (same length as
    /// `ciphertext`; left untouched on failure).
    pub(crate) fn open_into(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8; TAG_LEN],
        plaintext: &mut [u8],
    ) -> Result<(), AeadFailure> {
        let buffer = InOutBuf::new(ciphertext, plaintext).map_err(|_| AeadFailure)?;
        match &self.cipher {
            Cipher::Aes128Gcm(cipher) => cipher.decrypt_inout_detached(&(*nonce).into(), aad, buffer, &(*tag).into()),
            Cipher::ChaCha20Poly1305(cipher) => {
                cipher.decrypt_inout_detached(&(*nonce).into(), aad, buffer, &(*tag).into())
            }
        }
        .map_err(|_| AeadFailure)
    }
}

impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkKey").field("suite", &self.suite()).field("device", &self.device).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_bytes_round_trip() {
        for suite in LinkSuite::ALL {
            assert_eq!(LinkSuite::from_byte(suite.byte()), Some(suite));
        }
        assert_eq!(LinkSuite::from_byte(0), None);
        assert_eq!(LinkSuite::from_byte(3), None);
    }

    #[test]
    fn key_length_is_checked() {
        assert!(LinkKey::new(LinkSuite::Aes128Gcm, &[0; 16], "hu").is_ok());
        assert_eq!(
            LinkKey::new(LinkSuite::Aes128Gcm, &[0; 32], "hu").unwrap_err(),
            KeyError::WrongLength { suite: LinkSuite::Aes128Gcm, expected: 16, actual: 32 }
        );
        assert!(LinkKey::new(LinkSuite::ChaCha20Poly1305, &[0; 32], "hu").is_ok());
        assert!(LinkKey::new(LinkSuite::ChaCha20Poly1305, &[0; 16], "hu").is_err());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let key = LinkKey::new(LinkSuite::Aes128Gcm, &[0xA5; 16], "head-unit").unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("head-unit") && shown.contains("Aes128Gcm"), "{shown}");
        assert!(!shown.to_lowercase().contains("a5"), "{shown}");
    }

    #[test]
    fn seal_then_open_and_tamper() {
        for suite in LinkSuite::ALL {
            let key = LinkKey::new(suite, &vec![7; suite.key_len()], "hu").unwrap();
            let nonce = [1; NONCE_LEN];
            let mut body = *b"hello, gateway";
            let tag = key.seal_in_place(&nonce, b"aad", &mut body).unwrap();
            assert_ne!(&body, b"hello, gateway");
            let mut plain = [0u8; 14];
            key.open_into(&nonce, b"aad", &body, &tag, &mut plain).unwrap();
            assert_eq!(&plain, b"hello, gateway");
            let mut untouched = [0u8; 14];
            assert!(key.open_into(&nonce, b"aaD", &body, &tag, &mut untouched).is_err());
            assert_eq!(untouched, [0; 14]);
            assert!(key.open_into(&[2; NONCE_LEN], b"aad", &body, &tag, &mut untouched).is_err());
        }
    }
}
