//! The bundle manifest: what the signature covers.
//!
//! ```text
//! bulkhead-bundle-manifest v1
//! created 1767225600
//! file dbc 48213 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 dbc/vehicle.dbc
//! file rules 2210 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae rules/gateway.toml
//! ```
//!
//! Written by bulkhead and read back byte-exactly: `\n` line ends (the last one
//! included), no blank line, no comment, paths sorted by bytes and unique, the
//! path last on its line (so it may hold spaces), sizes in decimal without
//! leading zeros, hashes in lowercase hex. At least one rule file.

use std::fmt;

use super::error::{BundleError, ManifestProblem};
use super::path::BundlePath;

const HEADER: &str = "bulkhead-bundle-manifest v1";

/// What a bundled file is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileRole {
    /// A rule file (TOML), an entry point for the rule compiler.
    Rules,
    /// A DBC file named by a rule file.
    Dbc,
}

impl FileRole {
    /// The role's name in the manifest.
    pub const fn as_str(self) -> &'static str {
        match self {
            FileRole::Rules => "rules",
            FileRole::Dbc => "dbc",
        }
    }
}

impl fmt::Display for FileRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
    /// Its path inside the bundle.
    pub path: BundlePath,
    /// What it is for.
    pub role: FileRole,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: [u8; 32],
}

/// The signed description of a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// When the bundle was made, in seconds since 1970-01-01 UTC (given by
    /// whoever signs; used to refuse rollbacks).
    pub created_unix_seconds: u64,
    /// The files, sorted by path.
    pub files: Vec<ManifestEntry>,
}

impl Manifest {
    /// Renders the manifest (entries must already be sorted and unique; the
    /// signer checks that before).
    pub fn render(&self) -> String {
        let mut out = format!("{HEADER}\ncreated {}\n", self.created_unix_seconds);
        for entry in &self.files {
            out.push_str(&format!("file {} {} {} {}\n", entry.role, entry.size, hex(&entry.sha256), entry.path));
        }
        out
    }

    /// Parses a manifest, strictly (see the module documentation).
    pub fn parse(bytes: &[u8]) -> Result<Manifest, BundleError> {
        let problem = |line: usize, problem: ManifestProblem| BundleError::Manifest {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            problem,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = bytes.get(..e.valid_up_to()).map_or(0, |ok| ok.iter().filter(|&&b| b == b'\n').count());
            problem(line + 1, ManifestProblem::NotUtf8)
        })?;
        let Some(body) = text.strip_suffix('\n') else {
            return Err(problem(text.split('\n').count(), ManifestProblem::MissingFinalNewline));
        };
        let mut lines = body.split('\n').enumerate().map(|(index, line)| (index + 1, line));
        let mut next = || {
            lines.next().map(|(number, line)| {
                if line.is_empty() || line.contains('\r') {
                    Err(problem(number, ManifestProblem::BlankLine))
                } else {
                    Ok((number, line))
                }
            })
        };

        let (number, header) = next().ok_or_else(|| problem(1, ManifestProblem::MissingHeader))??;
        if header != HEADER {
            return Err(match header.strip_prefix("bulkhead-bundle-manifest ") {
                Some(version) => {
                    problem(number, ManifestProblem::UnsupportedVersion { found: version.chars().take(16).collect() })
                }
                None => problem(number, ManifestProblem::MissingHeader),
            });
        }
        let (number, created) = next().ok_or_else(|| problem(2, ManifestProblem::BadCreated))??;
        let created_unix_seconds = created
            .strip_prefix("created ")
            .and_then(parse_decimal)
            .ok_or_else(|| problem(number, ManifestProblem::BadCreated))?;

        let mut files: Vec<ManifestEntry> = Vec::new();
        let mut last_line = number;
        while let Some(line) = next() {
            let (number, line) = line?;
            last_line = number;
            let entry = parse_file_line(line).map_err(|e| match e {
                LineError::Manifest(p) => problem(number, p),
                LineError::Path(path, p) => BundleError::PathEscape { path, problem: p },
            })?;
            if let Some(previous) = files.last() {
                if previous.path == entry.path {
                    return Err(BundleError::DuplicatePath { path: entry.path.to_string() });
                }
                if previous.path.as_str().as_bytes() > entry.path.as_str().as_bytes() {
                    return Err(problem(number, ManifestProblem::NotSorted));
                }
            }
            if files.len() >= super::container::MAX_FILES {
                return Err(BundleError::TooLarge {
                    what: "number of files",
                    size: u64::try_from(files.len() + 1).unwrap_or(u64::MAX),
                    limit: u64::try_from(super::container::MAX_FILES).unwrap_or(u64::MAX),
                });
            }
            files.push(entry);
        }
        if !files.iter().any(|entry| entry.role == FileRole::Rules) {
            return Err(problem(last_line, ManifestProblem::NoRuleFile));
        }
        Ok(Manifest { created_unix_seconds, files })
    }
}

enum LineError {
    Manifest(ManifestProblem),
    Path(String, super::path::PathProblem),
}

