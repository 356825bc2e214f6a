//! The freshness store as one text file per gateway, written atomically and durably.
//!
//! Format (version 1), UTF-8, one entry per line, a SHA-256 of everything
//! before the last line as the last line:
//!
//! ```text
//! bulkhead-freshness 1
//! receive 0x0140 4096
//! send 0x0140 12288
//! sync 0x0010 68719476737
//! sha256 6f1c...e3 (64 hex digits)
//! ```
//!
//! Saving writes `<file>.tmp`, syncs it, renames it over `<file>` and syncs the
//! directory, so a power cut leaves either the old or the new file, never a mix.
//! Loading refuses anything it cannot fully trust: a missing file, another
//! version, a checksum mismatch (a torn or edited file), a malformed or
//! duplicate entry: each is its own [`StoreError`].

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::store::{CounterKey, CounterKind, FreshnessStore, Snapshot, StoreError};

/// The first line of a version 1 file.
const HEADER: &str = "bulkhead-freshness 1";
/// The start of the checksum line.
const CHECKSUM_PREFIX: &str = "sha256 ";

/// A freshness store in one file.
#[derive(Clone, Debug)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// The store at `path` (not touched until [`load`](FreshnessStore::load) or [`save`](FreshnessStore::save)).
    pub fn new(path: impl Into<PathBuf>) -> FileStore {
        FileStore { path: path.into() }
    }

    /// Creates a new, empty store at `path` for a first deployment; fails if one exists.
    pub fn create(path: impl Into<PathBuf>) -> Result<FileStore, StoreError> {
        let mut store = FileStore::new(path);
        if store.path.exists() {
            return Err(StoreError::AlreadyExists { path: store.path });
        }
        store.save(&Snapshot::new())?;
        Ok(store)
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, path: &Path, operation: &'static str) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.to_path_buf();
        move |source| StoreError::Io { path, operation, source }
    }
}

impl FreshnessStore for FileStore {
    fn load(&self) -> Result<Snapshot, StoreError> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(StoreError::Missing { path: self.path.clone() }),
            Err(e) => return Err(self.io(&self.path, "read")(e)),
        };
        parse(&self.path, &bytes)
    }

    fn save(&mut self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let text = render(snapshot);
        let mut temporary = OsString::from(self.path.as_os_str());
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary).map_err(self.io(&temporary, "create"))?;
        file.write_all(text.as_bytes()).map_err(self.io(&temporary, "write"))?;
        file.sync_all().map_err(self.io(&temporary, "sync"))?;
        drop(file);
        fs::rename(&temporary, &self.path).map_err(self.io(&self.path, "rename the new file over"))?;
        let directory = match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        File::open(&directory).and_then(|dir| dir.sync_all()).map_err(self.io(&directory, "sync the directory of"))?;
        Ok(())
    }
}

/// The file content for `snapshot`.
pub fn render(snapshot: &Snapshot) -> String {
    let mut text = String::from(HEADER);
    text.push('\n');
    for (key, mark) in snapshot.iter() {
        text.push_str(&format!("{} 0x{:04X} {mark}\n", key.kind.name(), key.data_id));
    }
    let digest = hex(&Sha256::digest(text.as_bytes()));
    text.push_str(CHECKSUM_PREFIX);
    text.push_str(&digest);
    text.push('\n');
    text
}

/// Reads a store file's content; `path` names it in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Snapshot, StoreError> {
    let corrupt = |line: usize, reason: String| StoreError::Corrupt { path: path.to_path_buf(), line, reason };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes.get(..e.valid_up_to()).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) + 1;
        corrupt(line, "not UTF-8 text".to_owned())
    })?;
    let first = text.lines().next().unwrap_or("");
    if first != HEADER {
        return Err(StoreError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: first.chars().take(80).collect(),
        });
    }
    let Some(body) = text.strip_suffix('\n') else {
        return Err(corrupt(text.lines().count(), "the file does not end with a newline (torn write?)".to_owned()));
    };
    let (content_len, checksum_line) = match body.rfind('\n') {
        Some(at) => (at + 1, body.get(at + 1..).unwrap_or("")),
        None => (0, body),
    };
    let line_count = body.lines().count();
    let Some(expected) = checksum_line.strip_prefix(CHECKSUM_PREFIX) else {
        return Err(corrupt(line_count, "the last line is not the sha256 checksum (torn write?)".to_owned()));
    };
    let content = text.get(..content_len).unwrap_or("");
    if hex(&Sha256::digest(content.as_bytes())) != expected {
        return Err(StoreError::ChecksumMismatch { path: path.to_path_buf() });
    }
    let mut snapshot = Snapshot::new();
    for (index, line) in content.lines().enumerate().skip(1) {
        let number = index + 1;
        let (key, mark) = parse_entry(line).map_err(|reason| corrupt(number, reason))?;
        if snapshot.get(key).is_some() {
            return Err(corrupt(number, format!("`{key}` appears twice")));
        }
        snapshot.set(key, mark);
    }
    Ok(snapshot)
}

