//! Key stores: where the link, SecOC and bundle verification code gets its keys.
//!
//! [`KeyStore`] is the interface (so that an HSM-backed store can replace the
//! files later); [`FileKeyStore`] loads a directory of key files plus a
//! revocation list; [`MemoryKeyStore`] is filled by code (tests, simulators).
//!
//! Invariants of every store:
//! - a link key id appears at most once, and is never 0;
//! - a revoked key id is refused by [`KeyStore::link_key`] whether or not a file
//!   exists for it, and the secret of a revoked key is dropped (wiped) as soon
//!   as it is revoked, so it cannot be handed out by mistake;
//! - revocation only ever tightens a store in place ([`FileKeyStore::revoke`],
//!   and a failed [`FileKeyStore::reload`] still applies the revocation list it
//!   could read); only a successful full reload can un-revoke an id;
//! - lookups by key id do not allocate, and neither does refusing one.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::error::{KeyError, KeyLookupError};
use super::id::{KeyId, KeyName};
use super::load::load_key_file;
use super::material::{BundleVerifyingKey, Direction, KeyFile, KeyFingerprint, KeyKind, LinkKey, LinkSuite, SecocKey};
use super::revocation::load_revocation_list;
use super::secure_file::check_key_directory;

/// What a store knows about a link key, without its secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkKeyInfo<'a> {
    /// The key id.
    pub id: KeyId,
    /// The device it belongs to.
    pub device: &'a KeyName,
    /// Its AEAD suite.
    pub suite: LinkSuite,
    /// Which traffic it protects.
    pub direction: Direction,
    /// True when the id is on the revocation list.
    pub revoked: bool,
}

/// Where keys come from.
pub trait KeyStore: Send + Sync {
    /// The usable link key with this id; refuses unknown and revoked ids.
    fn link_key(&self, id: KeyId) -> Result<&LinkKey, KeyLookupError>;

    /// What the store knows about a link key id, revoked or not (`None` when it
    /// has no key file for it).
    fn link_key_info(&self, id: KeyId) -> Option<LinkKeyInfo<'_>>;

    /// Every link key the store knows, revoked ones included, sorted by id.
    fn link_keys(&self) -> Vec<LinkKeyInfo<'_>>;

    /// The SecOC key with this name.
    fn secoc_key(&self, name: &str) -> Option<&SecocKey>;

    /// The public keys trusted to sign rule bundles.
    fn bundle_verifying_keys(&self) -> &[BundleVerifyingKey];

    /// True when the id is on the revocation list.
    fn is_revoked(&self, id: KeyId) -> bool;
}

/// A link key slot: the key itself, or only its description once revoked.
#[derive(Clone, Debug)]
enum LinkEntry {
    Active(LinkKey),
    Revoked { device: KeyName, suite: LinkSuite, direction: Direction },
}

impl LinkEntry {
    fn info(&self, id: KeyId) -> LinkKeyInfo<'_> {
        match self {
            LinkEntry::Active(key) => {
                LinkKeyInfo { id, device: key.device(), suite: key.suite(), direction: key.direction(), revoked: false }
            }
            LinkEntry::Revoked { device, suite, direction } => {
                LinkKeyInfo { id, device, suite: *suite, direction: *direction, revoked: true }
            }
        }
    }
}

/// The keys of a store and the rules above, shared by both stores.
#[derive(Clone, Debug, Default)]
struct KeySet {
    links: HashMap<KeyId, LinkEntry>,
    revoked: HashSet<KeyId>,
    secoc: HashMap<KeyName, SecocKey>,
    verifying: Vec<BundleVerifyingKey>,
}

/// Why a key could not be added to a [`KeySet`].
enum Conflict {
    KeyId(KeyId),
    SecocName(KeyName),
    VerifyingKey(KeyFingerprint),
    ReservedKeyId,
}

impl KeySet {
    fn insert_link(&mut self, key: LinkKey) -> Result<(), Conflict> {
        let id = key.id();
        if id.is_reserved() {
            return Err(Conflict::ReservedKeyId);
        }
        if self.links.contains_key(&id) {
            return Err(Conflict::KeyId(id));
        }
        let entry = if self.revoked.contains(&id) { revoked_entry(&key) } else { LinkEntry::Active(key) };
        self.links.insert(id, entry);
        Ok(())
    }

    fn insert_secoc(&mut self, key: SecocKey) -> Result<(), Conflict> {
        if self.secoc.contains_key(key.name()) {
            return Err(Conflict::SecocName(key.name().clone()));
        }
        self.secoc.insert(key.name().clone(), key);
        Ok(())
    }

    fn insert_verifying(&mut self, key: BundleVerifyingKey) -> Result<(), Conflict> {
        if self.verifying.contains(&key) {
            return Err(Conflict::VerifyingKey(key.fingerprint()));
        }
        self.verifying.push(key);
        Ok(())
    }

    fn revoke(&mut self, id: KeyId) {
        self.revoked.insert(id);
        if let Some(entry) = self.links.get_mut(&id)
            && let LinkEntry::Active(key) = entry
        {
            // Replacing the entry drops the key, which wipes its secret.
            *entry = revoked_entry(key);
        }
    }
}