fn parse_file_line(line: &str) -> Result<ManifestEntry, LineError> {
    let bad = || LineError::Manifest(ManifestProblem::BadFileLine);
    let rest = line.strip_prefix("file ").ok_or_else(bad)?;
    let (role, rest) = rest.split_once(' ').ok_or_else(bad)?;
    let (size, rest) = rest.split_once(' ').ok_or_else(bad)?;
    let (hash, path) = rest.split_once(' ').ok_or_else(bad)?;
    let role = match role {
        "rules" => FileRole::Rules,
        "dbc" => FileRole::Dbc,
        other => {
            return Err(LineError::Manifest(ManifestProblem::UnknownRole { found: other.chars().take(16).collect() }));
        }
    };
    let size = parse_decimal(size).ok_or(LineError::Manifest(ManifestProblem::BadSize))?;
    let sha256 = parse_hash(hash).ok_or(LineError::Manifest(ManifestProblem::BadHash))?;
    let path = BundlePath::new(path).map_err(|p| LineError::Path(path.chars().take(200).collect(), p))?;
    Ok(ManifestEntry { path, role, size, sha256 })
}

/// A decimal u64 in canonical form (no sign, no leading zero except "0").
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64 || !digits.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut hash = [0u8; 32];
    for (byte, pair) in hash.iter_mut().zip(digits.chunks_exact(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    Some(hash)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            created_unix_seconds: 1_767_225_600,
            files: vec![
                ManifestEntry {
                    path: BundlePath::new("dbc/vehicle one.dbc").expect("valid"),
                    role: FileRole::Dbc,
                    size: 0,
                    sha256: [0xab; 32],
                },
                ManifestEntry {
                    path: BundlePath::new("rules/gateway.toml").expect("valid"),
                    role: FileRole::Rules,
                    size: 2210,
                    sha256: [0x01; 32],
                },
            ],
        }
    }

    fn manifest_problem(text: &str) -> (u32, ManifestProblem) {
        match Manifest::parse(text.as_bytes()) {
            Err(BundleError::Manifest { line, problem }) => (line, problem),
            other => panic!("{text:?}: expected a manifest error, got {other:?}"),
        }
    }

    #[test]
    fn round_trips() {
        let manifest = sample();
        assert_eq!(Manifest::parse(manifest.render().as_bytes()).expect("valid"), manifest);
    }

    #[test]
    fn refuses_every_deviation() {
        let good = sample().render();
        let h = "ab".repeat(32);
        let cases: Vec<(String, u32, ManifestProblem)> = vec![
            (good.trim_end().to_owned(), 4, ManifestProblem::MissingFinalNewline),
            (good.replace("created", "\ncreated"), 2, ManifestProblem::BlankLine),
            (good.replace('\n', "\r\n"), 1, ManifestProblem::BlankLine),
            (good.replace("manifest v1", "manifest v2"), 1, ManifestProblem::UnsupportedVersion { found: "v2".into() }),
            (good.replace("bulkhead-bundle-manifest", "bundle"), 1, ManifestProblem::MissingHeader),
            (good.replace("created 1767225600", "created 01767225600"), 2, ManifestProblem::BadCreated),
            (good.replace("created 1767225600", "created -1"), 2, ManifestProblem::BadCreated),
            (
                good.replace(&format!("file dbc 0 {h} dbc/vehicle one.dbc"), "file dbc 0 x"),
                3,
                ManifestProblem::BadFileLine,
            ),
            (good.replace("file dbc", "files dbc"), 3, ManifestProblem::BadFileLine),
            (good.replace("file dbc", "file lua"), 3, ManifestProblem::UnknownRole { found: "lua".into() }),
            (good.replace("file rules 2210", "file rules 2e3"), 4, ManifestProblem::BadSize),
            (good.replace(&h, &h.to_uppercase()), 3, ManifestProblem::BadHash),
            (good.replace("dbc/vehicle one.dbc", "zz.dbc"), 4, ManifestProblem::NotSorted),
            (good.replace("file rules", "file dbc"), 4, ManifestProblem::NoRuleFile),
        ];
        for (text, line, problem) in cases {
            assert_eq!(manifest_problem(&text), (line, problem), "{text:?}");
        }
        assert!(matches!(
            Manifest::parse(good.replace("dbc/vehicle one.dbc", "../etc/passwd").as_bytes()),
            Err(BundleError::PathEscape { problem: super::super::path::PathProblem::ParentComponent, .. })
        ));
        assert!(matches!(
            Manifest::parse(good.replace("dbc/vehicle one.dbc", "rules/gateway.toml").as_bytes()),
            Err(BundleError::DuplicatePath { .. })
        ));
        assert_eq!(manifest_problem("bulkhead\u{ff}"), (1, ManifestProblem::MissingFinalNewline));
        assert_eq!(
            match Manifest::parse(b"bulkhead-bundle-manifest v1\n\xff\n") {
                Err(BundleError::Manifest { line, problem }) => (line, problem),
                other => panic!("{other:?}"),
            },
            (2, ManifestProblem::NotUtf8)
        );
    }
}
