//! The bundle file: a small length-prefixed container, version 1.
//!
//! ```text
//! offset     size  field
//! 0          16    magic "bulkhead-bundle\n"
//! 16         2     format version, big-endian (1)
//! 18         1     signature scheme: 0 = unsigned, 1 = Ed25519
//! 19         4     manifest length M, big-endian (at most 1 MiB)
//! 23         8     payload length P, big-endian (at most 256 MiB)
//! 31         M     manifest (see `manifest.rs`)
//! 31+M       P     payload: file records, each
//!                    2  path length L, big-endian (1..=1024)
//!                    L  path (UTF-8, checked as a bundle path by the verifier)
//!                    4  data length D, big-endian (at most 64 MiB)
//!                    D  data
//! 31+M+P     96    if signed: signer's Ed25519 public key (32) and signature (64)
//! ```
//!
//! The signature covers `"bulkhead rule bundle v1\0"` followed by bytes
//! `0 .. 31+M` (header and manifest), so the version, the lengths and the
//! manifest (with every file's size and SHA-256) are all signed; file data is
//! bound through the hashes. Decoding checks every length against the limits
//! and against the bytes actually present before using it: no input makes it
//! read out of bounds, allocate more than the input's size, or panic.

use super::error::BundleError;

/// The first 16 bytes of every bundle.
pub const MAGIC: &[u8; 16] = b"bulkhead-bundle\n";
/// The container version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// The prefix of the signed message (domain separation).
pub const SIGNATURE_CONTEXT: &[u8] = b"bulkhead rule bundle v1\0";
/// Largest manifest, in bytes.
pub const MAX_MANIFEST_LEN: u64 = 1024 * 1024;
/// Largest payload, in bytes.
pub const MAX_PAYLOAD_LEN: u64 = 256 * 1024 * 1024;
/// Largest single file, in bytes.
pub const MAX_FILE_LEN: u64 = 64 * 1024 * 1024;
/// Most files in a bundle.
pub const MAX_FILES: usize = 4096;
/// Largest path, in bytes.
pub const MAX_PATH_LEN: usize = 1024;
/// Largest bundle file, in bytes (header, largest manifest and payload, signature).
pub const MAX_BUNDLE_LEN: u64 = 31 + MAX_MANIFEST_LEN + MAX_PAYLOAD_LEN + 96;

const HEADER_LEN: usize = 31;
const SIGNATURE_BLOCK_LEN: usize = 96;
const SCHEME_UNSIGNED: u8 = 0;
const SCHEME_ED25519: u8 = 1;

/// The Ed25519 signature block of a bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureBlock {
    /// The signer's public key.
    pub signer: [u8; 32],
    /// The signature.
    pub signature: [u8; 64],
}

/// One stored file, as found in the payload (its path not yet checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredFile<'a> {
    /// The raw path bytes.
    pub path: &'a [u8],
    /// The data.
    pub data: &'a [u8],
}

/// A bundle split into its parts, borrowing from the input. Nothing in it is
/// trusted yet: this is structure only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container<'a> {
    /// Header and manifest: the bytes the signature covers (after the context).
    pub signed_part: &'a [u8],
    /// The manifest bytes.
    pub manifest: &'a [u8],
    /// The stored files, in payload order.
    pub files: Vec<StoredFile<'a>>,
    /// The signature block, if the bundle is signed.
    pub signature: Option<SignatureBlock>,
}

/// The message an Ed25519 signature of a bundle signs.
pub fn signed_message(signed_part: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(SIGNATURE_CONTEXT.len() + signed_part.len());
    message.extend_from_slice(SIGNATURE_CONTEXT);
    message.extend_from_slice(signed_part);
    message
}

