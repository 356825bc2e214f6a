//! Verifying a bundle, and keeping the last good one in force.
//!
//! [`verify`] is a pure function of the bundle bytes and the trusted keys: it
//! reads no file, changes no state, and either returns a [`VerifiedBundle`] or
//! says precisely why not. Order of checks: structure (magic, version,
//! lengths), then the signature (present, by a trusted key, valid under
//! `verify_strict`) before the manifest is parsed at all, then the manifest,
//! then every stored file against it (listed, present, same size, same
//! SHA-256, nothing extra).
//!
//! A [`VerifiedBundle`] can only be made by [`verify`], so code that takes one
//! cannot be handed unverified rules. [`LastGoodBundle`] holds the bundle in
//! force: a refused bundle leaves it untouched, and an older bundle (by its
//! signed creation time) is refused as a rollback.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::keys::{BundleVerifyingKey, KeyFingerprint, load_verifying_key};

use super::collect::read_capped;
use super::container::{MAX_BUNDLE_LEN, decode, signed_message};
use super::error::BundleError;
use super::manifest::{FileRole, Manifest};
use super::path::BundlePath;

/// One file of a verified bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedFile {
    path: BundlePath,
    role: FileRole,
    bytes: Vec<u8>,
    sha256: [u8; 32],
}

impl VerifiedFile {
    /// Its path inside the bundle.
    pub fn path(&self) -> &BundlePath {
        &self.path
    }

    /// What it is for.
    pub fn role(&self) -> FileRole {
        self.role
    }

    /// Its content.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Its SHA-256 (as signed).
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }
}

/// A bundle whose signature and every file have been checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBundle {
    created_unix_seconds: u64,
    signer: KeyFingerprint,
    manifest_sha256: [u8; 32],
    files: Vec<VerifiedFile>,
}

impl VerifiedBundle {
    /// The signed creation time, in seconds since 1970-01-01 UTC.
    pub fn created_unix_seconds(&self) -> u64 {
        self.created_unix_seconds
    }

    /// The fingerprint of the key that signed it.
    pub fn signer(&self) -> KeyFingerprint {
        self.signer
    }

    /// SHA-256 of the signed manifest: names this exact bundle in logs.
    pub fn manifest_sha256(&self) -> &[u8; 32] {
        &self.manifest_sha256
    }

    /// Every file, sorted by path.
    pub fn files(&self) -> &[VerifiedFile] {
        &self.files
    }

    /// The rule files (entry points of the rule compiler), sorted by path.
    pub fn rule_files(&self) -> impl Iterator<Item = &VerifiedFile> {
        self.files.iter().filter(|file| file.role == FileRole::Rules)
    }

    /// The file at `path`.
    pub fn file(&self, path: &str) -> Option<&VerifiedFile> {
        self.files
            .binary_search_by(|file| file.path.as_str().as_bytes().cmp(path.as_bytes()))
            .ok()
            .and_then(|at| self.files.get(at))
    }

    /// The file that `reference` (as written in the file at `from`, e.g. a
    /// rule file's `dbc = ["../dbc/car.dbc"]`) designates.
    /// Fails with [`BundleError::PathEscape`] when the reference leaves the
    /// bundle and [`BundleError::FileMissing`] when the bundle lacks the file.
    pub fn resolve(&self, from: &BundlePath, reference: &str) -> Result<&VerifiedFile, BundleError> {
        let path = from
            .resolve(reference)
            .map_err(|problem| BundleError::PathEscape { path: reference.chars().take(200).collect(), problem })?;
        self.file(path.as_str()).ok_or_else(|| BundleError::FileMissing { path: path.to_string() })
    }
}

