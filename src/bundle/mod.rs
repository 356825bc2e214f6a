//! Signed rule bundles: the rule files of a gateway and every DBC file they
//! name, in one file, signed with Ed25519.
//!
//! Rule updates are signed; an unsigned or badly signed bundle is refused and
//! the last good one stays in force. So:
//! - [`sign`] (the `bulkhead sign` command) and [`build_signed_bundle`] make
//!   bundles; the signature covers a manifest that lists every file's path,
//!   size and SHA-256 plus the creation time;
//! - [`verify`] is a side-effect-free check of bundle bytes against trusted
//!   public keys (`verify_strict`), returning a [`VerifiedBundle`] (which only
//!   it can make) with the files' bytes by path, or a precise refusal;
//! - [`LastGoodBundle`] keeps the bundle in force and refuses rollbacks;
//! - [`check_bundle`] is `bulkhead check` on a bundle file.
//!
//! The container and manifest formats are described in `container.rs`,
//! `manifest.rs` and `docs/keys.md`; every length is bounded when reading and
//! every path is relative, without `..`, and unique.

mod collect;
mod container;
mod error;
mod manifest;
mod path;
mod sign;
mod verify;

pub use container::{
    Container, FORMAT_VERSION, MAGIC, MAX_BUNDLE_LEN, MAX_FILE_LEN, MAX_FILES, MAX_MANIFEST_LEN, MAX_PATH_LEN,
    MAX_PAYLOAD_LEN, SIGNATURE_CONTEXT, SignatureBlock, Signer, StoredFile, decode, encode, signed_message,
};
pub use error::{BundleError, ManifestProblem};
pub use manifest::{FileRole, Manifest, ManifestEntry};
pub use path::{BundlePath, PathProblem};
pub use sign::{BUNDLE_FILE_MODE, SignOptions, SignedBundle, build_signed_bundle, sign};
pub use verify::{LastGoodBundle, VerifiedBundle, VerifiedFile, check_bundle, verify, verify_file};
