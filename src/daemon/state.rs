//! The state directory: what must survive a restart so that nothing is
//! accepted or sent twice (SecOC freshness marks, link packet-number marks).
//!
//! Files: `freshness` ([`crate::secoc::FileStore`]) and `link-marks`
//! ([`super::marks::MarkBook`]). A missing directory is created (mode 0700) and
//! a directory holding neither file is a first start: both are created empty.
//! Anything else that cannot be trusted refuses to start with a precise
//! error: a corrupt file, or one file without the other (a deleted file would
//! silently reopen replay windows). `--reset-state` moves the old files
//! aside (`*.reset-<unix seconds>`) and starts fresh: deliberate, logged,
//! and dangerous (see `docs/daemon.md`).

use std::fs;
use std::path::{Path, PathBuf};

use super::marks::{MarkBook, MarksError};
use crate::secoc::{FileStore, FreshnessStore, Snapshot, StoreError};

/// The freshness file's name in the state directory.
pub const FRESHNESS_FILE: &str = "freshness";
/// The link marks file's name in the state directory.
pub const MARKS_FILE: &str = "link-marks";

/// Why the state could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The directory could not be created or inspected.
    #[error("state directory {}: cannot {operation}: {source}", path.display())]
    Directory {
        /// The directory.
        path: PathBuf,
        /// What was attempted.
        operation: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The SecOC freshness file is unreadable or corrupt.
    #[error("{0}; refusing to start (bulkhead run --reset-state starts fresh, see docs/daemon.md)")]
    Freshness(#[source] StoreError),
    /// The link marks file is unreadable or corrupt.
    #[error("link marks {0}; refusing to start (bulkhead run --reset-state starts fresh, see docs/daemon.md)")]
    Marks(#[source] MarksError),
    /// One state file exists without the other.
    #[error(
        "state directory {}: {missing} is missing but {present} exists: state was lost or deleted, and starting \
         would reopen replay windows; refusing to start (bulkhead run --reset-state starts fresh, see docs/daemon.md)",
        directory.display()
    )]
    Incomplete {
        /// The directory.
        directory: PathBuf,
        /// The missing file.
        missing: &'static str,
        /// The file that exists.
        present: &'static str,
    },
}

/// How the state was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateOrigin {
    /// Both files were read.
    Restored,
    /// Neither existed: created empty.
    FirstStart,
    /// `--reset-state`: the old files were moved aside.
    Reset,
}

/// The opened state: the freshness store, its snapshot, the link marks.
#[derive(Debug)]
pub struct State {
    /// Where the SecOC marks are saved.
    pub freshness: FileStore,
    /// The SecOC marks found at start.
    pub snapshot: Snapshot,
    /// The link marks.
    pub marks: MarkBook,
    /// How the state was found.
    pub origin: StateOrigin,
}

/// Opens (or creates) the state in `directory`; `reset` moves old files aside first.
pub fn open(directory: &Path, reset: bool) -> Result<State, StateError> {
    create_directory(directory)?;
    let freshness_path = directory.join(FRESHNESS_FILE);
    let marks_path = directory.join(MARKS_FILE);
    let mut origin = StateOrigin::Restored;
    if reset {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        for path in [&freshness_path, &marks_path] {
            if path.exists() {
                let mut aside = path.clone().into_os_string();
                aside.push(format!(".reset-{stamp}"));
                fs::rename(path, &aside).map_err(|source| StateError::Directory {
                    path: path.clone(),
                    operation: "move aside",
                    source,
                })?;
            }
        }
        origin = StateOrigin::Reset;
    }
    let has_freshness = freshness_path.exists();
    let marks = MarkBook::load(&marks_path).map_err(StateError::Marks)?;
    match (has_freshness, marks) {
        (false, None) => {
            let freshness = FileStore::create(&freshness_path).map_err(StateError::Freshness)?;
            let marks = MarkBook::create(&marks_path).map_err(StateError::Marks)?;
            if origin == StateOrigin::Restored {
                origin = StateOrigin::FirstStart;
            }
            Ok(State { freshness, snapshot: Snapshot::new(), marks, origin })
        }
        (true, Some(marks)) => {
            let freshness = FileStore::new(&freshness_path);
            let snapshot = freshness.load().map_err(StateError::Freshness)?;
            Ok(State { freshness, snapshot, marks, origin })
        }
        (true, None) => Err(StateError::Incomplete {
            directory: directory.to_owned(),
            missing: MARKS_FILE,
            present: FRESHNESS_FILE,
        }),
        (false, Some(_)) => Err(StateError::Incomplete {
            directory: directory.to_owned(),
            missing: FRESHNESS_FILE,
            present: MARKS_FILE,
        }),
    }
}

fn create_directory(directory: &Path) -> Result<(), StateError> {
    use std::os::unix::fs::DirBuilderExt;
    match fs::DirBuilder::new().recursive(true).mode(0o700).create(directory) {
        Ok(()) => Ok(()),
        Err(source) => Err(StateError::Directory { path: directory.to_owned(), operation: "create", source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::KeyId;

    use super::super::marks::MarkKind;

    #[test]
    fn first_start_restart_and_refusals() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state_dir = dir.path().join("state");
        let mut first = open(&state_dir, false).expect("first start");
        assert_eq!(first.origin, StateOrigin::FirstStart);
        first.marks.cover(MarkKind::Receive, KeyId::new(9), 5).expect("cover");
        let again = open(&state_dir, false).expect("restart");
        assert_eq!(again.origin, StateOrigin::Restored);
        assert!(again.marks.marks().get(MarkKind::Receive, KeyId::new(9)).is_some_and(|m| m >= 5));

        fs::write(state_dir.join(FRESHNESS_FILE), b"bulkhead-freshness 1\nsha256 00\n").expect("corrupt");
        let error = open(&state_dir, false).expect_err("corrupt refused");
        assert!(error.to_string().contains("--reset-state"), "{error}");

        fs::remove_file(state_dir.join(FRESHNESS_FILE)).expect("remove");
        let error = open(&state_dir, false).expect_err("incomplete refused");
        assert!(matches!(error, StateError::Incomplete { missing: FRESHNESS_FILE, .. }), "{error}");

        let reset = open(&state_dir, true).expect("reset");
        assert_eq!(reset.origin, StateOrigin::Reset);
        assert!(reset.marks.marks().iter().next().is_none());
        let aside = fs::read_dir(&state_dir)
            .expect("list")
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with("link-marks.reset-"));
        assert!(aside, "the old marks file is kept aside");
    }
}