/// Verifies `bundle` against the `trusted` bundle verifying keys.
pub fn verify(bundle: &[u8], trusted: &[BundleVerifyingKey]) -> Result<VerifiedBundle, BundleError> {
    let container = decode(bundle)?;
    let block = container.signature.ok_or(BundleError::SignatureMissing)?;
    if trusted.is_empty() {
        return Err(BundleError::NoTrustedKeys);
    }
    let fingerprint = KeyFingerprint::of(&block.signer);
    let key = trusted
        .iter()
        .find(|key| key.to_bytes() == block.signer)
        .ok_or(BundleError::UntrustedSigner { fingerprint })?;
    if !key.verify_message(&signed_message(container.signed_part), &block.signature) {
        return Err(BundleError::BadSignature { fingerprint });
    }

    let manifest = Manifest::parse(container.manifest)?;
    let mut stored: HashMap<BundlePath, &[u8]> = HashMap::with_capacity(container.files.len());
    for file in &container.files {
        let path = BundlePath::from_bytes(file.path).map_err(|problem| BundleError::PathEscape {
            path: String::from_utf8_lossy(file.path).chars().take(200).collect(),
            problem,
        })?;
        if stored.insert(path.clone(), file.data).is_some() {
            return Err(BundleError::DuplicatePath { path: path.to_string() });
        }
    }
    let mut files = Vec::with_capacity(manifest.files.len());
    for entry in &manifest.files {
        let path = entry.path.to_string();
        let data = stored.remove(&entry.path).ok_or_else(|| BundleError::FileMissing { path: path.clone() })?;
        let actual = u64::try_from(data.len()).unwrap_or(u64::MAX);
        if actual != entry.size {
            return Err(BundleError::SizeMismatch { path, listed: entry.size, actual });
        }
        let sha256: [u8; 32] = Sha256::digest(data).into();
        if sha256 != entry.sha256 {
            return Err(BundleError::HashMismatch { path });
        }
        files.push(VerifiedFile { path: entry.path.clone(), role: entry.role, bytes: data.to_vec(), sha256 });
    }
    if let Some(extra) = stored.keys().min() {
        return Err(BundleError::ExtraFile { path: extra.to_string() });
    }
    Ok(VerifiedBundle {
        created_unix_seconds: manifest.created_unix_seconds,
        signer: fingerprint,
        manifest_sha256: Sha256::digest(container.manifest).into(),
        files,
    })
}

/// Reads the bundle file at `path` (at most the format's largest size) and
/// verifies it against `trusted`.
pub fn verify_file(path: &Path, trusted: &[BundleVerifyingKey]) -> Result<VerifiedBundle, BundleError> {
    verify(&read_capped(path, MAX_BUNDLE_LEN)?, trusted)
}

/// `bulkhead check` on a bundle: loads the trusted public key files (each
/// owned by us and writable by nobody else) and verifies the bundle file.
pub fn check_bundle(path: &Path, trusted_key_files: &[PathBuf]) -> Result<VerifiedBundle, BundleError> {
    let trusted = trusted_key_files.iter().map(|file| load_verifying_key(file)).collect::<Result<Vec<_>, _>>()?;
    verify_file(path, &trusted)
}

/// The bundle in force: replaced only by a bundle that verifies and is not
/// older. Refusals change nothing.
#[derive(Clone, Debug, Default)]
pub struct LastGoodBundle {
    current: Option<VerifiedBundle>,
}

impl LastGoodBundle {
    /// No bundle in force yet.
    pub fn new() -> Self {
        LastGoodBundle::default()
    }

    /// The bundle in force, if any.
    pub fn current(&self) -> Option<&VerifiedBundle> {
        self.current.as_ref()
    }

    /// Refuses `candidate` if it is older than the bundle in force.
    pub fn check_not_older(&self, candidate: &VerifiedBundle) -> Result<(), BundleError> {
        match &self.current {
            Some(current) if candidate.created_unix_seconds < current.created_unix_seconds => {
                Err(BundleError::Rollback {
                    offered: candidate.created_unix_seconds,
                    in_force: current.created_unix_seconds,
                })
            }
            _ => Ok(()),
        }
    }

    /// Puts `candidate` in force after [`Self::check_not_older`] (for callers
    /// that compile the rules between verifying and installing).
    pub fn install(&mut self, candidate: VerifiedBundle) -> Result<&VerifiedBundle, BundleError> {
        self.check_not_older(&candidate)?;
        Ok(self.current.insert(candidate))
    }

    /// Verifies `bundle` and puts it in force if it verifies and is not older;
    /// otherwise returns why and keeps the bundle in force.
    pub fn offer(&mut self, bundle: &[u8], trusted: &[BundleVerifyingKey]) -> Result<&VerifiedBundle, BundleError> {
        let candidate = verify(bundle, trusted)?;
        self.install(candidate)
    }
}