/// Splits `bytes` into a [`Container`], checking the magic, the version, every
/// length and the payload's record structure.
pub fn decode(bytes: &[u8]) -> Result<Container<'_>, BundleError> {
    let available = len_u64(bytes.len());
    let magic_len = MAGIC.len().min(bytes.len());
    if bytes.get(..magic_len) != MAGIC.get(..magic_len) {
        return Err(BundleError::NotABundle);
    }
    let Some(header) = bytes.get(..HEADER_LEN) else {
        return Err(BundleError::Truncated { needed: len_u64(HEADER_LEN), available });
    };
    let version = u16::from_be_bytes(array(header, 16));
    if version != FORMAT_VERSION {
        return Err(BundleError::UnsupportedVersion { found: version, supported: FORMAT_VERSION });
    }
    let scheme = header.get(18).copied().unwrap_or(SCHEME_UNSIGNED);
    let signature_len = match scheme {
        SCHEME_UNSIGNED => 0,
        SCHEME_ED25519 => SIGNATURE_BLOCK_LEN,
        found => return Err(BundleError::BadSignatureFlag { found }),
    };
    let manifest_len = u64::from(u32::from_be_bytes(array(header, 19)));
    let payload_len = u64::from_be_bytes(array(header, 23));
    if manifest_len > MAX_MANIFEST_LEN {
        return Err(BundleError::TooLarge { what: "manifest", size: manifest_len, limit: MAX_MANIFEST_LEN });
    }
    if payload_len > MAX_PAYLOAD_LEN {
        return Err(BundleError::TooLarge { what: "payload", size: payload_len, limit: MAX_PAYLOAD_LEN });
    }
    // Both lengths are bounded above, so these sums cannot overflow.
    let needed = len_u64(HEADER_LEN) + manifest_len + payload_len + len_u64(signature_len);
    if available < needed {
        return Err(BundleError::Truncated { needed, available });
    }
    if available > needed {
        return Err(BundleError::TrailingData { extra: available - needed });
    }
    let manifest_end = HEADER_LEN + to_usize(manifest_len);
    let payload_end = manifest_end + to_usize(payload_len);
    let (Some(signed_part), Some(manifest), Some(payload)) =
        (bytes.get(..manifest_end), bytes.get(HEADER_LEN..manifest_end), bytes.get(manifest_end..payload_end))
    else {
        return Err(BundleError::Truncated { needed, available });
    };
    let signature = match bytes.get(payload_end..) {
        Some(block) if signature_len == SIGNATURE_BLOCK_LEN && block.len() == SIGNATURE_BLOCK_LEN => {
            Some(SignatureBlock { signer: array(block, 0), signature: array(block, 32) })
        }
        _ => None,
    };
    Ok(Container { signed_part, manifest, files: decode_payload(payload)?, signature })
}

/// Splits the payload into file records.
fn decode_payload(payload: &[u8]) -> Result<Vec<StoredFile<'_>>, BundleError> {
    let mut files = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let index = files.len();
        let offset = len_u64(payload.len() - rest.len());
        if index >= MAX_FILES {
            return Err(BundleError::TooLarge {
                what: "number of files",
                size: len_u64(index + 1),
                limit: len_u64(MAX_FILES),
            });
        }
        let overrun = || BundleError::BadFileRecord { index, offset };
        let (path_len, after) = take(rest, 2).ok_or_else(overrun)?;
        let path_len = usize::from(u16::from_be_bytes(array(path_len, 0)));
        if path_len > MAX_PATH_LEN {
            return Err(BundleError::TooLarge { what: "path", size: len_u64(path_len), limit: len_u64(MAX_PATH_LEN) });
        }
        let (path, after) = take(after, path_len).ok_or_else(overrun)?;
        let (data_len, after) = take(after, 4).ok_or_else(overrun)?;
        let data_len = u64::from(u32::from_be_bytes(array(data_len, 0)));
        if data_len > MAX_FILE_LEN {
            return Err(BundleError::TooLarge { what: "file", size: data_len, limit: MAX_FILE_LEN });
        }
        let (data, after) = take(after, to_usize(data_len)).ok_or_else(overrun)?;
        files.push(StoredFile { path, data });
        rest = after;
    }
    Ok(files)
}

/// Makes the signature block for a signed message.
pub type Signer<'a> = dyn Fn(&[u8]) -> SignatureBlock + 'a;

