//! Key generation: one function per kind of key, each doing the whole job of
//! `bulkhead keygen` (validate the arguments, draw the key from the operating
//! system's generator, pick an unused random key id, write the file).
//!
//! Invariants: secret key files are created with mode 0600 at creation time,
//! atomically, and never replace an existing file unless
//! [`Overwrite::Allow`] is given; a new link key id is random, not 0, not used
//! by a readable key file in the output directory and not on the revocation
//! list given in the options (the key store still refuses duplicates on load).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::error::KeyError;
use super::format::render_key_file;
use super::id::{KeyId, KeyName};
use super::material::{BundleSigningKey, Direction, KeyFile, KeyFingerprint, LinkKey, LinkSecret, LinkSuite, SecocKey};
use super::revocation::load_revocation_list;
use super::secret::SecretBytes;
use super::secure_file::{Overwrite, exists, write_new_file};
use super::store::{key_files_in, load_store_file};

/// Mode of secret key files.
pub const SECRET_FILE_MODE: u32 = 0o600;

/// Mode of public key files.
pub const PUBLIC_FILE_MODE: u32 = 0o644;

/// Options shared by the key generators.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeygenOptions {
    /// Whether an existing output file may be replaced.
    pub overwrite: Overwrite,
    /// The gateway's revocation list, whose ids a new key must not take.
    pub revocation_list: Option<PathBuf>,
}

/// Generates a link key for `device` and writes it to `out` (mode 0600).
/// Returns the new key id.
pub fn generate_link_key(
    device: &str,
    suite: LinkSuite,
    direction: Direction,
    out: &Path,
    options: &KeygenOptions,
) -> Result<KeyId, KeyError> {
    let device = KeyName::new(device).map_err(|problem| KeyError::InvalidArgument { what: "device name", problem })?;
    refuse_existing(out, options.overwrite)?;
    let existing = keys_beside(out);
    let mut taken: HashSet<KeyId> = existing
        .iter()
        .filter_map(|(_, key)| match key {
            KeyFile::Link(link) => Some(link.id()),
            _ => None,
        })
        .collect();
    if let Some(list) = &options.revocation_list {
        taken.extend(load_revocation_list(list)?);
    }
    let id = KeyId::random_unused(&taken)?;
    let secret = LinkSecret::random(suite).map_err(KeyError::Random)?;
    let key = KeyFile::Link(LinkKey::new(id, device, direction, secret));
    write_new_file(out, render_key_file(&key).as_bytes(), SECRET_FILE_MODE, options.overwrite)?;
    Ok(id)
}

/// Generates a SecOC key named `name` and writes it to `out` (mode 0600).
/// Refuses a name already used by a SecOC key file in the output directory.
pub fn generate_secoc_key(name: &str, out: &Path, options: &KeygenOptions) -> Result<(), KeyError> {
    let name = KeyName::new(name).map_err(|problem| KeyError::InvalidArgument { what: "SecOC key name", problem })?;
    refuse_existing(out, options.overwrite)?;
    let clash = keys_beside(out).into_iter().find_map(|(path, key)| match key {
        KeyFile::Secoc(secoc) if secoc.name() == &name => Some(path),
        _ => None,
    });
    if let Some(first) = clash {
        return Err(KeyError::DuplicateSecocName { name: name.to_string(), first, second: out.to_owned() });
    }
    let secret = SecretBytes::<16>::random().map_err(KeyError::Random)?;
    let key = KeyFile::Secoc(SecocKey::new(name, secret));
    write_new_file(out, render_key_file(&key).as_bytes(), SECRET_FILE_MODE, options.overwrite)?;
    Ok(())
}

/// Generates a bundle signing key pair: the secret key to `out_secret` (mode
/// 0600), the public key to `out_public` (mode 0644). Returns the public key's
/// fingerprint. If the public key cannot be written, the secret key file just
/// written is removed again.
pub fn generate_signing_key(
    out_secret: &Path,
    out_public: &Path,
    overwrite: Overwrite,
) -> Result<KeyFingerprint, KeyError> {
    if out_secret == out_public {
        return Err(KeyError::SamePath { path: out_public.to_owned() });
    }
    refuse_existing(out_secret, overwrite)?;
    refuse_existing(out_public, overwrite)?;
    let signing = BundleSigningKey::generate().map_err(KeyError::Random)?;
    let public = KeyFile::VerifyingPublic(signing.verifying_key());
    let fingerprint = signing.fingerprint();
    write_new_file(
        out_secret,
        render_key_file(&KeyFile::SigningSecret(signing)).as_bytes(),
        SECRET_FILE_MODE,
        overwrite,
    )?;
    if let Err(failure) = write_new_file(out_public, render_key_file(&public).as_bytes(), PUBLIC_FILE_MODE, overwrite) {
        let _ = std::fs::remove_file(out_secret);
        return Err(failure.into());
    }
    Ok(fingerprint)
}

fn refuse_existing(path: &Path, overwrite: Overwrite) -> Result<(), KeyError> {
    if overwrite == Overwrite::Refuse && exists(path) {
        return Err(KeyError::AlreadyExists { path: path.to_owned() });
    }
    Ok(())
}

/// The keys of the readable key files in the directory of `out` (not `out`
/// itself, which is about to be replaced). Unreadable or malformed files are
/// skipped here; the key store refuses them when it loads.
fn keys_beside(out: &Path) -> Vec<(PathBuf, KeyFile)> {
    let directory = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Ok(files) = key_files_in(directory) else { return Vec::new() };
    files
        .iter()
        .filter(|path| path.file_name() != out.file_name())
        .filter_map(|path| load_store_file(path).ok().map(|key| (path.clone(), key)))
        .collect()
}
