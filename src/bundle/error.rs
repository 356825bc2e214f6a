//! The error of the bundle layer: why a bundle could not be built, written,
//! read or trusted. Every refusal names what is wrong and, where there is one,
//! the file inside the bundle or the place in a rule file.

use std::io;
use std::path::PathBuf;

use crate::diagnostic::{Diagnostic, Location};
use crate::keys::{KeyError, KeyFingerprint};

use super::path::PathProblem;

/// What is wrong in a bundle manifest (its line is kept beside it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManifestProblem {
    /// The manifest is not UTF-8 text.
    #[error("the manifest is not UTF-8 text")]
    NotUtf8,
    /// The manifest does not end with a line break (it was cut).
    #[error("the manifest does not end with a line break")]
    MissingFinalNewline,
    /// A carriage return or an empty line (manifests are written by bulkhead,
    /// byte for byte; anything else was edited).
    #[error("blank line or carriage return in the manifest")]
    BlankLine,
    /// The first line is not the manifest header.
    #[error("expected the header `bulkhead-bundle-manifest v1`")]
    MissingHeader,
    /// The header names another manifest version.
    #[error("unsupported manifest version `{found}`")]
    UnsupportedVersion {
        /// The version found (at most 16 characters of it).
        found: String,
    },
    /// The second line is not `created <seconds since 1970>`.
    #[error("expected `created <seconds since 1970-01-01 UTC>`")]
    BadCreated,
    /// A line is not `file <role> <size> <sha256> <path>`.
    #[error("expected `file <rules|dbc> <size> <sha256> <path>`")]
    BadFileLine,
    /// A role other than `rules` or `dbc`.
    #[error("unknown file role `{found}` (expected rules or dbc)")]
    UnknownRole {
        /// The role found (at most 16 characters of it).
        found: String,
    },
    /// A size that is not a decimal number without leading zeros.
    #[error("the size is not a decimal number")]
    BadSize,
    /// A SHA-256 that is not 64 lowercase hex digits.
    #[error("the SHA-256 is not 64 lowercase hex digits")]
    BadHash,
    /// Paths not in strictly increasing byte order (the signer sorts them).
    #[error("file paths are not sorted")]
    NotSorted,
    /// No file at all, or no rule file.
    #[error("the manifest lists no rule file")]
    NoRuleFile,
}

