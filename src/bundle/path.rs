//! Paths of files inside a bundle.
//!
//! A [`BundlePath`] is relative, uses `/` as separator and cannot leave the
//! bundle: no leading `/`, no `..` or `.` component, no empty component, no
//! backslash, no control character, at most 1024 bytes and 32 components of at
//! most 255 bytes. Whoever unpacks or resolves a bundle path can join it to a
//! directory without further checks.
//!
//! Rule files name their DBC files relative to their own directory, possibly
//! with `..` ([`BundlePath::resolve`] does that resolution lexically, the same
//! way on the signing machine and on the gateway).

use std::fmt;
use std::path::{Component, Path, PathBuf};

/// What makes a string unusable as a bundle path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathProblem {
    /// The path is empty.
    #[error("the path is empty")]
    Empty,
    /// The path starts with `/`.
    #[error("the path is absolute")]
    Absolute,
    /// A `..` component (or a reference that climbs above the bundle root).
    #[error("the path climbs out of the bundle with `..`")]
    ParentComponent,
    /// A `.` component.
    #[error("the path has a `.` component")]
    CurrentComponent,
    /// Two slashes in a row, or a trailing slash.
    #[error("the path has an empty component")]
    EmptyComponent,
    /// A backslash (a separator on some systems, so ambiguous).
    #[error("the path holds a backslash")]
    Backslash,
    /// A control character (including NUL and line breaks).
    #[error("the path holds a control character")]
    ControlCharacter,
    /// The path is not UTF-8.
    #[error("the path is not UTF-8")]
    NotUtf8,
    /// More than [`BundlePath::MAX_LEN`] bytes or [`BundlePath::MAX_DEPTH`]
    /// components, or a component longer than 255 bytes.
    #[error("the path is too long")]
    TooLong,
}

/// A checked relative path inside a bundle.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BundlePath(String);

impl BundlePath {
    /// The longest path accepted, in bytes.
    pub const MAX_LEN: usize = 1024;
    /// The most components a path may have.
    pub const MAX_DEPTH: usize = 32;
    const MAX_COMPONENT_LEN: usize = 255;

    /// Checks `path` against the rules of this module.
    pub fn new(path: &str) -> Result<Self, PathProblem> {
        if path.is_empty() {
            return Err(PathProblem::Empty);
        }
        if path.len() > Self::MAX_LEN {
            return Err(PathProblem::TooLong);
        }
        if path.starts_with('/') {
            return Err(PathProblem::Absolute);
        }
        if path.contains('\\') {
            return Err(PathProblem::Backslash);
        }
        if path.chars().any(char::is_control) {
            return Err(PathProblem::ControlCharacter);
        }
        let mut depth = 0;
        for component in path.split('/') {
            depth += 1;
            match component {
                "" => return Err(PathProblem::EmptyComponent),
                "." => return Err(PathProblem::CurrentComponent),
                ".." => return Err(PathProblem::ParentComponent),
                _ if component.len() > Self::MAX_COMPONENT_LEN => return Err(PathProblem::TooLong),
                _ => {}
            }
        }
        if depth > Self::MAX_DEPTH {
            return Err(PathProblem::TooLong);
        }
        Ok(BundlePath(path.to_owned()))
    }

