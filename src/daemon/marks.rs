//! Link packet-number marks, persisted ahead of use.
//!
//! Two kinds of mark per link key id: `receive` (the highest packet number
//! the gateway may have accepted from a device) and `send` (the highest
//! packet number the gateway may have used towards a device). Both are
//! written *ahead*: before a packet number above the persisted mark takes
//! effect (frames of an accepted datagram are forwarded, a sealed datagram
//! leaves), the mark is raised to that number plus [`MARK_BLOCK`] and the
//! file is written and synced. So after a crash at any point the persisted
//! mark is at or above every number that had an effect, and a restart
//! refuses (receive) or skips (send) every one of them: nothing is accepted
//! or sent twice. The price: up to `MARK_BLOCK` packet numbers are skipped
//! at each restart (a device must send above the mark; see `docs/daemon.md`).
//!
//! File format (version 1), UTF-8 text, a SHA-256 of everything before it as
//! the last line, written atomically (temporary file, sync, rename, sync of
//! the directory):
//!
//! ```text
//! bulkhead-link-marks 1
//! receive 0x5F1C2A9E 4352
//! send 0x00C0FFEE 256
//! sha256 6f1c...e3
//! ```

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::link::{KeyId, MAX_PACKET_NUMBER};

/// How far ahead of the highest used packet number a mark is written.
pub const MARK_BLOCK: u64 = 256;

const HEADER: &str = "bulkhead-link-marks 1";
const CHECKSUM_PREFIX: &str = "sha256 ";

/// Why the marks file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MarksError {
    /// The file could not be read, written, synced or renamed.
    #[error("{}: cannot {operation}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was attempted.
        operation: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file exists but cannot be trusted (torn, edited, another version).
    #[error("{}:{line}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Which side of the link a mark is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MarkKind {
    /// Datagrams received from a device.
    Receive,
    /// Datagrams the gateway sends to a device.
    Send,
}

impl MarkKind {
    /// The word in the file.
    pub const fn name(self) -> &'static str {
        match self {
            MarkKind::Receive => "receive",
            MarkKind::Send => "send",
        }
    }
}

/// The marks themselves, by (kind, key id).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkMarks {
    marks: BTreeMap<(MarkKind, KeyId), u64>,
}

impl LinkMarks {
    /// The mark of `key` for `kind`, if any.
    pub fn get(&self, kind: MarkKind, key: KeyId) -> Option<u64> {
        self.marks.get(&(kind, key)).copied()
    }

    /// Sets a mark.
    pub fn set(&mut self, kind: MarkKind, key: KeyId, mark: u64) {
        self.marks.insert((kind, key), mark);
    }

    /// Every mark, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (MarkKind, KeyId, u64)> + '_ {
        self.marks.iter().map(|(&(kind, key), &mark)| (kind, key, mark))
    }

    /// The file content.
    pub fn render(&self) -> String {
        let mut text = format!("{HEADER}\n");
        for (kind, key, mark) in self.iter() {
            text.push_str(&format!("{} 0x{:08X} {mark}\n", kind.name(), key.get()));
        }
        let digest: String = Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        text.push_str(CHECKSUM_PREFIX);
        text.push_str(&digest);
        text.push('\n');
        text
    }

    /// Reads file content; `path` names it in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, MarksError> {
        let corrupt = |line: usize, reason: String| MarksError::Corrupt { path: path.to_owned(), line, reason };
        let text = std::str::from_utf8(bytes).map_err(|_| corrupt(1, "not UTF-8 text".to_owned()))?;
        let Some(body_end) = text.trim_end_matches('\n').rfind('\n').map(|i| i + 1) else {
            return Err(corrupt(1, "too short: no checksum line".to_owned()));
        };
        let (body, last) = text.split_at(body_end);
        let lines = body.lines().count();
        let Some(digest) = last.trim_end_matches('\n').strip_prefix(CHECKSUM_PREFIX) else {
            return Err(corrupt(lines + 1, "the last line is not `sha256 <64 hex digits>`".to_owned()));
        };
        let expected: String = Sha256::digest(body.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        if digest != expected {
            return Err(corrupt(lines + 1, "checksum mismatch: the file was torn or edited".to_owned()));
        }
        let mut marks = LinkMarks::default();
        for (index, line) in body.lines().enumerate() {
            let number = index + 1;
            if index == 0 {
                if line != HEADER {
                    return Err(corrupt(1, format!("expected `{HEADER}`, found `{line}`")));
                }
                continue;
            }
            let words: Vec<&str> = line.split(' ').collect();
            let [kind, key, mark] = words.as_slice() else {
                return Err(corrupt(number, "expected `receive|send 0xKEYID MARK`".to_owned()));
            };
            let kind = match *kind {
                "receive" => MarkKind::Receive,
                "send" => MarkKind::Send,
                other => return Err(corrupt(number, format!("unknown kind `{other}`"))),
            };
            let key = key
                .strip_prefix("0x")
                .filter(|h| h.len() == 8)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .map(KeyId::new)
                .ok_or_else(|| corrupt(number, format!("`{key}` is not a key id like 0x5F1C2A9E")))?;
            let mark = mark.parse::<u64>().map_err(|_| corrupt(number, format!("`{mark}` is not a number")))?;
            if marks.marks.insert((kind, key), mark).is_some() {
                return Err(corrupt(number, format!("{} mark of {key} given twice", kind.name())));
            }
        }
        Ok(marks)
    }
}

