//! Loading single key files from disk with the permission checks of
//! [`super::secure_file`]: the entry points for the command line (`sign` needs
//! the signing key, `check` the verifying keys) and for the key store.
//!
//! Invariant: a secret key is returned only from a file that nobody but its
//! owner (us) can read or write; a public key only from one that nobody else
//! can write.

use std::path::Path;

use super::error::KeyError;
use super::format::{MAX_KEY_FILE_LEN, parse_key_file};
use super::material::{BundleSigningKey, BundleVerifyingKey, KeyFile, KeyKind};
use super::secure_file::{Secrecy, read_owned_file, require_mode};

/// Reads, checks and parses one key file of any kind.
pub fn load_key_file(path: &Path) -> Result<KeyFile, KeyError> {
    let read = read_owned_file(path, MAX_KEY_FILE_LEN)?;
    let key = parse_key_file(&path.display().to_string(), &read.bytes)?;
    let secrecy = if key.kind().is_secret() { Secrecy::Secret } else { Secrecy::Public };
    require_mode(path, read.mode, secrecy)?;
    Ok(key)
}

/// Loads a bundle signing secret key (`type = ed25519-secret`).
pub fn load_signing_key(path: &Path) -> Result<BundleSigningKey, KeyError> {
    match load_key_file(path)? {
        KeyFile::SigningSecret(key) => Ok(key),
        other => {
            Err(KeyError::WrongKeyKind { path: path.to_owned(), expected: KeyKind::SigningSecret, found: other.kind() })
        }
    }
}

/// Loads a bundle verifying public key (`type = ed25519-public`).
pub fn load_verifying_key(path: &Path) -> Result<BundleVerifyingKey, KeyError> {
    match load_key_file(path)? {
        KeyFile::VerifyingPublic(key) => Ok(key),
        other => Err(KeyError::WrongKeyKind {
            path: path.to_owned(),
            expected: KeyKind::VerifyingPublic,
            found: other.kind(),
        }),
    }
}
