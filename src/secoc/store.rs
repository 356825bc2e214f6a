//! Durable freshness state: the marks of all counters of one gateway, and the
//! storage behind a small trait.
//!
//! A [`Snapshot`] maps each counter ([`CounterKey`]: receive or send counter of
//! a DataId, or the trip/reset counters of a synchronisation group) to a mark.
//! For receive and send counters the mark is a high-water mark: every value
//! ever used is at or below it. For a synchronisation group it is the
//! `trip | reset` value of the last accepted synchronisation message.
//!
//! Storage is a [`FreshnessStore`]: [`FileStore`](super::FileStore) for a
//! deployed gateway and [`MemoryStore`] for tests, replay and the simulator.
//! A store that does not exist yet or cannot be read is an error, never an
//! empty snapshot: the caller decides (the safe default is to refuse to start;
//! a first deployment creates the store explicitly).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// Which counter of a DataId a mark belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CounterKind {
    /// The latest freshness value accepted from a received secured id.
    Receive,
    /// The last freshness value used by a sent secured id.
    Send,
    /// The trip/reset counters of the synchronisation message with this DataId.
    Sync,
}

impl CounterKind {
    /// The word used in the store file: `receive`, `send` or `sync`.
    pub const fn name(self) -> &'static str {
        match self {
            CounterKind::Receive => "receive",
            CounterKind::Send => "send",
            CounterKind::Sync => "sync",
        }
    }

    /// The kind named `word` in a store file.
    pub fn from_name(word: &str) -> Option<CounterKind> {
        match word {
            "receive" => Some(CounterKind::Receive),
            "send" => Some(CounterKind::Send),
            "sync" => Some(CounterKind::Sync),
            _ => None,
        }
    }
}

/// One counter of the gateway: its kind and the DataId of its secured id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CounterKey {
    /// Receive, send or synchronisation counter.
    pub kind: CounterKind,
    /// The SecOC DataId.
    pub data_id: u16,
}

impl CounterKey {
    /// The receive counter of `data_id`.
    pub const fn receive(data_id: u16) -> CounterKey {
        CounterKey { kind: CounterKind::Receive, data_id }
    }

    /// The send counter of `data_id`.
    pub const fn send(data_id: u16) -> CounterKey {
        CounterKey { kind: CounterKind::Send, data_id }
    }

    /// The synchronisation counters of the group with sync DataId `data_id`.
    pub const fn sync(data_id: u16) -> CounterKey {
        CounterKey { kind: CounterKind::Sync, data_id }
    }
}

impl fmt::Display for CounterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} 0x{:04X}", self.kind.name(), self.data_id)
    }
}

/// The marks of all counters of a gateway.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    marks: BTreeMap<CounterKey, u64>,
}

impl Snapshot {
    /// A snapshot without any counter (a gateway's first start).
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// The mark of `key`, if stored.
    pub fn get(&self, key: CounterKey) -> Option<u64> {
        self.marks.get(&key).copied()
    }

    /// Sets the mark of `key`.
    pub fn set(&mut self, key: CounterKey, mark: u64) {
        self.marks.insert(key, mark);
    }

    /// Removes the mark of `key`, returning it.
    pub fn remove(&mut self, key: CounterKey) -> Option<u64> {
        self.marks.remove(&key)
    }

    /// All marks, ordered by key.
    pub fn iter(&self) -> impl Iterator<Item = (CounterKey, u64)> + '_ {
        self.marks.iter().map(|(&key, &mark)| (key, mark))
    }

    /// The number of counters.
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    /// True when no counter is stored.
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }
}

