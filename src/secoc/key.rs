//! SecOC keys: the secret bytes and the AES key schedule derived from them once.
//!
//! [`SecOcKey`] holds the 16 bytes of an AES-128 key and wipes them when it is
//! dropped; its `Debug` output never shows them. [`MacKey`] is the expanded
//! AES-128 key schedule inside a ready CMAC state, built once per key (not per
//! frame) and also wiped on drop (the `zeroize` features of `aes` and `cmac`).

use std::fmt;

use aes::Aes128Enc;
use cmac::{Cmac, KeyInit};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// An AES-128 key for SecOC. Zeroed on drop; `Debug` prints no key material.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecOcKey([u8; 16]);

impl SecOcKey {
    /// Wraps 16 key bytes.
    pub const fn new(bytes: [u8; 16]) -> SecOcKey {
        SecOcKey(bytes)
    }

    /// Reads a key from exactly 32 hexadecimal digits (key files, test vectors).
    pub fn from_hex(text: &str) -> Option<SecOcKey> {
        let text = text.trim().as_bytes();
        if text.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
            let digit = |c: u8| (c as char).to_digit(16);
            let [high, low] = *<&[u8; 2]>::try_from(pair).ok()?;
            *byte = u8::try_from(digit(high)? * 16 + digit(low)?).ok()?;
        }
        Some(SecOcKey(bytes))
    }

    /// The key bytes, for a key store that must write them out.
    pub fn expose_secret(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for SecOcKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecOcKey(<redacted>)")
    }
}

/// A key ready for CMAC: the AES-128 key schedule expanded once.
///
/// The per-frame path reuses it in place (`finalize_reset`); the stateless
/// functions that take `&MacKey` copy the schedule (224 bytes) instead of
/// expanding the key again.
#[derive(Clone)]
pub struct MacKey {
    cmac: Cmac<Aes128Enc>,
}

impl MacKey {
    /// Expands `key` into its AES-128 key schedule.
    pub fn new(key: &SecOcKey) -> MacKey {
        MacKey { cmac: Cmac::<Aes128Enc>::new(&key.0.into()) }
    }

    /// A fresh CMAC computation with this key (a copy of the schedule).
    pub(crate) fn start(&self) -> Cmac<Aes128Enc> {
        self.cmac.clone()
    }

    /// The CMAC state itself, for the per-frame path: used with
    /// `finalize_reset`, it is ready again after every MAC without a copy.
    pub(crate) fn engine(&mut self) -> &mut Cmac<Aes128Enc> {
        &mut self.cmac
    }
}

impl From<&SecOcKey> for MacKey {
    fn from(key: &SecOcKey) -> MacKey {
        MacKey::new(key)
    }
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_key_bytes() {
        let key = SecOcKey::new([0xAB; 16]);
        let shown = format!("{key:?} {:?}", MacKey::new(&key));
        assert!(!shown.to_lowercase().contains("ab"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn hex_keys() {
        let key = SecOcKey::from_hex("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
        assert_eq!(key.expose_secret()[..3], [0x2B, 0x7E, 0x15]);
        assert_eq!(key.expose_secret()[15], 0x3C);
        assert!(SecOcKey::from_hex("2b7e").is_none());
        assert!(SecOcKey::from_hex("zz7e151628aed2a6abf7158809cf4f3c").is_none());
        assert!(SecOcKey::from_hex("2b7e151628aed2a6abf7158809cf4f3cff").is_none());
        assert!(SecOcKey::from_hex("é7e151628aed2a6abf7158809cf4f3").is_none());
    }

    #[test]
    fn zeroize_wipes_the_bytes() {
        let mut key = SecOcKey::new([0x5A; 16]);
        key.zeroize();
        assert_eq!(key.expose_secret(), &[0u8; 16]);
    }
}
