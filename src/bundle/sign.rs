//! Building and signing a bundle: `bulkhead sign`.
//!
//! [`build_signed_bundle`] collects the rule files and the DBC files they name,
//! hashes every file, writes the manifest, signs header and manifest with the
//! Ed25519 key and assembles the container; before returning it verifies the
//! result with the public key, so a bundle that leaves this function is known
//! to verify. [`sign`] does the whole command: load the signing key (with the
//! permission checks of the key layer), build, write the bundle atomically.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::keys::{BundleSigningKey, KeyFingerprint, Overwrite, load_signing_key, write_new_file};

use super::collect::{CollectedFile, collect, read_capped};
use super::container::{MAX_FILE_LEN, SignatureBlock, StoredFile, encode};
use super::error::BundleError;
use super::manifest::{Manifest, ManifestEntry};
use super::path::{BundlePath, normalize};
use super::verify::verify;

/// Mode of bundle files (they are signed, not secret).
pub const BUNDLE_FILE_MODE: u32 = 0o644;

/// Options of [`sign`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignOptions {
    /// The creation time to record, in seconds since 1970-01-01 UTC (the
    /// caller reads the clock; gateways refuse bundles older than theirs).
    pub created_unix_seconds: u64,
    /// The directory that bundle paths are relative to. By default, the
    /// deepest directory containing every rule and DBC file.
    pub root: Option<PathBuf>,
    /// Whether an existing bundle file may be replaced.
    pub overwrite: Overwrite,
}

/// A signed bundle in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedBundle {
    /// The bundle file's bytes.
    pub bytes: Vec<u8>,
    /// The manifest that was signed.
    pub manifest: Manifest,
    /// The signing key's fingerprint.
    pub signer: KeyFingerprint,
}

/// Builds a signed bundle from `rule_files` (and the DBC files they name).
pub fn build_signed_bundle(
    key: &BundleSigningKey,
    rule_files: &[PathBuf],
    root: Option<&Path>,
    created_unix_seconds: u64,
) -> Result<SignedBundle, BundleError> {
    let collected = collect(rule_files)?;
    let root = match root {
        Some(root) => normalize(root).map_err(|e| BundleError::io("find", root, e))?,
        None => common_directory(&collected),
    };
    let mut contents: Vec<(ManifestEntry, Vec<u8>)> = Vec::with_capacity(collected.len());
    for file in &collected {
        let path = match BundlePath::relative_to(&file.path, &root) {
            None => return Err(BundleError::OutsideRoot { path: file.path.clone(), root }),
            Some(Err(problem)) => {
                return Err(BundleError::PathEscape { path: file.path.display().to_string(), problem });
            }
            Some(Ok(path)) => path,
        };
        let data = read_capped(&file.path, MAX_FILE_LEN)?;
        let sha256: [u8; 32] = Sha256::digest(&data).into();
        let size = u64::try_from(data.len()).unwrap_or(u64::MAX);
        contents.push((ManifestEntry { path, role: file.role, size, sha256 }, data));
    }
    contents.sort_by(|(a, _), (b, _)| a.path.as_str().as_bytes().cmp(b.path.as_str().as_bytes()));
    for pair in contents.windows(2) {
        if let [(a, _), (b, _)] = pair
            && a.path == b.path
        {
            return Err(BundleError::RoleConflict { path: a.path.to_string() });
        }
    }
    let manifest = Manifest { created_unix_seconds, files: contents.iter().map(|(entry, _)| entry.clone()).collect() };
    let manifest_text = manifest.render();
    let stored: Vec<StoredFile<'_>> =
        contents.iter().map(|(entry, data)| StoredFile { path: entry.path.as_str().as_bytes(), data }).collect();
    let public = key.verifying_key();
    let signer = |message: &[u8]| SignatureBlock { signer: public.to_bytes(), signature: key.sign_message(message) };
    let bytes = encode(manifest_text.as_bytes(), &stored, Some(&signer))?;
    verify(&bytes, std::slice::from_ref(&public))?;
    Ok(SignedBundle { bytes, manifest, signer: key.fingerprint() })
}

/// `bulkhead sign`: loads the signing key at `signing_key` (a `0600` key file
/// owned by us), bundles `rule_files` with their DBC files, and writes the
/// signed bundle to `out` atomically (mode 0644).
pub fn sign(
    signing_key: &Path,
    rule_files: &[PathBuf],
    out: &Path,
    options: &SignOptions,
) -> Result<SignedBundle, BundleError> {
    let key = load_signing_key(signing_key)?;
    let bundle = build_signed_bundle(&key, rule_files, options.root.as_deref(), options.created_unix_seconds)?;
    write_new_file(out, &bundle.bytes, BUNDLE_FILE_MODE, options.overwrite)?;
    Ok(bundle)
}

/// The deepest directory that contains every collected file.
fn common_directory(files: &[CollectedFile]) -> PathBuf {
    let mut common: Option<PathBuf> = None;
    for file in files {
        let directory = file.path.parent().unwrap_or(Path::new("/"));
        common = Some(match common {
            None => directory.to_path_buf(),
            Some(current) => {
                current.components().zip(directory.components()).take_while(|(a, b)| a == b).map(|(a, _)| a).collect()
            }
        });
    }
    common.unwrap_or_else(|| PathBuf::from("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::FileRole;

    #[test]
    fn common_directory_of_files() {
        let files = [
            CollectedFile { path: PathBuf::from("/p/rules/gw.toml"), role: FileRole::Rules },
            CollectedFile { path: PathBuf::from("/p/dbc/car.dbc"), role: FileRole::Dbc },
        ];
        assert_eq!(common_directory(&files), Path::new("/p"));
        assert_eq!(common_directory(&files[..1]), Path::new("/p/rules"));
    }
}