/// Assembles a bundle. With `signer`, the signature block is computed by
/// calling it on the signed message; without, the bundle is unsigned (only
/// useful to test that verifiers refuse it).
pub fn encode(manifest: &[u8], files: &[StoredFile<'_>], signer: Option<&Signer<'_>>) -> Result<Vec<u8>, BundleError> {
    if len_u64(manifest.len()) > MAX_MANIFEST_LEN {
        return Err(BundleError::TooLarge { what: "manifest", size: len_u64(manifest.len()), limit: MAX_MANIFEST_LEN });
    }
    if files.len() > MAX_FILES {
        return Err(BundleError::TooLarge {
            what: "number of files",
            size: len_u64(files.len()),
            limit: len_u64(MAX_FILES),
        });
    }
    let mut payload_len = 0u64;
    for file in files {
        if file.path.len() > MAX_PATH_LEN {
            return Err(BundleError::TooLarge {
                what: "path",
                size: len_u64(file.path.len()),
                limit: len_u64(MAX_PATH_LEN),
            });
        }
        if len_u64(file.data.len()) > MAX_FILE_LEN {
            return Err(BundleError::TooLarge { what: "file", size: len_u64(file.data.len()), limit: MAX_FILE_LEN });
        }
        payload_len += 6 + len_u64(file.path.len()) + len_u64(file.data.len());
    }
    if payload_len > MAX_PAYLOAD_LEN {
        return Err(BundleError::TooLarge { what: "payload", size: payload_len, limit: MAX_PAYLOAD_LEN });
    }
    let total = HEADER_LEN + manifest.len() + to_usize(payload_len) + SIGNATURE_BLOCK_LEN;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.push(if signer.is_some() { SCHEME_ED25519 } else { SCHEME_UNSIGNED });
    out.extend_from_slice(&u32::try_from(manifest.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&payload_len.to_be_bytes());
    out.extend_from_slice(manifest);
    let block = signer.map(|sign| sign(&signed_message(&out)));
    for file in files {
        out.extend_from_slice(&u16::try_from(file.path.len()).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(file.path);
        out.extend_from_slice(&u32::try_from(file.data.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(file.data);
    }
    if let Some(block) = block {
        out.extend_from_slice(&block.signer);
        out.extend_from_slice(&block.signature);
    }
    Ok(out)
}

fn take(bytes: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    (bytes.len() >= n).then(|| bytes.split_at(n))
}

/// `N` bytes of `bytes` from `at`, zero-filled where absent (callers check
/// lengths first; the fill only keeps this total).
fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(source) = bytes.get(at..at.saturating_add(N)) {
        out.copy_from_slice(source);
    }
    out
}

fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// Converts a length already bounded by the limits above (all far below 4 GiB).
fn to_usize(len: u64) -> usize {
    usize::try_from(len).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_signer(message: &[u8]) -> SignatureBlock {
        let mut signature = [0u8; 64];
        signature[0] = u8::try_from(message.len() % 251).unwrap_or(0);
        SignatureBlock { signer: [7; 32], signature }
    }

    #[test]
    fn round_trips_structure() {
        let files = [StoredFile { path: b"a.toml", data: b"x = 1\n" }, StoredFile { path: b"b.dbc", data: b"" }];
        let bytes = encode(b"manifest\n", &files, Some(&fake_signer)).expect("encodes");
        let container = decode(&bytes).expect("decodes");
        assert_eq!(container.manifest, b"manifest\n");
        assert_eq!(container.files, files);
        assert_eq!(container.signed_part, &bytes[..31 + 9]);
        assert_eq!(container.signature, Some(fake_signer(&signed_message(container.signed_part))));

        let unsigned = encode(b"m\n", &files, None).expect("encodes");
        assert_eq!(decode(&unsigned).expect("decodes").signature, None);
    }

    #[test]
    fn refuses_bad_headers_and_lengths() {
        let bytes = encode(b"m\n", &[StoredFile { path: b"a", data: b"1" }], Some(&fake_signer)).expect("encodes");
        assert!(matches!(decode(b"PK\x03\x04"), Err(BundleError::NotABundle)));
        assert!(matches!(decode(b"bulkhead"), Err(BundleError::Truncated { needed: 31, available: 8 })));
        let mut v2 = bytes.clone();
        v2[17] = 2;
        assert!(matches!(decode(&v2), Err(BundleError::UnsupportedVersion { found: 2, supported: 1 })));
        let mut scheme = bytes.clone();
        scheme[18] = 9;
        assert!(matches!(decode(&scheme), Err(BundleError::BadSignatureFlag { found: 9 })));
        let mut huge = bytes.clone();
        huge[19] = 0xff;
        assert!(matches!(decode(&huge), Err(BundleError::TooLarge { what: "manifest", .. })));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(decode(&trailing), Err(BundleError::TrailingData { extra: 1 })));
        let mut record = bytes.clone();
        record[31 + 2 + 1] = 9; // path length 0x0009 > remaining payload
        assert!(matches!(decode(&record), Err(BundleError::BadFileRecord { index: 0, offset: 0 })));
    }
}