fn revoked_entry(key: &LinkKey) -> LinkEntry {
    LinkEntry::Revoked { device: key.device().clone(), suite: key.suite(), direction: key.direction() }
}

impl KeyStore for KeySet {
    fn link_key(&self, id: KeyId) -> Result<&LinkKey, KeyLookupError> {
        if self.revoked.contains(&id) {
            return Err(KeyLookupError::Revoked(id));
        }
        match self.links.get(&id) {
            Some(LinkEntry::Active(key)) => Ok(key),
            Some(LinkEntry::Revoked { .. }) => Err(KeyLookupError::Revoked(id)),
            None => Err(KeyLookupError::Unknown(id)),
        }
    }

    fn link_key_info(&self, id: KeyId) -> Option<LinkKeyInfo<'_>> {
        self.links.get(&id).map(|entry| entry.info(id))
    }

    fn link_keys(&self) -> Vec<LinkKeyInfo<'_>> {
        let mut all: Vec<_> = self.links.iter().map(|(&id, entry)| entry.info(id)).collect();
        all.sort_by_key(|info| info.id);
        all
    }

    fn secoc_key(&self, name: &str) -> Option<&SecocKey> {
        self.secoc.get(name)
    }

    fn bundle_verifying_keys(&self) -> &[BundleVerifyingKey] {
        &self.verifying
    }

    fn is_revoked(&self, id: KeyId) -> bool {
        self.revoked.contains(&id)
    }
}

/// A store filled by code, for tests and simulators.
#[derive(Clone, Debug, Default)]
pub struct MemoryKeyStore {
    keys: KeySet,
}

const IN_MEMORY: &str = "(in memory)";

impl MemoryKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryKeyStore::default()
    }

    /// Adds a link key; refuses a key id already present (or 0).
    pub fn insert_link(&mut self, key: LinkKey) -> Result<(), KeyError> {
        self.keys.insert_link(key).map_err(|conflict| conflict_error(conflict, Path::new(IN_MEMORY), IN_MEMORY.into()))
    }

    /// Adds a SecOC key; refuses a name already present.
    pub fn insert_secoc(&mut self, key: SecocKey) -> Result<(), KeyError> {
        self.keys.insert_secoc(key).map_err(|conflict| conflict_error(conflict, Path::new(IN_MEMORY), IN_MEMORY.into()))
    }

    /// Trusts a bundle verifying key; refuses one already trusted.
    pub fn insert_verifying(&mut self, key: BundleVerifyingKey) -> Result<(), KeyError> {
        self.keys
            .insert_verifying(key)
            .map_err(|conflict| conflict_error(conflict, Path::new(IN_MEMORY), IN_MEMORY.into()))
    }

    /// Revokes a key id at once.
    pub fn revoke(&mut self, id: KeyId) {
        self.keys.revoke(id);
    }
}

/// Implements [`KeyStore`] for a store whose keys are its `keys: KeySet` field.
macro_rules! key_store_over_key_set {
    ($store:ty) => {
        impl KeyStore for $store {
            fn link_key(&self, id: KeyId) -> Result<&LinkKey, KeyLookupError> {
                self.keys.link_key(id)
            }
            fn link_key_info(&self, id: KeyId) -> Option<LinkKeyInfo<'_>> {
                self.keys.link_key_info(id)
            }
            fn link_keys(&self) -> Vec<LinkKeyInfo<'_>> {
                self.keys.link_keys()
            }
            fn secoc_key(&self, name: &str) -> Option<&SecocKey> {
                self.keys.secoc_key(name)
            }
            fn bundle_verifying_keys(&self) -> &[BundleVerifyingKey] {
                self.keys.bundle_verifying_keys()
            }
            fn is_revoked(&self, id: KeyId) -> bool {
                self.keys.is_revoked(id)
            }
        }
    };
}

key_store_over_key_set!(MemoryKeyStore);

fn conflict_error(conflict: Conflict, second: &Path, first: PathBuf) -> KeyError {
    let second = second.to_owned();
    match conflict {
        Conflict::KeyId(id) => KeyError::DuplicateKeyId { id, first, second },
        Conflict::SecocName(name) => KeyError::DuplicateSecocName { name: name.to_string(), first, second },
        Conflict::VerifyingKey(fingerprint) => KeyError::DuplicateVerifyingKey { fingerprint, first, second },
        Conflict::ReservedKeyId => {
            KeyError::InvalidArgument { what: "link key id", problem: super::error::KeyFileProblem::ReservedKeyId }
        }
    }
}

/// Where a [`FileKeyStore`] finds its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileKeyStoreConfig {
    /// The key directory: every `*.key` (link and SecOC keys, mode 0600) and
    /// `*.pub` (bundle verifying keys) file in it is loaded; other names,
    /// hidden files and subdirectories are ignored.
    pub directory: PathBuf,
    /// The revocation list file, if any (it must exist when named).
    pub revocation_list: Option<PathBuf>,
    /// Further revoked key ids (for example from the gateway configuration).
    pub revoked: Vec<KeyId>,
}

