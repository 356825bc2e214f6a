//! Fixed-size secret key bytes: wiped when dropped, never printed, never compared
//! in variable time.
//!
//! Invariants: a [`SecretBytes`] is the only owner of its bytes; dropping it (or a
//! clone of it) overwrites them with zeros; its `Debug` output says how long the
//! secret is and nothing else; hex text made from it lives in a
//! [`Zeroizing`] buffer reserved up front so that no reallocation leaves a copy
//! behind.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// `N` secret bytes (an AES key, a ChaCha20 key, an Ed25519 seed).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes<const N: usize>([u8; N]);

/// What is wrong with a hex string that should hold a secret (no secret digit is
/// ever part of the description).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HexProblem {
    /// The string has this many characters instead of `2 * N`.
    WrongLength { found_digits: usize },
    /// The character at this 0-based character index is not a hex digit.
    NotHexDigit { index: usize },
}

impl<const N: usize> SecretBytes<N> {
    /// Takes ownership of `bytes`. The caller's own copy (arrays are `Copy`) is
    /// not wiped by this call; callers that hold one should wipe it.
    pub fn new(bytes: [u8; N]) -> Self {
        SecretBytes(bytes)
    }

    /// Fresh random bytes from the operating system (`getrandom`).
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut secret = SecretBytes([0; N]);
        getrandom::fill(&mut secret.0)?;
        Ok(secret)
    }

    /// The secret itself, for handing to a cipher.
    pub fn expose(&self) -> &[u8; N] {
        &self.0
    }

    /// Constant-time equality (for tests and for spotting duplicate keys).
    pub fn ct_eq(&self, other: &Self) -> bool {
        let mut diff = 0u8;
        for (a, b) in self.0.iter().zip(other.0.iter()) {
            diff |= a ^ b;
        }
        std::hint::black_box(diff) == 0
    }

    /// Decodes exactly `2 * N` hex digits (either case). On error the partly
    /// filled buffer is wiped when it is dropped.
    pub(crate) fn from_hex(text: &str) -> Result<Self, HexProblem> {
        let digits = text.as_bytes();
        if digits.len() != 2 * N || text.chars().count() != 2 * N {
            return Err(HexProblem::WrongLength { found_digits: text.chars().count() });
        }
        let mut secret = SecretBytes([0; N]);
        for (index, pair) in digits.chunks_exact(2).enumerate() {
            let (Some(&high), Some(&low)) = (pair.first(), pair.get(1)) else {
                return Err(HexProblem::WrongLength { found_digits: digits.len() });
            };
            let high = hex_value(high).ok_or(HexProblem::NotHexDigit { index: 2 * index })?;
            let low = hex_value(low).ok_or(HexProblem::NotHexDigit { index: 2 * index + 1 })?;
            if let Some(byte) = secret.0.get_mut(index) {
                *byte = (high << 4) | low;
            }
        }
        Ok(secret)
    }

    /// Appends the lowercase hex form to `out` (which the caller reserved).
    pub(crate) fn push_hex(&self, out: &mut Zeroizing<String>) {
        push_hex(&self.0, out);
    }
}

impl<const N: usize> fmt::Debug for SecretBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes<{N}>(redacted)")
    }
}

/// The value of one ASCII hex digit.
pub(crate) fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Appends `bytes` as lowercase hex.
pub(crate) fn push_hex(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

/// Lowercase hex of public bytes.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    push_hex(bytes, &mut out);
    out
}

/// Decodes exactly `N` bytes of public hex.
pub(crate) fn public_from_hex<const N: usize>(text: &str) -> Result<[u8; N], HexProblem> {
    SecretBytes::<N>::from_hex(text).map(|secret| *secret.expose())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_errors() {
        let secret = SecretBytes::<4>::from_hex("00Ff10aB").expect("valid hex");
        assert_eq!(secret.expose(), &[0x00, 0xff, 0x10, 0xab]);
        let mut text = Zeroizing::new(String::with_capacity(8));
        secret.push_hex(&mut text);
        assert_eq!(text.as_str(), "00ff10ab");
        assert_eq!(SecretBytes::<4>::from_hex("00ff10").unwrap_err(), HexProblem::WrongLength { found_digits: 6 });
        assert_eq!(SecretBytes::<4>::from_hex("00ff10ag").unwrap_err(), HexProblem::NotHexDigit { index: 7 });
        assert_eq!(SecretBytes::<2>::from_hex("é0").unwrap_err(), HexProblem::WrongLength { found_digits: 2 });
    }

    #[test]
    fn debug_never_shows_the_bytes() {
        let secret = SecretBytes::new([0xAB; 16]);
        let shown = format!("{secret:?}");
        assert_eq!(shown, "SecretBytes<16>(redacted)");
        assert!(!shown.to_lowercase().contains("ab"));
    }

    #[test]
    fn constant_time_equality() {
        let a = SecretBytes::new([1, 2, 3]);
        assert!(a.ct_eq(&SecretBytes::new([1, 2, 3])));
        assert!(!a.ct_eq(&SecretBytes::new([1, 2, 4])));
    }

    #[test]
    fn random_secrets_differ() {
        let a = SecretBytes::<32>::random().expect("os randomness");
        let b = SecretBytes::<32>::random().expect("os randomness");
        assert!(!a.ct_eq(&b));
    }
}
