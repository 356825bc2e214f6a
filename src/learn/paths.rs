//! DBC paths as the rule file writes them: relative to the rule file's
//! directory, since the rule compiler resolves them against it.
//!
//! Both paths are made absolute through the file system (symbolic links
//! resolved), then the common prefix is dropped and each remaining directory
//! of the rule file's side becomes `..`. Separators are written as `/`.

use std::path::{Component, Path, PathBuf};

use super::LearnError;

/// `target` relative to the directory `from_dir`, as TOML text.
pub fn relative(from_dir: &Path, target: &Path) -> Result<String, LearnError> {
    let canonical = |p: &Path| {
        std::fs::canonicalize(p).map_err(|e| LearnError::Path { path: p.to_path_buf(), reason: e.to_string() })
    };
    let from = canonical(from_dir)?;
    let to = canonical(target)?;
    let text = relative_lexical(&from, &to)
        .to_str()
        .map(|s| s.replace('\\', "/"))
        .ok_or_else(|| LearnError::Path { path: to.clone(), reason: "the path is not valid UTF-8".to_owned() })?;
    Ok(text)
}

/// `to` relative to `from`, both absolute and normalized.
fn relative_lexical(from: &Path, to: &Path) -> PathBuf {
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    if a.first() != b.first() {
        // Different roots (drives): no relative path exists.
        return to.to_path_buf();
    }
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in b.iter().skip(common) {
        out.push(c.as_os_str());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_relative_paths() {
        let r = relative_lexical(Path::new("/work/proj/out"), Path::new("/work/shared/dbc/a.dbc"));
        assert_eq!(r, PathBuf::from("../../shared/dbc/a.dbc"));
        let r = relative_lexical(Path::new("/work/proj"), Path::new("/work/proj/dbc/a.dbc"));
        assert_eq!(r, PathBuf::from("dbc/a.dbc"));
    }

    #[test]
    fn through_the_file_system() {
        let dir = std::env::temp_dir();
        let file = dir.join(format!("bulkhead-learn-paths-{}.dbc", std::process::id()));
        std::fs::write(&file, "").unwrap();
        let rel = relative(&dir, &file).unwrap();
        std::fs::remove_file(&file).unwrap();
        assert_eq!(rel, file.file_name().unwrap().to_str().unwrap());
        assert!(matches!(relative(&dir, Path::new("/no/such/file.dbc")), Err(LearnError::Path { .. })));
    }
}