    /// Checks raw bytes (as read from a bundle) as a path.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PathProblem> {
        BundlePath::new(std::str::from_utf8(bytes).map_err(|_| PathProblem::NotUtf8)?)
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bundle path that `reference` (a relative path written in this file,
    /// with `/` separators, possibly with `.` and `..`) designates, resolved
    /// lexically from this file's directory. Fails when the reference is
    /// absolute or climbs above the bundle root.
    pub fn resolve(&self, reference: &str) -> Result<BundlePath, PathProblem> {
        if reference.is_empty() {
            return Err(PathProblem::Empty);
        }
        if reference.starts_with('/') {
            return Err(PathProblem::Absolute);
        }
        let mut parts: Vec<&str> = self.0.split('/').collect();
        parts.pop();
        for component in reference.split('/') {
            match component {
                "" | "." => {}
                ".." => {
                    parts.pop().ok_or(PathProblem::ParentComponent)?;
                }
                other => parts.push(other),
            }
        }
        BundlePath::new(&parts.join("/"))
    }

    /// This path under `directory`, for unpacking.
    pub fn under(&self, directory: &Path) -> PathBuf {
        self.0.split('/').fold(directory.to_path_buf(), |path, component| path.join(component))
    }

    /// The bundle path of `file` relative to `root`, both absolute and
    /// lexically normal (see [`normalize`]); `None` when `file` is not under `root`.
    pub(crate) fn relative_to(file: &Path, root: &Path) -> Option<Result<BundlePath, PathProblem>> {
        let relative = file.strip_prefix(root).ok()?;
        let mut parts = Vec::new();
        for component in relative.components() {
            match component {
                Component::Normal(part) => match part.to_str() {
                    Some(part) => parts.push(part),
                    None => return Some(Err(PathProblem::NotUtf8)),
                },
                _ => return Some(Err(PathProblem::ParentComponent)),
            }
        }
        Some(BundlePath::new(&parts.join("/")))
    }
}

/// `path` made absolute (from the current directory) with `.` and `..`
/// resolved lexically (symbolic links are not followed, the same convention
/// the gateway uses when it resolves paths inside a bundle).
pub(crate) fn normalize(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    let mut normal = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other.as_os_str()),
        }
    }
    Ok(normal)
}

impl fmt::Display for BundlePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BundlePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BundlePath({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_relative_paths() {
        for good in ["rules/gateway.toml", "a", "dbc/tesla can.dbc", "x/.hidden", "a..b/c"] {
            assert_eq!(BundlePath::new(good).expect("valid").as_str(), good);
        }
    }

    #[test]
    fn refuses_escapes_and_ambiguity() {
        let cases = [
            ("", PathProblem::Empty),
            ("/etc/passwd", PathProblem::Absolute),
            ("../x", PathProblem::ParentComponent),
            ("a/../../x", PathProblem::ParentComponent),
            ("a/./b", PathProblem::CurrentComponent),
            ("a//b", PathProblem::EmptyComponent),
            ("a/", PathProblem::EmptyComponent),
            ("a\\..\\b", PathProblem::Backslash),
            ("a\nb", PathProblem::ControlCharacter),
            ("a\0b", PathProblem::ControlCharacter),
        ];
        for (path, problem) in cases {
            assert_eq!(BundlePath::new(path), Err(problem), "{path:?}");
        }
        assert_eq!(BundlePath::new(&"a".repeat(1025)), Err(PathProblem::TooLong));
        assert_eq!(BundlePath::new(&["a"; 32].join("/")).map(|_| ()), Ok(()));
        assert_eq!(BundlePath::new(&["a"; 33].join("/")), Err(PathProblem::TooLong));
        assert_eq!(BundlePath::from_bytes(b"a\xffb"), Err(PathProblem::NotUtf8));
    }

    #[test]
    fn resolves_references_lexically() {
        let rule = BundlePath::new("rules/gateway.toml").expect("valid");
        assert_eq!(rule.resolve("../dbc/car.dbc").expect("inside").as_str(), "dbc/car.dbc");
        assert_eq!(rule.resolve("./local.dbc").expect("inside").as_str(), "rules/local.dbc");
        assert_eq!(rule.resolve("../../x.dbc"), Err(PathProblem::ParentComponent));
        assert_eq!(rule.resolve("/abs.dbc"), Err(PathProblem::Absolute));
        let top = BundlePath::new("gateway.toml").expect("valid");
        assert_eq!(top.resolve("car.dbc").expect("inside").as_str(), "car.dbc");
        assert_eq!(top.resolve("../car.dbc"), Err(PathProblem::ParentComponent));
    }

    #[test]
    fn normalizes_and_relativizes_filesystem_paths() {
        let root = normalize(Path::new("/srv/rules/../project")).expect("absolute");
        assert_eq!(root, Path::new("/srv/project"));
        let file = normalize(Path::new("/srv/project/rules/./x/../gw.toml")).expect("absolute");
        let relative = BundlePath::relative_to(&file, &root).expect("under root").expect("valid");
        assert_eq!(relative.as_str(), "rules/gw.toml");
        assert!(BundlePath::relative_to(Path::new("/elsewhere/gw.toml"), &root).is_none());
        assert_eq!(relative.under(Path::new("/tmp/out")), Path::new("/tmp/out/rules/gw.toml"));
    }
}
