//! The revocation list: key ids that are refused at once, whatever key files
//! exist for them.
//!
//! ```text
//! bulkhead-revoked v1
//! # head unit of VIN ...123 stolen, 2026-03-02
//! 0x5f1c2a9e
//! 0x00c0ffee   # replaced by 0x7a0b3c11
//! ```
//!
//! One key id per line (`0x` and 8 hex digits), `#` starts a comment, the
//! header comes first. Repeating an id is harmless. The file holds nothing
//! secret but decides what is trusted, so it is read with the same owner and
//! "nobody else may write it" checks as public key files; a configured list
//! that is missing is an error (fail closed), not an empty list.

use std::collections::BTreeSet;
use std::path::Path;

use super::error::KeyError;
use super::id::KeyId;
use super::secure_file::{Secrecy, read_owned_file, require_mode};
use super::text::{Locator, Masking, check_header, checked_text, significant_lines};

/// The first significant line of a version 1 revocation list.
pub const REVOCATION_HEADER: &str = "bulkhead-revoked v1";

/// The largest revocation list accepted, in bytes (about 90 000 ids).
pub const MAX_REVOCATION_LIST_LEN: u64 = 1024 * 1024;

/// Parses a revocation list. `file_name` is used in error locations only.
pub fn parse_revocation_list(file_name: &str, source: &[u8]) -> Result<BTreeSet<KeyId>, KeyError> {
    let locator = Locator::new(file_name, source, Masking::Plain);
    let text = checked_text(&locator, source, MAX_REVOCATION_LIST_LEN)?;
    let mut lines = significant_lines(text);
    check_header(&locator, lines.next(), "bulkhead-revoked", "v1", REVOCATION_HEADER)?;
    let mut revoked = BTreeSet::new();
    for line in lines {
        let entry = line.text.split_once('#').map_or(line.text, |(entry, _comment)| entry).trim_end();
        let id: KeyId = entry.parse().map_err(|problem| locator.error(line.offset, problem))?;
        revoked.insert(id);
    }
    Ok(revoked)
}

/// Reads and parses the revocation list at `path` (owner and permission checked).
pub fn load_revocation_list(path: &Path) -> Result<BTreeSet<KeyId>, KeyError> {
    let read = read_owned_file(path, MAX_REVOCATION_LIST_LEN)?;
    require_mode(path, read.mode, Secrecy::Public)?;
    parse_revocation_list(&path.display().to_string(), &read.bytes)
}

/// Renders a revocation list (for tools that add an entry).
pub fn render_revocation_list(revoked: &BTreeSet<KeyId>) -> String {
    let mut out = format!("{REVOCATION_HEADER}\n");
    for id in revoked {
        out.push_str(&id.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyFileProblem;

    #[test]
    fn parses_ids_and_comments() {
        let source = "# list\nbulkhead-revoked v1\n0x5f1c2a9e\n\n0x00C0FFEE   # replaced\n0x5f1c2a9e\n";
        let revoked = parse_revocation_list("r", source.as_bytes()).expect("valid");
        assert_eq!(revoked.into_iter().map(KeyId::get).collect::<Vec<_>>(), vec![0x00c0_ffee, 0x5f1c_2a9e]);
    }

    #[test]
    fn round_trips() {
        let revoked: BTreeSet<KeyId> = [1, 0xffff_ffff, 77].into_iter().map(KeyId::from_u32).collect();
        let text = render_revocation_list(&revoked);
        assert_eq!(parse_revocation_list("r", text.as_bytes()).expect("valid"), revoked);
    }

    #[test]
    fn errors_are_located() {
        let cases: [(&str, u32, u32, KeyFileProblem); 4] = [
            ("", 1, 1, KeyFileProblem::MissingHeader { expected: REVOCATION_HEADER }),
            ("bulkhead-revoked v2\n", 1, 1, KeyFileProblem::UnsupportedVersion { found: "v2".into(), supported: "v1" }),
            ("bulkhead-revoked v1\n0x1234\n", 2, 1, KeyFileProblem::BadKeyId),
            ("bulkhead-revoked v1\n  0x00000000\n", 2, 3, KeyFileProblem::ReservedKeyId),
        ];
        for (source, line, column, expected) in cases {
            match parse_revocation_list("r", source.as_bytes()) {
                Err(KeyError::Parse { location, problem }) => {
                    assert_eq!((location.line, location.column, problem), (line, column, expected), "{source:?}");
                }
                other => panic!("{source:?}: expected a parse error, got {other:?}"),
            }
        }
    }
}