/// The marks file and the marks as last persisted; decides when a packet
/// number needs a write first.
#[derive(Debug)]
pub struct MarkBook {
    path: PathBuf,
    persisted: LinkMarks,
    writes: u64,
}

impl MarkBook {
    /// Loads the marks file at `path`; `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, MarksError> {
        match fs::read(path) {
            Ok(bytes) => {
                let persisted = LinkMarks::parse(path, &bytes)?;
                Ok(Some(MarkBook { path: path.to_owned(), persisted, writes: 0 }))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(source) => Err(MarksError::Io { path: path.to_owned(), operation: "read", source }),
        }
    }

    /// A new, empty marks file at `path` (written now).
    pub fn create(path: &Path) -> Result<Self, MarksError> {
        let mut book = MarkBook { path: path.to_owned(), persisted: LinkMarks::default(), writes: 0 };
        book.write()?;
        book.writes = 0;
        Ok(book)
    }

    /// The marks as persisted.
    pub fn marks(&self) -> &LinkMarks {
        &self.persisted
    }

    /// Writes done since start.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Makes sure `packet_number` of `key` is covered by the persisted mark,
    /// writing the file first when it is not (the new mark is
    /// `packet_number + MARK_BLOCK`, capped at the last usable packet
    /// number). Returns true when it wrote. On error nothing changed: the
    /// caller must not let the packet number take effect.
    pub fn cover(&mut self, kind: MarkKind, key: KeyId, packet_number: u64) -> Result<bool, MarksError> {
        if self.persisted.get(kind, key).is_some_and(|mark| mark >= packet_number) {
            return Ok(false);
        }
        let previous = self.persisted.get(kind, key);
        self.persisted.set(kind, key, packet_number.saturating_add(MARK_BLOCK).min(MAX_PACKET_NUMBER));
        if let Err(e) = self.write() {
            match previous {
                Some(mark) => self.persisted.set(kind, key, mark),
                None => {
                    self.persisted.marks.remove(&(kind, key));
                }
            }
            return Err(e);
        }
        Ok(true)
    }

    fn write(&mut self) -> Result<(), MarksError> {
        let io = |path: &Path, operation: &'static str| {
            let path = path.to_owned();
            move |source| MarksError::Io { path, operation, source }
        };
        let mut temporary = self.path.clone().into_os_string();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary).map_err(io(&temporary, "create"))?;
        file.write_all(self.persisted.render().as_bytes()).map_err(io(&temporary, "write"))?;
        file.sync_all().map_err(io(&temporary, "sync"))?;
        drop(file);
        fs::rename(&temporary, &self.path).map_err(io(&self.path, "rename the new file over"))?;
        let directory = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        File::open(directory).and_then(|d| d.sync_all()).map_err(io(directory, "sync the directory of"))?;
        self.writes += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_and_parse_round_trip() {
        let mut marks = LinkMarks::default();
        marks.set(MarkKind::Receive, KeyId::new(0x5F1C2A9E), 4352);
        marks.set(MarkKind::Send, KeyId::new(0xC0FFEE), 256);
        let text = marks.render();
        assert!(text.starts_with("bulkhead-link-marks 1\nreceive 0x5F1C2A9E 4352\nsend 0x00C0FFEE 256\nsha256 "));
        assert_eq!(LinkMarks::parse(Path::new("m"), text.as_bytes()).expect("parses"), marks);
    }

    #[test]
    fn tampering_is_refused_with_the_line() {
        let mut marks = LinkMarks::default();
        marks.set(MarkKind::Receive, KeyId::new(1), 10);
        let text = marks.render().replace("receive 0x00000001 10", "receive 0x00000001 5");
        match LinkMarks::parse(Path::new("m"), text.as_bytes()) {
            Err(MarksError::Corrupt { line: 3, reason, .. }) => assert!(reason.contains("checksum"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let torn = &marks.render()[..30];
        assert!(LinkMarks::parse(Path::new("m"), torn.as_bytes()).is_err());
        assert!(LinkMarks::parse(Path::new("m"), b"").is_err());
    }

    #[test]
    fn cover_writes_ahead_once_per_block() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("link-marks");
        let mut book = MarkBook::create(&path).expect("create");
        let key = KeyId::new(7);
        assert!(book.cover(MarkKind::Receive, key, 1).expect("write"));
        assert_eq!(book.marks().get(MarkKind::Receive, key), Some(1 + MARK_BLOCK));
        for pn in 2..=1 + MARK_BLOCK {
            assert!(!book.cover(MarkKind::Receive, key, pn).expect("no write"), "{pn}");
        }
        assert!(book.cover(MarkKind::Receive, key, 2 + MARK_BLOCK).expect("write"));
        assert_eq!(book.writes(), 2);
        let reloaded = MarkBook::load(&path).expect("load").expect("exists");
        assert_eq!(reloaded.marks().get(MarkKind::Receive, key), Some(2 + 2 * MARK_BLOCK));
        assert_eq!(reloaded.marks().get(MarkKind::Send, key), None);
    }
}