/// One `kind 0xDATA mark` line.
fn parse_entry(line: &str) -> Result<(CounterKey, u64), String> {
    let words: Vec<&str> = line.split(' ').collect();
    let [kind, data_id, mark] = words[..] else {
        return Err(format!("expected `kind 0xDATAID mark`, got `{}`", line.chars().take(80).collect::<String>()));
    };
    let kind = CounterKind::from_name(kind).ok_or_else(|| format!("unknown counter kind `{kind}`"))?;
    let data_id = data_id
        .strip_prefix("0x")
        .and_then(|digits| u16::from_str_radix(digits, 16).ok())
        .ok_or_else(|| format!("`{data_id}` is not a 16-bit DataId like 0x0140"))?;
    let mark = mark.parse::<u64>().map_err(|_| format!("`{mark}` is not a 64-bit unsigned mark"))?;
    Ok((CounterKey { kind, data_id }, mark))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        let mut s = Snapshot::new();
        s.set(CounterKey::receive(0x140), 4096);
        s.set(CounterKey::send(0x140), u64::MAX);
        s.set(CounterKey::sync(0x10), 0x1_0000_0001);
        s
    }

    fn path() -> PathBuf {
        PathBuf::from("freshness.store")
    }

    #[test]
    fn render_then_parse_round_trips() {
        let text = render(&sample());
        assert!(text.starts_with("bulkhead-freshness 1\nreceive 0x0140 4096\n"));
        assert_eq!(parse(&path(), text.as_bytes()).unwrap(), sample());
        assert_eq!(parse(&path(), render(&Snapshot::new()).as_bytes()).unwrap(), Snapshot::new());
    }

    #[test]
    fn any_changed_byte_is_detected() {
        let text = render(&sample()).into_bytes();
        for at in 0..text.len() {
            let mut damaged = text.clone();
            damaged[at] ^= 0x01;
            assert!(parse(&path(), &damaged).is_err(), "byte {at} flipped and still accepted");
        }
    }

    #[test]
    fn truncated_files_are_refused() {
        let text = render(&sample());
        for len in 0..text.len() {
            assert!(parse(&path(), &text.as_bytes()[..len]).is_err(), "accepted a file cut at {len}");
        }
    }

    #[test]
    fn precise_errors() {
        let err = parse(&path(), b"bulkhead-freshness 2\n").unwrap_err();
        assert!(matches!(err, StoreError::UnsupportedVersion { ref found, .. } if found == "bulkhead-freshness 2"));
        let mut damaged = render(&sample());
        damaged = damaged.replace("4096", "4097");
        assert!(matches!(parse(&path(), damaged.as_bytes()), Err(StoreError::ChecksumMismatch { .. })));
        // A well-formed checksum over a bad entry: the entry's line is named.
        let content = "bulkhead-freshness 1\nreceive 0x0140 4096\nsend 140 5\n";
        let text = format!("{content}sha256 {}\n", hex(&Sha256::digest(content.as_bytes())));
        let err = parse(&path(), text.as_bytes()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { line: 3, .. }), "{err}");
        assert!(err.to_string().contains("freshness.store:3"));
        let content = "bulkhead-freshness 1\nsend 0x0001 5\nsend 0x0001 6\n";
        let text = format!("{content}sha256 {}\n", hex(&Sha256::digest(content.as_bytes())));
        assert!(parse(&path(), text.as_bytes()).unwrap_err().to_string().contains("twice"));
        let content = "bulkhead-freshness 1\nsend 0x0001 -5\n";
        let text = format!("{content}sha256 {}\n", hex(&Sha256::digest(content.as_bytes())));
        assert!(parse(&path(), text.as_bytes()).unwrap_err().to_string().contains("not a 64-bit"));
        let content = "bulkhead-freshness 1\nrecv 0x0001 5\n";
        let text = format!("{content}sha256 {}\n", hex(&Sha256::digest(content.as_bytes())));
        assert!(parse(&path(), text.as_bytes()).unwrap_err().to_string().contains("unknown counter kind"));
        let err = parse(&path(), b"bulkhead-freshness 1\n\xFF\n").unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { line: 2, .. }), "{err}");
    }
}
