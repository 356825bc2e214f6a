//! Shared pieces of the line parsers: whitespace tokens that remember their
//! column, the error a parser returns for a line (turned into a full
//! [`LogError`] with file, line and column by the reader), and bus-name
//! interning with a length bound.
//!
//! Invariant: a [`LineError`] offset is a byte offset into the line it was
//! made for; nothing here can panic on any input.

use std::sync::Arc;

use crate::frame::FrameError;
use crate::logs::LogError;

/// Why a negative timestamp is refused (a [`Timestamp`](crate::time::Timestamp)
/// counts from zero up).
pub const NEGATIVE_TIME: &str =
    "negative timestamp (the logger's clock went below zero): a time before the epoch cannot be represented";

/// The longest interface or channel name accepted (SocketCAN names have at
/// most 15 bytes; the bound keeps a hostile file from filling the bus table
/// with huge names).
pub const MAX_BUS_NAME: usize = 64;

/// Interns the bus name `name` (which starts at byte `offset` of the line),
/// refusing names longer than [`MAX_BUS_NAME`].
pub fn intern_bus(buses: &mut crate::logs::Buses, name: &[u8], offset: usize) -> Result<crate::logs::BusId, LineError> {
    if name.len() > MAX_BUS_NAME {
        return Err(LineError::malformed(offset, format!("bus name longer than {MAX_BUS_NAME} bytes")));
    }
    Ok(buses.intern(name))
}

/// Why a line was refused, before the file and line number are known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The text does not have the expected form; says what was expected.
    Malformed(String),
    /// The text is well formed but the frame it describes is invalid.
    Frame(FrameError),
}

/// A refused line: what is wrong and at which byte of the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// Byte offset in the line the error points at.
    pub offset: usize,
    /// What is wrong.
    pub problem: Problem,
}

impl LineError {
    /// A form error at byte `offset`.
    pub fn malformed(offset: usize, message: impl Into<String>) -> Self {
        LineError { offset, problem: Problem::Malformed(message.into()) }
    }

    /// An invalid-frame error at byte `offset`.
    pub fn frame(offset: usize, error: FrameError) -> Self {
        LineError { offset, problem: Problem::Frame(error) }
    }

    /// The full error for line `line_no` of `file`, whose text is `line`.
    pub fn into_log_error(self, file: &Arc<str>, line_no: u64, line: &[u8]) -> LogError {
        match self.problem {
            Problem::Malformed(message) => LogError::malformed(file, line_no, line, self.offset, message),
            Problem::Frame(source) => LogError::invalid_frame(file, line_no, line, self.offset, source),
        }
    }
}

/// `text` shown in a message: lossily decoded, cut at 40 characters.
pub fn shown(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}...", text.get(..cut).unwrap_or_default()),
        None => text.into_owned(),
    }
}

/// One whitespace-separated token of a line and where it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// The token's bytes.
    pub text: &'a [u8],
    /// Byte offset of its first byte in the line.
    pub start: usize,
}

impl Token<'_> {
    /// Byte offset just past the token.
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }

    /// Case-insensitive comparison with an ASCII word.
    pub fn is(&self, word: &str) -> bool {
        self.text.eq_ignore_ascii_case(word.as_bytes())
    }
}

/// The tokens of `line` separated by spaces and tabs.
pub fn tokens(line: &[u8]) -> Tokens<'_> {
    Tokens { line, pos: 0 }
}

/// The tokens of `line` from byte `pos` on.
pub fn tokens_from(line: &[u8], pos: usize) -> Tokens<'_> {
    Tokens { line, pos }
}

/// Iterator over the whitespace-separated tokens of a line.
#[derive(Clone, Debug)]
pub struct Tokens<'a> {
    line: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let line = self.line;
        while line.get(self.pos).is_some_and(|b| is_space(*b)) {
            self.pos += 1;
        }
        let start = self.pos;
        while line.get(self.pos).is_some_and(|b| !is_space(*b)) {
            self.pos += 1;
        }
        let text = line.get(start..self.pos)?;
        (!text.is_empty()).then_some(Token { text, start })
    }
}

/// Space or tab.
#[inline]
pub fn is_space(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_their_columns() {
        let toks: Vec<_> = tokens(b"  ab\tc  d ").map(|t| (t.text, t.start)).collect();
        assert_eq!(toks, [(&b"ab"[..], 2), (&b"c"[..], 5), (&b"d"[..], 8)]);
        let mut it = tokens_from(b"x   rest of it", 1);
        assert_eq!(it.next().map(|t| t.start), Some(4));
    }
}