/// Why a bundle could not be built, written, read or trusted.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The operating system refused an operation on a file.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's reason.
        #[source]
        source: io::Error,
    },
    /// A key could not be loaded (signing key, trusted public keys).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The output file exists and overwriting was not asked for.
    #[error("{} already exists; refusing to overwrite it (ask for overwriting explicitly, e.g. `--force`)", path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// No rule file was given to sign.
    #[error("no rule file given")]
    NoRuleFiles,
    /// A rule file that is not valid TOML, or whose `ports.*.dbc` entries are
    /// not arrays of relative paths.
    #[error("{location}: {message}")]
    RuleFile {
        /// Where in the rule file.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// A DBC file named by a rule file does not exist (or is not a file).
    #[error("{location}: DBC file {} not found", path.display())]
    DbcNotFound {
        /// The reference in the rule file.
        location: Location,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A file to bundle lies outside the bundle root.
    #[error("{} is outside the bundle root {}; choose a root that contains every rule and DBC file", path.display(), root.display())]
    OutsideRoot {
        /// The file.
        path: PathBuf,
        /// The root.
        root: PathBuf,
    },
    /// A file would be bundled both as a rule file and as a DBC file.
    #[error("{path} is both a rule file and a DBC file")]
    RoleConflict {
        /// The bundle path.
        path: String,
    },
    /// The bytes do not start with the bundle magic.
    #[error("not a bulkhead rule bundle (bad magic)")]
    NotABundle,
    /// A bundle format version this build does not read.
    #[error("unsupported bundle format version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// The version in the bundle.
        found: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// The bundle ends before its declared end.
    #[error("truncated bundle: {available} bytes, the header announces {needed}")]
    Truncated {
        /// The bytes the bundle should have (as far as could be read).
        needed: u64,
        /// The bytes present.
        available: u64,
    },
    /// Bytes after the declared end of the bundle.
    #[error("{extra} unexpected bytes after the end of the bundle")]
    TrailingData {
        /// How many.
        extra: u64,
    },
    /// A length over the format's limits.
    #[error("the {what} is {size} bytes or items, over the limit of {limit}")]
    TooLarge {
        /// What is too large ("manifest", "payload", "file", "number of files").
        what: &'static str,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The signature flag byte is neither 0 (unsigned) nor 1 (Ed25519).
    #[error("unknown signature scheme {found}")]
    BadSignatureFlag {
        /// The byte found.
        found: u8,
    },
    /// A file record of the payload overruns it.
    #[error("file record {index} (at payload byte {offset}) overruns the payload")]
    BadFileRecord {
        /// 0-based index of the record.
        index: usize,
        /// Its offset in the payload.
        offset: u64,
    },
    /// The bundle is not signed.
    #[error("the bundle is not signed; only signed bundles are accepted")]
    SignatureMissing,
    /// No public key is trusted to sign bundles, so none can be accepted.
    #[error("no bundle verifying key is configured; no bundle can be trusted")]
    NoTrustedKeys,
    /// Signed by a key that is not trusted here.
    #[error("signed by key {fingerprint}, which is not a trusted bundle signing key")]
    UntrustedSigner {
        /// The signer's fingerprint.
        fingerprint: KeyFingerprint,
    },
    /// The signature does not match the header and manifest.
    #[error("bad signature (by trusted key {fingerprint}): the bundle was altered or damaged")]
    BadSignature {
        /// The claimed signer's fingerprint.
        fingerprint: KeyFingerprint,
    },
    /// The (signed) manifest is malformed.
    #[error("manifest line {line}: {problem}")]
    Manifest {
        /// 1-based line in the manifest.
        line: u32,
        /// What is wrong.
        problem: ManifestProblem,
    },
    /// A path that could escape the bundle or is ambiguous.
    #[error("unsafe path {path:?} in the bundle: {problem}")]
    PathEscape {
        /// The path (lossily decoded, at most 200 characters).
        path: String,
        /// What is wrong with it.
        problem: PathProblem,
    },
    /// A path listed or stored twice.
    #[error("{path} appears twice in the bundle")]
    DuplicatePath {
        /// The path.
        path: String,
    },
    /// A listed file is absent from the payload.
    #[error("{path} is listed in the manifest but missing from the bundle")]
    FileMissing {
        /// The path.
        path: String,
    },
    /// A stored file is not listed in the (signed) manifest.
    #[error("{path} is in the bundle but not listed in the signed manifest")]
    ExtraFile {
        /// The path.
        path: String,
    },
    /// A stored file's size differs from the manifest's.
    #[error("{path} is {actual} bytes, the signed manifest says {listed}")]
    SizeMismatch {
        /// The path.
        path: String,
        /// The size in the manifest.
        listed: u64,
        /// The size stored.
        actual: u64,
    },
    /// A stored file's SHA-256 differs from the manifest's.
    #[error("{path} does not match its SHA-256 in the signed manifest (the file was altered or swapped)")]
    HashMismatch {
        /// The path.
        path: String,
    },
    /// A valid bundle older than the one in force (rollback refused).
    #[error(
        "the bundle was created at {offered}, before the bundle in force (created at {in_force}); rollback refused"
    )]
    Rollback {
        /// Creation time of the offered bundle (seconds since 1970).
        offered: u64,
        /// Creation time of the bundle in force.
        in_force: u64,
    },
}

impl BundleError {
    /// The error as a rustc-style diagnostic when it points into a rule file.
    pub fn to_diagnostic(&self) -> Option<Diagnostic> {
        match self {
            BundleError::RuleFile { location, message } => Some(Diagnostic::error(location.clone(), message.clone())),
            BundleError::DbcNotFound { location, path } => Some(
                Diagnostic::error(location.clone(), format!("DBC file {} not found", path.display()))
                    .with_label("named here"),
            ),
            BundleError::Key(key) => key.to_diagnostic(),
            _ => None,
        }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        BundleError::Io { action, path: path.into(), source }
    }
}

impl From<crate::keys::WriteFailure> for BundleError {
    fn from(failure: crate::keys::WriteFailure) -> Self {
        match failure {
            crate::keys::WriteFailure::Exists(path) => BundleError::AlreadyExists { path },
            crate::keys::WriteFailure::Io { action, path, source } => BundleError::Io { action, path, source },
        }
    }
}
