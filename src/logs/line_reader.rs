//! Reading a text capture line by line into one reused buffer.
//!
//! Invariants:
//! - the reader never holds more than [`MAX_LINE`] bytes of one line: a
//!   longer line is reported once as an error and skipped up to its end;
//! - lines come out without their terminator (`\n` and `\r\n`, or `\r`),
//!   numbered from 1;
//! - after an I/O error the reader reports it once and then reports the end.

use std::io::BufRead;
use std::sync::Arc;

use crate::logs::LogError;

/// The longest line a text reader accepts (a CAN FD line of an ASC file, the
/// longest of all formats, is under 1 KiB).
pub const MAX_LINE: usize = 64 * 1024;

/// Reads a text input line by line into one reused buffer.
pub struct LineReader {
    input: Box<dyn BufRead + Send>,
    file: Arc<str>,
    buf: Vec<u8>,
    line_no: u64,
    finished: bool,
    terminator: u8,
}

impl LineReader {
    /// A reader of `input`, named `file` in errors, with lines ending in `\n`.
    pub fn new(input: Box<dyn BufRead + Send>, file: Arc<str>) -> Self {
        Self::with_terminator(input, file, b'\n')
    }

    /// A reader whose lines end in `terminator` (`\r` for formats written
    /// with old Mac line ends). A `\r` before a `\n` terminator and a `\n`
    /// after a `\r` terminator are dropped, so CRLF files read the same.
    pub fn with_terminator(input: Box<dyn BufRead + Send>, file: Arc<str>, terminator: u8) -> Self {
        LineReader { input, file, buf: Vec::with_capacity(256), line_no: 0, finished: false, terminator }
    }

    /// The next line without its terminator and its 1-based number, `None`
    /// at the end of the input.
    ///
    /// An over-long line is an error (and is skipped); an I/O error is
    /// reported once, after which the reader is at its end.
    pub fn next_line(&mut self) -> Option<Result<(u64, &[u8]), LogError>> {
        if self.finished {
            return None;
        }
        self.buf.clear();
        let mut too_long = false;
        let mut saw_any = false;
        loop {
            let available = match self.input.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    self.finished = true;
                    return Some(Err(LogError::Io { file: Arc::clone(&self.file), source }));
                }
            };
            if available.is_empty() {
                self.finished = true;
                if !saw_any {
                    return None;
                }
                break;
            }
            saw_any = true;
            let (chunk, consumed, done) = match find_byte(available, self.terminator) {
                Some(i) => (available.get(..i).unwrap_or_default(), i + 1, true),
                None => (available, available.len(), false),
            };
            if !too_long {
                if self.buf.len() + chunk.len() > MAX_LINE {
                    too_long = true;
                    let room = MAX_LINE - self.buf.len();
                    self.buf.extend_from_slice(chunk.get(..room).unwrap_or_default());
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.input.consume(consumed);
            if done {
                break;
            }
        }
        self.line_no += 1;
        if too_long {
            let shown = self.buf.get(..120).unwrap_or(&self.buf);
            return Some(Err(LogError::malformed(
                &self.file,
                self.line_no,
                shown,
                shown.len(),
                format!("line longer than {MAX_LINE} bytes (not a capture this reader knows)"),
            )));
        }
        if self.terminator == b'\n' && self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if self.terminator == b'\r' && self.buf.first() == Some(&b'\n') {
            self.buf.remove(0);
        }
        Some(Ok((self.line_no, &self.buf)))
    }
}

/// Position of the first `needle`, eight bytes at a time.
#[inline]
fn find_byte(bytes: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let repeated: u64 = ONES * u64::from(needle);
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ repeated;
        if (x.wrapping_sub(ONES) & !x & HIGHS) != 0 {
            return chunk.iter().position(|&b| b == needle).map(|i| offset + i);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&b| b == needle).map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn lines_reuse_a_buffer_and_strip_terminators() {
        let input = Cursor::new(b"one\r\ntwo\n\nthree".to_vec());
        let mut lines = LineReader::new(Box::new(input), Arc::from("t"));
        let mut seen = Vec::new();
        while let Some(line) = lines.next_line() {
            let (no, text) = line.unwrap();
            seen.push((no, text.to_vec()));
        }
        assert_eq!(seen, [(1, b"one".to_vec()), (2, b"two".to_vec()), (3, b"".to_vec()), (4, b"three".to_vec())]);
    }

    #[test]
    fn over_long_lines_are_one_error() {
        let mut text = vec![b'a'; MAX_LINE + 10];
        text.extend_from_slice(b"\nok\n");
        let mut lines = LineReader::new(Box::new(Cursor::new(text)), Arc::from("t"));
        assert!(matches!(lines.next_line(), Some(Err(LogError::Malformed { .. }))));
        assert_eq!(lines.next_line().unwrap().unwrap(), (2, &b"ok"[..]));
        assert!(lines.next_line().is_none());
    }

    #[test]
    fn newline_search_matches_naive() {
        for len in 0..40 {
            for pos in 0..len {
                let mut v = vec![b'x'; len];
                v[pos] = b'\n';
                assert_eq!(find_byte(&v, b'\n'), Some(pos));
                v[pos] = b'\r';
                assert_eq!(find_byte(&v, b'\r'), Some(pos));
            }
            assert_eq!(find_byte(&vec![b'y'; len], b'\n'), None);
        }
    }
}
