//! Where the receiver finds keys: the [`LinkKeys`] trait and an in-memory store.
//!
//! The receiver asks for a key by the [`KeyId`] in a datagram's header and
//! gets one of three answers ([`KeyLookup`]): no such key, a revoked key, or
//! an active [`LinkKey`] (suite, prepared cipher, device name). The real key
//! store implements the trait on its own storage; [`MemoryKeys`] is a plain
//! map for tests, tools and the simulator.
//!
//! Invariants: a lookup is a pure read (it never allocates and never blocks
//! on I/O: it runs once per datagram); revocation takes effect on the very
//! next lookup; a key id names one key for ever (ids are not reused, so the
//! replay state kept per key id can never be confused between two keys).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use super::suite::{KeyError, LinkKey};

/// The 32-bit key id carried in every datagram's header.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(u32);

impl KeyId {
    /// The key id with this value.
    pub const fn new(id: u32) -> Self {
        KeyId(id)
    }

    /// The numeric value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for KeyId {
    /// Eight hex digits, as in the docs: `0x0000002A`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08X}", self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// The answer of a key store for one key id.
#[derive(Clone, Copy, Debug)]
pub enum KeyLookup<'a> {
    /// No key has this id.
    Unknown,
    /// The key exists but is revoked: datagrams under it are refused at once.
    Revoked,
    /// The key is in force.
    Active(&'a LinkKey),
}

/// A source of link keys, looked up by key id once per received datagram.
///
/// Implementations must answer [`KeyLookup::Revoked`] from the moment a key
/// is revoked (no caching that outlives a revocation) and must never hand out
/// two different keys under one id.
pub trait LinkKeys {
    /// The key with id `key_id`, its revocation, or its absence.
    fn lookup(&self, key_id: KeyId) -> KeyLookup<'_>;
}

impl<T: LinkKeys + ?Sized> LinkKeys for &T {
    fn lookup(&self, key_id: KeyId) -> KeyLookup<'_> {
        (**self).lookup(key_id)
    }
}

#[derive(Clone, Debug)]
struct StoredKey {
    key: LinkKey,
    revoked: bool,
}

/// An in-memory key store: key ids mapped to keys, each revocable.
#[derive(Clone, Debug, Default)]
pub struct MemoryKeys {
    keys: HashMap<KeyId, StoredKey>,
}

impl MemoryKeys {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key` under `key_id`; an id already present (even revoked) is refused.
    pub fn insert(&mut self, key_id: KeyId, key: LinkKey) -> Result<(), KeyError> {
        match self.keys.entry(key_id) {
            Entry::Occupied(_) => Err(KeyError::DuplicateKeyId { key_id }),
            Entry::Vacant(slot) => {
                slot.insert(StoredKey { key, revoked: false });
                Ok(())
            }
        }
    }

    /// Revokes the key `key_id`; false when there is no such key. The key stays
    /// in the store (as revoked) so that its id cannot be reused.
    pub fn revoke(&mut self, key_id: KeyId) -> bool {
        match self.keys.get_mut(&key_id) {
            Some(stored) => {
                stored.revoked = true;
                true
            }
            None => false,
        }
    }

    /// The number of keys, revoked ones included.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl LinkKeys for MemoryKeys {
    fn lookup(&self, key_id: KeyId) -> KeyLookup<'_> {
        match self.keys.get(&key_id) {
            None => KeyLookup::Unknown,
            Some(StoredKey { revoked: true, .. }) => KeyLookup::Revoked,
            Some(StoredKey { key, revoked: false }) => KeyLookup::Active(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::LinkSuite;

    #[test]
    fn lookup_insert_and_revoke() {
        let mut keys = MemoryKeys::new();
        let id = KeyId::new(42);
        assert!(matches!(keys.lookup(id), KeyLookup::Unknown));
        keys.insert(id, LinkKey::new(LinkSuite::Aes128Gcm, &[1; 16], "hu").unwrap()).unwrap();
        assert!(matches!(keys.lookup(id), KeyLookup::Active(key) if key.device() == "hu"));
        let again = LinkKey::new(LinkSuite::Aes128Gcm, &[2; 16], "other").unwrap();
        assert_eq!(keys.insert(id, again.clone()), Err(KeyError::DuplicateKeyId { key_id: id }));
        assert!(keys.revoke(id));
        assert!(matches!(keys.lookup(id), KeyLookup::Revoked));
        assert_eq!(keys.insert(id, again), Err(KeyError::DuplicateKeyId { key_id: id }));
        assert!(!keys.revoke(KeyId::new(7)));
        assert_eq!(keys.len(), 1);
        assert_eq!(id.to_string(), "0x0000002A");
    }
}