/// Why the freshness store cannot be read or written.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store does not exist. On a first deployment create it (e.g.
    /// [`FileStore::create`](super::FileStore::create)); otherwise the state is
    /// lost and starting could reopen replay windows.
    #[error("no freshness store at {path}: refusing to start (create it on first deployment only)")]
    Missing {
        /// Where the store was expected.
        path: PathBuf,
    },
    /// [`FileStore::create`](super::FileStore::create) found a store already there.
    #[error("a freshness store already exists at {path}; it is never overwritten by create")]
    AlreadyExists {
        /// The existing store.
        path: PathBuf,
    },
    /// Reading, writing, syncing or renaming failed.
    #[error("freshness store {path}: cannot {operation}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What was being done (`read`, `write`, `sync`, `rename`, `sync directory`, ...).
        operation: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file was written by an unknown version of the format.
    #[error("freshness store {path}: unsupported format `{found}` (expected `bulkhead-freshness 1`)")]
    UnsupportedVersion {
        /// The store file.
        path: PathBuf,
        /// Its first line.
        found: String,
    },
    /// A line of the file is not a valid entry.
    #[error("freshness store {path}:{line}: {reason}")]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The checksum does not match the content: the file was damaged or edited.
    #[error("freshness store {path}: checksum mismatch, the file is damaged")]
    ChecksumMismatch {
        /// The store file.
        path: PathBuf,
    },
}

/// Durable storage of a [`Snapshot`]. `save` must be durable when it returns
/// (a power cut right after it must not lose the snapshot) and atomic (a power
/// cut during it leaves the previous snapshot).
pub trait FreshnessStore {
    /// Reads the stored snapshot.
    fn load(&self) -> Result<Snapshot, StoreError>;
    /// Replaces the stored snapshot with `snapshot`.
    fn save(&mut self, snapshot: &Snapshot) -> Result<(), StoreError>;
}

/// A store in memory: for tests, replays and the simulator. A crash is
/// simulated by dropping the manager without saving; the store keeps what was saved.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    snapshot: Option<Snapshot>,
    saves: usize,
}

impl MemoryStore {
    /// A store that does not exist yet: [`load`](FreshnessStore::load) fails with [`StoreError::Missing`].
    pub fn missing() -> MemoryStore {
        MemoryStore::default()
    }

    /// A store holding `snapshot`.
    pub fn with(snapshot: Snapshot) -> MemoryStore {
        MemoryStore { snapshot: Some(snapshot), saves: 0 }
    }

    /// How many times [`save`](FreshnessStore::save) was called.
    pub fn saves(&self) -> usize {
        self.saves
    }
}

impl FreshnessStore for MemoryStore {
    fn load(&self) -> Result<Snapshot, StoreError> {
        self.snapshot.clone().ok_or_else(|| StoreError::Missing { path: PathBuf::from("<memory>") })
    }

    fn save(&mut self, snapshot: &Snapshot) -> Result<(), StoreError> {
        self.snapshot = Some(snapshot.clone());
        self.saves += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_basics() {
        let mut s = Snapshot::new();
        assert!(s.is_empty());
        s.set(CounterKey::send(2), 10);
        s.set(CounterKey::receive(2), 20);
        s.set(CounterKey::sync(1), 30);
        assert_eq!(s.len(), 3);
        assert_eq!(s.get(CounterKey::receive(2)), Some(20));
        assert_eq!(s.get(CounterKey::receive(3)), None);
        let keys: Vec<String> = s.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys, ["receive 0x0002", "send 0x0002", "sync 0x0001"]);
    }

    #[test]
    fn memory_store_missing_then_saved() {
        let mut store = MemoryStore::missing();
        assert!(matches!(store.load(), Err(StoreError::Missing { .. })));
        let mut s = Snapshot::new();
        s.set(CounterKey::send(1), 5);
        store.save(&s).unwrap();
        assert_eq!(store.load().unwrap(), s);
        assert_eq!(store.saves(), 1);
        assert_eq!(MemoryStore::with(Snapshot::new()).load().unwrap(), Snapshot::new());
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in [CounterKind::Receive, CounterKind::Send, CounterKind::Sync] {
            assert_eq!(CounterKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(CounterKind::from_name("recv"), None);
    }
}
