//! The errors of the key layer: [`KeyError`] for reading, writing and storing
//! keys, [`KeyFileProblem`] for what is wrong inside a key or revocation file,
//! and [`KeyLookupError`] for the per-datagram lookups (small and `Copy`, so the
//! hot path never allocates to refuse a key).
//!
//! Invariant: no message built here contains secret material. Values of secret
//! fields are never echoed, and the line text of a located error in a key file
//! is masked (see [`super::format`]).

use std::io;
use std::path::PathBuf;

use crate::diagnostic::{Diagnostic, Location};

use super::id::KeyId;
use super::material::{KeyFingerprint, KeyKind};

/// What is wrong inside a key file or a revocation list (the location is kept
/// beside it, in [`KeyError::Parse`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileProblem {
    /// The file is larger than any key file can be.
    #[error("file is {size} bytes long, more than the {limit} bytes a key file may have")]
    TooLarge {
        /// Its size in bytes.
        size: u64,
        /// The largest size accepted.
        limit: u64,
    },
    /// The file is not UTF-8 text.
    #[error("file is not UTF-8 text")]
    NotUtf8,
    /// The first line that is not blank or a comment is not the format header.
    #[error("expected the header `{expected}` on the first line")]
    MissingHeader {
        /// The header this kind of file starts with.
        expected: &'static str,
    },
    /// The header names a version of the format this build does not read.
    #[error("unsupported format version `{found}` (this build reads `{supported}`)")]
    UnsupportedVersion {
        /// The version found in the header (at most 16 characters of it).
        found: String,
        /// The version this build reads.
        supported: &'static str,
    },
    /// A line is neither blank, nor a comment, nor `field = value`.
    #[error("expected `field = value`")]
    ExpectedField,
    /// A field name that this format does not have.
    #[error("unknown field `{field}`")]
    UnknownField {
        /// The field name (at most 32 characters of it).
        field: String,
    },
    /// A field given twice.
    #[error("field `{field}` is given twice (first on line {first_line})")]
    DuplicateField {
        /// The field name.
        field: &'static str,
        /// The line of its first occurrence.
        first_line: u32,
    },
    /// A field with nothing after the `=`.
    #[error("field `{field}` has no value")]
    EmptyValue {
        /// The field name.
        field: &'static str,
    },
    /// The file does not say which kind of key it holds.
    #[error("field `type` is missing (link, secoc, ed25519-secret or ed25519-public)")]
    MissingType,
    /// A field this kind of key needs is absent.
    #[error("field `{field}` is missing (a `{kind}` key file needs it)")]
    MissingField {
        /// The field name.
        field: &'static str,
        /// The kind of key the file declares (`type = ...`).
        kind: &'static str,
    },
    /// A field that this kind of key does not have.
    #[error("field `{field}` does not belong in a `{kind}` key file")]
    FieldNotAllowed {
        /// The field name.
        field: &'static str,
        /// The kind of key the file declares.
        kind: &'static str,
    },
    /// `type = ...` names no kind of key.
    #[error("unknown key type `{found}` (expected link, secoc, ed25519-secret or ed25519-public)")]
    UnknownKind {
        /// The value found (at most 32 characters of it).
        found: String,
    },
    /// A key id that is not `0x` followed by exactly 8 hex digits.
    #[error("a key id is `0x` followed by exactly 8 hex digits, for example 0x5f1c2a9e")]
    BadKeyId,
    /// The key id 0x00000000, which is reserved (never generated, never valid).
    #[error("key id 0x00000000 is reserved")]
    ReservedKeyId,
    /// A cipher suite this gateway does not speak.
    #[error("unknown suite `{found}` (expected aes-128-gcm or chacha20-poly1305)")]
    UnknownSuite {
        /// The value found (at most 32 characters of it).
        found: String,
    },
    /// A direction that is neither of the two.
    #[error("unknown direction `{found}` (expected device-to-gateway or gateway-to-device)")]
    UnknownDirection {
        /// The value found (at most 32 characters of it).
        found: String,
    },
    /// A device or key name that breaks the naming rule.
    #[error("bad name: {reason} (names are 1 to 64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit)")]
    BadName {
        /// Which part of the rule is broken.
        reason: &'static str,
    },
    /// A character that is not a hex digit in a key value.
    #[error("`{field}` holds a character that is not a hex digit")]
    NotHexDigit {
        /// The field name.
        field: &'static str,
    },
    /// A key value of the wrong length.
    #[error("`{field}` must be {expected_bytes} bytes ({} hex digits), found {found_digits} digits", 2 * expected_bytes)]
    WrongKeyLength {
        /// The field name.
        field: &'static str,
        /// The length the key must have, in bytes.
        expected_bytes: usize,
        /// The number of characters found.
        found_digits: usize,
    },
    /// 32 bytes that are not a usable Ed25519 public key (not a curve point, or
    /// a point of small order that would accept forged signatures).
    #[error("not a usable Ed25519 public key (invalid or weak point)")]
    InvalidPublicKey,
    /// An `ed25519-secret` file whose `public` is not the secret's public key.
    #[error("`public` is not the public key of this secret key (the file is damaged)")]
    PublicKeyMismatch,
}