impl FileKeyStoreConfig {
    /// A configuration with a key directory and nothing revoked.
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        FileKeyStoreConfig { directory: directory.into(), revocation_list: None, revoked: Vec::new() }
    }
}

/// The files of a key directory that hold keys, sorted by name.
pub(crate) fn key_files_in(directory: &Path) -> Result<Vec<PathBuf>, KeyError> {
    let entries = fs::read_dir(directory).map_err(|e| KeyError::io("list", directory, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| KeyError::io("list", directory, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let is_key_name = matches!(path.extension().and_then(|e| e.to_str()), Some("key" | "pub"));
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_key_name && !is_dir {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Loads one file of a key directory and checks that its kind fits its name.
pub(crate) fn load_store_file(path: &Path) -> Result<KeyFile, KeyError> {
    let key = load_key_file(path)?;
    let extension = if path.extension().is_some_and(|e| e == "pub") { "pub" } else { "key" };
    match (key.kind(), extension) {
        (KeyKind::SigningSecret, _) => Err(KeyError::SigningKeyInStore { path: path.to_owned() }),
        (KeyKind::Link | KeyKind::Secoc, "key") | (KeyKind::VerifyingPublic, "pub") => Ok(key),
        (found, extension) => Err(KeyError::MisnamedKeyFile { path: path.to_owned(), found, extension }),
    }
}

/// What a key file provided, to name the first file in duplicate errors.
#[derive(PartialEq, Eq, Hash)]
enum Source {
    Link(KeyId),
    Secoc(KeyName),
    Verifying(KeyFingerprint),
}

/// Keys loaded from a directory of key files and a revocation list.
#[derive(Debug)]
pub struct FileKeyStore {
    config: FileKeyStoreConfig,
    keys: KeySet,
    files: Vec<PathBuf>,
}

impl FileKeyStore {
    /// Loads every key file of the configured directory and the revocation
    /// list. Every file is checked; all problems found are reported together.
    pub fn load(config: FileKeyStoreConfig) -> Result<Self, KeyError> {
        check_key_directory(&config.directory)?;
        let files = key_files_in(&config.directory)?;
        let mut problems = Vec::new();
        let mut keys = KeySet::default();
        match revoked_ids(&config) {
            Ok(revoked) => keys.revoked = revoked.into_iter().collect(),
            Err(error) => problems.push(error),
        }
        let mut sources: HashMap<Source, &Path> = HashMap::new();
        for path in &files {
            let key = match load_store_file(path) {
                Ok(key) => key,
                Err(error) => {
                    problems.push(error);
                    continue;
                }
            };
            let (source, inserted) = match key {
                KeyFile::Link(link) => (Source::Link(link.id()), keys.insert_link(link)),
                KeyFile::Secoc(secoc) => (Source::Secoc(secoc.name().clone()), keys.insert_secoc(secoc)),
                KeyFile::VerifyingPublic(public) => {
                    (Source::Verifying(public.fingerprint()), keys.insert_verifying(public))
                }
                // Refused by `load_store_file`.
                KeyFile::SigningSecret(_) => continue,
            };
            match inserted {
                Ok(()) => {
                    sources.insert(source, path);
                }
                Err(conflict) => {
                    let first = sources.get(&source).map(|p| p.to_path_buf()).unwrap_or_default();
                    problems.push(conflict_error(conflict, path, first));
                }
            }
        }
        if let Some(error) = KeyError::from_list(problems) {
            return Err(error);
        }
        Ok(FileKeyStore { config, keys, files })
    }

    /// Builds a new store from the same configuration and, if that succeeds,
    /// replaces this one with it. On failure this store stays in force, but
    /// every id of the revocation list that could still be read is revoked in
    /// it all the same (revocation must not wait for a clean directory).
    pub fn reload(&mut self) -> Result<(), KeyError> {
        match FileKeyStore::load(self.config.clone()) {
            Ok(fresh) => {
                *self = fresh;
                Ok(())
            }
            Err(error) => {
                if let Ok(revoked) = revoked_ids(&self.config) {
                    for id in revoked {
                        self.keys.revoke(id);
                    }
                }
                Err(error)
            }
        }
    }

    /// Revokes a key id at once, in memory (until the next successful reload,
    /// which follows the revocation list and configuration again).
    pub fn revoke(&mut self, id: KeyId) {
        self.keys.revoke(id);
    }

    /// The configuration this store was loaded from.
    pub fn config(&self) -> &FileKeyStoreConfig {
        &self.config
    }

    /// The key files loaded, sorted.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

fn revoked_ids(config: &FileKeyStoreConfig) -> Result<BTreeSet<KeyId>, KeyError> {
    let mut revoked: BTreeSet<KeyId> = config.revoked.iter().copied().collect();
    if let Some(list) = &config.revocation_list {
        revoked.extend(load_revocation_list(list)?);
    }
    Ok(revoked)
}

key_store_over_key_set!(FileKeyStore);
