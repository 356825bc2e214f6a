//! Reading key files only when their owner and permissions make them
//! trustworthy, and writing new files atomically with their final mode.
//!
//! Reading (Unix): the file is opened with `O_NOFOLLOW` (a symbolic link is
//! refused, not followed) and every check is made on the opened descriptor
//! (`fstat`), so the file cannot be swapped between check and read. It must be
//! a regular file owned by the effective user. Once the caller knows what the
//! file holds it checks the mode: group and others may never write a key
//! file or revocation list, and may not read a secret key either. The bytes are read
//! into a [`Zeroizing`] buffer sized up front (no reallocation leaves a copy).
//!
//! Writing: the content goes to a hidden temporary file in the same directory,
//! created with `O_CREAT | O_EXCL` and the final mode (never `chmod`ed after
//! the secret is in it), synced, then hard-linked to its name (which fails if
//! the name exists: no overwrite) or renamed over it when overwriting was
//! asked for. Readers see either no file or the whole file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use zeroize::Zeroizing;

use super::error::KeyError;

/// Whether an existing output file may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Overwrite {
    /// Refuse when the file exists (the default).
    #[default]
    Refuse,
    /// Replace it atomically.
    Allow,
}

/// The effective user id of this process.
pub fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// A key file's bytes and permission bits, after the owner and type checks
/// (the caller checks the mode with [`require_mode`] once it knows whether the
/// content is secret).
pub(crate) struct CheckedRead {
    pub bytes: Zeroizing<Vec<u8>>,
    pub mode: u32,
}

/// Opens and reads `path` if it is a regular file (not a symbolic link) owned
/// by us, at most `limit` bytes long.
pub(crate) fn read_owned_file(path: &Path, limit: u64) -> Result<CheckedRead, KeyError> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    let fd = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(errno) if errno == rustix::io::Errno::LOOP && is_symlink(path) => {
            return Err(KeyError::Symlink { path: path.to_owned() });
        }
        Err(errno) => return Err(KeyError::io("open", path, io::Error::from(errno))),
    };
    let file = File::from(fd);
    let metadata = file.metadata().map_err(|e| KeyError::io("inspect", path, e))?;
    if !metadata.file_type().is_file() {
        return Err(KeyError::NotRegularFile { path: path.to_owned() });
    }
    let expected = effective_uid();
    if metadata.uid() != expected {
        return Err(KeyError::WrongOwner { path: path.to_owned(), owner: metadata.uid(), expected });
    }
    let mode = metadata.mode() & 0o7777;
    if metadata.len() > limit {
        return Err(KeyError::TooLarge { path: path.to_owned(), limit });
    }
    let capacity = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| KeyError::io("read", path, e))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit {
        return Err(KeyError::TooLarge { path: path.to_owned(), limit });
    }
    Ok(CheckedRead { bytes, mode })
}

/// What a file holds, which decides who else may access it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Secrecy {
    /// Secret keys: nobody but the owner may read or write.
    Secret,
    /// Public keys and revocation lists: nobody but the owner may write.
    Public,
}

/// Refuses permission bits that are too open for what the file holds.
pub(crate) fn require_mode(path: &Path, mode: u32, secrecy: Secrecy) -> Result<(), KeyError> {
    let forbidden = match secrecy {
        Secrecy::Secret => 0o077,
        Secrecy::Public => 0o022,
    };
    if mode & forbidden != 0 { Err(insecure(path, mode, secrecy)) } else { Ok(()) }
}

fn insecure(path: &Path, mode: u32, secrecy: Secrecy) -> KeyError {
    if secrecy == Secrecy::Secret {
        KeyError::InsecurePermissions {
            path: path.to_owned(),
            mode,
            rule: "a secret key file must not be readable or writable by group or others",
            fix: "600",
        }
    } else {
        KeyError::InsecurePermissions {
            path: path.to_owned(),
            mode,
            rule: "a key file must not be writable by group or others",
            fix: "go-w",
        }
    }
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Checks a key store directory: a directory owned by us (or by root) that
/// group and others cannot write.
pub(crate) fn check_key_directory(path: &Path) -> Result<(), KeyError> {
    let metadata = fs::metadata(path).map_err(|e| KeyError::io("open key directory", path, e))?;
    if !metadata.is_dir() {
        return Err(KeyError::io("open key directory", path, io::Error::other("not a directory")));
    }
    let expected = effective_uid();
    if metadata.uid() != expected && metadata.uid() != 0 {
        return Err(KeyError::WrongOwner { path: path.to_owned(), owner: metadata.uid(), expected });
    }
    let mode = metadata.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(KeyError::InsecureDirectory { path: path.to_owned(), mode });
    }
    Ok(())
}