/// Why a key cannot be read, written, loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The operating system refused an operation on a file.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What we were doing ("read", "create", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The system's reason.
        #[source]
        source: io::Error,
    },
    /// A key file or revocation list is malformed (the location's line text is
    /// masked so that no secret is shown).
    #[error("{location}: {problem}")]
    Parse {
        /// File, line, column and (masked) line text.
        location: Location,
        /// What is wrong there.
        problem: KeyFileProblem,
    },
    /// A value given by the caller (a device or key name, ...) is not valid.
    #[error("invalid {what}: {problem}")]
    InvalidArgument {
        /// Which argument.
        what: &'static str,
        /// What is wrong with it.
        problem: KeyFileProblem,
    },
    /// A secret key file that group or others may read or write, or a public
    /// one that they may write.
    #[error(
        "{} has mode {mode:04o}: {rule}; fix it with `chmod {fix} {}`",
        path.display(),
        path.display()
    )]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// The rule it breaks.
        rule: &'static str,
        /// The `chmod` argument that fixes it (`600` or `go-w`).
        fix: &'static str,
    },
    /// A key file or directory owned by another user than the one running us.
    #[error(
        "{} is owned by uid {owner}, not by the user running bulkhead (uid {expected}); fix it with `chown {expected} {}`",
        path.display(),
        path.display()
    )]
    WrongOwner {
        /// The file or directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// Our effective user id.
        expected: u32,
    },
    /// A key file that is a symbolic link (refused: the link target could be
    /// swapped by whoever controls it).
    #[error("{} is a symbolic link; key files must be regular files (replace the link by the file it points to)", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// A key file that is a directory, a device, a FIFO or a socket.
    #[error("{} is not a regular file", path.display())]
    NotRegularFile {
        /// The path.
        path: PathBuf,
    },
    /// A key store directory that group or others may write (they could add keys).
    #[error(
        "key directory {} has mode {mode:04o}: group or others may add files to it; fix it with `chmod go-w {}`",
        path.display(),
        path.display()
    )]
    InsecureDirectory {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A file too large to be a key file or revocation list.
    #[error("{} is more than {limit} bytes long, too large for a key file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The largest size accepted.
        limit: u64,
    },
    /// The output file exists and overwriting was not asked for.
    #[error("{} already exists; refusing to overwrite it (ask for overwriting explicitly, e.g. `--force`)", path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// The secret and the public key of a pair were to go to the same file.
    #[error("the secret and the public key must go to two different files, not both to {}", path.display())]
    SamePath {
        /// The path given twice.
        path: PathBuf,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Random(getrandom::Error),
    /// No unused key id was found after many random draws (practically
    /// impossible unless the store is enormous or the generator is broken).
    #[error("no unused random key id found after {attempts} attempts; is the random generator broken?")]
    KeyIdsExhausted {
        /// How many ids were drawn.
        attempts: u32,
    },
    /// A file holds another kind of key than the one expected here.
    #[error("{} holds a `{found}` key, expected a `{expected}` key", path.display())]
    WrongKeyKind {
        /// The file.
        path: PathBuf,
        /// The kind that was expected.
        expected: KeyKind,
        /// The kind found.
        found: KeyKind,
    },
    /// A bundle signing secret key inside the gateway's key store.
    #[error(
        "{} is a bundle signing secret key; it does not belong on the gateway (keep it on the signing machine and put its public key here)",
        path.display()
    )]
    SigningKeyInStore {
        /// The file.
        path: PathBuf,
    },
    /// A key file whose name ends in `.pub` holds secret material or one ending
    /// in `.key` holds a public key.
    #[error("{} holds a `{found}` key but its name ends in `.{extension}`", path.display())]
    MisnamedKeyFile {
        /// The file.
        path: PathBuf,
        /// The kind of key inside.
        found: KeyKind,
        /// The file name's extension.
        extension: &'static str,
    },
    /// Two link keys with the same key id.
    #[error("key id {id} is used twice: in {} and in {}", first.display(), second.display())]
    DuplicateKeyId {
        /// The id.
        id: KeyId,
        /// The first file that has it.
        first: PathBuf,
        /// The second file that has it.
        second: PathBuf,
    },
    /// Two SecOC keys with the same name.
    #[error("SecOC key name `{name}` is used twice: in {} and in {}", first.display(), second.display())]
    DuplicateSecocName {
        /// The name.
        name: String,
        /// The first file that has it.
        first: PathBuf,
        /// The second file that has it.
        second: PathBuf,
    },
    /// The same bundle verifying key in two files.
    #[error("bundle verifying key {fingerprint} is present twice: in {} and in {}", first.display(), second.display())]
    DuplicateVerifyingKey {
        /// The key's fingerprint.
        fingerprint: KeyFingerprint,
        /// The first file that has it.
        first: PathBuf,
        /// The second file that has it.
        second: PathBuf,
    },
    /// Several independent problems (every file of a store is checked).
    #[error("{} problems:\n{}", .0.len(), render_list(.0))]
    Several(Vec<KeyError>),
}

impl KeyError {
    /// The error as a rustc-style diagnostic when it points into a file.
    pub fn to_diagnostic(&self) -> Option<Diagnostic> {
        match self {
            KeyError::Parse { location, problem } => Some(Diagnostic::error(location.clone(), problem.to_string())),
            _ => None,
        }
    }

    /// Folds a list of problems into one error (`None` when the list is empty).
    pub(crate) fn from_list(mut problems: Vec<KeyError>) -> Option<KeyError> {
        match problems.len() {
            0 => None,
            1 => problems.pop(),
            _ => Some(KeyError::Several(problems)),
        }
    }

    /// An I/O error with its action and path.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        KeyError::Io { action, path: path.into(), source }
    }
}

fn render_list(problems: &[KeyError]) -> String {
    let mut out = String::new();
    for problem in problems {
        out.push_str("  - ");
        out.push_str(&problem.to_string());
        out.push('\n');
    }
    out
}

/// Why a lookup by key id refused to give a key (no allocation, `Copy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyLookupError {
    /// No key with this id is in the store.
    #[error("unknown key id {0}")]
    Unknown(KeyId),
    /// The key id is on the revocation list.
    #[error("key id {0} is revoked")]
    Revoked(KeyId),
}
