//! Key ids and key names.
//!
//! A [`KeyId`] names a link key on the wire (the 32-bit key id of the link
//! header). Ids are drawn at random, never counted up, so that an id says
//! nothing about how many keys exist or which came first; the value 0 is
//! reserved and never valid. Text form: `0x` and exactly 8 hex digits.
//!
//! A [`KeyName`] names a device or a SecOC key: 1 to 64 characters of
//! `A-Z a-z 0-9 . _ -`, starting with a letter or a digit (so it is safe in file
//! names, logs and key files alike).

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use super::error::{KeyError, KeyFileProblem};

/// The 32-bit id of a link key: the same type the link protocol carries in
/// every datagram header, with what key files and key generation add to it.
pub use crate::link::KeyId;

impl KeyId {
    /// The id as carried in a link header. Every value can be looked up; 0 is
    /// simply never found.
    pub const fn from_u32(value: u32) -> Self {
        KeyId::new(value)
    }

    /// True for the reserved id 0.
    pub const fn is_reserved(self) -> bool {
        self.get() == 0
    }

    /// A random id that is neither reserved nor in `taken` (at most 64 draws).
    pub fn random_unused(taken: &HashSet<KeyId>) -> Result<KeyId, KeyError> {
        const ATTEMPTS: u32 = 64;
        for _ in 0..ATTEMPTS {
            let id = KeyId::new(getrandom::u32().map_err(KeyError::Random)?);
            if !id.is_reserved() && !taken.contains(&id) {
                return Ok(id);
            }
        }
        Err(KeyError::KeyIdsExhausted { attempts: ATTEMPTS })
    }
}

impl FromStr for KeyId {
    type Err = KeyFileProblem;

    /// Parses `0x` followed by exactly 8 hex digits (either case); 0 is refused.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).ok_or(KeyFileProblem::BadKeyId)?;
        if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyFileProblem::BadKeyId);
        }
        let value = u32::from_str_radix(digits, 16).map_err(|_| KeyFileProblem::BadKeyId)?;
        if value == 0 {
            return Err(KeyFileProblem::ReservedKeyId);
        }
        Ok(KeyId::new(value))
    }
}

/// A validated device or key name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyName(String);

impl KeyName {
    /// The longest name accepted, in characters.
    pub const MAX_LEN: usize = 64;

    /// Checks `name` against the naming rule.
    pub fn new(name: &str) -> Result<Self, KeyFileProblem> {
        let first = name.bytes().next().ok_or(KeyFileProblem::BadName { reason: "the name is empty" })?;
        if name.len() > Self::MAX_LEN {
            return Err(KeyFileProblem::BadName { reason: "the name is longer than 64 characters" });
        }
        if !first.is_ascii_alphanumeric() {
            return Err(KeyFileProblem::BadName { reason: "the name does not start with a letter or digit" });
        }
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
            return Err(KeyFileProblem::BadName { reason: "the name holds a character outside A-Z a-z 0-9 . _ -" });
        }
        Ok(KeyName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyName({:?})", self.0)
    }
}

impl Borrow<str> for KeyName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl FromStr for KeyName {
    type Err = KeyFileProblem;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        KeyName::new(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_text_form() {
        let id: KeyId = "0x5F1c2a9e".parse().expect("valid id");
        assert_eq!(id.get(), 0x5f1c_2a9e);
        assert_eq!(id.to_string(), "0x5F1C2A9E");
        assert_eq!(KeyId::from_u32(1).to_string(), "0x00000001");
        for bad in ["5f1c2a9e", "0x5f1c2a9", "0x5f1c2a9e0", "0x5f1c2a9g", "0x", "", "0x+f1c2a9e", " 0x5f1c2a9e"] {
            assert_eq!(bad.parse::<KeyId>(), Err(KeyFileProblem::BadKeyId), "{bad:?}");
        }
        assert_eq!("0x00000000".parse::<KeyId>(), Err(KeyFileProblem::ReservedKeyId));
    }

    #[test]
    fn random_ids_avoid_taken_and_reserved() {
        let mut taken = HashSet::new();
        for _ in 0..200 {
            let id = KeyId::random_unused(&taken).expect("random id");
            assert!(!id.is_reserved());
            assert!(taken.insert(id), "{id} drawn twice");
        }
    }

    #[test]
    fn names() {
        for good in ["head-unit", "a", "ECU_7.rear", &"x".repeat(64)] {
            assert_eq!(KeyName::new(good).expect("valid").as_str(), good);
        }
        for bad in ["", "-lead", ".hidden", "has space", "slash/name", "é", &"x".repeat(65)] {
            assert!(matches!(KeyName::new(bad), Err(KeyFileProblem::BadName { .. })), "{bad:?}");
        }
    }
}