/// Why a new file could not be written.
#[derive(Debug)]
pub(crate) enum WriteFailure {
    /// The file exists and overwriting was not asked for.
    Exists(PathBuf),
    /// The system refused an operation.
    Io { action: &'static str, path: PathBuf, source: io::Error },
}

impl From<WriteFailure> for KeyError {
    fn from(failure: WriteFailure) -> Self {
        match failure {
            WriteFailure::Exists(path) => KeyError::AlreadyExists { path },
            WriteFailure::Io { action, path, source } => KeyError::Io { action, path, source },
        }
    }
}

/// True when something (a file, a link, anything) is at `path`.
pub(crate) fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Writes `contents` to a new file at `path` with permission bits `mode`
/// (before the umask), atomically, refusing to replace an existing file unless
/// `overwrite` allows it.
pub(crate) fn write_new_file(
    path: &Path,
    contents: &[u8],
    mode: u32,
    overwrite: Overwrite,
) -> Result<(), WriteFailure> {
    let io_error = |action: &'static str, at: &Path| {
        let at = at.to_owned();
        move |source| WriteFailure::Io { action, path: at, source }
    };
    if overwrite == Overwrite::Refuse && exists(path) {
        return Err(WriteFailure::Exists(path.to_owned()));
    }
    let file_name = path
        .file_name()
        .ok_or_else(|| io_error("create", path)(io::Error::new(io::ErrorKind::InvalidInput, "no file name")))?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let nonce = getrandom::u32().map_err(|e| io_error("create", path)(io::Error::other(e)))?;
    let temporary = directory.join(format!(".{}.tmp-{nonce:08x}", file_name.to_string_lossy()));

    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temporary)
        .map_err(io_error("create", &temporary))?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    drop(file);
    if let Err(source) = written {
        let _ = fs::remove_file(&temporary);
        return Err(WriteFailure::Io { action: "write", path: temporary, source });
    }

    let placed = match overwrite {
        Overwrite::Allow => fs::rename(&temporary, path),
        Overwrite::Refuse => fs::hard_link(&temporary, path),
    };
    if overwrite == Overwrite::Refuse {
        let _ = fs::remove_file(&temporary);
    }
    match placed {
        Ok(()) => {}
        Err(source) => {
            let _ = fs::remove_file(&temporary);
            return Err(if source.kind() == io::ErrorKind::AlreadyExists {
                WriteFailure::Exists(path.to_owned())
            } else {
                WriteFailure::Io { action: "create", path: path.to_owned(), source }
            });
        }
    }
    // Make the new directory entry durable; a failure here does not undo the write.
    if let Ok(dir) = File::open(directory) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn new_files_get_their_mode_and_are_not_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.key");
        write_new_file(&path, b"one", 0o600, Overwrite::Refuse).expect("first write");
        let mode = fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(write_new_file(&path, b"two", 0o600, Overwrite::Refuse), Err(WriteFailure::Exists(_))));
        assert_eq!(fs::read(&path).expect("read"), b"one");
        write_new_file(&path, b"two", 0o600, Overwrite::Allow).expect("overwrite");
        assert_eq!(fs::read(&path).expect("read"), b"two");
        let leftovers: Vec<_> =
            fs::read_dir(dir.path()).expect("list").filter_map(Result::ok).map(|e| e.file_name()).collect();
        assert_eq!(leftovers.len(), 1, "temporary files left behind: {leftovers:?}");
    }

    #[test]
    fn reads_owned_files_and_checks_modes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.key");
        write_new_file(&path, b"content", 0o600, Overwrite::Refuse).expect("write");
        let read = read_owned_file(&path, 64).expect("readable");
        assert_eq!(read.bytes.as_slice(), b"content");
        assert_eq!(read.mode, 0o600);
        assert!(matches!(read_owned_file(&path, 3), Err(KeyError::TooLarge { .. })));
        assert!(require_mode(&path, 0o600, Secrecy::Secret).is_ok());
        assert!(require_mode(&path, 0o644, Secrecy::Public).is_ok());
        assert!(matches!(
            require_mode(&path, 0o620, Secrecy::Public),
            Err(KeyError::InsecurePermissions { fix: "go-w", .. })
        ));
        assert!(matches!(
            require_mode(&path, 0o640, Secrecy::Secret),
            Err(KeyError::InsecurePermissions { fix: "600", .. })
        ));
        assert!(matches!(read_owned_file(dir.path(), 64), Err(KeyError::NotRegularFile { .. })));
    }
}
