//! Finding the files of a bundle: the rule files given, and every DBC file
//! their ports name (`[ports.NAME] dbc = ["../dbc/car.dbc", ...]`, relative to
//! the rule file). Only that much of the rule format is read here, with the
//! `toml` crate; the rule compiler checks the rest.
//!
//! Paths are made absolute and resolved lexically (`..` removes the previous
//! component, symbolic links are not consulted), the same resolution the
//! gateway applies inside a bundle, so a rule file finds in the bundle exactly
//! the file that was read here.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::Location;

use super::container::MAX_FILE_LEN;
use super::error::BundleError;
use super::manifest::FileRole;
use super::path::normalize;

/// A file to put in a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CollectedFile {
    /// Absolute, lexically normal path.
    pub path: PathBuf,
    /// What it is for.
    pub role: FileRole,
}

/// The part of a rule file this module reads.
#[derive(Deserialize)]
struct RuleFileReferences {
    #[serde(default)]
    ports: BTreeMap<String, PortReferences>,
}

#[derive(Deserialize)]
struct PortReferences {
    #[serde(default)]
    dbc: Vec<Spanned<String>>,
}

/// The rule files and the DBC files they name, without duplicates, in the
/// order first met.
pub(crate) fn collect(rule_files: &[PathBuf]) -> Result<Vec<CollectedFile>, BundleError> {
    if rule_files.is_empty() {
        return Err(BundleError::NoRuleFiles);
    }
    let mut collected: Vec<CollectedFile> = Vec::new();
    let mut add = |path: PathBuf, role: FileRole| {
        if !collected.iter().any(|c| c.path == path && c.role == role) {
            collected.push(CollectedFile { path, role });
        }
    };
    for rule_file in rule_files {
        let path = normalize(rule_file).map_err(|e| BundleError::io("find", rule_file, e))?;
        let source = read_capped(&path, MAX_FILE_LEN)?;
        for dbc in dbc_references(&path, &source)? {
            add(dbc, FileRole::Dbc);
        }
        add(path, FileRole::Rules);
    }
    Ok(collected)
}

/// The DBC files named by one rule file, checked to exist.
fn dbc_references(rule_file: &Path, source: &[u8]) -> Result<Vec<PathBuf>, BundleError> {
    let name: Arc<str> = Arc::from(rule_file.display().to_string());
    let locate = |offset: usize| Location::from_offset(&name, source, offset);
    let text = std::str::from_utf8(source).map_err(|e| BundleError::RuleFile {
        location: locate(e.valid_up_to()),
        message: "rule file is not UTF-8 text".into(),
    })?;
    let references: RuleFileReferences = toml::from_str(text).map_err(|e| BundleError::RuleFile {
        location: locate(e.span().map_or(0, |span| span.start)),
        message: e.message().trim_end().to_owned(),
    })?;
    let directory = rule_file.parent().unwrap_or(Path::new("/"));
    let mut found = Vec::new();
    for port in references.ports.values() {
        for reference in &port.dbc {
            let location = locate(reference.span().start);
            let written = reference.get_ref();
            if written.is_empty() || Path::new(written).is_absolute() {
                return Err(BundleError::RuleFile {
                    location,
                    message: format!("DBC path {written:?} must be relative to the rule file"),
                });
            }
            let path = normalize(&directory.join(written)).map_err(|e| BundleError::io("find", written, e))?;
            if !fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                return Err(BundleError::DbcNotFound { location, path });
            }
            found.push(path);
        }
    }
    Ok(found)
}

/// Reads a file, refusing files over `limit` bytes.
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, BundleError> {
    let file = fs::File::open(path).map_err(|e| BundleError::io("read", path, e))?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| BundleError::io("read", path, e))?;
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > limit {
        return Err(BundleError::TooLarge { what: "file", size, limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(path, text).expect("write");
    }

    #[test]
    fn finds_dbc_files_named_by_ports() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        write(&root.join("dbc/car.dbc"), "VERSION \"\"\n");
        write(&root.join("rules/local.dbc"), "VERSION \"\"\n");
        write(
            &root.join("rules/gw.toml"),
            "[ports.drive]\nkind = \"can\"\ndbc = [\"../dbc/car.dbc\", \"./local.dbc\"]\n\n[ports.info]\nkind = \"udp\"\n",
        );
        let files = collect(&[root.join("rules/gw.toml")]).expect("collects");
        let normal = normalize(root).expect("absolute");
        assert_eq!(
            files,
            vec![
                CollectedFile { path: normal.join("dbc/car.dbc"), role: FileRole::Dbc },
                CollectedFile { path: normal.join("rules/local.dbc"), role: FileRole::Dbc },
                CollectedFile { path: normal.join("rules/gw.toml"), role: FileRole::Rules },
            ]
        );
    }

    #[test]
    fn reports_missing_dbc_and_bad_toml_with_locations() {
        let dir = tempfile::tempdir().expect("temp dir");
        let rules = dir.path().join("gw.toml");
        write(&rules, "# gateway\n[ports.drive]\ndbc = [\"car.dbc\"]\n");
        match collect(std::slice::from_ref(&rules)) {
            Err(BundleError::DbcNotFound { location, path }) => {
                assert_eq!((location.line, location.column), (3, 8));
                assert!(path.ends_with("car.dbc"));
            }
            other => panic!("expected DbcNotFound, got {other:?}"),
        }
        write(&rules, "[ports.drive]\ndbc = \"car.dbc\"\n");
        match collect(std::slice::from_ref(&rules)) {
            Err(BundleError::RuleFile { location, .. }) => assert_eq!(location.line, 2),
            other => panic!("expected a rule file error, got {other:?}"),
        }
        write(&rules, "[ports.drive]\ndbc = [\"/etc/car.dbc\"]\n");
        assert!(matches!(collect(std::slice::from_ref(&rules)), Err(BundleError::RuleFile { .. })));
        write(&rules, "[ports.drive\n");
        assert!(matches!(collect(std::slice::from_ref(&rules)), Err(BundleError::RuleFile { .. })));
        assert!(matches!(collect(&[]), Err(BundleError::NoRuleFiles)));
    }
}
