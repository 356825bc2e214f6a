//! Key material: per-device link keys, SecOC keys, the Ed25519 keys that sign
//! rule bundles, their text file format, generation, loading with permission
//! checks, revocation, and the key store the rest of the gateway asks for keys.
//!
//! The threat model this module serves: keys are unique per device and per
//! vehicle, revocable one by one, never shared across a fleet, never built into
//! a firmware image. Hence:
//! - every key is generated on the machine that provisions it, from the
//!   operating system's generator ([`generate_link_key`], [`generate_secoc_key`],
//!   [`generate_signing_key`]); link key ids are random, not sequential;
//! - secret key files are created with mode 0600 and the gateway refuses to
//!   load key files that anyone but their owner (the gateway's user) can read
//!   or write, that another user owns, or that are symbolic links
//!   ([`load_key_file`]);
//! - secrets live in types that wipe them when dropped and never print them
//!   ([`SecretBytes`], [`LinkKey`], [`SecocKey`], [`BundleSigningKey`]);
//! - a revoked key id is refused at once, before and after any reload
//!   ([`KeyStore`], [`FileKeyStore`]).
//!
//! The formats are described in `docs/keys.md`. Unix only (permission bits,
//! owners and `O_NOFOLLOW` are the point).

mod error;
mod format;
mod id;
mod keygen;
mod load;
mod material;
mod revocation;
mod secret;
mod secure_file;
mod store;
mod text;

pub use error::{KeyError, KeyFileProblem, KeyLookupError};
pub use format::{KEY_FILE_HEADER, MAX_KEY_FILE_LEN, parse_key_file, render_key_file};
pub use id::{KeyId, KeyName};
pub use keygen::{
    KeygenOptions, PUBLIC_FILE_MODE, SECRET_FILE_MODE, generate_link_key, generate_secoc_key, generate_signing_key,
};
pub use load::{load_key_file, load_signing_key, load_verifying_key};
pub use material::{
    BundleSigningKey, BundleVerifyingKey, Direction, KeyFile, KeyFingerprint, KeyKind, LinkKey, LinkSecret, LinkSuite,
    SecocKey,
};
pub use revocation::{
    MAX_REVOCATION_LIST_LEN, REVOCATION_HEADER, load_revocation_list, parse_revocation_list, render_revocation_list,
};
pub use secret::SecretBytes;
pub use secure_file::{Overwrite, effective_uid};
pub use store::{FileKeyStore, FileKeyStoreConfig, KeyStore, LinkKeyInfo, MemoryKeyStore};

pub(crate) use secure_file::{WriteFailure, write_new_file};
